"""Fixed-window counters in DynamoDB, for abuse limits shared by every Lambda instance, and marks of what was done
once (each a counter of one, expiring)."""
from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from pynamodb.exceptions import PutError

from chalicelib.store.models import CounterModel


def hit(name: str, window_seconds: int, now: datetime, amount: int = 1) -> tuple[int, int]:
    """Count amount (one hit, or a negative amount to give some back) in the current window; returns (the
    window's total so far, seconds until the window ends)."""
    epoch = int(now.timestamp())
    window_start = epoch - epoch % window_seconds
    key = f"{name}#{window_start}"
    expires = datetime.fromtimestamp(window_start + window_seconds, tz=UTC) + timedelta(minutes=5)
    item = CounterModel(key)
    item.update(actions=[CounterModel.count.add(amount), CounterModel.expires_at.set(expires)])
    return int(item.count), window_start + window_seconds - epoch


def marked(keys: Iterable[str]) -> set[str]:
    """Which of these marks exist (one BatchGetItem per hundred)."""
    return {m.counter_key for m in CounterModel.batch_get(list(keys), attributes_to_get=["counter_key"])}


def mark(key: str, keep: timedelta) -> None:
    """Record that what key names was done; the mark expires after keep (DynamoDB TTL)."""
    CounterModel(key, count=1, expires_at=datetime.now(UTC) + keep).save()


def claim(key: str, keep: timedelta, now: datetime) -> bool:
    """Mark that what key names is being done, only if nobody marked it before (a conditional write): True for the
    one caller that got it. The mark expires after keep."""
    try:
        CounterModel(key, count=1, expires_at=now + keep).save(condition=CounterModel.counter_key.does_not_exist())
    except PutError as error:
        if getattr(error, "cause_response_code", None) == "ConditionalCheckFailedException":
            return False
        raise
    return True


def release(key: str) -> None:
    """Forget a claim whose work failed, so that a later run does it."""
    CounterModel(key).delete()
