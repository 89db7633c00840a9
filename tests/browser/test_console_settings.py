"""Impostazioni in the console (issue 15, item 3), in chromium against the demo comune: an administrator uploads a
GeoJSON file of a hamlet, draws another on the map, saves, and finds both in the broadcast composer; a file that is
not valid is refused in Italian with nothing changed; a channel's text is previewed as the phone shows it; the page
fits a 390 px phone. The demo comune's hamlets are put back as they were at the end."""
from __future__ import annotations

import json

import pytest
from playwright.sync_api import Page, expect

from local.seed import _square
from tests.browser.test_console import api, sign_in

UPLOADED = (43.7050, 10.9700)  # south-east of the demo comune's capoluogo


@pytest.fixture
def demo_hamlets(stack):
    """The demo comune's hamlets as they are, restored after the test."""
    before = api(stack, "GET", "/api/v1/settings").json()["sections"]["hamlets"]
    yield before
    current = api(stack, "GET", "/api/v1/settings").json()
    restored = api(stack, "PUT", "/api/v1/settings/hamlets", json={"version": current["version"], "value": before})
    assert restored.status_code == 200, restored.text


def open_hamlets(page: Page, stack) -> None:
    sign_in(page, stack, "admin")
    page.goto(f"{stack.web_url}/console/#/amministrazione/impostazioni/frazioni")
    expect(page.get_by_role("heading", name="Frazioni")).to_be_visible()


def test_an_uploaded_and_a_drawn_hamlet_reach_the_composer(stack, page, demo_hamlets, tmp_path):
    file = tmp_path / "frazioni.geojson"
    file.write_text(json.dumps({"type": "FeatureCollection", "features": [{
        "type": "Feature", "properties": {"name": "Campo Caricato"}, "geometry": _square(*UPLOADED, 0.006)}]}))
    open_hamlets(page, stack)
    page.get_by_label("Carica un file GeoJSON").set_input_files(str(file))
    expect(page.get_by_role("status").filter(has_text="Lette dal file 1 frazioni")).to_be_visible()
    expect(page.get_by_role("group", name="Campo Caricato")).to_be_visible()

    page.get_by_role("button", name="Disegna una nuova frazione").click()
    page.get_by_label("Nome della nuova frazione").fill("Poggio Disegnato")
    drawing_map = page.get_by_role("region", name="Mappa delle frazioni")
    box = drawing_map.bounding_box()
    for x, y in ((0.15, 0.15), (0.3, 0.15), (0.3, 0.3)):  # three corners, clicked on the map
        drawing_map.click(position={"x": box["width"] * x, "y": box["height"] * y})
    corners = page.get_by_label("Vertici (latitudine, longitudine: uno per riga)").input_value().splitlines()
    assert len(corners) == 3
    page.get_by_role("button", name="Aggiungi la frazione").click()
    expect(page.get_by_role("group", name="Poggio Disegnato")).to_be_visible()

    page.get_by_role("button", name="Salva le frazioni").click()
    expect(page.get_by_role("status").filter(has_text="Frazioni: impostazioni salvate")).to_be_visible()

    page.get_by_role("link", name="Avvisi").first.click()
    # The settings page leaves the screen when the composer comes: until then its buttons («Rimuovi Campo
    # Caricato») also match the hamlet's name, so look for the hamlets only in the composer, by their exact label.
    expect(page.get_by_role("heading", name="Avvisi ai cittadini")).to_be_visible()
    expect(page.get_by_label("Campo Caricato", exact=True)).to_be_visible()
    expect(page.get_by_label("Poggio Disegnato", exact=True)).to_be_visible()
    hamlets = api(stack, "GET", "/api/v1/tenant").json()["hamlets"]["features"]
    assert {"campo-caricato", "poggio-disegnato"} <= {h["id"] for h in hamlets}


def test_an_invalid_file_is_refused_in_italian_and_nothing_changes(stack, page, demo_hamlets, tmp_path):
    file = tmp_path / "sbagliato.geojson"
    file.write_text(json.dumps({"type": "Feature", "properties": {"name": "Aperta"}, "geometry": {
        "type": "Polygon", "coordinates": [_square(*UPLOADED)["coordinates"][0][:-1]]}}))
    open_hamlets(page, stack)
    page.get_by_label("Carica un file GeoJSON").set_input_files(str(file))
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("nessuna frazione è cambiata")
    expect(alert).to_contain_text("Elemento 1 «Aperta»: Un anello non è chiuso")
    expect(page.get_by_role("group", name="Aperta")).to_have_count(0)
    assert api(stack, "GET", "/api/v1/settings").json()["sections"]["hamlets"] == demo_hamlets


def test_a_refused_value_is_shown_by_its_field(stack, page):
    sign_in(page, stack, "admin")
    page.goto(f"{stack.web_url}/console/#/amministrazione/impostazioni/conservazione")
    field = page.get_by_label("Esiti degli invii")
    field.fill("0")
    page.get_by_role("group", name="Conservazione dei dati (giorni)").locator("..").get_by_role(
        "button", name="Salva").click()
    expect(field).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#retention-deliveries-error")).to_have_text("Il valore minimo è 1.")


def test_a_channel_text_is_previewed_as_the_phone_shows_it_and_fits_a_phone(stack, page):
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, stack, "admin")
    page.goto(f"{stack.web_url}/console/#/amministrazione/impostazioni/testi")
    page.get_by_label("Cerca un testo").fill("subscribe.welcome")
    page.get_by_role("button", name="Modifica").first.click()
    page.get_by_label("Testo del canale per subscribe.welcome").fill("Benvenuto negli avvisi del *{comune}*!")
    preview = page.locator(".wa").first
    expect(preview).to_have_text("Benvenuto negli avvisi del Comune di Esempio!")
    expect(preview.locator("strong")).to_have_text("Comune di Esempio")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.goto(f"{stack.web_url}/console/#/amministrazione/impostazioni/frazioni")
    expect(page.get_by_role("heading", name="Frazioni")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390


def test_quiet_hours_are_changed_and_saved(stack, page):
    path = "/api/v1/channels/100000000000001/settings"
    before = api(stack, "GET", path).json()
    try:
        sign_in(page, stack, "admin")
        page.goto(f"{stack.web_url}/console/#/amministrazione/impostazioni/orari")
        expect(page.get_by_label("Canale", exact=True)).to_have_value("100000000000001")
        page.get_by_label("Alle", exact=True).fill("07:30")
        page.get_by_role("button", name="Salva").click()
        expect(page.get_by_role("status").filter(has_text="Impostazioni del canale salvate")).to_be_visible()
        assert api(stack, "GET", path).json()["settings"]["quiet_hours"]["end"] == "07:30"
    finally:
        current = api(stack, "GET", path).json()
        restored = api(stack, "PUT", path, json={"version": current["version"], "settings": before["settings"]})
        assert restored.status_code == 200, restored.text


def test_an_outline_is_edited_corner_by_corner_from_the_keyboard(stack, page, demo_hamlets):
    open_hamlets(page, stack)
    page.get_by_role("button", name="Modifica il contorno di Sant'Andrea").click()
    corners = page.get_by_label("Vertici (latitudine, longitudine: uno per riga)")
    rows = corners.input_value().splitlines()
    assert len(rows) == 4  # the square's corners, the closing one left out
    rows[2] = "43.735000, 10.990000"  # one corner pulled out to the north-east
    corners.fill("\n".join(rows))
    page.get_by_role("button", name="Usa questo contorno").click()
    page.get_by_role("button", name="Salva le frazioni").click()
    expect(page.get_by_role("status").filter(has_text="Frazioni: impostazioni salvate")).to_be_visible()
    outline = next(h for h in api(stack, "GET", "/api/v1/tenant").json()["hamlets"]["features"]
                   if h["id"] == "santandrea")["geometry"]["coordinates"][0]
    assert [10.99, 43.735] in outline and outline[0] == outline[-1] and len(outline) == 5
