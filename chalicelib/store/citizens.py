"""Citizens per channel and their consent ledger."""
from __future__ import annotations

import base64
import functools
import json
import random
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime

from pynamodb.connection import Connection
from pynamodb.exceptions import DeleteError, DoesNotExist, PutError, TransactWriteError
from pynamodb.expressions.condition import size
from pynamodb.transactions import TransactWrite

from chalicelib.domain import audiences as cells
from chalicelib.domain.phones import citizen_key
from chalicelib.domain.subscriptions import Citizen
from chalicelib.store import audiences
from chalicelib.store.models import CitizenModel, ConsentModel, _region

WRITE_ATTEMPTS = 16  # a subscription change that met a concurrent one reads again and retries, this many times
SEEN_MAX = 2048  # citizens whose last read state this process remembers (the expected state of their next save)


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


class Contention(RuntimeError):
    """A citizen changed under every attempt to save them: the caller's work fails and is retried whole."""


@functools.cache
def _connection() -> Connection:
    """One connection (and botocore client) for the transactions, built on first use: a new one per write cost a
    client's creation each time (the service model loaded again, ~1 s on a loaded machine)."""
    return Connection(region=_region())


_seen: OrderedDict[tuple[str, str], Citizen | None] = OrderedDict()
_seen_lock = threading.Lock()


def _remember(channel_id: str, key: str, citizen: Citizen | None) -> None:
    with _seen_lock:
        _seen[(channel_id, key)] = citizen
        _seen.move_to_end((channel_id, key))
        while len(_seen) > SEEN_MAX:
            _seen.popitem(last=False)


def _expected(channel_id: str, key: str) -> Citizen | None:
    """The state this process last read or wrote (verified by the write's condition), else a fresh read."""
    with _seen_lock:
        if (channel_id, key) in _seen:
            return _seen[(channel_id, key)]
    return _read(channel_id, key)


def _read(channel_id: str, key: str) -> Citizen | None:
    try:
        citizen = _to_domain(CitizenModel.get(channel_id, key, consistent_read=True))
    except DoesNotExist:
        citizen = None
    _remember(channel_id, key, citizen)
    return citizen


def get(channel_id: str, key: str) -> Citizen | None:
    try:
        citizen = _to_domain(CitizenModel.get(channel_id, key))
    except DoesNotExist:
        citizen = None
    _remember(channel_id, key, citizen)
    return citizen


def cell(citizen: Citizen | None) -> str | None:
    """The audience cell a stored citizen is counted in (None: not counted)."""
    return cells.cell_of(citizen.active, citizen.hamlets, citizen.topics) if citizen else None


def _unchanged(expected: Citizen | None):
    """A condition: the stored citizen still counts where `expected` does (status, hamlets and topics)."""
    if expected is None:
        return CitizenModel.channel_id.does_not_exist()
    condition = CitizenModel.status == expected.status
    for attribute, values in ((CitizenModel.hamlets, expected.hamlets), (CitizenModel.topics, expected.topics)):
        condition &= (attribute == list(values)) if values else (attribute.does_not_exist() | (size(attribute) == 0))
    return condition


def _pause(attempt: int) -> None:
    """Full jitter before another attempt, so that writers who met do not meet again (at most 0.64 s)."""
    time.sleep(random.uniform(0, 0.01 * 2 ** min(attempt, 6)))


def _lost_race(error: Exception) -> bool:
    """A write refused because the citizen (or a count, in a transaction) changed meanwhile."""
    if getattr(error, "cause_response_code", None) == "ConditionalCheckFailedException":
        return True
    reasons = getattr(error, "cancellation_reasons", None) or []
    return any(r is not None and r.code in ("ConditionalCheckFailed", "TransactionConflict") for r in reasons)


def find(channel_id: str, phone: str | None, user_id: str | None) -> Citizen | None:
    """By phone first, then by business-scoped id: a citizen may have been seen with either."""
    for key in (phone, user_id and citizen_key(None, user_id)):
        if key:
            citizen = get(channel_id, key)
            if citizen:
                return citizen
    return None


def _model(citizen: Citizen, now: datetime) -> CitizenModel:
    recent = citizen.active and citizen.last_inbound_at is not None
    return CitizenModel(
        citizen.channel_id, citizen.key, tenant_id=citizen.tenant_id, phone=citizen.phone,
        user_id=citizen.user_id, status=citizen.status,
        active_channel=citizen.channel_id if citizen.active else None,
        hamlets=list(citizen.hamlets) or None, topics=list(citizen.topics) or None, step=citizen.step,
        source=citizen.source, name=citizen.name, address=citizen.address, hamlet=citizen.hamlet,
        created_at=citizen.created_at or now, updated_at=now, subscribed_at=citizen.subscribed_at,
        stopped_at=citizen.stopped_at, last_inbound_at=citizen.last_inbound_at, expires_at=citizen.expires_at,
        inbound_day=f"{citizen.channel_id}#{citizen.last_inbound_at.astimezone(UTC):%Y-%m-%d}" if recent else None,
    )


def save(citizen: Citizen, now: datetime) -> None:
    """Write the citizen; when the change moves them between audience cells (subscribed, stopped, other hamlets or
    topics), the counts move in the same transaction. The write is conditional on the stored citizen still counting
    where the state read before did: a concurrent change (or a redelivered message) makes it read again and retry,
    so the counts never drift. The last writer's state wins, as a plain put would."""
    channel_id, key = citizen.channel_id, citizen.key
    expected = _expected(channel_id, key)
    for attempt in range(WRITE_ATTEMPTS):
        model, moves = _model(citizen, now), cells.moves(cell(expected), cell(citizen))
        try:
            if moves:
                with TransactWrite(connection=_connection()) as transaction:
                    transaction.save(model, condition=_unchanged(expected))
                    audiences.move(transaction, channel_id, moves)
            else:
                model.save(condition=_unchanged(expected))
        except (PutError, TransactWriteError) as error:
            if not _lost_race(error):
                raise
            _pause(attempt)
            expected = _read(channel_id, key)
            continue
        _remember(channel_id, key, citizen)
        return
    raise Contention(f"citizen {channel_id} changed under {WRITE_ATTEMPTS} attempts to save it")


def delete(channel_id: str, key: str) -> bool:
    """Remove a citizen (erasure); an active one leaves their audience count in the same transaction. False when
    there was nobody to remove."""
    expected = _read(channel_id, key)
    for attempt in range(WRITE_ATTEMPTS):
        if expected is None:
            return False
        moves = cells.moves(cell(expected), None)
        try:
            if moves:
                with TransactWrite(connection=_connection()) as transaction:
                    transaction.delete(CitizenModel(channel_id, key), condition=_unchanged(expected))
                    audiences.move(transaction, channel_id, moves)
            else:
                CitizenModel(channel_id, key).delete(condition=_unchanged(expected))
        except (DeleteError, TransactWriteError) as error:
            if not _lost_race(error):
                raise
            _pause(attempt)
            expected = _read(channel_id, key)
            continue
        _remember(channel_id, key, None)
        return True
    raise Contention(f"citizen {channel_id} changed under {WRITE_ATTEMPTS} attempts to erase it")


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


def count_recent(channel_id: str, since: datetime, until: datetime, hamlets: tuple[str, ...],
                 topics: tuple[str, ...]) -> int:
    """How many of the channel's active subscribers wrote after `since` and would receive an audience of `hamlets`
    and `topics`: domain.broadcasts.Audience.includes as a filter (none chosen is every one), counted by DynamoDB
    (Select COUNT, one Query per UTC day of the sparse 'recent' index): no subscriber's data is read."""
    condition = CitizenModel.status == "active"
    for attribute, wanted in ((CitizenModel.hamlets, hamlets), (CitizenModel.topics, topics)):
        if wanted:  # an audience of every hamlet (topic) takes everyone
            condition &= _chose_one_of(attribute, wanted)
    total, day = 0, since.astimezone(UTC).date()
    while day <= until.astimezone(UTC).date():
        total += CitizenModel.recent.count(f"{channel_id}#{day:%Y-%m-%d}", CitizenModel.last_inbound_at > since,
                                           filter_condition=condition)
        day = date.fromordinal(day.toordinal() + 1)
    return total


def _chose_one_of(attribute, wanted: tuple[str, ...]):
    """A subscriber who chose none (the attribute absent) wants every one; else they chose one of `wanted`."""
    condition = attribute.does_not_exist()
    for value in wanted:
        condition |= attribute.contains(value)
    return condition


def active_choices(channel_id: str) -> Iterator[Citizen]:
    """Every active subscriber of a channel, page by page (the nightly recount)."""
    cursor = None
    while True:
        page_, cursor = active_page(channel_id, cursor, 1000)
        yield from page_
        if cursor is None:
            return
