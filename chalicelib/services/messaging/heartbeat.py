"""A heartbeat: a function called every few seconds from a thread of its own while a piece of work runs."""
from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from chalicelib.observability import logger


@contextmanager
def beating(every: float, beat: Callable[[], None], name: str = "heartbeat", at_once: bool = False) -> Iterator[None]:
    """Call beat every `every` seconds until the block ends (with at_once, also as it starts); a beat that raises
    is logged and the next one tried.

    The thread is named after the caller's (`<caller>-<name>`), so what it does is counted with its caller's work."""
    stop = threading.Event()

    def safely() -> None:
        try:
            beat()
        except Exception:  # one missed beat is not fatal: what it keeps alive has a margin of two more
            logger.exception("heartbeat failed", extra={"heartbeat": name})

    def run() -> None:
        if at_once:
            safely()
        while not stop.wait(every):
            safely()

    thread = threading.Thread(target=run, name=f"{threading.current_thread().name}-{name}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
