"""What the citizen portal shows: the comune's map set-up, its public reports and one report's status by token.

Nothing here is personal: every report is its public view (services/reports/public_view.py: no phone, name,
contact, free text of the citizen or address they typed, a generalised position, staff's public notes with phone
numbers and emails masked); photos only when staff published them, and then only their public copy (metadata
stripped), by a short-lived link. Safety tips never appear.
"""
from __future__ import annotations

from datetime import timedelta

from chalicelib.domain import geo
from chalicelib.domain.reports import Report
from chalicelib.domain.tenancy import Tenant
from chalicelib.services import clock
from chalicelib.services.reports import following, public_view
from chalicelib.store import directory
from chalicelib.store import reports as store

MAP_WINDOW = timedelta(days=90)  # reports created since then are on the map, like Open311's default window
MAP_MAX = 500  # newest first
HIDDEN_STATUSES = ("rejected", "duplicate")  # a refused report is not the comune's to show; a duplicate's original is
PHOTO_LINK_SECONDS = 900  # the map's answer may be cached a minute; links outlive that comfortably
MAX_TENANT_ID = 64
MAX_TOKEN = 64


def tenant(tenant_id: str) -> Tenant:
    """The comune, or LookupError (also for ids longer than any real one)."""
    found = directory.get_tenant(tenant_id) if len(tenant_id) <= MAX_TENANT_ID else None
    if found is None:
        raise LookupError("tenant")
    return found


def comune(tenant_id: str) -> dict:
    """The portal's set-up: the comune's name, hamlets as GeoJSON outlines, categories, topics, channels."""
    found = tenant(tenant_id)
    channels = directory.channels_of(found.id)
    reports_channel = next((c for c in channels if c.kind == "reports"), None)
    broadcast = [c for c in channels if c.kind == "broadcast"]
    return {
        "tenant": found.id, "name": found.name,
        "privacy_notice_url": found.privacy_notice_url or None,
        "privacy_notice_version": found.privacy_notice_version or None,
        "hamlets": geo.hamlet_features(found.hamlets),
        "categories": [{"id": c.id, "name": c.name} for c in found.reports.categories],
        "topics": [{"id": t.id, "name": t.name} for t in found.topics],
        "reports_whatsapp": reports_channel.display_phone_number if reports_channel else None,
        "subscriptions": len(broadcast) == 1 and bool(broadcast[0].template("subscription_confirm")),
        "follow_on_whatsapp": following.channel_of(found) is not None,
    }


def public_reports(tenant_id: str) -> dict:
    """The map: the comune's recent reports (not tips, not rejected or duplicate ones), newest first."""
    found = tenant(tenant_id)
    now = clock.now()
    items = []
    for report in store.all_of(found.id, ("report",), since=now - MAP_WINDOW):
        if report.status in HIDDEN_STATUSES:
            continue
        items.append(_summary(found, report))
        if len(items) >= MAP_MAX:
            break
    return {"items": items, "generated_at": now.isoformat(timespec="seconds")}


def status(tenant_id: str, token: str) -> dict:
    """One report as its citizen follows it (the WhatsApp receipt's link); LookupError when unknown."""
    found = tenant(tenant_id)
    report = store.by_token(token[:MAX_TOKEN]) if token else None
    if report is None or report.tenant_id != found.id or report.kind != "report":
        raise LookupError("report")
    view = public_view.of(found, report)
    original = store.get(found.id, view.duplicate_of) if view.duplicate_of else None
    events = [{"at": e.at.isoformat(), "status": e.status, "status_label": e.status_label, "note": e.note}
              for e in view.events]
    return {**_summary(found, report), "comune": found.name, "events": events,
            "duplicate_of": original.number if original else None}


def _summary(found: Tenant, report: Report) -> dict:
    view = public_view.of(found, report)
    return {
        "id": view.report_id, "number": view.number, "category": view.category, "category_name": view.category_name,
        "hamlet": view.hamlet, "hamlet_name": view.hamlet_name,
        "title": view.title, "description": view.description,
        "status": view.status, "status_label": view.status_label, "open": view.open,
        "created_at": view.created_at.isoformat(timespec="seconds"),
        "updated_at": view.updated_at.isoformat(timespec="seconds"),
        "location": {"latitude": view.latitude, "longitude": view.longitude} if view.latitude is not None else None,
        "photos": published_photos(report),
    }


def published_photos(report: Report) -> list[dict]:
    """Links to the public copies of the photos staff published (the redacted copy when staff drew boxes on it);
    never an original, never a tip's."""
    from chalicelib.store import media

    if report.kind != "report":
        return []
    return [{"id": p.id, "content_type": p.content_type,
             "url": media.presigned_url(p.redacted_key or p.public_key, PHOTO_LINK_SECONDS)}
            for p in report.photos if p.published and p.status == "stored" and p.public_key]
