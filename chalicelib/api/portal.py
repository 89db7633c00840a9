"""The citizen portal's API under /public/v1: the comune's set-up, the map, a report's status, the report form."""
from __future__ import annotations

from chalice import Blueprint, Response

from chalicelib.api import lazy
from chalicelib.api.http import ApiError, client_ip, json_errors, parse_body
from chalicelib.api.limits import body_at_most, per_client, too_many
from chalicelib.api.openapi import documented
from chalicelib.services import abuse

portal = lazy("chalicelib.services.reports.portal")
web_form = lazy("chalicelib.services.reports.web_form")

bp = Blueprint(__name__)
READS_PER_CLIENT = abuse.Limit("public-read", max_hits=600, window_seconds=600)
MAP_CACHE = "public, max-age=60"
READ_ERRORS = (404, 429)  # no such comune (or report), too many reads from this client


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
@documented({200: "Portal"}, errors=READ_ERRORS)
@json_errors
def portal_setup(tenant: str):
    """The portal's set-up: the comune, hamlets as GeoJSON outlines, categories, topics."""
    return _map_read(portal.comune, tenant)


@bp.route("/public/v1/{tenant}/reports", methods=["GET"])
@documented({200: "PublicReports"}, errors=READ_ERRORS)
@json_errors
def public_reports(tenant: str):
    """The map: reports of the last 90 days (no tips, none rejected or duplicate), newest first, without personal
    data; photos only as published by staff."""
    return _map_read(portal.public_reports, tenant)


@bp.route("/public/v1/{tenant}/status/{token}", methods=["GET"])
@documented({200: "StatusView"}, errors=READ_ERRORS)
@json_errors
def public_report_status(tenant: str, token: str):
    """One report's status and public history, by the token of its link."""
    per_client(bp.current_request, READS_PER_CLIENT)
    try:
        body = portal.status(tenant, token)
    except LookupError:
        raise _not_found("Segnalazione non trovata: controlla il link ricevuto.") from None
    return Response(body=body, status_code=200, headers={
        "Cache-Control": "no-store", "Referrer-Policy": "no-referrer", "X-Robots-Tag": "noindex"})


@bp.route("/public/v1/{tenant}/reports", methods=["POST"], content_types=["application/json"])
@documented({201: "Filed"}, body="chalicelib.services.reports.web_form:WebReport", errors=(404, 413, 429), example={
    "category": "strade", "description": "Buca profonda davanti alla scuola",
    "position": {"latitude": 43.743, "longitude": 10.946}})
@json_errors
def file_report(tenant: str):
    """The portal's report form: numbered and queued like WhatsApp reports. Photos in base64 (at most 3, 1.25 MB
    each); limited per client and per phone; website must stay empty."""
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

