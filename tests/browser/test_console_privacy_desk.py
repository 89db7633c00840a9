"""Registro accessi and Richieste privacy (issue 15, items 4 and 5) in chromium against the demo comune: the DPO
asks who looked at a citizen's data, sees refused attempts and a change's before and after, exports the log; the
privacy desk previews an erasure (nothing changes, the confirmation names what goes and what stays), downloads the
citizen's archive, erases the number and finds the request in the log, masked; at 390 px.

Citizen numbers of this file: +39 347 740 5xxx (the demo comune's own data is never touched)."""
from __future__ import annotations

import csv
import itertools
import json
import time
import zipfile
from urllib.parse import quote

from playwright.sync_api import Page, expect

from chalicelib.domain.access import Role, Staff
from chalicelib.services.access import record_change
from tests.browser.test_console import api, sign_in
from tests.browser.test_console_exports import download
from tests.integration.conftest import BROADCAST

_numbers = itertools.count(5000 + int(time.time()) % 900)


def new_number() -> tuple[str, str]:
    n = next(_numbers)
    return f"347 740 {n:04d}", f"+39347740{n:04d}"


def subscribed(stack, number: str) -> None:
    answer = api(stack, "POST", "/api/v1/subscribers", role="communications",
                 json={"channel": BROADCAST, "phone": number})
    assert answer.status_code in (200, 201), answer.text


def open_admin_page(page: Page, stack, tab: str) -> None:
    sign_in(page, stack, "admin")
    page.get_by_role("link", name="Amministrazione").click()
    page.get_by_role("navigation", name="Amministrazione").get_by_role("link", name=tab).click()
    expect(page.get_by_role("heading", name=tab, exact=True)).to_be_visible()


def test_the_dpo_finds_who_looked_at_a_citizen_refusals_and_a_change(stack, page, tmp_path):
    typed, e164 = new_number()
    subscribed(stack, e164)
    path = f"/api/v1/subscribers/{quote(e164, safe='')}"
    assert api(stack, "GET", path, role="communications", params={"channel": BROADCAST}).status_code == 200
    assert api(stack, "GET", path, role="technical", params={"channel": BROADCAST}).status_code == 403
    target = f"test-{e164[-4:]}-{int(time.time())}"
    record_change(Staff(subject="74-browser-admin", tenant_id="demo", roles=frozenset({Role.ADMIN}), name="Giulia Verdi"),
                  "settings.update", target, {"retention": {"deliveries": 90}, "name": "Comune"},
                  {"retention": {"deliveries": 60}, "name": "Comune"})

    open_admin_page(page, stack, "Registro accessi")
    page.get_by_label("Chi ha visto i dati di questo cittadino?").fill(typed)
    page.get_by_role("button", name="Cerca negli accessi").click()
    expect(page.get_by_test_id("audit-object")).to_contain_text(e164)
    rows = page.get_by_test_id("audit-row")
    expect(rows.filter(has_text="Iscritto consultato")).to_have_count(1)
    expect(rows.filter(has_text="Iscritto aggiunto")).to_have_count(1)
    refused = rows.filter(has_text="Rifiutato: permesso negato")
    expect(refused).to_have_count(1)
    expect(refused.locator(".badge.refused")).to_have_text("Rifiutato")
    expect(rows.first).not_to_contain_text("local-")  # people by name, never their ids

    # a change: its before and after, only the field that differs
    page.get_by_role("button", name="Azzera").click()
    page.get_by_label("Azione", exact=True).select_option(label="Impostazioni (tutte)")
    page.get_by_label("Oggetto", exact=True).fill(target)
    page.get_by_role("button", name="Filtra").click()
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Giulia Verdi")
    rows.first.get_by_role("button", name="Prima e dopo").click()
    change = page.get_by_role("table", name="Prima e dopo la modifica")
    expect(change.get_by_role("row")).to_have_count(2)  # the header and retention.deliveries
    expect(change).to_contain_text("retention.deliveries")
    expect(change.locator("del")).to_have_text("90")
    expect(change.locator("ins")).to_have_text("60")
    expect(page.get_by_text("1 altro campo invariato.")).to_be_visible()
    page.set_viewport_size({"width": 390, "height": 844})  # on a phone, the filters fit the screen
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page scrolls sideways at 390 px: {width}"
    page.set_viewport_size({"width": 1280, "height": 860})

    name, saved = download(page, "Esporta CSV", tmp_path)
    assert name.startswith("registro-accessi-") and name.endswith(".csv")
    lines = list(csv.reader(saved.read_text(encoding="utf-8-sig").splitlines(), delimiter=";"))
    assert lines[0][:3] == ["data e ora", "persona", "azione"] and len(lines) == 2 and lines[1][4] == target

    # refused attempts: a family of the action picker
    page.get_by_role("button", name="Azzera").click()
    page.get_by_label("Azione", exact=True).select_option(label="Rifiutato (tutte)")
    page.get_by_role("button", name="Filtra").click()
    expect(rows.first).to_contain_text("Rifiutato")


def test_the_privacy_desk_previews_exports_and_erases_a_number_at_390px(stack, browser, tmp_path):
    typed, e164 = new_number()
    subscribed(stack, e164)
    context = browser.new_context(locale="it-IT", viewport={"width": 390, "height": 844}, accept_downloads=True)
    context.set_default_timeout(10_000)
    page = context.new_page()
    path = f"/api/v1/subscribers/{quote(e164, safe='')}"
    try:
        open_admin_page(page, stack, "Richieste privacy")
        page.get_by_label("Numero di telefono").fill(typed)
        page.get_by_role("button", name="Anteprima").click()
        preview = page.get_by_test_id("privacy-preview")
        expect(preview).to_contain_text("Nulla è stato ancora cambiato")
        expect(preview.get_by_role("listitem").filter(has_text="iscrizione o registrazione su Avvisi")).to_have_count(1)
        expect(preview).to_contain_text("il registro dei consensi")

        page.get_by_role("button", name="Cancella i dati di questo numero…").click()
        dialog = page.get_by_role("alertdialog")
        expect(dialog).to_be_focused()
        expect(dialog).to_contain_text("Verranno cancellati: iscrizione o registrazione su Avvisi")
        expect(dialog).to_contain_text("Resteranno: il registro dei consensi")
        dialog.get_by_role("button", name="Annulla").click()
        expect(page.get_by_role("alertdialog")).to_have_count(0)
        assert api(stack, "GET", path, params={"channel": BROADCAST}).status_code == 200  # the preview changed nothing

        name, saved = download(page, "Esporta i dati", tmp_path)
        assert name.startswith("dati-personali-") and name.endswith(".zip")
        with zipfile.ZipFile(saved) as archive:
            assert json.loads(archive.read("dati.json"))["subject"] == e164
            assert "Dati personali trattati dal Comune" in archive.read("riepilogo.txt").decode()
        expect(page.get_by_test_id("privacy-notice")).to_contain_text("Archivio scaricato")

        page.get_by_role("button", name="Cancella i dati di questo numero…").click()
        page.get_by_role("alertdialog").get_by_role("button", name="Conferma la cancellazione").click()
        result = page.get_by_test_id("privacy-result")
        expect(result).to_contain_text("Cancellazione eseguita")
        expect(result).to_contain_text("1 iscrizione o registrazione cancellata")
        assert api(stack, "GET", path, params={"channel": BROADCAST}).status_code == 404

        masked = e164[:3] + "******" + e164[-2:]
        log = page.get_by_test_id("privacy-request").filter(has_text=masked)
        expect(log).to_have_count(2)
        expect(log.first).to_contain_text("Cancellazione")
        expect(log.nth(1)).to_contain_text("Esportazione dei dati")
        assert e164 not in page.locator("main, body").first.inner_text()
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"the page scrolls sideways at 390 px: {width}"
    finally:
        context.close()
