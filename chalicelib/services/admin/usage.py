"""The usage and cost meter (domain/usage.py): per channel and month the messages sent and billable by pricing
category, the messaging-limit tier and the estimated cost from the comune's price table; the price table's
history, edited by an administrator (audited with its value before and after); the month as a spreadsheet.

No personal data: counts per channel only. A month is one BatchGetItem over the channels shown."""
from __future__ import annotations

from typing import Any

from chalicelib.domain import usage
from chalicelib.domain.access import Staff
from chalicelib.domain.settings import PriceTable, stored, tenant_settings
from chalicelib.domain.tenancy import Channel
from chalicelib.messages import text
from chalicelib.services import clock
from chalicelib.services.access import NotFound, record, record_change, tenant_of, visible_channels
from chalicelib.services.exports import Table
from chalicelib.store import directory
from chalicelib.store import usage as usage_store


class Conflict(Exception):
    """The comune's settings changed while the price table was being saved: nothing saved, try again."""


def this_month() -> str:
    return usage.month_of(clock.now())


def check_month(month: str) -> None:
    """ValueError for a month not YYYY-MM."""
    usage.first_day(month)


def month_report(staff: Staff, month: str) -> dict[str, Any]:
    """The month's figures of every channel the caller may see; ValueError for a month not YYYY-MM."""
    check_month(month)
    tenant = tenant_of(staff)
    channels = visible_channels(staff)
    figures = usage_store.of_month(staff.tenant_id, [c.phone_number_id for c in channels], month)
    table = usage.table_for(tenant.prices, month)
    rows = [_channel_row(c, figures.get(c.phone_number_id, {}), table) for c in channels]
    totals = {figure: {c: sum(r[figure][c] for r in rows) for c in usage.CATEGORIES} for figure in usage.FIGURES}
    cost = usage.cost(totals["billable"], table)
    return {"month": month, "prices": price_view(table) if table else None, "channels": rows,
            "totals": {**totals, "sent_total": sum(totals["sent"].values()),
                       "billable_total": sum(totals["billable"].values()),
                       "estimated_cost": float(cost) if cost is not None else None}}


def _channel_row(channel: Channel, figures: dict[str, int], table: PriceTable | None) -> dict[str, Any]:
    counts = {figure: {c: figures.get(usage.field_name(figure, c), 0) for c in usage.CATEGORIES}
              for figure in usage.FIGURES}
    cost = usage.cost(counts["billable"], table)
    limit = channel.settings.messaging_limit
    return {"channel": channel.phone_number_id, "name": channel.name, "kind": channel.kind,
            "messaging_limit": limit, "tier": usage.tier(limit), **counts,
            "sent_total": sum(counts["sent"].values()), "billable_total": sum(counts["billable"].values()),
            "estimated_cost": float(cost) if cost is not None else None}


def price_view(table: PriceTable) -> dict[str, Any]:
    return {"valid_from": table.valid_from.isoformat(), "currency": table.currency,
            **{c: float(getattr(table, c)) for c in usage.CATEGORIES}, "source": table.source}


def prices(staff: Staff) -> dict[str, Any]:
    """The price tables, newest first, and the one in force this month."""
    tenant = tenant_of(staff)
    current = usage.table_for(tenant.prices, this_month())
    return {"tables": [price_view(t) for t in reversed(tenant.prices)],
            "current": current.valid_from.isoformat() if current else None}


def save_table(staff: Staff, table: dict[str, Any]) -> dict[str, Any]:
    """Add a price table, or replace the one with the same valid_from (the others are kept: past months stay
    priced as they were). Audited before it is saved; ValueError naming the knob; Conflict on a concurrent save."""
    found = directory.stored_tenant(staff.tenant_id)
    if found is None:
        raise NotFound("tenant")
    before, version = found
    kept = [t for t in before.get("prices", []) if t.get("valid_from") != table["valid_from"]]
    after = {**before, "prices": kept + [table]}
    validated = tenant_settings(after)  # ValueError: refused before anything is written
    saved = stored(validated).get("prices", [])
    replaced = next((t for t in before.get("prices", []) if t.get("valid_from") == table["valid_from"]), None)
    record_change(staff, "usage.prices.update", f"prices:{table['valid_from']}", replaced,
                  next(t for t in saved if t.get("valid_from") == table["valid_from"]))
    try:
        directory.update_tenant_settings(staff.tenant_id, after, version)
    except directory.StaleVersion:
        raise Conflict("settings changed meanwhile") from None
    return prices(staff)


def export(staff: Staff, month: str, request_id: str | None = None) -> Table:
    """The month per channel as a spreadsheet (counts only: no personal data), audited as the other exports."""
    report = month_report(staff, month)
    record(staff, "export.usage", f"usage:{month}", request_id)
    table = report["prices"]
    header = [text(f"export.column.usage.{name}") for name in (
        "month", "channel", "name", "limit")] + [
        text("export.usage.sent_column", category=text(f"export.value.usage_category.{c}")) for c in usage.CATEGORIES
    ] + [text("export.usage.billable_column", category=text(f"export.value.usage_category.{c}"))
         for c in usage.CATEGORIES] + [text(f"export.column.usage.{name}") for name in ("cost", "currency", "prices")]
    rows = [[month, r["channel"], r["name"], r["messaging_limit"], *r["sent"].values(), *r["billable"].values(),
             r["estimated_cost"], table["currency"] if table else None, table["valid_from"] if table else None]
            for r in report["channels"]]
    return Table(text("export.title.usage", month=month), header, rows)
