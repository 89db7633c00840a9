"""Broadcasts: records, the scheduler's due index, fan-out checkpoints and counters."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime

from botocore.exceptions import ClientError
from pynamodb.exceptions import DoesNotExist, UpdateError

from chalicelib.domain.broadcasts import Audience, Counters
from chalicelib.resources import table_name
from chalicelib.store.citizens import decode_cursor, encode_cursor
from chalicelib.store.dynamo import client, is_conditional, plain
from chalicelib.store.models import BroadcastModel

DUE = "scheduled"  # the due index's only partition: scheduled broadcasts
COUNTERS = ("recipients", "sent", "delivered", "read", "failed", "skipped", "failed_on_send", "ambiguous")


@dataclass(frozen=True)
class Broadcast:
    tenant_id: str
    id: str
    channel_id: str
    status: str
    content: dict
    audience: Audience
    priority: str
    send_at: str
    due_at: str
    created_by: str
    created_at: str
    started_at: str | None = None
    finished_at: str | None = None
    pause_reason: str | None = None
    cursor: dict | None = None
    page: int = 0
    fanout_done: bool = False
    counters: Counters = field(default_factory=Counters)


def _from_model(m: BroadcastModel) -> Broadcast:
    return from_item(plain(m.serialize()))


def create(b: Broadcast) -> None:
    BroadcastModel(
        b.tenant_id, b.id, channel_id=b.channel_id, status=b.status, content=b.content,
        audience={"hamlets": list(b.audience.hamlets), "topics": list(b.audience.topics),
                  **({"zones": list(b.audience.zones), "exclude": list(b.audience.exclude)} if b.audience.zones else {})},
        priority=b.priority,
        send_at=b.send_at, due_at=b.due_at, due_bucket=DUE if b.status == "scheduled" else None,
        created_by=b.created_by, created_at=b.created_at,
    ).save(condition=BroadcastModel.broadcast_id.does_not_exist())


def get(tenant_id: str, broadcast_id: str) -> Broadcast | None:
    try:
        return _from_model(BroadcastModel.get(tenant_id, broadcast_id, consistent_read=True))
    except DoesNotExist:
        return None


def page(tenant_id: str, limit: int, cursor: str | None) -> tuple[list[Broadcast], str | None]:
    """Newest first."""
    result = BroadcastModel.query(tenant_id, scan_index_forward=False, limit=limit,
                                  last_evaluated_key=decode_cursor(cursor, ("tenant_id", "broadcast_id"), tenant_id))
    items = [_from_model(m) for m in result]
    return items, encode_cursor(result.last_evaluated_key) if len(items) >= limit else None


def due(now: datetime, limit: int = 50) -> list[Broadcast]:
    """Scheduled broadcasts whose time has come."""
    return [_from_model(m) for m in BroadcastModel.due.query(
        DUE, BroadcastModel.due_at <= now.isoformat(), limit=limit)]


def transition(tenant_id: str, broadcast_id: str, allowed_from: set[str], to: str, now: datetime,
               reason: str | None = None) -> bool:
    """Move a broadcast from one of allowed_from to `to` with a conditional write; False if it had moved."""
    actions = [BroadcastModel.status.set(to)]
    if to == "scheduled":
        actions.append(BroadcastModel.due_bucket.set(DUE))
    else:
        actions.append(BroadcastModel.due_bucket.remove())
    if to == "sending":
        actions.append(BroadcastModel.started_at.set(now.isoformat()))
    if to in ("completed", "cancelled"):
        actions.append(BroadcastModel.finished_at.set(now.isoformat()))
    if to == "paused":
        actions.append(BroadcastModel.pause_reason.set(reason or "paused by staff"))
    if to == "sending" and "paused" in allowed_from:  # resume: fan out again from the start
        actions += [BroadcastModel.cursor.remove(), BroadcastModel.page.set(0), BroadcastModel.recipients.set(0),
                    BroadcastModel.fanout_done.set(False), BroadcastModel.pause_reason.remove()]
    try:
        BroadcastModel(tenant_id, broadcast_id).update(
            actions=actions, condition=BroadcastModel.status.is_in(*allowed_from))
        return True
    except UpdateError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            return False
        raise


def checkpoint(tenant_id: str, broadcast_id: str, cursor: dict | None, page_number: int, recipients: int,
               done: bool) -> bool:
    """Record a fanned-out page; False when the broadcast is no longer sending (paused or cancelled)."""
    actions = [BroadcastModel.page.set(page_number), BroadcastModel.recipients.add(recipients),
               BroadcastModel.fanout_done.set(done)]
    actions.append(BroadcastModel.cursor.set(cursor) if cursor else BroadcastModel.cursor.remove())
    try:
        BroadcastModel(tenant_id, broadcast_id).update(
            actions=actions,
            condition=(BroadcastModel.status == "sending") & (BroadcastModel.page == page_number - 1))
        return True
    except UpdateError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            return False
        raise


def add_counts(tenant_id: str, broadcast_id: str, counts: dict[str, int], reasons: dict[str, int]) -> Broadcast | None:
    """Add to the counters in one request; returns the broadcast as it now stands."""
    update = counts_update(tenant_id, broadcast_id, counts, reasons)
    if update is None:
        return None
    try:
        answer = client().update_item(**update, ReturnValues="ALL_NEW")
    except ClientError as error:
        if is_conditional(error):
            return None
        raise
    return from_item(plain(answer["Attributes"]))


def counts_update(tenant_id: str, broadcast_id: str, counts: dict[str, int], reasons: dict[str, int]) -> dict | None:
    """add_counts's write as a request's parameters (None: nothing to add), for a caller that makes it in one
    transaction with others; conditional on the broadcast being there."""
    counts = {k: v for k, v in counts.items() if v}
    reasons = {k: v for k, v in reasons.items() if v}
    if not counts and not reasons:
        return None
    names, values, parts = {}, {}, []
    if counts:
        parts.append("ADD " + ", ".join(f"#{k} :{k}" for k in counts))
        names.update({f"#{k}": k for k in counts})
        values.update({f":{k}": {"N": str(v)} for k, v in counts.items()})
    if reasons:
        names["#reasons"] = "failed_by_reason"
        values[":zero"] = {"N": "0"}
        sets = []
        for i, (code, n) in enumerate(reasons.items()):
            names[f"#r{i}"] = code
            values[f":r{i}"] = {"N": str(n)}
            sets.append(f"#reasons.#r{i} = if_not_exists(#reasons.#r{i}, :zero) + :r{i}")
        parts.insert(0, "SET " + ", ".join(sets))
    return {"TableName": table_name("broadcasts"),
            "Key": {"tenant_id": {"S": tenant_id}, "broadcast_id": {"S": broadcast_id}},
            "UpdateExpression": " ".join(parts), "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values, "ConditionExpression": "attribute_exists(broadcast_id)"}


def from_item(item: dict) -> Broadcast:
    """A broadcast from a plain DynamoDB item (as batch reads and counter updates return it)."""
    audience = _json(item.get("audience")) or {}
    return Broadcast(
        tenant_id=item["tenant_id"], id=item["broadcast_id"], channel_id=item["channel_id"], status=item["status"],
        content=_json(item.get("content")) or {},
        audience=Audience(tuple(audience.get("hamlets", [])), tuple(audience.get("topics", [])),
                          tuple(audience.get("zones", [])), tuple(audience.get("exclude", []))),
        priority=item.get("priority", "normal"), send_at=item.get("send_at", ""), due_at=item.get("due_at", ""),
        created_by=item.get("created_by", ""), created_at=item.get("created_at", ""),
        started_at=item.get("started_at"), finished_at=item.get("finished_at"),
        pause_reason=item.get("pause_reason"), cursor=_json(item.get("cursor")), page=int(item.get("page", 0)),
        fanout_done=bool(item.get("fanout_done", False)),
        counters=Counters(**{name: int(item.get(name, 0)) for name in COUNTERS},
                          failed_by_reason={k: int(v) for k, v in (item.get("failed_by_reason") or {}).items()}),
    )


def _json(value):
    return json.loads(value) if isinstance(value, str) else value
