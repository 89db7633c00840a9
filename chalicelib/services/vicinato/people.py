"""The people of Vicinato: a join request and the police's decision, leaving, the administration's appointment of
coordinators and stand-ins, and what staff may read of them (police: identity, audited)."""
from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import date, datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from chalicelib.domain import vicinato as rules
from chalicelib.domain.access import Capability, Staff
from chalicelib.domain.phones import InvalidPhone, citizen_key, normalize
from chalicelib.domain.subscriptions import Citizen
from chalicelib.domain.tenancy import Channel, Tenant
from chalicelib.domain.vicinato import Person, member_key
from chalicelib.providers.base import Text
from chalicelib.services import clock
from chalicelib.services.access import NotFound, record, record_change, tenant_of
from chalicelib.services.replies import channel_text
from chalicelib.services.vicinato import sending
from chalicelib.store import citizens, directory
from chalicelib.store import vicinato as store

PURPOSE = "vicinato"  # what the consent ledger records: membership of the neighbourhood watch


class Refused(ValueError):
    """A request staff cannot make as given; the message (Italian) says why."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


def safety_channel(tenant_id: str) -> Channel:
    """The comune's safety channel (Vicinato runs on it)."""
    channel = next((c for c in directory.channels_of(tenant_id) if c.kind == "safety"), None)
    if channel is None:
        raise NotFound("safety channel")
    return channel


def person_id(person: Person) -> str:
    """How staff name a person in URLs: "<channel id>.<citizen key>" (as conversations)."""
    return f"{person.channel_id}.{person.citizen_key}"


def _find(staff: Staff, raw_id: str) -> Person:
    channel_id, dot, key = (raw_id or "").partition(".")
    if not dot or not channel_id.isdigit() or not key or len(raw_id) > 300:
        raise NotFound("person")
    channel = directory.get_channel(channel_id)
    if channel is None or channel.tenant_id != staff.tenant_id:
        raise NotFound("person")
    person = store.get_person(staff.tenant_id, member_key(channel_id, key))
    if person is None:
        raise NotFound("person")
    return person


# ---- WhatsApp side -------------------------------------------------------------------------------------------------

def request(tenant: Tenant, channel: Channel, person: Person, now: datetime, message_id: str | None = None,
            path: str = "keyword") -> Person:
    """The join request is complete: pending for the police; consent and the notice's version go to the ledger."""
    citizens.record_consent(citizens.ConsentEntry(
        channel_id=channel.phone_number_id, citizen_key=person.citizen_key, tenant_id=tenant.id, action="grant",
        purpose=PURPOSE, path=path, recorded_at=now, notice_version=tenant.privacy_notice_version or None,
        message_id=message_id))
    return store.change_person(tenant.id, person.key, lambda current: replace(
        current or person, status="pending", step=None, notice_version=tenant.privacy_notice_version or None,
        requested_at=now, updated_at=now, expires_at=None))


def leave(tenant: Tenant, channel: Channel, person: Person, now: datetime, actor: str,
          citizen: Citizen | None = None) -> tuple[Person, Citizen | None]:
    """Leaving is immediate: no further report is taken and no notice sent; consent withdrawn in the ledger. The
    record is kept for the tenant's inactive-citizens retention, then expires. citizen: the sender's record that the
    inbound worker will save (changed, not saved here); the changed record is returned."""
    citizens.record_consent(citizens.ConsentEntry(
        channel_id=channel.phone_number_id, citizen_key=person.citizen_key, tenant_id=tenant.id, action="withdraw",
        purpose=PURPOSE, path="keyword" if actor == "citizen" else "staff", recorded_at=now,
        actor=None if actor == "citizen" else actor))
    left = store.change_person(tenant.id, person.key, lambda current: replace(
        current or person, status="left", step=None, left_at=now, updated_at=now,
        draft={k: v for k, v in (current or person).draft.items() if k == "news"},
        expires_at=now + tenant.retention.days("inactive_citizens")))
    given = citizen is not None  # the inbound worker saves the sender's record itself, after the message
    citizen = citizen or citizens.get(channel.phone_number_id, person.citizen_key)
    if citizen is not None and citizen.source == "vicinato" and citizen.active:
        # a resident who became one by joining stops being one: the sender skips them from now on
        citizen = replace(citizen, status="stopped", stopped_at=now)
        if not given:
            citizens.save(citizen, now)
    return left, citizen


def _make_resident(tenant: Tenant, channel: Channel, person: Person, now: datetime) -> None:
    """An approved member (or an appointed coordinator) is a registered resident of the safety channel: the sender
    sends only to active citizens of its channel, and the police's desk shows a resident's identity."""
    zone = tenant.vicinato.zone(person.zone_id)
    citizen = citizens.get(channel.phone_number_id, person.citizen_key) or Citizen(
        channel_id=channel.phone_number_id, tenant_id=tenant.id, phone=person.phone, user_id=person.user_id,
        created_at=now)
    was_active = citizen.active
    citizens.save(replace(citizen, status="active", name=citizen.name if was_active else person.name,
                          address=citizen.address if was_active else person.address,
                          hamlet=citizen.hamlet if was_active and citizen.hamlet else (zone.hamlet if zone else None),
                          source=citizen.source if was_active else "vicinato",
                          subscribed_at=citizen.subscribed_at or now, stopped_at=None, expires_at=None), now)


# ---- the police: requests and decisions ----------------------------------------------------------------------------

def view(person: Person, tenant: Tenant, identity: bool) -> dict[str, Any]:
    """A person for staff: identity only for the police (identity=True)."""
    zone = tenant.vicinato.zone(person.zone_id)
    shown: dict[str, Any] = {
        "id": person_id(person), "zone": person.zone_id, "zone_name": zone.name if zone else None,
        "role": person.role, "status": person.status, "handle": person.handle() if person.handle_no else None,
        "requested_at": person.requested_at.isoformat() if person.requested_at else None,
        "decided_at": person.decided_at.isoformat() if person.decided_at else None,
        "prefettura": {"date": person.prefettura_date, "reference": person.prefettura_ref}
        if person.prefettura_date or person.prefettura_ref else None,
    }
    if identity:
        shown.update({"name": person.name, "address": person.address, "phone": person.phone,
                      "id_photo": bool(person.id_photo_key), "source": person.source,
                      "notice_version": person.notice_version})
    return shown


def requests(staff: Staff, request_id: str | None = None) -> list[dict[str, Any]]:
    tenant = tenant_of(staff)
    pending = sorted(store.people(staff.tenant_id, status="pending"), key=lambda p: p.requested_at or clock.now())
    record(staff, "vicinato.requests.read", f"{len(pending)} richieste", request_id)
    return [view(p, tenant, identity=True) for p in pending[:500]]


def listed(staff: Staff, zone: str | None, status: str | None, role: str | None,
           request_id: str | None = None) -> list[dict[str, Any]]:
    tenant = tenant_of(staff)
    if status is not None and status not in rules.MEMBER_STATUSES:
        raise Refused(f"Stato sconosciuto: uno tra {', '.join(rules.MEMBER_STATUSES)}.", "status")
    if role is not None and role not in rules.ROLES:
        raise Refused(f"Ruolo sconosciuto: uno tra {', '.join(rules.ROLES)}.", "role")
    identity = staff.may(Capability.TIPS)
    found = [p for p in store.people(staff.tenant_id, zone_id=zone, status=status,
                                     roles=(role,) if role else None)]
    if not identity:  # the administration sees who coordinates; the members only active, by handle (to choose one)
        found = [p for p in found if p.role != "member" or p.status == "active"]
    found = found[:1000]
    record(staff, "vicinato.people.read", zone or "*", request_id)
    return [view(p, tenant, identity=identity or p.role != "member") for p in found]


def id_photo(staff: Staff, raw_id: str, request_id: str | None = None) -> dict[str, Any]:
    from chalicelib.services.vicinato import photos

    person = _find(staff, raw_id)
    if not person.id_photo_key:
        raise NotFound("id photo")
    record(staff, "vicinato.id_photo.read", person.key, request_id)
    return {"url": photos.link(person.id_photo_key, photos.STAFF_LINK_SECONDS),
            "expires_in": photos.STAFF_LINK_SECONDS}


def decide(staff: Staff, raw_id: str, approve: bool, note: str | None = None) -> dict[str, Any]:
    """The police approve or refuse a pending request; the citizen is told on WhatsApp. The ID photo is kept for the
    tenant's id_photo_days more, then the sweep deletes it."""
    tenant = tenant_of(staff)
    person = _find(staff, raw_id)
    if person.status != "pending":
        raise Refused("La richiesta non è in attesa di decisione.", "status")
    channel = directory.get_channel(person.channel_id)
    now = clock.now()
    handle_no = store.next_handle(tenant.id, person.zone_id or "-") if approve else None
    before = view(person, tenant, identity=False)

    def edit(current: Person | None) -> Person | None:
        if current is None or current.status != "pending":
            return None
        return replace(current, status="active" if approve else "refused", decided_at=now, decided_by=staff.subject,
                       handle_no=handle_no if approve else current.handle_no, refusal_note=(note or None),
                       id_photo_delete_at=now + timedelta(days=tenant.vicinato.id_photo_days)
                       if current.id_photo_key else None, updated_at=now,
                       expires_at=None if approve else now + tenant.retention.days("inactive_citizens"))
    decided = store.change_person(tenant.id, person.key, edit)
    if decided is None or decided.status == "pending":
        raise Refused("La richiesta è cambiata nel frattempo: ricarica.", "status")
    if approve:
        record_change(staff, "vicinato.approved", person.key, before, view(decided, tenant, identity=False))
    else:
        record_change(staff, "vicinato.refused", person.key, before, view(decided, tenant, identity=False))
    if approve:
        _make_resident(tenant, channel, decided, now)
    zone = tenant.vicinato.zone(decided.zone_id)
    text = channel_text(tenant, channel, "vicinato.approved", handle=decided.handle(),
                        zone=zone.name if zone else "") if approve else \
        channel_text(tenant, channel, "vicinato.refused")
    sending.to_person(tenant, channel, decided, [Text(body=text)], job_id=_job("decision", decided.key, now), now=now)
    return view(decided, tenant, identity=True)


def remove(staff: Staff, raw_id: str) -> dict[str, Any]:
    """Someone leaves Vicinato by staff's hand (as ESCI VICINATO)."""
    tenant = tenant_of(staff)
    person = _find(staff, raw_id)
    if person.status in ("left", "refused"):
        return view(person, tenant, identity=staff.may(Capability.TIPS))
    channel = directory.get_channel(person.channel_id)
    record_change(staff, "vicinato.removed", person.key, view(person, tenant, identity=False), {"status": "left"})
    left, _ = leave(tenant, channel, person, clock.now(), actor=staff.subject)
    return view(left, tenant, identity=staff.may(Capability.TIPS))


def _job(kind: str, key: str, now: datetime) -> str:
    return f"vic-{kind}-" + hashlib.sha256(f"{key}|{now.isoformat()}".encode()).hexdigest()[:32]


# ---- the administration: coordinators and stand-ins ----------------------------------------------------------------

class Appointment(BaseModel):
    """A coordinator or stand-in of a zone, appointed by the administration (with the Prefettura's approval)."""

    model_config = ConfigDict(extra="forbid")
    zone: str = Field(min_length=1, max_length=64)
    role: str = Field(pattern=r"^(coordinator|stand_in)$")
    phone: str = Field(min_length=5, max_length=32)
    name: str = Field(min_length=3, max_length=rules.MAX_NAME)
    address: str = Field(min_length=4, max_length=rules.MAX_ADDRESS)
    prefettura_date: date | None = None
    prefettura_ref: str | None = Field(default=None, max_length=100)


def appoint(staff: Staff, data: Appointment) -> dict[str, Any]:
    tenant = tenant_of(staff)
    zone = tenant.vicinato.zone(data.zone)
    if zone is None:
        raise Refused("Zona sconosciuta: prima aggiungila nelle impostazioni (Vicinato).", "zone")
    try:
        phone = normalize(data.phone)
    except InvalidPhone:
        raise Refused("Numero di telefono non valido.", "phone") from None
    channel = safety_channel(tenant.id)
    now = clock.now()
    key = member_key(channel.phone_number_id, citizen_key(phone, None))
    existing = store.get_person(tenant.id, key)
    # one coordinator and one stand-in per zone: whoever held the role before steps down to member
    for other in store.people(tenant.id, zone_id=zone.id, status="active", roles=(data.role,)):
        if other.key != key:
            store.change_person(tenant.id, other.key, lambda current: replace(current, role="member", updated_at=now)
                                if current else None)
    handle_no = existing.handle_no if existing and existing.zone_id == zone.id and existing.handle_no else \
        store.next_handle(tenant.id, zone.id)
    person = Person(
        tenant_id=tenant.id, channel_id=channel.phone_number_id, citizen_key=citizen_key(phone, None),
        zone_id=zone.id, role=data.role, status="active", phone=phone, name=" ".join(data.name.split()),
        address=" ".join(data.address.split()), street=rules.street_of(data.address), handle_no=handle_no,
        source="staff", prefettura_date=data.prefettura_date.isoformat() if data.prefettura_date else None,
        prefettura_ref=data.prefettura_ref, requested_at=existing.requested_at if existing else now,
        decided_at=now, decided_by=staff.subject, updated_at=now,
        draft={k: v for k, v in (existing.draft if existing else {}).items() if k == "news"},
        # a member made coordinator keeps their ID photo's deletion time (the sweep still deletes it) and consent
        id_photo_key=existing.id_photo_key if existing else None,
        id_photo_delete_at=existing.id_photo_delete_at if existing else None,
        notice_version=existing.notice_version if existing else None,
    )
    record_change(staff, "vicinato.appointed", key, view(existing, tenant, False) if existing else None,
                  view(person, tenant, False))
    saved = store.change_person(tenant.id, key, lambda current: person)
    _make_resident(tenant, channel, saved, now)
    return view(saved, tenant, identity=True)


class Promotion(BaseModel):
    """An active member made coordinator or stand-in of their own zone (the administration chooses them by handle)."""

    model_config = ConfigDict(extra="forbid")
    role: str = Field(pattern=r"^(coordinator|stand_in)$")
    prefettura_date: date | None = None
    prefettura_ref: str | None = Field(default=None, max_length=100)


def promote(staff: Staff, raw_id: str, data: Promotion) -> dict[str, Any]:
    """A member of a zone becomes its coordinator or stand-in, as an appointment with their own name, address and
    number (the member keeps their handle)."""
    person = _find(staff, raw_id)
    if not person.active or not person.zone_id:
        raise Refused("Si può nominare solo un membro attivo di una zona.", "status")
    if not person.phone:
        raise Refused("Questo membro non ha un numero di telefono noto: nominalo con il modulo, scrivendo il numero.",
                      "phone")
    return appoint(staff, Appointment(zone=person.zone_id, role=data.role, phone=person.phone,
                                      name=person.name or "", address=person.address or "",
                                      prefettura_date=data.prefettura_date, prefettura_ref=data.prefettura_ref))


def referents(staff: Staff) -> list[dict[str, Any]]:
    """The staff who may be a zone's police referent: enabled members who may read the safety tips (the police), by
    name, as the zone settings' police_referent takes them."""
    from chalicelib.store import staff as staff_store

    found = [m for m in staff_store.of_tenant(staff.tenant_id) if m.enabled and m.as_staff().may(Capability.TIPS)]
    return [{"id": m.subject, "name": m.name} for m in sorted(found, key=lambda m: (m.name.casefold(), m.subject))]


def zones(staff: Staff) -> list[dict[str, Any]]:
    """The zones with their counts and coordinators' handles (no identity)."""
    tenant = tenant_of(staff)
    counts: dict[str, dict[str, Any]] = {z.id: {"active": 0, "pending": 0, "coordinator": None, "stand_in": None}
                                          for z in tenant.vicinato.zones}
    for person in store.people(tenant.id):
        entry = counts.get(person.zone_id or "")
        if entry is None:
            continue
        if person.status in ("active", "pending"):
            entry[person.status] += 1
        if person.active and person.role in ("coordinator", "stand_in"):
            entry[person.role] = {"handle": person.handle(), "prefettura_date": person.prefettura_date,
                                  "prefettura_ref": person.prefettura_ref}
    return [{"id": z.id, "name": z.name, "hamlet": z.hamlet, "streets": list(z.streets),
             "police_referent": z.police_referent or None, **counts[z.id]} for z in tenant.vicinato.zones]


# ---- privacy desk: erasure and export ------------------------------------------------------------------------------

def erase(tenant_id: str, channel_ids: list[str], key: str) -> dict[str, int]:
    """Everything Vicinato holds of one citizen key: their records (and ID photos), their reports and photos."""
    from chalicelib.store import media

    erased = {"vicinato_people": 0, "vicinato_reports": 0}
    keys = {member_key(channel_id, key) for channel_id in channel_ids}
    for mkey in keys:
        person = store.get_person(tenant_id, mkey)
        if person is None:
            continue
        if person.id_photo_key:
            media.delete_keys([person.id_photo_key])
        store.delete_person(tenant_id, mkey)
        erased["vicinato_people"] += 1
    for case in list(store.cases(tenant_id)):
        if case.member_key in keys:
            media.delete_vicinato_case(tenant_id, case.case_id)
            store.delete_case(tenant_id, case.case_id)
            erased["vicinato_reports"] += 1
    return erased


def export(tenant_id: str, channel_ids: list[str], key: str) -> dict[str, Any]:
    """What Vicinato holds of one citizen key, for the subject-access export."""
    keys = {member_key(channel_id, key) for channel_id in channel_ids}
    people = [store.get_person(tenant_id, k) for k in keys]
    return {
        "people": [{"zone": p.zone_id, "role": p.role, "status": p.status, "name": p.name, "address": p.address,
                    "handle": p.handle() if p.handle_no else None, "notice_version": p.notice_version,
                    "requested_at": p.requested_at.isoformat() if p.requested_at else None,
                    "id_photo_kept": bool(p.id_photo_key)} for p in people if p is not None],
        "reports": [{"id": c.case_id, "zone": c.zone_id, "status": c.status, "what": c.what, "where": c.where,
                     "when": c.when, "description": c.description,
                     "created_at": c.created_at.isoformat() if c.created_at else None}
                    for c in store.cases(tenant_id) if c.member_key in keys],
    }
