"""The comune's staff users and roles (issue 15): list, invite, change roles, teams and name, disable and enable,
reset a password or MFA. The identity provider (store/identity.py: Cognito's user pool) signs people in; the roster
(store/staff.py) is the comune's list of its staff and, once an administrator has managed a member, the authority
each staff request is checked against (`refusal`): a disabled member, or a token whose roles the roster no longer
gives, is refused. Every change is audited with the values before and after it."""
from __future__ import annotations

import secrets
from dataclasses import replace

from pydantic import BaseModel, ConfigDict, Field, field_validator

from chalicelib import messages
from chalicelib.domain.access import ROLES, Staff
from chalicelib.domain.settings import Email
from chalicelib.observability import logger
from chalicelib.services import access, clock
from chalicelib.settings import get_settings
from chalicelib.store import identity, mailer
from chalicelib.store import staff as roster
from chalicelib.store.staff import Member

MAX_TEAMS = 20
NAME_LENGTH = (2, 80)


class StaffProblem(Exception):
    """A request this use case refuses: `code` names it for the API (and the console's Italian), `field` the field
    at fault when there is one."""

    def __init__(self, status: int, code: str, message: str, field: str | None = None):
        super().__init__(message)
        self.status, self.code, self.field = status, code, field


def _roles(value: list[str]) -> list[str]:
    known = {r.value for r in ROLES}
    unknown = sorted(set(value) - known)
    if unknown:
        raise ValueError(f"unknown roles: {', '.join(unknown)}")
    return sorted(set(value))


class Invitation(BaseModel):
    """A new staff member: their display name (shown wherever staff are), email (their user name), roles, teams."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    name: str = Field(min_length=NAME_LENGTH[0], max_length=NAME_LENGTH[1])
    email: Email
    roles: list[str] = Field(min_length=1, max_length=len(ROLES))
    teams: list[str] = Field(default_factory=list, max_length=MAX_TEAMS)

    _check_roles = field_validator("roles")(classmethod(lambda cls, v: _roles(v)))


class StaffChange(BaseModel):
    """What an administrator changes of a member; a field left out stays as it is."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    name: str | None = Field(default=None, min_length=NAME_LENGTH[0], max_length=NAME_LENGTH[1])
    roles: list[str] | None = Field(default=None, min_length=1, max_length=len(ROLES))
    teams: list[str] | None = Field(default=None, max_length=MAX_TEAMS)
    enabled: bool | None = None

    _check_roles = field_validator("roles")(classmethod(lambda cls, v: v if v is None else _roles(v)))


# ---- reads -------------------------------------------------------------------------------------------------------

def listing(staff: Staff) -> dict:
    """The comune's staff, by name (audited: names and emails are personal data)."""
    access.record(staff, "staff.list", "staff")
    members = sorted(roster.of_tenant(staff.tenant_id), key=lambda m: (m.name.casefold(), m.subject))
    return {"items": [view(m) for m in members]}


def view(member: Member) -> dict:
    return {"id": member.subject, "name": member.name, "email": member.email, "roles": sorted(member.roles),
            "teams": list(member.teams), "enabled": member.enabled, "managed": member.managed,
            "last_sign_in": member.seen_at.isoformat() if member.seen_at else None,
            "invited_at": member.invited_at.isoformat() if member.invited_at else None}


def refusal(staff: Staff) -> str | None:
    """Why the roster refuses this signed-in member's request, or None: `account_disabled` for a disabled member,
    `roles_changed` when an administrator changed the roles their token carries (a new sign-in gets the new ones).
    Members the roster never managed (the tokens of an existing pool, of the local issuer) are not refused."""
    member = roster.get(staff.tenant_id, staff.subject)
    if member is None:
        return None
    if not member.enabled:
        return "account_disabled"
    if member.managed and set(member.roles) != {r.value for r in staff.roles}:
        return "roles_changed"
    return None


# ---- changes -----------------------------------------------------------------------------------------------------

def invite(staff: Staff, request: Invitation) -> dict:
    """Create the user in the identity provider (Cognito's invitation suppressed), put them in their roles' groups,
    add them to the roster, and email them our Italian invitation with a temporary password: the first sign-in asks
    for a new one."""
    teams = _teams(staff, request.teams)
    provider = _provider()
    email = str(request.email).lower()
    password = temporary_password()
    try:
        user = provider.create_user(email, request.name, email, staff.tenant_id, password)
    except identity.IdentityError as error:
        raise _identity_problem(error) from None
    member = Member(staff.tenant_id, user.subject, request.name, tuple(request.roles), None, managed=True,
                    teams=teams, email=email, username=user.username, invited_at=clock.now())
    access.record_change(staff, "staff.invite", user.subject, None, audited(member))
    try:
        provider.set_groups(user.username, set(request.roles), set())
        roster.add(member)
    except identity.IdentityError as error:
        raise _identity_problem(error) from None
    except roster.Conflict:
        raise StaffProblem(409, "user_exists", "A staff member with this id already exists.", "email") from None
    _mail(staff, member, "invite", password)
    return view(member)


def change(staff: Staff, subject: str, request: StaffChange) -> dict:
    """Change a member's name, roles, teams or whether they are enabled. Refused (409 last_admin) when it would
    leave the comune without an enabled administrator."""
    before = _member(staff, subject)
    after = replace(before, managed=True,
                    name=request.name if request.name is not None else before.name,
                    roles=tuple(request.roles) if request.roles is not None else before.roles,
                    teams=_teams(staff, request.teams) if request.teams is not None else before.teams,
                    enabled=request.enabled if request.enabled is not None else before.enabled)
    keeper = _keeper(before, after)
    access.record_change(staff, "staff.change", subject, audited(before), audited(after))
    try:
        roster.replace(before, after, keeper)
    except roster.Conflict:
        raise StaffProblem(409, "changed_meanwhile", "The staff member or the comune's administrators changed "
                                                     "meanwhile: reload and retry.") from None
    _sync(after, request)
    return view(roster.get(staff.tenant_id, subject) or after)


def reset_password(staff: Staff, subject: str) -> dict:
    """A new temporary password, emailed to the member: their next sign-in asks for a new password."""
    member = _member(staff, subject)
    if not member.username or not member.email:
        raise StaffProblem(409, "not_in_directory", "This member has no user in the identity provider.")
    password = temporary_password()
    access.record_change(staff, "staff.reset_password", subject, {"password": "set"}, {"password": "temporary"})
    try:
        _provider().set_temporary_password(member.username, password)
    except identity.IdentityError as error:
        raise _identity_problem(error) from None
    _mail(staff, member, "reset", password)
    return view(member)


def reset_mfa(staff: Staff, subject: str) -> dict:
    """Turn the member's MFA off (a lost phone): they sign in with their password and set up MFA again."""
    member = _member(staff, subject)
    if not member.username:
        raise StaffProblem(409, "not_in_directory", "This member has no user in the identity provider.")
    access.record_change(staff, "staff.reset_mfa", subject, {"mfa": "as set"}, {"mfa": "off"})
    try:
        _provider().reset_mfa(member.username)
    except identity.IdentityError as error:
        raise _identity_problem(error) from None
    return view(member)


def audited(member: Member) -> dict:
    """What an audit entry keeps of a member before and after a change."""
    return {"name": member.name, "roles": sorted(member.roles), "teams": list(member.teams), "enabled": member.enabled}


def temporary_password() -> str:
    """A temporary password Cognito's default policy takes (upper and lower case, a digit, a symbol, 8 or more)."""
    return f"{secrets.token_urlsafe(12)}-Fd7"


# ---- helpers -----------------------------------------------------------------------------------------------------

def _member(staff: Staff, subject: str) -> Member:
    member = roster.get(staff.tenant_id, subject) if 0 < len(subject) <= 128 else None
    if member is None:
        raise StaffProblem(404, "not_found", "No such staff member for your comune.")
    return member


def _keeper(before: Member, after: Member) -> Member | None:
    """When the change takes an enabled administrator away, another one who stays (the transaction checks they
    still do); none left: 409 last_admin."""
    if not before.is_enabled_admin or after.is_enabled_admin:
        return None
    others = [m for m in roster.of_tenant(before.tenant_id) if m.is_enabled_admin and m.subject != before.subject]
    if not others:
        raise StaffProblem(409, "last_admin", "This is the comune's last enabled administrator: make someone else "
                                              "an administrator first.", "roles" if before.enabled else "enabled")
    return others[0]


def _teams(staff: Staff, teams: list[str]) -> tuple[str, ...]:
    known = {t.id for t in access.tenant_of(staff).reports.teams}
    unknown = sorted(set(teams) - known)
    if unknown:
        raise StaffProblem(422, "invalid_request", f"teams: unknown team {', '.join(unknown)}", "teams")
    return tuple(dict.fromkeys(teams))


def _sync(after: Member, request: StaffChange) -> None:
    """The identity provider follows the roster in what the request named: groups (set whole), enabled, name; so
    repeating a change after a failure here brings the provider in line. A member it does not know (a token of
    another issuer) is managed by the roster alone."""
    provider = identity.provider()
    if provider is None or not after.username:
        return
    try:
        if request.roles is not None:
            provider.set_groups(after.username, set(after.roles), {r.value for r in ROLES} - set(after.roles))
        if request.enabled is not None:
            provider.set_enabled(after.username, after.enabled)
        if request.name is not None:
            provider.set_name(after.username, after.name)
    except identity.IdentityError as error:
        if error.reason != "not_found":
            raise _identity_problem(error) from None
        logger.warning("staff member unknown to the identity provider", extra={"reason": str(error)})


def _provider() -> identity.IdentityProvider:
    provider = identity.provider()
    if provider is None:
        raise StaffProblem(503, "identity_unavailable", "No identity provider is configured (STAFF_USER_POOL_ID).")
    return provider


def _identity_problem(error: identity.IdentityError) -> StaffProblem:
    if error.reason == "exists":
        return StaffProblem(409, "user_exists", "A user with this email already exists.", "email")
    logger.warning("identity provider refused", extra={"reason": str(error)})
    return StaffProblem(503, "identity_unavailable", "The identity provider did not complete the operation: retry.")


def _mail(staff: Staff, member: Member, kind: str, password: str) -> None:
    """Our Italian email with the temporary password (kind: invite or reset), from the comune's SES sender."""
    comune, url = access.tenant_of(staff).name, get_settings().console_url or ""
    if kind == "invite":
        subject = messages.text("staff.invite.subject", comune=comune)
        body = messages.text("staff.invite.body", name=member.name, comune=comune, username=member.username,
                             password=password, url=url, admin=staff.name)
    else:
        subject = messages.text("staff.reset.subject", comune=comune)
        body = messages.text("staff.reset.body", name=member.name, comune=comune, username=member.username,
                             password=password, url=url, admin=staff.name)
    mailer.send(member.email, subject, body)
