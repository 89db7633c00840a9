"""Citizens per channel and their consent ledger."""
from __future__ import annotations

import base64
import json
import uuid
from dataclasses import dataclass
from datetime import datetime

from pynamodb.exceptions import DeleteError, DoesNotExist, PutError

from chalicelib.domain.phones import citizen_key
from chalicelib.domain.subscriptions import Citizen
from chalicelib.store.models import CitizenModel, ConsentModel


@dataclass(frozen=True)
class ConsentEntry:
    channel_id: str
    citizen_key: str
    tenant_id: str
    action: str  # grant or withdraw
    purpose: str
    path: str
    recorded_at: datetime
    notice_version: str | None = None
    message_id: str | None = None
    actor: str | None = None


# What a broadcast's fan-out and preview read of each subscriber: the rest stays in the table.
AUDIENCE_FIELDS = ("channel_id", "citizen_key", "tenant_id", "phone", "user_id", "status", "hamlets", "topics",
                   "last_inbound_at")


def _to_domain(m: CitizenModel) -> Citizen:
    return Citizen(
        channel_id=m.channel_id, tenant_id=m.tenant_id, phone=m.phone, user_id=m.user_id, status=m.status,
        hamlets=tuple(m.hamlets or ()), topics=tuple(m.topics or ()), step=m.step, source=m.source,
        name=m.name, address=m.address, hamlet=m.hamlet, created_at=m.created_at,
        subscribed_at=m.subscribed_at, stopped_at=m.stopped_at, last_inbound_at=m.last_inbound_at,
        expires_at=m.expires_at,
    )


def get(channel_id: str, key: str) -> Citizen | None:
    try:
        return _to_domain(CitizenModel.get(channel_id, key))
    except DoesNotExist:
        return None


def find(channel_id: str, phone: str | None, user_id: str | None) -> Citizen | None:
    """By phone first, then by business-scoped id: a citizen may have been seen with either."""
    for key in (phone, user_id and citizen_key(None, user_id)):
        if key:
            citizen = get(channel_id, key)
            if citizen:
                return citizen
    return None


def save(citizen: Citizen, now: datetime) -> None:
    CitizenModel(
        citizen.channel_id, citizen.key, tenant_id=citizen.tenant_id, phone=citizen.phone,
        user_id=citizen.user_id, status=citizen.status,
        active_channel=citizen.channel_id if citizen.active else None,
        hamlets=list(citizen.hamlets) or None, topics=list(citizen.topics) or None, step=citizen.step,
        source=citizen.source, name=citizen.name, address=citizen.address, hamlet=citizen.hamlet,
        created_at=citizen.created_at or now, updated_at=now, subscribed_at=citizen.subscribed_at,
        stopped_at=citizen.stopped_at, last_inbound_at=citizen.last_inbound_at, expires_at=citizen.expires_at,
    ).save()


def delete(channel_id: str, key: str) -> bool:
    try:
        CitizenModel(channel_id, key).delete(condition=CitizenModel.channel_id.exists())
        return True
    except DeleteError as exc:
        if getattr(exc, "cause_response_code", "") == "ConditionalCheckFailedException":
            return False
        raise


def encode_cursor(key: dict | None) -> str | None:
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode() if key else None


def decode_cursor(cursor: str | None, keys: tuple[str, ...] = ("channel_id", "citizen_key"),
                  partition: str | None = None) -> dict | None:
    """A cursor back into the table key it came from; ValueError for anything else (a forged or foreign
    cursor is the caller's error, never a query DynamoDB would refuse)."""
    if not cursor:
        return None
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (ValueError, TypeError):
        raise ValueError("invalid cursor") from None
    if not isinstance(key, dict) or set(key) != set(keys) or not all(
            isinstance(v, dict) and list(v) == ["S"] and isinstance(v["S"], str) and 0 < len(v["S"]) <= 1024
            for v in key.values()):
        raise ValueError("invalid cursor")
    if partition is not None and key[keys[0]]["S"] != partition:
        raise ValueError("invalid cursor")  # another partition's cursor: outside this query
    return key


def page(channel_id: str, status: str | None, prefix: str | None, limit: int,
         cursor: str | None) -> tuple[list[Citizen], str | None]:
    """One page of a channel's citizens, optionally by status and by key prefix (e.g. '+39335')."""
    start = decode_cursor(cursor, partition=channel_id)
    range_condition = CitizenModel.citizen_key.startswith(prefix) if prefix else None
    filter_condition = (CitizenModel.status == status) if status else None
    result = CitizenModel.query(
        channel_id, range_key_condition=range_condition, filter_condition=filter_condition,
        limit=limit, last_evaluated_key=start, page_size=max(limit, 25),
    )
    items = [_to_domain(m) for m in result]
    return items, encode_cursor(result.last_evaluated_key) if len(items) >= limit else None


def record_consent(entry: ConsentEntry) -> None:
    """Append to the ledger (replays of a message are stopped earlier, by the idempotent handler)."""
    suffix = f"{entry.message_id}#{entry.action}" if entry.message_id else uuid.uuid4().hex
    try:
        ConsentModel(
            f"{entry.channel_id}#{entry.citizen_key}", f"{entry.recorded_at.isoformat()}#{suffix}",
            tenant_id=entry.tenant_id, channel_id=entry.channel_id, action=entry.action, purpose=entry.purpose,
            path=entry.path, notice_version=entry.notice_version, message_id=entry.message_id, actor=entry.actor,
        ).save(condition=ConsentModel.subject.does_not_exist())
    except PutError as exc:
        if getattr(exc, "cause_response_code", "") != "ConditionalCheckFailedException":
            raise


def consents(channel_id: str, key: str) -> list[ConsentEntry]:
    return [
        ConsentEntry(
            channel_id=m.channel_id, citizen_key=key, tenant_id=m.tenant_id, action=m.action,
            purpose=m.purpose, path=m.path, recorded_at=datetime.fromisoformat(m.recorded_at.split("#")[0]),
            notice_version=m.notice_version, message_id=m.message_id, actor=m.actor,
        )
        for m in ConsentModel.query(f"{channel_id}#{key}")
    ]



def active_page(channel_id: str, cursor: dict | None, size: int) -> tuple[list[Citizen], dict | None]:
    """One page of a channel's active subscribers (the sparse index), and where the next one starts."""
    result = CitizenModel.active.query(channel_id, limit=size, last_evaluated_key=cursor, page_size=size,
                                       attributes_to_get=list(AUDIENCE_FIELDS))
    items = [_to_domain(m) for m in result]
    return items, result.last_evaluated_key if len(items) >= size else None


def parse_time(value: str | None) -> datetime | None:
    """A time as the citizens table stores it (PynamoDB's UTC format), from a raw item."""
    if not value:
        return None
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%f%z")
