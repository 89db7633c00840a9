"""Vicinato and the police desk: a forwarded report becomes a safety report (kind safety, source vicinato) in the
existing Sicurezza desk, police only, with the zone, the coordinator's note and the urgent flag; the police's
statuses on it go back to the coordinator (and to the member, when public, as for any tip)."""
from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import datetime
from typing import Any

from chalicelib.domain import vicinato as rules
from chalicelib.domain.access import Role
from chalicelib.domain.reports import Event, Photo, Position, Report
from chalicelib.domain.tenancy import Channel, Tenant
from chalicelib.domain.vicinato import Case, CaseEvent
from chalicelib.observability import logger
from chalicelib.providers.base import Text
from chalicelib.services import clock
from chalicelib.services.replies import channel_text
from chalicelib.services.reports import arrivals
from chalicelib.store import audit, directory
from chalicelib.store import reports as reports_store
from chalicelib.store import vicinato as store

SOURCE = "vicinato"
# the police's steps on a forwarded report, as the coordinator reads them (it.json vicinato.police_status.*)
TOLD = ("triaged", "in_progress", "resolved", "rejected")


def _text(tenant: Tenant, channel: Channel, case: Case, note: str | None) -> str:
    zone = tenant.vicinato.zone(case.zone_id)
    return channel_text(tenant, channel, "vicinato.desk_text", zone=zone.name if zone else case.zone_id,
                        handle=case.handle, what=case.what, where=case.where, when=case.when,
                        description=case.description or "-", note=note or "-",
                        urgent=channel_text(tenant, channel, "vicinato.case_urgent") if case.urgent else "")[:3900]


def forward(tenant: Tenant, channel: Channel, case: Case, note: str | None, actor: str, now: datetime,
            reason: str | None = None) -> Report | None:
    """The case as a safety report in the police desk (once: a case that has one keeps it). reason: why it went
    without a coordinator's tap (no_coordinator, escalated, urgent)."""
    current = store.get_case(case.tenant_id, case.case_id) or case
    if current.safety_report_id:
        return reports_store.get(case.tenant_id, current.safety_report_id)
    if current.status == "queued":  # sent by the system (no coordinator, urgent, escalated): the case says so
        def mark(c: Case) -> Case | None:
            if not c.open:
                return None
            return replace(c, status="forwarded", stage="referent", due_at=None, forwarded_at=now, handler_key=None,
                           coordinator_note=note, expires_at=now + _days(tenant.vicinato.report_days),
                           events=(*c.events, CaseEvent(at=now, actor=actor, action="forwarded",
                                                        data={"reason": reason} if reason else {}))
                           [-rules.MAX_CASE_EVENTS:])
        current = store.change_case(case.tenant_id, case.case_id, mark) or store.get_case(case.tenant_id,
                                                                                          case.case_id) or case
    zone = tenant.vicinato.zone(case.zone_id)
    citizen_key = case.member_key.partition("#")[2]
    position = Position(case.position["latitude"], case.position["longitude"], case.position.get("address")) \
        if case.position else None
    data: dict[str, Any] = {"vicinato": case.case_id, "zone": case.zone_id, "zone_name": zone.name if zone else None,
                            "handle": case.handle, "note": note, "urgent": case.urgent, "reason": reason}
    photos = tuple(Photo(id=p["id"], status="stored", original_key=p["key"], content_type=p.get("content_type"),
                         size=p.get("size")) for p in case.photos)
    referent = _referent(tenant.id, zone.police_referent if zone else "")
    report = reports_store.open_report(
        tenant.id, "safety", now, source=SOURCE, channel_id=case.channel_id, citizen_key=citizen_key,
        contact={}, text=_text(tenant, channel, case, note), hamlet=zone.hamlet if zone else None,
        position=position, address=case.where[:200] or None, photos=photos, last_citizen_at=case.created_at,
        assignee=referent[0] if referent else None, assignee_name=referent[1] if referent else None,
        zone=case.zone_id,
        events=(Event(at=now, actor="system", action="created", status="new",
                      data={k: v for k, v in data.items() if v not in (None, "", False)}),),
    )
    store.change_case(case.tenant_id, case.case_id, lambda c: replace(c, safety_report_id=report.report_id))
    arrivals.announce(report)
    if case.urgent:
        arrivals.alert_on_call(tenant, channel, report, "urgente")
    audit.append(audit.AuditEntry(tenant_id=tenant.id, actor="vicinato", action="vicinato.police_desk",
                                  target=report.report_id, at=now, actor_name="Vicinato"))
    logger.info("vicinato case forwarded", extra={"case": case.case_id, "report": report.report_id})
    return report


def _referent(tenant_id: str, subject: str) -> tuple[str, str] | None:
    """The zone's police referent (subject, name) when they are on the comune's roster with the police role."""
    if not subject:
        return None
    from chalicelib.store import staff

    member = staff.get(tenant_id, subject)
    if member is None or Role.POLICE.value not in member.roles:
        return None
    return member.subject, member.name


def _days(days: int):
    from datetime import timedelta

    return timedelta(days=days)


def case_of(report: Report) -> str | None:
    """The Vicinato case a safety report came from."""
    if report.source != SOURCE or not report.events:
        return None
    return report.events[0].data.get("vicinato")


def photo_added(tenant: Tenant, case: Case, photo: dict) -> None:
    """A photo that came after forwarding joins the police's report too."""
    if not case.safety_report_id:
        return
    entry = Photo(id=photo["id"], status="stored", original_key=photo["key"], content_type=photo.get("content_type"),
                  size=photo.get("size"))

    def edit(current: Report) -> Report:
        if any(p.id == entry.id for p in current.photos):
            return current
        event = Event(at=clock.now(), actor="citizen", action="photo", data={"photo": entry.id, "status": "stored"})
        return reports_store.with_event(current, event, photos=(*current.photos, entry))
    reports_store.change(tenant.id, case.safety_report_id, edit)


def status_changed(tenant: Tenant, report: Report, event: Event) -> None:
    """The police moved a forwarded report: the coordinator (or stand-in) who holds the case is told, by handle and
    the police's label; never the police's internal note. Never raises: the police's step is saved."""
    case_id = case_of(report)
    if not case_id or event.status not in TOLD:
        return
    try:
        _tell_coordinator(tenant, report, event, case_id)
    except Exception:
        logger.exception("vicinato: the coordinator was not told", extra={"report": report.report_id})


def _tell_coordinator(tenant: Tenant, report: Report, event: Event, case_id: str) -> None:
    from chalicelib.services.vicinato import relay, sending

    case = store.get_case(tenant.id, case_id)
    channel = directory.get_channel(report.channel_id) if report.channel_id else None
    if case is None or channel is None:
        return
    now = clock.now()
    store.change_case(tenant.id, case_id, lambda c: replace(c, events=(*c.events, CaseEvent(
        at=now, actor="police_desk", action="police_status", data={"status": event.status}))[-rules.MAX_CASE_EVENTS:]))
    holder = store.get_person(tenant.id, case.handler_key) if case.handler_key else None
    if holder is None or not holder.coordinates:
        coordinator, stand_in = relay.handlers_of(tenant.id, case.zone_id)
        holder = coordinator or stand_in
    if holder is None:
        return
    outcome = channel_text(tenant, channel, f"vicinato.outcome.{report.outcome}") if report.outcome else ""
    text = channel_text(tenant, channel, "vicinato.police_news", number=report.number, handle=case.handle,
                        status=channel_text(tenant, channel, f"vicinato.police_status.{event.status}"),
                        outcome=outcome)
    place = len(report.events)
    job = "vic-police-" + hashlib.sha256(f"{tenant.id}|{report.report_id}|{place}".encode()).hexdigest()[:32]
    sending.to_person(tenant, channel, holder, [Text(body=text)], job_id=job, now=now)


def cases(tenant: Tenant, zone: str | None, status: str | None, limit: int = 200) -> list[dict[str, Any]]:
    """The relay's cases for the police (newest first): by handle; the member's identity is on the desk's report."""
    found = [c for c in store.cases(tenant.id) if (zone is None or c.zone_id == zone)
             and (status is None or c.status == status)]
    found.sort(key=lambda c: c.case_id, reverse=True)
    return [case_view(tenant, c) for c in found[:limit]]


def case_view(tenant: Tenant, case: Case) -> dict[str, Any]:
    from chalicelib.services.vicinato import photos

    zone = tenant.vicinato.zone(case.zone_id)
    return {
        "id": case.case_id, "zone": case.zone_id, "zone_name": zone.name if zone else None, "handle": case.handle,
        "what": case.what, "where": case.where, "when": case.when, "description": case.description,
        "position": case.position, "urgent": case.urgent, "status": case.status, "stage": case.stage,
        "archive_reason": case.archive_reason, "coordinator_note": case.coordinator_note,
        "report_id": case.safety_report_id, "broadcast_id": case.broadcast_id,
        "created_at": case.created_at.isoformat() if case.created_at else None,
        "forwarded_at": case.forwarded_at.isoformat() if case.forwarded_at else None,
        "photos": [{"id": p["id"], "url": photos.link(p["key"], photos.STAFF_LINK_SECONDS)} for p in case.photos],
        "events": [{"at": e.at.isoformat(), "actor": e.actor, "action": e.action, **({"data": e.data} if e.data else {})}
                   for e in case.events],
    }
