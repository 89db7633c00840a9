"""Messaggi in a real browser: a citizen answers a broadcast on the phone simulator, the message appears in the
console's Messaggi (with the unread badge), staff answer from the console and the phone receives the answer; assign
to me and "Fatto"; a phone-sized console (390 px) with no sideways scrolling."""
from __future__ import annotations

import itertools
import re
import time

import requests
from playwright.sync_api import Page, expect

from tests.browser.test_console import sign_in
from tests.browser.test_phone import open_phone
from tests.integration.conftest import BROADCAST, Phone
from tests.waiting import wait_for

_numbers = itertools.count(int(time.time()) % 5000)


def _subscribed_and_broadcast_to(stack, number: str, text: str) -> None:
    headers = {"Authorization": f"Bearer {stack.issuer.token('demo', ['communications'])}"}
    imported = requests.post(f"{stack.api_url}/api/v1/subscribers/import", params={"channel": BROADCAST},
                             data=f"phone,hamlets,topics\n{number},,\n".encode(), timeout=30,
                             headers={**headers, "Content-Type": "text/csv"})
    assert imported.json()["summary"]["error"] == 0, imported.text
    created = requests.post(f"{stack.api_url}/api/v1/broadcasts", headers=headers, timeout=30, json={
        "channel": BROADCAST, "text": text, "priority": "alert", "audience": {"hamlets": [], "topics": []}})
    assert created.status_code == 201, created.text
    wait_for(lambda: Phone(stack, BROADCAST, number).inbox(), timeout=30)


def test_a_reply_to_a_broadcast_is_answered_from_messaggi_and_reaches_the_phone(stack, browser, page: Page):
    n = next(_numbers)
    number = f"+39 347 580 {n:04d}"
    _subscribed_and_broadcast_to(stack, number, f"Mercato spostato in piazza Nuova ({n})")

    # the citizen answers the broadcast on the phone simulator
    open_phone(page, stack, BROADCAST, number)
    question = f"Anche il mercato di sabato {n}?"
    page.get_by_label("Messaggio (anche didascalia della foto)").fill(question)
    page.get_by_role("button", name="Invia", exact=True).click()
    expect(page.locator(".msg.app").last).to_contain_text("un operatore", timeout=15_000)  # the auto-reply

    # staff, on a phone-sized console
    context = browser.new_context(locale="it-IT", viewport={"width": 390, "height": 844})
    context.set_default_timeout(10_000)
    console = context.new_page()
    sign_in(console, stack, "communications")
    menu = console.get_by_role("navigation", name="Sezioni").get_by_role("link", name="Messaggi")
    expect(menu.locator(".unread")).to_be_visible(timeout=15_000)  # the badge: a message nobody opened
    menu.click()
    expect(console.get_by_role("heading", name="Messaggi", exact=True)).to_be_visible()
    thread = console.get_by_role("link").filter(has_text=question)
    expect(thread).to_be_visible(timeout=15_000)
    expect(thread).to_contain_text("Nuovo")
    thread.click()
    chat = console.get_by_role("list", name="Messaggi della conversazione")
    expect(chat).to_contain_text(question)

    answer = f"Sì, anche sabato {n}: stesso orario."
    console.get_by_label("Risposta").fill(answer)
    console.get_by_role("button", name="Invia risposta").click()
    expect(console.get_by_role("status").filter(has_text="Risposta inviata")).to_be_visible()
    expect(chat.locator("li.out").last).to_contain_text(answer)
    expect(chat.locator("li.out .delivery").last).to_have_text(
        re.compile("Consegnato|Letto"), timeout=20_000)  # from WhatsApp's status webhooks

    # the phone receives the answer
    expect(page.locator(".msg.app").last).to_contain_text(answer, timeout=15_000)

    console.get_by_role("button", name="Assegna a me").click()
    expect(console.get_by_text("Conversazione assegnata a te.")).to_be_visible()
    console.get_by_role("button", name="Fatto").click()
    expect(console.get_by_role("button", name="Riapri")).to_be_visible()
    width = console.evaluate("document.scrollingElement.scrollWidth")
    assert width <= 390, f"the console scrolls sideways at 390 px ({width} px wide)"
    context.close()


def test_outside_the_window_the_console_offers_the_approved_templates(stack, page: Page):
    from tests.integration.test_conversations import _age

    n = next(_numbers)
    citizen = Phone(stack, BROADCAST, f"+39 347 610 {n:04d}")
    citizen.text(f"Una domanda di ieri {n}")
    citizen.wait_inbox(1)
    headers = {"Authorization": f"Bearer {stack.issuer.token('demo', ['communications'])}"}
    wait_for(lambda: requests.get(f"{stack.api_url}/api/v1/conversations", headers=headers, timeout=10)
             .json()["items"], 15)
    _age(BROADCAST, citizen, hours=25)

    sign_in(page, stack, "communications")
    page.goto(f"{stack.web_url}/console/#/messaggi")
    page.get_by_role("link").filter(has_text=f"Una domanda di ieri {n}").click()
    expect(page.get_by_text("Sono passate più di 24 ore")).to_be_visible()
    expect(page.get_by_label("Risposta")).to_have_count(0)
    page.get_by_label("Modello").select_option("avviso_comune")
    page.get_by_label("Testo 1").fill(f"Abbiamo una risposta per lei {n}")
    expect(page.get_by_label("Anteprima del modello")).to_contain_text(f"Abbiamo una risposta per lei {n}")
    page.get_by_role("button", name="Invia modello").click()
    expect(page.get_by_role("status").filter(has_text="Risposta inviata")).to_be_visible()
    sent = citizen.wait_inbox(2)[-1]
    assert sent["type"] == "template" and f"Abbiamo una risposta per lei {n}" in sent["text"]
