"""The broadcast composer's preview in a real browser: what each group of recipients will receive (issue 13) - the
full text inside the 24-hour window; outside it the notice template with its title and button, then the full text
after the tap."""
from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.test_console import sign_in


def test_the_preview_says_what_each_group_receives_and_the_title_staff_give(stack, page):
    sign_in(page, stack, "communications")
    page.get_by_role("link", name="Avvisi").click()
    text = "Allerta meteo arancione per domani\n\nScuole chiuse.\n\t- Non sostare sotto i ponti."
    page.get_by_label("Testo del messaggio").fill(text)

    inside = page.get_by_test_id("receives-inside_window")
    expect(inside).to_contain_text("nelle ultime 24 ore")
    expect(inside.locator(".wa")).to_have_text(text)
    outside = page.get_by_test_id("receives-outside_window")
    expect(outside).to_contain_text("fuori dalla finestra di 24 ore")
    notice = outside.locator(".wa").first
    expect(notice).to_contain_text("Nuovo avviso del Comune:\nAllerta meteo arancione per domani\n\nTocca")
    expect(notice.locator(".wa-button")).to_have_text(["Leggi l'avviso"])
    expect(outside).to_contain_text("Se toccano «Leggi l'avviso» ricevono")
    expect(outside.locator(".wa").last).to_have_text(text)

    page.get_by_label("Titolo per chi è fuori dalla finestra di 24 ore (facoltativo)").fill("Scuole chiuse domani")
    expect(notice).to_contain_text("Nuovo avviso del Comune:\nScuole chiuse domani\n")
    expect(page.locator("p.error")).to_have_count(0)
