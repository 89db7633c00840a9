"""What a report's citizens answered when it was resolved (services/reports/feedback.py), as staff and the KPIs read
it: each citizen asked counts once, with their answer to the latest question they answered."""
from datetime import UTC, datetime

from chalicelib.domain.reports import Event, Report
from chalicelib.services.reports.feedback import ANSWERED, ASKED, NO, YES, Tally, tally

AT = datetime(2026, 11, 20, 9, tzinfo=UTC)


def report(*events: Event) -> Report:
    return Report(tenant_id="t", report_id="2026-0000001", number="2026/1", kind="report", status="resolved",
                  created_at=AT, updated_at=AT, events=events)


def asked(turn: int, *who: str) -> Event:
    return Event(at=AT, actor="system", action=ASKED, data={"round": turn, "asked": list(who)})


def answered(turn: int, who: str, answer: str) -> Event:
    return Event(at=AT, actor="citizen", action=ANSWERED, data={"round": turn, "by": who, "answer": answer})


def test_each_citizen_counts_once_with_the_answer_to_the_latest_question():
    history = report(asked(3, "a", "b", "c"), answered(3, "a", NO), asked(7, "a", "b", "c"), answered(7, "a", YES),
                     answered(3, "b", YES), answered(3, "a", NO))  # a's late tap on the first question
    assert tally(history) == Tally(asked=3, satisfied=2, not_satisfied=0)  # c never answered


def test_an_answer_from_someone_not_asked_does_not_count():
    assert tally(report(asked(2, "a"), answered(2, "z", YES))) == Tally(asked=1, satisfied=0, not_satisfied=0)


def test_nobody_asked():
    assert tally(report()) == Tally()
