"""A citizen's erasure reaches their reports: the report stays (a public-interest record of a pothole or a
tip), who sent it goes. Contact, reporter key and follower entries are removed, the photos they sent are
deleted; an event says so."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime

from chalicelib.domain.reports import Event, Report
from chalicelib.store import media
from chalicelib.store import reports as store


def forget_citizen(tenant_id: str, channel_id: str, citizen_key: str, actor: str, now: datetime) -> int:
    """Anonymise every report of the tenant the citizen reported or follows; returns how many changed."""
    return forget(tenant_id, [f"{channel_id}#{citizen_key}"], None, actor, now)


def forget(tenant_id: str, subjects: Iterable[str], phone: str | None, actor: str, now: datetime) -> int:
    """Anonymise every report of the tenant one person reported or follows, as any of subjects
    ("<channel>#<key>"), or whose contact gives their phone number (desk and Open311 reports); returns how many
    changed. Photos of the reports they sent are deleted from S3 before the report forgets them."""
    subjects = frozenset(subjects)
    changed = 0
    for report in list(store.naming(tenant_id, subjects, phone)):
        if _sent_by(report, subjects, phone) and report.photos:
            media.delete_report_media(tenant_id, report.report_id)
        # never refused for room (GDPR art. 17): it adds one event without text and takes the citizen out
        store.change(tenant_id, report.report_id, lambda current: _without(current, subjects, phone, actor, now),
                     room=None)
        changed += 1
    return changed


def _sent_by(report: Report, subjects: frozenset[str], phone: str | None) -> bool:
    return report.reporter in subjects or bool(phone and report.contact.get("phone") == phone)


def _without(report: Report, subjects: frozenset[str], phone: str | None, actor: str, now: datetime) -> Report:
    event = Event(at=now, actor=actor, action="anonymised")
    if _sent_by(report, subjects, phone):
        erased = tuple(replace(p, status="erased", original_key=None, public_key=None, redacted_key=None,
                                 boxes=(), published=False) for p in report.photos)
        report = replace(report, channel_id=None, citizen_key=None, contact={}, photos=erased)
    return store.with_event(report, event, followers=tuple(f for f in report.followers if f not in subjects))
