"""The agenda's rules (issue 17): which days and times a service offers, from the catalogue alone.

The calendar: Friday 4 December 2026 at 10:00 in Rome; Tuesday 8 is the Immacolata (national holiday); Easter
Monday 2027 is 29 March."""
from __future__ import annotations

from datetime import date, datetime

import pytest

from chalicelib.domain import agenda
from chalicelib.domain.settings import tenant_settings
from chalicelib.domain.workdays import ROME, WorkCalendar
from local.seed import AGENDA

FRIDAY = datetime(2026, 12, 4, 10, 0, tzinfo=ROME)
NO_CALENDAR = WorkCalendar()


def catalogue(**changes) -> agenda.AgendaSettings:
    return tenant_settings({"agenda": {**AGENDA, **changes}}).agenda


def days(service_id: str, now: datetime = FRIDAY, calendar: WorkCalendar = NO_CALENDAR, **changes) -> list[date]:
    settings = catalogue(**changes)
    return list(agenda.candidate_days(settings, settings.service(service_id), now, calendar))


def test_a_minimum_notice_of_one_working_day_is_honoured_across_a_weekend():
    offered = days("smarriti")
    # booked on Friday: Saturday (open) and Sunday are not a working day after it; Monday 7 is the first
    assert offered[0] == date(2026, 12, 7)
    assert date(2026, 12, 5) not in offered
    on_saturday = days("smarriti", now=datetime(2026, 12, 5, 9, 0, tzinfo=ROME))
    assert on_saturday[0] == date(2026, 12, 7)


def test_a_holiday_and_a_closed_weekday_offer_no_slots():
    settings = catalogue()
    service = settings.service("smarriti")
    offered = days("smarriti")
    assert date(2026, 12, 8) not in offered  # Immacolata
    assert date(2026, 12, 13) not in offered  # Sunday: the office has no hours
    assert agenda.free_slots(settings, service, date(2026, 12, 8), agenda.Occupancy(), FRIDAY, NO_CALENDAR) == []
    assert agenda.free_slots(settings, service, date(2026, 12, 13), agenda.Occupancy(), FRIDAY, NO_CALENDAR) == []
    assert agenda.free_slots(settings, service, date(2026, 12, 9), agenda.Occupancy(), FRIDAY, NO_CALENDAR)
    easter = days("smarriti", now=datetime(2027, 3, 25, 9, 0, tzinfo=ROME))
    assert date(2027, 3, 29) not in easter and date(2027, 3, 30) in easter  # Easter Monday, then Tuesday
    # the holiday counts against the notice too: two working days from Friday 4 are Monday 7 and Wednesday 9
    assert days("contrassegno")[0] == date(2026, 12, 9)


def test_the_comunes_patron_day_and_the_offices_closures_recurring_ones_too():
    calendar = WorkCalendar.of("12-09")  # a patron saint on Wednesday 9
    offered = days("smarriti", calendar=calendar)
    assert date(2026, 12, 9) not in offered
    assert date(2026, 12, 24) not in offered  # the office's closure
    summer = days("smarriti", now=datetime(2027, 8, 10, 9, 0, tzinfo=ROME))
    assert date(2027, 8, 14) not in summer and date(2027, 8, 13) in summer  # *-08-14, every year


def test_walk_in_and_closed_weekdays_of_a_service():
    assert all(d.weekday() != 0 for d in days("incidente"))  # Mondays are walk-in: no booking
    assert all(d.weekday() != 5 for d in days("agente"))  # closed on Saturdays
    assert any(d.weekday() == 5 for d in days("smarriti"))


def test_times_fit_the_spans_and_a_taken_or_blocked_cell_is_not_offered():
    settings = catalogue()
    service = settings.service("agente")  # 30 minutes, both counters
    tuesday = date(2026, 12, 15)
    free = agenda.free_slots(settings, service, tuesday, agenda.Occupancy(), FRIDAY, NO_CALENDAR)
    times = [s.time for s in free]
    assert times[0] == "08:30" and "12:00" in times and "12:15" not in times  # 12:15 + 30' is past 12:30
    assert "14:30" in times and "17:00" in times and "17:15" not in times
    assert free[0].cells == ("2026-12-15T08:30", "2026-12-15T08:45")

    one_counter = agenda.Occupancy(taken={("1", "2026-12-15T08:45"): 1})
    slot = next(s for s in agenda.free_slots(settings, service, tuesday, one_counter, FRIDAY, NO_CALENDAR)
                if s.time == "08:30")
    assert slot.counter == "2"  # counter 1 is busy at 08:45: the other takes it
    both = agenda.Occupancy(taken={("1", "2026-12-15T08:45"): 1}, blocked=frozenset({("2", "2026-12-15T08:30")}))
    times = [s.time for s in agenda.free_slots(settings, service, tuesday, both, FRIDAY, NO_CALENDAR)]
    assert "08:30" not in times and "08:45" in times  # counter 2 is free from 08:45


def test_same_day_past_and_off_grid_times_are_refused():
    settings = catalogue()
    service = settings.service("smarriti")
    assert agenda.bookable(settings, service, "2026-12-09T09:00", FRIDAY, NO_CALENDAR)
    assert not agenda.bookable(settings, service, "2026-12-04T11:00", FRIDAY, NO_CALENDAR)  # today
    assert not agenda.bookable(settings, service, "2026-12-03T11:00", FRIDAY, NO_CALENDAR)  # past
    assert not agenda.bookable(settings, service, "2026-12-09T09:05", FRIDAY, NO_CALENDAR)  # off the grid
    assert not agenda.bookable(settings, service, "2026-12-09T13:00", FRIDAY, NO_CALENDAR)  # closed at 13
    assert not agenda.bookable(settings, service, "2027-03-01T09:00", FRIDAY, NO_CALENDAR)  # past the horizon
    assert not agenda.bookable(settings, service, "2026-12-09 09:00", FRIDAY, NO_CALENDAR)
    zero = catalogue(services=[{**AGENDA["services"][1], "min_notice_days": 0}])
    assert agenda.first_day(zero.service("smarriti"), FRIDAY, NO_CALENDAR) == date(2026, 12, 5)


@pytest.mark.parametrize("change, message", [
    ({"services": [{**AGENDA["services"][0], "duration_minutes": 20}]}, "multiple"),
    ({"services": [{**AGENDA["services"][0], "office": "anagrafe"}]}, "no office"),
    ({"services": [{**AGENDA["services"][0], "counters": ["9"]}]}, "no counter"),
    ({"offices": [{**AGENDA["offices"][0], "hours": {"mon": ["13:00-08:00"]}}]}, "start before"),
    ({"offices": [{**AGENDA["offices"][0], "closures": ["*-02-30"]}]}, "day is out of range"),
    ({"services": [{**AGENDA["services"][1], "name": "Ritiro di oggetti smarriti o rubati"}]}, None),
])
def test_the_catalogue_is_checked_when_written(change, message):
    if message is None:  # a long name without short_name is cut for the list row, never refused
        assert len(catalogue(**change).service("smarriti").list_title) == 24
        return
    with pytest.raises(ValueError, match=message):
        catalogue(**change)


def test_no_shows_past_the_limit_ask_for_a_confirmation_and_codes_are_readable():
    settings = catalogue()
    assert not agenda.needs_confirmation(settings, 1) and agenda.needs_confirmation(settings, 2)
    booked = datetime(2026, 12, 4, 10, 0, tzinfo=ROME)
    assert agenda.reminder_at(settings, "2026-12-09T09:00", booked) == datetime(2026, 12, 8, 9, 0, tzinfo=ROME)
    assert agenda.reminder_at(settings, "2026-12-05T09:00", booked) is None  # booked closer than 24 h
    code = agenda.new_code(bytes(range(6)))
    assert agenda.is_code(code) and agenda.is_code(code.lower()) and not agenda.is_code("ABC0O1")
