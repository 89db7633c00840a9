"""Closing the loop in chromium (issue 14, item 10): the external body opens the private link of a forwarded report,
posts its status, and the office sees it in the console's timeline; the citizen's «Risolto» shows in the console's
dashboard as "soddisfatti", apart from the reports resolved. With FILO_SCREENSHOTS=1 the external body's page is saved
as docs/screenshots/external-body-page.png."""
from __future__ import annotations

import itertools
import os
import re
import time
import uuid
from pathlib import Path

from playwright.sync_api import expect

from tests import mailbox
from tests.browser.test_console import api, sign_in
from tests.integration.conftest import REPORTS, Phone
from tests.waiting import wait_for

_numbers = itertools.count(int(time.time()) % 5000)
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def _link_in_email(report_id: str) -> str:
    def found():
        return next((m for m in mailbox.sent() if f"/x/demo/{report_id}/" in m.body), None)
    email = wait_for(found, 15)
    return re.search(r"(http\S+/x/\S+)", email.body).group(1)


def test_the_external_body_posts_on_its_page_and_the_office_sees_it(stack, browser):
    mark = uuid.uuid4().hex[:6]
    created = api(stack, "POST", "/api/v1/reports", role="technical", json={
        "source": "desk", "text": f"Fosso intasato in via dei Campi {mark}", "category": "acque"})
    assert created.status_code == 201, created.text
    report = created.json()
    forwarded = api(stack, "POST", f"/api/v1/reports/{report['id']}/transitions", role="technical",
                    json={"to": "forwarded", "external_body": "consorzio"})
    assert forwarded.status_code == 200, forwarded.text
    link = _link_in_email(report["id"])

    body = browser.new_context(locale="it-IT", viewport={"width": 390, "height": 844}).new_page()  # a phone
    body.goto(link)  # no sign-in
    expect(body.get_by_role("heading", name=f"Segnalazione n. {report['number']}")).to_be_visible()
    expect(body.get_by_text(f"Fosso intasato in via dei Campi {mark}")).to_be_visible()
    body.get_by_role("button", name="Invia aggiornamento").click()  # nothing chosen: the browser asks for a status
    expect(body.get_by_label("Preso in carico")).to_be_visible()
    body.get_by_label("Preso in carico").check()
    body.get_by_label("Vostro riferimento (numero di pratica, facoltativo)").fill(f"CB-{mark}")
    body.get_by_label("Nota (facoltativa)").fill("Squadra in arrivo entro venerdì")
    body.get_by_label(re.compile("Visibile al cittadino")).check()
    body.get_by_role("button", name="Invia aggiornamento").click()
    expect(body.get_by_role("status")).to_have_text("Aggiornamento registrato. Grazie.")
    expect(body.get_by_role("listitem").filter(has_text=f"rif. CB-{mark}")).to_contain_text("visibile al cittadino")
    if os.environ.get("FILO_SCREENSHOTS"):
        body.screenshot(path=str(SCREENSHOTS / "external-body-page.png"), full_page=True)
    body.context.close()

    office = browser.new_context(locale="it-IT").new_page()
    sign_in(office, stack, "technical")
    office.goto(f"{stack.web_url}/console/#/segnalazioni/{report['id']}")
    expect(office.get_by_role("heading", name=f"Segnalazione {report['number']}")).to_be_visible()
    timeline = office.locator("ol.timeline")
    entry = timeline.get_by_role("listitem").filter(has_text="Aggiornamento dall'ente")
    expect(entry).to_contain_text(f"Stato comunicato: Preso in carico (rif. CB-{mark})")
    expect(entry).to_contain_text("Squadra in arrivo entro venerdì")
    expect(entry).to_contain_text("ente: Consorzio di bonifica Esempio")
    expect(entry).to_contain_text("pubblica")
    office.context.close()


def test_the_dashboard_shows_citizens_satisfied_apart_from_resolved(stack, page):
    citizen = Phone(stack, REPORTS, f"+39 347 640 {next(_numbers):04d}")
    mark = uuid.uuid4().hex[:6]
    citizen.text(f"Buca davanti al civico {mark} di via Prova")
    wait_for(lambda: next((m for m in citizen.inbox() if "n. " in (m.get("text") or "")), None), 15)
    report = wait_for(lambda: next((r for r in api(stack, "GET", "/api/v1/reports", role="technical").json()["items"]
                                    if mark in r["text"]), None), 15)
    for to in ("triaged", "resolved"):
        step = api(stack, "POST", f"/api/v1/reports/{report['id']}/transitions", role="technical", json={"to": to})
        assert step.status_code == 200, step.text
    question = wait_for(lambda: next((m for m in citizen.inbox() if len(m.get("options") or []) == 2), None), 15)
    yes = question["options"][0]
    citizen.tap(yes["id"], yes["title"], kind=yes["kind"])
    wait_for(lambda: next((m for m in citizen.inbox() if "Grazie per la risposta" in (m.get("text") or "")), None), 15)
    kpis = api(stack, "GET", "/api/v1/reports/kpis", role="technical", params={"kind": "report"}).json()
    assert kpis["satisfied"] >= 1

    sign_in(page, stack, "technical")
    page.get_by_role("link", name="Cruscotto").click()
    card = page.locator("[data-kpi=satisfied]")
    expect(card).to_contain_text("soddisfatti")
    expect(card).to_contain_text(f"{kpis['satisfied']} cittadini su {kpis['asked']} interpellati")
    share = round(kpis["satisfied_share"] * 100)
    expect(card).to_contain_text(f"{share}")
    expect(page.get_by_text(re.compile(r"risolte \(\d+ su \d+\)"))).to_be_visible()
