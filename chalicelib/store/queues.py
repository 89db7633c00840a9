"""The SQS queues: send in batches of ten, with the client built once per Lambda instance."""
from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import timedelta
from functools import cache

from chalicelib.resources import queue_name
from chalicelib.settings import resource_name
from chalicelib.store import aws


def _client():
    return aws.client("sqs")


@cache
def queue_url(logical: str) -> str:
    return _client().get_queue_url(QueueName=queue_name(logical))["QueueUrl"]


def _text(body: str | dict) -> str:
    return body if isinstance(body, str) else json.dumps(body, separators=(",", ":"))


KIND = "kind"  # the message attribute that tells what a message is, where a queue carries more than one kind


def send(logical: str, body: str | dict, delay_seconds: int = 0, kind: str | None = None) -> None:
    """One message; with delay_seconds (up to SQS's 900) it becomes visible only after that long; with kind, the
    message carries it as its `kind` attribute (read by kind_of)."""
    attributes = {KIND: {"DataType": "String", "StringValue": kind}} if kind else {}
    _client().send_message(QueueUrl=queue_url(logical), MessageBody=_text(body),
                           DelaySeconds=max(0, min(delay_seconds, 900)), MessageAttributes=attributes)


def send_once(logical: str, bodies: list[str], key: str, keep: timedelta) -> None:
    """Send each body unless a call with the same key sent it before (a request retried after failing half-way):
    each is marked in DynamoDB once sent, so a retry sends only the rest. A crash between a send and its mark
    sends that body once more, the at-least-once of any queue."""
    from chalicelib.store import counters  # PynamoDB, only for a body too big for one message

    marks = [f"queued#{logical}#{key}#{index}" for index in range(len(bodies))]
    done = counters.marked(marks)
    for body, mark in zip(bodies, marks, strict=True):
        if mark not in done:
            send(logical, body)
            counters.mark(mark, keep)


def kind_of(message_attributes: dict) -> str | None:
    """The `kind` attribute of a received message (Lambda's event shape), if it has one."""
    attribute = (message_attributes or {}).get(KIND) or {}
    return attribute.get("stringValue")


def send_many(logical: str, bodies: Iterable[str | dict]) -> None:
    batch: list[dict] = []
    for body in bodies:
        batch.append({"Id": str(len(batch)), "MessageBody": _text(body)})
        if len(batch) == 10:
            _send_batch(logical, batch)
            batch = []
    if batch:
        _send_batch(logical, batch)


def _send_batch(logical: str, entries: list[dict]) -> None:
    result = _client().send_message_batch(QueueUrl=queue_url(logical), Entries=entries)
    if result.get("Failed"):
        raise RuntimeError(f"SQS refused {len(result['Failed'])} of {len(entries)} messages")


def depth(logical_or_dlq: str) -> int:
    """Approximate visible messages of a queue (logical name, or '<name>-dlq')."""
    url = _client().get_queue_url(QueueName=resource_name(logical_or_dlq))["QueueUrl"]
    attributes = _client().get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])
    return int(attributes["Attributes"]["ApproximateNumberOfMessages"])


def extend(logical: str, receipt_handles: list[str], seconds: int) -> None:
    """Keep received messages invisible for seconds more (while they are being worked), ten per request."""
    for start in range(0, len(receipt_handles), 10):
        entries = [{"Id": str(i), "ReceiptHandle": handle, "VisibilityTimeout": seconds}
                   for i, handle in enumerate(receipt_handles[start:start + 10])]
        _client().change_message_visibility_batch(QueueUrl=queue_url(logical), Entries=entries)


def delay(logical: str, receipt_handle: str, seconds: int) -> None:
    """Make a received message come back only after seconds (SQS allows up to 12 hours)."""
    _client().change_message_visibility(QueueUrl=queue_url(logical), ReceiptHandle=receipt_handle,
                                        VisibilityTimeout=max(0, min(seconds, 43_200)))
