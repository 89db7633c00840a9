"""The staff API for reports and safety tips, the KPIs, the photos the portal shows; the citizen's status page."""
from __future__ import annotations

import functools
from datetime import datetime

from chalice import Blueprint, Response

from chalicelib.api import lazy
from chalicelib.api.auth import staff_only
from chalicelib.api.http import ApiError, json_errors, page_limit, parse_body, query_param
from chalicelib.api.limits import body_at_most, per_client
from chalicelib.api.openapi import documented
from chalicelib.domain.access import Capability, Staff
from chalicelib.domain.reports import NotAllowed, ReportFull
from chalicelib.services import abuse

access = lazy("chalicelib.services.access")
arrivals = lazy("chalicelib.services.reports.arrivals")
bulk = lazy("chalicelib.services.reports.bulk")
desk = lazy("chalicelib.services.reports.desk")
external = lazy("chalicelib.services.reports.external")
external_page = lazy("chalicelib.services.reports.external_page")
kpis = lazy("chalicelib.services.reports.kpis")
moderation = lazy("chalicelib.services.reports.moderation")
status_page = lazy("chalicelib.services.reports.status_page")
report_store = lazy("chalicelib.store.reports")

bp = Blueprint(__name__)
FILTERS = ("status", "category", "hamlet", "team", "q", "assignee", "zone")
YEARS = range(1971, 3000)  # from and to of lists and KPIs
REPORT_LINKS = {operation: {"path.report_id": "$response.body#/id"}
                for operation in ("readReport", "transitionReport", "addReportNote", "mergeReport", "assignReport",
                                  "correctReport", "approveReportPublicText")}
STEP_ERRORS = (404, 409)  # besides a body's: no such report, or a step its status does not allow


def report_errors(view):
    """The services' refusals as JSON answers."""
    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        try:
            return view(*args, **kwargs)
        except access.NotFound:
            raise ApiError(404, "not_found", "No such report for your comune.") from None
        except access.Forbidden as exc:
            raise ApiError(403, "forbidden", f"Your roles do not give access to {exc}.") from None
        except ReportFull as exc:
            raise ApiError(422, "report_full", str(exc)) from None
        except NotAllowed as exc:
            raise ApiError(409, "not_allowed", str(exc)) from None
        except desk.InvalidReport as exc:
            details = [{"field": exc.field, "message": str(exc)}] if exc.field else None
            raise ApiError(422, "invalid_request", str(exc), details) from None
        except report_store.Conflict:
            raise ApiError(409, "conflict", "The report changed meanwhile: reload it and try again.") from None
    return wrapper


def _time(request, name: str) -> datetime | None:
    raw = query_param(request, name)
    if not raw:
        return None
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        raise ApiError(422, "invalid_request", f"{name} must be an ISO date or time, e.g. 2026-11-01.") from None
    if moment.year not in YEARS:  # far off, zones have odd offsets (Rome's 1890 +00:49:56) or overflow
        raise ApiError(422, "invalid_request", f"{name} must fall in the years {YEARS.start} to {YEARS.stop - 1}.")
    return (moment if moment.tzinfo else moment.replace(tzinfo=kpis.ROME)).astimezone(kpis.ROME)


def list_filters(staff: Staff, request) -> dict:
    """The list's filters from the query (the list and its export take the same)."""
    filters = {name: query_param(request, name) for name in FILTERS}
    filters = {("text" if k == "q" else k): v for k, v in filters.items() if v}
    if filters.get("assignee") == "me":  # "my reports"
        filters["assignee"] = staff.subject
    filters.update({k: v for k, v in (("since", _time(request, "from")), ("until", _time(request, "to"))) if v})
    return filters


@bp.route("/api/v1/reports", methods=["GET"])
@documented({200: "ReportPage"}, query="ReportQuery", errors=(422,))
@json_errors
@staff_only(bp, Capability.REPORTS, Capability.TIPS)
@report_errors
def list_reports(staff: Staff):
    """Reports (and, for the police, tips), newest first; sort by a column, or only the overdue or due soon (due),
    each with its age and deadline."""
    request = bp.current_request
    filters = list_filters(staff, request)
    try:
        return desk.list_reports(staff, query_param(request, "kind"), filters, page_limit(request, 20),
                                 query_param(request, "cursor"), query_param(request, "sort"), query_param(request, "due"))
    except desk.InvalidReport:
        raise  # with the field at fault (report_errors)
    except ValueError as exc:
        raise ApiError(422, "invalid_request", str(exc)) from None


@bp.route("/api/v1/reports", methods=["POST"], content_types=["application/json"])
@documented({201: "Report"}, body="chalicelib.services.reports.desk:DeskReport", links=REPORT_LINKS, example={
    "source": "phone", "text": "Lampione spento in via Verdi", "hamlet": "pieve", "contact": {"name": "Anna Rossi"}})
@json_errors
@staff_only(bp, Capability.REPORTS, Capability.TIPS)
@report_errors
def create_report(staff: Staff):
    """A report taken at the desk, by phone or by email."""
    created = desk.create(staff, parse_body(bp.current_request, desk.DeskReport))
    return Response(body=created, status_code=201)


@bp.route("/api/v1/reports/kpis", methods=["GET"])
@documented({200: "Kpis"}, query="KpiQuery", errors=(422,))
@json_errors
@staff_only(bp, Capability.REPORTS, Capability.TIPS)
@report_errors
def report_kpis(staff: Staff):
    """KPIs over a period (default: this year)."""
    request = bp.current_request
    return kpis.for_staff(staff, query_param(request, "kind"), _time(request, "from"), _time(request, "to"))


@bp.route("/api/v1/reports/assignees", methods=["GET"])
@documented({200: "AssigneeList"}, query="AssigneeQuery", errors=(422,))
@json_errors
@staff_only(bp, Capability.REPORTS, Capability.TIPS)
@report_errors
def list_assignees(staff: Staff):
    """The staff members who may be put in charge of the caller's reports (of kind): whoever signed in to the
    console with a role that reaches them (a tip: the police only)."""
    return desk.assignees(staff, query_param(bp.current_request, "kind"))


@bp.route("/api/v1/reports/bulk", methods=["POST"], content_types=["application/json"])
@documented({200: "BulkResult"}, body="chalicelib.services.reports.bulk:BulkAction",
            example={"ids": ["2026-0000012", "2026-0000013"],
            "action": "close", "to": "resolved", "note": "Lavori completati"})
@json_errors
@staff_only(bp, Capability.REPORTS, Capability.TIPS)
@report_errors
def bulk_reports(staff: Staff):
    """One action on up to 100 reports: triage (take in charge), assign (team), category, close (to resolved or
    rejected; outcome for tips), merge (into) or assignee (a staff member). Each report takes the same step as
    alone, with its citizens told as for a single change and one audit entry; the answer says, per report, done,
    unchanged (already so: a retry tells nobody twice), refused (with the reason) or not_found."""
    return bulk.apply(staff, parse_body(bp.current_request, bulk.BulkAction))
@bp.route("/api/v1/reports/arrivals", methods=["GET"])
@documented({200: "Arrivals"}, query="ArrivalsQuery", errors=(422,))
@json_errors
@staff_only(bp, Capability.REPORTS, Capability.TIPS)
@report_errors
def report_arrivals(staff: Staff):
    """New reports (and, for the police, tips) nobody has opened yet: how many, and the oldest, tips that came
    outside the watched hours first. The console polls it for its badge; opening a report takes it off."""
    kinds = desk.visible_kinds(staff, query_param(bp.current_request, "kind"))
    return arrivals.for_staff(staff, kinds)


@bp.route("/api/v1/reports/{report_id}", methods=["GET"])
@documented({200: "Report"}, errors=(404,))
@json_errors
@staff_only(bp, Capability.REPORTS, Capability.TIPS)
@report_errors
def read_report(staff: Staff, report_id: str):
    """One report with its history (audited)."""
    return desk.read(staff, report_id[:40], bp.current_request.context.get("requestId"))


@bp.route("/api/v1/reports/{report_id}/transitions", methods=["POST"], content_types=["application/json"])
@documented({200: "Report"}, body="chalicelib.services.reports.desk:Transition",
            example={"to": "triaged", "note": "Sopralluogo domani", "public": False},
            errors=STEP_ERRORS)
@json_errors
@staff_only(bp, Capability.REPORTS, Capability.TIPS)
@report_errors
def transition_report(staff: Staff, report_id: str):
    """A lifecycle step. public: whether the citizen and followers are told; absent, the step's own default
    (the report's `steps` lists each possible step with it: forwarded, in_progress, resolved and rejected are public,
    triaged and assigned internal; a tip's steps internal)."""
    return desk.transition(staff, report_id[:40], parse_body(bp.current_request, desk.Transition))


@bp.route("/api/v1/reports/{report_id}/notes", methods=["POST"], content_types=["application/json"])
@documented({200: "Report"}, body="chalicelib.services.reports.desk:Note",
            example={"note": "Chiamato il cittadino", "public": False}, errors=STEP_ERRORS)
@json_errors
@staff_only(bp, Capability.REPORTS, Capability.TIPS)
@report_errors
def add_report_note(staff: Staff, report_id: str):
    """A note; internal unless public is true."""
    return desk.add_note(staff, report_id[:40], parse_body(bp.current_request, desk.Note))


@bp.route("/api/v1/reports/{report_id}/merge", methods=["POST"], content_types=["application/json"])
@documented({200: "Report"}, body="chalicelib.services.reports.desk:Merge", example={"into": "2026/12"}, errors=STEP_ERRORS)
@json_errors
@staff_only(bp, Capability.REPORTS, Capability.TIPS)
@report_errors
def merge_report(staff: Staff, report_id: str):
    """Mark the report a duplicate of another (into: its number or id)."""
    return desk.merge(staff, report_id[:40], parse_body(bp.current_request, desk.Merge))


@bp.route("/api/v1/reports/{report_id}/assignee", methods=["POST"], content_types=["application/json"])
@documented({200: "Report"}, body="chalicelib.services.reports.desk:Assignment", example={"assignee": "me"}, errors=STEP_ERRORS)
@json_errors
@staff_only(bp, Capability.REPORTS, Capability.TIPS)
@report_errors
def assign_report(staff: Staff, report_id: str):
    """Put a staff member in charge (assignee: an id from GET /api/v1/reports/assignees, "me", or null for
    nobody); an internal timeline entry, audited. A tip only to the police."""
    return desk.assign(staff, report_id[:40], parse_body(bp.current_request, desk.Assignment))


@bp.route("/api/v1/reports/{report_id}/photos/{photo_id}/publish", methods=["POST"],
          content_types=["application/json"])
@documented({200: "Report"}, body="chalicelib.services.reports.desk:PhotoPublication",
            example={"published": True}, errors=STEP_ERRORS)
@json_errors
@staff_only(bp, Capability.REPORTS, Capability.TIPS)
@report_errors
def publish_report_photo(staff: Staff, report_id: str, photo_id: str):
    """Show (published true) or stop showing a stored photo on the citizen portal: only its copy without metadata,
    never the original; a tip's photos never (409). Audited."""
    request = parse_body(bp.current_request, desk.PhotoPublication)
    return desk.publish_photo(staff, report_id[:40], photo_id[:40], request)


@bp.route("/api/v1/reports/{report_id}", methods=["PATCH"], content_types=["application/json"])
@documented({200: "Report"}, body="chalicelib.services.reports.moderation:Correction",
            example={"category": "illuminazione", "hamlet": "pieve"},
            errors=STEP_ERRORS)
@json_errors
@staff_only(bp, Capability.REPORTS, Capability.TIPS)
@report_errors
def correct_report(staff: Staff, report_id: str):
    """Correct what automation guessed: category (reports only), hamlet, position (inside the comune's area; the
    hamlet follows the pin unless given) and address. Each change is an internal timeline entry, audited."""
    return moderation.correct(staff, report_id[:40], parse_body(bp.current_request, moderation.Correction))


@bp.route("/api/v1/reports/{report_id}/public-text", methods=["PUT"], content_types=["application/json"])
@documented({200: "Report"}, body="chalicelib.services.reports.moderation:PublicText", example={
    "title": "Lampione spento", "description": "Lampione spento vicino alla scuola, segnalato al gestore."},
    errors=STEP_ERRORS)
@json_errors
@staff_only(bp, Capability.REPORTS)
@report_errors
def approve_report_public_text(staff: Staff, report_id: str):
    """Approve the title and description the public reads (portal, Open311, status page) instead of the citizen's
    words, which never leave the office; until then the public reads a default from category and hamlet. Audited;
    a tip has none (409)."""
    return moderation.approve_public_text(staff, report_id[:40], parse_body(bp.current_request, moderation.PublicText))


@bp.route("/api/v1/reports/{report_id}/photos/{photo_id}/redaction", methods=["PUT"],
          content_types=["application/json"])
@documented({200: "Report"}, body="chalicelib.services.reports.moderation:Redaction", example={
    "boxes": [{"x": 0.1, "y": 0.2, "width": 0.15, "height": 0.1}]}, errors=STEP_ERRORS)
@json_errors
@staff_only(bp, Capability.REPORTS)
@report_errors
def redact_report_photo(staff: Staff, report_id: str, photo_id: str):
    """Paint boxes (at most 20, fractions of the picture) over faces and plates: they are burnt into a new copy of
    the photo's copy without metadata, which the portal shows when the photo is published; the original and the
    copy without metadata stay untouched. No boxes: the copy without metadata is shown again. Audited."""
    request = parse_body(bp.current_request, moderation.Redaction)
    return moderation.redact_photo(staff, report_id[:40], photo_id[:40], request)


@bp.route("/s/{token}", methods=["GET"])
def status_page_html(token: str):
    """The citizen's page for one report: status, public history, a map; no personal data."""
    page = status_page.render(token[:64])
    if page is None:
        return Response(body=status_page.not_found(), status_code=404,
                        headers={"Content-Type": "text/html; charset=utf-8"})
    return Response(body=page, status_code=200, headers={
        "Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store",
        "Referrer-Policy": "no-referrer", "X-Robots-Tag": "noindex"})


EXTERNAL_PER_CLIENT = abuse.Limit("external-link", max_hits=120, window_seconds=600)
MAX_EXTERNAL_FORM_BYTES = 8 * 1024
_HTML = {"Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store", "Referrer-Policy": "no-referrer",
         "X-Robots-Tag": "noindex", "X-Frame-Options": "DENY"}


@bp.route("/x/{tenant}/{report_id}/{token}", methods=["GET"])
def external_body_page(tenant: str, report_id: str, token: str):
    """The external body's private page of one forwarded report (services/reports/external.py). No login: the
    signed, expiring link is the credential; 403 or 410 with an Italian page otherwise. Limited per client, like the
    other public pages."""
    request = bp.current_request
    opened = _external_opened(request, tenant, report_id, token)
    if isinstance(opened, Response):
        return opened
    sent = (request.query_params or {}).get("inviato") == "1"
    return Response(body=external_page.render(opened, _link_expiry(opened), sent=sent), status_code=200, headers=_HTML)


@bp.route("/x/{tenant}/{report_id}/{token}", methods=["POST"], content_types=["application/x-www-form-urlencoded"])
def external_body_post(tenant: str, report_id: str, token: str):
    """The external body's post from its page: a status, its reference, a note, public or not."""
    request = bp.current_request
    opened = _external_opened(request, tenant, report_id, token)
    if isinstance(opened, Response):
        return opened
    return _external_post(request, opened, _link_expiry(opened))


def _external_opened(request, tenant: str, report_id: str, token: str):
    """The report the link opens, or the Italian page that refuses it (429, 403, 410)."""
    try:
        per_client(request, EXTERNAL_PER_CLIENT)
    except ApiError as refused:
        return Response(body=external_page.refused("Troppe richieste da questa connessione: riprovate tra qualche "
                                                   "minuto."), status_code=429, headers={**_HTML, **refused.headers})
    try:
        return external.open_link(tenant[:64], report_id[:40], token[:512])
    except external.LinkRefused as exc:
        return Response(body=external_page.refused(exc.message), status_code=exc.status, headers=_HTML)


def _external_post(request, opened, expires: str):
    from urllib.parse import parse_qs

    try:
        raw = body_at_most(request, MAX_EXTERNAL_FORM_BYTES)
    except ApiError:
        return Response(body=external_page.refused("Il testo inviato è troppo lungo."), status_code=413, headers=_HTML)
    fields = {k: v[0] for k, v in parse_qs(raw.decode("utf-8", "replace"), keep_blank_values=True).items()}
    form = {k: fields.get(k) for k in ("status", "reference", "note", "public")}
    try:
        status, reference, note = external.check_post(form["status"], form["reference"], form["note"])
    except external.InvalidPost as exc:
        return Response(body=external_page.render(opened, expires, form=form, error=str(exc)), status_code=422,
                        headers=_HTML)
    request_id = (request.context or {}).get("requestId")
    external.post(opened, status, reference, note, public=form["public"] == "1", request_id=request_id)
    # post, then redirect: a reload does not post twice; a query alone keeps the path (and its token) as it is
    return Response(body="", status_code=303, headers={**_HTML, "Location": "?inviato=1"})


def _link_expiry(opened) -> str:
    """When the link stops working, in the comune's time: it was signed when the report was forwarded."""
    from datetime import timedelta

    forwarded = datetime.fromisoformat(opened.report.external["forwarded_at"])
    return external.when(forwarded + timedelta(days=external.expiry_days(opened.tenant)))
