"""Reminders and releases, by the schedule (app.py: send_agenda_reminders), and every message the agenda sends a
citizen outside a reply (staff cancelling, a closure).

Each booking carries its next due moment (the `due` index): the reminder `reminder_hours` before, then, for a
citizen past the no-show limit who has not confirmed, the release `release_hours` before. The schedule claims each
with a conditional update on that moment, so two runs never remind twice; the reminder's job id names the booking
and its time, so a redelivered job sends nothing more. Inside the 24-hour window the reminder is free text with
three buttons; outside it, the channel's approved `agenda_reminder` template with the same three quick replies."""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from chalicelib.domain import agenda as rules
from chalicelib.domain.agenda import Booking
from chalicelib.domain.broadcasts import in_service_window
from chalicelib.domain.phones import citizen_key
from chalicelib.domain.tenancy import Channel, Tenant
from chalicelib.observability import logger
from chalicelib.providers.base import Buttons, Choice, Template, Text
from chalicelib.services import clock
from chalicelib.services.agenda import booking as service
from chalicelib.services.messaging import outbound
from chalicelib.services.replies import channel_text
from chalicelib.store import agenda as store
from chalicelib.store import citizens, directory

PREFIX = "ag:"
MAX_PER_RUN = 500  # a run's bound: the rest waits for the next minute


def send_due(now: datetime | None = None) -> dict[str, int]:
    """Remind or release every booking whose moment has come; counts of what was done."""
    now = now or clock.now()
    done = {"reminded": 0, "released": 0, "skipped": 0}
    tenants: dict[str, Tenant | None] = {}
    for count, due in enumerate(store.due(now)):
        if count >= MAX_PER_RUN:
            break
        tenant = tenants.setdefault(due.tenant_id, directory.get_tenant(due.tenant_id))
        if tenant is None or not due.active:
            done["skipped"] += 1
            continue
        if due.due_action == "remind":
            done["reminded" if _remind(tenant, due, now) else "skipped"] += 1
        elif due.due_action == "release":
            done["released" if _release(tenant, due, now) else "skipped"] += 1
    return done


def _remind(tenant: Tenant, due: Booking, now: datetime) -> bool:
    reminded = replace(due, reminded_at=now)
    next_at, action = rules.next_due(tenant.agenda, reminded, now)
    try:
        claimed = store.update(due, now, "reminded", "schedule", reminded_at=now, due_at=next_at, due_action=action)
    except store.Changed:
        return False  # another run claimed it, or the booking changed
    if rules.at(due.start) <= now:
        return False
    tell(tenant, claimed, "remind", now)
    return True


def _release(tenant: Tenant, due: Booking, now: datetime) -> bool:
    if due.confirmed:
        return False
    try:
        released = store.finish(due, "released", now, "schedule")
    except store.Changed:
        return False
    tell(tenant, released, "released", now)
    return True


def confirm(tenant: Tenant, booking: Booking, now: datetime) -> Booking | None:
    """«Confermo»: the citizen will come; a release waiting for it is called off."""
    confirmed = replace(booking, confirmed=True)
    next_at, action = rules.next_due(tenant.agenda, confirmed, now)
    try:
        return store.update(booking, now, "confirmed", "citizen", confirmed=True, due_at=next_at, due_action=action)
    except store.Changed:
        return None


def channel_of(tenant: Tenant, booking: Booking) -> Channel | None:
    """Where the agenda writes to the citizen: the channel it was booked on, else the comune's first channel with
    booking on (a web or desk booking)."""
    if booking.channel_id:
        channel = directory.get_channel(booking.channel_id)
        if channel is not None and channel.tenant_id == tenant.id:
            return channel
    return next((c for c in directory.channels_of(tenant.id) if c.settings.agenda_booking), None)


def tell(tenant: Tenant, booking: Booking, what: str, now: datetime, reason: str = "") -> bool:
    """Queue a message about a booking to its citizen: remind, released, closure, staff_cancelled. False when
    nothing can go (no phone, no channel, outside the window without a template)."""
    if not (booking.phone or booking.user_id):
        return False
    channel = channel_of(tenant, booking)
    if channel is None:
        return False
    citizen = citizens.find(channel.phone_number_id, booking.phone, booking.user_id)
    in_window = citizen is not None and in_service_window(citizen.last_inbound_at, now)
    content = _content(tenant, channel, booking, what, in_window, reason, now)
    if content is None:
        logger.warning("agenda message not sent: outside the window without a template",
                       extra={"tenant": tenant.id, "what": what})
        return False
    key = citizen.key if citizen is not None else citizen_key(booking.phone, booking.user_id)
    recipient = outbound.JobRecipient(key=key, phone=booking.phone, user_id=booking.user_id)
    outbound.reply(tenant.id, channel.phone_number_id, recipient, content,
                   job_id=f"agenda-{what}-{tenant.id}-{booking.code}-{booking.start}")
    return True


def _words(tenant: Tenant, booking: Booking) -> dict[str, str]:
    svc = tenant.agenda.service(booking.service)
    office = tenant.agenda.office(booking.office)
    return {"code": booking.code, "what": svc.name if svc else booking.service,
            "day": service.day_words(tenant, booking.day), "time": booking.time,
            "office": office.name if office else booking.office,
            "place": ", ".join(p for p in (office.name, office.address) if p) if office else booking.office}


def _buttons(tenant: Tenant, channel: Channel, code: str) -> list[Choice]:
    return [Choice(id=f"{PREFIX}yes:{code}", title=channel_text(tenant, channel, "agenda.keep_button")),
            Choice(id=f"{PREFIX}mv:{code}", title=channel_text(tenant, channel, "agenda.move_button")),
            Choice(id=f"{PREFIX}no:{code}", title=channel_text(tenant, channel, "agenda.cancel_button"))]


def _content(tenant: Tenant, channel: Channel, booking: Booking, what: str, in_window: bool, reason: str,
             now: datetime) -> list | None:
    w = _words(tenant, booking)
    if what == "remind":
        deadline = rules.release_at(tenant.agenda, booking.start).astimezone(rules.ROME)
        if in_window:
            body = channel_text(tenant, channel, "agenda.reminder", what=w["what"], day=w["day"], time=w["time"],
                                office=w["office"], code=w["code"])
            if booking.must_confirm and not booking.confirmed:
                body += "\n" + channel_text(tenant, channel, "agenda.reminder_must_confirm",
                                            deadline=deadline.strftime("%H:%M"))
            return [Buttons(body=body, buttons=_buttons(tenant, channel, booking.code))]
        template = channel.template("agenda_reminder")
        if template is None or not template.approved:
            return None
        return [Template(name=template.name, language=template.language,
                         body_params=[w["what"], f"{w['day']} {w['time']}", w["place"], w["code"]],
                         button_payloads=[b.id for b in _buttons(tenant, channel, booking.code)])]
    if not in_window:
        return _update_template(tenant, channel, booking, what, w)
    if what == "closure":
        body = channel_text(tenant, channel, "agenda.closure", reason=f" ({reason})" if reason else "", what=w["what"],
                            day=w["day"], time=w["time"], office=w["office"], code=w["code"])
    elif what == "released":
        body = channel_text(tenant, channel, "agenda.released", code=w["code"], day=w["day"], time=w["time"])
    else:
        body = channel_text(tenant, channel, "agenda.staff_cancelled", code=w["code"], what=w["what"], day=w["day"],
                            time=w["time"])
    return [Text(body=body)]


def _update_template(tenant: Tenant, channel: Channel, booking: Booking, what: str, w: dict) -> list | None:
    """Outside the window: the channel's approved agenda_update template ({{1}} code, {{2}} what and when, {{3}} what
    happened), or nothing."""
    template = channel.template("agenda_update")
    if template is None or not template.approved:
        return None
    when = channel_text(tenant, channel, "agenda.update_when", what=w["what"], day=w["day"], time=w["time"])
    if what == "closure":
        happened = channel_text(tenant, channel, "agenda.update_closure")
    elif what == "released":
        happened = channel_text(tenant, channel, "agenda.update_released")
    else:
        happened = channel_text(tenant, channel, "agenda.update_staff_cancelled")
    return [Template(name=template.name, language=template.language, body_params=[w["code"], when, happened])]

