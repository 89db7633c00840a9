"""Nothing new goes unseen (issue 14, item 1): a new report or tip from any channel is counted and listed for the
staff who may read it until one of them opens it, and its offices and team are told by email once, through SES
(moto), without the email ever holding up or failing the intake."""
from __future__ import annotations

import re
import time
import uuid

import boto3
import requests

from chalicelib.services import abuse
from chalicelib.services.reports import web_form
from chalicelib.settings import get_settings
from chalicelib.store import notices
from local.seed import REPORTS, TEMPLATES, template_setting
from tests import mailbox
from tests.integration.conftest import Phone
from tests.integration.own_comuni import OwnLine, OwnTown
from tests.integration.test_safety import hours_around_now
from tests.leaks import shown
from tests.waiting import wait_for

TECH_OFFICE, POLICE_OFFICE = REPORTS["notify"]["report"][0], REPORTS["notify"]["safety"][0]
ELECTRICIANS = next(t["email"] for t in REPORTS["teams"] if t["id"] == "elettricisti")


def emails(comune: str) -> list[dict]:
    """The emails SES (moto, in this process) accepted whose subject names this comune: to, subject, body."""
    return [{"to": m.destinations.get("ToAddresses", []), "subject": m.subject, "body": m.body}
            for m in mailbox.sent() if f"[{comune}]" in (getattr(m, "subject", "") or "")]


def arrivals(comune, role: str, **params) -> dict:
    answer = comune.call("GET", "/api/v1/reports/arrivals", role=role, params=params)
    assert answer.status_code == 200, answer.text
    return answer.json()


def number_in(phone) -> str:
    receipt = wait_for(lambda: next((m["text"] for m in phone.inbox() if "n. " in (m.get("text") or "")), None), 15)
    return re.search(r"n\. (\d{4}/\d+)", receipt).group(1)


def test_a_whatsapp_report_is_listed_until_opened_and_its_office_and_team_are_emailed_once(stack):
    town = OwnTown(stack)
    name = f"Comune di Proprio {town.tenant.removeprefix('proprio')}"
    assert arrivals(town, "technical") == {"count": 0, "by_kind": {"report": 0}, "items": []}

    phone = town.phone("+39 347 555 0101")
    phone.text("Davanti alla scuola di notte non si vede niente")  # no keyword: no category, no team yet
    number = number_in(phone)
    listed = wait_for(lambda: (lambda a: a if a["count"] == 1 else None)(arrivals(town, "technical")), 15)
    item = listed["items"][0]
    assert (item["number"], item["kind"], item["category"], item["source"]) == (number, "report", None, "whatsapp")
    assert "text" not in item and "contact" not in item  # no personal data in the badge's list
    first = wait_for(lambda: emails(name) or None, 15)
    assert [e["to"] for e in first] == [[TECH_OFFICE]]

    # the citizen picks the category: its team is told now, the office not a second time
    phone.tap("cat:illuminazione", "Illuminazione pubblica", kind="list")
    sent = wait_for(lambda: (lambda e: e if len(e) >= 2 else None)(emails(name)), 15)
    assert sorted(a for e in sent for a in e["to"]) == sorted([TECH_OFFICE, ELECTRICIANS])
    assert "Illuminazione pubblica" in sent[1]["subject"] and number in sent[1]["subject"]
    # what the citizen wrote stays in the console; the email links there
    assert all("scuola" not in shown(e["body"]) and "347" not in shown(e["body"]) for e in sent)
    assert all(f"/console/#/segnalazioni/{item['id']}" in e["body"] for e in sent)

    # more from the citizen joins the same report: no further email, still one arrival
    before = len(phone.inbox())
    phone.send(type="location", latitude=43.7185, longitude=10.9400)
    phone.wait_inbox(before + 1)
    time.sleep(2)
    assert len(emails(name)) == 2
    assert arrivals(town, "technical")["count"] == 1

    # the police see tips only; opening the report takes it off the list for everyone in the office
    assert arrivals(town, "police") == {"count": 0, "by_kind": {"safety": 0}, "items": []}
    assert town.call("GET", "/api/v1/reports/arrivals", role="police", params={"kind": "report"}).status_code == 403
    town.report(item["id"])
    assert arrivals(town, "technical")["count"] == 0
    assert arrivals(town, "admin")["count"] == 0


def test_arrivals_are_for_report_roles_only(stack, api):
    assert api.call("GET", "/api/v1/reports/arrivals", role="communications").status_code == 403
    assert api.call("GET", "/api/v1/reports/arrivals", role=None).status_code == 401
    assert api.call("GET", "/api/v1/reports/arrivals", role="technical", params={"kind": "nope"}).status_code == 422


def test_a_tip_outside_the_watched_hours_heads_the_polices_list_and_is_emailed_to_them_only(stack):
    line = OwnLine(stack, watched_hours=hours_around_now(False))
    name = f"Comune di Vigile {line.tenant.removeprefix('vigile')}"
    desk_tip = line.call("POST", "/api/v1/reports", json={"kind": "safety", "source": "phone",
                                                          "text": "Auto sospetta davanti alle scuole"})
    assert desk_tip.status_code == 201, desk_tip.text
    resident = line.resident("+39 347 555 0202")
    resident.text("Furgone fermo da ore in via Mazzini con il motore acceso")
    number = number_in(resident)

    listed = wait_for(lambda: (lambda a: a if a["count"] == 2 else None)(arrivals(line, "police")), 15)
    assert [i["after_hours"] for i in listed["items"]] == [True, True]  # the line is not watched now
    assert {i["number"] for i in listed["items"]} == {number, desk_tip.json()["number"]}
    assert arrivals(line, "technical") == {"count": 0, "by_kind": {"report": 0}, "items": []}

    sent = wait_for(lambda: (lambda e: e if len(e) >= 2 else None)(emails(name)), 15)
    assert {a for e in sent for a in e["to"]} == {POLICE_OFFICE}
    assert all("Da vedere" in e["body"] and "Furgone" not in e["body"] and "Mazzini" not in e["body"] for e in sent)


def test_a_failing_email_loses_no_report_and_is_sent_once_when_ses_is_back(stack):
    town = OwnTown(stack)
    name = f"Comune di Proprio {town.tenant.removeprefix('proprio')}"
    ses = boto3.client("ses")
    sender = get_settings().mail_from
    ses.delete_identity(Identity=sender)  # SES refuses every send now (MessageRejected)
    try:
        created = town.call("POST", "/api/v1/reports", json={"source": "desk", "text": "Buca profonda in via Roma",
                                                             "category": "strade"})
        assert created.status_code == 201, created.text
        report = created.json()
        assert arrivals(town, "technical")["count"] == 1
        wait_for(lambda: "retry" in notices.of_report(town.tenant, report["id"]).values() or None, 15)
        assert emails(name) == []
    finally:
        ses.verify_email_identity(EmailAddress=sender)
    sent = wait_for(lambda: (lambda e: e if len(e) >= 2 else None)(emails(name)), 30)
    cantonieri = next(t["email"] for t in REPORTS["teams"] if t["id"] == "cantonieri")
    assert sorted(a for e in sent for a in e["to"]) == sorted([TECH_OFFICE, cantonieri])
    wait_for(lambda: set(notices.of_report(town.tenant, report["id"]).values()) == {"sent"} or None, 15)
    time.sleep(2)
    assert len(emails(name)) == 2


def test_a_portal_report_is_an_arrival_too(stack, monkeypatch):
    town = OwnTown(stack)  # a limit of its own: other tests' portal reports from this address count in the shared one
    monkeypatch.setattr(web_form, "PER_CLIENT", abuse.Limit(f"test-arrival-{uuid.uuid4().hex}", 10, 3600))
    answer = requests.post(f"{stack.api_url}/public/v1/{town.tenant}/reports", timeout=20, json={
        "description": "Rami caduti sul marciapiede del parco", "category": "verde", "hamlet": "colle"})
    assert answer.status_code == 201, answer.text
    listed = arrivals(town, "technical")
    assert [(i["number"], i["source"]) for i in listed["items"]] == [(answer.json()["number"], "web")]


def test_an_urgent_tip_reaches_the_on_call_phone_once_as_a_template_and_a_calm_one_does_not(stack):
    on_call = "+39 333 000 9876"
    line = OwnLine(stack, on_call_phone="+393330009876",
                   templates={"urgent_tip": template_setting("allerta_segnalazione")})
    stack.sandbox.add_channel({"phone_number_id": line.channel, "kind": "safety", "tenant": line.tenant,
                               "templates": TEMPLATES})  # the account's approved templates, as Meta holds them
    officer = Phone(stack, line.channel, on_call)

    calm = line.resident("+39 347 555 0303")
    calm.text("Da qualche sera c'è un'auto parcheggiata sempre nello stesso posto")
    number_in(calm)
    assert officer.settle(2) == []

    worried = line.resident("+39 347 555 0404")
    worried.text("Rissa in corso davanti al bar della piazza, urgente")
    number = number_in(worried)
    worried.text("Adesso sono in quattro, urgente")  # the same tip: no second alert
    alert = officer.wait_inbox(1)
    assert len(officer.settle(2)) == 1
    assert alert[0]["body"]["template"]["name"] == "allerta_segnalazione"
    assert alert[0]["text"].startswith(f"Segnalazione urgente n. {number} ")  # the number, nothing the resident wrote
    assert "Rissa" not in str(alert[0]) and "piazza" not in str(alert[0])
