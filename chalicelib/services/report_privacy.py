"""A citizen's erasure reaches their reports: the report stays (a public-interest record of a pothole or a
tip), who sent it goes. Contact, reporter key and follower entries are removed, the photos they sent are
deleted; an event says so."""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from chalicelib.domain.reports import Event, Report
from chalicelib.store import media
from chalicelib.store import reports as store


def forget_citizen(tenant_id: str, channel_id: str, citizen_key: str, actor: str, now: datetime) -> int:
    """Anonymise every report of the tenant the citizen reported or follows; returns how many changed."""
    subject = f"{channel_id}#{citizen_key}"
    changed = 0
    for report in list(store.concerning(tenant_id, subject)):
        if report.reporter == subject and report.photos:
            media.delete_report_media(tenant_id, report.report_id)
        store.change(tenant_id, report.report_id, lambda current: _without(current, subject, actor, now))
        changed += 1
    return changed


def _without(report: Report, subject: str, actor: str, now: datetime) -> Report:
    event = Event(at=now, actor=actor, action="anonymised")
    if report.reporter == subject:
        erased = tuple(replace(p, status="erased", original_key=None, public_key=None) for p in report.photos)
        report = replace(report, channel_id=None, citizen_key=None, contact={}, photos=erased)
    return store.with_event(report, event, followers=tuple(f for f in report.followers if f != subject))
