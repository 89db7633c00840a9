"""Deadlines of a report: by when it should reach each step, whether it did, and what the office sees.

A category's targets (domain/settings.Targets) give, per step, working days from the report's creation
(domain/workdays.py). A step is reached when the report's status first gets to it or past it in the lifecycle
(taken in charge: any status out of new; a report rejected or closed meets every step at that moment); reopening a
resolved report makes its `resolved` step pending again. Only reports (never safety tips, the police's own work)
and never duplicates (told once, through their original) have deadlines.

- A step is **late** when it was reached after its due moment, or is still pending past it.
- An open report is **overdue** ("scaduta") when a pending step is past due; **due soon** ("in scadenza") when the
  next pending step ends within `due_soon_days` working days; else **on time**.
- A report is **on time** for the KPIs when none of its steps is late (so far: an open report not yet due counts as
  on time, one past due as late whatever happens next).
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from chalicelib.domain.workdays import WorkCalendar

# How far each status is along the lifecycle; a closed status is past every step.
RANK = {"new": 0, "triaged": 1, "assigned": 1, "forwarded": 1, "in_progress": 2, "resolved": 3, "rejected": 3}
STEP_RANK = {"triaged": 1, "in_progress": 2, "resolved": 3}
STATES = ("overdue", "due_soon", "on_time")
DUE = ("overdue", "due_soon")  # the staff list's `due` filter: scadute, in scadenza
# The staff list's sort keys: a column, "-" before it for the reverse order.
SORTS = ("number", "created_at", "updated_at", "status", "category", "hamlet", "team", "due", "age")


@dataclass(frozen=True)
class StepDeadline:
    step: str
    due_on: date  # the last working day
    due_at: datetime  # the moment it is missed: the close of due_on
    reached_at: datetime | None

    def late(self, now: datetime) -> bool:
        return (self.reached_at or now) >= self.due_at


@dataclass(frozen=True)
class Deadlines:
    steps: tuple[StepDeadline, ...]
    next: StepDeadline | None  # the first step not reached yet
    state: str | None  # overdue, due_soon, on_time; None once every step is reached
    on_time: bool  # no step late so far


def has_deadlines(kind: str, status: str) -> bool:
    return kind == "report" and status != "duplicate"


def reached(created_at: datetime, transitions: Iterable[tuple[datetime, str]], step: str) -> datetime | None:
    """When the report last got to step (or past it) and stayed there; None when it is not there now."""
    rank, at = STEP_RANK[step], None
    current = 0
    for moment, status in transitions:
        new = RANK.get(status, current)
        if new >= rank > current:
            at = moment
        elif new < rank:
            at = None
        current = new
    return at if current >= rank else None


def compute(created_at: datetime, transitions: Iterable[tuple[datetime, str]], targets: dict[str, int],
            calendar: WorkCalendar, now: datetime, due_soon_days: int) -> Deadlines:
    """A report's deadlines from its creation, its status changes (moment, new status) in order, its category's
    targets (step -> working days) and the comune's calendar."""
    transitions = list(transitions)
    steps = tuple(StepDeadline(step, *calendar.due(created_at, days), reached(created_at, transitions, step))
                  for step, days in targets.items())
    pending = [s for s in steps if s.reached_at is None]
    following = pending[0] if pending else None
    on_time = not any(s.late(now) for s in steps)
    if following is None:
        return Deadlines(steps, None, None, on_time)
    if any(s.late(now) for s in pending):
        state = "overdue"
    else:
        soon = calendar.add_working_days(calendar.local_day(now), due_soon_days)
        state = "due_soon" if following.due_on <= soon else "on_time"
    return Deadlines(steps, following, state, on_time)


def age_days(created_at: datetime, now: datetime, calendar: WorkCalendar) -> int:
    """Calendar days since the report came, in the comune's time."""
    return max(0, (calendar.local_day(now) - calendar.local_day(created_at)).days)
