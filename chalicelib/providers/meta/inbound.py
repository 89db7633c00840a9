"""Webhooks from Meta: the payload as normalised events (the handshake, the signature and the envelope: envelope.py)."""
from __future__ import annotations

import re
from typing import Any

from pydantic import ValidationError

from chalicelib.observability import logger
from chalicelib.providers.base import (
    InboundMessage,
    Location,
    Media,
    NotAWebhook,
    Pricing,
    Reply,
    StatusError,
    StatusUpdate,
    TemplateEvent,
    WebhookBatch,
)
from chalicelib.providers.meta import envelope, wire
from chalicelib.providers.meta.envelope import (  # noqa: F401 - the handshake and signature live there, named here too
    NOT_AN_OBJECT,
    PROVIDER_NAME,
    REFUSALS,
    body_text,
    challenge_answer,
    is_signed,
)
from chalicelib.providers.meta.errors import classify

_DIGITS = re.compile(r"[0-9]{1,20}")
_NO_CONTACT = wire.Contact.model_construct()  # for a sender no contact describes: no user id, no profile


def parse(raw_body: bytes) -> WebhookBatch:
    """The events of a verified webhook body; NotAWebhook when it is not a WhatsApp webhook. What cannot be read
    or needs no answer is logged (never with a phone number or a text) and counted as skipped."""
    batch = WebhookBatch()
    for entry in _envelope(raw_body).entry:
        if isinstance(entry, wire.Unreadable):
            logger.info("skipped an unreadable entry", extra={"where": entry.where})
            batch.skipped += 1
            continue
        for change in entry.changes:
            _read_change(batch, change, entry.id)
    return batch


def _envelope(raw_body: bytes) -> wire.Envelope:
    _, document = envelope.payload(raw_body)  # the webhook endpoint's check: the same refusals
    try:
        return wire.Envelope.model_validate(document)
    except ValidationError as error:
        where = error.errors()[0]["loc"]
        raise NotAWebhook(REFUSALS.get(where[0] if where else "", NOT_AN_OBJECT)) from None


def _read_change(batch: WebhookBatch, change: wire.Change | wire.Unreadable, account_id: str | None) -> None:
    match change:
        case wire.TemplateStatusChange(value=value) | wire.TemplateCategoryChange(value=value) if account_id:
            batch.templates.append(_template_event(value, account_id))
        case wire.MessagesChange(value=value):
            channel_id, contacts = value.metadata.phone_number_id, value.contacts or []
            _keep(batch, [_message(m, channel_id, contacts) for m in value.messages], batch.messages)
            _keep(batch, [_status(s, channel_id) for s in value.statuses], batch.statuses)
            _log_failures(batch, value.errors or [])
        case wire.TemplateStatusChange() | wire.TemplateCategoryChange():
            logger.info("skipped a template change without its business account")
            batch.skipped += 1
        case wire.OtherChange(field=field):
            logger.info("skipped a webhook field", extra={"field": _label(field)})
            batch.skipped += 1
        case wire.Unreadable(where=where):
            logger.info("skipped an unreadable change", extra={"where": where})
            batch.skipped += 1


def _template_event(value: wire.TemplateValue, account_id: str) -> TemplateEvent:
    reason = value.reason if value.reason and value.reason != "NONE" else None
    return TemplateEvent(provider=PROVIDER_NAME, account_id=account_id, template_id=str(value.message_template_id),
                         name=value.message_template_name, language=value.message_template_language,
                         status=value.event, reason=reason, new_category=value.new_category,
                         previous_category=value.previous_category)


def _keep(batch: WebhookBatch, events: list, into: list) -> None:
    """The events read go `into` the batch; the others (None) are counted as skipped."""
    into.extend(event for event in events if event is not None)
    batch.skipped += sum(event is None for event in events)


def _log_failures(batch: WebhookBatch, failures: list[wire.Failure | None]) -> None:
    """Account-level errors Meta pushes in value.errors[] (e.g. an asynchronous 130429)."""
    for failure in failures:
        code = failure.code if failure else None
        logger.warning("webhook reported an error", extra={"code": code, "error_class": classify(None, code).value})
        batch.skipped += 1


def _label(value: str | None) -> str:
    """A value from the payload safe to put in a log line: a short printable string, or '?'."""
    return value if value is not None and len(value) <= 40 and value.isprintable() else "?"


def _phone(wa_id: str | None) -> str | None:
    """'+<digits>' when Meta gave a plain digit string (a wa_id), else None."""
    return "+" + wa_id if wa_id is not None and _DIGITS.fullmatch(wa_id) else None


# ---- messages ----------------------------------------------------------------------------

def _message(item: wire.Message | wire.Unreadable, channel_id: str,
             contacts: list[wire.Contact | None]) -> InboundMessage | None:
    if isinstance(item, wire.Unreadable):
        logger.info("skipped an unreadable message", extra={"where": item.where})
        return None
    if isinstance(item, wire.SilentMessage):
        logger.info("skipped a message", extra={"type": item.type})
        return None
    contact = _contact_for(contacts, item.from_, item.from_user_id) or _NO_CONTACT
    sender_phone = _phone(item.from_)
    sender_user_id = item.from_user_id or (contact.user_id if isinstance(contact.user_id, str) else None)
    if sender_phone is None and sender_user_id is None:
        logger.info("skipped a message without a sender", extra={"type": item.type})
        return None
    return InboundMessage(
        provider=PROVIDER_NAME, channel_id=channel_id, message_id=item.id, timestamp=item.timestamp,
        sender_phone=sender_phone, sender_user_id=sender_user_id,
        profile_name=contact.profile.name if contact.profile else None,
        context_message_id=item.context.id if item.context else None, **_content(item))


def _content(message: wire.BaseMessage) -> dict[str, Any]:
    """What a message carries, as InboundMessage fields."""
    match message:
        case wire.TextMessage(text=text):
            return {"kind": "text", "text": text.body}
        case wire.ImageMessage(image=image):
            return {"kind": "image", "media": _media(image)}
        case wire.AudioMessage(audio=audio):
            return {"kind": "audio", "media": _media(audio, voice=bool(audio.voice))}
        case wire.VideoMessage(video=video):
            return {"kind": "video", "media": _media(video)}
        case wire.DocumentMessage(document=document):
            return {"kind": "document", "media": _media(document, filename=document.filename)}
        case wire.LocationMessage(location=place):
            return {"kind": "location", "location": Location(latitude=place.latitude, longitude=place.longitude,
                                                             name=place.name, address=place.address)}
        case wire.InteractiveMessage(interactive=wire.ButtonReply(button_reply=tap) | wire.ListReply(list_reply=tap)):
            return {"kind": "reply", "reply": Reply(id=tap.id, title=tap.title)}
        case wire.ButtonMessage(button=button):
            return {"kind": "reply", "reply": Reply(id=button.payload, title=button.text)}
    # an UnsupportedMessage: the citizen is told we cannot read it; its type (40 characters at most) is for the logs
    return {"kind": "unsupported", "original_type": message.type[:40]}


def _media(body: wire.ImageBody, **extra: Any) -> Media:
    return Media(media_id=body.id, mime_type=body.mime_type, sha256=body.sha256, caption=body.caption, url=body.url,
                 **extra)


def _agrees(contact: wire.Contact, wa_id: str | None, user_id: str | None) -> bool:
    """False when the contact names a different wa_id or user id than the message does."""
    pairs = ((wa_id, contact.wa_id), (user_id, contact.user_id))
    return all(ours is None or theirs is None or ours == theirs for ours, theirs in pairs)


def _contact_for(contacts: list[wire.Contact | None], wa_id: str | None, user_id: str | None) -> wire.Contact | None:
    """The contacts[] entry describing the sender: the one sharing an id, or the only one."""
    fitting = [c for c in contacts if c is not None and _agrees(c, wa_id, user_id)]
    for contact in fitting:
        if (wa_id and contact.wa_id == wa_id) or (user_id and contact.user_id == user_id):
            return contact
    return fitting[0] if len(contacts) == 1 and fitting else None


# ---- statuses ----------------------------------------------------------------------------

def _status(item: wire.Status | wire.Unreadable, channel_id: str) -> StatusUpdate | None:
    if isinstance(item, wire.Unreadable):
        logger.info("skipped an unreadable status", extra={"where": item.where})
        return None
    return StatusUpdate(
        provider=PROVIDER_NAME, channel_id=channel_id, message_id=item.id, status=item.status,
        timestamp=item.timestamp, recipient_phone=_phone(item.recipient_id),
        recipient_user_id=item.recipient_user_id, callback_data=item.biz_opaque_callback_data,
        errors=[_status_error(failure) for failure in item.errors or [] if failure], pricing=_pricing(item.pricing))


def _pricing(pricing: wire.Pricing | None) -> Pricing | None:
    """Meta's pricing object: charged when its type is 'regular' (or, without a type, when billable says so)."""
    if pricing is None:
        return None
    billable = pricing.type == "regular" if pricing.type else bool(pricing.billable)
    return Pricing(category=pricing.category, billable=billable)


def _status_error(failure: wire.Failure) -> StatusError:
    return StatusError(code=failure.code, title=failure.title, message=failure.message,
                       details=failure.error_data.details if failure.error_data else None,
                       error_class=classify(None, failure.code))
