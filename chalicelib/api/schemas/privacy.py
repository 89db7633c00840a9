"""The privacy desk's answers and query parameter: what an erasure did, a subject-access export (api/privacy.py)."""
from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from chalicelib.api.schemas.common import Answer, Count, Query
from chalicelib.api.schemas.reports import Event, ReportKind, ReportStatus
from chalicelib.api.schemas.staff import AuditEntry, ChannelKind, Consent
from chalicelib.services.admin.privacy import EXPORT_FORMAT


class ErasedChannel(Answer):
    channel: str
    kind: ChannelKind
    citizen_record: Literal["deleted", "none"]
    consent_ledger: str = Field(examples=["erasure recorded"])


class Erasure(Answer):
    """What was erased on each channel that knew the person, and what is kept."""

    subject: str = Field(description="The citizen key erased.")
    erased_at: datetime
    channels: list[ErasedChannel]
    reports_anonymised: Count
    delivery_records_deleted: Count
    conversations_deleted: Count = Field(0, description="Conversations with staff (Messaggi) deleted.")
    kept: list[str]


class ExportedCitizen(BaseModel):
    """The person's record on one channel: every field of it besides these three."""

    model_config = ConfigDict(extra="allow")
    channel: str
    channel_kind: ChannelKind
    channel_name: str


class ExportedPhoto(Answer):
    id: str
    status: str
    content_type: str | None
    size: int | None
    reason: str | None
    stored: bool = Field(description="Its bytes are held (not in the export).")


class ExportedPosition(Answer):
    latitude: float
    longitude: float
    address: str | None


class ExportedReport(Answer):
    """A report the person sent, in full; one they follow, as followers see it (id to updated_at, public events)."""

    id: str
    number: str
    kind: ReportKind
    role: Literal["reporter", "follower"]
    status: ReportStatus
    category: str | None
    hamlet: str | None
    created_at: datetime
    updated_at: datetime
    events: list[Event]
    source: str | None = None
    channel: str | None = None
    text: str | None = None
    contact: dict[str, str] | None = None
    address: str | None = None
    position: ExportedPosition | None = None
    photos: list[ExportedPhoto] | None = None
    team: str | None = None
    external: dict[str, Any] | None = None
    outcome: str | None = None
    duplicate_of: str | None = None
    resolved_at: datetime | None = None


class ExportedDelivery(Answer):
    """A message sent to the person: the keys it has."""

    job_id: str | None = None
    status: str | None = None
    recorded_at: str | None = None
    updated_at: str | None = None
    provider_message_id: str | None = None
    error_class: str | None = None
    error_code: int | None = None


class ExportedConversationMessage(Answer):
    direction: Literal["in", "out"]
    at: datetime
    text: str
    kind: str


class ExportedConversation(Answer):
    """A conversation with staff (Messaggi) on one channel: its messages as stored."""

    channel: str
    status: str
    messages: list[ExportedConversationMessage]


class SubjectExport(Answer):
    """Everything the comune holds about one person, as JSON (GDPR art. 15)."""

    format: Literal[EXPORT_FORMAT]
    subject: str
    tenant: str
    generated_at: datetime
    generated_by: str
    citizen_records: list[ExportedCitizen]
    consents: list[Consent]
    reports: list[ExportedReport]
    deliveries: list[ExportedDelivery]
    conversations: list[ExportedConversation] = Field(default_factory=list, description=(
        "Conversations with staff (Messaggi) on the channels the caller's roles reach."))
    audit: list[AuditEntry]
    not_included: list[str]


class ExportQuery(Query):
    phone: str = Field(examples=["+393337654321"],
                       description="The person: an E.164 number in any usual writing, or bsuid:<id>.")
