"""Modelli WhatsApp in a real browser (issue 15), on a phone-sized window: an administrator creates a template (live
preview, WhatsApp's limits checked before sending), it goes to the sandbox's review and comes back approved, or
rejected with its reason in Italian; the composer offers only templates fit for a notice, shows their real text with
the parameters in place and warns when WhatsApp re-categorised one. A comune of its own (channel "72..."): the demo
comune's templates stay as they are."""
from __future__ import annotations

import requests
from playwright.sync_api import expect

from tests.integration.test_templates import NOTICE, Town

PHONE_WIDTH = 390


def open_console(page, town: Town, role: str, route: str) -> None:
    """The console signed in as the town's staff member (its token where the console keeps its session)."""
    page.set_viewport_size({"width": PHONE_WIDTH, "height": 844})
    page.add_init_script(f"sessionStorage.setItem('filo.console.token', {town.tokens[role]!r});")
    page.goto(f"{town.stack.web_url}/console/#/{route}")


def no_sideways_scroll(page) -> None:
    """Nothing of the page's content reaches past the phone's width (the header is the console frame's)."""
    assert page.evaluate("document.querySelector('main').scrollWidth") <= PHONE_WIDTH


def approved(town: Town, name: str, **changes) -> None:
    assert town.create(name=name, **changes).status_code == 201
    town.review(name, "approve")
    town.wait_held(name, status="APPROVED")


def test_an_administrator_creates_a_template_and_reads_the_review_in_italian(stack, page):
    town = Town(stack)
    open_console(page, town, "admin", "amministrazione/modelli")
    expect(page.get_by_role("heading", name="Modelli WhatsApp", level=1)).to_be_visible()
    expect(page.get_by_text("Nessun modello: creane uno qui sotto.")).to_be_visible()

    page.get_by_label("Nome").fill("avviso_browser")
    page.get_by_label("Testo", exact=True).fill("Nuovo avviso del Comune: {{1}}. Tocca il pulsante per leggerlo.")
    page.get_by_label("Esempio per {{1}}").fill("Strada chiusa")
    page.get_by_label("Piè di pagina (facoltativo)").fill("x" * 61)
    page.get_by_label("Pulsanti di risposta rapida (uno per riga, facoltativi)").fill("Leggi l'avviso")
    preview = page.get_by_role("complementary").get_by_test_id("template-phone")
    expect(preview).to_contain_text("Nuovo avviso del Comune: Strada chiusa. Tocca il pulsante")
    expect(preview.locator(".wa-button")).to_have_text(["Leggi l'avviso"])

    # WhatsApp's limits, checked before anything goes: the footer is too long
    page.get_by_role("button", name="Invia a WhatsApp per la revisione").click()
    expect(page.get_by_text("Correggi i campi indicati prima di inviare.")).to_be_visible()
    expect(page.get_by_label("Piè di pagina (facoltativo)")).to_be_focused()
    expect(page.get_by_label("Piè di pagina (facoltativo)")).to_have_attribute("aria-invalid", "true")
    listed = requests.get(f"{stack.sandbox_url}/_sandbox/templates", params={"channel": town.channel}, timeout=10)
    assert listed.json() == []

    page.get_by_label("Piè di pagina (facoltativo)").fill("Scrivi DISATTIVA per non ricevere più avvisi")
    page.get_by_role("button", name="Invia a WhatsApp per la revisione").click()
    expect(page.get_by_text("Modello «avviso_browser» inviato a WhatsApp: è in revisione.")).to_be_visible()
    item = page.get_by_test_id("template-avviso_browser")
    expect(item.locator(".badge")).to_have_text("In revisione")
    no_sideways_scroll(page)

    town.review("avviso_browser", "approve")
    assert town.create(**{**NOTICE, "name": "avviso_scartato"}).status_code == 201
    town.review("avviso_scartato", "reject", reason="INVALID_FORMAT")
    town.wait_held("avviso_scartato", status="REJECTED")
    page.get_by_role("button", name="Aggiorna da WhatsApp").click()
    expect(item.locator(".badge")).to_have_text("Approvato")
    expect(item).to_contain_text("Categoria: Di servizio · Lingua: it")
    rejected = page.get_by_test_id("template-avviso_scartato")
    expect(rejected.get_by_test_id("rejected-reason")).to_have_text("Rifiutato da WhatsApp: Formato non valido.")
    expect(rejected.get_by_role("button")).to_have_count(0)  # a rejected template serves nothing

    item.get_by_role("button", name="Usa per: Avviso fuori dalla finestra di 24 ore").click()
    expect(item).to_contain_text("Usato per: Avviso fuori dalla finestra di 24 ore.")
    assert town.templates()["purposes"]["notice"] == {"name": "avviso_browser", "language": "it"}
    expect(page.locator("body")).not_to_contain_text("INVALID_FORMAT")
    no_sideways_scroll(page)


def test_the_composer_offers_notice_templates_with_their_text_and_warns_of_a_recategorisation(stack, page):
    town = Town(stack)
    approved(town, "avviso_ricategorizzato")
    approved(town, "conferma_browser", body="Confermi l'iscrizione agli avvisi del {{1}}? Tocca il pulsante qui sotto.",
             buttons=["Confermo"])
    assert town.choose("subscription_confirm", "conferma_browser").status_code == 200
    town.review("avviso_ricategorizzato", "recategorise", category="MARKETING")
    town.wait_held("avviso_ricategorizzato", category="MARKETING")

    open_console(page, town, "communications", "avvisi")
    page.get_by_label("Modello approvato da WhatsApp").check()
    choice = page.get_by_label("Modello", exact=True)
    expect(choice.locator("option")).to_have_text(["Scegli un modello approvato", "avviso_ricategorizzato (marketing, it)"])
    choice.select_option("avviso_ricategorizzato")
    page.get_by_label("Parametri del modello (uno per riga)").fill("Mercato spostato in piazza")
    shown = page.get_by_test_id("composer-template")
    expect(shown.get_by_test_id("template-phone")).to_contain_text(
        "Nuovo avviso del Comune: Mercato spostato in piazza. Tocca il pulsante per leggerlo per intero.")
    expect(shown.locator(".wa-button")).to_have_text(["Leggi l'avviso"])
    expect(shown.get_by_test_id("composer-recategorised")).to_contain_text(
        "WhatsApp ha spostato il modello «avviso_ricategorizzato» dalla categoria «Di servizio» a «Marketing».")
    expect(shown.get_by_test_id("composer-recategorised")).to_contain_text("costano di più")
    checks = page.get_by_role("list", name="Avvertenze")  # the preview's checks say it too, in Italian
    expect(checks).to_contain_text("WhatsApp ha spostato il modello «avviso_ricategorizzato»")
    expect(page.locator("main")).not_to_contain_text("re-categorised")
    no_sideways_scroll(page)


def test_the_sandbox_review_page_rejects_a_template_and_the_app_hears_of_it(stack, page):
    town = Town(stack)
    assert town.create(name="avviso_a_mano").status_code == 201
    page.goto(f"{stack.sandbox_url}/review")
    page.get_by_label("Canale (il suo account WhatsApp Business)").select_option(town.channel)
    item = page.get_by_role("listitem").filter(has_text="avviso_a_mano")
    expect(item).to_contain_text("PENDING")
    item.get_by_label("Motivo del rifiuto").select_option("TAG_CONTENT_MISMATCH")
    item.get_by_role("button", name="Rifiuta").click()
    expect(page.get_by_role("status")).to_contain_text("avviso_a_mano: REJECTED, UTILITY (webhook 200)")
    held = town.wait_held("avviso_a_mano", status="REJECTED")
    assert held["rejected_reason"] == "TAG_CONTENT_MISMATCH"
