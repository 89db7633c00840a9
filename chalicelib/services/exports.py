"""Exports for the council, the segretario and the URP: reports (with the list's filters), broadcasts with their
delivery funnel, a channel's subscribers; as CSV or XLSX, each an audited read of no more than the role may see.

Every cell goes through domain.spreadsheets.cell (no formula can run); an export holds at most MAX_ROWS rows and
MAX_BYTES bytes, past which it is refused (TooLarge: 422) and staff narrow the filters. openpyxl is imported only
when an XLSX is written, so `import app` does not pay for it."""
from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from chalicelib.domain.access import Staff
from chalicelib.domain.spreadsheets import FORMATS, MAX_BYTES, MAX_ROWS, TooLarge, content_disposition, rows_of
from chalicelib.domain.tenancy import Channel, Tenant
from chalicelib.messages import text
from chalicelib.services import clock
from chalicelib.services.access import record, tenant_of
from chalicelib.services.reports import desk
from chalicelib.store import broadcasts as broadcast_store
from chalicelib.store import citizens
from chalicelib.store import reports as report_store

CSV_DELIMITER = ";"  # what a spreadsheet set to Italian splits on (its list separator), so the file opens in columns
PAGE = 200


@dataclass(frozen=True)
class Table:
    title: str  # the file's name before its date, in Italian
    header: list[str]
    rows: list[list[Any]]


@dataclass(frozen=True)
class ExportFile:
    body: bytes
    content_type: str
    disposition: str


def _col(*names: str) -> list[str]:
    return [text(f"export.column.{name}") for name in names]


def _said(group: str, code: str | None) -> str | None:
    """A code in the comune's words (export.value.<group>.<code> in the catalogue); an unknown one as it is."""
    try:
        return text(f"export.value.{group}.{code}") if code else code
    except KeyError:
        return code


def _bounded(items: Iterator[Any]) -> list[Any]:
    """At most MAX_ROWS items; TooLarge as soon as there is one more (the rest is never read)."""
    found = []
    for item in items:
        found.append(item)
        if len(found) > MAX_ROWS:
            raise TooLarge(f"more than {MAX_ROWS} rows")
    return found


def _pages(read: Callable[[str | None], tuple[list, str | None]]) -> Iterator[Any]:
    cursor: str | None = None
    while True:
        items, cursor = read(cursor)
        yield from items
        if not cursor:
            return


def _names(ids, find) -> list[str]:
    return [getattr(find(i), "name", None) or i for i in ids or ()]


# ---- reports --------------------------------------------------------------------------------------------


def reports(staff: Staff, kind: str | None, filters: dict[str, Any], request_id: str | None = None) -> Table:
    """The reports (technical, admin) or tips (police) the list shows with these filters, newest first; no
    citizen's name or number (the council's tables need none)."""
    kinds = desk.visible_kinds(staff, kind)
    desk.check_statuses(filters.get("status"))
    condition = report_store.query_filter(**filters)
    record(staff, "export.reports", _target(kinds, filters), request_id)
    found = _bounded(_pages(lambda cursor: report_store.page(staff.tenant_id, kinds, condition, PAGE, cursor)))
    tenant = tenant_of(staff)
    tips = kinds == ("safety",)
    header = _col("number", "status", "category", "hamlet", "address", "description", "source", "team", "assignee",
                  "external_body", "outcome" if tips else "external_reference", "created_at", "updated_at",
                  "resolved_at")
    return Table(text("export.title.tips" if tips else "export.title.reports"), header,
                 [_report_row(tenant, r, tips) for r in found])


def _report_row(tenant: Tenant, r, tips: bool) -> list[Any]:
    category = tenant.reports.category(r.category)
    team = tenant.reports.team(r.team)
    return [r.number, text(f"status.{r.status}"), category.name if category else r.category,
            _names([r.hamlet], tenant.hamlet)[0] if r.hamlet else None, r.address, r.text, _said("source", r.source),
            team.name if team else r.team, r.assignee_name or r.assignee, (r.external or {}).get("name"),
            r.outcome if tips else (r.external or {}).get("reference"),
            r.created_at, r.updated_at, r.resolved_at]


def _target(kinds: tuple[str, ...], filters: dict[str, Any]) -> str:
    shown = {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in sorted(filters.items())}
    return ("kind:" + ",".join(kinds) + "".join(f" {k}:{v}" for k, v in shown.items()))[:500]


# ---- broadcasts -----------------------------------------------------------------------------------------


def broadcasts(staff: Staff, request_id: str | None = None) -> Table:
    """Every broadcast of the comune, newest first, with its funnel: recipients, sent, delivered, read, failed."""
    record(staff, "export.broadcasts", "broadcasts", request_id)
    found = _bounded(_pages(lambda cursor: broadcast_store.page(staff.tenant_id, PAGE, cursor)))
    tenant = tenant_of(staff)
    header = _col("broadcast", "created_at", "status", "priority", "title", "text", "hamlets", "topics",
                  "started_at", "finished_at", "recipients", "sent", "delivered", "read", "failed", "skipped",
                  "pause_reason")
    return Table(text("export.title.broadcasts"), header, [_broadcast_row(tenant, b) for b in found])


def _broadcast_row(tenant: Tenant, b) -> list[Any]:
    content, c = b.content or {}, b.counters
    template = content.get("template") or {}
    return [b.id, b.created_at, _said("broadcast_status", b.status), _said("priority", b.priority),
            content.get("title") or template.get("name"),
            content.get("text") or " | ".join(template.get("body_params") or ()),
            _names(b.audience.hamlets, tenant.hamlet), _names(b.audience.topics, tenant.topic),
            b.started_at, b.finished_at, c.recipients, c.sent, c.delivered, c.read, c.failed, c.skipped,
            b.pause_reason]


# ---- subscribers ----------------------------------------------------------------------------------------


def subscribers(staff: Staff, channel: Channel, status: str | None, request_id: str | None = None) -> Table:
    """A channel's subscribers (on the safety channel, its registered residents with name and address), by number;
    the caller's roles reach the channel (services.access.channel_for)."""
    record(staff, "export.subscribers", f"channel:{channel.phone_number_id}" + (f" status:{status}" if status else ""),
           request_id)
    found = _bounded(_pages(lambda cursor: _citizen_page(channel, status, cursor)))
    tenant = tenant_of(staff)
    residents = channel.kind == "safety"
    header = _col("phone", "status", "hamlets", "topics", "source", "subscribed_at", "stopped_at", "last_inbound_at")
    header += _col("name", "address", "home_hamlet") if residents else []
    return Table(text("export.title.subscribers", channel=channel.name), header,
                 [_subscriber_row(tenant, c, residents) for c in found])


def _citizen_page(channel: Channel, status: str | None, cursor: str | None):
    return citizens.page(channel.phone_number_id, status, None, PAGE, cursor)


def _subscriber_row(tenant: Tenant, c, residents: bool) -> list[Any]:
    row = [c.phone or c.user_id, _said("subscriber_status", c.status), _names(c.hamlets, tenant.hamlet),
           _names(c.topics, tenant.topic), _said("subscriber_source", c.source), c.subscribed_at, c.stopped_at, c.last_inbound_at]
    if residents:
        row += [c.name, c.address, _names([c.hamlet], tenant.hamlet)[0] if c.hamlet else None]
    return row


# ---- files ----------------------------------------------------------------------------------------------


def render(table: Table, file_format: str) -> ExportFile:
    """The table as a file of the format (csv or xlsx), the same safe cells in both; TooLarge past MAX_BYTES."""
    cells = rows_of(table.header, table.rows)
    body = _xlsx(cells, table.title) if file_format == "xlsx" else _csv(cells)
    if len(body) > MAX_BYTES:
        raise TooLarge(f"more than {MAX_BYTES} bytes")
    return ExportFile(body, FORMATS[file_format], content_disposition(table.title, clock.now().date(), file_format))


def _csv(cells: list[list[str]]) -> bytes:
    out = io.StringIO()
    csv.writer(out, delimiter=CSV_DELIMITER, lineterminator="\r\n").writerows(cells)
    return ("\ufeff" + out.getvalue()).encode("utf-8")  # the BOM tells a spreadsheet the file is UTF-8


def _xlsx(cells: list[list[str]], title: str) -> bytes:
    from openpyxl import Workbook  # lazily: only an XLSX export pays for it
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    book = Workbook(write_only=True)
    sheet = book.create_sheet(title=_sheet_title(title))
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)
    header = []
    for value in cells[0]:
        heading = WriteOnlyCell(sheet, value=value)
        heading.font = bold
        header.append(heading)
    sheet.append(header)
    for row in cells[1:]:
        sheet.append([_text_cell(sheet, value) for value in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _text_cell(sheet, value: str):
    """A cell that holds text as text: never a formula, whatever openpyxl would guess."""
    from openpyxl.cell import WriteOnlyCell

    written = WriteOnlyCell(sheet, value=value)
    written.data_type = "s"
    return written


def _sheet_title(title: str) -> str:
    """A sheet's name: at most 31 characters, none of []:*?/\\."""
    cleaned = "".join(" " if ch in "[]:*?/\\" else ch for ch in title).strip()
    return cleaned[:31] or "export"
