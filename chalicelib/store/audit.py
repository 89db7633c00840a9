"""The staff audit log: append-only, kept 400 days, never less than six months (the Garante asks for six)."""
from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from chalicelib.store.models import AuditModel

# The Garante (provv. 27 Nov 2008, "amministratori di sistema") asks for access logs kept at least six months;
# 400 days covers that and a yearly review. Not a tenant setting: no comune may go below the minimum.
MINIMUM_RETENTION = timedelta(days=183)
RETENTION = timedelta(days=400)
_IN_MAX = 90  # DynamoDB's IN takes at most 100 operands


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



def naming(tenant_id: str, text: str, targets: Iterable[str] = ()) -> list[AuditEntry]:
    """Every entry of a tenant whose target contains text (a phone number) or is one of targets (report ids),
    oldest first: subject access. A Query of the tenant's whole partition with a filter; access requests are rare."""
    exact = list(dict.fromkeys(targets))
    conditions = [AuditModel.target.contains(text)] if text else []
    conditions += [AuditModel.target.is_in(*exact[i:i + _IN_MAX]) for i in range(0, len(exact), _IN_MAX)]
    if not conditions:
        return []
    condition = conditions[0]
    for part in conditions[1:]:
        condition |= part
    return [
        AuditEntry(m.tenant_id, m.actor, m.action, m.target, datetime.fromisoformat(m.at.split("#")[0]), m.request_id)
        for m in AuditModel.query(tenant_id, filter_condition=condition)
    ]
