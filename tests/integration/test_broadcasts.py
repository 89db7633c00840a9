"""Broadcasts through the staff API and the sandbox: audiences, opt-outs, quiet hours, scheduling,
fatal errors, counters, preview and the fan-out's resume after a crash."""
from __future__ import annotations

import itertools
import threading
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import requests

from chalicelib.domain.tenancy import Channel
from chalicelib.services.broadcasts.schedule import start
from chalicelib.store import broadcasts, directory
from local.runner import Schedule
from local.seed import TEMPLATES
from tests.integration.conftest import Phone
from tests.waiting import wait_for

_towns = itertools.count(1)


class Town:
    """A comune of its own (tenant, broadcast channel, hamlets, topics) so counts are exact."""

    def __init__(self, stack, rate: float = 200, quiet_hours: dict | None = None, messaging_limit: int = 1000):
        number = next(_towns)
        self.stack, self.tenant = stack, f"prova{number}"
        self.channel = f"2000000000{number:05d}"
        directory.save_tenant(self.tenant, f"Comune di Prova {number}", {
            "hamlets": [{"id": h, "name": h.title(), "latitude": 43.7, "longitude": 10.9} for h in ("nord", "sud")],
            "topics": [{"id": "strade", "name": "Strade"}, {"id": "eventi", "name": "Eventi"}],
            "privacy_notice_url": "https://example.org/privacy", "privacy_notice_version": "v1",
        })
        directory.save_channel(Channel(self.channel, self.tenant, "broadcast", "Avvisi", "+39 0571 900000", {
            "rate_per_second": rate, "quiet_hours": quiet_hours if quiet_hours is not None else {"enabled": False},
            "messaging_limit": messaging_limit,
            "templates": {"notice": {"name": "avviso_comune", "language": "it", "category": "utility"}},
        }))
        stack.sandbox.add_channel({"phone_number_id": self.channel, "kind": "broadcast", "tenant": self.tenant,
                                   "templates": TEMPLATES})
        self.token = stack.issuer.token(self.tenant, ["communications"])

    def call(self, method: str, path: str, **kwargs) -> requests.Response:
        return requests.request(method, f"{self.stack.api_url}{path}", timeout=30,
                                headers={"Authorization": f"Bearer {self.token}"}, **kwargs)

    def subscribe(self, rows: list[tuple[str, str, str]]) -> None:
        """Residents by CSV: (phone, hamlets, topics)."""
        text = "phone,hamlets,topics\n" + "".join(f"{p},{h},{t}\n" for p, h, t in rows)
        answer = requests.post(f"{self.stack.api_url}/api/v1/subscribers/import", params={"channel": self.channel},
                               data=text.encode(), timeout=60,
                               headers={"Authorization": f"Bearer {self.token}", "Content-Type": "text/csv"})
        assert answer.json()["summary"]["error"] == 0, answer.text

    def broadcast(self, **body) -> dict:
        answer = self.call("POST", "/api/v1/broadcasts", json={"channel": self.channel, **body})
        assert answer.status_code == 201, answer.text
        return answer.json()

    def get(self, broadcast_id: str) -> dict:
        return self.call("GET", f"/api/v1/broadcasts/{broadcast_id}").json()

    def wait_status(self, broadcast_id: str, status: str, timeout: float = 30) -> dict:
        return wait_for(lambda: (b := self.get(broadcast_id))["status"] == status and b, timeout=timeout)

    def phone(self, number: str) -> Phone:
        return Phone(self.stack, self.channel, number)


def number(town_index: int, n: int) -> str:
    return f"+39 348 {town_index:03d} {n:04d}"


@pytest.fixture
def town(stack):
    return Town(stack)


def received(town: Town, numbers: list[str], text: str) -> dict[str, int]:
    return {n: sum(text in m["text"] for m in town.phone(n).inbox()) for n in numbers}


def test_a_hamlet_broadcast_reaches_exactly_its_subscribers(town):
    t = next(_towns)
    people = {"north": number(t, 1), "south": number(t, 2), "everywhere": number(t, 3), "north2": number(t, 4)}
    town.subscribe([(people["north"], "nord", ""), (people["south"], "sud", ""), (people["everywhere"], "", ""),
                    (people["north2"], "nord", "eventi")])
    created = town.broadcast(text="Via Roma chiusa per lavori", audience={"hamlets": ["nord"], "topics": []})
    done = town.wait_status(created["id"], "completed")
    assert done["counters"]["recipients"] == 3 and done["counters"]["sent"] == 3
    counts = received(town, list(people.values()), "Via Roma chiusa")
    assert counts == {people["north"]: 1, people["south"]: 0, people["everywhere"]: 1, people["north2"]: 1}


def test_a_topic_broadcast_reaches_exactly_its_subscribers(town):
    t = next(_towns)
    roads, events, anything = number(t, 1), number(t, 2), number(t, 3)
    town.subscribe([(roads, "", "strade"), (events, "", "eventi"), (anything, "", "")])
    created = town.broadcast(text="Sagra rinviata", audience={"hamlets": [], "topics": ["eventi"]})
    town.wait_status(created["id"], "completed")
    assert received(town, [roads, events, anything], "Sagra rinviata") == {roads: 0, events: 1, anything: 1}


def test_outside_the_24_hour_window_the_channel_template_is_used(town):
    t = next(_towns)
    staff_added = number(t, 1)
    town.subscribe([(staff_added, "", "")])
    talker = town.phone(number(t, 2))
    talker.text("ATTIVA")
    talker.wait_inbox(1)
    talker.tap("sub:confirm")
    talker.wait_inbox(2)
    created = town.broadcast(text="Acqua interrotta domani")
    town.wait_status(created["id"], "completed")
    (template,) = town.phone(staff_added).wait_inbox(1)
    assert template["type"] == "template" and template["body"]["template"]["name"] == "avviso_comune"
    assert "Acqua interrotta domani" in template["text"]
    free = [m for m in talker.inbox() if "Acqua interrotta" in m["text"]]
    assert len(free) == 1 and free[0]["type"] == "text"


def test_disattiva_before_or_during_a_broadcast_means_nothing_is_sent(stack):
    town = Town(stack, rate=20)  # 10/s per consumer: the third job waits for a free consumer
    t = next(_towns)
    numbers = [number(t, n) for n in range(81)]  # jobs of 40, 40 and 1: the last number comes last
    town.subscribe([(n, "", "") for n in numbers])
    before = town.phone(numbers[0])
    before.text("DISATTIVA")
    before.wait_inbox(1)
    created = town.broadcast(text="Allerta meteo arancione")
    leaver = town.phone(numbers[-1])
    leaver.text("STOP")
    done = town.wait_status(created["id"], "completed", timeout=40)
    assert received(town, [numbers[0], numbers[-1]], "Allerta meteo") == {numbers[0]: 0, numbers[-1]: 0}
    assert done["counters"]["recipients"] == 80 and done["counters"]["skipped"] == 1
    assert done["counters"]["sent"] == 79
    assert all(v == 1 for v in received(town, numbers[1:-1], "Allerta meteo").values())


def test_quiet_hours_hold_a_normal_broadcast_but_not_an_alert(stack):
    now = datetime.now(ZoneInfo("Europe/Rome"))
    quiet = {"start": (now - timedelta(hours=1)).strftime("%H:%M"), "end": (now + timedelta(hours=1)).strftime("%H:%M")}
    town = Town(stack, quiet_hours=quiet)
    town.subscribe([(number(next(_towns), 1), "", "")])
    normal = town.broadcast(text="Mercato spostato")
    assert normal["status"] == "scheduled"
    assert datetime.fromisoformat(normal["due_at"]) > datetime.now(UTC) + timedelta(minutes=30)
    alert = town.broadcast(text="Esondazione: evitate il sottopasso", priority="alert")
    assert alert["status"] in ("sending", "completed")
    town.wait_status(alert["id"], "completed")
    assert town.get(normal["id"])["status"] == "scheduled"


def test_the_scheduler_starts_a_due_broadcast_once(stack, town):
    town.subscribe([(number(next(_towns), 1), "", "")])
    send_at = datetime.now(UTC) + timedelta(seconds=2)
    created = town.broadcast(text="Consiglio comunale alle 21", send_at=send_at.isoformat())
    assert created["status"] == "scheduled"
    schedule = next(t for t in stack.threads if isinstance(t, Schedule) and t.config.name == "start_due_broadcasts")
    assert schedule.fire()["started"] == 0 or town.get(created["id"])["status"] != "scheduled"
    wait_for(lambda: datetime.now(UTC) > send_at, timeout=5)
    due = broadcasts.get(town.tenant, created["id"])
    claims = []  # three triggers at once (the schedule and two retries of it): one claim wins
    triggers = [threading.Thread(target=lambda: claims.append(start(due))) for _ in range(3)]
    for trigger in triggers:
        trigger.start()
    for trigger in triggers:
        trigger.join()
    assert sorted(claims) == [False, False, True]
    assert town.wait_status(created["id"], "completed")["counters"]["sent"] == 1


def test_a_fatal_provider_error_pauses_and_resume_sends_the_rest_once(stack, town):
    t = next(_towns)
    numbers = [number(t, n) for n in range(5)]
    town.subscribe([(n, "", "") for n in numbers])
    blocked = "+" + "".join(ch for ch in numbers[2] if ch.isdigit())
    stack.sandbox.configure(recipient_errors={blocked: 131005})
    try:
        created = town.broadcast(text="Raccolta rifiuti sospesa")
        paused = town.wait_status(created["id"], "paused")
        assert "131005" in paused["pause_reason"]
    finally:
        stack.sandbox.configure(recipient_errors={})
    resumed = town.call("POST", f"/api/v1/broadcasts/{created['id']}/resume")
    assert resumed.status_code == 200, resumed.text
    done = town.wait_status(created["id"], "completed")
    assert done["counters"]["sent"] == 5
    assert all(v == 1 for v in received(town, numbers, "Raccolta rifiuti").values())


def test_counters_follow_the_status_webhooks(town):
    t = next(_towns)
    town.subscribe([(number(t, n), "", "") for n in range(3)])
    created = town.broadcast(text="Biblioteca chiusa sabato")
    final = wait_for(lambda: (b := town.get(created["id"]))["counters"]["read"] == 3 and b, timeout=30)
    assert final["counters"]["delivered"] == 3 and final["counters"]["failed"] == 0
    assert final["progress"] == 100.0


def test_preview_counts_the_audience_and_warns(stack):
    town = Town(stack, messaging_limit=2)
    t = next(_towns)
    town.subscribe([(number(t, n), "nord", "") for n in range(3)] + [(number(t, 9), "sud", "")])
    draft = town.broadcast(text="Prova", audience={"hamlets": ["nord"], "topics": []}, draft=True)
    assert draft["status"] == "draft"
    preview = town.call("POST", f"/api/v1/broadcasts/{draft['id']}/preview").json()
    assert preview["audience"] == 3 and preview["outside_window"] == 3
    assert preview["template"] == {"needed": True, "name": "avviso_comune", "approved": True, "category": "utility",
                                   "previous_category": None}
    assert preview["estimated_seconds"] == pytest.approx(3 / 200, abs=0.1)
    assert any("messaging limit" in w for w in preview["warnings"])
    assert town.get(draft["id"])["status"] == "draft"  # a preview sends nothing


def test_draft_schedule_cancel_and_wrong_actions(town):
    town.subscribe([(number(next(_towns), 1), "", "")])
    draft = town.broadcast(text="Bozza", draft=True)
    cancelled = town.call("POST", f"/api/v1/broadcasts/{draft['id']}/cancel").json()
    assert cancelled["status"] == "cancelled"
    again = town.call("POST", f"/api/v1/broadcasts/{draft['id']}/resume")
    assert again.status_code == 409 and "cancelled" in again.json()["error"]["message"]
    assert town.call("POST", f"/api/v1/broadcasts/{draft['id']}/explode").status_code == 404
    second = town.broadcast(text="Bozza due", draft=True)
    scheduled = town.call("POST", f"/api/v1/broadcasts/{second['id']}/schedule").json()
    assert scheduled["status"] in ("sending", "completed")
    listed = town.call("GET", "/api/v1/broadcasts", params={"limit": "1"}).json()
    assert listed["items"][0]["id"] == second["id"] and listed["next"]


def test_invalid_broadcasts_are_clear_422s(town):
    cases = [
        {"text": "a", "template": {"name": "avviso_comune"}},
        {},
        {"text": "a", "audience": {"hamlets": ["atlantide"], "topics": []}},
        {"text": "a", "priority": "urgent"},
        {"template": {"name": "non_approvato"}},
        {"text": "a", "send_at": "2026-12-01T09:00:00"},
        {"text": "a", "status": "completed"},
        {"text": ""},
    ]
    for body in cases:
        answer = town.call("POST", "/api/v1/broadcasts", json={"channel": town.channel, **body})
        assert answer.status_code == 422, (body, answer.text)
        assert answer.json()["error"]["message"]


def test_roles_and_tenants(stack, town, api):
    created = town.broadcast(text="Solo per noi", draft=True)
    assert api.call("GET", f"/api/v1/broadcasts/{created['id']}", role="communications").status_code == 404
    technical = stack.issuer.token(town.tenant, ["technical"])
    answer = requests.get(f"{stack.api_url}/api/v1/broadcasts", headers={"Authorization": f"Bearer {technical}"},
                          timeout=10)
    assert answer.status_code == 403


def test_fan_out_resumes_from_its_checkpoint_after_a_crash(stack, town, monkeypatch):
    """The fan-out dies after enqueuing a page but before its checkpoint; the redelivery resumes."""
    from chalicelib.services.broadcasts import fanout
    from chalicelib.store import broadcasts

    monkeypatch.setattr(fanout, "PAGE_SIZE", 10)
    monkeypatch.setattr(fanout, "CHUNK_SIZE", 4)
    real_checkpoint, calls = broadcasts.checkpoint, []

    def crash_on_third(*args, **kwargs):
        calls.append(args)
        if len(calls) == 3:
            raise RuntimeError("fan-out killed")
        return real_checkpoint(*args, **kwargs)

    monkeypatch.setattr(broadcasts, "checkpoint", crash_on_third)
    t = next(_towns)
    numbers = [number(t, n) for n in range(35)]
    town.subscribe([(n, "", "") for n in numbers])
    created = town.broadcast(text="Nuovo orario uffici")
    done = town.wait_status(created["id"], "completed", timeout=40)
    assert len(calls) >= 5  # 4 pages, one of them twice
    assert done["counters"]["recipients"] == 35 and done["counters"]["sent"] == 35
    assert all(v == 1 for v in received(town, numbers, "Nuovo orario").values())


def test_a_refused_recipient_is_counted_by_reason_and_the_rest_go(stack, town):
    t = next(_towns)
    numbers = [number(t, n) for n in range(3)]
    town.subscribe([(n, "", "") for n in numbers])
    refused = "+" + "".join(ch for ch in numbers[1] if ch.isdigit())
    stack.sandbox.configure(recipient_errors={refused: 131026})
    try:
        created = town.broadcast(text="Scuole chiuse per neve")
        done = town.wait_status(created["id"], "completed")
    finally:
        stack.sandbox.configure(recipient_errors={})
    assert done["counters"]["sent"] == 2 and done["counters"]["failed"] == 1
    assert done["counters"]["failed_by_reason"] == {"131026": 1}
