"""The staff audit log: append-only, kept at least six months (the Garante asks for six)."""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from chalicelib.store.models import AuditModel

RETENTION = timedelta(days=400)


@dataclass(frozen=True)
class AuditEntry:
    tenant_id: str
    actor: str
    action: str
    target: str
    at: datetime
    request_id: str | None = None


def append(entry: AuditEntry) -> None:
    AuditModel(
        entry.tenant_id, f"{entry.at.isoformat()}#{uuid.uuid4().hex[:8]}", actor=entry.actor,
        action=entry.action, target=entry.target, request_id=entry.request_id,
        expires_at=entry.at + RETENTION,
    ).save(condition=AuditModel.at.does_not_exist())


def recent(tenant_id: str, limit: int = 100) -> list[AuditEntry]:
    return [
        AuditEntry(m.tenant_id, m.actor, m.action, m.target, datetime.fromisoformat(m.at.split("#")[0]),
                   m.request_id)
        for m in AuditModel.query(tenant_id, scan_index_forward=False, limit=limit)
    ]
