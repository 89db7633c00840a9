"""Staff correct what automation guessed (category, hamlet, position, address) and decide what goes public: the
public title and description, and the boxes painted over faces and plates on a photo's public copy.

Every correction is an internal timeline entry and an audit entry. The citizen's own words stay in the office: the
public surfaces show the text a staff member approved here, else the default from category and hamlet
(services/reports/public_view.py).
"""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from chalicelib.domain import geo
from chalicelib.domain import reports as rules
from chalicelib.domain.access import Staff
from chalicelib.domain.reports import Event, NotAllowed, Position, Report
from chalicelib.domain.tenancy import Tenant
from chalicelib.services import access, clock
from chalicelib.services.access import NotFound
from chalicelib.services.reports import desk
from chalicelib.services.reports.desk import DeskPosition, InvalidReport
from chalicelib.store import reports as store

PUBLIC_COPY_MAX_BYTES = 20 * 1024 * 1024  # a stripped copy of a photo of at most 16 MB: never more is read


class Correction(BaseModel):
    """What staff correct of a report; only the fields given change. A position may be given without a hamlet: the
    hamlet then follows the pin when the pin falls in one."""

    model_config = ConfigDict(extra="forbid")
    category: str | None = Field(default=None, min_length=1, max_length=64)
    hamlet: str | None = Field(default=None, min_length=1, max_length=64)
    position: DeskPosition | None = None
    address: str | None = Field(default=None, min_length=1, max_length=300)

    @model_validator(mode="after")
    def _something(self) -> Correction:
        if not self.model_fields_set - {name for name in rules.CORRECTABLE if getattr(self, name) is None}:
            raise ValueError(f"give at least one of {', '.join(rules.CORRECTABLE)}")
        return self

    @field_validator("address")
    @classmethod
    def _not_blank(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError("must not be blank")
        return value.strip() if value else value


class PublicText(BaseModel):
    """The title and description the public reads instead of the citizen's words; approved by sending it."""

    model_config = ConfigDict(extra="forbid")
    title: str = Field(min_length=3, max_length=rules.MAX_PUBLIC_TITLE)
    description: str = Field(min_length=3, max_length=rules.MAX_PUBLIC_DESCRIPTION)

    @field_validator("title", "description")
    @classmethod
    def _stripped(cls, value: str) -> str:
        if len(value.strip()) < 3:
            raise ValueError("must have at least 3 characters besides spaces")
        return value.strip()


class Box(BaseModel):
    """A rectangle over the picture as displayed, in fractions of its width and height from the top left corner."""

    model_config = ConfigDict(extra="forbid")
    x: float = Field(ge=0, le=1)
    y: float = Field(ge=0, le=1)
    width: float = Field(gt=0, le=1)
    height: float = Field(gt=0, le=1)

    @model_validator(mode="after")
    def _inside(self) -> Box:
        if self.x + self.width > 1.0001 or self.y + self.height > 1.0001:
            raise ValueError("a box must lie inside the picture (x + width and y + height at most 1)")
        return self


class Redaction(BaseModel):
    """The boxes to paint over a photo's public copy; none: the public copy is shown as it is again."""

    model_config = ConfigDict(extra="forbid")
    boxes: list[Box] = Field(max_length=rules.MAX_BOXES)


# ---- corrections ----------------------------------------------------------------------------------------------

def correct(staff: Staff, report_id: str, request: Correction) -> dict:
    """Apply staff's corrections, each a timeline entry (internal) and an audit entry."""
    report, updated = apply_corrections(staff, report_id, request)
    for name in rules.CORRECTABLE:  # what changed, a hamlet that followed the pin included; nothing for a no-op
        if _shown(getattr(updated, name)) != _shown(getattr(report, name)):
            access.record(staff, f"report.correct.{name}", report.report_id)
    return desk.answer(staff, updated)


def apply_corrections(staff: Staff, report_id: str, request: Correction) -> tuple[Report, Report]:
    """The report before and after staff's corrections (each an internal timeline entry), unaudited: the caller
    records what it did (one correction, or a bulk action's step)."""
    tenant = access.tenant_of(staff)
    report = desk.visible(staff, report_id)
    changes = _checked_changes(tenant, report, request)
    now = clock.now()

    def edit(current: Report) -> Report:
        for name, value in changes.items():
            current = corrected(current, name, value, staff.subject, now)
        if "position" in changes and "hamlet" not in changes:
            current = _hamlet_from_pin(tenant, current, staff.subject, now)
        return current
    return report, store.change(tenant.id, report.report_id, edit, room=rules.STAFF_ROOM)


def corrected(report: Report, name: str, value: Any, actor: str, now: datetime) -> Report:
    """The report with one field corrected and its internal timeline entry; as it was when nothing changes."""
    before = _shown(getattr(report, name))
    if name == "position":
        value = Position(value.latitude, value.longitude, report.position.address if report.position else None)
    if _shown(value) == before:
        return report
    event = Event(at=now, actor=actor, action="corrected", data={"field": name, "from": before, "to": _shown(value)})
    return store.with_event(report, event, **{name: value})


def _checked_changes(tenant: Tenant, report: Report, request: Correction) -> dict[str, Any]:
    """The fields to change, each checked against the comune; InvalidReport naming the field otherwise."""
    given = {name: getattr(request, name) for name in rules.CORRECTABLE if getattr(request, name) is not None}
    if "category" in given:
        if report.kind != "report":
            raise InvalidReport("a safety tip has no category", "category")
        if not tenant.reports.category(given["category"]):
            raise InvalidReport(f"unknown category {given['category']!r}", "category")
    if "hamlet" in given and not tenant.hamlet(given["hamlet"]):
        raise InvalidReport(f"unknown hamlet {given['hamlet']!r}", "hamlet")
    position = given.get("position")
    if position is not None and geo.is_outside(position.latitude, position.longitude, tenant.hamlets):
        raise InvalidReport("the position is outside the comune's area", "position")
    return given


def _hamlet_from_pin(tenant: Tenant, report: Report, actor: str, now: datetime) -> Report:
    hamlet = geo.hamlet_id_at(report.position.latitude, report.position.longitude, tenant.hamlets)
    return corrected(report, "hamlet", hamlet, actor, now) if hamlet else report


def _shown(value: Any) -> Any:
    """A value as the timeline records it."""
    if isinstance(value, Position):
        return {"latitude": value.latitude, "longitude": value.longitude}
    if isinstance(value, DeskPosition):
        return {"latitude": value.latitude, "longitude": value.longitude}
    return value


# ---- the public text ------------------------------------------------------------------------------------------

def approve_public_text(staff: Staff, report_id: str, request: PublicText) -> dict:
    """The text the public reads from now on (portal, Open311, the status page); an internal timeline entry and an
    audit entry. A tip has no public text."""
    tenant = access.tenant_of(staff)
    report = desk.visible(staff, report_id)
    if report.kind != "report":
        raise NotAllowed("a safety tip is never public")
    now = clock.now()
    approved = {"title": request.title, "description": request.description, "by": staff.subject,
                "at": now.isoformat()}

    def edit(current: Report) -> Report:
        if {k: current.public_text.get(k) for k in ("title", "description")} == \
                {"title": request.title, "description": request.description}:
            return current
        event = Event(at=now, actor=staff.subject, action="public_text", note=request.title,
                      data={"description": request.description})
        return store.with_event(current, event, public_text=approved)
    updated = store.change(tenant.id, report.report_id, edit, room=rules.STAFF_ROOM)
    access.record(staff, "report.public_text.approve", report.report_id)
    return desk.answer(staff, updated)


# ---- photos -------------------------------------------------------------------------------------------------

def redact_photo(staff: Staff, report_id: str, photo_id: str, request: Redaction) -> dict:
    """Paint the boxes over a copy of the photo's public copy (without metadata) and keep it as the copy the portal
    shows; the original and the public copy stay untouched. No boxes: the public copy is shown as it is again."""
    from chalicelib.domain import images
    from chalicelib.store import media

    report = desk.visible(staff, report_id)
    if report.kind != "report":
        raise NotAllowed("the photos of a safety tip are never published")
    photo = next((p for p in report.photos if p.id == photo_id and p.kind == "image"), None)
    if photo is None:
        raise NotFound("photo")
    if photo.status != "stored" or not photo.public_key:
        raise NotAllowed("only a stored photo with its public copy can be published")
    boxes = tuple((b.x, b.y, b.width, b.height) for b in request.boxes)
    redacted_key = None
    if boxes:
        covered = images.redact(media.read(photo.public_key, PUBLIC_COPY_MAX_BYTES), boxes)
        redacted_key = media.put_redacted(photo.public_key, covered, photo.content_type or "image/jpeg")
    now = clock.now()

    def edit(current: Report) -> Report:
        photos = tuple(replace(p, redacted_key=redacted_key, boxes=boxes) if p.id == photo_id else p
                       for p in current.photos)
        event = Event(at=now, actor=staff.subject, action="photo_redacted", data={"photo": photo_id, "boxes": len(boxes)})
        return store.with_event(current, event, photos=photos)
    updated = store.change(report.tenant_id, report.report_id, edit)
    if not boxes and photo.redacted_key:
        media.delete_keys([photo.redacted_key])
    access.record(staff, "report.photo.redact", f"{report.report_id}/{photo_id}")
    return desk.answer(staff, updated)
