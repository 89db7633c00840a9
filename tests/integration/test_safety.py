"""The safety line: only registered residents may write, watched hours, emergencies point to 112, and tips
are read by municipal police only."""
from __future__ import annotations

import itertools
import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import requests

from chalicelib.domain.tenancy import Channel
from chalicelib.store import directory
from local.seed import REPORTS, TEMPLATES
from tests.integration.conftest import Phone
from tests.waiting import wait_for

_lines = itertools.count(1)
ROME = ZoneInfo("Europe/Rome")


def hours_around_now(watched: bool) -> dict:
    """Watched hours that contain the present moment, or that are two hours away from it."""
    now = datetime.now(ROME)
    start = now - timedelta(hours=1) if watched else now + timedelta(hours=2)
    end = start + timedelta(hours=2 if watched else 1)
    return {"start": start.strftime("%H:%M"), "end": end.strftime("%H:%M"), "timezone": "Europe/Rome"}


class SafetyLine:
    """A comune of its own with a safety channel watched (or not) right now."""

    def __init__(self, stack, watched: bool = True):
        n = next(_lines)
        self.stack, self.tenant = stack, f"sicura{n}"
        self.channel = f"4300000000{n:05d}"  # a prefix of its own: test_fault_matrix has 40..., own_comuni 42...
        directory.save_tenant(self.tenant, f"Comune di Sicura {n}", {
            "hamlets": [{"id": "centro", "name": "Centro", "latitude": 43.7, "longitude": 10.9}],
            "privacy_notice_url": "https://example.org/privacy", "privacy_notice_version": "v1", "reports": REPORTS})
        directory.save_channel(Channel(self.channel, self.tenant, "safety", "Sicurezza", "+39 0571 920000", {
            "rate_per_second": 200, "registered_only": True, "watched_hours": hours_around_now(watched)}))
        stack.sandbox.add_channel({"phone_number_id": self.channel, "kind": "safety", "tenant": self.tenant,
                                   "templates": TEMPLATES})
        self.tokens = {role: stack.issuer.token(self.tenant, [role]) for role in ("police", "technical", "admin")}

    def call(self, method: str, path: str, role: str = "police", **kwargs) -> requests.Response:
        return requests.request(method, f"{self.stack.api_url}{path}", timeout=30,
                                headers={"Authorization": f"Bearer {self.tokens[role]}"}, **kwargs)

    def resident(self, number: str) -> Phone:
        answer = self.call("POST", "/api/v1/subscribers", json={
            "channel": self.channel, "phone": number, "name": "Anna Bianchi", "address": "Via Mazzini 4",
            "hamlet": "centro"})
        assert answer.status_code == 201, answer.text
        return Phone(self.stack, self.channel, number)


def last_text(phone: Phone, pattern: str) -> str:
    return wait_for(lambda: next((m["text"] for m in reversed(phone.inbox())
                                  if re.search(pattern, m.get("text") or "")), None), 15)


def test_unregistered_sender_is_told_how_to_register_and_no_tip_is_kept(stack):
    line = SafetyLine(stack)
    stranger = Phone(stack, line.channel, "+39 339 700 0001")
    stranger.text("Auto sospetta parcheggiata da giorni in via Dante")
    reply = last_text(stranger, "riservato ai residenti registrati")
    assert "112" in reply
    assert line.call("GET", "/api/v1/reports", params={"kind": "safety"}).json()["items"] == []


def test_registered_resident_in_watched_hours_gets_a_receipt_and_police_see_the_tip(stack):
    line = SafetyLine(stack, watched=True)
    resident = line.resident("+39 339 700 0002")
    resident.text("Auto sospetta parcheggiata da giorni in via Dante, targa straniera")
    assert "la Polizia Locale la valuterà" in last_text(resident, r"Segnalazione ricevuta \(n\.")

    tips = wait_for(lambda: line.call("GET", "/api/v1/reports", params={"kind": "safety"}).json()["items"], 10)
    assert [(t["kind"], t["status"], t["category"]) for t in tips] == [("safety", "new", None)]
    tip = line.call("GET", f"/api/v1/reports/{tips[0]['id']}").json()
    assert "targa straniera" in tip["text"]
    assert line.call("POST", f"/api/v1/reports/{tip['id']}/transitions",
                     json={"to": "triaged", "public": False}).status_code == 200
    closed = line.call("POST", f"/api/v1/reports/{tip['id']}/transitions",
                       json={"to": "resolved", "outcome": "patrol_sent", "note": "Pattuglia passata alle 15"})
    assert closed.status_code == 200 and closed.json()["outcome"] == "patrol_sent"
    bad = line.call("POST", f"/api/v1/reports/{tip['id']}/transitions", json={"to": "triaged", "outcome": "boh"})
    assert bad.status_code == 422


def test_technical_staff_cannot_list_or_read_tips(stack):
    line = SafetyLine(stack)
    resident = line.resident("+39 339 700 0003")
    resident.text("Schiamazzi notturni al parco giochi")
    last_text(resident, "Segnalazione ricevuta")
    [tip] = wait_for(lambda: line.call("GET", "/api/v1/reports", params={"kind": "safety"}).json()["items"], 10)

    assert line.call("GET", "/api/v1/reports", role="technical", params={"kind": "safety"}).status_code == 403
    assert line.call("GET", "/api/v1/reports", role="technical").json()["items"] == []
    assert line.call("GET", f"/api/v1/reports/{tip['id']}", role="technical").status_code == 404
    assert line.call("GET", f"/api/v1/reports/{tip['id']}", role="admin").status_code == 404
    assert line.call("POST", f"/api/v1/reports/{tip['id']}/transitions", role="technical",
                     json={"to": "triaged"}).status_code == 404
    assert line.call("GET", "/api/v1/reports/kpis", role="technical", params={"kind": "safety"}).status_code == 403


def test_outside_watched_hours_the_reply_points_to_112(stack):
    line = SafetyLine(stack, watched=False)
    resident = line.resident("+39 339 700 0004")
    resident.text("Cancello del magazzino comunale aperto")
    reply = last_text(resident, "non è presidiata")
    assert "112" in reply and re.search(r"dalle \d\d:\d\d", reply)
    assert wait_for(lambda: line.call("GET", "/api/v1/reports", params={"kind": "safety"}).json()["items"], 10)


@pytest.mark.parametrize("watched", [True, False])
@pytest.mark.parametrize("words", ["C'è un INCENDIO nel bosco dietro casa", "rapina in corso alla posta", "Aiuto!"])
def test_emergency_words_get_the_112_reply_at_any_hour(stack, watched, words):
    line = SafetyLine(stack, watched=watched)
    resident = line.resident(f"+39 339 71{int(watched)} {abs(hash(words)) % 10000:04d}")
    resident.text(words)
    assert "chiama SUBITO il 112" in last_text(resident, "112")
