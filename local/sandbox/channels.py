"""The business phone numbers (channels) the sandbox serves, each with its tenant and WhatsApp Business Account."""
from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import Any

from . import meta

PUBLIC_KEYS = ("phone_number_id", "kind", "tenant", "display_phone_number", "name", "waba_id")


def normalise_channel(channel: dict[str, Any]) -> dict[str, Any]:
    """Fill a channel's optional keys; a phone_number_id is required."""
    if not isinstance(channel, dict) or not str(channel.get("phone_number_id") or ""):
        raise ValueError(f"each channel needs a phone_number_id: {channel!r}")
    phone_number_id = str(channel["phone_number_id"])
    tenant = str(channel.get("tenant") or "demo")
    return {
        **channel,
        "phone_number_id": phone_number_id,
        "display_phone_number": str(channel.get("display_phone_number") or f"+39 0571 {phone_number_id[-6:]}"),
        "kind": str(channel.get("kind") or "broadcast"),
        "tenant": tenant,
        "name": str(channel.get("name") or f"{tenant} {channel.get('kind') or 'broadcast'}"),
        "waba_id": str(channel.get("waba_id") or meta.waba_id_for(tenant)),
    }


class Channels:
    """The channels by phone_number_id; more can be added while serving."""

    def __init__(self, channels: Iterable[dict[str, Any]]):
        self._lock = threading.Lock()
        self._by_id = {c["phone_number_id"]: c for c in (normalise_channel(c) for c in channels)}

    def add(self, channel: dict[str, Any]) -> None:
        normalised = normalise_channel(channel)
        with self._lock:
            self._by_id[normalised["phone_number_id"]] = normalised

    def get(self, phone_number_id: str) -> dict[str, Any] | None:
        with self._lock:
            return self._by_id.get(phone_number_id)

    def require(self, phone_number_id: str) -> dict[str, Any]:
        """The channel, or the GraphError Meta answers for an unknown object id."""
        channel = self.get(phone_number_id)
        if channel is None:
            raise meta.unknown_object(phone_number_id)
        return channel

    def has_account(self, waba_id: str) -> bool:
        """A WhatsApp Business Account one of the channels belongs to."""
        with self._lock:
            return any(c["waba_id"] == waba_id for c in self._by_id.values())

    def of_account(self, waba_id: str) -> dict[str, Any] | None:
        with self._lock:
            return next((c for c in self._by_id.values() if c["waba_id"] == waba_id), None)

    def listing(self) -> list[dict[str, Any]]:
        """The channels as GET /_sandbox/channels shows them."""
        with self._lock:
            return [{key: channel[key] for key in PUBLIC_KEYS} for channel in self._by_id.values()]
