"""Every knob a comune (tenant) and each of its WhatsApp channels has: what it does, its default and bounds.

A tenant's settings and a channel's settings are data in the `tenants` and `channels` tables, never code. They
are validated here when they are written (store.directory.save_tenant / save_channel); one written around those
(by hand in the table) is read leniently: a knob that does not validate takes its default and the error is
logged, so a typo never stops a comune's messages.
(The deployment's settings, from the environment, are chalicelib/settings.py.)
"""
from __future__ import annotations

from dataclasses import fields
from datetime import time, timedelta
from functools import partial
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import ConfigDict, Field, StrictBool, StrictFloat, StrictInt, TypeAdapter, ValidationError, field_validator
from pydantic.dataclasses import dataclass as pydantic_dataclass

from chalicelib.domain.hours import DailyWindow
from chalicelib.domain.keywords import guess_category

settings_model = partial(pydantic_dataclass, frozen=True, config=ConfigDict(extra="forbid"))  # unknown knobs refused
Id = Annotated[str, Field(min_length=1, max_length=64)]
Name = Annotated[str, Field(min_length=1, max_length=200)]
Number = StrictInt | StrictFloat


def whole(default: int, low: int, high: int, what: str):
    """A whole number from low to high (a JSON true or "90" is refused, not coerced)."""
    return Field(default, ge=low, le=high, description=what, strict=True)


# ---- a channel --------------------------------------------------------------------------------------------


@settings_model
class Hours:
    """A daily window in local time, e.g. {"start": "21:00", "end": "08:00"}; it may cross midnight.
    {"enabled": false} turns it off."""

    start: str | None = None  # "HH:MM"
    end: str | None = None
    timezone: str = "Europe/Rome"
    enabled: StrictBool = True

    @field_validator("start", "end")
    @classmethod
    def _clock_time(cls, value: str | None) -> str | None:
        if value is not None:
            time.fromisoformat(value)  # ValueError: not HH:MM
        return value

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}") from None
        return value

    def __post_init__(self) -> None:
        if self.enabled and (self.start is None or self.end is None):
            raise ValueError("hours need a start and an end (or enabled: false)")

    def window(self) -> DailyWindow | None:
        """The window, or None when turned off."""
        if not self.enabled:
            return None
        return DailyWindow(time.fromisoformat(self.start), time.fromisoformat(self.end), ZoneInfo(self.timezone))


@settings_model
class TemplateSetting:
    """A message template WhatsApp approved for the channel (WhatsApp Manager shows its name and language)."""

    name: Annotated[str, Field(min_length=1, max_length=512, pattern=r"^[a-z0-9_]+$")]
    language: Annotated[str, Field(min_length=2, max_length=15)] = "it"
    category: Literal["utility", "marketing", "authentication"] = "utility"
    status: Literal["APPROVED", "PENDING", "REJECTED", "PAUSED", "DISABLED"] = "APPROVED"  # as WhatsApp reports it

    @property
    def approved(self) -> bool:
        return self.status == "APPROVED"


TextKey = Annotated[str, Field(max_length=64)]
Text = Annotated[str, Field(max_length=4096)]  # WhatsApp's limit for a text message
Purpose = Literal["subscription_confirm", "notice", "report_update"]
TEMPLATE_PURPOSES = {
    "subscription_confirm": "broadcast: the double opt-in's confirmation request after a web form or staff import",
    "notice": "broadcast: a free-text broadcast to subscribers outside the 24-hour window (the text is its parameter)",
    "report_update": "reports, safety: a report's public change to its citizen outside the 24-hour window",
}


@settings_model
class ChannelSettings:
    """A WhatsApp channel's settings. Which knob matters depends on the channel's kind (broadcast, reports,
    safety); the others keep their defaults."""

    # every kind
    rate_per_second: Number = Field(80, gt=0, le=1000, description="messages a second WhatsApp lets the number "
                                    "send (Meta: 80 by default, up to 1,000); the sender paces to it")
    texts: dict[TextKey, Text] = Field(default_factory=dict, description="overrides of catalogue texts "
                                       "(messages/it.json), by key")
    templates: dict[Purpose, TemplateSetting] = Field(default_factory=dict, description="the approved template "
                                                      "for each purpose (TEMPLATE_PURPOSES)")
    # broadcast
    quiet_hours: Hours = Field(default_factory=lambda: Hours("21:00", "08:00"), description="when normal "
                               "broadcasts wait (alerts go at once); default 21:00-08:00 Europe/Rome")
    messaging_limit: StrictInt = whole(1000, 1, 10_000_000, "the number's daily limit of people reached outside the "
                                       "24-hour window (Meta's tiers: 250, 1,000, 10,000, 100,000); the preview "
                                       "warns past it")
    reports_number: str = Field("", max_length=32, description="the reports channel's number, which the broadcast "
                                "channel's auto-reply names; empty: not named")
    # reports and safety
    draft_minutes: StrictInt = whole(15, 1, 240, "minutes after a citizen's last message in which the next text, "
                                     "photo or position joins the same report")
    photo_max_bytes: StrictInt = whole(5 * 1024 * 1024, 64 * 1024, 5 * 1024 * 1024, "the largest photo kept "
                                       "(WhatsApp's own limit for images is 5 MB)")
    # safety
    registered_only: StrictBool = Field(True, description="only residents the police registered may send tips")
    watched_hours: Hours = Field(default_factory=lambda: Hours("08:00", "19:00"), description="when the police "
                                 "read tips (outside them the reply points to 112); default 08:00-19:00")

    def approved_templates(self) -> list[dict[str, str]]:
        """The channel's templates WhatsApp approved (name, language, category), one per name, for staff to pick."""
        seen: dict[str, dict[str, str]] = {}
        for t in self.templates.values():
            if t.approved:
                seen.setdefault(t.name, {"name": t.name, "language": t.language, "category": t.category})
        return list(seen.values())


# ---- a tenant (comune) ----------------------------------------------------------------------------------------


@settings_model
class Hamlet:
    """A frazione: subscribers choose it, reports are mapped to it by its outline."""

    id: Id
    name: Name
    latitude: Number  # a point inside the hamlet
    longitude: Number
    geometry: dict[str, Any] | None = None  # a GeoJSON Polygon or MultiPolygon (domain.geo)


@settings_model
class Topic:
    """A subject subscribers may choose (allerte, eventi, ...)."""

    id: Id
    name: Name


@settings_model
class Category:
    """A report category, with the keyword hints that recognise it in a citizen's text."""

    id: Id
    name: Name
    keywords: tuple[Annotated[str, Field(max_length=64)], ...] = ()
    team: Id | None = None  # the team that usually handles it
    external_body: Id | None = None  # or the body in charge (Provincia, Consorzio di bonifica)


@settings_model
class Team:
    id: Id
    name: Name


@settings_model
class ExternalBody:
    """A body reports can be forwarded to, by email."""

    id: Id
    name: Name
    email: Annotated[str, Field(min_length=3, max_length=254, pattern=r"^[^@\s]+@[^@\s]+$")]


@settings_model
class ReportSettings:
    """A comune's report set-up, the tenant setting `reports`."""

    categories: tuple[Category, ...] = Field((), description="what citizens report, with keyword hints and who "
                                             "usually handles each (a team or an external body)")
    teams: tuple[Team, ...] = Field((), description="the comune's own teams reports are assigned to")
    external_bodies: tuple[ExternalBody, ...] = Field((), description="bodies in charge that reports are forwarded "
                                                      "to by email (Provincia, Consorzio di bonifica, ...)")
    duplicate_metres: Number = Field(50.0, ge=0, le=5000, description="a report of the same category this close "
                                     "to an open one makes its citizen a follower of that one")
    duplicate_days: StrictInt = whole(14, 0, 365, "... and no older than this many days")

    def category(self, category_id: str | None) -> Category | None:
        return next((c for c in self.categories if c.id == category_id), None)

    def category_id_for(self, text: str | None) -> str | None:
        """The category the text's keyword hints point to, when exactly one does."""
        found = guess_category(text, self.categories)
        return found.id if found else None

    def team(self, team_id: str | None) -> Team | None:
        return next((t for t in self.teams if t.id == team_id), None)

    def external_body(self, body_id: str | None) -> ExternalBody | None:
        return next((b for b in self.external_bodies if b.id == body_id), None)


@settings_model
class Partner:
    """An Open311 client allowed to file requests: the comune keeps only its key's SHA-256."""

    name: Name
    key_sha256: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]


@settings_model
class Retention:
    """How long each kind of personal data is kept, in days: the tenant setting `retention` (docs/privacy.md).

    Each value becomes a DynamoDB TTL where the record is written: a citizen record of someone not (or no longer)
    subscribed, `inactive_citizens` days after their last contact; a delivery record, `deliveries` days after the
    send; a report or tip, `closed_reports` days after it was closed (resolved, rejected, duplicate).
    """

    inactive_citizens: StrictInt = whole(30, 1, 365, "days a citizen record outlives its last contact")
    deliveries: StrictInt = whole(90, 1, 400, "days a delivery record is kept after the send")
    closed_reports: StrictInt = whole(3 * 365, 30, 10 * 365, "days a report or tip is kept after it closed")

    def days(self, kind: str) -> timedelta:
        return timedelta(days=getattr(self, kind))

    @classmethod
    def from_settings(cls, raw: Any) -> Retention:
        return _validated(cls, raw)


@settings_model
class Limits:
    """Caps on what staff may do, the tenant setting `limits` (docs/reliability.md, rows A6 and A7)."""

    staff_requests_per_minute: StrictInt = whole(1200, 10, 100_000, "per staff member on the staff API (429 beyond)")
    broadcasts_per_user_per_hour: StrictInt = whole(20, 1, 1000, "broadcasts one staff member may create an hour")
    broadcasts_per_day: StrictInt = whole(100, 1, 10_000, "broadcasts the comune may create a day")
    broadcast_messages_per_day: StrictInt = whole(250_000, 1, 10_000_000, "the spending guard: recipients of the "
                                                  "broadcasts a comune starts in one day; past it a broadcast pauses")

    @classmethod
    def from_settings(cls, raw: Any) -> Limits:
        return _validated(cls, raw)


@settings_model
class TenantSettings:
    """A comune's settings: its map, subjects, privacy notice, language, reports, partners, retention, caps."""

    hamlets: tuple[Hamlet, ...] = Field((), description="the frazioni, with their outlines: audiences of "
                                        "broadcasts, and where a report's pin falls")
    topics: tuple[Topic, ...] = Field((), description="subjects subscribers may choose (allerte, eventi, ...)")
    privacy_notice_url: str = Field("", max_length=500, description="the privacy notice named when a citizen "
                                    "subscribes")
    privacy_notice_version: str = Field("", max_length=32, description="recorded with each consent")
    language: Literal["it"] = Field("it", description="of the citizen-facing texts (messages/it.json)")
    reports: ReportSettings = Field(default_factory=ReportSettings, description="the report set-up: ReportSettings")
    open311_partners: tuple[Partner, ...] = Field((), description="Open311 clients allowed to file requests")
    retention: Retention = Field(default_factory=Retention, description="days each kind of personal data is kept")
    limits: Limits = Field(default_factory=Limits, description="caps on staff requests and broadcasts")


DEFAULT_RETENTION = Retention()
DEFAULT_LIMITS = Limits()


def _validated(kind, raw: Any):
    """A settings object from stored JSON (None: the defaults); ValueError naming the knob when invalid."""
    try:
        return TypeAdapter(kind).validate_python(raw if raw is not None else {})
    except ValidationError as error:
        raise ValueError(_first_error(kind, error)) from None


def _first_error(kind, error: ValidationError) -> str:
    first = error.errors()[0]
    where = ".".join(str(part) for part in first["loc"])
    return f"{kind.__name__}{'.' + where if where else ''}: {first['msg']}"


def channel_settings(raw: Any) -> ChannelSettings:
    """A channel's settings as staff or a deploy write them; ValueError naming the knob when invalid."""
    return _validated(ChannelSettings, raw)


def tenant_settings(raw: Any) -> TenantSettings:
    """A tenant's settings as written; ValueError naming the knob when invalid."""
    return _validated(TenantSettings, raw)


def lenient(kind, raw: Any) -> tuple[Any, list[str]]:
    """Settings as stored, for reading: the knobs that do not validate take their defaults (with the errors)."""
    raw = raw if isinstance(raw, dict) else {}
    try:
        return _validated(kind, raw), []
    except ValueError:
        pass
    known = {f.name for f in fields(kind)}
    kept, errors = {}, []
    for name, value in raw.items():
        if name not in known:
            errors.append(f"{kind.__name__}: unknown knob {name!r}")
            continue
        try:
            _validated(kind, {name: value})
            kept[name] = value
        except ValueError as error:
            errors.append(str(error))
    return _validated(kind, kept), errors


def stored(settings) -> dict[str, Any]:
    """The JSON a settings object is saved as: the knobs set, not the defaults (a new default then applies)."""
    return TypeAdapter(type(settings)).dump_python(settings, mode="json", exclude_defaults=True)

