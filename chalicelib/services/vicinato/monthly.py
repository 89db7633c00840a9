"""The monthly report per zone for the Prefettura and the council: members, joins and leaves, reports, urgent ones,
forwarded, zone notices, archived, escalated, police notices, median time to forward. Counts only: no names, no
numbers, no words of a member."""
from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from chalicelib.domain import vicinato as rules
from chalicelib.domain.access import Staff
from chalicelib.services import clock
from chalicelib.services.access import record, tenant_of
from chalicelib.store import broadcasts
from chalicelib.store import vicinato as store

ROME = ZoneInfo("Europe/Rome")


class BadMonth(ValueError):
    pass


def bounds(month: str | None) -> tuple[str, datetime, datetime]:
    """The month (YYYY-MM, Europe/Rome; default this one) and its start and end instants."""
    now = clock.now().astimezone(ROME)
    month = month or f"{now:%Y-%m}"
    try:
        year, number = (int(part) for part in month.split("-"))
        start = datetime(year, number, 1, tzinfo=ROME)
    except (ValueError, TypeError):
        raise BadMonth(month) from None
    if len(month) != 7 or not 2000 <= year <= 2100:
        raise BadMonth(month)
    end = datetime(year + (number == 12), number % 12 + 1, 1, tzinfo=ROME)
    return month, start, end


def figures(tenant, month: str | None) -> tuple[str, list[rules.ZoneMonth]]:
    month, start, end = bounds(month)
    utc_start, utc_end = start.astimezone(ZoneInfo("UTC")), end.astimezone(ZoneInfo("UTC"))
    rows: dict[str, dict[str, Any]] = {z.id: {"zone": z.id, "zone_name": z.name} for z in tenant.vicinato.zones}
    forwarded: dict[str, list] = {z: [] for z in rows}

    def add(zone: str, name: str, amount: int = 1) -> None:
        if zone in rows:
            rows[zone][name] = rows[zone].get(name, 0) + amount

    def within(moment: datetime | None) -> bool:
        return moment is not None and utc_start <= moment < utc_end

    for person in store.people(tenant.id):
        zone = person.zone_id or ""
        joined = person.decided_at if person.status in ("active", "left") and person.decided_at else None
        if within(joined):
            add(zone, "joined")
        if person.status == "left" and within(person.left_at):
            add(zone, "left")
        # members at the end of the month: joined before it ended and not left before it ended
        if joined is not None and joined < utc_end and (person.left_at is None or person.left_at >= utc_end) and \
                person.status in ("active", "left"):
            add(zone, "members")
    since = f"{utc_start:%Y%m%dT%H%M%S}"
    until = f"{utc_end:%Y%m%dT%H%M%S}"
    for case in store.cases(tenant.id, since, until):
        if not within(case.created_at):
            continue
        add(case.zone_id, "reports")
        if case.urgent:
            add(case.zone_id, "urgent")
        if case.status == "forwarded":
            add(case.zone_id, "forwarded")
            if case.forwarded_at and case.created_at and case.zone_id in forwarded:
                forwarded[case.zone_id].append((case.created_at, case.forwarded_at))
        elif case.status == "notified":
            add(case.zone_id, "notified")
        elif case.status == "archived":
            add(case.zone_id, "archived")
        if any(e.action == "escalated" for e in case.events):
            add(case.zone_id, "escalated")
    for broadcast in _broadcasts_between(tenant.id, since, until):
        if broadcast.audience.zones and not broadcast.created_by.startswith("vicinato:"):
            for zone in broadcast.audience.zones:
                add(zone, "police_notices")
    result = [rules.ZoneMonth(**row, median_minutes_to_forward=rules.median_minutes(forwarded[zone]))
              for zone, row in rows.items()]
    return month, result


def _broadcasts_between(tenant_id: str, since: str, until: str):
    cursor = None
    for _ in range(50):  # at most 5,000 broadcasts back: a month of any comune
        page, cursor = broadcasts.page(tenant_id, 100, cursor)
        for broadcast in page:
            if broadcast.id < since:
                return
            if broadcast.id < until:
                yield broadcast
        if cursor is None:
            return


def report(staff: Staff, month: str | None, request_id: str | None = None) -> dict[str, Any]:
    tenant = tenant_of(staff)
    month, rows = figures(tenant, month)
    record(staff, "vicinato.monthly.read", month, request_id)
    return {"month": month, "zones": [asdict(r) for r in rows], "columns": list(rules.MONTHLY_COLUMNS)}


def table(staff: Staff, month: str | None, request_id: str | None = None):
    """The month as a spreadsheet (CSV or XLSX through the exports' renderer: safe cells, Italian headers)."""
    from chalicelib import messages
    from chalicelib.services.exports import Table

    tenant = tenant_of(staff)
    month, rows = figures(tenant, month)
    record(staff, "vicinato.monthly.export", month, request_id)
    header = [messages.text(f"vicinato.column.{name}") for name in rules.MONTHLY_COLUMNS]
    return Table(messages.text("vicinato.monthly_title", month=month), header, [row.row() for row in rows])
