"""The agenda's share of the privacy desk (services/admin/privacy.py): a person's bookings and agenda record in the
subject-access export, and their erasure (coming bookings cancelled first, so their slots are free again)."""
from __future__ import annotations

from datetime import datetime

from chalicelib.domain.phones import key_parts
from chalicelib.store import agenda as store


def person_of(key: str) -> str | None:
    """The agenda's person for a citizen key: the phone, else the business-scoped user id."""
    phone, user_id = key_parts(key)
    return phone or user_id


def export(tenant_id: str, key: str) -> list[dict]:
    """Every booking of the person (name, contact, service, time, note, history) and what the agenda remembers."""
    who = person_of(key)
    if not who:
        return []
    shown = [{"code": m.booking_id, "service": m.service, "office": m.office, "counter": m.counter, "start": m.start,
              "end": m.end, "status": m.status, "name": m.name, "phone": m.phone, "note": m.note, "source": m.source,
              "created_at": m.created_at.isoformat(), "history": list(m.history or [])}
             for m in store.all_of_person(tenant_id, who)]
    profile = store.person(tenant_id, who)
    if profile is not None:
        shown.append({"code": None, "status": "profile", "name": profile.name if profile.remember else None,
                      "no_shows": int(profile.no_shows or 0), "remember": bool(profile.remember),
                      "consent_at": profile.consent_at.isoformat() if profile.consent_at else None})
    return shown


def count(tenant_id: str, key: str) -> int:
    who = person_of(key)
    return sum(1 for _ in store.all_of_person(tenant_id, who)) if who else 0


def erase(tenant_id: str, key: str, now: datetime, actor: str) -> int:
    """Delete the person's bookings (a coming one is cancelled first: its slot is free again) and agenda record."""
    who = person_of(key)
    if not who:
        return 0
    erased = 0
    for model in list(store.all_of_person(tenant_id, who)):
        made = store.get(tenant_id, model.booking_id)
        if made is not None and made.active:
            try:
                store.finish(made, "cancelled", now, actor)
            except store.Changed:
                pass
        store.erase(tenant_id, model.booking_id)
        erased += 1
    store.erase_person(tenant_id, who)
    return erased
