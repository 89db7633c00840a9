"""A data subject's rights across a whole comune: erasure of one phone number on every channel, and the
subject-access export of everything held about it (GDPR arts. 15 and 17). docs/privacy.md is the data map."""
from __future__ import annotations

from dataclasses import asdict
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from chalicelib.domain.access import Capability, Staff
from chalicelib.domain.phones import InvalidPhone, key_parts, parse_citizen_key
from chalicelib.domain.reports import Event, Report
from chalicelib.domain.subscriptions import Citizen
from chalicelib.domain.tenancy import Channel
from chalicelib.services import clock
from chalicelib.services.access import record
from chalicelib.services.reports import erasure as report_erasure
from chalicelib.store import audit, citizens, deliveries, directory
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


def erase(staff: Staff, raw: str) -> dict:
    """Erase one person from every channel of the caller's comune: citizen records deleted, delivery records
    deleted, reports anonymised (photos they sent deleted), an `erasure` entry in the consent ledger of every
    channel that knew them (the ledger itself is kept: it is the proof of consent art. 7(1) asks for)."""
    key, phone = subject_key(raw)
    now = clock.now()
    record(staff, "privacy.erase", key)  # first: an erasure that fails half-way is still on the record
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
    return {"subject": key, "erased_at": now.isoformat(), "channels": done, "reports_anonymised": anonymised,
            "delivery_records_deleted": removed, "conversations_deleted": talks,
            "kept": ["consent ledger (proof of consent and of this erasure)",
                     "audit log entries naming the number, until they expire (security log, at least six months)"]}


def export(staff: Staff, raw: str) -> dict:
    """Everything the comune holds about one phone number, as JSON (art. 15): citizen records per channel,
    consent ledger, reports filed or followed (events, photo metadata: no bytes, no links), delivery records and
    the audit entries that name them. The export is itself audited, before anything is read."""
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
    return {
        "format": EXPORT_FORMAT, "subject": key, "tenant": staff.tenant_id, "generated_at": now.isoformat(),
        "generated_by": staff.subject,
        "citizen_records": [r for r in records if r is not None],
        "consents": [_consent(e) for e in ledger],
        "reports": [_report(r, set(subjects), phone) for r in sorted(found, key=lambda r: r.report_id)],
        "deliveries": [_delivery(d) for d in sent],
        "conversations": [_conversation(c) for c in conversation_store.for_citizen(
            staff.tenant_id, [c.phone_number_id for c in channels if staff.may_converse(c.kind)], key)],
        "audit": [{"at": e.at.isoformat(), "actor": e.actor, "action": e.action, "target": e.target}
                  for e in sorted(trail, key=lambda e: e.at)],
        "not_included": _not_included(tips),
    }


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
    sent = report.reporter in subjects or bool(phone and report.contact.get("phone") == phone)
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
