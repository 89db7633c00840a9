"""Per-recipient delivery records: claimed before a send, so a redelivered job never sends twice."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from pynamodb.exceptions import PutError, UpdateError

from chalicelib.store.models import DeliveryModel

RETENTION = timedelta(days=90)
CLAIM_LEASE = timedelta(minutes=5)  # a claim older than this was left by a consumer that died
STATUS_RANK = {"sending": 0, "sent": 1, "delivered": 2, "read": 3, "played": 3, "failed": 4}


@dataclass(frozen=True)
class Delivery:
    job_id: str
    recipient: str
    status: str
    provider_message_id: str | None
    error_code: int | None
    attempts: int


def _conditional_failed(exc: Exception) -> bool:
    return getattr(exc, "cause_response_code", "") == "ConditionalCheckFailedException"


def claim(job_id: str, recipient: str, tenant_id: str, channel_id: str, now: datetime) -> bool:
    """Take the right to send to recipient for job_id; False when it is sent, failed or being sent."""
    item = DeliveryModel(
        job_id, recipient, tenant_id=tenant_id, channel_id=channel_id, status="sending", status_rank=0,
        attempts=1, updated_at=now, expires_at=now + RETENTION,
    )
    stale = now - CLAIM_LEASE
    retryable = (DeliveryModel.status == "retry") | (
        (DeliveryModel.status == "sending") & (DeliveryModel.updated_at < stale))
    try:
        item.save(condition=DeliveryModel.job_id.does_not_exist() | retryable)
        return True
    except PutError as exc:
        if _conditional_failed(exc):
            return False
        raise


def release(job_id: str, recipient: str, now: datetime, error_class: str, code: int | None) -> None:
    """Give a claim back after a retryable failure: the next delivery of the job tries again."""
    DeliveryModel(job_id, recipient).update(actions=[
        DeliveryModel.status.set("retry"), DeliveryModel.error_class.set(error_class),
        DeliveryModel.error_code.set(code), DeliveryModel.updated_at.set(now),
    ])


def mark_sent(job_id: str, recipient: str, provider_message_id: str, now: datetime) -> None:
    """Record the send; a status webhook that raced ahead of us keeps its later status."""
    item = DeliveryModel(job_id, recipient)
    keep = [DeliveryModel.provider_message_id.set(provider_message_id), DeliveryModel.updated_at.set(now)]
    try:
        item.update(
            actions=keep + [DeliveryModel.status.set("sent"), DeliveryModel.status_rank.set(STATUS_RANK["sent"])],
            condition=DeliveryModel.status_rank < STATUS_RANK["sent"],
        )
    except UpdateError as exc:
        if not _conditional_failed(exc):
            raise
        item.update(actions=keep)


def mark_failed(job_id: str, recipient: str, now: datetime, error_class: str, code: int | None,
                message: str) -> None:
    DeliveryModel(job_id, recipient).update(actions=[
        DeliveryModel.status.set("failed"), DeliveryModel.status_rank.set(STATUS_RANK["failed"]),
        DeliveryModel.error_class.set(error_class), DeliveryModel.error_code.set(code),
        DeliveryModel.error_message.set(message[:300]), DeliveryModel.updated_at.set(now),
    ])


def advance(job_id: str, recipient: str, status: str, now: datetime, code: int | None = None) -> bool:
    """Apply a provider status; out-of-order and repeated statuses never move a delivery back."""
    rank = STATUS_RANK.get(status)
    if rank is None:
        return False
    actions = [DeliveryModel.status.set(status), DeliveryModel.status_rank.set(rank),
               DeliveryModel.updated_at.set(now)]
    if code is not None:
        actions.append(DeliveryModel.error_code.set(code))
    try:
        DeliveryModel(job_id, recipient).update(
            actions=actions,
            condition=DeliveryModel.job_id.exists() & (DeliveryModel.status_rank < rank),
        )
        return True
    except UpdateError as exc:
        if _conditional_failed(exc):
            return False
        raise


def get(job_id: str, recipient: str) -> Delivery | None:
    for m in DeliveryModel.query(job_id, DeliveryModel.recipient == recipient):
        return Delivery(m.job_id, m.recipient, m.status, m.provider_message_id,
                        int(m.error_code) if m.error_code is not None else None, int(m.attempts or 0))
    return None
