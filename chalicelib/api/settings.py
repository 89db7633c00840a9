"""The comune's settings for its administrator: hamlets and their outlines, topics, report set-up, calendar,
retention, limits, privacy notice, and each channel's knobs and texts (issue 15)."""
from __future__ import annotations

from chalice import Blueprint

from chalicelib.api import lazy
from chalicelib.api.auth import staff_only
from chalicelib.api.http import ApiError, json_errors, parse_body
from chalicelib.api.openapi import documented
from chalicelib.api.staff import staff_channel
from chalicelib.domain.access import Capability, Staff
from chalicelib.domain.outlines import MAX_FILE_BYTES

settings_rules = lazy("chalicelib.domain.settings")
access = lazy("chalicelib.services.access")
channel_settings = lazy("chalicelib.services.admin.channel_settings")
settings = lazy("chalicelib.services.admin.settings")

bp = Blueprint(__name__)
GEOJSON_TYPES = ["application/geo+json", "application/json"]


def _refused(refused: settings.Refused) -> ApiError:
    return ApiError(422, "invalid_settings", "Some settings are invalid: see details (text: in Italian, for staff).",
                    refused.problems)


def _stale() -> ApiError:
    return ApiError(409, "stale_version", "The settings changed since you read them: read them again, then save.")


def _no_tenant() -> ApiError:
    return ApiError(404, "not_found", "Your comune is not set up.")


@bp.route("/api/v1/settings", methods=["GET"])
@documented({200: "TenantSettingsView"}, errors=(404,))
@json_errors
@staff_only(bp, Capability.SETUP)
def read_settings(staff: Staff):
    """The comune's settings by section, their version, and each knob's description and bounds."""
    try:
        return settings.read(staff)
    except access.NotFound:
        raise _no_tenant() from None


@bp.route("/api/v1/settings/{section}", methods=["PUT"], content_types=["application/json"])
@documented({200: "SectionSaved"}, body="SectionSave", errors=(404, 409), example={
    "version": 0, "value": [{"id": "viabilita", "name": "Viabilità e lavori"}]})
@json_errors
@staff_only(bp, Capability.SETUP)
def save_settings_section(staff: Staff, section: str):
    """Replace one section of the comune's settings (audited with its value before and after).

    Refused field by field (422, each detail with its Italian `text`) with nothing changed; 409 when the settings
    changed since the version read. Takes effect at once here, everywhere within a minute."""
    if section not in settings_rules.TENANT_SECTIONS:
        raise ApiError(404, "not_found", f"No such section: one of {', '.join(settings_rules.TENANT_SECTIONS)}.")
    from chalicelib.api.schemas.settings import SectionSave

    data = parse_body(bp.current_request, SectionSave)
    try:
        return settings.save(staff, section, data.version, data.value)
    except settings.Refused as refused:
        raise _refused(refused) from None
    except settings.Stale:
        raise _stale() from None
    except access.NotFound:
        raise _no_tenant() from None


@bp.route("/api/v1/settings/hamlets/import", methods=["POST"], content_types=GEOJSON_TYPES)
@documented({200: "OutlinesRead"}, body="GeoJsonFile", errors=(404, 413, 422))
@json_errors
@staff_only(bp, Capability.SETUP)
def import_hamlet_outlines(staff: Staff):
    """Read hamlets' outlines from a GeoJSON file and check them, saving nothing.

    Each problem is a detail naming the feature, with its Italian `text`. Save the hamlets with
    PUT /api/v1/settings/hamlets."""
    body = bp.current_request.raw_body or b""
    if len(body) > MAX_FILE_BYTES:
        raise ApiError(413, "too_large", f"The file is over {MAX_FILE_BYTES} bytes.")
    try:
        return settings.import_outlines(staff, body)
    except settings.Refused as refused:
        raise _refused(refused) from None
    except access.NotFound:
        raise _no_tenant() from None


@bp.route("/api/v1/channels/{channel_id}/settings", methods=["GET"])
@documented({200: "ChannelSettingsView"}, errors=(404,))
@json_errors
@staff_only(bp, Capability.SETUP)
def read_channel_settings(staff: Staff, channel_id: str):
    """A channel's knobs (hours, limits, urgent words, on-call phone), texts and the preview's examples."""
    found = staff_channel(staff, channel_id)
    try:
        return channel_settings.read(staff, found.phone_number_id)
    except access.NotFound:
        raise ApiError(404, "not_found", "No such channel for your comune.") from None


@bp.route("/api/v1/channels/{channel_id}/settings", methods=["PUT"], content_types=["application/json"])
@documented({200: "ChannelSettingsView"}, body="ChannelSettingsSave", errors=(404, 409), example={
    "version": 0, "settings": {"quiet_hours": {"start": "22:00", "end": "07:30"}}})
@json_errors
@staff_only(bp, Capability.SETUP)
def save_channel_settings(staff: Staff, channel_id: str):
    """Replace some of a channel's knobs, not its templates (audited with the knobs before and after).

    422 field by field (Italian `text`) with nothing changed; 409 when they changed since the version read."""
    found = staff_channel(staff, channel_id)
    from chalicelib.api.schemas.settings import ChannelSettingsSave

    data = parse_body(bp.current_request, ChannelSettingsSave)
    try:
        return channel_settings.save(staff, found.phone_number_id, data.version, data.settings)
    except settings.Refused as refused:
        raise _refused(refused) from None
    except settings.Stale:
        raise _stale() from None
    except access.NotFound:
        raise ApiError(404, "not_found", "No such channel for your comune.") from None

