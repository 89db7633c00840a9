"""The staff API under /api/v1: who am I, channels, subscribers and their consent ledger (the audit log: api/audit.py)."""
from __future__ import annotations

from urllib.parse import unquote

from chalice import Blueprint, Response

from chalicelib.api import lazy
from chalicelib.api.auth import staff_only
from chalicelib.api.http import ApiError, json_errors, page_limit, parse_body, query_param
from chalicelib.api.openapi import DEMO_BROADCAST, documented
from chalicelib.domain.access import Capability, Staff

subscription_rules = lazy("chalicelib.domain.subscriptions")
access = lazy("chalicelib.services.access")
desk = lazy("chalicelib.services.reports.desk")
subscribers = lazy("chalicelib.services.subscriptions.subscribers")

bp = Blueprint(__name__)
SUBSCRIBER_LINKS = {operation: {"path.phone": "$response.body#/phone", "query.channel": "$response.body#/channel"}
                    for operation in ("readSubscriber", "listConsents", "eraseSubscriber")}
MAX_CHANNEL_ID = 64  # a phone_number_id; a longer one is no channel (and over DynamoDB's key limit)


def staff_channel(staff: Staff, channel_id: str | None, default_kind: str | None = "broadcast"):
    """The channel a staff request names (or the comune's one channel of default_kind), as 404 or 403 answers."""
    if channel_id and len(channel_id) > MAX_CHANNEL_ID:
        raise ApiError(404, "not_found", "No such channel for your comune.")
    try:
        return access.channel_for(staff, channel_id, kind=None if channel_id else default_kind)
    except access.NotFound:
        raise ApiError(404, "not_found", "No such channel for your comune.") from None
    except access.Forbidden as exc:
        raise ApiError(403, "forbidden", f"Your roles do not give access to the {exc} channel.") from None


@bp.route("/api/v1/me", methods=["GET"])
@documented({200: "Me"})
@json_errors
@staff_only(bp)
def me(staff: Staff):
    """Who the token belongs to: name, tenant, roles and what they open. The console asks at sign-in: the member
    joins the comune's roster (the administration's staff list, with their last sign-in), and one whose roles reach
    reports or tips can be put in charge of them from then on."""
    desk.remember(staff)
    return {"subject": staff.subject, "name": staff.name, "email": staff.email, "tenant": staff.tenant_id,
            "roles": sorted(staff.roles), "can": sorted(staff.capabilities)}


@bp.route("/api/v1/channels", methods=["GET"])
@documented({200: "ChannelList"})
@json_errors
@staff_only(bp)
def list_channels(staff: Staff):
    """The comune's channels the caller's roles reach."""
    return {"items": [{"phone_number_id": c.phone_number_id, "kind": c.kind, "name": c.name,
                       "display_phone_number": c.display_phone_number, "templates": c.approved_templates()}
                      for c in access.visible_channels(staff)]}


@bp.route("/api/v1/subscribers", methods=["GET"])
@documented({200: "SubscriberPage"}, query="SubscriberQuery", errors=(404, 422))
@json_errors
@staff_only(bp, Capability.SUBSCRIBERS)
def list_subscribers(staff: Staff):
    """A page of a channel's subscribers (audited)."""
    request = bp.current_request
    channel = staff_channel(staff, query_param(request, "channel"))
    status = query_param(request, "status")
    if status is not None and status not in subscription_rules.STATUSES:
        raise ApiError(422, "invalid_request", f"status must be one of: {', '.join(subscription_rules.STATUSES)}.")
    try:
        items, cursor = subscribers.list_page(staff, channel, status, query_param(request, "q"), page_limit(request),
                                        query_param(request, "cursor"))
    except ValueError:
        raise ApiError(422, "invalid_request", "The cursor is not valid.") from None
    return {"items": items, "next": cursor}


@bp.route("/api/v1/subscribers", methods=["POST"])
@documented({200: "Subscriber", 201: "Subscriber"}, body="chalicelib.services.subscriptions.subscribers:NewSubscriber",
            errors=(404,), links=SUBSCRIBER_LINKS,
            example={"channel": DEMO_BROADCAST, "phone": "+39 335 139 7378", "hamlets": ["pieve"], "topics": ["allerte"]})
@json_errors
@staff_only(bp, Capability.SUBSCRIBERS)
def add_subscriber(staff: Staff):
    """Add (201) or update (200) a subscriber the comune holds consent for; on a safety channel, a registered
    resident (name, address, hamlet)."""
    data = parse_body(bp.current_request, subscribers.NewSubscriber)
    channel = staff_channel(staff, data.channel)
    try:
        subscriber, created = subscribers.add(staff, access.tenant_of(staff), channel, data)
    except subscribers.InvalidSubscriber as exc:
        raise ApiError(422, "invalid_subscriber", str(exc)) from None
    return Response(body=subscriber, status_code=201 if created else 200)


@bp.route("/api/v1/subscribers/import", methods=["POST"], content_types=["text/csv", "text/plain"])
@documented({200: "ImportResult"}, body="SubscriberFile", query="ChannelQuery", errors=(404, 422))
@json_errors
@staff_only(bp, Capability.SUBSCRIBERS)
def import_subscribers(staff: Staff):
    """Add residents from a CSV file; one result per row."""
    request = bp.current_request
    channel = staff_channel(staff, query_param(request, "channel"))
    try:
        text = (request.raw_body or b"").decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ApiError(422, "invalid_csv", "The file must be UTF-8 text.") from None
    try:
        rows = subscribers.import_csv(staff, access.tenant_of(staff), channel, text)
    except subscribers.InvalidSubscriber as exc:
        raise ApiError(422, "invalid_csv", str(exc)) from None
    summary = {k: sum(1 for r in rows if r.result == k) for k in ("created", "updated", "error")}
    return {"summary": summary, "rows": [{k: v for k, v in r.__dict__.items() if v is not None} for r in rows]}


@bp.route("/api/v1/subscribers/{phone}", methods=["GET"])
@documented({200: "Subscriber"}, query="ChannelQuery", errors=(404,))
@json_errors
@staff_only(bp, Capability.SUBSCRIBERS)
def read_subscriber(staff: Staff, phone: str):
    """One subscriber (audited)."""
    channel = staff_channel(staff, query_param(bp.current_request, "channel"))
    try:
        return subscribers.read(staff, channel, subscribers.subject_key(unquote(phone)))
    except access.NotFound:
        raise ApiError(404, "not_found", "No such subscriber on this channel.") from None


@bp.route("/api/v1/subscribers/{phone}", methods=["DELETE"])
@documented({204: None}, query="ChannelQuery", errors=(404,))
@json_errors
@staff_only(bp, Capability.SUBSCRIBERS)
def erase_subscriber(staff: Staff, phone: str):
    """Erase a subscriber; the consent ledger records it, and on a reports or safety channel their reports are
    anonymised."""
    channel = staff_channel(staff, query_param(bp.current_request, "channel"))
    try:
        subscribers.erase(staff, channel, subscribers.subject_key(unquote(phone)))
    except access.NotFound:
        raise ApiError(404, "not_found", "No such subscriber on this channel.") from None
    return Response(body="", status_code=204)


@bp.route("/api/v1/subscribers/{phone}/consents", methods=["GET"])
@documented({200: "ConsentList"}, query="ConsentQuery", errors=(404,))
@json_errors
@staff_only(bp, Capability.SUBSCRIBERS)
def list_consents(staff: Staff, phone: str):
    """The consent ledger of a citizen, oldest first (audited)."""
    channel_id = query_param(bp.current_request, "channel")
    channels = [staff_channel(staff, channel_id)] if channel_id else access.visible_channels(staff)
    try:
        key = subscribers.subject_key(unquote(phone))
    except access.NotFound:
        raise ApiError(404, "not_found", "Not a phone number.") from None
    return {"items": subscribers.consents(staff, channels, key)}
