"""The agenda (issue 17): a comune's offices, counters and services as tenant data (the tenant setting `agenda`),
and the pure rules that turn them into free slots.

A day of an office is cut into cells of `slot_minutes` (15 by default) from each opening span's start. A service
lasting N minutes takes N / slot_minutes consecutive cells of one counter; each (counter, cell) holds `capacity`
citizens at once (1 by default). The store takes every cell of a booking with one conditional write per cell in a
single DynamoDB transaction (store/agenda.py), so two citizens racing for the last place cannot both get it.

Which days offer slots: days the office opens (weekly morning and afternoon spans), minus Italy's national holidays
(Easter Monday included), the comune's patron saint's day and closures (tenant `calendar`), the office's own closures
(ISO dates, or `*-MM-DD` for a date every year), and the weekdays the service is walk-in or closed. The first day is
the `min_notice_days`-th working day after today (same day never: at least tomorrow), the last `horizon_days`
after today. Times are the comune's local time (Europe/Rome); a slot is named by its local start, "2026-12-07T09:00".
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Annotated, Literal

from pydantic import ConfigDict, Field, with_config

from chalicelib.domain import whatsapp
from chalicelib.domain.workdays import ROME, WorkCalendar, national_holidays

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
Mode = Literal["appointment", "walk_in", "closed"]
_SPAN = re.compile(r"^([01][0-9]|2[0-3]):([0-5][0-9])-([01][0-9]|2[0-3]):([0-5][0-9])$")
_CLOSURE = re.compile(r"^(\d{4}|\*)-(\d{2})-(\d{2})$")
OFFICES_MAX, SERVICES_MAX, COUNTERS_MAX = 20, 60, 20
CELLS_PER_BOOKING_MAX = 24  # a booking's cells go in one transaction (DynamoDB: 100 items)


def _model(cls):
    return with_config(ConfigDict(extra="forbid"))(dataclass(frozen=True)(cls))


Id = Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[a-z0-9][a-z0-9_-]*$")]
Name = Annotated[str, Field(min_length=1, max_length=120)]
ShortName = Annotated[str | None, Field(min_length=1, max_length=whatsapp.LIST_ROW_TITLE_MAX)]


def _span(value: str) -> str:
    match = _SPAN.match(value)
    if not match or value[:5] >= value[6:]:
        raise ValueError(f"opening span {value!r} must be HH:MM-HH:MM with the start before the end")
    return value


def _closure(value: str) -> str:
    match = _CLOSURE.match(value)
    if not match:
        raise ValueError(f"closure {value!r} must be YYYY-MM-DD, or *-MM-DD for a date every year")
    year = "2024" if match.group(1) == "*" else match.group(1)  # a leap year: *-02-29 is a date
    date.fromisoformat(f"{year}-{match.group(2)}-{match.group(3)}")
    return value


Span = Annotated[str, Field(description="HH:MM-HH:MM")]
Spans = Annotated[tuple[Span, ...], Field(max_length=2, description="morning and afternoon, e.g. "
                                          "[\"08:30-13:00\", \"14:30-17:30\"]")]


@_model
class Counter:
    """A desk (sportello) of an office: each serves one citizen at a time (times the office's capacity)."""

    id: Id
    name: Name


@_model
class Office:
    """An office citizens come to: its address, counters, weekly opening hours and closures."""

    id: Id
    name: Name
    address: Annotated[str, Field(max_length=200)] = ""
    counters: Annotated[tuple[Counter, ...], Field(min_length=1, max_length=COUNTERS_MAX)] = (Counter("1", "Sportello 1"),)
    hours: Annotated[dict[Weekday, Spans], Field(description="opening hours per weekday (mon..sun): up to two spans, "
                     "morning and afternoon; a weekday not named is closed")] = field(default_factory=dict)
    closures: Annotated[tuple[str, ...], Field(max_length=400, description="days the office is shut besides "
                        "national holidays and the comune's calendar: YYYY-MM-DD, or *-MM-DD every year")] = ()
    slot_minutes: Annotated[int, Field(ge=5, le=120, strict=True, description="the grid of appointment times, in "
                            "minutes; every service's duration is a multiple of it")] = 15
    capacity: Annotated[int, Field(ge=1, le=20, strict=True, description="citizens one counter serves at once in "
                        "a slot")] = 1
    short_name: ShortName = None

    def __post_init__(self) -> None:
        for day, spans in self.hours.items():
            for span in spans:
                _span(span)
            if len(spans) == 2 and spans[0][6:] > spans[1][:5]:
                raise ValueError(f"hours.{day}: the morning must end before the afternoon starts")
            for span in spans:
                minutes = _minutes(span[6:]) - _minutes(span[:5])
                if minutes % self.slot_minutes:
                    raise ValueError(f"hours.{day}: {span} is not a whole number of {self.slot_minutes}-minute slots")
        for closure in self.closures:
            _closure(closure)
        ids = [c.id for c in self.counters]
        if len(set(ids)) != len(ids):
            raise ValueError("two counters with the same id")

    @property
    def list_title(self) -> str:
        return self.short_name or self.name[: whatsapp.LIST_ROW_TITLE_MAX]

    def counter(self, counter_id: str) -> Counter | None:
        return next((c for c in self.counters if c.id == counter_id), None)


@_model
class Service:
    """What a citizen books: at one office, served at some of its counters, for a duration."""

    id: Id
    name: Name
    office: Id
    duration_minutes: Annotated[int, Field(ge=5, le=240, strict=True)] = 15
    counters: Annotated[tuple[Id, ...], Field(max_length=COUNTERS_MAX, description="the counters that serve it; "
                        "empty: every counter of the office")] = ()
    bring: Annotated[str, Field(max_length=600, description="what to bring: documents, marca da bollo, fees")] = ""
    description: Annotated[str, Field(max_length=600)] = ""
    modes: Annotated[dict[Weekday, Mode], Field(description="booking mode per weekday: appointment, walk_in (no "
                     "booking: come during opening hours) or closed; a weekday not named is appointment")] = field(
        default_factory=dict)
    min_notice_days: Annotated[int, Field(ge=0, le=30, strict=True, description="working days between booking and "
                               "the appointment (0: from tomorrow; same-day bookings are never taken)")] = 1
    horizon_days: Annotated[int, Field(ge=1, le=180, strict=True, description="how many days ahead one may "
                            "book")] = 30
    short_name: ShortName = None

    @property
    def list_title(self) -> str:
        return self.short_name or self.name[: whatsapp.LIST_ROW_TITLE_MAX]

    def mode(self, day: date) -> str:
        return self.modes.get(WEEKDAYS[day.weekday()], "appointment")


@_model
class AgendaSettings:
    """The tenant setting `agenda`: the catalogue and the rules of reminders, no-shows and retention."""

    offices: Annotated[tuple[Office, ...], Field(max_length=OFFICES_MAX)] = ()
    services: Annotated[tuple[Service, ...], Field(max_length=SERVICES_MAX)] = ()
    reminder_hours: Annotated[int, Field(ge=1, le=168, strict=True, description="hours before an appointment the "
                              "reminder goes (Confermo / Sposta / Disdico)")] = 24
    no_show_limit: Annotated[int, Field(ge=1, le=20, strict=True, description="after this many no-shows a "
                             "citizen's reminder asks for an explicit confirmation")] = 2
    release_hours: Annotated[int, Field(ge=1, le=48, strict=True, description="an appointment that needed a "
                             "confirmation and got none is released this many hours before it")] = 3
    retention_days: Annotated[int, Field(ge=1, le=3 * 365, strict=True, description="days a booking (name, "
                              "contact, service, time, note) is kept after its appointment")] = 90
    link_days: Annotated[int, Field(ge=1, le=180, strict=True, description="days after the appointment the "
                         "link to move or cancel it still opens (never after it starts for a change)")] = 1

    def __post_init__(self) -> None:
        offices = {o.id: o for o in self.offices}
        if len(offices) != len(self.offices):
            raise ValueError("agenda: two offices with the same id")
        if len({s.id for s in self.services}) != len(self.services):
            raise ValueError("agenda: two services with the same id")
        for service in self.services:
            office = offices.get(service.office)
            if office is None:
                raise ValueError(f"agenda.services.{service.id}: no office {service.office!r}")
            unknown = [c for c in service.counters if office.counter(c) is None]
            if unknown:
                raise ValueError(f"agenda.services.{service.id}: office {office.id} has no counter {unknown[0]!r}")
            if service.duration_minutes % office.slot_minutes:
                raise ValueError(f"agenda.services.{service.id}: the duration must be a multiple of the office's "
                                 f"{office.slot_minutes}-minute slots")
            if service.duration_minutes // office.slot_minutes > CELLS_PER_BOOKING_MAX:
                raise ValueError(f"agenda.services.{service.id}: at most {CELLS_PER_BOOKING_MAX} slots per booking")

    def office(self, office_id: str | None) -> Office | None:
        return next((o for o in self.offices if o.id == office_id), None)

    def service(self, service_id: str | None) -> Service | None:
        return next((s for s in self.services if s.id == service_id), None)

    def counters_of(self, service: Service) -> tuple[Counter, ...]:
        office = self.office(service.office)
        if office is None:
            return ()
        return tuple(c for c in office.counters if not service.counters or c.id in service.counters)


# ---- slots ----------------------------------------------------------------------------------------------


@dataclass(frozen=True, order=True)
class Slot:
    """A free place: a local start, the counter, and the grid cells it takes (local starts, "YYYY-MM-DDTHH:MM")."""

    start: str
    counter: str
    cells: tuple[str, ...]

    @property
    def day(self) -> date:
        return date.fromisoformat(self.start[:10])

    @property
    def time(self) -> str:
        return self.start[11:16]


def _minutes(hhmm: str) -> int:
    return int(hhmm[:2]) * 60 + int(hhmm[3:5])


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def local(moment: datetime) -> datetime:
    return moment.astimezone(ROME)


def at(start: str) -> datetime:
    """A local slot name as an aware moment."""
    return datetime.fromisoformat(start).replace(tzinfo=ROME)


def slot_name(moment: datetime) -> str:
    return local(moment).strftime("%Y-%m-%dT%H:%M")


def is_slot_name(value: str) -> bool:
    try:
        return len(value) == 16 and datetime.fromisoformat(value).strftime("%Y-%m-%dT%H:%M") == value
    except ValueError:
        return False


def is_office_closed(office: Office, day: date, calendar: WorkCalendar) -> bool:
    """A holiday, the comune's patron day or closure, an office closure (recurring ones too), or no hours."""
    if not office.hours.get(WEEKDAYS[day.weekday()]):
        return True
    if day in national_holidays(day.year) or (day.month, day.day) == calendar.patron_day or day in calendar.closures:
        return True
    iso = day.isoformat()
    return any(c == iso or (c.startswith("*-") and c[2:] == iso[5:]) for c in office.closures)


def first_day(service: Service, now: datetime, calendar: WorkCalendar) -> date:
    """The earliest day one may book for: min_notice_days working days after today, never today."""
    today = local(now).date()
    if service.min_notice_days == 0:
        return today + timedelta(days=1)
    return max(calendar.add_working_days(today, service.min_notice_days), today + timedelta(days=1))


def last_day(service: Service, now: datetime) -> date:
    return local(now).date() + timedelta(days=service.horizon_days)


def day_offers(office: Office, service: Service, day: date, calendar: WorkCalendar) -> bool:
    """The office opens that day and the service takes appointments on it."""
    return service.mode(day) == "appointment" and not is_office_closed(office, day, calendar)


def candidate_days(agenda: AgendaSettings, service: Service, now: datetime, calendar: WorkCalendar) -> Iterator[date]:
    """The days, in order, on which the rules let the service be booked (free places aside)."""
    office = agenda.office(service.office)
    if office is None:
        return
    day, last = first_day(service, now, calendar), last_day(service, now)
    while day <= last:
        if day_offers(office, service, day, calendar):
            yield day
        day += timedelta(days=1)


def cells_of_day(office: Office, day: date) -> list[str]:
    """Every grid cell of an office's day (its opening spans), as local names."""
    cells = []
    for span in office.hours.get(WEEKDAYS[day.weekday()], ()):
        for minute in range(_minutes(span[:5]), _minutes(span[6:]), office.slot_minutes):
            cells.append(f"{day.isoformat()}T{_hhmm(minute)}")
    return cells


def slots_of_day(office: Office, service: Service, counters: Iterable[Counter], day: date) -> list[Slot]:
    """Every slot of the day the service could take (free or not): each start on the grid from which the whole
    duration fits inside one opening span, for each counter."""
    size = service.duration_minutes // office.slot_minutes
    slots = []
    for span in office.hours.get(WEEKDAYS[day.weekday()], ()):
        start, end = _minutes(span[:5]), _minutes(span[6:])
        for minute in range(start, end - service.duration_minutes + 1, office.slot_minutes):
            cells = tuple(f"{day.isoformat()}T{_hhmm(minute + i * office.slot_minutes)}" for i in range(size))
            for counter in counters:
                slots.append(Slot(cells[0], counter.id, cells))
    return sorted(slots)


@dataclass(frozen=True)
class Occupancy:
    """What the store holds for a counter's cells: how many citizens each holds, and which staff blocked."""

    taken: Mapping[tuple[str, str], int] = field(default_factory=dict)  # (counter, cell) -> citizens
    blocked: frozenset[tuple[str, str]] = frozenset()

    def fits(self, slot: Slot, capacity: int) -> bool:
        return all((slot.counter, c) not in self.blocked and self.taken.get((slot.counter, c), 0) < capacity
                   for c in slot.cells)


def free_slots(agenda: AgendaSettings, service: Service, day: date, occupancy: Occupancy, now: datetime,
               calendar: WorkCalendar) -> list[Slot]:
    """The free slots of a day for a service, earliest first: one per start time (the first counter free then)."""
    office = agenda.office(service.office)
    if office is None or not (first_day(service, now, calendar) <= day <= last_day(service, now)):
        return []
    if not day_offers(office, service, day, calendar):
        return []
    seen: dict[str, Slot] = {}
    for slot in slots_of_day(office, service, agenda.counters_of(service), day):
        if slot.start not in seen and occupancy.fits(slot, office.capacity):
            seen[slot.start] = slot
    return list(seen.values())


def bookable(agenda: AgendaSettings, service: Service, start: str, now: datetime, calendar: WorkCalendar) -> bool:
    """The rules allow a booking of the service at start (free places aside): not past, not today, inside the
    notice and horizon, a day it takes appointments, a time on the grid."""
    if not is_slot_name(start):
        return False
    office = agenda.office(service.office)
    day = date.fromisoformat(start[:10])
    if office is None or not (first_day(service, now, calendar) <= day <= last_day(service, now)):
        return False
    if not day_offers(office, service, day, calendar):
        return False
    return any(s.start == start for s in slots_of_day(office, service, agenda.counters_of(service)[:1], day))


def slot_at(agenda: AgendaSettings, service: Service, start: str, counter: str | None = None) -> list[Slot]:
    """The slots of the service starting at start (one per counter, or the one counter named)."""
    office = agenda.office(service.office)
    if office is None or not is_slot_name(start):
        return []
    counters = [c for c in agenda.counters_of(service) if counter is None or c.id == counter]
    return [s for s in slots_of_day(office, service, counters, date.fromisoformat(start[:10])) if s.start == start]


# ---- booking codes and no-shows ---------------------------------------------------------------------------

CODE_ALPHABET = "ACDEFGHJKLMNPQRTUVWXY3479"  # no 0/O, 1/I/L look-alikes, no B/8, S/5, Z/2
CODE_LENGTH = 6
_CODE = re.compile(rf"^[{CODE_ALPHABET}]{{{CODE_LENGTH}}}$")


def new_code(random_bytes: bytes) -> str:
    """A short booking code a citizen can read out at the desk (6 of 25 characters: 244 million)."""
    return "".join(CODE_ALPHABET[b % len(CODE_ALPHABET)] for b in random_bytes[:CODE_LENGTH])


def is_code(value: str | None) -> bool:
    return bool(value) and bool(_CODE.match(value.upper()))


def needs_confirmation(agenda: AgendaSettings, no_shows: int) -> bool:
    """After no_show_limit no-shows, a citizen's reminder asks for an explicit confirmation."""
    return no_shows >= agenda.no_show_limit


def reminder_at(agenda: AgendaSettings, start: str, booked_at: datetime) -> datetime | None:
    """When the reminder goes: reminder_hours before; none when the booking was made closer to it than that."""
    moment = at(start) - timedelta(hours=agenda.reminder_hours)
    return moment if moment > booked_at else None


def release_at(agenda: AgendaSettings, start: str) -> datetime:
    return at(start) - timedelta(hours=agenda.release_hours)


def end_of(service: Service, start: str) -> str:
    return slot_name(at(start) + timedelta(minutes=service.duration_minutes))


def opening_text(office: Office) -> list[tuple[str, str]]:
    """(weekday, spans) for each open weekday, in order: what a page shows."""
    return [(d, " ".join(office.hours[d])) for d in WEEKDAYS if office.hours.get(d)]


def span_bounds(span: str) -> tuple[time, time]:
    return time.fromisoformat(span[:5]), time.fromisoformat(span[6:])


# ---- bookings -----------------------------------------------------------------------------------------------

BOOKING_STATUSES = ("booked", "cancelled", "released", "attended", "no_show")
SOURCES = ("whatsapp", "web", "desk")
NAME_MAX, NOTE_MAX = 80, 500


@dataclass(frozen=True)
class Booking:
    """An appointment. person is the citizen's phone (E.164) or, without one, the provider's user id."""

    tenant_id: str
    code: str
    office: str
    counter: str
    service: str
    start: str
    end: str
    cells: tuple[str, ...]
    person: str
    source: str
    created_at: datetime
    status: str = "booked"
    name: str | None = None
    phone: str | None = None
    user_id: str | None = None
    channel_id: str | None = None
    note: str | None = None
    confirmed: bool = False
    must_confirm: bool = False
    reminded_at: datetime | None = None
    changed_at: datetime | None = None
    due_at: datetime | None = None
    due_action: str | None = None  # remind, release
    history: tuple[dict, ...] = ()

    @property
    def day(self) -> date:
        return date.fromisoformat(self.start[:10])

    @property
    def time(self) -> str:
        return self.start[11:16]

    @property
    def active(self) -> bool:
        return self.status == "booked"


def next_due(agenda_settings: AgendaSettings, booking: Booking, now: datetime) -> tuple[datetime | None, str | None]:
    """What the schedule does next for a booking: its reminder, then (when a confirmation is required and none
    came) its release; (None, None) when nothing is left to do."""
    if not booking.active:
        return None, None
    if booking.reminded_at is None:
        moment = reminder_at(agenda_settings, booking.start, booking.created_at)
        if moment is not None:
            return moment, "remind"
    if booking.must_confirm and not booking.confirmed:
        moment = release_at(agenda_settings, booking.start)
        if moment > now or booking.reminded_at is not None:
            return moment, "release"
    return None, None


def clean_name(raw: str | None) -> str | None:
    """A name as typed (one line, 3 to 80 characters, some letters), or None."""
    name = " ".join((raw or "").split())
    if not 3 <= len(name) <= NAME_MAX or sum(ch.isalpha() for ch in name) < 2:
        return None
    return name
