"""The staff of each comune as the system knows them: whoever signed in to the console, with the name and roles
their token gave. Reports are assigned to these people; the identity provider (Cognito) stays the authority."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from chalicelib.domain.access import Staff, parse_roles
from chalicelib.store.models import StaffModel

# A member who has not signed in for this long is forgotten (no longer offered as an assignee); reports keep the
# name they were assigned under.
FORGET_AFTER = timedelta(days=400)
MAX_STAFF = 500  # a comune's staff listed at most: a small town has tens


@dataclass(frozen=True)
class Member:
    tenant_id: str
    subject: str
    name: str
    roles: tuple[str, ...]
    seen_at: datetime

    def as_staff(self) -> Staff:
        """What this member may do, from the roles their last sign-in gave (who may be put in charge of what)."""
        return Staff(subject=self.subject, tenant_id=self.tenant_id, roles=parse_roles(self.roles), name=self.name)


def remember(member: Member) -> None:
    """Record (or refresh) a staff member; one write per console sign-in."""
    StaffModel(member.tenant_id, member.subject, name=member.name, roles=list(member.roles), seen_at=member.seen_at,
               expires_at=member.seen_at + FORGET_AFTER).save()


def get(tenant_id: str, subject: str) -> Member | None:
    try:
        return _member(StaffModel.get(tenant_id, subject))
    except StaffModel.DoesNotExist:
        return None


def of_tenant(tenant_id: str) -> list[Member]:
    return [_member(m) for m in StaffModel.query(tenant_id, limit=MAX_STAFF)]


def _member(model: StaffModel) -> Member:
    return Member(model.tenant_id, model.subject, model.name, tuple(model.roles or ()), model.seen_at)
