"""A WhatsApp channel's knobs as the comune's administrator changes them (issue 15): hours, limits, urgent words,
the on-call phone, and the channel's own wording of the catalogue's texts. Not its templates (the WhatsApp
templates page owns them): a save keeps them as stored. Validated by ChannelSettings, saved over the version read,
audited with the knobs before and after."""
from __future__ import annotations

import string
from typing import Any

from chalicelib import messages
from chalicelib.domain import settings as model
from chalicelib.domain.access import Staff
from chalicelib.services.access import NotFound, channel_for, record, record_change, tenant_of
from chalicelib.services.admin import wording
from chalicelib.services.admin.settings import Refused, Stale
from chalicelib.store import directory

COMMON = ("rate_per_second", "texts")
EDITABLE = {  # the knobs of each kind of channel an administrator changes here (templates: their own page)
    "broadcast": (*COMMON, "quiet_hours", "messaging_limit", "reports_number"),
    "reports": (*COMMON, "draft_minutes", "photo_max_bytes", "media_max_bytes"),
    "safety": (*COMMON, "registered_only", "watched_hours", "on_call_phone", "urgent_keywords", "draft_minutes",
               "photo_max_bytes", "media_max_bytes"),
}
# the catalogue's citizen-facing texts each kind of channel sends (key prefixes, or whole keys)
TEXTS = {
    "broadcast": ("subscribe.", "unsubscribe.", "preferences.", "notice.", "help.broadcast", "auto_reply.broadcast",
                  "conversation."),
    "reports": ("report.", "status.", "external.", "auto_reply.reports_hint", "conversation."),
    "safety": ("safety.", "status.", "conversation.", "report.status_", "report.not_found", "report.update"),
}
# what the preview puts in each placeholder: plausible values, in Italian, as a citizen would read them
EXAMPLES = {
    "comune": "Comune di Esempio", "service": "Avvisi del Comune", "privacy_url": "https://www.comune.esempio.it/privacy",
    "number": "2026/42", "short_number": "42", "status_url": "https://www.comune.esempio.it/s/Ab3dE",
    "status": "presa in carico", "category": "Buche e strade", "hamlet": "Pieve a Ripoli",
    "hamlet_part": " a Pieve a Ripoli", "hamlets": "Pieve a Ripoli", "topics": "Allerte e protezione civile",
    "date": "06/12/2026", "note": "La squadra interverrà domani mattina.", "body": "Testo dell'avviso.",
    "lines": "• 2026/42 · Buche e strade · presa in carico", "max_mb": "5", "missing": "Manca la posizione. ",
    "opens": "08:00", "original": "2026/40", "previous": "2026/41", "reports_hint": "",
    "reports_number": "+39 0571 000000",
}


def _text_keys(kind: str) -> list[str]:
    prefixes = TEXTS.get(kind, ())
    return [key for key in messages.catalogue(messages.DEFAULT_LANGUAGE)
            if any(key == p or (p.endswith((".", "_")) and key.startswith(p)) for p in prefixes)]


def placeholders(text: str) -> set[str]:
    """The {names} of a text; ValueError for braces str.format cannot read."""
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


def _texts(kind: str, overrides: dict[str, str]) -> list[dict[str, Any]]:
    catalogue = messages.catalogue(messages.DEFAULT_LANGUAGE)
    return [{"key": key, "default": catalogue[key], "override": overrides.get(key), "limit": model.SHORT_TEXTS.get(key),
             "placeholders": sorted(placeholders(catalogue[key]))} for key in _text_keys(kind)]


def _channel(staff: Staff, channel_id: str):
    channel = channel_for(staff, channel_id)
    found = directory.stored_channel(channel.phone_number_id)
    if found is None:
        raise NotFound("channel")
    return channel, found


def read(staff: Staff, channel_id: str) -> dict[str, Any]:
    """A channel's knobs for the administrator, with its texts (default and override) and the preview's examples."""
    channel, (raw, version) = _channel(staff, channel_id)
    settings, _ = model.lenient(model.ChannelSettings, raw)
    full = model.shown(model.ChannelSettings, settings)
    editable = EDITABLE.get(channel.kind, COMMON)
    knobs = model.knobs(model.ChannelSettings)
    record(staff, "channel_settings.read", channel.phone_number_id)
    return {
        "version": version,
        "channel": {"id": channel.phone_number_id, "kind": channel.kind, "name": channel.name,
                    "display_phone_number": channel.display_phone_number},
        "settings": {knob: full[knob] for knob in editable},
        "knobs": {knob: knobs[knob] for knob in editable if knob in knobs},
        "texts": _texts(channel.kind, settings.texts),
        "examples": {**EXAMPLES, "comune": tenant_of(staff).name},
    }


def save(staff: Staff, channel_id: str, version: int, given: dict[str, Any]) -> dict[str, Any]:
    """Replace the knobs given (the others, templates included, stay as stored); Refused or Stale: nothing saved."""
    channel, (raw, current) = _channel(staff, channel_id)
    if current != version:
        raise Stale(channel_id)
    editable = EDITABLE.get(channel.kind, COMMON)
    problems = [wording.problem(f"settings.{knob}", "not_editable") for knob in given if knob not in editable]
    if isinstance(given.get("texts"), dict):
        problems += _text_problems(channel.kind, given["texts"])
    if problems:
        raise Refused(problems)
    changed = {**raw, **given}
    if isinstance(given.get("texts"), dict):
        changed["texts"] = _texts_after(channel.kind, raw.get("texts"), given["texts"])
    errors = model.problems(model.ChannelSettings, changed)
    if errors:
        raise Refused(wording.from_pydantic("settings", errors))
    after = model.stored(model.channel_settings(changed))
    before = model.stored(model.lenient(model.ChannelSettings, raw)[0])
    record_change(staff, "channel_settings", channel.phone_number_id, _without_templates(before),
                  _without_templates(after))
    try:
        new = directory.update_channel_settings(channel.phone_number_id, after, version)
    except directory.StaleVersion:
        raise Stale(channel_id) from None
    return read(staff, channel_id) | {"version": new}


def _texts_after(kind: str, stored: object, given: dict[str, str]) -> dict[str, str]:
    """The texts given replace this kind's overrides ("" is none: the catalogue's applies); an override of another
    key (set by a deploy) stays."""
    known = set(_text_keys(kind))
    kept = {k: v for k, v in (stored if isinstance(stored, dict) else {}).items() if k not in known}
    return {**kept, **{k: v for k, v in given.items() if v != ""}}


def _without_templates(stored: dict) -> dict:
    return {k: v for k, v in stored.items() if k != "templates"}


def _text_problems(kind: str, texts: dict[str, Any]) -> list[dict[str, str]]:
    """Only this kind's catalogue texts, with the placeholders of the catalogue's own wording."""
    catalogue = messages.catalogue(messages.DEFAULT_LANGUAGE)
    known, problems = set(_text_keys(kind)), []
    for key, text in texts.items():
        field = f"settings.texts.{key}"
        if key not in known:
            problems.append(wording.problem(field, "unknown_text"))
            continue
        if not isinstance(text, str):
            problems.append(wording.problem(field, "text"))
            continue
        try:
            unknown = sorted(placeholders(text) - placeholders(catalogue[key]))
        except ValueError:
            problems.append(wording.problem(field, "braces"))
            continue
        if unknown:
            problems.append(wording.problem(field, "unknown_placeholder", id=unknown[0]))
    return problems

