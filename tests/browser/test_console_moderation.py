"""Issue 14, items 7 and 8 in a real browser: the desk form ("Nuova segnalazione"), a correction, approving a public
text (then the portal shows it, never the citizen's words) and drawing a box on a photo before publishing it."""
from __future__ import annotations

import base64
import io
import itertools
import re
import time

import requests
from PIL import Image
from playwright.sync_api import Page, expect

from tests.browser.test_console import api, sign_in

_numbers = itertools.count(int(time.time()) % 5000)


def picture(fmt: str = "PNG") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (400, 300), (255, 255, 255)).save(out, format=fmt)
    return out.getvalue()


def open_detail(page: Page, stack, report_id: str) -> None:
    page.goto(f"{stack.web_url}/console/#/segnalazioni/{report_id}")
    expect(page.get_by_role("heading", name="Azioni")).to_be_visible()


def test_the_desk_enters_a_phone_report_with_a_pin_a_photo_and_the_citizens_contact(stack, page: Page):
    n = next(_numbers)
    sign_in(page, stack, "technical")
    page.get_by_role("link", name="Nuova segnalazione").click()
    expect(page.get_by_role("heading", name="Nuova segnalazione")).to_be_visible()
    page.get_by_label("Arrivata da").select_option(label="Telefono")
    page.get_by_label("Categoria").select_option(label="Illuminazione pubblica")
    page.get_by_label("Testo (parole del cittadino)").fill(f"Lampione spento davanti al civico {n}")
    page.get_by_label("Frazione").select_option(label="Pieve a Ripoli")
    page.get_by_label("Indirizzo").fill("Via della Pieve")
    page.get_by_role("region", name="Mappa: clicca il punto della segnalazione").click()
    # the click put the pin: its coordinates fill the field
    expect(page.get_by_label("Posizione (facoltativa)")).to_have_value(re.compile(r"^\d+\.\d+, \d+\.\d+$"))
    # typed: the keyboard's way; far from where other tests' citizens stand (a report within 50 m would be theirs)
    page.get_by_label("Posizione (facoltativa)").fill("43.75, 10.953")
    page.get_by_label("Posizione (facoltativa)").press("Enter")
    page.get_by_label("Foto (fino a 3)").set_input_files({"name": "lampione.png", "mimeType": "image/png",
                                                           "buffer": picture()})
    expect(page.get_by_role("button", name="Togli la foto 1")).to_be_visible()
    page.get_by_label("Nome").fill("Anna Bianchi")
    page.get_by_label("Telefono").fill("+39 347 600 1234")
    page.get_by_role("button", name="Registra la segnalazione").click()

    expect(page.get_by_role("heading", name="Segnalazione 20")).to_be_visible()
    expect(page.get_by_text(f"Lampione spento davanti al civico {n}")).to_be_visible()
    expect(page.get_by_text("Anna Bianchi · +393476001234")).to_be_visible()
    expect(page.get_by_role("img", name="Foto 1 della segnalazione")).to_be_visible()
    report = next(r for r in api(stack, "GET", "/api/v1/reports?q=" + str(n), role="technical").json()["items"]
                  if f"civico {n}" in r["text"])
    assert (report["source"], report["category"], report["hamlet"], report["photos"]) == (
        "phone", "illuminazione", "pieve", 1)
    assert report["location"]["latitude"] == 43.75 and report["location"]["longitude"] == 10.953


def test_staff_correct_a_category_and_the_timeline_says_so(stack, page: Page):
    report = api(stack, "POST", "/api/v1/reports", role="technical", json={
        "source": "desk", "text": f"Lampione spento {next(_numbers)}", "category": "strade", "hamlet": "pieve"}).json()
    sign_in(page, stack, "technical")
    open_detail(page, stack, report["id"])
    form = page.get_by_role("form", name="Correzioni")
    form.get_by_label("Categoria").select_option(label="Illuminazione pubblica")
    form.get_by_role("button", name="Salva le correzioni").click()
    expect(page.get_by_role("status")).to_contain_text("Correzione salvata")
    expect(page.locator(".timeline")).to_contain_text("Categoria: Strade e marciapiedi → Illuminazione pubblica")

    # the pin moved by typing its coordinates: the hamlet follows it, and the form shows it as it is now
    form.get_by_label("Posizione (la frazione segue il segnaposto, se non la scegli tu)").fill("43.717, 10.944")
    form.get_by_label("Posizione (la frazione segue il segnaposto, se non la scegli tu)").press("Enter")
    form.get_by_role("button", name="Salva le correzioni").click()
    expect(page.locator(".timeline")).to_contain_text("Frazione: Pieve a Ripoli → Capoluogo")
    expect(form.get_by_label("Frazione", exact=True)).to_have_value("capoluogo")
    form.get_by_label("Indirizzo").fill("Via del Municipio")
    form.get_by_role("button", name="Salva le correzioni").click()
    expect(page.locator(".timeline")).to_contain_text("Indirizzo: — → Via del Municipio")
    shown = api(stack, "GET", f"/api/v1/reports/{report['id']}", role="technical").json()
    assert (shown["category"], shown["hamlet"], shown["address"]) == ("illuminazione", "capoluogo", "Via del Municipio")
    assert (shown["location"]["latitude"], shown["location"]["longitude"]) == (43.717, 10.944)


def test_an_approved_public_text_is_what_the_portal_shows(stack, page: Page):
    n = next(_numbers)
    words = f"Buca davanti a casa di Mario Rossi {n}, chiamatemi al 347 555 0199"
    report = api(stack, "POST", "/api/v1/reports", role="technical", json={
        "source": "phone", "text": words, "category": "strade", "hamlet": "pieve",
        "position": {"latitude": 43.736, "longitude": 10.94}}).json()
    title = f"Buca in carreggiata {n}"
    sign_in(page, stack, "technical")
    open_detail(page, stack, report["id"])
    expect(page.get_by_test_id("public-state")).to_contain_text("solo categoria e frazione")
    expect(page.get_by_label("Titolo pubblico")).to_have_value("Strade e marciapiedi")
    page.get_by_label("Titolo pubblico").fill(title)
    page.get_by_label("Descrizione pubblica").fill("Buca profonda sulla carreggiata: transennata, lavori in programma.")
    page.get_by_role("button", name="Approva").click()
    expect(page.get_by_role("status")).to_contain_text("Testo pubblico approvato")
    expect(page.get_by_test_id("public-state")).to_contain_text("testo approvato")

    page.goto(f"{stack.web_url}/portal/")
    expect(page.get_by_text(title)).to_be_visible()
    expect(page.locator("body")).not_to_contain_text("Mario Rossi")
    expect(page.locator("body")).not_to_contain_text("347 555 0199")


def test_staff_draw_a_box_over_a_photo_and_publish_the_covered_copy(stack, page: Page):
    report = api(stack, "POST", "/api/v1/reports", role="technical", json={
        "source": "email", "text": f"Auto abbandonata con la targa leggibile {next(_numbers)}", "category": "strade",
        "hamlet": "pieve", "photos": [{"data": base64.b64encode(picture("JPEG")).decode()}]}).json()
    sign_in(page, stack, "technical")
    open_detail(page, stack, report["id"])
    page.get_by_text("Oscura volti e targhe (foto 1)").click()
    area = page.get_by_test_id("redact-area-1")
    expect(area.locator("img")).to_be_visible()
    page.wait_for_function("() => document.querySelector('.redact-area img').naturalWidth > 0")
    area.scroll_into_view_if_needed()
    box = area.bounding_box()  # where it is in the window, for the mouse
    page.mouse.move(box["x"] + box["width"] * 0.25, box["y"] + box["height"] * 0.25)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.5, steps=5)
    page.mouse.up()
    expect(page.get_by_role("button", name="Togli il riquadro 1 dalla foto 1")).to_be_visible()
    page.get_by_role("button", name="Salva i riquadri della foto 1").click()
    expect(page.get_by_role("status")).to_contain_text("Riquadri salvati: 1")
    page.get_by_role("button", name="Pubblica sul portale la foto 1").click()
    expect(page.get_by_text("Pubblicata sul portale", exact=True)).to_be_visible()

    listed = requests.get(f"{stack.api_url}/public/v1/demo/reports", timeout=30).json()["items"]
    [photo] = next(r for r in listed if r["id"] == report["id"])["photos"]
    assert "/redacted." in photo["url"]
    shown = Image.open(io.BytesIO(requests.get(photo["url"], timeout=10).content)).convert("RGB")
    assert max(shown.getpixel((150, 110))) < 30  # inside the box drawn from 25% to 50% of the picture
    assert min(shown.getpixel((350, 250))) > 225  # outside it, as it was


def test_the_desk_form_and_the_moderation_panels_fit_a_phone(stack, page: Page):
    report = api(stack, "POST", "/api/v1/reports", role="technical", json={
        "source": "desk", "text": f"Panchina rotta {next(_numbers)}", "hamlet": "pieve",
        "photos": [{"data": base64.b64encode(picture()).decode()}]}).json()
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, stack, "technical")
    page.goto(f"{stack.web_url}/console/#/segnalazioni/nuova")
    expect(page.get_by_label("Testo (parole del cittadino)")).to_be_visible()
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
    open_detail(page, stack, report["id"])
    expect(page.get_by_label("Titolo pubblico")).to_be_visible()
    page.get_by_text("Oscura volti e targhe (foto 1)").click()
    expect(page.get_by_role("form", name="Correzioni")).to_be_visible()
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
