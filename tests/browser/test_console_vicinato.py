"""Vicinato in the console, in chromium against the local stack (issue 16). The police approve a join request that
came on WhatsApp (the ID photo through its short-lived link) and send an alert notice to one zone, which reaches the
new member; the administrator adds a zone with its police referent, appoints its coordinator with the Prefettura's
approval, reads the month per zone on the Cruscotto and downloads it as CSV; the Vicinato page fits a phone.

Citizen numbers of this file: +39 347 785 xxxx. The demo comune's settings are restored after the admin test, and
the people it adds are taken out of Vicinato."""
from __future__ import annotations

import csv
import re
import uuid

import pytest
from playwright.sync_api import expect

from chalicelib.store import directory
from local.seed import TENANT_ID, TENANT_NAME
from tests.browser.test_console import api, sign_in
from tests.browser.test_console_exports import download
from tests.integration.conftest import SAFETY, Phone
from tests.integration.test_reports import photo_jpeg, send_photo
from tests.integration.test_vicinato_desk import _body, step
from tests.waiting import wait_for


def _number() -> str:
    return f"+39 347 785 {uuid.uuid4().int % 10_000:04d}"


@pytest.fixture
def demo_settings_restored():
    """The demo comune's settings as they were before the test, saved back after it."""
    before, _ = directory.stored_tenant(TENANT_ID)
    yield
    directory.save_tenant(TENANT_ID, TENANT_NAME, before)


def test_police_approve_a_join_request_and_send_an_alert_to_the_zone(stack, page):
    member = Phone(stack, SAFETY, _number())
    surname = f"Prova{uuid.uuid4().hex[:6]}"
    step(member, lambda: member.text("VICINATO"), "In quale zona abiti")
    step(member, lambda: member.tap("vic:zone:pieve-nord", "Pieve nord", kind="list"), "nome e cognome")
    step(member, lambda: member.text(f"Lucia {surname}"), "indirizzo di residenza")
    step(member, lambda: member.text("Via Dante 14"), "documento d'identità")
    step(member, lambda: send_photo(member, photo_jpeg()), "informativa")
    step(member, lambda: member.tap("vic:consent:yes", "Accetto"), "Richiesta inviata")

    sign_in(page, stack, "police")
    page.get_by_role("navigation", name="Sezioni").get_by_role("link", name="Vicinato").click()
    expect(page.get_by_role("heading", name="Richieste di adesione")).to_be_visible()
    request = page.get_by_test_id("vicinato-request").filter(has_text=surname)
    expect(request).to_contain_text("Via Dante 14")
    expect(request).to_contain_text("Pieve a Ripoli nord")
    request.get_by_role("button", name=f"Mostra il documento di Lucia {surname}").click()
    link = request.get_by_role("link", name="Apri il documento")
    expect(link).to_have_attribute("href", re.compile(r"^https?://"))  # a presigned link, five minutes
    request.get_by_role("button", name=f"Approva la richiesta di Lucia {surname}").click()
    expect(page.get_by_role("status").filter(has_text=f"Richiesta di Lucia {surname} approvata")).to_be_visible()
    expect(page.get_by_test_id("vicinato-request").filter(has_text=surname)).to_have_count(0)
    wait_for(lambda: any("Benvenuto nel Controllo del Vicinato" in _body(m) for m in member.inbox()), 15)

    # the members of the zone, with identity (police only)
    page.get_by_role("link", name="Membri per zona").click()
    page.get_by_label("Zona", exact=True).select_option(label="Pieve a Ripoli nord")
    expect(page.get_by_role("row").filter(has_text=surname)).to_contain_text("Attivo")

    # an alert to that zone only: it passes the quiet hours and reaches the new member
    page.get_by_role("link", name="Avvisi alle zone").click()
    words = f"Truffe agli anziani in corso {surname}: non aprite a finti tecnici"
    page.get_by_label("Pieve a Ripoli nord").check()
    page.get_by_label("Testo dell'avviso").fill(words)
    page.get_by_label("Allerta: parte subito, anche nelle ore di silenzio").check()
    page.get_by_role("button", name="Invia l'avviso").click()
    expect(page.get_by_role("status").filter(has_text="Avviso di allerta in invio a: Pieve a Ripoli nord")).to_be_visible()
    wait_for(lambda: any(words in _body(m) for m in member.inbox()), 20)


def test_the_administrator_sets_up_a_zone_and_its_coordinator_and_reads_the_month(stack, page, browser, tmp_path,
                                                                                      demo_settings_restored):
    zone = f"Zona prova {uuid.uuid4().hex[:4]}"
    sign_in(page, stack, "admin")
    page.get_by_role("link", name="Amministrazione").click()
    page.get_by_role("navigation", name="Amministrazione").get_by_role("link", name="Vicinato").click()
    expect(page.get_by_role("heading", name="Controllo del Vicinato", level=1)).to_be_visible()

    form = page.get_by_role("form", name="Impostazioni del Vicinato")
    form.get_by_label("Minuti del coordinatore per agire prima che la segnalazione passi al vice").fill("0")
    form.get_by_role("button", name="Aggiungi una zona").click()
    added = form.get_by_role("group", name="Zona 3")  # its name last: the legend becomes the name
    added.get_by_label("Frazione").select_option(label="Pieve a Ripoli")
    added.get_by_label("Vie della zona (una per riga, facoltative)").fill("Via Verdi\nVia Puccini")
    referent = added.get_by_label("Referente di Polizia municipale")
    expect(referent.locator("option").nth(1)).to_be_attached()  # the staff list has come: a police user
    referent.select_option(index=1)
    added.get_by_label("Contorno (facoltativo): vertici come latitudine, longitudine, uno per riga").fill(
        "43.7420, 10.9440\n43.7420, 10.9470\n43.7440, 10.9470")
    added.get_by_label("Nome", exact=True).fill(zone)
    form.get_by_role("button", name="Salva il Vicinato").click()
    expect(form.get_by_role("alert")).to_be_visible()  # 0 minutes: refused in Italian, nothing saved
    expect(form.get_by_role("alert")).not_to_contain_text("greater")
    form.get_by_label("Minuti del coordinatore per agire prima che la segnalazione passi al vice").fill("90")
    form.get_by_role("button", name="Salva il Vicinato").click()
    expect(page.get_by_role("status").filter(has_text="Impostazioni del Vicinato salvate")).to_be_visible()
    saved = api(stack, "GET", "/api/v1/settings").json()["sections"]["vicinato"]
    new = next(z for z in saved["zones"] if z["name"] == zone)
    assert saved["coordinator_minutes"] == 90
    assert new["hamlet"] == "pieve" and new["streets"] == ["Via Verdi", "Via Puccini"]
    assert new["police_referent"] and new["geometry"]["type"] == "Polygon"

    # its coordinator, with the Prefettura's nulla osta
    number = _number()
    appoint = page.get_by_role("form", name="Nomina un coordinatore")
    appoint.get_by_label("Zona").select_option(label=zone)
    appoint.get_by_label("Nome e cognome").fill("Sara Galli")
    appoint.get_by_label("Numero WhatsApp").fill(number)
    appoint.get_by_label("Indirizzo").fill("Via Verdi 8")
    appoint.get_by_label("Data del nulla osta della Prefettura (facoltativa)").fill("2026-11-20")
    appoint.get_by_label("Riferimento del nulla osta (facoltativo)").fill("Prot. 9911/2026")
    appoint.get_by_role("button", name="Nomina").click()
    expect(appoint.get_by_role("status").filter(has_text=f"Sara Galli è coordinatore di {zone}")).to_be_visible()
    card = page.get_by_test_id("vicinato-zone").filter(has_text=zone)
    expect(card).to_contain_text("nulla osta della Prefettura del 20/11/2026, Prot. 9911/2026")
    expect(card).to_contain_text("Vicino 1 · Via Verdi")

    # the month per zone on the Cruscotto, and as CSV
    page.get_by_role("navigation", name="Sezioni").get_by_role("link", name="Cruscotto").click()
    table = page.get_by_test_id("vicinato-monthly")
    expect(table.get_by_role("row").filter(has_text=zone)).to_be_visible()
    expect(table.get_by_role("row").filter(has_text=zone).get_by_role("cell").first).to_have_text("1")  # members
    name, path = download(page, "Scarica CSV", tmp_path)
    assert name.endswith(".csv")
    rows = list(csv.reader(path.read_text(encoding="utf-8-sig").splitlines(), delimiter=";"))  # Italian Excel
    assert rows[0][:3] == ["zona", "nome zona", "membri"]
    assert any(row[1] == zone and row[2] == "1" for row in rows[1:])

    # the Vicinato page on a phone: nothing scrolls sideways
    phone = browser.new_context(locale="it-IT", viewport={"width": 390, "height": 844})
    small = phone.new_page()
    try:
        sign_in(small, stack, "admin")
        small.goto(f"{stack.web_url}/console/#/amministrazione/vicinato")
        expect(small.get_by_role("heading", name="Controllo del Vicinato", level=1)).to_be_visible()
        small.wait_for_load_state("networkidle")
        assert small.evaluate("document.documentElement.scrollWidth") <= 390
    finally:
        phone.close()
        person = f"{SAFETY}.+{''.join(ch for ch in number if ch.isdigit())}"
        api(stack, "DELETE", f"/api/v1/vicinato/people/{person}")
