"""Following a report on WhatsApp from a number someone typed (the portal's form, an Open311 partner): the number's
owner confirms with the template's button first, as the subscription form's double opt-in does.

Until the tap the number is only the report's contact (staff see it): it is not the reporter, so no update goes to
it and STATO from it shows nothing. The tap, from that very number, makes it the reporter.
"""
from __future__ import annotations

import hashlib

from chalicelib.domain import reports as rules
from chalicelib.domain.reports import Event, Report
from chalicelib.domain.tenancy import Channel, Tenant
from chalicelib.providers.base import InboundMessage, Template
from chalicelib.services import clock
from chalicelib.services.messaging import outbound
from chalicelib.store import directory
from chalicelib.store import reports as store

PURPOSE = "follow_confirm"  # the channel's template (domain.settings.TEMPLATE_PURPOSES)
PAYLOAD_PREFIX = "follow:"  # the button's payload: the prefix and the report id
REQUESTED, CONFIRMED = "follow_requested", "follow_confirmed"  # the report's events (staff timeline)


def channel_of(comune: Tenant) -> Channel | None:
    """The comune's reports channel when it can ask for the confirmation (an approved template), else None."""
    channel = next((c for c in directory.channels_of(comune.id) if c.kind == "reports"), None)
    template = channel.template(PURPOSE) if channel else None
    return channel if template and template.approved else None


def requested(channel: Channel) -> Event:
    """The event a report is filed with when a number asks to follow it (its contact holds the number)."""
    return Event(at=clock.now(), actor="citizen", action=REQUESTED, data={"channel": channel.phone_number_id})


def ask(comune: Tenant, channel: Channel, report: Report, phone: str) -> None:
    """Queue the confirmation template to the number; call it once the report is stored."""
    template = channel.template(PURPOSE)
    content = Template(name=template.name, language=template.language, body_params=[comune.name, report.number],
                       button_payloads=[PAYLOAD_PREFIX + report.report_id])
    job_id = "follow-" + hashlib.sha256(f"{comune.id}|{report.report_id}".encode()).hexdigest()[:32]  # once a report
    outbound.reply(comune.id, channel.phone_number_id, outbound.JobRecipient(key=phone, phone=phone), [content],
                   job_id=job_id)


def is_confirmation(message: InboundMessage) -> bool:
    return bool(message.reply and message.reply.id.startswith(PAYLOAD_PREFIX))


def confirm(intake) -> None:
    """The tap on the confirmation's button (intake.Intake): the sender becomes the report's reporter when the
    report asked this very number; anyone else is told there is nothing to confirm."""
    report_id = intake.message.reply.id.removeprefix(PAYLOAD_PREFIX)
    report = store.get(intake.tenant.id, report_id) if rules.is_report_id(report_id) else None
    if report is None or not _asked(report, intake.channel, intake.citizen.phone):
        intake.say("report.follow_unknown")
        return
    subject = f"{intake.channel.phone_number_id}#{intake.citizen.key}"
    if report.reporter not in (None, subject):
        intake.say("report.follow_unknown")
        return
    if report.reporter is None:
        report = store.change(report.tenant_id, report.report_id,
                              lambda current: _made_reporter(current, intake)) or report
    if report.duplicate_of:  # filed as a duplicate: its reporter follows the original too, as on WhatsApp
        store.change(report.tenant_id, report.duplicate_of, lambda original: _with_follower(original, subject, intake))
    intake.say("report.follow_confirmed", number=report.number, short_number=report.number.split("/")[-1])


def _asked(report: Report, channel: Channel, phone: str | None) -> bool:
    return (report.kind == "report" and bool(phone) and report.contact.get("phone") == phone
            and any(e.action == REQUESTED and e.data.get("channel") == channel.phone_number_id for e in report.events))


def _made_reporter(current: Report, intake) -> Report:
    if current.reporter is not None:
        return current
    event = Event(at=intake.now, actor="citizen", action=CONFIRMED)
    return store.with_event(current, event, channel_id=intake.channel.phone_number_id,
                            citizen_key=intake.citizen.key)


def _with_follower(original: Report, subject: str, intake) -> Report:
    if subject == original.reporter or subject in original.followers:
        return original
    event = Event(at=intake.now, actor="citizen", action="follower")
    return store.with_event(original, event, followers=original.followers + (subject,))
