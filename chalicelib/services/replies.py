"""A citizen's message on a channel and the replies it earns: the channel's texts (catalogue, with the comune's
and the channel's names filled in), queued as one reply job once the message has been handled."""
from __future__ import annotations

from datetime import datetime

from chalicelib import messages
from chalicelib.domain.subscriptions import Citizen
from chalicelib.domain.tenancy import Channel, Tenant
from chalicelib.providers.base import Content, InboundMessage, Text
from chalicelib.services.messaging import outbound

MAX_REPLIES = 5  # replies to one message: a citizen's chat is not flooded, whatever a flow adds


def channel_text(tenant: Tenant, channel: Channel, key: str, **params: object) -> str:
    """A citizen-facing text of a channel: its override or the catalogue's, with the comune, the service (the
    channel's name) and the privacy notice available to every text."""
    return messages.text(key, tenant.language, channel.texts, comune=tenant.name, service=channel.name,
                         privacy_url=tenant.privacy_notice_url, **params)


class Conversation:
    """One inbound message of a citizen on a channel, and the replies it earns (queued by queue_replies)."""

    def __init__(self, tenant: Tenant, channel: Channel, citizen: Citizen, message: InboundMessage, now: datetime):
        self.tenant, self.channel, self.citizen, self.message, self.now = tenant, channel, citizen, message, now
        self.replies: list[Content] = []

    def text(self, key: str, **params: object) -> str:
        return channel_text(self.tenant, self.channel, key, **params)

    def say(self, key: str, **params: object) -> None:
        """Reply with the channel's text for key."""
        self.replies.append(Text(body=self.text(key, **params)))

    def queue_replies(self) -> None:
        """One reply job for what the message earned (keyed by the message id: a redelivery sends nothing more).
        Called last, once every state write of the message is done (services.inbound): no failure after a send may
        send again."""
        if not self.replies:
            return
        citizen = self.citizen
        recipient = outbound.JobRecipient(key=citizen.key, phone=citizen.phone, user_id=citizen.user_id)
        outbound.reply(self.tenant.id, self.channel.phone_number_id, recipient, self.replies[:MAX_REPLIES],
                       job_id=f"reply-{self.message.message_id}")
