"""Booking on WhatsApp, on a channel with agenda_booking: PRENOTA -> a service -> a day -> a time -> the name
(asked once; remembered only with consent) -> a summary with what to bring and «Conferma» -> the code, the .ics link
and the link to move or cancel. APPUNTAMENTI lists the citizen's coming bookings with «Sposta» and «Disdico»; the
reminder's buttons (services/agenda/reminders.py) land here too.

The state of the dialogue travels in the reply ids (prefix ag:), so a tap on an old list still means what it said;
only the name being typed waits in the citizen's step (agenda_name) and their agenda record (pending)."""
from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

from chalicelib.domain import agenda as rules
from chalicelib.domain.keywords import normalize_text
from chalicelib.domain.subscriptions import Citizen
from chalicelib.domain.tenancy import Channel, Tenant
from chalicelib.domain.whatsapp import LIST_ROW_TITLE_MAX
from chalicelib.providers.base import Buttons, Choice, ChoiceList, InboundMessage
from chalicelib.services import clock
from chalicelib.services.agenda import booking as service
from chalicelib.services.replies import Conversation
from chalicelib.store import agenda as store
from chalicelib.store.models import AgendaPersonModel

PREFIX = "ag:"
BOOK_WORDS = frozenset({"prenota", "prenotazione", "appuntamento", "prenotare"})
LIST_WORDS = frozenset({"appuntamenti", "le mie prenotazioni", "prenotazioni"})
NAME_STEP = "agenda_name:"  # + the moment it was asked (epoch seconds)
NAME_WAIT = 30 * 60  # a name typed later than this is no answer: the text goes where it would have gone
ROWS = 10
SHOWN_BOOKINGS = 3  # APPUNTAMENTI: one message with two buttons each (replies.MAX_REPLIES is 5)


def wants(channel: Channel, citizen: Citizen, message: InboundMessage) -> bool:
    """Is this message the agenda's? PRENOTA, APPUNTAMENTI, a tap on one of its buttons or rows, or the name it
    asked for (any channel's reminder buttons too: the reminder is the agenda's wherever booking is on). On a
    channel that does not book, PRENOTA and APPUNTAMENTI are the agenda's when another number of the comune books:
    the citizen is told which."""
    if not channel.settings.agenda_booking:
        words = normalize_text(message.text) if message.kind == "text" else ""
        return (words in BOOK_WORDS or words in LIST_WORDS) and service.booking_channel(channel.tenant_id) is not None
    if message.reply is not None:
        return message.reply.id.startswith(PREFIX)
    if message.kind != "text":
        return False
    words = normalize_text(message.text)
    return words in BOOK_WORDS or words in LIST_WORDS or _name_awaited(citizen, words)


def _name_awaited(citizen: Citizen, words: str) -> bool:
    """The agenda asked this citizen's name a short while ago and this text can be one: two words or more, no
    digits, no emergency word (those keep going to the 112 answer)."""
    step = citizen.step or ""
    if not step.startswith(NAME_STEP):
        return False
    asked = step.removeprefix(NAME_STEP)
    if not asked.isdigit() or clock.now().timestamp() - int(asked) > NAME_WAIT:
        return False
    from chalicelib.services.reports.intake import is_emergency

    return len(words.split()) >= 2 and not any(ch.isdigit() for ch in words) and not is_emergency(words)


class Talk(Conversation):
    """One message of a citizen to the agenda, and its replies."""

    @property
    def person(self) -> str:
        return self.citizen.phone or self.citizen.user_id or self.citizen.key

    def who(self, name: str | None) -> service.Who:
        return service.Who(person=self.person, name=name, phone=self.citizen.phone, user_id=self.citizen.user_id,
                           channel_id=self.channel.phone_number_id)

    def day(self, day: date) -> str:
        return service.day_words(self.tenant, day)


def handle_message(tenant: Tenant, channel: Channel, citizen: Citizen, message: InboundMessage, now) -> Talk:
    talk = Talk(tenant, channel, citizen, message, now)
    if not channel.settings.agenda_booking:
        talk.say("agenda.book_elsewhere", number=service.booking_channel(channel.tenant_id).display_phone_number)
    elif message.reply is not None:
        _on_tap(talk, message.reply.id.removeprefix(PREFIX))
    elif normalize_text(message.text) in BOOK_WORDS:
        _clear_step(talk)
        _services(talk, 0)
    elif normalize_text(message.text) in LIST_WORDS:
        _clear_step(talk)
        _mine(talk)
    else:
        _name_typed(talk)
    return talk


def _clear_step(talk: Talk) -> None:
    if (talk.citizen.step or "").startswith(NAME_STEP):
        talk.citizen = replace(talk.citizen, step=None)


def _on_tap(talk: Talk, rest: str) -> None:
    action, _, args = rest.partition(":")
    handlers = {"p": _page, "s": _service_chosen, "d": _day_chosen, "tp": _more_times, "t": _time_chosen,
                "ok": _confirm, "okr": _confirm, "yes": _keep, "no": _cancel, "mv": _move_start,
                "md": _move_day, "mt": _move_time}
    handler = handlers.get(action)
    if handler is None:
        talk.say("agenda.refused")
        return
    if action == "okr":
        _confirm(talk, args, remember=True)
    else:
        handler(talk, args)


# ---- choosing --------------------------------------------------------------------------------------------


def _services(talk: Talk, page: int) -> None:
    services = [s for s in talk.tenant.agenda.services if talk.tenant.agenda.office(s.office)]
    if not services:
        talk.say("agenda.no_services")
        return
    per_page = ROWS - 1 if len(services) > ROWS else ROWS
    shown = services[page * per_page:(page + 1) * per_page]
    if not shown:
        shown, page = services[:per_page], 0
    rows = [Choice(id=f"{PREFIX}s:{s.id}", title=s.list_title,
                   description=_short(talk.tenant.agenda.office(s.office).list_title)) for s in shown]
    if len(services) > (page + 1) * per_page or (len(services) > ROWS and page > 0):
        rows.append(Choice(id=f"{PREFIX}p:{page + 1 if len(services) > (page + 1) * per_page else 0}",
                           title=talk.text("agenda.more_row")))
    talk.replies.append(ChoiceList(body=talk.text("agenda.services_body"), button=talk.text("agenda.services_button"),
                                   rows=rows))


def _short(text: str, most: int = 72) -> str:
    return text if len(text) <= most else text[: most - 1] + "…"


def _page(talk: Talk, args: str) -> None:
    _services(talk, int(args) if args.isdigit() and int(args) < 10 else 0)


def _service(talk: Talk, service_id: str):
    found = service.service_of(talk.tenant, service_id)
    if found is None:
        talk.say("agenda.refused")
    return found


def _days_list(talk: Talk, svc, id_prefix: str, body: str) -> ChoiceList | None:
    days = service.free_days(talk.tenant, svc, talk.now, limit=ROWS)
    if not days:
        return None
    rows = [Choice(id=f"{id_prefix}{d.isoformat()}", title=_short(talk.day(d), LIST_ROW_TITLE_MAX),
                   description=talk.text("agenda.day_row_free", free=free)) for d, free in days]
    return ChoiceList(body=body, button=talk.text("agenda.days_button"), rows=rows)


def _service_chosen(talk: Talk, service_id: str) -> None:
    svc = _service(talk, service_id)
    if svc is None:
        return
    office = talk.tenant.agenda.office(svc.office)
    body = talk.text("agenda.days_body", what=svc.name, office=office.name, address=office.address,
                     minutes=svc.duration_minutes)
    question = _days_list(talk, svc, f"{PREFIX}d:{svc.id}:", body)
    if question is None:
        talk.say("agenda.no_days", what=svc.name)
    else:
        talk.replies.append(question)


def _times_list(talk: Talk, svc, day: date, id_prefix: str, more_prefix: str, after: str = "") -> ChoiceList | None:
    slots = [s for s in service.free_times(talk.tenant, svc, day, talk.now) if s.start > after]
    if not slots:
        return None
    rows = [Choice(id=f"{id_prefix}{s.start}", title=s.time) for s in slots[: ROWS - 1 if len(slots) > ROWS else ROWS]]
    if len(slots) > ROWS:  # the tenth row pages on, after the last time shown
        rows.append(Choice(id=f"{more_prefix}{slots[ROWS - 2].start}", title=talk.text("agenda.more_times_row")))
    return ChoiceList(body=talk.text("agenda.times_body", what=svc.name, day=talk.day(day)),
                      button=talk.text("agenda.times_button"), rows=rows)


def _parse_day(value: str) -> date | None:
    try:
        return date.fromisoformat(value) if len(value) == 10 else None
    except ValueError:
        return None


def _day_chosen(talk: Talk, args: str, after: str = "") -> None:
    service_id, _, day_text = args.partition(":")
    svc, day = _service(talk, service_id), _parse_day(day_text)
    if svc is None:
        return
    _offer_times(talk, svc, day, f"{PREFIX}t:{svc.id}:", f"{PREFIX}tp:{svc.id}:", after)


def _offer_times(talk: Talk, svc, day: date | None, pick: str, more: str, after: str) -> None:
    """The free times of a day as a list (pick: the row ids' prefix, more: the next page's), or why there are none."""
    if day is None:
        talk.say("agenda.refused")
        return
    question = _times_list(talk, svc, day, pick, more, after)
    if question is None:
        talk.say("agenda.no_times", day=talk.day(day))
    else:
        talk.replies.append(question)


def _more_times(talk: Talk, args: str) -> None:
    service_id, _, last = args.partition(":")  # the service, then the last start shown
    if not rules.is_slot_name(last):
        talk.say("agenda.refused")
        return
    _day_chosen(talk, f"{service_id}:{last[:10]}", after=last)


def _time_chosen(talk: Talk, args: str) -> None:
    service_id, _, start = args.partition(":")
    svc = _service(talk, service_id)
    if svc is None:
        return
    if not rules.bookable(talk.tenant.agenda, svc, start, talk.now, service.calendar_of(talk.tenant)):
        talk.say("agenda.refused")
        return
    profile = store.person(talk.tenant.id, talk.person)
    if profile is not None and profile.remember and profile.name:
        _summary(talk, svc, start, profile.name, remembered=True)
        return
    store.save_person(_pending(talk, profile, {"service": svc.id, "start": start}), _person_expiry(talk))
    talk.citizen = replace(talk.citizen, step=f"{NAME_STEP}{int(talk.now.timestamp())}")
    talk.say("agenda.ask_name")


def _pending(talk: Talk, profile: AgendaPersonModel | None, pending: dict | None) -> AgendaPersonModel:
    profile = profile or AgendaPersonModel(talk.tenant.id, talk.person, no_shows=0, remember=False)
    profile.pending = pending
    profile.updated_at = talk.now
    return profile


def _person_expiry(talk: Talk):
    """A person's record outlives their last booking's retention (its horizon is at most 180 days)."""
    return talk.now + timedelta(days=talk.tenant.agenda.retention_days + 180)


def _name_typed(talk: Talk) -> None:
    talk.citizen = replace(talk.citizen, step=None)
    profile = store.person(talk.tenant.id, talk.person)
    pending = (profile.pending or {}) if profile else {}
    svc = service.service_of(talk.tenant, pending.get("service"))
    if svc is None or not rules.is_slot_name(pending.get("start") or ""):
        talk.say("agenda.refused")
        return
    name = rules.clean_name(talk.message.text)
    if name is None:
        talk.citizen = replace(talk.citizen, step=f"{NAME_STEP}{int(talk.now.timestamp())}")
        talk.say("agenda.name_invalid")
        return
    store.save_person(_pending(talk, profile, {**pending, "name": name}), _person_expiry(talk))
    _summary(talk, svc, pending["start"], name, remembered=False)


def _summary(talk: Talk, svc, start: str, name: str, remembered: bool) -> None:
    office = talk.tenant.agenda.office(svc.office)
    body = talk.text("agenda.summary", what=svc.name, day=talk.day(date.fromisoformat(start[:10])),
                     time=start[11:16], office=office.name, address=office.address, name=name,
                     bring=svc.bring or "-")
    buttons = [Choice(id=f"{PREFIX}ok:{svc.id}:{start}", title=talk.text("agenda.confirm_button"))]
    if not remembered:
        buttons.append(Choice(id=f"{PREFIX}okr:{svc.id}:{start}", title=talk.text("agenda.remember_button")))
    talk.replies.append(Buttons(body=body, buttons=buttons))


# ---- booking -----------------------------------------------------------------------------------------------


def _confirm(talk: Talk, args: str, remember: bool = False) -> None:
    service_id, _, start = args.partition(":")
    svc = _service(talk, service_id)
    if svc is None:
        return
    profile = store.person(talk.tenant.id, talk.person)
    pending = (profile.pending or {}) if profile else {}
    name = pending.get("name") if pending.get("start") == start else None
    name = name or (profile.name if profile is not None and profile.remember else None)
    if not name:
        talk.say("agenda.refused")
        return
    try:
        made = service.book(talk.tenant, svc.id, start, talk.who(name), "whatsapp", talk.now)
    except service.Refused:
        talk.say("agenda.refused")
        return
    except service.SlotGone as gone:
        _gone(talk, svc, start, gone.alternatives, f"{PREFIX}t:{svc.id}:")
        return
    if profile is not None:
        profile.pending = None
        if remember:
            profile.name, profile.remember, profile.consent_at = name, True, talk.now
        store.save_person(profile, _person_expiry(talk))
    _booked(talk, made)


def _gone(talk: Talk, svc, start: str, alternatives: list, id_prefix: str) -> None:
    """The slot went to somebody else first: say so, with the next free times to tap."""
    day = date.fromisoformat(start[:10])
    talk.say("agenda.slot_gone", time=start[11:16], day=talk.day(day))
    if not alternatives:
        talk.say("agenda.no_alternatives")
        return
    times = ", ".join(f"{talk.day(s.day)} {s.time}" for s in alternatives)
    talk.replies.append(ChoiceList(body=talk.text("agenda.alternatives", times=times),
                                   button=talk.text("agenda.times_button"),
                                   rows=[Choice(id=f"{id_prefix}{s.start}", title=_short(f"{s.day.strftime('%d/%m')} "
                                                f"{s.time}", 24)) for s in alternatives]))


def _booked(talk: Talk, made) -> None:
    svc = talk.tenant.agenda.service(made.service)
    office = talk.tenant.agenda.office(made.office)
    counter = office.counter(made.counter)
    talk.say("agenda.booked", code=made.code, what=svc.name, day=talk.day(made.day), time=made.time,
             office=office.name, address=office.address, counter=counter.name if counter else made.counter,
             bring=svc.bring or "-", ics_url=service.ics_url(talk.tenant, made),
             manage_url=service.manage_url(talk.tenant, made))


# ---- the citizen's bookings ---------------------------------------------------------------------------------


def coming(talk: Talk) -> list:
    since = rules.slot_name(talk.now)
    return [b for b in store.of_person(talk.tenant.id, talk.person, since) if b.active]


def _mine(talk: Talk) -> None:
    bookings = coming(talk)
    if not bookings:
        talk.say("agenda.mine_none")
        return
    for made in bookings[:SHOWN_BOOKINGS]:
        svc = talk.tenant.agenda.service(made.service)
        office = talk.tenant.agenda.office(made.office)
        talk.replies.append(Buttons(
            body=talk.text("agenda.mine_item", code=made.code, what=svc.name if svc else made.service,
                           day=talk.day(made.day), time=made.time, office=office.name if office else made.office),
            buttons=[Choice(id=f"{PREFIX}mv:{made.code}", title=talk.text("agenda.move_button")),
                     Choice(id=f"{PREFIX}no:{made.code}", title=talk.text("agenda.cancel_button"))]))


def _own(talk: Talk, code: str):
    made = store.get(talk.tenant.id, code) if rules.is_code(code) else None
    if made is None or made.person != talk.person or not made.active:
        talk.say("agenda.not_found")
        return None
    if rules.at(made.start) <= talk.now:
        talk.say("agenda.too_late", code=made.code)
        return None
    return made


def _cancel(talk: Talk, code: str) -> None:
    made = _own(talk, code)
    if made is None:
        return
    try:
        service.cancel(talk.tenant, made, talk.now, "citizen")
    except service.NotChangeable:
        talk.say("agenda.not_found")
        return
    talk.say("agenda.cancelled", code=made.code)


def _keep(talk: Talk, code: str) -> None:
    made = _own(talk, code)
    if made is None:
        return
    if not made.confirmed:
        from chalicelib.services.agenda import reminders

        reminders.confirm(talk.tenant, made, talk.now)
    talk.say("agenda.confirmed", code=made.code, day=talk.day(made.day), time=made.time)


def _move_start(talk: Talk, code: str) -> None:
    made = _own(talk, code)
    if made is None:
        return
    svc = _service(talk, made.service)
    if svc is None:
        return
    question = _days_list(talk, svc, f"{PREFIX}md:{made.code}:",
                          talk.text("agenda.move_body", what=svc.name, code=made.code))
    if question is None:
        talk.say("agenda.no_days", what=svc.name)
    else:
        talk.replies.append(question)


def _move_day(talk: Talk, args: str) -> None:
    code, _, day_text = args.partition(":")  # a day, or the last start shown when paging on
    after = day_text if rules.is_slot_name(day_text) else ""
    made, day = _own(talk, code), _parse_day(day_text[:10] if after else day_text)
    if made is None:
        return
    svc = _service(talk, made.service)
    if svc is None:
        return
    _offer_times(talk, svc, day, f"{PREFIX}mt:{made.code}:", f"{PREFIX}md:{made.code}:", after)


def _move_time(talk: Talk, args: str) -> None:
    code, _, start = args.partition(":")
    made = _own(talk, code)
    if made is None:
        return
    svc = _service(talk, made.service)
    if svc is None:
        return
    try:
        moved = service.move(talk.tenant, made, start, talk.now, "citizen")
    except service.Refused:
        talk.say("agenda.refused")
        return
    except service.NotChangeable:
        talk.say("agenda.not_found")
        return
    except service.SlotGone as gone:
        _gone(talk, svc, start, gone.alternatives, f"{PREFIX}mt:{made.code}:")
        return
    office = talk.tenant.agenda.office(moved.office)
    talk.say("agenda.moved", code=moved.code, day=talk.day(moved.day), time=moved.time, office=office.name)
