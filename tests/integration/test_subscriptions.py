"""Subscribing on WhatsApp through the sandbox: double opt-in, preferences, opt-out, the ledger."""
from __future__ import annotations

from urllib.parse import quote

import pytest

from tests.integration.conftest import BROADCAST
from tests.waiting import wait_for


def subscribe(phone) -> list[dict]:
    phone.text("ATTIVA")
    phone.wait_inbox(1)
    phone.tap("sub:confirm", "Sì, confermo")
    return phone.wait_inbox(3)


def subscriber(api, phone, role="communications"):
    answer = api.call("GET", f"/api/v1/subscribers/{quote(phone.e164)}", role=role, params={"channel": BROADCAST})
    return answer.json() if answer.status_code == 200 else None


def consents(api, phone):
    return api.call("GET", f"/api/v1/subscribers/{quote(phone.e164)}/consents", role="communications").json()["items"]


def test_attiva_asks_to_confirm_naming_comune_service_and_privacy_notice(phone, api):
    phone.text("Attiva!")
    first = phone.wait_inbox(1)[0]
    assert "Comune di Esempio" in first["text"] and "Notizie dal Comune" in first["text"]
    assert "https://www.comune.esempio.it/privacy/filo-diretto" in first["text"]
    assert [o["id"] for o in first["options"]] == ["sub:confirm", "sub:decline"]
    assert [m["id"] for m in phone.settle(1.0)] == [first["id"]]
    assert subscriber(api, phone)["status"] == "pending"  # nothing is sent to a pending subscriber


def test_confirmation_activates_welcomes_and_records_consent(phone, api):
    inbox = subscribe(phone)
    assert "Iscrizione confermata" in inbox[1]["text"]
    assert inbox[2]["type"] == "interactive" and "frazione" in inbox[2]["text"]
    record = subscriber(api, phone)
    assert record["status"] == "active" and record["source"] == "keyword"
    ledger = consents(api, phone)
    assert [(e["action"], e["path"], e["purpose"]) for e in ledger] == [("grant", "keyword", "broadcast")]
    assert ledger[0]["notice_version"] == "2026-11" and ledger[0]["message_id"].startswith("wamid.")


def test_confirm_by_typing_si(phone, api):
    phone.text("iscrivimi")
    phone.wait_inbox(1)
    phone.text("Sì")
    phone.wait_inbox(2)
    assert subscriber(api, phone)["status"] == "active"


def test_declining_does_not_subscribe(phone, api):
    phone.text("ATTIVA")
    phone.wait_inbox(1)
    phone.tap("sub:decline", "No, grazie")
    assert "nessuna iscrizione" in phone.wait_inbox(2)[1]["text"]
    assert subscriber(api, phone)["status"] == "none"
    assert consents(api, phone) == []


def test_preferences_hamlet_then_topic(phone, api):
    subscribe(phone)
    phone.tap("hamlet:pieve", "Pieve a Ripoli", kind="list")
    topics_question = phone.wait_inbox(4)[3]
    assert "topic:allerte" in [o["id"] for o in topics_question["options"]]
    phone.tap("topic:allerte", "Allerte", kind="list")
    saved = phone.wait_inbox(5)[4]["text"]
    assert "Pieve a Ripoli" in saved and "Allerte e protezione civile" in saved
    record = subscriber(api, phone)
    assert record["hamlets"] == ["pieve"] and record["topics"] == ["allerte"]


def test_the_lists_show_each_choice_whole_never_cut(phone):
    """A WhatsApp list row holds 24 characters: a longer name comes with its short_name (issue 13: not cut at send
    time into "Allerte e protezione civ")."""
    from local.seed import TOPICS

    subscribe(phone)
    phone.tap("hamlet:pieve", "Pieve a Ripoli", kind="list")
    topics_question = phone.wait_inbox(4)[3]
    titles = {o["id"]: o["title"] for o in topics_question["options"]}
    assert titles["topic:allerte"] == "Allerte e prot. civile"
    assert [titles[f"topic:{t['id']}"] for t in TOPICS] == [t.get("short_name") or t["name"] for t in TOPICS]


def test_disattiva_stops_at_once_and_is_recorded(phone, api):
    subscribe(phone)
    phone.text("DISATTIVA")
    assert "non riceverai più" in phone.wait_inbox(4)[3]["text"]
    assert subscriber(api, phone)["status"] == "stopped"
    active = api.call("GET", "/api/v1/subscribers", role="communications",
                      params={"channel": BROADCAST, "status": "active", "q": phone.e164}).json()["items"]
    assert active == []
    assert [(e["action"], e["path"]) for e in consents(api, phone)] == [("grant", "keyword"), ("withdraw", "keyword")]


@pytest.mark.parametrize("word", ["STOP", "Cancellami", "basta"])
def test_every_opt_out_word_works(new_phone, api, word):
    phone = new_phone()
    subscribe(phone)
    phone.text(word)
    phone.wait_inbox(4)
    assert subscriber(api, phone)["status"] == "stopped"


def test_subscribing_again_after_stop(phone, api):
    subscribe(phone)
    phone.text("STOP")
    phone.wait_inbox(4)
    phone.text("ATTIVA")
    phone.wait_inbox(5)
    phone.tap("sub:confirm")
    phone.wait_inbox(7)
    assert subscriber(api, phone)["status"] == "active"
    assert [e["action"] for e in consents(api, phone)] == ["grant", "withdraw", "grant"]


def test_help_and_auto_reply(phone):
    phone.text("AIUTO")
    help_text = phone.wait_inbox(1)[0]["text"]
    assert "ATTIVA" in help_text and "DISATTIVA" in help_text
    phone.text("Buongiorno, c'è una buca in via Roma")
    auto = phone.wait_inbox(2)[1]["text"]
    assert "un operatore" in auto and "+39 0571 000002" in auto


def test_stop_when_not_subscribed_is_answered_without_a_ledger_entry(phone, api):
    phone.text("STOP")
    assert "Non risulti iscritto" in phone.wait_inbox(1)[0]["text"]
    assert consents(api, phone) == []


def test_sender_known_only_by_business_scoped_id(stack, api):
    from tests.integration.conftest import Phone

    phone = Phone(stack, BROADCAST, "")
    user_id = "IT.9f8e7d6c5b4a"

    def send(**message):
        import requests
        answer = requests.post(f"{stack.sandbox_url}/_sandbox/inbound",
                               json={"channel": BROADCAST, "user_id": user_id, **message}, timeout=10)
        assert answer.status_code == 200, answer.text

    def inbox():
        import requests
        return requests.get(f"{stack.sandbox_url}/_sandbox/messages", params={"to": user_id}, timeout=10).json()

    send(type="text", text="ATTIVA")
    wait_for(lambda: len(inbox()) >= 1)
    send(type="button", id="sub:confirm", title="Sì")
    wait_for(lambda: len(inbox()) >= 2)
    assert inbox()[0]["body"]["recipient"] == user_id and "to" not in inbox()[0]["body"]
    record = api.call("GET", f"/api/v1/subscribers/{quote('bsuid:' + user_id)}", role="communications",
                      params={"channel": BROADCAST}).json()
    assert record["status"] == "active" and record["phone"] is None and record["user_id"] == user_id
    del phone
