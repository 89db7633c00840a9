"""The agenda (issue 17): /public/v1/{tenant}/agenda/... for the portal's booking page and a booking's signed link,
/api/v1/agenda/... for staff (capability agenda: admin and police). docs/agenda.md lists them.

Service modules load inside the views: `import app` stays without the agenda."""
from __future__ import annotations

import functools

from chalice import Blueprint, Response

from chalicelib.api.auth import staff_only
from chalicelib.api.http import ApiError, client_ip, json_errors, parse_body, query_param
from chalicelib.api.limits import body_at_most, too_many
from chalicelib.api.openapi import documented
from chalicelib.domain.access import Capability, Staff

bp = Blueprint(__name__)
MAX_BODY = 8 * 1024
GONE = "L'orario scelto è appena stato prenotato da un'altra persona: scegline un altro tra quelli ancora liberi."


def _schema(name: str):
    from chalicelib.api.schemas import agenda as schemas

    return getattr(schemas, name)


def agenda_errors(view):
    """The agenda's refusals as clear JSON answers in Italian."""
    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        from chalicelib.services import abuse
        from chalicelib.services.agenda import booking, desk

        try:
            return view(*args, **kwargs)
        except desk.Invalid as error:
            raise ApiError(422, "invalid_request", str(error), [{"field": error.field, "message": str(error)}]) \
                from None
        except desk.NotFound as error:
            raise ApiError(404, "not_found", {"tenant": "Comune non trovato.", "service": "Servizio non trovato.",
                                              "office": "Ufficio non trovato.", "counter": "Sportello non trovato.",
                                              "booking": "Prenotazione non trovata."}.get(str(error), "Non trovato.")
                           ) from None
        except booking.Refused:
            raise ApiError(422, "not_bookable", "Questo orario non si può prenotare: scegline uno tra quelli liberi "
                                                "(non oggi, non nel passato, nei giorni e negli orari del servizio).",
                           [{"field": "start", "message": "not bookable"}]) from None
        except booking.SlotGone as gone:
            raise ApiError(409, "slot_taken", GONE, [
                {"field": "start", "message": s.start, "text": s.time} for s in gone.alternatives]) from None
        except booking.NotChangeable:
            raise ApiError(409, "not_changeable", "Questa prenotazione non si può più cambiare: è già disdetta, "
                                                  "conclusa o iniziata.") from None
        except booking.LinkRefused as refused:
            raise ApiError(refused.status, "forbidden" if refused.status == 403 else "gone", refused.message) \
                from None
        except abuse.TooMany as exc:
            raise too_many(exc, "Troppe prenotazioni da qui: riprova più tardi.") from None
    return wrapper


def _tenant(tenant: str):
    from chalicelib.services.agenda import desk

    return desk.public_tenant(tenant)


def _made(made) -> dict:
    from chalicelib.services.agenda import desk

    return {"booking": desk.view(_tenant(made.booking.tenant_id), made.booking), "manage_url": made.manage_url,
            "ics_url": made.ics_url}


# ---- public: the portal ----------------------------------------------------------------------------------


@bp.route("/public/v1/{tenant}/agenda/services", methods=["GET"])
@documented({200: "AgendaCatalogue"}, errors=(404,))
@json_errors
@agenda_errors
def agenda_catalogue(tenant: str):
    """The comune's offices and bookable services (what to bring, duration, booking mode per weekday)."""
    from chalicelib.services.agenda import desk

    return desk.catalogue(_tenant(tenant))


@bp.route("/public/v1/{tenant}/agenda/services/{service}/days", methods=["GET"])
@documented({200: "AgendaDays"}, errors=(404,))
@json_errors
@agenda_errors
def agenda_days(tenant: str, service: str):
    """The next days with free times for a service."""
    from chalicelib.services.agenda import desk

    return {"items": desk.days(_tenant(tenant), service)}


@bp.route("/public/v1/{tenant}/agenda/services/{service}/slots", methods=["GET"])
@documented({200: "AgendaTimes"}, query="AgendaTimesQuery", errors=(404, 422))
@json_errors
@agenda_errors
def agenda_slots(tenant: str, service: str):
    """The free times of one day for a service."""
    from chalicelib.services.agenda import desk

    return {"items": desk.times(_tenant(tenant), service, query_param(bp.current_request, "day"))}


@bp.route("/public/v1/{tenant}/agenda/bookings", methods=["POST"], content_types=["application/json"])
@documented({201: "AgendaBooked"}, body="AgendaWebBooking", errors=(400, 404, 409, 413, 422, 429),
            example={"service": "smarriti", "start": "2026-12-09T08:30", "name": "Maria Rossi",
                     "phone": "+39 333 111 2222", "consent": True})
@json_errors
@agenda_errors
def agenda_book(tenant: str):
    """Book on the web: the same slots as WhatsApp; 409 slot_taken with the next free times when it just went."""
    from chalicelib.services.agenda import desk

    request = bp.current_request
    body_at_most(request, MAX_BODY)
    body = parse_body(request, _schema("AgendaWebBooking"))
    made = desk.book_on_web(_tenant(tenant), body, client_ip(request))
    return Response(status_code=201, body=_made(made))


@bp.route("/public/v1/{tenant}/agenda/b/{token}", methods=["GET"])
@documented({200: "AgendaBooking"}, errors=(403, 404, 410))
@json_errors
@agenda_errors
def agenda_link(tenant: str, token: str):
    """The booking a signed link opens (the citizen's own: no login)."""
    from chalicelib.services.agenda import desk

    comune = _tenant(tenant)
    return desk.view(comune, desk.by_link(comune, token))


@bp.route("/public/v1/{tenant}/agenda/b/{token}/cancel", methods=["POST"])
@documented({200: "AgendaBooking"}, errors=(403, 404, 409, 410))
@json_errors
@agenda_errors
def agenda_link_cancel(tenant: str, token: str):
    """Cancel by the link: the slot is free again at once."""
    from chalicelib.services.agenda import desk

    comune = _tenant(tenant)
    return desk.view(comune, desk.cancel_by_link(comune, token))


@bp.route("/public/v1/{tenant}/agenda/b/{token}/move", methods=["POST"], content_types=["application/json"])
@documented({200: "AgendaBooking"}, body="AgendaMove", errors=(400, 403, 404, 409, 410, 413, 422),
            example={"start": "2026-12-10T09:00"})
@json_errors
@agenda_errors
def agenda_link_move(tenant: str, token: str):
    """Move by the link to another free time of the same service (one transaction: the old slot is freed)."""
    from chalicelib.services.agenda import desk

    request = bp.current_request
    body_at_most(request, MAX_BODY)
    body = parse_body(request, _schema("AgendaMove"))
    comune = _tenant(tenant)
    return desk.view(comune, desk.move_by_link(comune, token, body.start))


@bp.route("/public/v1/{tenant}/agenda/b/{token}/ics", methods=["GET"])
@documented({200: "AgendaIcsFile"}, errors=(403, 404, 410))
@json_errors
@agenda_errors
def agenda_link_ics(tenant: str, token: str):
    """The appointment as an iCalendar file, for the phone's calendar."""
    from chalicelib.services import clock
    from chalicelib.services.agenda import booking, desk

    comune = _tenant(tenant)
    made = desk.by_link(comune, token)
    return Response(body=booking.ics(comune, made, clock.now()), status_code=200, headers={
        "Content-Type": "text/calendar; charset=utf-8", "Cache-Control": "no-store",
        "Content-Disposition": f'attachment; filename="appuntamento-{made.code}.ics"'})


# ---- staff -------------------------------------------------------------------------------------------------


def _request_id() -> str | None:
    return (bp.current_request.context or {}).get("requestId")


@bp.route("/api/v1/agenda/catalogue", methods=["GET"])
@documented({200: "AgendaCatalogue"})
@json_errors
@staff_only(bp, Capability.AGENDA)
@agenda_errors
def agenda_staff_catalogue(staff: Staff):
    """The comune's offices, counters and services."""
    from chalicelib.services import access
    from chalicelib.services.agenda import desk

    return desk.catalogue(access.tenant_of(staff))


@bp.route("/api/v1/agenda/day", methods=["GET"])
@documented({200: "AgendaDayView"}, query="AgendaDayQuery", errors=(404, 422))
@json_errors
@staff_only(bp, Capability.AGENDA)
@agenda_errors
def agenda_day(staff: Staff):
    """An office's day per counter: bookings with name and contact (audited), blocked slots, walk-in services."""
    from chalicelib.services.agenda import desk

    request = bp.current_request
    return desk.day_view(staff, query_param(request, "office"), query_param(request, "date"), _request_id())


@bp.route("/api/v1/agenda/bookings", methods=["POST"], content_types=["application/json"])
@documented({201: "AgendaBooked"}, body="AgendaDeskBooking", errors=(400, 404, 409, 413, 422),
            example={"service": "smarriti", "start": "2026-12-09T08:30", "name": "Maria Rossi"})
@json_errors
@staff_only(bp, Capability.AGENDA)
@agenda_errors
def agenda_desk_book(staff: Staff):
    """A booking made at the desk or on the phone (audited)."""
    from chalicelib.services.agenda import desk

    request = bp.current_request
    body_at_most(request, MAX_BODY)
    made = desk.book_at_desk(staff, parse_body(request, _schema("AgendaDeskBooking")))
    return Response(status_code=201, body=_made(made))


@bp.route("/api/v1/agenda/bookings/{code}/attendance", methods=["POST"], content_types=["application/json"])
@documented({200: "AgendaBooking"}, body="AgendaAttendance", errors=(400, 404, 409, 413, 422),
            example={"present": False})
@json_errors
@staff_only(bp, Capability.AGENDA)
@agenda_errors
def agenda_attendance(staff: Staff, code: str):
    """Presente / assente (an absence counts as the citizen's no-show); audited."""
    from chalicelib.services import access
    from chalicelib.services.agenda import desk

    request = bp.current_request
    body_at_most(request, MAX_BODY)
    body = parse_body(request, _schema("AgendaAttendance"))
    return desk.view(access.tenant_of(staff), desk.attendance(staff, code, body.present))


@bp.route("/api/v1/agenda/bookings/{code}/cancel", methods=["POST"])
@documented({200: "AgendaBooking"}, errors=(404, 409))
@json_errors
@staff_only(bp, Capability.AGENDA)
@agenda_errors
def agenda_staff_cancel(staff: Staff, code: str):
    """Cancel one booking; its citizen is told on WhatsApp; audited."""
    from chalicelib.services import access
    from chalicelib.services.agenda import desk

    return desk.view(access.tenant_of(staff), desk.cancel_by_staff(staff, code))


@bp.route("/api/v1/agenda/closures", methods=["POST"], content_types=["application/json"])
@documented({200: "AgendaClosure"}, body="AgendaClosureRequest", errors=(400, 404, 413, 422),
            example={"office": "polizia", "date": "2026-12-09", "reason": "assemblea sindacale"})
@json_errors
@staff_only(bp, Capability.AGENDA)
@agenda_errors
def agenda_close(staff: Staff):
    """Block a slot range or a whole day: the bookings there are cancelled, their slots released and each citizen
    told on WhatsApp; audited."""
    from chalicelib.services.agenda import desk

    request = bp.current_request
    body_at_most(request, MAX_BODY)
    return desk.close(staff, parse_body(request, _schema("AgendaClosureRequest")))


@bp.route("/api/v1/agenda/export", methods=["GET"])
@documented({200: "SpreadsheetFile"}, query="AgendaExportQuery", errors=(404, 422))
@json_errors
@staff_only(bp, Capability.AGENDA)
@agenda_errors
def agenda_export(staff: Staff):
    """An office's bookings from a day to a day, as CSV or XLSX (audited)."""
    from chalicelib.api.exports import file_answer
    from chalicelib.services.agenda import desk

    request = bp.current_request
    return file_answer(request, lambda: desk.export(staff, query_param(request, "office"),
                                                    query_param(request, "from"), query_param(request, "to"),
                                                    _request_id()))
