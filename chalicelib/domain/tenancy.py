"""Tenants (comuni) and their WhatsApp channels: who they are, with the settings of domain/settings.py."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from chalicelib.domain.settings import ChannelSettings, Hamlet, TemplateSetting, TenantSettings, Topic, channel_settings

CHANNEL_KINDS = ("broadcast", "reports", "safety")


@dataclass(frozen=True, kw_only=True)
class Tenant(TenantSettings):
    """A comune: its id and name, and its settings (hamlets, topics, reports, retention, limits, ...)."""

    id: str
    name: str  # "Comune di Esempio"

    def hamlet(self, hamlet_id: str) -> Hamlet | None:
        return next((h for h in self.hamlets if h.id == hamlet_id), None)

    def topic(self, topic_id: str) -> Topic | None:
        return next((t for t in self.topics if t.id == topic_id), None)


@dataclass(frozen=True)
class Channel:
    """One WhatsApp number of a comune, of a kind (broadcast, reports, safety). Settings given as stored JSON are
    validated into ChannelSettings (ValueError naming the knob)."""

    phone_number_id: str
    tenant_id: str
    kind: str
    name: str
    display_phone_number: str
    settings: ChannelSettings | dict[str, Any] = field(default_factory=ChannelSettings)
    waba_id: str = ""  # the WhatsApp Business Account the number belongs to (its templates are the account's)

    def __post_init__(self) -> None:
        if not isinstance(self.settings, ChannelSettings):
            object.__setattr__(self, "settings", channel_settings(self.settings))

    @property
    def texts(self) -> dict[str, str]:
        """Per-channel overrides of catalogue texts."""
        return self.settings.texts

    @property
    def rate_per_second(self) -> float:
        return float(self.settings.rate_per_second)

    def approved_templates(self) -> list[dict[str, str]]:
        return self.settings.approved_templates()

    def template(self, purpose: str) -> TemplateSetting | None:
        """The template this channel uses for a purpose (domain.settings.TEMPLATE_PURPOSES), if it has one."""
        return self.settings.templates.get(purpose)
