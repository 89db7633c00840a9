"""The audit log viewer (administrators): filtered pages newest first, the pickers' choices, CSV and XLSX export."""
from __future__ import annotations

from chalice import Blueprint

from chalicelib.api import lazy
from chalicelib.api.auth import staff_only
from chalicelib.api.exports import file_answer
from chalicelib.api.http import json_errors, page_limit, query_param
from chalicelib.api.openapi import documented
from chalicelib.domain.access import Capability, Staff

audit_log = lazy("chalicelib.services.admin.audit_log")

bp = Blueprint(__name__)


def _filters() -> audit_log.AuditFilter:
    request = bp.current_request
    return audit_log.parse(*(query_param(request, name) for name in ("actor", "action", "object", "from", "to")))


def _request_id() -> str | None:
    return (bp.current_request.context or {}).get("requestId")


@bp.route("/api/v1/audit", methods=["GET"])
@documented({200: "AuditLog"}, query="AuditQuery", errors=(422,))
@json_errors
@staff_only(bp, Capability.PRIVACY)
def read_audit(staff: Staff):
    """Staff accesses and changes in this comune, refused attempts included, newest first (audited).

    Filters: actor (a staff member's id), action (exact, or a prefix ending in '.'), object (a phone number in any
    writing, a report id...), from and to (days). A page reads at most 2,000 entries: it may hold fewer than limit
    and still give next."""
    wanted = _filters()
    request = bp.current_request
    items, cursor = audit_log.page(staff, wanted, page_limit(request), query_param(request, "cursor"), _request_id())
    return {"items": items, "next": cursor}


@bp.route("/api/v1/audit/filters", methods=["GET"])
@documented({200: "AuditFilters"})
@json_errors
@staff_only(bp, Capability.PRIVACY)
def audit_filters(staff: Staff):
    """The viewer's pickers: the comune's staff by name, every action with its Italian label."""
    return {"people": audit_log.people(staff), "actions": audit_log.actions()}


@bp.route("/api/v1/audit/export", methods=["GET"])
@documented({200: "SpreadsheetFile"}, query="AuditExportQuery", errors=(422,))
@json_errors
@staff_only(bp, Capability.PRIVACY)
def export_audit(staff: Staff):
    """The entries the filters keep, as CSV or XLSX (audited). At most 5,000 rows: past it, 422 export_too_large."""
    wanted = _filters()
    return file_answer(bp.current_request, lambda: audit_log.table(staff, wanted, _request_id()))
