"""Data subjects' rights across the caller's comune, for its admins: an erasure's preview and the erasure, the
subject-access export (JSON, or an archive with the files sent), and the log of requests handled."""
from __future__ import annotations

from chalice import Blueprint, Response

from chalicelib.api import lazy
from chalicelib.api.auth import staff_only
from chalicelib.api.http import ApiError, json_errors, page_limit, parse_body, query_param
from chalicelib.api.openapi import documented
from chalicelib.domain.access import Capability, Staff

privacy = lazy("chalicelib.services.admin.privacy")
privacy_archive = lazy("chalicelib.services.admin.privacy_archive")

bp = Blueprint(__name__)
EXAMPLE = {"phone": "+39 333 765 4321"}


def _invalid(exc: Exception) -> ApiError:
    return ApiError(422, "invalid_phone", f"phone: {exc}; give an E.164 number or 'bsuid:<id>'.",
                    [{"field": "phone", "message": str(exc)}])


def _phone() -> str:
    phone = query_param(bp.current_request, "phone")
    if not phone:
        raise ApiError(422, "invalid_request", "Give the phone number as ?phone=.",
                       [{"field": "phone", "message": "required"}])
    return phone


@bp.route("/api/v1/privacy/preview", methods=["POST"])
@documented({200: "ErasurePreview"}, body="chalicelib.services.admin.privacy:SubjectRequest", example=EXAMPLE)
@json_errors
@staff_only(bp, Capability.PRIVACY)
def privacy_preview(staff: Staff):
    """What an erasure of this number would erase and keep, per channel and store; changes nothing (audited)."""
    data = parse_body(bp.current_request, privacy.SubjectRequest)
    try:
        return privacy.preview(staff, data.phone)
    except privacy.InvalidSubject as exc:
        raise _invalid(exc) from None


@bp.route("/api/v1/privacy/erase", methods=["POST"])
@documented({200: "Erasure"}, body="chalicelib.services.admin.privacy:SubjectRequest", example=EXAMPLE)
@json_errors
@staff_only(bp, Capability.PRIVACY)
def privacy_erase(staff: Staff):
    """Erase one person on every channel of the comune (GDPR art. 17); the consent ledger keeps an erasure entry,
    reports stay anonymised, the audit log keeps its entries with the number replaced by a pseudonym."""
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
    try:
        return privacy.export(staff, _phone())
    except privacy.InvalidSubject as exc:
        raise _invalid(exc) from None


@bp.route("/api/v1/privacy/archive", methods=["GET"])
@documented({200: "SubjectArchive"}, query="ExportQuery", errors=(422,))
@json_errors
@staff_only(bp, Capability.PRIVACY)
def privacy_archive_file(staff: Staff):
    """The subject-access export as a ZIP to hand over: dati.json, riepilogo.txt (in Italian) and the files the
    person sent with their reports (at most 3 MB of them; the rest listed as left out). Audited and logged."""
    try:
        made = privacy_archive.archive(staff, _phone())
    except privacy.InvalidSubject as exc:
        raise _invalid(exc) from None
    return Response(body=made.body, status_code=200, headers={
        "Content-Type": made.content_type, "Content-Disposition": made.disposition,
        "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"})


@bp.route("/api/v1/privacy/requests", methods=["GET"])
@documented({200: "PrivacyRequestLog"}, query="PrivacyRequestQuery", errors=(422,))
@json_errors
@staff_only(bp, Capability.PRIVACY)
def privacy_requests(staff: Staff):
    """The requests handled (erasures, exports), newest first: kind, when, by whom, outcome; the person only masked
    and as a keyed hash. With ?phone=, that person's requests (a repeat request). Audited."""
    request = bp.current_request
    try:
        return {"items": privacy.requests(staff, page_limit(request), query_param(request, "phone"))}
    except privacy.InvalidSubject as exc:
        raise _invalid(exc) from None
