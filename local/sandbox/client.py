"""Drives a sandbox running in another process through its test API (same calls as SandboxServer)."""
from __future__ import annotations

import json
import urllib.request
from typing import Any


class SandboxClient:
    def __init__(self, url: str):
        self.url = url.rstrip("/")

    def _call(self, method: str, path: str, body: dict | None = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(f"{self.url}{path}", data=data, method=method,
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=60) as answer:
            return json.loads(answer.read() or b"null")

    def configure(self, **settings: Any) -> None:
        self._call("POST", "/_sandbox/config", settings)

    def stats(self) -> dict[str, Any]:
        return self._call("GET", "/_sandbox/stats")

    def sent_messages(self) -> list[dict[str, Any]]:
        return self._call("GET", "/_sandbox/messages")
