"""Webhooks that carry statuses alone (sent, delivered, read, failed: Meta posts most of them one per webhook),
read from their queue in large batches and applied together: each broadcast's counters written once per batch,
each delivery once with its latest status (messaging.outbound.record_statuses)."""
from __future__ import annotations

from chalicelib.providers import get_provider
from chalicelib.providers.base import StatusUpdate
from chalicelib.services.messaging import outbound


def statuses_only(raw_body: str) -> list[StatusUpdate] | None:
    """The statuses of a webhook body that carries nothing else; None for a body with messages or template news,
    which the inbound worker takes whole (services.inbound.handle_payload)."""
    batch = get_provider().parse_webhook(raw_body.encode("utf-8"))
    return None if batch.messages or batch.templates else batch.statuses


def apply(statuses: list[StatusUpdate]) -> None:
    """Statuses of several webhooks in one pass."""
    outbound.record_statuses(statuses)
