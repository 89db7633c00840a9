"""The two front ends together, as issue 7 puts it: a citizen files a report on the portal, and the office sees it
arrive in the console's inbox, opens it and finds what the citizen wrote, where and with which photo."""
from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import expect

from chalicelib.services import abuse
from chalicelib.services.reports import web_form
from local.demo_reports import demo_photo
from tests.browser.test_console import sign_in


@pytest.fixture(autouse=True)
def own_allowance(monkeypatch):
    """A fresh per-client allowance: every browser test of the session files from 127.0.0.1."""
    monkeypatch.setattr(web_form, "PER_CLIENT", abuse.Limit(f"test-portal-console-{uuid.uuid4().hex}", 20, 3600))


def test_a_report_filed_on_the_portal_appears_in_the_console_inbox(stack, browser):
    mark = uuid.uuid4().hex[:6]
    citizen = browser.new_context(locale="it-IT").new_page()
    citizen.goto(f"{stack.web_url}/portal/#/segnala")
    citizen.get_by_label("Categoria (obbligatoria)").select_option("verde")
    citizen.get_by_label("Descrizione (obbligatoria)").fill(f"Ramo spezzato sulla panchina del parco {mark}")
    citizen.locator("#hamlet").select_option(label="Sant'Andrea")
    citizen.get_by_label(re.compile("^Foto")).set_input_files(
        {"name": "ramo.jpg", "mimeType": "image/jpeg", "buffer": demo_photo()})
    citizen.get_by_role("button", name="Invia la segnalazione").click()
    number = citizen.get_by_test_id("report-number")
    expect(number).to_have_text(re.compile(r"^\d{4}/\d+$"))
    filed = number.inner_text()

    office = browser.new_context(locale="it-IT").new_page()
    sign_in(office, stack, "technical")
    row = office.get_by_role("row").filter(has_text=mark)
    expect(row).to_be_visible(timeout=15_000)
    expect(row).to_contain_text("Sant'Andrea")
    row.get_by_role("link").first.click()
    expect(office.get_by_role("heading", name=f"Segnalazione {filed}")).to_be_visible()
    expect(office.get_by_text(f"Ramo spezzato sulla panchina del parco {mark}")).to_be_visible()
    expect(office.get_by_text("Portale", exact=True)).to_be_visible()  # Canale: the portal
    expect(office.get_by_role("img", name=f"Foto 1 della segnalazione {filed}")).to_be_visible()
