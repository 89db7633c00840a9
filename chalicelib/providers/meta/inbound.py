"""Webhooks from Meta: the subscription handshake, the signature, and the payload as normalised events."""
from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from chalicelib.providers.base import (
    InboundMessage,
    Location,
    Media,
    NotAWebhook,
    Reply,
    StatusError,
    StatusUpdate,
    WebhookBatch,
)
from chalicelib.providers.meta.errors import classify
from chalicelib.providers.meta.wire import dict_, int_, list_, number, str_

logger = logging.getLogger(__name__)

PROVIDER_NAME = "meta"
_DIGITS = re.compile(r"[0-9]{1,20}")
_UNIX_SECONDS = re.compile(r"[0-9]{1,12}")
_SIGNATURE = re.compile(r"sha256=([0-9a-fA-F]{64})")
_STATUSES = frozenset({"sent", "delivered", "read", "failed", "played"})


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


def parse(raw_body: bytes) -> WebhookBatch:
    """The events of a verified webhook body; NotAWebhook when it is not a WhatsApp webhook."""
    batch = WebhookBatch()
    for entry in _load_entries(raw_body):
        changes = dict_(entry).get("changes")
        if not isinstance(changes, list):
            logger.info("skipped an entry without a changes list")
            batch.skipped += 1
            continue
        for change in changes:
            _parse_change(batch, change)
    return batch


def _label(value: Any) -> str:
    """A value safe to put in a log line: a short printable string, or '?'."""
    if isinstance(value, str) and len(value) <= 40 and value.isprintable():
        return value
    return "?"


def _phone(digits: Any) -> str | None:
    """'+<digits>' when Meta gave a plain digit string (a wa_id), else None."""
    if isinstance(digits, str) and _DIGITS.fullmatch(digits):
        return "+" + digits
    return None


def _timestamp(value: Any) -> datetime | None:
    if isinstance(value, str) and _UNIX_SECONDS.fullmatch(value):
        seconds = int(value)
    elif int_(value) is not None:
        seconds = value
    else:
        return None
    try:
        return datetime.fromtimestamp(seconds, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None


# ---- inbound content, one reader per supported message type ------------------------------

def _text_content(message: dict) -> dict | None:
    body = str_(dict_(message.get("text")).get("body"))
    return None if body is None else {"kind": "text", "text": body}


def _image_content(message: dict) -> dict | None:
    image = dict_(message.get("image"))
    media_id = str_(image.get("id"))
    if not media_id:
        return None
    media = Media(media_id=media_id, mime_type=str_(image.get("mime_type")),
                  sha256=str_(image.get("sha256")), caption=str_(image.get("caption")),
                  url=str_(image.get("url")))
    return {"kind": "image", "media": media}


def _location_content(message: dict) -> dict | None:
    where = dict_(message.get("location"))
    latitude, longitude = number(where.get("latitude")), number(where.get("longitude"))
    if latitude is None or longitude is None:
        return None
    if not (-90.0 <= latitude <= 90.0 and -180.0 <= longitude <= 180.0):
        return None  # not a point on Earth: stored, it would break every distance check of the comune
    location = Location(latitude=latitude, longitude=longitude,
                        name=str_(where.get("name")), address=str_(where.get("address")))
    return {"kind": "location", "location": location}


def _reply_content(reply_id: Any, title: Any) -> dict | None:
    reply_id = str_(reply_id)
    if not reply_id:
        return None
    return {"kind": "reply", "reply": Reply(id=reply_id, title=str_(title))}


def _interactive_content(message: dict) -> dict | None:
    interactive = dict_(message.get("interactive"))
    subtype = interactive.get("type")
    if subtype not in ("button_reply", "list_reply"):
        return None
    tapped = dict_(interactive.get(subtype))
    return _reply_content(tapped.get("id"), tapped.get("title"))


def _button_content(message: dict) -> dict | None:
    button = dict_(message.get("button"))
    return _reply_content(button.get("payload"), button.get("text"))


# Types that are not something a citizen said to us: no answer is due.
_SILENT_TYPES = frozenset({"reaction", "system", "request_welcome", "ephemeral", "errors", "edit", "revoke"})


def _unsupported_content(kind: Any) -> dict | None:
    """Audio, video, documents, stickers, contacts...: kept as 'unsupported' so the citizen can be told."""
    kind = str_(kind)
    if not kind or kind in _SILENT_TYPES:
        return None
    return {"kind": "unsupported", "original_type": kind[:40]}


_CONTENT_READERS: dict[str, Callable[[dict], dict | None]] = {
    "text": _text_content,
    "image": _image_content,
    "location": _location_content,
    "interactive": _interactive_content,
    "button": _button_content,
}


# ---- senders, messages and statuses ------------------------------------------------------

def _agrees(contact: dict, wa_id: str | None, user_id: str | None) -> bool:
    """False when the contact names a different wa_id or user id than the message does."""
    pairs = ((wa_id, contact.get("wa_id")), (user_id, contact.get("user_id")))
    return all(ours is None or theirs is None or ours == theirs for ours, theirs in pairs)


def _contact_for(contacts: list, wa_id: str | None, user_id: str | None) -> dict:
    """The contacts[] entry describing the sender: the one sharing an id, or the only one."""
    fitting = [c for c in contacts if isinstance(c, dict) and _agrees(c, wa_id, user_id)]
    for contact in fitting:
        if (wa_id and contact.get("wa_id") == wa_id) or (
                user_id and contact.get("user_id") == user_id):
            return contact
    return fitting[0] if len(contacts) == 1 and fitting else {}


def _parse_message(message: Any, channel_id: str, contacts: list) -> InboundMessage | None:
    if not isinstance(message, dict):
        logger.info("skipped a message that is not an object")
        return None
    kind = message.get("type")
    reader = _CONTENT_READERS.get(kind) if isinstance(kind, str) else None
    content = reader(message) if reader else _unsupported_content(kind)
    if content is None:
        logger.info("skipped message of type %s", _label(kind))
        return None
    message_id = str_(message.get("id"))
    timestamp = _timestamp(message.get("timestamp"))
    if not message_id or timestamp is None:
        logger.info("skipped message of type %s without a valid id or timestamp", kind)
        return None
    wa_id = str_(message.get("from"))
    contact = _contact_for(contacts, wa_id, str_(message.get("from_user_id")))
    sender_phone = _phone(wa_id)
    sender_user_id = str_(message.get("from_user_id")) or str_(contact.get("user_id"))
    if sender_phone is None and sender_user_id is None:
        logger.info("skipped message of type %s without a sender", kind)
        return None
    return InboundMessage(
        provider=PROVIDER_NAME, channel_id=channel_id, message_id=message_id, timestamp=timestamp,
        sender_phone=sender_phone, sender_user_id=sender_user_id,
        profile_name=str_(dict_(contact.get("profile")).get("name")),
        context_message_id=str_(dict_(message.get("context")).get("id")), **content)


def _status_error(error: dict) -> StatusError:
    return StatusError(code=int_(error.get("code")), title=str_(error.get("title")),
                       message=str_(error.get("message")),
                       details=str_(dict_(error.get("error_data")).get("details")))


def _parse_status(item: Any, channel_id: str) -> StatusUpdate | None:
    if not isinstance(item, dict):
        logger.info("skipped a status that is not an object")
        return None
    status = str_(item.get("status"))
    if status not in _STATUSES:
        logger.info("skipped status %s", _label(status))
        return None
    message_id = str_(item.get("id"))
    timestamp = _timestamp(item.get("timestamp"))
    if not message_id or timestamp is None:
        logger.info("skipped status %s without a valid id or timestamp", status)
        return None
    return StatusUpdate(
        provider=PROVIDER_NAME, channel_id=channel_id, message_id=message_id, status=status,
        timestamp=timestamp, recipient_phone=_phone(item.get("recipient_id")),
        recipient_user_id=str_(item.get("recipient_user_id")),
        callback_data=str_(item.get("biz_opaque_callback_data")),
        errors=[_status_error(e) for e in list_(item.get("errors")) if isinstance(e, dict)])


def _collect(batch: WebhookBatch, items: Any, parse: Callable[[Any], Any], into: list) -> None:
    """Parse each item into `into`; count what is unsupported or malformed as skipped."""
    if items is not None and not isinstance(items, list):
        logger.info("skipped a messages or statuses field that is not a list")
        batch.skipped += 1
    for item in list_(items):
        try:
            event = parse(item)
        except (ValueError, TypeError):  # pydantic refused a field the readers let through
            logger.info("skipped a malformed item")
            event = None
        if event is None:
            batch.skipped += 1
        else:
            into.append(event)


def _log_value_errors(batch: WebhookBatch, value: dict) -> None:
    """Account-level errors Meta pushes in value.errors[] (e.g. an async 130429)."""
    for error in list_(value.get("errors")):
        code = int_(dict_(error).get("code"))
        logger.warning("webhook reported error code %s (%s)", code, classify(None, code).value)
        batch.skipped += 1


def _parse_change(batch: WebhookBatch, change: Any) -> None:
    change = dict_(change)
    if change.get("field") != "messages":
        logger.info("skipped webhook field %s", _label(change.get("field")))
        batch.skipped += 1
        return
    value = dict_(change.get("value"))
    channel_id = str_(dict_(value.get("metadata")).get("phone_number_id"))
    if not channel_id:
        logger.info("skipped a messages change without metadata.phone_number_id")
        batch.skipped += 1
        return
    contacts = list_(value.get("contacts"))
    _collect(batch, value.get("messages"),
             lambda m: _parse_message(m, channel_id, contacts), batch.messages)
    _collect(batch, value.get("statuses"), lambda s: _parse_status(s, channel_id), batch.statuses)
    _log_value_errors(batch, value)


def _load_entries(raw_body: bytes) -> list:
    """The envelope's entry[] list; NotAWebhook for anything that is not a WhatsApp webhook."""
    try:
        payload = json.loads(raw_body)
    except (ValueError, TypeError, RecursionError):
        raise NotAWebhook("body is not JSON") from None
    if not isinstance(payload, dict):
        raise NotAWebhook("body is not a JSON object")
    if payload.get("object") != "whatsapp_business_account":
        raise NotAWebhook("object is not whatsapp_business_account")
    entries = payload.get("entry")
    if not isinstance(entries, list):
        raise NotAWebhook("entry is not a list")
    return entries
