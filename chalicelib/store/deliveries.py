"""Delivery records and job leases: what makes every send idempotent, in as few requests as possible.

The hot path uses the low-level client: per job one lease, one BatchGetItem (deliveries, citizens and the
broadcast together), one claim and one settling write on the lease item (a transaction with the broadcast's counts
and the usage meter's count of the run's sends); per recipient one conditional write.

A job's lease item also holds its claims: the (content, recipient) pairs a run is about to send, written
before any of them is sent and removed once their results are counted. A claim still there when a later
run takes the job over is a send that may have left: that run never sends it blindly again (services.
messaging.outbound resolves it from its record, its status webhooks or, failing both, the time since).
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache

from botocore.exceptions import ClientError

from chalicelib.domain.settings import DEFAULT_RETENTION
from chalicelib.resources import table_name
from chalicelib.store import directory
from chalicelib.store.dynamo import client as _client
from chalicelib.store.dynamo import is_conditional as _is_conditional
from chalicelib.store.dynamo import plain

RETENTION = DEFAULT_RETENTION.days("deliveries")  # the default; a record of a tenant's send lives its `retention.deliveries` days
LEASE = timedelta(seconds=15)  # a job is worked by one run at a time; renewed while it runs, a dead run's lapses soon
LEASE_KEY = "#lease"
STATUS_RANK = {"sent": 1, "delivered": 2, "read": 3, "played": 3, "failed": 4, "skipped": 5}
BILLED_RANKS = (STATUS_RANK["delivered"], STATUS_RANK["read"])  # a message WhatsApp charges for reached the phone
BATCH_GET_MAX = 100
SUMMARY_MAX = 500  # characters of what a reply said, kept on its record


@dataclass(frozen=True)
class Delivery:
    key: str
    recipient: str
    status: str
    provider_message_id: str | None
    error_code: int | None
    recorded_at: str | None = None  # None: a status webhook arrived, the send's own record did not (yet)


@dataclass(frozen=True)
class Snapshot:
    """What a sender needs to know before a job: what is recorded (and how), which unrecorded sends already have
    a status webhook (so they left), who is still subscribed, the broadcast."""

    recorded: set[tuple[str, str]]
    citizens: dict[str, dict]
    broadcast: dict | None
    results: dict[tuple[str, str], dict]
    evidence: set[tuple[str, str]]


@dataclass(frozen=True)
class Lease:
    """A job's lease as a run found it: taken (until is ours) or held by another run (until is theirs); the claims
    earlier runs left, those of them a run saw the provider accept, and the last moment a send of theirs may have
    left (the end of the last sending run, or of its lease if it died)."""

    taken: bool
    until: datetime
    claims: frozenset[str]
    accepted: frozenset[str]
    sent_until: datetime | None


def _epoch(moment: datetime) -> str:
    return str(int(moment.timestamp()))


def _instant(moment: datetime) -> str:
    return f"{moment.timestamp():.3f}"


def _moment(value) -> datetime | None:
    return datetime.fromtimestamp(float(value), UTC) if value is not None else None


def _lease_key(job_id: str) -> dict:
    return {"job_id": {"S": job_id}, "recipient": {"S": LEASE_KEY}}


def lease(job_id: str, holder: str, now: datetime) -> Lease:
    """Take the job for the run `holder` unless another run holds it; the claims are kept from run to run."""
    until = now + LEASE
    try:
        answer = _client().update_item(
            TableName=table_name("deliveries"), Key=_lease_key(job_id),
            UpdateExpression="SET holder = :holder, leased_until = :until, expires_at = :expires",
            ConditionExpression="attribute_not_exists(leased_until) OR leased_until < :now",
            ExpressionAttributeValues={":holder": {"S": holder}, ":until": {"N": _instant(until)},
                                       ":now": {"N": _instant(now)}, ":expires": {"N": _epoch(now + RETENTION)}},
            ReturnValues="ALL_OLD", ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
    except ClientError as error:
        if not _is_conditional(error):
            raise
        held = plain(error.response.get("Item") or {})
        return Lease(False, _moment(held.get("leased_until")) or until, frozenset(), frozenset(), None)
    old = plain(answer.get("Attributes") or {})
    return Lease(True, until, frozenset(old.get("claims") or ()), frozenset(old.get("accepted") or ()),
                 _moment(old.get("sent_until", old.get("leased_until"))))


def _update_lease(job_id: str, holder: str, expression: str, values: dict, together: list[dict] = ()) -> bool:
    """One conditional update of the lease item by the run that holds it; False when another run took it over.
    With together (other items' updates, as UpdateItem takes them), all in one transaction: none without the
    others. Another item's condition that fails cancels it too: that is raised (TransactionCanceledException)."""
    update = {"TableName": table_name("deliveries"), "Key": _lease_key(job_id), "UpdateExpression": expression,
              "ConditionExpression": "holder = :holder",
              "ExpressionAttributeValues": {":holder": {"S": holder}, **values}}
    try:
        if not together:
            _client().update_item(**update)
        else:  # botocore gives the transaction a ClientRequestToken: its retries are applied once
            _client().transact_write_items(TransactItems=[{"Update": u} for u in (update, *together)])
        return True
    except ClientError as error:
        if _is_conditional(error) or _lease_refused(error):
            return False
        raise


def _lease_refused(error: ClientError) -> bool:
    """A transaction cancelled by the condition on the lease item (its first item)."""
    reasons = error.response.get("CancellationReasons") or []
    return bool(reasons) and reasons[0].get("Code") == "ConditionalCheckFailed"


def renew(job_id: str, holder: str, now: datetime, sending: bool) -> bool:
    """Extend the lease of a run that is still working (its heartbeat); a sending run (it has claimed) may send
    until the new end."""
    expression = "SET leased_until = :until" + (", sent_until = :until" if sending else "")
    return _update_lease(job_id, holder, expression, {":until": {"N": _instant(now + LEASE)}})


def claim(job_id: str, holder: str, claims: set[str], now: datetime) -> bool:
    """Write down the pairs this run is about to send, before any of them is sent (it renews the lease too)."""
    return _update_lease(job_id, holder, "SET leased_until = :until, sent_until = :until ADD claims :claims",
                         {":until": {"N": _instant(now + LEASE)}, ":claims": {"SS": sorted(claims)}})


def settle(job_id: str, holder: str, done: set[str], accepted: set[str], release: bool, sent: bool,
           now: datetime, together: list[dict] = ()) -> bool:
    """A run's end on its lease item: the claims it settled (counted, or never sent) removed, the sends the
    provider accepted but no record could hold noted, so no run sends them again; a run that sent ends its
    sending now; with release, the lease is given back at once (the job comes back, and its next run need not
    wait for the lease to lapse). With together (other items' updates), all in one transaction.

    `accepted` grows only: a pair counts as accepted while it is also still claimed."""
    sets, actions, values = [], [], {":now": {"N": _instant(now)}}
    if release:
        sets.append("leased_until = :now")
    if sent:
        sets.append("sent_until = :now")
    if sets:
        actions.append("SET " + ", ".join(sets))
    if accepted:
        actions.append("ADD accepted :accepted")
        values[":accepted"] = {"SS": sorted(accepted)}
    if done:
        actions.append("DELETE claims :done")
        values[":done"] = {"SS": sorted(done)}
    if not actions:
        if not together:
            return True
        actions.append("SET holder = :holder")  # nothing of the lease's own to write: the lease is still checked
    if not sets:
        del values[":now"]
    return _update_lease(job_id, holder, " ".join(actions), values, together)


def snapshot(delivery_keys: list[tuple[str, str]], channel_id: str, citizen_keys: list[str],
             broadcast: tuple[str, str] | None) -> Snapshot:
    """One BatchGetItem (or a few, past 100 keys) across deliveries, citizens and broadcasts."""
    requests: list[tuple[str, dict]] = [(table_name("deliveries"), {"job_id": {"S": k}, "recipient": {"S": r}})
                                        for k, r in delivery_keys]
    requests += [(table_name("citizens"), {"channel_id": {"S": channel_id}, "citizen_key": {"S": c}})
                 for c in citizen_keys]
    if broadcast:
        requests.append((table_name("broadcasts"), {"tenant_id": {"S": broadcast[0]},
                                                    "broadcast_id": {"S": broadcast[1]}}))
    items: dict[str, list[dict]] = {}
    for start in range(0, len(requests), BATCH_GET_MAX):
        for table, found in _batch_get(requests[start:start + BATCH_GET_MAX]).items():
            items.setdefault(table, []).extend(found)
    rows = items.get(table_name("deliveries"), [])
    results = {(i["job_id"], i["recipient"]): i for i in rows if i.get("recorded_at") is not None}
    evidence = {(i["job_id"], i["recipient"]) for i in rows
                if i.get("recorded_at") is None and i.get("status_rank") is not None}
    citizens = {i["citizen_key"]: i for i in items.get(table_name("citizens"), [])}
    broadcasts = items.get(table_name("broadcasts"), [])
    return Snapshot(set(results), citizens, broadcasts[0] if broadcasts else None, results, evidence)


def _projection(*names: str) -> dict:
    """Only what the sender reads of each table ('status' is a reserved word, hence the aliases)."""
    return {"ProjectionExpression": ", ".join(f"#a{i}" for i in range(len(names))),
            "ExpressionAttributeNames": {f"#a{i}": name for i, name in enumerate(names)}}


@cache
def _projections() -> dict[str, dict]:
    return {
        table_name("deliveries"): _projection("job_id", "recipient", "recorded_at", "outcome", "status_rank",
                                              "error_code", "error_class"),
        table_name("citizens"): _projection("citizen_key", "status", "last_inbound_at"),
        table_name("broadcasts"): _projection("broadcast_id", "status"),
    }


def _batch_get(requests: list[tuple[str, dict]]) -> dict[str, list[dict]]:
    pending: dict[str, dict] = {}
    for table, key in requests:
        pending.setdefault(table, {"Keys": [], **_projections()[table]})["Keys"].append(key)
    found: dict[str, list[dict]] = {}
    while pending:
        answer = _client().batch_get_item(RequestItems=pending)
        for table, rows in answer.get("Responses", {}).items():
            found.setdefault(table, []).extend(plain(row) for row in rows)
        pending = answer.get("UnprocessedKeys") or {}
    return found


def retention(tenant_id: str | None) -> timedelta:
    """How long a tenant keeps delivery records (its setting, read from the directory's in-memory cache)."""
    return directory.retention(tenant_id).days("deliveries") if tenant_id else RETENTION


def record(key: str, recipient: str, tenant_id: str, status: str, now: datetime,
           provider_message_id: str | None = None, error_class: str | None = None,
           error_code: int | None = None, error_message: str | None = None, channel_id: str | None = None,
           summary: str | None = None) -> bool:
    """Write a recipient's result once (False when it was already recorded); it expires after the tenant's
    delivery retention. `outcome` keeps the result as recorded; `status` moves on with status webhooks. The
    channel and, for a reply or an update (not a broadcast, whose text is on its item), a short summary of what was
    sent are what the desk's view of a citizen shows (services/citizen_view.py)."""
    item = {"job_id": {"S": key}, "recipient": {"S": recipient}, "recorded_at": {"S": now.isoformat()},
            "tenant_id": {"S": tenant_id}, "status": {"S": status}, "status_rank": {"N": str(STATUS_RANK[status])},
            "outcome": {"S": status},
            "expires_at": {"N": _epoch(now + retention(tenant_id))}}
    for name, value in (("provider_message_id", provider_message_id), ("error_class", error_class),
                        ("error_message", (error_message or "")[:300] or None), ("channel_id", channel_id),
                        ("summary", (summary or "")[:SUMMARY_MAX] or None)):
        if value is not None:
            item[name] = {"S": value}
    if error_code is not None:
        item["error_code"] = {"N": str(error_code)}
    try:
        _client().put_item(TableName=table_name("deliveries"), Item=item,
                           ConditionExpression="attribute_not_exists(job_id)")
        return True
    except ClientError as error:
        if not _is_conditional(error):
            raise
    return _record_over_status(item)


def _record_over_status(item: dict) -> bool:
    """The rare case: a status webhook raced ahead of the record; keep its (later) status."""
    fields = {k: v for k, v in item.items() if k not in ("job_id", "recipient", "status", "status_rank")}
    try:
        _client().update_item(
            TableName=table_name("deliveries"), Key={"job_id": item["job_id"], "recipient": item["recipient"]},
            UpdateExpression="SET " + ", ".join(f"{k} = :{k}" for k in fields),
            ConditionExpression="attribute_not_exists(recorded_at)",
            ExpressionAttributeValues={f":{k}": v for k, v in fields.items()},
        )
        return True
    except ClientError as error:
        if _is_conditional(error):
            return False
        raise


@dataclass(frozen=True)
class Move:
    """What a status write did: the rank the delivery moved from (0: a status raced ahead of the send's record),
    and whether this write set its charged mark (`billed`: the usage meter counts the message then, once)."""

    old_rank: int
    billed: bool


def advance(key: str, recipient: str, status: str, now: datetime, code: int | None = None,
            charged: bool = False) -> Move | None:
    """Apply a provider status; None when it would move back. `charged`: WhatsApp priced the message as charged
    (in this status or another of its batch); a move to delivered or read then also sets its charged mark.

    The record keeps the expiry its send gave it (the tenant's retention); a status that races ahead of the
    send's record gets the default one, which the record then replaces."""
    rank = STATUS_RANK.get(status)
    if rank is None:
        return None
    values = {":status": {"S": status}, ":rank": {"N": str(rank)}, ":now": {"S": now.isoformat()},
              ":expires": {"N": _epoch(now + RETENTION)}}
    expression = ("SET #status = :status, status_rank = :rank, updated_at = :now, "
                  "expires_at = if_not_exists(expires_at, :expires)")
    if code is not None:
        values[":code"] = {"N": str(code)}
        expression += ", error_code = :code"
    marks = charged and marks_on_move(status)
    if marks:
        values[":billed"] = _billing_mark()
        expression += ", billed = :billed"
    try:
        answer = _client().update_item(
            TableName=table_name("deliveries"), Key={"job_id": {"S": key}, "recipient": {"S": recipient}},
            UpdateExpression=expression,
            ConditionExpression="attribute_not_exists(status_rank) OR status_rank < :rank",
            ExpressionAttributeNames={"#status": "status"}, ExpressionAttributeValues=values,
            ReturnValues="UPDATED_OLD",
        )
    except ClientError as error:
        if _is_conditional(error):
            return None
        raise
    old = answer.get("Attributes", {})
    return Move(int(old["status_rank"]["N"]) if "status_rank" in old else 0, marks and "billed" not in old)


def marks_on_move(status: str) -> bool:
    """Whether a move to this status sets the charged mark of a message WhatsApp charged (delivered or read)."""
    return STATUS_RANK.get(status) in BILLED_RANKS


def _billing_mark() -> dict:
    """A new value on each write, so UPDATED_OLD always gives back a mark that was there before (DynamoDB gives back
    an attribute written with the value it had; moto leaves it out)."""
    return {"S": uuid.uuid4().hex}


def mark_billed(key: str, recipient: str) -> bool:
    """Set the charged mark of a message whose status write did not set it: a priced status that moved nothing (its
    `read`, or a `failed` from another of the person's devices, was applied first; or it is a redelivery), or one
    whose batch's latest status was such a `failed`. A charged status is WhatsApp's word that it delivered the
    message. True when this call set the mark, False when it was set already."""
    try:
        _client().update_item(
            TableName=table_name("deliveries"), Key={"job_id": {"S": key}, "recipient": {"S": recipient}},
            UpdateExpression="SET billed = :billed",
            ConditionExpression="attribute_exists(status_rank) AND attribute_not_exists(billed)",
            ExpressionAttributeValues={":billed": _billing_mark()})
        return True
    except ClientError as error:
        if _is_conditional(error):
            return False
        raise


def get(key: str, recipient: str) -> Delivery | None:
    item = _client().get_item(TableName=table_name("deliveries"),
                              Key={"job_id": {"S": key}, "recipient": {"S": recipient}}, ConsistentRead=True)
    row = plain(item.get("Item", {}))
    if not row:
        return None
    code = row.get("error_code")
    return Delivery(key, recipient, row.get("status", ""), row.get("provider_message_id"),
                    int(code) if code is not None else None, row.get("recorded_at"))


def of_recipient(tenant_id: str, recipient: str) -> list[dict]:
    """Every delivery record of one recipient in a tenant (subject access, erasure), as plain items.

    The table has no index by recipient (one would cost a second write on every send), so this is a Scan of the
    whole table: acceptable for a request a comune gets a few times a year; docs/privacy.md gives the cost."""
    rows: list[dict] = []
    pages = _client().get_paginator("scan").paginate(
        TableName=table_name("deliveries"), FilterExpression="recipient = :recipient AND tenant_id = :tenant",
        ExpressionAttributeValues={":recipient": {"S": recipient}, ":tenant": {"S": tenant_id}})
    for page in pages:
        rows += [plain(item) for item in page.get("Items", [])]
    return rows


def delete_all(rows: list[dict]) -> int:
    """Delete the given delivery records (from of_recipient); how many."""
    keys = [{"job_id": {"S": r["job_id"]}, "recipient": {"S": r["recipient"]}} for r in rows]
    for start in range(0, len(keys), 25):  # BatchWriteItem's limit
        pending = {table_name("deliveries"): [{"DeleteRequest": {"Key": k}} for k in keys[start:start + 25]]}
        while pending:
            pending = _client().batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}
    return len(keys)
