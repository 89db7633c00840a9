"""The usage and cost meter: messages sent and billable per channel and month, the estimated cost, the price table."""
from __future__ import annotations

from chalice import Blueprint

from chalicelib.api import lazy
from chalicelib.api.auth import staff_only
from chalicelib.api.exports import _file, _request_id
from chalicelib.api.http import ApiError, json_errors, parse_body, query_param
from chalicelib.api.openapi import documented
from chalicelib.domain.access import USAGE_READERS, Capability, Staff

usage = lazy("chalicelib.services.admin.usage")

bp = Blueprint(__name__)
PRICES_EXAMPLE = {"valid_from": "2026-10-01", "currency": "EUR", "service": 0, "utility": 0.03, "marketing": 0.06,
                  "authentication": 0.03, "source": "Meta rate card, Italy, effective 2026-10-01"}


def _month() -> str:
    month = query_param(bp.current_request, "month") or usage.this_month()
    try:
        usage.check_month(month)
    except ValueError:
        raise ApiError(422, "invalid_request", "month must be YYYY-MM, e.g. 2026-12.",
                       [{"field": "month", "message": "YYYY-MM"}]) from None
    return month


@bp.route("/api/v1/usage", methods=["GET"])
@documented({200: "UsageMonth"}, query="UsageQuery", errors=(422,))
@json_errors
@staff_only(bp, *USAGE_READERS)
def read_usage(staff: Staff):
    """A month's messages per channel by pricing category, the messaging-limit tier and the estimated cost.

    `sent` is counted when WhatsApp accepted the send (free-form: service; a template: its category); `billable`
    when WhatsApp's status webhooks report the message delivered and charged (the authority on what Meta bills).
    The estimated cost is billable x the prices of the table in force on the month's first day. Channels: those
    the roles reach. Counts only, no personal data."""
    return usage.month_report(staff, _month())


@bp.route("/api/v1/exports/usage", methods=["GET"])
@documented({200: "SpreadsheetFile"}, query="UsageExportQuery", errors=(422,))
@json_errors
@staff_only(bp, *USAGE_READERS)
def export_usage(staff: Staff):
    """A month's usage per channel as CSV or XLSX (audited)."""
    month = _month()
    return _file(lambda: usage.export(staff, month, _request_id()))


@bp.route("/api/v1/usage/prices", methods=["GET"])
@documented({200: "PriceTables"})
@json_errors
@staff_only(bp, *USAGE_READERS)
def read_prices(staff: Staff):
    """The comune's WhatsApp price tables (per delivered message, by category), newest first."""
    return usage.prices(staff)


@bp.route("/api/v1/usage/prices", methods=["PUT"])
@documented({200: "PriceTables"}, body="PriceTableBody", example=PRICES_EXAMPLE, errors=(409, 422))
@json_errors
@staff_only(bp, Capability.SETUP)
def save_prices(staff: Staff):
    """Add a price table from a month on, or replace the one of the same valid_from (audited, before and after).

    Prices from 0 to 10 per message; valid_from the first day of a month. Past months keep the table then in
    force. 409 when the comune's settings changed meanwhile: read and try again."""
    from chalicelib.api.schemas.usage import PriceTableBody  # lazily: only this route pays for the model

    data = parse_body(bp.current_request, PriceTableBody)
    try:
        return usage.save_table(staff, data.model_dump(mode="json"))
    except ValueError as error:
        raise ApiError(422, "invalid_request", str(error), [{"field": "prices", "message": str(error)}]) from None
    except usage.Conflict:
        raise ApiError(409, "conflict", "The settings changed meanwhile: read the prices and try again.") from None
