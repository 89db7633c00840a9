"""SandboxServer: wires the sandbox's parts together, routes each request to them, and starts and stops serving."""
from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from .channels import Channels
from .faults import Faults
from .graph import GRAPH_PATH, GraphApi
from .httpd import ApiError, DropConnection, HTTPServer, Request, Response, error_response, graph_error_response, require_method
from .media import MediaStore
from .meta import GraphError
from .people import People
from .recorder import Recorder, SentMessage
from .sandbox_api import SandboxApi
from .settings import SandboxSettings
from .statuses import StatusWebhooks
from .templates import TemplateError, Templates
from .webhooks import WebhookClient

log = logging.getLogger("local.sandbox")

PHONE_PAGE = Path(__file__).with_name("phone.html")
REVIEW_PAGE = Path(__file__).with_name("review.html")  # Meta's review of submitted templates, played by hand


class SandboxServer:
    """A fake WhatsApp Cloud API on a real socket, plus a test API and a phone simulator page."""

    def __init__(self, host: str = "127.0.0.1", port: int = 8001, *, app_secret: str, access_token: str,
                 webhook_url: str, channels: list[dict], rate_limit: float = 80.0,
                 status_webhooks: bool = True, graph_versions_any: bool = True,
                 status_retry_delays: Iterable[float] = (0.25, 1.0, 4.0), **settings: Any):
        if not app_secret or not access_token:
            raise ValueError("app_secret and access_token are required")
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._serving: threading.Thread | None = None
        self._settings = SandboxSettings()
        self._channels = Channels(channels)
        self._templates = Templates()
        for channel in channels:
            self._register_templates(channel)
        self._people = People()
        self._recorder = Recorder()
        self._media = MediaStore()
        self._faults = Faults(self._recorder.count)
        self._webhook = WebhookClient(app_secret, self._settings.webhook_url)
        self._statuses = StatusWebhooks(self._channels, self._people, self._recorder, self._webhook, status_retry_delays)
        self._graph = GraphApi(access_token=access_token, versions_any=graph_versions_any, channels=self._channels,
                               templates=self._templates, media=self._media, faults=self._faults,
                               recorder=self._recorder,
                               statuses=self._statuses, pause=self._stopping.wait, own_url=lambda: self.url)
        self._api = SandboxApi(channels=self._channels, templates=self._templates, people=self._people,
                               recorder=self._recorder, media=self._media, webhook=self._webhook, configure=self.configure,
                               settings=self.settings, stats=self.stats)
        self.configure(webhook_url=webhook_url, rate_limit=rate_limit, status_webhooks=status_webhooks, **settings)
        self._httpd = HTTPServer((host, port), self.dispatch)
        bound_host, bound_port = self._httpd.server_address[:2]
        shown_host = "127.0.0.1" if bound_host in ("0.0.0.0", "") else bound_host
        self.url = f"http://{shown_host}:{bound_port}"
        self.port = bound_port

    # ---- lifecycle ----

    def start(self) -> None:
        """Serve in a daemon thread; the socket is already listening when this returns."""
        if self._serving is not None:
            return
        self._statuses.worker.start()
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
        self._statuses.worker.stop()
        self._webhook.close()

    def __enter__(self) -> SandboxServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ---- the Python API (the test API offers the same over HTTP) ----

    def configure(self, **settings: Any) -> None:
        """Change fault injection, rate limit, status webhooks...; same keys as POST /_sandbox/config.

        Raises SettingsError (a ValueError) naming each bad setting; then nothing changes.
        """
        with self._lock:
            self._settings = self._settings.updated(settings)
            self._faults.configure(self._settings, settings.keys())
            self._statuses.configure(self._settings)
            self._webhook.url = self._settings.webhook_url

    def settings(self) -> dict[str, Any]:
        """The settings in force; media_faults counts the lookups still to fail."""
        with self._lock:
            return {**self._settings.as_json(), "media_faults": self._faults.media_faults_left}

    def stats(self) -> dict[str, Any]:
        worker = self._statuses.worker
        due, late = worker.backlog()
        return {**self._recorder.stats(), "status_batches_dropped": worker.dropped_batches,
                "statuses_pending": worker.pending(), "statuses_due": due, "statuses_late_s": round(late, 3)}

    def sent_messages(self) -> list[SentMessage]:
        """Everything the app sent so far, oldest first (for benchmarks that count per recipient)."""
        return self._recorder.sent_messages()

    def add_channel(self, channel: dict[str, Any]) -> None:
        """Serve one more business number (a tenant added after start-up), with its account's `templates`.

        Raises ValueError (TemplateError) for a template Meta would not approve; then nothing changes."""
        self._channels.add(channel)
        self._register_templates(channel)

    def _register_templates(self, channel: dict[str, Any]) -> None:
        """A channel's `templates` (Meta's template objects) belong to its WhatsApp Business Account."""
        definitions = channel.get("templates") or []
        if not isinstance(definitions, list):
            raise TemplateError(f"a channel's templates are a list: {definitions!r}")
        if definitions:
            self._templates.register(self._channels.require(str(channel["phone_number_id"]))["waba_id"], definitions)

    # ---- routing ----

    def dispatch(self, request: Request) -> Response:
        """Route one HTTP request; never raises (but DropConnection, to close the connection unanswered)."""
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
            require_method(request, "GET", "HEAD")
            return Response(200, PHONE_PAGE.read_bytes(), "text/html; charset=utf-8")
        if path in ("/review", "/review.html"):
            require_method(request, "GET", "HEAD")
            return Response(200, REVIEW_PAGE.read_bytes(), "text/html; charset=utf-8")
        if path.startswith("/_sandbox/"):
            return self._api.handle(request)
        if path.startswith("/_media/"):
            require_method(request, "GET")
            return self._graph.download(request, path[len("/_media/"):])
        match = GRAPH_PATH.match(path)
        if match:
            return self._graph.handle(request, *match.groups())
        return error_response(404, f"not found: {request.method} {path}")
