"""Posts raw bodies to the app's webhook, signed with the app secret (X-Hub-Signature-256) as Meta signs them."""
from __future__ import annotations

import urllib.error
import urllib.request

from . import meta


class WebhookClient:
    """POSTs to the app's webhook at `url` (the webhook_url setting), ignoring proxy settings."""

    def __init__(self, app_secret: str, url: str, timeout: float = 15.0):
        self.app_secret = app_secret
        self.url = url
        self.timeout = timeout
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    def post(self, raw: bytes, sign: bool = True) -> tuple[int | None, str | None]:
        """Return (HTTP status, None), or (None, reason) when the app could not be reached."""
        headers = {"Content-Type": "application/json", "User-Agent": "facebookexternalua"}
        if sign:
            headers["X-Hub-Signature-256"] = meta.sign_body(raw, self.app_secret)
        request = urllib.request.Request(self.url, data=raw, headers=headers, method="POST")
        try:
            with self._opener.open(request, timeout=self.timeout) as answer:
                answer.read()
                return answer.status, None
        except urllib.error.HTTPError as error:
            error.read()
            error.close()
            return error.code, None
        except (urllib.error.URLError, OSError, ValueError) as error:
            return None, str(getattr(error, "reason", error))
