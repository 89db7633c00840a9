"""Outbound sending: jobs on the outbound queue, paced, idempotent per recipient, errors by class."""
from __future__ import annotations

import time

from aws_lambda_powertools import Logger
from pydantic import BaseModel

from chalicelib.domain.phones import mask
from chalicelib.providers import get_provider
from chalicelib.providers.base import Content, ErrorClass, ProviderError, Recipient, StatusUpdate, Template
from chalicelib.services import clock, pacing
from chalicelib.store import deliveries, directory, queues

logger = Logger(service="filo-diretto", child=True)

IN_PROCESS_RETRIES = 2  # quick retries inside one consumer run before the queue's redelivery takes over
MAX_BACKOFF_SECONDS = 5.0


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
    fallback: Template | None = None  # sent instead when the 24-hour window is closed
    broadcast_id: str | None = None


class RetryLater(Exception):
    """Some recipients of the job are still unsent after a retryable error."""


def delivery_id(job_id: str, index: int) -> str:
    """Each content of a job is its own delivery, so a retry never repeats an earlier one."""
    return job_id if index == 0 else f"{job_id}.{index}"


def enqueue(job: OutboundJob) -> None:
    queues.send("outbound", job.model_dump(mode="json", exclude_none=True))


def reply(tenant_id: str, channel_id: str, recipient: JobRecipient, contents: list[Content], job_id: str) -> None:
    """Queue the answer to a citizen's message; job_id derives from that message, so a replay is harmless."""
    enqueue(OutboundJob(job_id=job_id, tenant_id=tenant_id, channel_id=channel_id, contents=contents,
                        recipients=[recipient]))


def process_job(job: OutboundJob) -> None:
    """Send every unsent (content, recipient) pair of a job; raise RetryLater if some must wait."""
    channel = directory.get_channel(job.channel_id)
    rate = channel.rate_per_second if channel else 80.0
    pending = False
    for recipient in job.recipients:
        for index, content in enumerate(job.contents):
            if not _send_one(job, delivery_id(job.job_id, index), recipient, content, rate):
                pending = True
                break  # keep a recipient's messages in order
    if pending:
        raise RetryLater(f"job {job.job_id} has unsent recipients")


def _send_one(job: OutboundJob, job_id: str, recipient: JobRecipient, content: Content, rate: float) -> bool:
    """True when this pair is settled (sent, or failed for good); False when it must be retried."""
    if not deliveries.claim(job_id, recipient.key, job.tenant_id, job.channel_id, clock.now()):
        return True
    bucket = pacing.bucket_for(job.channel_id, rate)
    for attempt in range(IN_PROCESS_RETRIES + 1):
        bucket.take()
        try:
            message_id = get_provider().send(job.channel_id, recipient.address(), content,
                                             callback_data=f"{job_id}|{recipient.key}")
        except ProviderError as error:
            outcome = _on_error(job, job_id, recipient, error, attempt)
            if outcome is not None:
                return outcome
            continue
        deliveries.mark_sent(job_id, recipient.key, message_id, clock.now())
        return True
    return False


def _on_error(job: OutboundJob, job_id: str, recipient: JobRecipient, error: ProviderError,
              attempt: int) -> bool | None:
    """What one provider error means: True settled, False retry later, None retry now."""
    log = {"job_id": job_id, "recipient": mask(recipient.phone), "code": error.code, "class": error.error_class}
    if error.error_class in (ErrorClass.RATE_LIMITED, ErrorClass.TRANSIENT):
        if attempt < IN_PROCESS_RETRIES:
            time.sleep(min(error.retry_after or 0.5 * 2 ** attempt, MAX_BACKOFF_SECONDS))
            return None
        logger.warning("send deferred", extra=log)
        deliveries.release(job_id, recipient.key, clock.now(), error.error_class.value, error.code)
        return False
    if error.error_class is ErrorClass.WINDOW_CLOSED and job.fallback is not None:
        return _send_fallback(job, job_id, recipient)
    logger.error("send failed", extra=log)
    deliveries.mark_failed(job_id, recipient.key, clock.now(), error.error_class.value, error.code, error.message)
    return True


def _send_fallback(job: OutboundJob, job_id: str, recipient: JobRecipient) -> bool:
    try:
        message_id = get_provider().send(job.channel_id, recipient.address(), job.fallback,
                                         callback_data=f"{job_id}|{recipient.key}")
    except ProviderError as error:
        deliveries.mark_failed(job_id, recipient.key, clock.now(), error.error_class.value, error.code,
                               error.message)
        return True
    deliveries.mark_sent(job_id, recipient.key, message_id, clock.now())
    return True


def record_status(status: StatusUpdate) -> bool:
    """Apply a status webhook to its delivery; the delivery is named in the callback data we sent."""
    if not status.callback_data or "|" not in status.callback_data:
        logger.info("status without our callback data", extra={"status": status.status})
        return False
    job_id, recipient = status.callback_data.split("|", 1)
    code = status.errors[0].code if status.errors else None
    return deliveries.advance(job_id, recipient, status.status, clock.now(), code)
