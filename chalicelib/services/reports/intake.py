"""WhatsApp intake on reports and safety channels: a first message opens a report, the next ones within
the channel's window add text, photos and position; STATO answers about the sender's own reports."""
from __future__ import annotations

import re
from datetime import datetime, timedelta

from chalicelib.domain import geo
from chalicelib.domain import reports as rules
from chalicelib.domain.keywords import normalize_text
from chalicelib.domain.reports import Event, Position, Report
from chalicelib.domain.subscriptions import Citizen
from chalicelib.domain.tenancy import Channel, Tenant
from chalicelib.observability import logger
from chalicelib.providers.base import Choice, ChoiceList, InboundMessage, Text
from chalicelib.services.replies import Conversation
from chalicelib.services.reports import photo_refetch, wording
from chalicelib.store import reports as store

CATEGORY_PREFIX = "cat:"
LIST_ROWS_MAX = 10
STATUS_COMMAND = re.compile(r"^\s*stato\b\s*(?:n\.?|numero)?\s*(.*)$", re.IGNORECASE)
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
    elif message.kind == "text" and STATUS_COMMAND.match(message.text or ""):
        _answer_status(intake, STATUS_COMMAND.match(message.text).group(1))
    elif message.kind == "text" and normalize_text(message.text) in HELP_WORDS and channel.kind == "reports":
        intake.say("report.help")
    elif message.kind == "text" and normalize_text(message.text) in COURTESIES:
        intake.say(f"{intake.kind}.courtesy")  # "grazie" after a receipt is not a report
    elif message.kind == "unsupported":
        intake.say("report.unsupported")
    else:
        _take(intake)
    return intake


def _registered(citizen: Citizen) -> bool:
    return citizen.active and bool(citizen.name)


def _take(intake: Intake) -> None:
    draft = _draft(intake)
    if draft is None:
        report = _open(intake)
        report = _add(intake, report)
        _acknowledge_new(intake, report)
    else:
        report = _add(intake, draft)
        _acknowledge_addition(intake, report)
    _after_change(intake, report)


def _draft(intake: Intake) -> Report | None:
    """The citizen's report still open for additions: status new, last message within the window."""
    window = timedelta(minutes=intake.channel.settings.draft_minutes)
    latest = store.of_reporter(intake.channel.phone_number_id, intake.citizen.key, limit=1)
    if not latest:
        return None
    report = latest[0]
    recent = report.last_citizen_at and intake.now - report.last_citizen_at <= window
    return report if report.status == "new" and report.kind == intake.kind and recent else None


def _open(intake: Intake) -> Report:
    report = store.open_report(
        intake.tenant.id, intake.kind, intake.now, source="whatsapp", channel_id=intake.channel.phone_number_id,
        citizen_key=intake.citizen.key, contact=_contact(intake), last_citizen_at=intake.now,
        events=(Event(at=intake.now, actor="citizen", action="created", public=True, status="new"),),
    )
    logger.info("report opened", extra={"report": report.report_id, "kind": report.kind})
    return report


def _contact(intake: Intake) -> dict[str, str]:
    contact = {"name": intake.message.profile_name or intake.citizen.name or ""}
    return {k: v for k, v in contact.items() if v}


def _add(intake: Intake, report: Report) -> Report:
    """Apply the message's content to the report (text, photo, position or a category choice)."""
    message = intake.message
    if message.kind == "image" and message.media:
        return _add_photo(intake, report)
    if message.kind == "reply" and message.reply and message.reply.id.startswith(CATEGORY_PREFIX):
        return _set_category(intake, report, message.reply.id.removeprefix(CATEGORY_PREFIX))
    if message.kind == "location" and message.location:
        return _add_position(intake, report)
    return _add_text(intake, report, message.text or (message.reply.title if message.reply else "") or "")


def _add_text(intake: Intake, report: Report, text: str) -> Report:
    text = text.strip()
    if not text:
        return report

    def edit(current: Report) -> Report:
        joined = f"{current.text}\n{text}".strip() if current.text else text
        category = current.category or _guess(intake, joined)
        return store.with_event(current, Event(at=intake.now, actor="citizen", action="text", note=text),
                                text=joined[:4000], category=category, last_citizen_at=intake.now)
    return store.change(report.tenant_id, report.report_id, edit)


def _guess(intake: Intake, text: str) -> str | None:
    return intake.tenant.reports.category_id_for(text) if intake.kind == "report" else None


def _add_photo(intake: Intake, report: Report) -> Report:
    from chalicelib.services.reports import photos  # the image library loads only when a photo comes

    media = intake.message.media
    max_bytes = intake.channel.settings.photo_max_bytes
    photo = photos.take(intake.channel.phone_number_id, media.media_id, report.tenant_id, report.report_id, max_bytes)
    if photo.status == "refused":
        intake.say(f"report.photo_refused.{photo.reason}", number=report.number, max_mb=max_bytes // (1024 * 1024))
    elif photo.status == "failed":
        intake.say("report.photo_failed", number=report.number)
    elif photo.status == "pending" and intake.kind == "report":
        intake.say("report.photo_pending", number=report.number)

    def edit(current: Report) -> Report:
        photos = tuple(p for p in current.photos if p.id != photo.id) + (photo,)
        text = f"{current.text}\n{media.caption}".strip() if media.caption else current.text
        event = Event(at=intake.now, actor="citizen", action="photo", data={"photo": photo.id, "status": photo.status})
        return store.with_event(current, event, photos=photos, text=text, last_citizen_at=intake.now,
                                category=current.category or (_guess(intake, text) if media.caption else None))
    changed = store.change(report.tenant_id, report.report_id, edit)
    if photo.status == "pending":
        photo_refetch.schedule(photo_refetch.Refetch(tenant_id=report.tenant_id, report_id=report.report_id,
                                                     channel_id=intake.channel.phone_number_id,
                                                     media_id=media.media_id, max_bytes=max_bytes))
    return changed


def _add_position(intake: Intake, report: Report) -> Report:
    where = intake.message.location
    hamlet_id = geo.hamlet_id_at(where.latitude, where.longitude, intake.tenant.hamlets)
    outside = geo.is_outside(where.latitude, where.longitude, intake.tenant.hamlets)
    address = where.address or where.name

    def edit(current: Report) -> Report:
        # a pin outside the comune is kept and flagged for staff (it may be a wrong tap, or another body's road)
        event = Event(at=intake.now, actor="citizen", action="location",
                      data={"hamlet": hamlet_id, **({"outside": True} if outside else {})})
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


def _acknowledge_addition(intake: Intake, report: Report) -> None:
    message = intake.message
    if intake.kind == "safety":
        if _is_emergency(message.text):
            intake.say("safety.emergency", number=report.number)
        elif not intake.replies:  # a refused photo has already been explained
            intake.say("safety.added", number=report.number)
        return
    if message.kind == "image":
        if report.photos and report.photos[-1].status == "stored":
            intake.say("report.added_photo", number=report.number)
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
    rows = [Choice(id=f"{CATEGORY_PREFIX}{c.id}", title=c.name[:24]) for c in categories[:LIST_ROWS_MAX]]
    intake.replies.append(ChoiceList(body=intake.text("report.category_question"),
                                     button=intake.text("report.category_button"), rows=rows))


def _safety_receipt(intake: Intake, report: Report) -> None:
    window = intake.channel.settings.watched_hours.window()
    if _is_emergency(intake.message.text):
        intake.say("safety.emergency", number=report.number)
    elif window is not None and not window.contains(intake.now):
        intake.say("safety.outside_hours", number=report.number, opens=window.start.strftime("%H:%M"))
    else:
        intake.say("safety.receipt", number=report.number)


def _is_emergency(text: str | None) -> bool:
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

    merged = desk.mark_duplicate(intake.tenant, report, original, actor="system", now=intake.now)
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
        lines = "\n".join(wording.status_line(intake.tenant, intake.channel, r) for r in own)
        intake.say("report.status_reply", lines=lines)
        return
    report_id = rules.parse_number(argument, intake.now.year)
    report = store.get(intake.tenant.id, report_id) if report_id else None
    if report is None or report.kind != intake.kind or not report.concerns(intake.subject):
        intake.say("report.not_found", number=argument[:20])
        return
    intake.replies.append(Text(body=wording.status_text(intake.tenant, intake.channel, report)))
