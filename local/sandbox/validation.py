"""What Meta refuses in a send: the checks behind the messages endpoint's 400s, with Meta's codes and limits."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .media import IMAGE_TYPES, MediaStore, size_limit
from .meta import GraphError, invalid, looks_like_phone, missing
from .templates import Filled, Template, check_send

TEXT_MAX = 4096
CAPTION_MAX = 1024
BUTTONS_BODY_MAX = 1024  # reply buttons (S14)
LIST_BODY_MAX = 4096  # list messages
HEADER_TEXT_MAX = 60
FOOTER_MAX = 60
CALLBACK_DATA_MAX = 512  # biz_opaque_callback_data
LINK_MAX = 2048
BUTTON_TITLE_MAX = 20
BUTTON_ID_MAX = 256
LIST_ROWS_MAX = 10
LIST_SECTIONS_MAX = 10
ROW_TITLE_MAX = 24
SECTION_TITLE_MAX = 24
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


# the template a send names, from the channel's business account (or Meta's 132001/132015/132016)
FindTemplate = Callable[[str, str], Template]


class SendChecks:
    """The checks of one channel's sends: its business account's templates, the media uploaded to it."""

    def __init__(self, find_template: FindTemplate, media: MediaStore):
        self._find_template, self._media = find_template, media

    def validate(self, body: Any) -> Filled | None:
        """Raise GraphError for a send body Meta would refuse; for a template, return it filled in."""
        if not isinstance(body, dict):
            raise GraphError(100, "The request body must be a JSON object")
        if "messaging_product" not in body:
            raise missing("messaging_product")
        if body["messaging_product"] != "whatsapp":
            raise invalid('messaging_product must be "whatsapp"')
        _validate_recipient(body)
        _validate_callback_data(body)
        kind = body.get("type", "text")
        if kind not in SEND_TYPES:
            raise GraphError(100, f"Param type must be one of {{{', '.join(t.upper() for t in SEND_TYPES)}}} "
                                  f"in the sandbox, got {kind!r}")
        obj = body.get(kind)
        if obj is None:
            raise missing(kind)
        if not isinstance(obj, dict):
            raise invalid(f"The parameter {kind} must be an object")
        context = body.get("context")
        if context is not None and not (isinstance(context, dict) and isinstance(context.get("message_id"), str)):
            raise invalid("context.message_id must be a string")
        if kind == "template":
            return self._template(obj)
        if kind == "image":
            self._image(obj)
        else:
            _VALIDATORS[kind](obj)
        return None

    def _template(self, obj: dict[str, Any]) -> Filled:
        name = _require_text(obj, "name", "template", 512)
        language = obj.get("language")
        if not isinstance(language, dict):
            raise missing("template.language")
        code = _require_text(language, "code", "template.language", 20)
        components = obj.get("components", [])
        if not isinstance(components, list) or not all(isinstance(c, dict) for c in components):
            raise invalid("template.components must be a list of objects")
        return check_send(self._find_template(name, code), components)

    def _image(self, obj: dict[str, Any]) -> None:
        """An image by link (http or https) or by the id of an upload: a JPEG or PNG of at most 5 MB."""
        media_id, link = obj.get("id"), obj.get("link")
        if not media_id and not link:
            raise missing("image.id or image.link")
        if media_id and link:
            raise invalid("image takes either id or link, not both")
        if link:
            if not isinstance(link, str) or not link.startswith(("https://", "http://")) or len(link) > LINK_MAX:
                raise invalid(f"image.link must be an http(s) URL of at most {LINK_MAX} characters")
        else:
            media = self._media.get(str(media_id))
            if media is None:
                raise invalid(f"image.id {media_id} is not a media id uploaded for this business")
            if media.mime_type not in IMAGE_TYPES:
                raise GraphError(131053, f"Unsupported Image mime type {media.mime_type}. "
                                         f"Please use one of {', '.join(IMAGE_TYPES)}.")
            if len(media.data) > size_limit(media.mime_type):
                raise GraphError(131053, f"Image file size {len(media.data)} bytes is over the limit of "
                                         f"{size_limit(media.mime_type)} bytes")
        caption = obj.get("caption")
        if caption is not None and (not isinstance(caption, str) or len(caption) > CAPTION_MAX):
            raise invalid(f"image.caption must be a string of at most {CAPTION_MAX} characters")


def _validate_callback_data(body: dict[str, Any]) -> None:
    data = body.get("biz_opaque_callback_data")
    if data is not None and (not isinstance(data, str) or len(data) > CALLBACK_DATA_MAX):
        raise invalid(f"biz_opaque_callback_data must be a string of at most {CALLBACK_DATA_MAX} characters")


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
    if not isinstance(obj.get("preview_url", False), bool):
        raise invalid("text.preview_url must be true or false")


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
    _require_text(body, "text", "interactive.body", BUTTONS_BODY_MAX if kind == "button" else LIST_BODY_MAX)
    _validate_header(obj.get("header"), kind)
    footer = obj.get("footer")
    if isinstance(footer, dict) and footer.get("text") is not None:
        _require_text(footer, "text", "interactive.footer", FOOTER_MAX)
    if kind == "button":
        _validate_buttons(action)
    else:
        _validate_list(action)


def _validate_header(header: Any, kind: str) -> None:
    """Reply buttons take a text, image, video or document header; a list only a text one."""
    if header is None:
        return
    allowed = ("text", "image", "video", "document") if kind == "button" else ("text",)
    if not isinstance(header, dict) or header.get("type") not in allowed:
        raise invalid(f"interactive.header.type must be one of {', '.join(allowed)} for a {kind} message")
    if header["type"] == "text":
        _require_text(header, "text", "interactive.header", HEADER_TEXT_MAX)


def _validate_buttons(action: dict[str, Any]) -> None:
    buttons = action.get("buttons")
    if not isinstance(buttons, list) or not buttons:
        raise missing("interactive.action.buttons")
    if len(buttons) > 3:
        raise invalid(f"interactive.action.buttons has {len(buttons)} buttons, at most 3")
    titles: set[str] = set()
    ids: set[str] = set()
    for button in buttons:
        reply = button.get("reply") if isinstance(button, dict) else None
        if not isinstance(reply, dict) or button.get("type", "reply") != "reply":
            raise invalid("each button must be {\"type\": \"reply\", \"reply\": {\"id\", \"title\"}}")
        button_id = _require_text(reply, "id", "button.reply", BUTTON_ID_MAX)
        title = _require_text(reply, "title", "button.reply", BUTTON_TITLE_MAX)
        if title in titles:
            raise invalid(f"button titles must be unique, {title!r} repeats")
        if button_id in ids:
            raise invalid(f"button ids must be unique, {button_id!r} repeats")
        titles.add(title)
        ids.add(button_id)


def _validate_list(action: dict[str, Any]) -> None:
    _require_text(action, "button", "interactive.action", BUTTON_TITLE_MAX)
    sections = action.get("sections")
    if not isinstance(sections, list) or not sections:
        raise missing("interactive.action.sections")
    if len(sections) > LIST_SECTIONS_MAX:
        raise invalid(f"interactive.action.sections has {len(sections)} sections, at most {LIST_SECTIONS_MAX}")
    if not all(isinstance(section, dict) for section in sections):
        raise invalid("each section must be an object")
    for section in sections:
        if len(sections) > 1 or section.get("title") is not None:  # a title is required once there are two
            _require_text(section, "title", "section", SECTION_TITLE_MAX)
        if not isinstance(section.get("rows") or [], list):
            raise invalid("each section's rows must be a list")
    rows = [row for section in sections for row in (section.get("rows") or [])]
    if not rows:
        raise missing("interactive.action.sections.rows")
    if len(rows) > LIST_ROWS_MAX:
        raise invalid(f"the list has {len(rows)} rows, at most {LIST_ROWS_MAX}")
    ids: set[str] = set()
    for row in rows:
        if not isinstance(row, dict):
            raise invalid("each row must be an object")
        row_id = _require_text(row, "id", "row", ROW_ID_MAX)
        if row_id in ids:
            raise invalid(f"row ids must be unique, {row_id!r} repeats")
        ids.add(row_id)
        _require_text(row, "title", "row", ROW_TITLE_MAX)
        if row.get("description") is not None:
            _require_text(row, "description", "row", ROW_DESCRIPTION_MAX)


_VALIDATORS = {
    "text": _validate_text,
    "interactive": _validate_interactive,
}
