"""Exports as CSV or XLSX (reports, broadcasts with their funnel, subscribers), and the desk's view of one citizen."""
from __future__ import annotations

from urllib.parse import unquote

from chalice import Blueprint, Response

from chalicelib.api import lazy
from chalicelib.api.auth import staff_only
from chalicelib.api.http import ApiError, json_errors, query_param
from chalicelib.api.openapi import documented
from chalicelib.api.reports import list_filters, report_errors
from chalicelib.api.staff import staff_channel
from chalicelib.domain.access import Capability, Staff
from chalicelib.domain.spreadsheets import FORMATS, MAX_BYTES, MAX_ROWS, TooLarge

subscription_rules = lazy("chalicelib.domain.subscriptions")
citizen_view = lazy("chalicelib.services.citizen_view")
exports = lazy("chalicelib.services.exports")
privacy = lazy("chalicelib.services.admin.privacy")

bp = Blueprint(__name__)
XLSX = FORMATS["xlsx"]  # a binary type of the app (app.py): Chalice answers it in base64
TOO_LARGE = (f"The export would hold more than {MAX_ROWS} rows or {MAX_BYTES // 1_000_000} MB: "
             "narrow it (from, to, status...) and export the parts.")


def _format(request) -> str:
    chosen = query_param(request, "format", "csv")
    if chosen not in FORMATS:
        raise ApiError(422, "invalid_request", "format must be csv or xlsx.",
                       [{"field": "format", "message": "csv or xlsx"}])
    return chosen


def _file(make_table) -> Response:
    return file_answer(bp.current_request, make_table)


def file_answer(request, make_table) -> Response:
    """The table as the format the request asks, or 422 export_too_large past the bounds (domain/spreadsheets.py)."""
    chosen = _format(request)
    try:
        exported = exports.render(make_table(), chosen)
    except TooLarge:
        raise ApiError(422, "export_too_large", TOO_LARGE, {"max_rows": MAX_ROWS, "max_bytes": MAX_BYTES}) from None
    return Response(body=exported.body, status_code=200, headers={
        "Content-Type": exported.content_type, "Content-Disposition": exported.disposition,
        "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"})


def _request_id() -> str | None:
    return (bp.current_request.context or {}).get("requestId")


@bp.route("/api/v1/exports/reports", methods=["GET"])
@documented({200: "SpreadsheetFile"}, query="ReportExportQuery", errors=(422,))
@json_errors
@staff_only(bp, Capability.REPORTS, Capability.TIPS)
@report_errors
def export_reports(staff: Staff):
    """Reports (technical, admin) or tips (police) with the list's filters, as CSV or XLSX (audited).

    No citizen's name or number. At most 5,000 rows and 4 MB: past either, 422 export_too_large (narrow the
    filters). Every cell that a spreadsheet would run as a formula (=, +, -, @, tab, CR) starts with an apostrophe."""
    request = bp.current_request
    filters = list_filters(staff, request)
    return _file(lambda: exports.reports(staff, query_param(request, "kind"), filters, _request_id()))


@bp.route("/api/v1/exports/broadcasts", methods=["GET"])
@documented({200: "SpreadsheetFile"}, query="FormatQuery", errors=(422,))
@json_errors
@staff_only(bp, Capability.BROADCASTS)
def export_broadcasts(staff: Staff):
    """Broadcasts with their delivery funnel (recipients, sent, delivered, read, failed), as CSV or XLSX (audited).

    At most 5,000 rows and 4 MB: past either, 422 export_too_large."""
    return _file(lambda: exports.broadcasts(staff, _request_id()))


@bp.route("/api/v1/exports/subscribers", methods=["GET"])
@documented({200: "SpreadsheetFile"}, query="SubscriberExportQuery", errors=(404, 422))
@json_errors
@staff_only(bp, Capability.SUBSCRIBERS)
def export_subscribers(staff: Staff):
    """A channel's subscribers (the safety channel's registered residents), as CSV or XLSX (audited).

    Only a channel the roles reach (403 otherwise). At most 5,000 rows and 4 MB: past either, 422
    export_too_large (export one status at a time)."""
    request = bp.current_request
    channel = staff_channel(staff, query_param(request, "channel"))
    status = query_param(request, "status")
    if status is not None and status not in subscription_rules.STATUSES:
        raise ApiError(422, "invalid_request", f"status must be one of: {', '.join(subscription_rules.STATUSES)}.",
                       [{"field": "status", "message": ", ".join(subscription_rules.STATUSES)}])
    return _file(lambda: exports.subscribers(staff, channel, status, _request_id()))


@bp.route("/api/v1/citizens/{phone}", methods=["GET"])
@documented({200: "CitizenView"}, errors=(422,))
@json_errors
@staff_only(bp, Capability.BROADCASTS, Capability.SUBSCRIBERS, Capability.REPORTS, Capability.TIPS)
def read_citizen(staff: Staff, phone: str):
    """One citizen for the desk: their record and consents per channel, reports, and the conversation (audited).

    Each part only where the roles reach: channels by kind, reports by kind (tips for the police only), the
    conversation of a channel for the office that works it (broadcast: communications; reports: technical; safety:
    police; admin: broadcast and reports). Newest first. What the citizen sent is what joined a report or tip;
    other free text is not kept."""
    try:
        return citizen_view.read(staff, unquote(phone), _request_id())
    except privacy.InvalidSubject as exc:
        raise ApiError(422, "invalid_phone", f"phone: {exc}; give an E.164 number or 'bsuid:<id>'.",
                       [{"field": "phone", "message": str(exc)}]) from None
