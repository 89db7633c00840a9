"""The citizens' answers: subscription form, portal set-up, map, a report's status, a filed report (public, portal).

Nothing personal is in any of them."""
from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from chalicelib.api.schemas.common import Answer, HamletMap, Named
from chalicelib.api.schemas.reports import ReportStatus


class Pending(Answer):
    """The confirmation went to the phone on WhatsApp (the same answer when already subscribed)."""

    status: Literal["pending_confirmation"]
    message: str


class Portal(Answer):
    """The portal's set-up: the comune, hamlets as GeoJSON outlines, categories, topics."""

    tenant: str
    name: str
    privacy_notice_url: str | None
    privacy_notice_version: str | None
    hamlets: HamletMap
    categories: list[Named]
    topics: list[Named]
    reports_whatsapp: str | None = Field(description="The reports channel's WhatsApp number.")
    subscriptions: bool = Field(description="Whether the web subscription form is open.")
    follow_on_whatsapp: bool = Field(description="Whether the report form may take a phone to follow the report on "
                                     "WhatsApp (the reports channel has its confirmation template).")


class PublicLocation(Answer):
    latitude: float
    longitude: float


class PublicPhoto(Answer):
    id: str
    content_type: str | None
    url: str = Field(description="A presigned link to the copy without metadata, valid 15 minutes.")


class PublicReport(Answer):
    """A report as the portal shows it: no personal data, photos only as published by staff."""

    id: str
    number: str = Field(examples=["2026/42"])
    category: str | None
    category_name: str
    hamlet: str | None
    hamlet_name: str | None
    title: str = Field(description="The public title staff approved, else the category's name.")
    description: str = Field(description="The public description staff approved, else category and hamlet; never "
                             "the citizen's own words.")
    status: ReportStatus
    status_label: str
    open: bool
    created_at: datetime
    updated_at: datetime
    location: PublicLocation | None
    photos: list[PublicPhoto]


class PublicReports(Answer):
    """The map: reports of the last 90 days, newest first."""

    items: list[PublicReport]
    generated_at: datetime


class PublicEvent(Answer):
    at: datetime
    status: ReportStatus | None
    status_label: str | None
    note: str | None = Field(description="A public note, phone numbers and emails masked.")


class StatusView(PublicReport):
    """One report's status and public history, as its citizen follows it."""

    comune: str
    duplicate_of: str | None = Field(description="The number of the report it duplicates.")
    events: list[PublicEvent]


class Filed(Answer):
    """The report is numbered and queued like WhatsApp reports."""

    number: str
    token: str = Field(description="Opens the report's status view.")
    duplicate_of: str | None
    message: str
