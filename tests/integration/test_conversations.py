"""Messaggi: free text no flow consumed lands in a conversation staff read and answer from the console's API; the
answer goes through the outbound queue to the phone (the sandbox), inside the 24-hour window, or as an approved
template outside it. Roles per channel kind, audit, assignment, "Fatto", bounds."""
from __future__ import annotations

import time
from dataclasses import replace
from datetime import timedelta
from urllib.parse import quote

import pytest
import requests

from chalicelib.domain.conversations import Conversation, Message, received
from chalicelib.domain.tenancy import Channel
from chalicelib.services import clock
from chalicelib.store import citizens, directory
from chalicelib.store import conversations as store
from local.seed import TEMPLATES
from tests.integration.conftest import BROADCAST, REPORTS, SAFETY, Phone, sign, text_payload
from tests.waiting import wait_for


def cid(channel: str, phone) -> str:
    return quote(f"{channel}.{phone.e164}", safe="")


def conversation(api, channel: str, phone, role: str = "communications", timeout: float = 15) -> dict:
    """The phone's conversation as staff list it, once it is there."""
    def listed():
        items = api.call("GET", "/api/v1/conversations", role=role).json()["items"]
        return next((c for c in items if c["id"] == f"{channel}.{phone.e164}"), None)
    return wait_for(listed, timeout)


def unread(api, role: str) -> int:
    answer = api.call("GET", "/api/v1/conversations/unread", role=role)
    assert answer.status_code == 200, answer.text
    return answer.json()["count"]


def test_a_reply_to_a_broadcast_reaches_messaggi_and_the_staff_answer_reaches_the_phone(api, new_phone):
    citizen = new_phone(BROADCAST)
    before = unread(api, "communications")
    citizen.text("Ma la strada per la Pieve domani è aperta?")
    (auto,) = citizen.wait_inbox(1)
    assert "un operatore" in auto["text"]  # the auto-reply still goes, and says a person will read it

    listed = conversation(api, BROADCAST, citizen)
    assert listed["unread"] and listed["status"] == "open" and listed["channel_kind"] == "broadcast"
    assert listed["last_text"] == "Ma la strada per la Pieve domani è aperta?"
    assert unread(api, "communications") == before + 1

    opened = api.call("GET", f"/api/v1/conversations/{cid(BROADCAST, citizen)}", role="communications").json()
    assert [m["text"] for m in opened["messages"]] == ["Ma la strada per la Pieve domani è aperta?"]
    assert opened["window"]["open"] and opened["templates"] == []
    assert unread(api, "communications") == before  # opening it read it

    answer = api.call("POST", f"/api/v1/conversations/{cid(BROADCAST, citizen)}/replies", role="communications",
                      json={"text": "Buongiorno, sì: riapre domani alle 8."})
    assert answer.status_code == 201, answer.text
    assert answer.json()["delivery"] == "queued" and answer.json()["author"]["name"]
    sent = citizen.wait_inbox(2)[-1]
    assert sent["text"] == "Buongiorno, sì: riapre domani alle 8." and sent["type"] == "text"

    def delivered():
        messages = api.call("GET", f"/api/v1/conversations/{cid(BROADCAST, citizen)}",
                            role="communications").json()["messages"]
        return messages[-1]["delivery"] in ("delivered", "read") and messages
    messages = wait_for(delivered, 15)
    assert [m["direction"] for m in messages] == ["in", "out"]

    trail = api.call("GET", "/api/v1/audit", role="admin").json()["items"]
    target = f"{BROADCAST}.{citizen.e164}"
    assert {"conversation.read", "conversation.reply"} <= {e["action"] for e in trail if e["target"] == target}


def test_the_same_inbound_message_twice_is_kept_once(stack, api):
    digits = "393470009911"
    body = text_payload(BROADCAST, digits, "Grazie per l'avviso, ma a che ora?", "wamid.conv-dup-1")
    headers = {"X-Hub-Signature-256": sign(stack.app_secret, body), "Content-Type": "application/json"}
    for _ in range(2):
        assert requests.post(f"{stack.api_url}/webhooks/meta", data=body, headers=headers, timeout=10).ok
    key = quote(f"{BROADCAST}.+{digits}", safe="")
    opened = wait_for(lambda: (a := api.call("GET", f"/api/v1/conversations/{key}", role="communications")).ok
                      and a.json(), 15)
    time.sleep(1.5)  # the second delivery has been handled by now
    opened = api.call("GET", f"/api/v1/conversations/{key}", role="communications").json()
    assert [m["text"] for m in opened["messages"]] == ["Grazie per l'avviso, ma a che ora?"]


def _age(channel: str, phone, hours: float) -> None:
    """Move the citizen's last message back in time, as if it were written hours ago (the window is from it)."""
    then = clock.now() - timedelta(hours=hours)
    citizen = citizens.get(channel, phone.e164)
    citizens.save(replace(citizen, last_inbound_at=then), then)
    tenant = citizen.tenant_id
    store.change(tenant, channel, phone.e164, lambda c: replace(
        c, last_inbound_at=then, messages=tuple(replace(m, at=then) for m in c.messages)))


def test_outside_the_window_only_an_approved_template_reaches_the_citizen(api, new_phone):
    citizen = new_phone(BROADCAST)
    citizen.text("Avete notizie sul ponte?")
    citizen.wait_inbox(1)
    conversation(api, BROADCAST, citizen)
    _age(BROADCAST, citizen, hours=25)
    path = f"/api/v1/conversations/{cid(BROADCAST, citizen)}"

    refused = api.call("POST", f"{path}/replies", role="communications", json={"text": "Il ponte riapre lunedì."})
    assert refused.status_code == 409, refused.text
    error = refused.json()["error"]
    assert error["code"] == "window_closed" and "24 ore" in error["message"]  # Italian, for staff
    assert [t["name"] for t in error["templates"]] == ["avviso_comune"]
    opened = api.call("GET", path, role="communications").json()
    assert not opened["window"]["open"] and opened["templates"] == error["templates"]
    assert len(citizen.settle(1)) == 1  # nothing went

    wrong = api.call("POST", f"{path}/replies", role="communications",
                     json={"template": {"name": "conferma_iscrizione", "parameters": ["Comune"]}})
    assert wrong.status_code == 422 and wrong.json()["error"]["details"][0]["field"] == "template.name"
    sent = api.call("POST", f"{path}/replies", role="communications",
                    json={"template": {"name": "avviso_comune", "parameters": ["Il ponte riapre lunedì"]}})
    assert sent.status_code == 201, sent.text
    template = citizen.wait_inbox(2)[-1]
    assert template["type"] == "template" and "Il ponte riapre lunedì" in template["text"]


@pytest.mark.parametrize("channel,allowed,refused", [
    (BROADCAST, ["communications", "admin"], ["technical", "police"]),
    (REPORTS, ["technical", "admin"], ["communications", "police"]),
    (SAFETY, ["police"], ["admin", "technical", "communications"]),
])
def test_each_office_reads_only_its_channels_conversations(api, new_phone, channel, allowed, refused):
    citizen = new_phone(channel)
    key = cid(channel, citizen)
    # a conversation as the flows keep it (a safety channel takes only registered residents' messages)
    kind = directory.get_channel(channel)
    message = Message(id=f"wamid.roles-{channel}-{citizen.e164}", direction="in", at=clock.now(), text="Una domanda")
    store.change(kind.tenant_id, channel, citizen.e164, lambda c: received(Conversation(
        tenant_id=kind.tenant_id, channel_id=channel, citizen_key=citizen.e164, kind=kind.kind, phone=citizen.e164),
        message, None))
    for role in allowed:
        assert api.call("GET", f"/api/v1/conversations/{key}", role=role).status_code == 200, role
        assert any(c["id"] == f"{channel}.{citizen.e164}"
                   for c in api.call("GET", "/api/v1/conversations", role=role).json()["items"]), role
    for role in refused:
        answer = api.call("GET", f"/api/v1/conversations/{key}", role=role)
        assert answer.status_code == 403, (role, answer.text)
        assert api.call("POST", f"/api/v1/conversations/{key}/replies", role=role,
                        json={"text": "x"}).status_code == 403, role
        listed = api.call("GET", "/api/v1/conversations", role=role)
        assert all(c["id"] != f"{channel}.{citizen.e164}" for c in listed.json()["items"]), role


def test_another_comune_reaches_no_conversation(stack, api, new_phone):
    citizen = new_phone(BROADCAST)
    citizen.text("Buongiorno, una domanda")
    conversation(api, BROADCAST, citizen)
    token = stack.issuer.token("altrove", ["communications"])
    answer = requests.get(f"{stack.api_url}/api/v1/conversations/{cid(BROADCAST, citizen)}", timeout=10,
                          headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 404 and "Buongiorno" not in answer.text
    for bad in ("nonsense", quote("abc.+39", safe=""), quote(f"{BROADCAST}.+390000000", safe="")):
        assert api.call("GET", f"/api/v1/conversations/{bad}", role="communications").status_code == 404


def test_assign_and_done_and_a_new_message_opens_it_again(stack, api, new_phone):
    demo = stack.staff_sign_in.subjects  # the demo comune's staff, one per role, as the console signs them in
    citizen = new_phone(BROADCAST)
    citizen.text("Posso portare gli ingombranti sabato?")
    conversation(api, BROADCAST, citizen)
    path = f"/api/v1/conversations/{cid(BROADCAST, citizen)}"
    mine = api.call("POST", f"{path}/assign", role="communications", json={"assignee": "me"}).json()
    assert mine["assignee"]["subject"]
    listed = api.call("GET", "/api/v1/conversations", role="communications", params={"mine": "true"}).json()
    assert any(c["id"] == mine["id"] for c in listed["items"])
    # the colleagues offered: staff who signed in with a role that answers the broadcast channel, not the police
    offered = {p["subject"]: p["name"] for p in api.call("GET", path, role="communications").json()["assignees"]}
    assert {demo["communications"], demo["admin"]} <= offered.keys() and demo["police"] not in offered
    refused = api.call("POST", f"{path}/assign", role="communications",
                       json={"assignee": {"subject": demo["police"], "name": "Polizia"}})
    assert refused.status_code == 422 and "assignee" in refused.text, refused.text
    stranger = api.call("POST", f"{path}/assign", role="communications",
                        json={"assignee": {"subject": "staff-nobody", "name": "Anna Bianchi"}})
    assert stranger.status_code == 422  # not a staff member of this comune
    other = api.call("POST", f"{path}/assign", role="communications",
                     json={"assignee": {"subject": demo["admin"], "name": "un nome qualsiasi"}}).json()
    assert other["assignee"] == {"subject": demo["admin"], "name": offered[demo["admin"]]}  # named as staff are
    done = api.call("POST", f"{path}/status", role="communications", json={"status": "done"}).json()
    assert done["status"] == "done" and not done["unread"]
    assert all(c["id"] != done["id"] for c in api.call(
        "GET", "/api/v1/conversations", role="communications", params={"status": "open"}).json()["items"])
    citizen.text("E la domenica?")
    again = wait_for(lambda: (c := conversation(api, BROADCAST, citizen))["status"] == "open" and c, 15)
    assert again["unread"] and again["assignee"]["subject"] == demo["admin"]


def test_bad_input_is_a_clear_422_and_loses_nothing(api, new_phone):
    citizen = new_phone(BROADCAST)
    citizen.text("Una domanda sul calendario")
    conversation(api, BROADCAST, citizen)
    path = f"/api/v1/conversations/{cid(BROADCAST, citizen)}"
    for body in ({"text": "x" * 2001}, {"text": "   "}, {}, {"text": "a", "template": {"name": "avviso_comune"}},
                 {"text": "a", "extra": 1}):
        answer = api.call("POST", f"{path}/replies", role="communications", json=body)
        assert answer.status_code == 422, (body, answer.text)
    assert api.call("POST", f"{path}/status", role="communications", json={"status": "chiusa"}).status_code == 422
    assert api.call("GET", "/api/v1/conversations", role="communications",
                    params={"status": "chiusa"}).status_code == 422
    opened = api.call("GET", path, role="communications").json()
    assert [m["direction"] for m in opened["messages"]] == ["in"]  # nothing refused was kept
    assert len(citizen.settle(1)) == 1


def test_a_follow_up_on_a_closed_report_goes_to_messaggi_not_to_a_new_report(api, new_phone):
    citizen = new_phone(REPORTS)
    citizen.text("Lampione spento in via Verdi")
    citizen.wait_inbox(1)
    mine = wait_for(lambda: next((r for r in api.call("GET", "/api/v1/reports", role="technical", params={
        "q": "via Verdi"}).json()["items"] if r.get("status") == "new"), None), 15)
    step = api.call("POST", f"/api/v1/reports/{mine['id']}/transitions", role="technical",
                    json={"to": "rejected", "note": "Lampione di competenza di Enel"})
    assert step.status_code == 200, step.text
    count = len(citizen.wait_inbox(2))

    citizen.text("Veramente è ancora spento stasera")
    reply = wait_for(lambda: next((m for m in citizen.inbox()[count:] if "un operatore" in m["text"]), None), 15)
    assert mine["number"] in reply["text"] and "NUOVA" in reply["text"]
    listed = conversation(api, REPORTS, citizen, role="technical")
    assert listed["last_text"] == "Veramente è ancora spento stasera"
    reports = api.call("GET", "/api/v1/reports", role="technical", params={"q": "ancora spento"}).json()["items"]
    assert reports == []  # no report was opened for it

    answer = api.call("POST", f"/api/v1/conversations/{cid(REPORTS, citizen)}/replies", role="technical",
                      json={"text": "Mandiamo di nuovo la squadra domani."})
    assert answer.status_code == 201, answer.text
    wait_for(lambda: any("Mandiamo di nuovo" in m["text"] for m in citizen.inbox()), 15)
    citizen.text("Grazie, è in fondo alla via")  # within a conversation staff answered: joins it
    wait_for(lambda: conversation(api, REPORTS, citizen, role="technical")["last_text"] == "Grazie, è in fondo alla via",
             15)
    citizen.text("NUOVA Buca in via Dante davanti al civico 3")
    fresh = wait_for(lambda: api.call("GET", "/api/v1/reports", role="technical", params={
        "q": "via Dante davanti"}).json()["items"], 15)
    assert fresh[0]["status"] == "new"
    detail = api.call("GET", f"/api/v1/reports/{fresh[0]['id']}", role="technical").json()
    assert detail["text"] == "Buca in via Dante davanti al civico 3"


def test_retention_is_the_tenants(stack):
    """A comune that keeps conversations 7 days: the stored conversation expires 7 days after its last message."""
    directory.save_tenant("brevi", "Comune di Brevi", {"retention": {"conversations": 7}})
    directory.save_channel(Channel("690000000000001", "brevi", "broadcast", "Avvisi", "+39 0571 600001", {}))
    stack.sandbox.add_channel({"phone_number_id": "690000000000001", "kind": "broadcast", "tenant": "brevi",
                               "templates": TEMPLATES})
    citizen = Phone(stack, "690000000000001", "+39 347 600 0001")
    citizen.text("Quando passa lo spazzaneve?")
    kept = wait_for(lambda: store.get("brevi", "690000000000001", citizen.e164), 15)
    assert round((kept.expires_at - kept.last_at).total_seconds() / 86400) == 7
    assert [m.text for m in kept.messages] == ["Quando passa lo spazzaneve?"]


def test_a_subject_access_export_shows_and_an_erasure_deletes_the_conversation(api, new_phone):
    citizen = new_phone(BROADCAST)
    citizen.text("Vorrei sapere chi legge questi messaggi")
    conversation(api, BROADCAST, citizen)
    export = api.call("GET", "/api/v1/privacy/export", role="admin", params={"phone": citizen.e164}).json()
    [talk] = export["conversations"]
    assert talk["channel"] == BROADCAST and talk["messages"][0]["text"] == "Vorrei sapere chi legge questi messaggi"
    erased = api.call("POST", "/api/v1/privacy/erase", role="admin", json={"phone": citizen.e164}).json()
    assert erased["conversations_deleted"] == 1
    assert api.call("GET", f"/api/v1/conversations/{cid(BROADCAST, citizen)}",
                    role="communications").status_code == 404
