"""Nothing overdue goes unnoticed (issue 14, item 2), through HTTP and the app's schedule: each report's age and due
date counted in working days on the comune's calendar, the list sorted and filtered to the overdue and due soon,
the on-time share per category and team, and the daily digest to each team, once a day.

Time moves through the app's clock seam (chalicelib/services/clock.py), never by sleeping. The calendar: Friday
4 December 2026; Monday 7 is this comune's patron saint's day (tenant data), Tuesday 8 the Immacolata (national).
"""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from chalicelib.services import clock
from chalicelib.store import directory
from local.runner import Schedule
from local.seed import REPORTS
from tests import mailbox
from tests.integration.own_comuni import OwnTown

ROME = ZoneInfo("Europe/Rome")


def rome(day: str, hour: int, minute: int = 0) -> datetime:
    return datetime.fromisoformat(day).replace(hour=hour, minute=minute, tzinfo=ROME)


class DeadlineTown(OwnTown):
    """A comune whose teams have addresses of their own, whose patron saint's day is 7 December."""

    def __init__(self, stack):
        super().__init__(stack)
        self.emails = {t["id"]: f"{t['id']}.{self.tenant}@comune.esempio.it" for t in REPORTS["teams"]}
        directory.save_tenant(self.tenant, f"Comune di {self.tenant}", {
            "reports": {**REPORTS, "teams": [{**t, "email": self.emails[t["id"]]} for t in REPORTS["teams"]],
                        "targets": {"default": {"triaged": 2, "resolved": 30},
                                    "categories": {"illuminazione": {"resolved": 10}}, "due_soon_days": 1}},
            "calendar": {"patron_day": "12-07", "patron": "Sant'Ambrogio"}})

    def desk(self, category: str, text: str) -> dict:
        answer = self.call("POST", "/api/v1/reports", json={"source": "phone", "text": text, "category": category})
        assert answer.status_code == 201, answer.text
        return answer.json()

    def listed(self, **params) -> list[dict]:
        return self.reports(status="new,triaged,assigned,forwarded,in_progress", **params)


class Clock:
    """The app's clock, set to a moment in Rome."""

    def __init__(self, monkeypatch):
        self.monkeypatch = monkeypatch

    def set(self, day: str, hour: int, minute: int = 0) -> None:
        moment = rome(day, hour, minute)
        self.monkeypatch.setattr(clock, "now", lambda: moment)


@pytest.fixture
def town(stack):
    return DeadlineTown(stack)


@pytest.fixture
def the_clock(monkeypatch):
    return Clock(monkeypatch)


@pytest.fixture
def filed(town, the_clock):
    """A pothole and a street lamp on Friday 4 (the lamp taken in charge on Thursday 10), a tree on Wednesday 9."""
    the_clock.set("2026-12-04", 10)
    pothole = town.desk("strade", "Buca profonda in via Roma")
    the_clock.set("2026-12-04", 10, 5)
    lamp = town.desk("illuminazione", "Lampione spento in piazza")
    the_clock.set("2026-12-09", 11)
    tree = town.desk("verde", "Ramo pericolante sul marciapiede")
    the_clock.set("2026-12-10", 9)
    assert town.step(lamp["id"], "triaged").status_code == 200
    return {"pothole": pothole, "lamp": lamp, "tree": tree}


def test_holidays_are_not_counted_and_a_report_past_its_target_is_overdue(town, the_clock, filed):
    pothole = filed["pothole"]["id"]
    the_clock.set("2026-12-09", 18)  # Wednesday: without the patron's day and the Immacolata it would be late
    [shown] = [r for r in town.listed() if r["id"] == pothole]
    assert shown["deadline"]["due_on"] == "2026-12-10" and shown["deadline"]["step"] == "triaged"
    assert shown["deadline"]["state"] == "due_soon" and shown["age_days"] == 5
    assert pothole not in [r["id"] for r in town.listed(due="overdue")]
    assert pothole in [r["id"] for r in town.listed(due="due_soon")]

    the_clock.set("2026-12-11", 9)  # Friday: Thursday 10 was its last day
    overdue = town.listed(due="overdue")
    assert [r["id"] for r in overdue] == [pothole]
    assert overdue[0]["deadline"]["state"] == "overdue" and overdue[0]["deadline"]["late"] is True
    assert overdue[0]["age_days"] == 7
    due_soon = town.listed(due="due_soon")
    assert [r["id"] for r in due_soon] == [filed["tree"]["id"]]  # due today, Friday 11
    detail = town.report(pothole)
    assert detail["deadline"]["state"] == "overdue"
    assert [(d["step"], d["due_on"]) for d in detail["deadlines"]] == [("triaged", "2026-12-10"), ("resolved", "2027-01-22")]
    lamp = town.report(filed["lamp"]["id"])  # taken in charge in time: now the ten working days to close it
    assert lamp["deadline"]["step"] == "resolved" and lamp["deadline"]["state"] == "on_time"
    assert lamp["deadlines"][0]["reached_at"] and not lamp["deadlines"][0]["late"]


def test_the_list_sorts_by_any_column(town, the_clock, filed):
    the_clock.set("2026-12-11", 9)
    ids = {v["id"]: k for k, v in filed.items()}
    assert [ids[r["id"]] for r in town.listed(sort="due")] == ["pothole", "tree", "lamp"]
    assert [ids[r["id"]] for r in town.listed(sort="-due")] == ["lamp", "tree", "pothole"]
    assert [ids[r["id"]] for r in town.listed(sort="number")] == ["pothole", "lamp", "tree"]
    assert [ids[r["id"]] for r in town.listed(sort="-age")] == ["pothole", "lamp", "tree"]
    assert [ids[r["id"]] for r in town.listed(sort="category")] == ["lamp", "pothole", "tree"]  # illum., strade, verde
    assert [ids[r["id"]] for r in town.listed(sort="-status")][0] == "lamp"  # triaged after new
    first = town.call("GET", "/api/v1/reports", params={"sort": "due", "limit": 2}).json()
    rest = town.call("GET", "/api/v1/reports", params={"sort": "due", "limit": 2, "cursor": first["next"]}).json()
    assert [ids[r["id"]] for r in first["items"] + rest["items"]] == ["pothole", "tree", "lamp"] and not rest["next"]
    for params, field in (({"sort": "colour"}, "sort"), ({"due": "yesterday"}, "due"),
                          ({"sort": "due", "cursor": "at:x"}, "cursor")):
        answer = town.call("GET", "/api/v1/reports", params=params)
        assert answer.status_code == 422, answer.text
        assert answer.json()["error"]["details"][0]["field"] == field


def test_kpis_give_the_on_time_share_per_category_and_team(town, the_clock, filed):
    the_clock.set("2026-12-11", 9)
    answer = town.call("GET", "/api/v1/reports/kpis", params={"from": "2026-12-01", "to": "2027-01-01"})
    assert answer.status_code == 200, answer.text
    on_time = answer.json()["on_time"]
    assert (on_time["on_time"], on_time["considered"], on_time["share"]) == (2, 3, 0.667)
    assert on_time["by_category"]["strade"] == {"share": 0.0, "on_time": 0, "considered": 1}
    assert on_time["by_category"]["illuminazione"]["share"] == 1.0
    assert on_time["by_team"]["cantonieri"]["share"] == 0.0  # the pothole: its category's usual team
    assert on_time["by_team"]["elettricisti"]["share"] == 1.0 and on_time["by_team"]["giardinieri"]["share"] == 1.0


def _emails_to(address: str) -> list:
    """The digests sent to address (a team with an email is also told of each new report: not these)."""
    return [m for m in mailbox.sent()
            if address in m.destinations["ToAddresses"] and "scadute" in m.subject]


def test_the_daily_digest_tells_each_team_its_overdue_reports_once_a_day(stack, town, the_clock, filed):
    digest = next(t for t in stack.threads if isinstance(t, Schedule) and t.config.name == "send_overdue_digests")
    the_clock.set("2026-12-11", 6)  # before 07:00: not yet
    assert digest.fire() is not None
    assert _emails_to(town.emails["cantonieri"]) == []

    the_clock.set("2026-12-11", 8)
    assert digest.fire() is not None
    assert digest.fire() is not None  # the next hour's run, or a retry: the day's digest went already
    [email] = _emails_to(town.emails["cantonieri"])
    assert filed["pothole"]["number"] in email.body and "presa in carico entro il 10/12/2026" in email.body
    assert "Buca" not in email.body  # the citizen's words stay in the console
    assert f"{stack.web_url}/console/#/segnalazioni" in email.body  # one click to the console
    assert "scadute" in email.subject
    assert _emails_to(town.emails["elettricisti"]) == [] and _emails_to(town.emails["giardinieri"]) == []

    the_clock.set("2026-12-12", 9)  # Saturday: no digest
    digest.fire()
    the_clock.set("2026-12-14", 9)  # Monday: the next one, the tree now overdue too
    digest.fire()
    assert len(_emails_to(town.emails["cantonieri"])) == 2
    [tree_email] = _emails_to(town.emails["giardinieri"])
    assert filed["tree"]["number"] in tree_email.body
