"""The sandbox WhatsApp provider: an HTTP server that imitates Meta's Graph API and drives the app's webhook."""
from __future__ import annotations

import email.parser
import email.policy
import heapq
import itertools
import json
import logging
import random
import re
import secrets
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from . import meta
from .inbound import InboundError, Sender, build_message, parse_sender, readable
from .meta import GraphError

log = logging.getLogger("local.sandbox")

PHONE_PAGE = Path(__file__).with_name("phone.html")
MAX_BODY_BYTES = 25 * 1024 * 1024
MAX_STATUSES_PER_POST = 1000
MEDIA_URL_TTL = 300.0  # Meta's media URLs expire after 5 minutes
SUPPORTED_VERSIONS = ("v23.0", "v24.0", "v25.0", "v26.0")
DEFAULT_PROFILE_NAME = "Cittadino"
STATUS_STEPS = ("sent", "delivered", "read")
_GRAPH_PATH = re.compile(r"^/(v\d+\.\d+)/([^/]+)(?:/([^/]+))?/?$")


# ---- requests and responses --------------------------------------------------------------

@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: Any  # email.message.Message: case-insensitive .get()
    body: bytes
    host: str | None = None


@dataclass
class Response:
    status: int
    body: bytes
    content_type: str = "application/json; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)


def json_response(status: int, payload: Any, headers: dict[str, str] | None = None) -> Response:
    body = json.dumps(payload, ensure_ascii=False).encode()
    return Response(status, body, headers=headers or {})


def error_response(status: int, message: str) -> Response:
    return json_response(status, {"error": message})


def graph_error_response(error: GraphError) -> Response:
    return json_response(error.http_status, error.body(), error.headers)


class DropConnection(Exception):
    """Close the connection without an answer (a scripted step), as a proxy or a crashed server would."""


class ApiError(Exception):
    """A test-API error: HTTP status and a message for {"error": ...}."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


def parse_json(raw: bytes) -> Any:
    if not raw.strip():
        raise ValueError("empty body")
    return json.loads(raw.decode("utf-8"))


# ---- settings ----------------------------------------------------------------------------

def _share(key: str, value: Any) -> float:
    number = _number(key, value)
    if not 0.0 <= number <= 1.0:
        raise ValueError(f"{key} must be between 0 and 1")
    return number


def _seconds(key: str, value: Any) -> float:
    number = _number(key, value)
    if not 0.0 <= number <= 120.0:
        raise ValueError(f"{key} must be between 0 and 120 seconds")
    return number


def _rate(key: str, value: Any) -> float:
    number = _number(key, value)
    if number <= 0:
        raise ValueError(f"{key} must be a positive number of messages per second")
    return number


def _number(key: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{key} must be a number")
    return float(value)


def _flag(key: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"{key} must be true or false")
    return value


def _seed(key: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{key} must be an integer")
    return value


def _count(key: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{key} must be a whole number, 0 or more")
    return value


def _url(key: str, value: Any) -> str:
    if not isinstance(value, str) or not value.startswith(("http://", "https://")):
        raise ValueError(f"{key} must be an http(s) URL")
    return value


def _codes(key: str, value: Any) -> dict[str, int]:
    if not isinstance(value, dict):
        raise ValueError(f'{key} must map recipients to error codes, e.g. {{"+393331234567": 131026}}')
    for recipient, code in value.items():
        if isinstance(code, bool) or not isinstance(code, int):
            raise ValueError(f"{key}[{recipient!r}] must be an integer error code")
    return {str(recipient): code for recipient, code in value.items()}


_STEP_KEYS = {"code", "http_status", "retry_after", "body", "deliver", "delay", "drop"}


def _step(key: str, value: Any) -> dict[str, Any]:
    """One scripted answer: an error code, or an object with any of _STEP_KEYS."""
    step = {"code": value} if isinstance(value, int) and not isinstance(value, bool) else value
    if not isinstance(step, dict) or not step or set(step) - _STEP_KEYS:
        raise ValueError(f"{key}: each step is an error code or an object with some of {', '.join(sorted(_STEP_KEYS))}")
    clean: dict[str, Any] = {}
    if "code" in step:
        clean["code"] = _seed(f"{key}.code", step["code"])
    if "http_status" in step:
        status = _seed(f"{key}.http_status", step["http_status"])
        if not 200 <= status <= 599:
            raise ValueError(f"{key}.http_status must be from 200 to 599")
        clean["http_status"] = status
    if "retry_after" in step:
        clean["retry_after"] = _seconds(f"{key}.retry_after", step["retry_after"])
    if "body" in step:
        if not isinstance(step["body"], str):
            raise ValueError(f"{key}.body must be a string (the raw response body)")
        clean["body"] = step["body"]
    if "delay" in step:
        clean["delay"] = _seconds(f"{key}.delay", step["delay"])
    clean["drop"] = _flag(f"{key}.drop", step.get("drop", False))
    # by default a step that answers an error does not deliver; a step that only delays does
    answers = "code" in clean or "body" in clean or clean["drop"]
    clean["deliver"] = _flag(f"{key}.deliver", step.get("deliver", not answers))
    return clean


def _script(key: str, value: Any) -> dict[str, list[dict[str, Any]]]:
    if not isinstance(value, dict):
        raise ValueError(f'{key} must map recipients to lists of steps, e.g. {{"+393331234567": [613, 613]}}')
    script = {}
    for recipient, steps in value.items():
        if not isinstance(steps, list):
            raise ValueError(f"{key}[{recipient!r}] must be a list of steps")
        script[str(recipient)] = [_step(f"{key}[{recipient!r}]", step) for step in steps]
    return script


SETTING_CHECKS: dict[str, Callable[[str, Any], Any]] = {
    "fault_rate": _share,
    "slow_rate": _share,
    "slow_seconds": _seconds,
    "recipient_errors": _codes,
    "rate_limit": _rate,
    "status_webhooks": _flag,
    "status_delay": _seconds,
    "status_batch_seconds": _seconds,  # gather statuses this long between posts (Meta batches up to 1,000)
    "seed": _seed,
    "webhook_url": _url,
    "media_faults": _count,  # the next N media lookups answer 500 (131000), as a flaky Graph would
    # per recipient, the answers to its next sends, in order (then sends are accepted as usual): an error
    # code, or {"code", "http_status", "retry_after", "body", "deliver", "delay", "drop"} for 429s, bodies
    # that are not JSON, replies slower than the client's timeout, connections closed without an answer
    "send_script": _script,
}


def clean_settings(settings: dict[str, Any]) -> dict[str, Any]:
    """Check settings for configure() and POST /_sandbox/config; raise ValueError on bad ones."""
    unknown = sorted(set(settings) - set(SETTING_CHECKS))
    if unknown:
        raise ValueError(f"unknown settings: {', '.join(unknown)}; known: {', '.join(SETTING_CHECKS)}")
    return {key: SETTING_CHECKS[key](key, value) for key, value in settings.items()}


# ---- rate limit --------------------------------------------------------------------------

class TokenBucket:
    """Sends per second for one phone number: `rate` tokens a second, burst max(1, rate)."""

    def __init__(self, rate: float):
        self.rate = rate
        self.capacity = max(1.0, rate)
        self.tokens = self.capacity
        self.updated = time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False


# ---- status webhooks ---------------------------------------------------------------------

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


class StatusWorker:
    """A daemon thread that posts due statuses in batches (<= 1,000 a POST), in due order, with retries."""

    def __init__(self, send: Callable[[list[PendingStatus]], bool],
                 retry_delays: Iterable[float] = (0.25, 1.0, 4.0), batch_size: int = MAX_STATUSES_PER_POST):
        self._send = send
        self._retry_delays = tuple(retry_delays)
        self._batch_size = batch_size
        self._heap: list[PendingStatus] = []
        self._cond = threading.Condition()
        self._stopping = threading.Event()
        self._seq = itertools.count()
        self._thread: threading.Thread | None = None
        self.dropped_batches = 0
        self.window = 0.0  # seconds to gather statuses after each post

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="sandbox-status-worker", daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 2.0) -> None:
        self._stopping.set()
        with self._cond:
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout)

    def schedule(self, item: PendingStatus) -> None:
        with self._cond:
            item.seq = next(self._seq)
            heapq.heappush(self._heap, item)
            self._cond.notify()

    def pending(self) -> int:
        with self._cond:
            return len(self._heap)

    def _run(self) -> None:
        while not self._stopping.is_set():
            batch = self._next_batch()
            if batch:
                self._deliver(batch)
                if self.window:
                    self._stopping.wait(self.window)

    def _next_batch(self) -> list[PendingStatus]:
        with self._cond:
            while not self._stopping.is_set():
                now = time.monotonic()
                if self._heap and self._heap[0].due <= now:
                    break
                self._cond.wait(self._heap[0].due - now if self._heap else None)
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


# ---- webhook client ----------------------------------------------------------------------

class WebhookClient:
    """POSTs raw bodies to the app's webhook, signed like Meta, ignoring proxy settings."""

    def __init__(self, app_secret: str, timeout: float = 15.0):
        self.app_secret = app_secret
        self.timeout = timeout
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    def post(self, url: str, raw: bytes, sign: bool = True) -> tuple[int | None, str | None]:
        """Return (HTTP status, None), or (None, reason) when the app could not be reached."""
        headers = {"Content-Type": "application/json", "User-Agent": "facebookexternalua"}
        if sign:
            headers["X-Hub-Signature-256"] = meta.sign_body(raw, self.app_secret)
        request = urllib.request.Request(url, data=raw, headers=headers, method="POST")
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


# ---- records -----------------------------------------------------------------------------

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

    def as_json(self) -> dict[str, Any]:
        return {"index": self.index, "id": self.id, "channel": self.channel, "to": self.to, "type": self.type,
                "text": self.text, "options": self.options, "body": self.body, "time": self.time,
                "status": self.status}


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


@dataclass
class StoredMedia:
    id: str
    data: bytes
    mime_type: str
    sha256: str


STATUS_RANK = {"accepted": 0, "sent": 1, "delivered": 2, "read": 3}


# ---- the server --------------------------------------------------------------------------

class SandboxServer:
    """A fake WhatsApp Cloud API on a real socket, plus a test API and a phone simulator page."""

    def __init__(self, host: str = "127.0.0.1", port: int = 8001, *, app_secret: str, access_token: str,
                 webhook_url: str, channels: list[dict], rate_limit: float = 80.0,
                 status_webhooks: bool = True, graph_versions_any: bool = True,
                 status_retry_delays: Iterable[float] = (0.25, 1.0, 4.0), **settings: Any):
        if not app_secret or not access_token:
            raise ValueError("app_secret and access_token are required")
        self.access_token = access_token
        self.graph_versions_any = graph_versions_any
        self.channels = {c["phone_number_id"]: c for c in (normalise_channel(c) for c in channels)}
        self._lock = threading.RLock()
        self._settings: dict[str, Any] = {
            "fault_rate": 0.0, "slow_rate": 0.0, "slow_seconds": 2.0, "recipient_errors": {},
            "rate_limit": 80.0, "status_webhooks": True, "status_delay": 0.2, "status_batch_seconds": 0.0, "seed": 0,
            "webhook_url": "http://127.0.0.1:8000/", "media_faults": 0, "send_script": {},
        }
        self._random = random.Random(0)
        self._buckets: dict[str, TokenBucket] = {}
        self._recipient_errors: dict[str, int] = {}
        self._scripts: dict[str, list[dict[str, Any]]] = {}  # per recipient key: the steps still to play
        self._stats = dict.fromkeys(("accepted", "rate_limited", "faults", "rejected", "slow", "reads",
                                     "inbound", "status_posts", "status_post_failures", "scripted"), 0)
        self._messages: list[SentMessage] = []
        self._messages_by_id: dict[str, SentMessage] = {}
        self._inbound: list[InboundRecord] = []
        self._reads: list[dict[str, Any]] = []
        self._media: dict[str, StoredMedia] = {}
        self._media_tokens: dict[str, tuple[str, float]] = {}
        self._links: dict[str, set[str]] = {}  # recipient key -> the other keys of the same person
        self._profiles: dict[str, str] = {}  # recipient key -> profile name
        self._counter = itertools.count()
        self._stopping = threading.Event()
        self._serving: threading.Thread | None = None
        self._webhook = WebhookClient(app_secret)
        self._worker = StatusWorker(self._post_statuses, status_retry_delays)
        self.configure(webhook_url=webhook_url, rate_limit=rate_limit, status_webhooks=status_webhooks,
                       **settings)
        self._httpd = _HTTPServer((host, port), _Handler)
        self._httpd.sandbox = self
        bound_host, bound_port = self._httpd.server_address[:2]
        shown_host = "127.0.0.1" if bound_host in ("0.0.0.0", "") else bound_host
        self.url = f"http://{shown_host}:{bound_port}"
        self.port = bound_port

    # ---- lifecycle ----

    def start(self) -> None:
        """Serve in a daemon thread; the socket is already listening when this returns."""
        if self._serving is not None:
            return
        self._worker.start()
        self._serving = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                         name="sandbox-http", daemon=True)
        self._serving.start()
        log.info("sandbox provider listening on %s", self.url)

    def stop(self) -> None:
        self._stopping.set()
        if self._serving is not None:
            self._httpd.shutdown()
            self._serving.join(2.0)
            self._serving = None
        self._httpd.server_close()
        self._worker.stop()

    def __enter__(self) -> SandboxServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ---- settings ----

    def sent_messages(self) -> list[SentMessage]:
        """Everything the app sent so far, oldest first (for benchmarks that count per recipient)."""
        with self._lock:
            return list(self._messages)

    def add_channel(self, channel: dict[str, Any]) -> None:
        """Serve one more business number (a tenant added after start-up)."""
        normalised = normalise_channel(channel)
        with self._lock:
            self.channels[normalised["phone_number_id"]] = normalised

    def configure(self, **settings: Any) -> None:
        """Change fault injection, rate limit, status webhooks...; same keys as POST /_sandbox/config."""
        clean = clean_settings(settings)
        with self._lock:
            self._settings.update(clean)
            if "seed" in clean:
                self._random = random.Random(clean["seed"])
            if "rate_limit" in clean:
                self._buckets.clear()
            if "status_batch_seconds" in clean:
                self._worker.window = clean["status_batch_seconds"]
            if "recipient_errors" in clean:
                self._recipient_errors = {meta.recipient_key(k): v for k, v in clean["recipient_errors"].items()}
            if "send_script" in clean:
                self._scripts = {meta.recipient_key(k): list(v) for k, v in clean["send_script"].items()}

    def settings(self) -> dict[str, Any]:
        with self._lock:
            return json.loads(json.dumps(self._settings))

    def stats(self) -> dict[str, Any]:
        with self._lock:
            return {**self._stats, "status_batches_dropped": self._worker.dropped_batches,
                    "statuses_pending": self._worker.pending()}

    def _count(self, name: str, amount: int = 1) -> None:
        with self._lock:
            self._stats[name] += amount

    # ---- dispatch ----

    def dispatch(self, request: Request) -> Response:
        """Route one HTTP request; never raises."""
        try:
            return self._route(request)
        except GraphError as error:
            return graph_error_response(error)
        except ApiError as error:
            return error_response(error.status, error.message)
        except DropConnection:
            raise
        except Exception:
            log.exception("sandbox failed on %s %s", request.method, request.path)
            return error_response(500, "internal sandbox error (see the sandbox log)")

    def _route(self, request: Request) -> Response:
        path = request.path
        if path in ("/", "/phone", "/phone.html"):
            self._require_method(request, "GET", "HEAD")
            return Response(200, PHONE_PAGE.read_bytes(), "text/html; charset=utf-8")
        if path.startswith("/_sandbox/"):
            return self._sandbox_api(request)
        if path.startswith("/_media/"):
            self._require_method(request, "GET")
            return self._media_download(request, path[len("/_media/"):])
        match = _GRAPH_PATH.match(path)
        if match:
            return self._graph(request, *match.groups())
        return error_response(404, f"not found: {request.method} {path}")

    @staticmethod
    def _require_method(request: Request, *methods: str) -> None:
        if request.method not in methods:
            raise ApiError(405, f"method {request.method} not allowed on {request.path}")

    # ---- Graph API ----

    def _graph(self, request: Request, version: str, object_id: str, edge: str | None) -> Response:
        if not self.graph_versions_any and version not in SUPPORTED_VERSIONS:
            raise GraphError(2635, f"Supported versions: {', '.join(SUPPORTED_VERSIONS)}",
                             message=f"(#2635) You are calling a deprecated version of the Graph API. "
                                     f"Please update to the latest version: {SUPPORTED_VERSIONS[-1]}.")
        if edge == "messages" and request.method == "POST":
            return self._send(request, object_id)
        self._check_token(request)
        if edge == "media" and request.method == "POST":
            return self._upload_media(request, object_id)
        if edge is None and request.method == "GET":
            return self._graph_object(request, object_id)
        if edge is None and request.method == "DELETE":
            return self._delete_media(object_id)
        raise GraphError(2500, f"Unknown path components: /{edge or ''}", http_status=404,
                         message=f"Unknown path components: /{edge or object_id}")

    def _check_token(self, request: Request) -> None:
        header = request.headers.get("Authorization") or ""
        token = header[7:].strip() if header[:7].lower() == "bearer " else request.query.get("access_token", "")
        if not token or not secrets.compare_digest(token.encode(), self.access_token.encode()):
            raise GraphError(190, "Malformed access token" if token else "An access token is required")

    def _channel(self, object_id: str) -> dict[str, Any]:
        channel = self.channels.get(object_id)
        if channel is None:
            raise meta.unknown_object(object_id)
        return channel

    def _send(self, request: Request, channel_id: str) -> Response:
        try:
            self._check_token(request)
            channel = self._channel(channel_id)
            body = self._graph_json(request.body)
            if isinstance(body, dict) and meta.is_mark_read(body):
                return self._mark_read(channel, body)
            meta.validate_send(body)
        except GraphError:
            self._count("rejected")
            raise
        step = self._next_step(body)
        if step is not None:
            return self._play(step, channel, body)
        self._inject_fault()  # a 5xx before admission: a message that was not sent uses none of the throughput
        try:
            self._throttle(channel_id)
            self._fail_for_recipient(body)
        except GraphError as error:
            self._count("rate_limited" if error.code == 130429 else "rejected")
            raise
        self._maybe_slow()
        return self._accept(channel, body)

    @staticmethod
    def _graph_json(raw: bytes) -> Any:
        try:
            return parse_json(raw)
        except (ValueError, UnicodeDecodeError) as error:
            raise GraphError(100, f"The request body is not valid JSON: {error}") from None

    def _mark_read(self, channel: dict[str, Any], body: dict[str, Any]) -> Response:
        meta.validate_mark_read(body)
        with self._lock:
            self._reads.append({"channel": channel["phone_number_id"], "message_id": body["message_id"],
                                "body": body, "time": time.time()})
            self._stats["reads"] += 1
        return json_response(200, {"success": True})

    def _throttle(self, channel_id: str) -> None:
        with self._lock:
            bucket = self._buckets.get(channel_id)
            if bucket is None:
                bucket = self._buckets[channel_id] = TokenBucket(self._settings["rate_limit"])
            allowed = bucket.take()
        if not allowed:
            raise GraphError(130429, "Cloud API message throughput has been reached.", http_status=429,
                             headers={"Retry-After": "1"})

    def _fail_for_recipient(self, body: dict[str, Any]) -> None:
        key = meta.recipient_key(body.get("to") or body.get("recipient") or "")
        with self._lock:
            code = self._recipient_errors.get(key)
        if code is not None:
            raise GraphError(code, f"Injected error {code} for recipient {key}")

    def _next_step(self, body: dict[str, Any]) -> dict[str, Any] | None:
        key = meta.recipient_key(body.get("to") or body.get("recipient") or "")
        with self._lock:
            steps = self._scripts.get(key)
            if not steps:
                return None
            self._stats["scripted"] += 1
            return steps.pop(0)

    def _play(self, step: dict[str, Any], channel: dict[str, Any], body: dict[str, Any]) -> Response:
        """A scripted answer: wait, deliver (or not), then answer an error, a raw body, nothing, or success."""
        if step.get("delay"):
            self._stopping.wait(step["delay"])
        accepted = self._accept(channel, body) if step["deliver"] else None
        if step["drop"]:
            raise DropConnection()
        if "code" in step:
            headers = {"Retry-After": f"{step['retry_after']:g}"} if "retry_after" in step else {}
            raise GraphError(step["code"], f"Scripted error {step['code']}", http_status=step.get("http_status"),
                             headers=headers)
        if "body" in step:
            return Response(step.get("http_status", 200), step["body"].encode(), "text/html; charset=utf-8")
        return accepted or self._accept(channel, body)

    def _inject_fault(self) -> None:
        with self._lock:
            rate = self._settings["fault_rate"]
            hit = rate > 0 and self._random.random() < rate
            if hit:
                self._stats["faults"] += 1
        if hit:
            raise GraphError(131000, "Injected fault (fault_rate)")

    def _maybe_slow(self) -> None:
        with self._lock:
            rate, seconds = self._settings["slow_rate"], self._settings["slow_seconds"]
            hit = rate > 0 and self._random.random() < rate
            if hit:
                self._stats["slow"] += 1
        if hit:
            self._stopping.wait(seconds)

    def _accept(self, channel: dict[str, Any], body: dict[str, Any]) -> Response:
        to, recipient = body.get("to") or "", body.get("recipient") or ""
        wa_id = meta.digits_only(to) if to else None
        contact = {"input": to or recipient, **({"wa_id": wa_id} if wa_id else {"user_id": recipient})}
        wamid = meta.new_wamid()
        with self._lock:
            record = SentMessage(
                index=next(self._counter), id=wamid, channel=channel["phone_number_id"], to=to or recipient,
                key=meta.recipient_key(to or recipient), type=body.get("type", "text"),
                text=meta.render_text(body), options=meta.message_options(body), body=body, time=time.time())
            self._messages.append(record)
            self._messages_by_id[wamid] = record
            self._stats["accepted"] += 1
            send_statuses, delay = self._settings["status_webhooks"], self._settings["status_delay"]
            user_id = recipient or self._linked_user_id(record.key)
        if send_statuses:
            self._schedule_statuses(record, body, wa_id, user_id, delay)
        return json_response(200, {"messaging_product": "whatsapp", "contacts": [contact],
                                   "messages": [{"id": wamid}]})

    def _linked_user_id(self, key: str) -> str | None:
        return next((k for k in self._links.get(key, ()) if not k.isdigit()), None)

    def _linked_wa_id(self, key: str) -> str | None:
        return next((k for k in self._links.get(key, ()) if k.isdigit()), None)

    # ---- status webhooks ----

    def _schedule_statuses(self, record: SentMessage, body: dict[str, Any], wa_id: str | None,
                           user_id: str | None, delay: float) -> None:
        if wa_id is None and user_id:
            with self._lock:
                wa_id = self._linked_wa_id(user_id)
        category = "utility" if record.type == "template" else "service"
        callback = body.get("biz_opaque_callback_data")
        start_mono, start_wall = time.monotonic(), time.time()
        for step, status in enumerate(STATUS_STEPS, start=1):
            self._worker.schedule(PendingStatus(
                due=start_mono + step * delay, seq=0, wall=start_wall + step * delay, status=status,
                message_id=record.id, channel_id=record.channel, wa_id=wa_id, user_id=user_id,
                callback_data=callback if isinstance(callback, str) else None, category=category))

    def _post_statuses(self, batch: list[PendingStatus]) -> bool:
        raw = json.dumps(self._status_payload(batch), separators=(",", ":"), ensure_ascii=False).encode()
        status, reason = self._webhook.post(self.settings()["webhook_url"], raw)
        ok = status is not None and 200 <= status < 300
        with self._lock:
            self._stats["status_posts"] += 1
            if ok:
                self._mark_posted(batch)
            else:
                self._stats["status_post_failures"] += 1
        if not ok:
            log.warning("status webhook post failed: %s", status or reason)
        return ok

    def _mark_posted(self, batch: list[PendingStatus]) -> None:
        for item in batch:
            record = self._messages_by_id.get(item.message_id)
            if record is not None and STATUS_RANK[item.status] > STATUS_RANK[record.status]:
                record.status = item.status

    def _status_payload(self, batch: list[PendingStatus]) -> dict[str, Any]:
        by_channel: dict[str, list[PendingStatus]] = {}
        for item in batch:
            by_channel.setdefault(item.channel_id, []).append(item)
        changes: dict[str, list[dict[str, Any]]] = {}
        for channel_id, items in by_channel.items():
            channel = self.channels[channel_id]
            changes.setdefault(channel["waba_id"], []).append(self._status_value(channel, items))
        return meta.envelope(changes)

    def _status_value(self, channel: dict[str, Any], items: list[PendingStatus]) -> dict[str, Any]:
        value: dict[str, Any] = {"messaging_product": "whatsapp", "metadata": meta.metadata(channel),
                                 "statuses": [status_item(item) for item in items]}
        contacts, seen = [], set()
        with self._lock:
            for item in items:
                if item.user_id and (item.wa_id, item.user_id) not in seen:
                    seen.add((item.wa_id, item.user_id))
                    name = self._profiles.get(item.wa_id or "") or self._profiles.get(item.user_id)
                    contacts.append(meta.contact(item.wa_id, item.user_id, name))
        if contacts:
            value["contacts"] = contacts
        return value

    # ---- media ----

    def store_media(self, data: bytes, mime_type: str) -> tuple[str, str]:
        """Keep bytes in memory under a new media id; return (media id, base64 sha256)."""
        media = StoredMedia(id=meta.new_media_id(), data=data, mime_type=mime_type, sha256=meta.sha256_b64(data))
        with self._lock:
            self._media[media.id] = media
        return media.id, media.sha256

    def _graph_object(self, request: Request, object_id: str) -> Response:
        with self._lock:
            media = self._media.get(object_id)
            if media is not None and self._settings["media_faults"] > 0:
                self._settings["media_faults"] -= 1
                self._stats["faults"] += 1
                raise GraphError(131000, "Injected fault (media_faults)")
            if media is not None:
                token = secrets.token_urlsafe(24)
                self._media_tokens[token] = (media.id, time.monotonic() + MEDIA_URL_TTL)
        if media is not None:
            url = f"{self._base_url(request)}/_media/{media.id}?token={token}"
            return json_response(200, {"messaging_product": "whatsapp", "url": url, "mime_type": media.mime_type,
                                       "sha256": media.sha256, "file_size": len(media.data), "id": media.id})
        channel = self.channels.get(object_id)
        if channel is not None:
            return json_response(200, {
                "id": object_id, "display_phone_number": channel["display_phone_number"],
                "verified_name": channel["name"], "quality_rating": "GREEN", "code_verification_status": "VERIFIED",
                "throughput": {"level": "STANDARD"}, "platform_type": "CLOUD_API"})
        raise meta.unknown_object(object_id, "get")

    def _delete_media(self, media_id: str) -> Response:
        with self._lock:
            removed = self._media.pop(media_id, None)
        if removed is None:
            raise meta.unknown_object(media_id, "delete")
        return json_response(200, {"success": True})

    def _upload_media(self, request: Request, channel_id: str) -> Response:
        self._channel(channel_id)
        fields = parse_multipart(request.headers.get("Content-Type") or "", request.body)
        if "file" not in fields:
            raise meta.missing("file")
        data, part_type = fields["file"]
        declared = fields.get("type", (b"", None))[0].decode(errors="replace").strip()
        media_id, _ = self.store_media(data, declared or part_type or "application/octet-stream")
        return json_response(200, {"id": media_id})

    def _media_download(self, request: Request, media_id: str) -> Response:
        try:
            self._check_token(request)
        except GraphError as error:
            return graph_error_response(error)
        token = request.query.get("token", "")
        with self._lock:
            media_for_token, expires = self._media_tokens.get(token, (None, 0.0))
            media = self._media.get(media_id)
        if media is None or media_for_token != media_id or expires < time.monotonic():
            return error_response(404, "media URL unknown or expired: ask GET /{version}/{media_id} again")
        return Response(200, media.data, media.mime_type)

    def _base_url(self, request: Request) -> str:
        return f"http://{request.host}" if request.host else self.url

    # ---- test and tour API ----

    def _sandbox_api(self, request: Request) -> Response:
        name = request.path[len("/_sandbox/"):].rstrip("/")
        if name.startswith("media/"):
            self._require_method(request, "GET")
            return self._media_preview(name[len("media/"):])
        routes = {
            ("GET", "health"): lambda: json_response(200, {"ok": True}),
            ("GET", "channels"): self._api_channels,
            ("GET", "config"): lambda: json_response(200, self.settings()),
            ("POST", "config"): lambda: self._api_configure(request),
            ("GET", "stats"): lambda: json_response(200, self.stats()),
            ("POST", "inbound"): lambda: self._api_inbound(request),
            ("GET", "inbound"): lambda: self._api_inbound_log(request),
            ("GET", "messages"): lambda: self._api_messages(request),
            ("DELETE", "messages"): self._api_clear,
            ("GET", "reads"): lambda: self._api_reads(request),
            ("POST", "raw"): lambda: self._api_raw(request),
        }
        handler = routes.get((request.method, name))
        if handler is not None:
            return handler()
        if any(path == name for _, path in routes):
            raise ApiError(405, f"method {request.method} not allowed on {request.path}")
        raise ApiError(404, f"not found: {request.method} {request.path}")

    @staticmethod
    def _api_json(request: Request) -> Any:
        try:
            return parse_json(request.body)
        except (ValueError, UnicodeDecodeError) as error:
            raise ApiError(422, f"the body must be JSON: {error}") from None

    def _api_channels(self) -> Response:
        keys = ("phone_number_id", "kind", "tenant", "display_phone_number", "name")
        return json_response(200, [{k: c[k] for k in keys} for c in self.channels.values()])

    def _api_configure(self, request: Request) -> Response:
        settings = self._api_json(request)
        if not isinstance(settings, dict):
            raise ApiError(422, "the body must be a JSON object of settings")
        try:
            self.configure(**settings)
        except ValueError as error:
            raise ApiError(422, str(error)) from None
        return json_response(200, self.settings())

    def _api_inbound(self, request: Request) -> Response:
        body = self._api_json(request)
        if not isinstance(body, dict):
            raise ApiError(422, "the body must be a JSON object")
        channel_id = body.get("channel")
        if not isinstance(channel_id, str) or not channel_id:
            raise ApiError(422, '"channel" (a phone_number_id from /_sandbox/channels) is required')
        channel = self.channels.get(channel_id)
        if channel is None:
            raise ApiError(404, f"unknown channel {channel_id!r}")
        profile_name = body.get("profile_name")
        if profile_name is not None and not isinstance(profile_name, str):
            raise ApiError(422, '"profile_name" must be a string')
        try:
            sender = parse_sender(body)
            business_number = meta.digits_only(channel["display_phone_number"])
            message = build_message(body, sender, business_number, self.store_media)
        except InboundError as error:
            raise ApiError(422, str(error)) from None
        return self._deliver_inbound(channel, sender, message, profile_name)

    def _deliver_inbound(self, channel: dict[str, Any], sender: Sender, message: dict[str, Any],
                         profile_name: str | None) -> Response:
        keys = [k for k in (sender.wa_id, sender.user_id) if k]
        with self._lock:
            self._link(keys)
            if profile_name:
                self._profiles.update(dict.fromkeys(keys, profile_name))
            name = profile_name or next((self._profiles[k] for k in keys if k in self._profiles),
                                        DEFAULT_PROFILE_NAME)
        value = {"messaging_product": "whatsapp", "metadata": meta.metadata(channel),
                 "contacts": [meta.contact(sender.wa_id, sender.user_id, name)], "messages": [message]}
        raw = json.dumps(meta.envelope({channel["waba_id"]: [value]}), ensure_ascii=False).encode()
        status, reason = self._webhook.post(self.settings()["webhook_url"], raw)
        with self._lock:
            self._inbound.append(InboundRecord(
                index=next(self._counter), id=message["id"], channel=channel["phone_number_id"], sender=sender,
                type=message["type"], text=readable(message), message=message, time=time.time(),
                webhook_status=status))
            self._stats["inbound"] += 1
        answer: dict[str, Any] = {"message_id": message["id"], "webhook_status": status}
        if message["type"] == "image":
            answer["media_id"] = message["image"]["id"]
        if status is None:
            answer["error"] = f"the app webhook could not be reached: {reason}"
            return json_response(502, answer)
        return json_response(200, answer)

    def _link(self, keys: list[str]) -> None:
        for key in keys:
            self._links.setdefault(key, set()).update(k for k in keys if k != key)

    def _identity(self, value: str) -> set[str]:
        key = meta.recipient_key(value)
        return {key, *self._links.get(key, ())}

    def _api_messages(self, request: Request) -> Response:
        query = request.query
        since = self._since(query)
        with self._lock:
            wanted = self._identity(query["to"]) if query.get("to") else None
            found = [m.as_json() for m in self._messages
                     if (wanted is None or m.key in wanted)
                     and (not query.get("channel") or m.channel == query["channel"])
                     and m.index >= since]
        return json_response(200, found)

    def _api_inbound_log(self, request: Request) -> Response:
        query = request.query
        since = self._since(query)
        with self._lock:
            wanted = self._identity(query["from"]) if query.get("from") else None
            found = [r.as_json() for r in self._inbound
                     if (wanted is None or {r.sender.wa_id, r.sender.user_id} & wanted)
                     and (not query.get("channel") or r.channel == query["channel"])
                     and r.index >= since]
        return json_response(200, found)

    def _api_reads(self, request: Request) -> Response:
        with self._lock:
            reads = [r for r in self._reads if not request.query.get("channel") or r["channel"] == request.query["channel"]]
        return json_response(200, reads)

    @staticmethod
    def _since(query: dict[str, str]) -> int:
        try:
            return int(query.get("since") or 0)
        except ValueError:
            raise ApiError(422, '"since" must be an integer index') from None

    def _api_clear(self) -> Response:
        with self._lock:
            cleared = len(self._messages)
            self._messages.clear()
            self._messages_by_id.clear()
            self._inbound.clear()
            self._reads.clear()
        return json_response(200, {"cleared": cleared})

    def _api_raw(self, request: Request) -> Response:
        body = self._api_json(request)
        if not isinstance(body, dict) or ("body" not in body and "raw" not in body):
            raise ApiError(422, 'give {"body": <any JSON>, "sign": true|false} or {"raw": "<text>", "sign": ...}')
        sign = body.get("sign", True)
        if not isinstance(sign, bool):
            raise ApiError(422, '"sign" must be true or false')
        if "raw" in body:
            if not isinstance(body["raw"], str):
                raise ApiError(422, '"raw" must be a string')
            raw = body["raw"].encode()
        else:
            raw = json.dumps(body["body"], ensure_ascii=False).encode()
        status, reason = self._webhook.post(self.settings()["webhook_url"], raw, sign=sign)
        if status is None:
            return json_response(502, {"webhook_status": None, "error": f"the app webhook could not be reached: {reason}"})
        return json_response(200, {"webhook_status": status})

    def _media_preview(self, media_id: str) -> Response:
        with self._lock:
            media = self._media.get(media_id)
        if media is None:
            raise ApiError(404, f"unknown media {media_id!r}")
        return Response(200, media.data, media.mime_type)


def status_item(item: PendingStatus) -> dict[str, Any]:
    """One statuses[] entry as Meta posts it."""
    status: dict[str, Any] = {"id": item.message_id, "status": item.status, "timestamp": meta.unix_seconds(item.wall)}
    if item.wa_id:
        status["recipient_id"] = item.wa_id
    if item.user_id:
        status["recipient_user_id"] = item.user_id
    if item.callback_data is not None:
        status["biz_opaque_callback_data"] = item.callback_data
    if item.status in ("sent", "delivered"):
        status["pricing"] = {"billable": item.category != "service", "pricing_model": "PMP",
                             "type": "regular" if item.category != "service" else "free_customer_service",
                             "category": item.category}
    return status


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


def parse_multipart(content_type: str, body: bytes) -> dict[str, tuple[bytes, str | None]]:
    """Form fields of a multipart/form-data body: name -> (bytes, part content type)."""
    if not content_type.lower().startswith("multipart/form-data"):
        raise GraphError(100, "The upload must be multipart/form-data")
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode()
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
    fields: dict[str, tuple[bytes, str | None]] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if name:
            has_type = part.get("Content-Type") is not None
            fields[str(name)] = (part.get_payload(decode=True) or b"", part.get_content_type() if has_type else None)
    return fields


# ---- HTTP plumbing -----------------------------------------------------------------------

class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256  # a busy sender opens many connections at once; 5 would drop SYNs
    allow_reuse_address = True
    sandbox: SandboxServer


class _BodyTooLarge(Exception):
    pass


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "FiloDirettoSandbox/1.0"
    timeout = 60
    server: _HTTPServer

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def do_DELETE(self) -> None:
        self._handle()

    def do_PUT(self) -> None:
        self._handle()

    def do_PATCH(self) -> None:
        self._handle()

    def do_HEAD(self) -> None:
        self._handle(head=True)

    def _handle(self, head: bool = False) -> None:
        try:
            parts = urllib.parse.urlsplit(self.path)
            query = {k: v[0] for k, v in urllib.parse.parse_qs(parts.query, keep_blank_values=True).items()}
            body = self._read_body()
            request = Request("GET" if head else self.command, parts.path, query, self.headers, body,
                              self.headers.get("Host"))
            response = self.server.sandbox.dispatch(request)
        except DropConnection:
            self.close_connection = True
            return
        except _BodyTooLarge:
            self.close_connection = True
            response = error_response(413, f"the body is larger than {MAX_BODY_BYTES} bytes")
        except Exception:
            log.exception("bad request %r", self.requestline)
            self.close_connection = True
            response = error_response(400, "bad request")
        self._write(response, head)

    def _read_body(self) -> bytes:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            return self._read_chunked()
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY_BYTES:
            raise _BodyTooLarge()
        return self.rfile.read(length) if length > 0 else b""

    def _read_chunked(self) -> bytes:
        chunks, total = [], 0
        while True:
            size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while self.rfile.readline().strip():
                    pass  # trailers
                return b"".join(chunks)
            total += size
            if total > MAX_BODY_BYTES:
                raise _BodyTooLarge()
            chunks.append(self.rfile.read(size))
            self.rfile.readline()

    def _write(self, response: Response, head: bool) -> None:
        try:
            self.send_response(response.status)
            self.send_header("Content-Type", response.content_type)
            self.send_header("Content-Length", str(len(response.body)))
            self.send_header("Cache-Control", "no-store")
            for name, value in response.headers.items():
                self.send_header(name, value)
            if self.close_connection:
                self.send_header("Connection", "close")
            self.end_headers()
            if not head:
                self.wfile.write(response.body)
        except (BrokenPipeError, ConnectionResetError, TimeoutError):
            self.close_connection = True

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s %s", self.address_string(), format % args)
