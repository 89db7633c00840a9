"""Allerte's records (table `alerts`): a series as last told to a comune, with the conditional write that makes
each version count once; the feeds' state; CAP identifiers' series. Bounded: a series keeps its last HISTORY_MAX
versions, a feed its last ENTRIES_MAX entries seen."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from pynamodb.exceptions import DoesNotExist, PutError, UpdateError

from chalicelib.store.models import AlertModel

HISTORY_MAX = 30  # versions of one series kept
ENTRIES_MAX = 300  # a CAP feed's entries remembered (id -> updated), so an unchanged entry is not fetched again
KEEP = timedelta(days=400)  # a series record outlives its alert by this (the console's history)
LISTED_MAX = 200


@dataclass(frozen=True)
class Series:
    """What a comune was last told of an alert series."""

    tenant_id: str
    series: str
    fingerprint: str
    levels: dict[str, str]  # hamlet -> level, as last read
    told: dict[str, str]  # hamlet -> level a notice (draft or sent) was made for, not yet ended
    hazard: str
    source: str
    identifier: str
    sent: str
    expires: str | None
    headline: str
    link: str
    active: bool
    zones: dict[str, str] = field(default_factory=dict)  # the comune's zone codes / geocodes -> level, as last read
    pending: list[dict] = field(default_factory=list)  # broadcasts planned and not yet written
    history: list[dict] = field(default_factory=list)  # newest last: {at, identifier, msg_type, levels, broadcasts}
    updated_at: str = ""


def _series(m: AlertModel) -> Series:
    d = m.data or {}
    return Series(
        tenant_id=m.tenant_id, series=m.alert_key.removeprefix("series#"), fingerprint=m.fingerprint or "",
        levels=d.get("levels", {}), told=d.get("told", {}), hazard=d.get("hazard", ""), source=d.get("source", ""),
        identifier=d.get("identifier", ""), sent=d.get("sent", ""), expires=d.get("expires"),
        headline=d.get("headline", ""), link=d.get("link", ""), active=bool(m.active),
        zones=d.get("zones", {}), pending=m.pending or [], history=d.get("history", []), updated_at=m.updated_at or "")


def get_series(tenant_id: str, series: str) -> Series | None:
    try:
        return _series(AlertModel.get(tenant_id, f"series#{series}", consistent_read=True))
    except DoesNotExist:
        return None


def record_version(new: Series, expected_fingerprint: str | None, now: datetime) -> bool:
    """Write a series' new version only if nobody wrote another since it was read (the fingerprint read, or no
    record at all): two pollers, or a feed read twice at once, never both tell citizens. False if it had moved."""
    data = {"levels": new.levels, "told": new.told, "hazard": new.hazard, "source": new.source,
            "identifier": new.identifier, "sent": new.sent, "expires": new.expires, "headline": new.headline,
            "link": new.link, "zones": new.zones, "history": new.history[-HISTORY_MAX:]}
    end = _parse(new.expires) or now
    model = AlertModel(new.tenant_id, f"series#{new.series}", data=data, fingerprint=new.fingerprint,
                       active=new.active, pending=new.pending or None, updated_at=now.isoformat(),
                       expires_at=max(end, now) + KEEP)
    condition = (AlertModel.alert_key.does_not_exist() if expected_fingerprint is None
                 else AlertModel.fingerprint == expected_fingerprint)
    try:
        model.save(condition=condition)
        return True
    except PutError as error:
        if error.cause_response_code == "ConditionalCheckFailedException":
            return False
        raise


def clear_pending(tenant_id: str, series: str, fingerprint: str) -> None:
    """The planned broadcasts are written: forget them (only if the version is still the one that planned them)."""
    try:
        AlertModel(tenant_id, f"series#{series}").update(
            actions=[AlertModel.pending.remove()], condition=AlertModel.fingerprint == fingerprint)
    except UpdateError as error:
        if error.cause_response_code != "ConditionalCheckFailedException":
            raise


def series_page(tenant_id: str, limit: int = LISTED_MAX, active_only: bool = False) -> list[Series]:
    """The comune's series, newest key first (keys start with the day for DPC)."""
    condition = AlertModel.active == True if active_only else None  # noqa: E712 - a PynamoDB condition
    found = AlertModel.query(tenant_id, AlertModel.alert_key.startswith("series#"), filter_condition=condition,
                             scan_index_forward=False, page_size=100)
    out = []
    for m in found:
        out.append(_series(m))
        if len(out) >= min(limit, LISTED_MAX):
            break
    return out


def series_of_reference(tenant_id: str, identifier: str) -> str | None:
    try:
        return (AlertModel.get(tenant_id, f"ref#{identifier[:400]}").data or {}).get("series")
    except DoesNotExist:
        return None


def remember_reference(tenant_id: str, identifier: str, series: str, now: datetime) -> None:
    AlertModel(tenant_id, f"ref#{identifier[:400]}", data={"series": series}, updated_at=now.isoformat(),
               expires_at=now + KEEP).save()


@dataclass(frozen=True)
class FeedState:
    tenant_id: str
    feed_id: str
    etag: str = ""
    last_modified: str = ""
    checked_at: str = ""
    ok_at: str = ""
    failed_at: str = ""
    failures: int = 0
    next_at: str = ""
    error: str = ""
    entries: dict[str, str] = field(default_factory=dict)
    alerts: int = 0  # alerts read at the last successful read
    changed_at: str = ""  # the last read that brought something new (not a 304, another ETag)
    source_etag: str = ""  # dpc found through GitHub: the ETag of the list of commits last read
    bulletin: str = ""  # dpc found through GitHub: the stamp (YYYYMMDD_HHMM) of the bulletin last read


def get_feed(tenant_id: str, feed_id: str) -> FeedState:
    try:
        m = AlertModel.get(tenant_id, f"feed#{feed_id}", consistent_read=True)
    except DoesNotExist:
        return FeedState(tenant_id, feed_id)
    d = m.data or {}
    return FeedState(tenant_id, feed_id, **{k: d[k] for k in ("etag", "last_modified", "checked_at", "ok_at",
                                                               "failed_at", "failures", "next_at", "error",
                                                               "entries", "alerts", "changed_at", "source_etag",
                                                               "bulletin") if k in d})


def save_feed(state: FeedState, now: datetime) -> None:
    entries = dict(list(state.entries.items())[-ENTRIES_MAX:])
    data = {"etag": state.etag[:300], "last_modified": state.last_modified[:100], "checked_at": state.checked_at,
            "ok_at": state.ok_at, "failed_at": state.failed_at, "failures": state.failures, "next_at": state.next_at,
            "error": state.error[:300], "entries": entries, "alerts": state.alerts,
            "changed_at": state.changed_at, "source_etag": state.source_etag[:300], "bulletin": state.bulletin[:20]}
    AlertModel(state.tenant_id, f"feed#{state.feed_id}", data=data, updated_at=now.isoformat()).save()


def _parse(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
