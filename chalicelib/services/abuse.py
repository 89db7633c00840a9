"""Abuse limits: fixed windows counted in DynamoDB so every Lambda instance sees the same count."""
from __future__ import annotations

from dataclasses import dataclass

from chalicelib.services import clock
from chalicelib.store import counters


@dataclass(frozen=True)
class Limit:
    name: str
    max_hits: int
    window_seconds: int


class TooMany(Exception):
    def __init__(self, retry_after: int):
        super().__init__(f"retry after {retry_after}s")
        self.retry_after = retry_after


def check(limit: Limit, subject: str) -> None:
    """Count a hit for subject; raise TooMany once the window's allowance is spent."""
    hits, remaining = counters.hit(f"{limit.name}#{subject}", limit.window_seconds, clock.now())
    if hits > limit.max_hits:
        raise TooMany(max(remaining, 1))
