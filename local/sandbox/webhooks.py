"""Posts raw bodies to the app's webhook, signed with the app secret (X-Hub-Signature-256) as Meta signs them."""
from __future__ import annotations

import http.client
import queue
import urllib.parse
from collections.abc import Iterator

from . import meta

KEPT_CONNECTIONS = 32  # idle keep-alive connections kept for the next posts (one per poster is enough)


class WebhookClient:
    """POSTs to the app's webhook at `url` (the webhook_url setting), ignoring proxy settings, over keep-alive
    connections as a busy sender does: under a status flood a new connection per POST (and, in the app's local
    server, a new thread per connection) cost more CPU than the post itself."""

    def __init__(self, app_secret: str, url: str, timeout: float = 15.0):
        self.app_secret = app_secret
        self.url = url
        self.timeout = timeout
        self._idle: queue.LifoQueue[tuple[str, http.client.HTTPConnection]] = queue.LifoQueue(KEPT_CONNECTIONS)

    def post(self, raw: bytes, sign: bool = True) -> tuple[int | None, str | None]:
        """Return (HTTP status, None), or (None, reason) when the app could not be reached. A kept connection the
        app has closed meanwhile is replaced once, on a new one."""
        headers = {"Content-Type": "application/json", "User-Agent": "facebookexternalua"}
        if sign:
            headers["X-Hub-Signature-256"] = meta.sign_body(raw, self.app_secret)
        url = self.url
        kept = self._kept(url)
        if kept is not None:
            try:
                return self._send(kept, url, raw, headers)
            except (http.client.RemoteDisconnected, ConnectionError):
                kept.close()  # closed by the app meanwhile: once more, on a new connection
            except (OSError, http.client.HTTPException) as error:
                kept.close()
                return None, str(error) or type(error).__name__
        connection = None
        try:
            connection = self._connect(url)
            return self._send(connection, url, raw, headers)
        except (OSError, http.client.HTTPException, ValueError) as error:
            if connection is not None:
                connection.close()
            return None, str(error) or type(error).__name__

    def close(self) -> None:
        """Close the kept connections (each holds a thread of the app's local server)."""
        for _, connection in self._idle_connections():
            connection.close()

    def _send(self, connection: http.client.HTTPConnection, url: str, raw: bytes,
              headers: dict[str, str]) -> tuple[int, None]:
        path = urllib.parse.urlsplit(url)
        connection.request("POST", (path.path or "/") + (f"?{path.query}" if path.query else ""), body=raw,
                           headers=headers)
        answer = connection.getresponse()
        answer.read()
        self._keep(url, connection, answer)
        return answer.status, None

    def _connect(self, url: str) -> http.client.HTTPConnection:
        parts = urllib.parse.urlsplit(url)
        kind = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) URL: {url}")
        return kind(parts.hostname, parts.port, timeout=self.timeout)

    def _kept(self, url: str) -> http.client.HTTPConnection | None:
        for kept_url, connection in self._idle_connections():
            if kept_url == url:
                return connection
            connection.close()  # kept for a webhook URL since changed
        return None

    def _idle_connections(self) -> Iterator[tuple[str, http.client.HTTPConnection]]:
        """The kept connections with their URL, each taken off the idle queue as it is given."""
        while True:
            try:
                yield self._idle.get_nowait()
            except queue.Empty:
                return

    def _keep(self, url: str, connection: http.client.HTTPConnection, answer: http.client.HTTPResponse) -> None:
        if answer.will_close:
            connection.close()
            return
        try:
            self._idle.put_nowait((url, connection))
        except queue.Full:
            connection.close()
