"""Status webhooks: sent, delivered and read for each accepted send, posted in timed batches as Meta posts them."""
from __future__ import annotations

import heapq
import itertools
import json
import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from . import meta
from .channels import Channels
from .people import People
from .recorder import Recorder, SentMessage
from .settings import SandboxSettings
from .webhooks import WebhookClient

log = logging.getLogger("local.sandbox")

MAX_STATUSES_PER_POST = 1000
STATUS_STEPS = ("sent", "delivered", "read")


@dataclass(order=True)
class PendingStatus:
    due: float  # monotonic time the status becomes due
    seq: int
    wall: float = field(compare=False)  # its timestamp
    status: str = field(compare=False)
    message_id: str = field(compare=False)
    channel_id: str = field(compare=False)
    wa_id: str | None = field(compare=False, default=None)
    user_id: str | None = field(compare=False, default=None)
    callback_data: str | None = field(compare=False, default=None)
    category: str = field(compare=False, default="service")
    billable: bool = field(compare=False, default=False)
    error: dict[str, Any] | None = field(compare=False, default=None)  # a failed status's errors[0]


class StatusWorker:
    """Daemon threads that post due statuses in batches (<= `batch_size` a POST, 1,000 at most), in due order, with
    retries: one thread by default, up to `posters` POSTs in flight at once (the flood mode: one status a POST)."""

    def __init__(self, send: Callable[[list[PendingStatus]], bool],
                 retry_delays: Iterable[float] = (0.25, 1.0, 4.0), batch_size: int = MAX_STATUSES_PER_POST):
        self._send = send
        self._retry_delays = tuple(retry_delays)
        self._batch_size = batch_size
        self._heap: list[PendingStatus] = []
        lock = threading.RLock()
        self._cond = threading.Condition(lock)  # the posters in use wait here for a status to come due
        self._spare = threading.Condition(lock)  # the threads beyond `posters` wait here for a raise
        self._stopping = threading.Event()
        self._seq = itertools.count()
        self._threads: list[threading.Thread] = []
        self._started = False
        self.dropped_batches = 0
        self.window = 0.0  # seconds to gather statuses after each post
        self.posters = 1  # threads that post (the first `posters` of them run; more are started on demand)

    def start(self) -> None:
        with self._cond:
            self._started = True
            while len(self._threads) < self.posters:
                number = len(self._threads)
                thread = threading.Thread(target=self._run, args=(number,), daemon=True,
                                          name="sandbox-status-worker" + (f"-{number}" if number else ""))
                self._threads.append(thread)
                thread.start()
            self._cond.notify_all()
            self._spare.notify_all()

    def configure(self, batch_size: int, posters: int, window: float) -> None:
        """Statuses per POST, POSTs in flight at once and the gathering window; threads start as needed."""
        with self._cond:
            self._batch_size, self.posters, self.window = batch_size, posters, window
            started = self._started
        if started:
            self.start()

    def stop(self, timeout: float = 2.0) -> None:
        self._stopping.set()
        with self._cond:
            self._cond.notify_all()
            self._spare.notify_all()
        for thread in self._threads:
            thread.join(timeout)

    def schedule(self, item: PendingStatus) -> None:
        with self._cond:
            item.seq = next(self._seq)
            heapq.heappush(self._heap, item)
            self._cond.notify()

    def pending(self) -> int:
        with self._cond:
            return len(self._heap)

    def backlog(self) -> tuple[int, float]:
        """Statuses due but not posted yet, and how late the oldest of them is (seconds)."""
        with self._cond:
            now = time.monotonic()
            due = [item.due for item in self._heap if item.due <= now]
            return len(due), (now - min(due)) if due else 0.0

    def _run(self, number: int = 0) -> None:
        while not self._stopping.is_set():
            batch = self._next_batch(number)
            if batch:
                self._deliver(batch)
                if self.window:
                    self._stopping.wait(self.window)

    def _next_batch(self, number: int = 0) -> list[PendingStatus]:
        with self._cond:
            while not self._stopping.is_set():
                if number >= self.posters:  # a spare thread must not take the wake-up a new status gives a poster
                    self._cond.notify()  # (pass on one it may have taken while the posters were being cut)
                    self._spare.wait()
                    continue
                now = time.monotonic()
                if self._heap and self._heap[0].due <= now:
                    break
                wait = self._heap[0].due - now if self._heap else None
                self._cond.wait(wait if wait is None else max(wait, 0.001))
            else:
                return []
            batch = []
            while self._heap and self._heap[0].due <= now and len(batch) < self._batch_size:
                batch.append(heapq.heappop(self._heap))
            return batch

    def _deliver(self, batch: list[PendingStatus]) -> None:
        for delay in (0.0, *self._retry_delays):
            if delay and self._stopping.wait(delay):
                return
            try:
                if self._send(batch):
                    return
            except Exception:  # the worker must survive whatever a post does
                log.exception("status post raised")
        self.dropped_batches += 1
        log.warning("dropped a batch of %d statuses after %d attempts", len(batch), 1 + len(self._retry_delays))


class StatusWebhooks:
    """Schedules the three statuses of each accepted send and posts them to the app's webhook."""

    def __init__(self, channels: Channels, people: People, recorder: Recorder, webhook: WebhookClient,
                 retry_delays: Iterable[float]):
        self._channels, self._people, self._recorder, self._webhook = channels, people, recorder, webhook
        self.worker = StatusWorker(self._post, retry_delays)
        self._enabled, self._delay = True, 0.2

    def configure(self, settings: SandboxSettings) -> None:
        self._enabled, self._delay = settings.status_webhooks, settings.status_delay
        self.worker.configure(settings.statuses_per_post, settings.status_posters, settings.status_batch_seconds)

    def schedule(self, record: SentMessage, body: dict[str, Any]) -> None:
        """Sent, delivered and read for an accepted send, `status_delay` seconds apart (if status_webhooks)."""
        if not self._enabled:
            return
        wa_id, user_id, callback = self._addressed(body)
        start_mono, start_wall = time.monotonic(), time.time()
        for step, status in enumerate(STATUS_STEPS, start=1):
            self.worker.schedule(PendingStatus(
                due=start_mono + step * self._delay, seq=0, wall=start_wall + step * self._delay, status=status,
                message_id=record.id, channel_id=record.channel, wa_id=wa_id, user_id=user_id,
                callback_data=callback, category=record.category, billable=record.billable))

    def schedule_failure(self, message_id: str, channel_id: str, body: dict[str, Any], error: dict[str, Any]) -> None:
        """One `failed` status carrying `error`, `status_delay` seconds after an accepted send (if status_webhooks)."""
        if not self._enabled:
            return
        wa_id, user_id, callback = self._addressed(body)
        self.worker.schedule(PendingStatus(
            due=time.monotonic() + self._delay, seq=0, wall=time.time() + self._delay, status="failed",
            message_id=message_id, channel_id=channel_id, wa_id=wa_id, user_id=user_id, callback_data=callback,
            error=error))

    def _addressed(self, body: dict[str, Any]) -> tuple[str | None, str | None, str | None]:
        """The recipient's wa_id and user id (each known one), and the send's biz_opaque_callback_data."""
        to, recipient = body.get("to") or "", body.get("recipient") or ""
        wa_id = meta.digits_only(to) if to else None
        user_id = recipient or self._people.user_id_of(meta.recipient_key(to))
        if wa_id is None and user_id:
            wa_id = self._people.wa_id_of(user_id)
        callback = body.get("biz_opaque_callback_data")
        return wa_id, user_id, callback if isinstance(callback, str) else None

    def _post(self, batch: list[PendingStatus]) -> bool:
        raw = json.dumps(self._payload(batch), separators=(",", ":"), ensure_ascii=False).encode()
        status, reason = self._webhook.post(raw)
        ok = status is not None and 200 <= status < 300
        self._recorder.count("status_posts")
        if ok:
            for item in batch:
                self._recorder.advance(item.message_id, item.status)
        else:
            self._recorder.count("status_post_failures")
            log.warning("status webhook post failed: %s", status or reason)
        return ok

    def _payload(self, batch: list[PendingStatus]) -> dict[str, Any]:
        by_channel: dict[str, list[PendingStatus]] = {}
        for item in batch:
            by_channel.setdefault(item.channel_id, []).append(item)
        changes: dict[str, list[dict[str, Any]]] = {}
        for channel_id, items in by_channel.items():
            channel = self._channels.require(channel_id)
            changes.setdefault(channel["waba_id"], []).append(self._value(channel, items))
        return meta.envelope(changes)

    def _value(self, channel: dict[str, Any], items: list[PendingStatus]) -> dict[str, Any]:
        value: dict[str, Any] = {"messaging_product": "whatsapp", "metadata": meta.metadata(channel),
                                 "statuses": [status_item(item) for item in items]}
        contacts, seen = [], set()
        for item in items:
            if item.user_id and (item.wa_id, item.user_id) not in seen:
                seen.add((item.wa_id, item.user_id))
                contacts.append(meta.contact(item.wa_id, item.user_id, self._people.name_of(item.wa_id, item.user_id)))
        if contacts:
            value["contacts"] = contacts
        return value


def status_item(item: PendingStatus) -> dict[str, Any]:
    """One statuses[] entry as Meta posts it."""
    status: dict[str, Any] = {"id": item.message_id, "status": item.status, "timestamp": meta.unix_seconds(item.wall)}
    if item.wa_id:
        status["recipient_id"] = item.wa_id
    if item.user_id:
        status["recipient_user_id"] = item.user_id
    if item.callback_data is not None:
        status["biz_opaque_callback_data"] = item.callback_data
    if item.error is not None:
        status["errors"] = [item.error]
    if item.status in ("sent", "delivered"):
        status["pricing"] = {"billable": item.billable, "pricing_model": "PMP",
                             "type": "regular" if item.billable else "free_customer_service",
                             "category": item.category}
    return status
