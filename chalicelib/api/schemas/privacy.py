"""The privacy desk's answers and query parameter: what an erasure did, a subject-access export (api/privacy.py)."""
from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from chalicelib.api.schemas.common import Answer, Count, Query, page_size
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
    pseudonym: str = Field(examples=["interessato-3f2a9c1b7d4e5f60"], description=(
        "What the audit log and the request log name the person by from now on (a keyed hash)."))
    erased_at: datetime
    channels: list[ErasedChannel]
    reports_anonymised: Count
    delivery_records_deleted: Count
    conversations_deleted: Count = Field(0, description="Conversations with staff (Messaggi) deleted.")
    audit_entries_pseudonymised: Count = Field(description="Audit entries whose number became the pseudonym.")
    appointments_deleted: Count = Field(0, description="Agenda bookings deleted (coming ones cancelled first).")
    kept: list[str]
    vicinato_records_deleted: Count = Field(0, description="Vicinato: their membership records (and ID photo) and "
                                            "the reports they sent to a coordinator, deleted.")


class PreviewChannel(Answer):
    channel: str
    kind: ChannelKind
    name: str
    citizen_record: bool = Field(description="A record (subscription, registration, sender) that will be deleted.")
    status: str | None = Field(description="Its subscription status.")
    consents: Count = Field(description="Consent ledger entries: kept, with an erasure entry added.")
    conversation_messages: Count = Field(description="Messages of the conversation with staff: deleted.")


class PrivacyRequest(Answer):
    """A request the privacy desk handled; the person only masked and as a keyed hash."""

    at: datetime
    kind: Literal["erase", "export"]
    outcome: Literal["done", "failed"]
    actor_name: str
    subject: str = Field(examples=["+39******21"], description="The number masked.")
    subject_hash: str = Field(description="A keyed hash of the number: the same person, the same hash.")
    summary: dict[str, Any] = Field(description="What was done: counts per kind of data.")


class ErasurePreview(Answer):
    """What an erasure would do; nothing has changed."""

    subject: str
    masked: str
    pseudonym: str
    channels: list[PreviewChannel]
    reports_sent: Count = Field(description="Reports and tips they sent: kept anonymised, their files deleted.")
    reports_followed: Count = Field(description="Reports they follow: they stop following.")
    files: Count = Field(description="Photos, voice notes, videos and documents they sent: deleted.")
    conversations: Count
    delivery_records: Count = Field(description="Records of messages sent to them: deleted.")
    audit_entries: Count = Field(description="Audit entries naming the number: kept, the number replaced by the pseudonym.")
    appointments: Count = Field(0, description="Agenda bookings: deleted (coming ones cancelled first).")
    previous_requests: list[PrivacyRequest]
    erased: list[str]
    kept: list[str]
    vicinato_records: Count = Field(0, description="Vicinato membership records and reports to a coordinator: "
                                    "deleted.")


class PrivacyRequestLog(Answer):
    """Requests handled, newest first."""

    items: list[PrivacyRequest]


class PrivacyRequestQuery(Query):
    phone: str | None = Field(None, description="Only this person's requests (matched by keyed hash).")
    limit: int = page_size(50)


class SubjectArchive(BaseModel):
    """A ZIP: dati.json (the export), riepilogo.txt (a summary in Italian), file/ (what the person sent)."""

    MEDIA_TYPES: ClassVar[tuple[str, ...]] = ("application/zip",)
    HEADERS: ClassVar[dict] = {"Content-Disposition": {
        "schema": {"type": "string"}, "description": "attachment; filename=\"dati-personali-2026-12-06.zip\""}}


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


class ExportedAppointment(Answer):
    code: str | None = Field(description="The booking's code; null for the agenda's record of the person.")
    status: str
    name: str | None = None
    service: str | None = None
    office: str | None = None
    counter: str | None = None
    start: str | None = None
    end: str | None = None
    phone: str | None = None
    note: str | None = None
    source: str | None = None
    created_at: str | None = None
    history: list[dict[str, Any]] = Field(default_factory=list)
    no_shows: int | None = None
    remember: bool | None = None
    consent_at: str | None = None


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
    vicinato: dict[str, Any] | None = Field(None, description="Vicinato: membership records (zone, role, status, name, "
                                            "address, handle) and, for the police, the reports sent to a coordinator.")
    appointments: list[ExportedAppointment] = Field(default_factory=list, description=(
        "Agenda bookings (name, contact, service, time, note, history) and the agenda's record of the person."))


class ExportQuery(Query):
    phone: str = Field(examples=["+393337654321"],
                       description="The person: an E.164 number in any usual writing, or bsuid:<id>.")
