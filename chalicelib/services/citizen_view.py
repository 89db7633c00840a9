"""One view per citizen for the desk ("I reported something last week"): by phone number or BSUID, their record
and consents on each channel, their reports, and the conversation on each channel, newest first; each part only
as far as the caller's roles reach (domain/access.py: channels by kind, reports by kind, conversations by kind).

What the conversation is made of, from what the system keeps:
- what the citizen sent that became part of a report or a tip (the report's events by the citizen: words, photos,
  positions, a chosen category), and the free text no flow took (Messaggi: a reply to a broadcast, a question),
  kept with its conversation; keywords (ATTIVA, DISATTIVA) are not kept, only the consents they led to;
- what we sent: the delivery records (status sent/delivered/read/failed), kept the tenant's `retention.deliveries`
  days; a broadcast's with its title, a reply's or an update's with the summary recorded since the records carry
  one (older records name no channel and are left out, as no role check could place them).

Delivery records have no index by recipient: reading them is a Scan of the deliveries table (as the subject-access
export does; docs/privacy.md), bounded in what it returns, not in what it reads."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from chalicelib.domain.access import Staff
from chalicelib.domain.reports import Report
from chalicelib.domain.tenancy import Channel
from chalicelib.services.access import record
from chalicelib.services.admin.privacy import subject_key
from chalicelib.services.subscriptions.subscribers import view as subscriber_view
from chalicelib.store import broadcasts, citizens, conversations, deliveries, directory
from chalicelib.store import reports as report_store

MAX_REPORTS = 100  # newest first; a citizen with more is shown the newest (and told: truncated)
MAX_MESSAGES = 300  # of the conversation, newest first
CITIZEN_ACTIONS = ("text", "photo", "location", "category")  # each a message; "created" is not one


def read(staff: Staff, raw: str, request_id: str | None = None) -> dict:
    """The citizen as the caller may see them; audited before anything is read (InvalidSubject for a bad key)."""
    key, phone = subject_key(raw)
    record(staff, "citizen.read", key, request_id)
    channels = directory.channels_of(staff.tenant_id)
    visible = [c for c in channels if staff.may_use_channel(c.kind)]
    talking = {c.phone_number_id: c for c in channels if staff.may_converse(c.kind)}
    subjects = {f"{c.phone_number_id}#{key}" for c in channels}
    found = [r for r in report_store.naming(staff.tenant_id, subjects, phone) if staff.may_read_report(r.kind)]
    found.sort(key=lambda r: r.created_at, reverse=True)
    messages = (_inbound(found, subjects, phone, talking) + _said_freely(staff.tenant_id, key, talking)
                + _outbound(staff.tenant_id, key, talking))
    messages.sort(key=lambda m: m["at"], reverse=True)
    return {
        "subject": key, "phone": phone,
        "channels": [_channel(c, citizens.get(c.phone_number_id, key)) for c in visible],
        "consents": _consents(visible, key),
        "reports": [_report(r, subjects, phone) for r in found[:MAX_REPORTS]],
        "conversation": messages[:MAX_MESSAGES],
        "truncated": len(found) > MAX_REPORTS or len(messages) > MAX_MESSAGES,
        "conversation_channels": [c.phone_number_id for c in talking.values()],
    }


def _channel(channel: Channel, held) -> dict:
    return {"channel": channel.phone_number_id, "kind": channel.kind, "name": channel.name,
            "subscriber": subscriber_view(held) if held else None}


def _consents(channels: list[Channel], key: str) -> list[dict]:
    entries = [e for c in channels for e in citizens.consents(c.phone_number_id, key)]
    return [{"channel": e.channel_id, "action": e.action, "purpose": e.purpose, "path": e.path,
             "notice_version": e.notice_version, "recorded_at": e.recorded_at.isoformat()}
            for e in sorted(entries, key=lambda e: e.recorded_at, reverse=True)]


def _theirs(report: Report, subjects: set[str], phone: str | None) -> bool:
    return report.reporter in subjects or bool(phone and report.contact.get("phone") == phone)


def _report(report: Report, subjects: set[str], phone: str | None) -> dict:
    return {"id": report.report_id, "number": report.number, "kind": report.kind, "status": report.status,
            "category": report.category, "hamlet": report.hamlet, "source": report.source,
            "role": "reporter" if _theirs(report, subjects, phone) else "follower", "text": report.text[:200],
            "created_at": report.created_at.isoformat(), "updated_at": report.updated_at.isoformat()}


def _inbound(found: list[Report], subjects: set[str], phone: str | None, talking: dict[str, Channel]) -> list[dict]:
    """What the citizen sent, as kept in the events of their reports (and of the reports they follow, the events
    marked as coming from one of their own)."""
    own_numbers = {r.number for r in found if _theirs(r, subjects, phone)}
    messages = []
    for report in found:
        if report.channel_id not in talking:
            continue  # a desk report (no channel) or a channel the roles do not read
        mine = _theirs(report, subjects, phone)
        for event in report.events:
            if event.actor != "citizen" or event.action not in CITIZEN_ACTIONS:
                continue
            if not (mine and "from" not in event.data) and event.data.get("from") not in own_numbers:
                continue
            messages.append({"at": event.at.isoformat(), "direction": "in", "channel": report.channel_id,
                             "kind": event.action, "text": _said(event), "report": report.number,
                             "report_id": report.report_id, "status": None})
    return messages


def _said_freely(tenant_id: str, key: str, talking: dict[str, Channel]) -> list[dict]:
    """What the citizen wrote that no flow took (Messaggi): their side of those conversations (staff's answers are
    among the delivery records, with their status)."""
    return [{"at": m.at.isoformat(), "direction": "in", "channel": c.channel_id, "kind": m.kind, "text": m.text,
             "report": None, "report_id": None, "status": None}
            for c in conversations.for_citizen(tenant_id, talking, key) for m in c.messages if m.direction == "in"]


def _said(event) -> str | None:
    if event.note:
        return event.note
    if event.action == "category":
        return event.data.get("category")
    return None


def _outbound(tenant_id: str, key: str, talking: dict[str, Channel]) -> list[dict]:
    rows = deliveries.of_recipient(tenant_id, key)
    titles = _broadcast_titles(tenant_id, rows)
    messages = []
    for row in rows:
        broadcast_id = _broadcast_of(row["job_id"])
        channel_id = titles.get(broadcast_id, (None, None))[0] if broadcast_id else row.get("channel_id")
        if channel_id not in talking:
            continue
        at = row.get("recorded_at") or row.get("updated_at")
        if not at:
            continue
        messages.append({"at": _iso(at), "direction": "out", "channel": channel_id,
                         "kind": "broadcast" if broadcast_id else "reply",
                         "text": titles[broadcast_id][1] if broadcast_id else row.get("summary"),
                         "report": None, "report_id": None, "status": row.get("status"),
                         "error_code": int(row["error_code"]) if row.get("error_code") is not None else None})
    return messages


def _broadcast_of(job_id: str) -> str | None:
    """A broadcast's delivery records are keyed "<broadcast id>#<shard>" (messaging.outbound.delivery_key)."""
    return job_id.rsplit("#", 1)[0] if "#" in job_id else None


def _broadcast_titles(tenant_id: str, rows: list[dict]) -> dict[str, tuple[str, str | None]]:
    ids = {b for b in (_broadcast_of(r["job_id"]) for r in rows) if b}
    found = {}
    for broadcast_id in ids:
        b = broadcasts.get(tenant_id, broadcast_id)
        if b is not None:
            content: dict[str, Any] = b.content or {}
            found[broadcast_id] = (b.channel_id, content.get("title") or (content.get("template") or {}).get("name"))
    return found


def _iso(value: str) -> str:
    try:
        return datetime.fromisoformat(value).isoformat()
    except ValueError:
        return value
