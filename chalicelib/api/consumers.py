"""SQS consumers: each record handled on its own, failures reported per record (ReportBatchItemFailures)."""
from __future__ import annotations

import json
import math
import threading
from functools import partial
from typing import TYPE_CHECKING

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response

from chalicelib.api import lazy
from chalicelib.observability import logger, scrub
from chalicelib.services.messaging.backoff import backoff_seconds
from chalicelib.settings import get_settings
from chalicelib.store import queues

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

# Each consumer loads only its own services on its first batch (app.py imports this module on the first one).
inbound = lazy("chalicelib.services.inbound")
statuses = lazy("chalicelib.services.statuses")
fanout = lazy("chalicelib.services.broadcasts.fanout")
heartbeat = lazy("chalicelib.services.messaging.heartbeat")
outbound = lazy("chalicelib.services.messaging.outbound")
arrivals = lazy("chalicelib.services.reports.arrivals")
photo_refetch = lazy("chalicelib.services.reports.photo_refetch")

MAX_RETRY_DELAY = 900
FANOUT_RETRY_BASE = 2  # seconds: a fan-out resumes from its checkpoint, so a failed one may retry at once
# While a consumer works a batch of outbound jobs, their messages stay invisible this long, renewed every third of
# it: a consumer that dies lets them come back within 15 s, not after the queue's visibility timeout (180 s, six
# times the function's timeout, for Lambda's own retries of a throttled batch).
WORKING_VISIBILITY = 15


def _inbound_record(record: SQSRecord) -> None:
    """A webhook body, a photo to fetch again (services.photo_refetch) or a staff notice (services.reports.arrivals)."""
    kind = queues.kind_of(record.raw_event.get("messageAttributes"))
    if kind is None:  # nearly every record: a webhook body (photo_refetch and arrivals stay unloaded)
        inbound.handle_payload(record.body)
        return
    if kind == photo_refetch.KIND:
        photo_refetch.handle(json.loads(record.body))
        return
    if kind == arrivals.KIND:  # an email to the staff in charge of a new report
        arrivals.handle(json.loads(record.body))
        return
    inbound.handle_payload(record.body)


class _KeptInvisible:
    """The messages of a batch being worked, kept invisible by a heartbeat until each is done: its handler then
    sets when a failed one comes back (under the lock, so a beat in flight cannot undo it)."""

    def __init__(self, logical: str, receipt_handles: list[str]):
        self.logical, self.working, self.lock = logical, set(receipt_handles), threading.Lock()

    def beat(self) -> None:
        with self.lock:
            if self.working:
                queues.extend(self.logical, sorted(self.working), WORKING_VISIBILITY)

    def done(self, receipt_handle: str, come_back_after: int | None = None) -> None:
        with self.lock:
            self.working.discard(receipt_handle)
            if come_back_after is not None:
                queues.delay(self.logical, receipt_handle, come_back_after)


def _outbound_record(record: SQSRecord, batch: _KeptInvisible) -> None:
    try:
        job = outbound.OutboundJob.model_validate(json.loads(record.body))
    except ValueError:  # not a job (bad JSON or schema): no retry can mend it, so no backoff either
        logger.error("poison outbound message: back at once, for the dead-letter queue",
                     extra={"message_id": record.message_id})
        batch.done(record.receipt_handle, 0)
        raise
    receives = int(record.attributes.approximate_receive_count or 1)
    try:
        outbound.process_job(job)
    except outbound.RetryLater as wait:
        batch.done(record.receipt_handle, _wait_delay(wait, receives))
        raise
    except Exception:  # back after the same backoff, not after the queue's visibility timeout
        batch.done(record.receipt_handle, retry_delay(receives))
        raise
    batch.done(record.receipt_handle)


def _wait_delay(wait: outbound.RetryLater, receives: int) -> int:
    """The backoff, or less when the job told when waiting longer is pointless (a lease lapses, a status is due)."""
    delay = retry_delay(receives)
    return delay if wait.after is None else min(delay, math.ceil(wait.after) + 1)


def retry_delay(receives: int) -> int:
    """Backoff between deliveries of a job that must wait (doubling, capped, jittered); the DLQ takes it after the last."""
    return backoff_seconds(get_settings().retry_base_seconds, receives, MAX_RETRY_DELAY)


def _fanout_record(record: SQSRecord) -> None:
    """A failed fan-out comes back within seconds (doubling), not after the queue's visibility timeout:
    it resumes from its checkpoint, and the senders run dry while it waits."""
    try:
        fanout.fan_out_message(json.loads(record.body))
    except Exception:
        receives = int(record.attributes.approximate_receive_count or 1)
        queues.delay("fanout", record.receipt_handle, backoff_seconds(FANOUT_RETRY_BASE, receives, MAX_RETRY_DELAY))
        raise


def process_fanout(event: dict, context) -> dict:
    return _process(event, context, _fanout_record)


def process_inbound(event: dict, context) -> dict:
    inbound.register_context(context)
    return _statuses_first(event, context, _inbound_record)


def process_statuses(event: dict, context) -> dict:
    """The statuses queue: a batch's webhooks of statuses alone applied in one pass. A body the worker's parse finds
    more in than the webhook's light check did goes on to the inbound queue, to be handled whole there."""
    return _statuses_first(event, context, _to_inbound)


def _to_inbound(record: SQSRecord) -> None:
    """A body the statuses queue should not have had, passed on whole to the inbound worker (its kind kept)."""
    queues.send("inbound", record.body, kind=queues.kind_of(record.raw_event.get("messageAttributes")))


def _statuses_first(event: dict, context, handler) -> dict:
    """The status-only webhooks of a batch applied together (_statuses_together), each other record by handler."""
    records = event.get("Records", [])
    applied, failed = _statuses_together(records)
    rest = [r for r in records if r["messageId"] not in applied | failed]
    result = _process({**event, "Records": rest}, context, handler) if rest else {"batchItemFailures": []}
    result["batchItemFailures"] += [{"itemIdentifier": message_id} for message_id in sorted(failed)]
    return result


def _statuses_together(records: list[dict]) -> tuple[set[str], set[str]]:
    """The webhooks of a batch that carry only statuses, applied in one pass (services.statuses); the ids of those
    applied and, when the pass failed, of those to come back. A body that does not parse is left to the batch's
    handler, which reports it."""
    found_statuses, ids = [], set()
    for record in records:
        if queues.kind_of(record.get("messageAttributes")) is not None:
            continue
        try:
            found = statuses.statuses_only(record["body"])
        except Exception:  # noqa: BLE001 - handled again on its own, where the failure is logged and reported
            continue
        if found is not None:
            found_statuses += found
            ids.add(record["messageId"])
    if not ids:
        return set(), set()
    try:
        statuses.apply(found_statuses)
    except Exception:
        logger.exception("statuses of a batch failed, left for retry", extra={"records": len(ids)})
        return set(), ids
    return ids, set()


def process_outbound(event: dict, context) -> dict:
    batch = _KeptInvisible("outbound", [r["receiptHandle"] for r in event.get("Records", [])])
    # from the first beat on, a consumer that dies gives its jobs back within WORKING_VISIBILITY
    with heartbeat.beating(WORKING_VISIBILITY / 3, batch.beat, name="visibility", at_once=True):
        return _process(event, context, partial(_outbound_record, batch=batch))


def _process(event: dict, context, handler) -> dict:
    # A processor per batch: its state is per invocation. A batch whose every record failed is
    # reported like any other partial failure, not raised.
    processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
    result = process_partial_response(event=event, record_handler=handler, processor=processor, context=context)
    failures = result.get("batchItemFailures", [])
    if failures:
        errors = sorted({f"{info[0].__name__}: {scrub(str(info[1]))[:200]}" for info in processor.exceptions if info[0]})
        logger.warning("records failed, left for retry", extra={"failed": len(failures), "errors": errors,
                                                                 "records": len(event.get("Records", []))})
    return result
