"""KPIs of reports: counted over the period, weeks in Rome's calendar, duplicates told once."""
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from chalicelib.domain.kpis import STATUSES, ReportFacts, compute

ROME = ZoneInfo("Europe/Rome")
START = datetime(2026, 11, 16, tzinfo=ROME)  # Monday of ISO week 47
END = datetime(2026, 11, 30, tzinfo=ROME)


def rome(day, hour, minute=0):
    return datetime(2026, 11, day, hour, minute, tzinfo=ROME)


def report(status, created, *, kind="report", category="roads", hamlet="capanne", response=None, resolution=None):
    return ReportFacts(kind, status, category, hamlet, created,
                       created + timedelta(hours=response) if response is not None else None,
                       created + timedelta(hours=resolution) if resolution is not None else None)


FACTS = [
    report("resolved", rome(16, 9), response=2, resolution=24),
    report("rejected", rome(18, 10), category="lighting", response=4),
    # 00:30 Monday in Rome is still Sunday in UTC: week 48 here, week 47 in UTC.
    report("resolved", datetime(2026, 11, 22, 23, 30, tzinfo=UTC), kind="safety", category=None, hamlet=None,
           response=1, resolution=6),
    report("duplicate", rome(24, 8), response=0.5),
    report("new", rome(25, 12), category="waste", hamlet="montopoli"),
    # outside the period: the end is excluded, the start included
    report("resolved", END, response=1, resolution=1),
    report("resolved", START - timedelta(minutes=1), response=100, resolution=100),
]


def test_kpis_of_two_weeks():
    kpis = compute(FACTS, START, END)
    assert kpis["period"] == {"from": "2026-11-16T00:00:00+01:00", "to": "2026-11-30T00:00:00+01:00"}
    assert kpis["total"] == 5
    assert kpis["by_status"] == {"new": 1, "triaged": 0, "assigned": 0, "forwarded": 0, "in_progress": 0,
                                 "resolved": 2, "rejected": 1, "duplicate": 1}
    assert list(kpis["by_status"]) == list(STATUSES)
    assert kpis["by_kind"] == {"report": 4, "safety": 1}
    assert kpis["by_category"] == {"roads": 2, "lighting": 1, "unknown": 1, "waste": 1}
    assert list(kpis["by_category"]) == ["roads", "lighting", "unknown", "waste"]  # most frequent first
    assert kpis["by_hamlet"] == {"capanne": 3, "montopoli": 1, "unknown": 1}
    assert list(kpis["by_week"].items()) == [("2026-W47", 2), ("2026-W48", 3)]
    # first responses 2, 4, 1, 0.5 hours -> (1 + 2) / 2; resolutions 24 and 6 hours -> 15
    assert kpis["median_hours_to_first_response"] == 1.5
    assert kpis["median_hours_to_resolution"] == 15.0
    # the duplicate is not considered; the rejected and the open one count against
    assert kpis["considered"] == 4
    assert kpis["resolved"] == 2
    assert kpis["resolved_share"] == 0.5


def test_weeks_follow_the_given_timezone():
    kpis = compute(FACTS, START, END, timezone="UTC")
    assert kpis["by_week"] == {"2026-W47": 3, "2026-W48": 2}


def test_medians_are_rounded_to_one_decimal():
    facts = [report("resolved", rome(17, 9), response=20 / 60, resolution=10),
             report("resolved", rome(17, 10), response=50 / 60, resolution=11 + 5 / 60),
             report("in_progress", rome(17, 11), response=100 / 60)]
    kpis = compute(facts, START, END)
    assert kpis["median_hours_to_first_response"] == 0.8  # 50 minutes
    assert kpis["median_hours_to_resolution"] == 10.5  # (10 + 11.083) / 2 = 10.54
    assert kpis["resolved_share"] == 0.667


def test_empty_period():
    kpis = compute(FACTS, datetime(2026, 1, 1, tzinfo=ROME), datetime(2026, 2, 1, tzinfo=ROME))
    assert kpis["total"] == 0
    assert set(kpis["by_status"].values()) == {0}
    assert kpis["by_category"] == kpis["by_hamlet"] == kpis["by_week"] == {}
    assert kpis["median_hours_to_first_response"] is None
    assert kpis["median_hours_to_resolution"] is None
    assert kpis["resolved_share"] is None and kpis["satisfied_share"] is None
    assert kpis["resolved"] == kpis["considered"] == kpis["asked"] == kpis["satisfied"] == 0


def test_only_duplicates_consider_nothing():
    kpis = compute([report("duplicate", rome(17, 9))], START, END)
    assert kpis["total"] == 1
    assert kpis["considered"] == 0
    assert kpis["resolved_share"] is None


def test_accepts_any_iterable():
    assert compute(iter(FACTS), START, END)["total"] == 5


def test_bad_input_is_refused():
    with pytest.raises(ValueError):
        compute(FACTS, datetime(2026, 11, 16), END)
    with pytest.raises(ValueError):
        compute(FACTS, END, START)
    with pytest.raises(ValueError):
        report("closed", rome(17, 9))
    with pytest.raises(ValueError):
        report("new", rome(17, 9), kind="complaint")
    with pytest.raises(ValueError):
        ReportFacts("report", "new", None, None, datetime(2026, 11, 17, 9))


def test_satisfied_is_what_citizens_answered_not_what_the_office_resolved():
    facts = [replace(report("resolved", rome(17, 9)), asked=2, satisfied=1, not_satisfied=1),  # one said «Non risolto»
             replace(report("resolved", rome(17, 10)), asked=1),  # asked, never answered
             replace(report("in_progress", rome(17, 11)), asked=1, not_satisfied=1),  # reopened by its citizen
             report("resolved", rome(17, 12))]  # resolved without telling: nobody asked
    kpis = compute(facts, START, END)
    assert (kpis["resolved"], kpis["considered"], kpis["resolved_share"]) == (3, 4, 0.75)
    assert (kpis["asked"], kpis["satisfied"], kpis["not_satisfied"]) == (4, 1, 2)
    assert kpis["satisfied_share"] == 0.25  # 1 of the 4 asked, not 3 of 4 resolved
