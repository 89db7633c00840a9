"""Open311 GeoReport v2 over the comune's reports: services are report categories, requests are reports.

Public answers carry no personal data: no contact, no reporter, and phone numbers or email addresses
written inside a description are masked. Safety tips never appear.
"""
from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from chalicelib.domain import geo
from chalicelib.domain import reports as rules
from chalicelib.domain.numbers import whole_number
from chalicelib.domain.phones import InvalidPhone, normalize
from chalicelib.domain.reports import Event, Position, Report
from chalicelib.domain.tenancy import Tenant
from chalicelib.services import clock
from chalicelib.services.reports import wording
from chalicelib.store import directory
from chalicelib.store import reports as store

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
MAX_WINDOW = timedelta(days=90)
MAX_RESULTS = 1000
DEFAULT_PAGE_SIZE = 100
DESCRIPTION_MAX = 4000
_PHONE_LIKE = re.compile(r"\+?\d[\d .\-/]{6,}\d")
_EMAIL_LIKE = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")


class Open311Error(Exception):
    """An answer in the spec's error format: HTTP status, and one or more (code, description)."""

    def __init__(self, status: int, description: str, code: int | None = None,
                 headers: dict[str, str] | None = None):
        super().__init__(description)
        self.status, self.description, self.code = status, description, code or status
        self.headers = headers or {}


@dataclass(frozen=True)
class NewRequest:
    """POST requests: the spec's form fields, already read as strings."""

    service_code: str
    lat: str | None = None
    long: str | None = None
    address_string: str | None = None
    address_id: str | None = None
    description: str | None = None
    media_url: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None
    phone: str | None = None
    device_id: str | None = None
    account_id: str | None = None


def tenant(jurisdiction_id: str | None) -> Tenant:
    if not jurisdiction_id:
        raise Open311Error(400, "jurisdiction_id is required: this endpoint serves several comuni")
    found = directory.get_tenant(jurisdiction_id)
    if found is None:
        raise Open311Error(404, f"jurisdiction_id {jurisdiction_id!r} not found")
    return found


# ---- services -----------------------------------------------------------------------------------

def services(comune: Tenant) -> list[dict]:
    return [_service(c) for c in comune.reports.categories]


def _service(category: rules.Category) -> dict:
    return {"service_code": category.id, "service_name": category.name, "description": category.name,
            "metadata": False, "type": "realtime", "keywords": ",".join(category.keywords), "group": "segnalazioni"}


def service_definition(comune: Tenant, service_code: str) -> dict:
    if comune.reports.category(service_code) is None:
        raise Open311Error(404, f"service_code {service_code!r} not found")
    return {"service_code": service_code, "attributes": []}


# ---- requests -----------------------------------------------------------------------------------

def post_request(comune: Tenant, api_key: str | None, form: NewRequest) -> dict:
    partner = _partner(comune, api_key)
    if not form.service_code:
        raise Open311Error(400, "service_code is required")
    if comune.reports.category(form.service_code) is None:
        raise Open311Error(404, f"service_code {form.service_code!r} not found")
    position = _position(form)
    if position is None and not form.address_string and not form.address_id:
        raise Open311Error(400, "a location is required: lat and long, address_string or address_id")
    description = (form.description or "").strip()
    if len(description) > DESCRIPTION_MAX:
        raise Open311Error(400, f"description is longer than {DESCRIPTION_MAX} characters")
    now = clock.now()
    contact, channel_id, citizen_key = _contact(comune, form)
    hamlet = geo.hamlet_id_at(position.latitude, position.longitude, comune.hamlets) if position else None
    report = store.open_report(
        comune.id, "report", now, source="open311", channel_id=channel_id, citizen_key=citizen_key, contact=contact,
        text=description or comune.reports.category(form.service_code).name, category=form.service_code,
        hamlet=hamlet, position=position, address=form.address_string or form.address_id,
        events=(Event(at=now, actor=f"open311:{partner}", action="created", public=True, status="new",
                      data={k: v for k, v in {"media_url": form.media_url, "device_id": form.device_id}.items() if v}),))
    return {"service_request_id": report.report_id,
            "service_notice": f"Segnalazione n. {report.number}: {wording.page_url(report)}"}


def _partner(comune: Tenant, api_key: str | None) -> str:
    """The partner whose key this is (keys are kept as SHA-256 digests in the tenant's settings)."""
    digest = hashlib.sha256((api_key or "").encode()).hexdigest()
    for partner in comune.open311_partners:
        if api_key and hmac.compare_digest(partner.key_sha256, digest):
            return partner.name
    raise Open311Error(403, "api_key missing or not valid for this jurisdiction")


def _position(form: NewRequest) -> Position | None:
    if not form.lat and not form.long:
        return None
    try:
        lat, lon = float(form.lat or ""), float(form.long or "")
    except ValueError:
        raise Open311Error(400, "lat and long must both be numbers (WGS84)") from None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise Open311Error(400, "lat and long are out of range")
    return Position(lat, lon, form.address_string)


def _contact(comune: Tenant, form: NewRequest) -> tuple[dict, str | None, str | None]:
    """The filer's contact, kept for staff; a phone makes them the reporter on the reports channel, so that
    WhatsApp updates and STATO reach them."""
    name = " ".join(p for p in (form.first_name, form.last_name) if p).strip()
    contact = {k: v for k, v in {"name": name, "email": form.email}.items() if v}
    if not form.phone:
        return contact, None, None
    try:
        phone = normalize(form.phone)
    except InvalidPhone:
        raise Open311Error(400, "phone is not a valid phone number") from None
    contact["phone"] = phone
    channel = next((c for c in directory.channels_of(comune.id) if c.kind == "reports"), None)
    return contact, (channel.phone_number_id if channel else None), (phone if channel else None)


def get_requests(comune: Tenant, ids: str | None = None, service_code: str | None = None,
                 start_date: str | None = None, end_date: str | None = None, status: str | None = None,
                 page: str | None = None, page_size: str | None = None) -> list[dict]:
    if ids:
        found = [store.get(comune.id, i.strip()) for i in ids.split(",")[:MAX_RESULTS] if i.strip()]
        return [request_view(comune, r) for r in found if r is not None and r.kind == "report"]
    start, end = _window(start_date, end_date)
    codes = {c for c in (service_code or "").split(",") if c}
    statuses = _statuses(status)
    number, size = _paging(page, page_size)
    matching = (r for r in store.all_of(comune.id, ("report",), since=start)
                if r.created_at < end and (not codes or r.category in codes)
                and (not statuses or _open_or_closed(r) in statuses))
    chosen = [r for _, r in zip(range(number * size), matching, strict=False)][(number - 1) * size:]
    return [request_view(comune, r) for r in chosen]


def get_request(comune: Tenant, request_id: str) -> list[dict]:
    report = store.get(comune.id, request_id) if request_id else None
    if report is None or report.kind != "report":
        raise Open311Error(404, f"service_request_id {request_id!r} not found")
    return [request_view(comune, report)]


def token(comune: Tenant, value: str) -> list[dict]:
    report = store.by_token(value)
    if report is None or report.tenant_id != comune.id or report.kind != "report":
        raise Open311Error(404, "token not found")
    return [{"service_request_id": report.report_id, "token": value}]


def updates(comune: Tenant, start_date: str | None, end_date: str | None) -> list[dict]:
    """mySociety's servicerequestupdates: the public status changes of the window, oldest first."""
    start, end = _window(start_date, end_date)
    found = []
    for report in store.all_of(comune.id, ("report",), since=start - MAX_WINDOW):
        for index, event in enumerate(report.events):
            if event.public and event.status and event.action == "status" and start <= event.at < end:
                found.append((event.at, {
                    "update_id": f"{report.report_id}.{index}", "service_request_id": report.report_id,
                    "status": _status_word(event.status), "updated_datetime": _time(event.at),
                    "description": redact(event.note or wording.status_label(comune, event.status)),
                    "media_url": ""}))
    return [item for _, item in sorted(found, key=lambda pair: pair[0])][:MAX_RESULTS]


def request_view(comune: Tenant, report: Report) -> dict:
    """One request as the spec lists it, without the citizen's personal data."""
    category = comune.reports.category(report.category)
    position = report.position
    closed = _open_or_closed(report) == "closed"
    return {
        "service_request_id": report.report_id,
        "status": _open_or_closed(report),
        "status_notes": redact(_status_notes(comune, report)),
        "service_name": category.name if category else "",
        "service_code": report.category or "",
        "description": redact(report.text)[:DESCRIPTION_MAX],
        "agency_responsible": report.external.get("name") if report.external else comune.name,
        "service_notice": "",
        "requested_datetime": _time(report.created_at),
        "updated_datetime": _time(report.resolved_at if closed and report.resolved_at else report.updated_at),
        "expected_datetime": None,
        "address": report.address or (position.address if position else None),
        "address_id": None,
        "zipcode": None,
        "lat": position.latitude if position else None,
        "long": position.longitude if position else None,
        "media_url": "",
    }


def _status_notes(comune: Tenant, report: Report) -> str:
    notes = [e.note for e in report.events if e.public and e.note]
    label = wording.status_label(comune, report.status)
    return f"{label}: {notes[-1]}" if notes else label


def _open_or_closed(report: Report) -> str:
    return "open" if rules.is_open(report.status) else "closed"


def _status_word(status: str) -> str:
    return "open" if status in rules.OPEN else "closed"


def redact(text: str | None) -> str:
    """Phone numbers and email addresses a citizen wrote in free text do not leave the comune."""
    return _EMAIL_LIKE.sub("[email]", _PHONE_LIKE.sub("[telefono]", text or ""))


def _window(start_date: str | None, end_date: str | None) -> tuple[datetime, datetime]:
    end = _parse_date("end_date", end_date) if end_date else clock.now()
    start = _parse_date("start_date", start_date) if start_date else end - MAX_WINDOW
    if end <= start:
        raise Open311Error(400, "end_date must be after start_date")
    if end - start > MAX_WINDOW:
        raise Open311Error(400, "the date range may span at most 90 days")
    return start, end


def _parse_date(name: str, value: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise Open311Error(400, f"{name} must be a W3C date-time, e.g. 2026-11-01T00:00:00Z") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _statuses(value: str | None) -> set[str]:
    statuses = {s.strip() for s in (value or "").split(",") if s.strip()}
    if statuses - {"open", "closed"}:
        raise Open311Error(400, "status must be open, closed or both")
    return statuses


def _paging(page: str | None, page_size: str | None) -> tuple[int, int]:
    number = whole_number(page) if page else 1
    size = whole_number(page_size) if page_size else DEFAULT_PAGE_SIZE
    if number is None or size is None:
        raise Open311Error(400, "page and page_size must be whole numbers")
    if number < 1 or not 1 <= size <= MAX_RESULTS or number * size > MAX_RESULTS * 10:
        raise Open311Error(400, f"page starts at 1 and page_size is 1 to {MAX_RESULTS}")
    return number, size


def _time(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z") if moment else None


def discovery(base_url: str, comune_contact: str = "") -> dict:
    changeset = "2026-11-23T00:00:00Z"
    return {
        "changeset": changeset,
        "contact": comune_contact or "Filo Diretto - ufficio segnalazioni del comune (see each jurisdiction)",
        "key_service": "Ask the comune's IT office for an Open311 api_key (one per partner).",
        "endpoints": [{"specification": SPECIFICATION, "url": f"{base_url}/open311/v2", "changeset": changeset,
                       "type": "production", "formats": ["text/xml", "application/json"]}],
    }
