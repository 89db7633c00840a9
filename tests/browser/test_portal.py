"""The citizen portal in a real browser (Debian's chromium): filing a report that reaches the staff inbox, the
map without a tile server and without personal data, the status view from the WhatsApp receipt's link, the
subscription form, and keyboard and label basics.

With FILO_SCREENSHOTS=1 the tests also save the portal's main pages as docs/screenshots/portal-*.png.
"""
from __future__ import annotations

import base64
import io
import os
import re
import uuid
from pathlib import Path
from urllib.parse import quote, urlsplit

import pytest
import requests
from PIL import ExifTags, Image
from playwright.sync_api import expect

from chalicelib.services import abuse
from chalicelib.services.reports import web_form as report_form
from chalicelib.services.subscriptions import web_form as subscription_form
from tests.integration.conftest import BROADCAST, REPORTS, Phone
from tests.waiting import wait_for

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
# every control's accessible name, the way assistive technology computes it (the parts that matter here)
ACCESSIBLE_NAMES = """() => [...document.querySelectorAll('a[href], button, input, select, textarea, [tabindex="0"]')]
  .filter((el) => !el.closest('[aria-hidden="true"]') && el.type !== 'hidden')
  .map((el) => {
    const labelled = (el.getAttribute('aria-labelledby') || '').split(' ').map((id) => document.getElementById(id))
      .filter(Boolean).map((n) => n.textContent).join(' ');
    const labels = el.labels ? [...el.labels].map((l) => l.textContent).join(' ') : '';
    const text = ['A', 'BUTTON'].includes(el.tagName) ? el.textContent : '';
    const name = (el.getAttribute('aria-label') || labelled || labels || text || el.getAttribute('title') || '').trim();
    return {tag: el.tagName, id: el.id, cls: String(el.className), name};
  })"""


@pytest.fixture(autouse=True)
def own_allowances(monkeypatch):
    """Fresh per-client allowances: every test in the session comes from 127.0.0.1."""
    monkeypatch.setattr(report_form, "PER_CLIENT", abuse.Limit(f"test-portal-{uuid.uuid4().hex}", 20, 3600))
    monkeypatch.setattr(subscription_form, "PER_CLIENT", abuse.Limit(f"test-portal-sub-{uuid.uuid4().hex}", 20, 3600))


def shot(page, name: str) -> None:
    if os.environ.get("FILO_SCREENSHOTS"):
        page.wait_for_timeout(600)  # the map's pan and zoom animations end (a picture only: nothing is asserted)
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"portal-{name}.png"), full_page=True)


def photo_with_gps(colour: str = "orange") -> bytes:
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "Telefono"
    exif[ExifTags.IFD.GPSInfo] = {ExifTags.GPS.GPSLatitudeRef: "N", ExifTags.GPS.GPSLatitude: (43.0, 44.0, 34.8)}
    out = io.BytesIO()
    Image.new("RGB", (320, 240), colour).save(out, "JPEG", exif=exif)
    return out.getvalue()


def staff(stack, method: str, path: str, **kwargs) -> requests.Response:
    token = stack.issuer.token("demo", ["admin"])
    return requests.request(method, f"{stack.api_url}{path}", headers={"Authorization": f"Bearer {token}"},
                            timeout=20, **kwargs)


def in_inbox(stack, number: str) -> dict:
    """The report with this number in the staff inbox (GET /api/v1/reports), once it is there."""
    def find():
        items = staff(stack, "GET", "/api/v1/reports", params={"limit": 50}).json()["items"]
        return next((r for r in items if r["number"] == number), None)
    return wait_for(find, 10)


def file_by_api(stack, description: str, latitude: float, longitude: float, photo: bytes | None = None) -> dict:
    body = {"category": "verde", "description": description, "position": {"latitude": latitude, "longitude": longitude}}
    if photo:
        body["photos"] = [{"data": base64.b64encode(photo).decode()}]
    answer = requests.post(f"{stack.api_url}/public/v1/demo/reports", json=body, timeout=20)
    assert answer.status_code == 201, answer.text
    return answer.json()


def test_a_report_filed_with_a_pin_and_a_photo_reaches_the_staff_inbox(stack, page):
    page.goto(f"{stack.web_url}/portal/#/segnala")
    expect(page.get_by_role("heading", name="Fai una segnalazione")).to_be_visible()
    page.get_by_label("Categoria (obbligatoria)").select_option("illuminazione")
    page.get_by_label("Descrizione (obbligatoria)").fill("Lampione spento all'incrocio, buio pesto")
    label = page.locator(".form-map .hamlet-label", has_text="Pieve a Ripoli")
    box = label.bounding_box()  # the label sits at the hamlet's centre; labels let clicks through to the map
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] + 4)
    expect(page.locator(".form-map .pin")).to_have_count(1)
    expect(page.get_by_label("Coordinate (latitudine, longitudine)")).to_have_value(re.compile(r"^43\.7\d+, 10\.9\d+$"))
    page.get_by_label(re.compile("^Foto")).set_input_files(
        {"name": "lampione.jpg", "mimeType": "image/jpeg", "buffer": photo_with_gps()})
    expect(page.get_by_role("list", name="Foto scelte").get_by_role("listitem")).to_have_count(1)
    shot(page, "report-form")
    page.get_by_role("button", name="Invia la segnalazione").click()

    number = page.get_by_test_id("report-number")
    expect(number).to_have_text(re.compile(r"^\d{4}/\d+$"))
    expect(page.get_by_role("status")).to_contain_text("è stata registrata")
    shot(page, "report-sent")
    report = in_inbox(stack, number.inner_text())
    assert (report["hamlet"], report["category"], report["source"], report["photos"]) == (
        "pieve", "illuminazione", "web", 1)

    page.get_by_role("link", name=re.compile("Segui lo stato")).click()
    expect(page.get_by_role("heading", name=f"Segnalazione n. {report['number']}")).to_be_visible()
    expect(page.get_by_test_id("status")).to_have_text("ricevuta")
    expect(page.get_by_role("img", name=re.compile("Foto"))).to_have_count(0)  # not published by staff
    expect(page.locator(".map.small path.report-marker")).to_have_count(1)
    shot(page, "status")


def test_the_map_without_tiles_shows_outlines_markers_published_photos_and_nothing_personal(stack, page):
    assert not stack.web_config()["tiles_url"]  # no tile server: the map draws from data alone
    shown = file_by_api(stack, "Ramo caduto sul vialetto", 43.7195, 10.9705, photo_with_gps("green"))
    hidden = file_by_api(stack, "Siepe alta sul marciapiede", 43.6955, 10.9465, photo_with_gps("blue"))
    desk = staff(stack, "POST", "/api/v1/reports", json={
        "source": "phone", "text": "Erba alta, chiamare Giuseppe Verdi 333 9876543", "category": "verde",
        "position": {"latitude": 43.7200, "longitude": 10.9450},
        "contact": {"name": "Giuseppe Verdi", "phone": "+39 333 987 6543"}})
    assert desk.status_code == 201, desk.text
    report = in_inbox(stack, shown["number"])
    photo_id = staff(stack, "GET", f"/api/v1/reports/{report['id']}").json()["photos"][0]["id"]
    assert staff(stack, "POST", f"/api/v1/reports/{report['id']}/photos/{photo_id}/publish",
                 json={"published": True}).status_code == 200

    hosts = set()
    page.on("request", lambda request: hosts.add(urlsplit(request.url).hostname))
    page.goto(f"{stack.web_url}/portal/")
    listing = page.get_by_role("list").filter(has=page.get_by_text(f"n. {shown['number']}"))
    expect(listing).to_be_visible()
    expect(page.locator(".big .hamlet-label")).to_have_count(4)
    expect(page.locator(".big path.leaflet-interactive")).not_to_have_count(0)
    assert page.locator(".big path.report-marker").count() >= 3
    assert page.locator(".leaflet-tile").count() == 0

    page.get_by_role("button", name=f"Mostra sulla mappa la segnalazione n. {shown['number']}").click()
    photo = page.locator(".leaflet-popup", has_text=f"n. {shown['number']} ").locator("img")
    expect(photo).to_have_attribute("alt", f"Foto della segnalazione n. {shown['number']}")
    expect(photo).to_have_js_property("complete", True)
    assert photo.evaluate("img => img.naturalWidth") == 320 and "/public." in photo.get_attribute("src")
    shot(page, "map")
    page.get_by_role("button", name=f"Mostra sulla mappa la segnalazione n. {hidden['number']}").click()
    popup = page.locator(".leaflet-popup", has_text=f"n. {hidden['number']} ")
    expect(popup).to_be_visible()
    expect(popup.locator("img")).to_have_count(0)

    text = page.content()
    for personal in ("Giuseppe", "Verdi", "9876543", "Ramo caduto", "original."):
        assert personal not in text
    assert hosts <= {"127.0.0.1"}, hosts  # nothing from a CDN or a tile server


def test_an_unreachable_tile_server_leaves_outlines_and_markers(stack, page, monkeypatch):
    monkeypatch.setenv("FILO_TILES_URL", "http://127.0.0.1:9/{z}/{x}/{y}.png")  # nothing listens on port 9
    file_by_api(stack, "Albero inclinato", 43.7435, 10.9465)
    page.goto(f"{stack.web_url}/portal/")
    expect(page.locator(".big .hamlet-label")).to_have_count(4)
    expect(page.locator(".big path.report-marker")).not_to_have_count(0)
    assert page.locator(".leaflet-tile").count() > 0  # tiles were asked for, and failed
    closer = page.get_by_role("button", name=re.compile("Mostra sulla mappa")).first
    closer.click()
    expect(page.locator(".leaflet-popup-close-button")).to_have_attribute("aria-label", "Chiudi")


def test_the_whatsapp_receipt_link_opens_the_status_view(stack, page, browser):
    citizen = Phone(stack, REPORTS, f"+39 347 777 {uuid.uuid4().int % 10_000:04d}")
    citizen.text("Cassonetto rovesciato in piazza, rifiuti ovunque")
    receipt = wait_for(lambda: next((m["text"] for m in citizen.inbox() if "/s/" in (m.get("text") or "")), None), 15)
    link = re.search(r"(http\S+/s/\S+)", receipt).group(1)
    number = re.search(r"n\. (\d{4}/\d+)", receipt).group(1)

    page.goto(link)  # the status page forwards browsers with JavaScript to the portal's view
    expect(page).to_have_url(re.compile(r"/portal/#/r/"))
    expect(page.get_by_role("heading", name=f"Segnalazione n. {number}")).to_be_visible()
    expect(page.get_by_test_id("status")).to_have_text("ricevuta")
    expect(page.get_by_role("listitem").filter(has_text="ricevuta")).to_have_count(1)

    plain = browser.new_context(java_script_enabled=False, locale="it-IT")
    try:
        no_script = plain.new_page()
        no_script.goto(link)
        expect(no_script.get_by_role("heading", name=f"Segnalazione n. {number}")).to_be_visible()
        expect(no_script.get_by_role("link", name="Apri la segnalazione nel portale del comune")).to_be_visible()
    finally:
        plain.close()


def test_the_subscription_form_sends_the_whatsapp_confirmation(stack, page):
    citizen = Phone(stack, BROADCAST, f"+39 347 888 {uuid.uuid4().int % 10_000:04d}")
    page.goto(f"{stack.web_url}/portal/#/iscriviti")
    expect(page.get_by_role("heading", name="Avvisi del comune su WhatsApp")).to_be_visible()
    page.get_by_label("Numero di cellulare (WhatsApp)").fill(citizen.number)
    page.get_by_label("Pieve a Ripoli").check()
    page.get_by_label("Allerte e protezione civile").check()
    shot(page, "subscribe")
    page.get_by_role("button", name="Iscriviti").click()
    expect(page.get_by_role("alert")).to_contain_text("accettare l'informativa")  # consent is not optional
    page.get_by_label(re.compile("^Ho letto l'informativa privacy")).check()
    page.get_by_role("button", name="Iscriviti").click()
    expect(page.get_by_role("status")).to_contain_text("Ti abbiamo scritto su WhatsApp")
    [template] = citizen.wait_inbox(1, timeout=15)
    assert template["type"] == "template" and template["body"]["template"]["name"] == "conferma_iscrizione"
    record = staff(stack, "GET", f"/api/v1/subscribers/{quote(citizen.e164)}", params={"channel": BROADCAST}).json()
    assert (record["status"], record["hamlets"], record["topics"]) == ("pending", ["pieve"], ["allerte"])


def test_following_a_report_on_whatsapp_asks_the_number_to_confirm_first(stack, page):
    citizen = Phone(stack, REPORTS, f"+39 347 889 {uuid.uuid4().int % 10_000:04d}")
    page.goto(f"{stack.web_url}/portal/#/segnala")
    page.get_by_label("Categoria (obbligatoria)").select_option("rifiuti")
    page.get_by_label("Descrizione (obbligatoria)").fill("Sacchi abbandonati dietro la chiesa")
    page.get_by_label("Frazione").select_option("santandrea")
    page.get_by_label("Voglio ricevere su WhatsApp gli aggiornamenti di questa segnalazione").check()
    expect(page.locator("#follow-hint")).to_contain_text("per confermare che il numero è tuo")
    page.get_by_label("Numero di cellulare").fill(citizen.number)
    page.get_by_role("button", name="Invia la segnalazione").click()
    expect(page.get_by_role("status")).to_contain_text("tocca il pulsante del messaggio per confermare")
    number = page.get_by_test_id("report-number").inner_text()
    [template] = citizen.wait_inbox(1, timeout=15)
    assert template["body"]["template"]["name"] == "conferma_aggiornamenti" and number in str(template["body"])
    report = staff(stack, "GET", f"/api/v1/reports/{in_inbox(stack, number)['id']}").json()
    assert report["reporter"] is None and report["contact"] == {"phone": citizen.e164}  # not yet a follower


def tab_to(page, selector: str, limit: int = 60) -> None:
    """Press Tab until the element matching selector has the focus (the keyboard alone reaches it)."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("(s) => document.activeElement && document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"{selector} is not reachable with Tab")


def test_every_control_has_a_name_and_the_form_works_by_keyboard(stack, page):
    for route in ("", "#/segnala", "#/iscriviti"):
        page.goto(f"{stack.web_url}/portal/{route}")
        expect(page.locator("main h1")).to_be_visible()
        assert page.locator("html").get_attribute("lang") == "it"
        for landmark in ("banner", "navigation", "main"):
            expect(page.get_by_role(landmark)).to_have_count(1)
        unnamed = [c for c in page.evaluate(ACCESSIBLE_NAMES) if not c["name"]]
        assert unnamed == [], f"{route or 'map'}: controls without an accessible name: {unnamed}"

    page.goto(f"{stack.web_url}/portal/#/segnala")
    expect(page.locator("main h1")).to_be_visible()
    tab_to(page, "#category")
    assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") != "none"  # focus is visible
    page.keyboard.type("Segnaletica")
    tab_to(page, "#description")
    page.keyboard.type("Cartello di stop piegato dal vento")
    tab_to(page, "#hamlet")  # the pin's accessible alternative: the hamlet (or typed coordinates)
    page.keyboard.type("Capoluogo")
    tab_to(page, "button[type=submit]")
    page.keyboard.press("Enter")
    number = page.get_by_test_id("report-number")
    expect(number).to_have_text(re.compile(r"^\d{4}/\d+$"))
    report = in_inbox(stack, number.inner_text())
    assert (report["category"], report["hamlet"], report["location"]) == ("segnaletica", "capoluogo", None)
