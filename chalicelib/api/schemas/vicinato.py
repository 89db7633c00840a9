"""Vicinato, the neighbourhood-watch relay (api/vicinato.py, docs/vicinato.md): zones, people, join requests,
relay cases, notices to zones, the monthly report."""
from __future__ import annotations

from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from chalicelib.api.schemas.common import Answer, Count, Query
from chalicelib.api.schemas.exports import ExportFormat
from chalicelib.domain.vicinato import ARCHIVE_REASONS, CASE_STATUSES, MEMBER_STATUSES, ROLES, STAGES

Role = Literal[ROLES]
MemberStatus = Literal[MEMBER_STATUSES]
CaseStatus = Literal[CASE_STATUSES]
Month = str


class Coordinates(Answer):
    """A coordinator or stand-in as the zone list shows them."""

    handle: str = Field(examples=["Vicino 3 · via Roma"])
    prefettura_date: str | None
    prefettura_ref: str | None


class ZoneView(Answer):
    """A zone with its counts and the handles of its coordinator and stand-in."""

    id: str
    name: str
    hamlet: str | None
    streets: list[str]
    police_referent: str | None = Field(description="The staff subject of the zone's police referent.")
    active: Count = Field(description="Active people (members, coordinator, stand-in).")
    pending: Count = Field(description="Join requests waiting for the police.")
    coordinator: Coordinates | None
    stand_in: Coordinates | None


class ZoneList(Answer):
    """The comune's Vicinato zones."""

    items: list[ZoneView]


class Prefettura(Answer):
    """The Prefettura's approval of a coordinator."""

    date: str | None
    reference: str | None


class PersonView(Answer):
    """Someone of Vicinato. name, address, phone and the ID photo's presence: for the police only (and for the
    administration, of coordinators and stand-ins it appointed)."""

    id: str = Field(description="<channel id>.<citizen key>: the path parameter of the routes on a person.")
    zone: str | None
    zone_name: str | None
    role: Role
    status: MemberStatus
    handle: str | None = Field(description="How the others read them: «Vicino 12 · via Roma».")
    requested_at: str | None
    decided_at: str | None
    prefettura: Prefettura | None
    name: str | None = None
    address: str | None = None
    phone: str | None = None
    id_photo: bool | None = None
    source: str | None = None
    notice_version: str | None = None


class PersonList(Answer):
    """People of Vicinato (or join requests), as the caller's role may see them."""

    items: list[PersonView]


class PeopleQuery(Query):
    zone: str | None = Field(None, description="A zone id.")
    status: MemberStatus | None = None
    role: Role | None = None


class AppointmentBody(BaseModel):
    """A coordinator or stand-in of a zone (replacing whoever held the role, who becomes a member)."""

    model_config = ConfigDict(extra="forbid")
    zone: str = Field(min_length=1, max_length=64)
    role: Literal["coordinator", "stand_in"]
    phone: str = Field(min_length=5, max_length=32, examples=["+39 333 000 0310"])
    name: str = Field(min_length=3, max_length=120)
    address: str = Field(min_length=4, max_length=200)
    prefettura_date: date | None = Field(None, description="The Prefettura's nulla osta, when it gave one.")
    prefettura_ref: str | None = Field(None, max_length=100)


class RefusalBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    note: str | None = Field(None, max_length=500, description="Why (kept for the police; the citizen is told only "
                                                                "that the request was not accepted).")


class PhotoLink(Answer):
    """A short-lived link to a photo."""

    url: str
    expires_in: int = Field(description="Seconds the link works.")


class CasePhoto(Answer):
    """A photo of a case, through a short-lived link."""

    id: str
    url: str


class CaseEventView(Answer):
    """One step of a case."""

    at: str
    actor: str
    action: str
    data: dict[str, Any] | None = None


class CaseView(Answer):
    """A member's report in the relay, by handle (the member's identity is on the police desk's report)."""

    id: str
    zone: str
    zone_name: str | None
    handle: str
    what: str
    where: str
    when: str
    description: str
    position: dict[str, Any] | None
    urgent: bool
    status: CaseStatus
    stage: Literal[STAGES]
    archive_reason: Literal[ARCHIVE_REASONS] | None
    coordinator_note: str | None
    report_id: str | None = Field(description="The police desk's report (GET /api/v1/reports/{id}) once forwarded.")
    broadcast_id: str | None = Field(description="The zone notice once notified.")
    created_at: str | None
    forwarded_at: str | None
    photos: list[CasePhoto]
    events: list[CaseEventView]


class CaseList(Answer):
    """The relay's cases, newest first."""

    items: list[CaseView]


class CaseQuery(Query):
    zone: str | None = Field(None, description="A zone id.")
    status: CaseStatus | None = None


class NoticeBody(BaseModel):
    """A police notice to zones, through the broadcast engine (an alert passes the quiet hours)."""

    model_config = ConfigDict(extra="forbid")
    zones: list[str] = Field(min_length=1, max_length=200, description="Zone ids, or [\"*\"] for all of them.")
    text: str = Field(min_length=1, max_length=3800)
    priority: Literal["normal", "alert"] = "normal"


class NoticeSent(Answer):
    """The notice's broadcast, scheduled (an alert at once; a normal one after the quiet hours)."""

    broadcast_id: str = Field(description="Follow it with GET /api/v1/broadcasts/{id}.")
    status: str
    zones: list[str]
    zone_names: str
    priority: str
    due_at: str


class ZoneMonthView(Answer):
    """One zone's month."""

    zone: str
    zone_name: str
    members: Count
    joined: Count
    left: Count
    reports: Count
    urgent: Count
    forwarded: Count
    notified: Count
    archived: Count
    escalated: Count
    police_notices: Count
    median_minutes_to_forward: float | None


class MonthlyReport(Answer):
    """The month's figures per zone (counts only)."""

    month: str
    zones: list[ZoneMonthView]
    columns: list[str]


class MonthlyQuery(Query):
    month: str | None = Field(None, pattern=r"^\d{4}-(0[1-9]|1[0-2])$", examples=["2026-12"],
                              description="YYYY-MM (Europe/Rome); default this month.")


class MonthlyExportQuery(MonthlyQuery):
    format: ExportFormat = Field("csv", description="csv or xlsx.")
