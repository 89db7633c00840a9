"""WhatsApp templates (issue 15): an administrator creates a template, it goes to the sandbox's review (Meta's
POST /{waba_id}/message_templates), comes back APPROVED, REJECTED with its reason, or re-categorised through Meta's
signed webhooks, and a broadcast then uses it; the sandbox refuses what Meta refuses, as Meta words it."""
from __future__ import annotations

import itertools
import json
import uuid

import pytest
import requests

from chalicelib.domain.tenancy import Channel
from chalicelib.store import audit, directory
from tests.integration.conftest import Phone
from tests.waiting import wait_for

_numbers = itertools.count(1)
NOTICE = {"name": "avviso_lavori", "language": "it", "category": "UTILITY",
          "body": "Nuovo avviso del Comune: {{1}}. Tocca il pulsante per leggerlo per intero.",
          "examples": ["Via Roma chiusa per lavori"], "footer": "Scrivi DISATTIVA per non ricevere più avvisi",
          "buttons": ["Leggi l'avviso"]}


class Town:
    """A comune of its own with a broadcast channel ("72...") of its own WhatsApp Business Account, no templates."""

    def __init__(self, stack):
        n = uuid.uuid4().int % 10**9
        self.stack, self.tenant, self.channel, self.waba = stack, f"modelli{n}", f"72{n:013d}", f"9{n:014d}"
        directory.save_tenant(self.tenant, f"Comune dei Modelli {n}", {
            "privacy_notice_url": "https://example.org/privacy", "privacy_notice_version": "v1"})
        directory.save_channel(Channel(self.channel, self.tenant, "broadcast", "Avvisi", "+39 0571 972000", {
            "rate_per_second": 200, "quiet_hours": {"enabled": False}}, waba_id=self.waba))
        stack.sandbox.add_channel({"phone_number_id": self.channel, "kind": "broadcast", "tenant": self.tenant,
                                   "waba_id": self.waba})
        self.tokens = {role: stack.issuer.token(self.tenant, [role])
                       for role in ("admin", "communications", "technical")}

    def call(self, method: str, path: str, role: str = "admin", headers: dict | None = None,
             **kwargs) -> requests.Response:
        return requests.request(method, f"{self.stack.api_url}{path}", timeout=30,
                                headers={"Authorization": f"Bearer {self.tokens[role]}", **(headers or {})}, **kwargs)

    def templates(self, role: str = "admin", **params) -> dict:
        answer = self.call("GET", f"/api/v1/channels/{self.channel}/templates", role, params=params)
        assert answer.status_code == 200, answer.text
        return answer.json()

    def held(self, name: str, role: str = "admin") -> dict | None:
        return next((t for t in self.templates(role)["items"] if t["name"] == name), None)

    def create(self, **changes) -> requests.Response:
        return self.call("POST", f"/api/v1/channels/{self.channel}/templates", json={**NOTICE, **changes})

    def review(self, name: str, action: str, **extra) -> dict:
        """Meta's review, played on the sandbox's test API: it posts the signed webhook to the app."""
        answer = requests.post(f"{self.stack.sandbox_url}/_sandbox/templates/review", timeout=10, json={
            "channel": self.channel, "name": name, "language": "it", "action": action, **extra})
        assert answer.status_code == 200 and answer.json()["webhook_status"] == 200, answer.text
        return answer.json()

    def wait_held(self, name: str, **expected) -> dict:
        return wait_for(lambda: (t := self.held(name)) and all(t[k] == v for k, v in expected.items()) and t,
                        timeout=20)

    def choose(self, purpose: str, name: str) -> requests.Response:
        return self.call("PUT", f"/api/v1/channels/{self.channel}/templates/purposes/{purpose}",
                         json={"name": name, "language": "it"})

    def subscribed(self) -> Phone:
        """A resident imported from a CSV: subscribed, never wrote, so outside the 24-hour window."""
        phone = Phone(self.stack, self.channel, f"+39 347 720 {next(_numbers):04d}")
        answer = self.call("POST", "/api/v1/subscribers/import", "communications", params={"channel": self.channel},
                           data=f"phone,hamlets,topics\n{phone.number},,\n".encode(),
                           headers={"Content-Type": "text/csv"})
        assert answer.json()["summary"]["error"] == 0, answer.text
        return phone

    def preview(self, **body) -> dict:
        answer = self.call("POST", "/api/v1/broadcast-preview", "communications", json={"channel": self.channel, **body})
        assert answer.status_code == 200, answer.text
        return answer.json()


@pytest.fixture
def town(stack):
    return Town(stack)


def test_a_template_created_goes_to_review_comes_back_approved_and_a_broadcast_uses_it(town, stack):
    """The issue's acceptance: create -> PENDING -> the sandbox approves -> webhook -> APPROVED -> the notice."""
    created = town.create()
    assert created.status_code == 201, created.text
    assert created.json()["status"] == "PENDING" and created.json()["category"] == "UTILITY"
    assert town.held("avviso_lavori")["status"] == "PENDING"
    # not approved yet: it cannot serve a purpose, and the composer is not offered it
    refused = town.choose("notice", "avviso_lavori")
    assert refused.status_code == 422 and refused.json()["error"]["details"][0]["field"] == "name"
    assert town.templates("communications", fit="notice")["items"] == []

    town.review("avviso_lavori", "approve")
    approved = town.wait_held("avviso_lavori", status="APPROVED")
    assert approved["body"] == NOTICE["body"] and approved["buttons"] == ["Leggi l'avviso"]
    assert approved["footer"] == NOTICE["footer"] and approved["fits"]["notice"] is True
    offered = town.templates("communications", fit="notice")["items"]
    assert [t["name"] for t in offered] == ["avviso_lavori"]

    chosen = town.choose("notice", "avviso_lavori")
    assert chosen.status_code == 200, chosen.text
    assert chosen.json()["purposes"]["notice"] == {"name": "avviso_lavori", "language": "it"}
    changes = {e.action: e for e in audit.recent(town.tenant) if e.action.startswith("template.")}
    assert set(changes) == {"template.create", "template.purpose"}
    assert changes["template.purpose"].after["name"] == "avviso_lavori" and changes["template.purpose"].before is None
    assert changes["template.create"].after["name"] == "avviso_lavori" and changes["template.create"].actor_name

    # the composer's preview shows the template's real text with the title in it
    preview = town.preview(text="Strada chiusa\nDettagli: via Roma chiusa dalle 8 alle 18.", draft=True)
    (outside,) = [g for g in preview["receives"] if g["group"] == "outside_window"]
    assert outside["messages"][0]["text"].startswith("Nuovo avviso del Comune: Strada chiusa. Tocca il pulsante")

    phone = town.subscribed()
    answer = town.call("POST", "/api/v1/broadcasts", "communications", json={
        "channel": town.channel, "text": "Strada chiusa\nVia Roma chiusa dalle 8 alle 18.", "priority": "alert"})
    assert answer.status_code == 201, answer.text
    (notice,) = phone.wait_inbox(1, timeout=20)
    assert notice["type"] == "template" and notice["body"]["template"]["name"] == "avviso_lavori"
    assert notice["text"].startswith("Nuovo avviso del Comune: Strada chiusa. Tocca il pulsante")
    done = wait_for(lambda: (b := town.call("GET", f"/api/v1/broadcasts/{answer.json()['id']}",
                                            "communications").json())["status"] == "completed" and b, timeout=30)
    assert done["counters"]["sent"] == 1 and done["counters"]["failed"] == 0


def test_a_rejected_template_shows_why_and_cannot_be_sent(town):
    assert town.create(name="avviso_rifiutato").status_code == 201
    town.review("avviso_rifiutato", "reject", reason="INVALID_FORMAT")
    rejected = town.wait_held("avviso_rifiutato", status="REJECTED")
    assert rejected["rejected_reason"] == "INVALID_FORMAT" and rejected["fits"]["notice"] is False
    assert town.choose("notice", "avviso_rifiutato").status_code == 422
    refused = town.call("POST", "/api/v1/broadcast-preview", "communications", json={
        "channel": town.channel, "template": {"name": "avviso_rifiutato", "parameters": ["x"]}})
    assert refused.status_code == 422
    # Meta refuses a send of it (132001): so does the sandbox
    send = requests.post(f"{town.stack.sandbox_url}/v25.0/{town.channel}/messages", timeout=10,
                         headers={"Authorization": f"Bearer {town.stack.access_token}"},
                         json={"messaging_product": "whatsapp", "to": "+393477209999", "type": "template",
                               "template": {"name": "avviso_rifiutato", "language": {"code": "it"}}})
    assert send.status_code == 404 and send.json()["error"]["code"] == 132001


def test_a_recategorised_template_warns_the_composer(town):
    assert town.create(name="avviso_ricategorizzato").status_code == 201
    town.review("avviso_ricategorizzato", "approve")
    town.wait_held("avviso_ricategorizzato", status="APPROVED")
    assert town.choose("notice", "avviso_ricategorizzato").status_code == 200
    quiet = town.preview(text="Mercato spostato", draft=True)
    assert not any("re-categorised" in w for w in quiet["warnings"])

    town.review("avviso_ricategorizzato", "recategorise", category="MARKETING")
    moved = town.wait_held("avviso_ricategorizzato", category="MARKETING")
    assert moved["previous_category"] == "UTILITY" and moved["status"] == "APPROVED"
    town.subscribed()  # someone outside the window: the notice template is needed
    preview = wait_for(lambda: (p := town.preview(text="Mercato spostato", draft=True))["template"]["category"]
                       == "marketing" and p, timeout=10)
    assert preview["template"]["previous_category"] == "utility"
    assert "Template 'avviso_ricategorizzato' was re-categorised by WhatsApp from utility to marketing." \
        in preview["warnings"]


def test_template_webhooks_are_idempotent_and_ignore_unknown_ids(town, stack):
    assert town.create(name="avviso_doppio").status_code == 201
    first = town.review("avviso_doppio", "approve")
    town.wait_held("avviso_doppio", status="APPROVED")
    for value in (first["webhook"]["value"], {**first["webhook"]["value"], "message_template_id": 123456789}):
        body = {"object": "whatsapp_business_account", "entry": [{"id": town.waba, "time": 1, "changes": [
            {"field": "message_template_status_update", "value": value}]}]}
        answer = requests.post(f"{stack.sandbox_url}/_sandbox/raw", json={"body": body}, timeout=10)
        assert answer.json()["webhook_status"] == 200
    town.review("avviso_doppio", "recategorise", category="MARKETING")
    town.wait_held("avviso_doppio", category="MARKETING")
    (held,) = [t for t in town.templates()["items"] if t["name"] == "avviso_doppio"]
    assert held["status"] == "APPROVED" and held["previous_category"] == "UTILITY"
    assert [t["name"] for t in town.templates()["items"]] == ["avviso_doppio"]


def test_the_poll_brings_templates_made_elsewhere(town, stack):
    """A template made in WhatsApp Manager (registered straight in the sandbox) appears after a refresh."""
    assert town.create(name="fatto_qui").status_code == 201
    made = requests.post(f"{stack.sandbox_url}/_sandbox/templates", timeout=10, json={"channel": town.channel, "templates": [
        {"name": "fatto_altrove", "language": "it", "category": "MARKETING", "status": "REJECTED",
         "components": [{"type": "BODY", "text": "Ciao {{1}}, grazie."}]}]})
    assert made.status_code == 200, made.text
    assert town.held("fatto_altrove") is None
    refreshed = town.call("POST", f"/api/v1/channels/{town.channel}/templates/refresh")
    assert refreshed.status_code == 200, refreshed.text
    (held,) = [t for t in refreshed.json()["items"] if t["name"] == "fatto_altrove"]
    assert held["status"] == "REJECTED" and held["category"] == "MARKETING" and held["parameters"] == 1
    assert [e.action for e in audit.recent(town.tenant)].count("template.refresh") == 1


def test_an_account_never_read_is_read_from_whatsapp_when_first_listed(town, stack):
    """A new comune's templates, made before it joined, appear the first time anyone lists them."""
    made = requests.post(f"{stack.sandbox_url}/_sandbox/templates", timeout=10, json={"channel": town.channel, "templates": [
        {"name": "gia_approvato", "language": "it", "category": "UTILITY", "components": [
            {"type": "BODY", "text": "Avviso del Comune: {{1}}. Tocca per leggerlo."},
            {"type": "BUTTONS", "buttons": [{"type": "QUICK_REPLY", "text": "Leggi"}]}]}]})
    assert made.status_code == 200, made.text
    (offered,) = town.templates("communications", fit="notice")["items"]
    assert offered["name"] == "gia_approvato" and offered["status"] == "APPROVED"


BAD = {
    "body-ends-with-a-parameter": ({"body": "Avviso: {{1}}"}, "body"),
    "parameters-with-a-gap": ({"body": "Avviso {{1}} e {{3}}.", "examples": ["a", "b"]}, "body"),
    "no-example": ({"examples": []}, "examples"),
    "body-1025": ({"body": "x" * 1025, "examples": []}, "body"),
    "footer-61": ({"footer": "f" * 61}, "footer"),
    "header-61": ({"header": "h" * 61}, "header"),
    "button-26": ({"buttons": ["b" * 26]}, "buttons.0"),
    "eleven-buttons": ({"buttons": [f"b{i}" for i in range(11)]}, "buttons"),
    "name-with-capitals": ({"name": "Avviso"}, "name"),
    "unknown-category": ({"category": "PROMO"}, "category"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_a_template_meta_would_refuse_is_a_422_naming_the_field_and_nothing_is_submitted(town, stack, case):
    changes, field = BAD[case]
    answer = town.create(name=changes.pop("name", f"modello_{case.replace('-', '_')}"), **changes)
    assert answer.status_code == 422, answer.text
    assert field in [d["field"] for d in answer.json()["error"]["details"]]
    listed = requests.get(f"{stack.sandbox_url}/_sandbox/templates", params={"channel": town.channel}, timeout=10)
    assert listed.json() == []


def test_a_name_taken_in_that_language_is_a_409_and_roles_are_checked(town):
    assert town.create(name="avviso_unico").status_code == 201
    again = town.create(name="avviso_unico")
    assert again.status_code == 409 and again.json()["error"]["code"] == "template_exists"
    assert town.create(name="avviso_altro", language="en").status_code == 201  # another language is another one
    assert town.call("POST", f"/api/v1/channels/{town.channel}/templates", "communications",
                     json={**NOTICE, "name": "da_comunicazione"}).status_code == 403
    assert town.call("PUT", f"/api/v1/channels/{town.channel}/templates/purposes/notice", "communications",
                     json={"name": "avviso_unico"}).status_code == 403
    assert town.call("GET", f"/api/v1/channels/{town.channel}/templates", "technical").status_code == 403
    assert town.templates("communications")["items"]  # who composes broadcasts reads them


# ---- the sandbox: Meta's endpoint, Meta's refusals ----------------------------------------------------------

def graph(stack, method: str, waba: str, body: dict | None = None) -> requests.Response:
    return requests.request(method, f"{stack.sandbox_url}/v25.0/{waba}/message_templates", json=body, timeout=10,
                            headers={"Authorization": f"Bearer {stack.access_token}"})


def meta_body(**changes) -> dict:
    body = {"name": "prova", "language": "it", "category": "UTILITY", "components": [
        {"type": "BODY", "text": "Avviso: {{1}}. Grazie.", "example": {"body_text": [["strada chiusa"]]}},
        {"type": "BUTTONS", "buttons": [{"type": "QUICK_REPLY", "text": "Leggi"}]}]}
    return {**body, **changes}


SANDBOX_REFUSALS = {
    "no-category": (meta_body(category=None), 2388043),
    "no-example": (meta_body(components=[{"type": "BODY", "text": "Avviso: {{1}}. Grazie."}]), 2388043),
    "ends-with-a-parameter": (meta_body(components=[{"type": "BODY", "text": "Avviso: {{1}}",
                                                     "example": {"body_text": [["x"]]}}]), 2388299),
    "footer-61": (meta_body(components=[{"type": "BODY", "text": "Ciao."}, {"type": "FOOTER", "text": "f" * 61}]),
                  2388040),
    "button-26": (meta_body(components=[{"type": "BODY", "text": "Ciao."}, {"type": "BUTTONS", "buttons": [
        {"type": "QUICK_REPLY", "text": "b" * 26}]}]), 2388040),
    "header-format": (meta_body(components=[{"type": "HEADER", "format": "AUDIO"}, {"type": "BODY", "text": "Ciao."}]),
                      2388047),
}


@pytest.mark.parametrize("case", sorted(SANDBOX_REFUSALS))
def test_the_sandbox_refuses_a_template_as_meta_does(town, stack, case):
    body, subcode = SANDBOX_REFUSALS[case]
    answer = graph(stack, "POST", town.waba, body)
    assert answer.status_code == 400, answer.text
    error = answer.json()["error"]
    assert error["code"] == 100 and error["error_subcode"] == subcode and error["type"] == "OAuthException"
    assert graph(stack, "GET", town.waba).json()["data"] == []


def test_the_sandbox_creates_lists_and_refuses_a_duplicate(town, stack):
    created = graph(stack, "POST", town.waba, meta_body())
    assert created.status_code == 200 and created.json()["status"] == "PENDING", created.text
    assert set(created.json()) == {"id", "status", "category"}
    duplicate = graph(stack, "POST", town.waba, meta_body())
    assert duplicate.status_code == 400 and duplicate.json()["error"]["error_subcode"] == 2388024
    (listed,) = graph(stack, "GET", town.waba).json()["data"]
    assert listed["id"] == created.json()["id"] and listed["status"] == "PENDING"
    assert listed["rejected_reason"] == "NONE" and listed["components"][0]["text"] == "Avviso: {{1}}. Grazie."
    unknown = graph(stack, "GET", "999999999")
    assert unknown.status_code == 400 and unknown.json()["error"]["code"] == 100
    assert json.loads(requests.get(f"{stack.sandbox_url}/_sandbox/channels", timeout=10).text)


def test_a_restarted_sandbox_knows_again_the_templates_the_app_holds(town, stack):
    """make dev keeps the app's data but not the sandbox's: at start the sandbox is given what the app holds."""
    from local.devserver import kept_templates
    from local.sandbox import SandboxServer

    assert town.create(name="tenuto").status_code == 201
    town.review("tenuto", "approve")
    held = town.wait_held("tenuto", status="APPROVED")
    fresh = SandboxServer("127.0.0.1", 0, app_secret="s", access_token="t", webhook_url="http://127.0.0.1:1/",
                          channels=[{"phone_number_id": town.channel, "tenant": town.tenant, "waba_id": town.waba,
                                     "templates": kept_templates(town.waba)}])
    fresh.start()
    try:
        listed = requests.get(f"{fresh.url}/_sandbox/templates", params={"channel": town.channel}, timeout=10).json()
    finally:
        fresh.stop()
    assert [(t["id"], t["name"], t["status"]) for t in listed] == [(held["id"], "tenuto", "APPROVED")]
