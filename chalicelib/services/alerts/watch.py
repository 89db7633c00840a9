"""Watching the feeds: every comune's official feeds read on their period with conditional GETs (ETag,
Last-Modified), a timeout, and exponential backoff after a failure; a failing or silent feed raises a metric and
shows in the console. A read that fails changes nothing of what was told: the next good read is compared with what
the comune was last told, so nothing is lost while a feed is down."""
from __future__ import annotations

import urllib.error
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


class FeedFailed(Exception):
    pass


def run(now: datetime | None = None) -> dict:
    """The schedule: every comune with alerts on, each feed that is due; then the expiry sweep."""
    now = now or clock.now()
    summary = {"read": 0, "failed": 0, "broadcasts": 0}
    for tenant in directory.tenants():
        if not tenant.alerts.enabled:
            continue
        result = watch_tenant(tenant, now)
        for key in summary:
            summary[key] += result[key]
    return summary


def watch_tenant(tenant: Tenant, now: datetime) -> dict:
    summary = {"read": 0, "failed": 0, "broadcasts": 0}
    for feed in tenant.alerts.feeds:
        state = store.get_feed(tenant.id, feed.id)
        if state.next_at and state.next_at > now.isoformat():
            continue
        ok, outcomes = read_feed(tenant, feed, state, now)
        summary["read" if ok else "failed"] += 1
        if _silent(store.get_feed(tenant.id, feed.id), now):
            count("AlertFeedSilent", tenant=tenant.id, feed=feed.id)
            logger.warning("alert feed silent", extra={"tenant": tenant.id, "feed": feed.id})
        summary["broadcasts"] += sum(len(o.planned) for o in outcomes)
    summary["broadcasts"] += sum(len(o.planned) for o in notify.sweep_expired(tenant, now))
    return summary


def read_feed(tenant: Tenant, feed: AlertFeed, state: store.FeedState, now: datetime):
    """One read of one feed; (True, outcomes) or (False, []) after recording the failure and the next try."""
    try:
        status, body, headers = fetch(feed.url, state.etag, state.last_modified, feed.timeout_seconds)
        found, entries = [], dict(state.entries)
        if status != 304:
            found, entries = _alerts_of(feed, body, entries)
    except (FeedFailed, AlertRefused) as error:
        failures = state.failures + 1
        backoff = min(timedelta(minutes=feed.every_minutes) * 2 ** (failures - 1), BACKOFF_MAX)
        store.save_feed(replace(state, checked_at=now.isoformat(), failed_at=now.isoformat(), failures=failures,
                                next_at=(now + backoff).isoformat(), error=str(error)[:300]), now)
        count("AlertFeedFailed", tenant=tenant.id, feed=feed.id)
        logger.error("alert feed failed", extra={"tenant": tenant.id, "feed": feed.id, "failures": failures,
                                                 "error": str(error)[:300]})
        return False, []
    outcomes = notify.handle(tenant, found, now)
    changed = status != 304 and headers.get("etag", "") != state.etag
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


def fetch(url: str, etag: str = "", last_modified: str = "", timeout: float = 10) -> tuple[int, bytes, dict[str, str]]:
    """A GET with a timeout and a size cap; 304 when the feed says nothing changed."""
    headers = {"User-Agent": USER_AGENT, "Accept": "application/json, application/xml, text/xml, */*"}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:  # noqa: S310 - http(s) only, settings
            body = answer.read(rules.MAX_BULLETIN_BYTES + 1)
            if len(body) > rules.MAX_BULLETIN_BYTES:
                raise FeedFailed(f"answer over {rules.MAX_BULLETIN_BYTES} bytes")
            return answer.status, body, {k.lower(): v for k, v in answer.headers.items()}
    except urllib.error.HTTPError as error:
        if error.code == 304:
            return 304, b"", {}
        raise FeedFailed(f"HTTP {error.code}") from None
    except (OSError, HTTPException, ValueError) as error:  # timeouts, refused connections, bad URLs
        raise FeedFailed(f"{type(error).__name__}: {error}"[:300]) from None


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
        out.append({"id": feed.id, "kind": feed.kind, "url": feed.url, "status": status,
                    "ok_at": state.ok_at or None, "checked_at": state.checked_at or None,
                    "failures": state.failures, "error": state.error or None, "next_at": state.next_at or None,
                    "alerts": state.alerts})
    return out
