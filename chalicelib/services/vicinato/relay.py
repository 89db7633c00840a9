"""Vicinato on WhatsApp: joining (VICINATO), leaving (ESCI VICINATO), a member's short report exchange that ends in
their coordinator's queue, the coordinator's buttons, the guard-rails. Nobody's number or name goes to anyone: people
are handles ("Vicino 12 · via Roma"). services.inbound sends here what `claims` takes."""
from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import datetime

from chalicelib.domain import vicinato as rules
from chalicelib.domain.broadcasts import is_notice_tap
from chalicelib.domain.keywords import normalize_text
from chalicelib.domain.subscriptions import Citizen
from chalicelib.domain.tenancy import Channel, Tenant
from chalicelib.domain.vicinato import Case, CaseEvent, Person, member_key
from chalicelib.observability import logger
from chalicelib.providers.base import Buttons, Choice, ChoiceList, Content, InboundMessage, Text
from chalicelib.services.replies import Conversation, channel_text
from chalicelib.services.vicinato import sending
from chalicelib.store import counters
from chalicelib.store import vicinato as store

PREFIX = "vic:"
JOIN_WORD = "vicinato"
LEAVE_WORD = "esci vicinato"
MEDIA_KINDS = ("image", "audio", "video", "document")
LIST_ROWS_MAX = 10
JOIN_STEPS = ("j_zone", "j_name", "j_address", "j_id", "j_consent")
REPORT_STEPS = ("r_what", "r_where", "r_when", "r_desc")
WHEN_CHOICES = ("now", "recent", "urgent")


class Talk(Conversation):
    """One message of someone on the safety channel that Vicinato handles: the replies to them, and the messages it
    causes to others (their coordinator, a member), queued after every state write (services.inbound)."""

    def __init__(self, tenant: Tenant, channel: Channel, citizen: Citizen, message: InboundMessage, now: datetime):
        super().__init__(tenant, channel, citizen, message, now)
        self.others: list[tuple[Person, list[Content]]] = []

    @property
    def settings(self) -> rules.VicinatoSettings:
        return self.tenant.vicinato

    @property
    def key(self) -> str:
        return member_key(self.channel.phone_number_id, self.citizen.key)

    def tell(self, person: Person, contents: list[Content]) -> None:
        self.others.append((person, contents))

    def queue_replies(self) -> None:
        super().queue_replies()
        for index, (person, contents) in enumerate(self.others):
            sending.to_person(self.tenant, self.channel, person, contents,
                              job_id=f"vic-{self.message.message_id}-{index}", now=self.now)


def claims(tenant: Tenant, channel: Channel, citizen: Citizen, message: InboundMessage) -> bool:
    """Whether a safety-channel message is Vicinato's: its keywords, its buttons, or someone joining or a member."""
    if channel.kind != "safety" or not tenant.vicinato.enabled:
        return False
    if message.kind == "text" and normalize_text(message.text) in (JOIN_WORD, LEAVE_WORD):
        return True
    if message.kind == "reply" and message.reply and message.reply.id.startswith(PREFIX):
        return True
    person = store.get_person(tenant.id, member_key(channel.phone_number_id, citizen.key))
    return person is not None and person.status in ("joining", "pending", "active")


def handle_message(tenant: Tenant, channel: Channel, citizen: Citizen, message: InboundMessage,
                   now: datetime) -> Talk:
    talk = Talk(tenant, channel, citizen, message, now)
    person = store.get_person(tenant.id, talk.key)
    words = normalize_text(message.text) if message.kind == "text" else ""
    reply_id = message.reply.id if message.kind == "reply" and message.reply else ""
    if words == LEAVE_WORD:
        _leave(talk, person)
    elif words == JOIN_WORD:
        _start_join(talk, person)
    elif reply_id == sending.NEWS_PAYLOAD and person is not None:
        _read_news(talk, person)
    elif reply_id.startswith(rules.WEB_JOIN_PREFIX):
        _confirm_web_join(talk, person, reply_id)
    elif is_notice_tap(reply_id):
        _read_notice(talk, reply_id)
    elif person is not None and person.status == "pending":
        talk.say("vicinato.join_pending")
    elif person is None or person.status not in ("joining", "active"):
        talk.say("vicinato.not_member")
    elif person.status == "joining":
        _join_step(talk, person)
    elif person.coordinates:
        _coordinator(talk, person)
    else:
        _member(talk, person)
    return talk


def _update(talk: Talk, person: Person, **changes) -> Person:
    """Write changes to person's record (draft keys merged: None drops one), over what is stored now."""
    draft = changes.pop("draft", None)

    def edit(current: Person | None) -> Person | None:
        base = current or person
        merged = base.draft if draft is None else {k: v for k, v in {**base.draft, **draft}.items() if v is not None}
        return replace(base, **changes, draft=merged, updated_at=talk.now)
    return store.change_person(talk.tenant.id, person.key, edit) or person


def _audit(talk: Talk, action: str, target: str, who: str = "vicinato") -> None:
    """Every relay step in the audit log (actor: the relay; never a citizen's number)."""
    from chalicelib.store import audit

    audit.append(audit.AuditEntry(tenant_id=talk.tenant.id, actor=who, action=f"vicinato.{action}", target=target,
                                  at=talk.now, actor_name="Vicinato"))


# ---- leaving, news, notices ---------------------------------------------------------------------------------------

def _leave(talk: Talk, person: Person | None) -> None:
    if person is None or person.status in ("left", "refused"):
        talk.say("vicinato.leave_none")
        return
    from chalicelib.services.vicinato import people

    _, citizen = people.leave(talk.tenant, talk.channel, person, talk.now, actor="citizen", citizen=talk.citizen)
    talk.citizen = citizen or talk.citizen
    _audit(talk, "left", person.zone_id or "")
    talk.say("vicinato.left")


def _read_news(talk: Talk, person: Person) -> None:
    from pydantic import TypeAdapter

    news = sending.take_news(person)
    if not news:
        talk.say("vicinato.news_none")
        return
    talk.replies.extend(TypeAdapter(list[Content]).validate_python(news)[:5])


def _read_notice(talk: Talk, payload: str) -> None:
    from chalicelib.services.broadcasts import notice

    try:
        full = notice.after_tap(talk.tenant, talk.channel, payload)
    except notice.NoNotice:
        talk.say("vicinato.news_none")
        return
    talk.replies.append(full)


# ---- joining --------------------------------------------------------------------------------------------------------

def _start_join(talk: Talk, person: Person | None) -> None:
    if person is not None and person.active:
        talk.say("vicinato.already_member", handle=person.handle())
        return
    if person is not None and person.status == "pending":
        talk.say("vicinato.join_pending")
        return
    from chalicelib.services.vicinato import web_join

    if web_join.waiting(person, talk.now):
        _ask_web_confirmation(talk, person)  # a request from the portal waits for this very tap
        return
    zones = talk.settings.zones
    if not zones:
        talk.say("vicinato.no_zones")
        return
    fresh = Person(tenant_id=talk.tenant.id, channel_id=talk.channel.phone_number_id, citizen_key=talk.citizen.key,
                   zone_id=None, status="joining", phone=talk.citizen.phone, user_id=talk.citizen.user_id,
                   requested_at=talk.now, step="j_zone", updated_at=talk.now,
                   expires_at=talk.now + talk.tenant.retention.days("inactive_citizens"))
    store.change_person(talk.tenant.id, fresh.key, lambda current: fresh)
    talk.say("vicinato.join_intro", id_part=talk.text("vicinato.id_part") if talk.settings.id_required else "")
    _ask_zone(talk)


def _ask_zone(talk: Talk) -> None:
    zones = talk.settings.zones
    if len(zones) <= LIST_ROWS_MAX:
        rows = [Choice(id=f"{PREFIX}zone:{z.id}", title=z.list_title) for z in zones]
        talk.replies.append(ChoiceList(body=talk.text("vicinato.join_zone"), button=talk.text("vicinato.zone_button"),
                                       rows=rows))
    else:
        names = ", ".join(z.name for z in zones)
        talk.say("vicinato.join_zone_typed", zones=names[:3000])


def _zone_from(talk: Talk) -> rules.Zone | None:
    message = talk.message
    if message.kind == "reply" and message.reply and message.reply.id.startswith(f"{PREFIX}zone:"):
        return talk.settings.zone(message.reply.id.removeprefix(f"{PREFIX}zone:"))
    if message.kind == "text":
        typed = normalize_text(message.text)
        return next((z for z in talk.settings.zones if normalize_text(z.name) == typed or z.id == typed), None)
    return None


def _join_step(talk: Talk, person: Person) -> None:
    message, step = talk.message, person.step
    if step == "j_zone":
        zone = _zone_from(talk)
        if zone is None:
            _ask_zone(talk)
            return
        _update(talk, person, zone_id=zone.id, step="j_name")
        talk.say("vicinato.join_name", zone=zone.name)
    elif step == "j_name":
        name = " ".join((message.text or "").split())[:rules.MAX_NAME] if message.kind == "text" else ""
        if len(name.split()) < 2:
            talk.say("vicinato.join_name_again")  # pseudonyms and single names are refused (Prato's vademecum)
            return
        _update(talk, person, name=name, step="j_address")
        talk.say("vicinato.join_address")
    elif step == "j_address":
        address = " ".join((message.text or "").split())[:rules.MAX_ADDRESS] if message.kind == "text" else ""
        if len(address) < 4:
            talk.say("vicinato.join_address")
            return
        needs_id = talk.settings.id_required
        person = _update(talk, person, address=address, street=rules.street_of(address),
                         step="j_id" if needs_id else "j_consent")
        if needs_id:
            talk.say("vicinato.join_id")
        else:
            _ask_consent(talk)
    elif step == "j_id":
        if message.kind != "image" or not message.media:
            talk.say("vicinato.join_id")
            return
        key = _keep_id_photo(talk, person)
        if key is None:
            return
        _update(talk, person, id_photo_key=key, step="j_consent")
        _ask_consent(talk)
    elif step == rules.WEB_STEP:
        _ask_web_confirmation(talk, person)
    elif step == "j_consent":
        reply = message.reply.id if message.kind == "reply" and message.reply else ""
        if reply == f"{PREFIX}consent:yes":
            from chalicelib.services.vicinato import people

            people.request(talk.tenant, talk.channel, person, talk.now, message_id=message.message_id)
            _audit(talk, "join_requested", person.zone_id or "")
            talk.say("vicinato.join_sent")
        elif reply == f"{PREFIX}consent:no":
            _update(talk, person, status="left", step=None, left_at=talk.now)
            talk.say("vicinato.join_cancelled")
        else:
            _ask_consent(talk)


def _ask_web_confirmation(talk: Talk, person: Person) -> None:
    from chalicelib.services.vicinato import web_join

    talk.replies.append(web_join.confirmation(talk.tenant, talk.channel, person))


def _confirm_web_join(talk: Talk, person: Person | None, reply_id: str) -> None:
    """The tap on a portal request's confirmation, from the number the form gave: «Confermo» makes it the same
    pending request as VICINATO on WhatsApp (people.request); «Annulla» drops it and its ID photo at once."""
    from chalicelib.services.vicinato import web_join

    if not web_join.waiting(person, talk.now):
        if person is not None and person.status == "pending":
            talk.say("vicinato.join_pending")
        else:
            talk.say("vicinato.web_unknown")
        return
    if reply_id == web_join.CONFIRM:
        from chalicelib.services.vicinato import people

        # the photo now waits for the police's decision (which sets its deletion time), no longer for the tap
        person = _update(talk, person, id_photo_delete_at=None)
        people.request(talk.tenant, talk.channel, person, talk.now, message_id=talk.message.message_id,
                       path="web_form")
        _audit(talk, "join_requested", person.zone_id or "")
        talk.say("vicinato.join_sent")
    else:
        from chalicelib.store import media

        if person.id_photo_key:
            media.delete_keys([person.id_photo_key])
        _update(talk, person, status="left", step=None, left_at=talk.now, id_photo_key=None, id_photo_delete_at=None,
                name=None, address=None, street=None)
        talk.say("vicinato.join_cancelled")


def _ask_consent(talk: Talk) -> None:
    talk.replies.append(Buttons(
        body=talk.text("vicinato.join_consent", version=talk.tenant.privacy_notice_version,
                       id_part=talk.text("vicinato.id_part") if talk.settings.id_required else ""),
        buttons=[Choice(id=f"{PREFIX}consent:yes", title=talk.text("vicinato.consent_yes")),
                 Choice(id=f"{PREFIX}consent:no", title=talk.text("vicinato.consent_no"))]))


def _keep_id_photo(talk: Talk, person: Person) -> str | None:
    """The ID photo, checked as an image and stored encrypted in the Vicinato folder (police only); None when refused
    (the citizen is told)."""
    from chalicelib.services.vicinato import photos

    result = photos.take(talk.channel, talk.message.media.media_id, talk.tenant.id, "id",
                         photos.person_folder(person.key))
    if result.get("key") is None:
        talk.say("vicinato.photo_unreadable")
        return None
    return result["key"]


# ---- a member -------------------------------------------------------------------------------------------------------

def _member(talk: Talk, person: Person) -> None:
    message, settings = talk.message, talk.settings
    words = _words(message)
    emergency = rules.is_emergency(words, settings, tuple(talk.channel.settings.urgent_keywords))
    urgent_tap = message.kind == "reply" and message.reply and message.reply.id == f"{PREFIX}when:urgent"
    if emergency or urgent_tap:
        # the 112 reply goes before anything else, whatever else the message earns
        talk.replies.insert(0, Text(body=talk.text("vicinato.emergency")))
    if _flooding(talk, person):
        return
    if rules.suggests_vigilantism(words, settings):
        talk.say("vicinato.vigilantism")
    step = person.step or ""
    if message.kind in MEDIA_KINDS:
        _member_media(talk, person)
        return
    if step.startswith("r_photo:") and message.kind == "text" and not person.draft.get("what"):
        step = ""  # a text while a photo is awaited starts a new report
    if step not in REPORT_STEPS:
        if not _may_report(talk, person):
            return
        step = "r_what"
    _report_step(talk, person, step, urgent=bool(emergency or urgent_tap))


def _words(message: InboundMessage) -> str:
    parts = (message.text, message.media.caption if message.media else None,
             message.reply.title if message.reply else None,
             message.location.name if message.location else None, message.location.address if message.location else None)
    return " ".join(p for p in parts if p)


def _flooding(talk: Talk, person: Person) -> bool:
    """A member past the tenant's messages_per_hour is slowed down: told once, then nothing is taken until the hour
    turns (the 112 reply still goes)."""
    limit = talk.settings.messages_per_hour
    count, _ = counters.hit(f"vicinato-msg#{talk.tenant.id}#{person.key}", 3600, talk.now)
    if count <= limit:
        return False
    if count == limit + 1:
        talk.say("vicinato.slow_down")
    return True


def _may_report(talk: Talk, person: Person) -> bool:
    count, _ = counters.hit(f"vicinato-rep#{talk.tenant.id}#{person.key}", 3600, talk.now, amount=0)
    if count >= talk.settings.reports_per_hour:
        talk.say("vicinato.too_many_reports", most=talk.settings.reports_per_hour)
        return False
    return True


def _clip(text: str | None) -> str:
    return " ".join((text or "").split())[:rules.MAX_FIELD]


def _report_step(talk: Talk, person: Person, step: str, urgent: bool) -> None:
    """The exchange: what, where (pin or street), when, a description; each answer fills its own field, then the
    next missing one is asked. The last one sends the report to the coordinator."""
    message = talk.message
    draft = {k: v for k, v in person.draft.items() if k != "news"}
    if urgent:
        draft["urgent"] = True
    reply = message.reply.id if message.kind == "reply" and message.reply else ""
    if message.kind == "location" and message.location:
        where = message.location
        draft["position"] = {"latitude": where.latitude, "longitude": where.longitude,
                             **({"address": _clip(where.address or where.name)} if (where.address or where.name) else {})}
        draft["where"] = _clip(where.address or where.name) or talk.text("vicinato.pin")
    elif reply.startswith(f"{PREFIX}when:"):
        choice = reply.removeprefix(f"{PREFIX}when:")
        draft["when"] = talk.text("vicinato.when_now") if choice in ("now", "urgent") else talk.text(
            "vicinato.when_recent")
    elif reply == f"{PREFIX}desc:none":
        draft["description"] = "-"
    elif message.kind == "text":
        text = _clip(message.text)
        field = {"r_what": "what", "r_where": "where", "r_when": "when", "r_desc": "description"}[step]
        draft[field] = text
    elif message.kind == "reply":
        talk.say("vicinato.button_expired")
        return
    missing = next((f for f in ("what", "where", "when", "description") if not draft.get(f)), None)
    if missing is None:
        _file_case(talk, person, draft)
        return
    next_step = {"what": "r_what", "where": "r_where", "when": "r_when", "description": "r_desc"}[missing]
    _update(talk, person, step=next_step, draft={**{k: None for k in person.draft if k != "news"}, **draft})
    if missing == "what":
        talk.say("vicinato.ask_what")
    elif missing == "where":
        talk.say("vicinato.ask_where")
    elif missing == "when":
        talk.replies.append(Buttons(body=talk.text("vicinato.ask_when"), buttons=[
            Choice(id=f"{PREFIX}when:now", title=talk.text("vicinato.when_now")),
            Choice(id=f"{PREFIX}when:recent", title=talk.text("vicinato.when_recent")),
            Choice(id=f"{PREFIX}when:urgent", title=talk.text("vicinato.when_urgent"))]))
    else:
        talk.replies.append(Buttons(body=talk.text("vicinato.ask_description"), buttons=[
            Choice(id=f"{PREFIX}desc:none", title=talk.text("vicinato.no_description"))]))


def _file_case(talk: Talk, person: Person, draft: dict) -> None:
    """The finished report goes to the zone's coordinator (or, lacking one, the stand-in; lacking both, the police)."""
    from chalicelib.services.vicinato import police

    settings, zone = talk.settings, talk.settings.zone(person.zone_id)
    coordinator, stand_in = handlers_of(talk.tenant.id, person.zone_id)
    stage = "coordinator" if coordinator else ("stand_in" if stand_in else "referent")
    handler = coordinator or stand_in
    created = talk.now
    case = Case(
        tenant_id=talk.tenant.id, case_id=f"{created:%Y%m%dT%H%M%S%f}-{uuid.uuid4().hex[:6]}",
        zone_id=person.zone_id or "", channel_id=talk.channel.phone_number_id, member_key=person.key,
        handle=person.handle(), what=draft.get("what", ""), where=draft.get("where", ""), when=draft.get("when", ""),
        description="" if draft.get("description") == "-" else draft.get("description", ""),
        position=draft.get("position"), urgent=bool(draft.get("urgent")), stage=stage,
        handler_key=handler.key if handler else None,
        due_at=(rules.first_due(created, settings) if stage == "coordinator" else
                created + rules.escalation("coordinator", settings)[1]) if handler else None,
        created_at=created, events=(CaseEvent(at=created, actor="member", action="created",
                                              data={"urgent": True} if draft.get("urgent") else {}),),
    )
    store.create_case(case)
    counters.hit(f"vicinato-rep#{talk.tenant.id}#{person.key}", 3600, talk.now)
    _update(talk, person, step=None, draft={k: None for k in person.draft if k != "news"})
    _audit(talk, "case_created", case.case_id)
    logger.info("vicinato case", extra={"case": case.case_id, "zone": case.zone_id, "stage": stage})
    window = talk.channel.settings.watched_hours.window()
    if handler is None or case.urgent:
        # urgent (an emergency word, or «È urgente»): flagged for the police at once, the coordinator only told
        police.forward(talk.tenant, talk.channel, case, note=None, actor="system", now=talk.now,
                       reason="urgent" if case.urgent else "no_coordinator")
        talk.say("vicinato.sent_police")
        if handler is not None:
            talk.tell(handler, [Text(body=talk.text("vicinato.case_urgent_forwarded", handle=case.handle,
                                                    zone=zone.name if zone else "", what=case.summary()[:1000]))])
    else:
        talk.say("vicinato.sent", zone=zone.name if zone else "")
        talk.tell(handler, case_message(talk.tenant, talk.channel, case))
    if window is not None and not window.contains(talk.now):
        talk.say("vicinato.outside_hours", opens=window.start.strftime("%H:%M"), closes=window.end.strftime("%H:%M"))


def handlers_of(tenant_id: str, zone_id: str | None) -> tuple[Person | None, Person | None]:
    """The zone's active coordinator and stand-in."""
    coordinator = stand_in = None
    if zone_id:
        for person in store.people(tenant_id, zone_id=zone_id, status="active", roles=("coordinator", "stand_in")):
            if person.role == "coordinator" and coordinator is None:
                coordinator = person
            elif person.role == "stand_in" and stand_in is None:
                stand_in = person
    return coordinator, stand_in


def case_message(tenant: Tenant, channel: Channel, case: Case, escalated: bool = False) -> list[Content]:
    """What a coordinator (or stand-in) gets for a new report: the report by handle, with the three buttons, and a
    second message with «Chiedi una foto» (WhatsApp allows three buttons per message)."""
    zone = tenant.vicinato.zone(case.zone_id)
    key = "vicinato.case_escalated" if escalated else "vicinato.case_new"
    body = channel_text(tenant, channel, key, handle=case.handle, zone=zone.name if zone else case.zone_id,
                        what=case.what, where=case.where, when=case.when,
                        description=case.description or "-",
                        urgent=channel_text(tenant, channel, "vicinato.case_urgent") if case.urgent else "")[:1024]
    ref = case.case_id
    return [
        Buttons(body=body, buttons=[
            Choice(id=f"{PREFIX}fwd:{ref}", title=channel_text(tenant, channel, "vicinato.button_forward")),
            Choice(id=f"{PREFIX}zone:{ref}", title=channel_text(tenant, channel, "vicinato.button_notify")),
            Choice(id=f"{PREFIX}arc:{ref}", title=channel_text(tenant, channel, "vicinato.button_archive"))]),
        Buttons(body=channel_text(tenant, channel, "vicinato.photo_offer"), buttons=[
            Choice(id=f"{PREFIX}pic:{ref}", title=channel_text(tenant, channel, "vicinato.button_photo"))]),
    ]


def _member_media(talk: Talk, person: Person) -> None:
    """A photo (or voice note, video, document) only when the coordinator asked for one on the member's report;
    otherwise refused politely and not fetched at all."""
    step = person.step or ""
    case = store.get_case(talk.tenant.id, step.removeprefix("r_photo:")) if step.startswith("r_photo:") else None
    if case is None or not case.photo_requested or talk.message.kind != "image" or \
            len(case.photos) >= rules.MAX_CASE_PHOTOS:
        talk.say("vicinato.photo_not_asked")
        return
    from chalicelib.services.vicinato import photos

    result = photos.take(talk.channel, talk.message.media.media_id, talk.tenant.id, "cases", case.case_id)
    if result.get("key") is None:
        talk.say("vicinato.photo_unreadable")
        return
    photo = {"id": result["id"], "key": result["key"], "content_type": result["content_type"],
             "size": result["size"], "at": talk.now.isoformat()}

    def add(current: Case) -> Case | None:
        if any(p["id"] == photo["id"] for p in current.photos):
            return None
        return replace(current, photos=(*current.photos, photo), events=(*current.events, CaseEvent(
            at=talk.now, actor="member", action="photo", data={"photo": photo["id"]}))[-rules.MAX_CASE_EVENTS:])
    updated = store.change_case(talk.tenant.id, case.case_id, add) or case
    _update(talk, person, step=None)
    _audit(talk, "photo_received", case.case_id)
    talk.say("vicinato.photo_thanks")
    from chalicelib.services.vicinato import police

    police.photo_added(talk.tenant, updated, photo)
    holder = _holder(talk.tenant.id, updated)
    if holder is not None:
        talk.tell(holder, [Text(body=talk.text("vicinato.photo_link", handle=updated.handle,
                                               url=photos.link(photo["key"]), minutes=photos.LINK_MINUTES))])


def _holder(tenant_id: str, case: Case) -> Person | None:
    """Who asked for the photo: the coordinator (or stand-in) who holds the case."""
    if case.handler_key:
        holder = store.get_person(tenant_id, case.handler_key)
        if holder is not None and holder.coordinates:
            return holder
    coordinator, stand_in = handlers_of(tenant_id, case.zone_id)
    return coordinator or stand_in


# ---- a coordinator (or stand-in) -------------------------------------------------------------------------------------

ACTIONS = ("fwd", "zone", "arc", "pic", "why", "note", "asis")


def _coordinator(talk: Talk, person: Person) -> None:
    message = talk.message
    reply = message.reply.id if message.kind == "reply" and message.reply else ""
    step = person.step or ""
    if reply.startswith(PREFIX):
        action, _, rest = reply.removeprefix(PREFIX).partition(":")
        if action in ACTIONS:
            _coordinator_tap(talk, person, action, rest)
            return
    if message.kind == "text" and step.startswith(("c_note:", "c_notice:")):
        kind, _, case_id = step.partition(":")
        text = " ".join((message.text or "").split("\n")).strip()
        if kind == "c_note":
            _forward(talk, person, case_id, _clip(text))
        else:
            _notify_zone(talk, person, case_id, (message.text or "").strip()[:4000])
        return
    if message.kind in MEDIA_KINDS:
        talk.say("vicinato.coordinator_no_media")
        return
    talk.say("vicinato.coordinator_help")


def _open_case_for(talk: Talk, person: Person, case_id: str) -> Case | None:
    """The case, when it is this coordinator's zone's and still open; the coordinator is told otherwise."""
    case = store.get_case(talk.tenant.id, case_id) if case_id else None
    if case is None or case.zone_id != person.zone_id:
        talk.say("vicinato.case_unknown")
        return None
    if not case.open:
        talk.say("vicinato.case_done", status=talk.text(f"vicinato.case_status.{case.status}"))
        return None
    return case


def _coordinator_tap(talk: Talk, person: Person, action: str, rest: str) -> None:
    if action == "why":
        case_id, _, reason = rest.partition(":")
        _archive(talk, person, case_id, reason)
        return
    if action == "note":
        _forward(talk, person, rest, None)
        return
    if action == "asis":
        _notify_zone(talk, person, rest, None)
        return
    case = _open_case_for(talk, person, rest)
    if case is None:
        return
    if action == "fwd":
        _update(talk, person, step=f"c_note:{case.case_id}")
        talk.replies.append(Buttons(body=talk.text("vicinato.ask_note"), buttons=[
            Choice(id=f"{PREFIX}note:{case.case_id}", title=talk.text("vicinato.no_note"))]))
    elif action == "zone":
        _update(talk, person, step=f"c_notice:{case.case_id}")
        talk.replies.append(Buttons(body=talk.text("vicinato.ask_notice", what=case.summary()[:700]), buttons=[
            Choice(id=f"{PREFIX}asis:{case.case_id}", title=talk.text("vicinato.as_is"))]))
    elif action == "arc":
        rows = [Choice(id=f"{PREFIX}why:{case.case_id}:{reason}", title=talk.text(f"vicinato.reason.{reason}"))
                for reason in rules.ARCHIVE_REASONS]
        talk.replies.append(ChoiceList(body=talk.text("vicinato.ask_reason"), button=talk.text("vicinato.reason_button"),
                                       rows=rows))
    elif action == "pic":
        _ask_photo(talk, person, case)


def _acted(talk: Talk, person: Person, case_id: str, status: str, **changes) -> Case | None:
    """Close the case's waiting with a versioned write: None (and the coordinator told) when someone acted first."""
    def edit(current: Case) -> Case | None:
        if not current.open or current.zone_id != person.zone_id:
            return None
        event = CaseEvent(at=talk.now, actor=person.role, action=status,
                          data={k: v for k, v in changes.items() if k in ("archive_reason",) and v})
        return replace(current, status=status, due_at=None, acted_at=current.acted_at or talk.now,
                       closed_at=talk.now, handler_key=person.key,
                       expires_at=talk.now + _days(talk.settings.report_days),
                       events=(*current.events, event)[-rules.MAX_CASE_EVENTS:], **changes)
    updated = store.change_case(talk.tenant.id, case_id, edit)
    if updated is None:
        case = store.get_case(talk.tenant.id, case_id)
        if case is None or case.zone_id != person.zone_id:
            talk.say("vicinato.case_unknown")
        else:
            talk.say("vicinato.case_done", status=talk.text(f"vicinato.case_status.{case.status}"))
    return updated


def _days(days: int):
    from datetime import timedelta

    return timedelta(days=days)


def _forward(talk: Talk, person: Person, case_id: str, note: str | None) -> None:
    from chalicelib.services.vicinato import police

    case = _acted(talk, person, case_id, "forwarded", coordinator_note=note or None, forwarded_at=talk.now)
    _update(talk, person, step=None)
    if case is None:
        return
    report = police.forward(talk.tenant, talk.channel, case, note=note, actor=person.role, now=talk.now)
    _audit(talk, "forwarded", case.case_id, who=f"vicinato:{person.role}")
    talk.say("vicinato.forwarded", number=report.number if report else "")
    member = store.get_person(talk.tenant.id, case.member_key)
    if member is not None and member.active:
        talk.tell(member, [Text(body=talk.text("vicinato.member_forwarded"))])


def _notify_zone(talk: Talk, person: Person, case_id: str, text: str | None) -> None:
    from chalicelib.services.vicinato import notices

    current = store.get_case(talk.tenant.id, case_id)
    body = text if text else (current.summary() if current else "")
    if not body.strip():
        talk.say("vicinato.case_unknown")
        _update(talk, person, step=None)
        return
    case = _acted(talk, person, case_id, "notified")
    _update(talk, person, step=None)
    if case is None:
        return
    zone = talk.settings.zone(case.zone_id)
    notice = talk.text("vicinato.zone_notice", zone=zone.name if zone else case.zone_id, text=body)[:4096]
    broadcast = notices.send(talk.tenant, talk.channel, (case.zone_id,), notice, "normal",
                             created_by=f"vicinato:{person.role}", exclude=(person.citizen_key,), now=talk.now)
    store.change_case(talk.tenant.id, case.case_id, lambda c: replace(c, broadcast_id=broadcast.id))
    _audit(talk, "zone_notified", case.case_id, who=f"vicinato:{person.role}")
    talk.say("vicinato.notified", zone=zone.name if zone else case.zone_id)


def _archive(talk: Talk, person: Person, case_id: str, reason: str) -> None:
    if reason not in rules.ARCHIVE_REASONS:
        talk.say("vicinato.button_expired")
        return
    case = _acted(talk, person, case_id, "archived", archive_reason=reason)
    if case is None:
        return
    _audit(talk, "archived", case.case_id, who=f"vicinato:{person.role}")
    talk.say("vicinato.archived", reason=talk.text(f"vicinato.reason.{reason}"))


def _ask_photo(talk: Talk, person: Person, case: Case) -> None:
    def edit(current: Case) -> Case | None:
        if current.photo_requested:
            return None
        return replace(current, photo_requested=True, events=(*current.events, CaseEvent(
            at=talk.now, actor=person.role, action="photo_requested"))[-rules.MAX_CASE_EVENTS:])
    store.change_case(talk.tenant.id, case.case_id, edit)
    member = store.get_person(talk.tenant.id, case.member_key)
    if member is None or not member.active:
        talk.say("vicinato.case_unknown")
        return
    store.change_person(talk.tenant.id, member.key, lambda current: replace(
        current, step=f"r_photo:{case.case_id}", updated_at=talk.now) if current else None)
    _audit(talk, "photo_requested", case.case_id, who=f"vicinato:{person.role}")
    talk.say("vicinato.photo_asked")
    talk.tell(member, [Text(body=talk.text("vicinato.photo_request"))])
