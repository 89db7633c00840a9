"""Reports and tips in DynamoDB: numbering, optimistic updates, staff queries and the citizen's lookups."""
from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, replace
from datetime import datetime

from pynamodb.exceptions import PutError, UpdateError

from chalicelib.domain.keywords import normalize_text
from chalicelib.domain.reports import (
    SYSTEM_ROOM,
    Event,
    Photo,
    Position,
    Report,
    Room,
    check_room,
    format_number,
    is_unseen,
    report_id_for,
)
from chalicelib.domain.settings import DEFAULT_RETENTION
from chalicelib.store import directory
from chalicelib.store.citizens import decode_cursor, encode_cursor
from chalicelib.store.models import CounterModel, ReportModel

# Closed reports are kept this long, then DynamoDB's TTL removes them (privacy notice, retention): the default of
# the tenant setting retention.closed_reports (docs/privacy.md).
RETENTION_AFTER_CLOSE = DEFAULT_RETENTION.days("closed_reports")
MAX_UPDATE_ATTEMPTS = 5


class Conflict(RuntimeError):
    """The report kept changing under us: the caller may retry the whole request."""


def next_number(tenant_id: str, year: int) -> int:
    """The next report number of a tenant's year, from an atomic counter (numbers never repeat)."""
    counter = CounterModel(f"report-number#{tenant_id}#{year}")
    counter.update(actions=[CounterModel.count.add(1)])
    return int(counter.count)


def open_report(tenant_id: str, kind: str, now: datetime, **fields) -> Report:
    """Number and store a new report (status new)."""
    sequence = next_number(tenant_id, now.year)
    report = Report(tenant_id=tenant_id, report_id=report_id_for(now.year, sequence),
                    number=format_number(now.year, sequence), kind=kind, status="new", created_at=now,
                    updated_at=now, public_token=secrets.token_urlsafe(16), **fields)
    check_room(None, report, SYSTEM_ROOM)
    model = _to_model(report)
    model.save(condition=ReportModel.report_id.does_not_exist())
    return from_model(model)


def get(tenant_id: str, report_id: str) -> Report | None:
    try:
        return from_model(ReportModel.get(tenant_id, report_id))
    except ReportModel.DoesNotExist:
        return None


def get_many(tenant_id: str, report_ids: list[str]) -> dict[str, Report]:
    """The tenant's reports among these ids, by id, in BatchGetItem calls of up to 100 keys (not one read each)."""
    found = ReportModel.batch_get([(tenant_id, report_id) for report_id in dict.fromkeys(report_ids)])
    return {model.report_id: from_model(model) for model in found}


def existing(keys: list[tuple[str, str]]) -> set[tuple[str, str]]:
    """Which of these (tenant, report id) pairs are still stored (BatchGetItem of the keys only)."""
    found = ReportModel.batch_get(keys, attributes_to_get=["tenant_id", "report_id"])
    return {(m.tenant_id, m.report_id) for m in found}


def change(tenant_id: str, report_id: str, edit: Callable[[Report], Report],
           room: Room | None = SYSTEM_ROOM) -> Report | None:
    """Read, apply edit, write back if nobody wrote in between (version check); retried on a race.
    edit may raise to refuse the change; ReportFull when the change would grow the report past room (None: an
    erasure, which must always go through); None when the report does not exist."""
    for _ in range(MAX_UPDATE_ATTEMPTS):
        current = get(tenant_id, report_id)
        if current is None:
            return None
        updated = edit(current)
        if updated == current:
            return current
        if room is not None:
            check_room(current, updated, room)
        model = _to_model(updated)
        try:
            model.save()
            return from_model(model)
        except (PutError, UpdateError) as error:
            if not _is_conditional(error):
                raise
    raise Conflict(report_id)


def page(tenant_id: str, kinds: tuple[str, ...], condition, limit: int, cursor: str | None) -> tuple[list[Report], str | None]:
    """Newest first; condition is a PynamoDB filter built by query_filter()."""
    kind_filter = ReportModel.kind.is_in(*kinds)
    result = ReportModel.query(tenant_id, scan_index_forward=False, limit=limit,
                               filter_condition=kind_filter & condition if condition is not None else kind_filter,
                               last_evaluated_key=decode_cursor(cursor, ("tenant_id", "report_id"), tenant_id), page_size=limit)
    items = [from_model(m) for m in result]
    return items, encode_cursor(result.last_evaluated_key)


def query_filter(status: str | None = None, category: str | None = None, hamlet: str | None = None,
                 team: str | None = None, since: datetime | None = None, until: datetime | None = None,
                 text: str | None = None, assignee: str | None = None, zone: str | None = None):
    """The staff list's filters as one DynamoDB filter expression (None: no filter)."""
    parts = []
    if text and normalize_text(text):
        parts.append(ReportModel.search_text.contains(normalize_text(text)))
    if status:
        parts.append(ReportModel.status.is_in(*status.split(",")))
    if category:
        parts.append(ReportModel.category == category)
    if hamlet:
        parts.append(ReportModel.hamlet == hamlet)
    if team:
        parts.append(ReportModel.team == team)
    if assignee:
        parts.append(ReportModel.assignee == assignee)
    if zone:  # a Vicinato zone: the reports its coordinators forwarded
        parts.append(ReportModel.zone == zone)
    if since:
        parts.append(ReportModel.created_at >= since)
    if until:
        parts.append(ReportModel.created_at < until)
    condition = None
    for part in parts:
        condition = part if condition is None else condition & part
    return condition


def matching(tenant_id: str, kinds: tuple[str, ...], condition, most: int) -> list[Report]:
    """Every report of the kinds matching condition (query_filter), newest first; ValueError past most of them
    (sorting by any column reads them all: a comune's open reports are a few pages)."""
    kind_filter = ReportModel.kind.is_in(*kinds)
    found = []
    for model in ReportModel.query(tenant_id, scan_index_forward=False,
                                   filter_condition=kind_filter & condition if condition is not None else kind_filter):
        if len(found) == most:
            raise ValueError(f"more than {most} reports match: narrow the filters (status, from, to) to sort them")
        found.append(from_model(model))
    return found


def all_of(tenant_id: str, kinds: tuple[str, ...], since: datetime | None = None) -> Iterator[Report]:
    """Every report of the given kinds created since a time, newest first (KPIs, duplicate search)."""
    condition = ReportModel.kind.is_in(*kinds)
    if since is not None:
        condition &= ReportModel.created_at >= since
    for model in ReportModel.query(tenant_id, scan_index_forward=False, filter_condition=condition):
        yield from_model(model)


def unseen(tenant_id: str, kind: str, limit: int) -> tuple[list[Report], int]:
    """The new reports of a kind nobody has opened, oldest first (up to limit), and how many there are: one small
    Query of the sparse index (a second, a count, only past limit)."""
    key = f"{tenant_id}#{kind}"
    items = [from_model(m) for m in ReportModel.by_unseen.query(key, limit=limit, page_size=limit)]
    return items, (len(items) if len(items) < limit else ReportModel.by_unseen.count(key))


def of_reporter(channel_id: str, citizen_key: str, limit: int = 3) -> list[Report]:
    """A citizen's own reports on a channel, newest first."""
    return [from_model(m) for m in ReportModel.by_reporter.query(f"{channel_id}#{citizen_key}",
                                                                  scan_index_forward=False, limit=limit)]


def by_token(token: str) -> Report | None:
    if not token:
        return None
    return next((from_model(m) for m in ReportModel.by_token.query(token, limit=1)), None)


def delete(tenant_id: str, report_id: str) -> None:
    ReportModel(tenant_id, report_id).delete()


def _is_conditional(error: Exception) -> bool:
    cause = getattr(error, "cause_response_code", None)
    return cause == "ConditionalCheckFailedException"


def _to_model(report: Report) -> ReportModel:
    # kept while open (a reopened report too), then the tenant's retention.closed_reports after closing
    closed_at = (report.resolved_at or report.updated_at) if report.status == "resolved" else (
        report.updated_at if report.status in ("rejected", "duplicate") else None)
    return ReportModel(
        report.tenant_id, report.report_id, number=report.number, kind=report.kind, status=report.status,
        source=report.source, channel_id=report.channel_id, citizen_key=report.citizen_key,
        reporter=report.reporter, contact=report.contact or None, text=report.text or None,
        category=report.category, hamlet=report.hamlet,
        position=asdict(report.position) if report.position else None, address=report.address,
        photos=[_photo_item(p) for p in report.photos], team=report.team, assignee=report.assignee,
        assignee_name=report.assignee_name, external=report.external or None,
        outcome=report.outcome, duplicate_of=report.duplicate_of, followers=list(report.followers) or None,
        search_text=_search_text(report), public_token=report.public_token, created_at=report.created_at,
        updated_at=report.updated_at,
        last_citizen_at=report.last_citizen_at, first_response_at=report.first_response_at,
        resolved_at=report.resolved_at, events=[_event_item(e) for e in report.events],
        public_text=report.public_text or None,
        expires_at=closed_at + directory.retention(report.tenant_id).days("closed_reports") if closed_at else None,
        **({"version": report.version} if report.version is not None else {}),  # none yet: a new report
        seen_at=report.seen_at, seen_by=report.seen_by,
        unseen=f"{report.tenant_id}#{report.kind}" if is_unseen(report.status, report.seen_at) else None,
        zone=report.zone,
    )


def from_model(model: ReportModel) -> Report:
    return Report(
        tenant_id=model.tenant_id, report_id=model.report_id, number=model.number, kind=model.kind,
        status=model.status, created_at=model.created_at, updated_at=model.updated_at, source=model.source,
        channel_id=model.channel_id, citizen_key=model.citizen_key, contact=model.contact or {},
        text=model.text or "", category=model.category, hamlet=model.hamlet,
        position=Position(**model.position) if model.position else None, address=model.address,
        photos=tuple(_photo_of(p) for p in model.photos or ()), team=model.team, assignee=model.assignee,
        assignee_name=model.assignee_name, external=model.external or {},
        outcome=model.outcome, duplicate_of=model.duplicate_of, followers=tuple(model.followers or ()),
        public_token=model.public_token, last_citizen_at=model.last_citizen_at,
        first_response_at=model.first_response_at, resolved_at=model.resolved_at,
        events=tuple(_event_of(e) for e in model.events or ()), version=model.version,
        seen_at=model.seen_at, seen_by=model.seen_by, public_text=model.public_text or {}, zone=model.zone,
    )


def _photo_of(item: dict) -> Photo:
    boxes = tuple(tuple(box) for box in item.get("boxes") or ())  # JSON gives lists back
    return Photo(**{**item, "boxes": boxes})


def _search_text(report: Report) -> str:
    """What the staff list's text search looks in, normalised like the query (case and accents aside)."""
    parts = [report.number, report.text, report.address, report.position.address if report.position else None,
             report.contact.get("name")]
    return normalize_text(" ".join(p for p in parts if p))[:2000] or "-"


def _photo_item(photo: Photo) -> dict:
    item = _compact(asdict(photo))
    if not item.get("boxes"):
        item.pop("boxes", None)
    return item


def _compact(item: dict) -> dict:
    return {k: v for k, v in item.items() if v is not None}


def _event_item(event: Event) -> dict:
    return _compact({"at": event.at.isoformat(), "actor": event.actor, "action": event.action,
                     "public": event.public, "note": event.note, "status": event.status, "data": event.data or None})


def _event_of(item: dict) -> Event:
    return Event(at=datetime.fromisoformat(item["at"]), actor=item["actor"], action=item["action"],
                 public=item.get("public", False), note=item.get("note"), status=item.get("status"),
                 data=item.get("data") or {})


def with_event(report: Report, event: Event, **changes) -> Report:
    """The report with one more event and its other changes, stamped with the event's time."""
    return replace(report, events=report.events + (event,), updated_at=event.at, **changes)


def concerning(tenant_id: str, subject: str) -> Iterator[Report]:
    """Every report a citizen ("<channel>#<key>") reported or follows, for erasure."""
    return naming(tenant_id, [subject])


def naming(tenant_id: str, subjects: Iterable[str], phone: str | None = None) -> Iterator[Report]:
    """Every report of a tenant that one person reported or follows (as any of subjects, "<channel>#<key>"), or
    whose contact gives their phone number: erasure and subject access. One Query of the tenant's partition."""
    condition = None
    for subject in subjects:
        part = (ReportModel.reporter == subject) | ReportModel.followers.contains(subject)
        condition = part if condition is None else condition | part
    if phone:
        part = ReportModel.contact.contains(phone)  # the contact is stored as JSON text: a substring match
        condition = part if condition is None else condition | part
    if condition is None:
        return
    for model in ReportModel.query(tenant_id, filter_condition=condition):
        yield from_model(model)
