"""Working days on an Italian comune's calendar, and the deadlines of a report counted on them (issue 14, item 2)."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from chalicelib.domain import deadlines, kpis
from chalicelib.domain.settings import tenant_settings
from chalicelib.domain.workdays import WorkCalendar

ROME = ZoneInfo("Europe/Rome")
PLAIN = WorkCalendar()


def at(day: str, hour: int = 10) -> datetime:
    return datetime.fromisoformat(day).replace(hour=hour, tzinfo=ROME)


@pytest.mark.parametrize("day", [
    "2026-01-01", "2026-01-06", "2026-04-06",  # New Year, Epiphany, Easter Monday 2026
    "2027-03-29", "2025-04-21",  # Easter Monday moves: 2027, 2025
    "2026-04-25", "2026-05-01", "2026-06-02", "2026-08-15", "2026-10-04", "2026-11-01", "2026-12-08",
    "2026-12-25", "2026-12-26",
])
def test_national_holidays_are_not_working_days(day):
    assert not PLAIN.is_working_day(date.fromisoformat(day))


@pytest.mark.parametrize("day", ["2026-04-07", "2026-12-07", "2026-12-09", "2027-04-06", "2026-06-24"])
def test_ordinary_weekdays_are_working_days(day):
    assert PLAIN.is_working_day(date.fromisoformat(day))


def test_weekends_are_not_working_days():
    assert not PLAIN.is_working_day(date(2026, 12, 5)) and not PLAIN.is_working_day(date(2026, 12, 6))


def test_the_patron_saints_day_and_closures_come_from_the_tenant():
    calendar = WorkCalendar.of("06-24", [date(2026, 12, 24)])
    assert not calendar.is_working_day(date(2026, 6, 24)) and not calendar.is_working_day(date(2027, 6, 24))
    assert not calendar.is_working_day(date(2026, 12, 24))
    assert calendar.is_working_day(date(2027, 12, 24))  # a closure is one day, not every year


def test_adding_working_days_skips_weekends_and_holidays():
    # Friday 4 December 2026; Monday 7 is a working day, Tuesday 8 the Immacolata
    assert PLAIN.add_working_days(date(2026, 12, 4), 1) == date(2026, 12, 7)
    assert PLAIN.add_working_days(date(2026, 12, 4), 2) == date(2026, 12, 9)
    assert WorkCalendar.of("12-07").add_working_days(date(2026, 12, 4), 2) == date(2026, 12, 10)  # Sant'Ambrogio
    # Thursday 2 April 2026: Friday 3, then Easter Monday 6 is skipped
    assert PLAIN.add_working_days(date(2026, 4, 2), 2) == date(2026, 4, 7)
    # Christmas week: 24 (Thu), [25, 26, 27], 28
    assert PLAIN.add_working_days(date(2026, 12, 23), 2) == date(2026, 12, 28)
    assert PLAIN.add_working_days(date(2026, 12, 4), 0) == date(2026, 12, 4)


def test_working_days_between_counts_the_days_after_start():
    assert PLAIN.working_days_between(date(2026, 12, 4), date(2026, 12, 11)) == 4  # 7, 9, 10, 11
    assert PLAIN.working_days_between(date(2026, 12, 11), date(2026, 12, 4)) == 0


def test_due_is_the_close_of_the_last_working_day_in_rome():
    last, moment = PLAIN.due(datetime(2026, 12, 4, 22, 30, tzinfo=ZoneInfo("UTC")), 2)  # 23:30 in Rome, Friday
    assert last == date(2026, 12, 9)
    assert moment == datetime(2026, 12, 10, 0, 0, tzinfo=ROME)
    last, _ = PLAIN.due(datetime(2026, 12, 4, 23, 30, tzinfo=ZoneInfo("UTC")), 2)  # already Saturday in Rome
    assert last == date(2026, 12, 9)


TARGETS = {"triaged": 2, "resolved": 30}
CREATED = at("2026-12-04")  # a Friday


def timing(transitions, now, targets=TARGETS, calendar=PLAIN):
    return deadlines.compute(CREATED, [(CREATED, "new"), *transitions], targets, calendar, now, 1)


def test_a_new_report_is_on_time_then_due_soon_then_overdue():
    assert timing([], at("2026-12-04", 15)).state == "on_time"  # due Wednesday 9: two working days ahead
    # on Monday it ends within one working day, as Tuesday is a holiday
    assert timing([], at("2026-12-07")).state == "due_soon"
    soon = timing([], at("2026-12-09", 9))
    assert soon.state == "due_soon" and soon.next.step == "triaged" and soon.next.due_on == date(2026, 12, 9)
    late = timing([], at("2026-12-10", 0))
    assert late.state == "overdue" and not late.on_time


def test_the_holiday_is_not_counted():
    # on Wednesday 9 a count that took the Immacolata as a working day would say overdue
    assert timing([], at("2026-12-09", 18)).state != "overdue"


def test_taking_in_charge_moves_the_deadline_to_closing():
    found = timing([(at("2026-12-07"), "assigned")], at("2026-12-11"))
    assert found.next.step == "resolved" and found.state == "on_time" and found.on_time
    assert found.steps[0].reached_at == at("2026-12-07") and not found.steps[0].late(at("2026-12-11"))


def test_a_step_reached_late_stays_late_for_the_kpis():
    found = timing([(at("2026-12-11"), "triaged")], at("2026-12-14"))
    assert found.state == "on_time" and not found.on_time


def test_closing_meets_every_step_and_reopening_makes_closing_pending():
    closed = timing([(at("2026-12-07"), "triaged"), (at("2026-12-09"), "resolved")], at("2027-03-01"))
    assert closed.state is None and closed.next is None and closed.on_time
    rejected = timing([(at("2026-12-07"), "rejected")], at("2027-03-01"))
    assert rejected.state is None and rejected.on_time
    reopened = timing([(at("2026-12-07"), "triaged"), (at("2026-12-09"), "resolved"), (at("2026-12-10"), "in_progress")],
                      at("2027-03-01"))
    assert reopened.next.step == "resolved" and reopened.state == "overdue"


def test_only_reports_that_are_no_duplicates_have_deadlines():
    assert deadlines.has_deadlines("report", "new") and not deadlines.has_deadlines("report", "duplicate")
    assert not deadlines.has_deadlines("safety", "new")


def test_targets_are_per_category_and_validated_when_written():
    settings = tenant_settings({"reports": {
        "categories": [{"id": "illuminazione", "name": "Illuminazione"}, {"id": "verde", "name": "Verde"}],
        "targets": {"default": {"triaged": 2, "resolved": 30},
                    "categories": {"illuminazione": {"resolved": 10}, "verde": {"triaged": None}}}}})
    targets = settings.reports.targets
    assert targets.of("illuminazione") == {"triaged": 2, "resolved": 10}
    assert targets.of("verde") == {"resolved": 30}
    assert targets.of(None) == targets.of("altro") == {"triaged": 2, "resolved": 30}
    for bad, knob in [
        ({"reports": {"targets": {"categories": {"nessuna": {"resolved": 3}}}}}, "no such category nessuna"),
        ({"reports": {"targets": {"default": {"triaged": 10, "resolved": 5}}}}, "fewer working days"),
        ({"reports": {"targets": {"default": {"resolved": 0}}}}, "targets.default.resolved"),
        ({"reports": {"targets": {"default": {"closed": 3}}}}, "targets.default.closed"),
        ({"calendar": {"patron_day": "02-30"}}, "calendar.patron_day"),
        ({"calendar": {"closures": ["domani"]}}, "calendar.closures"),
    ]:
        with pytest.raises(ValueError, match=knob):
            tenant_settings(bad)


def test_age_counts_calendar_days_in_rome():
    assert deadlines.age_days(CREATED, at("2026-12-09", 1), PLAIN) == 5
    assert deadlines.age_days(CREATED, CREATED + timedelta(hours=1), PLAIN) == 0


def test_kpis_give_the_on_time_share_per_category_and_team():
    def fact(category, team, on_time):
        return kpis.ReportFacts(kind="report", status="new", category=category, hamlet=None, created_at=CREATED,
                                team=team, on_time=on_time)
    facts = [fact("strade", "cantonieri", True), fact("strade", "cantonieri", False), fact("verde", None, True),
             kpis.ReportFacts(kind="safety", status="new", category=None, hamlet=None, created_at=CREATED)]
    found = kpis.compute(facts, at("2026-01-01"), at("2027-01-01"))["on_time"]
    assert (found["share"], found["on_time"], found["considered"]) == (0.667, 2, 3)
    assert found["by_category"] == {"strade": {"share": 0.5, "on_time": 1, "considered": 2},
                                    "verde": {"share": 1.0, "on_time": 1, "considered": 1}}
    assert found["by_team"]["cantonieri"]["share"] == 0.5 and found["by_team"]["unknown"]["considered"] == 1
