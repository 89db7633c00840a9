"""Outbound sending: jobs on the outbound queue, paced per channel, one recorded result per recipient.

A job is one reply (one or more messages to one citizen) or a broadcast chunk (one message to a few
dozen subscribers). Per job: a lease (renewed while the job runs), one batch read of what is already
recorded (and, for a broadcast, who is still subscribed and whether the broadcast still runs), one claim
of the pairs about to be sent, then per recipient a send and one conditional write, and one settling write.
Provider errors are handled by class (DESIGN.md, Outbound).

No failure after a send ever sends it again (DESIGN.md): a pair is claimed before it is sent, and a claim a
run leaves behind (it died, or its record could not be written) is a send that may have left. The next run
counts it if it was recorded, records it as sent if the provider accepted it (the run saw it, or a status
webhook came), and sends it again only when neither is known CONFIRM after the last run could send: the
process died between the send and its record and the provider posted no status - counted as ambiguous.
"""
from __future__ import annotations

import hashlib
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from time import monotonic  # apart from time.sleep, which tests replace to watch the backoff
from typing import Any

from pydantic import BaseModel

from chalicelib.domain.broadcasts import in_service_window
from chalicelib.domain.phones import mask
from chalicelib.observability import count, logger, ref, scrub
from chalicelib.providers import get_provider
from chalicelib.providers.base import (
    Content,
    ErrorClass,
    ProviderError,
    Recipient,
    StatusUpdate,
    Template,
)
from chalicelib.providers.webhook import RECORDED_BY_THE_SEND
from chalicelib.services import clock
from chalicelib.services.messaging import heartbeat, pacing, progress, usage
from chalicelib.services.messaging.backoff import backoff
from chalicelib.settings import get_settings
from chalicelib.store import broadcasts, deliveries, directory, queues
from chalicelib.store.citizens import parse_time

IN_PROCESS_RETRIES = 4  # quick retries inside one consumer run (0.25 s doubling) before the queue's backoff
THROUGHPUT_EXCEEDED = 130429  # Meta: the number's messages-per-second limit
MEDIA_RETRIES = 2  # a media error (131053) is tried this many more times, then failed for that recipient
MAX_BACKOFF_SECONDS = 5.0
SEND_THREADS = 8  # sends in flight per consumer, so latency does not cap the rate
STATUS_THREADS = 8  # delivery status writes in flight per batch of status webhooks
# Pairs claimed with one write, before the first of them is sent: a broadcast chunk's (fanout.CHUNK_SIZE) at once.
# A run that dies leaves at most this many unresolved; each waits CONFIRM for a status, as any claim would, so a
# larger window costs no time, only the precision of `ambiguous` (sent again with no news: an upper bound).
CLAIM_WINDOW = 40
DELIVERY_SHARDS = 16  # a broadcast's delivery records spread over this many partitions
HEARTBEAT_SECONDS = deliveries.LEASE.total_seconds() / 3  # a running job's lease is renewed this often: two beats may fail
FENCE_SECONDS = 1.0  # a run starts no send in the last second of its lease (clocks of two consumers may differ)
CONFIRM = timedelta(seconds=15)  # a send that may have left: its status webhook is awaited this long after the last
# moment its run could send (the provider's 10 s timeout, then 5 s for Meta's 'delivered', which takes 1-2 s)


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
    """Some recipients of the job are still unsent after a retryable error, or another consumer holds it.

    after: when waiting longer is pointless (the other run's lease lapses, a status is due), in seconds."""

    def __init__(self, message: str, after: float | None = None):
        super().__init__(message)
        self.after = after


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
    """One consumer's pass over a job under its lease: what happened, counted for the broadcast, and which of
    its claims it settled."""

    job: OutboundJob
    rate: float
    consumer: str  # the consumer's own bucket: one per Lambda process (one per poller thread locally)
    holder: str  # this run's name on the lease
    lease: deliveries.Lease
    deadline: float  # monotonic(): no send starts after it unless the lease is renewed meanwhile
    counts: dict[str, int] = field(default_factory=lambda: {"sent": 0, "failed": 0, "skipped": 0, "ambiguous": 0})
    reasons: dict[str, int] = field(default_factory=dict)
    pending: bool = False
    dropped: bool = False  # the broadcast is not sending (paused, cancelled, completed): nothing sent
    fatal: ProviderError | None = None
    error: Exception | None = None  # a failure of our own (the store): the job comes back after the settling
    claims: set[str] = field(default_factory=set)  # the pairs this run answers for: its own claims and earlier ones
    order: list[str] = field(default_factory=list)  # the pairs it means to send, in order: claimed a window at a time
    sending: bool = False  # it has claimed: the lease item's sent_until follows its lease
    counted: set[str] = field(default_factory=set)  # claims whose results this run counted
    sent_by_category: dict[str, int] = field(default_factory=dict)  # the usage meter's, written once when it settles
    unknown: set[str] = field(default_factory=set)  # claims that may have been sent and are not recorded: kept
    accepted: set[str] = field(default_factory=set)  # ... of which the provider accepted these: never sent again
    waiting: set[str] = field(default_factory=set)  # an earlier run's claims whose status is still awaited: kept
    wait_until: datetime | None = None
    updated: broadcasts.Broadcast | None = None  # the broadcast as this run's counts left it
    again: set[str] = field(default_factory=set)  # an earlier run's claims with no news after the wait: sent again
    lock: threading.Lock = field(default_factory=threading.Lock)
    claiming: threading.Lock = field(default_factory=threading.Lock)
    stop: threading.Event = field(default_factory=threading.Event)

    def count(self, outcome: str, reason: str | None = None, claim: str | None = None) -> None:
        with self.lock:
            self.counts[outcome] += 1
            if reason:
                self.reasons[reason] = self.reasons.get(reason, 0) + 1
            if claim is not None:
                self.counted.add(claim)

    def metered(self, category: str) -> None:
        with self.lock:
            self.sent_by_category[category] = self.sent_by_category.get(category, 0) + 1

    def may_send(self) -> bool:
        if monotonic() < self.deadline:
            return not self.stop.is_set()
        self.halt()  # the lease may have lapsed: another run may have the job, so this one sends no more
        return False

    def halt(self) -> None:
        self.pending = True
        self.stop.set()

    def fail(self, error: Exception) -> None:
        with self.lock:
            self.error = self.error or error
        self.stop.set()

    def maybe_sent(self, claim: str, accepted: bool = False) -> None:
        with self.lock:
            self.unknown.add(claim)
            if accepted:
                self.accepted.add(claim)

    def recorded(self, claim: str) -> None:
        with self.lock:
            self.unknown.discard(claim)
            self.accepted.discard(claim)


def consumer_rate(channel_rate: float) -> float:
    """Each consumer's share: the event source runs at most OUTBOUND_CONSUMERS consumers at once."""
    return channel_rate / max(get_settings().outbound_consumers, 1)


def claim_id(index: int, recipient: str) -> str:
    """A (content, recipient) pair of a job as its lease item names it: the content's index first, so the
    recipient's key (which may hold any character) is everything after the first colon."""
    return f"{index}:{recipient}"


def process_job(job: OutboundJob) -> None:
    """Send every unsent (content, recipient) pair of a job; raise RetryLater if some must wait."""
    holder, started = uuid.uuid4().hex, monotonic()
    lease = deliveries.lease(job.job_id, holder, clock.now())
    if not lease.taken:
        raise RetryLater(f"job {ref(job.job_id)} is held by another consumer", after=_seconds_until(lease.until))
    channel = directory.get_channel(job.channel_id)
    run = _Run(job, consumer_rate(channel.rate_per_second if channel else 80.0), threading.current_thread().name,
               holder, lease, deadline=started + deliveries.LEASE.total_seconds() - FENCE_SECONDS)
    with heartbeat.beating(HEARTBEAT_SECONDS, lambda: _renew(run), name="lease"):
        try:
            _work(run)
        except Exception as error:  # settled below all the same: what this run knows is not lost with it
            run.fail(error)
    _settle(run)
    if run.error is not None:
        raise run.error
    _finish(run)


def _renew(run: _Run) -> None:
    started = monotonic()
    if deliveries.renew(run.job.job_id, run.holder, clock.now(), run.sending):
        run.deadline = started + deliveries.LEASE.total_seconds() - FENCE_SECONDS
    else:
        logger.warning("lease lost: another run took the job over", extra={"job_id": ref(run.job.job_id)})
        run.halt()


def _seconds_until(moment: datetime) -> float:
    return max((moment - clock.now()).total_seconds(), 0.0)


def _work(run: _Run) -> None:
    job = run.job
    pairs = {claim_id(i, r.key): (delivery_key(job, i, r.key), r.key)
             for r in job.recipients for i in range(len(job.contents))}
    snap = deliveries.snapshot(list(pairs.values()), job.channel_id,
                               [r.key for r in job.recipients] if job.broadcast_id else [],
                               (job.tenant_id, job.broadcast_id) if job.broadcast_id else None)
    sending = not job.broadcast_id or (snap.broadcast is not None and snap.broadcast["status"] == "sending")
    settled = _resolve(run, snap, pairs, sending)
    if not sending:
        logger.info("chunk dropped: broadcast not sending", extra={"broadcast_id": job.broadcast_id})
        run.dropped = True
        return  # paused or cancelled: a resume fans out again, and recorded recipients are skipped
    run.order = [c for r in job.recipients for i in range(len(job.contents))
                 if pairs[c := claim_id(i, r.key)] not in settled and c not in run.waiting]
    ordered = set(run.order)
    todo = [r for r in job.recipients if any(claim_id(i, r.key) in ordered for i in range(len(job.contents)))]
    with ThreadPoolExecutor(max_workers=min(SEND_THREADS, max(len(todo), 1)), thread_name_prefix="sender") as pool:
        list(pool.map(lambda r: _send_to(run, snap, settled, r), todo))


def _resolve(run: _Run, snap: deliveries.Snapshot, pairs: dict[str, tuple[str, str]],
             sending: bool) -> set[tuple[str, str]]:
    """What earlier runs' claims mean, before anything is sent; returns the pairs recorded by now.

    Recorded: counted now (the run that recorded it stopped before counting). Not recorded, but the provider
    accepted it (that run saw it, or a status webhook came): recorded as sent, never sent again. Neither: awaited
    until CONFIRM after the last run could send, then sent again (counted as ambiguous). Until a claim is
    resolved it stays (unknown), whatever stops this run."""
    settled = set(snap.recorded)
    run.claims = set(run.lease.claims) & pairs.keys()
    run.unknown = set(run.claims)
    confirm_until = (run.lease.sent_until or clock.now()) + CONFIRM
    for claim in sorted(run.claims):
        pair = pairs[claim]
        if pair in snap.results:
            _count_recorded(run, claim, snap.results[pair])
        elif claim in run.lease.accepted or pair in snap.evidence:
            if deliveries.record(pair[0], pair[1], run.job.tenant_id, "sent", clock.now(), **_about(run)):
                run.count("sent", claim=claim)
            settled.add(pair)
        elif not sending:
            continue  # kept for a run that sends
        elif clock.now() < confirm_until:
            run.waiting.add(claim)
            run.wait_until = confirm_until
        else:
            run.again.add(claim)
            run.claims.discard(claim)  # claimed again before it is sent, so the wait restarts if this run dies
        run.unknown.discard(claim)
    return settled


def _count_recorded(run: _Run, claim: str, item: dict) -> None:
    """A result recorded by a run that stopped before counting it."""
    outcome = item.get("outcome") or "sent"
    code = item.get("error_code")
    reason = (str(int(code)) if code is not None else item.get("error_class")) if outcome == "failed" else None
    run.count(outcome, reason, claim=claim)


def _send_to(run: _Run, snap: deliveries.Snapshot, settled: set[tuple[str, str]], recipient: JobRecipient) -> None:
    try:
        _send_in_order(run, snap, settled, recipient)
    except Exception as error:  # the store failed: this run stops, and what it knows is settled
        logger.exception("send path failed", extra={"job_id": ref(run.job.job_id), "recipient": mask(recipient.phone)})
        run.fail(error)


def _send_in_order(run: _Run, snap: deliveries.Snapshot, settled: set[tuple[str, str]],
                   recipient: JobRecipient) -> None:
    job = run.job
    if job.broadcast_id:
        citizen = snap.citizens.get(recipient.key)
        if not citizen or citizen.get("status") != "active":  # left after the broadcast started
            key, claim = delivery_key(job, 0, recipient.key), claim_id(0, recipient.key)
            if (key, recipient.key) not in settled and _claimed(run, claim):  # claimed: counted exactly once
                if deliveries.record(key, recipient.key, job.tenant_id, "skipped", clock.now()):
                    run.count("skipped", claim=claim)
            return
    for index, content in enumerate(job.contents):
        key, claim = delivery_key(job, index, recipient.key), claim_id(index, recipient.key)
        if (key, recipient.key) in settled:
            continue
        if claim in run.waiting or not run.may_send() or not _claimed(run, claim):
            return  # keep a recipient's messages in order
        if claim in run.again:
            _count_sent_again(run, recipient)
        if not _send_one(run, key, claim, recipient, _content_for(job, content, snap, recipient)):
            return


def _claimed(run: _Run, claim: str) -> bool:
    """Whether this run may send the pair: claimed on the lease item before, with the pairs that follow it
    (CLAIM_WINDOW in one write); False when the lease was lost meanwhile."""
    with run.claiming:
        if claim in run.claims:
            return True
        if run.stop.is_set() or claim not in run.order:
            return False
        start = run.order.index(claim)
        window = [c for c in run.order[start:] if c not in run.claims][:CLAIM_WINDOW]
        if not deliveries.claim(run.job.job_id, run.holder, set(window), clock.now()):
            logger.warning("lease lost: another run took the job over", extra={"job_id": ref(run.job.job_id)})
            run.halt()
            return False
        run.claims.update(window)
        run.sending = True
        return True


def _count_sent_again(run: _Run, recipient: JobRecipient) -> None:
    """A send an earlier run may have made (it died between the send and its record, and no status came): sent
    again, so it may arrive twice; counted like the provider's ambiguous answers."""
    run.count("ambiguous")
    count("AmbiguousSends")
    logger.warning("a send that may have left is sent again: no record and no status after the wait",
                   extra={"job_id": ref(run.job.job_id), "recipient": mask(recipient.phone)})


def _content_for(job: OutboundJob, content: Content, snap: deliveries.Snapshot, recipient: JobRecipient) -> Content:
    """Free text inside the 24-hour window; the channel's template outside it."""
    if not job.broadcast_id or job.fallback is None or isinstance(content, Template):
        return content
    last = parse_time(snap.citizens.get(recipient.key, {}).get("last_inbound_at"))
    return content if in_service_window(last, clock.now()) else job.fallback


def _send_one(run: _Run, key: str, claim: str, recipient: JobRecipient, content: Content) -> bool:
    """True when this pair is settled (sent, or failed for good); False when it must wait."""
    bucket = pacing.bucket_for(f"{run.job.channel_id}:{run.consumer}", run.rate)
    for attempt in range(IN_PROCESS_RETRIES + 1):
        if not run.may_send():
            return False
        bucket.take()
        if not run.may_send():
            return False
        try:
            message_id = get_provider().send(run.job.channel_id, recipient.address(), content,
                                             callback_data=callback_data(run.job, key, recipient.key))
        except ProviderError as error:
            if error.error_class is ErrorClass.TRANSIENT:
                bucket.refund()
            elif error.code == THROUGHPUT_EXCEEDED:
                _slow_down(run, bucket)
            if error.ambiguous:
                run.maybe_sent(claim)
                _count_ambiguous(run, recipient, error)
            outcome = _on_error(run, key, claim, recipient, error, attempt, content)
            if outcome:
                run.recorded(claim)  # failed for good, and recorded so
            if outcome is not None:
                return outcome
            continue
        _record_sent(run, key, claim, recipient, message_id, content)
        return True
    return False


def _record_sent(run: _Run, key: str, claim: str, recipient: JobRecipient, message_id: str,
                 content: Content | None = None) -> None:
    """The provider accepted the send: its record (with the provider's id) before anything else. A record that
    fails leaves the claim noted as accepted, so no run sends it again, and stops this run."""
    try:
        recorded = deliveries.record(key, recipient.key, run.job.tenant_id, "sent", clock.now(), message_id,
                                     **_about(run, content))
    except Exception:
        run.maybe_sent(claim, accepted=True)
        raise
    run.recorded(claim)
    if recorded:
        run.count("sent", claim=claim)
        if content is not None:  # once: the record is written once, by this run
            run.metered(usage.sent_category(run.job.channel_id, content))


def _about(run: _Run, content: Content | None = None) -> dict[str, str | None]:
    """What a delivery record keeps of its send besides the result: the channel; for a reply or an update, a
    summary of the message (a broadcast's text is on the broadcast)."""
    summary = None if run.job.broadcast_id or content is None else summarise(content)
    return {"channel_id": run.job.channel_id, "summary": summary}


def summarise(content: Content) -> str:
    """A message in one line of text, as the desk reads it: a text's body, a template's name and parameters."""
    if isinstance(content, Template):
        return " | ".join([content.name, *content.body_params])
    words = getattr(content, "body", None) or getattr(content, "caption", None) or getattr(content, "link", None)
    return str(words or content.kind)


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


def _on_error(run: _Run, key: str, claim: str, recipient: JobRecipient, error: ProviderError, attempt: int,
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
                              error_class=error.error_class.value, error_code=error.code, error_message=error.message,
                              **_about(run, content))
        return False
    if error.error_class is ErrorClass.WINDOW_CLOSED and run.job.fallback is not None and content != run.job.fallback:
        return _send_one(run, key, claim, recipient, run.job.fallback)  # once: a refused template is a failure
    logger.warning("send failed", extra=log)
    if deliveries.record(key, recipient.key, run.job.tenant_id, "failed", clock.now(),
                         error_class=error.error_class.value, error_code=error.code, error_message=error.message,
                         **_about(run, content)):
        run.count("failed", str(error.code or error.error_class.value), claim=claim)
    return True


def _settle(run: _Run) -> None:
    """The run's end in one transaction: the claims it settled leave the lease item (and the lease is given back if
    the job comes back), its counts go to the broadcast and its sends to the usage meter. The claims never leave
    without their counts, so a run killed at its end loses nothing and counts nothing twice. A transaction that
    fails is written apart (_settle_apart); a run that lost its lease leaves the counting to the run that took the
    job over, and only meters its own sends."""
    job, now = run.job, clock.now()
    done = run.claims - run.unknown - run.waiting
    release = run.pending or bool(run.waiting) or run.error is not None
    # every failure the sender sees is on send; a later failed status counts in 'failed' only
    counts = {**run.counts, "failed_on_send": run.counts["failed"]}
    counted = broadcasts.counts_update(job.tenant_id, job.broadcast_id, counts, run.reasons) if job.broadcast_id else None
    metered = usage.sent_addition(job.tenant_id, job.channel_id, run.sent_by_category)
    together = [update for update in (counted, metered) if update is not None]
    try:
        settled = deliveries.settle(job.job_id, run.holder, done, run.accepted, release, run.sending, now, together)
    except Exception:
        if not together:
            raise
        logger.warning("the settling transaction failed: its writes are made apart", extra={"job_id": ref(job.job_id)})
        _settle_apart(run, done, release, now, counts)
        return
    if not settled:
        _lease_lost(run)
        if metered is not None:
            usage.count_sent(job.tenant_id, job.channel_id, run.sent_by_category)
        return
    if counted is not None:  # the counters as they now stand, for the completion: a consistent read
        run.updated = broadcasts.get(job.tenant_id, job.broadcast_id)


def _settle_apart(run: _Run, done: set[str], release: bool, now: datetime, counts: dict[str, int]) -> None:
    """The settling written apart, in the order that never counts a result twice: the usage meter (counting never
    stops the settling), the claims off the lease item, then the counts to the broadcast. A counter write that
    fails puts the counted claims back, for the next run to count; a run killed between the two writes loses its
    counts (never doubles them: twice-counted results would complete a broadcast early and drop its last jobs)."""
    job = run.job
    usage.count_sent(job.tenant_id, job.channel_id, run.sent_by_category)
    if not deliveries.settle(job.job_id, run.holder, done, run.accepted, release, run.sending, now):
        _lease_lost(run)
        return
    if not job.broadcast_id:
        return
    try:
        run.updated = broadcasts.add_counts(job.tenant_id, job.broadcast_id, counts, run.reasons)
    except Exception:
        if run.counted and deliveries.claim(job.job_id, run.holder, run.counted, now):
            logger.warning("counts not written: left for the next run", extra={"job_id": ref(job.job_id)})
        raise


def _lease_lost(run: _Run) -> None:
    logger.warning("lease lost before settling: the run that took the job over counts its results",
                   extra={"job_id": ref(run.job.job_id)})


def _finish(run: _Run) -> None:
    job = run.job
    if job.broadcast_id:
        if run.fatal is not None:
            progress.pause_for_error(job.tenant_id, job.broadcast_id, run.fatal)
        elif run.updated is not None:
            progress.complete_if_done(run.updated)
        elif not (run.counted or run.pending or run.waiting or run.dropped):
            _complete_if_left_undone(job)
    elif run.fatal is not None:
        logger.error("reply not sent: the channel is refused by the provider", extra={"job_id": ref(job.job_id)})
    if run.waiting:
        raise RetryLater(f"job {ref(job.job_id)} awaits the outcome of earlier sends",
                         after=_seconds_until(run.wait_until) if run.wait_until else None)
    if run.pending:
        raise RetryLater(f"job {ref(job.job_id)} has unsent recipients")


def _complete_if_left_undone(job: OutboundJob) -> None:
    """A job back with nothing left to count: the run that counted its last results may have stopped before
    completing the broadcast (one read, on this rare path)."""
    broadcast = broadcasts.get(job.tenant_id, job.broadcast_id)
    if broadcast is not None:
        progress.complete_if_done(broadcast)


def record_statuses(statuses: list[StatusUpdate]) -> None:
    """Apply status webhooks to their deliveries, and each broadcast's counters in one write per batch; a failed
    status whose code stops the channel pauses its broadcast.

    Within a batch only a delivery's latest status is written: the end state and the counters are the same. The
    usage meter counts a delivered message WhatsApp charges once, by the write that sets its delivery's charged
    mark: the move to delivered or read, when a status of the batch carried charged pricing, or, when the priced
    status moves nothing (its `read` or a `failed` came first, or it is a duplicate) or the batch's latest status
    is a `failed`, a conditional write of the mark alone.
    The deliveries are written a few at a time (each write waits on DynamoDB); when some fail, what the others moved
    is still counted before the error is raised, so the batch's retry counts only what it then moves.
    """
    latest: dict[tuple[str, str], tuple[StatusUpdate, list[str]]] = {}
    charged: dict[tuple[str, str], StatusUpdate] = {}
    for status in statuses:
        parts = (status.callback_data or "").split("|")
        if len(parts) not in (2, 4) or status.status in RECORDED_BY_THE_SEND:
            continue  # nothing to apply
        if usage.is_charged(status):
            charged.setdefault((parts[0], parts[1]), status)
        seen = latest.get((parts[0], parts[1]))
        if seen is None or deliveries.STATUS_RANK[status.status] > deliveries.STATUS_RANK[seen[0].status]:
            latest[(parts[0], parts[1])] = (status, parts)
    now = clock.now()
    moved, failure = _in_parallel(list(latest.values()), lambda status, parts: deliveries.advance(
        parts[0], parts[1], status.status, now, status.errors[0].code if status.errors else None,
        charged=(parts[0], parts[1]) in charged))
    unmarked = [(charged[(parts[0], parts[1])], parts) for status, parts, move in moved
                if (parts[0], parts[1]) in charged and (move is None or not deliveries.marks_on_move(status.status))]
    marked, mark_failure = _in_parallel(unmarked, lambda _, parts: deliveries.mark_billed(parts[0], parts[1]))
    usage.count_billed([charged[(parts[0], parts[1])] for _, parts, move in moved if move is not None and move.billed]
                       + [status for status, _, was_set in marked if was_set])
    per_broadcast: dict[tuple[str, str], tuple[dict[str, int], dict[str, int]]] = {}
    stops: dict[tuple[str, str], ProviderError] = {}
    for status, parts, move in moved:
        if move is None or len(parts) != 4:
            continue
        counts, reasons = per_broadcast.setdefault((parts[2], parts[3]), ({}, {}))
        for name in _counted(move.old_rank, status.status):
            counts[name] = counts.get(name, 0) + 1
        if status.status == "failed":
            code = status.errors[0].code if status.errors else None
            reasons[str(code)] = reasons.get(str(code), 0) + 1
            if status.errors and status.errors[0].error_class is ErrorClass.FATAL:
                stops.setdefault((parts[2], parts[3]), status.errors[0].refusal())
    for (tenant_id, broadcast_id), (counts, reasons) in per_broadcast.items():
        broadcasts.add_counts(tenant_id, broadcast_id, counts, reasons)
    for (tenant_id, broadcast_id), refusal in stops.items():
        # Meta reports many refusals only later, in a failed status (131048 among them): one that stops the
        # number pauses the broadcast as it would on send, so the chunks not yet sent are not refused one by one
        progress.pause_for_error(tenant_id, broadcast_id, refusal)
    if failure is not None and mark_failure is not None:
        logger.warning("charged marks not written", extra={"error": scrub(str(mark_failure))})
    if failure is not None or mark_failure is not None:
        raise failure or mark_failure


def _in_parallel(items: list[tuple[StatusUpdate, list[str]]], write: Callable[[StatusUpdate, list[str]], Any]
                 ) -> tuple[list[tuple[StatusUpdate, list[str], Any]], Exception | None]:
    """`write` for each (status, callback parts), STATUS_THREADS at a time (each waits on DynamoDB): what each
    returned, and the first failure, if any (the others' results are still given)."""
    def one(item: tuple[StatusUpdate, list[str]]):
        status, parts = item
        try:
            return status, parts, write(status, parts)
        except Exception as error:  # noqa: BLE001 - raised by record_statuses once the others are counted
            return error

    if len(items) < 2:
        results = [one(item) for item in items]
    else:
        with ThreadPoolExecutor(max_workers=min(STATUS_THREADS, len(items)), thread_name_prefix="status") as pool:
            results = list(pool.map(one, items))
    failures = [r for r in results if isinstance(r, Exception)]
    return [r for r in results if not isinstance(r, Exception)], failures[0] if failures else None


def _counted(old_rank: int, status: str) -> list[str]:
    """The counters a move from old_rank to status adds to (read implies delivered)."""
    if status == "failed":
        return ["failed"]
    rank = deliveries.STATUS_RANK[status]
    return [name for name, threshold in (("delivered", 2), ("read", 3)) if old_rank < threshold <= rank]
