"""The console's Agenda (issue 17, item 6) in a real browser: the police open their office's day per counter, mark a
citizen presente, and close the day: a confirmation says how many bookings the closure cancels before anything
changes, then those bookings are cancelled and the slots blocked. Time moves through the app's clock seam (the
morning of the appointments' day), never by sleeping. The demo comune's police office; citizens +39 347 76x."""
from __future__ import annotations

import itertools
import time
import uuid
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import requests
from playwright.sync_api import expect

from chalicelib.services import abuse, clock
from chalicelib.services.agenda import desk
from tests.browser.test_console import api, sign_in

ROME = ZoneInfo("Europe/Rome")
_numbers = itertools.count(int(time.time()) % 9000)
WEEKDAYS = "lunedì martedì mercoledì giovedì venerdì sabato domenica".split()
MONTHS = "gennaio febbraio marzo aprile maggio giugno luglio agosto settembre ottobre novembre dicembre".split()


def italian(iso: str) -> str:
    d = datetime.fromisoformat(iso)
    return f"{WEEKDAYS[d.weekday()]} {d.day} {MONTHS[d.month - 1]} {d.year}"


@pytest.fixture(autouse=True)
def own_allowance(monkeypatch):
    """A fresh per-client allowance: every test in the session books from 127.0.0.1."""
    monkeypatch.setattr(desk, "WEB_PER_CLIENT", abuse.Limit(f"test-agenda-console-{uuid.uuid4().hex}", 30, 3600))


def book(stack, start: str, name: str) -> dict:
    answer = requests.post(f"{stack.api_url}/public/v1/demo/agenda/bookings", timeout=20, json={
        "service": "incidente", "start": start, "name": name, "phone": f"+39 347 760 {next(_numbers):04d}",
        "consent": True})
    assert answer.status_code == 201, answer.text
    return answer.json()["booking"]


def test_the_police_see_the_day_mark_a_citizen_present_and_close_the_day_after_a_confirmation(stack, page, monkeypatch):
    days = requests.get(f"{stack.api_url}/public/v1/demo/agenda/services/incidente/days", timeout=20).json()["items"]
    day = days[-1]["date"]  # the farthest day offered: no other test of the session books there
    starts = [t["start"] for t in requests.get(f"{stack.api_url}/public/v1/demo/agenda/services/incidente/slots",
                                               params={"day": day}, timeout=20).json()["items"]]
    names = ("Anna Verdi", "Bruno Neri", "Carla Bini")
    present, first, second = (book(stack, s, n) for s, n in zip(starts[-3:], names, strict=True))
    moment = datetime.fromisoformat(day).replace(hour=7, tzinfo=ROME)  # that morning, before the office opens
    monkeypatch.setattr(clock, "now", lambda: moment)

    sign_in(page, stack, "police")
    page.get_by_role("navigation", name="Sezioni").get_by_role("link", name="Agenda").click()
    expect(page.get_by_role("heading", name="Agenda degli appuntamenti")).to_be_visible()
    expect(page.get_by_test_id("agenda-day")).to_have_text(italian(day))  # the server's today, not the browser's
    counter = page.get_by_role("region", name="Sportello 1")
    row = counter.locator(f"tr[data-code='{present['code']}']")
    expect(row).to_contain_text("Anna Verdi")
    row.get_by_role("button", name="Presente: Anna Verdi", exact=False).click()
    expect(row.get_by_test_id("appointment-status")).to_have_text("Presente")

    page.get_by_role("button", name="Blocca orari o giorno").click()
    page.get_by_label("Motivo (detto ai cittadini)").fill("assemblea del personale")
    page.get_by_role("button", name="Blocca…").click()
    expect(page.get_by_test_id("closure-count")).to_contain_text("2 prenotazioni saranno annullate")
    still = api(stack, "GET", "/api/v1/agenda/day", role="police", params={"date": day}).json()
    assert {b["code"]: b["status"] for c in still["counters"] for b in c["bookings"]}[first["code"]] == "booked"
    page.get_by_role("button", name="Conferma la chiusura").click()

    expect(page.get_by_test_id("agenda-news")).to_contain_text("2 prenotazioni annullate")
    expect(counter.locator(f"tr[data-code='{first['code']}']").get_by_test_id("appointment-status")).to_have_text(
        "Annullato")
    expect(counter.locator(f"tr[data-code='{second['code']}']").get_by_test_id("appointment-status")).to_have_text(
        "Annullato")
    expect(row.get_by_test_id("appointment-status")).to_have_text("Presente")
    expect(counter.locator(".blocked")).to_contain_text("Orari bloccati")
