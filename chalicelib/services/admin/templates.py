"""A channel's WhatsApp message templates (issue 15): list them as Meta holds them, create one and submit it to Meta's
review, follow the review (webhooks and a poll), and choose which approved template serves a purpose (the channel's
`templates` setting, e.g. the broadcasts' notice)."""
from __future__ import annotations

import re
from dataclasses import replace
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from chalicelib.domain import whatsapp
from chalicelib.domain.access import Capability, Staff
from chalicelib.domain.settings import TEMPLATE_PURPOSES, TEMPLATE_SHAPES, TemplateSetting, stored
from chalicelib.domain.tenancy import Channel
from chalicelib.observability import logger
from chalicelib.providers import get_provider
from chalicelib.providers.base import MessageTemplate, ProviderError, TemplateEvent
from chalicelib.services import access, clock
from chalicelib.store import directory
from chalicelib.store import templates as store
from chalicelib.store.templates import HeldTemplate

HEADER_TEXT_MAX = 60
EXAMPLE_MAX = 200
_PLACEHOLDER = re.compile(r"\{\{\s*\d+\s*\}\}")
CATEGORIES = ("UTILITY", "MARKETING", "AUTHENTICATION")


class Refused(ValueError):
    """A request the rules refuse (422), naming its field."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


class Conflict(ValueError):
    """What Meta (or the store) holds refuses it: a name taken in that language (409)."""


class NoAccount(LookupError):
    """The channel has no WhatsApp Business Account id: its templates cannot be read or made."""


# ---- what staff submit --------------------------------------------------------------------------------------

class NewTemplate(BaseModel):
    """A template to submit to WhatsApp's review: a body with {{1}}, {{2}}... (an example for each), optionally a
    text header, a footer and quick-reply buttons. Meta's limits, checked before anything is sent."""

    model_config = ConfigDict(extra="forbid")
    name: Annotated[str, Field(pattern=r"^[a-z0-9_]{1,512}$", description="Lowercase letters, digits and _.")]
    language: Annotated[str, Field(min_length=2, max_length=15, pattern=r"^[a-z]{2,3}(_[A-Z]{2})?$")] = "it"
    category: Literal["UTILITY", "MARKETING", "AUTHENTICATION"] = "UTILITY"
    header: Annotated[str, Field(max_length=HEADER_TEXT_MAX)] = ""
    body: Annotated[str, Field(min_length=1, max_length=whatsapp.TEMPLATE_BODY_MAX)]
    examples: Annotated[list[Annotated[str, Field(min_length=1, max_length=EXAMPLE_MAX)]], Field(
        max_length=20, description="An example value for each parameter, in order.")] = []
    footer: Annotated[str, Field(max_length=whatsapp.TEMPLATE_FOOTER_MAX)] = ""
    buttons: Annotated[list[Annotated[str, Field(min_length=1, max_length=whatsapp.TEMPLATE_BUTTON_TEXT_MAX)]], Field(
        max_length=whatsapp.TEMPLATE_BUTTONS_MAX, description="Quick-reply buttons' texts.")] = []

    @field_validator("body")
    @classmethod
    def _body(cls, body: str) -> str:
        whatsapp.placeholders(body)  # ValueError: {{1}}, {{2}}... out of order
        stripped = body.strip()
        if _PLACEHOLDER.match(stripped) or re.search(r"\{\{\s*\d+\s*\}\}$", stripped):
            raise ValueError("the body may not start or end with a parameter")
        return body

    @field_validator("header", "footer")
    @classmethod
    def _fixed(cls, text: str) -> str:
        if _PLACEHOLDER.search(text) or "\n" in text:
            raise ValueError("a fixed text on one line, without parameters")
        return text

    @field_validator("buttons")
    @classmethod
    def _unique(cls, buttons: list[str]) -> list[str]:
        if len(set(buttons)) != len(buttons):
            raise ValueError("the buttons' texts must be unique")
        return buttons

    @field_validator("examples")
    @classmethod
    def _examples(cls, examples: list[str], info: ValidationInfo) -> list[str]:
        body = info.data.get("body")
        if body is not None and len(examples) != whatsapp.placeholders(body):
            raise ValueError(f"give one example per parameter: {whatsapp.placeholders(body)}")
        if any(whatsapp.parameter_problem(e) for e in examples):
            raise ValueError("an example is one line, without tabs or more than 4 spaces in a row")
        return examples

    def definition(self) -> dict:
        """The body of Meta's POST /{waba_id}/message_templates."""
        body: dict = {"type": "BODY", "text": self.body}
        if self.examples:
            body["example"] = {"body_text": [list(self.examples)]}
        components = [{"type": "HEADER", "format": "TEXT", "text": self.header}] if self.header else []
        components.append(body)
        if self.footer:
            components.append({"type": "FOOTER", "text": self.footer})
        if self.buttons:
            components.append({"type": "BUTTONS", "buttons": [{"type": "QUICK_REPLY", "text": b} for b in self.buttons]})
        return {"name": self.name, "language": self.language, "category": self.category,
                "parameter_format": "POSITIONAL", "components": components}


class PurposeChoice(BaseModel):
    """Which approved template serves a purpose of the channel (name and language)."""

    model_config = ConfigDict(extra="forbid")
    name: Annotated[str, Field(pattern=r"^[a-z0-9_]{1,512}$")]
    language: Annotated[str, Field(min_length=2, max_length=15)] = "it"


# ---- reading ------------------------------------------------------------------------------------------------

def _channel(staff: Staff, channel_id: str, *capabilities: Capability) -> Channel:
    channel = access.channel_for(staff, channel_id)
    if capabilities and not staff.may(*capabilities):
        raise access.Forbidden("templates")
    if not channel.waba_id:
        raise NoAccount(channel.phone_number_id)
    return channel


def listing(staff: Staff, channel_id: str, fit: str | None = None) -> dict:
    """The channel's templates as Meta holds them, each with what it serves; fit="notice": only those a broadcast
    may use (approved, the notice's shape, serving no other purpose). Who composes broadcasts may read them."""
    channel = _channel(staff, channel_id, Capability.SETUP, Capability.BROADCASTS)
    held = store.of_account(channel.waba_id) or _first_poll(channel)
    items = [view(t, channel) for t in held]
    if fit == "notice":  # and not one another channel of the comune uses (Vicinato's zone notices, the agenda's)
        elsewhere = _used_elsewhere(channel)
        items = [item for item in items if item["fits"].get("notice")
                 and (item["name"], item["language"]) not in elsewhere]
    purposes = {p: {"name": t.name, "language": t.language} for p, t in channel.settings.templates.items()}
    return {"channel": channel.phone_number_id, "items": items, "purposes": purposes}


def _used_elsewhere(channel: Channel) -> set[tuple[str, str]]:
    """The templates the comune's other channels of the same business account were given a purpose."""
    return {(t.name, t.language) for other in directory.channels_of(channel.tenant_id)
            if other.phone_number_id != channel.phone_number_id and other.waba_id == channel.waba_id
            for t in other.settings.templates.values()}


def _first_poll(channel: Channel) -> list[HeldTemplate]:
    """An account whose templates were never read (a new comune, a fresh deployment): ask Meta once, now."""
    try:
        reconcile(channel)
    except ProviderError as error:
        logger.warning("templates not read from the provider", extra={"code": error.code})
        return []
    return store.of_account(channel.waba_id)


def view(template: HeldTemplate, channel: Channel) -> dict:
    parts = _parts(template.components)
    serves = [p for p, t in channel.settings.templates.items()
              if t.name == template.name and t.language == template.language]
    return {
        "id": template.template_id, "name": template.name, "language": template.language,
        "category": template.category, "status": template.status,
        "rejected_reason": template.rejected_reason, "previous_category": template.previous_category,
        "header": parts["header"], "body": parts["body"], "footer": parts["footer"], "buttons": parts["buttons"],
        "parameters": _count(parts["body"]), "serves": serves,
        "fits": {p: _fits(template, parts, p, serves) for p in TEMPLATE_PURPOSES if p in _PURPOSES_OF[channel.kind]},
        "updated_at": template.updated_at.isoformat() if template.updated_at else None,
    }


_PURPOSES_OF = {"broadcast": ("subscription_confirm", "notice"),
                "reports": ("report_update", "follow_confirm", "report_feedback"),
                "safety": ("report_update", "urgent_tip", "notice", "vicinato_news")}
# the agenda's reminder (issue 17) on any channel where citizens book (channel setting agenda_booking)
_PURPOSES_OF = {kind: (*purposes, "agenda_reminder", "agenda_update") for kind, purposes in _PURPOSES_OF.items()}


def _fits(template: HeldTemplate, parts: dict, purpose: str, serves: list[str]) -> bool:
    """Approved, with the parameters and quick replies the app fills in for the purpose, and serving no other."""
    parameters, quick_replies = TEMPLATE_SHAPES[purpose]
    return (template.status == "APPROVED" and _count(parts["body"]) == parameters
            and len(parts["buttons"]) >= quick_replies and not [p for p in serves if p != purpose])


def _count(body: str) -> int:
    try:
        return whatsapp.placeholders(body)
    except ValueError:
        return -1


def _parts(components: list) -> dict:
    """Header text, body, footer and quick replies from Meta's components."""
    found = {"header": "", "body": "", "footer": "", "buttons": []}
    for component in components:
        kind = str(component.get("type") or "").upper() if isinstance(component, dict) else ""
        if kind == "HEADER" and str(component.get("format") or "").upper() == "TEXT":
            found["header"] = str(component.get("text") or "")
        elif kind in ("BODY", "FOOTER"):
            found[kind.lower()] = str(component.get("text") or "")
        elif kind == "BUTTONS":
            found["buttons"] = [str(b.get("text") or "") for b in component.get("buttons") or []
                                if isinstance(b, dict) and str(b.get("type") or "").upper() == "QUICK_REPLY"]
    return found


def described(channel: Channel, name: str) -> TemplateSetting | None:
    """What the broadcast composer knows of a template by name: the channel's purpose setting, else what Meta holds
    (approved or not), as a TemplateSetting (texts, status, category, the category before a re-categorisation)."""
    declared = next((t for t in channel.settings.templates.values() if t.name == name), None)
    if declared is not None or not channel.waba_id:
        return declared
    held = next((t for t in store.of_account(channel.waba_id) if t.name == name), None)
    return _setting(held) if held else None


def usable_for_notice(channel: Channel, name: str) -> bool:
    """An approved template a broadcast may go out as: the notice's shape, serving no other purpose."""
    if not channel.waba_id:
        return False
    return any(view(t, channel)["fits"].get("notice") for t in store.of_account(channel.waba_id) if t.name == name)


def _setting(template: HeldTemplate) -> TemplateSetting:
    parts = _parts(template.components)
    return TemplateSetting(name=template.name, language=template.language, category=template.category.lower(),
                           status=template.status if template.status in _SETTING_STATUSES else "PENDING",
                           body=parts["body"], footer=parts["footer"], buttons=tuple(parts["buttons"]),
                           previous_category=(template.previous_category or "").lower())


_SETTING_STATUSES = ("APPROVED", "PENDING", "REJECTED", "PAUSED", "DISABLED")


# ---- changing -----------------------------------------------------------------------------------------------

def create(staff: Staff, channel_id: str, data: NewTemplate) -> dict:
    """Submit a template to Meta's review; it is held as Meta answers (PENDING). Audited before it goes."""
    channel = _channel(staff, channel_id, Capability.SETUP)
    held = store.of_account(channel.waba_id) or _first_poll(channel)
    if any(t.name == data.name and t.language == data.language for t in held):
        raise Conflict(f"a template named {data.name} already exists in {data.language}")
    definition = data.definition()
    access.record_change(staff, "template.create", f"{channel.phone_number_id}/{data.name}/{data.language}",
                         None, definition)
    try:
        created = get_provider().submit_template(channel.waba_id, definition)
    except ProviderError as error:
        if error.http_status and 400 <= error.http_status < 500 and error.code == 100:
            raise Refused("body", f"WhatsApp refused the template: {error.message}") from None
        raise
    held = _held(created, channel)
    store.save(held)
    return view(held, channel)


def refresh(staff: Staff, channel_id: str) -> dict:
    """Read every template of the channel's account from Meta and hold what it says (the poll)."""
    channel = _channel(staff, channel_id, Capability.SETUP, Capability.BROADCASTS)
    access.record(staff, "template.refresh", channel.phone_number_id)
    reconcile(channel)
    return listing(staff, channel_id)


def reconcile(channel: Channel) -> int:
    """Hold the account's templates as Meta lists them; the channels' purpose settings follow. How many changed."""
    known = {t.template_id: t for t in store.of_account(channel.waba_id)}
    listed = get_provider().list_templates(channel.waba_id)
    changed = 0
    for template in listed:
        held = _held(template, channel)
        before = known.get(held.template_id)
        if before is None or _differs(before, held):
            store.save(held)
            changed += 1
            _follow(channel.tenant_id, channel.waba_id, held)
    for gone in set(known) - {t.id for t in listed}:  # deleted at Meta (in WhatsApp Manager)
        store.delete(channel.waba_id, gone)
        changed += 1
    return changed


def choose(staff: Staff, channel_id: str, purpose: str, data: PurposeChoice) -> dict:
    """Make an approved template of the right shape serve a purpose of the channel (audited, before and after)."""
    channel = _channel(staff, channel_id, Capability.SETUP)
    if purpose not in _PURPOSES_OF[channel.kind]:
        raise Refused("purpose", f"a {channel.kind} channel has no purpose {purpose}")
    held = next((t for t in store.of_account(channel.waba_id)
                 if t.name == data.name and t.language == data.language), None)
    if held is None:
        raise Refused("name", f"no template {data.name} in {data.language} on this channel")
    item = view(held, channel)
    if not item["fits"].get(purpose):
        raise Refused("name", f"template {data.name} does not fit {purpose}: approved, "
                              f"{TEMPLATE_SHAPES[purpose][0]} parameters, {TEMPLATE_SHAPES[purpose][1]} quick replies, "
                              "serving no other purpose")
    before = channel.settings.templates.get(purpose)
    after = _setting(held)
    access.record_change(staff, "template.purpose", f"{channel.phone_number_id}/{purpose}",
                         stored(before) if before else None, stored(after))
    _save_purposes(channel, {purpose: after})
    return listing(staff, channel_id)


# ---- Meta's news (webhooks) ---------------------------------------------------------------------------------

def apply_events(events: list[TemplateEvent]) -> int:
    """A template's review outcome or new category, as Meta's webhook tells it; an id we do not hold is skipped
    (the poll will bring it). Applying one twice changes nothing. How many were applied."""
    applied = 0
    for event in events:
        held = store.get(event.account_id, event.template_id)
        if held is None:
            logger.info("template webhook for a template not held", extra={"template": event.template_id[:32]})
            continue
        updated = _after(held, event)
        if _differs(held, updated):
            store.save(updated)
            _follow(held.tenant_id, held.waba_id, updated)
        applied += 1
    return applied


def _after(held: HeldTemplate, event: TemplateEvent) -> HeldTemplate:
    now = clock.now()
    if event.new_category:
        previous = event.previous_category or (held.category if held.category != event.new_category
                                               else held.previous_category)
        return store.changed(held, category=event.new_category, previous_category=previous, updated_at=now)
    if event.status:
        return store.changed(held, status=event.status, updated_at=now,
                             rejected_reason=event.reason if event.status == "REJECTED" else None)
    return held


def _differs(a: HeldTemplate, b: HeldTemplate) -> bool:
    keys = ("name", "language", "category", "status", "components", "rejected_reason", "previous_category")
    return any(getattr(a, k) != getattr(b, k) for k in keys)


def _held(template: MessageTemplate, channel: Channel) -> HeldTemplate:
    return HeldTemplate(channel.waba_id, template.id, channel.tenant_id, template.name, template.language,
                        template.category.upper(), template.status.upper(), template.components,
                        template.rejected_reason if template.rejected_reason not in (None, "NONE") else None,
                        template.previous_category, clock.now())


def _follow(tenant_id: str, waba_id: str, held: HeldTemplate) -> None:
    """The channels whose purposes name the template take its new status and category (what the composer and the
    sender read)."""
    for channel in directory.channels_of(tenant_id):
        if channel.waba_id != waba_id:
            continue
        purposes = {p: t for p, t in channel.settings.templates.items()
                    if t.name == held.name and t.language == held.language}
        if not purposes:
            continue
        now = _setting(held)
        updated = {p: replace(t, status=now.status, category=now.category, previous_category=now.previous_category)
                   for p, t in purposes.items()}
        if updated != purposes:
            _save_purposes(channel, updated)


def _save_purposes(channel: Channel, changed: dict[str, TemplateSetting], attempts: int = 3) -> None:
    """Write the changed purposes into the channel's settings as stored now (not the cached channel: an admin may
    have saved another knob from Impostazioni in another Lambda a moment ago), with a versioned update."""
    for _ in range(attempts):
        found = directory.stored_channel(channel.phone_number_id)
        if found is None:
            return
        settings, version = found
        templates = {**settings.get("templates", {}), **{p: stored(t) for p, t in changed.items()}}
        try:
            directory.update_channel_settings(channel.phone_number_id, {**settings, "templates": templates}, version)
            return
        except directory.StaleVersion:
            continue  # saved meanwhile: read it again and apply the same purposes on top
    raise directory.StaleVersion(channel.phone_number_id)
