"""Broadcast rules: audiences, priorities, when one may be sent, its lifecycle and who needs a template."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from chalicelib.domain.hours import DailyWindow, outside

SERVICE_WINDOW = timedelta(hours=24)  # after a citizen's last message, free text is allowed
NOTICE_TITLE_MAX = 60  # the one-line title the notice template carries outside the window
NOTICE_PAYLOAD_PREFIX = "notice:"  # the notice's "Leggi l'avviso" button: notice:<broadcast id>
BROADCAST_ID = re.compile(r"\d{8}T\d{12}-[0-9a-f]{6}")  # 20261201T090000123456-a1b2c3 (services/broadcasts/compose)
PRIORITIES = ("normal", "alert")

# status -> the actions staff may take from it
ACTIONS = {
    "draft": {"schedule", "cancel"},
    "scheduled": {"cancel", "pause"},
    "sending": {"pause", "cancel"},
    "paused": {"resume", "cancel"},
    "completed": set(),
    "cancelled": set(),
}
ACTION_RESULT = {"schedule": "scheduled", "cancel": "cancelled", "pause": "paused", "resume": "sending"}


@dataclass(frozen=True)
class Audience:
    """Hamlets and topics a broadcast is for; empty means everyone."""

    hamlets: tuple[str, ...] = ()
    topics: tuple[str, ...] = ()
    # Vicinato (docs/vicinato.md): the active people of these zones instead of the channel's subscribers, but for
    # the citizen keys in exclude (the coordinator who wrote the notice)
    zones: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()

    def includes(self, hamlets: tuple[str, ...] | list[str], topics: tuple[str, ...] | list[str]) -> bool:
        """A subscriber who chose no hamlet (or no topic) wants them all."""
        return _overlaps(self.hamlets, hamlets) and _overlaps(self.topics, topics)


def _overlaps(wanted: tuple[str, ...], chosen) -> bool:
    return not wanted or not chosen or bool(set(wanted) & set(chosen))


@dataclass(frozen=True)
class Counters:
    recipients: int = 0
    sent: int = 0
    delivered: int = 0
    read: int = 0
    failed: int = 0  # refused on send, or reported failed later by a status webhook
    skipped: int = 0  # left (DISATTIVA) after the broadcast started
    failed_on_send: int = 0
    ambiguous: int = 0  # sends whose outcome nobody could tell (a timeout after sending): retried, maybe twice
    failed_by_reason: dict[str, int] = field(default_factory=dict)

    @property
    def settled(self) -> int:
        """Recipients the sender is done with (a later failed status does not count twice)."""
        return self.sent + self.failed_on_send + self.skipped


def due_time(send_at: datetime, priority: str, quiet: DailyWindow | None) -> datetime:
    """When a broadcast may go: an alert at once, a normal one not in quiet hours."""
    return send_at if priority == "alert" else outside(quiet, send_at)


def in_service_window(last_inbound_at: datetime | None, now: datetime) -> bool:
    return last_inbound_at is not None and now - last_inbound_at < SERVICE_WINDOW


def can(status: str, action: str) -> bool:
    return action in ACTIONS.get(status, set())


def is_finished(counters: Counters, fanout_done: bool) -> bool:
    return fanout_done and counters.settled >= counters.recipients


def notice_title(text: str) -> str:
    """The one-line title a free-text broadcast's notice carries outside the window: its first line that is not
    blank, spaces and tabs collapsed, shortened at a word to NOTICE_TITLE_MAX with an ellipsis."""
    first = next((line for line in text.splitlines() if line.strip()), "")
    title = " ".join(first.split())
    if len(title) <= NOTICE_TITLE_MAX:
        return title
    cut = title[:NOTICE_TITLE_MAX - 1]
    if " " in cut:
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip(" ,;:.-") + "…"


def notice_payload(broadcast_id: str) -> str:
    """What the notice's button carries, so that a tap finds its broadcast."""
    return NOTICE_PAYLOAD_PREFIX + broadcast_id


def is_notice_tap(payload: str | None) -> bool:
    return bool(payload) and payload.startswith(NOTICE_PAYLOAD_PREFIX)


def notice_id(payload: str) -> str | None:
    """The broadcast id a notice tap asks for; None when the payload is not one we could have sent."""
    candidate = payload.removeprefix(NOTICE_PAYLOAD_PREFIX)
    return candidate if BROADCAST_ID.fullmatch(candidate) else None
