"""The staff audit log: append-only, kept 400 days, never less than six months (the Garante asks for six)."""
from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from chalicelib.store.models import AuditModel

# The Garante (provv. 27 Nov 2008, "amministratori di sistema") asks for access logs kept at least six months;
# 400 days covers that and a yearly review. Not a tenant setting: no comune may go below the minimum.
MINIMUM_RETENTION = timedelta(days=183)
RETENTION = timedelta(days=400)
_IN_MAX = 90  # DynamoDB's IN takes at most 100 operands
CHANGE_MAX = 32_000  # characters of a change's before and after kept (an item holds 400 KB); beyond, cut and marked


@dataclass(frozen=True)
class AuditEntry:
    tenant_id: str
    actor: str  # the identity provider's id (Cognito's sub), or a system actor ("external:...")
    action: str
    target: str
    at: datetime
    request_id: str | None = None
    actor_name: str | None = None  # what the audit views show: the staff member's display name then
    before: Any = None  # a change's value before and after (settings, roles...); None for a read
    after: Any = None


def append(entry: AuditEntry) -> None:
    AuditModel(
        entry.tenant_id, f"{entry.at.isoformat()}#{uuid.uuid4().hex[:8]}", actor=entry.actor,
        action=entry.action, target=entry.target, request_id=entry.request_id, actor_name=entry.actor_name,
        change=_change_text(entry.before, entry.after), expires_at=entry.at + RETENTION,
    ).save(condition=AuditModel.at.does_not_exist())


def _change_text(before: Any, after: Any) -> str | None:
    if before is None and after is None:
        return None
    text = json.dumps({"before": before, "after": after}, ensure_ascii=False, sort_keys=True, default=str)
    if len(text) > CHANGE_MAX:  # still JSON: the viewer shows what fits and says it was cut
        text = json.dumps({"truncated": True, "text": text[:CHANGE_MAX]}, ensure_ascii=False)
    return text


def entry_of(model: AuditModel) -> AuditEntry:
    change = json.loads(model.change) if model.change else {}
    return AuditEntry(model.tenant_id, model.actor, model.action, model.target,
                      datetime.fromisoformat(model.at.split("#")[0]), model.request_id, model.actor_name,
                      change.get("before"), change.get("after"))


def recent(tenant_id: str, limit: int = 100) -> list[AuditEntry]:
    return [entry_of(m) for m in AuditModel.query(tenant_id, scan_index_forward=False, limit=limit)]



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
    return [entry_of(m) for m in AuditModel.query(tenant_id, filter_condition=condition)]


def newest_first(tenant_id: str, start: str, end: str, before: str | None = None) -> Iterator[AuditModel]:
    """A tenant's entries whose `at` lies in [start, end) (ISO times in UTC), newest first, from just before the
    `at` of `before` (a cursor) when given: a key condition on the range key, never a scan. Lazily paged."""
    last_key = {"tenant_id": {"S": tenant_id}, "at": {"S": before}} if before else None
    return AuditModel.query(tenant_id, AuditModel.at.between(start, end), scan_index_forward=False,
                            last_evaluated_key=last_key, page_size=200)


def _holding(tenant_id: str, forms: list[str]) -> Iterator[AuditModel]:
    """The tenant's entries whose target or change holds one of forms: a Query of its partition with a filter
    (erasures are rare)."""
    condition = None
    for form in forms:
        part = AuditModel.target.contains(form) | AuditModel.change.contains(form)
        condition = part if condition is None else condition | part
    return AuditModel.query(tenant_id, filter_condition=condition) if condition is not None else iter(())


def count_holding(tenant_id: str, forms: Iterable[str]) -> int:
    return sum(1 for _ in _holding(tenant_id, [f for f in dict.fromkeys(forms) if f]))


def redact(tenant_id: str, forms: Iterable[str], replace: Callable[[str], str]) -> int:
    """Rewrite every entry of the tenant whose target or change holds one of forms (a number's writings) with
    replace (the erasure's pseudonym in its place); returns how many changed. The one exception to append-only:
    an erased number must leave the log too (docs/decisions.md)."""
    changed = 0
    for model in _holding(tenant_id, [f for f in dict.fromkeys(forms) if f]):
        actions = [AuditModel.target.set(replace(model.target))]
        if model.change:
            actions.append(AuditModel.change.set(replace(model.change)))
        model.update(actions=actions)
        changed += 1
    return changed
