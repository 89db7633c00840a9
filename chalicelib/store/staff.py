"""The staff of each comune as the system knows them (the roster): whoever signed in to the console, with the name
and roles their token gave, and whoever an administrator invited or changed. Reports are assigned to these people.
The identity provider (Cognito) stays the authority for signing in; once an administrator has managed a member, the
roster is the authority for their roles and whether they are enabled (services/admin/staff.py)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from pynamodb.connection import Connection
from pynamodb.exceptions import DoesNotExist, PutError, TransactWriteError, UpdateError
from pynamodb.transactions import TransactWrite

from chalicelib.domain.access import Role, Staff, parse_roles
from chalicelib.store.models import StaffModel, _region

# A member who has not signed in for this long is forgotten (no longer offered as an assignee); reports keep the
# name they were assigned under. A managed member (invited or changed by an administrator) is never forgotten.
FORGET_AFTER = timedelta(days=400)
MAX_STAFF = 500  # a comune's staff listed at most: a small town has tens


class Conflict(Exception):
    """The member changed meanwhile, already exists, or the change would leave the comune without an enabled
    administrator (another administrator's change came first)."""


@dataclass(frozen=True)
class Member:
    tenant_id: str
    subject: str
    name: str
    roles: tuple[str, ...]
    seen_at: datetime | None
    managed: bool = False
    enabled: bool = True
    teams: tuple[str, ...] = field(default=())
    email: str | None = None
    username: str | None = None
    invited_at: datetime | None = None

    def as_staff(self) -> Staff:
        """What this member may do, from the roles the roster gives (who may be put in charge of what)."""
        return Staff(subject=self.subject, tenant_id=self.tenant_id, roles=parse_roles(self.roles), name=self.name)

    @property
    def is_enabled_admin(self) -> bool:
        return self.enabled and Role.ADMIN.value in self.roles


def remember(member: Member) -> None:
    """Record (or refresh) a staff member at a console sign-in: one write. The token's roles are kept only for a
    member no administrator has managed; a managed member's roles, teams and state stay the roster's."""
    common = [StaffModel.name.set(member.name), StaffModel.seen_at.set(member.seen_at)]
    common += [StaffModel.username.set(member.username)] if member.username else []
    common += [StaffModel.email.set(member.email)] if member.email else []
    try:
        StaffModel(member.tenant_id, member.subject).update(
            actions=[*common, StaffModel.roles.set(list(member.roles)),
                     StaffModel.expires_at.set(member.seen_at + FORGET_AFTER)],
            condition=StaffModel.managed.does_not_exist() | (StaffModel.managed == False))  # noqa: E712
    except UpdateError as error:
        if not _condition_failed(error):
            raise
        StaffModel(member.tenant_id, member.subject).update(actions=common)


def get(tenant_id: str, subject: str) -> Member | None:
    try:
        return _member(StaffModel.get(tenant_id, subject))
    except DoesNotExist:
        return None


def of_tenant(tenant_id: str) -> list[Member]:
    return [_member(m) for m in StaffModel.query(tenant_id, limit=MAX_STAFF)]


def add(member: Member) -> None:
    """A member invited by an administrator: a new item (Conflict when the subject is already there)."""
    try:
        StaffModel(member.tenant_id, member.subject, name=member.name, roles=list(member.roles), managed=True,
                   enabled=member.enabled, teams=list(member.teams), email=member.email, username=member.username,
                   invited_at=member.invited_at).save(condition=StaffModel.subject.does_not_exist())
    except PutError as error:
        if _condition_failed(error):
            raise Conflict("exists") from None
        raise


def replace(before: Member, after: Member, keeper: Member | None) -> None:
    """Save an administrator's change of one member, as one transaction: only if the member is still as `before`
    (roles and enabled), and, when `keeper` is given, only if that other member is still an enabled administrator,
    so two administrators taking each other's admin role at once cannot both succeed (the comune keeps one)."""
    target = StaffModel(after.tenant_id, after.subject)
    unchanged = (StaffModel.roles == list(before.roles)) & _is_enabled(before.enabled)
    try:
        with TransactWrite(connection=Connection(region=_region())) as transaction:
            if keeper is not None:
                transaction.condition_check(
                    StaffModel, keeper.tenant_id, keeper.subject,
                    condition=_is_enabled(True) & StaffModel.roles.contains(Role.ADMIN.value))
            transaction.update(target, actions=[
                StaffModel.name.set(after.name), StaffModel.roles.set(list(after.roles)),
                StaffModel.teams.set(list(after.teams)), StaffModel.enabled.set(after.enabled),
                StaffModel.managed.set(True), StaffModel.expires_at.remove()], condition=unchanged)
    except TransactWriteError as error:
        raise Conflict("changed") from error


def _is_enabled(enabled: bool):
    """A condition: the member is enabled (no flag: never disabled) or disabled."""
    return (StaffModel.enabled.does_not_exist() | (StaffModel.enabled == True)) if enabled \
        else (StaffModel.enabled == False)  # noqa: E712


def _condition_failed(error: Exception) -> bool:
    return getattr(error, "cause_response_code", None) == "ConditionalCheckFailedException"


def _member(model: StaffModel) -> Member:
    managed = bool(model.managed)
    return Member(model.tenant_id, model.subject, model.name, tuple(model.roles or ()), model.seen_at,
                  managed=managed, enabled=model.enabled is not False, teams=tuple(model.teams or ()),
                  email=model.email, username=model.username, invited_at=model.invited_at)
