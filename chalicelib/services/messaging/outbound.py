"""Outbound sending: jobs on the outbound queue, paced per channel, one recorded result per recipient.

A job is one reply (one or more messages to one citizen) or a broadcast chunk (one message to a few
dozen subscribers). Per job: a lease, one batch read of what is already recorded (and, for a
broadcast, who is still subscribed and whether the broadcast still runs), then per recipient a send
and one conditional write. Provider errors are handled by class (DESIGN.md, Outbound).
"""
from __future__ import annotations

import hashlib
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from pydantic import BaseModel

from chalicelib.domain.broadcasts import in_service_window
from chalicelib.domain.phones import mask
from chalicelib.observability import count, logger, ref, scrub
from chalicelib.providers import get_provider
from chalicelib.providers.base import Content, ErrorClass, ProviderError, Recipient, StatusUpdate, Template
from chalicelib.services import clock
from chalicelib.services.messaging import pacing, progress
from chalicelib.services.messaging.backoff import backoff
from chalicelib.settings import get_settings
from chalicelib.store import broadcasts, deliveries, directory, queues
from chalicelib.store.citizens import parse_time

IN_PROCESS_RETRIES = 4  # quick retries inside one consumer run (0.25 s doubling) before the queue's backoff
THROUGHPUT_EXCEEDED = 130429  # Meta: the number's messages-per-second limit
MEDIA_RETRIES = 2  # a media error (131053) is tried this many more times, then failed for that recipient
MAX_BACKOFF_SECONDS = 5.0
SEND_THREADS = 8  # sends in flight per consumer, so latency does not cap the rate
DELIVERY_SHARDS = 16  # a broadcast's delivery records spread over this many partitions


class JobRecipient(BaseModel):
    key: str  # citizen key: E.164 phone or "bsuid:<id>"
    phone: str | None = None
    user_id: str | None = None

    def address(self) -> Recipient:
        return Recipient(phone=self.phone, user_id=self.user_id)


class OutboundJob(BaseModel):
    """Content for a few recipients (a broadcast chunk) or a reply of one or more messages."""

    job_id: str
    tenant_id: str
    channel_id: str
    contents: list[Content]
    recipients: list[JobRecipient]
    fallback: Template | None = None  # sent instead outside the 24-hour window
    broadcast_id: str | None = None


class RetryLater(Exception):
    """Some recipients of the job are still unsent after a retryable error, or another consumer holds it."""


def delivery_key(job: OutboundJob, index: int, recipient: str) -> str:
    """Where a result is recorded: per broadcast and recipient (whatever chunk carried it), per reply job."""
    if job.broadcast_id:
        shard = int(hashlib.blake2b(recipient.encode(), digest_size=2).hexdigest(), 16) % DELIVERY_SHARDS
        return f"{job.broadcast_id}#{shard:02d}"
    return job.job_id if index == 0 else f"{job.job_id}.{index}"


def callback_data(job: OutboundJob, key: str, recipient: str) -> str:
    """Echoed in status webhooks: the delivery and broadcast they belong to, so no lookup is needed."""
    parts = [key, recipient] + ([job.tenant_id, job.broadcast_id] if job.broadcast_id else [])
    return "|".join(parts)


def enqueue(job: OutboundJob) -> None:
    queues.send("outbound", job.model_dump(mode="json", exclude_none=True))


def enqueue_many(jobs: list[OutboundJob]) -> None:
    queues.send_many("outbound", (job.model_dump(mode="json", exclude_none=True) for job in jobs))


def reply(tenant_id: str, channel_id: str, recipient: JobRecipient, contents: list[Content], job_id: str) -> None:
    """Queue the answer to a citizen's message; job_id derives from that message, so a replay is harmless."""
    enqueue(OutboundJob(job_id=job_id, tenant_id=tenant_id, channel_id=channel_id, contents=contents,
                        recipients=[recipient]))


@dataclass
class _Run:
    """One consumer's pass over a job: what happened, counted for the broadcast."""

    job: OutboundJob
    rate: float
    consumer: str  # the consumer's own bucket: one per Lambda process (one per poller thread locally)
    counts: dict[str, int] = field(default_factory=lambda: {"sent": 0, "failed": 0, "skipped": 0, "ambiguous": 0})
    reasons: dict[str, int] = field(default_factory=dict)
    pending: bool = False
    fatal: ProviderError | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)
    stop: threading.Event = field(default_factory=threading.Event)

    def count(self, outcome: str, reason: str | None = None) -> None:
        with self.lock:
            self.counts[outcome] += 1
            if reason:
                self.reasons[reason] = self.reasons.get(reason, 0) + 1


def consumer_rate(channel_rate: float) -> float:
    """Each consumer's share: the event source runs at most OUTBOUND_CONSUMERS consumers at once."""
    return channel_rate / max(get_settings().outbound_consumers, 1)


def process_job(job: OutboundJob) -> None:
    """Send every unsent (content, recipient) pair of a job; raise RetryLater if some must wait."""
    if not deliveries.lease(job.job_id, clock.now()):
        raise RetryLater(f"job {ref(job.job_id)} is held by another consumer")
    try:
        _work(job)
    except Exception:
        deliveries.release(job.job_id)
        raise


def _work(job: OutboundJob) -> None:
    channel = directory.get_channel(job.channel_id)
    run = _Run(job, consumer_rate(channel.rate_per_second if channel else 80.0), threading.current_thread().name)
    keys = [(delivery_key(job, i, r.key), r.key) for r in job.recipients for i in range(len(job.contents))]
    snap = deliveries.snapshot(keys, job.channel_id, [r.key for r in job.recipients] if job.broadcast_id else [],
                               (job.tenant_id, job.broadcast_id) if job.broadcast_id else None)
    if job.broadcast_id and (snap.broadcast is None or snap.broadcast["status"] != "sending"):
        logger.info("chunk dropped: broadcast not sending", extra={"broadcast_id": job.broadcast_id})
        return  # paused or cancelled: a resume fans out again, and recorded recipients are skipped
    todo = [r for r in job.recipients
            if any((delivery_key(job, i, r.key), r.key) not in snap.recorded for i in range(len(job.contents)))]
    with ThreadPoolExecutor(max_workers=min(SEND_THREADS, max(len(todo), 1)), thread_name_prefix="sender") as pool:
        list(pool.map(lambda r: _send_to(run, snap, r), todo))
    _finish(run)


def _send_to(run: _Run, snap: deliveries.Snapshot, recipient: JobRecipient) -> None:
    job = run.job
    if job.broadcast_id:
        citizen = snap.citizens.get(recipient.key)
        if not citizen or citizen.get("status") != "active":  # left after the broadcast started
            key = delivery_key(job, 0, recipient.key)
            if deliveries.record(key, recipient.key, job.tenant_id, "skipped", clock.now()):
                run.count("skipped")
            return
    for index, content in enumerate(job.contents):
        key = delivery_key(job, index, recipient.key)
        if (key, recipient.key) in snap.recorded:
            continue
        if run.stop.is_set() or not _send_one(run, key, recipient, _content_for(job, content, snap, recipient)):
            return  # keep a recipient's messages in order


def _content_for(job: OutboundJob, content: Content, snap: deliveries.Snapshot, recipient: JobRecipient) -> Content:
    """Free text inside the 24-hour window; the channel's template outside it."""
    if not job.broadcast_id or job.fallback is None or isinstance(content, Template):
        return content
    last = parse_time(snap.citizens.get(recipient.key, {}).get("last_inbound_at"))
    return content if in_service_window(last, clock.now()) else job.fallback


def _send_one(run: _Run, key: str, recipient: JobRecipient, content: Content) -> bool:
    """True when this pair is settled (sent, or failed for good); False when it must wait."""
    bucket = pacing.bucket_for(f"{run.job.channel_id}:{run.consumer}", run.rate)
    for attempt in range(IN_PROCESS_RETRIES + 1):
        if run.stop.is_set():
            return False
        bucket.take()
        try:
            message_id = get_provider().send(run.job.channel_id, recipient.address(), content,
                                             callback_data=callback_data(run.job, key, recipient.key))
        except ProviderError as error:
            if error.error_class is ErrorClass.TRANSIENT:
                bucket.refund()
            elif error.code == THROUGHPUT_EXCEEDED:
                _slow_down(run, bucket)
            if error.ambiguous:
                _count_ambiguous(run, recipient, error)
            outcome = _on_error(run, key, recipient, error, attempt, content)
            if outcome is not None:
                return outcome
            continue
        if deliveries.record(key, recipient.key, run.job.tenant_id, "sent", clock.now(), message_id):
            run.count("sent")
        return True
    return False


def _slow_down(run: _Run, bucket: pacing.TokenBucket) -> None:
    """The number's throughput is exceeded: this consumer sends slower for a while (pacing.TokenBucket)."""
    rate = bucket.slow_down()
    logger.warning("throughput limit (130429): pace reduced",
                   extra={"channel_id": run.job.channel_id, "rate_per_second": round(rate, 2), "nominal": bucket.nominal})


def _count_ambiguous(run: _Run, recipient: JobRecipient, error: ProviderError) -> None:
    """Sent or not, nobody can tell: the retry that follows may reach the phone twice. Counted per broadcast
    (counters.ambiguous), as a metric, and logged, so the duplicate rate is known rather than hidden."""
    run.count("ambiguous")
    count("AmbiguousSends")
    logger.warning("ambiguous send outcome: retried, may arrive twice",
                   extra={"job_id": ref(run.job.job_id), "recipient": mask(recipient.phone), "error": scrub(error.message)})


def _on_error(run: _Run, key: str, recipient: JobRecipient, error: ProviderError, attempt: int,
              content: Content) -> bool | None:
    """What one provider error means: True settled, False wait for the queue, None retry now."""
    log = {"job_id": ref(run.job.job_id), "recipient": mask(recipient.phone), "code": error.code,
           "class": error.error_class.value}
    if error.error_class in (ErrorClass.RATE_LIMITED, ErrorClass.TRANSIENT):
        if attempt < IN_PROCESS_RETRIES:
            time.sleep(min(error.retry_after or backoff(0.25, attempt + 1, MAX_BACKOFF_SECONDS), MAX_BACKOFF_SECONDS))
            return None
        logger.warning("send deferred", extra=log)
        run.pending = True
        return False
    if error.error_class is ErrorClass.RECIPIENT_RATE_LIMITED:
        # Meta's pair limit (131056): about 1 message per 6 s to one citizen, retry after 4^X s. No sleep here:
        # the recipient waits for the queue's backoff (30 s, doubling) and the thread goes on to the others.
        logger.info("recipient rate limited: deferred", extra=log)
        run.pending = True
        return False
    if error.error_class is ErrorClass.MEDIA and attempt < MEDIA_RETRIES:
        time.sleep(backoff(0.5, attempt + 1, MAX_BACKOFF_SECONDS))
        return None
    if error.error_class is ErrorClass.FATAL:
        logger.error("fatal provider error: stopping the job", extra=log)
        run.fatal = error
        run.stop.set()
        if not run.job.broadcast_id:  # a reply is not resumed: its result is recorded, with Meta's code and text
            deliveries.record(key, recipient.key, run.job.tenant_id, "failed", clock.now(),
                              error_class=error.error_class.value, error_code=error.code, error_message=error.message)
        return False
    if error.error_class is ErrorClass.WINDOW_CLOSED and run.job.fallback is not None and content != run.job.fallback:
        return _send_one(run, key, recipient, run.job.fallback)  # once: a refused template is a failure
    logger.warning("send failed", extra=log)
    if deliveries.record(key, recipient.key, run.job.tenant_id, "failed", clock.now(),
                         error_class=error.error_class.value, error_code=error.code, error_message=error.message):
        run.count("failed", str(error.code or error.error_class.value))
    return True


def _finish(run: _Run) -> None:
    job = run.job
    if job.broadcast_id:
        # every failure the sender sees is on send; a later failed status counts in 'failed' only
        counts = {**run.counts, "failed_on_send": run.counts["failed"]}
        updated = broadcasts.add_counts(job.tenant_id, job.broadcast_id, counts, run.reasons)
        if run.fatal is not None:
            progress.pause_for_error(job.tenant_id, job.broadcast_id, run.fatal)
        elif updated is not None:
            progress.complete_if_done(updated)
    elif run.fatal is not None:
        logger.error("reply not sent: the channel is refused by the provider", extra={"job_id": ref(job.job_id)})
    if run.pending:
        raise RetryLater(f"job {ref(job.job_id)} has unsent recipients")


def record_statuses(statuses: list[StatusUpdate]) -> None:
    """Apply status webhooks to their deliveries, and each broadcast's counters in one write per batch; a failed
    status whose code stops the channel pauses its broadcast.

    Within a batch only a delivery's latest status is written: the end state and the counters are the same.
    """
    latest: dict[tuple[str, str], tuple[StatusUpdate, list[str]]] = {}
    for status in statuses:
        parts = (status.callback_data or "").split("|")
        if len(parts) not in (2, 4) or status.status == "sent":
            continue  # 'sent' is what the send itself recorded: nothing to apply
        seen = latest.get((parts[0], parts[1]))
        if seen is None or deliveries.STATUS_RANK[status.status] > deliveries.STATUS_RANK[seen[0].status]:
            latest[(parts[0], parts[1])] = (status, parts)
    per_broadcast: dict[tuple[str, str], tuple[dict[str, int], dict[str, int]]] = {}
    stops: dict[tuple[str, str], ProviderError] = {}
    now = clock.now()
    for status, parts in latest.values():
        code = status.errors[0].code if status.errors else None
        old = deliveries.advance(parts[0], parts[1], status.status, now, code)
        if old is None or len(parts) != 4:
            continue
        counts, reasons = per_broadcast.setdefault((parts[2], parts[3]), ({}, {}))
        for name in _counted(old, status.status):
            counts[name] = counts.get(name, 0) + 1
        if status.status == "failed":
            reasons[str(code)] = reasons.get(str(code), 0) + 1
            if status.errors and status.errors[0].error_class is ErrorClass.FATAL:
                stops.setdefault((parts[2], parts[3]), status.errors[0].refusal())
    for (tenant_id, broadcast_id), (counts, reasons) in per_broadcast.items():
        broadcasts.add_counts(tenant_id, broadcast_id, counts, reasons)
    for (tenant_id, broadcast_id), refusal in stops.items():
        # Meta reports many refusals only later, in a failed status (131048 among them): one that stops the
        # number pauses the broadcast as it would on send, so the chunks not yet sent are not refused one by one
        progress.pause_for_error(tenant_id, broadcast_id, refusal)


def _counted(old_rank: int, status: str) -> list[str]:
    """The counters a move from old_rank to status adds to (read implies delivered)."""
    if status == "failed":
        return ["failed"]
    rank = deliveries.STATUS_RANK[status]
    return [name for name, threshold in (("delivered", 2), ("read", 3)) if old_rank < threshold <= rank]
