"""Abuse limits: fixed windows counted in DynamoDB so every Lambda instance sees the same count."""
from __future__ import annotations

from dataclasses import dataclass

from chalicelib.services import clock


@dataclass(frozen=True)
class Limit:
    name: str
    max_hits: int
    window_seconds: int


class TooMany(Exception):
    def __init__(self, limit: Limit, retry_after: int):
        super().__init__(f"{limit.name}: more than {limit.max_hits} in {limit.window_seconds}s, retry after {retry_after}s")
        self.limit, self.retry_after = limit, retry_after


def check(limit: Limit, subject: str, amount: int = 1) -> None:
    """Count amount for subject; raise TooMany (and count nothing) when it would spend more than the window allows."""
    from chalicelib.store import counters  # the store (PynamoDB) loads with the first check, not with every import

    total, remaining = counters.hit(f"{limit.name}#{subject}", limit.window_seconds, clock.now(), amount)
    if total > limit.max_hits:
        if amount > 1:  # a batch refused whole gives its count back, so a smaller one may still pass
            counters.hit(f"{limit.name}#{subject}", limit.window_seconds, clock.now(), -amount)
        raise TooMany(limit, max(remaining, 1))
