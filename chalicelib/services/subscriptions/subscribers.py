"""Staff work on subscribers: list, read, add, import a CSV of residents, erase; every read audited."""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass, replace

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from chalicelib.domain import subscriptions as rules
from chalicelib.domain.access import Staff
from chalicelib.domain.numbers import digits_of
from chalicelib.domain.phones import InvalidPhone, normalize, parse_citizen_key
from chalicelib.domain.subscriptions import Citizen
from chalicelib.domain.tenancy import Channel, Tenant
from chalicelib.services import clock
from chalicelib.services.access import NotFound, record
from chalicelib.services.reports import erasure as report_erasure
from chalicelib.store import citizens
from chalicelib.store.citizens import ConsentEntry

MAX_IMPORT_ROWS = 1000
PURPOSE = "broadcast"


class InvalidSubscriber(ValueError):
    """A subscriber the channel cannot take, with the reason staff will read."""


class NewSubscriber(BaseModel):
    """What staff may set when adding a subscriber; anything else is refused."""

    model_config = ConfigDict(extra="forbid")
    channel: str | None = Field(default=None, max_length=64)
    phone: str = Field(min_length=3, max_length=32)
    hamlets: list[str] = Field(default_factory=list, max_length=20)
    topics: list[str] = Field(default_factory=list, max_length=20)
    name: str | None = Field(default=None, max_length=120)
    address: str | None = Field(default=None, max_length=200)
    hamlet: str | None = Field(default=None, max_length=60)


@dataclass(frozen=True)
class RowResult:
    row: int
    result: str  # created, updated, error
    phone: str | None = None
    error: str | None = None


def view(citizen: Citizen) -> dict:
    """A subscriber as staff see it."""
    body = {
        "phone": citizen.phone, "user_id": citizen.user_id, "channel": citizen.channel_id,
        "status": citizen.status, "hamlets": list(citizen.hamlets), "topics": list(citizen.topics),
        "source": citizen.source,
        "subscribed_at": _iso(citizen.subscribed_at), "stopped_at": _iso(citizen.stopped_at),
        "last_inbound_at": _iso(citizen.last_inbound_at), "created_at": _iso(citizen.created_at),
    }
    if citizen.name or citizen.address or citizen.hamlet:
        body.update(name=citizen.name, address=citizen.address, hamlet=citizen.hamlet)
    return body


def _iso(value) -> str | None:
    return value.isoformat() if value else None


def subject_key(raw: str) -> str:
    """The citizen a URL names (domain.phones.parse_citizen_key); NotFound for anything else."""
    try:
        return parse_citizen_key(raw)
    except InvalidPhone:
        raise NotFound("subscriber") from None


def list_page(staff: Staff, channel: Channel, status: str | None, query: str | None, limit: int,
              cursor: str | None) -> tuple[list[dict], str | None]:
    prefix = None
    if query:
        digits = digits_of(query)
        prefix = ("+" + digits) if digits else query
    record(staff, "subscribers.list", f"channel:{channel.phone_number_id}")
    items, next_cursor = citizens.page(channel.phone_number_id, status, prefix, limit, cursor)
    return [view(c) for c in items], next_cursor


def read(staff: Staff, channel: Channel, key: str) -> dict:
    citizen = citizens.get(channel.phone_number_id, key)
    if citizen is None:
        raise NotFound("subscriber")
    record(staff, "subscriber.read", f"{channel.phone_number_id}#{key}")
    return view(citizen)


def consents(staff: Staff, channels: list[Channel], key: str) -> list[dict]:
    record(staff, "subscriber.consents", key)
    entries = [e for channel in channels for e in citizens.consents(channel.phone_number_id, key)]
    return [{
        "channel": e.channel_id, "action": e.action, "purpose": e.purpose, "path": e.path,
        "notice_version": e.notice_version, "message_id": e.message_id, "actor": e.actor,
        "recorded_at": e.recorded_at.isoformat(),
    } for e in sorted(entries, key=lambda e: e.recorded_at)]


def add(staff: Staff, tenant: Tenant, channel: Channel, data: NewSubscriber, path: str = "staff") -> tuple[dict, bool]:
    """Add or update one subscriber the comune holds consent for; returns (subscriber, created)."""
    phone = _phone(data.phone)
    _check_preferences(tenant, data)
    if channel.kind == "safety" and not (data.name and data.address and data.hamlet):
        raise InvalidSubscriber("a registered resident needs name, address and hamlet")
    now = clock.now()
    existing = citizens.get(channel.phone_number_id, phone)
    citizen = existing or Citizen(channel_id=channel.phone_number_id, tenant_id=tenant.id, phone=phone,
                                  created_at=now)
    was_active = citizen.active
    citizen = rules.activate_by_staff(citizen, now, tuple(data.hamlets), tuple(data.topics)) if not was_active \
        else replace(citizen, hamlets=tuple(data.hamlets), topics=tuple(data.topics))
    if channel.kind == "safety":
        citizen = replace(citizen, name=data.name, address=data.address, hamlet=data.hamlet)
    citizens.save(citizen, now)
    if not was_active:
        citizens.record_consent(ConsentEntry(
            channel_id=channel.phone_number_id, citizen_key=citizen.key, tenant_id=tenant.id, action="grant",
            purpose=PURPOSE if channel.kind == "broadcast" else channel.kind, path=path, recorded_at=now,
            notice_version=tenant.privacy_notice_version, actor=staff.subject,
        ))
    record(staff, "subscriber.add" if path == "staff" else "subscriber.import", f"{channel.phone_number_id}#{phone}")
    return view(citizen), existing is None


def _phone(raw: str) -> str:
    try:
        return normalize(raw)
    except InvalidPhone as exc:
        raise InvalidSubscriber(f"phone: {exc}") from None


def _check_preferences(tenant: Tenant, data: NewSubscriber) -> None:
    unknown = [h for h in data.hamlets + ([data.hamlet] if data.hamlet else []) if not tenant.hamlet(h)]
    unknown += [t for t in data.topics if not tenant.topic(t)]
    if unknown:
        raise InvalidSubscriber(f"unknown hamlet or topic: {', '.join(unknown)}")


def import_csv(staff: Staff, tenant: Tenant, channel: Channel, text: str) -> list[RowResult]:
    """One result per data row; a bad row is reported, never silently dropped."""
    reader = csv.DictReader(io.StringIO(text))
    fields = {f.strip().lower() for f in (reader.fieldnames or [])}
    if "phone" not in fields:
        raise InvalidSubscriber("the first line must name the columns, with at least 'phone'")
    results = []
    try:
        for number, row in enumerate(reader, start=2):
            if number - 1 > MAX_IMPORT_ROWS:
                raise InvalidSubscriber(f"at most {MAX_IMPORT_ROWS} rows per import; split the file")
            results.append(_import_row(staff, tenant, channel, number, row))
    except csv.Error as exc:  # e.g. a field over the csv module's limit (128 KiB)
        raise InvalidSubscriber(f"line {reader.line_num}: not readable as CSV ({exc})") from None
    return results


def _import_row(staff: Staff, tenant: Tenant, channel: Channel, number: int, row: dict) -> RowResult:
    clean = {(k or "").strip().lower(): (v or "").strip() for k, v in row.items() if k}
    try:
        data = NewSubscriber(
            phone=clean.get("phone", ""), hamlets=_split(clean.get("hamlets")), topics=_split(clean.get("topics")),
            name=clean.get("name") or None, address=clean.get("address") or None,
            hamlet=clean.get("hamlet") or None,
        )
        subscriber, created = add(staff, tenant, channel, data, path="staff_import")
    except InvalidSubscriber as exc:
        return RowResult(row=number, result="error", phone=clean.get("phone") or None, error=str(exc))
    except ValidationError as exc:
        return RowResult(row=number, result="error", phone=clean.get("phone") or None,
                         error="; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()))
    return RowResult(row=number, result="created" if created else "updated", phone=subscriber["phone"])


def _split(value: str | None) -> list[str]:
    return [part.strip() for part in (value or "").replace(",", ";").split(";") if part.strip()]


def erase(staff: Staff, channel: Channel, key: str) -> None:
    """Remove a subscriber's record; the ledger keeps the proof of consent and records the erasure."""
    citizen = citizens.get(channel.phone_number_id, key)
    if citizen is None:
        raise NotFound("subscriber")
    now = clock.now()
    citizens.delete(channel.phone_number_id, key)
    citizens.record_consent(ConsentEntry(
        channel_id=channel.phone_number_id, citizen_key=key, tenant_id=channel.tenant_id, action="withdraw",
        purpose=PURPOSE if channel.kind == "broadcast" else channel.kind, path="erasure", recorded_at=now,
        actor=staff.subject,
    ))
    if channel.kind in ("reports", "safety"):
        report_erasure.forget_citizen(channel.tenant_id, channel.phone_number_id, key, staff.subject, now)
    record(staff, "subscriber.erase", f"{channel.phone_number_id}#{key}")
