"""Per-channel send pacing inside one consumer: a token bucket at the channel's rate."""
from __future__ import annotations

import threading
import time


class TokenBucket:
    def __init__(self, rate: float, burst: float | None = None):
        self.rate = max(rate, 0.1)
        self.capacity = max(burst if burst is not None else self.rate, 1.0)
        self.tokens = self.capacity
        self.updated = time.monotonic()
        self.lock = threading.Lock()

    def take(self) -> None:
        """Block until one send is allowed."""
        while True:
            with self.lock:
                now = time.monotonic()
                self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
                self.updated = now
                if self.tokens >= 1:
                    self.tokens -= 1
                    return
                wait = (1 - self.tokens) / self.rate
            time.sleep(wait)

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
        if bucket is None or bucket.rate != rate:
            bucket = _buckets[key] = TokenBucket(rate)
        return bucket
