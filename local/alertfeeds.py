"""A local stand-in for the official alert feeds (not deployed): serves documents over HTTP with ETag and
Last-Modified (and 304 to a conditional GET), as the DPC's GitHub raw files and CAP feeds do, so make dev and the
tests read feeds the way production does without reaching the internet.

make dev serves local/alerts/ and replays the DPC bulletin there as if published today (its days moved to today
and tomorrow), so the demo comune gets a draft to look at. Tests publish documents of their own, and make a path
slow (a timeout) or failing (an HTTP status) to see the watcher's backoff."""
from __future__ import annotations

import hashlib
import json
import re
import threading
import time
from datetime import UTC, datetime
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from zoneinfo import ZoneInfo

SAMPLES = Path(__file__).with_name("alerts")
ROME = ZoneInfo("Europe/Rome")
MONTHS = ("gennaio", "febbraio", "marzo", "aprile", "maggio", "giugno", "luglio", "agosto", "settembre", "ottobre",
          "novembre", "dicembre")
WEEKDAYS = ("Lunedì", "Martedì", "Mercoledì", "Giovedì", "Venerdì", "Sabato", "Domenica")
DAY = re.compile(r"(" + "|".join(WEEKDAYS) + r") (\d{1,2}) (" + "|".join(MONTHS) + r") (\d{4})")


def replayed_today(body: bytes, now: datetime | None = None) -> bytes:
    """A DPC bulletin index as if published now: its date, file stamps and the days it speaks of moved by the
    same number of days (make dev's demo only: the sample stays the real one on disk)."""
    now = now or datetime.now(UTC)
    index = json.loads(body)
    published = datetime.fromisoformat(index["date"].replace("Z", "+00:00"))
    shift = now.astimezone(ROME).date() - published.astimezone(ROME).date()
    moved = published + shift
    old_stamp = published.astimezone(ROME).strftime("%Y%m%d_%H%M")
    new_stamp = moved.astimezone(ROME).strftime("%Y%m%d_%H%M")

    def day(match: re.Match) -> str:
        when = datetime(int(match.group(4)), MONTHS.index(match.group(3)) + 1, int(match.group(2))) + shift
        return f"{WEEKDAYS[when.weekday()]} {when.day} {MONTHS[when.month - 1]} {when.year}"

    text = json.dumps(index, ensure_ascii=False).replace(old_stamp, new_stamp)
    index = json.loads(DAY.sub(day, text))
    index["date"] = moved.isoformat().replace("+00:00", "Z")
    index["name"] = f"{index['name']} (replica locale del bollettino del {published.astimezone(ROME):%d/%m/%Y})"
    return json.dumps(index, ensure_ascii=False).encode()


class AlertFeedServer:
    """Documents by path; publish() replaces one (a new ETag), slow() and fail() break one."""

    def __init__(self, host: str = "127.0.0.1", port: int = 8004, samples: Path | None = SAMPLES,
                 replay: bool = False):
        self.host, self.port = host, port
        self.url = f"http://{host}:{port}"
        self.documents: dict[str, tuple[bytes, str, float]] = {}  # path -> body, content type, modified
        self.delays: dict[str, float] = {}
        self.failures: dict[str, int] = {}
        self.requests: list[tuple[str, bool]] = []  # (path, conditional) of each GET
        self.replay = replay
        self.lock = threading.Lock()
        if samples is not None and samples.is_dir():
            for path in samples.iterdir():
                if path.suffix in (".json", ".xml"):
                    self.publish(f"/{path.name}", path.read_bytes())
        self.server = ThreadingHTTPServer((host, port), self._handler())
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, name="alert-feeds", daemon=True)

    def start(self) -> AlertFeedServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def publish(self, path: str, body: bytes, content_type: str | None = None) -> None:
        kind = content_type or ("application/json" if path.endswith(".json") else "application/xml")
        with self.lock:
            self.documents[path] = (body, kind, time.time())

    def slow(self, path: str, seconds: float) -> None:
        """Answer this path only after `seconds` (0: at once again)."""
        with self.lock:
            self.delays[path] = seconds

    def fail(self, path: str, status: int = 0) -> None:
        """Answer this path with an HTTP error status (0: normally again)."""
        with self.lock:
            self.failures[path] = status

    def _handler(self):
        feeds = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format, *args):  # noqa: A002 - the base class's signature
                pass

            def do_GET(self):  # noqa: N802 - http.server's name
                path = self.path.split("?", 1)[0]
                with feeds.lock:
                    found = feeds.documents.get(path)
                    delay, status = feeds.delays.get(path, 0), feeds.failures.get(path, 0)
                    feeds.requests.append((path, bool(self.headers.get("If-None-Match"))))
                if delay:
                    time.sleep(delay)
                if status:
                    self.send_error(status)
                    return
                if found is None:
                    self.send_error(404)
                    return
                body, kind, modified = found
                if feeds.replay and path.endswith(".json") and b'"html_descrition"' in body:
                    body = replayed_today(body)
                etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
                if self.headers.get("If-None-Match") == etag:
                    self.send_response(304)
                    self.send_header("ETag", etag)
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("ETag", etag)
                self.send_header("Last-Modified", formatdate(modified, usegmt=True))
                self.end_headers()
                try:
                    self.wfile.write(body)
                except OSError:  # the reader gave up (its timeout)
                    pass

        return Handler

