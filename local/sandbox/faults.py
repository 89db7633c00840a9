"""Misbehaving as Meta can: scripted answers, random 500s, slow answers, per-recipient errors, the rate limit."""
from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Collection

from . import meta
from .meta import GraphError
from .settings import SandboxSettings, SendStep


class TokenBucket:
    """Sends per second for one phone number: `rate` tokens a second, burst max(1, rate)."""

    def __init__(self, rate: float):
        self.rate = rate
        self.capacity = max(1.0, rate)
        self.tokens = self.capacity
        self.updated = time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False


class Faults:
    """The fault settings in force, and what they have left to play: script steps, media faults, rate buckets."""

    def __init__(self, count: Callable[[str], None]):
        self._count = count
        self._lock = threading.Lock()
        self._settings = SandboxSettings()
        self._random = random.Random(0)
        self._buckets: dict[str, TokenBucket] = {}  # per phone_number_id
        self._recipient_errors: dict[str, int] = {}  # per recipient key
        self._status_errors: dict[str, int] = {}  # per recipient key: accepted, then reported failed
        self._scripts: dict[str, list[SendStep]] = {}  # per recipient key: the steps still to play
        self._media_faults = 0

    def configure(self, settings: SandboxSettings, changed: Collection[str]) -> None:
        """Take new settings; reset what depends on the `changed` ones (a new seed restarts the draws...)."""
        with self._lock:
            self._settings = settings
            if "seed" in changed:
                self._random = random.Random(settings.seed)
            if "rate_limit" in changed:
                self._buckets.clear()
            if "recipient_errors" in changed:
                self._recipient_errors = {meta.recipient_key(k): v for k, v in settings.recipient_errors.items()}
            if "status_errors" in changed:
                self._status_errors = {meta.recipient_key(k): v for k, v in settings.status_errors.items()}
            if "send_script" in changed:
                self._scripts = {meta.recipient_key(k): list(v) for k, v in settings.send_script.items()}
            if "media_faults" in changed:
                self._media_faults = settings.media_faults

    @property
    def media_faults_left(self) -> int:
        with self._lock:
            return self._media_faults

    def next_step(self, recipient: str) -> SendStep | None:
        """The recipient's next scripted answer, if its script has one left."""
        with self._lock:
            steps = self._scripts.get(meta.recipient_key(recipient))
            if not steps:
                return None
            step = steps.pop(0)
        self._count("scripted")
        return step

    def random_fault(self) -> None:
        """Raise a 500 (131000) for a share `fault_rate` of the calls."""
        with self._lock:
            rate = self._settings.fault_rate
            hit = rate > 0 and self._random.random() < rate
        if hit:
            self._count("faults")
            raise GraphError(131000, "Injected fault (fault_rate)")

    def throttle(self, channel_id: str) -> None:
        """Raise a 429 (130429) when the phone number is over `rate_limit` sends per second."""
        with self._lock:
            bucket = self._buckets.get(channel_id)
            if bucket is None:
                bucket = self._buckets[channel_id] = TokenBucket(self._settings.rate_limit)
            allowed = bucket.take()
        if not allowed:
            raise GraphError(130429, "Cloud API message throughput has been reached.", http_status=429,
                             headers={"Retry-After": "1"})

    def recipient_error(self, recipient: str) -> None:
        """Raise the error code `recipient_errors` sets for this recipient, if any."""
        key = meta.recipient_key(recipient)
        with self._lock:
            code = self._recipient_errors.get(key)
        if code is not None:
            raise GraphError(code, f"Injected error {code} for recipient {key}")

    def later_error(self, recipient: str) -> int | None:
        """The error code `status_errors` sets for this recipient: its send is accepted, then reported failed."""
        with self._lock:
            return self._status_errors.get(meta.recipient_key(recipient))

    def slowness(self) -> float:
        """Seconds to hold this answer back: `slow_seconds` for a share `slow_rate` of the calls, else 0."""
        with self._lock:
            rate, seconds = self._settings.slow_rate, self._settings.slow_seconds
            hit = rate > 0 and self._random.random() < rate
        if not hit:
            return 0.0
        self._count("slow")
        return seconds

    def media_fault(self) -> None:
        """Raise a 500 (131000) while `media_faults` lookups are left to fail."""
        with self._lock:
            hit = self._media_faults > 0
            if hit:
                self._media_faults -= 1
        if hit:
            self._count("faults")
            raise GraphError(131000, "Injected fault (media_faults)")
