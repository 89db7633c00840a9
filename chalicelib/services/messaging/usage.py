"""The usage meter's counting (domain/usage.py): a send WhatsApp accepted, counted once by the run that recorded it
(deliveries.record is a conditional write: one record, one count), and a delivered message WhatsApp priced as
charged, counted once by the status that first moved its delivery past 'sent'.

Counting never stops a send: a counter write that fails is logged and the message goes uncounted (the meter may
miss a message, never count one twice)."""
from __future__ import annotations

from datetime import datetime, timedelta

from chalicelib.domain.usage import category_of, field_name, month_of
from chalicelib.observability import count, logger
from chalicelib.providers.base import Content, Pricing, StatusUpdate, Template
from chalicelib.services import clock
from chalicelib.store import counters, directory
from chalicelib.store import usage as usage_store

PRICED_STEPS = ("delivered", "read", "played")  # Meta charges a delivered message; its pricing rides on one of these
BILLED_MARK = timedelta(days=35)  # a message's "counted as billable" mark outlives any redelivery of its webhook


def sent_category(channel_id: str, content: Content) -> str:
    """What a send is priced as: a free-form message is 'service'; a template, the category the channel's settings
    give it (utility when the channel does not list it)."""
    if not isinstance(content, Template):
        return "service"
    channel = directory.get_channel(channel_id)
    listed = [t for t in (channel.settings.templates.values() if channel else ()) if t.name == content.name]
    return listed[0].category if listed else "utility"


def count_sent(tenant_id: str, channel_id: str, content: Content) -> None:
    """One accepted send, in the month it was sent."""
    now = clock.now()
    _add(tenant_id, channel_id, month_of(now), {field_name("sent", sent_category(channel_id, content)): 1}, now)


def count_priced(statuses: list[StatusUpdate]) -> None:
    """The delivered messages of a webhook batch that WhatsApp charges, each counted once whatever the order and
    the redeliveries of its statuses (a conditional mark per message id)."""
    for status in statuses:
        if status.status not in PRICED_STEPS or status.pricing is None or not status.pricing.billable:
            continue
        channel = directory.get_channel(status.channel_id)
        if channel is None or category_of(status.pricing.category) is None:
            continue
        try:
            first = counters.claim(f"usage-billed#{status.message_id}", BILLED_MARK, clock.now())
        except Exception:
            logger.exception("usage not counted", extra={"channel_id": status.channel_id})
            count("UsageNotCounted")
            continue
        if first:
            count_billable(channel.tenant_id, channel.phone_number_id, status.pricing, status.timestamp)


def count_billable(tenant_id: str, channel_id: str, pricing: Pricing | None, delivered_at: datetime) -> None:
    """A delivered message WhatsApp charges (its status's pricing), in the month it was delivered."""
    category = category_of(pricing.category) if pricing else None
    if pricing is None or not pricing.billable or category is None:
        return
    _add(tenant_id, channel_id, month_of(delivered_at), {field_name("billable", category): 1}, clock.now())


def _add(tenant_id: str, channel_id: str, month: str, amounts: dict[str, int], now: datetime) -> None:
    try:
        usage_store.add(tenant_id, channel_id, month, amounts, now)
    except Exception:
        logger.exception("usage not counted", extra={"channel_id": channel_id, "month": month, "amounts": amounts})
        count("UsageNotCounted")
