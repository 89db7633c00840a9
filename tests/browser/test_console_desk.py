"""The console's report desk in a real browser (issue 13, section 5): who sent a tip, the steps a tip offers, each
step's own default for telling the citizen, and refusals worded in Italian."""
from __future__ import annotations

import itertools
import re
import time

from playwright.sync_api import Page, expect

from tests.browser.test_console import api, daytime, sign_in  # noqa: F401 - daytime is a fixture used by name
from tests.integration.conftest import BROADCAST, REPORTS, SAFETY, Phone
from tests.waiting import wait_for

_numbers = itertools.count(int(time.time()) % 5000)
ENGLISH = re.compile(r"\b(the|needs|must|unknown|cannot|not found|invalid|of this comune|team|body)\b", re.IGNORECASE)


def open_report(page: Page, number: str) -> None:
    page.get_by_label("Stato").select_option(label="Tutte")
    page.get_by_role("link", name=number, exact=True).click()


def test_police_see_the_registered_resident_and_only_the_steps_a_tip_can_take(stack, page):
    n = next(_numbers)
    number = f"+39 347 540 {n:04d}"
    registered = api(stack, "POST", "/api/v1/subscribers", role="police", json={
        "channel": SAFETY, "phone": number, "name": "Giuseppe Verdi", "address": "Via Roma 10", "hamlet": "pieve"})
    assert registered.status_code in (200, 201), registered.text
    resident = Phone(stack, SAFETY, number)
    resident.send(type="text", text=f"Motorino senza targa che sfreccia davanti alla scuola ({n})",
                  profile_name="Cittadino")
    tip = wait_for(lambda: next((t for t in api(stack, "GET", "/api/v1/reports?kind=safety", role="police")
                                 .json()["items"] if f"({n})" in t["text"]), None), timeout=15)

    sign_in(page, stack, "police")
    open_report(page, tip["number"])
    expect(page.get_by_role("heading", name=f"Segnalazione sicurezza {tip['number']}")).to_be_visible()
    who = page.get_by_test_id("resident")
    expect(who).to_contain_text("Giuseppe Verdi")
    expect(who).to_contain_text("Via Roma 10")
    expect(who).to_contain_text("Pieve a Ripoli")
    expect(who).to_contain_text("+39347540" + f"{n:04d}")
    expect(page.locator("dl.facts").first).to_contain_text("Nome del profilo WhatsApp")

    steps = page.get_by_role("group", name="Prossimo passaggio").get_by_role("button")
    expect(steps).to_have_text(["Prendi in carico", "Archivia"])
    expect(page.get_by_test_id("steps-notify")).to_have_text(
        "Tutti i passaggi sono interni: il cittadino non riceve nulla, salvo tua scelta.")
    expect(page.get_by_role("button", name="Assegna alla squadra")).to_have_count(0)
    expect(page.get_by_role("button", name="Inoltra all'ente")).to_have_count(0)
    page.get_by_role("button", name="Prendi in carico").click()
    expect(page.get_by_label("Avvisa il cittadino su WhatsApp")).not_to_be_checked()
    page.get_by_role("button", name="Conferma").click()
    expect(page.get_by_test_id("report-status")).to_have_text("Presa in carico")
    expect(steps).to_have_text(["Avvia l'intervento", "Chiudi la segnalazione", "Archivia"])
    expect(who).to_contain_text("Giuseppe Verdi")  # still there after the step's answer


def test_each_step_shows_and_presets_its_own_default_for_telling_the_citizen(stack, page):
    n = next(_numbers)
    citizen = Phone(stack, REPORTS, f"+39 347 550 {n:04d}")
    citizen.text(f"Tombino rumoroso in via Default {n}")
    citizen.wait_inbox(1)
    report = wait_for(lambda: next(iter(api(stack, "GET", f"/api/v1/reports?q=default%20{n}", role="technical")
                                        .json()["items"]), None), timeout=15)
    heard = len(citizen.inbox())

    sign_in(page, stack, "technical")
    open_report(page, report["number"])
    expect(page.get_by_test_id("steps-notify")).to_have_text(  # visible before any step is chosen
        "Avvisano il cittadino, salvo tua scelta: Inoltra all'ente, Respingi. Gli altri passaggi sono interni.")
    notice = page.get_by_label("Avvisa il cittadino su WhatsApp")
    default = page.get_by_test_id("step-default")
    page.get_by_role("button", name="Prendi in carico").click()
    expect(default).to_contain_text("passaggio interno")
    expect(notice).not_to_be_checked()
    page.get_by_label("Nota per il cambio di stato").fill("Sopralluogo domani con Mario")
    page.get_by_role("button", name="Conferma").click()
    expect(page.get_by_test_id("report-status")).to_have_text("Presa in carico")
    expect(page.locator("ol.timeline li").last).to_contain_text("interna")

    page.get_by_role("button", name="Avvia i lavori").click()
    expect(default).to_contain_text("avvisa il cittadino")
    expect(notice).to_be_checked()
    notice.uncheck()
    page.get_by_role("button", name="Segna come risolta").click()  # another step: its own default, not the last set
    expect(notice).to_be_checked()
    page.get_by_role("button", name="Conferma").click()
    expect(page.get_by_test_id("report-status")).to_have_text("Risolta")
    texts = [m["text"] for m in citizen.wait_inbox(heard + 1)[heard:]]
    assert any("risolta" in t for t in texts) and not any("Mario" in t for t in citizen.settle())


def test_refusals_reach_staff_in_italian(stack, page):
    n = next(_numbers)
    report = api(stack, "POST", "/api/v1/reports", role="technical", json={
        "source": "email", "text": f"Segnalazione generica numero {n}"}).json()  # no category: no team to fall back on
    sign_in(page, stack, "technical")
    open_report(page, report["number"])
    page.get_by_role("button", name="Assegna alla squadra").click()
    page.get_by_role("button", name="Conferma").click()
    alert = page.get_by_role("alert")
    expect(alert).to_have_text("Scegli una squadra: la categoria di questa segnalazione non ne indica una.")

    page.get_by_label("Numero della segnalazione originale").fill("2026/9999999")
    page.get_by_role("button", name="Unisci come duplicato").click()
    expect(alert).to_have_text("Non trovato (o non visibile con il tuo ruolo).")
    page.get_by_label("Numero della segnalazione originale").fill(report["number"])
    page.get_by_role("button", name="Unisci come duplicato").click()
    expect(alert).to_have_text("Si può unire solo a un'altra segnalazione dello stesso tipo: controlla il numero.")
    assert not ENGLISH.search(alert.inner_text())


def test_the_composer_confirms_the_audience_offers_an_image_and_shows_when_a_scheduled_one_goes(stack, browser, page, daytime):  # noqa: F811
    from datetime import datetime, timedelta
    from zoneinfo import ZoneInfo

    n = next(_numbers)
    numbers = [f"+39 347 560 {n % 1000:03d}{i}" for i in range(2)]
    csv = "phone,hamlets,topics\n" + "".join(f"{p},pontenuovo,\n" for p in numbers)
    api(stack, "POST", f"/api/v1/subscribers/import?channel={BROADCAST}", data=csv.encode(),
        headers={"Content-Type": "text/csv"})
    Phone(stack, BROADCAST, numbers[0]).text("Grazie")  # inside the 24-hour window: free text with the image
    Phone(stack, BROADCAST, numbers[0]).wait_inbox(1)  # the other one gets the notice template with it
    expected = api(stack, "POST", "/api/v1/broadcast-preview", role="communications", json={
        "channel": BROADCAST, "text": "x", "audience": {"hamlets": ["pontenuovo"], "topics": []}}).json()["audience"]
    before = len(api(stack, "GET", "/api/v1/broadcasts?limit=100", role="communications").json()["items"])
    text = f"Mercato straordinario a Ponte Nuovo ({n})"
    image = "https://www.comune.example.it/avvisi/mercato.jpg"

    sign_in(page, stack, "communications")
    page.get_by_role("link", name="Avvisi").click()
    page.get_by_label("Testo del messaggio").fill(text)
    page.get_by_label("Immagine (facoltativa): indirizzo web").fill(image)
    expect(page.locator("#b-text-count")).to_contain_text("1024 caratteri (didascalia dell'immagine)")
    page.get_by_label("Ponte Nuovo").check()
    page.get_by_role("button", name="Invia ora").click()
    confirm = page.get_by_role("alertdialog", name="Confermi l'invio?")
    expect(confirm).to_contain_text(f"L'avviso con immagine andrà a {expected} iscritti: frazioni Ponte Nuovo")
    assert len(api(stack, "GET", "/api/v1/broadcasts?limit=100", role="communications").json()["items"]) == before
    page.get_by_role("button", name="Torna a modificare").click()
    expect(confirm).to_have_count(0)
    page.get_by_role("button", name="Invia ora").click()
    page.get_by_role("button", name="Conferma e invia").click()
    expect(page.get_by_role("progressbar")).to_have_attribute("aria-valuenow", "100", timeout=30_000)
    inside, outside = (Phone(stack, BROADCAST, number) for number in numbers)

    def received(phone: Phone, kind: str) -> dict | None:
        return next((m for m in phone.inbox() if m["type"] == kind), None)
    assert wait_for(lambda: received(inside, "image"), timeout=15)["body"]["image"] == {"link": image, "caption": text}
    # outside the window: the notice template (no image: WhatsApp's notice has none), whose tap brings the image
    notice = wait_for(lambda: received(outside, "template"), timeout=15)
    assert all(c["type"] != "header" for c in notice["body"]["template"]["components"])
    (button,) = notice["options"]
    outside.send(type="quick_reply", id=button["id"], title=button["title"], context=notice["id"])
    assert wait_for(lambda: received(outside, "image"), timeout=15)["body"]["image"] == {"link": image, "caption": text}

    tomorrow = (datetime.now(ZoneInfo("Europe/Rome")) + timedelta(days=1)).replace(hour=10, minute=30)
    page.context.close()
    page = browser.new_context(locale="it-IT", timezone_id="Europe/Rome").new_page()  # staff type the comune's time
    sign_in(page, stack, "communications")
    page.get_by_role("link", name="Avvisi").click()
    page.get_by_label("Testo del messaggio").fill(f"Domani consiglio comunale ({n})")
    page.get_by_label("Programma").check()
    page.get_by_label("Data e ora di invio").fill(tomorrow.strftime("%Y-%m-%dT%H:%M"))
    page.get_by_role("button", name="Programma l'invio").click()
    expect(page.get_by_role("alertdialog")).to_contain_text(f"Partenza: {tomorrow:%d/%m/%y}, 10:30")
    page.get_by_role("button", name="Conferma e programma").click()
    expect(page.get_by_test_id("broadcast-status")).to_have_text("Programmato")
    row = page.get_by_role("row").filter(has_text=f"Domani consiglio comunale ({n})")
    expect(row).to_contain_text(f"Partirà {tomorrow:%d/%m/%y}, 10:30")
    expect(row).not_to_contain_text("0 / 0")
    page.context.close()


def test_a_citizens_voice_note_and_pdf_sent_from_the_phone_page_play_and_download_in_the_console(stack, browser, page,
                                                                                                tmp_path):
    from local.sandbox.inbound import voice_note
    from tests.unit.test_attachments import PDF

    n = next(_numbers)
    number = f"+39 347 570 {n:04d}"
    phone = browser.new_context(locale="it-IT").new_page()
    try:
        phone.goto(f"{stack.sandbox_url}/")
        phone.get_by_label("Canale del Comune").select_option(REPORTS)
        phone.get_by_label("Numero del cittadino (o user id)").fill(number)
        phone.get_by_label("Numero del cittadino (o user id)").press("Enter")
        phone.get_by_role("textbox", name="Messaggio").fill(f"Perdita d'acqua in via dei File {n}")
        phone.get_by_role("button", name="Invia", exact=True).click()
        chat = phone.get_by_role("region", name="Conversazione")
        expect(chat).to_contain_text("Abbiamo registrato la tua segnalazione", timeout=15_000)
        (tmp_path / "vocale.ogg").write_bytes(voice_note())
        (tmp_path / "foto-perdita.pdf").write_bytes(PDF)
        attach = phone.locator("#attachment")  # the paperclip's file input, as a phone's attachment menu
        attach.set_input_files(tmp_path / "vocale.ogg")
        expect(chat).to_contain_text("Messaggio vocale aggiunto", timeout=15_000)
        expect(phone.get_by_label("Messaggio vocale inviato")).to_be_visible()
        attach.set_input_files(tmp_path / "foto-perdita.pdf")
        expect(chat).to_contain_text("Documento aggiunto", timeout=15_000)
        expect(chat).to_contain_text("foto-perdita.pdf")
    finally:
        phone.context.close()

    report = wait_for(lambda: next(iter(api(stack, "GET", f"/api/v1/reports?q=file%20{n}", role="technical")
                                        .json()["items"]), None), timeout=15)
    sign_in(page, stack, "technical")
    open_report(page, report["number"])
    files = page.get_by_role("region", name="Messaggi vocali, video e documenti")
    audio = files.get_by_label(f"Messaggio vocale 1 della segnalazione {report['number']}")
    expect(audio).to_be_visible()
    assert page.request.get(audio.get_attribute("src")).body() == voice_note()
    played = audio.evaluate("""a => new Promise(done => {
        a.muted = true; a.onerror = () => done({error: a.error.code});
        a.play().then(() => setTimeout(() => done({duration: a.duration, at: a.currentTime}), 300),
                      e => done({error: String(e)}));
    })""")
    assert played.get("duration", 0) > 0.9 and played["at"] > 0, played  # the browser plays it (it could not: issue 13)
    link = files.get_by_role("link", name=re.compile(r"^Scarica il documento PDF 2"))
    assert page.request.get(link.get_attribute("href")).body() == PDF
    with page.expect_download() as download:
        link.click()
    assert download.value.suggested_filename.endswith(".pdf")
