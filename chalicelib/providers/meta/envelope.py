"""What the webhook endpoint reads of Meta's POST before queueing it: the handshake, the signature, and the
envelope (UTF-8 JSON, object whatsapp_business_account, entry a list), with json and hmac only. The inbound worker
reads the rest with the wire models (inbound.parse); a body this check takes, parse takes too (the same refusals,
tests/unit/test_meta_wire.py)."""
from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Mapping

from chalicelib.providers.webhook import RECORDED_BY_THE_SEND, NotAWebhook, WebhookSummary

PROVIDER_NAME = "meta"
OBJECT = "whatsapp_business_account"
_SIGNATURE = re.compile(r"sha256=([0-9a-fA-F]{64})")
# Why an envelope is refused, by its first failing field (the webhook's 400 says it).
REFUSALS = {"object": f"object is not {OBJECT}", "entry": "entry is not a list"}
NOT_AN_OBJECT = "body is not a JSON object"
READ_FIELDS = ("messages", "message_template_status_update", "template_category_update")  # the changes read
TEMPLATE_FIELDS = READ_FIELDS[1:]  # a template's review and its category: news for the admin, not statuses


def challenge_answer(params: Mapping[str, str] | None, verify_token: str) -> str | None:
    """hub.challenge when the handshake is a subscription with our verify token, else None."""
    params = params or {}
    token, challenge = params.get("hub.verify_token"), params.get("hub.challenge")
    if params.get("hub.mode") != "subscribe" or not verify_token:
        return None
    if not isinstance(token, str) or not isinstance(challenge, str):
        return None
    if not hmac.compare_digest(token.encode(), verify_token.encode()):
        return None
    return challenge


def is_signed(raw_body: bytes, headers: Mapping[str, str], app_secret: str) -> bool:
    """True when X-Hub-Signature-256 is the HMAC-SHA256 of the raw body with our app secret."""
    header = next((v for k, v in headers.items()
                   if isinstance(k, str) and k.lower() == "x-hub-signature-256"), None)
    match = _SIGNATURE.fullmatch(header) if isinstance(header, str) else None
    if match is None or not app_secret or not isinstance(raw_body, bytes):
        return False
    expected = hmac.new(app_secret.encode(), raw_body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, match.group(1).lower())


def body_text(raw_body: bytes) -> str:
    """The body as text: UTF-8, as JSON between systems is (RFC 8259) and Meta posts it; a leading byte order mark,
    which the RFC lets a reader ignore, is. NotAWebhook for UTF-16 or UTF-32 (json.loads would read them, and the
    queue could not take them: a 500, which Meta retries for 7 days) and for any other bytes."""
    try:
        return raw_body.decode("utf-8").removeprefix("\ufeff")
    except (UnicodeDecodeError, AttributeError):
        raise NotAWebhook("body is not UTF-8 JSON") from None


def payload(raw_body: bytes) -> tuple[str, dict]:
    """The body's text and its JSON object, the envelope checked; NotAWebhook saying why not."""
    text = body_text(raw_body)
    if "\x00" in text:  # UTF-16 and UTF-32 of ASCII are valid UTF-8 with NULs, and JSON has no raw NUL anywhere
        raise NotAWebhook("body is not UTF-8 JSON")
    try:
        document = json.loads(text)
    except (ValueError, TypeError, RecursionError):
        raise NotAWebhook("body is not JSON") from None
    if not isinstance(document, dict):
        raise NotAWebhook(NOT_AN_OBJECT)
    if document.get("object") != OBJECT:
        raise NotAWebhook(REFUSALS["object"])
    if not isinstance(document.get("entry"), list):
        raise NotAWebhook(REFUSALS["entry"])
    return text, document


def _recorded_by_the_send(status: object) -> bool:
    return isinstance(status, dict) and isinstance(status.get("status"), str) and status["status"] in RECORDED_BY_THE_SEND


def check(raw_body: bytes) -> WebhookSummary:
    """A verified body checked for queueing, with its messages, statuses, statuses with news and template news
    counted (the log line, and which queue takes it, if any)."""
    text, document = payload(raw_body)
    messages = statuses = news = templates = 0
    for entry in document["entry"]:
        changes = entry.get("changes") if isinstance(entry, dict) else None
        for change in changes if isinstance(changes, list) else ():
            value = change.get("value") if isinstance(change, dict) else None
            if isinstance(value, dict):
                messages += len(value["messages"]) if isinstance(value.get("messages"), list) else 0
                found = value["statuses"] if isinstance(value.get("statuses"), list) else ()
                statuses += len(found)
                news += sum(1 for status in found if not _recorded_by_the_send(status))
                templates += change.get("field") in TEMPLATE_FIELDS
    return WebhookSummary(text=text, messages=messages, statuses=statuses, templates=templates, news=news)
