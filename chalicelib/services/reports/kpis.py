"""KPIs of a tenant's reports over a period, for the kinds the caller may see."""
from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from chalicelib.domain import kpis
from chalicelib.domain.access import Staff
from chalicelib.domain.reports import Report
from chalicelib.services import clock
from chalicelib.services.reports import feedback
from chalicelib.services.reports.desk import InvalidReport, visible_kinds
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
    facts = (_facts(r) for r in store.all_of(staff.tenant_id, kinds, since=start))
    return {"kinds": list(kinds), **kpis.compute(facts, start, end)}


def _facts(report: Report) -> kpis.ReportFacts:
    said = feedback.tally(report)
    return kpis.ReportFacts(kind=report.kind, status=report.status, category=report.category, hamlet=report.hamlet,
                            created_at=report.created_at, first_response_at=report.first_response_at,
                            resolved_at=report.resolved_at, asked=said.asked, satisfied=said.satisfied,
                            not_satisfied=said.not_satisfied)
