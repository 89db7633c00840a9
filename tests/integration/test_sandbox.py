"""The sandbox WhatsApp provider over real HTTP: Graph API imitation, status webhooks, test API, phone page."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import socket
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests

from local.sandbox import SandboxServer, meta
from local.sandbox.settings import SandboxSettings, SendStep
from local.sandbox.statuses import PendingStatus, StatusWorker
from tests import waiting

APP_SECRET = "test-app-secret"
TOKEN = "test-access-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
BROADCAST, REPORTS, SAFETY = "100000000000001", "100000000000002", "100000000000003"
# the demo WhatsApp Business Account's approved templates, as Meta describes them (GET /{waba}/message_templates)
NOTICE = {"name": "avviso_comune", "language": "it", "status": "APPROVED", "category": "UTILITY", "components": [
    {"type": "BODY", "text": "Nuovo avviso del Comune: {{1}}.\nTocca «Leggi l'avviso» per il testo completo."},
    {"type": "FOOTER", "text": "Scrivi DISATTIVA per non ricevere più avvisi"},
    {"type": "BUTTONS", "buttons": [{"type": "QUICK_REPLY", "text": "Leggi l'avviso"}]}]}
PHOTO = {"name": "avviso_foto", "language": "it", "category": "UTILITY", "components": [
    {"type": "HEADER", "format": "IMAGE"}, {"type": "BODY", "text": "Guarda la foto: {{1}}."}]}
UPDATE = {"name": "aggiornamento", "language": "it", "category": "UTILITY", "components": [
    {"type": "HEADER", "format": "TEXT", "text": "Segnalazione {{1}}"},
    {"type": "BODY", "text": "Stato: {{1}}. Dettagli: {{2}}, grazie."},
    {"type": "BUTTONS", "buttons": [{"type": "URL", "text": "Apri", "url": "https://comune.it/s/{{1}}"}]}]}
PAUSED = {"name": "vecchio", "language": "it", "status": "PAUSED", "components": [{"type": "BODY", "text": "Ciao."}]}
DISABLED = {"name": "spento", "language": "it", "status": "DISABLED", "components": [{"type": "BODY", "text": "Ciao."}]}
TEMPLATES = [NOTICE, PHOTO, UPDATE, PAUSED, DISABLED]
CHANNELS = [
    {"phone_number_id": BROADCAST, "display_phone_number": "+39 0571 000001", "kind": "broadcast",
     "tenant": "demo", "name": "Demo avvisi", "templates": TEMPLATES},
    {"phone_number_id": REPORTS, "display_phone_number": "+39 0571 000002", "kind": "reports",
     "tenant": "demo", "name": "Demo segnalazioni"},
    {"phone_number_id": SAFETY, "display_phone_number": "+39 0571 000003", "kind": "safety",
     "tenant": "demo", "name": "Demo protezione civile"},
]
CITIZEN = "+39 335 1397378"
CITIZEN_DIGITS = "393351397378"
PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==")


# ---- the fake app webhook ----------------------------------------------------------------

class WebhookRecorder:
    """A tiny app webhook on port 0 that records every POST and checks its signature."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.answer: Callable[[Any], int] = lambda body: 200
        self._lock = threading.Lock()
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                signature = self.headers.get("X-Hub-Signature-256")
                expected = "sha256=" + hmac.new(APP_SECRET.encode(), raw, hashlib.sha256).hexdigest()
                try:
                    body = json.loads(raw)
                except ValueError:
                    body = None
                with recorder._lock:
                    recorder.received.append({
                        "raw": raw, "body": body, "signature": signature,
                        "valid": signature is not None and hmac.compare_digest(signature, expected),
                        "content_type": self.headers.get("Content-Type"), "path": self.path})
                status = recorder.answer(body)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/webhooks/meta"
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def posts(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self.received)

    def statuses(self) -> list[dict[str, Any]]:
        found = []
        for post in self.posts():
            for entry in (post["body"] or {}).get("entry", []):
                for change in entry["changes"]:
                    found.extend(change["value"].get("statuses", []))
        return found


def wait_for(check: Callable[[], Any], timeout: float = 3.0) -> Any:
    return waiting.wait_for(check, timeout, interval=0.01)


@pytest.fixture
def app() -> WebhookRecorder:
    recorder = WebhookRecorder()
    yield recorder
    recorder.stop()


@pytest.fixture
def sandbox(app: WebhookRecorder) -> SandboxServer:
    server = SandboxServer("127.0.0.1", 0, app_secret=APP_SECRET, access_token=TOKEN, webhook_url=app.url,
                           channels=CHANNELS, status_delay=0.01, status_retry_delays=(0.02, 0.02))
    server.start()
    yield server
    server.stop()


def send(sandbox: SandboxServer, body: dict[str, Any], channel: str = BROADCAST, version: str = "v25.0",
         headers: dict[str, str] | None = None) -> requests.Response:
    return requests.post(f"{sandbox.url}/{version}/{channel}/messages", json=body,
                         headers=AUTH if headers is None else headers, timeout=5)


def text_body(to: str = CITIZEN, text: str = "Ciao", **extra: Any) -> dict[str, Any]:
    return {"messaging_product": "whatsapp", "to": to, "type": "text", "text": {"body": text}, **extra}


def inbound(sandbox: SandboxServer, **payload: Any) -> requests.Response:
    payload.setdefault("channel", REPORTS)
    return requests.post(f"{sandbox.url}/_sandbox/inbound", json=payload, timeout=5)


def only_value(post: dict[str, Any]) -> dict[str, Any]:
    body = post["body"]
    assert body["object"] == "whatsapp_business_account"
    (entry,) = body["entry"]
    (change,) = entry["changes"]
    assert change["field"] == "messages"
    return change["value"]


# ---- inbound -----------------------------------------------------------------------------

def test_inbound_text_is_a_signed_meta_payload(sandbox, app):
    answer = inbound(sandbox, **{"from": CITIZEN, "type": "text", "text": "Buca in via Roma", "profile_name": "Anna"})
    assert answer.status_code == 200
    assert answer.json()["webhook_status"] == 200
    (post,) = app.posts()
    assert post["valid"] and post["content_type"] == "application/json"
    assert post["path"] == "/webhooks/meta"
    value = only_value(post)
    assert post["body"]["entry"][0]["id"].isdigit()
    assert value["messaging_product"] == "whatsapp"
    assert value["metadata"] == {"display_phone_number": "390571000002", "phone_number_id": REPORTS}
    assert value["contacts"] == [{"profile": {"name": "Anna"}, "wa_id": CITIZEN_DIGITS}]
    (message,) = value["messages"]
    assert message["from"] == CITIZEN_DIGITS
    assert message["id"] == answer.json()["message_id"] and message["id"].startswith("wamid.")
    assert message["timestamp"].isdigit() and abs(int(message["timestamp"]) - time.time()) < 5
    assert message["type"] == "text" and message["text"] == {"body": "Buca in via Roma"}


def test_inbound_image_location_button_list_shapes(sandbox, app):
    image = inbound(sandbox, **{"from": CITIZEN, "type": "image", "image_base64": base64.b64encode(PNG).decode(),
                                "mime_type": "image/png", "caption": "Guarda qui"})
    location = inbound(sandbox, **{"from": CITIZEN, "type": "location", "latitude": 43.7187, "longitude": 10.9464,
                                   "name": "Piazza", "address": "Empoli"})
    button = inbound(sandbox, **{"from": CITIZEN, "type": "button", "id": "yes", "title": "Sì",
                                 "context": "wamid.ABC"})
    row = inbound(sandbox, **{"from": CITIZEN, "type": "list", "id": "roads", "title": "Strade"})
    assert [r.status_code for r in (image, location, button, row)] == [200] * 4
    posts = app.posts()
    assert all(p["valid"] for p in posts)
    messages = [only_value(p)["messages"][0] for p in posts]

    assert messages[0]["type"] == "image"
    assert messages[0]["image"] == {"mime_type": "image/png", "id": image.json()["media_id"], "caption": "Guarda qui",
                                    "sha256": base64.b64encode(hashlib.sha256(PNG).digest()).decode()}
    assert messages[1]["location"] == {"latitude": 43.7187, "longitude": 10.9464, "name": "Piazza", "address": "Empoli"}
    assert messages[2]["type"] == "interactive"
    assert messages[2]["interactive"] == {"type": "button_reply", "button_reply": {"id": "yes", "title": "Sì"}}
    assert messages[2]["context"] == {"from": "390571000002", "id": "wamid.ABC"}
    assert messages[3]["interactive"] == {"type": "list_reply", "list_reply": {"id": "roads", "title": "Strade"}}
    assert "context" not in messages[3]


def test_inbound_user_id_only_and_both(sandbox, app):
    assert inbound(sandbox, user_id="IT.1234abcd", type="text", text="ciao").status_code == 200
    assert inbound(sandbox, **{"from": "393331112222", "user_id": "IT.99zz", "text": "ciao"}).status_code == 200
    first, second = (only_value(p) for p in app.posts())
    message = first["messages"][0]
    assert message["from_user_id"] == "IT.1234abcd" and "from" not in message
    assert first["contacts"][0]["user_id"] == "IT.1234abcd" and "wa_id" not in first["contacts"][0]
    assert second["messages"][0]["from"] == "393331112222"
    assert second["messages"][0]["from_user_id"] == "IT.99zz"
    assert second["contacts"][0]["wa_id"] == "393331112222" and second["contacts"][0]["user_id"] == "IT.99zz"


def test_inbound_bad_input_and_unknown_channel(sandbox, app):
    assert inbound(sandbox, type="text", text="no sender").status_code == 422
    assert inbound(sandbox, **{"from": "hello", "text": "x"}).status_code == 422
    assert inbound(sandbox, **{"from": CITIZEN, "type": "image", "image_base64": "%%%"}).status_code == 422
    assert inbound(sandbox, **{"from": CITIZEN, "type": "location", "latitude": 200, "longitude": 0}).status_code == 422
    assert inbound(sandbox, **{"from": CITIZEN, "type": "gif"}).json()["error"]
    # a BSUID is a country code, a dot and up to 128 characters (Meta): the sandbox makes no longer one
    assert inbound(sandbox, user_id="IT." + "a" * 129, text="x").status_code == 422
    unknown = inbound(sandbox, channel="999", **{"from": CITIZEN, "text": "x"})
    assert unknown.status_code == 404 and "error" in unknown.json()
    assert requests.post(f"{sandbox.url}/_sandbox/inbound", data=b"not json", timeout=5).status_code == 422
    assert app.posts() == []


def test_inbound_passes_the_app_status_through(sandbox, app):
    app.answer = lambda body: 401
    answer = inbound(sandbox, **{"from": CITIZEN, "text": "x"})
    assert answer.status_code == 200 and answer.json()["webhook_status"] == 401


# ---- sending -----------------------------------------------------------------------------

def test_send_accepted_and_listed_in_order_with_filters(sandbox):
    first = send(sandbox, text_body(text="uno"))
    assert first.status_code == 200
    data = first.json()
    assert data["messaging_product"] == "whatsapp"
    assert data["contacts"] == [{"input": CITIZEN, "wa_id": CITIZEN_DIGITS}]
    assert data["messages"][0]["id"].startswith("wamid.")
    buttons = {"messaging_product": "whatsapp", "to": "+393351397378", "type": "interactive", "interactive": {
        "type": "button", "body": {"text": "Confermi?"},
        "action": {"buttons": [{"type": "reply", "reply": {"id": "y", "title": "Sì"}},
                               {"type": "reply", "reply": {"id": "n", "title": "No"}}]}}}
    assert send(sandbox, buttons, channel=SAFETY, version="v19.0").status_code == 200
    assert send(sandbox, text_body(to="+393330000000", text="altro")).status_code == 200

    def listed(query: str) -> list[dict[str, Any]]:
        return requests.get(f"{sandbox.url}/_sandbox/messages{query}", timeout=5).json()

    mine = listed("?to=%2B39%20335%201397378")
    assert [m["text"].splitlines()[0] for m in mine] == ["uno", "Confermi?"]
    assert mine[0]["id"] == data["messages"][0]["id"] and mine[0]["channel"] == BROADCAST
    assert mine[0]["body"] == text_body(text="uno") and mine[0]["type"] == "text"
    assert mine[1]["options"] == [{"kind": "button", "id": "y", "title": "Sì"},
                                  {"kind": "button", "id": "n", "title": "No"}]
    assert "[Sì] [No]" in mine[1]["text"]
    ids = [m["id"] for m in mine]
    assert [m["id"] for m in listed("?to=393351397378")] == [m["id"] for m in listed("?to=+393351397378")] == ids
    assert [m["channel"] for m in listed(f"?to={CITIZEN_DIGITS}&channel={SAFETY}")] == [SAFETY]
    everything = listed("")
    assert len(everything) == 3
    since = listed(f"?since={everything[1]['index']}")
    assert [m["id"] for m in since] == [m["id"] for m in everything[1:]]
    assert requests.delete(f"{sandbox.url}/_sandbox/messages", timeout=5).json() == {"cleared": 3}
    assert listed("") == []


def test_send_to_a_business_scoped_user_id(sandbox):
    answer = send(sandbox, {"messaging_product": "whatsapp", "recipient": "IT.1234abcd", "type": "text",
                            "text": {"body": "ciao"}})
    assert answer.status_code == 200
    assert answer.json()["contacts"] == [{"input": "IT.1234abcd", "user_id": "IT.1234abcd"}]
    assert len(requests.get(f"{sandbox.url}/_sandbox/messages?to=IT.1234abcd", timeout=5).json()) == 1


def test_bearer_token_is_checked(sandbox):
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}):
        answer = send(sandbox, text_body(), headers=headers)
        assert answer.status_code == 401
        error = answer.json()["error"]
        assert error["code"] == 190 and error["type"] == "OAuthException" and error["fbtrace_id"]
    assert requests.get(f"{sandbox.url}/_sandbox/messages", timeout=5).json() == []


def test_unknown_phone_number_id(sandbox):
    answer = send(sandbox, text_body(), channel="424242")
    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == 100
    assert answer.json()["error"]["type"] == "GraphMethodException"


@pytest.mark.parametrize("body, code", [
    ({"to": CITIZEN, "type": "text", "text": {"body": "x"}}, 131008),
    ({"messaging_product": "sms", "to": CITIZEN, "type": "text", "text": {"body": "x"}}, 131009),
    ({"messaging_product": "whatsapp", "type": "text", "text": {"body": "x"}}, 131008),
    ({"messaging_product": "whatsapp", "to": CITIZEN, "type": "text"}, 131008),
    ({"messaging_product": "whatsapp", "to": CITIZEN, "type": "text", "text": {"body": "x" * 4097}}, 131009),
    ({"messaging_product": "whatsapp", "to": CITIZEN, "type": "video", "video": {"id": "1"}}, 100),
    ({"messaging_product": "whatsapp", "to": CITIZEN, "type": "template", "template": {"name": "avviso"}}, 131008),
    ({"messaging_product": "whatsapp", "to": CITIZEN, "type": "interactive", "interactive": {
        "type": "button", "body": {"text": "?"}, "action": {"buttons": [
            {"type": "reply", "reply": {"id": str(i), "title": f"B{i}"}} for i in range(4)]}}}, 131009),
    ({"messaging_product": "whatsapp", "to": CITIZEN, "type": "interactive", "interactive": {
        "type": "list", "body": {"text": "?"}, "action": {"button": "Scegli", "sections": [
            {"title": "S", "rows": [{"id": str(i), "title": f"R{i}"} for i in range(11)]}]}}}, 131009),
])
def test_validation_errors_have_meta_error_bodies(sandbox, body, code):
    answer = send(sandbox, body)
    assert answer.status_code == 400
    error = answer.json()["error"]
    assert error["code"] == code
    assert set(error) >= {"message", "type", "code", "error_data", "fbtrace_id"}
    assert error["error_data"]["messaging_product"] == "whatsapp" and error["error_data"]["details"]
    assert error["message"].startswith(f"(#{code})")


def interactive(kind: str, action: dict[str, Any], body: str = "?", **extra: Any) -> dict[str, Any]:
    return {"messaging_product": "whatsapp", "to": CITIZEN, "type": "interactive",
            "interactive": {"type": kind, "body": {"text": body}, "action": action, **extra}}


def buttons(*titles: str, ids: tuple[str, ...] = ()) -> dict[str, Any]:
    return {"buttons": [{"type": "reply", "reply": {"id": ids[i] if ids else f"b{i}", "title": t}}
                        for i, t in enumerate(titles)]}


def rows(count: int, title: str = "Riga", description: str | None = None, button: str = "Scegli",
         ids: list[str] | None = None) -> dict[str, Any]:
    made = [{"id": ids[i] if ids else f"r{i}", "title": f"{title} {i}" if count > 1 else title,
             **({"description": description} if description is not None else {})} for i in range(count)]
    return {"button": button, "sections": [{"title": "Sezione", "rows": made}]}


def uploaded(sandbox: SandboxServer, data: bytes, mime_type: str) -> requests.Response:
    return requests.post(f"{sandbox.url}/v25.0/{BROADCAST}/media", headers=AUTH, timeout=30,
                         data={"messaging_product": "whatsapp", "type": mime_type},
                         files={"file": ("file", data, mime_type)})


def image_body(**image: Any) -> dict[str, Any]:
    return {"messaging_product": "whatsapp", "to": CITIZEN, "type": "image", "image": image}


# What Meta's Cloud API refuses in a send that is not a template (whatsapp-provider.md section 3; S12-S14; list
# messages: 10 rows, row title 24, description 72, button 20). Each case: the body, Meta's code.
REFUSED_SENDS = {
    "text-4097": (text_body(text="x" * 4097), 131009),
    "text-empty": (text_body(text=""), 131008),
    "preview-url-not-a-boolean": ({**text_body(), "text": {"body": "x", "preview_url": "yes"}}, 131009),
    "callback-data-513": (text_body(biz_opaque_callback_data="c" * 513), 131009),
    "callback-data-not-a-string": (text_body(biz_opaque_callback_data=7), 131009),
    "button-title-21": (interactive("button", buttons("Ricordamelo più tardi")), 131009),
    "button-title-empty": (interactive("button", buttons("")), 131008),
    "button-titles-repeat": (interactive("button", buttons("Sì", "Sì")), 131009),
    "button-ids-repeat": (interactive("button", buttons("Sì", "No", ids=("a", "a"))), 131009),
    "button-id-257": (interactive("button", buttons("Sì", ids=("i" * 257,))), 131009),
    "button-body-1025": (interactive("button", buttons("Sì"), body="x" * 1025), 131009),
    "button-header-61": (interactive("button", buttons("Sì"), header={"type": "text", "text": "h" * 61}), 131009),
    "button-footer-61": (interactive("button", buttons("Sì"), footer={"text": "f" * 61}), 131009),
    "list-row-title-25": (interactive("list", rows(1, title="Allerte e protezione civ.")), 131009),
    "list-row-description-73": (interactive("list", rows(1, description="d" * 73)), 131009),
    "list-11-rows-in-two-sections": (interactive("list", {"button": "Scegli", "sections": [
        {"title": "A", "rows": [{"id": f"a{i}", "title": f"A{i}"} for i in range(6)]},
        {"title": "B", "rows": [{"id": f"b{i}", "title": f"B{i}"} for i in range(5)]}]}), 131009),
    "list-button-21": (interactive("list", rows(1, button="Scegli il tuo argomento")), 131009),
    "list-section-title-25": (interactive("list", {"button": "Scegli", "sections": [
        {"title": "s" * 25, "rows": [{"id": "a", "title": "A"}]}]}), 131009),
    "list-two-sections-without-titles": (interactive("list", {"button": "Scegli", "sections": [
        {"rows": [{"id": "a", "title": "A"}]}, {"rows": [{"id": "b", "title": "B"}]}]}), 131008),
    "list-row-ids-repeat": (interactive("list", rows(2, ids=["x", "x"])), 131009),
    "list-body-4097": (interactive("list", rows(1), body="x" * 4097), 131009),
    "list-rows-not-a-list": (interactive("list", {"button": "Scegli", "sections": [{"rows": 5}]}), 131009),
    "image-link-not-http": (image_body(link="ftp://comune.it/a.png"), 131009),
    "image-id-and-link": (image_body(id="1", link="https://comune.it/a.png"), 131009),
    "image-caption-1025": (image_body(link="https://comune.it/a.png", caption="c" * 1025), 131009),
    "image-unknown-media-id": (image_body(id="4242424242"), 131009),
}


@pytest.mark.parametrize("case", sorted(REFUSED_SENDS))
def test_sends_meta_refuses_are_refused_with_its_code(sandbox, case):
    body, code = REFUSED_SENDS[case]
    answer = send(sandbox, body)
    assert answer.status_code == 400, answer.text
    error = answer.json()["error"]
    assert error["code"] == code and error["message"].startswith(f"(#{code})"), error
    assert error["error_data"]["details"]
    assert requests.get(f"{sandbox.url}/_sandbox/messages", timeout=5).json() == []


def test_the_limits_themselves_are_accepted(sandbox):
    """Exactly at Meta's limits a send goes through: the sandbox is as strict as Meta, not stricter."""
    accepted = [
        text_body(text="x" * 4096, biz_opaque_callback_data="c" * 512),
        interactive("button", buttons("Ricordamelo più tard", "No", "Forse"), body="x" * 1024,
                    header={"type": "text", "text": "h" * 60}, footer={"text": "f" * 60}),
        interactive("list", {"button": "b" * 20, "sections": [
            {"title": "s" * 24, "rows": [{"id": f"a{i}", "title": "t" * 23 + str(i), "description": "d" * 72}
                                         for i in range(5)]},
            {"title": "Altro", "rows": [{"id": f"b{i}", "title": f"B{i}"} for i in range(5)]}]}, body="x" * 4096),
        image_body(link="https://comune.it/a.png", caption="c" * 1024),
    ]
    assert [send(sandbox, body).status_code for body in accepted] == [200] * 4


def test_media_is_checked_by_type_and_size_on_upload_and_on_send(sandbox):
    gif = uploaded(sandbox, b"GIF89a" + b"\x00" * 10, "image/gif")
    assert gif.status_code == 400 and gif.json()["error"]["code"] == 100
    assert "image/jpeg" in gif.json()["error"]["error_data"]["details"]
    big = uploaded(sandbox, PNG + b"\x00" * (5 * 1024 * 1024), "image/png")
    assert big.status_code == 400 and big.json()["error"]["code"] == 131053
    document = uploaded(sandbox, b"%PDF-1.4 avviso", "application/pdf")
    assert document.status_code == 200
    refused = send(sandbox, image_body(id=document.json()["id"]))
    assert refused.status_code == 400 and refused.json()["error"]["code"] == 131053
    assert "application/pdf" in refused.json()["error"]["error_data"]["details"]
    png = uploaded(sandbox, PNG, "image/png").json()["id"]
    assert send(sandbox, image_body(id=png)).status_code == 200


# ---- templates ----------------------------------------------------------------------------

def template_body(name: str = "avviso_comune", language: str = "it", components: list | None = None,
                  to: str = CITIZEN) -> dict[str, Any]:
    template: dict[str, Any] = {"name": name, "language": {"code": language}}
    if components is not None:
        template["components"] = components
    return {"messaging_product": "whatsapp", "to": to, "type": "template", "template": template}


def body_params(*texts: str) -> dict[str, Any]:
    return {"type": "body", "parameters": [{"type": "text", "text": t} for t in texts]}


def quick_reply(payload: str, index: str = "0") -> dict[str, Any]:
    return {"type": "button", "sub_type": "quick_reply", "index": index,
            "parameters": [{"type": "payload", "payload": payload}]}


PHOTO_HEADER = {"type": "header", "parameters": [{"type": "image", "image": {"link": "https://comune.it/a.jpg"}}]}
TEXT_HEADER = {"type": "header", "parameters": [{"type": "text", "text": "2026/42"}]}
URL_BUTTON = {"type": "button", "sub_type": "url", "index": "0", "parameters": [{"type": "text", "text": "tok"}]}

# What Meta refuses in a template send, checked against the template the business account holds: its name and
# language (132001), its status (132015, 132016), the number of parameters of each component (132000), a text
# parameter with a new line, a tab or more than four spaces in a row (132018), the text once filled in (body 1,024,
# header 60: 132005), the buttons it has (131009). HTTP 404 for 132001, else 400.
REFUSED_TEMPLATES = {
    "unknown-name": (template_body("avviso_inesistente", components=[body_params("x")]), 132001, 404),
    "unknown-language": (template_body(language="en_US", components=[body_params("x")]), 132001, 404),
    "paused": (template_body("vecchio"), 132015, 400),
    "disabled": (template_body("spento"), 132016, 400),
    "no-body-parameter": (template_body(), 132000, 400),
    "two-body-parameters": (template_body(components=[body_params("a", "b")]), 132000, 400),
    "newline-in-a-parameter": (template_body(components=[body_params("Allerta meteo\nScuole chiuse")]), 132018, 400),
    "tab-in-a-parameter": (template_body(components=[body_params("Allerta\tmeteo")]), 132018, 400),
    "five-spaces-in-a-parameter": (template_body(components=[body_params("Allerta     meteo")]), 132018, 400),
    "empty-parameter": (template_body(components=[body_params("")]), 131008, 400),
    "body-over-1024-once-filled": (template_body(components=[body_params("x" * 970)]), 132005, 400),
    "image-header-missing": (template_body("avviso_foto", components=[body_params("ponte")]), 132000, 400),
    "header-the-template-lacks": (template_body(components=[PHOTO_HEADER, body_params("x")]), 132000, 400),
    "text-header-over-60": (template_body("aggiornamento", components=[
        {"type": "header", "parameters": [{"type": "text", "text": "h" * 50}]}, body_params("a", "b"), URL_BUTTON]),
        132005, 400),
    "url-button-parameter-missing": (template_body("aggiornamento", components=[TEXT_HEADER, body_params("a", "b")]),
                                     132000, 400),
    "button-the-template-lacks": (template_body(components=[body_params("x"), quick_reply("p", "1")]), 131009, 400),
    "payload-over-128": (template_body(components=[body_params("x"), quick_reply("p" * 129)]), 131009, 400),
    "unknown-component": (template_body(components=[body_params("x"), {"type": "sidebar", "parameters": []}]),
                          131009, 400),
    "parameters-not-a-list": (template_body(components=[{"type": "body", "parameters": {"0": "x"}}]), 131009, 400),
    "header-parameters-not-a-list": (template_body("avviso_foto", components=[
        {"type": "header", "parameters": {"0": {"type": "image"}}}, body_params("x")]), 131009, 400),
}


@pytest.mark.parametrize("case", sorted(REFUSED_TEMPLATES))
def test_template_sends_are_checked_against_the_template_the_account_holds(sandbox, case):
    body, code, status = REFUSED_TEMPLATES[case]
    answer = send(sandbox, body)
    assert answer.status_code == status, answer.text
    error = answer.json()["error"]
    assert error["code"] == code and error["message"].startswith(f"(#{code})"), error
    assert error["error_data"]["messaging_product"] == "whatsapp" and error["error_data"]["details"]
    assert requests.get(f"{sandbox.url}/_sandbox/messages", timeout=5).json() == []


def test_a_parameter_newline_is_refused_with_metas_words(sandbox):
    error = send(sandbox, template_body(components=[body_params("riga 1\nriga 2")])).json()["error"]
    assert error["message"] == "(#132018) There was an issue with the parameters in your template."
    assert error["error_data"]["details"] == \
        "Param text cannot have new-line/tab characters or more than 4 consecutive spaces"


def test_a_template_is_listed_as_the_phone_shows_it_with_its_buttons_titles(sandbox):
    accepted = send(sandbox, template_body(components=[body_params("Strade chiuse per neve"),
                                                       quick_reply("notice:42")]))
    assert accepted.status_code == 200, accepted.text
    assert send(sandbox, template_body("avviso_foto", components=[PHOTO_HEADER, body_params("ponte")])).ok
    assert send(sandbox, template_body("aggiornamento", components=[TEXT_HEADER, body_params("risolta", "via Roma"),
                                                                    URL_BUTTON])).ok
    notice, photo, update = requests.get(f"{sandbox.url}/_sandbox/messages", timeout=5).json()
    assert notice["text"] == ("Nuovo avviso del Comune: Strade chiuse per neve.\n"
                              "Tocca «Leggi l'avviso» per il testo completo.\n"
                              "Scrivi DISATTIVA per non ricevere più avvisi")
    assert notice["options"] == [{"kind": "quick_reply", "id": "notice:42", "title": "Leggi l'avviso"}]
    assert photo["text"] == "[image https://comune.it/a.jpg]\nGuarda la foto: ponte."
    assert update["text"] == "Segnalazione 2026/42\nStato: risolta. Dettagli: via Roma, grazie.\n[Apri]"
    assert update["options"] == []


def test_a_quick_reply_without_a_payload_answers_with_its_text(sandbox):
    """Meta sends a quick-reply tap's text as its payload when the send set none."""
    assert send(sandbox, template_body(components=[body_params("Mercato spostato")])).ok
    (notice,) = requests.get(f"{sandbox.url}/_sandbox/messages", timeout=5).json()
    assert notice["options"] == [{"kind": "quick_reply", "id": "Leggi l'avviso", "title": "Leggi l'avviso"}]


def test_templates_belong_to_the_business_account_and_can_be_registered(sandbox):
    sandbox.add_channel({"phone_number_id": "100000000000009", "tenant": "altro"})
    other = send(sandbox, template_body(components=[body_params("x")]), channel="100000000000009")
    assert other.status_code == 404 and other.json()["error"]["code"] == 132001
    listed = requests.get(f"{sandbox.url}/_sandbox/templates", params={"channel": BROADCAST}, timeout=5).json()
    assert [t["name"] for t in listed] == ["avviso_comune", "avviso_foto", "aggiornamento", "vecchio", "spento"]
    assert requests.get(f"{sandbox.url}/_sandbox/templates", params={"channel": REPORTS}, timeout=5).json() == listed
    registered = requests.post(f"{sandbox.url}/_sandbox/templates", timeout=5,
                               json={"channel": "100000000000009", "templates": [NOTICE]})
    assert registered.status_code == 200 and [t["name"] for t in registered.json()] == ["avviso_comune"]
    assert send(sandbox, template_body(components=[body_params("x")]), channel="100000000000009").ok


BAD_DEFINITIONS = {
    "body-1025": {"name": "a", "language": "it", "components": [{"type": "BODY", "text": "x" * 1025}]},
    "no-body": {"name": "a", "language": "it", "components": [{"type": "FOOTER", "text": "f"}]},
    "placeholders-skip": {"name": "a", "language": "it", "components": [{"type": "BODY", "text": "a {{1}} b {{3}} c"}]},
    "starts-with-a-placeholder": {"name": "a", "language": "it", "components": [{"type": "BODY", "text": "{{1}} c"}]},
    "ends-with-a-placeholder": {"name": "a", "language": "it", "components": [{"type": "BODY", "text": "c {{1}}"}]},
    "footer-61": {"name": "a", "language": "it", "components": [{"type": "BODY", "text": "b"},
                                                                {"type": "FOOTER", "text": "f" * 61}]},
    "button-26": {"name": "a", "language": "it", "components": [{"type": "BODY", "text": "b"}, {
        "type": "BUTTONS", "buttons": [{"type": "QUICK_REPLY", "text": "t" * 26}]}]},
    "name-with-capitals": {"name": "Avviso", "language": "it", "components": [{"type": "BODY", "text": "b"}]},
    "unknown-status": {"name": "a", "language": "it", "status": "MAYBE", "components": [{"type": "BODY", "text": "b"}]},
}


@pytest.mark.parametrize("case", sorted(BAD_DEFINITIONS))
def test_a_template_meta_would_not_approve_cannot_be_registered(sandbox, case):
    answer = requests.post(f"{sandbox.url}/_sandbox/templates", timeout=5,
                           json={"channel": BROADCAST, "templates": [BAD_DEFINITIONS[case]]})
    assert answer.status_code == 422 and answer.json()["error"]
    with pytest.raises(ValueError):
        SandboxServer("127.0.0.1", 0, app_secret="s", access_token="t", webhook_url="http://127.0.0.1:1/",
                      channels=[{**CHANNELS[0], "templates": [BAD_DEFINITIONS[case]]}])


def test_mark_as_read_is_recorded_apart(sandbox, app):
    answer = send(sandbox, {"messaging_product": "whatsapp", "status": "read", "message_id": "wamid.IN"})
    assert answer.status_code == 200 and answer.json() == {"success": True}
    assert requests.get(f"{sandbox.url}/_sandbox/messages", timeout=5).json() == []
    reads = requests.get(f"{sandbox.url}/_sandbox/reads", timeout=5).json()
    assert [r["message_id"] for r in reads] == ["wamid.IN"]


def test_rate_limit_answers_429_with_retry_after(sandbox):
    sandbox.configure(rate_limit=2, status_webhooks=False)
    answers = [send(sandbox, text_body(text=str(i))) for i in range(10)]
    limited = [a for a in answers if a.status_code == 429]
    assert 6 <= len(limited) <= 8
    assert all(a.status_code in (200, 429) for a in answers)
    assert limited[0].headers["Retry-After"] == "1"
    error = limited[0].json()["error"]
    assert error["code"] == 130429 and error["message"] == "(#130429) Rate limit hit"
    stats = requests.get(f"{sandbox.url}/_sandbox/stats", timeout=5).json()
    assert stats["rate_limited"] == len(limited) and stats["accepted"] == 10 - len(limited)


def test_fault_rate_and_config_endpoint(sandbox):
    config = requests.post(f"{sandbox.url}/_sandbox/config", json={"fault_rate": 1.0, "seed": 3}, timeout=5)
    assert config.status_code == 200 and config.json()["fault_rate"] == 1.0
    answer = send(sandbox, text_body())
    assert answer.status_code == 500 and answer.json()["error"]["code"] == 131000
    assert requests.get(f"{sandbox.url}/_sandbox/config", timeout=5).json()["seed"] == 3
    assert requests.get(f"{sandbox.url}/_sandbox/stats", timeout=5).json()["faults"] == 1
    bad = requests.post(f"{sandbox.url}/_sandbox/config", json={"fault_rate": 2}, timeout=5)
    assert bad.status_code == 422
    assert requests.post(f"{sandbox.url}/_sandbox/config", json={"nope": 1}, timeout=5).status_code == 422


def test_fault_rate_is_reproducible_with_a_seed(sandbox):
    def run() -> list[int]:
        sandbox.configure(fault_rate=0.5, seed=42, status_webhooks=False)
        return [send(sandbox, text_body()).status_code for _ in range(8)]

    first = run()
    assert first == run() and set(first) == {200, 500}


def test_bad_settings_are_named_and_change_nothing(sandbox):
    bad = requests.post(f"{sandbox.url}/_sandbox/config", timeout=5,
                        json={"fault_rate": 0.5, "send_script": {CITIZEN: [613, {"http_status": 700}]}})
    assert bad.status_code == 422
    assert f"send_script[{CITIZEN!r}][1].http_status" in bad.json()["error"] and "700" in bad.json()["error"]
    config = requests.get(f"{sandbox.url}/_sandbox/config", timeout=5).json()
    assert config["fault_rate"] == 0.0 and config["send_script"] == {}
    unknown = requests.post(f"{sandbox.url}/_sandbox/config", json={"nope": 1}, timeout=5).json()["error"]
    assert unknown.startswith("unknown settings: nope; known: fault_rate, ")
    with pytest.raises(ValueError, match="seed"):
        sandbox.configure(seed=True)
    with pytest.raises(ValueError, match="rate_limit"):
        sandbox.configure(rate_limit=0)


def test_config_shows_script_steps_and_media_faults_left(sandbox):
    sandbox.configure(send_script={CITIZEN: [613, {"delay": 0.01}, {"body": "<html>", "http_status": 502}]},
                      media_faults=2)
    config = requests.get(f"{sandbox.url}/_sandbox/config", timeout=5).json()
    assert config["send_script"] == {CITIZEN: [
        {"code": 613, "drop": False, "deliver": False}, {"delay": 0.01, "drop": False, "deliver": True},
        {"http_status": 502, "body": "<html>", "drop": False, "deliver": False}]}
    assert config["media_faults"] == 2
    media_id = inbound(sandbox, **{"from": CITIZEN, "type": "image", "image_base64": base64.b64encode(PNG).decode(),
                                   "mime_type": "image/png"}).json()["media_id"]
    assert requests.get(f"{sandbox.url}/v25.0/{media_id}", headers=AUTH, timeout=5).status_code == 500
    assert requests.get(f"{sandbox.url}/_sandbox/config", timeout=5).json()["media_faults"] == 1


def test_every_setting_is_documented():
    readme = (Path(__file__).parents[2] / "local" / "sandbox" / "README.md").read_text(encoding="utf-8")
    for model in (SandboxSettings, SendStep):
        for name, field in model.model_fields.items():
            assert field.description, f"{model.__name__}.{name} has no docstring"
            assert f"`{name}`" in readme, f"local/sandbox/README.md does not mention {name}"


def test_recipient_errors(sandbox):
    sandbox.configure(recipient_errors={"+39 333 000 0001": 131026})
    failed = send(sandbox, text_body(to="+393330000001"))
    assert failed.status_code == 400 and failed.json()["error"]["code"] == 131026
    assert send(sandbox, text_body(to="+393330000002")).status_code == 200


def test_status_errors_accept_the_send_then_report_it_failed(sandbox, app):
    sandbox.configure(status_errors={"+39 333 000 0001": 131048})
    answer = send(sandbox, text_body(to="+393330000001", biz_opaque_callback_data="b-1"))
    assert answer.status_code == 200  # Meta took it...
    wamid = answer.json()["messages"][0]["id"]
    failed = wait_for(lambda: [s for s in app.statuses() if s["id"] == wamid])
    time.sleep(0.5)
    assert [s["status"] for s in app.statuses() if s["id"] == wamid] == ["failed"]  # ...then reports it failed
    error = failed[0]["errors"][0]
    assert (error["code"], error["title"]) == (131048, "Spam rate limit hit") and error["error_data"]["details"]
    assert failed[0]["biz_opaque_callback_data"] == "b-1" and failed[0]["recipient_id"] == "393330000001"
    assert requests.get(f"{sandbox.url}/_sandbox/messages", params={"to": "+393330000001"}, timeout=5).json() == []
    assert sandbox.stats()["failed_later"] == 1
    assert send(sandbox, text_body(to="+393330000002")).status_code == 200  # other recipients as usual


def test_status_webhooks_signed_in_order_with_callback_data(sandbox, app):
    answer = send(sandbox, text_body(biz_opaque_callback_data="campaign-7"))
    wamid = answer.json()["messages"][0]["id"]
    wait_for(lambda: any(s["status"] == "read" for s in app.statuses()))
    assert all(p["valid"] for p in app.posts())
    statuses = [s for s in app.statuses() if s["id"] == wamid]
    assert [s["status"] for s in statuses] == ["sent", "delivered", "read"]
    assert all(s["biz_opaque_callback_data"] == "campaign-7" for s in statuses)
    assert all(s["recipient_id"] == CITIZEN_DIGITS and s["timestamp"].isdigit() for s in statuses)
    value = only_value(app.posts()[0])
    assert value["metadata"]["phone_number_id"] == BROADCAST
    listed = wait_for(lambda: [m for m in requests.get(f"{sandbox.url}/_sandbox/messages", timeout=5).json()
                               if m["status"] == "read"])
    assert listed[0]["id"] == wamid


def test_status_post_failures_are_counted_and_the_worker_survives(sandbox, app):
    app.answer = lambda body: 500
    send(sandbox, text_body())
    wait_for(lambda: requests.get(f"{sandbox.url}/_sandbox/stats", timeout=5).json()["status_batches_dropped"] >= 1)
    stats = requests.get(f"{sandbox.url}/_sandbox/stats", timeout=5).json()
    assert stats["status_post_failures"] >= 3
    app.answer = lambda body: 200
    wamid = send(sandbox, text_body()).json()["messages"][0]["id"]
    wait_for(lambda: [s for s in app.statuses() if s["id"] == wamid and s["status"] == "read"])


def test_status_worker_batches_at_most_1000():
    sizes: list[int] = []
    worker = StatusWorker(lambda batch: sizes.append(len(batch)) or True)
    for i in range(2500):
        worker.schedule(PendingStatus(due=0.0, seq=0, wall=0.0, status="sent", message_id=str(i), channel_id="1"))
    worker.start()
    wait_for(lambda: sum(sizes) == 2500)
    worker.stop()
    assert sizes == [1000, 1000, 500]


def test_statuses_are_posted_when_due_after_the_posters_are_cut_back():
    """A test (or the flood benchmark) raises status_posters and sets it back: the threads left idle must not take
    the wake-up a new status gives, or it waits for the next one (seconds, or for ever on a quiet stack)."""
    posted: list[str] = []
    worker = StatusWorker(lambda batch: posted.extend(item.message_id for item in batch) or True)
    worker.configure(batch_size=1000, posters=4, window=0.0)
    worker.start()
    worker.configure(batch_size=1000, posters=1, window=0.0)
    try:
        for number in range(6):
            worker.schedule(PendingStatus(due=time.monotonic(), seq=0, wall=time.time(), status="sent",
                                          message_id=str(number), channel_id="1"))
            wait_for(lambda count=number + 1: len(posted) == count, timeout=2.0)
    finally:
        worker.stop()
    assert posted == [str(number) for number in range(6)]


def test_media_two_step_download_needs_the_bearer(sandbox):
    answer = inbound(sandbox, **{"from": CITIZEN, "type": "image", "image_base64": base64.b64encode(PNG).decode(),
                                 "mime_type": "image/png"})
    media_id = answer.json()["media_id"]
    assert requests.get(f"{sandbox.url}/v25.0/{media_id}", timeout=5).status_code == 401
    info = requests.get(f"{sandbox.url}/v25.0/{media_id}", headers=AUTH, timeout=5).json()
    assert info["messaging_product"] == "whatsapp" and info["id"] == media_id
    assert info["mime_type"] == "image/png" and info["file_size"] == len(PNG)
    assert info["sha256"] == base64.b64encode(hashlib.sha256(PNG).digest()).decode()
    assert info["url"].startswith(f"{sandbox.url}/_media/{media_id}?token=")
    assert requests.get(info["url"], timeout=5).status_code == 401
    download = requests.get(info["url"], headers=AUTH, timeout=5)
    assert download.status_code == 200 and download.content == PNG
    assert download.headers["Content-Type"] == "image/png"
    unknown = requests.get(f"{sandbox.url}/v25.0/777", headers=AUTH, timeout=5)
    assert unknown.status_code == 400 and unknown.json()["error"]["code"] == 100


def test_raw_endpoint_signed_and_unsigned(sandbox, app):
    signed = requests.post(f"{sandbox.url}/_sandbox/raw", json={"body": {"hello": 1}}, timeout=5)
    unsigned = requests.post(f"{sandbox.url}/_sandbox/raw", json={"body": [1, 2], "sign": False}, timeout=5)
    assert signed.json() == {"webhook_status": 200} and unsigned.json() == {"webhook_status": 200}
    first, second = app.posts()
    assert first["valid"] and first["body"] == {"hello": 1}
    assert second["signature"] is None and second["body"] == [1, 2]
    assert requests.post(f"{sandbox.url}/_sandbox/raw", json={"nobody": 1}, timeout=5).status_code == 422


def test_channels_page_and_unknown_paths(sandbox):
    channels = requests.get(f"{sandbox.url}/_sandbox/channels", timeout=5).json()
    assert [c["phone_number_id"] for c in channels] == [BROADCAST, REPORTS, SAFETY]
    assert channels[0] == {"phone_number_id": BROADCAST, "kind": "broadcast", "tenant": "demo",
                           "display_phone_number": "+39 0571 000001", "name": "Demo avvisi",
                           "waba_id": meta.waba_id_for("demo")}
    page = requests.get(f"{sandbox.url}/", timeout=5)
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    assert "/_sandbox/inbound" in page.text and "<script" in page.text and "http" not in page.text.split("<script")[0]
    missing = requests.get(f"{sandbox.url}/nowhere", timeout=5)
    assert missing.status_code == 404 and missing.json()["error"]


def test_a_garbage_request_does_not_kill_the_server(sandbox):
    host, port = sandbox.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=2) as raw:
        raw.sendall(b"POST /_sandbox/inbound HTTP/1.1\r\nContent-Length: nope\r\n\r\n")
        assert raw.recv(100).startswith(b"HTTP/1.1 400")
    assert requests.get(f"{sandbox.url}/_sandbox/channels", timeout=5).status_code == 200


def test_slow_sends_are_late_but_accepted(sandbox):
    sandbox.configure(slow_rate=1.0, slow_seconds=0.2, status_webhooks=False)
    started = time.monotonic()
    assert send(sandbox, text_body()).status_code == 200
    assert time.monotonic() - started >= 0.2
    assert requests.get(f"{sandbox.url}/_sandbox/stats", timeout=5).json()["slow"] == 1


def test_media_upload_then_send_by_id(sandbox):
    upload = requests.post(f"{sandbox.url}/v25.0/{BROADCAST}/media", headers=AUTH, timeout=5,
                           data={"messaging_product": "whatsapp", "type": "image/png"},
                           files={"file": ("map.png", PNG, "image/png")})
    assert upload.status_code == 200
    media_id = upload.json()["id"]
    info = requests.get(f"{sandbox.url}/v25.0/{media_id}", headers=AUTH, timeout=5).json()
    assert info["mime_type"] == "image/png" and info["file_size"] == len(PNG)
    body = {"messaging_product": "whatsapp", "to": CITIZEN, "type": "image", "image": {"id": media_id, "caption": "Mappa"}}
    assert send(sandbox, body).status_code == 200
    (listed,) = requests.get(f"{sandbox.url}/_sandbox/messages?to={CITIZEN_DIGITS}", timeout=5).json()
    assert listed["type"] == "image" and "Mappa" in listed["text"]


def test_status_flood_posts_each_status_on_its_own_three_per_message(sandbox, app):
    """Meta mostly posts one status per webhook: sent, delivered and read of each message arrive in three POSTs."""
    sandbox.configure(statuses_per_post=1, status_posters=4, status_delay=0.05)
    sent = [send(sandbox, text_body(text=f"Avviso {n}")).json()["messages"][0]["id"] for n in range(5)]
    wait_for(lambda: len([s for s in app.statuses() if s["id"] in sent]) == 15)
    with_statuses = [post for post in app.posts() if "statuses" in only_value(post)]
    assert all(len(only_value(post)["statuses"]) == 1 for post in with_statuses)
    for wamid in sent:
        assert sorted(s["status"] for s in app.statuses() if s["id"] == wamid) == ["delivered", "read", "sent"]
    assert requests.get(f"{sandbox.url}/_sandbox/stats", timeout=5).json()["statuses_due"] == 0
