"""The comune's settings for its administrator (api/settings.py): the sections, a channel's knobs and texts, the
outlines read from a GeoJSON file. The values themselves are validated by the typed settings model
(domain/settings.py), whose descriptions and bounds the answers carry in `knobs`."""
from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from chalicelib.api.schemas.common import Answer
from chalicelib.api.schemas.staff import ChannelKind

Version = Field(ge=0, le=2**53, strict=True, description="The settings' version as read (GET); a save over another "
                "version is refused with 409: someone changed them meanwhile.")


class SectionSave(BaseModel):
    """A section's new value, over the version read. hamlets and topics: a list; reports, calendar, retention,
    limits: an object (TenantSettings' knob); privacy: {url, version}, a new version of the notice."""

    model_config = ConfigDict(extra="forbid")
    version: int = Version
    value: Any = Field(description="The section's whole value, as GET gives it.")


class ChannelSettingsSave(BaseModel):
    """A channel's knobs to replace (the others stay), over the version read. texts: key -> the channel's wording
    ("" goes back to the catalogue's). Not templates."""

    model_config = ConfigDict(extra="forbid")
    version: int = Version
    settings: dict[str, Any] = Field(max_length=20)


class TenantRef(Answer):
    id: str
    name: str


class PrivacySection(Answer):
    url: str
    version: str
    history: list[dict[str, Any]] = Field(description="{version, url, since}, oldest first; the last is current.")


class Sections(Answer):
    hamlets: list[dict[str, Any]] = Field(description="Hamlet: id, name, short_name, latitude, longitude, geometry.")
    topics: list[dict[str, Any]]
    reports: dict[str, Any] = Field(description="ReportSettings: categories, teams, external_bodies, targets, notify...")
    calendar: dict[str, Any]
    retention: dict[str, Any]
    limits: dict[str, Any]
    privacy: PrivacySection
    alerts: dict[str, Any] = Field(description="AlertSettings (Allerte): enabled, zones, places, geocodes, feeds, "
                                   "rules, topic, red_to_everyone, channel, link, push_partners.")
    vicinato: dict[str, Any] = Field(description="VicinatoSettings: enabled, zones, the relay's knobs "
                                     "(docs/vicinato.md).")
    agenda: dict[str, Any] = Field(default_factory=dict, description="AgendaSettings: offices, services, reminders, "
                                   "no-shows, retention (docs/agenda.md).")


class TenantSettingsView(Answer):
    """The comune's settings by section, with defaults filled in, their version and each knob's description and
    bounds (JSON Schema words: minimum, maximum, maxLength...)."""

    version: int
    tenant: TenantRef
    sections: Sections
    knobs: dict[str, dict[str, dict[str, Any]]]
    outline_limits: dict[str, Any] = Field(description="italy (the box outlines must lie in), vertices per hamlet, "
                                           "file_bytes, near_km.")


class SectionSaved(Answer):
    """The settings saved: their new version and every section as now stored."""

    version: int
    sections: Sections


class ChannelRef(Answer):
    id: str
    kind: ChannelKind
    name: str
    display_phone_number: str


class ChannelText(Answer):
    key: str = Field(examples=["subscribe.welcome"])
    default: str = Field(description="The catalogue's text (chalicelib/messages/it.json).")
    override: str | None = Field(description="The channel's own wording; null: the default applies.")
    limit: int | None = Field(description="Characters at most (a WhatsApp button or list row); null: 4,096.")
    placeholders: list[str] = Field(description="The {names} the text may use.")


class ChannelSettingsView(Answer):
    """A channel's knobs (the ones of its kind, not templates), its texts and the examples the preview fills in."""

    version: int
    channel: ChannelRef
    settings: dict[str, Any]
    knobs: dict[str, dict[str, Any]]
    texts: list[ChannelText]
    examples: dict[str, str]


class OutlinesRead(Answer):
    """The hamlets of a GeoJSON file, checked, each with a point inside its outline: not saved."""

    hamlets: list[dict[str, Any]]


GeoJsonFile = Annotated[str, Field(examples=['{"type": "FeatureCollection", "features": [{"type": "Feature", '
                                             '"properties": {"name": "Pieve"}, "geometry": {"type": "Polygon", '
                                             '"coordinates": [[[10.93, 43.73], [10.96, 43.73], [10.96, 43.75], '
                                             '[10.93, 43.73]]]}}]}'], description=(
    "A GeoJSON file: a FeatureCollection of hamlets (each a Feature with properties.name, optionally id, and a "
    "Polygon or MultiPolygon geometry), a single Feature, or a bare Polygon. At most 1 MB."))]
