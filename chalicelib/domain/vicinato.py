"""Vicinato (neighbourhood watch): zones, the people of a zone and their roles, the relay's cases, and the pure rules
of the relay (handles, guard-rail words, escalation, the monthly figures). docs/vicinato.md explains the whole."""
from __future__ import annotations

import re
import statistics
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Annotated, Any

from pydantic import Field, StrictBool

from chalicelib.domain.keywords import normalize_text

# ---- the tenant's set-up (tenant setting `vicinato`; validated with the other settings, domain/settings.py) --------

ZONES_MAX = 200  # Modena runs 93 groups
STREETS_MAX = 200
Id = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9_-]*$")]


def _settings_model(cls):
    from pydantic import ConfigDict, with_config
    return with_config(ConfigDict(extra="forbid"))(dataclass(frozen=True)(cls))


@_settings_model
class Zone:
    """A Vicinato zone: a hamlet, or a list of streets (and optionally an outline) inside one. Its people (members,
    coordinator, stand-in) are records of the `vicinato_members` table, never settings; its police referent is a
    staff member with the `police` role (their subject), who approves joins and gets what escalates."""

    id: Id
    name: Annotated[str, Field(min_length=1, max_length=80)]
    short_name: Annotated[str | None, Field(min_length=1, max_length=24)] = None  # a WhatsApp list row: 24 chars
    hamlet: Annotated[str | None, Field(max_length=64)] = None  # the hamlet (frazione) it sits in
    streets: Annotated[tuple[Annotated[str, Field(min_length=2, max_length=80)], ...], Field(max_length=STREETS_MAX)] = ()
    geometry: dict[str, Any] | None = None  # a GeoJSON Polygon, as a hamlet's (checked by domain.outlines when saved)
    police_referent: Annotated[str, Field(max_length=128, description="the staff subject of the police referent "
                               "(role police) for the zone; empty: any police staff")] = ""

    @property
    def list_title(self) -> str:
        return (self.short_name or self.name)[:24]


VIGILANTISM_WORDS = ("ronda", "ronde", "andiamo a", "lo prendiamo", "la prendiamo", "li prendiamo", "inseguire",
                     "inseguiamo", "fermiamolo", "fermiamoli", "pattuglia", "pattugliare", "facciamo giustizia")
EMERGENCY_WORDS = ("aiuto", "emergenza", "rapina", "aggressione", "sta entrando", "stanno entrando", "ladri in casa",
                   "furto in corso", "incendio", "armato", "armi", "coltello", "spari", "ferito", "feriti", "violenza",
                   "112")


@_settings_model
class VicinatoSettings:
    """The comune's Vicinato set-up (tenant setting `vicinato`): zones and the relay's knobs."""

    enabled: StrictBool = False
    zones: Annotated[tuple[Zone, ...], Field(max_length=ZONES_MAX)] = ()
    id_required: Annotated[StrictBool, Field(description="joining needs a photo of an ID document")] = True
    id_photo_days: Annotated[int, Field(ge=0, le=365, strict=True, description="days the ID photo is kept after "
                             "the police decided (approved or refused); 0: deleted at the next sweep")] = 30
    coordinator_minutes: Annotated[int, Field(ge=1, le=7 * 24 * 60, strict=True, description="minutes the "
                                   "coordinator has to act on a report before the stand-in gets it")] = 120
    stand_in_minutes: Annotated[int, Field(ge=1, le=7 * 24 * 60, strict=True, description="minutes the stand-in "
                                "has before the police referent gets it")] = 120
    reports_per_hour: Annotated[int, Field(ge=1, le=100, strict=True, description="reports one member may send in "
                                "an hour; past it they are asked to wait")] = 4
    messages_per_hour: Annotated[int, Field(ge=5, le=1000, strict=True, description="messages one member may send "
                                 "in an hour; past it they are slowed down")] = 40
    report_days: Annotated[int, Field(ge=7, le=3 * 365, strict=True, description="days a member's report is kept "
                           "after it was closed (forwarded, notified or archived)")] = 180
    vigilantism_words: Annotated[tuple[Annotated[str, Field(min_length=3, max_length=64)], ...], Field(
        max_length=100)] = VIGILANTISM_WORDS
    emergency_words: Annotated[tuple[Annotated[str, Field(min_length=2, max_length=64)], ...], Field(
        max_length=100)] = EMERGENCY_WORDS

    def zone(self, zone_id: str | None) -> Zone | None:
        return next((z for z in self.zones if z.id == zone_id), None)


# ---- people -------------------------------------------------------------------------------------------------------

ROLES = ("member", "coordinator", "stand_in")
# joining: the citizen is answering the join questions on WhatsApp; pending: waiting for the police's decision;
# active: a member (or coordinator) of the zone; refused: the police said no; left: ESCI VICINATO or removed
MEMBER_STATUSES = ("joining", "pending", "active", "refused", "left")
MAX_NAME = 120
MAX_ADDRESS = 200


@dataclass(frozen=True)
class Person:
    """Someone of a zone on the comune's safety channel: a member, its coordinator or its stand-in. Identity (name,
    address, number) is for the police (and, for members of their zone, the coordinator on the console: not built);
    to everyone else they are their handle."""

    tenant_id: str
    channel_id: str
    citizen_key: str  # E.164 phone, else "bsuid:<id>"
    zone_id: str | None
    role: str = "member"
    status: str = "joining"
    phone: str | None = None
    user_id: str | None = None
    name: str | None = None
    address: str | None = None
    handle_no: int | None = None  # "Vicino 12": unique per zone, given at approval
    street: str | None = None  # the street of the address without the house number: the handle's second part
    source: str = "whatsapp"  # whatsapp, web (the portal), staff (a coordinator appointed by the administration)
    id_photo_key: str | None = None  # S3 key of the ID photo (police only); None once deleted
    id_photo_delete_at: datetime | None = None  # set at the decision: the sweep deletes it after this
    notice_version: str | None = None  # the privacy notice version consented to
    prefettura_date: str | None = None  # a coordinator's nulla osta of the Prefettura (ISO date)
    prefettura_ref: str | None = None
    requested_at: datetime | None = None
    decided_at: datetime | None = None
    decided_by: str | None = None  # staff subject
    refusal_note: str | None = None
    left_at: datetime | None = None
    step: str | None = None  # where this person's WhatsApp exchange is (JOIN_STEPS, REPORT_STEPS, COORD_STEPS)
    draft: dict[str, Any] = field(default_factory=dict)  # the answers so far of the exchange
    updated_at: datetime | None = None
    expires_at: datetime | None = None

    @property
    def key(self) -> str:
        return member_key(self.channel_id, self.citizen_key)

    @property
    def active(self) -> bool:
        return self.status == "active"

    @property
    def coordinates(self) -> bool:
        return self.active and self.role in ("coordinator", "stand_in")

    def handle(self) -> str:
        return handle(self.handle_no, self.street)


def member_key(channel_id: str, citizen_key: str) -> str:
    return f"{channel_id}#{citizen_key}"


_HOUSE_NUMBER = re.compile(r"[\s,]*(n\.?\s*)?\d+[a-zA-Z]?(/\d+)?\b.*$")


def street_of(address: str | None) -> str | None:
    """The street of an address without the house number (and anything after it): 'via Roma 12, int. 3' ->
    'via Roma'. Nothing a citizen typed after the street ever reaches another member."""
    if not address:
        return None
    street = _HOUSE_NUMBER.sub("", address.strip()).strip(" ,.-")
    return street[:60] or None


def handle(number: int | None, street: str | None) -> str:
    """How members appear to each other: 'Vicino 12 · via Roma'."""
    base = f"Vicino {number}" if number else "Vicino"
    return f"{base} · {street}" if street else base


# ---- the relay's cases (a member's report to the coordinator) -----------------------------------------------------

# queued: waiting for the coordinator (or the stand-in, or the police referent, by stage); forwarded: passed to the
# police desk (a safety report); notified: the zone was warned through a broadcast; archived: closed with a reason
CASE_STATUSES = ("queued", "forwarded", "notified", "archived")
OPEN_CASE = ("queued",)
# a request from the portal (services.vicinato.web_join): the person's step while it waits for the owner's tap, and
# the prefix of that confirmation's buttons (the relay hands them to web_join)
WEB_STEP = "w_confirm"
WEB_JOIN_PREFIX = "vic:webjoin:"
STAGES = ("coordinator", "stand_in", "referent")  # who must act now: escalation moves it along
ARCHIVE_REASONS = ("not_relevant", "duplicate", "not_vicinato", "insufficient", "resolved")
MAX_FIELD = 500  # characters of each answer of the exchange (what, where, when, description)
MAX_CASE_EVENTS = 60
MAX_CASE_PHOTOS = 5


@dataclass(frozen=True)
class CaseEvent:
    at: datetime
    actor: str  # "member", "coordinator", "stand_in", "system", or a staff subject
    action: str  # created, photo_requested, photo, forwarded, notified, archived, escalated, police_status
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Case:
    """One member's report in the relay: to the zone's coordinator, never to the other members."""

    tenant_id: str
    case_id: str  # sortable by time: "20261206T101500123456-a1b2c3"
    zone_id: str
    channel_id: str
    member_key: str  # "<channel>#<citizen key>" of the reporting member
    handle: str  # the member's handle when they reported
    what: str = ""
    where: str = ""
    when: str = ""
    description: str = ""
    position: dict[str, float | str] | None = None  # {"latitude", "longitude", "address"?}
    urgent: bool = False
    status: str = "queued"
    stage: str = "coordinator"
    handler_key: str | None = None  # the member key of who holds it now (coordinator, stand-in); None: police
    due_at: datetime | None = None  # when it escalates if nobody acted (None once acted on, or at the police)
    photo_requested: bool = False
    photos: tuple[dict[str, Any], ...] = ()  # {"id", "key", "content_type", "size", "at"}
    archive_reason: str | None = None
    coordinator_note: str | None = None
    safety_report_id: str | None = None  # the police desk's report once forwarded
    broadcast_id: str | None = None  # the zone notice once notified
    created_at: datetime | None = None
    acted_at: datetime | None = None  # the first action (forward, notify, archive)
    forwarded_at: datetime | None = None
    closed_at: datetime | None = None
    events: tuple[CaseEvent, ...] = ()
    expires_at: datetime | None = None

    @property
    def open(self) -> bool:
        return self.status in OPEN_CASE

    def summary(self) -> str:
        """The report as the coordinator reads it: the handle, never a name or number."""
        return "\n".join(part for part in (self.what, self.where, self.when, self.description) if part)


def escalation(stage: str, settings: VicinatoSettings) -> tuple[str, timedelta | None]:
    """The stage after `stage` when nobody acted in time, and how long that one has (None: the last, the police referent)."""
    if stage == "coordinator":
        return "stand_in", timedelta(minutes=settings.stand_in_minutes)
    return "referent", None


def first_due(created: datetime, settings: VicinatoSettings) -> datetime:
    return created + timedelta(minutes=settings.coordinator_minutes)


# ---- guard-rail words ---------------------------------------------------------------------------------------------

def _has_any(text: str | None, words: tuple[str, ...]) -> bool:
    padded = f" {normalize_text(text or '')} "
    return any(f" {normalize_text(word)} " in padded for word in words)


def is_emergency(text: str | None, settings: VicinatoSettings, extra: tuple[str, ...] = ()) -> bool:
    return _has_any(text, tuple(settings.emergency_words) + tuple(extra))


def suggests_vigilantism(text: str | None, settings: VicinatoSettings) -> bool:
    return _has_any(text, tuple(settings.vigilantism_words))


# ---- the monthly report for the Prefettura and the council --------------------------------------------------------

MONTHLY_COLUMNS = ("zone", "zone_name", "members", "joined", "left", "reports", "urgent", "forwarded", "notified",
                   "archived", "escalated", "police_notices", "median_minutes_to_forward")


@dataclass(frozen=True)
class ZoneMonth:
    zone: str
    zone_name: str
    members: int = 0  # active at the end of the month (or now, for the current month)
    joined: int = 0
    left: int = 0
    reports: int = 0
    urgent: int = 0
    forwarded: int = 0
    notified: int = 0
    archived: int = 0
    escalated: int = 0
    police_notices: int = 0
    median_minutes_to_forward: float | None = None

    def row(self) -> list:
        return [getattr(self, name) if getattr(self, name) is not None else "" for name in MONTHLY_COLUMNS]


def median_minutes(pairs: list[tuple[datetime, datetime]]) -> float | None:
    """The median time from report to forwarding, in minutes (one decimal); None without forwarded reports."""
    if not pairs:
        return None
    return round(statistics.median((done - start).total_seconds() / 60 for start, done in pairs), 1)
