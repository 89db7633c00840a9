"""WhatsApp intake on reports and safety channels: a first message opens a report, the next ones within
the channel's window add text, photos and position; STATO answers about the sender's own reports."""
from __future__ import annotations

import re
from dataclasses import replace
from datetime import datetime, timedelta

from chalicelib.domain import geo
from chalicelib.domain import reports as rules
from chalicelib.domain.keywords import normalize_text
from chalicelib.domain.reports import Event, Position, Report
from chalicelib.domain.subscriptions import Citizen
from chalicelib.domain.tenancy import Channel, Tenant
from chalicelib.observability import logger
from chalicelib.providers.base import Choice, ChoiceList, InboundMessage, Text
from chalicelib.services.conversations import inbox
from chalicelib.services.replies import Conversation
from chalicelib.services.reports import arrivals, feedback, following, photo_refetch, wording
from chalicelib.store import reports as store

CATEGORY_PREFIX = "cat:"
MEDIA_KINDS = ("image", "audio", "video", "document")  # kept with the report (services.reports.photos)
LIST_ROWS_MAX = 10
STATUS_COMMAND = re.compile(r"^\s*stato\b\s*(?:n\.?|numero)?\s*(.*)$", re.IGNORECASE)
NEW_COMMAND = re.compile(r"^\s*nuova\b[\s:,.-]*(.*)$", re.IGNORECASE | re.DOTALL)  # NUOVA ...: a report, whatever
FOLLOW_UP = timedelta(hours=24)  # after staff close a report, its citizen's free text is a follow-up for Messaggi
STAFF_CLOSED = ("resolved", "rejected")
HELP_WORDS = frozenset({"aiuto", "help", "info", "comandi", "?"})
COURTESIES = frozenset({"grazie", "grazie mille", "ok", "okay", "ciao", "salve", "buongiorno", "buonasera",
                        "va bene", "perfetto", "grazie a voi", "gentilissimi", "👍"})
EMERGENCY_WORDS = frozenset({
    "aiuto", "emergenza", "incidente", "rapina", "incendio", "fuoco", "aggressione", "ferito", "feriti",
    "sparatoria", "spari", "coltello", "armato", "armi", "furto in corso", "ladri in casa", "violenza",
    "malore", "soccorso", "urgente",
})


class Intake(Conversation):
    """One message of a citizen on a reports or safety channel, and the replies it earns."""

    def __init__(self, tenant: Tenant, channel: Channel, citizen: Citizen, message: InboundMessage, now: datetime):
        super().__init__(tenant, channel, citizen, message, now)
        self.kind = "safety" if channel.kind == "safety" else "report"

    @property
    def subject(self) -> str:
        return f"{self.channel.phone_number_id}#{self.citizen.key}"


def handle_message(tenant: Tenant, channel: Channel, citizen: Citizen, message: InboundMessage,
                   now: datetime) -> Intake:
    """Apply one message to the sender's reports (written here); the intake holds the replies to queue once the
    citizen is saved (services.inbound)."""
    intake = Intake(tenant, channel, citizen, message, now)
    if channel.kind == "safety" and channel.settings.registered_only and not _registered(citizen):
        intake.say("safety.not_registered")
    elif channel.kind == "reports" and following.is_confirmation(message):
        following.confirm(intake)  # STATO and updates reach a number typed on a form only after this tap
    elif channel.kind == "reports" and feedback.is_answer(message):
        feedback.answer(intake)  # «Risolto» / «Non risolto» under a resolved report's news
    elif message.kind == "text" and STATUS_COMMAND.match(message.text or ""):
        _answer_status(intake, STATUS_COMMAND.match(message.text).group(1))
    elif message.kind == "text" and normalize_text(message.text) in HELP_WORDS and channel.kind == "reports":
        intake.say("report.help")
    elif message.kind == "text" and normalize_text(message.text) in COURTESIES:
        intake.say(f"{intake.kind}.courtesy")  # "grazie" after a receipt is not a report
    elif message.kind == "unsupported":
        intake.say("report.unsupported")
    elif message.kind == "text" and NEW_COMMAND.match(message.text or ""):
        _take(_as_new_report(intake))
    elif message.kind == "text" and _for_staff(intake):
        pass  # kept in the citizen's conversation (services/conversations), with its reply
    else:
        _take(intake)
    return intake


def _as_new_report(intake: Intake) -> Intake:
    """NUOVA <words>: the words open (or join) a report, even in a conversation with staff."""
    rest = NEW_COMMAND.match(intake.message.text).group(1).strip()
    if rest:
        intake.message = intake.message.model_copy(update={"text": rest})
    return intake


def _for_staff(intake: Intake) -> bool:
    """Free text that is no report: an answer in a conversation staff keep with the citizen (they answered in the
    last 24 hours), or a follow-up on the citizen's report staff closed in the last FOLLOW_UP. Kept for staff in
    Messaggi; the citizen learns a person will read it, and how to open a new report instead (NUOVA)."""
    if _draft(intake) is not None:
        return False  # the citizen is still adding to a report
    if inbox.ongoing(intake.tenant, intake.channel, intake.citizen, intake.now):
        if inbox.keep(intake.tenant, intake.channel, intake.citizen, intake.message, intake.now):
            intake.say("conversation.received")  # once until staff read it: a chat is not answered line by line
        return True
    closed = _recently_closed(intake)
    if closed is None:
        return False
    inbox.keep(intake.tenant, intake.channel, intake.citizen, intake.message, intake.now)
    intake.say("conversation.follow_up", number=closed.number)
    return True


def _recently_closed(intake: Intake) -> Report | None:
    """The citizen's latest report of this kind, when staff closed it (resolved, rejected) within FOLLOW_UP."""
    latest = store.of_reporter(intake.channel.phone_number_id, intake.citizen.key, limit=1)
    if not latest or latest[0].kind != intake.kind or latest[0].status not in STAFF_CLOSED:
        return None
    report = latest[0]
    closed_at = next((e.at for e in reversed(report.events) if e.status in STAFF_CLOSED), None)
    return report if closed_at is not None and intake.now - closed_at <= FOLLOW_UP else None


def _registered(citizen: Citizen) -> bool:
    return citizen.active and bool(citizen.name)


def _take(intake: Intake) -> None:
    draft = _draft(intake)
    words = _words(intake.message)
    followed = _followed(intake.tenant, draft) if draft and draft.status == "duplicate" else None
    if followed is not None and rules.is_open(followed.status) and rules.has_room_for_citizen(followed, words):
        _add_for_follower(intake, draft, followed)
        return
    if draft is not None and draft.status == "new" and not rules.has_room_for_citizen(draft, words):
        report = _open(intake, continues=draft)  # the draft is full (domain.reports, CITIZEN_ROOM): nothing is lost
        report = _add(intake, report)
        intake.say("report.continued", previous=draft.number, number=report.number)
        _acknowledge_new(intake, report)
    elif draft is None or draft.status != "new":
        report = _open(intake)
        report = _add(intake, report)
        _acknowledge_new(intake, report)
    else:
        report = _add(intake, draft)
        # the list goes once, with the report's first words: not again after every photo, pin or text
        _acknowledge_addition(intake, report, first_words=not draft.text and bool(report.text))
    _after_change(intake, report)
    if draft is None or draft.status != "new" or draft.report_id != report.report_id or \
            (report.category and not draft.category):
        arrivals.announce(report)  # a new report, or its category (so its team) now known: the office is told
    if intake.kind == "safety":
        arrivals.alert_on_call(intake.tenant, intake.channel, report, words)  # once per tip, when urgent


def _words(message: InboundMessage) -> str:
    """All the text a message carries, which it may add to a report."""
    parts = (message.text, message.media.caption if message.media else None,
             message.reply.title if message.reply else None,
             message.location.name if message.location else None, message.location.address if message.location else None)
    return " ".join(part for part in parts if part)


def _draft(intake: Intake) -> Report | None:
    """The citizen's report still open for additions: status new (or merged into another as a duplicate), last
    message within the window."""
    window = timedelta(minutes=intake.channel.settings.draft_minutes)
    latest = store.of_reporter(intake.channel.phone_number_id, intake.citizen.key, limit=1)
    if not latest:
        return None
    report = latest[0]
    recent = report.last_citizen_at and intake.now - report.last_citizen_at <= window
    return report if report.status in ("new", "duplicate") and report.kind == intake.kind and recent else None


def _followed(tenant: Tenant, report: Report) -> Report:
    """The report a citizen follows through report: the original a duplicate was merged into, else report."""
    original = store.get(tenant.id, report.duplicate_of) if report.duplicate_of else None
    return original or report


def _add_for_follower(intake: Intake, duplicate: Report, original: Report) -> None:
    """After a merge the citizen follows the original: what they send next in their window joins it (issue 13:
    it stayed on the duplicate), marked as theirs, never changing the reporter's words, pin or category. Their
    window stays on their own report, the duplicate."""
    report = _add(intake, original, came_from={"from": duplicate.number})
    _acknowledge_addition(intake, report, first_words=False)
    store.change(duplicate.tenant_id, duplicate.report_id, lambda current: replace(current, last_citizen_at=intake.now))


def _open(intake: Intake, continues: Report | None = None) -> Report:
    """A new report; one that continues a full draft names it and keeps its category."""
    link = {"continues": continues.number} if continues else {}
    report = store.open_report(
        intake.tenant.id, intake.kind, intake.now, source="whatsapp", channel_id=intake.channel.phone_number_id,
        citizen_key=intake.citizen.key, contact=_contact(intake), last_citizen_at=intake.now,
        category=continues.category if continues else None,
        events=(Event(at=intake.now, actor="citizen", action="created", public=True, status="new", data=link),),
    )
    logger.info("report opened", extra={"report": report.report_id, "kind": report.kind})
    return report


def _contact(intake: Intake) -> dict[str, str]:
    contact = {"name": intake.message.profile_name or intake.citizen.name or ""}
    return {k: v for k, v in contact.items() if v}


def _add(intake: Intake, report: Report, came_from: dict | None = None) -> Report:
    """Apply the message's content to the report (text, photo, position or a category choice). came_from: the
    message is a follower's (data for its events), who adds to the history and photos but changes nothing else."""
    message = intake.message
    if message.kind in MEDIA_KINDS and message.media:
        return _add_photo(intake, report, came_from)
    if message.kind == "reply" and message.reply and message.reply.id.startswith(CATEGORY_PREFIX):
        return report if came_from else _set_category(intake, report, message.reply.id.removeprefix(CATEGORY_PREFIX))
    if message.kind == "location" and message.location:
        return _add_position(intake, report, came_from)
    return _add_text(intake, report, message.text or (message.reply.title if message.reply else "") or "", came_from)


def _add_text(intake: Intake, report: Report, text: str, came_from: dict | None = None) -> Report:
    text = text.strip()
    if not text:
        return report

    def edit(current: Report) -> Report:
        if came_from:
            return store.with_event(current, Event(at=intake.now, actor="citizen", action="text",
                                                   note=text[:rules.MAX_EVENT_TEXT], data=came_from))
        joined = rules.joined(current.text, text)
        category = current.category or _guess(intake, joined)
        event = Event(at=intake.now, actor="citizen", action="text", note=text[:rules.MAX_EVENT_TEXT])
        return store.with_event(current, event, text=joined, category=category, last_citizen_at=intake.now)
    return store.change(report.tenant_id, report.report_id, edit)


def _guess(intake: Intake, text: str) -> str | None:
    return intake.tenant.reports.category_id_for(text) if intake.kind == "report" else None


def _add_photo(intake: Intake, report: Report, came_from: dict | None = None) -> Report:
    from chalicelib.services.reports import photos  # the image library loads only when a photo comes

    media, kind = intake.message.media, intake.message.kind
    settings = intake.channel.settings
    max_bytes = settings.photo_max_bytes if kind == "image" else settings.media_max_bytes
    photo = photos.take(intake.channel.phone_number_id, media.media_id, report.tenant_id, report.report_id, max_bytes,
                        kind)
    family = "photo" if kind == "image" else "file"  # a voice note, video or document
    if photo.status == "refused":
        intake.say(f"report.{family}_refused.{photo.reason}", number=report.number, max_mb=max_bytes // (1024 * 1024))
    elif photo.status == "failed":
        intake.say(f"report.{family}_failed", number=report.number)
    elif photo.status == "pending" and intake.kind == "report":
        intake.say(f"report.{family}_pending", number=report.number)

    def edit(current: Report) -> Report:
        photos = tuple(p for p in current.photos if p.id != photo.id) + (photo,)
        if came_from:
            event = Event(at=intake.now, actor="citizen", action=rules.file_action(kind), note=media.caption or None,
                          data={"photo": photo.id, "status": photo.status, **came_from})
            return store.with_event(current, event, photos=photos)
        text = rules.joined(current.text, media.caption) if media.caption else current.text
        event = Event(at=intake.now, actor="citizen", action=rules.file_action(kind),
                      data={"photo": photo.id, "status": photo.status})
        return store.with_event(current, event, photos=photos, text=text, last_citizen_at=intake.now,
                                category=current.category or (_guess(intake, text) if media.caption else None))
    changed = store.change(report.tenant_id, report.report_id, edit)
    if photo.status == "pending":
        photo_refetch.schedule(photo_refetch.Refetch(tenant_id=report.tenant_id, report_id=report.report_id,
                                                     channel_id=intake.channel.phone_number_id,
                                                     media_id=media.media_id, max_bytes=max_bytes,
                                                     citizen_key=intake.citizen.key, kind=kind))
    return changed


def _add_position(intake: Intake, report: Report, came_from: dict | None = None) -> Report:
    where = intake.message.location
    hamlet_id = geo.hamlet_id_at(where.latitude, where.longitude, intake.tenant.hamlets)
    outside = geo.is_outside(where.latitude, where.longitude, intake.tenant.hamlets)
    address = where.address or where.name

    def edit(current: Report) -> Report:
        # a pin outside the comune is kept and flagged for staff (it may be a wrong tap, or another body's road)
        event = Event(at=intake.now, actor="citizen", action="location",
                      data={"hamlet": hamlet_id, **({"outside": True} if outside else {})})
        if came_from:  # the follower's pin is kept in the history; the report's stays the reporter's
            pin = {"latitude": where.latitude, "longitude": where.longitude, **({"address": address} if address else {})}
            return store.with_event(current, replace(event, data={**event.data, **pin, **came_from}))
        return store.with_event(current, event, position=Position(where.latitude, where.longitude, address),
                                hamlet=hamlet_id or current.hamlet, last_citizen_at=intake.now)
    return store.change(report.tenant_id, report.report_id, edit)


def _set_category(intake: Intake, report: Report, category_id: str) -> Report:
    category = intake.tenant.reports.category(category_id)
    if category is None:
        return report

    def edit(current: Report) -> Report:
        event = Event(at=intake.now, actor="citizen", action="category", data={"category": category.id})
        return store.with_event(current, event, category=category.id, last_citizen_at=intake.now)
    return store.change(report.tenant_id, report.report_id, edit)


# ---- replies ----------------------------------------------------------------------------------------

def _acknowledge_new(intake: Intake, report: Report) -> None:
    if intake.kind == "safety":
        _safety_receipt(intake, report)
        return
    intake.say("report.receipt", number=report.number, short_number=report.number.split("/")[-1],
               status_url=wording.page_url(report), missing=_missing_text(intake, report))
    _ask_category(intake, report)


def _acknowledge_addition(intake: Intake, report: Report, first_words: bool) -> None:
    message = intake.message
    if intake.kind == "safety":
        if is_emergency(message.text):
            intake.say("safety.emergency", number=report.number)
        elif not intake.replies:  # a refused photo has already been explained
            intake.say("safety.added", number=report.number)
        return
    if message.kind in MEDIA_KINDS:
        if report.photos and report.photos[-1].status == "stored":
            kind = message.kind
            intake.say("report.added_photo" if kind == "image" else f"report.file_added.{kind}", number=report.number)
    elif message.kind == "location" and _pinned_outside(report):
        intake.say("report.added_location_outside", number=report.number)
    elif message.kind == "location":
        hamlet = intake.tenant.hamlet(report.hamlet) if report.hamlet else None
        part = intake.text("report.hamlet_part", hamlet=hamlet.name) if hamlet else ""
        intake.say("report.added_location", number=report.number, hamlet_part=part)
    elif message.kind == "reply" and report.category:
        category = intake.tenant.reports.category(report.category)
        intake.say("report.category_saved", number=report.number, category=category.name if category else "")
        return
    else:
        intake.say("report.added_text", number=report.number)
    if first_words:
        _ask_category(intake, report)


def _pinned_outside(report: Report) -> bool:
    last = next((e for e in reversed(report.events) if e.action == "location"), None)
    return bool(last and last.data and last.data.get("outside"))


def _missing_text(intake: Intake, report: Report) -> str:
    missing = report.missing()
    if missing == ["position", "photo"]:
        return intake.text("report.missing_both")
    if missing == ["position"]:
        return intake.text("report.missing_position_only")
    if missing == ["photo"]:
        return intake.text("report.missing_photo_only")
    return ""


def _ask_category(intake: Intake, report: Report) -> None:
    """When the text did not tell the category, offer the tenant's categories as a list (once per message)."""
    categories = intake.tenant.reports.categories
    if report.category or not categories or not report.text:
        return
    rows = [Choice(id=f"{CATEGORY_PREFIX}{c.id}", title=c.list_title) for c in categories[:LIST_ROWS_MAX]]
    intake.replies.append(ChoiceList(body=intake.text("report.category_question"),
                                     button=intake.text("report.category_button"), rows=rows))


def _safety_receipt(intake: Intake, report: Report) -> None:
    window = intake.channel.settings.watched_hours.window()
    if is_emergency(intake.message.text):
        intake.say("safety.emergency", number=report.number)
    elif window is not None and not window.contains(intake.now):
        intake.say("safety.outside_hours", number=report.number, opens=window.start.strftime("%H:%M"))
    else:
        intake.say("safety.receipt", number=report.number)


def is_emergency(text: str | None) -> bool:
    """Whether a text carries one of the emergency words (the 112 answer), as whole words."""
    padded = f" {normalize_text(text or '')} "
    return any(f" {word} " in padded for word in EMERGENCY_WORDS)


def _after_change(intake: Intake, report: Report) -> None:
    """A report with category and position may already be known: then the citizen follows the original."""
    if intake.kind != "report" or report.status != "new" or not report.category or report.position is None:
        return
    original = open_duplicate_of(intake.tenant, report)
    if original is None:
        return
    from chalicelib.services.reports import desk

    try:
        merged = desk.mark_duplicate(intake.tenant, report, original, actor="system", now=intake.now)
    except rules.ReportFull:  # the original is full: this report stays on its own, nothing changed
        logger.info("duplicate not linked: the original is full", extra={"report": report.report_id})
        return
    intake.replies = [r for r in intake.replies if not isinstance(r, ChoiceList)]
    intake.say("report.duplicate", number=merged.number, status_url=wording.page_url(merged))


def open_duplicate_of(tenant: Tenant, report: Report) -> Report | None:
    settings = tenant.reports
    since = report.created_at - timedelta(days=settings.duplicate_days)
    for other in store.all_of(tenant.id, ("report",), since=since):
        if other.report_id == report.report_id or not rules.is_open(other.status):
            continue
        if other.category != report.category or other.position is None:
            continue
        distance = geo.distance_m(report.position.latitude, report.position.longitude,
                                  other.position.latitude, other.position.longitude)
        if distance <= settings.duplicate_metres:
            return other
    return None


# ---- STATO ------------------------------------------------------------------------------------------

def _answer_status(intake: Intake, argument: str) -> None:
    argument = argument.strip()
    if not argument:
        own = [r for r in store.of_reporter(intake.channel.phone_number_id, intake.citizen.key, limit=3)
               if r.kind == intake.kind]
        if not own:
            intake.say("report.status_none")
            return
        # a merged report answers with the one its citizen now follows (issue 13: STATO said "già segnalata")
        own = list({r.report_id: r for r in (_followed(intake.tenant, r) for r in own)}.values())
        lines = "\n".join(wording.status_line(intake.tenant, intake.channel, r) for r in own)
        intake.say("report.status_reply", lines=lines)
        return
    report_id = rules.parse_number(argument, intake.now.year)
    report = store.get(intake.tenant.id, report_id) if report_id else None
    if report is None or report.kind != intake.kind or not report.concerns(intake.subject):
        intake.say("report.not_found", number=argument[:20])
        return
    report = _followed(intake.tenant, report)
    intake.replies.append(Text(body=wording.status_text(intake.tenant, intake.channel, report)))
