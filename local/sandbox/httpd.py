"""The thin HTTP layer: a threading server that turns each request into a Request and writes back a Response."""
from __future__ import annotations

import json
import logging
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from .meta import GraphError

log = logging.getLogger("local.sandbox")

MAX_BODY_BYTES = 25 * 1024 * 1024


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
    """A test-API error: {"error": message}."""
    return json_response(status, {"error": message})


def graph_error_response(error: GraphError) -> Response:
    """A Graph API error: Meta's error body, status and headers."""
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


def require_method(request: Request, *methods: str) -> None:
    if request.method not in methods:
        raise ApiError(405, f"method {request.method} not allowed on {request.path}")


class HTTPServer(ThreadingHTTPServer):
    """Serves every request to `dispatch` (Request -> Response), each on a daemon thread."""

    daemon_threads = True
    request_queue_size = 256  # a busy sender opens many connections at once; 5 would drop SYNs
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], dispatch: Callable[[Request], Response]):
        super().__init__(address, _Handler)
        self.dispatch = dispatch


class _BodyTooLarge(Exception):
    pass


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body are written apart: the body must not wait for a delayed ACK
    server_version = "FiloDirettoSandbox/1.0"
    timeout = 60
    server: HTTPServer

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
            response = self.server.dispatch(request)
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
