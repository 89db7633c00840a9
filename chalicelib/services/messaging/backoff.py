"""How long to wait before trying again: capped exponential backoff with jitter.

Equal jitter (half fixed, half random): retries of many jobs that failed together (a provider outage) spread
out instead of returning in one wave, and no wait is shorter than half its step.
"""
from __future__ import annotations

import math
import random


def backoff(base: float, attempt: int, cap: float) -> float:
    """Seconds before try `attempt + 1` (attempt counts from 1): between half and all of base * 2^(attempt-1)."""
    step = min(base * 2 ** max(attempt - 1, 0), cap)
    return random.uniform(step / 2, step)


def backoff_seconds(base: float, attempt: int, cap: float) -> int:
    """The same in whole seconds (SQS visibility timeouts), never below one second when base is positive."""
    return min(max(math.ceil(backoff(base, attempt, cap)), 1 if base > 0 else 0), int(cap))
