"""Reports and safety tips: the lifecycle, who may move them, categories, numbers and duplicates."""
from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

KINDS = ("report", "safety")

OPEN = ("new", "triaged", "assigned", "forwarded", "in_progress")
CLOSED = ("resolved", "rejected", "duplicate")
STATUSES = OPEN + CLOSED

# Lifecycle (DESIGN.md "Reports and tips"): where each status may go next.
TRANSITIONS: dict[str, frozenset[str]] = {
    "new": frozenset({"triaged", "assigned", "forwarded", "rejected", "duplicate"}),
    "triaged": frozenset({"assigned", "forwarded", "in_progress", "resolved", "rejected", "duplicate"}),
    "assigned": frozenset({"assigned", "forwarded", "in_progress", "resolved", "rejected"}),
    "forwarded": frozenset({"assigned", "in_progress", "resolved", "rejected"}),
    "in_progress": frozenset({"assigned", "resolved", "rejected"}),
    "resolved": frozenset({"in_progress"}),  # reopened
    "rejected": frozenset({"triaged"}),
    "duplicate": frozenset(),
}

SAFETY_OUTCOMES = ("patrol_sent", "no_action", "passed_to_carabinieri", "passed_to_other")

# A tip is the police's own work: it is never assigned to a works team nor forwarded to an external body, so those
# steps do not exist for it (issue 13: the console offered them and they failed).
KIND_WITHOUT = {"report": frozenset(), "safety": frozenset({"assigned", "forwarded"})}

# Whether a step tells the citizen when staff do not say: the safe default per step (issue 13: an internal step
# with its working note reached a citizen). A message cannot be taken back, a missed one can be sent as a public
# note, so only the steps a citizen must hear of are public by default: another body is in charge, work started,
# done, refused. A tip's steps never are (what the police do stays with the police unless they choose).
PUBLIC_BY_DEFAULT = {"report": frozenset({"forwarded", "in_progress", "resolved", "rejected"}), "safety": frozenset()}


_NUMBER = re.compile(r"^\s*(?:([0-9]{4})\s*/\s*)?([0-9]{1,7})\s*$")  # ASCII digits (domain/numbers.py)
_REPORT_ID = re.compile(r"[0-9]{4}-[0-9]{7}")


class NotAllowed(ValueError):
    """A lifecycle step that the current status does not allow."""


def check_transition(current: str, target: str, kind: str = "report") -> None:
    if target not in STATUSES:
        raise NotAllowed(f"unknown status {target!r}")
    if target in KIND_WITHOUT.get(kind, frozenset()):
        raise NotAllowed(f"a {kind} tip cannot become {target}")
    if target not in TRANSITIONS.get(current, frozenset()):
        raise NotAllowed(f"a report {current} cannot become {target}")


def next_steps(kind: str, current: str) -> tuple[str, ...]:
    """The statuses staff may move a report of kind to from current, in lifecycle order (a duplicate is made by
    merging, not by a step)."""
    allowed = TRANSITIONS.get(current, frozenset()) - KIND_WITHOUT.get(kind, frozenset()) - {"duplicate"}
    return tuple(status for status in STATUSES if status in allowed)


def public_by_default(kind: str, target: str) -> bool:
    """Whether a step to target tells the citizen when staff do not choose (PUBLIC_BY_DEFAULT)."""
    return target in PUBLIC_BY_DEFAULT.get(kind, frozenset())


def format_number(year: int, sequence: int) -> str:
    return f"{year}/{sequence}"


def report_id_for(year: int, sequence: int) -> str:
    """The stored id: sortable by time within a tenant, and derived from the public number."""
    return f"{year}-{sequence:07d}"


def is_report_id(text: str) -> bool:
    """Whether text can be a stored report id (report_id_for): anything else is no report, and is never read."""
    return bool(_REPORT_ID.fullmatch(text or ""))


def parse_number(text: str, current_year: int) -> str | None:
    """'42' or '2026/42' as a citizen types it -> the report id, or None."""
    match = _NUMBER.match(text or "")
    if not match:
        return None
    year = int(match.group(1) or current_year)
    return report_id_for(year, int(match.group(2)))


@dataclass(frozen=True)
class Position:
    latitude: float
    longitude: float
    address: str | None = None  # as the citizen or the provider gave it


@dataclass(frozen=True)
class Event:
    """One step of a report's history: a status change, a note, a photo, a merge."""

    at: datetime
    actor: str  # "citizen", "system" or the staff member's subject
    action: str  # created, status, note, photo (audio, video, document), location, category, follower, merged, forwarded
    public: bool = False
    note: str | None = None
    status: str | None = None
    data: dict[str, Any] = field(default_factory=dict)


MAX_BOXES = 20  # boxes drawn over one photo
MAX_PUBLIC_TITLE = 120
MAX_PUBLIC_DESCRIPTION = 1000
CORRECTABLE = ("category", "hamlet", "position", "address")  # what staff may correct of what automation guessed


def is_open(status: str) -> bool:
    return status in OPEN


def is_unseen(status: str, seen_at: datetime | None) -> bool:
    """A new arrival the office has still to look at: still new, and nobody who may read it has opened it. A step
    (triaged, merged, rejected...) takes it off the list too: someone has dealt with it."""
    return status == "new" and seen_at is None


def file_action(kind: str) -> str:
    """The history's word for a file a citizen sent: "photo" for an image, else its kind (audio, video, document)."""
    return "photo" if kind == "image" else kind


@dataclass(frozen=True)
class Photo:
    """A file a citizen sent with a report: a photo (kind image), a voice note or audio, a video or a document.
    Only a photo has a public copy (metadata stripped) and can ever be published."""

    id: str
    status: str  # stored, refused, failed; pending while a failed fetch waits to be tried again
    original_key: str | None = None  # staff only
    public_key: str | None = None  # metadata stripped
    content_type: str | None = None
    size: int | None = None
    reason: str | None = None  # why it was refused or not fetched
    published: bool = False  # staff chose to show its public copy on the citizen portal (never for tips)
    kind: str = "image"  # image, audio, video or document (domain/attachments.py)
    # staff's boxes over faces and plates, burnt into a copy of the public one (images.redact): the copy the portal
    # shows when there is one; the original and the public copy stay as they were
    redacted_key: str | None = None
    boxes: tuple[tuple[float, float, float, float], ...] = ()  # (x, y, width, height), fractions of the picture


@dataclass(frozen=True)
class Report:
    """A report (kind report) or a safety tip (kind safety) of a tenant, numbered per year."""

    tenant_id: str
    report_id: str
    number: str
    kind: str
    status: str
    created_at: datetime
    updated_at: datetime
    source: str = "whatsapp"
    channel_id: str | None = None
    citizen_key: str | None = None  # the reporter on the channel; None for a desk report without contact
    contact: dict[str, str] = field(default_factory=dict)  # desk reports: name, phone, email as given
    text: str = ""
    category: str | None = None
    hamlet: str | None = None
    position: Position | None = None
    address: str | None = None
    photos: tuple[Photo, ...] = ()
    team: str | None = None
    assignee: str | None = None  # the staff member in charge (their subject), besides the team
    assignee_name: str | None = None  # their name when assigned
    external: dict[str, Any] = field(default_factory=dict)  # body id, name, email, reference, forwarded_at
    outcome: str | None = None
    duplicate_of: str | None = None
    followers: tuple[str, ...] = ()  # "<channel id>#<citizen key>"
    public_token: str = ""
    last_citizen_at: datetime | None = None
    first_response_at: datetime | None = None
    resolved_at: datetime | None = None
    events: tuple[Event, ...] = ()
    version: int | None = None
    seen_at: datetime | None = None  # when staff who may read it first opened it (services.reports.arrivals)
    seen_by: str | None = None
    # the text staff approved for the public (title, description, by, at); empty: the default from category and
    # hamlet (services/reports/public_view.py). The citizen's own words (text) never leave the office.
    public_text: dict[str, str] = field(default_factory=dict)
    zone: str | None = None  # a Vicinato zone id: set on a safety report a Vicinato coordinator forwarded

    @property
    def reporter(self) -> str | None:
        return f"{self.channel_id}#{self.citizen_key}" if self.channel_id and self.citizen_key else None

    def concerns(self, subject: str) -> bool:
        """Whether a citizen ("<channel>#<key>") reported or follows this report."""
        return subject == self.reporter or subject in self.followers

    def missing(self) -> list[str]:
        """What the receipt asks for: position and photo, when absent."""
        needs = []
        if self.position is None and not self.address:
            needs.append("position")
        if not any(p.status == "stored" and p.kind == "image" for p in self.photos):
            needs.append("photo")
        return needs


# ---- what one report holds ------------------------------------------------------------------------------
# A report and its history are one DynamoDB item, and an item holds 400 KB (409,600 bytes). One citizen's 111
# messages of 4,000 characters in the draft window once passed it: 17 went to the dead-letter queue unanswered and
# staff's next note was a 500 (issue 13). Three bounds keep every write of a report inside it:
MAX_EVENT_TEXT = 4096  # characters of one event's text: a WhatsApp text is at most 4,096 (staff notes 2,000)
MAX_TEXT = 4000  # characters of what the citizen wrote, joined; every message stays whole in its event


class ReportFull(ValueError):
    """A write that would grow a report past what its writer may fill."""


@dataclass(frozen=True)
class Room:
    """How far one kind of write may fill a report: events in its history, and bytes (size_of)."""

    events: int
    bytes: int
    who: str


# Who fills a report, and up to where: a citizen's draft first, then staff's notes, then the steps that must always
# fit (a step without text, a photo fetched later, a follower), under DynamoDB's limit with room to spare: size_of
# counts at least what DynamoDB does, and the store adds at most 10 KB (the search text and the reporter key).
CITIZEN_ROOM = Room(events=120, bytes=200_000, who="citizen")
STAFF_ROOM = Room(events=250, bytes=300_000, who="staff")
SYSTEM_ROOM = Room(events=400, bytes=350_000, who="system")


def size_of(report: Report) -> int:
    """An estimate of the report's stored size, never below what DynamoDB counts for it: the length of its JSON with
    every character past ASCII escaped (6 bytes, 12 for an emoji), as the store writes its history; names, quotes
    and separators cost more than DynamoDB's overhead per attribute."""
    return len(json.dumps(asdict(report), default=str))


def citizen_addition(words: str) -> int:
    """The most one citizen message carrying these words adds: the words in its event and in the report's text,
    escaped as size_of counts them, and the event's other fields (a photo, a position)."""
    return 2 * len(json.dumps(words[:MAX_EVENT_TEXT])) + 1_000


def check_room(before: Report | None, after: Report, room: Room) -> None:
    """ReportFull when after grows the report (more events or more bytes than before) past room."""
    size = size_of(after)
    if len(after.events) <= room.events and size <= room.bytes:
        return
    if before is not None and len(after.events) <= len(before.events) and size <= size_of(before):
        return  # no bigger than it was: a photo settled, a citizen erased
    raise ReportFull(f"Report {after.number} is full: its history holds at most {room.events} steps and about "
                     f"{room.bytes // 1000} KB for {room.who} writes. Open a new report, and name this one in it.")


def has_room_for_citizen(draft: Report, words: str) -> bool:
    """Whether a citizen message carrying these words still fits their draft."""
    return len(draft.events) < CITIZEN_ROOM.events and size_of(draft) + citizen_addition(words) <= CITIZEN_ROOM.bytes


def joined(text: str, addition: str) -> str:
    """The report's text with what the citizen added, at most MAX_TEXT characters."""
    return (f"{text}\n{addition}".strip() if text else addition.strip())[:MAX_TEXT]
