"""Closing the loop with the citizen: when a report is resolved, whoever follows it is asked whether the problem is
really solved («Risolto» / «Non risolto»). Inside the 24-hour window the question comes as reply buttons under the
update; outside it the channel's `report_feedback` template carries the news and the same two quick replies (when the
comune has it approved; otherwise the plain update goes, and nobody is asked).

Each question is one round, named by the index of the resolving event in the report's history: the buttons' payloads
carry it, so a tap answers exactly the question it was under. A «Non risolto» to the current round of a report that is
still resolved reopens it (in_progress, with a note in the timeline staff read). Each citizen's answer is recorded
once per round (a second tap only gets "already recorded"); a tap from someone who was not asked that question changes
nothing. Who was asked and who answered is kept as a short pseudonymous hash of the citizen within the report, never
their number.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass

from chalicelib.domain import reports as rules
from chalicelib.domain.reports import Event, Report
from chalicelib.domain.tenancy import Channel, Tenant
from chalicelib.observability import logger
from chalicelib.providers.base import Buttons, Choice, InboundMessage, Template, Text
from chalicelib.services.replies import channel_text
from chalicelib.services.reports import wording
from chalicelib.store import reports as store

PURPOSE = "report_feedback"  # the channel's template (domain.settings.TEMPLATE_PURPOSES)
PREFIX = "fb:"  # a button's payload: fb:<report id>:<round>:<y|n>
ASKED, ANSWERED = "feedback_asked", "feedback"  # the report's events (staff timeline, KPIs)
YES, NO = "resolved", "not_resolved"


def applies(report: Report, event: Event) -> bool:
    """Whether this public step asks its citizens for their answer: a report (not a tip) just resolved."""
    return report.kind == "report" and event.action == "status" and event.status == "resolved" and event.public


def round_of(report: Report, event: Event) -> int:
    """The question's round: the index of the resolving event in the report's history."""
    return max(i for i, e in enumerate(report.events) if e == event)


def who(report: Report, subject: str) -> str:
    """A citizen ("<channel>#<key>") as the report's feedback events name them: pseudonymous, per report."""
    return hashlib.sha256(f"{report.report_id}|{subject}".encode()).hexdigest()[:16]


def contents(tenant: Tenant, channel: Channel, report: Report, event: Event, update: str, in_window: bool):
    """What a citizen receives for the resolving step, with the question; None when it cannot be asked (outside
    the window without the approved template: the caller sends the plain update)."""
    turn = round_of(report, event)
    yes, no = (f"{PREFIX}{report.report_id}:{turn}:{answer}" for answer in ("y", "n"))
    if in_window:
        question = channel_text(tenant, channel, "report.feedback_question", number=report.number)
        return [Text(body=update), Buttons(body=question, buttons=[
            Choice(id=yes, title=channel_text(tenant, channel, "report.feedback_yes")),
            Choice(id=no, title=channel_text(tenant, channel, "report.feedback_no"))])]
    template = channel.template(PURPOSE)
    if template is None or not template.approved:
        return None
    return [Template(name=template.name, language=template.language,
                     body_params=[report.number, wording.page_url(report)], button_payloads=[yes, no])]


def record_asked(tenant_id: str, report: Report, event: Event, subjects: list[str], now) -> bool:
    """Note in the report who is asked in this round (their taps are checked against it; KPIs: satisfied over
    asked), before anything is sent. False when nobody is asked, or the report has no room left for it (then the
    caller sends the plain update: a question whose answer could not be recorded is not asked)."""
    if not subjects:
        return False
    turn = round_of(report, event)
    asked = Event(at=now, actor="system", action=ASKED, data={"round": turn, "asked": [who(report, s) for s in subjects]})
    try:
        store.change(tenant_id, report.report_id, lambda current: store.with_event(current, asked))
    except rules.ReportFull:
        logger.warning("report full: resolved without asking its citizens", extra={"report": report.report_id})
        return False
    return True


# ---- the citizen's tap --------------------------------------------------------------------------------------------

def is_answer(message: InboundMessage) -> bool:
    return bool(message.reply and message.reply.id.startswith(PREFIX))


def _parse(payload: str) -> tuple[str, int, str] | None:
    parts = payload.removeprefix(PREFIX).split(":")
    if len(parts) != 3 or not rules.is_report_id(parts[0]) or not parts[1].isdigit() or parts[2] not in ("y", "n"):
        return None
    return parts[0], int(parts[1]), YES if parts[2] == "y" else NO


@dataclass
class _Outcome:
    recorded: bool = False
    reopened: bool = False


def answer(intake) -> None:
    """A tap on «Risolto» or «Non risolto» (intake.Intake): recorded once per citizen and question; «Non risolto»
    reopens the report when it is still resolved by that question. Anyone not asked is told there is nothing to
    answer, and nothing changes."""
    parsed = _parse(intake.message.reply.id)
    report = store.get(intake.tenant.id, parsed[0]) if parsed else None
    if parsed is None or report is None or not _was_asked(report, parsed[1], who(report, intake.subject)):
        intake.say("report.feedback_unknown")
        return
    _, turn, reply = parsed
    citizen = who(report, intake.subject)
    if _answer_of(report, turn, citizen) is not None:
        intake.say("report.feedback_already", number=report.number)
        return
    outcome = _Outcome()
    note = intake.text("report.feedback_reopen_note")

    def edit(current: Report) -> Report:
        outcome.recorded = outcome.reopened = False
        if _answer_of(current, turn, citizen) is not None:
            return current  # a second tap that raced the first
        outcome.recorded = True
        answered = Event(at=intake.now, actor="citizen", action=ANSWERED,
                         data={"round": turn, "by": citizen, "answer": reply})
        current = store.with_event(current, answered)
        if reply == NO and current.status == "resolved" and _latest_round(current) == turn:
            outcome.reopened = True
            reopened = Event(at=intake.now, actor="citizen", action="status", status="in_progress", note=note,
                             data={"reopened_by": "citizen"})
            current = store.with_event(current, reopened, status="in_progress", resolved_at=None)
        return current
    # an answer always fits: one small event per citizen asked (the question was only asked when its record fitted
    # in the system's share), under DynamoDB's limit with the 50 KB the system's share leaves
    store.change(report.tenant_id, report.report_id, edit, room=None)
    if not outcome.recorded:
        intake.say("report.feedback_already", number=report.number)
    elif reply == YES:
        intake.say("report.feedback_thanks", number=report.number)
    else:
        intake.say("report.feedback_reopened" if outcome.reopened else "report.feedback_noted", number=report.number)


def _was_asked(report: Report, turn: int, citizen: str) -> bool:
    return any(e.action == ASKED and e.data.get("round") == turn and citizen in e.data.get("asked", ())
               for e in report.events)


def _answer_of(report: Report, turn: int, citizen: str) -> str | None:
    return next((e.data.get("answer") for e in report.events
                 if e.action == ANSWERED and e.data.get("round") == turn and e.data.get("by") == citizen), None)


def _latest_round(report: Report) -> int | None:
    return max((i for i, e in enumerate(report.events) if e.action == "status" and e.status == "resolved"), default=None)


# ---- what staff and the KPIs read -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Tally:
    asked: int = 0  # citizens asked, in any round
    satisfied: int = 0  # of them, those whose last answer is «Risolto»
    not_satisfied: int = 0  # ... «Non risolto»


def tally(report: Report) -> Tally:
    """Each citizen asked counts once; their answer is the one to the latest question they answered (a late tap on
    an older question does not outweigh the answer to a newer one)."""
    asked: set[str] = set()
    answers: dict[str, tuple[int, str]] = {}
    for event in report.events:
        if event.action == ASKED:
            asked.update(event.data.get("asked", ()))
        elif event.action == ANSWERED and event.data.get("by"):
            turn, earlier = event.data.get("round", -1), answers.get(event.data["by"], (-1, ""))
            if turn >= earlier[0]:
                answers[event.data["by"]] = (turn, event.data.get("answer"))
    last = [answers[c][1] for c in asked if c in answers]
    return Tally(asked=len(asked), satisfied=last.count(YES), not_satisfied=last.count(NO))
