"""The Meta WhatsApp Cloud API provider: webhook handshake, signatures, parsing, sends and media."""
from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import logging
import math
import re
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from http.client import HTTPException, RemoteDisconnected
from typing import Any

from chalicelib.providers.base import (
    Buttons,
    Choice,
    ChoiceList,
    Content,
    ErrorClass,
    Image,
    InboundMessage,
    Location,
    Media,
    MediaFile,
    NotAWebhook,
    ProviderError,
    Recipient,
    Reply,
    StatusError,
    StatusUpdate,
    Template,
    Text,
    WebhookBatch,
)

logger = logging.getLogger(__name__)

PROVIDER_NAME = "meta"
_DIGITS = re.compile(r"[0-9]{1,20}")
_UNIX_SECONDS = re.compile(r"[0-9]{1,12}")
_SIGNATURE = re.compile(r"sha256=([0-9a-fA-F]{64})")
_STATUSES = frozenset({"sent", "delivered", "read", "failed", "played"})

# Meta's length limits for interactive messages (characters).
_BUTTON_TITLE_MAX = 20
_LIST_BUTTON_MAX = 20
_SECTION_TITLE_MAX = 24
_ROW_TITLE_MAX = 24
_ROW_DESCRIPTION_MAX = 72
_FOOTER_MAX = 60
_MAX_BUTTONS = 3
_MAX_ROWS = 10

# ---- error classification ----------------------------------------------------------------

_CODE_CLASSES: dict[int, ErrorClass] = {
    **{code: ErrorClass.FATAL for code in range(200, 300)},  # API permission errors
    # throughput, pair rate, WABA rate and app-level Graph rate limits
    130429: ErrorClass.RATE_LIMITED,
    131056: ErrorClass.RATE_LIMITED,
    80007: ErrorClass.RATE_LIMITED,
    4: ErrorClass.RATE_LIMITED,
    613: ErrorClass.RATE_LIMITED,
    # unknown error, service unavailable, maintenance, API unknown / down
    131000: ErrorClass.TRANSIENT,
    131016: ErrorClass.TRANSIENT,
    131057: ErrorClass.TRANSIENT,
    1: ErrorClass.TRANSIENT,
    2: ErrorClass.TRANSIENT,
    # media download/processing failed on Meta's side (the link, the upload): may work on a second try
    131053: ErrorClass.MEDIA,
    # more than 24 h since the user's last message
    131047: ErrorClass.WINDOW_CLOSED,
    # undeliverable, marketing stopped, marketing cap, recipient is sender, experiment group,
    # BSUID not supported for this message, not in the test number's allowed list
    131026: ErrorClass.RECIPIENT,
    131050: ErrorClass.RECIPIENT,
    131049: ErrorClass.RECIPIENT,
    131021: ErrorClass.RECIPIENT,
    130472: ErrorClass.RECIPIENT,
    131062: ErrorClass.RECIPIENT,
    131030: ErrorClass.RECIPIENT,
    100: ErrorClass.RECIPIENT,  # "(#100) Invalid parameter": what a malformed number gets
    # token, access, template, policy block, auth, permission, capability, locked, payment
    190: ErrorClass.FATAL,
    131005: ErrorClass.FATAL,
    132000: ErrorClass.FATAL,
    132001: ErrorClass.FATAL,
    368: ErrorClass.FATAL,
    0: ErrorClass.FATAL,
    10: ErrorClass.FATAL,
    3: ErrorClass.FATAL,
    131031: ErrorClass.FATAL,
    131042: ErrorClass.FATAL,
    132015: ErrorClass.FATAL,
    132016: ErrorClass.FATAL,
}

# HTTP statuses that decide the class when Meta's code does not: a bad token or a refused
# permission stops the channel whatever the body says.
_STATUS_CLASSES: dict[int, ErrorClass] = {
    401: ErrorClass.FATAL,
    403: ErrorClass.FATAL,
}


def classify(http_status: int | None, code: int | None) -> ErrorClass:
    """The class of a Meta error, from the HTTP status (None for webhook errors) and error code."""
    if http_status == 429:
        return ErrorClass.RATE_LIMITED
    if code is not None and code in _CODE_CLASSES:
        return _CODE_CLASSES[code]
    if http_status in _STATUS_CLASSES:
        return _STATUS_CLASSES[http_status]
    if http_status is not None and 400 <= http_status < 500:
        return ErrorClass.RECIPIENT
    if http_status is None and code is not None:
        return ErrorClass.RECIPIENT  # an unknown code on a failed-status webhook
    return ErrorClass.TRANSIENT  # 5xx, odd statuses, no status and no code


# ---- small readers for untrusted JSON ----------------------------------------------------

def _str(value: Any) -> str | None:
    """The value when it is a string that can be stored as UTF-8 (no lone surrogates)."""
    if not isinstance(value, str):
        return None
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return None
    return value


def _dict(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list:
    return value if isinstance(value, list) else []


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        number = float(value)
    except OverflowError:
        return None
    return number if math.isfinite(number) else None


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
    elif _int(value) is not None:
        seconds = value
    else:
        return None
    try:
        return datetime.fromtimestamp(seconds, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None


# ---- inbound content, one reader per supported message type ------------------------------

def _text_content(message: dict) -> dict | None:
    body = _str(_dict(message.get("text")).get("body"))
    return None if body is None else {"kind": "text", "text": body}


def _image_content(message: dict) -> dict | None:
    image = _dict(message.get("image"))
    media_id = _str(image.get("id"))
    if not media_id:
        return None
    media = Media(media_id=media_id, mime_type=_str(image.get("mime_type")),
                  sha256=_str(image.get("sha256")), caption=_str(image.get("caption")),
                  url=_str(image.get("url")))
    return {"kind": "image", "media": media}


def _location_content(message: dict) -> dict | None:
    where = _dict(message.get("location"))
    latitude, longitude = _number(where.get("latitude")), _number(where.get("longitude"))
    if latitude is None or longitude is None:
        return None
    if not (-90.0 <= latitude <= 90.0 and -180.0 <= longitude <= 180.0):
        return None  # not a point on Earth: stored, it would break every distance check of the comune
    location = Location(latitude=latitude, longitude=longitude,
                        name=_str(where.get("name")), address=_str(where.get("address")))
    return {"kind": "location", "location": location}


def _reply_content(reply_id: Any, title: Any) -> dict | None:
    reply_id = _str(reply_id)
    if not reply_id:
        return None
    return {"kind": "reply", "reply": Reply(id=reply_id, title=_str(title))}


def _interactive_content(message: dict) -> dict | None:
    interactive = _dict(message.get("interactive"))
    subtype = interactive.get("type")
    if subtype not in ("button_reply", "list_reply"):
        return None
    tapped = _dict(interactive.get(subtype))
    return _reply_content(tapped.get("id"), tapped.get("title"))


def _button_content(message: dict) -> dict | None:
    button = _dict(message.get("button"))
    return _reply_content(button.get("payload"), button.get("text"))


# Types that are not something a citizen said to us: no answer is due.
_SILENT_TYPES = frozenset({"reaction", "system", "request_welcome", "ephemeral", "errors", "edit", "revoke"})


def _unsupported_content(kind: Any) -> dict | None:
    """Audio, video, documents, stickers, contacts...: kept as 'unsupported' so the citizen can be told."""
    kind = _str(kind)
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
    message_id = _str(message.get("id"))
    timestamp = _timestamp(message.get("timestamp"))
    if not message_id or timestamp is None:
        logger.info("skipped message of type %s without a valid id or timestamp", kind)
        return None
    wa_id = _str(message.get("from"))
    contact = _contact_for(contacts, wa_id, _str(message.get("from_user_id")))
    sender_phone = _phone(wa_id)
    sender_user_id = _str(message.get("from_user_id")) or _str(contact.get("user_id"))
    if sender_phone is None and sender_user_id is None:
        logger.info("skipped message of type %s without a sender", kind)
        return None
    return InboundMessage(
        provider=PROVIDER_NAME, channel_id=channel_id, message_id=message_id, timestamp=timestamp,
        sender_phone=sender_phone, sender_user_id=sender_user_id,
        profile_name=_str(_dict(contact.get("profile")).get("name")),
        context_message_id=_str(_dict(message.get("context")).get("id")), **content)


def _status_error(error: dict) -> StatusError:
    return StatusError(code=_int(error.get("code")), title=_str(error.get("title")),
                       message=_str(error.get("message")),
                       details=_str(_dict(error.get("error_data")).get("details")))


def _parse_status(item: Any, channel_id: str) -> StatusUpdate | None:
    if not isinstance(item, dict):
        logger.info("skipped a status that is not an object")
        return None
    status = _str(item.get("status"))
    if status not in _STATUSES:
        logger.info("skipped status %s", _label(status))
        return None
    message_id = _str(item.get("id"))
    timestamp = _timestamp(item.get("timestamp"))
    if not message_id or timestamp is None:
        logger.info("skipped status %s without a valid id or timestamp", status)
        return None
    return StatusUpdate(
        provider=PROVIDER_NAME, channel_id=channel_id, message_id=message_id, status=status,
        timestamp=timestamp, recipient_phone=_phone(item.get("recipient_id")),
        recipient_user_id=_str(item.get("recipient_user_id")),
        callback_data=_str(item.get("biz_opaque_callback_data")),
        errors=[_status_error(e) for e in _list(item.get("errors")) if isinstance(e, dict)])


def _collect(batch: WebhookBatch, items: Any, parse: Callable[[Any], Any], into: list) -> None:
    """Parse each item into `into`; count what is unsupported or malformed as skipped."""
    if items is not None and not isinstance(items, list):
        logger.info("skipped a messages or statuses field that is not a list")
        batch.skipped += 1
    for item in _list(items):
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
    for error in _list(value.get("errors")):
        code = _int(_dict(error).get("code"))
        logger.warning("webhook reported error code %s (%s)", code, classify(None, code).value)
        batch.skipped += 1


def _parse_change(batch: WebhookBatch, change: Any) -> None:
    change = _dict(change)
    if change.get("field") != "messages":
        logger.info("skipped webhook field %s", _label(change.get("field")))
        batch.skipped += 1
        return
    value = _dict(change.get("value"))
    channel_id = _str(_dict(value.get("metadata")).get("phone_number_id"))
    if not channel_id:
        logger.info("skipped a messages change without metadata.phone_number_id")
        batch.skipped += 1
        return
    contacts = _list(value.get("contacts"))
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


# ---- outbound bodies, one builder per content kind ---------------------------------------

def _footer(text: str | None) -> dict:
    return {"footer": {"text": text[:_FOOTER_MAX]}} if text else {}


def _text_body(content: Text) -> dict:
    return {"type": "text", "text": {"body": content.body, "preview_url": content.preview_url}}


def _template_components(content: Template) -> list[dict]:
    components: list[dict] = []
    if content.header_image_link:
        components.append({"type": "header", "parameters": [
            {"type": "image", "image": {"link": content.header_image_link}}]})
    if content.body_params:
        components.append({"type": "body", "parameters": [
            {"type": "text", "text": param} for param in content.body_params]})
    for index, payload in enumerate(content.button_payloads):
        components.append({"type": "button", "sub_type": "quick_reply", "index": str(index),
                           "parameters": [{"type": "payload", "payload": payload}]})
    return components


def _template_body(content: Template) -> dict:
    template: dict[str, Any] = {"name": content.name, "language": {"code": content.language}}
    components = _template_components(content)
    if components:
        template["components"] = components
    return {"type": "template", "template": template}


def _image_body(content: Image) -> dict:
    if content.media_id:
        image: dict[str, str] = {"id": content.media_id}
    elif content.link:
        image = {"link": content.link}
    else:
        raise ProviderError(ErrorClass.RECIPIENT, None, "image has neither media_id nor link")
    if content.caption:
        image["caption"] = content.caption
    return {"type": "image", "image": image}


def _buttons_body(content: Buttons) -> dict:
    buttons = [{"type": "reply", "reply": {"id": b.id, "title": b.title[:_BUTTON_TITLE_MAX]}}
               for b in content.buttons[:_MAX_BUTTONS]]
    interactive = {"type": "button", "body": {"text": content.body},
                   "action": {"buttons": buttons}, **_footer(content.footer)}
    return {"type": "interactive", "interactive": interactive}


def _list_row(choice: Choice) -> dict:
    row = {"id": choice.id, "title": choice.title[:_ROW_TITLE_MAX]}
    if choice.description:
        row["description"] = choice.description[:_ROW_DESCRIPTION_MAX]
    return row


def _list_body(content: ChoiceList) -> dict:
    section: dict[str, Any] = {"rows": [_list_row(c) for c in content.rows[:_MAX_ROWS]]}
    if content.section_title:
        section = {"title": content.section_title[:_SECTION_TITLE_MAX], **section}
    action = {"button": content.button[:_LIST_BUTTON_MAX], "sections": [section]}
    interactive = {"type": "list", "body": {"text": content.body}, "action": action,
                   **_footer(content.footer)}
    return {"type": "interactive", "interactive": interactive}


_BODY_BUILDERS: dict[str, Callable[[Any], dict]] = {
    "text": _text_body,
    "template": _template_body,
    "image": _image_body,
    "buttons": _buttons_body,
    "list": _list_body,
}


def _address(recipient: Recipient) -> dict:
    if recipient.phone:
        return {"to": recipient.phone}
    if recipient.user_id:
        return {"recipient": recipient.user_id}
    raise ProviderError(ErrorClass.RECIPIENT, None, "recipient has neither phone nor user_id")


# ---- HTTP --------------------------------------------------------------------------------

class _TokenSafeRedirects(urllib.request.HTTPRedirectHandler):
    """Follows redirects, but never carries the bearer token to another host."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        new = super().redirect_request(req, fp, code, msg, headers, newurl)
        old_host = urllib.parse.urlsplit(req.full_url).netloc
        if new is not None and urllib.parse.urlsplit(newurl).netloc != old_host:
            new.remove_header("Authorization")
        return new


def _json_object(raw: bytes) -> dict:
    try:
        payload = json.loads(raw)
    except (ValueError, TypeError, RecursionError):
        return {}
    return _dict(payload)


def _unparseable() -> ProviderError:
    # Meta answered 200 but we cannot tell what happened: never report it as a success.
    return ProviderError(ErrorClass.TRANSIENT, None, "unparseable response", http_status=200, ambiguous=True)


def _message_id(raw: bytes) -> str:
    messages = _list(_json_object(raw).get("messages"))
    message_id = _str(_dict(messages[0]).get("id")) if messages else None
    if not message_id:
        raise _unparseable()
    return message_id


def _retry_after(value: str | None) -> float | None:
    try:
        seconds = float(value) if value is not None else None
    except ValueError:
        return None
    return seconds if seconds is not None and math.isfinite(seconds) and seconds >= 0 else None


class MetaProvider:
    """WhatsApp through Meta's Cloud API (Graph API)."""

    name = PROVIDER_NAME

    def __init__(self, app_secret: str, verify_token: str, access_token: str,
                 graph_url: str = "https://graph.facebook.com", graph_version: str = "v25.0",
                 timeout: float = 10.0):
        self._app_secret = app_secret
        self._verify_token = verify_token
        self._access_token = access_token
        self._base_url = f"{graph_url.rstrip('/')}/{graph_version}"
        self._timeout = timeout
        self._opener = urllib.request.build_opener(_TokenSafeRedirects())
        self._local = threading.local()  # per thread: kept-alive connections for sends

    # ---- webhook ---------------------------------------------------------------------

    def verify_challenge(self, params: Mapping[str, str] | None) -> str | None:
        params = params or {}
        token, challenge = params.get("hub.verify_token"), params.get("hub.challenge")
        if params.get("hub.mode") != "subscribe" or not self._verify_token:
            return None
        if not isinstance(token, str) or not isinstance(challenge, str):
            return None
        if not hmac.compare_digest(token.encode(), self._verify_token.encode()):
            return None
        return challenge

    def verify_signature(self, raw_body: bytes, headers: Mapping[str, str]) -> bool:
        header = next((v for k, v in headers.items()
                       if isinstance(k, str) and k.lower() == "x-hub-signature-256"), None)
        match = _SIGNATURE.fullmatch(header) if isinstance(header, str) else None
        if match is None or not self._app_secret or not isinstance(raw_body, bytes):
            return False
        expected = hmac.new(self._app_secret.encode(), raw_body, hashlib.sha256).hexdigest()
        return hmac.compare_digest(expected, match.group(1).lower())

    def parse_webhook(self, raw_body: bytes) -> WebhookBatch:
        batch = WebhookBatch()
        for entry in _load_entries(raw_body):
            changes = _dict(entry).get("changes")
            if not isinstance(changes, list):
                logger.info("skipped an entry without a changes list")
                batch.skipped += 1
                continue
            for change in changes:
                _parse_change(batch, change)
        return batch

    # ---- outbound --------------------------------------------------------------------

    def send(self, channel_id: str, recipient: Recipient, content: Content,
             callback_data: str | None = None) -> str:
        body: dict[str, Any] = {"messaging_product": "whatsapp", "recipient_type": "individual",
                                **_address(recipient), **_BODY_BUILDERS[content.kind](content)}
        if callback_data is not None:
            body["biz_opaque_callback_data"] = callback_data
        return _message_id(self._post(self._messages_url(channel_id), body))

    def mark_read(self, channel_id: str, message_id: str) -> None:
        body = {"messaging_product": "whatsapp", "status": "read", "message_id": message_id}
        self._call("POST", self._messages_url(channel_id), body)

    def fetch_media(self, channel_id: str, media_id: str) -> MediaFile:
        query = urllib.parse.urlencode({"phone_number_id": channel_id})
        media_url = f"{self._base_url}/{urllib.parse.quote(media_id, safe='')}?{query}"
        raw, _ = self._call("GET", media_url)
        info = _json_object(raw)
        url = _str(info.get("url"))
        if not url or urllib.parse.urlsplit(url).scheme not in ("http", "https"):
            raise _unparseable()
        content, content_type = self._call("GET", url)
        return MediaFile(content=content, mime_type=_str(info.get("mime_type")) or content_type)

    def _messages_url(self, channel_id: str) -> str:
        return f"{self._base_url}/{urllib.parse.quote(channel_id, safe='')}/messages"

    def _call(self, method: str, url: str, body: dict | None = None) -> tuple[bytes, str | None]:
        """One authenticated request; the response bytes and Content-Type, or ProviderError."""
        self._check_token()
        headers = {"Authorization": f"Bearer {self._access_token}"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        request = urllib.request.Request(url, data=data, headers=headers, method=method)
        try:
            with self._opener.open(request, timeout=self._timeout) as response:
                return response.read(), response.headers.get("Content-Type")
        except urllib.error.HTTPError as error:
            raise self._http_error(error) from None
        except (OSError, HTTPException) as error:  # URLError, timeouts, refused/reset connections
            reason = getattr(error, "reason", None) or error
            raise ProviderError(ErrorClass.TRANSIENT, None,
                                self._redact(f"connection failed: {reason}")) from None

    def _post(self, url: str, body: dict) -> bytes:
        """A JSON POST on a kept-alive connection of this thread (sends are the hot path: no new
        connection, and in production no new TLS handshake, per message)."""
        self._check_token()
        parts = urllib.parse.urlsplit(url)
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        data = json.dumps(body).encode()
        headers = {"Authorization": f"Bearer {self._access_token}", "Content-Type": "application/json"}
        for reused in self._connections_for(parts.scheme, parts.netloc):
            connection = self._local.connections[(parts.scheme, parts.netloc)]
            sent = False
            try:
                connection.request("POST", target, body=data, headers=headers)
                sent = True
                response = connection.getresponse()
                raw = response.read()
            except (RemoteDisconnected, BrokenPipeError, ConnectionResetError) as error:
                self._drop(parts.scheme, parts.netloc)
                if reused:
                    continue  # the server had closed the idle connection: the request never arrived
                raise ProviderError(ErrorClass.TRANSIENT, None, self._redact(f"connection failed: {error}"),
                                    ambiguous=sent) from None
            except (OSError, HTTPException) as error:  # a timeout waiting for the answer among them
                self._drop(parts.scheme, parts.netloc)
                raise ProviderError(ErrorClass.TRANSIENT, None, self._redact(f"connection failed: {error}"),
                                    ambiguous=sent) from None
            if response.status >= 300:
                raise self._error(response.status, raw, response.getheader("Retry-After"))
            return raw
        raise ProviderError(ErrorClass.TRANSIENT, None, "connection failed")

    def _check_token(self) -> None:
        """Fail closed: a missing access token (a secret not configured) sends nothing at all."""
        if not self._access_token:
            raise ProviderError(ErrorClass.FATAL, None, "no access token configured: nothing was sent")

    def _connections_for(self, scheme: str, netloc: str):
        """Yields True for a kept-alive connection, then False for a fresh one."""
        connections = self._local.__dict__.setdefault("connections", {})
        if (scheme, netloc) in connections:
            yield True
        factory = http.client.HTTPSConnection if scheme == "https" else http.client.HTTPConnection
        connections[(scheme, netloc)] = factory(netloc, timeout=self._timeout)
        yield False

    def _drop(self, scheme: str, netloc: str) -> None:
        connection = self._local.__dict__.get("connections", {}).pop((scheme, netloc), None)
        if connection is not None:
            connection.close()

    def _http_error(self, error: urllib.error.HTTPError) -> ProviderError:
        """A ProviderError from Meta's error body and the HTTP status."""
        try:
            raw = error.read()
        except (OSError, HTTPException):
            raw = b""
        finally:
            error.close()
        return self._error(error.code, raw, (error.headers or {}).get("Retry-After"))

    def _error(self, status: int, raw: bytes, retry_after: str | None) -> ProviderError:
        details = _dict(_json_object(raw).get("error"))
        code = _int(details.get("code"))
        message = _str(details.get("message")) or f"HTTP {status}"
        extra = _str(_dict(details.get("error_data")).get("details"))
        if extra:
            message = f"{message}: {extra}"
        return ProviderError(classify(status, code), code, self._redact(message), http_status=status,
                             retry_after=_retry_after(retry_after))

    def _redact(self, text: str) -> str:
        """The text without the access token, should anything ever echo it."""
        return text.replace(self._access_token, "***") if self._access_token else text
