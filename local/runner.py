"""Drives the app's event handlers as Lambda would: SQS pollers with partial batch failures, schedules."""
from __future__ import annotations

import hashlib
import logging
import re
import threading
import time
import uuid
from datetime import UTC, datetime

import boto3
from chalice.app import Chalice, ScheduledEventConfig, SQSEventConfig
from chalice.local import LambdaContext

log = logging.getLogger("filo.local")
LAMBDA_BUDGET_MS = 60_000
GATHER_PAUSE = 0.05  # seconds between receives of an empty queue while a batch larger than one receive is gathered


def _record(message: dict, queue_arn: str, region: str) -> dict:
    """An SQS message as Lambda hands it to a function."""
    return {
        "messageId": message["MessageId"], "receiptHandle": message["ReceiptHandle"], "body": message["Body"],
        "attributes": message.get("Attributes", {}), "messageAttributes": _lambda_attributes(message),
        "md5OfBody": message.get("MD5OfBody") or hashlib.md5(message["Body"].encode()).hexdigest(),
        "eventSource": "aws:sqs", "eventSourceARN": queue_arn, "awsRegion": region,
    }


def _lambda_attributes(message: dict) -> dict:
    """Message attributes as Lambda names them (stringValue, dataType), not as ReceiveMessage does."""
    return {name: {"stringValue": value.get("StringValue"), "binaryValue": value.get("BinaryValue"),
                   "stringListValues": [], "binaryListValues": [], "dataType": value["DataType"]}
            for name, value in (message.get("MessageAttributes") or {}).items()}


class QueuePoller(threading.Thread):
    """One Lambda event source mapping with ReportBatchItemFailures: successes deleted, failures left
    to come back after the visibility timeout, until the redrive policy moves them to the DLQ."""

    def __init__(self, app: Chalice, config: SQSEventConfig, stop: threading.Event, number: int = 0):
        super().__init__(name=f"poller-{config.name}-{number}", daemon=True)
        self.app, self.config, self.stop = app, config, stop
        self.handled = 0
        self.failed = 0

    def run(self) -> None:
        sqs = boto3.client("sqs")
        url = sqs.get_queue_url(QueueName=self.config.queue)["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        while not self.stop.is_set():
            try:
                self.poll_once(sqs, url, arn)
            except Exception:  # the local stack must outlive any one bad poll
                log.exception("poller %s failed", self.config.name)
                self.stop.wait(1)

    def poll_once(self, sqs, url: str, arn: str) -> None:
        messages = self._receive(sqs, url, 1)
        if not messages:
            return
        messages += self._gather(sqs, url, len(messages))
        event = {"Records": [_record(m, arn, sqs.meta.region_name) for m in messages]}
        context = LambdaContext(self.config.name, 512, max_runtime_ms=LAMBDA_BUDGET_MS)
        try:
            result = self.app.handler_map[self.config.name](event, context)
        except Exception:  # the whole batch failed: Lambda deletes nothing
            log.exception("handler %s raised; %d messages will come back", self.config.name, len(messages))
            self.failed += len(messages)
            return
        failed = {f["itemIdentifier"] for f in (result or {}).get("batchItemFailures", [])}
        done = [m for m in messages if m["MessageId"] not in failed]
        self.failed += len(failed)
        self.handled += len(done)
        for start in range(0, len(done), 10):
            sqs.delete_message_batch(QueueUrl=url, Entries=[
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done[start:start + 10])])


    def _receive(self, sqs, url: str, wait: int, most: int = 10) -> list[dict]:
        return sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=min(self.config.batch_size, most, 10), WaitTimeSeconds=wait,
            AttributeNames=["All"], MessageAttributeNames=["All"],
        ).get("Messages", [])

    def _gather(self, sqs, url: str, have: int) -> list[dict]:
        """More of a batch larger than one ReceiveMessage (10), for up to the event source's batching window, as
        Lambda gathers it."""
        window, more = self.config.maximum_batching_window_in_seconds, []
        deadline = time.monotonic() + window
        while window and have + len(more) < self.config.batch_size and not self.stop.is_set():
            left = deadline - time.monotonic()
            if left <= 0:
                break
            received = self._receive(sqs, url, 0, self.config.batch_size - have - len(more))
            more += received
            if not received:
                self.stop.wait(min(left, GATHER_PAUSE))
        return more


RATE = re.compile(r"rate\((\d+) (minute|minutes|hour|hours|day|days)\)")
UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}


def period_seconds(expression: str) -> int:
    match = RATE.fullmatch(expression)
    if not match:
        raise ValueError(f"the local scheduler runs rate() schedules only, not {expression!r}")
    return int(match.group(1)) * UNIT_SECONDS[match.group(2).rstrip("s")]


class Schedule(threading.Thread):
    """Fires one @app.schedule handler at its rate (or a faster local period)."""

    def __init__(self, app: Chalice, config: ScheduledEventConfig, stop: threading.Event,
                 period_override: float | None = None):
        super().__init__(name=f"schedule-{config.name}", daemon=True)
        self.app, self.config, self.stop = app, config, stop
        expression = config.schedule_expression
        expression = expression if isinstance(expression, str) else expression.to_string()
        self.period = period_override or period_seconds(expression)
        self.fired = 0

    def run(self) -> None:
        while not self.stop.wait(self.period):
            self.fire()

    def fire(self):
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        event = {
            "version": "0", "id": str(uuid.uuid4()), "detail-type": "Scheduled Event", "source": "aws.events",
            "account": "123456789012", "time": now, "region": "eu-south-1",
            "resources": [f"arn:aws:events:eu-south-1:123456789012:rule/{self.config.name}"], "detail": {},
        }
        try:
            result = self.app.handler_map[self.config.name](event, LambdaContext(self.config.name, 256))
            self.fired += 1
            return result
        except Exception:
            log.exception("schedule %s failed", self.config.name)
            return None


def event_threads(app: Chalice, stop: threading.Event, schedule_seconds: float | None = None,
                  elsewhere: tuple[str, ...] = ()) -> list[threading.Thread]:
    """A poller per SQS consumer and a timer per schedule declared on the app; the consumers named in elsewhere
    run in processes of their own (local.consumer)."""
    threads: list[threading.Thread] = []
    for source in app.event_sources:
        if source.name in elsewhere:
            continue
        if isinstance(source, SQSEventConfig):  # as many consumers as the event source allows at once
            threads += [QueuePoller(app, source, stop, n) for n in range(source.maximum_concurrency or 1)]
        elif isinstance(source, ScheduledEventConfig):
            threads.append(Schedule(app, source, stop, schedule_seconds))
    return threads
