"""Public changes of a report reach its reporter and followers on WhatsApp: free text inside the 24-hour
window, the channel's approved utility template outside it."""
from __future__ import annotations

import hashlib

from chalicelib.domain.broadcasts import in_service_window
from chalicelib.domain.phones import key_parts
from chalicelib.domain.reports import Event, Report
from chalicelib.domain.subscriptions import Citizen
from chalicelib.domain.tenancy import Channel, Tenant
from chalicelib.observability import logger
from chalicelib.providers.base import Template, Text
from chalicelib.services import clock
from chalicelib.services.messaging import outbound
from chalicelib.services.replies import channel_text
from chalicelib.services.reports import feedback, wording
from chalicelib.store import citizens, directory

EXTERNAL_UPDATE = "external_update"  # an external body's post through its private link (services.reports.external)


def notify(tenant: Tenant, report: Report, event: Event, extra: dict | None = None) -> int:
    """Queue the update for everyone who follows the report; returns how many were queued. A resolving step also
    asks each of them whether the problem is solved (services.reports.feedback): who was asked is written on the
    report first, and when it cannot be (a full report) the plain update goes instead."""
    if not event.public:
        return 0
    sends: list[tuple[str, str, Citizen | None, list | None, list | None]] = []
    for subject in (s for s in (report.reporter, *report.followers) if s):
        channel_id, _, key = subject.partition("#")
        channel = directory.get_channel(channel_id)
        if channel is None or channel.tenant_id != tenant.id:
            continue
        citizen = citizens.get(channel_id, key)
        content = _content(tenant, channel, report, event, citizen, extra or {})
        sends.append((subject, channel_id, citizen, [content] if content is not None else None,
                      _with_question(tenant, channel, report, event, citizen, extra or {})))
    asking = feedback.record_asked(tenant.id, report, event, [s[0] for s in sends if s[4]], clock.now())
    # one job per event and follower, named by the event's place in the history (not the history's length, which the
    # question's own entry changes): queuing the same event again sends nobody anything twice
    place = next((i for i in range(len(report.events) - 1, -1, -1) if report.events[i] == event), len(report.events))
    queued = 0
    for subject, channel_id, citizen, plain, with_question in sends:
        contents = with_question if asking and with_question else plain
        if contents is None:
            logger.warning("no template for an update outside the 24-hour window", extra={"report": report.report_id})
            continue
        recipient = recipient_of(subject.partition("#")[2], citizen)
        job_id = "update-" + hashlib.sha256(f"{report.tenant_id}|{report.report_id}|{place}|{subject}"
                                            .encode()).hexdigest()[:32]
        outbound.reply(tenant.id, channel_id, recipient, contents, job_id=job_id)
        queued += 1
    return queued


def _with_question(tenant: Tenant, channel: Channel, report: Report, event: Event, citizen: Citizen | None,
                   extra: dict) -> list | None:
    """A resolving step asks whether the problem is solved (services.reports.feedback), when it can."""
    if not feedback.applies(report, event):
        return None
    in_window = citizen is not None and in_service_window(citizen.last_inbound_at, clock.now())
    return feedback.contents(tenant, channel, report, event, update_text(tenant, channel, report, event, extra),
                             in_window)


def update_text(tenant: Tenant, channel: Channel, report: Report, event: Event, extra: dict) -> str:
    note = f"\n{event.note}" if event.note else ""
    if event.action == EXTERNAL_UPDATE:
        return channel_text(tenant, channel, "report.update_external", number=report.number,
                            body=event.data.get("body_name"), status=external_label(tenant, channel, event), note=note)
    if event.status == "forwarded" and report.external:
        return channel_text(tenant, channel, "report.update_forwarded", number=report.number,
                            body=report.external.get("name"), date=wording.local_date(event.at), note=note)
    if event.status == "duplicate" and extra.get("original"):
        note = channel_text(tenant, channel, "report.duplicate_of", original=extra["original"]) + note
    status = wording.status_label(tenant, event.status or report.status)
    return channel_text(tenant, channel, "report.update", number=report.number,
                        category=wording.category_label(tenant, report), status=status, note=note)


def _content(tenant: Tenant, channel: Channel, report: Report, event: Event, citizen: Citizen | None, extra: dict):
    body = update_text(tenant, channel, report, event, extra)
    if citizen is not None and in_service_window(citizen.last_inbound_at, clock.now()):
        return Text(body=body)
    template = channel.template("report_update")
    if not template:
        return None
    status = wording.status_label(tenant, event.status or report.status)
    if event.action == EXTERNAL_UPDATE:
        status = f"{event.data.get('body_name')}: {external_label(tenant, channel, event)}"
    return Template(name=template.name, language=template.language,
                    body_params=[report.number, status, wording.page_url(report)])


def external_label(tenant: Tenant, channel: Channel, event: Event) -> str:
    """An external body's status (services.reports.external), in the citizen's words."""
    return channel_text(tenant, channel, f"external.{event.data.get('external_status')}")


def recipient_of(key: str, citizen: Citizen | None) -> outbound.JobRecipient:
    if citizen is not None:
        return outbound.JobRecipient(key=key, phone=citizen.phone, user_id=citizen.user_id)
    phone, user_id = key_parts(key)
    return outbound.JobRecipient(key=key, phone=phone, user_id=user_id)
