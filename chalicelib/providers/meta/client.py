"""The Graph API client: authenticated requests, kept-alive connections for sends, Meta's errors as ProviderError."""
from __future__ import annotations

import http.client
import json
import math
import threading
import urllib.error
import urllib.parse
import urllib.request
from http.client import HTTPException, RemoteDisconnected

from chalicelib.providers.base import ErrorClass, MediaFile, MediaTooLarge, ProviderError
from chalicelib.providers.meta import wire
from chalicelib.providers.meta.errors import classify


class _TokenSafeRedirects(urllib.request.HTTPRedirectHandler):
    """Follows redirects, but never carries the bearer token to another host."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        new = super().redirect_request(req, fp, code, msg, headers, newurl)
        old_host = urllib.parse.urlsplit(req.full_url).netloc
        if new is not None and urllib.parse.urlsplit(newurl).netloc != old_host:
            new.remove_header("Authorization")
        return new


def _unparseable() -> ProviderError:
    # Meta answered 200 but we cannot tell what happened: never report it as a success.
    return ProviderError(ErrorClass.TRANSIENT, None, "unparseable response", http_status=200, ambiguous=True)


def _message_id(raw: bytes) -> str:
    accepted = wire.read(wire.Accepted, raw)
    ours = accepted.messages[0] if accepted else None
    if ours is None:
        raise _unparseable()
    return ours.id


def _retry_after(value: str | None) -> float | None:
    try:
        seconds = float(value) if value is not None else None
    except ValueError:
        return None
    return seconds if seconds is not None and math.isfinite(seconds) and seconds >= 0 else None


class GraphClient:
    """Meta's Graph API for one access token, at one base URL (graph_url/version)."""

    def __init__(self, access_token: str, base_url: str, timeout: float):
        self._access_token = access_token
        self._base_url = base_url
        self._timeout = timeout
        self._opener = urllib.request.build_opener(_TokenSafeRedirects())
        self._local = threading.local()  # per thread: kept-alive connections for sends

    def send_message(self, channel_id: str, body: dict) -> str:
        """Post a message body; Meta's id of the message, or ProviderError."""
        return _message_id(self._post(self._messages_url(channel_id), body))

    def mark_read(self, channel_id: str, body: dict) -> None:
        """Post a read receipt; ProviderError when Meta refuses it."""
        self._call("POST", self._messages_url(channel_id), body)

    def fetch_media(self, channel_id: str, media_id: str, max_bytes: int | None = None) -> MediaFile:
        """Download a media file in two steps: its URL from the Graph API, then the bytes. Past max_bytes (Meta's
        declared file_size, else the bytes as they come) it stops with MediaTooLarge: a 100 MB document is never
        held in a Lambda's memory."""
        query = urllib.parse.urlencode({"phone_number_id": channel_id})
        media_url = f"{self._base_url}/{urllib.parse.quote(media_id, safe='')}?{query}"
        raw, _ = self._call("GET", media_url)
        info = wire.read(wire.MediaInfo, raw)
        if info is None or urllib.parse.urlsplit(info.url).scheme not in ("http", "https"):
            raise _unparseable()
        if max_bytes is not None and info.file_size is not None and info.file_size > max_bytes:
            raise MediaTooLarge(info.file_size, max_bytes)
        content, content_type = self._call("GET", info.url, limit=max_bytes)
        return MediaFile(content=content, mime_type=info.mime_type or content_type)

    def submit_template(self, account_id: str, definition: dict) -> wire.CreatedTemplate:
        """POST /{waba_id}/message_templates: the new template's id, status and category, or ProviderError."""
        raw, _ = self._call("POST", self._templates_url(account_id), definition)
        created = wire.read(wire.CreatedTemplate, raw)
        if created is None:
            raise _unparseable()
        return created

    def templates(self, account_id: str, most: int = 1000) -> list[wire.HeldTemplate]:
        """GET /{waba_id}/message_templates, every page (up to `most` templates: Meta holds 250 per account)."""
        fields = "id,name,language,status,category,components,rejected_reason,previous_category"
        url: str | None = self._templates_url(account_id) + "?" + urllib.parse.urlencode({"fields": fields,
                                                                                          "limit": 100})
        found: list[wire.HeldTemplate] = []
        while url and len(found) < most:
            raw, _ = self._call("GET", url)
            page = wire.read(wire.TemplatePage, raw)
            if page is None:
                raise _unparseable()
            found += [t for t in page.data if isinstance(t, wire.HeldTemplate)]
            following = (page.paging or {}).get("next")
            url = following if isinstance(following, str) and following.startswith(self._base_url) else None
        return found

    def _templates_url(self, account_id: str) -> str:
        return f"{self._base_url}/{urllib.parse.quote(account_id, safe='')}/message_templates"

    def _messages_url(self, channel_id: str) -> str:
        return f"{self._base_url}/{urllib.parse.quote(channel_id, safe='')}/messages"

    def _call(self, method: str, url: str, body: dict | None = None,
              limit: int | None = None) -> tuple[bytes, str | None]:
        """One authenticated request; the response bytes and Content-Type, or ProviderError (MediaTooLarge when
        the answer holds more than limit bytes: at most limit + 1 are read)."""
        self._check_token()
        headers = {"Authorization": f"Bearer {self._access_token}"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        request = urllib.request.Request(url, data=data, headers=headers, method=method)
        try:
            with self._opener.open(request, timeout=self._timeout) as response:
                content = response.read() if limit is None else response.read(limit + 1)
                if limit is not None and len(content) > limit:
                    raise MediaTooLarge(None, limit)
                return content, response.headers.get("Content-Type")
        except urllib.error.HTTPError as error:
            raise self._http_error(error) from None
        except (OSError, HTTPException) as error:  # URLError, timeouts, refused/reset connections
            reason = getattr(error, "reason", None) or error
            raise ProviderError(ErrorClass.TRANSIENT, None,
                                self._redact(f"connection failed: {reason}")) from None

    def _post(self, url: str, body: dict) -> bytes:
        """A JSON POST on a kept-alive connection of this thread (sends are the hot path: no new
        connection, and in production no new TLS handshake, per message)."""
        self._check_token()
        parts = urllib.parse.urlsplit(url)
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        data = json.dumps(body).encode()
        headers = {"Authorization": f"Bearer {self._access_token}", "Content-Type": "application/json"}
        for reused in self._connections_for(parts.scheme, parts.netloc):
            connection = self._local.connections[(parts.scheme, parts.netloc)]
            sent = False
            try:
                connection.request("POST", target, body=data, headers=headers)
                sent = True
                response = connection.getresponse()
                raw = response.read()
            except (RemoteDisconnected, BrokenPipeError, ConnectionResetError) as error:
                self._drop(parts.scheme, parts.netloc)
                if reused:
                    continue  # the server had closed the idle connection: the request never arrived
                raise ProviderError(ErrorClass.TRANSIENT, None, self._redact(f"connection failed: {error}"),
                                    ambiguous=sent) from None
            except (OSError, HTTPException) as error:  # a timeout waiting for the answer among them
                self._drop(parts.scheme, parts.netloc)
                raise ProviderError(ErrorClass.TRANSIENT, None, self._redact(f"connection failed: {error}"),
                                    ambiguous=sent) from None
            if response.status >= 300:
                raise self._error(response.status, raw, response.getheader("Retry-After"))
            return raw
        raise ProviderError(ErrorClass.TRANSIENT, None, "connection failed")

    def _check_token(self) -> None:
        """Fail closed: a missing access token (a secret not configured) sends nothing at all."""
        if not self._access_token:
            raise ProviderError(ErrorClass.FATAL, None, "no access token configured: nothing was sent")

    def _connections_for(self, scheme: str, netloc: str):
        """Yields True for a kept-alive connection, then False for a fresh one."""
        connections = self._local.__dict__.setdefault("connections", {})
        if (scheme, netloc) in connections:
            yield True
        factory = http.client.HTTPSConnection if scheme == "https" else http.client.HTTPConnection
        connections[(scheme, netloc)] = factory(netloc, timeout=self._timeout)
        yield False

    def _drop(self, scheme: str, netloc: str) -> None:
        connection = self._local.__dict__.get("connections", {}).pop((scheme, netloc), None)
        if connection is not None:
            connection.close()

    def _http_error(self, error: urllib.error.HTTPError) -> ProviderError:
        """A ProviderError from Meta's error body and the HTTP status."""
        try:
            raw = error.read()
        except (OSError, HTTPException):
            raw = b""
        finally:
            error.close()
        return self._error(error.code, raw, (error.headers or {}).get("Retry-After"))

    def _error(self, status: int, raw: bytes, retry_after: str | None) -> ProviderError:
        refusal = wire.read(wire.Refusal, raw)
        failure = (refusal.error if refusal else None) or wire.Failure()
        message = failure.message or f"HTTP {status}"
        extra = failure.error_data.details if failure.error_data else None
        if extra:
            message = f"{message}: {extra}"
        return ProviderError(classify(status, failure.code), failure.code, self._redact(message), http_status=status,
                             retry_after=_retry_after(retry_after))

    def _redact(self, text: str) -> str:
        """The text without the access token, should anything ever echo it."""
        return text.replace(self._access_token, "***") if self._access_token else text
