"""The staff API the console adds: the comune's set-up, a live broadcast preview, subscribers over time."""
from __future__ import annotations

from chalice import Blueprint

from chalicelib.api import lazy
from chalicelib.api.auth import staff_only
from chalicelib.api.http import ApiError, json_errors, number_param, parse_body, query_param
from chalicelib.api.openapi import DEMO_BROADCAST, documented
from chalicelib.api.staff import staff_channel
from chalicelib.domain.access import Capability, Staff

access = lazy("chalicelib.services.access")
overview = lazy("chalicelib.services.admin.overview")
compose = lazy("chalicelib.services.broadcasts.compose")
preview = lazy("chalicelib.services.broadcasts.preview")

bp = Blueprint(__name__)


@bp.route("/api/v1/tenant", methods=["GET"])
@documented({200: "Tenant"}, errors=(404,))
@json_errors
@staff_only(bp)
def read_tenant(staff: Staff):
    """The caller's comune: hamlets (GeoJSON outlines), topics, report categories, teams and external bodies."""
    try:
        return overview.tenant_view(access.tenant_of(staff))
    except access.NotFound:
        raise ApiError(404, "not_found", "Your comune is not set up.") from None


@bp.route("/api/v1/broadcast-preview", methods=["POST"], content_types=["application/json"])
@documented({200: "Preview"}, body="chalicelib.services.broadcasts.compose:NewBroadcast", errors=(404,), example={
    "channel": DEMO_BROADCAST, "text": "Via Roma chiusa", "audience": {"hamlets": ["pieve"], "topics": []}})
@json_errors
@staff_only(bp, Capability.BROADCASTS)
def preview_new_broadcast(staff: Staff):
    """The preview of a broadcast as composed so far, saving nothing: audience and WhatsApp's pre-flight (the
    console's live count)."""
    data = parse_body(bp.current_request, compose.NewBroadcast)
    channel = staff_channel(staff, data.channel)
    tenant_record = access.tenant_of(staff)
    try:
        composed = compose.compose(staff, tenant_record, channel, data)
    except compose.Refused as exc:
        raise ApiError(422, "invalid_broadcast", str(exc)) from None
    return preview.preview(composed, channel, tenant_record)


@bp.route("/api/v1/stats/subscribers", methods=["GET"])
@documented({200: "SubscriberGrowth"}, query="GrowthQuery", errors=(404, 422))
@json_errors
@staff_only(bp, Capability.BROADCASTS)
def subscriber_growth(staff: Staff):
    """Active subscribers of a broadcast channel at the end of each recent ISO week (Europe/Rome), the current
    week last."""
    request = bp.current_request
    weeks = number_param(request, "weeks", 12, overview.MAX_WEEKS)
    channel = staff_channel(staff, query_param(request, "channel"))
    if channel.kind != "broadcast":
        raise ApiError(422, "invalid_request", "Subscribers over time are for a broadcast channel.")
    return overview.subscriber_growth(channel, weeks)
