"""Bulk actions and a person in charge in the console (issue 14, items 3 and 9), in a real browser: select a page of
reports with the keyboard, take them in charge and close them in two confirmed actions, each citizen told once;
take a report yourself and find it under "Le mie segnalazioni", then hand a selection to a colleague."""
from __future__ import annotations

import itertools
import time

import requests
from playwright.sync_api import Page, expect

from tests.browser.test_console import api, sign_in
from tests.integration.conftest import REPORTS, Phone

_numbers = itertools.count(int(time.time()) % 5000)


def _report(stack, text: str, phone: Phone | None = None) -> dict:
    contact = {"contact": {"name": "Cittadino", "phone": phone.number, "updates_on_whatsapp": True}} if phone else {}
    created = api(stack, "POST", "/api/v1/reports", role="technical", json={"source": "phone", "text": text, **contact})
    assert created.status_code == 201, created.text
    return created.json()


def _search(page: Page, words: str) -> None:
    page.get_by_label("Cerca").fill(words)
    page.get_by_label("Cerca").press("Enter")


def _bulk(page: Page, action: str, count: int, **fields) -> None:
    page.get_by_label("Azione", exact=True).select_option(label=action)
    for label, value in fields.items():
        page.get_by_label(label, exact=True).select_option(label=value)
    page.get_by_role("button", name="Continua").click()
    expect(page.get_by_test_id("bulk-confirm")).to_contain_text(f"su {count} segnalazioni")
    page.get_by_role("button", name=f"Conferma su {count}").click()


def test_technical_closes_a_page_of_reports_in_one_action_and_each_citizen_hears_once(stack, page):
    n = next(_numbers)
    tag = f"Massivo{n}"
    phones = [Phone(stack, REPORTS, f"+39 347 590 {n % 1000:03d}{i}") for i in range(3)]
    reports = [_report(stack, f"Lampione spento {tag} numero {i}", p) for i, p in enumerate(phones)]

    sign_in(page, stack, "technical")
    _search(page, tag)
    rows = page.locator("table.reports tbody tr")
    expect(rows).to_have_count(3)
    page.get_by_label("Seleziona tutte le segnalazioni di questa pagina").press("Space")  # keyboard only
    expect(page.get_by_test_id("bulk-count")).to_have_text("3")
    _bulk(page, "Prendi in carico", 3)
    outcome = page.get_by_test_id("bulk-outcome")
    expect(outcome).to_contain_text("Prendi in carico: 3 aggiornate.")
    expect(page.get_by_test_id("bulk-count")).to_have_count(0)  # the selection is done with

    late = _report(stack, f"Lampione spento {tag} arrivata dopo")  # still new: it cannot be closed
    expect(rows).to_have_count(4)
    page.get_by_label("Seleziona tutte le segnalazioni di questa pagina").check()
    page.get_by_label("Azione", exact=True).select_option(label="Chiudi")
    page.get_by_label("Esito della chiusura").select_option(label="Risolta")
    page.get_by_label("Nota (la stessa per tutte)").fill("Lampioni sostituiti")
    expect(page.get_by_label("Avvisa i cittadini su WhatsApp")).to_be_checked()
    page.get_by_role("button", name="Continua").click()
    expect(page.get_by_test_id("bulk-confirm")).to_have_text(
        "Confermi «Chiudi come «Risolta»» su 4 segnalazioni? I cittadini che le seguono ricevono l'aggiornamento su "
        "WhatsApp.")
    page.get_by_role("button", name="Conferma su 4").click()
    expect(outcome).to_contain_text("Chiudi: 3 aggiornate, 1 non consentita.")
    expect(outcome).to_contain_text(f"n. {late['number']}: non consentito (Il passaggio non è consentito dallo stato "
                                    "attuale della segnalazione.)")
    expect(rows).to_have_count(1)  # the closed ones left the open list; the refused one stays selected
    expect(page.get_by_label(f"Seleziona la segnalazione {late['number']}")).to_be_checked()

    for report in reports:
        shown = api(stack, "GET", f"/api/v1/reports/{report['id']}", role="technical").json()
        assert shown["status"] == "resolved"
    for phone in phones:
        assert len(phone.wait_inbox(1)) == 1
    assert all(len(phone.settle(0.5)) == 1 for phone in phones)


def test_a_report_taken_in_charge_shows_under_my_reports_and_can_be_handed_on(stack, page):
    n = next(_numbers)
    tag = f"Mie{n}"
    first = _report(stack, f"Panchina rotta {tag} nel parco")
    second = _report(stack, f"Fontanella guasta {tag} in piazza")
    # the administrator signs in as the console does: the demo user of the stack's Cognito pool, "Amministratore"
    admin = requests.post(f"{stack.web_url}/local-auth/token", timeout=30,
                          json={"username": "admin", "password": stack.staff_sign_in.password}).json()["id_token"]
    assert requests.get(f"{stack.api_url}/api/v1/me", headers={"Authorization": f"Bearer {admin}"},
                        timeout=30).status_code == 200

    sign_in(page, stack, "technical")
    _search(page, tag)
    page.get_by_role("link", name=first["number"], exact=True).click()
    expect(page.get_by_test_id("assignee")).to_have_text("Nessuna persona incaricata.")
    page.get_by_role("button", name="Affida a me").click()
    expect(page.get_by_test_id("assignee")).to_have_text("In carico a Ufficio tecnico (tu)")
    expect(page.locator("ol.timeline")).to_contain_text("Persona: Ufficio tecnico")

    page.get_by_role("link", name="← Torna all'elenco").click()
    _search(page, tag)
    rows = page.locator("table.reports tbody tr")
    expect(rows).to_have_count(2)
    page.get_by_label("Le mie segnalazioni").check()
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(first["number"])

    page.get_by_label("Le mie segnalazioni").uncheck()
    expect(rows).to_have_count(2)
    page.get_by_label(f"Seleziona la segnalazione {first['number']}").check()
    page.get_by_label(f"Seleziona la segnalazione {second['number']}").check()
    _bulk(page, "Affida a una persona", 2, Persona="Amministratore")
    expect(page.get_by_test_id("bulk-outcome")).to_contain_text("Affida a una persona: 2 aggiornate.")
    page.get_by_label("Le mie segnalazioni").check()
    expect(page.get_by_text("Nessuna segnalazione affidata a te con questi filtri.")).to_be_visible()
    mine = requests.get(f"{stack.api_url}/api/v1/reports", headers={"Authorization": f"Bearer {admin}"}, timeout=30,
                        params={"assignee": "me", "q": tag}).json()["items"]
    assert {r["id"] for r in mine} == {first["id"], second["id"]}
