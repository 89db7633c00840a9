"""Broadcasts' answers and query parameters: a broadcast, a page of them, a preview (api/broadcasts.py, console.py)."""
from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from chalicelib.api.schemas.common import Answer, Count, Query, cursor, next_page, page_size
from chalicelib.domain.broadcasts import ACTIONS, PRIORITIES


class BroadcastTemplate(Answer):
    name: str
    language: str | None = None
    parameters: list[str] | None = None


class BroadcastContent(Answer):
    """Free text or a template, and an optional image."""

    text: str | None = None
    title: str | None = Field(None, description="The one-line title recipients outside the 24-hour window see in "
                                                "the notice template (given, or the text's first line).")
    template: BroadcastTemplate | None = None
    image_url: str | None = None
    alert: dict[str, str] | None = Field(None, description="Allerte: a notice made from an official alert, its "
                                         "kind (alert, update, end) and level (yellow, orange, red).")


class BroadcastAudience(Answer):
    """Hamlets and topics the broadcast is for; empty means everyone."""

    hamlets: list[str]
    topics: list[str]


class Counters(Answer):
    recipients: Count
    sent: Count
    delivered: Count
    read: Count
    failed: Count
    skipped: Count = Field(description="Left (DISATTIVA) after the broadcast started.")
    ambiguous: Count = Field(description="Sends whose outcome nobody could tell: retried, maybe twice.")
    failed_by_reason: dict[str, Count]


class Broadcast(Answer):
    """A broadcast with its progress and counters."""

    id: str
    channel: str
    status: Literal[tuple(ACTIONS)]
    content: BroadcastContent
    audience: BroadcastAudience
    priority: Literal[PRIORITIES]
    send_at: datetime
    due_at: datetime = Field(description="When it goes: send_at, or the end of the channel's quiet hours.")
    created_by: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    pause_reason: str | None
    fanout_done: bool
    progress: float = Field(ge=0, le=100, description="Percent of recipients the sender is done with.")
    counters: Counters


class BroadcastPage(Answer):
    """A page of broadcasts, newest first."""

    items: list[Broadcast]
    next: str | None = next_page()


class PreviewTemplate(Answer):
    needed: bool = Field(description="A template is needed: the content is one, or recipients are outside the window.")
    name: str | None
    approved: bool
    category: str | None
    previous_category: str | None = Field(None, description="The category the comune asked for, when WhatsApp "
                                          "re-categorised the template (a marketing one costs more and reaches "
                                          "fewer people).")


class PreviewMessage(Answer):
    """One message as the recipient's phone shows it."""

    kind: Literal["text", "image", "template"]
    text: str | None = Field(None, description="What the citizen reads; a template's only when the channel "
                                               "declared its approved text.")
    image_url: str | None = None
    template: str | None = Field(None, description="The template's name.")
    parameters: list[str] | None = Field(None, description="The template's parameters (the notice's: its title).")
    buttons: list[str] | None = Field(None, description="The template's quick-reply buttons, as declared.")


class PreviewGroup(Answer):
    """A group of recipients and what each of them receives."""

    group: Literal["everyone", "inside_window", "outside_window"]
    recipients: Count
    messages: list[PreviewMessage]
    after_tap: list[PreviewMessage] = Field(description="What the notice's button brings when tapped: the full "
                                                        "text, free-form in the window the tap opens.")


class Preview(Answer):
    """Who the broadcast reaches and what WhatsApp will ask of it, with warnings rather than silent truncation."""

    audience: Count
    outside_window: Count = Field(description="Recipients whose last message is older than 24 hours.")
    template: PreviewTemplate
    messaging_limit: int = Field(description="Recipients outside the window WhatsApp takes per 24 hours.")
    rate_per_second: float
    estimated_seconds: float | None
    due_at: datetime
    warnings: list[str]
    receives: list[PreviewGroup] = Field(description="Which group of recipients receives what.")


class BroadcastQuery(Query):
    limit: int = page_size(20)
    cursor: str | None = cursor()
