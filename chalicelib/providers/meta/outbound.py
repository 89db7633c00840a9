"""The JSON bodies of what we post to Meta's messages endpoint: messages of each content kind, read receipts."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from chalicelib.domain import whatsapp
from chalicelib.providers.base import (
    Buttons,
    Choice,
    ChoiceList,
    Content,
    ErrorClass,
    Image,
    ProviderError,
    Recipient,
    Template,
    Text,
)

# Meta's length limits for interactive messages (characters). Texts a comune configures are checked against them
# when written (domain/settings.py); cutting here is the last resort for one written around those checks.
_BUTTON_TITLE_MAX = whatsapp.REPLY_BUTTON_TITLE_MAX
_LIST_BUTTON_MAX = whatsapp.REPLY_BUTTON_TITLE_MAX
_SECTION_TITLE_MAX = 24
_ROW_TITLE_MAX = whatsapp.LIST_ROW_TITLE_MAX
_ROW_DESCRIPTION_MAX = 72
_FOOTER_MAX = 60
_MAX_BUTTONS = 3
_MAX_ROWS = whatsapp.LIST_ROWS_MAX


def message_body(recipient: Recipient, content: Content, callback_data: str | None = None) -> dict:
    """The body that sends `content` to `recipient`; ProviderError (before any request) when it cannot be sent."""
    body: dict[str, Any] = {"messaging_product": "whatsapp", "recipient_type": "individual",
                            **_address(recipient), **_BODY_BUILDERS[content.kind](content)}
    if callback_data is not None:
        body["biz_opaque_callback_data"] = callback_data
    return body


def read_receipt(message_id: str) -> dict:
    """The body that marks an inbound message as read (blue ticks)."""
    return {"messaging_product": "whatsapp", "status": "read", "message_id": message_id}


def _address(recipient: Recipient) -> dict:
    if recipient.phone:
        return {"to": recipient.phone}
    if recipient.user_id:
        return {"recipient": recipient.user_id}
    raise ProviderError(ErrorClass.RECIPIENT, None, "recipient has neither phone nor user_id")


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
