"""Asking to join Vicinato from the citizen portal: the same request as on WhatsApp (people.request), but only once the
number's owner confirms on WhatsApp, as the subscription form's double opt-in.

The form's answers wait on the person's record (status "joining", step "w_confirm", source "web"); the ID photo is
stored at once as the relay stores one (encrypted, Vicinato folder, police only) with a deletion time of the
confirmation's deadline, so the retention sweep removes it if nobody confirms; the record itself expires then. The
confirmation goes to the number through the relay's own sending (free text in the 24-hour window, else the
channel's vicinato_news template whose «Leggi» brings the buttons). Only the tap «Confermo» from that number makes it
a pending request for the police, with consent and the notice's version in the ledger.
"""
from __future__ import annotations

import hashlib
import uuid
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictBool

from chalicelib.domain import vicinato as rules
from chalicelib.domain.phones import InvalidPhone, citizen_key, normalize
from chalicelib.domain.tenancy import Channel, Tenant
from chalicelib.domain.vicinato import Person, member_key
from chalicelib.providers.base import Buttons, Choice, Text
from chalicelib.services import abuse, clock
from chalicelib.services.forms import FormRefused
from chalicelib.services.replies import channel_text
from chalicelib.store import directory
from chalicelib.store import vicinato as store

PER_CLIENT = abuse.Limit("vicinato-web-client", max_hits=10, window_seconds=3600)
PER_PHONE = abuse.Limit("vicinato-web-phone", max_hits=3, window_seconds=24 * 3600)
CONFIRM_HOURS = 48  # an unconfirmed request (and its ID photo) is gone after this
STEP = rules.WEB_STEP  # the person's step while the web request waits for its owner's tap
CONFIRM = f"{rules.WEB_JOIN_PREFIX}yes"
CANCEL = f"{rules.WEB_JOIN_PREFIX}no"
PHOTO_MAX_BYTES = 1_250_000  # decoded: the portal shrinks photos to 1600 px before sending (as the report form)
MAX_BODY_BYTES = 1_800_000  # one photo in base64 and the text
MAX_TENANT_ID = 64
PHOTO_REASONS = {
    "too_large": "La foto del documento è troppo grande (al massimo 1,2 MB): riducila e riprova.",
    "unsupported_type": "Si possono allegare solo foto JPEG, PNG o WebP del documento.",
    "not_an_image": "Il file allegato non è una foto: allega una foto JPEG, PNG o WebP del documento.",
    "damaged": "La foto del documento sembra danneggiata: scegline un'altra.",
}


class NotActive(LookupError):
    """The comune has no Vicinato open to requests (not enabled, no zones, no safety channel or template)."""


class WebJoin(BaseModel):
    """The portal's «Controllo del Vicinato» form."""

    model_config = ConfigDict(extra="forbid")
    zone: str = Field(max_length=64)
    name: str = Field(max_length=rules.MAX_NAME)
    address: str = Field(max_length=rules.MAX_ADDRESS)
    phone: str = Field(max_length=32)
    consent: StrictBool  # only a JSON true: "yes", "true", 1 or "on" are no one's consent
    notice_version: str | None = Field(default=None, max_length=64,
                                       description="The privacy notice version the form showed.")
    id_photo: str | None = Field(default=None, max_length=MAX_BODY_BYTES,
                                 description="The ID document's photo in base64 (a data: URL prefix is allowed).")
    website: str = Field(default="", max_length=200, description="Leave empty: a field people never see.")


def public_view(tenant_id: str) -> dict[str, Any]:
    """What the portal's page needs: whether requests are open, whether an ID photo is needed, the zones (id and
    name only) and the privacy notice. Nothing personal."""
    tenant, _ = _open(tenant_id)
    settings = tenant.vicinato
    return {"open": True, "id_required": settings.id_required,
            "zones": [{"id": z.id, "name": z.name} for z in settings.zones],
            "privacy_notice_url": tenant.privacy_notice_url or None,
            "privacy_notice_version": tenant.privacy_notice_version or None,
            "confirm_hours": CONFIRM_HOURS}


def _open(tenant_id: str) -> tuple[Tenant, Channel]:
    tenant = directory.get_tenant(tenant_id) if len(tenant_id) <= MAX_TENANT_ID else None
    if tenant is None:
        raise LookupError("tenant")
    channel = next((c for c in directory.channels_of(tenant.id) if c.kind == "safety"), None)
    template = channel.template("vicinato_news") if channel else None
    if not tenant.vicinato.enabled or not tenant.vicinato.zones or template is None or not template.approved:
        raise NotActive("vicinato")
    return tenant, channel


def submit(tenant_id: str, form: WebJoin, client: str) -> dict[str, Any]:
    """Check, limit, keep the answers and the ID photo on an unconfirmed record, ask the number on WhatsApp."""
    from chalicelib.domain import images

    tenant, channel = _open(tenant_id)
    settings = tenant.vicinato
    if form.website.strip():
        raise FormRefused("form", "La richiesta non può essere accettata.")  # filled by a bot, not a person
    zone = settings.zone(form.zone)
    if zone is None:
        raise FormRefused("zone", "Scegli la tua zona dall'elenco.")
    name = " ".join(form.name.split())
    if len(name.split()) < 2 or len(name) < 3:
        raise FormRefused("name", "Scrivi nome e cognome per intero, come sul documento d'identità.")
    address = " ".join(form.address.split())
    if len(address) < 4:
        raise FormRefused("address", "Scrivi il tuo indirizzo di residenza (via e numero civico).")
    try:
        phone = normalize(form.phone)
    except InvalidPhone:
        raise FormRefused("phone", "Il numero di telefono non è valido.") from None
    photo = _checked(form.id_photo, images) if form.id_photo else None
    if settings.id_required and photo is None:
        raise FormRefused("id_photo", "Allega una foto del tuo documento d'identità (carta d'identità o patente).")
    if not form.consent:
        raise FormRefused("consent", "Per chiedere di entrare bisogna accettare l'informativa privacy.")
    current_version = tenant.privacy_notice_version or None
    if form.notice_version != current_version:
        raise FormRefused("consent", "L'informativa privacy è stata aggiornata: ricarica la pagina, leggila e "
                                     "conferma di nuovo.")
    abuse.check(PER_CLIENT, client)
    abuse.check(PER_PHONE, phone)

    now = clock.now()
    key = member_key(channel.phone_number_id, citizen_key(phone, None))
    existing = store.get_person(tenant.id, key)
    if existing is not None and existing.status in ("active", "pending"):
        _tell_status(tenant, channel, existing, now)  # the answer goes to the number's owner, not to the form
        return _answer()
    deadline = now + timedelta(hours=CONFIRM_HOURS)
    photo_key = _keep_photo(tenant.id, key, photo) if photo else None
    person = Person(
        tenant_id=tenant.id, channel_id=channel.phone_number_id, citizen_key=citizen_key(phone, None),
        zone_id=zone.id, status="joining", phone=phone, name=name, address=address,
        street=rules.street_of(address), source="web", id_photo_key=photo_key,
        id_photo_delete_at=deadline if photo_key else None, notice_version=current_version, requested_at=now,
        step=STEP, updated_at=now, expires_at=deadline)
    replaced: list[str] = []

    def put(current: Person | None) -> Person | None:
        if current is not None and current.status in ("active", "pending"):
            return None  # became a member or a request meanwhile: nothing of the form overwrites it
        if current is not None and current.id_photo_key and current.id_photo_key != photo_key:
            replaced.append(current.id_photo_key)
        return replace(person, draft={k: v for k, v in (current.draft if current else {}).items() if k == "news"},
                       handle_no=current.handle_no if current else None)  # what the record keeps of before
    saved = store.change_person(tenant.id, key, put)
    if saved is None or saved.status != "joining":
        if photo_key:
            _delete([photo_key])
        return _answer()
    if replaced:
        _delete(replaced)  # an earlier unconfirmed request's photo: only the newest request waits
    _ask(tenant, channel, saved, now)  # after every write: nothing after a send can fail the form
    return _answer()


def _answer() -> dict[str, Any]:
    # the same answer whatever the number's status: the form reveals no one's membership
    return {"status": "pending_confirmation",
            "message": "Ti abbiamo scritto su WhatsApp: tocca «Confermo» nel messaggio per inviare la richiesta alla "
                       f"Polizia Locale. Senza conferma entro {CONFIRM_HOURS} ore la richiesta e i dati vengono "
                       "cancellati."}


def _checked(data: str, images):
    try:
        return images.check_base64(data, PHOTO_MAX_BYTES)
    except images.RefusedImage as refused:
        raise FormRefused("id_photo", PHOTO_REASONS.get(refused.reason, PHOTO_REASONS["damaged"])) from None


def _keep_photo(tenant_id: str, key: str, photo) -> str:
    from chalicelib.services.vicinato import photos

    content, checked = photo
    kept = photos.keep(tenant_id, "id", photos.person_folder(key), uuid.uuid4().hex[:12], content, checked)
    return kept["key"]


def _delete(keys: list[str]) -> None:
    from chalicelib.store import media

    media.delete_keys(keys)


def _job(kind: str, person: Person, now: datetime) -> str:
    return f"vic-web{kind}-" + hashlib.sha256(f"{person.key}|{now.isoformat()}".encode()).hexdigest()[:32]


def confirmation(tenant: Tenant, channel: Channel, person: Person) -> Buttons:
    """The question with its two buttons (the relay asks it again when the person writes something else)."""
    zone = tenant.vicinato.zone(person.zone_id)
    return Buttons(
        body=channel_text(tenant, channel, "vicinato.web_confirm", zone=zone.name if zone else "",
                          version=person.notice_version or "", hours=CONFIRM_HOURS),
        buttons=[Choice(id=CONFIRM, title=channel_text(tenant, channel, "vicinato.web_confirm_yes")),
                 Choice(id=CANCEL, title=channel_text(tenant, channel, "vicinato.web_confirm_no"))])


def _ask(tenant: Tenant, channel: Channel, person: Person, now: datetime) -> None:
    from chalicelib.services.vicinato import sending

    sending.to_person(tenant, channel, person, [confirmation(tenant, channel, person)], job_id=_job("ask", person, now),
                      now=now)


def _tell_status(tenant: Tenant, channel: Channel, person: Person, now: datetime) -> None:
    from chalicelib.services.vicinato import sending

    text = channel_text(tenant, channel, "vicinato.web_already_member", handle=person.handle()) if person.active \
        else channel_text(tenant, channel, "vicinato.join_pending")
    sending.to_person(tenant, channel, person, [Text(body=text)], job_id=_job("status", person, now), now=now)


def waiting(person: Person | None, now: datetime) -> bool:
    """Whether person is a web request still waiting for its owner's tap."""
    return (person is not None and person.status == "joining" and person.step == STEP
            and (person.expires_at is None or person.expires_at > now))
