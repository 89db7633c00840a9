"""The staff API under /api/v1: who am I, channels, subscribers and their consent ledger."""
from __future__ import annotations

from urllib.parse import unquote

from chalice import Blueprint, Response

from chalicelib.api.auth import Staff, staff_only
from chalicelib.api.http import ApiError, json_errors, page_limit, parse_body, query_param
from chalicelib.domain.subscriptions import STATUSES
from chalicelib.services import subscriber_admin as admin
from chalicelib.services.staff_access import Forbidden, NotFound, channel_for, tenant_of, visible_channels

bp = Blueprint(__name__)
MAX_CHANNEL_ID = 64  # a phone_number_id; a longer one is no channel (and over DynamoDB's key limit)


def staff_channel(staff: Staff, channel_id: str | None, default_kind: str | None = "broadcast"):
    """The channel a staff request names (or the comune's one channel of default_kind), as 404 or 403 answers."""
    if channel_id and len(channel_id) > MAX_CHANNEL_ID:
        raise ApiError(404, "not_found", "No such channel for your comune.")
    try:
        return channel_for(staff, channel_id, kind=None if channel_id else default_kind)
    except NotFound:
        raise ApiError(404, "not_found", "No such channel for your comune.") from None
    except Forbidden as exc:
        raise ApiError(403, "forbidden", f"Your roles do not give access to the {exc} channel.") from None


# Placeholder for domain/access.py (to be replaced at merge): what each role may do, as the console's menu reads it.
CAPABILITIES = {
    "admin": {"reports", "broadcasts", "subscribers", "stats", "privacy"},
    "communications": {"broadcasts", "subscribers", "stats"},
    "technical": {"reports", "stats"},
    "police": {"tips", "subscribers", "stats"},
}


@bp.route("/api/v1/me", methods=["GET"])
@json_errors
@staff_only(bp)
def me(staff: Staff):
    can = set().union(*(CAPABILITIES.get(role, set()) for role in staff.roles))
    return {"subject": staff.subject, "email": staff.email, "name": staff.email or staff.subject,
            "tenant": staff.tenant_id, "roles": sorted(staff.roles), "can": sorted(can)}


@bp.route("/api/v1/channels", methods=["GET"])
@json_errors
@staff_only(bp)
def channels(staff: Staff):
    return {"items": [{"phone_number_id": c.phone_number_id, "kind": c.kind, "name": c.name,
                       "display_phone_number": c.display_phone_number, "templates": c.approved_templates()}
                      for c in visible_channels(staff)]}


@bp.route("/api/v1/subscribers", methods=["GET"])
@json_errors
@staff_only(bp, "admin", "communications", "police")
def list_subscribers(staff: Staff):
    request = bp.current_request
    channel = staff_channel(staff, query_param(request, "channel"))
    status = query_param(request, "status")
    if status is not None and status not in STATUSES:
        raise ApiError(422, "invalid_request", f"status must be one of: {', '.join(STATUSES)}.")
    try:
        items, cursor = admin.list_page(staff, channel, status, query_param(request, "q"), page_limit(request),
                                        query_param(request, "cursor"))
    except ValueError:
        raise ApiError(422, "invalid_request", "The cursor is not valid.") from None
    return {"items": items, "next": cursor}


@bp.route("/api/v1/subscribers", methods=["POST"])
@json_errors
@staff_only(bp, "admin", "communications", "police")
def add_subscriber(staff: Staff):
    data = parse_body(bp.current_request, admin.NewSubscriber)
    channel = staff_channel(staff, data.channel)
    try:
        subscriber, created = admin.add(staff, tenant_of(staff), channel, data)
    except admin.InvalidSubscriber as exc:
        raise ApiError(422, "invalid_subscriber", str(exc)) from None
    return Response(body=subscriber, status_code=201 if created else 200)


@bp.route("/api/v1/subscribers/import", methods=["POST"], content_types=["text/csv", "text/plain"])
@json_errors
@staff_only(bp, "admin", "communications", "police")
def import_subscribers(staff: Staff):
    request = bp.current_request
    channel = staff_channel(staff, query_param(request, "channel"))
    try:
        text = (request.raw_body or b"").decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ApiError(422, "invalid_csv", "The file must be UTF-8 text.") from None
    try:
        rows = admin.import_csv(staff, tenant_of(staff), channel, text)
    except admin.InvalidSubscriber as exc:
        raise ApiError(422, "invalid_csv", str(exc)) from None
    summary = {k: sum(1 for r in rows if r.result == k) for k in ("created", "updated", "error")}
    return {"summary": summary, "rows": [{k: v for k, v in r.__dict__.items() if v is not None} for r in rows]}


@bp.route("/api/v1/subscribers/{phone}", methods=["GET"])
@json_errors
@staff_only(bp, "admin", "communications", "police")
def read_subscriber(staff: Staff, phone: str):
    channel = staff_channel(staff, query_param(bp.current_request, "channel"))
    try:
        return admin.read(staff, channel, admin.subject_key(unquote(phone)))
    except NotFound:
        raise ApiError(404, "not_found", "No such subscriber on this channel.") from None


@bp.route("/api/v1/subscribers/{phone}", methods=["DELETE"])
@json_errors
@staff_only(bp, "admin", "communications", "police")
def erase_subscriber(staff: Staff, phone: str):
    channel = staff_channel(staff, query_param(bp.current_request, "channel"))
    try:
        admin.erase(staff, channel, admin.subject_key(unquote(phone)))
    except NotFound:
        raise ApiError(404, "not_found", "No such subscriber on this channel.") from None
    return Response(body="", status_code=204)


@bp.route("/api/v1/subscribers/{phone}/consents", methods=["GET"])
@json_errors
@staff_only(bp, "admin", "communications", "police")
def subscriber_consents(staff: Staff, phone: str):
    channel_id = query_param(bp.current_request, "channel")
    channels = [staff_channel(staff, channel_id)] if channel_id else visible_channels(staff)
    try:
        key = admin.subject_key(unquote(phone))
    except NotFound:
        raise ApiError(404, "not_found", "Not a phone number.") from None
    return {"items": admin.consents(staff, channels, key)}


@bp.route("/api/v1/audit", methods=["GET"])
@json_errors
@staff_only(bp, "admin")
def audit_log(staff: Staff):
    """The latest staff accesses to personal data in this comune, newest first."""
    return {"items": admin.audit_trail(staff, page_limit(bp.current_request))}
