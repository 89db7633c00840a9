"""Allerte: the console's overview (/api/v1/alerts) and the CAP push endpoint partners POST to
(/alerts/v1/{tenant_id}/cap, authenticated like Open311 partners: a key whose SHA-256 the comune keeps)."""
from __future__ import annotations

import hashlib
import hmac

from chalice import Blueprint, Response

from chalicelib.api.auth import staff_only
from chalicelib.api.http import json_errors
from chalicelib.api.openapi import documented
from chalicelib.domain.access import Capability, Staff
from chalicelib.messages import text

bp = Blueprint(__name__)
PUSH_MAX_BYTES = 1_000_000  # the CAP document cap (domain/alerts.MAX_DOCUMENT_BYTES), checked before reading it


@bp.route("/api/v1/alerts", methods=["GET"])
@documented({200: "AlertsOverview"})
@json_errors
@staff_only(bp, Capability.BROADCASTS)
def alerts_overview(staff: Staff):
    """The comune's alerts: its feeds' state, the zones' current levels, the alert history with what each
    version made, and the drafts waiting for a person (approve one with POST /api/v1/broadcasts/{id}/schedule)."""
    from chalicelib.services.access import tenant_of
    from chalicelib.services.alerts import console

    return console.overview(tenant_of(staff))


def _answer(status: int, body: dict) -> Response:
    return Response(body=body, status_code=status, headers={"Content-Type": "application/json"})


@bp.route("/alerts/v1/{tenant_id}/cap", methods=["POST"],
          content_types=["application/xml", "text/xml", "application/cap+xml"])
def push_cap(tenant_id: str):
    """A partner (a Region, a Prefettura) pushes one CAP 1.2 document; 202 with the notices it made."""
    from chalicelib.domain.alerts import AlertRefused, cap_alert
    from chalicelib.services.alerts import notify
    from chalicelib.store import directory

    request = bp.current_request
    tenant = directory.get_tenant(tenant_id[:64]) if len(tenant_id) <= 64 else None
    key = request.headers.get("x-api-key") or (request.query_params or {}).get("api_key") or ""
    if tenant is None or not _partner(tenant, key):
        return _answer(403, {"error": "forbidden", "message": text("alerts.push.forbidden")})
    body = request.raw_body or b""
    if len(body) > PUSH_MAX_BYTES:
        return _answer(413, {"error": "too_large", "message": text("alerts.push.refused",
                                                                 reason="oltre 1 MB")})
    try:
        alert = cap_alert(body)
    except AlertRefused as refused:
        return _answer(400, {"error": "invalid_cap", "message": text("alerts.push.refused", reason=str(refused))})
    outcomes = notify.handle(tenant, [alert])
    made = [p["id"] for o in outcomes for p in o.planned]
    return _answer(202, {"broadcasts": made, "message": text("alerts.push.accepted", count=len(made))})


def _partner(tenant, key: str) -> str | None:
    if not key:
        return None
    digest = hashlib.sha256(key.encode()).hexdigest()
    return next((p.name for p in tenant.alerts.push_partners if hmac.compare_digest(p.key_sha256, digest)), None)
