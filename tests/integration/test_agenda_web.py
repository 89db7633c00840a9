"""The agenda's web side (issue 17, items 4 and 6) over HTTP against the local stack: the portal's booking and the
WhatsApp dialogue share one pool of slots (a time booked on the web is not offered on WhatsApp, and one booked on
WhatsApp is not offered on the web, where booking it anyway is a 409 with the next free times); the signed link
moves and cancels.

A comune of its own (a safety channel with booking on, the demo's police office), citizens +39 347 79x. The service
used is «Copia rapporto incidente» (one counter, one citizen a slot): a time taken is gone for everybody."""
from __future__ import annotations

import itertools
import time
import uuid

import pytest
import requests

from chalicelib.domain.tenancy import Channel
from chalicelib.store import directory
from local.seed import AGENDA, REPORTS
from tests.integration.conftest import Phone
from tests.waiting import wait_for

_numbers = itertools.count(int(time.time()) % 9000)


class AgendaTown:
    """A comune with the demo's police office and a safety line where PRENOTA books (unique ids)."""

    def __init__(self, stack):
        n = uuid.uuid4().int % 10**9
        self.stack, self.tenant, self.channel = stack, f"agendaweb{n}", f"57{n:013d}"
        directory.save_tenant(self.tenant, f"Comune di Agenda {n}", {
            "hamlets": [{"id": "centro", "name": "Centro", "latitude": 43.7, "longitude": 10.9}],
            "privacy_notice_url": "https://example.org/privacy", "privacy_notice_version": "v1", "reports": REPORTS,
            "agenda": AGENDA})
        directory.save_channel(Channel(self.channel, self.tenant, "safety", "Sicurezza", "+39 0571 950000", {
            "rate_per_second": 200, "registered_only": True, "agenda_booking": True}))
        stack.sandbox.add_channel({"phone_number_id": self.channel, "kind": "safety", "tenant": self.tenant})
        self.token = stack.issuer.token(self.tenant, ["police"])

    def public(self, method: str, path: str, **kwargs) -> requests.Response:
        return requests.request(method, f"{self.stack.api_url}/public/v1/{self.tenant}/agenda{path}", timeout=20,
                                **kwargs)

    def staff(self, method: str, path: str, **kwargs) -> requests.Response:
        return requests.request(method, f"{self.stack.api_url}/api/v1/agenda{path}", timeout=20,
                                headers={"Authorization": f"Bearer {self.token}"}, **kwargs)

    def days(self, service: str) -> list[str]:
        answer = self.public("GET", f"/services/{service}/days")
        assert answer.status_code == 200, answer.text
        return [d["date"] for d in answer.json()["items"]]

    def times(self, service: str, day: str) -> list[str]:
        answer = self.public("GET", f"/services/{service}/slots", params={"day": day})
        assert answer.status_code == 200, answer.text
        return [t["start"] for t in answer.json()["items"]]

    def book_on_web(self, service: str, start: str, name: str = "Maria Rossi") -> requests.Response:
        return self.public("POST", "/bookings", json={
            "service": service, "start": start, "name": name, "phone": f"+39 347 790 {next(_numbers):04d}",
            "consent": True})


@pytest.fixture
def town(stack):
    return AgendaTown(stack)


def _list_rows(phone: Phone, after: int) -> list[str]:
    """The reply ids of the last list the citizen received after message number `after`."""
    def newest():
        lists = [m for m in phone.inbox()[after:] if m.get("type") == "interactive"
                 and m["interactive"].get("type") == "list"]
        return lists[-1] if lists else None
    found = wait_for(newest, 15)
    return [row["id"] for section in found["interactive"]["action"]["sections"] for row in section["rows"]]


def test_a_time_booked_on_the_web_is_not_offered_on_whatsapp_and_one_booked_on_whatsapp_not_on_the_web(town):
    day = town.days("incidente")[0]
    first, second, third = town.times("incidente", day)[:3]
    web = town.book_on_web("incidente", first)
    assert web.status_code == 201, web.text

    citizen = Phone(town.stack, town.channel, f"+39 347 791 {next(_numbers):04d}")
    citizen.tap(f"ag:d:incidente:{day}", kind="list")
    offered = _list_rows(citizen, 0)
    assert f"ag:t:incidente:{second}" in offered  # the day's list starts at the next free time
    assert f"ag:t:incidente:{first}" not in offered

    heard = len(citizen.inbox())
    citizen.tap(f"ag:t:incidente:{second}", kind="list")
    wait_for(lambda: len(citizen.inbox()) > heard, 15)  # asks the name
    heard = len(citizen.inbox())
    citizen.text("Giovanni Bianchi")
    wait_for(lambda: len(citizen.inbox()) > heard, 15)  # the summary and «Conferma»
    heard = len(citizen.inbox())
    citizen.tap(f"ag:ok:incidente:{second}")
    booked = wait_for(lambda: next((m for m in citizen.inbox()[heard:] if "Codice" in str(m)), None), 15)
    assert "Prenotazione confermata" in str(booked)

    assert town.times("incidente", day)[0] == third  # neither the web's nor WhatsApp's time is offered on the web
    late = town.book_on_web("incidente", second, name="Luca Neri")
    assert late.status_code == 409, late.text
    error = late.json()["error"]
    assert error["code"] == "slot_taken" and "appena stato prenotato" in error["message"]
    assert error["details"][0]["message"] == third  # the next free time, to choose instead


def test_the_signed_link_moves_then_cancels_and_each_time_the_slot_is_free_again(town):
    day = town.days("incidente")[0]
    first, second = town.times("incidente", day)[:2]
    made = town.book_on_web("incidente", first)
    assert made.status_code == 201, made.text
    body = made.json()
    token = body["manage_url"].rsplit("/", 1)[1]
    assert body["manage_url"].endswith(f"/portal/#/agenda/{town.tenant}/{token}")  # the portal's page
    assert town.public("GET", f"/b/{token}").json()["status"] == "booked"

    moved = town.public("POST", f"/b/{token}/move", json={"start": second})
    assert moved.status_code == 200, moved.text
    assert moved.json()["start"] == second
    now_free = town.times("incidente", day)
    assert first in now_free and second not in now_free

    cancelled = town.public("POST", f"/b/{token}/cancel")
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled"
    assert second in town.times("incidente", day)
    again = town.public("POST", f"/b/{token}/cancel")
    assert again.status_code == 409 and "non si può più cambiare" in again.json()["error"]["message"]
    assert town.public("GET", f"/b/{token[:-2]}xx").status_code == 403
