"""The current time, in one place so that every use case agrees on it."""
from datetime import UTC, datetime


def now() -> datetime:
    return datetime.now(UTC)
