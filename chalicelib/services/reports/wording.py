"""How a report's state reads to its citizen: the status page link, STATO answers, update texts."""
from __future__ import annotations

from zoneinfo import ZoneInfo

from chalicelib import messages
from chalicelib.domain.reports import Report
from chalicelib.domain.tenancy import Channel, Tenant
from chalicelib.services.replies import channel_text
from chalicelib.settings import get_settings

ROME = ZoneInfo("Europe/Rome")


def page_url(report: Report) -> str:
    """The citizen's status page: reached by an unguessable token, never by the report's number."""
    return f"{get_settings().public_base_url}/s/{report.public_token}"


def status_label(tenant: Tenant, status: str) -> str:
    return messages.text(f"status.{status}", tenant.language)


def category_label(tenant: Tenant, report: Report) -> str:
    category = tenant.reports.category(report.category)
    return category.name if category else messages.text("report.uncategorised", tenant.language)


def local_date(moment) -> str:
    return moment.astimezone(ROME).strftime("%d/%m/%Y")


def status_line(tenant: Tenant, channel: Channel, report: Report) -> str:
    return channel_text(tenant, channel, "report.status_line", number=report.number,
                        category=category_label(tenant, report), status=status_label(tenant, report.status),
                        date=local_date(report.updated_at))


def status_text(tenant: Tenant, channel: Channel, report: Report) -> str:
    public_notes = [e.note for e in report.events if e.public and e.note]
    note = f"\n{public_notes[-1]}" if public_notes else ""
    return channel_text(tenant, channel, "report.status_one", number=report.number,
                        category=category_label(tenant, report), status=status_label(tenant, report.status),
                        date=local_date(report.updated_at), note=note, status_url=page_url(report))
