"""A data subject's rights across a whole comune: erasure of one phone number on every channel, and the
subject-access export of everything held about it (GDPR arts. 15 and 17). docs/privacy.md is the data map."""
from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import asdict
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from chalicelib.domain.access import Capability, Staff
from chalicelib.domain.phones import InvalidPhone, key_parts, mask_key, parse_citizen_key
from chalicelib.domain.reports import Event, Report
from chalicelib.domain.subscriptions import Citizen
from chalicelib.domain.tenancy import Channel
from chalicelib.services import clock
from chalicelib.services.access import record
from chalicelib.services.reports import erasure as report_erasure
from chalicelib.settings import get_settings
from chalicelib.store import audit, citizens, deliveries, directory, privacy_log
from chalicelib.store import conversations as conversation_store
from chalicelib.store import reports as report_store
from chalicelib.store.citizens import ConsentEntry

EXPORT_FORMAT = "filo-diretto/subject-access/1"


class InvalidSubject(ValueError):
    """Not a phone number (nor a business-scoped user id)."""


class SubjectRequest(BaseModel):
    """Whose data: an E.164 number in any usual writing, or 'bsuid:<id>'."""

    model_config = ConfigDict(extra="forbid")
    phone: str = Field(min_length=3, max_length=140)


def subject_key(raw: str) -> tuple[str, str | None]:
    """(citizen key, phone number or None for a business-scoped id) from what staff typed
    (domain.phones.parse_citizen_key); InvalidSubject for anything else."""
    try:
        key = parse_citizen_key(raw)
    except InvalidPhone as exc:
        raise InvalidSubject(str(exc)) from None
    return key, key_parts(key)[0]


def _purpose(channel: Channel) -> str:
    return "broadcast" if channel.kind == "broadcast" else channel.kind


def pseudonym_of(tenant_id: str, key: str) -> str:
    """A keyed hash of a citizen key, per comune: the same person always gets the same one (a repeat request
    matches), and without the deployment's secret the number cannot be found back from it, even by trying every
    number (a plain hash of a phone number can be)."""
    secret = get_settings().link_secret().encode()
    tenant_key = hmac.new(secret, f"filo-privacy-subject/{tenant_id}".encode(), hashlib.sha256).digest()
    return "interessato-" + hmac.new(tenant_key, key.encode(), hashlib.sha256).hexdigest()[:16]


def writings(key: str) -> list[str]:
    """How the audit log's targets may hold a citizen key: as stored, URL-encoded (a refused request's path),
    without its + (WhatsApp's wa_id). Longest first, so a replacement takes the whole of it."""
    if not key.startswith("+"):
        return [key]
    return [key.replace("+", "%2B"), key, key[1:]]


def _replacer(key: str, pseudonym: str):
    pattern = re.compile("|".join(re.escape(w) for w in writings(key)))
    return lambda value: pattern.sub(pseudonym, value)


def _log(staff: Staff, kind: str, key: str, outcome: str, summary: dict) -> None:
    privacy_log.append(privacy_log.PrivacyRequest(
        tenant_id=staff.tenant_id, at=clock.now(), kind=kind, outcome=outcome, actor=staff.subject,
        actor_name=staff.name, subject_masked=mask_key(key),
        subject_hash=pseudonym_of(staff.tenant_id, key), summary=summary))


def preview(staff: Staff, raw: str) -> dict:
    """What an erasure of one number would do in this comune, changing nothing: per channel the citizen record
    (and subscription), consent ledger entries, the conversation; reports they sent (anonymised, their files
    deleted) or follow; delivery records; audit entries (the number replaced by a pseudonym). Audited."""
    key, phone = subject_key(raw)
    record(staff, "privacy.preview", key)
    channels = directory.channels_of(staff.tenant_id)
    talks = {c.channel_id: c for c in conversation_store.for_citizen(
        staff.tenant_id, [c.phone_number_id for c in channels], key)}
    found = []
    for channel in channels:
        held = citizens.get(channel.phone_number_id, key)
        ledger = citizens.consents(channel.phone_number_id, key)
        talk = talks.get(channel.phone_number_id)
        if held is None and not ledger and talk is None:
            continue
        found.append({"channel": channel.phone_number_id, "kind": channel.kind, "name": channel.name,
                      "citizen_record": held is not None, "status": held.status if held else None,
                      "consents": len(ledger), "conversation_messages": len(talk.messages) if talk else 0})
    subjects = {f"{c.phone_number_id}#{key}" for c in channels}
    reports = list(report_store.naming(staff.tenant_id, subjects, phone))
    sent = [r for r in reports if _sent(r, subjects, phone)]
    return {
        "subject": key, "masked": mask_key(key), "pseudonym": pseudonym_of(staff.tenant_id, key),
        "channels": found, "reports_sent": len(sent), "reports_followed": len(reports) - len(sent),
        "files": sum(1 for r in sent for p in r.photos if p.original_key),
        "conversations": len(talks), "delivery_records": len(deliveries.of_recipient(staff.tenant_id, key)),
        "audit_entries": audit.count_holding(staff.tenant_id, writings(key)),
        "appointments": _agenda().count(staff.tenant_id, key),
        "previous_requests": [request_view(r) for r in privacy_log.latest(
            staff.tenant_id, 20, pseudonym_of(staff.tenant_id, key))],
        "erased": ERASED, "kept": KEPT,
        "vicinato_records": _vicinato_count(staff.tenant_id, channels, key),
    }


def _vicinato_count(tenant_id: str, channels: list[Channel], key: str) -> int:
    """Vicinato's records of the person (issue 16): membership records and reports to a coordinator."""
    from chalicelib.services.vicinato import people

    held = people.export(tenant_id, [c.phone_number_id for c in channels if c.kind == "safety"], key)
    return len(held["people"]) + len(held["reports"])


ERASED = ["citizen_records", "subscriptions", "conversations", "delivery_records", "files",
          "reporter_and_contact", "follower_entries", "appointments"]
KEPT = ["consent_ledger", "reports_anonymised", "audit_pseudonymised", "request_log"]


def erase(staff: Staff, raw: str) -> dict:
    """Erase one person from every channel of the caller's comune: citizen records deleted, delivery records
    deleted, conversations deleted, reports anonymised (the files they sent deleted), an `erasure` entry in the
    consent ledger of every channel that knew them (the ledger itself is kept: it is the proof of consent art. 7(1)
    asks for), and the number replaced by a pseudonym in the audit log. Logged in the privacy desk's requests."""
    key, phone = subject_key(raw)
    pseudonym = pseudonym_of(staff.tenant_id, key)
    record(staff, "privacy.erase", pseudonym)  # first: an erasure that fails half-way is still on the record
    try:
        done = _erase(staff, key, phone, pseudonym)
    except Exception:
        _log(staff, "erase", key, "failed", {})
        raise
    _log(staff, "erase", key, "done", {k: v for k, v in done.items() if isinstance(v, int)})
    return done


def _erase(staff: Staff, key: str, phone: str | None, pseudonym: str) -> dict:
    now = clock.now()
    channels = directory.channels_of(staff.tenant_id)
    done = []
    for channel in channels:
        held = citizens.get(channel.phone_number_id, key)
        ledger = citizens.consents(channel.phone_number_id, key)
        if held is None and not ledger:
            continue
        if held is not None:
            citizens.delete(channel.phone_number_id, key)
        citizens.record_consent(ConsentEntry(
            channel_id=channel.phone_number_id, citizen_key=key, tenant_id=staff.tenant_id, action="withdraw",
            purpose=_purpose(channel), path="erasure", recorded_at=now, actor=staff.subject,
        ))
        done.append({"channel": channel.phone_number_id, "kind": channel.kind,
                     "citizen_record": "deleted" if held is not None else "none", "consent_ledger": "erasure recorded"})
    anonymised = report_erasure.forget(staff.tenant_id, [f"{c.phone_number_id}#{key}" for c in channels], phone,
                                       staff.subject, now)
    removed = deliveries.delete_all(deliveries.of_recipient(staff.tenant_id, key))
    talks = sum(conversation_store.delete(staff.tenant_id, c.phone_number_id, key) for c in channels)
    from chalicelib.services.vicinato import people as vicinato_people

    vicinato = vicinato_people.erase(staff.tenant_id, [c.phone_number_id for c in channels if c.kind == "safety"], key)
    redacted = audit.redact(staff.tenant_id, writings(key), _replacer(key, pseudonym))
    appointments = _agenda().erase(staff.tenant_id, key, now, staff.subject)
    return {"subject": key, "pseudonym": pseudonym, "erased_at": now.isoformat(), "channels": done,
            "reports_anonymised": anonymised, "delivery_records_deleted": removed, "conversations_deleted": talks,
            "audit_entries_pseudonymised": redacted, "vicinato_records_deleted": sum(vicinato.values()),
            "appointments_deleted": appointments,
            "kept": ["consent ledger (proof of consent and of this erasure)",
                     f"audit log entries, the number replaced by {pseudonym} (security log, at least six months)"]}


def request_view(request: privacy_log.PrivacyRequest) -> dict:
    return {"at": request.at.isoformat(), "kind": request.kind, "outcome": request.outcome,
            "actor_name": request.actor_name or request.actor, "subject": request.subject_masked,
            "subject_hash": request.subject_hash, "summary": request.summary}


def requests(staff: Staff, limit: int, raw: str | None = None) -> list[dict]:
    """The requests handled, newest first; of one person (by keyed hash) when a number is given. Audited."""
    key = subject_key(raw)[0] if raw else None
    record(staff, "privacy.requests", pseudonym_of(staff.tenant_id, key) if key else "all")
    return [request_view(r) for r in privacy_log.latest(
        staff.tenant_id, limit, pseudonym_of(staff.tenant_id, key) if key else None)]


def export(staff: Staff, raw: str) -> dict:
    """Everything the comune holds about one phone number, as JSON (art. 15): citizen records per channel,
    consent ledger, reports filed or followed (events, photo metadata: no bytes, no links), delivery records and
    the audit entries that name them. The export is itself audited, before anything is read."""
    return collect(staff, raw)[0]


def collect(staff: Staff, raw: str) -> tuple[dict, list[Report]]:
    """The export (audited, then logged as a request handled) and the reports the person sent (whose files a
    downloadable archive carries)."""
    key, phone = subject_key(raw)
    now = clock.now()
    record(staff, "privacy.export", key)
    channels = directory.channels_of(staff.tenant_id)
    subjects = {f"{c.phone_number_id}#{key}": c for c in channels}
    records = [_citizen(c, citizens.get(c.phone_number_id, key)) for c in channels]
    ledger = sorted((e for c in channels for e in citizens.consents(c.phone_number_id, key)),
                    key=lambda e: e.recorded_at)
    tips = staff.may(Capability.TIPS)  # police-only (docs/decisions.md): in an export only for that role
    found = [r for r in report_store.naming(staff.tenant_id, subjects, phone) if tips or r.kind != "safety"]
    sent = sorted(deliveries.of_recipient(staff.tenant_id, key), key=lambda d: d.get("recorded_at") or "")
    trail = audit.naming(staff.tenant_id, key, [r.report_id for r in found])
    exported = {
        "format": EXPORT_FORMAT, "subject": key, "tenant": staff.tenant_id, "generated_at": now.isoformat(),
        "generated_by": staff.name,  # the staff member as the person reading it knows them, not an id
        "citizen_records": [r for r in records if r is not None],
        "consents": [_consent(e) for e in ledger],
        "reports": [_report(r, set(subjects), phone) for r in sorted(found, key=lambda r: r.report_id)],
        "deliveries": [_delivery(d) for d in sent],
        "conversations": [_conversation(c) for c in conversation_store.for_citizen(
            staff.tenant_id, [c.phone_number_id for c in channels if staff.may_converse(c.kind)], key)],
        "audit": [{"at": e.at.isoformat(), "actor": e.actor, "action": e.action, "target": e.target}
                  for e in sorted(trail, key=lambda e: e.at)],
        "not_included": _not_included(tips),
        "vicinato": _vicinato_export(staff.tenant_id, channels, key, tips),
        "appointments": _agenda().export(staff.tenant_id, key),
    }
    _log(staff, "export", key, "done", {name: len(exported[name]) for name in (
        "citizen_records", "consents", "reports", "deliveries", "conversations", "audit")})
    return exported, [r for r in found if _sent(r, set(subjects), phone)]


def _vicinato_export(tenant_id: str, channels: list[Channel], key: str, tips: bool) -> dict | None:
    """Vicinato's records of the person (issue 16); the reports they sent to a coordinator only for the police."""
    from chalicelib.services.vicinato import people

    held = people.export(tenant_id, [c.phone_number_id for c in channels if c.kind == "safety"], key)
    if not tips:
        held["reports"] = []
    return held if held["people"] or held["reports"] else None


def _agenda():
    """The agenda's share (issue 17), loaded when a request needs it."""
    from chalicelib.services.agenda import privacy as agenda_privacy

    return agenda_privacy


def _sent(report: Report, subjects: set[str], phone: str | None) -> bool:
    return report.reporter in subjects or bool(phone and report.contact.get("phone") == phone)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _citizen(channel: Channel, citizen: Citizen | None) -> dict | None:
    if citizen is None:
        return None
    body = {k: (_iso(v) if isinstance(v, datetime) else list(v) if isinstance(v, tuple) else v)
            for k, v in asdict(citizen).items()}
    body.pop("channel_id", None)
    return {"channel": channel.phone_number_id, "channel_kind": channel.kind, "channel_name": channel.name, **body}


def _consent(entry: ConsentEntry) -> dict:
    return {"channel": entry.channel_id, "action": entry.action, "purpose": entry.purpose, "path": entry.path,
            "notice_version": entry.notice_version, "message_id": entry.message_id, "actor": entry.actor,
            "recorded_at": entry.recorded_at.isoformat()}


def _event(event: Event) -> dict:
    return {"at": event.at.isoformat(), "actor": event.actor, "action": event.action, "public": event.public,
            "note": event.note, "status": event.status, **({"data": event.data} if event.data else {})}


def _report(report: Report, subjects: set[str], phone: str | None) -> dict:
    """A report they sent in full (its photos as metadata); one they follow as the follower sees it: its public
    steps, not the other citizen's words."""
    sent = _sent(report, subjects, phone)
    base = {"id": report.report_id, "number": report.number, "kind": report.kind, "role": "reporter" if sent else "follower",
            "status": report.status, "category": report.category, "hamlet": report.hamlet,
            "created_at": report.created_at.isoformat(), "updated_at": report.updated_at.isoformat()}
    if not sent:
        return {**base, "events": [_event(e) for e in report.events if e.public]}
    return {
        **base, "source": report.source, "channel": report.channel_id, "text": report.text, "contact": report.contact,
        "address": report.address, "position": asdict(report.position) if report.position else None,
        "photos": [{"id": p.id, "status": p.status, "content_type": p.content_type, "size": p.size, "reason": p.reason,
                    "stored": bool(p.original_key)} for p in report.photos],
        "team": report.team, "external": report.external or None, "outcome": report.outcome,
        "duplicate_of": report.duplicate_of, "resolved_at": _iso(report.resolved_at),
        "events": [_event(e) for e in report.events],
    }


def _delivery(row: dict) -> dict:
    fields = ("job_id", "status", "recorded_at", "updated_at", "provider_message_id", "error_class", "error_code")
    return {k: (int(row[k]) if k == "error_code" else row[k]) for k in fields if row.get(k) is not None}


def _conversation(conversation) -> dict:
    return {"channel": conversation.channel_id, "status": conversation.status,
            "messages": [{"direction": m.direction, "at": m.at.isoformat(), "text": m.text, "kind": m.kind}
                         for m in conversation.messages]}


def _not_included(tips: bool) -> list[str]:
    notes = [
        "photo files: ask for copies of the photos listed under reports (their bytes are not in this export)",
        "messages waiting in the system's queues (kept at most 4 days, 14 for failed ones) and WhatsApp's own copy "
        "at Meta (at most 30 days)",
        "backups (DynamoDB point-in-time recovery, at most 35 days)",
    ]
    if not tips:
        notes.append("safety tips: visible to the police role only; an export by a caller with that role includes them")
    return notes
