"""The public view of a report: all that Open311, the citizen portal and the status page may show of it.

Category, hamlet, status, dates, a generalised position, the street without its number, a title and description
(the text a staff member approved, else a default from category and hamlet) and the staff's public notes (contacts
masked); never the citizen's words, name, phone, contact or house number, never a tip. Every public
surface renders this view and nothing else of a report, so the rule has one home.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from chalicelib.domain import disclosure
from chalicelib.domain import reports as rules
from chalicelib.domain.reports import Event, Report
from chalicelib.domain.tenancy import Tenant
from chalicelib.services.reports import wording

STAFF_NOTE_ACTIONS = ("status", "note")  # a staff step or note; a citizen's additions are other actions


@dataclass(frozen=True)
class PublicEvent:
    """One public step: a status change and/or a staff member's public note."""

    index: int  # its place in the report's whole history (a stable id with the report's)
    action: str  # created, status, note
    at: datetime
    status: str | None
    status_label: str | None
    note: str | None


@dataclass(frozen=True)
class PublicReport:
    report_id: str
    number: str
    category: str | None
    category_name: str
    hamlet: str | None
    hamlet_name: str | None
    status: str
    status_label: str
    open: bool
    created_at: datetime
    updated_at: datetime
    resolved_at: datetime | None
    latitude: float | None  # generalised (domain.disclosure.generalised)
    longitude: float | None
    street: str | None  # the street without its number, or None
    title: str  # the approved public title, else the category's name
    description: str  # the approved public description, else category and hamlet
    approved: bool  # whether title and description are a staff member's approved text (not the default)
    agency: str | None  # the external body it was forwarded to
    duplicate_of: str | None  # the original's report id
    events: tuple[PublicEvent, ...]

    @property
    def latest_note(self) -> str | None:
        return next((e.note for e in reversed(self.events) if e.note), None)


def of(tenant: Tenant, report: Report) -> PublicReport:
    """The public view of a report of the tenant; ValueError for a safety tip, which has none."""
    if report.kind != "report":
        raise ValueError("a safety tip has no public view")
    hamlet = tenant.hamlet(report.hamlet) if report.hamlet else None
    category_name = wording.category_label(tenant, report)
    position = report.position
    latitude, longitude = disclosure.generalised(position.latitude, position.longitude) if position else (None, None)
    return PublicReport(
        report_id=report.report_id, number=report.number, category=report.category, category_name=category_name,
        hamlet=hamlet.id if hamlet else None, hamlet_name=hamlet.name if hamlet else None, status=report.status,
        status_label=wording.status_label(tenant, report.status), open=rules.is_open(report.status),
        created_at=report.created_at, updated_at=report.updated_at, resolved_at=report.resolved_at,
        latitude=latitude, longitude=longitude,
        street=disclosure.street_only(report.address) or disclosure.street_only(position.address if position else None),
        **public_text(report, category_name, hamlet.name if hamlet else None),
        agency=report.external.get("name") if report.external else None, duplicate_of=report.duplicate_of,
        events=tuple(_event(tenant, index, e) for index, e in enumerate(report.events) if _shown(e)),
    )


def description(category_name: str, hamlet_name: str | None) -> str:
    """The public description until staff approve a public text: "Strade e marciapiedi — Colle"."""
    return f"{category_name} — {hamlet_name}" if hamlet_name else category_name


def public_text(report: Report, category_name: str, hamlet_name: str | None) -> dict:
    """Title and description as the public reads them: what a staff member approved (contacts masked, like public
    notes), else the default from category and hamlet, public at once. Never the citizen's words."""
    approved = report.public_text
    if approved.get("title") and approved.get("description"):
        return {"title": disclosure.mask_contacts(approved["title"]),
                "description": disclosure.mask_contacts(approved["description"]), "approved": True}
    return {"title": category_name, "description": description(category_name, hamlet_name), "approved": False}


def _shown(event: Event) -> bool:
    return event.public and bool(event.status or _staff_note(event))


def _staff_note(event: Event) -> str | None:
    return event.note if event.action in STAFF_NOTE_ACTIONS and event.note else None


def _event(tenant: Tenant, index: int, event: Event) -> PublicEvent:
    note = _staff_note(event)
    return PublicEvent(index=index, action=event.action, at=event.at, status=event.status,
                       status_label=wording.status_label(tenant, event.status) if event.status else None,
                       note=disclosure.mask_contacts(note) if note else None)
