"""Vicinato's schedules (app.py): escalation of the reports nobody acted on in time (coordinator -> stand-in ->
police referent), and the retention sweep (ID photos after the decision plus the tenant's days, the photos of cases
that expired)."""
from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import timedelta

from chalicelib.domain import vicinato as rules
from chalicelib.domain.vicinato import Case, CaseEvent
from chalicelib.observability import logger
from chalicelib.services import clock
from chalicelib.store import audit, directory, media
from chalicelib.store import vicinato as store

BATCH = 100


def escalate() -> dict[str, int]:
    """Each case whose holder did not act in time moves one stage on, with a versioned write: a second run (or a
    coordinator's tap at the same moment) finds it moved and does nothing."""
    from chalicelib.services.vicinato import police, relay, sending

    now = clock.now()
    moved = {"stand_in": 0, "referent": 0}
    for case in store.due_cases(now, BATCH):
        tenant = directory.get_tenant(case.tenant_id)
        channel = directory.get_channel(case.channel_id)
        if tenant is None or channel is None:
            continue
        settings = tenant.vicinato
        _, stand_in = relay.handlers_of(tenant.id, case.zone_id)
        stage = case.stage
        target = "stand_in" if stage == "coordinator" and stand_in is not None and stand_in.key != case.handler_key \
            else "referent"

        claimed = store.change_case(case.tenant_id, case.case_id, _step(stage, target, stand_in, settings, now))
        if claimed is None:
            continue
        audit.append(audit.AuditEntry(tenant_id=tenant.id, actor="vicinato", action="vicinato.escalated",
                                      target=f"{case.case_id} -> {target}", at=now, actor_name="Vicinato"))
        if target == "stand_in":
            job = "vic-esc-" + hashlib.sha256(f"{case.tenant_id}|{case.case_id}|stand_in".encode()).hexdigest()[:32]
            sending.to_person(tenant, channel, stand_in, relay.case_message(tenant, channel, claimed, escalated=True),
                              job_id=job, now=now)
        else:
            police.forward(tenant, channel, claimed, note=None, actor="system", now=now, reason="escalated")
        moved[target] += 1
    if any(moved.values()):
        logger.info("vicinato escalation", extra=moved)
    return moved


def _step(stage: str, target: str, stand_in, settings, now):
    """The versioned edit that moves a case on, or None when it was acted on or moved meanwhile."""
    def edit(current: Case) -> Case | None:
        if not current.open or current.stage != stage or current.due_at is None or current.due_at > now:
            return None  # acted on, or moved by another run
        event = CaseEvent(at=now, actor="system", action="escalated", data={"to": target})
        if target == "stand_in":
            return replace(current, stage="stand_in", handler_key=stand_in.key,
                           due_at=now + rules.escalation("coordinator", settings)[1],
                           events=(*current.events, event)[-rules.MAX_CASE_EVENTS:])
        return replace(current, due_at=None, events=(*current.events, event)[-rules.MAX_CASE_EVENTS:])
    return edit


def _forget(key: str, now):
    def edit(current):
        if current is None or current.id_photo_key != key:
            return None
        return replace(current, id_photo_key=None, id_photo_delete_at=None, updated_at=now)
    return edit


def sweep() -> dict[str, int]:
    """ID photos past their time (decided + id_photo_days), and the photo folders of cases that expired."""
    now = clock.now()
    deleted = {"id_photos": 0}
    for person in store.photos_due(now, BATCH):
        key = person.id_photo_key

        if key:
            media.delete_keys([key])
        store.change_person(person.tenant_id, person.key, _forget(key, now))
        deleted["id_photos"] += 1
    deleted["case_photos"] = _orphan_case_photos(now - timedelta(days=1))
    if any(deleted.values()):
        logger.info("vicinato sweep", extra=deleted)
    return deleted


def _orphan_case_photos(older_than) -> int:
    """Photos of cases the TTL removed (DynamoDB deletes the item, not its photos)."""
    folders: dict[tuple[str, str], list[str]] = {}
    for item in media._objects("tenants/"):
        parts = item["Key"].split("/")
        if len(parts) >= 6 and parts[2] == "vicinato" and parts[3] == "cases" and item["LastModified"] < older_than:
            folders.setdefault((parts[1], parts[4]), []).append(item["Key"])
    orphans = [key for (tenant_id, case_id), keys in folders.items() if store.get_case(tenant_id, case_id) is None
               for key in keys]
    media.delete_keys(orphans)
    return len(orphans)
