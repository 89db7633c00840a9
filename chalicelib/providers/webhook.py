"""What the webhook endpoint needs of a provider before the inbound worker parses anything: light on purpose (no
pydantic models), since a cold start's first request is often a webhook (issue 18)."""
from __future__ import annotations

from dataclasses import dataclass


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

    @property
    def statuses_only(self) -> bool:
        """Statuses and nothing else the app reads: the status worker's, in batches (services/webhook_queue.py)."""
        return self.statuses > 0 and not self.messages and not self.templates
