"""The staff API for broadcasts: compose, list, read, preview, and schedule/cancel/pause/resume."""
from __future__ import annotations

from typing import TYPE_CHECKING

from chalice import Blueprint, Response

from chalicelib.api import lazy
from chalicelib.api.auth import staff_only
from chalicelib.api.http import ApiError, json_errors, page_limit, parse_body, query_param
from chalicelib.api.limits import per_subject
from chalicelib.api.openapi import DEMO_BROADCAST, documented
from chalicelib.api.staff import staff_channel
from chalicelib.domain.access import Capability, Staff
from chalicelib.services.abuse import Limit

if TYPE_CHECKING:
    from chalicelib.store.broadcasts import Broadcast

access = lazy("chalicelib.services.access")
compose = lazy("chalicelib.services.broadcasts.compose")
preview = lazy("chalicelib.services.broadcasts.preview")
broadcasts = lazy("chalicelib.store.broadcasts")

bp = Blueprint(__name__)
BROADCAST_LINKS = {operation: {"path.broadcast_id": "$response.body#/id"}
                   for operation in ("readBroadcast", "previewBroadcast", "actOnBroadcast")}
NEW_BROADCAST = {"channel": DEMO_BROADCAST, "text": "Via Roma chiusa per lavori fino alle 18",
                 "audience": {"hamlets": ["pieve"], "topics": []}, "priority": "normal", "draft": True}


def view(b: Broadcast) -> dict:
    c = b.counters
    progress = round(100 * c.settled / c.recipients, 1) if c.recipients else (100.0 if b.status == "completed" else 0.0)
    return {
        "id": b.id, "channel": b.channel_id, "status": b.status, "content": b.content,
        "audience": {"hamlets": list(b.audience.hamlets), "topics": list(b.audience.topics)},
        "priority": b.priority, "send_at": b.send_at, "due_at": b.due_at, "created_by": b.created_by,
        "created_at": b.created_at, "started_at": b.started_at, "finished_at": b.finished_at,
        "pause_reason": b.pause_reason, "fanout_done": b.fanout_done, "progress": progress,
        "counters": {"recipients": c.recipients, "sent": c.sent, "delivered": c.delivered, "read": c.read,
                     "failed": c.failed, "skipped": c.skipped, "ambiguous": c.ambiguous,
                     "failed_by_reason": c.failed_by_reason},
    }


def _broadcast(staff: Staff, broadcast_id: str) -> Broadcast:
    found = broadcasts.get(staff.tenant_id, broadcast_id) if len(broadcast_id) < 80 else None
    if found is None:
        raise ApiError(404, "not_found", "No such broadcast for your comune.")
    return found


@bp.route("/api/v1/broadcasts", methods=["POST"], content_types=["application/json"])
@documented({201: "Broadcast"}, body="chalicelib.services.broadcasts.compose:NewBroadcast",
            example=NEW_BROADCAST, errors=(404,), links=BROADCAST_LINKS)
@json_errors
@staff_only(bp, Capability.BROADCASTS)
def create_broadcast(staff: Staff):
    """Compose a broadcast: now, at send_at, or a draft. A normal one due in quiet hours waits for their end
    (status scheduled, due_at)."""
    data = parse_body(bp.current_request, compose.NewBroadcast)
    channel = staff_channel(staff, data.channel)
    tenant = access.tenant_of(staff)
    _creation_caps(staff, tenant)
    try:
        created = compose.create(staff, tenant, channel, data)
    except compose.Refused as exc:
        raise ApiError(422, "invalid_broadcast", str(exc)) from None
    access.record(staff, "broadcast.create", created.id)
    return Response(body=view(created), status_code=201)


def _creation_caps(staff: Staff, tenant) -> None:
    """Broadcasts created per staff member per hour and per comune per day (the `limits` setting): a script or
    a stuck button in a loop gets 429s, not thousands of drafts."""
    limits = tenant.limits
    per_subject(Limit("broadcasts-user", limits.broadcasts_per_user_per_hour, 3600), f"{tenant.id}:{staff.subject}",
                f"You created {limits.broadcasts_per_user_per_hour} broadcasts in the last hour: retry later.")
    per_subject(Limit("broadcasts-comune", limits.broadcasts_per_day, 86400), tenant.id,
                f"Your comune created {limits.broadcasts_per_day} broadcasts today: retry later.")


@bp.route("/api/v1/broadcasts", methods=["GET"])
@documented({200: "BroadcastPage"}, query="BroadcastQuery", errors=(422,))
@json_errors
@staff_only(bp, Capability.BROADCASTS)
def list_broadcasts(staff: Staff):
    """Broadcasts, newest first, with progress and counters."""
    request = bp.current_request
    try:
        items, cursor = broadcasts.page(staff.tenant_id, page_limit(request, 20), query_param(request, "cursor"))
    except ValueError:
        raise ApiError(422, "invalid_request", "The cursor is not valid.") from None
    return {"items": [view(b) for b in items], "next": cursor}


@bp.route("/api/v1/broadcasts/{broadcast_id}", methods=["GET"])
@documented({200: "Broadcast"}, errors=(404,))
@json_errors
@staff_only(bp, Capability.BROADCASTS)
def read_broadcast(staff: Staff, broadcast_id: str):
    """One broadcast."""
    return view(_broadcast(staff, broadcast_id))


@bp.route("/api/v1/broadcasts/{broadcast_id}/preview", methods=["POST"])
@documented({200: "Preview"}, errors=(404,))
@json_errors
@staff_only(bp, Capability.BROADCASTS)
def preview_broadcast(staff: Staff, broadcast_id: str):
    """Who it reaches and WhatsApp's pre-flight: template, 24-hour window, messaging limit, duration."""
    found = _broadcast(staff, broadcast_id)
    return preview.preview(found, staff_channel(staff, found.channel_id), access.tenant_of(staff))


@bp.route("/api/v1/broadcasts/{broadcast_id}/{action}", methods=["POST"])
@documented({200: "Broadcast"}, errors=(404, 409))
@json_errors
@staff_only(bp, Capability.BROADCASTS)
def act_on_broadcast(staff: Staff, broadcast_id: str, action: str):
    """schedule a draft; cancel; pause; resume a paused one."""
    if action not in ("schedule", "cancel", "pause", "resume"):
        raise ApiError(404, "not_found", "Actions are schedule, cancel, pause and resume.")
    found = _broadcast(staff, broadcast_id)
    try:
        changed = compose.act(found, action, staff_channel(staff, found.channel_id))
    except compose.Refused as exc:
        raise ApiError(409, "conflict", str(exc)) from None
    access.record(staff, f"broadcast.{action}", found.id)
    return view(changed)
