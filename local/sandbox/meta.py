"""Meta Cloud API shapes for the sandbox: ids, signatures, error bodies, send validation, webhook payloads."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
import time
from typing import Any

TEXT_MAX = 4096
CAPTION_MAX = 1024
INTERACTIVE_BODY_MAX = 1024
FOOTER_MAX = 60
BUTTON_TITLE_MAX = 20
BUTTON_ID_MAX = 256
LIST_ROWS_MAX = 10
LIST_SECTIONS_MAX = 10
ROW_TITLE_MAX = 24
ROW_ID_MAX = 200
ROW_DESCRIPTION_MAX = 72
SEND_TYPES = ("text", "template", "image", "interactive")

_PHONE_RE = re.compile(r"^\+?[\d\s\-().]+$")

# Titles as Meta writes them (support/error-codes); the message is "(#<code>) <title>".
ERROR_TITLES: dict[int, str] = {
    0: "AuthException",
    1: "API Unknown",
    2: "API Service",
    4: "Application request limit reached",
    10: "Permission denied",
    100: "Invalid parameter",
    190: "Invalid OAuth access token - Cannot parse access token",
    368: "Temporarily blocked for policies violations",
    613: "Calls to this api have exceeded the rate limit",
    2500: "Unknown path components",
    2635: "You are calling a deprecated version of the Graph API",
    80007: "Rate limit issues",
    130429: "Rate limit hit",
    130472: "User's number is part of an experiment",
    131000: "Something went wrong",
    131005: "Access denied",
    131008: "Required parameter is missing",
    131009: "Parameter value is not valid",
    131016: "Service unavailable",
    131021: "Recipient cannot be sender",
    131026: "Message undeliverable",
    131030: "Recipient phone number not in allowed list",
    131031: "Business Account locked",
    131042: "Business eligibility payment issue",
    131047: "Re-engagement message",
    131048: "Spam rate limit hit",
    131049: "This message was not delivered to maintain healthy ecosystem engagement",
    131050: "User has stopped marketing messages",
    131051: "Unsupported message type",
    131053: "Media upload error",
    131056: "(Business Account, Consumer Account) pair rate limit hit",
    131057: "Account in maintenance mode",
    132000: "Number of parameters does not match the expected number of params",
    132001: "Template name does not exist in the translation",
    132015: "Template is Paused",
    132016: "Template is Disabled",
}

# HTTP status Meta answers per code; everything else is 400.
ERROR_HTTP: dict[int, int] = {
    0: 401, 190: 401,
    10: 403, 368: 403, 131005: 403, 131031: 403,
    131000: 500, 131016: 500, 131057: 500,
    2: 503,
    132001: 404,
}


# ---- ids, numbers, signatures ----------------------------------------------------------------

def digits_only(value: str) -> str:
    return "".join(ch for ch in value if ch.isdigit())


def looks_like_phone(value: str) -> bool:
    return bool(_PHONE_RE.match(value.strip())) and len(digits_only(value)) >= 6


def recipient_key(value: str) -> str:
    """One key per recipient: digits for phone numbers, the id itself for a BSUID."""
    value = value.strip()
    return digits_only(value) if looks_like_phone(value) else value


def new_wamid() -> str:
    return "wamid.HBgM" + base64.b64encode(secrets.token_bytes(27)).decode()


def new_media_id() -> str:
    return str(secrets.randbelow(9 * 10**15) + 10**15)


def new_fbtrace_id() -> str:
    return "A" + secrets.token_urlsafe(16)[:22]


def unix_seconds(at: float | None = None) -> str:
    return str(int(at if at is not None else time.time()))


def sign_body(raw: bytes, app_secret: str) -> str:
    """The X-Hub-Signature-256 value: sha256=<hex HMAC-SHA256 of the raw body>."""
    return "sha256=" + hmac.new(app_secret.encode(), raw, hashlib.sha256).hexdigest()


def sha256_b64(data: bytes) -> str:
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


def waba_id_for(tenant: str) -> str:
    """A stable fake WhatsApp Business Account id per tenant."""
    digest = hashlib.sha256(tenant.encode()).hexdigest()
    return "1" + str(int(digest, 16))[:14]


# ---- errors ------------------------------------------------------------------------------

class GraphError(Exception):
    """A Graph API error, rendered as Meta's error body."""

    def __init__(self, code: int, details: str | None = None, *, http_status: int | None = None,
                 err_type: str = "OAuthException", message: str | None = None,
                 subcode: int | None = None, headers: dict[str, str] | None = None):
        title = ERROR_TITLES.get(code, "Unknown error")
        self.code = code
        self.message = message or (title if code == 190 else f"(#{code}) {title}")
        self.details = details or title
        self.http_status = http_status or ERROR_HTTP.get(code, 400)
        self.err_type = err_type
        self.subcode = subcode
        self.headers = headers or {}
        super().__init__(self.message)

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {
            "message": self.message,
            "type": self.err_type,
            "code": self.code,
            "error_data": {"messaging_product": "whatsapp", "details": self.details},
        }
        if self.subcode is not None:
            error["error_subcode"] = self.subcode
        error["fbtrace_id"] = new_fbtrace_id()
        return {"error": error}


def missing(name: str) -> GraphError:
    return GraphError(131008, f"The parameter {name} is required.")


def invalid(details: str) -> GraphError:
    return GraphError(131009, details)


def unknown_object(object_id: str, method: str = "post") -> GraphError:
    message = (f"Unsupported {method} request. Object with ID '{object_id}' does not exist, cannot be "
               "loaded due to missing permissions, or does not support this operation. Please read "
               "the Graph API documentation at https://developers.facebook.com/docs/graph-api")
    return GraphError(100, message, err_type="GraphMethodException", message=message, subcode=33)


# ---- send validation ---------------------------------------------------------------------

def is_mark_read(body: dict[str, Any]) -> bool:
    return body.get("status") == "read" and "message_id" in body and "type" not in body


def validate_mark_read(body: dict[str, Any]) -> None:
    if body.get("messaging_product") != "whatsapp":
        raise missing("messaging_product") if "messaging_product" not in body else invalid(
            'messaging_product must be "whatsapp"')
    if not isinstance(body.get("message_id"), str) or not body["message_id"]:
        raise invalid("message_id must be a non-empty string")


def validate_send(body: Any) -> None:
    """Raise GraphError for a send body Meta would refuse; return when it would accept it."""
    if not isinstance(body, dict):
        raise GraphError(100, "The request body must be a JSON object")
    if "messaging_product" not in body:
        raise missing("messaging_product")
    if body["messaging_product"] != "whatsapp":
        raise invalid('messaging_product must be "whatsapp"')
    _validate_recipient(body)
    kind = body.get("type", "text")
    if kind not in SEND_TYPES:
        raise GraphError(100, f"Param type must be one of {{{', '.join(t.upper() for t in SEND_TYPES)}}} "
                              f"in the sandbox, got {kind!r}")
    obj = body.get(kind)
    if obj is None:
        raise missing(kind)
    if not isinstance(obj, dict):
        raise invalid(f"The parameter {kind} must be an object")
    _VALIDATORS[kind](obj)
    context = body.get("context")
    if context is not None and not (isinstance(context, dict) and isinstance(context.get("message_id"), str)):
        raise invalid("context.message_id must be a string")


def _validate_recipient(body: dict[str, Any]) -> None:
    to, recipient = body.get("to"), body.get("recipient")
    if to in (None, "") and recipient in (None, ""):
        raise missing("to")
    if to not in (None, ""):
        if not isinstance(to, str) or not looks_like_phone(to):
            raise invalid("The parameter to must be a phone number with its country code")
    if recipient not in (None, "") and not isinstance(recipient, str):
        raise invalid("The parameter recipient must be a string")


def _require_text(obj: dict[str, Any], key: str, where: str, limit: int) -> str:
    value = obj.get(key)
    if value in (None, ""):
        raise missing(f"{where}.{key}")
    if not isinstance(value, str):
        raise invalid(f"{where}.{key} must be a string")
    if len(value) > limit:
        raise invalid(f"{where}.{key} is too long: {len(value)} characters, at most {limit}")
    return value


def _validate_text(obj: dict[str, Any]) -> None:
    _require_text(obj, "body", "text", TEXT_MAX)


def _validate_template(obj: dict[str, Any]) -> None:
    _require_text(obj, "name", "template", 512)
    language = obj.get("language")
    if not isinstance(language, dict):
        raise missing("template.language")
    _require_text(language, "code", "template.language", 20)
    components = obj.get("components", [])
    if not isinstance(components, list) or not all(isinstance(c, dict) for c in components):
        raise invalid("template.components must be a list of objects")


def _validate_image(obj: dict[str, Any]) -> None:
    if not obj.get("id") and not obj.get("link"):
        raise missing("image.id or image.link")
    caption = obj.get("caption")
    if caption is not None and (not isinstance(caption, str) or len(caption) > CAPTION_MAX):
        raise invalid(f"image.caption must be a string of at most {CAPTION_MAX} characters")


def _validate_interactive(obj: dict[str, Any]) -> None:
    kind = obj.get("type")
    if not kind:
        raise missing("interactive.type")
    action = obj.get("action")
    if not isinstance(action, dict):
        raise missing("interactive.action")
    if kind not in ("button", "list"):
        return  # cta_url, location_request_message, flow...: accepted without deeper checks
    body = obj.get("body")
    if not isinstance(body, dict):
        raise missing("interactive.body")
    _require_text(body, "text", "interactive.body", INTERACTIVE_BODY_MAX)
    footer = obj.get("footer")
    if isinstance(footer, dict) and footer.get("text") is not None:
        _require_text(footer, "text", "interactive.footer", FOOTER_MAX)
    if kind == "button":
        _validate_buttons(action)
    else:
        _validate_list(action)


def _validate_buttons(action: dict[str, Any]) -> None:
    buttons = action.get("buttons")
    if not isinstance(buttons, list) or not buttons:
        raise missing("interactive.action.buttons")
    if len(buttons) > 3:
        raise invalid(f"interactive.action.buttons has {len(buttons)} buttons, at most 3")
    titles: set[str] = set()
    for button in buttons:
        reply = button.get("reply") if isinstance(button, dict) else None
        if not isinstance(reply, dict) or button.get("type", "reply") != "reply":
            raise invalid("each button must be {\"type\": \"reply\", \"reply\": {\"id\", \"title\"}}")
        _require_text(reply, "id", "button.reply", BUTTON_ID_MAX)
        title = _require_text(reply, "title", "button.reply", BUTTON_TITLE_MAX)
        if title in titles:
            raise invalid(f"button titles must be unique, {title!r} repeats")
        titles.add(title)


def _validate_list(action: dict[str, Any]) -> None:
    _require_text(action, "button", "interactive.action", BUTTON_TITLE_MAX)
    sections = action.get("sections")
    if not isinstance(sections, list) or not sections:
        raise missing("interactive.action.sections")
    if len(sections) > LIST_SECTIONS_MAX:
        raise invalid(f"interactive.action.sections has {len(sections)} sections, at most {LIST_SECTIONS_MAX}")
    rows = [row for section in sections if isinstance(section, dict)
            for row in (section.get("rows") or [])]
    if not rows:
        raise missing("interactive.action.sections.rows")
    if len(rows) > LIST_ROWS_MAX:
        raise invalid(f"the list has {len(rows)} rows, at most {LIST_ROWS_MAX}")
    for row in rows:
        if not isinstance(row, dict):
            raise invalid("each row must be an object")
        _require_text(row, "id", "row", ROW_ID_MAX)
        _require_text(row, "title", "row", ROW_TITLE_MAX)
        if row.get("description") is not None:
            _require_text(row, "description", "row", ROW_DESCRIPTION_MAX)


_VALIDATORS = {
    "text": _validate_text,
    "template": _validate_template,
    "image": _validate_image,
    "interactive": _validate_interactive,
}


# ---- readable rendering of what the app sent ---------------------------------------------

def render_text(body: dict[str, Any]) -> str:
    """A human-readable rendering of a send body, for the test API and the phone page."""
    kind = body.get("type", "text")
    obj = body.get(kind) if isinstance(body.get(kind), dict) else {}
    if kind == "text":
        return str(obj.get("body", ""))
    if kind == "template":
        return _render_template(obj)
    if kind == "image":
        caption = obj.get("caption") or ""
        source = obj.get("link") or f"media {obj.get('id')}"
        return f"[image {source}] {caption}".strip()
    if kind == "interactive":
        return _render_interactive(obj)
    return json.dumps(obj, ensure_ascii=False)


def _render_template(obj: dict[str, Any]) -> str:
    language = (obj.get("language") or {}).get("code", "")
    params = [_param_text(p) for c in obj.get("components") or [] if isinstance(c, dict)
              for p in c.get("parameters") or [] if isinstance(p, dict)]
    head = f"[template {obj.get('name')} ({language})]"
    return f"{head} {' | '.join(params)}" if params else head


def _param_text(param: dict[str, Any]) -> str:
    kind = param.get("type")
    if kind == "text":
        text = str(param.get("text", ""))
        return f"{param['parameter_name']}={text}" if param.get("parameter_name") else text
    if kind == "payload":
        return f"payload={param.get('payload')}"
    if kind in ("currency", "date_time"):
        return str((param.get(kind) or {}).get("fallback_value", kind))
    return f"[{kind}]"


def _render_interactive(obj: dict[str, Any]) -> str:
    lines = []
    header = obj.get("header") or {}
    if header.get("type") == "text" and header.get("text"):
        lines.append(str(header["text"]))
    lines.append(str((obj.get("body") or {}).get("text", "")))
    options = interactive_options(obj)
    if obj.get("type") == "list":
        lines.append(f"[{(obj.get('action') or {}).get('button', 'menu')}]")
        lines.extend(f"- {option['title']}" for option in options)
    elif options:
        lines.append(" ".join(f"[{option['title']}]" for option in options))
    footer = (obj.get("footer") or {}).get("text")
    if footer:
        lines.append(str(footer))
    return "\n".join(line for line in lines if line)


def interactive_options(obj: dict[str, Any]) -> list[dict[str, str]]:
    action = obj.get("action") or {}
    if obj.get("type") == "button":
        return [{"kind": "button", "id": str(b["reply"].get("id")), "title": str(b["reply"].get("title"))}
                for b in action.get("buttons") or [] if isinstance(b, dict) and isinstance(b.get("reply"), dict)]
    if obj.get("type") == "list":
        return [{"kind": "list", "id": str(row.get("id")), "title": str(row.get("title")),
                 "description": str(row.get("description") or "")}
                for section in action.get("sections") or [] if isinstance(section, dict)
                for row in section.get("rows") or [] if isinstance(row, dict)]
    return []


def message_options(body: dict[str, Any]) -> list[dict[str, str]]:
    """The taps a citizen can make on a sent message: reply buttons, list rows, quick replies."""
    kind = body.get("type")
    if kind == "interactive" and isinstance(body.get("interactive"), dict):
        return interactive_options(body["interactive"])
    if kind == "template" and isinstance(body.get("template"), dict):
        return [{"kind": "quick_reply", "id": str(p.get("payload")), "title": str(p.get("payload"))}
                for c in body["template"].get("components") or []
                if isinstance(c, dict) and c.get("type") == "button" and c.get("sub_type") == "quick_reply"
                for p in c.get("parameters") or [] if isinstance(p, dict) and p.get("type") == "payload"]
    return []


# ---- webhook payloads --------------------------------------------------------------------

def metadata(channel: dict[str, Any]) -> dict[str, str]:
    return {"display_phone_number": digits_only(channel["display_phone_number"]),
            "phone_number_id": channel["phone_number_id"]}


def envelope(changes_by_waba: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """The outer webhook body: one entry per WABA, one `messages` change per value."""
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": waba, "changes": [{"value": value, "field": "messages"} for value in values]}
                  for waba, values in changes_by_waba.items()],
    }


def contact(wa_id: str | None, user_id: str | None, profile_name: str | None) -> dict[str, Any]:
    item: dict[str, Any] = {}
    if profile_name is not None:
        item["profile"] = {"name": profile_name}
    if wa_id:
        item["wa_id"] = wa_id
    if user_id:
        item["user_id"] = user_id
    return item
