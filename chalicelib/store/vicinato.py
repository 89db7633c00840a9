"""Vicinato's records: the people of the zones (vicinato_members) and the relay's cases (vicinato_cases). Every
change is a read-modify-write with a version check; claims (escalation, a handle number) are conditional writes."""
from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from datetime import datetime

from pynamodb.exceptions import DoesNotExist, PutError

from chalicelib.domain.vicinato import Case, CaseEvent, Person
from chalicelib.store.dynamo import is_conditional
from chalicelib.store.models import CounterModel, VicinatoCaseModel, VicinatoMemberModel

MAX_UPDATE_ATTEMPTS = 5
DUE = "due"
PAGE = 200


class Conflict(RuntimeError):
    """The record kept changing under the write."""


def _time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _conditional(error: Exception) -> bool:
    cause = getattr(error, "cause", None)
    return getattr(error, "cause_response_code", None) == "ConditionalCheckFailedException" or (
        cause is not None and hasattr(cause, "response") and is_conditional(cause))


# ---- people -------------------------------------------------------------------------------------------------------

def _person(m: VicinatoMemberModel) -> Person:
    return Person(
        tenant_id=m.tenant_id, channel_id=m.channel_id, citizen_key=m.citizen_key, zone_id=m.zone_id, role=m.role,
        status=m.status, phone=m.phone, user_id=m.user_id, name=m.name, address=m.address,
        handle_no=int(m.handle_no) if m.handle_no is not None else None, street=m.street, source=m.source,
        id_photo_key=m.id_photo_key, id_photo_delete_at=_time(m.photo_due_at), notice_version=m.notice_version,
        prefettura_date=m.prefettura_date, prefettura_ref=m.prefettura_ref, requested_at=_time(m.requested_at),
        decided_at=_time(m.decided_at), decided_by=m.decided_by, refusal_note=m.refusal_note,
        left_at=_time(m.left_at), step=m.step, draft=dict(m.draft or {}), updated_at=_time(m.updated_at),
        expires_at=m.expires_at,
    )


def _person_model(p: Person, version: int | None) -> VicinatoMemberModel:
    photo_waits = bool(p.id_photo_key and p.id_photo_delete_at)
    model = VicinatoMemberModel(
        p.tenant_id, p.key, channel_id=p.channel_id, citizen_key=p.citizen_key, zone_id=p.zone_id, role=p.role,
        status=p.status, phone=p.phone, user_id=p.user_id, name=p.name, address=p.address, handle_no=p.handle_no,
        street=p.street, source=p.source, id_photo_key=p.id_photo_key,
        photo_bucket=DUE if photo_waits else None, photo_due_at=_iso(p.id_photo_delete_at),
        notice_version=p.notice_version, prefettura_date=p.prefettura_date, prefettura_ref=p.prefettura_ref,
        requested_at=_iso(p.requested_at), decided_at=_iso(p.decided_at), decided_by=p.decided_by,
        refusal_note=p.refusal_note, left_at=_iso(p.left_at), step=p.step, draft=p.draft or None,
        updated_at=_iso(p.updated_at), expires_at=p.expires_at,
    )
    if version is not None:
        model.version = version
    return model


def _get_person_model(tenant_id: str, key: str) -> VicinatoMemberModel | None:
    try:
        return VicinatoMemberModel.get(tenant_id, key, consistent_read=True)
    except DoesNotExist:
        return None


def get_person(tenant_id: str, key: str) -> Person | None:
    model = _get_person_model(tenant_id, key)
    return _person(model) if model else None


def change_person(tenant_id: str, key: str, edit: Callable[[Person | None], Person | None]) -> Person | None:
    """Read, edit (None in: nobody yet; None out: nothing to write), write back if nobody wrote in between."""
    for _ in range(MAX_UPDATE_ATTEMPTS):
        model = _get_person_model(tenant_id, key)
        current = _person(model) if model else None
        updated = edit(current)
        if updated is None or updated == current:
            return current
        fresh = _person_model(updated, model.version if model else None)
        try:
            fresh.save()
            return _person(fresh)
        except PutError as error:
            if not _conditional(error):
                raise
    raise Conflict(key)


def people(tenant_id: str, zone_id: str | None = None, status: str | None = None,
           roles: tuple[str, ...] | None = None) -> Iterator[Person]:
    """A comune's people of Vicinato (a few thousand at most: Modena's 2,800), filtered."""
    condition = None
    if zone_id is not None:
        condition = VicinatoMemberModel.zone_id == zone_id
    if status is not None:
        clause = VicinatoMemberModel.status == status
        condition = clause if condition is None else condition & clause
    for model in VicinatoMemberModel.query(tenant_id, filter_condition=condition, page_size=PAGE):
        person = _person(model)
        if roles is None or person.role in roles:
            yield person


def active_page(tenant_id: str, zones: tuple[str, ...], cursor: dict | None, size: int
                ) -> tuple[list[Person], dict | None]:
    """One page of the active people of some zones (the broadcast fan-out's audience) and where the next starts."""
    condition = (VicinatoMemberModel.status == "active") & VicinatoMemberModel.zone_id.is_in(*zones)
    result = VicinatoMemberModel.query(tenant_id, filter_condition=condition, limit=size, last_evaluated_key=cursor)
    found = [_person(m) for m in result]
    return found, result.last_evaluated_key if len(found) >= size else None


def photos_due(now: datetime, limit: int = 100) -> list[Person]:
    """People whose ID photo must now be deleted (every comune: the sweep is one schedule)."""
    return [_person(m) for m in VicinatoMemberModel.photo_due.query(
        DUE, VicinatoMemberModel.photo_due_at <= now.isoformat(), limit=limit)]


def delete_person(tenant_id: str, key: str) -> bool:
    if _get_person_model(tenant_id, key) is None:
        return False
    VicinatoMemberModel(tenant_id, key).delete(add_version_condition=False)
    return True


def next_handle(tenant_id: str, zone_id: str) -> int:
    """The next handle number of a zone ("Vicino 12"): an atomic counter, never given twice."""
    item = CounterModel(f"vicinato-handle#{tenant_id}#{zone_id}")
    item.update(actions=[CounterModel.count.add(1)])
    return int(item.count)


# ---- cases --------------------------------------------------------------------------------------------------------

def _event_raw(e: CaseEvent) -> dict:
    return {"at": e.at.isoformat(), "actor": e.actor, "action": e.action, **({"data": e.data} if e.data else {})}


def _event(raw: dict) -> CaseEvent:
    return CaseEvent(at=datetime.fromisoformat(raw["at"]), actor=raw["actor"], action=raw["action"],
                     data=raw.get("data") or {})


_CASE_TIMES = ("due_at", "created_at", "acted_at", "forwarded_at", "closed_at")


def _case_body(c: Case) -> dict:
    body = {f.name: getattr(c, f.name) for f in dataclasses.fields(Case)}
    for name in _CASE_TIMES:
        body[name] = _iso(body[name])
    body["events"] = [_event_raw(e) for e in c.events]
    body["photos"] = list(c.photos)
    body.pop("expires_at")
    return {k: v for k, v in body.items() if v not in (None, "", [], False)}


def _case(m: VicinatoCaseModel) -> Case:
    body = dict(m.body)
    for name in _CASE_TIMES:
        body[name] = _time(body.get(name))
    body["events"] = tuple(_event(e) for e in body.get("events", ()))
    body["photos"] = tuple(body.get("photos", ()))
    return Case(**body, expires_at=m.expires_at)


def _case_model(c: Case, version: int | None) -> VicinatoCaseModel:
    waiting = c.open and c.due_at is not None
    model = VicinatoCaseModel(c.tenant_id, c.case_id, body=_case_body(c), status=c.status, zone_id=c.zone_id,
                              due_bucket=DUE if waiting else None, due_at=_iso(c.due_at) if waiting else None,
                              expires_at=c.expires_at)
    if version is not None:
        model.version = version
    return model


def create_case(case: Case) -> Case:
    model = _case_model(case, None)
    model.save(condition=VicinatoCaseModel.case_id.does_not_exist())
    return _case(model)


def _get_case_model(tenant_id: str, case_id: str) -> VicinatoCaseModel | None:
    try:
        return VicinatoCaseModel.get(tenant_id, case_id, consistent_read=True)
    except DoesNotExist:
        return None


def get_case(tenant_id: str, case_id: str) -> Case | None:
    model = _get_case_model(tenant_id, case_id)
    return _case(model) if model else None


def change_case(tenant_id: str, case_id: str, edit: Callable[[Case], Case | None]) -> Case | None:
    """Read, edit (None out: nothing to write, e.g. someone already acted), write back under the version check: two
    taps on one case (a coordinator and the schedule) never both win."""
    for _ in range(MAX_UPDATE_ATTEMPTS):
        model = _get_case_model(tenant_id, case_id)
        if model is None:
            return None
        current = _case(model)
        updated = edit(current)
        if updated is None or updated == current:
            return None
        fresh = _case_model(updated, model.version)
        try:
            fresh.save()
            return _case(fresh)
        except PutError as error:
            if not _conditional(error):
                raise
    raise Conflict(case_id)


def cases(tenant_id: str, since: str | None = None, until: str | None = None) -> Iterator[Case]:
    """A comune's cases, oldest first, between two case-id prefixes (times: 20261201T...)."""
    if since and until:
        condition = VicinatoCaseModel.case_id.between(since, until)
    elif since:
        condition = VicinatoCaseModel.case_id >= since
    else:
        condition = None
    for model in VicinatoCaseModel.query(tenant_id, condition, page_size=PAGE):
        yield _case(model)


def due_cases(now: datetime, limit: int = 100) -> list[Case]:
    """Cases whose coordinator (or stand-in) did not act in time, every comune's."""
    return [_case(m) for m in VicinatoCaseModel.due.query(DUE, VicinatoCaseModel.due_at <= now.isoformat(),
                                                          limit=limit)]


def delete_case(tenant_id: str, case_id: str) -> None:
    VicinatoCaseModel(tenant_id, case_id).delete(add_version_condition=False)


