"""Booking an appointment on the portal in a real browser (issue 17, item 4): a comune's service page links with
the service chosen (?servizio=), the citizen picks a day and a time with the keyboard, gives name, phone and
consent, reads the summary with what to bring and confirms; the time is then gone from the pool, and the link of the
confirmation moves and cancels it without login. The demo comune's police office (local/seed.py), citizens
+39 347 73x; «Copia rapporto incidente» has one counter and one citizen a slot, so a time taken is gone for all."""
from __future__ import annotations

import itertools
import re
import time
import uuid

import pytest
import requests
from playwright.sync_api import expect

from chalicelib.services import abuse
from chalicelib.services.agenda import desk

_numbers = itertools.count(int(time.time()) % 9000)


@pytest.fixture(autouse=True)
def own_allowance(monkeypatch):
    """A fresh per-client allowance: every test in the session books from 127.0.0.1."""
    monkeypatch.setattr(desk, "WEB_PER_CLIENT", abuse.Limit(f"test-agenda-web-{uuid.uuid4().hex}", 30, 3600))


def free_times(stack, service: str, day: str) -> list[str]:
    answer = requests.get(f"{stack.api_url}/public/v1/demo/agenda/services/{service}/slots", params={"day": day},
                          timeout=20)
    assert answer.status_code == 200, answer.text
    return [t["start"] for t in answer.json()["items"]]


def test_a_service_page_link_books_a_time_that_is_then_gone_and_the_link_moves_and_cancels_it(stack, page):
    page.set_viewport_size({"width": 390, "height": 844})  # a phone: the whole flow fits
    page.goto(f"{stack.web_url}/portal/?servizio=incidente")
    expect(page.get_by_role("heading", name="Prenota un appuntamento")).to_be_visible()
    expect(page.locator("p.lead")).to_contain_text("PRENOTA al numero +39 0571 000003")  # where WhatsApp books
    expect(page.get_by_role("navigation", name="Sezioni del portale").get_by_role("link", name="Prenota un appuntamento")
           ).to_have_attribute("aria-current", "page")
    expect(page.get_by_role("radio", name=re.compile("^Copia rapporto incidente stradale"))).to_be_checked()
    expect(page.get_by_test_id("service-bring")).to_contain_text("marca da bollo")

    days = page.get_by_role("group", name="Giorno").get_by_role("radio")
    days.first.focus()
    page.keyboard.press("Space")  # the keyboard chooses as the mouse does
    day = days.first.get_attribute("value")
    times = page.get_by_role("group", name=re.compile("^Ora")).get_by_role("radio")
    expect(times.first).to_be_visible()
    start, other = times.nth(0).get_attribute("value"), times.nth(1).get_attribute("value")
    assert start in free_times(stack, "incidente", day)
    times.first.check()

    page.get_by_role("button", name="Vai al riepilogo").click()  # nothing typed: each field says what it needs
    expect(page.get_by_text("Scrivi nome e cognome di chi verrà all'appuntamento.")).to_be_visible()
    expect(page.get_by_label("Nome e cognome (obbligatorio)")).to_be_focused()
    page.get_by_label("Nome e cognome (obbligatorio)").fill("Maria Rossi")
    page.get_by_label("Telefono (obbligatorio)").fill(f"+39 347 730 {next(_numbers):04d}")
    page.get_by_label(re.compile("^Ho letto l'informativa privacy")).check()
    expect(page.get_by_role("link", name="Leggi l'informativa privacy")).to_have_attribute("href", re.compile("privacy"))
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.get_by_role("button", name="Vai al riepilogo").click()

    expect(page.get_by_role("heading", name="Riepilogo della prenotazione")).to_be_focused()
    expect(page.get_by_test_id("bring")).to_contain_text("marca da bollo")
    page.get_by_role("button", name="Conferma").click()
    expect(page.get_by_role("heading", name="Appuntamento prenotato")).to_be_visible()
    code = page.get_by_test_id("booking-code").inner_text()
    assert re.fullmatch(r"[A-Z0-9]{6}", code)
    ics = page.get_by_role("link", name="Aggiungi al calendario (file .ics)").get_attribute("href")
    assert requests.get(ics, timeout=20).text.startswith("BEGIN:VCALENDAR")
    assert start not in free_times(stack, "incidente", day)  # gone from the pool WhatsApp offers too

    page.get_by_role("link", name="Sposta o disdici l'appuntamento").click()
    expect(page.get_by_role("heading", name=f"Appuntamento {code}")).to_be_visible()
    expect(page.get_by_test_id("booking-status")).to_have_text("Confermato")
    page.get_by_role("button", name="Sposta").click()
    page.get_by_role("group", name="Nuovo giorno").locator(f'input[value="{day}"]').check()
    page.get_by_role("group", name=re.compile("^Nuova ora")).get_by_role("radio", name=other[11:], exact=True).check()
    page.get_by_role("button", name="Sposta l'appuntamento").click()
    expect(page.get_by_role("status")).to_contain_text(f"alle {other[11:]}")
    free = free_times(stack, "incidente", day)
    assert start in free and other not in free

    page.get_by_role("button", name="Disdici").click()
    page.get_by_role("button", name="Sì, disdici l'appuntamento").click()
    expect(page.get_by_test_id("booking-status")).to_have_text("Annullato")
    assert other in free_times(stack, "incidente", day)
