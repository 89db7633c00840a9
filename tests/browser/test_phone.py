"""The sandbox's phone simulator in a real browser: what a citizen would see (issue 13) - a template rendered with its
parameters, a button by its title and not its id, a tap that brings the full notice, the newest message in view."""
from __future__ import annotations

import base64
import itertools
import time

import requests
from playwright.sync_api import Page, expect

from local.demo_reports import demo_photo
from tests.integration.conftest import BROADCAST, REPORTS, Phone
from tests.waiting import wait_for

_numbers = itertools.count(int(time.time()) % 5000)


def open_phone(page: Page, stack, channel: str, number: str) -> None:
    page.goto(f"{stack.sandbox_url}/")
    page.get_by_label("Canale del Comune").select_option(channel)
    page.get_by_label("Numero del cittadino (o user id)").fill(number)
    page.get_by_label("Numero del cittadino (o user id)").dispatch_event("change")


def at_the_bottom(page: Page) -> bool:
    return page.evaluate("(() => { const c = document.getElementById('chat');"
                         " return c.scrollHeight - c.scrollTop - c.clientHeight < 2; })()")


def test_a_notice_outside_the_window_shows_its_text_and_button_and_the_tap_brings_the_full_text(stack, page):
    n = next(_numbers)
    number = f"+39 347 650 {n:04d}"
    token = stack.issuer.token("demo", ["communications"])
    headers = {"Authorization": f"Bearer {token}"}
    imported = requests.post(f"{stack.api_url}/api/v1/subscribers/import", params={"channel": BROADCAST},
                             data=f"phone,hamlets,topics\n{number},,\n".encode(), timeout=30,
                             headers={**headers, "Content-Type": "text/csv"})
    assert imported.json()["summary"]["error"] == 0, imported.text
    text = f"Strade chiuse per neve ({n})\n\nRestano chiuse:\n\t- via dei Colli;\n\t- via del Poggio."
    created = requests.post(f"{stack.api_url}/api/v1/broadcasts", headers=headers, timeout=30, json={
        "channel": BROADCAST, "text": text, "priority": "alert", "audience": {"hamlets": [], "topics": []}})
    assert created.status_code == 201, created.text
    wait_for(lambda: Phone(stack, BROADCAST, number).inbox(), timeout=30)

    open_phone(page, stack, BROADCAST, number)
    notice = page.locator(".msg.app").first
    expect(notice).to_contain_text(f"Nuovo avviso del Comune:\nStrade chiuse per neve ({n})")
    expect(notice).to_contain_text("Scrivi DISATTIVA per non ricevere più avvisi")
    expect(notice).not_to_contain_text("avviso_comune")  # a citizen sees no template name, nor a payload
    button = notice.get_by_role("button", name="Leggi l'avviso")
    expect(button).to_be_visible()
    button.click()
    tap = page.locator(".msg.citizen").last
    expect(tap).to_contain_text("[Leggi l'avviso]")
    expect(tap).not_to_contain_text("notice:")
    expect(page.locator(".msg.app").last).to_contain_text("Restano chiuse:\n\t- via dei Colli;", timeout=15_000)


def test_the_chat_scrolls_to_the_newest_message_even_after_a_photo_loads(stack, page):
    n = next(_numbers)
    number = f"+39 347 571 {n:04d}"
    citizen = Phone(stack, REPORTS, number)
    open_phone(page, stack, REPORTS, number)
    expect(page.locator(".empty")).to_be_visible()
    citizen.text(f"Buca profonda in via delle Prove {n}")
    citizen.wait_inbox(1)
    for _ in range(3):
        citizen.send(type="image", image_base64=base64.b64encode(demo_photo()).decode(), mime_type="image/jpeg")
    citizen.text("Ed è anche pericolosa di sera")
    expect(page.locator(".msg.citizen img")).to_have_count(3, timeout=15_000)
    page.wait_for_function("[...document.querySelectorAll('.msg img')].every(img => img.complete)")
    wait_for(lambda: len(citizen.inbox()) >= 2, timeout=15)
    expect(page.locator(".msg.citizen").last).to_contain_text("Ed è anche pericolosa di sera")
    page.wait_for_timeout(1500)  # a poll or two after the last message and the photos
    assert at_the_bottom(page)
    expect(page.locator(".msg").last).to_be_in_viewport()
