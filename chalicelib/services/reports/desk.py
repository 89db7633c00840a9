"""Staff work on reports and tips: list, read, move through the lifecycle, notes, forward, merge, desk entry."""
from __future__ import annotations

from dataclasses import asdict, replace
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from chalicelib.domain import geo
from chalicelib.domain import reports as rules
from chalicelib.domain.access import Staff
from chalicelib.domain.phones import InvalidPhone, normalize
from chalicelib.domain.reports import Event, NotAllowed, Position, Report
from chalicelib.domain.tenancy import Tenant
from chalicelib.services import access, clock
from chalicelib.services.access import Forbidden, NotFound
from chalicelib.services.reports import arrivals, deadlines, feedback, updates
from chalicelib.store import directory
from chalicelib.store import reports as store
from chalicelib.store import staff as staff_store

PHOTO_LINK_SECONDS = 300  # staff's presigned links
FORWARD_LINK_SECONDS = 7 * 24 * 3600  # the external body's links: SigV4's longest


class InvalidReport(ValueError):
    """A request that names something the tenant does not have (category, team, body, hamlet); field names the
    request's field at fault, when there is one (the console words it for staff)."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


class Transition(BaseModel):
    model_config = ConfigDict(extra="forbid")  # a field the API does not take is an error, not ignored
    to: Literal[rules.STATUSES]  # an unknown status is invalid (422); a step the lifecycle refuses is a 409
    note: str | None = Field(default=None, max_length=2000)
    # absent: the step's own default (domain.reports.PUBLIC_BY_DEFAULT), never "always public"
    public: bool | None = None
    team: str | None = None
    external_body: str | None = None
    external_reference: str | None = Field(default=None, max_length=120)
    outcome: str | None = None
    category: str | None = None


class Note(BaseModel):
    model_config = ConfigDict(extra="forbid")
    note: str = Field(min_length=1, max_length=2000)
    public: bool = False


class Merge(BaseModel):
    model_config = ConfigDict(extra="forbid")
    into: str = Field(min_length=1, max_length=40)


class DeskPosition(BaseModel):
    model_config = ConfigDict(extra="forbid")
    latitude: float = Field(ge=-90, le=90)
    longitude: float = Field(ge=-180, le=180)


class DeskContact(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(default=None, max_length=120)
    phone: str | None = Field(default=None, max_length=40)
    email: str | None = Field(default=None, max_length=200)
    updates_on_whatsapp: bool = False  # the citizen asked to follow the report on WhatsApp


DESK_PHOTOS = 3
DESK_PHOTO_MAX_BYTES = 1_250_000  # each, decoded: the console shrinks photos to 1600 px before sending (as the portal)


class DeskPhoto(BaseModel):
    model_config = ConfigDict(extra="forbid")
    data: str = Field(max_length=1_700_000, description="The image file in base64 (a data: URL prefix is allowed).")


class DeskReport(BaseModel):
    """A report taken at the desk, by phone or by email."""

    model_config = ConfigDict(extra="forbid")  # status, number, tenant... are never the caller's to set

    kind: Literal["report", "safety"] = "report"
    source: Literal["desk", "phone", "email"]
    text: str = Field(min_length=3, max_length=4000)
    category: str | None = None
    hamlet: str | None = None
    address: str | None = Field(default=None, max_length=300)
    position: DeskPosition | None = None
    contact: DeskContact | None = None
    photos: list[DeskPhoto] = Field(default_factory=list, max_length=DESK_PHOTOS,
                                    description="Photos the citizen brought or emailed, checked like WhatsApp's.")

    @field_validator("text")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank")
        return value.strip()


def visible_kinds(staff: Staff, kind: str | None = None) -> tuple[str, ...]:
    kinds = tuple(k for k in rules.KINDS if staff.may_read_report(k))
    if kind is not None:
        if kind not in rules.KINDS:
            raise InvalidReport(f"kind must be one of {', '.join(rules.KINDS)}", "kind")
        if kind not in kinds:
            raise Forbidden(kind)
        kinds = (kind,)
    if not kinds:
        raise Forbidden("reports")
    return kinds


def check_statuses(statuses: str | None) -> None:
    """A list's status filter: one status, or several separated by commas."""
    if statuses and not set(statuses.split(",")) <= set(rules.STATUSES):
        raise InvalidReport(f"status must be one or more of {', '.join(rules.STATUSES)}, separated by commas", "status")


def list_reports(staff: Staff, kind: str | None, filters: dict[str, Any], limit: int, cursor: str | None,
                 sort: str | None = None, due: str | None = None) -> dict:
    """Newest first; sorted by a column (sort) or only the overdue or due soon (due): services/reports/deadlines."""
    kinds = visible_kinds(staff, kind)
    check_statuses(filters.get("status"))
    condition = store.query_filter(**filters)
    tenant, now = directory.get_tenant(staff.tenant_id), clock.now()
    if tenant is None:  # a comune not (or no longer) set up has no reports
        return {"items": [], "next": None}
    if sort or due:
        try:
            items, next_cursor = deadlines.page(tenant, kinds, condition, due, sort, limit, cursor, now)
        except deadlines.BadListing as error:
            raise InvalidReport(str(error), error.field) from None
    else:
        items, next_cursor = store.page(staff.tenant_id, kinds, condition, limit, cursor)
    calendar = deadlines.calendar_of(tenant)
    return {"items": [{**summary(r), **deadlines.shown(tenant, r, now, calendar)} for r in items], "next": next_cursor}


def read(staff: Staff, report_id: str, request_id: str | None = None) -> dict:
    report = _visible(staff, report_id)
    access.record(staff, "report.read", report.report_id, request_id)
    report = arrivals.mark_seen(staff, report)  # off the new arrivals once opened
    return answer(staff, report, request_id)


def answer(staff: Staff, report: Report, request_id: str | None = None) -> dict:
    """A report in full as staff see it; a tip also names the registered resident who sent it (what the police
    registered: name, address, hamlet, number), a read of personal data that is audited before it leaves."""
    shown = {**detail(report), **deadlines.shown(access.tenant_of(staff), report, clock.now())}
    _name_actors(staff.tenant_id, shown["events"])
    if report.kind == "safety":
        shown["resident"] = _resident(staff, report, request_id)
    else:
        shown["public"] = _public(staff, report)
    return shown


SYSTEM_ACTORS = ("citizen", "system")  # besides "external:<body>": timeline actors that are not staff


def _name_actors(tenant_id: str, events: list[dict]) -> None:
    """Each staff actor of the timeline by their display name (the roster's, one query), never by their id."""
    if not any(e["actor"] not in SYSTEM_ACTORS and ":" not in e["actor"] for e in events):
        return
    names = {m.subject: m.name for m in staff_store.of_tenant(tenant_id)}
    for event in events:
        if event["actor"] in names:
            event["actor_name"] = names[event["actor"]]


def _public(staff: Staff, report: Report) -> dict:
    """What the public reads of the report now: the approved text, or the default from category and hamlet."""
    from chalicelib.services.reports import public_view

    view = public_view.of(access.tenant_of(staff), report)
    return {"title": view.title, "description": view.description, "approved": view.approved,
            "approved_by": report.public_text.get("by") if view.approved else None,
            "approved_at": report.public_text.get("at") if view.approved else None}


def _resident(staff: Staff, report: Report, request_id: str | None) -> dict | None:
    from chalicelib.store import citizens

    if not report.channel_id or not report.citizen_key:
        return None
    found = citizens.get(report.channel_id, report.citizen_key)
    if found is None or not found.name:
        return None  # erased, or no longer registered: the tip keeps what it said, not who
    access.record(staff, "resident.read", f"{report.channel_id}#{report.citizen_key}", request_id)
    return {"name": found.name, "address": found.address, "hamlet": found.hamlet, "phone": found.phone}


def visible(staff: Staff, report_id: str) -> Report:
    """The report, when the staff member's roles may read its kind; NotFound otherwise (as for a missing one)."""
    return _visible(staff, report_id)


def _visible(staff: Staff, report_id: str) -> Report:
    report = store.get(staff.tenant_id, report_id)
    if report is None or not staff.may_read_report(report.kind):
        raise NotFound("report")  # a tip is not even admitted to exist for other roles
    return report


def transition(staff: Staff, report_id: str, step: Transition) -> dict:
    return answer(staff, apply_transition(staff, report_id, step))


def apply_transition(staff: Staff, report_id: str, step: Transition) -> Report:
    """A lifecycle step, its email to an external body and its message to the citizens; the updated report."""
    tenant = access.tenant_of(staff)
    report = _visible(staff, report_id)
    step = _with_routing(tenant, report, step)
    _check_step(tenant, report, step)
    if step.public is None:
        step = step.model_copy(update={"public": rules.public_by_default(report.kind, step.to)})
    now = clock.now()

    def edit(current: Report) -> Report:
        rules.check_transition(current.status, step.to, current.kind)
        return _apply_step(tenant, current, step, staff.subject, now)
    # text is what fills a report: a step with a note takes staff's share, one without always fits (so a full report
    # can still be resolved)
    updated = store.change(tenant.id, report.report_id, edit, room=rules.STAFF_ROOM if step.note else rules.SYSTEM_ROOM)
    if step.to == "forwarded":
        updated = _forward(tenant, updated, step, staff.subject, now)
    if step.public:
        updates.notify(tenant, updated, updated.events[-1])
    if updated.source == "vicinato":  # a report a Vicinato coordinator forwarded: they hear of the police's step
        from chalicelib.services.vicinato import police

        police.status_changed(tenant, updated, updated.events[-1])
    return updated


def _with_routing(tenant: Tenant, report: Report, step: Transition) -> Transition:
    """A category knows who usually handles it: its team or external body, unless the step names one."""
    if step.to in rules.KIND_WITHOUT.get(report.kind, frozenset()):
        raise NotAllowed(f"a {report.kind} tip cannot become {step.to}")  # 409 before any question of teams
    category = tenant.reports.category(step.category or report.category)
    if category is None:
        return step
    if step.to == "assigned" and not step.team and category.team:
        return step.model_copy(update={"team": category.team})
    if step.to == "forwarded" and not step.external_body and category.external_body:
        return step.model_copy(update={"external_body": category.external_body})
    return step


def _check_step(tenant: Tenant, report: Report, step: Transition) -> None:
    settings = tenant.reports
    if step.to == "assigned" and not settings.team(step.team):
        raise InvalidReport("assigning needs a team of this comune (team)", "team")
    if step.to == "forwarded" and not settings.external_body(step.external_body):
        raise InvalidReport("forwarding needs an external body of this comune (external_body)", "external_body")
    if step.category is not None and not settings.category(step.category):
        raise InvalidReport(f"unknown category {step.category!r}", "category")
    if step.outcome is not None and (report.kind != "safety" or step.outcome not in rules.SAFETY_OUTCOMES):
        raise InvalidReport(f"outcome is for tips, one of {', '.join(rules.SAFETY_OUTCOMES)}", "outcome")
    if step.to == "duplicate":
        raise InvalidReport("use POST /api/v1/reports/{id}/merge to mark a duplicate", "to")


def _apply_step(tenant: Tenant, report: Report, step: Transition, actor: str, now: datetime) -> Report:
    changes: dict[str, Any] = {"status": step.to}
    if step.team:
        changes["team"] = step.team
    if step.category:
        changes["category"] = step.category
    if step.outcome:
        changes["outcome"] = step.outcome
    if report.first_response_at is None:
        changes["first_response_at"] = now
    if step.to == "resolved":
        changes["resolved_at"] = now
    if step.to == "forwarded":
        body = tenant.reports.external_body(step.external_body)
        changes["external"] = {"id": body.id, "name": body.name, "email": body.email,
                               "reference": step.external_reference, "forwarded_at": now.isoformat()}
    data = {k: v for k, v in {"team": step.team, "external_body": step.external_body,
                              "outcome": step.outcome}.items() if v}
    event = Event(at=now, actor=actor, action="status", public=step.public, note=step.note, status=step.to,
                  data=data)
    return store.with_event(report, event, **changes)


def _forward(tenant: Tenant, report: Report, step: Transition, actor: str, now: datetime) -> Report:
    """Email the body in charge with the report and short-lived photo links; record SES's message id."""
    from chalicelib.services.reports import forwarding

    message_id = forwarding.send(tenant, report, FORWARD_LINK_SECONDS)

    def edit(current: Report) -> Report:
        return replace(current, external={**current.external, "email_message_id": message_id})
    return store.change(tenant.id, report.report_id, edit)


def add_note(staff: Staff, report_id: str, note: Note) -> dict:
    tenant = access.tenant_of(staff)
    report = _visible(staff, report_id)
    now = clock.now()
    event = Event(at=now, actor=staff.subject, action="note", public=note.public, note=note.note)
    updated = store.change(tenant.id, report.report_id, lambda current: store.with_event(current, event),
                           room=rules.STAFF_ROOM)
    if note.public:
        updates.notify(tenant, updated, event)
    return answer(staff, updated)


def merge(staff: Staff, report_id: str, request: Merge) -> dict:
    return answer(staff, apply_merge(staff, report_id, request))


def apply_merge(staff: Staff, report_id: str, request: Merge) -> Report:
    """The report becomes a duplicate of request.into and its citizens are told; the duplicate."""
    tenant = access.tenant_of(staff)
    report = _visible(staff, report_id)
    original = _visible(staff, rules.parse_number(request.into, clock.now().year) or request.into)
    if original.report_id == report.report_id or original.kind != report.kind:
        raise InvalidReport("a report can only be merged into another report of the same kind", "into")
    if report.status == "duplicate":
        raise NotAllowed("this report is already a duplicate")
    merged_into = mark_duplicate(tenant, report, original, staff.subject, clock.now())
    duplicate = store.get(tenant.id, report.report_id)
    updates.notify(tenant, duplicate, duplicate.events[-1], extra={"original": merged_into.number})
    return duplicate


class PhotoPublication(BaseModel):
    model_config = ConfigDict(extra="forbid")
    published: bool = True


def publish_photo(staff: Staff, report_id: str, photo_id: str, request: PhotoPublication) -> dict:
    """Show (or stop showing) a stored photo's public copy, the one without metadata, on the citizen portal.
    A tip's photos never leave the police: refused whatever the roles."""
    report = _visible(staff, report_id)
    if report.kind != "report":
        raise NotAllowed("the photos of a safety tip are never published")
    photo = next((p for p in report.photos if p.id == photo_id), None)
    if photo is None:
        raise NotFound("photo")
    if request.published and (photo.status != "stored" or not photo.public_key or photo.kind != "image"):
        raise NotAllowed("only a stored photo with its public copy can be published")
    now = clock.now()

    def edit(current: Report) -> Report:
        photos = tuple(replace(p, published=request.published) if p.id == photo_id else p for p in current.photos)
        if photos == current.photos:
            return current
        event = Event(at=now, actor=staff.subject, action="photo_published" if request.published else "photo_unpublished",
                      data={"photo": photo_id})
        return store.with_event(current, event, photos=photos)
    updated = store.change(report.tenant_id, report.report_id, edit)
    access.record(staff, "report.photo." + ("publish" if request.published else "unpublish"),
                        f"{report.report_id}/{photo_id}")
    return answer(staff, updated)


def mark_duplicate(tenant: Tenant, report: Report, original: Report, actor: str, now: datetime) -> Report:
    """report becomes a duplicate of original; its citizens follow the original. Returns the original. The
    followers go first: an original too full for them (ReportFull) leaves both reports as they were."""
    newcomers = tuple(s for s in (report.reporter, *report.followers) if s)

    def follow(current: Report) -> Report:
        joined = tuple(dict.fromkeys(current.followers + tuple(s for s in newcomers if s != current.reporter)))
        if joined == current.followers:
            return current
        return store.with_event(current, Event(at=now, actor=actor, action="merged", data={"from": report.number}),
                                followers=joined)
    followed = store.change(tenant.id, original.report_id, follow)
    event = Event(at=now, actor=actor, action="status", public=True, status="duplicate",
                  data={"original": original.number})
    store.change(tenant.id, report.report_id, lambda current: store.with_event(
        current, event, status="duplicate", duplicate_of=original.report_id,
        first_response_at=current.first_response_at or now))
    return followed


class Assignment(BaseModel):
    model_config = ConfigDict(extra="forbid")
    # a staff member's id (GET /api/v1/reports/assignees), "me" for the caller, null for nobody
    assignee: str | None = Field(min_length=1, max_length=128)


def assign(staff: Staff, report_id: str, request: Assignment) -> dict:
    updated, changed = assign_person(staff, report_id, request)
    if changed:
        access.record(staff, "report.assign", updated.report_id)
    return answer(staff, updated)


def assign_person(staff: Staff, report_id: str, request: Assignment) -> tuple[Report, bool]:
    """Put one staff member in charge of the report (or nobody); an internal timeline entry. Only someone whose
    roles reach the report's kind may be in charge of it: a tip goes to the police only. The report, and whether
    it changed."""
    report = _visible(staff, report_id)
    member = _assignee(staff, report.kind, request.assignee) if request.assignee else None
    subject, name = (member.subject, member.name) if member else (None, None)
    now = clock.now()

    def edit(current: Report) -> Report:
        if current.assignee == subject:
            return current
        event = Event(at=now, actor=staff.subject, action="assignee",
                      data={"assignee": subject, "name": name} if subject else {"assignee": None})
        return store.with_event(current, event, assignee=subject, assignee_name=name)
    updated = store.change(staff.tenant_id, report.report_id, edit)
    return updated, updated.version != report.version


def _assignee(staff: Staff, kind: str, wanted: str) -> Staff:
    if wanted in ("me", staff.subject):
        remember(staff)
        return staff
    member = staff_store.get(staff.tenant_id, wanted)
    person = member.as_staff() if member and member.enabled else None
    if person is None or not person.may_read_report(kind):
        raise InvalidReport("assignee must be a staff member of this comune whose roles reach this report",
                            "assignee")
    return person


def assignees(staff: Staff, kind: str | None) -> dict:
    """The comune's staff who may be put in charge of the caller's reports (of kind), each with the kinds they
    may take: those who signed in to the console, with the roles their token last gave."""
    kinds = visible_kinds(staff, kind)
    people = []
    for member in staff_store.of_tenant(staff.tenant_id):
        if not member.enabled:
            continue
        takes = [k for k in kinds if member.as_staff().may_read_report(k)]
        if takes:
            people.append({"id": member.subject, "name": member.name, "kinds": takes})
    return {"items": sorted(people, key=lambda p: (p["name"].casefold(), p["id"]))}


def remember(staff: Staff) -> None:
    """The staff member joins (or refreshes) the comune's list of people reports can be assigned to."""
    staff_store.remember(staff_store.Member(staff.tenant_id, staff.subject, staff.name, tuple(sorted(staff.roles)),
                                            clock.now(), email=staff.email, username=staff.username))


def create(staff: Staff, request: DeskReport) -> dict:
    """A report entered by staff; it joins the same queue as WhatsApp ones."""
    visible_kinds(staff, request.kind)
    tenant = access.tenant_of(staff)
    if request.category and not tenant.reports.category(request.category):
        raise InvalidReport(f"unknown category {request.category!r}", "category")
    if request.hamlet and not tenant.hamlet(request.hamlet):
        raise InvalidReport(f"unknown hamlet {request.hamlet!r}", "hamlet")
    now = clock.now()
    position = Position(request.position.latitude, request.position.longitude, request.address) \
        if request.position else None
    hamlet = request.hamlet or (geo.hamlet_id_at(position.latitude, position.longitude, tenant.hamlets)
                                if position else None)
    contact, channel_id, citizen_key = _desk_contact(tenant, request)
    photos = [_desk_photo(index, photo.data) for index, photo in enumerate(request.photos)]
    category = request.category or (tenant.reports.category_id_for(request.text) if request.kind == "report" else None)
    report = store.open_report(
        tenant.id, request.kind, now, source=request.source, channel_id=channel_id, citizen_key=citizen_key,
        contact=contact, text=request.text, category=category, hamlet=hamlet, position=position,
        address=request.address, events=(Event(at=now, actor=staff.subject, action="created", public=True,
                                                status="new", data={"source": request.source}),))
    if photos:
        report = _keep_desk_photos(staff, report, photos)
    access.record(staff, "report.create", report.report_id)
    arrivals.announce(report)  # the office in charge is told, as of any report
    return answer(staff, report)


def _desk_photo(index: int, data: str) -> tuple[bytes, Any]:
    """A photo given at the desk, decoded and checked by its content; InvalidReport naming photos.<index>."""
    from chalicelib.domain import images

    try:
        return images.check_base64(data, DESK_PHOTO_MAX_BYTES)
    except ValueError as error:  # RefusedImage, with its reason
        reason = getattr(error, "reason", "not_an_image")
        raise InvalidReport(f"photos.{index}: {reason}", f"photos.{index}") from None


def _keep_desk_photos(staff: Staff, report: Report, checked: list) -> Report:
    import uuid

    from chalicelib.services.reports import photos

    kept = tuple(photos.keep(report.tenant_id, report.report_id, uuid.uuid4().hex[:12], content, image)
                 for content, image in checked)
    now = clock.now()

    def edit(current: Report) -> Report:
        events = tuple(Event(at=now, actor=staff.subject, action="photo", data={"photo": p.id, "status": p.status})
                       for p in kept)
        return replace(current, photos=current.photos + kept, events=current.events + events, updated_at=now)
    return store.change(report.tenant_id, report.report_id, edit)


def _desk_contact(tenant: Tenant, request: DeskReport) -> tuple[dict[str, str], str | None, str | None]:
    """The contact as given; a phone of a citizen who asked for WhatsApp updates makes them the reporter."""
    if request.contact is None:
        return {}, None, None
    contact = {k: v for k, v in request.contact.model_dump(exclude={"updates_on_whatsapp"}).items() if v}
    if not request.contact.phone:
        return contact, None, None
    try:
        phone = normalize(request.contact.phone)
    except InvalidPhone as error:
        raise InvalidReport(f"contact.phone: {error}", "contact.phone") from None
    contact["phone"] = phone
    if not request.contact.updates_on_whatsapp:
        return contact, None, None
    kind = "safety" if request.kind == "safety" else "reports"
    channel = next((c for c in directory.channels_of(tenant.id) if c.kind == kind), None)
    if channel is None:
        raise InvalidReport(f"this comune has no {kind} channel for WhatsApp updates", "contact.updates_on_whatsapp")
    return contact, channel.phone_number_id, phone


# ---- answers ----------------------------------------------------------------------------------------

def summary(report: Report) -> dict:
    return {
        "id": report.report_id, "number": report.number, "kind": report.kind, "status": report.status,
        "category": report.category, "hamlet": report.hamlet, "source": report.source,
        "location": _location(report), "address": report.address, "team": report.team,
        "assignee": {"id": report.assignee, "name": report.assignee_name} if report.assignee else None,
        "external_body": report.external.get("id") if report.external else None,
        "text": report.text[:200], "photos": sum(1 for p in report.photos if p.status == "stored" and p.kind == "image"),
        "followers": len(report.followers), "duplicate_of": report.duplicate_of,
        "created_at": report.created_at.isoformat(), "updated_at": report.updated_at.isoformat(),
        "reopened_by_citizen": _reopened_by_citizen(report),
        **({"vicinato": _vicinato_origin(report)} if report.source == "vicinato" else {}),
    }


def _vicinato_origin(report: Report) -> dict:
    """Where a report a Vicinato coordinator forwarded came from (its first event, services/vicinato/police.py)."""
    first = report.events[0].data if report.events else {}
    return {"zone": report.zone or first.get("zone"), "zone_name": first.get("zone_name"),
            "handle": first.get("handle"), "note": first.get("note"), "urgent": bool(first.get("urgent"))}


def _reopened_by_citizen(report: Report) -> bool:
    """Whether the report's last step is its citizen's «Non risolto» (services.reports.feedback): staff must look."""
    last = next((e for e in reversed(report.events) if e.action == "status"), None)
    return bool(last and last.actor == "citizen" and last.data.get("reopened_by") == "citizen")


def detail(report: Report) -> dict:
    from chalicelib.store import media

    photos = [{"id": p.id, "status": p.status, "reason": p.reason, "content_type": p.content_type, "size": p.size,
               "published": p.published,
               "url": media.presigned_url(p.original_key, PHOTO_LINK_SECONDS) if p.original_key else None,
               # the copy without metadata (what boxes are drawn on) and what the portal shows when published
               "public_url": media.presigned_url(p.public_key, PHOTO_LINK_SECONDS) if p.public_key else None,
               "shown_url": media.presigned_url(p.redacted_key or p.public_key, PHOTO_LINK_SECONDS)
               if p.public_key else None,
               "boxes": [{"x": x, "y": y, "width": w, "height": h} for x, y, w, h in p.boxes]}
              for p in report.photos if p.kind == "image"]
    # voice notes and videos play in the staff's browser; a document is only ever downloaded, under our own name
    attachments = [{"id": p.id, "kind": p.kind, "status": p.status, "reason": p.reason, "content_type": p.content_type,
                    "size": p.size, "url": media.presigned_url(
                        p.original_key, PHOTO_LINK_SECONDS,
                        download_as=f"segnalazione-{report.report_id}-{p.id}.pdf" if p.kind == "document" else None)
                    if p.original_key else None}
                   for p in report.photos if p.kind != "image"]
    return {
        **summary(report), "text": report.text, "contact": report.contact, "outcome": report.outcome,
        "external": report.external or None, "photos": photos, "attachments": attachments,
        "reporter": {"channel": report.channel_id, "citizen": report.citizen_key} if report.reporter else None,
        "first_response_at": report.first_response_at.isoformat() if report.first_response_at else None,
        "resolved_at": report.resolved_at.isoformat() if report.resolved_at else None,
        "events": [_event(e) for e in report.events],
        "feedback": asdict(feedback.tally(report)),
        "steps": [{"to": to, "public": rules.public_by_default(report.kind, to)}
                  for to in rules.next_steps(report.kind, report.status)],
    }


def _location(report: Report) -> dict | None:
    if report.position is None:
        return None
    return {"latitude": report.position.latitude, "longitude": report.position.longitude,
            "address": report.position.address}


def _event(event: Event) -> dict:
    return {"at": event.at.isoformat(), "actor": event.actor, "action": event.action, "public": event.public,
            "note": event.note, "status": event.status, **({"data": event.data} if event.data else {})}
