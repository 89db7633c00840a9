"""One action on many reports at once (issue 14): each report goes through the same single-report step of desk.py,
so the lifecycle, the citizens' messages and the checks have one home. A report whose step is refused is answered
as refused and the others proceed; each report changed gets one audit entry; a report already as asked is answered
as unchanged and its citizens are not told again, so retrying a request is harmless."""
from __future__ import annotations

from datetime import timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from chalicelib.domain import reports as rules
from chalicelib.domain.access import Staff
from chalicelib.domain.reports import NotAllowed, Report, ReportFull
from chalicelib.services import access, clock
from chalicelib.services.access import NotFound
from chalicelib.services.reports import desk, updates
from chalicelib.store import reports as store
from chalicelib.store.reports import Conflict

MAX_IDS = 100
RETRY_WINDOW = timedelta(hours=1)  # a step this recent, met again, may be a retry of the request that took it
ACTIONS = ("triage", "assign", "category", "close", "merge", "assignee")
CLOSING = ("resolved", "rejected")
# what each action needs besides ids, by field
NEEDS = {"assign": "team", "category": "category", "merge": "into"}


class BulkAction(BaseModel):
    """triage: take in charge; assign: to a team; category: file under a category; close: resolved or rejected
    (to), with an outcome for tips; merge: each into one report (into); assignee: a staff member in charge."""

    model_config = ConfigDict(extra="forbid")
    ids: list[str] = Field(min_length=1, max_length=MAX_IDS, description=f"Report ids, at most {MAX_IDS}.")
    action: Literal[ACTIONS]
    note: str | None = Field(default=None, max_length=2000)
    public: bool | None = Field(default=None, description="Steps only: whether the citizens are told; absent, the "
                                "step's own default (closing tells them).")
    team: str | None = Field(default=None, max_length=64)
    category: str | None = Field(default=None, max_length=64)
    to: Literal[CLOSING] = "resolved"
    outcome: str | None = Field(default=None, max_length=64)
    into: str | None = Field(default=None, max_length=40)
    assignee: str | None = Field(default=None, max_length=128)

    @model_validator(mode="after")
    def _complete(self) -> BulkAction:
        needed = NEEDS.get(self.action)
        if needed and not getattr(self, needed):
            raise ValueError(f"{needed}: the {self.action} action needs {needed}")
        if any(not i or len(i) > 40 for i in self.ids):
            raise ValueError("ids: each id is 1 to 40 characters")
        return self


def apply(staff: Staff, request: BulkAction) -> dict:
    """The action on each report, in the order given (an id given twice counts once); what happened to each.
    The report all are merged into must exist for the caller (else InvalidReport, and nothing changes)."""
    if request.action == "merge":
        try:
            desk.visible(staff, _into_id(request.into))
        except NotFound:
            raise desk.InvalidReport("into must name a report of this comune", "into") from None
    results = [_one(staff, report_id, request) for report_id in dict.fromkeys(request.ids)]
    counts = {outcome: sum(1 for r in results if r["result"] == outcome) for outcome in RESULTS}
    return {"action": request.action, "results": results, "counts": counts}


RESULTS = ("done", "unchanged", "refused", "not_found")


def _one(staff: Staff, report_id: str, request: BulkAction) -> dict:
    if not rules.is_report_id(report_id):
        return _answer(report_id, "not_found")
    try:
        report = desk.visible(staff, report_id)
        if request.action == "merge" and report.report_id == _into_id(request.into):
            return _answer(report_id, "unchanged", report)  # the report the others join
        changed = _act(staff, report, request)
    except NotFound:
        return _answer(report_id, "not_found")
    except (NotAllowed, desk.InvalidReport, ReportFull, Conflict) as refusal:
        return _answer(report_id, "refused", store.get(staff.tenant_id, report_id), _reason(refusal))
    if changed is None:
        return _answer(report_id, "unchanged", report)
    access.record(staff, f"report.bulk.{request.action}", changed.report_id)
    return _answer(report_id, "done", changed)


def _act(staff: Staff, report: Report, request: BulkAction) -> Report | None:
    """The single-report step of desk.py for this action; None when the report is already as asked."""
    if request.action == "category":
        updated, changed = desk.set_category(staff, report.report_id, desk.CategoryChange(category=request.category))
        return updated if changed else None
    if request.action == "assignee":
        updated, changed = desk.assign_person(staff, report.report_id, desk.Assignment(assignee=request.assignee))
        return updated if changed else None
    if request.action == "merge":
        if report.status == "duplicate" and report.duplicate_of == _into_id(request.into):
            return None
        return desk.apply_merge(staff, report.report_id, desk.Merge(into=request.into))
    step = _step(request)
    if _already(report, step):
        _finish_telling(staff, report)
        return None
    return desk.apply_transition(staff, report.report_id, step)


def _step(request: BulkAction) -> desk.Transition:
    to = {"triage": "triaged", "assign": "assigned", "close": request.to}[request.action]
    return desk.Transition(to=to, note=request.note, public=request.public, team=request.team,
                           outcome=request.outcome if request.action == "close" else None)


def _already(report: Report, step: desk.Transition) -> bool:
    """The report is where the step leads (a retry): assigning counts only to the same team."""
    return report.status == step.to and (step.to != "assigned" or report.team == step.team)


def _finish_telling(staff: Staff, report: Report) -> None:
    """When the report's last entry is this step and told the citizens, queue that message again: its job id is the
    same (one per event and citizen), so the outbound queue sends it to nobody twice, and a request cut off between
    the change and the message still tells them. Only within RETRY_WINDOW: the record of a send is kept for a while
    (retention.deliveries), and an old step met again by a new action is no retry."""
    last = report.events[-1] if report.events else None
    if last is not None and last.action == "status" and last.status == report.status and last.public \
            and clock.now() - last.at <= RETRY_WINDOW:
        updates.notify(access.tenant_of(staff), report, last)


def _into_id(into: str | None) -> str | None:
    return rules.parse_number(into or "", clock.now().year) or into


def _reason(refusal: Exception) -> dict:
    field = getattr(refusal, "field", None)
    code = {NotAllowed: "not_allowed", ReportFull: "report_full", Conflict: "conflict"}.get(type(refusal),
                                                                                          "invalid_request")
    return {"code": code, "message": str(refusal), **({"field": field} if field else {})}


def _answer(report_id: str, result: str, report: Report | None = None, reason: dict | None = None) -> dict:
    return {"id": report_id, "result": result, "number": report.number if report else None,
            "status": report.status if report else None, **({"reason": reason} if reason else {})}
