"""Data subjects' rights across the caller's comune, for its admins: erasure and subject-access export."""
from __future__ import annotations

from chalice import Blueprint

from chalicelib.api.auth import staff_only
from chalicelib.api.http import ApiError, json_errors, parse_body, query_param
from chalicelib.api.openapi import documented
from chalicelib.domain.access import Capability, Staff
from chalicelib.services.admin import privacy

bp = Blueprint(__name__)


def _invalid(exc: Exception) -> ApiError:
    return ApiError(422, "invalid_phone", f"phone: {exc}; give an E.164 number or 'bsuid:<id>'.")


@bp.route("/api/v1/privacy/erase", methods=["POST"])
@documented({200: "Erasure"}, body=privacy.SubjectRequest, example={"phone": "+39 333 765 4321"})
@json_errors
@staff_only(bp, Capability.PRIVACY)
def privacy_erase(staff: Staff):
    """Erase one person on every channel of the comune (GDPR art. 17); the consent ledger keeps an erasure entry."""
    data = parse_body(bp.current_request, privacy.SubjectRequest)
    try:
        return privacy.erase(staff, data.phone)
    except privacy.InvalidSubject as exc:
        raise _invalid(exc) from None


@bp.route("/api/v1/privacy/export", methods=["GET"])
@documented({200: "SubjectExport"}, query="ExportQuery", errors=(422,))
@json_errors
@staff_only(bp, Capability.PRIVACY)
def privacy_export(staff: Staff):
    """Everything held about one phone number in this comune, as JSON (GDPR art. 15)."""
    phone = query_param(bp.current_request, "phone")
    if not phone:
        raise ApiError(422, "invalid_request", "Give the phone number as ?phone=.")
    try:
        return privacy.export(staff, phone)
    except privacy.InvalidSubject as exc:
        raise _invalid(exc) from None
