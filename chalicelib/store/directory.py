"""Tenants and channels: read on every message, so cached briefly in the Lambda's memory."""
from __future__ import annotations

import time
from dataclasses import fields
from typing import Any

from pynamodb.exceptions import DoesNotExist

from chalicelib.domain.settings import (
    DEFAULT_RETENTION,
    ChannelSettings,
    Retention,
    TenantSettings,
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


def save_tenant(tenant_id: str, name: str, settings: dict) -> None:
    """ValueError naming the knob for a bad setting: refused here, not found by a TTL or a cap later."""
    TenantModel(tenant_id, name=name, settings=stored(tenant_settings(settings))).save()
    _cache.pop(("tenant", tenant_id), None)


def save_channel(channel: Channel) -> None:
    ChannelModel(
        channel.phone_number_id, tenant_id=channel.tenant_id, kind=channel.kind, name=channel.name,
        display_phone_number=channel.display_phone_number, settings=stored(channel.settings),
        waba_id=channel.waba_id or None,
    ).save()
    _cache.pop(("channel", channel.phone_number_id), None)


def ping() -> None:
    """Raises when the directory table does not answer."""
    TenantModel.describe_table()
