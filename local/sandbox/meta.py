"""Meta Cloud API shapes for the sandbox: ids, signatures, error bodies, renderings of sends, webhook payloads."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
import time
from typing import Any

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
    130497: "Business account is restricted from messaging users in this country",
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
    131045: "Incorrect certificate",
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
    132005: "Translated text too long",
    132018: "There was an issue with the parameters in your template.",
    132015: "Template is Paused",
    132016: "Template is Disabled",
    132068: "Flow is blocked",
    132069: "Flow is throttled",
    133016: "Account register deregister rate limit exceeded",
}

# HTTP status Meta answers per code; everything else is 400.
ERROR_HTTP: dict[int, int] = {
    0: 401, 190: 401,
    10: 403, 368: 403, 130497: 403, 131005: 403, 131031: 403,
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

    def webhook_error(self) -> dict[str, Any]:
        """The error as a status webhook carries it (statuses[].errors[]): code, title, message, details, href."""
        title = ERROR_TITLES.get(self.code, "Unknown error")
        return {"code": self.code, "title": title, "message": title, "error_data": {"details": self.details},
                "href": "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/"}


def missing(name: str) -> GraphError:
    return GraphError(131008, f"The parameter {name} is required.")


def invalid(details: str) -> GraphError:
    return GraphError(131009, details)


def unknown_object(object_id: str, method: str = "post") -> GraphError:
    message = (f"Unsupported {method} request. Object with ID '{object_id}' does not exist, cannot be "
               "loaded due to missing permissions, or does not support this operation. Please read "
               "the Graph API documentation at https://developers.facebook.com/docs/graph-api")
    return GraphError(100, message, err_type="GraphMethodException", message=message, subcode=33)


# ---- readable rendering of what the app sent ---------------------------------------------

def render_text(body: dict[str, Any]) -> str:
    """A human-readable rendering of a send body but a template's (templates.render), for the test API and the
    phone page."""
    kind = body.get("type", "text")
    obj = body.get(kind) if isinstance(body.get(kind), dict) else {}
    if kind == "text":
        return str(obj.get("body", ""))
    if kind == "image":
        caption = obj.get("caption") or ""
        source = obj.get("link") or f"media {obj.get('id')}"
        return f"[image {source}] {caption}".strip()
    if kind == "interactive":
        return _render_interactive(obj)
    return json.dumps(obj, ensure_ascii=False)


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
    """The taps a citizen can make on a sent message: reply buttons, list rows (a template's quick replies:
    templates.quick_replies)."""
    kind = body.get("type")
    if kind == "interactive" and isinstance(body.get("interactive"), dict):
        return interactive_options(body["interactive"])
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


def account_envelope(waba_id: str, field: str, value: dict[str, Any]) -> dict[str, Any]:
    """A webhook body about the business account itself (a template's review: message_template_status_update,
    template_category_update), one change."""
    return {"object": "whatsapp_business_account",
            "entry": [{"id": waba_id, "time": int(time.time()), "changes": [{"value": value, "field": field}]}]}


def contact(wa_id: str | None, user_id: str | None, profile_name: str | None) -> dict[str, Any]:
    item: dict[str, Any] = {}
    if profile_name is not None:
        item["profile"] = {"name": profile_name}
    if wa_id:
        item["wa_id"] = wa_id
    if user_id:
        item["user_id"] = user_id
    return item
