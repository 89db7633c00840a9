"""Readiness: the tables and queues the app needs answer, and dead letters are counted."""
from __future__ import annotations

from chalicelib.resources import QUEUES
from chalicelib.store import directory, queues


def check() -> dict:
    """Raises when a dependency does not answer; otherwise a short report."""
    directory.ping()
    for logical in QUEUES:
        queues.queue_url(logical)
    return {"status": "ok"}


def dead_letters() -> dict[str, int]:
    """Messages waiting in each dead-letter queue."""
    return {logical: queues.depth(f"{logical}-dlq") for logical in QUEUES}
