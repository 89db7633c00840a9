"""Reports and safety tips: the lifecycle, who may move them, categories, numbers and duplicates."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from chalicelib.domain.keywords import normalize_text

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

# Who works each kind: tips are read by municipal police only (DESIGN.md), reports by the technical office.
SAFETY_OUTCOMES = ("patrol_sent", "no_action", "passed_to_carabinieri", "passed_to_other")

DEFAULT_DUPLICATE_METRES = 50.0
DEFAULT_DUPLICATE_DAYS = 14
DEFAULT_DRAFT_MINUTES = 15

_NUMBER = re.compile(r"^\s*(?:(\d{4})\s*/\s*)?(\d{1,7})\s*$")


class NotAllowed(ValueError):
    """A lifecycle step that the current status does not allow."""


@dataclass(frozen=True)
class Category:
    id: str
    name: str
    keywords: tuple[str, ...] = ()
    team: str | None = None  # the team that usually handles it
    external_body: str | None = None  # or the body in charge (Provincia, Consorzio di bonifica)


@dataclass(frozen=True)
class Team:
    id: str
    name: str


@dataclass(frozen=True)
class ExternalBody:
    id: str
    name: str
    email: str


@dataclass(frozen=True)
class ReportSettings:
    """A tenant's report set-up: categories with keyword hints, teams, external bodies, thresholds."""

    categories: tuple[Category, ...] = ()
    teams: tuple[Team, ...] = ()
    external_bodies: tuple[ExternalBody, ...] = ()
    duplicate_metres: float = DEFAULT_DUPLICATE_METRES
    duplicate_days: int = DEFAULT_DUPLICATE_DAYS

    @classmethod
    def from_settings(cls, raw: dict[str, Any] | None) -> ReportSettings:
        raw = raw or {}
        return cls(
            categories=tuple(Category(c["id"], c["name"], tuple(c.get("keywords", ())), c.get("team"),
                                      c.get("external_body")) for c in raw.get("categories", ())),
            teams=tuple(Team(t["id"], t["name"]) for t in raw.get("teams", ())),
            external_bodies=tuple(ExternalBody(b["id"], b["name"], b["email"]) for b in raw.get("external_bodies", ())),
            duplicate_metres=float(raw.get("duplicate_metres", DEFAULT_DUPLICATE_METRES)),
            duplicate_days=int(raw.get("duplicate_days", DEFAULT_DUPLICATE_DAYS)),
        )

    def category_id_for(self, text: str | None) -> str | None:
        """The category the text's keyword hints point to, when exactly one does."""
        found = guess_category(text, self.categories)
        return found.id if found else None

    def category(self, category_id: str | None) -> Category | None:
        return next((c for c in self.categories if c.id == category_id), None)

    def team(self, team_id: str | None) -> Team | None:
        return next((t for t in self.teams if t.id == team_id), None)

    def external_body(self, body_id: str | None) -> ExternalBody | None:
        return next((b for b in self.external_bodies if b.id == body_id), None)


def guess_category(text: str | None, categories: tuple[Category, ...]) -> Category | None:
    """The one category whose keyword hints appear in the text; None when none or several do."""
    words = normalize_text(text or "")
    if not words:
        return None
    padded = f" {words} "
    found = [c for c in categories if any(_mentions(padded, normalize_text(k)) for k in c.keywords)]
    return found[0] if len(found) == 1 else None


def _mentions(padded_text: str, keyword: str) -> bool:
    """Whole words, with a plural or gender ending allowed: 'buca' matches 'buche' and 'buca'."""
    if not keyword:
        return False
    if f" {keyword} " in padded_text:
        return True
    stem = keyword[:-1] if len(keyword) > 4 else keyword
    return re.search(rf"\s{re.escape(stem)}\w{{0,2}}\s", padded_text) is not None


def check_transition(current: str, target: str) -> None:
    if target not in STATUSES:
        raise NotAllowed(f"unknown status {target!r}")
    if target not in TRANSITIONS.get(current, frozenset()):
        raise NotAllowed(f"a report {current} cannot become {target}")


def format_number(year: int, sequence: int) -> str:
    return f"{year}/{sequence}"


def report_id_for(year: int, sequence: int) -> str:
    """The stored id: sortable by time within a tenant, and derived from the public number."""
    return f"{year}-{sequence:07d}"


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
    action: str  # created, status, note, photo, location, category, follower, merged, forwarded
    public: bool = False
    note: str | None = None
    status: str | None = None
    data: dict[str, Any] = field(default_factory=dict)


def is_open(status: str) -> bool:
    return status in OPEN


@dataclass(frozen=True)
class Photo:
    id: str
    status: str  # stored, refused, failed; pending while a failed fetch waits to be tried again
    original_key: str | None = None  # staff only
    public_key: str | None = None  # metadata stripped
    content_type: str | None = None
    size: int | None = None
    reason: str | None = None  # why it was refused or not fetched
    published: bool = False  # staff chose to show its public copy on the citizen portal (never for tips)


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
        if not any(p.status == "stored" for p in self.photos):
            needs.append("photo")
        return needs
