"""Tenants and channels: read on every message, so cached briefly in the Lambda's memory."""
from __future__ import annotations

import time
from typing import Any

from pynamodb.exceptions import DoesNotExist

from chalicelib.domain.reports import ReportSettings
from chalicelib.domain.tenancy import DEFAULT_RETENTION, BoundedSettings, Channel, Hamlet, Limits, Retention, Tenant, Topic
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
    settings = model.settings or {}
    return Tenant(
        id=model.tenant_id,
        name=model.name,
        hamlets=tuple(Hamlet(**h) for h in settings.get("hamlets", [])),
        topics=tuple(Topic(**t) for t in settings.get("topics", [])),
        privacy_notice_url=settings.get("privacy_notice_url", ""),
        privacy_notice_version=settings.get("privacy_notice_version", ""),
        language=settings.get("language", "it"),
        reports=ReportSettings.from_settings(settings.get("reports")),
        open311_partners=tuple(settings.get("open311_partners", ())),
        retention=_bounded(Retention, model.tenant_id, settings),
        limits=_bounded(Limits, model.tenant_id, settings),
    )


def _bounded(kind: type[BoundedSettings], tenant_id: str, settings: dict):
    """A setting as saved (save_tenant validates it); one written around it must not stop the comune's
    messages: the defaults apply and the error is logged."""
    try:
        return kind.from_settings(settings.get(kind.SETTING))
    except ValueError as error:
        logger.error("invalid tenant setting: the defaults apply",
                     extra={"tenant": tenant_id, "setting": kind.SETTING, "error": str(error)})
        return kind()


def _channel_from(model: ChannelModel) -> Channel:
    return Channel(
        phone_number_id=model.phone_number_id,
        tenant_id=model.tenant_id,
        kind=model.kind,
        name=model.name,
        display_phone_number=model.display_phone_number,
        settings=model.settings or {},
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


def retention(tenant_id: str | None) -> Retention:
    """A tenant's retention setting (the defaults for an unknown tenant), for the stores that set TTLs."""
    tenant = get_tenant(tenant_id) if tenant_id else None
    return tenant.retention if tenant else DEFAULT_RETENTION


def save_tenant(tenant_id: str, name: str, settings: dict) -> None:
    for kind in (Retention, Limits):  # a bad setting is refused here, not found by a TTL or a cap later
        kind.from_settings(settings.get(kind.SETTING))
    TenantModel(tenant_id, name=name, settings=settings).save()
    _cache.pop(("tenant", tenant_id), None)


def save_channel(channel: Channel) -> None:
    ChannelModel(
        channel.phone_number_id, tenant_id=channel.tenant_id, kind=channel.kind, name=channel.name,
        display_phone_number=channel.display_phone_number, settings=channel.settings,
    ).save()
    _cache.pop(("channel", channel.phone_number_id), None)


def ping() -> None:
    """Raises when the directory table does not answer."""
    TenantModel.describe_table()
