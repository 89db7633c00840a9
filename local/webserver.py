"""The web front ends in make dev: the built console and portal, their runtime config, and the API behind them.

In AWS, CloudFront serves `web/<app>/dist` from S3 and routes the API paths to API Gateway, so the browser
sees one origin. Locally this server plays CloudFront: static files from `web/<app>/dist`, the API paths
proxied to the Chalice local server, and `/config.json` with the settings the front ends read at start.
"""
from __future__ import annotations

import json
import logging
import mimetypes
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

log = logging.getLogger("local.web")

WEB_DIR = Path(__file__).resolve().parent.parent / "web"
APPS = ("console", "portal")
API_PREFIXES = ("/api/", "/public/", "/open311/", "/s/", "/health")
LOCAL_SIGN_IN = "/local-auth/token"
SIGN_IN_FIELDS = ("username", "password", "session", "new_password")  # a first sign-in answers the new-password challenge
MAX_PROXY_BODY = 30 * 1024 * 1024
HOP_HEADERS = {"connection", "keep-alive", "transfer-encoding", "content-length", "host", "server", "date"}
NOT_BUILT = """<!doctype html><html lang="it"><meta charset="utf-8"><title>Filo Diretto</title>
<p>The {app} has not been built: run <code>make web</code> (make dev and make test do it for you).</p></html>"""


class _QuietServer(ThreadingHTTPServer):
    request_queue_size = 128  # a burst of connections waits in the listen queue (5 dropped the rest: issue 13)

    def handle_error(self, request, client_address):
        """A browser that went away mid-answer (a closed tab, a polling page left) is no error worth a traceback."""
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


class WebServer:
    """Static files of the built front ends plus a same-origin proxy to the API."""

    def __init__(self, host: str, port: int, api_url: str, config: Callable[[], dict], web_dir: Path = WEB_DIR,
                 sign_in: Callable[..., dict] | None = None):
        self.host, self.port, self.api_url, self.web_dir = host, port, api_url.rstrip("/"), web_dir
        self.sign_in = sign_in  # make dev's stand-in for Cognito (local/staff_signin.py); PermissionError: refused
        self.url = f"http://{host}:{port}"
        self.config = config  # called per request: the runtime settings the front ends read from /config.json
        self._server = _QuietServer((host, port), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="web", daemon=True)

    def start(self) -> WebServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def app_url(self, app: str) -> str:
        return f"{self.url}/{app}/"

    def _handler_class(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body are written apart: no delayed-ACK wait for the body

            def log_message(self, format, *args):  # noqa: A002 - the base class's signature
                log.debug("%s %s", self.address_string(), format % args)

            def do_GET(self):  # noqa: N802 - http.server's naming
                server.handle(self)

            do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = do_GET  # noqa: N815

        return Handler

    def handle(self, request: BaseHTTPRequestHandler) -> None:
        path = urlsplit(request.path).path
        if path.startswith(API_PREFIXES):
            self._proxy(request)
        elif path == LOCAL_SIGN_IN and self.sign_in:
            self._local_sign_in(request)
        elif path == "/config.json":
            self._send(request, 200, json.dumps(self.config()).encode(), "application/json; charset=utf-8",
                       {"Cache-Control": "no-store"})
        elif path in ("", "/"):
            self._send(request, 302, b"", "text/plain", {"Location": "/portal/"})
        else:
            self._static(request, path)

    def _static(self, request: BaseHTTPRequestHandler, path: str) -> None:
        app, _, rest = path.lstrip("/").partition("/")
        if app not in APPS:
            self._send(request, 404, b"not found", "text/plain; charset=utf-8")
            return
        if path == f"/{app}":
            self._send(request, 301, b"", "text/plain", {"Location": f"/{app}/"})
            return
        root = (self.web_dir / app / "dist").resolve()
        index = root / "index.html"
        if not index.exists():
            self._send(request, 503, NOT_BUILT.format(app=app).encode(), "text/html; charset=utf-8")
            return
        target = (root / rest).resolve() if rest else index
        if root not in target.parents and target != root or not target.is_file():
            target = index  # a client-side route: the single-page app decides
        content_type = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        cache = "no-cache" if target.name == "index.html" else "public, max-age=31536000, immutable"
        self._send(request, 200, target.read_bytes(), content_type, {"Cache-Control": cache})

    def _local_sign_in(self, request: BaseHTTPRequestHandler) -> None:
        """POST {"username", "password"} -> {"id_token", "expires_in"}, or {"challenge": "NEW_PASSWORD_REQUIRED",
        "session"}, answered by POST {"username", "session", "new_password"}: the console's sign-in in make dev."""
        if request.command != "POST":
            self._send(request, 405, b'{"error": {"code": "method_not_allowed"}}', "application/json", {"Allow": "POST"})
            return
        length = int(request.headers.get("Content-Length") or 0)
        try:
            data = json.loads(request.rfile.read(min(length, 4096)) or b"{}")
            answer = self.sign_in(**{k: str(data.get(k) or "") for k in SIGN_IN_FIELDS})
        except PermissionError as refused:  # the sign-in's own Italian reason
            answer, reason = None, str(refused)
        except (ValueError, AttributeError):
            answer, reason = None, "Nome utente o password non validi."
        if answer is None:
            body = {"error": {"code": "unauthorized", "message": reason}}
            self._send(request, 401, json.dumps(body).encode(), "application/json; charset=utf-8")
            return
        self._send(request, 200, json.dumps(answer).encode(), "application/json; charset=utf-8",
                   {"Cache-Control": "no-store"})

    def _proxy(self, request: BaseHTTPRequestHandler) -> None:
        length = int(request.headers.get("Content-Length") or 0)
        if length > MAX_PROXY_BODY:
            self._send(request, 413, b'{"error": "payload_too_large"}', "application/json")
            return
        body = request.rfile.read(length) if length else None
        headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP_HEADERS}
        outgoing = urllib.request.Request(self.api_url + request.path, data=body, headers=headers,
                                          method=request.command)
        try:
            with urllib.request.urlopen(outgoing, timeout=60) as answer:
                status, raw, answer_headers = answer.status, answer.read(), answer.headers
        except urllib.error.HTTPError as error:
            status, raw, answer_headers = error.code, error.read(), error.headers
        except OSError as error:
            log.warning("API unreachable: %s", error)
            self._send(request, 502, b'{"error": "api_unreachable"}', "application/json")
            return
        extra = {k: v for k, v in answer_headers.items() if k.lower() not in HOP_HEADERS | {"content-type"}}
        self._send(request, status, raw, answer_headers.get("Content-Type", "application/octet-stream"), extra)

    @staticmethod
    def _send(request: BaseHTTPRequestHandler, status: int, body: bytes, content_type: str,
              headers: dict[str, str] | None = None) -> None:
        request.send_response(status)
        request.send_header("Content-Type", content_type)
        request.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            request.send_header(name, value)
        request.end_headers()
        if request.command != "HEAD":
            request.wfile.write(body)
