"""The citizen portal's API: the public map, a report's status by token, the report form (/public/v1), and the
staff's choice of which photos the portal may show (/api/v1)."""
from __future__ import annotations

from chalice import Blueprint, Response

from chalicelib.api.auth import staff_only
from chalicelib.api.http import ApiError, client_ip, json_errors, parse_body
from chalicelib.api.limits import body_at_most, per_client, too_many
from chalicelib.api.reports import report_errors
from chalicelib.domain.access import Capability, Staff
from chalicelib.services import abuse
from chalicelib.services.reports import desk, portal, web_form

bp = Blueprint(__name__)
READS_PER_CLIENT = abuse.Limit("public-read", max_hits=600, window_seconds=600)
MAP_CACHE = "public, max-age=60"


def _not_found(what: str) -> ApiError:
    return ApiError(404, "not_found", what)


def _map_read(load, tenant: str) -> Response:
    """A public read of the comune's map data: limited per client, cacheable for a minute, 404 for no comune."""
    per_client(bp.current_request, READS_PER_CLIENT)
    try:
        body = load(tenant)
    except LookupError:
        raise _not_found("Comune non trovato.") from None
    return Response(body=body, status_code=200, headers={"Cache-Control": MAP_CACHE})


@bp.route("/public/v1/{tenant}/portal", methods=["GET"])
@json_errors
def comune(tenant: str):
    return _map_read(portal.comune, tenant)


@bp.route("/public/v1/{tenant}/reports", methods=["GET"])
@json_errors
def public_reports(tenant: str):
    return _map_read(portal.public_reports, tenant)


@bp.route("/public/v1/{tenant}/status/{token}", methods=["GET"])
@json_errors
def report_status(tenant: str, token: str):
    per_client(bp.current_request, READS_PER_CLIENT)
    try:
        body = portal.status(tenant, token)
    except LookupError:
        raise _not_found("Segnalazione non trovata: controlla il link ricevuto.") from None
    return Response(body=body, status_code=200, headers={
        "Cache-Control": "no-store", "Referrer-Policy": "no-referrer", "X-Robots-Tag": "noindex"})


@bp.route("/public/v1/{tenant}/reports", methods=["POST"], content_types=["application/json"])
@json_errors
def file_report(tenant: str):
    request = bp.current_request
    body_at_most(request, web_form.MAX_BODY_BYTES)
    form = parse_body(request, web_form.WebReport)
    try:
        created = web_form.submit(tenant, form, client_ip(request))
    except LookupError:
        raise _not_found("Comune non trovato.") from None
    except abuse.TooMany as exc:
        raise too_many(exc, "Troppe segnalazioni da questa connessione: riprova più tardi.") from None
    return Response(body=created, status_code=201)


@bp.route("/api/v1/reports/{report_id}/photos/{photo_id}/publish", methods=["POST"],
          content_types=["application/json"])
@json_errors
@staff_only(bp, Capability.REPORTS, Capability.TIPS)
@report_errors
def publish_photo(staff: Staff, report_id: str, photo_id: str):
    request = parse_body(bp.current_request, desk.PhotoPublication)
    return desk.publish_photo(staff, report_id[:40], photo_id[:40], request)
