"""Deadlines in the office's work: each report's age and due date, the inbox sorted by any column and filtered to
the overdue or the due soon, on-time facts for the KPIs (domain/deadlines.py has the rules)."""
from __future__ import annotations

from datetime import datetime

from chalicelib.domain import deadlines as rules
from chalicelib.domain.reports import STATUSES, Report
from chalicelib.domain.tenancy import Tenant
from chalicelib.domain.workdays import WorkCalendar
from chalicelib.store import reports as store

MOST_SORTED = 5000  # reports a sorted or deadline-filtered list reads at most
DUE, SORTS = rules.DUE, rules.SORTS  # missing values sort last either way
_OFFSET = "at:"


class BadListing(ValueError):
    """A sort, due filter or cursor the list does not take; field names the query parameter."""

    def __init__(self, message: str, field: str):
        super().__init__(message)
        self.field = field


def calendar_of(tenant: Tenant) -> WorkCalendar:
    return WorkCalendar.of(tenant.calendar.patron_day, tenant.calendar.closures)


def transitions(report: Report) -> list[tuple[datetime, str]]:
    """The report's status changes in order (its creation is the first, as new)."""
    return [(e.at, e.status) for e in report.events if e.status and e.action in ("created", "status")]


def of(tenant: Tenant, report: Report, now: datetime, calendar: WorkCalendar | None = None) -> rules.Deadlines | None:
    """The report's deadlines, or None when it has none (a tip, a duplicate, a category without targets)."""
    targets = tenant.reports.targets
    steps = targets.of(report.category)
    if not rules.has_deadlines(report.kind, report.status) or not steps:
        return None
    return rules.compute(report.created_at, transitions(report), steps, calendar or calendar_of(tenant), now,
                         targets.due_soon_days)


def shown(tenant: Tenant, report: Report, now: datetime, calendar: WorkCalendar | None = None) -> dict:
    """What a report's answer carries: its age and its deadline (the next step's, with its state) and each step's."""
    calendar = calendar or calendar_of(tenant)
    found = of(tenant, report, now, calendar)
    return {"age_days": rules.age_days(report.created_at, now, calendar),
            "deadline": _next(found, now),
            "deadlines": [_step(s, now) for s in found.steps] if found else []}


def _step(step: rules.StepDeadline, now: datetime) -> dict:
    return {"step": step.step, "due_on": step.due_on.isoformat(), "due_at": step.due_at.isoformat(),
            "reached_at": step.reached_at.isoformat() if step.reached_at else None, "late": step.late(now)}


def _next(found: rules.Deadlines | None, now: datetime) -> dict | None:
    if found is None or found.next is None:
        return None
    return {**_step(found.next, now), "state": found.state}


def page(tenant: Tenant, kinds: tuple[str, ...], condition, due: str | None, sort: str | None, limit: int,
         cursor: str | None, now: datetime) -> tuple[list[Report], str | None]:
    """The reports matching condition and the due filter, in sort's order, a page from the cursor (an offset)."""
    if due is not None and due not in DUE:
        raise BadListing(f"due must be one of {', '.join(DUE)}", "due")
    if sort is not None and sort.removeprefix("-") not in SORTS:
        raise BadListing(f"sort must be one of {', '.join(SORTS)}, with '-' before it for the reverse order", "sort")
    start = _offset(cursor)
    calendar = calendar_of(tenant)
    try:
        found = store.matching(tenant.id, kinds, condition, MOST_SORTED)
    except ValueError as error:
        raise BadListing(str(error), "sort" if sort else "due") from None
    if due is not None:
        found = [r for r in found if (d := of(tenant, r, now, calendar)) is not None and _is(d, due)]
    if sort is not None:
        found = _sorted(tenant, found, sort, now, calendar)
    return found[start:start + limit], f"{_OFFSET}{start + limit}" if start + limit < len(found) else None


def _is(found: rules.Deadlines, due: str) -> bool:
    return found.state == "overdue" if due == "overdue" else found.state == "due_soon"


def _sorted(tenant: Tenant, reports: list[Report], sort: str, now: datetime, calendar: WorkCalendar) -> list[Report]:
    column, reverse = sort.removeprefix("-"), sort.startswith("-")

    def value(report: Report):
        if column == "due":
            found = of(tenant, report, now, calendar)
            return found.next.due_at if found and found.next else None
        if column == "status":
            return STATUSES.index(report.status)
        if column in ("number", "age"):  # the id sorts by year and number; the oldest is the eldest
            return report.report_id if column == "number" else report.created_at
        return getattr(report, column)
    keyed = [(value(r), r) for r in reports]
    present = sorted((item for item in keyed if item[0] is not None), key=lambda item: item[0],
                     reverse=reverse != (column == "age"))
    return [r for _, r in present] + [r for v, r in keyed if v is None]


def _offset(cursor: str | None) -> int:
    if not cursor:
        return 0
    digits = cursor.removeprefix(_OFFSET)
    if not cursor.startswith(_OFFSET) or not digits.isdigit() or int(digits) > MOST_SORTED:
        raise BadListing("invalid cursor", "cursor")
    return int(digits)


def team_for(tenant: Tenant, report: Report) -> str | None:
    """The team a report is for: the one it is assigned to, else the one its category usually goes to."""
    if report.team:
        return report.team
    category = tenant.reports.category(report.category)
    return category.team if category else None


def on_time(tenant: Tenant, report: Report, now: datetime, calendar: WorkCalendar) -> bool | None:
    """For the KPIs: whether the report missed no deadline so far; None when it has none."""
    found = of(tenant, report, now, calendar)
    return found.on_time if found else None
