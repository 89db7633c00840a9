"""The staff API of Vicinato, the neighbourhood-watch relay (docs/vicinato.md): zones and their people, the police's
join decisions and notices, the relay's cases, the monthly report. Personal data for the police only (TIPS); the
administration (SETUP) appoints coordinators. Services load inside the views (a cold start of another route does
not pay for them)."""
from __future__ import annotations

import functools
from urllib.parse import unquote

from chalice import Blueprint, Response

from chalicelib.api.auth import staff_only
from chalicelib.api.http import ApiError, json_errors, parse_body, query_param
from chalicelib.api.openapi import documented
from chalicelib.domain.access import Capability, Staff

bp = Blueprint(__name__)
POLICE = Capability.TIPS
ADMIN = Capability.SETUP
MAX_ID = 300


def vicinato_errors(view):
    """The services' refusals as JSON answers, in Italian."""
    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        from chalicelib.services.access import NotFound
        from chalicelib.services.vicinato import monthly, notices, people
        from chalicelib.store.vicinato import Conflict

        try:
            return view(*args, **kwargs)
        except NotFound:
            raise ApiError(404, "not_found", "Non trovato per il tuo Comune.") from None
        except (people.Refused, notices.Refused) as exc:
            details = [{"field": exc.field, "message": str(exc)}] if exc.field else None
            raise ApiError(422, "invalid_request", str(exc), details) from None
        except monthly.BadMonth:
            raise ApiError(422, "invalid_request", "Il mese va scritto AAAA-MM, per esempio 2026-12.",
                           [{"field": "month", "message": "AAAA-MM"}]) from None
        except Conflict:
            raise ApiError(409, "conflict", "Il dato è cambiato nel frattempo: ricarica e riprova.") from None
    return wrapper


def _id(raw: str) -> str:
    return unquote(raw)[:MAX_ID]


def _request_id() -> str | None:
    return (bp.current_request.context or {}).get("requestId")


def _choice(name: str, allowed: tuple[str, ...]) -> str | None:
    value = query_param(bp.current_request, name)
    if value is not None and value not in allowed:
        raise ApiError(422, "invalid_request", f"{name}: uno tra {', '.join(allowed)}.",
                       [{"field": name, "message": ", ".join(allowed)}])
    return value


@bp.route("/api/v1/vicinato/zones", methods=["GET"])
@documented({200: "ZoneList"})
@json_errors
@staff_only(bp, POLICE, ADMIN)
@vicinato_errors
def list_zones(staff: Staff):
    """The comune's Vicinato zones (set in PUT /api/v1/settings/vicinato) with their counts and the handles of their
    coordinator and stand-in (no identity)."""
    from chalicelib.services.vicinato import people

    return {"items": people.zones(staff)}


@bp.route("/api/v1/vicinato/referents", methods=["GET"])
@documented({200: "ReferentList"})
@json_errors
@staff_only(bp, ADMIN)
@vicinato_errors
def list_referents(staff: Staff):
    """Who may be a zone's police referent (zones[].police_referent in PUT /api/v1/settings/vicinato): the comune's
    enabled police staff, by id and name."""
    from chalicelib.services.vicinato import people

    return {"items": people.referents(staff)}


@bp.route("/api/v1/vicinato/people", methods=["GET"])
@documented({200: "PersonList"}, query="PeopleQuery", errors=(422,))
@json_errors
@staff_only(bp, POLICE, ADMIN)
@vicinato_errors
def list_people(staff: Staff):
    """The people of Vicinato: the police see everyone with their identity; the administration coordinators and
    stand-ins, and the active members by handle only, to choose a coordinator (audited)."""
    from chalicelib.domain import vicinato as rules
    from chalicelib.services.vicinato import people

    zone = query_param(bp.current_request, "zone")
    status = _choice("status", rules.MEMBER_STATUSES)
    role = _choice("role", rules.ROLES)
    return {"items": people.listed(staff, zone[:64] if zone else None, status, role, _request_id())}


@bp.route("/api/v1/vicinato/coordinators", methods=["POST"], content_types=["application/json"])
@documented({201: "PersonView"}, body="AppointmentBody", errors=(404, 422),
            example={"zone": "centro", "role": "coordinator", "phone": "+39 333 000 0310", "name": "Mario Rossi",
                     "address": "Via Roma 3", "prefettura_date": "2026-11-02", "prefettura_ref": "Prot. 1234/2026"})
@json_errors
@staff_only(bp, ADMIN)
@vicinato_errors
def appoint_coordinator(staff: Staff):
    """Appoint a zone's coordinator or stand-in (with the Prefettura's approval, when given); whoever held the role
    becomes a member. Audited with before and after."""
    from chalicelib.services.vicinato import people

    data = parse_body(bp.current_request, people.Appointment)
    return Response(body=people.appoint(staff, data), status_code=201)


@bp.route("/api/v1/vicinato/people/{person_id}/appointment", methods=["POST"], content_types=["application/json"])
@documented({201: "PersonView"}, body="PromotionBody", errors=(404, 422),
            example={"role": "coordinator", "prefettura_date": "2026-11-02", "prefettura_ref": "Prot. 1234/2026"})
@json_errors
@staff_only(bp, ADMIN)
@vicinato_errors
def promote_member(staff: Staff, person_id: str):
    """Make an active member (chosen by handle in GET /people) the coordinator or stand-in of their zone, with the
    Prefettura's approval when given; whoever held the role becomes a member. Audited with before and after."""
    from chalicelib.services.vicinato import people

    data = parse_body(bp.current_request, people.Promotion)
    return Response(body=people.promote(staff, _id(person_id), data), status_code=201)


@bp.route("/api/v1/vicinato/people/{person_id}", methods=["DELETE"])
@documented({200: "PersonView"}, errors=(404,))
@json_errors
@staff_only(bp, POLICE, ADMIN)
@vicinato_errors
def remove_person(staff: Staff, person_id: str):
    """Take someone out of Vicinato (as ESCI VICINATO): no further report taken, no notice sent. Audited."""
    from chalicelib.services.vicinato import people

    return people.remove(staff, _id(person_id))


@bp.route("/api/v1/vicinato/requests", methods=["GET"])
@documented({200: "PersonList"})
@json_errors
@staff_only(bp, POLICE)
@vicinato_errors
def list_requests(staff: Staff):
    """Join requests waiting for the police, oldest first, with name, address, zone and whether an ID photo came
    (audited)."""
    from chalicelib.services.vicinato import people

    return {"items": people.requests(staff, _request_id())}


@bp.route("/api/v1/vicinato/requests/{person_id}/approve", methods=["POST"])
@documented({200: "PersonView"}, errors=(404, 422))
@json_errors
@staff_only(bp, POLICE)
@vicinato_errors
def approve_request(staff: Staff, person_id: str):
    """Approve a join request: the citizen gets their handle on WhatsApp; the ID photo is deleted after the
    comune's id_photo_days. Audited."""
    from chalicelib.services.vicinato import people

    return people.decide(staff, _id(person_id), approve=True)


@bp.route("/api/v1/vicinato/requests/{person_id}/refuse", methods=["POST"], content_types=["application/json"])
@documented({200: "PersonView"}, body="RefusalBody", errors=(404, 422), example={"note": "Non residente"})
@json_errors
@staff_only(bp, POLICE)
@vicinato_errors
def refuse_request(staff: Staff, person_id: str):
    """Refuse a join request: the citizen is told it was not accepted. Audited."""
    from chalicelib.api.schemas.vicinato import RefusalBody
    from chalicelib.services.vicinato import people

    data = parse_body(bp.current_request, RefusalBody)
    return people.decide(staff, _id(person_id), approve=False, note=data.note)


@bp.route("/api/v1/vicinato/people/{person_id}/id-photo", methods=["GET"])
@documented({200: "PhotoLink"}, errors=(404,))
@json_errors
@staff_only(bp, POLICE)
@vicinato_errors
def read_id_photo(staff: Staff, person_id: str):
    """A five-minute link to a person's ID photo, while it is kept (audited)."""
    from chalicelib.services.vicinato import people

    return people.id_photo(staff, _id(person_id), _request_id())


@bp.route("/api/v1/vicinato/cases", methods=["GET"])
@documented({200: "CaseList"}, query="CaseQuery", errors=(422,))
@json_errors
@staff_only(bp, POLICE)
@vicinato_errors
def list_cases(staff: Staff):
    """The relay's cases, newest first: what members reported to their coordinators and what became of it
    (audited)."""
    from chalicelib.domain import vicinato as rules
    from chalicelib.services.access import record, tenant_of
    from chalicelib.services.vicinato import police

    zone = query_param(bp.current_request, "zone")
    status = _choice("status", rules.CASE_STATUSES)
    record(staff, "vicinato.cases.read", zone or "*", _request_id())
    return {"items": police.cases(tenant_of(staff), zone[:64] if zone else None, status)}


@bp.route("/api/v1/vicinato/notices", methods=["POST"], content_types=["application/json"])
@documented({201: "NoticeSent"}, body="NoticeBody", errors=(404, 422),
            example={"zones": ["*"], "text": "Truffe agli anziani in corso: non aprite a finti tecnici.",
                     "priority": "alert"})
@json_errors
@staff_only(bp, POLICE)
@vicinato_errors
def send_notice(staff: Staff):
    """A police notice to one zone, several or all (["*"]): a broadcast on the safety channel to the zones' people
    (pacing, quiet hours, the notice template outside the 24-hour window, receipts); an alert passes the quiet
    hours. Audited."""
    from chalicelib.services.vicinato import notices

    data = parse_body(bp.current_request, notices.PoliceNotice)
    return Response(body=notices.police_send(staff, data), status_code=201)


@bp.route("/api/v1/vicinato/report", methods=["GET"])
@documented({200: "MonthlyReport"}, query="MonthlyQuery", errors=(422,))
@json_errors
@staff_only(bp, POLICE, ADMIN)
@vicinato_errors
def monthly_report(staff: Staff):
    """The month's figures per zone for the Prefettura and the council: members, joins, leaves, reports, urgent,
    forwarded, notified, archived, escalated, police notices, median minutes to forward. Counts only."""
    from chalicelib.services.vicinato import monthly

    return monthly.report(staff, query_param(bp.current_request, "month"), _request_id())


@bp.route("/api/v1/vicinato/report/export", methods=["GET"])
@documented({200: "SpreadsheetFile"}, query="MonthlyExportQuery", errors=(422,))
@json_errors
@staff_only(bp, POLICE, ADMIN)
@vicinato_errors
def export_monthly_report(staff: Staff):
    """The month's figures per zone as CSV (default) or XLSX (audited)."""
    from chalicelib.api.exports import file_answer
    from chalicelib.services.vicinato import monthly

    month = query_param(bp.current_request, "month")
    monthly.bounds(month)  # 422 before anything is read
    return file_answer(bp.current_request, lambda: monthly.table(staff, month, _request_id()))
