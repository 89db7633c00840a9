"""Per-channel send pacing inside one consumer: a token bucket at the channel's rate, slowed down when Meta
says the number's throughput is exceeded (130429) and brought back up step by step."""
from __future__ import annotations

import threading
import time

SLOW_DOWN_FACTOR = 0.5  # each 130429 halves the pace...
FLOOR_SHARE = 0.1  # ...down to a tenth of the configured rate
RECOVERY_SECONDS = 10.0  # after this long without another 130429, the pace goes up by a quarter (to the nominal)
RECOVERY_FACTOR = 1.25


class TokenBucket:
    def __init__(self, rate: float, burst: float | None = None):
        self.nominal = self.rate = max(rate, 0.1)
        self.capacity = max(burst if burst is not None else self.rate, 1.0)
        self.tokens = self.capacity
        self.updated = self.slowed_at = time.monotonic()
        self.lock = threading.Lock()

    def take(self) -> None:
        """Block until one send is allowed."""
        while True:
            with self.lock:
                now = time.monotonic()
                self._recover(now)
                self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
                self.updated = now
                if self.tokens >= 1:
                    self.tokens -= 1
                    return
                wait = (1 - self.tokens) / self.rate
            time.sleep(wait)

    def slow_down(self) -> float:
        """Meta refused a send for the number's throughput (130429): halve the pace (not below the floor);
        returns the new rate."""
        with self.lock:
            self.rate = max(self.rate * SLOW_DOWN_FACTOR, self.nominal * FLOOR_SHARE, 0.1)
            self.slowed_at = time.monotonic()
            return self.rate

    def _recover(self, now: float) -> None:
        if self.rate < self.nominal and now - self.slowed_at >= RECOVERY_SECONDS:
            self.rate = min(self.nominal, self.rate * RECOVERY_FACTOR)
            self.slowed_at = now

    def refund(self) -> None:
        """Give back a send the provider did not make (a transient error): throughput counts messages sent."""
        with self.lock:
            self.tokens = min(self.capacity, self.tokens + 1)


_buckets: dict[str, TokenBucket] = {}
_lock = threading.Lock()


def bucket_for(key: str, rate: float) -> TokenBucket:
    """The bucket of one channel in one consumer (key: '<channel>:<consumer>')."""
    with _lock:
        bucket = _buckets.get(key)
        if bucket is None or bucket.nominal != max(rate, 0.1):
            bucket = _buckets[key] = TokenBucket(rate)
        return bucket
