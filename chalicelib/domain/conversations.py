"""Two-way conversations: what a citizen wrote that no flow consumed, and staff's answers, on one channel.

A conversation is keyed by its channel and the citizen key (domain/phones.py). It is bounded: the latest
MAX_MESSAGES messages, each at most MAX_TEXT characters, so one item stays far below DynamoDB's 400 KB.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from chalicelib.domain.broadcasts import SERVICE_WINDOW, in_service_window

MAX_MESSAGES = 60  # the latest messages kept per conversation; older ones drop off
MAX_TEXT = 2000  # characters kept of one message (WhatsApp takes 4,096; a staff answer is refused past this)
MAX_ID = 200  # a provider's message id or a reply job's id
STATUSES = ("open", "done")
DIRECTIONS = ("in", "out")
SEPARATOR = "."  # conversation id: "<channel id>.<citizen key>"; a channel id (Meta's phone-number id) has no dot


@dataclass(frozen=True)
class Message:
    """One message: the citizen's ("in", id = the provider's message id) or staff's ("out", id = the reply job)."""

    id: str
    direction: str
    at: datetime
    text: str
    kind: str = "text"  # what the citizen sent: text, image, audio, ...; a staff answer: text or template
    author: str | None = None  # staff: the subject of who answered
    author_name: str | None = None

    def __post_init__(self) -> None:
        if self.direction not in DIRECTIONS:
            raise ValueError(f"direction must be one of {DIRECTIONS}")
        object.__setattr__(self, "text", self.text[:MAX_TEXT])
        object.__setattr__(self, "id", self.id[:MAX_ID])


@dataclass(frozen=True)
class Conversation:
    tenant_id: str
    channel_id: str
    citizen_key: str
    kind: str  # the channel's kind: broadcast, reports or safety (who may read it: domain/access.py)
    phone: str | None = None
    user_id: str | None = None
    name: str | None = None  # the WhatsApp profile name, as the citizen set it
    messages: tuple[Message, ...] = ()
    status: str = "open"
    unread: bool = False  # a citizen message no staff member has opened yet
    assignee: str | None = None  # staff subject
    assignee_name: str | None = None
    last_at: datetime | None = None
    last_inbound_at: datetime | None = None
    expires_at: datetime | None = None

    @property
    def id(self) -> str:
        return conversation_id(self.channel_id, self.citizen_key)

    def has(self, message_id: str) -> bool:
        return any(m.id == message_id[:MAX_ID] for m in self.messages)


def conversation_id(channel_id: str, citizen_key: str) -> str:
    return f"{channel_id}{SEPARATOR}{citizen_key}"


def parse_id(raw: str) -> tuple[str, str]:
    """(channel id, citizen key) of a conversation id; ValueError when it is not one."""
    channel_id, sep, key = raw.partition(SEPARATOR)
    if not sep or not channel_id.isdigit() or not key or len(raw) > 300:
        raise ValueError("not a conversation id")
    return channel_id, key


def received(conversation: Conversation, message: Message, profile_name: str | None) -> Conversation:
    """A citizen's message joins: the conversation opens again and is unread; the same message twice is kept once."""
    if conversation.has(message.id):
        return conversation
    return replace(conversation, messages=_bounded(conversation.messages + (message,)), status="open", unread=True,
                   last_at=message.at, last_inbound_at=message.at, name=profile_name or conversation.name)


def answered(conversation: Conversation, message: Message) -> Conversation:
    return replace(conversation, messages=_bounded(conversation.messages + (message,)), last_at=message.at,
                   unread=False)


def _bounded(messages: tuple[Message, ...]) -> tuple[Message, ...]:
    return messages[-MAX_MESSAGES:]


def window_open(conversation: Conversation, citizen_last_inbound: datetime | None, now: datetime) -> bool:
    """Free text may reach the citizen: their last message on the channel (in any flow) is under 24 hours old."""
    return in_service_window(latest_inbound(conversation, citizen_last_inbound), now)


def latest_inbound(conversation: Conversation, citizen_last_inbound: datetime | None) -> datetime | None:
    moments = [m for m in (conversation.last_inbound_at, citizen_last_inbound) if m is not None]
    return max(moments) if moments else None


def window_closes_at(conversation: Conversation, citizen_last_inbound: datetime | None) -> datetime | None:
    latest = latest_inbound(conversation, citizen_last_inbound)
    return latest + SERVICE_WINDOW if latest else None


def in_talk(conversation: Conversation, now: datetime) -> bool:
    """Staff answered within the last 24 hours and the conversation is not done: the citizen's next words belong to
    it (on a reports channel they open no report)."""
    answers = [m for m in conversation.messages if m.direction == "out"]
    return conversation.status == "open" and bool(answers) and in_service_window(answers[-1].at, now)
