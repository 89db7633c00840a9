"""The current time, in one place so that every use case agrees on it."""
from datetime import datetime, timezone


def now() -> datetime:
    return datetime.now(timezone.utc)
