"""Every knob a comune (tenant) and each of its WhatsApp channels has: what it does, its default and bounds.

A tenant's settings and a channel's settings are data in the `tenants` and `channels` tables, never code. They
are validated here when they are written (store.directory.save_tenant / save_channel); one written around those
(by hand in the table) is read leniently: a knob that does not validate takes its default and the error is
logged, so a typo never stops a comune's messages. Each knob's bounds and description are pydantic metadata on
plain dataclasses: pydantic builds a validator only when settings are first read (an import costs a plain
dataclass, 20 ms less at every cold start than pydantic dataclasses).
(The deployment's settings, from the environment, are chalicelib/settings.py.)
"""
from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import date, time, timedelta
from functools import cache
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    TypeAdapter,
    ValidationError,
    ValidationInfo,
    with_config,
)

from chalicelib.domain import whatsapp
from chalicelib.domain.agenda import AgendaSettings
from chalicelib.domain.broadcasts import NOTICE_TITLE_MAX
from chalicelib.domain.hours import DailyWindow
from chalicelib.domain.keywords import guess_category
from chalicelib.domain.outlines import check_geometry
from chalicelib.domain.vicinato import VicinatoSettings


def settings_model(cls):
    """A frozen dataclass whose unknown knobs pydantic refuses."""
    return with_config(ConfigDict(extra="forbid"))(dataclass(frozen=True)(cls))


Id = Annotated[str, Field(min_length=1, max_length=64)]
Name = Annotated[str, Field(min_length=1, max_length=200)]
Number = StrictInt | StrictFloat


def whole(low: int, high: int, what: str):
    """A whole number from low to high (a JSON true or "90" is refused, not coerced)."""
    return Field(ge=low, le=high, description=what, strict=True)


def _clock_time(value: str | None) -> str | None:
    if value is not None:
        time.fromisoformat(value)  # ValueError: not HH:MM
    return value


def _zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {value!r}") from None
    return value


ClockTime = Annotated[str | None, AfterValidator(_clock_time)]  # "HH:MM"
WRITING = {"writing": True}  # the validation context of a write: the checks that reading leaves out apply


def _outline(value: dict[str, Any] | None, info: ValidationInfo) -> dict[str, Any] | None:
    """A hamlet's outline, checked when written (domain.outlines); as stored when read, so that an outline written
    before the check never costs a comune its hamlets (geo.py ignores one it cannot use)."""
    if value is None or not (info.context or {}).get("writing"):
        return value
    return check_geometry(value)
TimeZone = Annotated[str, AfterValidator(_zone)]


# ---- a channel --------------------------------------------------------------------------------------------


@settings_model
class Hours:
    """A daily window in local time, e.g. {"start": "21:00", "end": "08:00"}; it may cross midnight.
    {"enabled": false} turns it off."""

    start: ClockTime = None
    end: ClockTime = None
    timezone: TimeZone = "Europe/Rome"
    enabled: StrictBool = True

    def __post_init__(self) -> None:
        if self.enabled and (self.start is None or self.end is None):
            raise ValueError("hours need a start and an end (or enabled: false)")

    def window(self) -> DailyWindow | None:
        """The window, or None when turned off."""
        if not self.enabled:
            return None
        return DailyWindow(time.fromisoformat(self.start), time.fromisoformat(self.end), ZoneInfo(self.timezone))


ButtonText = Annotated[str, Field(min_length=1, max_length=whatsapp.TEMPLATE_BUTTON_TEXT_MAX)]


@settings_model
class TemplateSetting:
    """A message template WhatsApp approved for the channel (WhatsApp Manager shows its name and language), and
    optionally its approved texts, so that the broadcast preview shows what a citizen will read."""

    name: Annotated[str, Field(min_length=1, max_length=512, pattern=r"^[a-z0-9_]+$")]
    language: Annotated[str, Field(min_length=2, max_length=15)] = "it"
    category: Literal["utility", "marketing", "authentication"] = "utility"
    status: Literal["APPROVED", "PENDING", "REJECTED", "PAUSED", "DISABLED"] = "APPROVED"  # as WhatsApp reports it
    body: Annotated[str, Field(max_length=whatsapp.TEMPLATE_BODY_MAX)] = ""  # with {{1}}, {{2}}...; "": not given
    footer: Annotated[str, Field(max_length=whatsapp.TEMPLATE_FOOTER_MAX)] = ""
    buttons: Annotated[tuple[ButtonText, ...], Field(max_length=whatsapp.TEMPLATE_BUTTONS_MAX)] = ()  # quick replies
    # the category the comune asked for, when WhatsApp re-categorised the template (e.g. utility -> marketing)
    previous_category: Literal["", "utility", "marketing", "authentication"] = ""

    def __post_init__(self) -> None:
        if self.body:
            whatsapp.placeholders(self.body)  # ValueError: {{1}}, {{2}}... out of order
        if len(set(self.buttons)) != len(self.buttons):
            raise ValueError(f"the buttons' texts must be unique: {list(self.buttons)}")

    @property
    def approved(self) -> bool:
        return self.status == "APPROVED"


TextKey = Annotated[str, Field(max_length=64)]
Text = Annotated[str, Field(max_length=4096)]  # WhatsApp's limit for a text message
Purpose = Literal["subscription_confirm", "notice", "report_update", "follow_confirm", "urgent_tip", "report_feedback",
                  "vicinato_news", "agenda_reminder", "agenda_update"]
TEMPLATE_PURPOSES = {
    "subscription_confirm": "broadcast: the double opt-in's confirmation request after a web form or staff import "
                            "({{1}} the comune's name; a quick reply that confirms)",
    "notice": "broadcast: a free-text broadcast to subscribers outside the 24-hour window ({{1}} its one-line "
              "title; a quick reply whose tap gets the full text)",
    "report_update": "reports, safety: a report's public change to its citizen outside the 24-hour window ({{1}} "
                     "its number, {{2}} its status, {{3}} its status page)",
    "follow_confirm": "reports: asks a number typed on the portal or given to Open311 to confirm that it wants the "
                      "report's updates ({{1}} the comune's name, {{2}} the report's number; a quick reply that "
                      "confirms; until the tap nothing else goes to it)",
    "urgent_tip": "safety: tells the on-call officer's phone (on_call_phone) that a tip with an urgent word came "
                  "({{1}} the tip's number, {{2}} the comune's name; nothing of what the resident wrote)",
    "report_feedback": "reports: a resolved report's news outside the 24-hour window, asking whether the problem is "
                       "solved ({{1}} its number, {{2}} its status page; two quick replies, the first «Risolto», the "
                       "second «Non risolto»: a «Non risolto» reopens the report)",
    "vicinato_news": "safety: tells a Vicinato member or coordinator outside the 24-hour window that news waits for "
                     "them ({{1}} the comune's name; a quick reply whose tap brings the news: a report to act on, a "
                     "decision, a police status)",
    "agenda_reminder": "any kind with agenda_booking: an appointment's reminder before it ({{1}} the service, {{2}} "
                       "the day and time, {{3}} the office and its address, {{4}} the booking code; three quick "
                       "replies, in order «Confermo», «Sposta», «Disdico»)",
    "agenda_update": "any kind with agenda_booking: an appointment cancelled by the office (a closure, staff) or "
                     "released for want of confirmation, outside the 24-hour window ({{1}} the booking code, {{2}} "
                     "the service, day and time, {{3}} what happened)",
}
# what the app fills in each purpose's template: body parameters, quick-reply buttons (at least)
TEMPLATE_SHAPES = {"subscription_confirm": (1, 1), "notice": (1, 1), "report_update": (3, 0), "follow_confirm": (2, 1),
                   "urgent_tip": (2, 0), "report_feedback": (2, 2), "vicinato_news": (1, 1),
                   "agenda_reminder": (4, 3), "agenda_update": (3, 0)}
# catalogue texts shown as a reply button or a list's button (20 characters), or as a list row (24)
SHORT_TEXTS = {
    **dict.fromkeys(("subscribe.confirm_button", "subscribe.decline_button", "preferences.hamlets_button",
                     "preferences.topics_button", "report.category_button", "report.feedback_yes",
                     "report.feedback_no"), whatsapp.REPLY_BUTTON_TITLE_MAX),
    **dict.fromkeys(("preferences.all_hamlets", "preferences.all_topics"), whatsapp.LIST_ROW_TITLE_MAX),
    **dict.fromkeys(("agenda.services_button", "agenda.days_button", "agenda.times_button", "agenda.confirm_button",
                     "agenda.remember_button", "agenda.cancel_button", "agenda.move_button", "agenda.keep_button"),
                    whatsapp.REPLY_BUTTON_TITLE_MAX),
    **dict.fromkeys(("agenda.more_row", "agenda.more_times_row"), whatsapp.LIST_ROW_TITLE_MAX),
}


def _fits_its_purpose(purpose: str, template: TemplateSetting) -> None:
    """A template's declared texts against what the app fills in for its purpose (TEMPLATE_SHAPES)."""
    if not template.body and not template.buttons:
        return
    parameters, quick_replies = TEMPLATE_SHAPES[purpose]
    if template.body and whatsapp.placeholders(template.body) != parameters:
        raise ValueError(f"{purpose}: the template takes {parameters} parameter{'s' * (parameters > 1)} "
                         f"({TEMPLATE_PURPOSES[purpose]})")
    if len(template.buttons) < quick_replies:
        raise ValueError(f"{purpose}: the template needs {quick_replies} quick reply button ({TEMPLATE_PURPOSES[purpose]})")
    longest = [NOTICE_TITLE_MAX] if purpose == "notice" else []
    if template.body and whatsapp.filled_length(template.body, longest) > whatsapp.TEMPLATE_BODY_MAX:
        raise ValueError(f"{purpose}: with a title of {NOTICE_TITLE_MAX} characters the body is over "
                         f"{whatsapp.TEMPLATE_BODY_MAX} characters")


def _short_texts_fit(texts: dict[str, str]) -> None:
    for key, limit in SHORT_TEXTS.items():
        if key in texts and len(texts[key]) > limit:
            raise ValueError(f"{key} is shown as a WhatsApp button or list row: at most {limit} characters, "
                             f"{len(texts[key])} given")


@settings_model
class ChannelSettings:
    """A WhatsApp channel's settings. Which knob matters depends on the channel's kind (broadcast, reports,
    safety); the others keep their defaults."""

    # every kind
    rate_per_second: Annotated[Number, Field(gt=0, le=1000, description="messages a second WhatsApp lets the "
                               "number send (Meta: 80 by default, up to 1,000); the sender paces to it")] = 80
    texts: Annotated[dict[TextKey, Text], Field(description="overrides of catalogue texts (messages/it.json), by "
                     "key")] = field(default_factory=dict)
    templates: Annotated[dict[Purpose, TemplateSetting], Field(description="the approved template for each purpose "
                         "(TEMPLATE_PURPOSES)")] = field(default_factory=dict)
    # broadcast
    quiet_hours: Annotated[Hours, Field(description="when normal broadcasts wait (alerts go at once); default "
                           "21:00-08:00 Europe/Rome")] = field(default_factory=lambda: Hours("21:00", "08:00"))
    messaging_limit: Annotated[int, whole(1, 10_000_000, "the number's daily limit of people reached outside the "
                               "24-hour window (Meta's tiers: 250, 1,000, 10,000, 100,000); the preview warns past "
                               "it")] = 1000
    reports_number: Annotated[str, Field(max_length=32, description="the reports channel's number, which the "
                              "broadcast channel's auto-reply names; empty: not named")] = ""
    # reports and safety
    draft_minutes: Annotated[int, whole(1, 240, "minutes after a citizen's last message in which the next text, "
                             "photo or position joins the same report")] = 15
    photo_max_bytes: Annotated[int, whole(64 * 1024, 5 * 1024 * 1024, "the largest photo kept (WhatsApp's own "
                               "limit for images is 5 MB)")] = 5 * 1024 * 1024
    media_max_bytes: Annotated[int, whole(64 * 1024, 16 * 1024 * 1024, "the largest voice note, video or PDF kept "
                               "(WhatsApp: audio and video 16 MB, documents 100 MB; the inbound worker holds one "
                               "file in memory, so 16 MB at most)")] = 16 * 1024 * 1024
    # safety
    registered_only: Annotated[StrictBool, Field(description="only residents the police registered may send "
                               "tips")] = True
    watched_hours: Annotated[Hours, Field(description="when the police read tips (outside them the reply points to "
                             "112); default 08:00-19:00")] = field(default_factory=lambda: Hours("08:00", "19:00"))
    on_call_phone: Annotated[str, Field(max_length=16, pattern=r"^(\+[1-9][0-9]{6,14})?$", description="the on-call "
                             "officer's WhatsApp number (E.164, +39...), told by the urgent_tip template of each tip "
                             "with an urgent word; empty: nobody")] = ""
    urgent_keywords: Annotated[tuple[Annotated[str, Field(min_length=2, max_length=64)], ...], Field(
        max_length=100, description="words or phrases that make a tip urgent for the on-call phone (whole words, "
        "case and accents aside)")] = ("urgente", "subito", "in corso", "sta succedendo", "aiuto")
    # agenda (issue 17): any kind
    agenda_booking: Annotated[StrictBool, Field(description="citizens book appointments (tenant setting agenda) on "
                              "this number: PRENOTA, APPUNTAMENTI")] = False

    def __post_init__(self) -> None:
        for purpose, template in self.templates.items():
            try:
                _fits_its_purpose(purpose, template)
            except ValueError as error:
                raise ValueError(f"templates.{error}") from None
        try:
            _short_texts_fit(self.texts)
        except ValueError as error:
            raise ValueError(f"texts: {error}") from None

    def approved_templates(self) -> list[dict[str, str]]:
        """The channel's templates WhatsApp approved (name, language, category), one per name, for staff to pick."""
        seen: dict[str, dict[str, str]] = {}
        for t in self.templates.values():
            if t.approved:
                seen.setdefault(t.name, {"name": t.name, "language": t.language, "category": t.category})
        return list(seen.values())


# ---- a tenant (comune) ----------------------------------------------------------------------------------------


ShortName = Annotated[str | None, Field(min_length=1)]


class ListedByName:
    """A choice citizens pick from a WhatsApp list, whose rows hold 24 characters: a longer name needs a
    short_name (validated when written, never cut at send time)."""

    name: str
    short_name: str | None

    def __post_init__(self) -> None:
        if len(self.list_title) > whatsapp.LIST_ROW_TITLE_MAX:
            shown = "short_name" if self.short_name else "name"
            raise ValueError(f"{shown} {self.list_title!r} has {len(self.list_title)} characters and WhatsApp's "
                             f"list rows hold {whatsapp.LIST_ROW_TITLE_MAX}: give a short_name of at most "
                             f"{whatsapp.LIST_ROW_TITLE_MAX}")

    @property
    def list_title(self) -> str:
        """What a WhatsApp list row shows."""
        return self.short_name or self.name


@settings_model
class Hamlet(ListedByName):
    """A frazione: subscribers choose it, reports are mapped to it by its outline."""

    id: Id
    name: Name
    latitude: Number  # a point inside the hamlet
    longitude: Number
    # a GeoJSON Polygon or MultiPolygon (domain.geo), checked by domain.outlines (closed rings, in Italy, bounded)
    geometry: Annotated[dict[str, Any] | None, AfterValidator(_outline)] = None
    short_name: ShortName = None  # for WhatsApp's lists, when the name is over 24 characters


@settings_model
class Topic(ListedByName):
    """A subject subscribers may choose (allerte, eventi, ...)."""

    id: Id
    name: Name
    short_name: ShortName = None  # for WhatsApp's lists, when the name is over 24 characters


@settings_model
class Category(ListedByName):
    """A report category, with the keyword hints that recognise it in a citizen's text."""

    id: Id
    name: Name
    keywords: tuple[Annotated[str, Field(max_length=64)], ...] = ()
    team: Id | None = None  # the team that usually handles it
    external_body: Id | None = None  # or the body in charge (Provincia, Consorzio di bonifica)
    short_name: ShortName = None  # for WhatsApp's lists, when the name is over 24 characters


Email = Annotated[str, Field(min_length=3, max_length=254, pattern=r"^[^@\s]+@[^@\s]+$")]
NOTICE_ADDRESSES_MAX = 10  # addresses told of one kind's new reports: an office's, not a mailing list


@settings_model
class Team:
    id: Id
    name: Name
    # told by email of each new report of a category the team handles, and sent the daily digest of its overdue
    # reports; none: neither
    email: Email | None = None


@settings_model
class ExternalBody:
    """A body reports can be forwarded to, by email."""

    id: Id
    name: Name
    email: Email


# Deadlines (issue 14): by when a report should reach a step, in working days from its creation (domain/deadlines.py).
TARGET_STEPS = ("triaged", "in_progress", "resolved")  # taken in charge (any step out of new), work started, closed
TargetStep = Literal[TARGET_STEPS]
WorkingDays = Annotated[int, Field(ge=1, le=365, strict=True)]


@settings_model
class Targets:
    """The tenant setting `reports.targets`: working days from a report's creation by which it should be taken in
    charge (`triaged`: any step out of new), see work start (`in_progress`) and be closed (`resolved`); a step
    without a number has no target. Per category, the steps given replace the default's (null removes one)."""

    default: Annotated[dict[TargetStep, WorkingDays], Field(description="working days per step for every category "
                       "(triaged: taken in charge, in_progress: work started, resolved: closed)")] = field(
        default_factory=lambda: {"triaged": 2, "resolved": 30})
    categories: Annotated[dict[Id, dict[TargetStep, WorkingDays | None]], Field(description="per category id, the "
                          "steps that differ from the default (null: no target for that step)")] = field(
        default_factory=dict)
    due_soon_days: Annotated[int, whole(0, 30, "a report is 'in scadenza' when its next target ends within this many "
                             "working days (0: today)")] = 1

    def __post_init__(self) -> None:
        for name, steps in (("default", self.default), *self.categories.items()):
            days = [d for d in (self.for_steps(steps).get(s) for s in TARGET_STEPS) if d is not None]
            if days != sorted(days):
                raise ValueError(f"targets of {name}: a later step cannot have fewer working days than an earlier "
                                 f"one ({', '.join(TARGET_STEPS)})")

    def for_steps(self, overrides: dict[str, int | None]) -> dict[str, int]:
        merged = {**self.default, **overrides}
        return {step: merged[step] for step in TARGET_STEPS if merged.get(step) is not None}

    def of(self, category_id: str | None) -> dict[str, int]:
        """The targets of a category: step -> working days, in lifecycle order."""
        return self.for_steps(self.categories.get(category_id or "", {}))


@settings_model
class ReportSettings:
    """A comune's report set-up, the tenant setting `reports`."""

    categories: Annotated[tuple[Category, ...], Field(description="what citizens report, with keyword hints and "
                          "who usually handles each (a team or an external body)")] = ()
    teams: Annotated[tuple[Team, ...], Field(description="the comune's own teams reports are assigned to")] = ()
    external_bodies: Annotated[tuple[ExternalBody, ...], Field(description="bodies in charge that reports are "
                               "forwarded to by email (Provincia, Consorzio di bonifica, ...)")] = ()
    duplicate_metres: Annotated[Number, Field(ge=0, le=5000, description="a report of the same category this close "
                                "to an open one makes its citizen a follower of that one")] = 50.0
    duplicate_days: Annotated[int, whole(0, 365, "... and no older than this many days")] = 14
    notify: Annotated[dict[Literal["report", "safety"], Annotated[tuple[Email, ...], Field(
        max_length=NOTICE_ADDRESSES_MAX)]], Field(description="the offices told by email of every new report (report) "
                      "or tip (safety), e.g. the technical office's and the police's addresses; a category's team "
                      "with an email is told too")] = field(default_factory=dict)
    targets: Annotated[Targets, Field(description="by when a report should be taken in charge, worked and closed, "
                       "in working days, per category: Targets")] = field(default_factory=Targets)

    def __post_init__(self) -> None:
        unknown = sorted(set(self.targets.categories) - {c.id for c in self.categories})
        if unknown:
            raise ValueError(f"targets.categories: no such category {', '.join(unknown)}")
    external_link_days: Annotated[int, whole(1, 90, "days the private link in a forwarding email lets the external "
                                  "body post its status (no login); a new forwarding makes a new link")] = 30

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

    def notice_addresses(self, kind: str, category_id: str | None) -> tuple[str, ...]:
        """Who is told by email of a new report of kind: the kind's offices, and the team of its category when
        that team has an address (a tip has no category: the police's addresses only)."""
        category = self.category(category_id) if kind == "report" else None
        team = self.team(category.team) if category else None
        return tuple(dict.fromkeys((*self.notify.get(kind, ()), *((team.email,) if team and team.email else ()))))


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

    inactive_citizens: Annotated[int, whole(1, 365, "days a citizen record outlives its last contact")] = 30
    deliveries: Annotated[int, whole(1, 400, "days a delivery record is kept after the send")] = 90
    closed_reports: Annotated[int, whole(30, 10 * 365, "days a report or tip is kept after it closed")] = 3 * 365
    conversations: Annotated[int, whole(1, 400, "days a conversation (Messaggi) is kept after its last "
                             "message")] = 90

    def days(self, kind: str) -> timedelta:
        return timedelta(days=getattr(self, kind))

    @classmethod
    def from_settings(cls, raw: Any) -> Retention:
        return _validated(cls, raw)


@settings_model
class Limits:
    """Caps on what staff may do, the tenant setting `limits` (docs/reliability.md, rows A6 and A7)."""

    staff_requests_per_minute: Annotated[int, whole(10, 100_000, "per staff member on the staff API (429 "
                                         "beyond)")] = 1200
    broadcasts_per_user_per_hour: Annotated[int, whole(1, 1000, "broadcasts one staff member may create an "
                                            "hour")] = 20
    broadcasts_per_day: Annotated[int, whole(1, 10_000, "broadcasts the comune may create a day")] = 100
    broadcast_messages_per_day: Annotated[int, whole(1, 10_000_000, "the spending guard: recipients of the "
                                          "broadcasts a comune starts in one day; past it a broadcast "
                                          "pauses")] = 250_000

    @classmethod
    def from_settings(cls, raw: Any) -> Limits:
        return _validated(cls, raw)


def _month_day(value: str | None) -> str | None:
    if value is not None:
        date.fromisoformat(f"2024-{value}")  # ValueError: not MM-DD (a leap year: 02-29 is a day)
    return value


@settings_model
class Calendar:
    """The comune's working calendar, the tenant setting `calendar`: besides weekends and Italy's national holidays
    (domain/workdays.py), its patron saint's day and extra closures. Deadlines count working days on it."""

    patron_day: Annotated[str | None, AfterValidator(_month_day), Field(description="the patron saint's day, "
                          "MM-DD (e.g. 06-24 for San Giovanni)", pattern=r"^[0-9]{2}-[0-9]{2}$")] = None
    patron: Annotated[str, Field(max_length=120, description="the patron saint's name, as shown")] = ""
    closures: Annotated[tuple[date, ...], Field(max_length=366, description="other days the offices are shut "
                        "(ISO dates, e.g. 2026-12-24)")] = ()


PRICE_TABLES_MAX = 60  # fifteen years of quarterly rate cards: the tenant item stays far below DynamoDB's 400 KB
Price = Annotated[float, Field(ge=0, le=10, strict=True, description="per delivered message, in the table's currency")]


def _first_of_month(value: date) -> date:
    if value.day != 1:
        raise ValueError("valid_from must be the first day of a month (Meta changes rates on 1 Jan, Apr, Jul, Oct)")
    return value


MonthStart = Annotated[date, AfterValidator(_first_of_month)]
Currency = Annotated[str, Field(pattern=r"^[A-Z]{3}$", description="ISO 4217, e.g. EUR")]
PriceSource = Annotated[str, Field(max_length=300, description="where the prices come from (Meta's rate card, its "
                                   "date)")]


@settings_model
class PriceTable:
    """What WhatsApp charges per delivered message by pricing category, for recipients with an Italian number, from
    a month on (tenant setting `prices`, a dated history: a month is priced with the table in force on its first
    day). Meta's rate card changes: the comune keeps it up to date (domain/usage.py uses it)."""

    valid_from: Annotated[MonthStart, Field(description="the first day of the month from which these prices apply")]
    currency: Currency = "EUR"
    marketing: Price = 0
    utility: Price = 0
    authentication: Price = 0
    service: Price = 0  # free-form replies inside the 24-hour window: free under Meta's per-message pricing
    source: PriceSource = ""


def _dated_once(tables: tuple[PriceTable, ...]) -> tuple[PriceTable, ...]:
    days = [t.valid_from for t in tables]
    if len(set(days)) != len(days):
        raise ValueError("two price tables with the same valid_from")
    return tuple(sorted(tables, key=lambda t: t.valid_from))


@settings_model
class PrivacyNotice:
    """One version of the comune's privacy notice: from `since` on, consents record this version."""

    version: Annotated[str, Field(min_length=1, max_length=32)]
    url: Annotated[str, Field(min_length=1, max_length=500, pattern=r"^https?://\S+$")]
    since: date | None = None  # None: a version set before the history was kept


PRIVACY_HISTORY_MAX = 50


# Allerte (issue 19): where the comune is on the civil-protection alert maps, which feeds it watches, and what each
# hazard and level does (domain/alerts.py, services/alerts/).
AlertHazard = Literal["idraulico", "idrogeologico", "temporali", "vento", "neve", "nebbia", "caldo", "freddo",
                      "mareggiate", "incendi", "valanghe", "pioggia", "altro"]
AlertAction = Literal["nothing", "draft", "auto"]
ZoneCode = Annotated[str, Field(min_length=1, max_length=64)]
FeedUrl = Annotated[str, Field(min_length=8, max_length=500, pattern=r"^https?://\S+$")]
DPC_REPOSITORY = "pcm-dpc/DPC-Bollettini-Criticita-Idrogeologica-Idraulica"


@settings_model
class AlertFeed:
    """An official feed the comune watches: the DPC bulletin's index JSON, or a CAP 1.2 feed (Atom/RSS or a single
    document)."""

    id: Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[a-z0-9_-]+$")]
    kind: Literal["dpc", "cap"]
    url: Annotated[FeedUrl | None, Field(description="cap: the feed or document; dpc: a fixed index URL (a mirror "
                   "serving the latest bulletin), none: the newest bulletin is found in `repository`")] = None
    every_minutes: Annotated[int, whole(1, 1440, "minutes between two reads of the feed")] = 5
    timeout_seconds: Annotated[int, whole(1, 30, "seconds a read may take before it counts as failed")] = 10
    # dpc without url: the newest files/<YYYYMMDD_HHMM>.json of the DPC's GitHub repository (docs/allerte.md)
    repository: Annotated[str, Field(max_length=140, pattern=r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$", description=(
        "dpc: the GitHub repository publishing the bulletins (owner/name)"))] = DPC_REPOSITORY
    branch: Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_./-]+$")] = "master"
    api_url: Annotated[FeedUrl, Field(description="dpc: GitHub's REST API")] = "https://api.github.com"
    raw_url: Annotated[FeedUrl, Field(description="dpc: where GitHub serves the files")] = (
        "https://raw.githubusercontent.com")

    def __post_init__(self) -> None:
        if self.kind == "cap" and not self.url:
            raise ValueError("a CAP feed needs its url")


@settings_model
class AlertPlace:
    """Where one hamlet is, when it differs from the comune's: its own zone codes and CAP geocodes."""

    zones: Annotated[tuple[ZoneCode, ...], Field(max_length=20)] = ()
    geocodes: Annotated[tuple[ZoneCode, ...], Field(max_length=20)] = ()


@settings_model
class AlertLevelRules:
    """What a level does: nothing, a draft staff approve in the console (the default), or an automatic send."""

    yellow: AlertAction = "draft"
    orange: AlertAction = "draft"
    red: AlertAction = "draft"


@settings_model
class AlertSettings:
    """The tenant setting `alerts` (docs/allerte.md)."""

    enabled: StrictBool = False
    channel: Annotated[str | None, Field(max_length=64, description="the broadcast channel alerts go out on "
                       "(none: the comune's first broadcast channel)")] = None
    topic: Annotated[str, Field(min_length=1, max_length=64, description="the topic whose subscribers receive "
                     "alerts")] = "allerte"
    red_to_everyone: Annotated[StrictBool, Field(description="a red alert reaches every subscriber of the "
                               "hamlets, not only the topic's")] = True
    zones: Annotated[tuple[ZoneCode, ...], Field(max_length=20, description="the comune's DPC alert zones "
                     "(e.g. Emil-F1)")] = ()
    geocodes: Annotated[tuple[ZoneCode, ...], Field(max_length=20, description="CAP geocodes of the comune, "
                        "as name=value (e.g. EMMA_ID=IT005)")] = ()
    places: Annotated[dict[Id, AlertPlace], Field(max_length=100, description="per hamlet id: its own zones "
                      "and geocodes")] = field(default_factory=dict)
    feeds: Annotated[tuple[AlertFeed, ...], Field(max_length=10)] = ()
    rules: Annotated[dict[AlertHazard, AlertLevelRules], Field(description="per hazard: what each level does "
                     "(missing: a draft)")] = field(default_factory=dict)
    push_partners: Annotated[tuple[Partner, ...], Field(max_length=10, description="who may POST CAP documents "
                             "to /alerts/v1/cap (their key's SHA-256)")] = ()
    link: Annotated[str, Field(max_length=500, description="the comune's civil-protection page, named in "
                    "notices")] = ""

    def action(self, hazard: str, level: str) -> str:
        if level not in ("yellow", "orange", "red"):
            return "nothing"
        return getattr(self.rules.get(hazard) or AlertLevelRules(), level)


@settings_model
class TenantSettings:
    """A comune's settings: its map, subjects, privacy notice, language, reports, partners, retention, caps."""

    hamlets: Annotated[tuple[Hamlet, ...], Field(description="the frazioni, with their outlines: audiences of "
                       "broadcasts, and where a report's pin falls")] = ()
    topics: Annotated[tuple[Topic, ...], Field(description="subjects subscribers may choose (allerte, eventi, "
                      "...)")] = ()
    privacy_notice_url: Annotated[str, Field(max_length=500, description="the privacy notice named when a citizen "
                                  "subscribes")] = ""
    privacy_notice_version: Annotated[str, Field(max_length=32, description="recorded with each consent")] = ""
    privacy_notice_history: Annotated[tuple[PrivacyNotice, ...], Field(max_length=PRIVACY_HISTORY_MAX, description=(
        "the notice's versions, oldest first; the last is the current one"))] = ()
    language: Annotated[Literal["it"], Field(description="of the citizen-facing texts (messages/it.json)")] = "it"
    reports: Annotated[ReportSettings, Field(description="the report set-up: ReportSettings")] = field(
        default_factory=ReportSettings)
    open311_partners: Annotated[tuple[Partner, ...], Field(description="Open311 clients allowed to file "
                                "requests")] = ()
    retention: Annotated[Retention, Field(description="days each kind of personal data is kept")] = field(
        default_factory=Retention)
    limits: Annotated[Limits, Field(description="caps on staff requests and broadcasts")] = field(
        default_factory=Limits)
    calendar: Annotated[Calendar, Field(description="the working calendar deadlines count on: patron saint's day, "
                        "closures")] = field(default_factory=Calendar)
    prices: Annotated[tuple[PriceTable, ...], AfterValidator(_dated_once), Field(
        max_length=PRICE_TABLES_MAX, description="WhatsApp's prices per message, dated: the usage meter's estimated "
        "cost (PriceTable)")] = ()
    alerts: Annotated[AlertSettings, Field(description="civil-protection alerts: zones, feeds, rules "
                      "(AlertSettings)")] = field(default_factory=AlertSettings)
    # Vicinato (issue 16): zones and the relay's knobs (domain/vicinato.py, docs/vicinato.md)
    vicinato: Annotated[VicinatoSettings, Field(description="the neighbourhood watch: zones and the relay's "
                        "knobs (VicinatoSettings)")] = field(default_factory=VicinatoSettings)
    agenda: Annotated[AgendaSettings, Field(description="appointments: offices, counters, services, reminders, "
                      "no-shows, retention (domain/agenda.py, docs/agenda.md)")] = field(default_factory=AgendaSettings)


# The parts of a tenant's settings staff change from the console one at a time (PUT /api/v1/settings/{section}):
# each a knob of TenantSettings, but privacy, which is privacy_notice_url, _version and _history together.
TENANT_SECTIONS = ("hamlets", "topics", "reports", "calendar", "retention", "limits", "privacy", "alerts",
                   "vicinato", "agenda")
PRIVACY_KNOBS = ("privacy_notice_url", "privacy_notice_version", "privacy_notice_history")

DEFAULT_RETENTION = Retention()
DEFAULT_LIMITS = Limits()


@cache
def _adapter(kind) -> TypeAdapter:
    return TypeAdapter(kind)


def _validated(kind, raw: Any, context: dict | None = None):
    """A settings object from stored JSON (None: the defaults); ValueError naming the knob when invalid."""
    try:
        return _adapter(kind).validate_python(raw if raw is not None else {}, context=context)
    except ValidationError as error:
        raise ValueError(_first_error(kind, error)) from None


def _first_error(kind, error: ValidationError) -> str:
    first = error.errors()[0]
    where = ".".join(str(part) for part in first["loc"])
    return f"{kind.__name__}{'.' + where if where else ''}: {first['msg']}"


def problems(kind, raw: Any) -> list[dict[str, Any]]:
    """Everything wrong with stored JSON for a settings kind, as pydantic lists it (loc, type, msg, ctx; a
    model's own ValueError is in ctx["error"]); [] when it validates."""
    try:
        _adapter(kind).validate_python(raw if raw is not None else {}, context=WRITING)
    except ValidationError as error:
        return error.errors()
    return []


def shown(kind, value: Any) -> Any:
    """A settings value (or a tuple of them) as JSON, defaults included: what a form shows."""
    return _adapter(kind).dump_python(value, mode="json")


def knobs(kind) -> dict[str, dict[str, Any]]:
    """Each knob of a settings kind with what a form needs: description, bounds, default (JSON Schema words)."""
    schema = _adapter(kind).json_schema()
    wanted = ("description", "minimum", "maximum", "exclusiveMinimum", "maxLength", "maxItems", "default", "pattern")
    return {name: {k: v for k, v in spec.items() if k in wanted} for name, spec in schema.get("properties", {}).items()}


def channel_settings(raw: Any) -> ChannelSettings:
    """A channel's settings as staff or a deploy write them; ValueError naming the knob when invalid."""
    return _validated(ChannelSettings, raw, WRITING)


def tenant_settings(raw: Any) -> TenantSettings:
    """A tenant's settings as written; ValueError naming the knob when invalid."""
    return _validated(TenantSettings, raw, WRITING)


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
    return _adapter(type(settings)).dump_python(settings, mode="json", exclude_defaults=True)

