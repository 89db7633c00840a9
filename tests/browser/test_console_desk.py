"""The console's report desk in a real browser (issue 13, section 5): who sent a tip, the steps a tip offers, each
step's own default for telling the citizen, and refusals worded in Italian."""
from __future__ import annotations

import itertools
import re
import time

from playwright.sync_api import Page, expect

from tests.browser.test_console import api, sign_in
from tests.integration.conftest import REPORTS, SAFETY, Phone
from tests.waiting import wait_for

_numbers = itertools.count(int(time.time()) % 5000)
ENGLISH = re.compile(r"\b(the|needs|must|unknown|cannot|not found|invalid|of this comune|team|body)\b", re.IGNORECASE)


def open_report(page: Page, number: str) -> None:
    page.get_by_label("Stato").select_option(label="Tutte")
    page.get_by_role("link", name=number, exact=True).click()


def test_police_see_the_registered_resident_and_only_the_steps_a_tip_can_take(stack, page):
    n = next(_numbers)
    number = f"+39 347 540 {n:04d}"
    registered = api(stack, "POST", "/api/v1/subscribers", role="police", json={
        "channel": SAFETY, "phone": number, "name": "Giuseppe Verdi", "address": "Via Roma 10", "hamlet": "pieve"})
    assert registered.status_code in (200, 201), registered.text
    resident = Phone(stack, SAFETY, number)
    resident.send(type="text", text=f"Motorino senza targa che sfreccia davanti alla scuola ({n})",
                  profile_name="Cittadino")
    tip = wait_for(lambda: next((t for t in api(stack, "GET", "/api/v1/reports?kind=safety", role="police")
                                 .json()["items"] if f"({n})" in t["text"]), None), timeout=15)

    sign_in(page, stack, "police")
    open_report(page, tip["number"])
    expect(page.get_by_role("heading", name=f"Segnalazione sicurezza {tip['number']}")).to_be_visible()
    who = page.get_by_test_id("resident")
    expect(who).to_contain_text("Giuseppe Verdi")
    expect(who).to_contain_text("Via Roma 10")
    expect(who).to_contain_text("Pieve a Ripoli")
    expect(who).to_contain_text("+39347540" + f"{n:04d}")
    expect(page.locator("dl.facts").first).to_contain_text("Nome del profilo WhatsApp")

    steps = page.get_by_role("group", name="Prossimo passaggio").get_by_role("button")
    expect(steps).to_have_text(["Prendi in carico", "Archivia"])
    expect(page.get_by_role("button", name="Assegna alla squadra")).to_have_count(0)
    expect(page.get_by_role("button", name="Inoltra all'ente")).to_have_count(0)
    page.get_by_role("button", name="Prendi in carico").click()
    expect(page.get_by_label("Avvisa il cittadino su WhatsApp")).not_to_be_checked()
    page.get_by_role("button", name="Conferma").click()
    expect(page.get_by_test_id("report-status")).to_have_text("Presa in carico")
    expect(steps).to_have_text(["Avvia l'intervento", "Chiudi la segnalazione", "Archivia"])
    expect(who).to_contain_text("Giuseppe Verdi")  # still there after the step's answer


def test_each_step_shows_and_presets_its_own_default_for_telling_the_citizen(stack, page):
    n = next(_numbers)
    citizen = Phone(stack, REPORTS, f"+39 347 550 {n:04d}")
    citizen.text(f"Tombino rumoroso in via Default {n}")
    citizen.wait_inbox(1)
    report = wait_for(lambda: next(iter(api(stack, "GET", f"/api/v1/reports?q=default%20{n}", role="technical")
                                        .json()["items"]), None), timeout=15)
    heard = len(citizen.inbox())

    sign_in(page, stack, "technical")
    open_report(page, report["number"])
    notice = page.get_by_label("Avvisa il cittadino su WhatsApp")
    default = page.get_by_test_id("step-default")
    page.get_by_role("button", name="Prendi in carico").click()
    expect(default).to_contain_text("passaggio interno")
    expect(notice).not_to_be_checked()
    page.get_by_label("Nota per il cambio di stato").fill("Sopralluogo domani con Mario")
    page.get_by_role("button", name="Conferma").click()
    expect(page.get_by_test_id("report-status")).to_have_text("Presa in carico")
    expect(page.locator("ol.timeline li").last).to_contain_text("interna")

    page.get_by_role("button", name="Avvia i lavori").click()
    expect(default).to_contain_text("avvisa il cittadino")
    expect(notice).to_be_checked()
    notice.uncheck()
    page.get_by_role("button", name="Segna come risolta").click()  # another step: its own default, not the last set
    expect(notice).to_be_checked()
    page.get_by_role("button", name="Conferma").click()
    expect(page.get_by_test_id("report-status")).to_have_text("Risolta")
    texts = [m["text"] for m in citizen.wait_inbox(heard + 1)[heard:]]
    assert any("risolta" in t for t in texts) and not any("Mario" in t for t in citizen.settle())


def test_refusals_reach_staff_in_italian(stack, page):
    n = next(_numbers)
    report = api(stack, "POST", "/api/v1/reports", role="technical", json={
        "source": "email", "text": f"Segnalazione generica numero {n}"}).json()  # no category: no team to fall back on
    sign_in(page, stack, "technical")
    open_report(page, report["number"])
    page.get_by_role("button", name="Assegna alla squadra").click()
    page.get_by_role("button", name="Conferma").click()
    alert = page.get_by_role("alert")
    expect(alert).to_have_text("Scegli una squadra: la categoria di questa segnalazione non ne indica una.")

    page.get_by_label("Numero della segnalazione originale").fill("2026/9999999")
    page.get_by_role("button", name="Unisci come duplicato").click()
    expect(alert).to_have_text("Non trovato (o non visibile con il tuo ruolo).")
    page.get_by_label("Numero della segnalazione originale").fill(report["number"])
    page.get_by_role("button", name="Unisci come duplicato").click()
    expect(alert).to_have_text("Si può unire solo a un'altra segnalazione dello stesso tipo: controlla il numero.")
    assert not ENGLISH.search(alert.inner_text())
