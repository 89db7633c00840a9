"""A citizen's message that no flow consumed joins their conversation on the channel, for staff to read.

Called by the flows (subscriptions.conversation, reports.intake) while they handle the message, so the write is done
before the reply is queued (services.inbound: state saved before replies are queued); a redelivered message is kept
once (its provider id is in the conversation already)."""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from chalicelib.domain import conversations as rules
from chalicelib.domain.conversations import Conversation, Message
from chalicelib.domain.subscriptions import Citizen
from chalicelib.domain.tenancy import Channel, Tenant
from chalicelib.providers.base import InboundMessage
from chalicelib.store import conversations as store

MEDIA_KINDS = ("image", "audio", "video", "document")


def keep(tenant: Tenant, channel: Channel, citizen: Citizen, message: InboundMessage, now: datetime) -> bool:
    """Add the message to the citizen's conversation on the channel (opened, unread), within the tenant's retention.
    True when it is the first message staff have not read yet (the conversation was read, or new)."""
    entry = Message(id=message.message_id, direction="in", at=now, text=words_of(message), kind=message.kind)
    expires = now + tenant.retention.days("conversations")

    seen = {"unread": False}

    def edit(current: Conversation | None) -> Conversation:
        seen["unread"] = bool(current and current.unread)
        base = current or Conversation(tenant_id=tenant.id, channel_id=channel.phone_number_id,
                                       citizen_key=citizen.key, kind=channel.kind)
        joined = rules.received(base, entry, message.profile_name)
        if joined is base:
            return base
        return _identified(joined, citizen, expires)
    store.change(tenant.id, channel.phone_number_id, citizen.key, edit)
    return not seen["unread"]


def ongoing(tenant: Tenant, channel: Channel, citizen: Citizen, now: datetime) -> bool:
    """Staff answered the citizen on this channel within the last 24 hours and the conversation is not done: what
    the citizen writes next is part of it."""
    conversation = store.get(tenant.id, channel.phone_number_id, citizen.key)
    return conversation is not None and rules.in_talk(conversation, now)


def _identified(conversation: Conversation, citizen: Citizen, expires: datetime) -> Conversation:
    return replace(conversation, phone=citizen.phone or conversation.phone,
                   user_id=citizen.user_id or conversation.user_id, expires_at=expires)


def words_of(message: InboundMessage) -> str:
    """What staff read of the message: its text, a media's caption, a tapped button's title ("" for none)."""
    if message.kind == "text":
        return message.text or ""
    if message.kind in MEDIA_KINDS and message.media:
        return message.media.caption or ""
    if message.reply:
        return message.reply.title or ""
    if message.location:
        where = message.location
        return " ".join(p for p in (where.name, where.address, f"{where.latitude:.5f}, {where.longitude:.5f}") if p)
    return ""
