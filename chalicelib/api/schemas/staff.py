"""The staff API's answers and query parameters: caller, channels, subscribers, audit; the console's set-up, growth."""
from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field

from chalicelib.api.openapi import DEMO_BROADCAST
from chalicelib.api.schemas.common import Answer, Count, HamletMap, Named, Query, cursor, next_page, page_size
from chalicelib.domain import subscriptions
from chalicelib.domain.access import CHANNEL_KINDS, Capability, Role
from chalicelib.services.admin.overview import MAX_WEEKS
from chalicelib.services.subscriptions.subscribers import MAX_IMPORT_ROWS

ChannelKind = Literal[tuple(CHANNEL_KINDS)]


class Me(Answer):
    """The caller: who the token names, the comune, the roles and what they open."""

    subject: str = Field(description="The identity provider's stable id.")
    name: str = Field(description="The token's name, else its email, else the subject.")
    email: str | None
    tenant: str
    roles: list[Role]
    can: list[Capability] = Field(description="The areas of work the roles open: the console shows these sections.")


class ChannelTemplate(Answer):
    name: str
    language: str
    category: str


class Channel(Answer):
    phone_number_id: str
    kind: ChannelKind
    name: str
    display_phone_number: str
    templates: list[ChannelTemplate] = Field(description="The templates WhatsApp approved, one per name.")


class ChannelList(Answer):
    """The comune's channels the caller's roles reach."""

    items: list[Channel]


class Subscriber(Answer):
    """A subscriber as staff see it; a registered resident of a safety channel also has name, address, hamlet."""

    phone: str | None = Field(examples=["+393337654321"])
    user_id: str | None = Field(description="WhatsApp's business-scoped user id, when the number is not known.")
    channel: str
    status: Literal[subscriptions.STATUSES]
    hamlets: list[str] = Field(description="Empty: every hamlet.")
    topics: list[str] = Field(description="Empty: every topic.")
    source: str | None
    subscribed_at: datetime | None
    stopped_at: datetime | None
    last_inbound_at: datetime | None
    created_at: datetime | None
    name: str | None = None
    address: str | None = None
    hamlet: str | None = None


class SubscriberPage(Answer):
    """A page of a channel's subscribers."""

    items: list[Subscriber]
    next: str | None = next_page()


class Consent(Answer):
    channel: str
    action: Literal["grant", "withdraw"]
    purpose: str
    path: str = Field(examples=["staff", "erasure"], description="How it was given or withdrawn.")
    notice_version: str | None
    message_id: str | None
    actor: str | None
    recorded_at: datetime


class ConsentList(Answer):
    """Grants and withdrawals, oldest first."""

    items: list[Consent]


SubscriberFile = Annotated[str, Field(examples=["phone,hamlets,topics\n335 139 7378,pieve,allerte\n"], description=(
    "A CSV file in UTF-8, its first line naming the columns: phone, and optionally hamlets, topics, name, address, "
    f"hamlet; lists split by ';'. At most {MAX_IMPORT_ROWS} rows."))]


class ImportSummary(Answer):
    created: Count
    updated: Count
    error: Count


class ImportRow(Answer):
    row: int = Field(ge=2, description="The line of the file (the first names the columns).")
    result: Literal["created", "updated", "error"]
    phone: str | None = None
    error: str | None = None


class ImportResult(Answer):
    """One result per data row of the file."""

    summary: ImportSummary
    rows: list[ImportRow]


class AuditEntry(Answer):
    at: datetime
    actor: str
    action: str = Field(examples=["subscriber.read"])
    target: str


class Category(Answer):
    id: str
    name: str
    team: str | None
    external_body: str | None


class Tenant(Answer):
    """The comune's set-up: hamlets with their outlines, topics, report categories, teams, external bodies."""

    id: str
    name: str
    hamlets: HamletMap
    topics: list[Named]
    categories: list[Category]
    teams: list[Named]
    external_bodies: list[Named]


class WeekCount(Answer):
    week: str = Field(examples=["2026-W47"])
    active: Count


class SubscriberGrowth(Answer):
    """Active subscribers at the end of each ISO week, the current week last, and how many are active now."""

    channel: str
    active: Count
    weeks: list[WeekCount]


def channel_choice(default: str) -> object:
    return Field(None, examples=[DEMO_BROADCAST], description=f"A channel's phone_number_id; when absent, {default}.")


class ChannelQuery(Query):
    channel: str | None = channel_choice("the comune's only broadcast channel")


class SubscriberQuery(ChannelQuery):
    status: Literal[subscriptions.STATUSES] | None = Field(None, description="Only subscribers in this status.")
    q: str | None = Field(None, description="A phone number or its beginning.")
    limit: int = page_size(50)
    cursor: str | None = cursor()


class ConsentQuery(Query):
    channel: str | None = channel_choice("every channel the roles reach")


class GrowthQuery(ChannelQuery):
    weeks: int = Field(12, ge=1, le=MAX_WEEKS, description="How many weeks.")
