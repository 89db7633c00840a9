"""The agenda's answers and bodies (api/agenda.py): appointments with an office of the comune (issue 17)."""
from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import BaseModel, Field

from chalicelib.api.schemas.common import Answer, Query

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
BookingStatus = Literal["booked", "cancelled", "released", "attended", "no_show"]
Start = Field(pattern=r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$", max_length=16, examples=["2026-12-09T08:30"],
              description="Local time (Europe/Rome), YYYY-MM-DDTHH:MM.")


class AgendaCounter(Answer):
    id: str
    name: str


class AgendaOffice(Answer):
    id: str
    name: str
    address: str
    counters: list[AgendaCounter]
    hours: dict[Weekday, list[str]] = Field(description="Per weekday, up to two spans HH:MM-HH:MM.")


class AgendaService(Answer):
    id: str = Field(description="The id a service page links with (?servizio=...).")
    name: str
    office: str
    duration_minutes: int
    bring: str
    description: str
    modes: dict[Weekday, Literal["appointment", "walk_in", "closed"]]
    min_notice_days: int
    horizon_days: int


class AgendaCatalogue(Answer):
    """The comune's offices and bookable services (public facts)."""

    offices: list[AgendaOffice]
    services: list[AgendaService]
    whatsapp: str | None = Field(None, description="The WhatsApp number where PRENOTA books (none: the web only).")


class AgendaDay(Answer):
    date: str
    free: int = Field(description="Free times that day.")


class AgendaDays(Answer):
    """The next days with free times."""

    items: list[AgendaDay]


class AgendaTime(Answer):
    start: str
    time: str


class AgendaTimes(Answer):
    """The free times of a day."""

    items: list[AgendaTime]


class AgendaTimesQuery(Query):
    day: str = Field(pattern=r"^\d{4}-\d{2}-\d{2}$", description="The day, YYYY-MM-DD.")


class AgendaBooking(Answer):
    """A booking: what, where, when; name, phone and note to its citizen (by its link) and to staff."""

    code: str
    status: BookingStatus
    service: str
    service_name: str
    office: str
    office_name: str
    address: str
    counter: str
    counter_name: str
    start: str
    end: str
    bring: str
    confirmed: bool
    source: Literal["whatsapp", "web", "desk"]
    name: str | None = None
    phone: str | None = None
    note: str | None = None


class AgendaBooked(Answer):
    """The booking made, with its links: the page to move or cancel it (no login) and its .ics file."""

    booking: AgendaBooking
    manage_url: str
    ics_url: str


class AgendaWebBooking(BaseModel):
    """The portal's booking form."""

    service: str = Field(max_length=64)
    start: str = Start
    name: str = Field(max_length=200)
    phone: str = Field(max_length=32)
    note: str | None = Field(None, max_length=500)
    consent: bool = Field(description="The citizen accepts the privacy notice: required (true).")


class AgendaMove(BaseModel):
    start: str = Start


class AgendaIcsFile(BaseModel):
    """The appointment as an iCalendar file."""

    MEDIA_TYPES: ClassVar[tuple[str, ...]] = ("text/calendar",)


class AgendaCounterDay(Answer):
    id: str
    name: str
    blocked: list[str] = Field(description="Cells staff blocked (local YYYY-MM-DDTHH:MM).")
    bookings: list[AgendaBooking]


class AgendaDayView(Answer):
    """An office's day per counter (audited: it names citizens)."""

    office: str
    date: str
    closed: bool
    hours: list[str]
    walk_in: list[str] = Field(description="Services taken without appointment that day.")
    counters: list[AgendaCounterDay]


class AgendaDayQuery(Query):
    office: str | None = Field(None, max_length=64, description="An office id; the first office when absent.")
    date: str | None = Field(None, pattern=r"^\d{4}-\d{2}-\d{2}$", description="YYYY-MM-DD; today when absent.")


class AgendaDeskBooking(BaseModel):
    """A booking made at the desk or on the phone."""

    service: str = Field(max_length=64)
    start: str = Start
    name: str = Field(max_length=200)
    phone: str | None = Field(None, max_length=32)
    note: str | None = Field(None, max_length=500)


class AgendaAttendance(BaseModel):
    present: bool = Field(description="true: presente; false: assente (a no-show).")


class AgendaClosureRequest(BaseModel):
    """Block a range of a day, or the whole day, of an office (one counter or all)."""

    office: str | None = Field(None, max_length=64)
    date: str = Field(pattern=r"^\d{4}-\d{2}-\d{2}$")
    counter: str | None = Field(None, max_length=64)
    start: str | None = Field(None, max_length=5, description="HH:MM; the day's start when absent.")
    end: str | None = Field(None, max_length=5, description="HH:MM; the day's end when absent.")
    reason: str | None = Field(None, max_length=200, description="Told to each citizen whose booking is cancelled.")


class AgendaClosure(Answer):
    """What a closure did: cells blocked, bookings cancelled, citizens told."""

    office: str
    date: str
    blocked: int
    cancelled: int
    told: int = Field(description="Citizens a WhatsApp message was queued for.")
    codes: list[str]


class AgendaExportQuery(Query):
    office: str | None = Field(None, max_length=64)
    from_: str | None = Field(None, alias="from", pattern=r"^\d{4}-\d{2}-\d{2}$")
    to: str | None = Field(None, pattern=r"^\d{4}-\d{2}-\d{2}$")
    format: Literal["csv", "xlsx"] = Field("csv", description="csv (UTF-8, semicolons) or xlsx.")
