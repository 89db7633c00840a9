"""Tenants (comuni), their hamlets and topics, and their WhatsApp channels, as plain data."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from chalicelib.domain.reports import ReportSettings

CHANNEL_KINDS = ("broadcast", "reports", "safety")


@dataclass(frozen=True)
class Hamlet:
    id: str
    name: str
    latitude: float  # a point inside the hamlet
    longitude: float
    geometry: dict[str, Any] | None = None  # GeoJSON polygon


@dataclass(frozen=True)
class Topic:
    id: str
    name: str


@dataclass(frozen=True)
class Tenant:
    id: str
    name: str  # "Comune di Esempio"
    hamlets: tuple[Hamlet, ...] = ()
    topics: tuple[Topic, ...] = ()
    privacy_notice_url: str = ""
    privacy_notice_version: str = ""
    language: str = "it"
    reports: ReportSettings = field(default_factory=ReportSettings)  # categories, teams, external bodies
    open311_partners: tuple[dict[str, str], ...] = ()  # {"name", "key_sha256"}: who may file via Open311

    def hamlet(self, hamlet_id: str) -> Hamlet | None:
        return next((h for h in self.hamlets if h.id == hamlet_id), None)

    def topic(self, topic_id: str) -> Topic | None:
        return next((t for t in self.topics if t.id == topic_id), None)


@dataclass(frozen=True)
class Channel:
    phone_number_id: str
    tenant_id: str
    kind: str
    name: str
    display_phone_number: str
    settings: dict[str, Any] = field(default_factory=dict)

    @property
    def texts(self) -> dict[str, str]:
        """Per-channel overrides of catalogue texts."""
        return self.settings.get("texts", {})

    @property
    def rate_per_second(self) -> float:
        return float(self.settings.get("rate_per_second", 80))

    def template(self, purpose: str) -> dict[str, Any] | None:
        """The approved template this channel uses for a purpose, e.g. subscription_confirm."""
        return self.settings.get("templates", {}).get(purpose)
