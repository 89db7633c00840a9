"""What the sandbox saw: the messages the app sent, the inbound messages it posted, reads, and the counters of /stats."""
from __future__ import annotations

import itertools
import threading
import time
from dataclasses import dataclass
from typing import Any

from . import meta, templates
from .inbound import Sender, readable
from .templates import Filled

STAT_NAMES = ("accepted", "rate_limited", "faults", "rejected", "slow", "reads", "inbound", "status_posts",
              "status_post_failures", "scripted", "failed_later")
STATUS_RANK = {"accepted": 0, "sent": 1, "delivered": 2, "read": 3}


@dataclass
class SentMessage:
    """One message the app sent through the Graph API."""

    index: int
    id: str
    channel: str
    to: str
    key: str
    type: str
    text: str
    options: list[dict[str, str]]
    body: dict[str, Any]
    time: float
    status: str = "accepted"
    category: str = "service"  # Meta's pricing category: service (free-form) or the template's category
    billable: bool = False  # what Meta charges once delivered (its status webhooks' pricing)

    def as_json(self) -> dict[str, Any]:
        return {"index": self.index, "id": self.id, "channel": self.channel, "to": self.to, "type": self.type,
                "text": self.text, "options": self.options, "body": self.body, "time": self.time,
                "status": self.status, "pricing": {"category": self.category, "billable": self.billable}}


@dataclass
class InboundRecord:
    """One message the sandbox posted to the app as if a citizen sent it."""

    index: int
    id: str
    channel: str
    sender: Sender
    type: str
    text: str
    message: dict[str, Any]
    time: float
    webhook_status: int | None

    def as_json(self) -> dict[str, Any]:
        return {"index": self.index, "id": self.id, "channel": self.channel, "from": self.sender.phone,
                "user_id": self.sender.user_id, "type": self.type, "text": self.text,
                "message": self.message, "time": self.time, "webhook_status": self.webhook_status}


SERVICE_WINDOW_SECONDS = 24 * 3600


def _charged(category: str, window_open: bool) -> bool:
    """Meta's per-message pricing (since 1 July 2025): a delivered template is charged by its category, except a
    utility template inside an open customer-service window; a free-form (service) message is free."""
    if category == "service":
        return False
    return not (category == "utility" and window_open)


class Recorder:
    """Thread-safe lists of sent messages, inbound messages and reads, in one index order, and the counters."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counter = itertools.count()
        self._messages: list[SentMessage] = []
        self._messages_by_id: dict[str, SentMessage] = {}
        self._inbound: list[InboundRecord] = []
        self._reads: list[dict[str, Any]] = []
        self._stats = dict.fromkeys(STAT_NAMES, 0)

    def count(self, name: str) -> None:
        with self._lock:
            self._stats[name] += 1

    def stats(self) -> dict[str, int]:
        with self._lock:
            return dict(self._stats)

    # ---- recording ----

    def sent(self, wamid: str, channel_id: str, body: dict[str, Any], filled: Filled | None = None) -> SentMessage:
        """Record an accepted send (and count it); a template as filled in by the send (what the phone shows)."""
        to = body.get("to") or body.get("recipient") or ""
        text = templates.render(filled) if filled else meta.render_text(body)
        options = templates.quick_replies(filled) if filled else meta.message_options(body)
        key, now = meta.recipient_key(to), time.time()
        category = filled.template.category.lower() if filled else "service"
        with self._lock:
            billable = _charged(category, self._wrote_within(channel_id, key, now - SERVICE_WINDOW_SECONDS))
            record = SentMessage(
                index=next(self._counter), id=wamid, channel=channel_id, to=to, key=key,
                type=body.get("type", "text"), text=text, options=options, body=body, time=now,
                category=category, billable=billable)
            self._messages.append(record)
            self._messages_by_id[wamid] = record
            self._stats["accepted"] += 1
        return record

    def read(self, channel_id: str, body: dict[str, Any]) -> None:
        """Record a mark-as-read (and count it)."""
        with self._lock:
            self._reads.append({"channel": channel_id, "message_id": body["message_id"], "body": body,
                                "time": time.time()})
            self._stats["reads"] += 1

    def inbound(self, channel_id: str, sender: Sender, message: dict[str, Any], webhook_status: int | None) -> None:
        """Record a message posted to the app as a citizen's (and count it)."""
        with self._lock:
            self._inbound.append(InboundRecord(
                index=next(self._counter), id=message["id"], channel=channel_id, sender=sender,
                type=message["type"], text=readable(message), message=message, time=time.time(),
                webhook_status=webhook_status))
            self._stats["inbound"] += 1

    def advance(self, message_id: str, status: str) -> None:
        """A status was posted for a sent message: keep the furthest one (sent < delivered < read)."""
        with self._lock:
            record = self._messages_by_id.get(message_id)
            if record is not None and STATUS_RANK[status] > STATUS_RANK[record.status]:
                record.status = status

    def clear(self) -> int:
        """Forget messages, inbound messages and reads; return how many sent messages were forgotten."""
        with self._lock:
            cleared = len(self._messages)
            self._messages.clear()
            self._messages_by_id.clear()
            self._inbound.clear()
            self._reads.clear()
        return cleared

    def _wrote_within(self, channel_id: str, key: str, since: float) -> bool:
        """Whether the person wrote to the channel after `since` (an open customer-service window). Under the lock."""
        return any(r.channel == channel_id and key in (r.sender.wa_id, r.sender.user_id) and r.time >= since
                   for r in reversed(self._inbound))

    # ---- queries ----

    def sent_messages(self) -> list[SentMessage]:
        with self._lock:
            return list(self._messages)

    def find_sent(self, keys: set[str] | None, channel: str | None, since: int) -> list[dict[str, Any]]:
        """Sent messages to one of `keys` (None: anyone), on `channel` (None: any), from index `since` on."""
        with self._lock:
            return [m.as_json() for m in self._messages
                    if (keys is None or m.key in keys) and (not channel or m.channel == channel) and m.index >= since]

    def find_inbound(self, keys: set[str] | None, channel: str | None, since: int) -> list[dict[str, Any]]:
        """Inbound messages from one of `keys` (None: anyone), on `channel` (None: any), from index `since` on."""
        with self._lock:
            return [r.as_json() for r in self._inbound
                    if (keys is None or {r.sender.wa_id, r.sender.user_id} & keys)
                    and (not channel or r.channel == channel) and r.index >= since]

    def find_reads(self, channel: str | None) -> list[dict[str, Any]]:
        with self._lock:
            return [r for r in self._reads if not channel or r["channel"] == channel]
