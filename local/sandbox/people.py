"""Who is who: the phone number and business-scoped user id (BSUID) seen together for one citizen, and their names."""
from __future__ import annotations

import threading

from . import meta

DEFAULT_PROFILE_NAME = "Cittadino"


class People:
    """Learns from inbound messages which recipient keys (digits or BSUID) belong to the same person."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._links: dict[str, set[str]] = {}  # recipient key -> the other keys of the same person
        self._profiles: dict[str, str] = {}  # recipient key -> profile name

    def remember(self, keys: list[str], profile_name: str | None) -> str:
        """Link the keys of one sender, remember their profile name; return the name to show in the webhook."""
        with self._lock:
            for key in keys:
                self._links.setdefault(key, set()).update(k for k in keys if k != key)
            if profile_name:
                self._profiles.update(dict.fromkeys(keys, profile_name))
            return profile_name or next((self._profiles[k] for k in keys if k in self._profiles), DEFAULT_PROFILE_NAME)

    def identity(self, value: str) -> set[str]:
        """All the recipient keys of the person a phone number or BSUID belongs to."""
        key = meta.recipient_key(value)
        with self._lock:
            return {key, *self._links.get(key, ())}

    def user_id_of(self, key: str) -> str | None:
        """The BSUID linked to a recipient key, if any."""
        with self._lock:
            return next((k for k in self._links.get(key, ()) if not k.isdigit()), None)

    def wa_id_of(self, key: str) -> str | None:
        """The phone number (digits) linked to a recipient key, if any."""
        with self._lock:
            return next((k for k in self._links.get(key, ()) if k.isdigit()), None)

    def name_of(self, wa_id: str | None, user_id: str | None) -> str | None:
        with self._lock:
            return self._profiles.get(wa_id or "") or self._profiles.get(user_id or "")
