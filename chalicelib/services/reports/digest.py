"""The daily digest: each working morning, every team with an email gets the list of its overdue reports, once.

A report is the team's when it is assigned to it, or, not yet assigned, when its category is usually handled by it
(Category.team). The schedule runs every hour; from DIGEST_HOUR (the comune's time) on a working day each team with
something overdue gets one email, claimed first with a conditional write per comune, team and day, so however often
the schedule fires (or a retry runs) a team hears once a day. A failed send gives its claim back for the next hour.
The email names each report's number, category, hamlet, address and the step it is late for: never the citizen's
words nor who they are.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from chalicelib import messages
from chalicelib.domain.reports import OPEN, Report
from chalicelib.domain.settings import Team
from chalicelib.domain.tenancy import Tenant
from chalicelib.domain.workdays import WorkCalendar
from chalicelib.observability import logger
from chalicelib.services import clock
from chalicelib.services.reports import deadlines, wording
from chalicelib.settings import get_settings
from chalicelib.store import counters, directory, mailer
from chalicelib.store import reports as store

DIGEST_HOUR = 7  # from 07:00 in the comune's time
KEEP_CLAIM = timedelta(days=3)


def send_due(now: datetime | None = None) -> dict[str, int]:
    """One round over every comune: how many digests went out, and how many failed."""
    now = now or clock.now()
    totals = {"sent": 0, "failed": 0}
    for tenant in directory.tenants():
        for outcome, count in send_for(tenant, now).items():
            totals[outcome] += count
    logger.info("overdue digests", extra=totals)
    return totals


def send_for(tenant: Tenant, now: datetime) -> dict[str, int]:
    calendar = deadlines.calendar_of(tenant)
    local = now.astimezone(calendar.zone)
    teams = [team for team in tenant.reports.teams if team.email]
    if not teams or local.hour < DIGEST_HOUR or not calendar.is_working_day(local.date()):
        return {}
    overdue = overdue_by_team(tenant, now, calendar)
    outcome = {"sent": 0, "failed": 0}
    for team in teams:
        if overdue.get(team.id):
            result = _send_once(tenant, team, overdue[team.id], now, calendar)
            if result:
                outcome[result] += 1
    return outcome


def overdue_by_team(tenant: Tenant, now: datetime, calendar: WorkCalendar) -> dict[str, list[Report]]:
    """The comune's open reports past a deadline, by the team they are for, the longest overdue first."""
    found = store.matching(tenant.id, ("report",), store.query_filter(status=",".join(OPEN)), deadlines.MOST_SORTED)
    late: dict[str, list[tuple[datetime, Report]]] = {}
    for report in found:
        timing = deadlines.of(tenant, report, now, calendar)
        team = deadlines.team_for(tenant, report)
        if timing is None or timing.state != "overdue" or team is None:
            continue
        late.setdefault(team, []).append((timing.next.due_at, report))
    return {team: [r for _, r in sorted(items, key=lambda item: item[0])] for team, items in late.items()}


def _send_once(tenant: Tenant, team: Team, reports: list[Report], now: datetime,
               calendar: WorkCalendar) -> str | None:
    """"sent", "failed", or None when today's digest of the team was claimed already."""
    key = f"digest#{tenant.id}#{team.id}#{calendar.local_day(now).isoformat()}"
    if not counters.claim(key, KEEP_CLAIM, now):
        return None
    try:
        mailer.send(team.email, *compose(tenant, team, reports, now, calendar))
    except Exception:  # SES refused or failed: the next hour tries again
        counters.release(key)
        logger.exception("overdue digest not sent", extra={"tenant": tenant.id, "team": team.id})
        return "failed"
    return "sent"


def compose(tenant: Tenant, team: Team, reports: list[Report], now: datetime,
            calendar: WorkCalendar) -> tuple[str, str]:
    """The digest's subject and text, in the comune's language (messages/it.json)."""
    language = tenant.language
    lines = [messages.text("digest.intro", language, team=team.name, date=wording.local_date(now),
                           count=len(reports)), ""]
    for report in reports:
        step = deadlines.of(tenant, report, now, calendar).next
        hamlet = tenant.hamlet(report.hamlet) if report.hamlet else None
        lines.append(messages.text(
            "digest.line", language, number=report.number, category=wording.category_label(tenant, report),
            status=wording.status_label(tenant, report.status), hamlet=hamlet.name if hamlet else "-",
            address=report.address or (report.position.address if report.position else None) or "-",
            step=messages.text(f"digest.step.{step.step}", language), due=step.due_on.strftime("%d/%m/%Y"),
            late=calendar.working_days_between(step.due_on, calendar.local_day(now))))
    lines += ["", messages.text("digest.outro", language)]
    if url := get_settings().console_url:  # the same console the new-report notices link to
        lines.append(messages.text("digest.link", language, url=f"{url}#/segnalazioni"))
    subject = messages.text("digest.subject", language, comune=tenant.name, team=team.name, count=len(reports))
    return subject, "\n".join(lines)
