"""Key performance indicators of citizens' reports, for the comune's staff.

Definitions (over reports created in [start, end)):

- ``total``: every report of the period, duplicates included; ``by_status``, ``by_kind``, ``by_category``,
  ``by_hamlet`` (missing -> "unknown") and ``by_week`` (ISO week of creation in the comune's timezone) count them.
- ``median_hours_to_first_response``: median hours from creation to the first staff action after ``new``,
  over the reports of the period that have one; ``median_hours_to_resolution`` likewise up to ``resolved_at``.
  Both rounded to one decimal, None when no report has the timestamp.
- ``considered``: the non-duplicate reports of the period. A duplicate is one request told twice, so it is
  counted once, through the report it duplicates.
- ``resolved``: the considered reports whose status is ``resolved``.
- ``resolved_share``: resolved / considered (rounded to three decimals), None when nothing is considered.
  Open and rejected reports count against it: the share is "of what citizens asked in the period, how much
  has been solved", simple to explain and impossible to improve by leaving reports open.
- ``on_time``: of the reports of the period that have deadlines (``considered``: reports, not tips nor duplicates,
  whose category has targets), those with no step late so far (``on_time``, domain/deadlines.py) and their
  ``share`` (three decimals, None when none is considered); the same ``by_category`` and ``by_team`` (the team the
  report is assigned to, else its category's usual team; "unknown" when none), most considered first.
- ``asked``: the citizens asked, when their report was resolved, whether the problem is solved («Risolto» /
  «Non risolto», services/reports/feedback.py), summed over the reports of the period (a citizen counts once
  per report, however many times it was resolved).
- ``satisfied`` and ``not_satisfied``: of them, those whose last answer is «Risolto», and «Non risolto»; who
  did not answer is in neither.
- ``satisfied_share`` ("soddisfatti"): satisfied / asked (three decimals), None when nobody was asked. What
  citizens said, not what the office marked: a report resolved by staff and found unsolved by its citizen
  counts in ``resolved`` and against ``satisfied_share``.
"""
from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from chalicelib.domain.reports import KINDS, STATUSES

UNKNOWN = "unknown"


@dataclass(frozen=True)
class ReportFacts:
    """What the KPIs need to know of one report; timestamps are timezone-aware."""

    kind: str
    status: str
    category: str | None
    hamlet: str | None
    created_at: datetime
    first_response_at: datetime | None = None
    resolved_at: datetime | None = None
    team: str | None = None
    on_time: bool | None = None  # whether no deadline was missed so far; None: no deadlines (domain/deadlines.py)
    asked: int = 0  # citizens asked whether the problem is solved
    satisfied: int = 0  # ... whose last answer is «Risolto»
    not_satisfied: int = 0  # ... «Non risolto»

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown kind {self.kind!r}")
        if self.status not in STATUSES:
            raise ValueError(f"unknown status {self.status!r}")
        for name in ("created_at", "first_response_at", "resolved_at"):
            moment = getattr(self, name)
            if moment is not None and moment.utcoffset() is None:
                raise ValueError(f"{name} must be timezone-aware")


def _hours(start: datetime, end: datetime | None) -> float | None:
    if end is None:
        return None
    return max(0.0, (end - start).total_seconds() / 3600)


def _median_hours(values: Iterable[float | None]) -> float | None:
    present = [value for value in values if value is not None]
    return round(statistics.median(present), 1) if present else None


def _iso_week(moment: datetime, zone: ZoneInfo) -> str:
    year, week, _ = moment.astimezone(zone).isocalendar()
    return f"{year}-W{week:02d}"


def _by_count(counter: Counter[str]) -> dict[str, int]:
    """Most frequent first, ties by name, so a dashboard can show it as is."""
    return dict(sorted(counter.items(), key=lambda item: (-item[1], item[0])))


def _share(flags: list[bool]) -> dict[str, Any]:
    on_time = sum(flags)
    return {"share": round(on_time / len(flags), 3) if flags else None, "on_time": on_time, "considered": len(flags)}


def _on_time(reports: list[ReportFacts]) -> dict[str, Any]:
    timed = [report for report in reports if report.on_time is not None]
    groups: dict[str, dict[str, list[bool]]] = {"by_category": {}, "by_team": {}}
    for report in timed:
        groups["by_category"].setdefault(report.category or UNKNOWN, []).append(report.on_time)
        groups["by_team"].setdefault(report.team or UNKNOWN, []).append(report.on_time)
    return {**_share([report.on_time for report in timed]),
            **{name: {key: _share(flags) for key, flags in sorted(group.items(), key=lambda i: (-len(i[1]), i[0]))}
               for name, group in groups.items()}}


def compute(facts: Iterable[ReportFacts], start: datetime, end: datetime, timezone: str = "Europe/Rome") -> dict[str, Any]:
    """The KPIs of the reports created in [start, end); see the module docstring for the definitions."""
    if start.utcoffset() is None or end.utcoffset() is None:
        raise ValueError("start and end must be timezone-aware")
    if end < start:
        raise ValueError("end before start")
    zone = ZoneInfo(timezone)
    reports = [fact for fact in facts if start <= fact.created_at < end]

    statuses = Counter(report.status for report in reports)
    considered = [report for report in reports if report.status != "duplicate"]
    resolved = sum(1 for report in considered if report.status == "resolved")
    asked = sum(report.asked for report in reports)
    satisfied = sum(report.satisfied for report in reports)
    return {
        "period": {"from": start.isoformat(), "to": end.isoformat()},
        "total": len(reports),
        "by_status": {status: statuses[status] for status in STATUSES},
        "by_kind": _by_count(Counter(report.kind for report in reports)),
        "by_category": _by_count(Counter(report.category or UNKNOWN for report in reports)),
        "by_hamlet": _by_count(Counter(report.hamlet or UNKNOWN for report in reports)),
        "by_week": dict(sorted(Counter(_iso_week(report.created_at, zone) for report in reports).items())),
        "median_hours_to_first_response": _median_hours(_hours(r.created_at, r.first_response_at) for r in reports),
        "median_hours_to_resolution": _median_hours(_hours(r.created_at, r.resolved_at) for r in reports),
        "resolved_share": round(resolved / len(considered), 3) if considered else None,
        "resolved": resolved,
        "considered": len(considered),
        "on_time": _on_time(reports),
        "satisfied_share": round(satisfied / asked, 3) if asked else None,
        "satisfied": satisfied,
        "not_satisfied": sum(report.not_satisfied for report in reports),
        "asked": asked,
    }
