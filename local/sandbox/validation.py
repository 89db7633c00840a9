"""What Meta refuses in a send: the checks behind the messages endpoint's 400s, with Meta's codes and limits."""
from __future__ import annotations

from typing import Any

from .meta import GraphError, invalid, looks_like_phone, missing

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
