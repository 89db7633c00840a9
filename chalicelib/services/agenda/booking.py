"""Booking use cases shared by WhatsApp, the portal and the staff desk: free days and times, book, cancel, move,
the signed link to a booking and its .ics file."""
from __future__ import annotations

import os
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta

from chalicelib import messages
from chalicelib.domain import agenda as rules
from chalicelib.domain.agenda import Booking, Service, Slot
from chalicelib.domain.tenancy import Channel, Tenant
from chalicelib.domain.workdays import WorkCalendar
from chalicelib.observability import logger
from chalicelib.settings import get_settings
from chalicelib.store import agenda as store
from chalicelib.store import directory

DAYS_SHOWN = 7  # the next days with free slots offered at once (a WhatsApp list: 10 rows)
ALTERNATIVES = 3  # free times told to the citizen who lost a race
CODE_TRIES = 5


class Refused(ValueError):
    """The rules do not allow this booking (a past or same-day time, a closed day, off the grid, unknown service)."""


class SlotGone(Exception):
    """The slot was taken meanwhile; alternatives are the next free slots."""

    def __init__(self, alternatives: list[Slot]):
        super().__init__("slot taken")
        self.alternatives = alternatives


class NotChangeable(Exception):
    """The booking is not booked any more, or its time has come."""


def calendar_of(tenant: Tenant) -> WorkCalendar:
    return WorkCalendar.of(tenant.calendar.patron_day, tenant.calendar.closures)


def service_of(tenant: Tenant, service_id: str | None) -> Service | None:
    service = tenant.agenda.service(service_id)
    return service if service is not None and tenant.agenda.office(service.office) is not None else None


def _occupancy(tenant: Tenant, service: Service, first: date, last: date) -> rules.Occupancy:
    counters = [c.id for c in tenant.agenda.counters_of(service)]
    return store.occupancy(tenant.id, service.office, counters, first, last)


def free_days(tenant: Tenant, service: Service, now: datetime, limit: int = DAYS_SHOWN,
              after: date | None = None) -> list[tuple[date, int]]:
    """The next days with free slots (and how many), at most limit."""
    calendar = calendar_of(tenant)
    days = [d for d in rules.candidate_days(tenant.agenda, service, now, calendar) if after is None or d > after]
    found: list[tuple[date, int]] = []
    for start in range(0, len(days), 7):  # a week of cells per query round
        chunk = days[start:start + 7]
        occupancy = _occupancy(tenant, service, chunk[0], chunk[-1])
        for day in chunk:
            free = len(rules.free_slots(tenant.agenda, service, day, occupancy, now, calendar))
            if free:
                found.append((day, free))
                if len(found) >= limit:
                    return found
    return found


def free_times(tenant: Tenant, service: Service, day: date, now: datetime) -> list[Slot]:
    occupancy = _occupancy(tenant, service, day, day)
    return rules.free_slots(tenant.agenda, service, day, occupancy, now, calendar_of(tenant))


def next_free(tenant: Tenant, service: Service, start: str, now: datetime, count: int = ALTERNATIVES) -> list[Slot]:
    """The first free slots after start (that day, then the next days with room)."""
    day = date.fromisoformat(start[:10])
    later = [s for s in free_times(tenant, service, day, now) if s.start > start]
    for other, _ in free_days(tenant, service, now, limit=2, after=day):
        if len(later) >= count:
            break
        later += free_times(tenant, service, other, now)
    return later[:count]


@dataclass(frozen=True)
class Who:
    """Who books: person is the phone (E.164) or the provider's user id."""

    person: str
    name: str | None
    phone: str | None = None
    user_id: str | None = None
    channel_id: str | None = None


def book(tenant: Tenant, service_id: str, start: str, who: Who, source: str, now: datetime,
         note: str | None = None) -> Booking:
    """Take the slot at start for the service (the first counter free then): Refused by the rules, SlotGone when
    it went meanwhile (with the next free times)."""
    service = service_of(tenant, service_id)
    if service is None:
        raise Refused("unknown service")
    if not rules.bookable(tenant.agenda, service, start, now, calendar_of(tenant)):
        raise Refused("not bookable")
    office = tenant.agenda.office(service.office)
    occupancy = _occupancy(tenant, service, date.fromisoformat(start[:10]), date.fromisoformat(start[:10]))
    candidates = [s for s in rules.slot_at(tenant.agenda, service, start) if occupancy.fits(s, office.capacity)]
    profile = store.person(tenant.id, who.person)
    must_confirm = rules.needs_confirmation(tenant.agenda, int(profile.no_shows or 0) if profile else 0)
    for slot in candidates:
        for _ in range(CODE_TRIES):
            booking = Booking(
                tenant_id=tenant.id, code=rules.new_code(os.urandom(rules.CODE_LENGTH)), office=office.id,
                counter=slot.counter, service=service.id, start=slot.start, end=rules.end_of(service, slot.start),
                cells=slot.cells, person=who.person, source=source, created_at=now, name=who.name, phone=who.phone,
                user_id=who.user_id, channel_id=who.channel_id, note=note, must_confirm=must_confirm,
                history=({"at": now.isoformat(), "action": "booked", "by": source},))
            due_at, action = rules.next_due(tenant.agenda, booking, now)
            booking = replace(booking, due_at=due_at, due_action=action)
            try:
                store.create(booking, office.capacity, tenant.agenda.retention_days)
                logger.info("appointment booked", extra={"tenant": tenant.id, "service": service.id,
                                                         "start": slot.start, "source": source})
                return booking
            except store.CodeTaken:
                continue
            except store.SlotTaken:
                break
    raise SlotGone(next_free(tenant, service, start, now))


def _changeable(booking: Booking | None, now: datetime) -> Booking:
    if booking is None or not booking.active or rules.at(booking.start) <= now:
        raise NotChangeable()
    return booking


def cancel(tenant: Tenant, booking: Booking, now: datetime, by: str, status: str = "cancelled") -> Booking:
    """Cancel (or release) a coming booking: its slot is free again in the same transaction."""
    _changeable(booking, now)
    try:
        return store.finish(booking, status, now, by)
    except store.Changed:
        raise NotChangeable() from None


def move(tenant: Tenant, booking: Booking, start: str, now: datetime, by: str) -> Booking:
    """Move a coming booking to another free time of its service, in one transaction."""
    _changeable(booking, now)
    service = service_of(tenant, booking.service)
    if service is None or not rules.bookable(tenant.agenda, service, start, now, calendar_of(tenant)):
        raise Refused("not bookable")
    office = tenant.agenda.office(service.office)
    day = date.fromisoformat(start[:10])
    occupancy = _occupancy(tenant, service, day, day)
    own = {(booking.counter, c) for c in booking.cells}
    for slot in rules.slot_at(tenant.agenda, service, start):
        if {(slot.counter, c) for c in slot.cells} & own:
            continue  # overlapping its own cells: one transaction cannot touch an item twice
        if not occupancy.fits(slot, office.capacity):
            continue
        moved = replace(booking, start=slot.start, reminded_at=None, confirmed=False, created_at=booking.created_at)
        due = rules.next_due(tenant.agenda, replace(moved, created_at=now), now)
        try:
            return store.move(booking, slot, rules.end_of(service, slot.start), office.capacity, now, by, due,
                              tenant.agenda.retention_days)
        except store.SlotTaken:
            continue
        except store.Changed:
            raise NotChangeable() from None
    raise SlotGone(next_free(tenant, service, start, now))


# ---- the signed link, the .ics ---------------------------------------------------------------------------


def _serializer(tenant_id: str):
    from itsdangerous import URLSafeSerializer  # lazily: keeps `import app` fast

    return URLSafeSerializer(get_settings().link_secret(), salt=f"filo-agenda-link/{tenant_id}")


def token(tenant: Tenant, booking: Booking) -> str:
    """A link's token: the booking's code and the link's expiry (link_days after the appointment ends)."""
    expires = rules.at(booking.end) + timedelta(days=tenant.agenda.link_days)
    return _serializer(tenant.id).dumps({"c": booking.code, "e": int(expires.timestamp())})


class LinkRefused(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status, self.message = status, message


def open_token(tenant: Tenant, value: str, now: datetime) -> Booking:
    """The booking a link opens: LinkRefused 403 (not a valid link) or 410 (expired)."""
    from itsdangerous import BadSignature

    refused = LinkRefused(403, "Questo link non è valido: usa per intero quello ricevuto alla prenotazione.")
    if not value or len(value) > 300:
        raise refused
    try:
        data = _serializer(tenant.id).loads(value)
    except BadSignature:
        raise refused from None
    if not isinstance(data, dict) or not rules.is_code(data.get("c")) or not isinstance(data.get("e"), int):
        raise refused
    if now.timestamp() > data["e"]:
        raise LinkRefused(410, "Questo link è scaduto: l'appuntamento è passato.")
    booking = store.get(tenant.id, data["c"])
    if booking is None:
        raise LinkRefused(410, "Questa prenotazione non c'è più.")
    return booking


def manage_url(tenant: Tenant, booking: Booking) -> str:
    value = token(tenant, booking)
    portal = get_settings().portal_url
    if portal:
        return f"{portal}#/agenda/{tenant.id}/{value}"
    return f"{get_settings().public_base_url}/public/v1/{tenant.id}/agenda/b/{value}"


def ics_url(tenant: Tenant, booking: Booking) -> str:
    return f"{get_settings().public_base_url}/public/v1/{tenant.id}/agenda/b/{token(tenant, booking)}/ics"


def _ics_text(value: str) -> str:
    return value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def ics(tenant: Tenant, booking: Booking, now: datetime) -> str:
    """The appointment as an iCalendar (RFC 5545) event; a cancelled one as a cancelled event."""
    service = tenant.agenda.service(booking.service)
    office = tenant.agenda.office(booking.office)
    stamp = "%Y%m%dT%H%M%SZ"
    start, end = rules.at(booking.start), rules.at(booking.end)
    summary = messages.text("agenda.ics_summary", tenant.language, what=service.name if service else booking.service,
                            office=office.name if office else booking.office)
    description = messages.text("agenda.ics_description", tenant.language, code=booking.code,
                                bring=service.bring if service else "")
    lines = [
        "BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Filo Diretto//Agenda//IT", "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH", "BEGIN:VEVENT", f"UID:{booking.code}-{tenant.id}@filo-diretto",
        f"DTSTAMP:{_utc(now, stamp)}",
        f"DTSTART:{_utc(start, stamp)}", f"DTEND:{_utc(end, stamp)}", f"SUMMARY:{_ics_text(summary)}",
        f"DESCRIPTION:{_ics_text(description)}",
        f"LOCATION:{_ics_text(', '.join(p for p in (office.name, office.address) if p) if office else '')}",
        f"STATUS:{'CONFIRMED' if booking.active else 'CANCELLED'}", "END:VEVENT", "END:VCALENDAR",
    ]
    return "\r\n".join(_fold(line) for line in lines) + "\r\n"


def _utc(moment: datetime, pattern: str) -> str:
    return moment.astimezone(UTC).strftime(pattern)


def _fold(line: str) -> str:
    """RFC 5545: lines of at most 75 octets, continued with a space."""
    out, current = [], ""
    for ch in line:
        if len((current + ch).encode()) > 75:
            out.append(current)
            current = " " + ch
        else:
            current += ch
    out.append(current)
    return "\r\n".join(out)


# ---- wording ---------------------------------------------------------------------------------------------


def day_words(tenant: Tenant, day: date) -> str:
    """"martedì 15 dicembre"."""
    weekdays = messages.text("agenda.weekdays", tenant.language).split(",")
    months = messages.text("agenda.months", tenant.language).split(",")
    return messages.text("agenda.day_row", tenant.language, weekday=weekdays[day.weekday()], day=day.day,
                         month=months[day.month - 1])


def booking_channel(tenant_id: str) -> Channel | None:
    """The comune's WhatsApp number where citizens book (channel setting agenda_booking), or None: the web only."""
    return next((c for c in directory.channels_of(tenant_id) if c.settings.agenda_booking), None)
