"""What the webhook endpoint needs of a provider before the inbound worker parses anything: light on purpose (no
pydantic models), since a cold start's first request is often a webhook (issue 18)."""
from __future__ import annotations

from dataclasses import dataclass

# Statuses the send itself recorded already (its answer carries the message id): nothing in them to apply.
RECORDED_BY_THE_SEND = frozenset({"sent"})


class NotAWebhook(ValueError):
    """The body is not a webhook payload of this provider."""


@dataclass(frozen=True)
class WebhookSummary:
    """A verified body checked as far as queueing needs: its text (what goes on the queue) and how many messages,
    statuses and template news it carries (for the log line, and to queue a body of statuses alone apart). The
    workers parse the rest."""

    text: str
    messages: int = 0
    statuses: int = 0
    templates: int = 0
    news: int = 0  # statuses other than those RECORDED_BY_THE_SEND (or not well-formed: the worker judges them)

    @property
    def nothing_to_apply(self) -> bool:
        """Statuses alone, each one a send already recorded ('sent'): answered without queueing, since the worker
        would skip every one of them (messaging.outbound.record_statuses). A third of a broadcast's webhooks."""
        return self.statuses > 0 and not self.news and not self.messages and not self.templates

    @property
    def statuses_only(self) -> bool:
        """Statuses and nothing else the app reads: the status worker's, in batches (services/webhook_queue.py)."""
        return self.statuses > 0 and not self.messages and not self.templates
