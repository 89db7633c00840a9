"""Screenshots of the console's main pages for docs/screenshots/ (console-*.png), over make dev's demo data.

Skipped in ordinary runs; to refresh them: FILO_SCREENSHOTS=1 .venv/bin/python -m pytest tests/browser/test_console_screenshots.py
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

from local.demo_reports import seed_demo_reports
from tests.browser.test_console import daytime, sign_in  # noqa: F401 - daytime is a fixture used by name

SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
pytestmark = pytest.mark.skipif(not os.environ.get("FILO_SCREENSHOTS"), reason="set FILO_SCREENSHOTS=1 to refresh them")


def test_console_screenshots(stack, page, daytime, tmp_path):  # noqa: F811 - the fixture, by name
    SHOTS.mkdir(parents=True, exist_ok=True)
    numbers = seed_demo_reports(stack)
    console = f"{stack.web_url}/console/"

    page.goto(console)
    expect(page.get_by_label("Password")).to_be_visible()
    page.screenshot(path=SHOTS / "console-signin.png")

    sign_in(page, stack, "admin")
    expect(page.locator("table.reports tbody tr")).to_have_count(len(numbers) - 1)  # the resolved one is not open
    expect(page.locator("path.leaflet-interactive")).not_to_have_count(0)
    page.screenshot(path=SHOTS / "console-inbox.png", full_page=True)

    page.get_by_role("link", name=numbers[0], exact=True).click()
    expect(page.get_by_role("img", name=f"Foto 1 della segnalazione {numbers[0]}")).to_be_visible()
    page.wait_for_load_state("networkidle")
    page.screenshot(path=SHOTS / "console-detail.png", full_page=True)

    page.goto(console + "#/avvisi")
    page.get_by_label("Testo del messaggio").fill("Domani dalle 8 alle 12 acqua interrotta a Pieve a Ripoli per lavori "
                                                  "alla rete. Ci scusiamo per il disagio.")
    page.get_by_label("Pieve a Ripoli").check()
    expect(page.get_by_test_id("audience-count")).to_have_text("3")
    page.screenshot(path=SHOTS / "console-composer.png", full_page=True)
    page.get_by_role("button", name="Invia ora").click()
    expect(page.get_by_test_id("confirm-audience")).to_contain_text("3 iscritti")
    page.screenshot(path=SHOTS / "console-confirm.png", full_page=True)
    page.get_by_role("button", name="Conferma e invia").click()
    expect(page.get_by_role("progressbar")).to_have_attribute("aria-valuenow", "100", timeout=30_000)
    expect(page.locator("table.funnel").get_by_role("row", name="Consegnati")).to_contain_text("3", timeout=15_000)
    page.wait_for_timeout(800)  # the bar's width transition
    page.screenshot(path=SHOTS / "console-progress.png", full_page=True)

    page.goto(console + "#/iscritti")
    csv = tmp_path / "residenti.csv"
    csv.write_text("phone,hamlets,topics\n333 000 0301,pieve,allerte\n333 000 0302,capoluogo;santandrea,\nnon-un-numero,,\n")
    page.get_by_label("File CSV").set_input_files(csv)
    page.get_by_role("button", name="Importa").click()
    expect(page.get_by_role("table", name="Esito per riga")).to_contain_text("Errore")
    page.screenshot(path=SHOTS / "console-subscribers.png", full_page=True)

    page.goto(console + "#/cruscotto")
    expect(page.get_by_text("Consegna degli ultimi avvisi")).to_be_visible()
    page.wait_for_load_state("networkidle")
    page.screenshot(path=SHOTS / "console-dashboard.png", full_page=True)
