"""What the webhook endpoint needs of a provider before the inbound worker parses anything: light on purpose (no
pydantic models), since a cold start's first request is often a webhook (issue 18)."""
from __future__ import annotations

from dataclasses import dataclass


class NotAWebhook(ValueError):
    """The body is not a webhook payload of this provider."""


@dataclass(frozen=True)
class WebhookSummary:
    """A verified body checked as far as queueing needs: its text (what goes on the queue) and, for the log line,
    how many messages and statuses it carries. The inbound worker parses the rest."""

    text: str
    messages: int = 0
    statuses: int = 0
