"""Consumi e costi in chromium against the local stack (issue 15, item 6): the administrator reads a month's
messages per channel with the messaging limit and the price table in force, adds a price table (an Italian error
for a bad price, the new table listed, the change audited), exports the month; the communications office reads
it and its dashboard card but edits no price; at 390 px nothing scrolls sideways. The demo comune's price tables
are restored afterwards."""
from __future__ import annotations

import csv
import re

import pytest
from playwright.sync_api import Page, expect

from chalicelib.store import audit, directory
from local.seed import TENANT_ID, TENANT_NAME
from tests.browser.test_console import api, sign_in
from tests.browser.test_console_exports import download
from tests.integration.conftest import BROADCAST, Phone
from tests.waiting import wait_for


@pytest.fixture
def demo_prices_restored():
    """The demo comune's settings as they were before the test, saved back after it."""
    before, _ = directory.stored_tenant(TENANT_ID)
    yield
    directory.save_tenant(TENANT_ID, TENANT_NAME, before)


def open_usage(page: Page) -> None:
    page.get_by_role("link", name="Amministrazione").click()
    page.get_by_role("navigation", name="Amministrazione").get_by_role("link", name="Consumi e costi").click()
    expect(page.get_by_role("heading", name="Consumi e costi", level=1)).to_be_visible()


def test_the_administrator_reads_the_month_and_updates_the_price_table(stack, page, tmp_path, demo_prices_restored):
    citizen = Phone(stack, BROADCAST, "+39 347 750 9001")
    citizen.text("ATTIVA")  # the channel answers: a free-form (service) message, counted this month
    citizen.wait_inbox(1)
    now = wait_for(lambda: (u := api(stack, "GET", "/api/v1/usage").json())["totals"]["sent"]["service"] >= 1 and u)
    sign_in(page, stack, "admin")
    open_usage(page)
    totals = page.get_by_test_id("usage-totals")
    expect(totals.get_by_role("listitem").first).to_have_text(re.compile(r"^\d+ messaggi inviati$"))
    after = api(stack, "GET", "/api/v1/usage").json()
    # the demo comune's other tests' messages may be counted meanwhile: the page shows a figure between the two reads
    shown = int(totals.get_by_role("listitem").first.inner_text().split()[0])
    assert now["totals"]["sent_total"] <= shown <= after["totals"]["sent_total"]
    service = [next(c for c in u["channels"] if c["channel"] == BROADCAST)["sent"]["service"] for u in (now, after)]
    expect(page.get_by_text("Listino in vigore dal 01/07/2025 (EUR).")).to_be_visible()
    broadcast = page.get_by_role("table", name="Avvisi — Notizie dal Comune")
    expect(page.get_by_role("region", name="Avvisi — Notizie dal Comune")).to_contain_text(
        "Limite di WhatsApp: 1000 persone in 24 ore fuori dalla finestra di servizio (livello TIER_1K nel WhatsApp Manager).")
    expect(broadcast.get_by_role("row", name="Modelli di marketing")).to_contain_text("0,0592 €")
    cell = broadcast.get_by_role("row", name="Servizio (testo libero)").get_by_role("cell").first
    expect(cell).to_have_text(re.compile(r"^\d+$"))
    assert service[0] <= int(cell.inner_text()) <= service[1]

    # a month with nothing sent (the stack starts empty every session)
    page.get_by_label("Mese", exact=True).fill("2026-01")
    expect(page.get_by_role("heading", name="gennaio 2026")).to_be_visible()
    expect(totals.get_by_role("listitem").first).to_have_text("0 messaggi inviati")
    expect(totals).to_contain_text("0,00 €")

    # a bad price is refused in Italian; a good table is saved, listed and audited
    form = page.get_by_role("form", name="Aggiorna il listino")
    form.get_by_label("In vigore dal mese").fill("2099-01")
    form.get_by_label("Modelli di marketing (per messaggio)").fill("12")
    form.get_by_role("button", name="Salva il listino").click()
    expect(form.get_by_role("alert")).to_have_text("Prezzo dei modelli di marketing non valido: un numero da 0 a 10.")
    form.get_by_label("Modelli di marketing (per messaggio)").fill("0,0615")
    form.get_by_label("Fonte (listino di Meta e sua data)").fill("Listino di prova")
    form.get_by_role("button", name="Salva il listino").click()
    expect(form.get_by_role("status")).to_have_text("Listino dal 01/01/2099 salvato.")
    listed = page.get_by_role("table").filter(has_text="Listino di prova")
    expect(listed.get_by_role("row", name="01/01/2099")).to_contain_text("0,0615 €")
    change = next(e for e in audit.recent(TENANT_ID) if e.action == "usage.prices.update")
    assert change.target == "prices:2099-01-01" and change.before is None and change.after["marketing"] == 0.0615

    name, path = download(page, "Esporta CSV", tmp_path)
    assert name.startswith("consumi-2026-01")
    rows = list(csv.reader(path.read_text(encoding="utf-8-sig").splitlines(), delimiter=";"))
    assert rows[0][:2] == ["Mese", "Canale"] and {r[1] for r in rows[1:]} >= {"100000000000001"}

    # on a phone the page, its tables and the form never scroll sideways
    page.set_viewport_size({"width": 390, "height": 844})
    expect(form.get_by_role("button", name="Salva il listino")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390


def test_the_communications_office_reads_its_spend_on_the_dashboard_and_on_a_phone(stack, browser):
    now = api(stack, "GET", "/api/v1/usage", role="communications").json()
    context = browser.new_context(locale="it-IT", viewport={"width": 390, "height": 844})
    page = context.new_page()
    try:
        sign_in(page, stack, "communications")
        page.get_by_role("link", name="Cruscotto").click()
        card = page.get_by_test_id("usage-card")
        shown = card.get_by_role("listitem").first
        expect(shown).to_have_text(re.compile(r"^\d+ messaggi inviati$"))
        after = api(stack, "GET", "/api/v1/usage", role="communications").json()  # other tests may send meanwhile
        assert now["totals"]["sent_total"] <= int(shown.inner_text().split()[0]) <= after["totals"]["sent_total"]
        expect(card).to_contain_text("costo stimato")
        page.get_by_role("link", name="Dettagli in Consumi e costi").click()
        expect(page.get_by_role("heading", name="Consumi e costi", level=1)).to_be_visible()
        expect(page.get_by_role("table", name="Avvisi — Notizie dal Comune")).to_be_visible()
        expect(page.get_by_role("table", name="Segnalazioni — Segnalazioni")).to_have_count(0)  # not its channel
        expect(page.get_by_role("form", name="Aggiorna il listino")).to_have_count(0)  # prices: the administration's
        page.wait_for_load_state("networkidle")
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
    finally:
        context.close()


def test_the_technical_office_sees_no_costs(stack, page):
    sign_in(page, stack, "technical")
    page.get_by_role("link", name="Cruscotto").click()
    expect(page.get_by_role("heading", name="Segnalazioni", level=2)).to_be_visible()
    expect(page.get_by_test_id("usage-card")).to_have_count(0)
    expect(page.get_by_role("link", name="Amministrazione")).to_have_count(0)
