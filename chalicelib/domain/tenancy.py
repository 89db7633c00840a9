"""Tenants (comuni), their hamlets and topics, and their WhatsApp channels, as plain data."""
from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import timedelta
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


class BoundedSettings:
    """A tenant setting made of whole numbers, each within its bounds; missing keys keep the default."""

    SETTING = ""
    BOUNDS: dict[str, tuple[int, int]] = {}
    UNIT = ""

    @classmethod
    def from_settings(cls, raw: dict[str, Any] | None):
        """The setting as stored ({"deliveries": 60, ...}); ValueError naming the key when invalid."""
        raw = raw or {}
        if not isinstance(raw, dict):
            raise ValueError(f"{cls.SETTING} must be an object of {cls.UNIT}")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(raw) - known)
        if unknown:
            raise ValueError(f"{cls.SETTING}: unknown key {', '.join(unknown)} (known: {', '.join(sorted(known))})")
        for name, value in raw.items():
            low, high = cls.BOUNDS[name]
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                raise ValueError(f"{cls.SETTING}.{name} must be a whole number from {low} to {high}")
        return cls(**raw)


@dataclass(frozen=True)
class Retention(BoundedSettings):
    """How long each kind of personal data is kept, in days: the tenant setting `retention` (docs/privacy.md).

    Each value becomes a DynamoDB TTL where the record is written: a citizen record of someone not (or no longer)
    subscribed, `inactive_citizens` days after their last contact; a delivery record, `deliveries` days after the
    send; a report or tip, `closed_reports` days after it was closed (resolved, rejected, duplicate).
    """

    inactive_citizens: int = 30
    deliveries: int = 90
    closed_reports: int = 3 * 365

    SETTING, UNIT = "retention", "days per data kind"
    BOUNDS = {"inactive_citizens": (1, 365), "deliveries": (1, 400), "closed_reports": (30, 10 * 365)}

    def days(self, kind: str) -> timedelta:
        return timedelta(days=getattr(self, kind))


@dataclass(frozen=True)
class Limits(BoundedSettings):
    """Caps on what staff may do, the tenant setting `limits` (docs/reliability.md, rows A6 and A7).

    `staff_requests_per_minute` per staff member on the staff API (429 beyond it); broadcasts created per staff
    member per hour and per comune per day; `broadcast_messages_per_day`, the spending guard: recipients of the
    broadcasts a comune starts in one day (each a paid message when outside the 24-hour window)."""

    staff_requests_per_minute: int = 1200
    broadcasts_per_user_per_hour: int = 20
    broadcasts_per_day: int = 100
    broadcast_messages_per_day: int = 250_000

    SETTING, UNIT = "limits", "whole numbers"
    BOUNDS = {"staff_requests_per_minute": (10, 100_000), "broadcasts_per_user_per_hour": (1, 1000),
              "broadcasts_per_day": (1, 10_000), "broadcast_messages_per_day": (1, 10_000_000)}


DEFAULT_RETENTION = Retention()
DEFAULT_LIMITS = Limits()


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
    retention: Retention = DEFAULT_RETENTION  # days per data kind, turned into TTLs
    limits: Limits = DEFAULT_LIMITS  # staff API rate, broadcast caps and spending guard

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

    def approved_templates(self) -> list[dict[str, str]]:
        """The channel's templates WhatsApp approved (name, language, category), one per name, for staff to pick."""
        seen: dict[str, dict[str, str]] = {}
        for t in self.settings.get("templates", {}).values():
            if t.get("name") and t.get("status", "APPROVED") == "APPROVED":
                seen.setdefault(t["name"], {"name": t["name"], "language": t.get("language", "it"),
                                            "category": t.get("category", "utility")})
        return list(seen.values())

    def template(self, purpose: str) -> dict[str, Any] | None:
        """The approved template this channel uses for a purpose, e.g. subscription_confirm."""
        return self.settings.get("templates", {}).get(purpose)
