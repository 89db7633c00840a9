"""Nothing new goes unseen: new reports and tips, from any channel, reach the staff who handle them.

- The console's badge and "Da vedere" list: the new reports nobody who may read them has opened yet
  (domain.reports.is_unseen; a sparse index keeps the poll one small Query). Opening a report marks it seen.
- An email to each office's and team's address the comune set (ReportSettings.notify, Team.email), queued on the
  inbound queue (message attribute kind) so that intake never waits for SES nor fails with it; one claim per
  (report, address) (store.notices) so no address gets two emails for one report; a failed send is tried again
  with backoff, MAX_ATTEMPTS times in all, then recorded as failed with an error logged.
- A tip that arrived outside the safety channel's watched hours is flagged `after_hours` in the list: the police
  read those first when they come in.
- Optionally, a tip with an urgent word reaches the on-call officer's phone as a WhatsApp utility template.
"""
from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import datetime

from botocore.exceptions import BotoCoreError, ClientError
from pydantic import BaseModel

from chalicelib import messages
from chalicelib.domain import reports as rules
from chalicelib.domain.access import Staff
from chalicelib.domain.hours import DailyWindow
from chalicelib.domain.keywords import mentions_any
from chalicelib.domain.reports import Report
from chalicelib.domain.tenancy import Channel, Tenant
from chalicelib.observability import count, logger
from chalicelib.providers.base import Template
from chalicelib.services import access, clock
from chalicelib.services.messaging import outbound
from chalicelib.services.messaging.backoff import backoff_seconds
from chalicelib.services.reports import wording
from chalicelib.settings import get_settings
from chalicelib.store import directory, mailer, notices, queues
from chalicelib.store import reports as store

KIND = "report_notice"  # the message attribute that tells a staff notice on the inbound queue
MAX_ATTEMPTS = 5  # SES tries per address: at once, then after about 30 s, 1, 2 and 4 minutes in AWS
LIST_MAX = 50  # arrivals listed per kind (the count goes on past it)
SECTIONS = {"report": "segnalazioni", "safety": "sicurezza"}  # the console's pages (web/console/src/main.js)


class Notice(BaseModel):
    tenant_id: str
    report_id: str
    attempt: int = 1


# ---- telling the offices ---------------------------------------------------------------------------------

def announce(report: Report) -> None:
    """Queue the email to the staff in charge of a new report (again when its category, and so its team, becomes
    known: addresses already told are skipped). Never raises: a report is never lost to a notice."""
    try:
        queues.send("inbound", Notice(tenant_id=report.tenant_id, report_id=report.report_id).model_dump(), kind=KIND)
    except Exception:  # the report is stored and in the console's list; only the email is missing
        logger.exception("staff notice not queued", extra={"report": report.report_id})
        count("StaffNoticeNotQueued")


def handle(body: dict) -> None:
    """One notice from the queue: email each address not yet told; a failure is tried again later, bounded."""
    job = Notice.model_validate(body)
    tenant, report = directory.get_tenant(job.tenant_id), store.get(job.tenant_id, job.report_id)
    if tenant is None or report is None or report.status == "duplicate":
        return  # erased meanwhile, or found to be a known problem: its original was announced
    now = clock.now()
    subject, text = _email(tenant, report)
    failed = [address for address in tenant.reports.notice_addresses(report.kind, report.category)
              if not _send(tenant, report, address, subject, text, job.attempt, now)]
    if failed and job.attempt < MAX_ATTEMPTS:
        delay = backoff_seconds(get_settings().retry_base_seconds, job.attempt, 900)
        queues.send("inbound", job.model_copy(update={"attempt": job.attempt + 1}).model_dump(),
                    delay_seconds=delay, kind=KIND)


def _send(tenant: Tenant, report: Report, address: str, subject: str, text: str, attempt: int, now: datetime) -> bool:
    """Email one address unless it was told already; False when the send failed (to be tried again)."""
    if not notices.claim(tenant.id, report.report_id, address, now):
        return True  # sent already, given up, or another run is sending it
    try:
        message_id = mailer.send(address, subject, text)
    except (BotoCoreError, ClientError) as error:
        last = attempt >= MAX_ATTEMPTS
        notices.settle(tenant.id, report.report_id, address, "failed" if last else "retry", clock.now(),
                       error=str(error))
        (logger.error if last else logger.warning)("staff notice not sent", extra={
            "report": report.report_id, "attempt": attempt, "error": type(error).__name__})
        if last:
            count("StaffNoticeFailed")
        return False
    notices.settle(tenant.id, report.report_id, address, "sent", clock.now(), message_id=message_id)
    return True


def _email(tenant: Tenant, report: Report) -> tuple[str, str]:
    """Subject and body. What the citizen wrote, sent or is stays in the console (audited reads), never in an
    email: number, kind, category, hamlet, channel, time and a link."""
    def say(key: str, **params) -> str:
        return messages.text(key, tenant.language, comune=tenant.name, **params)
    hamlet = tenant.hamlet(report.hamlet) if report.hamlet else None
    url = get_settings().console_url
    link = say("staff_notice.link", url=f"{url}#/{SECTIONS[report.kind]}/{report.report_id}") if url else ""
    received = report.created_at.astimezone(wording.ROME).strftime("%d/%m/%Y %H:%M")
    category = wording.category_label(tenant, report)
    body = say("staff_notice.body", number=report.number, kind=say(f"staff_notice.kind.{report.kind}"),
               category=category if report.kind == "report" else "-", hamlet=hamlet.name if hamlet else "-",
               source=say(f"staff_notice.source.{report.source}") if report.source in _SOURCES else report.source,
               received=received, link=link,
               after_hours=say("staff_notice.after_hours") if after_hours(report, watched_hours(tenant)) else "")
    return say(f"staff_notice.subject.{report.kind}", number=report.number, category=category), body


_SOURCES = ("whatsapp", "web", "open311", "desk", "phone", "email")


def watched_hours(tenant: Tenant) -> DailyWindow | None:
    """When the comune's safety line is watched (its channel's watched_hours); None: always, or no such line."""
    channel = next((c for c in directory.channels_of(tenant.id) if c.kind == "safety"), None)
    return channel.settings.watched_hours.window() if channel else None


def after_hours(report: Report, watched: DailyWindow | None) -> bool:
    """A tip that came when the safety line was not watched."""
    return report.kind == "safety" and watched is not None and not watched.contains(report.created_at)


# ---- the on-call phone ---------------------------------------------------------------------------------------

def alert_on_call(tenant: Tenant, channel: Channel, report: Report, words: str) -> bool:
    """A tip whose words hold an urgent keyword (the safety channel's urgent_keywords) goes to the on-call officer's
    phone as the channel's urgent_tip template: its number and the comune, nothing the resident wrote. Through the
    outbound queue, one job per tip, so a second urgent message or a replay sends nothing more. Never raises."""
    settings = channel.settings
    if report.kind != "safety" or not settings.on_call_phone or not mentions_any(words, settings.urgent_keywords):
        return False
    template = channel.template("urgent_tip")
    if template is None or not template.approved:
        logger.warning("urgent tip: no approved urgent_tip template for the on-call phone",
                       extra={"report": report.report_id})
        return False
    job_id = "urgent-" + hashlib.sha256(f"{tenant.id}|{report.report_id}".encode()).hexdigest()[:32]
    phone = settings.on_call_phone
    try:
        outbound.reply(tenant.id, channel.phone_number_id, outbound.JobRecipient(key=phone, phone=phone),
                       [Template(name=template.name, language=template.language,
                                 body_params=[report.number, tenant.name])], job_id=job_id)
    except Exception:  # the tip is stored and listed; only the phone's alert is missing
        logger.exception("urgent tip: on-call alert not queued", extra={"report": report.report_id})
        count("OnCallAlertNotQueued")
        return False
    return True


# ---- the console's badge and list ----------------------------------------------------------------------------

def for_staff(staff: Staff, kinds: tuple[str, ...]) -> dict:
    """What is new for this staff member: per kind they may read, how many reports nobody has opened and the
    oldest of them. Number, category, hamlet, channel and time only: no personal data, so no audit entry."""
    tenant = access.tenant_of(staff)
    watched = watched_hours(tenant) if "safety" in kinds else None
    counts, items = {}, []
    for kind in kinds:
        found, counts[kind] = store.unseen(tenant.id, kind, LIST_MAX)
        items += [_item(r, watched) for r in found]
    items.sort(key=lambda i: (not i["after_hours"], i["created_at"]))  # the night's tips first, then oldest first
    return {"count": sum(counts.values()), "by_kind": counts, "items": items}


def _item(report: Report, watched: DailyWindow | None) -> dict:
    return {"id": report.report_id, "number": report.number, "kind": report.kind, "category": report.category,
            "hamlet": report.hamlet, "source": report.source, "created_at": report.created_at.isoformat(),
            "after_hours": after_hours(report, watched)}


def mark_seen(staff: Staff, report: Report) -> Report:
    """The first opening by staff who may read it takes a new report off the list (and the badge)."""
    if not rules.is_unseen(report.status, report.seen_at):
        return report
    now = clock.now()

    def edit(current: Report) -> Report:
        return current if current.seen_at is not None else replace(current, seen_at=now, seen_by=staff.subject)
    try:  # a few bytes, no event: it must fit even a full report (room None), and never fail the reading
        return store.change(report.tenant_id, report.report_id, edit, room=None) or report
    except store.Conflict:
        return report
