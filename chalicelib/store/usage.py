"""The usage meter's counters: one item per channel and month in the counters table, its figures added atomically
(one UpdateItem ADD per counted message), a month read with one BatchGetItem for all the channels shown."""
from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from chalicelib.resources import table_name
from chalicelib.store.dynamo import client as _client
from chalicelib.store.dynamo import plain

KEEP = timedelta(days=3 * 366)  # a month's figures outlive its invoices' checks: three years after its last count
BATCH_GET_MAX = 100


def _key(channel_id: str, month: str) -> dict:
    return {"counter_key": {"S": f"usage#{channel_id}#{month}"}}


def add(tenant_id: str, channel_id: str, month: str, amounts: Mapping[str, int], now: datetime) -> None:
    """Add to a channel's figures of a month (field -> amount, e.g. {"sent_utility": 1})."""
    if amounts:
        _client().update_item(**addition(tenant_id, channel_id, month, amounts, now))


def addition(tenant_id: str, channel_id: str, month: str, amounts: Mapping[str, int], now: datetime) -> dict:
    """add's write as a request's parameters, for a caller that makes it in one transaction with another."""
    names = {f"#f{i}": name for i, name in enumerate(amounts)}
    values = {f":v{i}": {"N": str(int(amount))} for i, amount in enumerate(amounts.values())}
    return {"TableName": table_name("counters"), "Key": _key(channel_id, month),
            "UpdateExpression": "SET tenant_id = :tenant, expires_at = :expires ADD " + ", ".join(
                f"#f{i} :v{i}" for i in range(len(amounts))),
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": {**values, ":tenant": {"S": tenant_id},
                                          ":expires": {"N": str(int((now + KEEP).timestamp()))}}}


def of_month(tenant_id: str, channel_ids: list[str], month: str) -> dict[str, dict[str, int]]:
    """Each channel's figures of a month (field -> count; a channel with none is missing), in one BatchGetItem per
    hundred channels. Only the tenant's own items count."""
    found: dict[str, dict[str, int]] = {}
    table = table_name("counters")
    for start in range(0, len(channel_ids), BATCH_GET_MAX):
        pending = {table: {"Keys": [_key(c, month) for c in channel_ids[start:start + BATCH_GET_MAX]]}}
        while pending:
            answer = _client().batch_get_item(RequestItems=pending)
            for row in answer.get("Responses", {}).get(table, []):
                item = plain(row)
                if item.get("tenant_id") != tenant_id:
                    continue
                channel_id = item["counter_key"].split("#")[1]
                found[channel_id] = {k: int(v) for k, v in item.items()
                                     if k not in ("counter_key", "tenant_id", "expires_at")}
            pending = answer.get("UnprocessedKeys") or {}
    return found
