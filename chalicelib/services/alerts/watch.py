"""Watching the feeds: every comune's official feeds read on their period with conditional GETs (ETag,
Last-Modified), a timeout, and exponential backoff after a failure; a failing or silent feed raises a metric and
shows in the console. A read that fails changes nothing of what was told: the next good read is compared with what
the comune was last told, so nothing is lost while a feed is down."""
from __future__ import annotations

import urllib.error
import urllib.parse
import urllib.request
from dataclasses import replace
from datetime import datetime, timedelta
from http.client import HTTPException

from chalicelib.domain import alerts as rules
from chalicelib.domain.alerts import AlertRefused
from chalicelib.domain.settings import AlertFeed
from chalicelib.domain.tenancy import Tenant
from chalicelib.observability import count, logger
from chalicelib.services import clock
from chalicelib.services.alerts import notify
from chalicelib.store import alerts as store
from chalicelib.store import directory

BACKOFF_MAX = timedelta(hours=1)
SILENT_AFTER = timedelta(hours=26)  # the DPC bulletin comes out daily: a day and a bit with nothing new is silence
DOCUMENTS_PER_READ = 20  # CAP documents fetched from one feed read (the rest at the next)
USER_AGENT = "FiloDiretto-Allerte/1 (+https://github.com/)"


DETAILS_PER_READ = 3  # commits of the DPC repository looked into at one read (GitHub: 60 requests an hour)


class FeedFailed(Exception):
    def __init__(self, message: str, retry_at: datetime | None = None):
        super().__init__(message)
        self.retry_at = retry_at  # a rate-limited answer says when to try again


def run(now: datetime | None = None) -> dict:
    """The schedule: every comune with alerts on, each feed that is due; then the expiry sweep. The newest DPC
    bulletin is looked up once per run and repository, whatever the number of comuni."""
    now = now or clock.now()
    summary = {"read": 0, "failed": 0, "broadcasts": 0}
    found: dict = {}
    for tenant in directory.tenants():
        if not tenant.alerts.enabled:
            continue
        result = watch_tenant(tenant, now, found)
        for key in summary:
            summary[key] += result[key]
    return summary


def watch_tenant(tenant: Tenant, now: datetime, found: dict | None = None) -> dict:
    """`found`: the newest bulletin per repository already looked up in this run (shared by the comuni)."""
    summary = {"read": 0, "failed": 0, "broadcasts": 0}
    for feed in tenant.alerts.feeds:
        state = store.get_feed(tenant.id, feed.id)
        if state.next_at and state.next_at > now.isoformat():
            continue
        ok, outcomes = read_feed(tenant, feed, state, now, found)
        summary["read" if ok else "failed"] += 1
        if _silent(store.get_feed(tenant.id, feed.id), now):
            count("AlertFeedSilent", tenant=tenant.id, feed=feed.id)
            logger.warning("alert feed silent", extra={"tenant": tenant.id, "feed": feed.id})
        summary["broadcasts"] += sum(len(o.planned) for o in outcomes)
    summary["broadcasts"] += sum(len(o.planned) for o in notify.sweep_expired(tenant, now))
    return summary


def read_feed(tenant: Tenant, feed: AlertFeed, state: store.FeedState, now: datetime, memo: dict | None = None):
    """One read of one feed; (True, outcomes) or (False, []) after recording the failure and the next try."""
    try:
        read = state
        if feed.kind == "dpc" and not feed.url:  # the newest bulletin of the repository, then its index
            read = discover(feed, state, now, {} if memo is None else memo)
        url = feed.url or bulletin_url(feed, read.bulletin)
        if read is not state and read.bulletin == state.bulletin and read.source_etag == state.source_etag:
            status, body, headers = 304, b"", {}  # GitHub says nothing new (a 304): the bulletin was read already
        else:
            status, body, headers = fetch(url, read.etag, read.last_modified, feed.timeout_seconds)
        found, entries = [], dict(read.entries)
        if status != 304:
            found, entries = _alerts_of(feed, body, entries)
    except (FeedFailed, AlertRefused) as error:
        failures = state.failures + 1
        backoff = min(timedelta(minutes=feed.every_minutes) * 2 ** (failures - 1), BACKOFF_MAX)
        retry_at = getattr(error, "retry_at", None)
        if retry_at:  # rate limited: not before the time GitHub gave (at most an hour)
            backoff = max(backoff, min(retry_at - now, BACKOFF_MAX))
        store.save_feed(replace(state, checked_at=now.isoformat(), failed_at=now.isoformat(), failures=failures,
                                next_at=(now + backoff).isoformat(), error=str(error)[:300]), now)
        count("AlertFeedFailed", tenant=tenant.id, feed=feed.id)
        logger.error("alert feed failed", extra={"tenant": tenant.id, "feed": feed.id, "failures": failures,
                                                 "error": str(error)[:300]})
        return False, []
    outcomes = notify.handle(tenant, found, now)
    changed = status != 304 and (headers.get("etag", "") != state.etag or read.bulletin != state.bulletin)
    state = read
    store.save_feed(replace(
        state, etag=headers.get("etag", "") if status != 304 else state.etag,
        last_modified=headers.get("last-modified", "") if status != 304 else state.last_modified,
        checked_at=now.isoformat(), ok_at=now.isoformat(), failures=0, error="", entries=entries,
        next_at=(now + timedelta(minutes=feed.every_minutes) - timedelta(seconds=30)).isoformat(),
        alerts=len(found) if status != 304 else state.alerts,
        changed_at=now.isoformat() if changed or not state.changed_at else state.changed_at), now)
    return True, outcomes


def _alerts_of(feed: AlertFeed, body: bytes, entries: dict[str, str]):
    if feed.kind == "dpc":
        from chalicelib.services.alerts.zones import dpc_names

        return rules.dpc_alerts(body, dpc_names()), entries
    listed, found = rules.cap_feed(body)
    fetched = 0
    for entry in listed:
        if entries.get(entry.id) == (entry.updated or "seen") or fetched >= DOCUMENTS_PER_READ:
            continue
        _, document, _ = fetch(entry.link, timeout=feed.timeout_seconds)
        fetched += 1
        try:
            found.append(rules.cap_alert(document))
        except AlertRefused as refused:  # one bad document does not stop the feed
            logger.warning("CAP document refused", extra={"feed": feed.id, "entry": entry.id[:100],
                                                          "error": str(refused)})
        entries[entry.id] = entry.updated or "seen"
    return found, entries


def fetch(url: str, etag: str = "", last_modified: str = "", timeout: float = 10, token: str = "",
          github: bool = False, now: datetime | None = None) -> tuple[int, bytes, dict[str, str]]:
    """A GET with a timeout and a size cap; 304 when the feed says nothing changed. `github`: a call of GitHub's
    REST API (its media type and version; `token` as a bearer, never sent on to a redirect); a rate-limited answer
    (403 or 429 with retry-after or x-ratelimit-reset) fails with the time to try again."""
    headers = {"User-Agent": USER_AGENT, "Accept": "application/json, application/xml, text/xml, */*"}
    if github:
        headers.update({"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": GITHUB_API_VERSION})
        if token:
            headers["Authorization"] = f"Bearer {token}"
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    request = urllib.request.Request(url, headers=headers)
    opener = _NO_REDIRECTS if token else _OPENER
    try:
        with opener.open(request, timeout=timeout) as answer:  # http(s) only, settings
            body = answer.read(rules.MAX_BULLETIN_BYTES + 1)
            if len(body) > rules.MAX_BULLETIN_BYTES:
                raise FeedFailed(f"answer over {rules.MAX_BULLETIN_BYTES} bytes")
            return answer.status, body, {k.lower(): v for k, v in answer.headers.items()}
    except urllib.error.HTTPError as error:
        answered = {k.lower(): v for k, v in (error.headers or {}).items()}
        if error.code == 304:
            return 304, b"", answered
        retry_at = rules.retry_after(answered, now or clock.now()) if github and error.code in (403, 429) else None
        if retry_at:
            raise FeedFailed(f"HTTP {error.code}: GitHub rate limit, next try after {retry_at:%H:%M} UTC",
                             retry_at) from None
        raise FeedFailed(f"HTTP {error.code}") from None
    except (OSError, HTTPException, ValueError) as error:  # timeouts, refused connections, bad URLs
        raise FeedFailed(f"{type(error).__name__}: {error}"[:300]) from None


class _Unredirected(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):  # a token goes to the URL configured only
        return None


_OPENER = urllib.request.build_opener()
_NO_REDIRECTS = urllib.request.build_opener(_Unredirected)
GITHUB_API_VERSION = "2022-11-28"


def bulletin_url(feed: AlertFeed, stamp: str) -> str:
    return f"{feed.raw_url.rstrip('/')}/{feed.repository}/{feed.branch}/files/{stamp}.json"


def discover(feed: AlertFeed, state: store.FeedState, now: datetime, memo: dict) -> store.FeedState:
    """The newest bulletin of the feed's repository, by GitHub's REST API: the last commits touching files/ (a
    conditional GET: a 304 when nothing was committed), then, newest first, the files of the commits not looked
    into before until one holds a files/<stamp>.json (at most DETAILS_PER_READ). The stamp never goes back: a
    re-issue the same day has a later time, and an old file touched again is not newer. Returns the state with the
    bulletin found (its index's ETag dropped when it is another file); FeedFailed when GitHub fails or is rate
    limited. Looked up once per run and repository (`memo`): the other comuni take the stamp found."""
    key = (feed.api_url, feed.repository, feed.branch)
    if key in memo:
        known = memo[key]
        if isinstance(known, FeedFailed):
            raise known
        return _with_bulletin(state, rules.newest_stamp(state.bulletin, known) or "", state.source_etag)
    try:
        found = _look_up(feed, state, now)
    except FeedFailed as error:
        memo[key] = error
        raise
    memo[key] = found.bulletin
    return found


def _look_up(feed: AlertFeed, state: store.FeedState, now: datetime) -> store.FeedState:
    from chalicelib.settings import get_settings

    token = get_settings().github_token() if feed.api_url.startswith("https://") else ""  # never in clear
    base = f"{feed.api_url.rstrip('/')}/repos/{feed.repository}"
    query = urllib.parse.urlencode({"path": "files", "sha": feed.branch, "per_page": rules.COMMITS_LISTED})
    try:
        status, body, headers = fetch(f"{base}/commits?{query}", state.source_etag, timeout=feed.timeout_seconds,
                                      token=token, github=True, now=now)
        if status == 304:
            return replace(state)  # a copy: nothing new, the bulletin known was read already
        entries, stamps, complete = dict(state.entries), [], True
        looked = 0
        for sha in rules.github_commits(body):
            if sha in entries:
                if entries[sha]:
                    stamps.append(entries[sha])
                    break
                continue
            if looked >= DETAILS_PER_READ:
                complete = False  # the rest at the next read (the list's ETag is not kept: it is read again)
                break
            _, detail, _ = fetch(f"{base}/commits/{sha}", timeout=feed.timeout_seconds, token=token, github=True,
                                 now=now)
            looked += 1
            entries[sha] = rules.newest_stamp(*rules.github_bulletin_stamps(detail)) or ""
            if entries[sha]:
                stamps.append(entries[sha])
                break
    except AlertRefused as refused:
        raise FeedFailed(f"GitHub answer refused: {refused}") from None
    newest = rules.newest_stamp(state.bulletin, *stamps)
    if not newest:
        raise FeedFailed(f"no files/<stamp>.json in the last commits of {feed.repository}")
    found = _with_bulletin(state, newest, headers.get("etag", "") if complete else "")
    return replace(found, entries=entries)


def _with_bulletin(state: store.FeedState, stamp: str, source_etag: str) -> store.FeedState:
    if stamp == state.bulletin:
        return replace(state, source_etag=source_etag)
    return replace(state, bulletin=stamp, source_etag=source_etag, etag="", last_modified="")


def _silent(state: store.FeedState, now: datetime) -> bool:
    """No good read, or nothing new, for SILENT_AFTER: the feed may have moved or stopped."""
    last = state.changed_at or state.ok_at
    return bool(last) and now - datetime.fromisoformat(last) > SILENT_AFTER


def feeds_status(tenant: Tenant, now: datetime | None = None) -> list[dict]:
    """Each feed's state as the console shows it: ok, failing (with the error and next try) or silent."""
    now = now or clock.now()
    out = []
    for feed in tenant.alerts.feeds:
        state = store.get_feed(tenant.id, feed.id)
        silent = _silent(state, now)
        status = "failing" if state.failures else "silent" if silent else "ok" if state.ok_at else "waiting"
        url = feed.url or (bulletin_url(feed, state.bulletin) if state.bulletin else
                           f"https://github.com/{feed.repository}")
        out.append({"id": feed.id, "kind": feed.kind, "url": url, "status": status,
                    "ok_at": state.ok_at or None, "checked_at": state.checked_at or None,
                    "failures": state.failures, "error": state.error or None, "next_at": state.next_at or None,
                    "alerts": state.alerts})
    return out
