"""The agenda for staff (the console's day view, later) and for the portal: the catalogue as shown, an office's
day, bookings at the desk, attendance, closures, export, and a citizen's booking opened by its signed link.

Every staff read of bookings (names, contacts) is audited before the data leaves; every staff change too."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from chalicelib.domain import agenda as rules
from chalicelib.domain.access import Staff
from chalicelib.domain.agenda import Booking
from chalicelib.domain.phones import InvalidPhone, normalize
from chalicelib.domain.tenancy import Tenant
from chalicelib.services import abuse, access, clock
from chalicelib.services.agenda import booking as service
from chalicelib.services.agenda import reminders
from chalicelib.store import agenda as store
from chalicelib.store import directory

EXPORT_DAYS_MAX = 92
WEB_PER_PHONE = abuse.Limit("agenda-web-phone", max_hits=5, window_seconds=24 * 3600)
WEB_PER_CLIENT = abuse.Limit("agenda-web-client", max_hits=30, window_seconds=3600)


class Invalid(ValueError):
    """A request the agenda refuses, with an Italian message and the field."""

    def __init__(self, message: str, field: str = ""):
        super().__init__(message)
        self.field = field


class NotFound(LookupError):
    pass


# ---- what everyone may read ------------------------------------------------------------------------------


def catalogue(tenant: Tenant) -> dict:
    """Offices and services, public facts only."""
    agenda, booking = tenant.agenda, service.booking_channel(tenant.id)
    return {
        "offices": [{"id": o.id, "name": o.name, "address": o.address,
                     "counters": [{"id": c.id, "name": c.name} for c in o.counters],
                     "hours": {d: list(o.hours[d]) for d in rules.WEEKDAYS if o.hours.get(d)}} for o in agenda.offices],
        "services": [{"id": s.id, "name": s.name, "office": s.office, "duration_minutes": s.duration_minutes,
                      "bring": s.bring, "description": s.description,
                      "modes": {d: s.modes.get(d, "appointment") for d in rules.WEEKDAYS},
                      "min_notice_days": s.min_notice_days, "horizon_days": s.horizon_days}
                     for s in agenda.services if agenda.office(s.office)],
        "whatsapp": booking.display_phone_number if booking else None,
    }


def public_tenant(tenant_id: str) -> Tenant:
    tenant = directory.get_tenant(tenant_id) if tenant_id and len(tenant_id) <= 64 else None
    if tenant is None:
        raise NotFound("tenant")
    return tenant


def _service(tenant: Tenant, service_id: str):
    found = service.service_of(tenant, service_id) if service_id and len(service_id) <= 64 else None
    if found is None:
        raise NotFound("service")
    return found


def days(tenant: Tenant, service_id: str) -> list[dict]:
    svc = _service(tenant, service_id)
    return [{"date": d.isoformat(), "free": n}
            for d, n in service.free_days(tenant, svc, clock.now(), limit=svc.horizon_days)]


def parse_day(value: str | None, field: str = "day") -> date:
    try:
        if value and len(value) == 10:
            return date.fromisoformat(value)
    except ValueError:
        pass
    raise Invalid("Indica il giorno come AAAA-MM-GG.", field)


def times(tenant: Tenant, service_id: str, day_text: str | None) -> list[dict]:
    svc = _service(tenant, service_id)
    day = parse_day(day_text)
    return [{"start": s.start, "time": s.time} for s in service.free_times(tenant, svc, day, clock.now())]


def _start(value: str | None) -> str:
    if not value or not rules.is_slot_name(value):
        raise Invalid("Indica l'orario come AAAA-MM-GGTHH:MM.", "start")
    return value


def _name(value: str | None) -> str:
    name = rules.clean_name(value)
    if name is None:
        raise Invalid("Scrivi nome e cognome (da 3 a 80 caratteri).", "name")
    return name


def _phone(value: str | None, required: bool) -> str | None:
    if not value:
        if required:
            raise Invalid("Indica un numero di telefono.", "phone")
        return None
    try:
        return normalize(value)
    except InvalidPhone:
        raise Invalid("Il numero di telefono non è valido.", "phone") from None


def _note(value: str | None) -> str | None:
    note = (value or "").strip()
    if len(note) > rules.NOTE_MAX:
        raise Invalid(f"La nota può avere al più {rules.NOTE_MAX} caratteri.", "note")
    return note or None


@dataclass(frozen=True)
class Made:
    booking: Booking
    manage_url: str
    ics_url: str


def view(tenant: Tenant, made: Booking, with_person: bool = True) -> dict:
    """A booking as the API shows it (the citizen's own, or staff's)."""
    svc = tenant.agenda.service(made.service)
    office = tenant.agenda.office(made.office)
    counter = office.counter(made.counter) if office else None
    shown = {"code": made.code, "status": made.status, "service": made.service,
             "service_name": svc.name if svc else made.service, "office": made.office,
             "office_name": office.name if office else made.office, "address": office.address if office else "",
             "counter": made.counter, "counter_name": counter.name if counter else made.counter,
             "start": made.start, "end": made.end, "bring": svc.bring if svc else "", "confirmed": made.confirmed,
             "source": made.source}
    if with_person:
        shown.update({"name": made.name, "phone": made.phone, "note": made.note})
    return shown


def book_on_web(tenant: Tenant, body, client: str) -> Made:
    """The portal's booking: the same store, the same rules; limited per phone and per client."""
    if body.consent is not True:
        raise Invalid("Per prenotare serve il consenso al trattamento dei dati.", "consent")
    svc = _service(tenant, body.service)
    phone = _phone(body.phone, required=True)
    who = service.Who(person=phone, name=_name(body.name), phone=phone)
    start, note = _start(body.start), _note(body.note)
    abuse.check(WEB_PER_CLIENT, f"{tenant.id}#{client}")
    abuse.check(WEB_PER_PHONE, f"{tenant.id}#{phone}")
    made = service.book(tenant, svc.id, start, who, "web", clock.now(), note=note)
    return Made(made, service.manage_url(tenant, made), service.ics_url(tenant, made))


# ---- the citizen's link ----------------------------------------------------------------------------------


def by_link(tenant: Tenant, token: str) -> Booking:
    return service.open_token(tenant, token, clock.now())


def cancel_by_link(tenant: Tenant, token: str) -> Booking:
    return service.cancel(tenant, by_link(tenant, token), clock.now(), "citizen")


def move_by_link(tenant: Tenant, token: str, start: str | None) -> Booking:
    return service.move(tenant, by_link(tenant, token), _start(start), clock.now(), "citizen")


# ---- staff ---------------------------------------------------------------------------------------------------


def _office(tenant: Tenant, office_id: str | None):
    office = tenant.agenda.office(office_id) if office_id else (tenant.agenda.offices[0] if tenant.agenda.offices
                                                                 else None)
    if office is None:
        raise NotFound("office")
    return office


def day_view(staff: Staff, office_id: str | None, day_text: str | None, request_id: str | None) -> dict:
    """An office's day per counter: its bookings (audited read), blocked cells, walk-in services."""
    tenant = access.tenant_of(staff)
    office = _office(tenant, office_id)
    day = parse_day(day_text or clock.now().astimezone(rules.ROME).date().isoformat(), "date")
    access.record(staff, "agenda.day.read", f"agenda:{office.id}:{day.isoformat()}", request_id)
    bookings = sorted(store.of_day(tenant.id, office.id, day), key=lambda b: (b.start, b.counter))
    occupancy = store.occupancy(tenant.id, office.id, [c.id for c in office.counters], day, day)
    calendar = service.calendar_of(tenant)
    return {
        "office": office.id, "date": day.isoformat(), "closed": rules.is_office_closed(office, day, calendar),
        "hours": list(office.hours.get(rules.WEEKDAYS[day.weekday()], ())),
        "walk_in": [s.id for s in tenant.agenda.services if s.office == office.id and s.mode(day) == "walk_in"],
        "counters": [{"id": c.id, "name": c.name,
                      "blocked": sorted(cell for counter, cell in occupancy.blocked if counter == c.id),
                      "bookings": [view(tenant, b) for b in bookings if b.counter == c.id]} for c in office.counters],
    }


def book_at_desk(staff: Staff, body) -> Made:
    tenant = access.tenant_of(staff)
    svc = _service(tenant, body.service)
    phone = _phone(body.phone, required=False)
    name = _name(body.name)
    who = service.Who(person=phone or f"desk:{name.lower()}", name=name, phone=phone)
    made = service.book(tenant, svc.id, _start(body.start), who, "desk", clock.now(), note=_note(body.note))
    access.record_change(staff, "agenda.booking.create", f"agenda:{made.code}", None,
                         {"service": made.service, "start": made.start, "counter": made.counter})
    return Made(made, service.manage_url(tenant, made), service.ics_url(tenant, made))


def _staff_booking(tenant: Tenant, code: str) -> Booking:
    made = store.get(tenant.id, code) if rules.is_code(code) else None
    if made is None:
        raise NotFound("booking")
    return made


def attendance(staff: Staff, code: str, present: bool) -> Booking:
    """Presente / assente: an absence counts as the citizen's no-show."""
    tenant = access.tenant_of(staff)
    made = _staff_booking(tenant, code)
    now = clock.now()
    if made.status != "booked":
        raise service.NotChangeable()
    if rules.at(made.start).date() > now.astimezone(rules.ROME).date():
        raise Invalid("Presenza e assenza si segnano dal giorno dell'appuntamento.", "present")
    status = "attended" if present else "no_show"
    access.record_change(staff, "agenda.booking.attendance", f"agenda:{made.code}", {"status": made.status},
                         {"status": status})
    try:
        after = store.finish(made, status, now, f"staff:{staff.subject}")
    except store.Changed:
        raise service.NotChangeable() from None
    if not present:
        store.count_no_show(tenant.id, made.person, now,
                            now + timedelta(days=tenant.agenda.retention_days + 180))
    return after


def cancel_by_staff(staff: Staff, code: str) -> Booking:
    tenant = access.tenant_of(staff)
    made = _staff_booking(tenant, code)
    access.record_change(staff, "agenda.booking.cancel", f"agenda:{made.code}", {"status": made.status},
                         {"status": "cancelled"})
    now = clock.now()
    after = service.cancel(tenant, made, now, f"staff:{staff.subject}")
    reminders.tell(tenant, after, "staff_cancelled", now)
    return after


def close(staff: Staff, body) -> dict:
    """Block a range of a day (or the whole day) of an office, for one counter or all: the cells are blocked first
    (no new booking lands there), then every booking there is cancelled, its slot released and its citizen told."""
    tenant = access.tenant_of(staff)
    office = _office(tenant, body.office)
    day = parse_day(body.date, "date")
    now = clock.now()
    if day < now.astimezone(rules.ROME).date():
        raise Invalid("Non si può chiudere un giorno passato.", "date")
    counters = [c.id for c in office.counters if body.counter in (None, c.id)]
    if not counters:
        raise NotFound("counter")
    first, last = (body.start or "00:00"), (body.end or "24:00")
    if not (_hhmm(first) and _hhmm(last) and first < last):
        raise Invalid("Indica inizio e fine come HH:MM, l'inizio prima della fine.", "start")
    cells = [c for c in rules.cells_of_day(office, day) if first <= c[11:16] < last]
    reason = (body.reason or "").strip()[:200]
    affected = [b for b in store.of_day(tenant.id, office.id, day)
                if b.active and b.counter in counters and any(first <= c[11:16] < last for c in b.cells)]
    target = f"agenda:{office.id}:{day.isoformat()}"
    access.record_change(staff, "agenda.closure", target, None, {
        "office": office.id, "date": day.isoformat(), "counters": counters, "start": first, "end": last,
        "reason": reason, "bookings": [b.code for b in affected]})
    for counter in counters:
        store.block(tenant.id, office.id, counter, cells)
    cancelled, told = 0, 0
    for made in affected:
        try:
            after = store.finish(made, "cancelled", now, f"staff:{staff.subject}")
        except store.Changed:
            continue
        cancelled += 1
        told += reminders.tell(tenant, after, "closure", now, reason)
    return {"office": office.id, "date": day.isoformat(), "blocked": len(cells) * len(counters),
            "cancelled": cancelled, "told": told, "codes": [b.code for b in affected]}


def _hhmm(value: str) -> bool:
    return len(value) == 5 and value[2] == ":" and value[:2].isdigit() and value[3:].isdigit() \
        and (value == "24:00" or (int(value[:2]) < 24 and int(value[3:]) < 60))


def export(staff: Staff, office_id: str | None, first_text: str | None, last_text: str | None,
           request_id: str | None):
    """The bookings of an office from a day to a day as a table (audited)."""
    from chalicelib.services.exports import Table

    tenant = access.tenant_of(staff)
    office = _office(tenant, office_id)
    today = clock.now().astimezone(rules.ROME).date()
    first = parse_day(first_text, "from") if first_text else today
    last = parse_day(last_text, "to") if last_text else first
    if last < first or (last - first).days > EXPORT_DAYS_MAX:
        raise Invalid(f"L'intervallo va da 1 a {EXPORT_DAYS_MAX} giorni, «to» non prima di «from».", "to")
    access.record(staff, "agenda.export", f"agenda:{office.id}:{first.isoformat()}..{last.isoformat()}", request_id)
    rows = []
    day = first
    while day <= last:
        for b in sorted(store.of_day(tenant.id, office.id, day), key=lambda b: (b.start, b.counter)):
            shown = view(tenant, b)
            rows.append([b.code, b.start[:10], b.time, shown["counter_name"], shown["service_name"], b.name or "",
                         b.phone or "", b.status, b.source, b.note or ""])
        day += timedelta(days=1)
    header = ["Codice", "Giorno", "Ora", "Sportello", "Servizio", "Nome", "Telefono", "Stato", "Canale", "Nota"]
    return Table(title=f"appuntamenti-{office.id}", header=header, rows=rows)

