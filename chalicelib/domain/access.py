"""Staff and what each role may do: the one table that the API's checks, its OpenAPI document, the console's
menu (through /api/v1/me), the Cognito groups (infra/) and the local issuer all read."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum


class Role(StrEnum):
    """A staff role: a Cognito group in AWS, `cognito:groups` in the token."""

    ADMIN = "admin"  # the comune's administrator: set-up, subscribers, reports, privacy desk; not the police's tips
    COMMUNICATIONS = "communications"  # the communications office: broadcasts and their subscribers
    TECHNICAL = "technical"  # the technical office: reports from citizens, the desk, teams and external bodies
    POLICE = "police"  # the municipal police: tips from the safety channel and its registered residents


ROLES: tuple[Role, ...] = tuple(Role)


class Capability(StrEnum):
    """An area of work; every staff route asks for one (or more, any of them will do)."""

    BROADCASTS = "broadcasts"  # compose, preview, send and follow broadcasts
    SUBSCRIBERS = "subscribers"  # subscribers and registered residents: list, add, import, erase, consents
    REPORTS = "reports"  # the office's reports: list, lifecycle, notes, forwarding, photos, KPIs
    TIPS = "tips"  # the police's tips from the safety channel
    PRIVACY = "privacy"  # a data subject's erasure and export across the comune, the audit log
    STATS = "stats"  # the dashboard: the comune's set-up and the figures of what the role may see
    SETUP = "setup"  # the comune's administration: staff users, WhatsApp templates, settings, usage and costs
    AGENDA = "agenda"  # appointments (issue 17): the offices' day view, desk bookings, attendance, closures, export


MAY: dict[Capability, frozenset[Role]] = {
    Capability.BROADCASTS: frozenset({Role.ADMIN, Role.COMMUNICATIONS}),
    Capability.SUBSCRIBERS: frozenset({Role.ADMIN, Role.COMMUNICATIONS, Role.POLICE}),
    Capability.REPORTS: frozenset({Role.ADMIN, Role.TECHNICAL}),
    Capability.TIPS: frozenset({Role.POLICE}),  # police only: tips name residents and neighbours (docs/decisions.md)
    Capability.PRIVACY: frozenset({Role.ADMIN}),
    Capability.STATS: frozenset(ROLES),
    Capability.SETUP: frozenset({Role.ADMIN}),
    Capability.AGENDA: frozenset({Role.ADMIN, Role.POLICE}),  # the police's office first; any office by config
}

# The usage meter (messages sent per month and their estimated cost) is read by the administration and by the
# communications office, which watches its spend; only the administration edits the price table (SETUP).
USAGE_READERS: tuple[Capability, ...] = (Capability.SETUP, Capability.BROADCASTS)

# Who may work on a channel of each kind. The administrator registers residents on the safety channel but
# reads no tips (a tip is a report of kind "safety": REPORT_KINDS).
CHANNEL_KINDS: dict[str, frozenset[Role]] = {
    "broadcast": MAY[Capability.BROADCASTS],
    "reports": MAY[Capability.REPORTS],
    "safety": MAY[Capability.TIPS] | {Role.ADMIN},
}
REPORT_KINDS: dict[str, Capability] = {"report": Capability.REPORTS, "safety": Capability.TIPS}
# Whose are the two-way conversations (services/conversations) of a channel of each kind: the office that works the
# channel; a safety channel's are the police's only, as its tips are (the administrator reads neither).
CONVERSATION_KINDS: dict[str, Capability] = {
    "broadcast": Capability.BROADCASTS, "reports": Capability.REPORTS, "safety": Capability.TIPS}


def roles_for(capabilities: Iterable[Capability]) -> frozenset[Role]:
    """The roles that have at least one of the capabilities."""
    return frozenset(role for capability in capabilities for role in MAY[capability])


@dataclass(frozen=True)
class Staff:
    """A signed-in staff member of one comune."""

    subject: str  # the identity provider's stable id (Cognito's sub)
    tenant_id: str
    roles: frozenset[Role]
    name: str = ""  # what the console and the audit views show: the token's name, else email, else subject
    email: str | None = None
    username: str | None = None  # the identity provider's user name (Cognito's cognito:username), when it gives one
    capabilities: frozenset[Capability] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "capabilities", frozenset(c for c, roles in MAY.items() if roles & self.roles))
        if not self.name:
            object.__setattr__(self, "name", self.email or self.subject)

    def may(self, *capabilities: Capability) -> bool:
        """True when the staff member has any of the capabilities."""
        return bool(self.capabilities & set(capabilities))

    def may_use_channel(self, kind: str) -> bool:
        return bool(self.roles & CHANNEL_KINDS.get(kind, frozenset({Role.ADMIN})))

    def may_read_report(self, kind: str) -> bool:
        return kind in REPORT_KINDS and self.may(REPORT_KINDS[kind])

    def may_converse(self, channel_kind: str) -> bool:
        """May read and answer the conversations of a channel of this kind (CONVERSATION_KINDS)."""
        return channel_kind in CONVERSATION_KINDS and self.may(CONVERSATION_KINDS[channel_kind])


def parse_roles(groups: Iterable[str]) -> frozenset[Role]:
    """The roles among a token's groups; any other group is ignored."""
    known = {role.value for role in Role}
    return frozenset(Role(g) for g in groups if isinstance(g, str) and g in known)
