"""Staff notices by email: one record per (report, address) in the deliveries table, so no address is emailed twice
for one report however often its notice is queued.

A send is claimed first (a conditional write: nobody holds it, it is not sent, and any earlier claim has lapsed),
then recorded as sent, or released for a later try. Only a run that dies between SES's answer and the record can
leave a claim that lapses and is sent again: a minute later, at most once more (docs/decisions.md).
"""
from __future__ import annotations

from datetime import datetime, timedelta

from botocore.exceptions import ClientError

from chalicelib.resources import table_name
from chalicelib.store.deliveries import retention
from chalicelib.store.dynamo import client as _client
from chalicelib.store.dynamo import is_conditional as _is_conditional

CLAIM = timedelta(seconds=60)  # an SES call takes well under a second; a claim older than this was a dead run's
ERROR_MAX = 300


def job_id(tenant_id: str, report_id: str) -> str:
    return f"notice#{tenant_id}#{report_id}"


def _key(tenant_id: str, report_id: str, address: str) -> dict:
    return {"job_id": {"S": job_id(tenant_id, report_id)}, "recipient": {"S": address}}


def _epoch(moment: datetime) -> str:
    return str(int(moment.timestamp()))


def claim(tenant_id: str, report_id: str, address: str, now: datetime) -> bool:
    """Take the send to address for this run; False when it is sent, given up, or another run holds it."""
    try:
        _client().update_item(
            TableName=table_name("deliveries"), Key=_key(tenant_id, report_id, address),
            UpdateExpression="SET #status = :sending, claimed_until = :until, tenant_id = :tenant, "
                             "expires_at = :expires ADD attempts :one",
            ConditionExpression="attribute_not_exists(job_id) OR (#status = :retry) OR "
                                "(#status = :sending AND claimed_until < :now)",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues={
                ":sending": {"S": "sending"}, ":retry": {"S": "retry"}, ":now": {"N": _epoch(now)},
                ":until": {"N": _epoch(now + CLAIM)}, ":tenant": {"S": tenant_id}, ":one": {"N": "1"},
                ":expires": {"N": _epoch(now + retention(tenant_id))}},
        )
        return True
    except ClientError as error:
        if _is_conditional(error):
            return False
        raise


def settle(tenant_id: str, report_id: str, address: str, status: str, now: datetime,
           message_id: str | None = None, error: str | None = None) -> None:
    """After the attempt: sent (with SES's message id), retry (released for a later try) or failed (given up)."""
    values = {":status": {"S": status}, ":now": {"S": now.isoformat()}}
    expression = "SET #status = :status, recorded_at = :now REMOVE claimed_until"
    if message_id:
        values[":id"] = {"S": message_id}
        expression = "SET #status = :status, recorded_at = :now, provider_message_id = :id REMOVE claimed_until"
    elif error:
        values[":error"] = {"S": error[:ERROR_MAX]}
        expression = "SET #status = :status, recorded_at = :now, error_message = :error REMOVE claimed_until"
    _client().update_item(TableName=table_name("deliveries"), Key=_key(tenant_id, report_id, address),
                          UpdateExpression=expression, ExpressionAttributeNames={"#status": "status"},
                          ExpressionAttributeValues=values)


def of_report(tenant_id: str, report_id: str) -> dict[str, str]:
    """Each address's state for one report's notice (sending, sent, retry, failed)."""
    answer = _client().query(TableName=table_name("deliveries"), KeyConditionExpression="job_id = :job",
                             ExpressionAttributeValues={":job": {"S": job_id(tenant_id, report_id)}},
                             ConsistentRead=True)
    return {item["recipient"]["S"]: item.get("status", {}).get("S", "") for item in answer.get("Items", [])}
