"""Exports as files and the desk's view of one citizen (api/exports.py)."""
from __future__ import annotations

from datetime import datetime
from typing import ClassVar, Literal

from pydantic import BaseModel, Field

from chalicelib.api.schemas.common import Answer, Query
from chalicelib.api.schemas.reports import KpiQuery, ReportKind, ReportStatus
from chalicelib.api.schemas.staff import ChannelKind, ChannelQuery, Subscriber
from chalicelib.domain import subscriptions

ExportFormat = Literal["csv", "xlsx"]


def format_choice():
    return Field("csv", description="csv (UTF-8 with a BOM, semicolon-separated, as a spreadsheet set to Italian "
                                    "reads it) or xlsx.")


class SpreadsheetFile(BaseModel):
    """The export as a file, its name (in Italian, with the date) in Content-Disposition."""

    MEDIA_TYPES: ClassVar[tuple[str, ...]] = (
        "text/csv", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    HEADERS: ClassVar[dict] = {"Content-Disposition": {
        "schema": {"type": "string"}, "description": "attachment; filename=\"segnalazioni-2026-12-06.csv\"; filename*=..."}}


class FormatQuery(Query):
    format: ExportFormat = format_choice()


class ReportExportQuery(KpiQuery):
    status: str | None = Field(None, examples=["new,triaged"], description="One status, or several separated by commas.")
    category: str | None = Field(None, description="A category id.")
    hamlet: str | None = Field(None, description="A hamlet id.")
    team: str | None = Field(None, description="A team id.")
    q: str | None = Field(None, description="Words in the text or address.")
    assignee: str | None = Field(None, description="A staff member's id, or me: the reports they are in charge of.")
    format: ExportFormat = format_choice()


class SubscriberExportQuery(ChannelQuery):
    status: Literal[subscriptions.STATUSES] | None = Field(None, description="Only subscribers in this status.")
    format: ExportFormat = format_choice()


class CitizenChannel(Answer):
    channel: str
    kind: ChannelKind
    name: str
    subscriber: Subscriber | None = Field(description="Their record on the channel; null when it holds none.")


class CitizenConsent(Answer):
    channel: str
    action: Literal["grant", "withdraw"]
    purpose: str
    path: str
    notice_version: str | None
    recorded_at: datetime


class CitizenReport(Answer):
    id: str
    number: str
    kind: ReportKind
    status: ReportStatus
    category: str | None
    hamlet: str | None
    source: str
    role: Literal["reporter", "follower"]
    text: str = Field(description="The first 200 characters.")
    created_at: datetime
    updated_at: datetime


class CitizenMessage(Answer):
    at: datetime
    direction: Literal["in", "out"] = Field(description="in: the citizen wrote; out: the comune sent.")
    channel: str
    kind: str = Field(examples=["text", "photo", "location", "category", "created", "broadcast", "reply"])
    text: str | None
    report: str | None = Field(description="The report's number an inbound message joined.")
    report_id: str | None
    status: str | None = Field(description="Of what we sent: sent, delivered, read, failed, skipped.")
    error_code: int | None = None


class CitizenView(Answer):
    """One citizen as the caller's roles may see them, newest first."""

    subject: str = Field(description="The citizen key: E.164 number or bsuid:<id>.")
    phone: str | None
    channels: list[CitizenChannel]
    consents: list[CitizenConsent]
    reports: list[CitizenReport]
    conversation: list[CitizenMessage]
    truncated: bool = Field(description="More reports (100) or messages (300) than shown: the newest are.")
    conversation_channels: list[str] = Field(description="The channels whose conversation the roles may read.")
