"""Reports filed on the citizen portal's form: checked, numbered and queued like WhatsApp and desk ones.

The same pipeline: the yearly number, the hamlet from the pin, duplicate detection (a report already open
nearby in the same category makes this one its duplicate), photos checked by content and kept with a copy
without metadata, the staff inbox. Minimal data: a phone number only when the citizen asks to follow the
report on WhatsApp, and then it reaches staff only; updates go to it only once its owner confirmed on WhatsApp
(services/reports/following.py).
"""
from __future__ import annotations

import uuid
from dataclasses import replace

from pydantic import BaseModel, ConfigDict, Field, StrictBool, field_validator

from chalicelib.domain import geo
from chalicelib.domain.phones import InvalidPhone, normalize
from chalicelib.domain.reports import Event, Position, Report
from chalicelib.services import abuse, clock
from chalicelib.services.forms import FormRefused
from chalicelib.services.reports import arrivals, following, portal
from chalicelib.services.reports.desk import DeskPosition
from chalicelib.store import reports as store

PER_CLIENT = abuse.Limit("web-report-client", max_hits=10, window_seconds=3600)
PER_PHONE = abuse.Limit("web-report-phone", max_hits=5, window_seconds=24 * 3600)
MAX_PHOTOS = 3
PHOTO_MAX_BYTES = 1_250_000  # each, decoded: the portal shrinks photos to 1600 px before sending
MAX_BODY_BYTES = 5_500_000  # three photos in base64 and the text, under Lambda's 6 MB synchronous payload
PHOTO_REASONS = {
    "too_large": "Una foto è troppo grande (al massimo {mb} MB): riducila e riprova.",
    "unsupported_type": "Si possono allegare solo foto JPEG, PNG o WebP.",
    "not_an_image": "Un file allegato non è una foto: si possono allegare solo foto JPEG, PNG o WebP.",
    "damaged": "Una foto sembra danneggiata: scegline un'altra.",
}


class WebPhoto(BaseModel):
    model_config = ConfigDict(extra="forbid")
    data: str = Field(max_length=MAX_BODY_BYTES, description="The image file in base64 (a data: URL prefix is allowed).")


class FollowOnWhatsApp(BaseModel):
    model_config = ConfigDict(extra="forbid")
    phone: str = Field(max_length=32)
    consent: StrictBool  # only a JSON true: "yes", "true", 1 or "on" are no one's consent


class WebReport(BaseModel):
    """The portal's report form."""

    model_config = ConfigDict(extra="forbid")
    category: str = Field(min_length=1, max_length=64)
    description: str = Field(min_length=3, max_length=2000)
    position: DeskPosition | None = None  # the same shape as the desk's
    hamlet: str | None = Field(default=None, max_length=64)
    address: str | None = Field(default=None, max_length=200)
    photos: list[WebPhoto] = Field(default_factory=list, max_length=MAX_PHOTOS)
    follow: FollowOnWhatsApp | None = None
    website: str = Field(default="", max_length=200, description="Leave empty: a field people never see.")

    @field_validator("description")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if len(value.strip()) < 3:
            raise ValueError("must have at least 3 characters besides spaces")
        return value.strip()


def submit(tenant_id: str, form: WebReport, client: str) -> dict:
    """Check, limit, open the report, keep its photos, look for a duplicate; the citizen's confirmation."""
    from chalicelib.domain import images

    comune = portal.tenant(tenant_id)
    if form.website.strip():
        raise FormRefused("form", "La segnalazione non può essere accettata.")  # filled by a bot, not a person
    if comune.reports.category(form.category) is None:
        raise FormRefused("category", "Scegli una categoria dall'elenco.")
    if form.hamlet and comune.hamlet(form.hamlet) is None:
        raise FormRefused("hamlet", "Frazione sconosciuta.")
    if form.position is None and not form.hamlet:
        raise FormRefused("position", "Indica il luogo: tocca la mappa, usa la tua posizione o scegli la frazione.")
    photos = [_checked(index, photo.data, images) for index, photo in enumerate(form.photos)]
    phone = _follow_phone(form.follow)
    channel = following.channel_of(comune) if phone else None
    if phone and channel is None:
        raise FormRefused("follow", "Gli aggiornamenti su WhatsApp non sono ancora attivi per questo comune: "
                                    "togli il numero e invia la segnalazione.")
    abuse.check(PER_CLIENT, client)
    if phone:
        abuse.check(PER_PHONE, phone)
    report = _open(comune, form, phone, channel)
    if photos:
        report = _keep_photos(report, photos)
    original = _duplicate_check(comune, report)
    if original is None:
        arrivals.announce(report)  # the office's email, queued: never a reason for the form to fail
    if phone:
        following.ask(comune, channel, report, phone)  # after every write: nothing after a send can fail it
    return {
        "number": report.number, "token": report.public_token,
        "duplicate_of": original.number if original else None,
        "message": (f"Grazie! La segnalazione n. {report.number} è stata registrata."
                    + (f" Lo stesso problema era già stato segnalato (n. {original.number}): la seguiamo insieme."
                       if original else "")
                    + (" Ti abbiamo scritto su WhatsApp: tocca il pulsante del messaggio per confermare che vuoi "
                       "ricevere gli aggiornamenti." if phone else "")),
    }


def _checked(index: int, data: str, images) -> tuple[bytes, object]:
    try:
        return images.check_base64(data, PHOTO_MAX_BYTES)
    except images.RefusedImage as refused:
        message = PHOTO_REASONS.get(refused.reason, PHOTO_REASONS["damaged"])
        raise FormRefused(f"photos.{index}", message.format(mb=round(PHOTO_MAX_BYTES / 1_000_000, 1))) from None


def _follow_phone(follow: FollowOnWhatsApp | None) -> str | None:
    if follow is None or not follow.phone.strip():
        return None
    if not follow.consent:
        raise FormRefused("follow.consent", "Per seguire la segnalazione su WhatsApp serve il tuo consenso.")
    try:
        return normalize(follow.phone)
    except InvalidPhone:
        raise FormRefused("follow.phone", "Il numero di telefono non è valido.") from None


def _open(comune, form: WebReport, phone: str | None, channel) -> Report:
    """The report; a phone to follow it is its contact only, until its owner confirms (following.confirm)."""
    now = clock.now()
    position = Position(form.position.latitude, form.position.longitude, form.address) if form.position else None
    hamlet = (geo.hamlet_id_at(position.latitude, position.longitude, comune.hamlets) if position else None) \
        or form.hamlet
    return store.open_report(
        comune.id, "report", now, source="web", contact={"phone": phone} if phone else {}, text=form.description,
        category=form.category, hamlet=hamlet, position=position, address=form.address,
        events=(Event(at=now, actor="citizen", action="created", public=True, status="new", data={"source": "web"}),
                *((following.requested(channel),) if phone else ())))


def _keep_photos(report: Report, checked: list) -> Report:
    from chalicelib.services.reports import photos

    kept = tuple(photos.keep(report.tenant_id, report.report_id, uuid.uuid4().hex[:12], content, image)
                 for content, image in checked)
    now = clock.now()

    def edit(current: Report) -> Report:
        events = tuple(Event(at=now, actor="citizen", action="photo", data={"photo": p.id, "status": p.status})
                       for p in kept)
        return replace(current, photos=current.photos + kept, events=current.events + events, updated_at=now)
    return store.change(report.tenant_id, report.report_id, edit)


def _duplicate_check(comune, report: Report) -> Report | None:
    """The same check as WhatsApp intake: an open report nearby in the same category becomes the original."""
    from chalicelib.services.reports import desk, intake

    if report.position is None:
        return None
    original = intake.open_duplicate_of(comune, report)
    if original is None:
        return None
    return desk.mark_duplicate(comune, report, original, actor="system", now=clock.now())
