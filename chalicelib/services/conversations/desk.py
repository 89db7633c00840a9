"""Staff's side of the conversations: the list and its unread count, a conversation (audited), an answer inside
the 24-hour window (or an approved template outside it), assigning a conversation to a person, marking it done.

Who may see a conversation: the office of its channel (domain/access.py CONVERSATION_KINDS), in the caller's
comune. An answer goes through the outbound queue as a reply job, saved in the conversation first."""
from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from chalicelib import messages
from chalicelib.domain import conversations as rules
from chalicelib.domain import whatsapp
from chalicelib.domain.access import Staff
from chalicelib.domain.conversations import MAX_TEXT, Conversation, Message
from chalicelib.domain.settings import TEMPLATE_SHAPES
from chalicelib.domain.tenancy import Channel
from chalicelib.providers.base import Content, Template, Text
from chalicelib.services import clock
from chalicelib.services.access import Forbidden, NotFound, record
from chalicelib.services.messaging import outbound
from chalicelib.store import citizens, deliveries, directory
from chalicelib.store import conversations as store
from chalicelib.store import staff as staff_store

# The template purposes (domain/settings.py TEMPLATE_PURPOSES) staff may send from a conversation outside the
# window: a notice (broadcast) or a report's update (reports, safety). The consent ones (subscription_confirm,
# follow_confirm) start a flow of their own and are never sent from here.
REPLY_PURPOSES = ("notice", "report_update")
REPLY_PAYLOAD = "conv:reply"  # a template's quick reply sent from here: its tap lands back in the conversation
STATUS_SHOWN = 20  # the latest staff answers whose delivery status a conversation shows (one read each)
PREVIEW = 140  # characters of the last message in the list


class WindowClosed(Exception):
    """Free text cannot reach the citizen: the last message is over 24 hours old. reason is Italian, for staff."""

    def __init__(self, reason: str, templates: list[dict]):
        super().__init__("the 24-hour window is closed: only an approved template reaches the citizen")
        self.reason, self.templates = reason, templates


class Refused(ValueError):
    """An answer staff cannot send as given (field: what is at fault)."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


class ReplyTemplate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=512, pattern=r"^[a-z0-9_]+$")
    parameters: list[str] = Field(default_factory=list, max_length=10)


class NewReply(BaseModel):
    """A staff answer: free text (inside the 24-hour window) or one of the channel's approved templates."""

    model_config = ConfigDict(extra="forbid")
    text: str | None = Field(default=None, min_length=1, max_length=MAX_TEXT)
    template: ReplyTemplate | None = None

    @model_validator(mode="after")
    def _one(self) -> NewReply:
        if (self.text is None) == (self.template is None):
            raise ValueError("give either text or template")
        if self.text is not None and not self.text.strip():
            raise ValueError("the text is blank")
        return self


class Person(BaseModel):
    model_config = ConfigDict(extra="forbid")
    subject: str = Field(min_length=1, max_length=128)
    name: str = Field(min_length=1, max_length=120)


class Assignment(BaseModel):
    """Who takes the conversation: "me", another staff member (subject and the name shown), or nobody (null)."""

    model_config = ConfigDict(extra="forbid")
    assignee: Literal["me"] | None | Person = "me"


class StatusChange(BaseModel):
    model_config = ConfigDict(extra="forbid")
    status: Literal[rules.STATUSES]


# ---- reading ------------------------------------------------------------------------------------------------------

def _channels(staff: Staff) -> dict[str, Channel]:
    return {c.phone_number_id: c for c in directory.channels_of(staff.tenant_id) if staff.may_converse(c.kind)}


def unread_count(staff: Staff) -> int:
    """The menu's badge: conversations of the caller's channels with a message nobody opened."""
    return store.unread_count(staff.tenant_id, _channels(staff))


def list_for(staff: Staff, status: str | None, mine: bool, limit: int, request_id: str | None = None) -> list[dict]:
    """The caller's conversations, latest message first (audited: the list names citizens)."""
    if status is not None and status not in rules.STATUSES:
        raise Refused(f"status must be one of: {', '.join(rules.STATUSES)}", "status")
    channels = _channels(staff)
    record(staff, "conversations.list", f"status={status or 'all'}{' mine' if mine else ''}", request_id)

    def accept(c: Conversation) -> bool:
        return (c.channel_id in channels and (status is None or c.status == status)
                and (not mine or c.assignee == staff.subject))
    return [_summary(c, channels[c.channel_id]) for c in store.latest(staff.tenant_id, limit, accept)]


def _summary(c: Conversation, channel: Channel) -> dict:
    last = c.messages[-1] if c.messages else None
    return {
        "id": c.id, "channel": c.channel_id, "channel_kind": channel.kind, "channel_name": channel.name,
        "phone": c.phone, "user_id": c.user_id, "name": c.name, "status": c.status, "unread": c.unread,
        "assignee": _person(c.assignee, c.assignee_name), "last_at": _iso(c.last_at),
        "last_text": (last.text[:PREVIEW] if last else ""), "last_direction": last.direction if last else None,
    }


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _person(subject: str | None, name: str | None) -> dict | None:
    return {"subject": subject, "name": name or subject} if subject else None


def _find(staff: Staff, conversation_id: str) -> tuple[Channel, Conversation]:
    try:
        channel_id, key = rules.parse_id(conversation_id)
    except ValueError:
        raise NotFound("conversation") from None
    channel = directory.get_channel(channel_id)
    if channel is None or channel.tenant_id != staff.tenant_id:
        raise NotFound("conversation")
    if not staff.may_converse(channel.kind):
        raise Forbidden(f"the {channel.kind} channel's conversations")
    conversation = store.get(staff.tenant_id, channel_id, key)
    if conversation is None:
        raise NotFound("conversation")
    return channel, conversation


def read(staff: Staff, conversation_id: str, request_id: str | None = None) -> dict:
    """One conversation with its messages, the window, what can be sent and who may take it; opening it marks it
    read (audited)."""
    channel, conversation = _find(staff, conversation_id)
    record(staff, "conversation.read", conversation.id, request_id)
    if conversation.unread:
        conversation = store.change(staff.tenant_id, channel.phone_number_id, conversation.citizen_key,
                                    lambda c: replace(c, unread=False) if c else None) or conversation
    return {**detail(channel, conversation), "assignees": assignees(staff, channel)}


def detail(channel: Channel, conversation: Conversation) -> dict:
    last_inbound = _citizen_last_inbound(channel, conversation)
    now = clock.now()
    is_open = rules.window_open(conversation, last_inbound, now)
    statuses = _statuses(conversation)
    return {
        **_summary(conversation, channel),
        "messages": [_message(m, statuses.get(m.id)) for m in conversation.messages],
        "window": {"open": is_open, "closes_at": _iso(rules.window_closes_at(conversation, last_inbound))},
        "templates": [] if is_open else templates_for(channel),
    }


def _message(m: Message, delivery: str | None) -> dict:
    out = m.direction == "out"
    return {"id": m.id, "direction": m.direction, "at": _iso(m.at), "text": m.text, "kind": m.kind,
            "author": _person(m.author, m.author_name) if out else None,
            "delivery": (delivery or "queued") if out else None}


def _statuses(conversation: Conversation) -> dict[str, str]:
    """The latest staff answers' delivery status (sent, delivered, read, failed) from the delivery records."""
    answers = [m for m in conversation.messages if m.direction == "out"][-STATUS_SHOWN:]
    found = {}
    for m in answers:
        delivery = deliveries.get(m.id, conversation.citizen_key)
        if delivery is not None and delivery.status:
            found[m.id] = delivery.status
    return found


def _citizen_last_inbound(channel: Channel, conversation: Conversation) -> datetime | None:
    citizen = citizens.get(channel.phone_number_id, conversation.citizen_key)
    return citizen.last_inbound_at if citizen else None


def templates_for(channel: Channel) -> list[dict]:
    """The channel's approved templates staff may send from a conversation, with what each takes."""
    found = []
    for purpose in REPLY_PURPOSES:
        template = channel.settings.templates.get(purpose)
        if template is None or not template.approved:
            continue
        found.append({"name": template.name, "language": template.language, "purpose": purpose,
                      "parameters": TEMPLATE_SHAPES[purpose][0], "body": template.body})
    return found


# ---- answering ----------------------------------------------------------------------------------------------------

def reply(staff: Staff, conversation_id: str, data: NewReply) -> dict:
    """Send an answer: saved in the conversation first, then queued as a reply job (audited)."""
    channel, conversation = _find(staff, conversation_id)
    now = clock.now()
    tenant = directory.get_tenant(staff.tenant_id)
    if data.text is not None:
        if not rules.window_open(conversation, _citizen_last_inbound(channel, conversation), now):
            offered = templates_for(channel)
            key = "conversation.window_closed" if offered else "conversation.no_templates"
            raise WindowClosed(messages.text(key, tenant.language if tenant else messages.DEFAULT_LANGUAGE), offered)
        content: Content = Text(body=data.text.strip())
        shown, kind = data.text.strip(), "text"
    else:
        content, shown = _template(channel, data.template)
        kind = "template"
    job_id = f"conv-{now:%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:12]}"
    entry = Message(id=job_id, direction="out", at=now, text=shown, kind=kind, author=staff.subject,
                    author_name=staff.name)
    record(staff, "conversation.reply", conversation.id)
    saved = store.change(staff.tenant_id, channel.phone_number_id, conversation.citizen_key,
                         lambda c: rules.answered(c, entry) if c else None)
    if saved is None:
        raise NotFound("conversation")
    recipient = outbound.JobRecipient(key=saved.citizen_key, phone=saved.phone, user_id=saved.user_id)
    outbound.reply(staff.tenant_id, channel.phone_number_id, recipient, [content], job_id=job_id)
    return _message(entry, None)


def _template(channel: Channel, chosen: ReplyTemplate) -> tuple[Template, str]:
    """The approved template staff chose, checked as WhatsApp would (parameters' number and shape, length)."""
    offered = {t["name"]: t for t in templates_for(channel)}
    if chosen.name not in offered:
        raise Refused(f"template '{chosen.name}' is not approved for this channel's conversations", "template.name")
    declared = offered[chosen.name]
    if len(chosen.parameters) != declared["parameters"]:
        raise Refused(f"template '{chosen.name}' takes {declared['parameters']} parameters, "
                      f"{len(chosen.parameters)} given", "template.parameters")
    for index, parameter in enumerate(chosen.parameters, start=1):
        problem = whatsapp.parameter_problem(parameter)
        if problem:
            raise Refused(f"template parameter {index} {problem}", "template.parameters")
    body = declared["body"]
    if body and whatsapp.filled_length(body, [len(p) for p in chosen.parameters]) > whatsapp.TEMPLATE_BODY_MAX:
        raise Refused(f"template '{chosen.name}' would be over {whatsapp.TEMPLATE_BODY_MAX} characters",
                      "template.parameters")
    quick_replies = TEMPLATE_SHAPES[declared["purpose"]][1]
    content = Template(name=chosen.name, language=declared["language"], body_params=list(chosen.parameters),
                       button_payloads=[REPLY_PAYLOAD] * quick_replies)
    shown = whatsapp.fill(body, chosen.parameters) if body else f"[{chosen.name}] " + " · ".join(chosen.parameters)
    return content, shown


# ---- assigning, done -------------------------------------------------------------------------------------------

def assign(staff: Staff, conversation_id: str, data: Assignment) -> dict:
    channel, conversation = _find(staff, conversation_id)
    if data.assignee == "me":
        subject, name = staff.subject, staff.name
    elif data.assignee is None:
        subject = name = None
    else:  # a colleague who may answer this channel's conversations, named as the staff list names them
        person = next((p for p in assignees(staff, channel) if p["subject"] == data.assignee.subject), None)
        if person is None:
            raise Refused("the assignee is not a staff member who may answer this channel's conversations",
                          "assignee")
        subject, name = person["subject"], person["name"]
    record(staff, "conversation.assign", f"{conversation.id} to={subject or '-'}")
    changed = store.change(staff.tenant_id, channel.phone_number_id, conversation.citizen_key,
                           lambda c: replace(c, assignee=subject, assignee_name=name) if c else None)
    return detail(channel, changed or conversation)


def assignees(staff: Staff, channel: Channel) -> list[dict]:
    """The comune's staff who may answer this channel's conversations (domain/access.py CONVERSATION_KINDS): whoever
    signed in to the console with such a role (store/staff.py), by name."""
    people = [{"subject": m.subject, "name": m.name} for m in staff_store.of_tenant(staff.tenant_id)
              if m.enabled and m.as_staff().may_converse(channel.kind)]
    return sorted(people, key=lambda p: (p["name"].casefold(), p["subject"]))


def set_status(staff: Staff, conversation_id: str, data: StatusChange) -> dict:
    """"Fatto" (done) or open again; a new message from the citizen opens it again by itself."""
    channel, conversation = _find(staff, conversation_id)
    record(staff, f"conversation.{data.status}", conversation.id)
    changed = store.change(staff.tenant_id, channel.phone_number_id, conversation.citizen_key,
                           lambda c: replace(c, status=data.status, unread=False if data.status == "done" else c.unread)
                           if c else None)
    return detail(channel, changed or conversation)


def for_citizen(staff: Staff, citizen_key: str) -> list[dict]:
    """A citizen's conversations on the caller's channels, for a per-citizen view (not audited here: the caller
    audits its own read)."""
    channels = _channels(staff)
    return [detail(channels[c.channel_id], c)
            for c in store.for_citizen(staff.tenant_id, channels, citizen_key)]
