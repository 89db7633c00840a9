"""Which staff may see which channel: tenant scoping and roles per channel kind, and the audit trail."""
from __future__ import annotations

from typing import Any

from chalicelib.domain.access import Staff
from chalicelib.domain.tenancy import Channel
from chalicelib.services import clock
from chalicelib.store import audit, directory


class NotFound(LookupError):
    """No such thing for this tenant (or not visible: the answer is the same, to leak nothing)."""


class Forbidden(PermissionError):
    """The thing exists for this tenant but the caller's roles do not reach it."""


def channel_for(staff: Staff, channel_id: str | None, kind: str | None = None) -> Channel:
    """The caller's channel by id, or the tenant's only channel of kind when no id is given."""
    if channel_id:
        channel = directory.get_channel(channel_id)
        if channel is None or channel.tenant_id != staff.tenant_id:
            raise NotFound("channel")
    else:
        candidates = [c for c in directory.channels_of(staff.tenant_id) if kind is None or c.kind == kind]
        if len(candidates) != 1:
            raise NotFound("channel")
        channel = candidates[0]
    if not staff.may_use_channel(channel.kind):
        raise Forbidden(channel.kind)
    return channel


def visible_channels(staff: Staff) -> list[Channel]:
    return [c for c in directory.channels_of(staff.tenant_id)
            if staff.may_use_channel(c.kind)]


def record(staff: Staff, action: str, target: str, request_id: str | None = None) -> None:
    """Write the audit entry before the data leaves: no entry, no answer."""
    audit.append(audit.AuditEntry(tenant_id=staff.tenant_id, actor=staff.subject, action=action, target=target,
                                  at=clock.now(), request_id=request_id, actor_name=staff.name))


def record_change(staff: Staff, action: str, target: str, before: Any, after: Any) -> None:
    """An administrator's change (settings, staff, templates...), with the value before and after it, as JSON
    values. Written before the change is saved: a change that fails half-way is still on the record."""
    audit.append(audit.AuditEntry(tenant_id=staff.tenant_id, actor=staff.subject, action=action, target=target,
                                  at=clock.now(), actor_name=staff.name, before=before, after=after))


def tenant_of(staff: Staff):
    tenant = directory.get_tenant(staff.tenant_id)
    if tenant is None:
        raise NotFound("tenant")
    return tenant
