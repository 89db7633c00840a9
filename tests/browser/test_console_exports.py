"""Exports and the citizen's page in the console (issue 14, items 4 and 5), in chromium against the local stack:
"Esporta CSV" and "Esporta Excel" download the list the page shows (inbox, broadcasts, subscribers) under an
Italian file name, a hostile description opens as text; the "Cittadino" page, reached from a report and from the
search box by number, shows the citizen's report and the conversation with delivery status, also at 390 px."""
from __future__ import annotations

import csv
import itertools
import re
import time
from urllib.parse import quote

import openpyxl
from playwright.sync_api import Page, expect

from tests.browser.test_console import api, sign_in
from tests.integration.conftest import REPORTS, Phone
from tests.waiting import wait_for

_numbers = itertools.count(int(time.time()) % 5000)


def download(page: Page, button: str, tmp_path):
    with page.expect_download() as started:
        page.get_by_role("button", name=button).click()
    done = started.value
    path = tmp_path / done.suggested_filename
    done.save_as(path)
    return done.suggested_filename, path


def test_technical_exports_the_filtered_inbox_as_csv_and_excel(stack, page, tmp_path):
    n = next(_numbers)
    hostile = f'=HYPERLINK("http://evil.example/{n}","Clicca") prova esportazione {n}'
    created = api(stack, "POST", "/api/v1/reports", role="technical",
                  json={"source": "desk", "text": hostile, "hamlet": "capoluogo"})
    assert created.status_code == 201, created.text
    sign_in(page, stack, "technical")
    page.get_by_label("Cerca").fill(f"prova esportazione {n}")
    page.get_by_label("Cerca").press("Enter")
    expect(page.locator("table.reports tbody tr")).to_have_count(1)

    name, path = download(page, "Esporta CSV", tmp_path)
    assert name.startswith("segnalazioni-") and name.endswith(".csv")
    expect(page.get_by_test_id("export-reports")).to_have_text(f"File scaricato: {name}")
    rows = list(csv.reader(path.read_text(encoding="utf-8-sig").splitlines(), delimiter=";"))
    assert len(rows) == 2  # the filter the page shows: only this report
    assert rows[1][rows[0].index("Descrizione")] == "'" + hostile

    name, path = download(page, "Esporta Excel", tmp_path)
    assert name.startswith("segnalazioni-") and name.endswith(".xlsx")
    sheet = openpyxl.load_workbook(path).worksheets[0]
    values = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert values[0] == rows[0] and "'" + hostile in values[1]


def test_communications_exports_broadcasts_and_subscribers(stack, page, tmp_path):
    sign_in(page, stack, "communications")
    expect(page.get_by_role("heading", name="Avvisi ai cittadini")).to_be_visible()
    name, path = download(page, "Esporta Excel", tmp_path)
    assert name.startswith("avvisi-") and name.endswith(".xlsx")
    header = [cell.value for cell in next(openpyxl.load_workbook(path).worksheets[0].iter_rows())]
    assert {"Destinatari", "Inviati", "Consegnati", "Letti", "Non consegnati"} <= set(header)

    page.get_by_role("link", name="Iscritti").click()
    expect(page.get_by_role("heading", name="Iscritti")).to_be_visible()
    name, path = download(page, "Esporta CSV", tmp_path)
    assert name.startswith("iscritti-") and name.endswith(".csv")
    assert path.read_text(encoding="utf-8-sig").startswith("Numero di telefono;Stato;")


def test_the_desk_finds_a_citizens_report_and_conversation(stack, browser, tmp_path):
    n = next(_numbers)
    number = f"+39 347 620 {n:04d}"
    e164 = "+" + "".join(ch for ch in number if ch.isdigit())
    citizen = Phone(stack, REPORTS, number)
    citizen.text(f"Cassonetto rovesciato in via Cittadino {n}")
    receipt = citizen.wait_inbox(1)[0]["text"]
    # the phone's "delivered" comes back later through a status webhook and the queue; the page reads it once
    wait_for(lambda: any(m["direction"] == "out" and m["status"] in ("delivered", "read") for m in
                         api(stack, "GET", f"/api/v1/citizens/{quote(e164)}", role="technical").json()["conversation"]),
             timeout=30, interval=0.5)

    context = browser.new_context(locale="it-IT", viewport={"width": 390, "height": 844})
    context.set_default_timeout(10_000)
    page = context.new_page()
    try:
        sign_in(page, stack, "technical")
        page.get_by_label("Cerca").fill(f"via cittadino {n}")
        page.get_by_label("Cerca").press("Enter")
        page.locator("table.reports tbody tr").first.get_by_role("link").click()
        page.get_by_role("link", name="Scheda del cittadino").click()

        expect(page.get_by_role("heading", name="Cittadino", exact=True)).to_be_visible()
        expect(page.get_by_test_id("citizen-number")).to_have_text(e164)
        talk = page.locator("ol.conversation")
        said = talk.locator("li.msg.in")
        expect(said).to_have_count(1)
        expect(said).to_contain_text(f"Cassonetto rovesciato in via Cittadino {n}")
        answered = talk.locator("li.msg.out").filter(has_text=receipt.splitlines()[0][:40])
        expect(answered).to_have_count(1)
        expect(answered.locator(".delivery")).to_have_text(re.compile("^(Consegnato|Letto)$"))  # the phone's status
        expect(page.get_by_role("region", name="Segnalazioni")).to_contain_text("Ha segnalato")
        assert page.evaluate("document.documentElement.scrollWidth") <= 390  # nothing runs off a phone's screen

        # from the search box, by the number as people say it (no +39)
        page.get_by_role("link", name="Cittadino", exact=True).click()
        expect(page.get_by_test_id("citizen-number")).to_have_count(0)  # the empty search, as the clerk sees it
        page.get_by_label("Numero di telefono").fill(f"347 620 {n:04d}")
        page.get_by_label("Numero di telefono").press("Enter")
        expect(page.get_by_test_id("citizen-number")).to_have_text(e164)
        expect(page.locator("ol.conversation li.msg.in")).to_have_count(1)

        page.get_by_label("Numero di telefono").fill("non un numero")
        page.get_by_role("button", name="Cerca", exact=True).click()
        expect(page.get_by_role("alert")).to_have_text("Numero di telefono non valido: scrivilo per intero, "
                                                       "per esempio +39 333 123 4567.")
    finally:
        context.close()
