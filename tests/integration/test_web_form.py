"""Subscribing from the comune's web form: confirmed on WhatsApp, clear 422s, abuse-limited."""
from __future__ import annotations

import json
from urllib.parse import quote

import requests

from tests.integration.conftest import BROADCAST


def submit(stack, body: dict) -> requests.Response:
    return requests.post(f"{stack.api_url}/public/v1/demo/subscriptions", json=body, timeout=10)


def test_form_sends_a_template_and_only_the_confirmation_activates(stack, new_phone, api):
    phone = new_phone()
    answer = submit(stack, {"phone": phone.number, "consent": True, "hamlets": ["santandrea"], "topics": ["acqua"]})
    assert answer.status_code == 202, answer.text
    (template,) = phone.wait_inbox(1)
    assert template["type"] == "template" and template["body"]["template"]["name"] == "conferma_iscrizione"
    assert "Comune di Esempio" in json_text(template["body"])
    record = api.call("GET", f"/api/v1/subscribers/{quote(phone.e164)}", role="communications",
                      params={"channel": BROADCAST}).json()
    assert record["status"] == "pending" and record["source"] == "web_form"
    phone.send(type="quick_reply", id="sub:confirm", title="Confermo")
    inbox = phone.wait_inbox(2)
    assert "Iscrizione confermata" in inbox[1]["text"]
    record = api.call("GET", f"/api/v1/subscribers/{quote(phone.e164)}", role="communications",
                      params={"channel": BROADCAST}).json()
    assert record["status"] == "active" and record["hamlets"] == ["santandrea"] and record["topics"] == ["acqua"]
    ledger = api.call("GET", f"/api/v1/subscribers/{quote(phone.e164)}/consents", role="communications").json()
    assert [(e["action"], e["path"]) for e in ledger["items"]] == [("grant", "web_form")]
    assert len(phone.settle(1.0)) == 2  # preferences were chosen on the form: no questions follow


def json_text(body: dict) -> str:
    return json.dumps(body, ensure_ascii=False)


def test_invalid_phone_or_missing_consent_is_a_clear_422(stack):
    for body, field in (({"phone": "12345", "consent": True}, "phone"),
                        ({"phone": "3351397400", "consent": False}, "consent"),
                        ({"phone": "3351397400", "consent": True, "hamlets": ["atlantide"]}, "hamlets")):
        answer = submit(stack, body)
        assert answer.status_code == 422, body
        assert answer.json()["error"]["details"][0]["field"] == field
    missing = submit(stack, {"phone": "3351397400"})
    assert missing.status_code == 422 and missing.json()["error"]["details"][0]["field"] == "consent"
    unknown = requests.post(f"{stack.api_url}/public/v1/nessuno/subscriptions",
                            json={"phone": "3351397400", "consent": True}, timeout=10)
    assert unknown.status_code == 404


def test_form_is_limited_per_phone(stack, new_phone):
    phone = new_phone()
    answers = [submit(stack, {"phone": phone.number, "consent": True}).status_code for _ in range(4)]
    assert answers == [202, 202, 202, 429]
    limited = submit(stack, {"phone": phone.number, "consent": True})
    assert int(limited.headers["Retry-After"]) > 0
