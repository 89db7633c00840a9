"""Open311 GeoReport v2 over the comune's reports: services are report categories, requests are reports.

Public answers are the report's public view (services/reports/public_view.py): no contact, no reporter, none of
the citizen's words, the street without its number, a generalised position. Safety tips never appear.
"""
from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from chalicelib.domain import geo
from chalicelib.domain import reports as rules
from chalicelib.domain.numbers import whole_number
from chalicelib.domain.phones import InvalidPhone, normalize
from chalicelib.domain.reports import Event, Position, Report
from chalicelib.domain.tenancy import Tenant
from chalicelib.services import clock
from chalicelib.services.reports import arrivals, following, public_view, wording
from chalicelib.store import directory
from chalicelib.store import reports as store

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
MAX_WINDOW = timedelta(days=90)
MAX_RESULTS = 1000
MAX_IDS = 100  # service_request_id lists: the spec lets a server limit them; one BatchGetItem reads 100 keys
MAX_TOKEN = 64  # tokens are 22 characters; a longer one is none (and no GSI key)
DEFAULT_PAGE_SIZE = 100
DESCRIPTION_MAX = 4000


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
    contact = _contact(form)
    channel = following.channel_of(comune) if contact.get("phone") else None
    hamlet = geo.hamlet_id_at(position.latitude, position.longitude, comune.hamlets) if position else None
    report = store.open_report(
        comune.id, "report", now, source="open311", contact=contact,
        text=description or comune.reports.category(form.service_code).name, category=form.service_code,
        hamlet=hamlet, position=position, address=form.address_string or form.address_id,
        events=(Event(at=now, actor=f"open311:{partner}", action="created", public=True, status="new",
                      data={k: v for k, v in {"media_url": form.media_url, "device_id": form.device_id}.items() if v}),
                *((following.requested(channel),) if channel else ())))
    arrivals.announce(report)  # the office's email, queued: never a reason for the request to fail
    if channel:
        following.ask(comune, channel, report, contact["phone"])
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


def _contact(form: NewRequest) -> dict[str, str]:
    """The filer's contact, kept for staff. A phone follows the report on WhatsApp only once its owner confirms
    there (services/reports/following.py): the partner's user may have typed anyone's number."""
    name = " ".join(p for p in (form.first_name, form.last_name) if p).strip()
    contact = {k: v for k, v in {"name": name, "email": form.email}.items() if v}
    if form.phone:
        try:
            contact["phone"] = normalize(form.phone)
        except InvalidPhone:
            raise Open311Error(400, "phone is not a valid phone number") from None
    return contact


def get_requests(comune: Tenant, ids: str | None = None, service_code: str | None = None,
                 start_date: str | None = None, end_date: str | None = None, status: str | None = None,
                 page: str | None = None, page_size: str | None = None) -> list[dict]:
    if ids:
        return _by_ids(comune, ids)
    start, end = _window(start_date, end_date)
    codes = {c for c in (service_code or "").split(",") if c}
    statuses = _statuses(status)
    number, size = _paging(page, page_size)
    matching = (r for r in store.all_of(comune.id, ("report",), since=start)
                if r.created_at < end and (not codes or r.category in codes)
                and (not statuses or _open_or_closed(r) in statuses))
    chosen = [r for _, r in zip(range(number * size), matching, strict=False)][(number - 1) * size:]
    return [request_view(comune, r) for r in chosen]


def _by_ids(comune: Tenant, ids: str) -> list[dict]:
    """The listed requests, in the order asked, read in one batch; what cannot be a report id is not read."""
    asked = [i.strip() for i in ids.split(",") if i.strip()]
    if len(asked) > MAX_IDS:
        raise Open311Error(400, f"service_request_id lists at most {MAX_IDS} ids per request")
    wanted = list(dict.fromkeys(i for i in asked if rules.is_report_id(i)))
    found = store.get_many(comune.id, wanted) if wanted else {}
    return [request_view(comune, found[i]) for i in wanted if i in found and found[i].kind == "report"]


def get_request(comune: Tenant, request_id: str) -> list[dict]:
    report = store.get(comune.id, request_id) if rules.is_report_id(request_id) else None
    if report is None or report.kind != "report":
        raise Open311Error(404, f"service_request_id {request_id!r} not found")
    return [request_view(comune, report)]


def token(comune: Tenant, value: str) -> list[dict]:
    report = store.by_token(value) if len(value) <= MAX_TOKEN else None
    if report is None or report.tenant_id != comune.id or report.kind != "report":
        raise Open311Error(404, "token not found")
    return [{"service_request_id": report.report_id, "token": value}]


def updates(comune: Tenant, start_date: str | None, end_date: str | None) -> list[dict]:
    """mySociety's servicerequestupdates: the public status changes of the window, oldest first."""
    start, end = _window(start_date, end_date)
    found = []
    for report in store.all_of(comune.id, ("report",), since=start - MAX_WINDOW):
        view = public_view.of(comune, report)
        for event in view.events:
            if event.action == "status" and start <= event.at < end:
                found.append((event.at, {
                    "update_id": f"{report.report_id}.{event.index}", "service_request_id": report.report_id,
                    "status": _status_word(event.status), "updated_datetime": _time(event.at),
                    "description": event.note or event.status_label, "media_url": ""}))
    return [item for _, item in sorted(found, key=lambda pair: pair[0])][:MAX_RESULTS]


def request_view(comune: Tenant, report: Report) -> dict:
    """One request as the spec lists it: the report's public view (no personal data, nothing the citizen typed)."""
    view = public_view.of(comune, report)
    closed = not view.open
    return {
        "service_request_id": view.report_id,
        "status": "closed" if closed else "open",
        "status_notes": f"{view.status_label}: {view.latest_note}" if view.latest_note else view.status_label,
        "service_name": view.category_name if report.category else "",
        "service_code": view.category or "",
        "description": view.description[:DESCRIPTION_MAX],
        "agency_responsible": view.agency or comune.name,
        "service_notice": "",
        "requested_datetime": _time(view.created_at),
        "updated_datetime": _time(view.resolved_at if closed and view.resolved_at else view.updated_at),
        "expected_datetime": None,
        "address": view.street,
        "address_id": None,
        "zipcode": None,
        "lat": view.latitude,
        "long": view.longitude,
        "media_url": "",
    }


def _open_or_closed(report: Report) -> str:
    return "open" if rules.is_open(report.status) else "closed"


def _status_word(status: str) -> str:
    return "open" if status in rules.OPEN else "closed"


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
