"""Asking to join Vicinato on the portal in a real browser (issue 16), on a phone's width and with the keyboard: the
page says what the scheme is (observation only, 112), each missing field says what it needs, the ID photo is
attached, and the answer sends the person to WhatsApp, where the number gets the safety channel's message; the
police see nothing before the tap (tests/integration/test_vicinato_portal.py covers the tap). The demo comune
(local/seed.py: Vicinato with an ID photo required), citizen numbers +39 346 42x xxxx."""
from __future__ import annotations

import io
import re
import time
import uuid

import pytest
import requests
from PIL import Image
from playwright.sync_api import expect

from chalicelib.services import abuse
from chalicelib.services.vicinato import web_join
from tests.integration.conftest import Phone
from tests.waiting import wait_for

SAFETY = "100000000000003"  # the demo's safety channel (local/seed.py)


@pytest.fixture(autouse=True)
def own_allowance(monkeypatch):
    """A fresh per-client allowance: every test in the session asks from 127.0.0.1."""
    monkeypatch.setattr(web_join, "PER_CLIENT", abuse.Limit(f"test-vicinato-web-{uuid.uuid4().hex}", 30, 3600))


def test_a_resident_asks_to_join_with_the_keyboard_on_a_phone_and_is_sent_to_whatsapp(stack, page, tmp_path):
    number = f"+39 346 42{int(time.time()) % 10} {uuid.uuid4().int % 10000:04d}"
    phone = Phone(stack, SAFETY, number)
    photo = tmp_path / "documento.jpg"
    buffer = io.BytesIO()
    Image.new("RGB", (900, 600), "gray").save(buffer, "JPEG")
    photo.write_bytes(buffer.getvalue())

    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{stack.web_url}/portal/#/")
    page.get_by_role("navigation", name="Sezioni del portale").get_by_role("link", name="Controllo del Vicinato").click()
    expect(page.get_by_role("heading", name="Controllo del Vicinato")).to_be_visible()
    expect(page.get_by_text("solo osservazione")).to_be_visible()
    expect(page.get_by_role("main").get_by_text("emergenze chiama il 112")).to_be_visible()

    page.get_by_role("button", name="Chiedi di entrare").click()  # nothing filled: each field says what it needs
    expect(page.get_by_text("Scegli la tua zona.")).to_be_visible()
    expect(page.get_by_text("Allega una foto del tuo documento d'identità.")).to_be_visible()
    expect(page.get_by_label("La tua zona")).to_be_focused()

    page.keyboard.press("ArrowDown")  # the first zone, by keyboard
    page.keyboard.press("Tab")
    page.keyboard.type("Elena Marchi")
    page.keyboard.press("Tab")
    page.keyboard.type("Via Dante 12")
    page.keyboard.press("Tab")
    page.keyboard.type(number)
    page.get_by_label(re.compile("^Foto del documento")).set_input_files(str(photo))
    expect(page.get_by_text(re.compile("Foto scelta: documento.jpg"))).to_be_visible()
    consent = page.get_by_label(re.compile(r"^Ho letto l'informativa privacy \(versione [^)]+\) e chiedo di entrare"))
    consent.focus()
    page.keyboard.press("Space")
    expect(consent).to_be_checked()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.get_by_role("button", name="Chiedi di entrare").focus()
    page.keyboard.press("Enter")

    expect(page.get_by_role("heading", name="Quasi fatto")).to_be_visible()
    expect(page.get_by_role("status").first).to_contain_text("WhatsApp")
    wait_for(lambda: any(m["type"] == "template" for m in phone.inbox()), 15)  # the number is asked, nothing more
    police = stack.issuer.token("demo", ["police"])
    pending = requests.get(f"{stack.api_url}/api/v1/vicinato/requests", timeout=20,
                           headers={"Authorization": f"Bearer {police}"}).json()["items"]
    assert all(p["phone"] != phone.e164 for p in pending)  # not before the tap on WhatsApp
