"""Tenants and channels: read on every message, so cached briefly in the Lambda's memory."""
from __future__ import annotations

import secrets
import time
from dataclasses import fields
from typing import Any

from pynamodb.exceptions import DoesNotExist, UpdateError

from chalicelib.domain.settings import (
    DEFAULT_RETENTION,
    ChannelSettings,
    Retention,
    TenantSettings,
    channel_settings,
    lenient,
    stored,
    tenant_settings,
)
from chalicelib.domain.tenancy import Channel, Tenant
from chalicelib.observability import logger
from chalicelib.store.models import ChannelModel, TenantModel

CACHE_SECONDS = 60.0
_cache: dict[tuple[str, str], tuple[float, Any]] = {}


def _cached(kind: str, key: str, load):
    now = time.monotonic()
    hit = _cache.get((kind, key))
    if hit and now - hit[0] < CACHE_SECONDS:
        return hit[1]
    value = load()
    _cache[(kind, key)] = (now, value)
    return value


def _tenant_from(model: TenantModel) -> Tenant:
    settings = _readable(TenantSettings, model.tenant_id, model.settings)
    return Tenant(id=model.tenant_id, name=model.name, **{f.name: getattr(settings, f.name) for f in fields(settings)})


def _readable(kind, owner: str, raw):
    """Settings as saved (save_tenant / save_channel validate them); a knob written around those must not stop
    the comune's messages: it takes its default and the error is logged."""
    settings, errors = lenient(kind, raw)
    if errors:
        logger.error("invalid settings: the defaults apply to these knobs", extra={"owner": owner, "errors": errors})
    return settings


def _channel_from(model: ChannelModel) -> Channel:
    return Channel(
        phone_number_id=model.phone_number_id,
        tenant_id=model.tenant_id,
        kind=model.kind,
        name=model.name,
        display_phone_number=model.display_phone_number,
        settings=_readable(ChannelSettings, model.phone_number_id, model.settings),
        waba_id=model.waba_id or "",
    )


def get_tenant(tenant_id: str) -> Tenant | None:
    def load():
        try:
            return _tenant_from(TenantModel.get(tenant_id))
        except DoesNotExist:
            return None
    return _cached("tenant", tenant_id, load)


def get_channel(phone_number_id: str) -> Channel | None:
    def load():
        try:
            return _channel_from(ChannelModel.get(phone_number_id))
        except DoesNotExist:
            return None
    return _cached("channel", phone_number_id, load)


def channels_of(tenant_id: str) -> list[Channel]:
    return [_channel_from(m) for m in ChannelModel.by_tenant.query(tenant_id)]


def tenants() -> list[Tenant]:
    """Every comune (a Scan of the small tenants table: the daily digests' round)."""
    return [_tenant_from(model) for model in TenantModel.scan()]


def retention(tenant_id: str | None) -> Retention:
    """A tenant's retention setting (the defaults for an unknown tenant), for the stores that set TTLs."""
    tenant = get_tenant(tenant_id) if tenant_id else None
    return tenant.retention if tenant else DEFAULT_RETENTION


def _new_version() -> int:
    return secrets.randbelow(2**53 - 1) + 1  # opaque, not a count: any save (versioned or not) makes a new one


class StaleVersion(Exception):
    """The settings changed since the version the caller read: saving would lose that change."""


def save_tenant(tenant_id: str, name: str, settings: dict) -> None:
    """ValueError naming the knob for a bad setting: refused here, not found by a TTL or a cap later."""
    TenantModel(tenant_id, name=name, settings=stored(tenant_settings(settings)), version=_new_version()).save()
    _cache.pop(("tenant", tenant_id), None)


def save_channel(channel: Channel) -> None:
    ChannelModel(
        channel.phone_number_id, tenant_id=channel.tenant_id, kind=channel.kind, name=channel.name,
        display_phone_number=channel.display_phone_number, settings=stored(channel.settings),
        version=_new_version(),
        waba_id=channel.waba_id or None,
    ).save()
    _cache.pop(("channel", channel.phone_number_id), None)


def stored_tenant(tenant_id: str) -> tuple[dict, int] | None:
    """A tenant's settings as stored (not cached) and their version (0: never saved with one)."""
    try:
        model = TenantModel.get(tenant_id, consistent_read=True)
    except DoesNotExist:
        return None
    return dict(model.settings or {}), int(model.version or 0)


def stored_channel(phone_number_id: str) -> tuple[dict, int] | None:
    """A channel's settings as stored (not cached) and their version (0: never saved with one)."""
    try:
        model = ChannelModel.get(phone_number_id, consistent_read=True)
    except DoesNotExist:
        return None
    return dict(model.settings or {}), int(model.version or 0)


def _version_is(model_class, version: int):
    return model_class.version.does_not_exist() if version == 0 else model_class.version == version


def update_tenant_settings(tenant_id: str, settings: dict, version: int) -> int:
    """Replace a tenant's settings (validated: ValueError) only if still at version; StaleVersion otherwise.
    Returns the new version. This Lambda's cache forgets the tenant at once; the others' within CACHE_SECONDS."""
    valid = stored(tenant_settings(settings))
    new = _new_version()
    try:
        TenantModel(tenant_id).update(actions=[TenantModel.settings.set(valid), TenantModel.version.set(new)],
                                      condition=TenantModel.tenant_id.exists() & _version_is(TenantModel, version))
    except UpdateError as error:
        if _condition_failed(error):
            raise StaleVersion(tenant_id) from None
        raise
    _cache.pop(("tenant", tenant_id), None)
    return new


def update_channel_settings(phone_number_id: str, settings: dict, version: int) -> int:
    """Replace a channel's settings (validated: ValueError) only if still at version; StaleVersion otherwise."""
    valid = stored(channel_settings(settings))
    new = _new_version()
    try:
        ChannelModel(phone_number_id).update(
            actions=[ChannelModel.settings.set(valid), ChannelModel.version.set(new)],
            condition=ChannelModel.phone_number_id.exists() & _version_is(ChannelModel, version))
    except UpdateError as error:
        if _condition_failed(error):
            raise StaleVersion(phone_number_id) from None
        raise
    _cache.pop(("channel", phone_number_id), None)
    return new


def _condition_failed(error: UpdateError) -> bool:
    return getattr(error, "cause_response_code", None) == "ConditionalCheckFailedException"


def ping() -> None:
    """Raises when the directory table does not answer."""
    TenantModel.describe_table()
