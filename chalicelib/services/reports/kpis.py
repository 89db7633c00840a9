"""KPIs of a tenant's reports over a period, for the kinds the caller may see."""
from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from chalicelib.domain import kpis
from chalicelib.domain.access import Staff
from chalicelib.domain.reports import Report
from chalicelib.domain.tenancy import Tenant
from chalicelib.domain.workdays import WorkCalendar
from chalicelib.services import clock
from chalicelib.services.reports import deadlines, feedback
from chalicelib.services.reports.desk import InvalidReport, visible_kinds
from chalicelib.store import directory
from chalicelib.store import reports as store

ROME = ZoneInfo("Europe/Rome")
MAX_PERIOD = timedelta(days=3 * 366)


def for_staff(staff: Staff, kind: str | None, start: datetime | None, end: datetime | None) -> dict:
    """Default period: the current calendar year up to now (Europe/Rome)."""
    kinds = visible_kinds(staff, kind)
    end = end or clock.now()
    start = start or datetime(end.astimezone(ROME).year, 1, 1, tzinfo=ROME)
    if end <= start or end - start > MAX_PERIOD:
        raise InvalidReport("the period must have 'from' before 'to' and span at most three years", "from")
    tenant, now = directory.get_tenant(staff.tenant_id), clock.now()
    if tenant is None:  # a comune not (or no longer) set up has no reports
        return {"kinds": list(kinds), **kpis.compute((), start, end)}
    calendar = deadlines.calendar_of(tenant)
    facts = (_facts(tenant, r, now, calendar) for r in store.all_of(staff.tenant_id, kinds, since=start))
    return {"kinds": list(kinds), **kpis.compute(facts, start, end)}


def _facts(tenant: Tenant, report: Report, now: datetime, calendar: WorkCalendar) -> kpis.ReportFacts:
    said = feedback.tally(report)
    return kpis.ReportFacts(kind=report.kind, status=report.status, category=report.category, hamlet=report.hamlet,
                            created_at=report.created_at, first_response_at=report.first_response_at,
                            resolved_at=report.resolved_at, team=deadlines.team_for(tenant, report),
                            on_time=deadlines.on_time(tenant, report, now, calendar), asked=said.asked,
                            satisfied=said.satisfied, not_satisfied=said.not_satisfied)
