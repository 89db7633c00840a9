"""The usage meter's counting (domain/usage.py): a send WhatsApp accepted, counted once by the run that recorded it
(deliveries.record is a conditional write: one record, one count; a run's counts go in one write when it settles),
and a delivered message WhatsApp priced as charged, counted once: by the conditional write that set its delivery's
charged mark (deliveries.advance, or deliveries.mark_billed when a status without pricing moved it first), whatever
order its statuses come in.

Counting never stops a send: a counter write that fails is logged and the message goes uncounted (the meter may
miss a message, never count one twice)."""
from __future__ import annotations

from datetime import datetime

from chalicelib.domain.usage import category_of, field_name, month_of
from chalicelib.observability import count, logger
from chalicelib.providers.base import Content, StatusUpdate, Template
from chalicelib.services import clock
from chalicelib.store import directory
from chalicelib.store import usage as usage_store

PRICED_STEPS = ("delivered", "read", "played")  # Meta charges a delivered message; its pricing rides on one of these


def sent_category(channel_id: str, content: Content) -> str:
    """What a send is priced as: a free-form message is 'service'; a template, the category the channel's settings
    give it (utility when the channel does not list it)."""
    if not isinstance(content, Template):
        return "service"
    channel = directory.get_channel(channel_id)
    listed = [t for t in (channel.settings.templates.values() if channel else ()) if t.name == content.name]
    return listed[0].category if listed else "utility"


def count_sent(tenant_id: str, channel_id: str, by_category: dict[str, int]) -> None:
    """The sends a run recorded, by category (sent_category), in one ADD in the month they were sent."""
    if by_category:
        now = clock.now()
        _add(tenant_id, channel_id, month_of(now), _sent_amounts(by_category), now)


def sent_addition(tenant_id: str, channel_id: str, by_category: dict[str, int]) -> dict | None:
    """count_sent's write as a request's parameters (None: nothing to count), for the sender to make it in one
    transaction with its settling write; when that fails, it calls count_sent."""
    if not by_category:
        return None
    now = clock.now()
    return usage_store.addition(tenant_id, channel_id, month_of(now), _sent_amounts(by_category), now)


def _sent_amounts(by_category: dict[str, int]) -> dict[str, int]:
    return {field_name("sent", c): n for c, n in by_category.items()}


def is_charged(status: StatusUpdate) -> bool:
    """A status telling that WhatsApp delivered a message and charges for it (in a category the meter knows)."""
    pricing = status.pricing
    return (status.status in PRICED_STEPS and pricing is not None and pricing.billable
            and category_of(pricing.category) is not None)


def count_billed(charged: list[StatusUpdate]) -> None:
    """Delivered messages WhatsApp charges, each given once by record_statuses (the status whose write set the
    delivery's charged mark): one ADD per channel, month of delivery and category."""
    groups: dict[tuple[str, str], dict[str, int]] = {}
    for status in charged:
        amounts = groups.setdefault((status.channel_id, month_of(status.timestamp)), {})
        name = field_name("billable", category_of(status.pricing.category))
        amounts[name] = amounts.get(name, 0) + 1
    for (channel_id, month), amounts in groups.items():
        channel = directory.get_channel(channel_id)
        if channel is not None:
            _add(channel.tenant_id, channel_id, month, amounts, clock.now())


def _add(tenant_id: str, channel_id: str, month: str, amounts: dict[str, int], now: datetime) -> None:
    try:
        usage_store.add(tenant_id, channel_id, month, amounts, now)
    except Exception:
        logger.exception("usage not counted", extra={"channel_id": channel_id, "month": month, "amounts": amounts})
        count("UsageNotCounted")
