"""A local stand-in for the official alert feeds (not deployed): serves documents over HTTP with ETag and
Last-Modified (and 304 to a conditional GET), as the DPC's GitHub raw files and CAP feeds do, so make dev and the
tests read feeds the way production does without reaching the internet.

It also answers as GitHub does for the DPC's repository (pcm-dpc/DPC-Bollettini-Criticita-Idrogeologica-Idraulica):
`GET /repos/{owner}/{repo}/commits?path=files` (the last commits, newest first, with an ETag and 304), `GET
/repos/{owner}/{repo}/commits/{sha}` (a commit's files) and the raw files at `/{owner}/{repo}/{branch}/files/...`,
so a dpc feed finds the newest bulletin the way it does in production. publish_bulletin() commits one.

make dev serves local/alerts/ and replays the DPC bulletin there as if published today (its days moved to today
and tomorrow), so the demo comune gets a draft to look at. Tests publish documents of their own, and make a path
slow (a timeout) or failing (an HTTP status, with headers such as GitHub's rate-limit ones) to see the watcher's
backoff."""
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
DPC_REPOSITORY = "pcm-dpc/DPC-Bollettini-Criticita-Idrogeologica-Idraulica"
STAMP = re.compile(r"^(\d{8}_\d{4})\.json$")
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
        self.commits: dict[str, list[dict]] = {}  # repository -> its commits, newest first (GitHub's shape)
        self.fail_headers: dict[str, dict[str, str]] = {}
        self.replay = replay
        self.lock = threading.Lock()
        if samples is not None and samples.is_dir():
            for path in sorted(samples.iterdir()):
                if path.suffix in (".json", ".xml"):
                    self.publish(f"/{path.name}", path.read_bytes())
                if (stamp := STAMP.match(path.name)) and replay:  # committed as published today, at its time
                    today = datetime.now(UTC).astimezone(ROME).strftime("%Y%m%d")
                    self.publish_bulletin(f"{today}_{stamp.group(1)[-4:]}", path.read_bytes())
                elif stamp:
                    self.publish_bulletin(stamp.group(1), path.read_bytes())
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

    def publish_bulletin(self, stamp: str, body: bytes, repository: str = DPC_REPOSITORY, branch: str = "master",
                         extra_files: tuple[str, ...] | None = None) -> str:
        """Commit a bulletin index as files/<stamp>.json of `repository` (with its TopoJSON names, as the DPC's
        commits carry them; `extra_files` instead: a commit of other files only, e.g. ()): the commit's sha."""
        files = [f"files/{stamp}.json", f"files/topojson/{stamp}_today.json", f"files/topojson/{stamp}_tomorrow.json"]
        if extra_files is not None:
            files = list(extra_files)
        with self.lock:
            listed = self.commits.setdefault(repository, [])
            sha = hashlib.sha1(f"{repository}{len(listed)}{stamp}{files}".encode()).hexdigest()  # noqa: S324 - an id
            listed.insert(0, {"sha": sha, "stamp": stamp, "files": files,
                              "date": datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")})
        for name in files:
            if name == f"files/{stamp}.json":
                self.publish(f"/{repository}/{branch}/{name}", body)
        return sha

    def _github(self, path: str, query: str) -> bytes | None:
        """GitHub's REST API answers for the repositories committed here (None: not one of its paths)."""
        match = re.match(r"^/repos/([^/]+/[^/]+)/commits(?:/([0-9a-f]{40}))?$", path)
        if not match:
            return None
        repository, sha = match.groups()
        params = dict(p.split("=", 1) for p in query.split("&") if "=" in p)
        with self.lock:
            listed = list(self.commits.get(repository, []))
        api = f"{self.url}/repos/{repository}"

        def short(c: dict) -> dict:
            return {"sha": c["sha"], "url": f"{api}/commits/{c['sha']}", "html_url": "",
                    "commit": {"message": f"Bollettino {c['stamp']}", "author": {"name": "pcm-dpc", "date": c["date"]},
                               "committer": {"name": "GitHub", "date": c["date"]}},
                    "parents": []}

        if sha is None:
            wanted = params.get("path", "")
            chosen = [c for c in listed if not wanted or any(f.startswith(wanted + "/") or f == wanted
                                                            for f in c["files"])]
            return json.dumps([short(c) for c in chosen[:int(params.get("per_page", "30"))]]).encode()
        commit = next((c for c in listed if c["sha"] == sha), None)
        if commit is None:
            return b""
        return json.dumps({**short(commit), "files": [
            {"sha": hashlib.sha1(name.encode()).hexdigest(), "filename": name, "status": "added",  # noqa: S324
             "additions": 1, "deletions": 0, "changes": 1,
             "raw_url": f"{self.url}/{repository}/raw/{sha}/{name}"} for name in commit["files"]]}).encode()

    def slow(self, path: str, seconds: float) -> None:
        """Answer this path only after `seconds` (0: at once again)."""
        with self.lock:
            self.delays[path] = seconds

    def fail(self, path: str, status: int = 0, headers: dict[str, str] | None = None) -> None:
        """Answer this path with an HTTP error status and these headers (0: normally again)."""
        with self.lock:
            self.failures[path] = status
            self.fail_headers[path] = dict(headers or {})

    def _handler(self):
        feeds = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format, *args):  # noqa: A002 - the base class's signature
                pass

            def do_GET(self):  # noqa: N802 - http.server's name
                path, _, query = self.path.partition("?")
                with feeds.lock:
                    found = feeds.documents.get(path)
                    delay, status = feeds.delays.get(path, 0), feeds.failures.get(path, 0)
                    failing = feeds.fail_headers.get(path, {})
                    feeds.requests.append((path, bool(self.headers.get("If-None-Match"))))
                if delay:
                    time.sleep(delay)
                if status:
                    self.send_response(status)
                    for name, value in failing.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                api = feeds._github(path, query)
                if api == b"":
                    self.send_error(404)
                    return
                if api is not None:
                    found = (api, "application/json; charset=utf-8", time.time())
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

