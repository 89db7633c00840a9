"""The agenda's web side (issue 17, items 4 and 6) over HTTP against the local stack: the portal's booking and the
WhatsApp dialogue share one pool of slots (a time booked on the web is not offered on WhatsApp, and one booked on
WhatsApp is not offered on the web, where booking it anyway is a 409 with the next free times). The signed link's
move and cancel are test_agenda.py's (over HTTP) and tests/browser/test_portal_agenda.py's (the portal's page).

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
from tests.integration.test_agenda import book_on_whatsapp

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
        self.codes: list[str] = []  # what the test booked: cancelled at the end (see the fixture)

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
        answer = self.public("POST", "/bookings", json={
            "service": service, "start": start, "name": name, "phone": f"+39 347 790 {next(_numbers):04d}",
            "consent": True})
        if answer.status_code == 201:
            self.codes.append(answer.json()["booking"]["code"])
        return answer


@pytest.fixture
def town(stack):
    """The comune; afterwards its bookings are cancelled, so that no reminder of theirs is due when another test of
    the session moves the clock and runs the reminders' schedule (it sends every comune's)."""
    made = AgendaTown(stack)
    yield made
    for code in made.codes:
        made.staff("POST", f"/bookings/{code}/cancel")


def test_a_time_booked_on_the_web_is_not_offered_on_whatsapp_and_one_booked_on_whatsapp_not_on_the_web(town):
    day = town.days("incidente")[0]
    first, second, third = town.times("incidente", day)[:3]
    web = town.book_on_web("incidente", first)
    assert web.status_code == 201, web.text

    citizen = Phone(town.stack, town.channel, f"+39 347 791 {next(_numbers):04d}")
    code, start, booked = book_on_whatsapp(citizen, "incidente", day_index=0, time_index=0)
    town.codes.append(code)
    assert start == second  # the day's first time went on the web: WhatsApp's list starts at the next one
    assert "Prenotazione confermata" in booked["text"]

    assert town.times("incidente", day)[0] == third  # neither the web's nor WhatsApp's time is offered on the web
    late = town.book_on_web("incidente", second, name="Luca Neri")
    assert late.status_code == 409, late.text
    error = late.json()["error"]
    assert error["code"] == "slot_taken" and "appena stato prenotato" in error["message"]
    assert error["details"][0]["message"] == third  # the next free time, to choose instead



def test_prenota_on_a_number_that_does_not_book_names_the_one_that_does_and_opens_no_report(town):
    reports = f"58{uuid.uuid4().int % 10**13:013d}"  # the same comune's road-reports number: it does not book
    directory.save_channel(Channel(reports, town.tenant, "reports", "Segnalazioni", "+39 0571 950001",
                                   {"rate_per_second": 200}))
    town.stack.sandbox.add_channel({"phone_number_id": reports, "kind": "reports", "tenant": town.tenant})
    citizen = Phone(town.stack, reports, f"+39 347 791 {next(_numbers):04d}")
    citizen.text("PRENOTA")
    answer = citizen.wait_inbox(1)[0]["text"]
    assert "scrivi PRENOTA" in answer and "+39 0571 950000" in answer
    assert len(citizen.settle()) == 1  # one answer: no report was opened (no receipt, no categories)
    listed = requests.get(f"{town.stack.api_url}/api/v1/reports", params={"kind": "report"}, timeout=20,
                          headers={"Authorization": f"Bearer {town.stack.issuer.token(town.tenant, ['technical'])}"})
    assert listed.status_code == 200 and listed.json()["items"] == []
