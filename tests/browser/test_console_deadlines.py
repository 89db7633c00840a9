"""Deadlines in the console (issue 14, item 2): the inbox sorts by a column, "Scadute" shows the overdue report with
its due date, the dashboard shows the on-time share. Time moves through the app's clock seam, never by sleeping:
a report taken by phone on Friday 4 December 2026 is due by Wednesday 9 (Tuesday 8 is the Immacolata) and looked
at on Friday 11."""
from __future__ import annotations

import time
from datetime import datetime
from zoneinfo import ZoneInfo

from playwright.sync_api import Page, expect

from chalicelib.services import clock
from tests.browser.test_console import api, sign_in

ROME = ZoneInfo("Europe/Rome")


def _at(monkeypatch, day: str, hour: int) -> None:
    moment = datetime.fromisoformat(day).replace(hour=hour, tzinfo=ROME)
    monkeypatch.setattr(clock, "now", lambda: moment)


def _numbers(page: Page) -> list[tuple[int, int]]:
    texts = page.locator("table.reports tbody tr td a[href]").all_inner_texts()
    return [tuple(int(part) for part in text.split("/")) for text in texts]


def test_the_inbox_shows_the_overdue_report_sorts_by_a_column_and_the_dashboard_the_on_time_share(
        stack, page, monkeypatch):
    n = int(time.time() * 1000) % 10**8
    _at(monkeypatch, "2026-12-04", 10)
    created = api(stack, "POST", "/api/v1/reports", role="technical", json={
        "source": "phone", "category": "strade", "text": f"Buca davanti al civico {n}"})
    assert created.status_code == 201, created.text
    number = created.json()["number"]
    other = api(stack, "POST", "/api/v1/reports", role="technical", json={
        "source": "desk", "category": "verde", "text": f"Siepe sul marciapiede al civico {n + 1}"})
    assert other.status_code == 201, other.text
    _at(monkeypatch, "2026-12-11", 9)

    sign_in(page, stack, "technical")
    expect(page.get_by_role("heading", name="Segnalazioni dei cittadini")).to_be_visible()
    page.get_by_label("Scadenza", exact=True).select_option(label="Scadute")
    row = page.get_by_role("row").filter(has_text=f"civico {n}")
    expect(row).to_be_visible()
    expect(row.get_by_role("link", name=number, exact=True)).to_be_visible()
    due = row.get_by_test_id("due")
    expect(due).to_contain_text("Scaduta il 09/12/2026")
    expect(due).to_contain_text("presa in carico")
    expect(row).to_contain_text("7 giorni")
    for shown in page.get_by_test_id("due").all():
        expect(shown).to_contain_text("Scaduta il")  # only the overdue ones

    header = page.get_by_role("columnheader", name="Numero")
    header.get_by_role("button").click()
    expect(header).to_have_attribute("aria-sort", "ascending")
    wait_sorted(page, reverse=False)
    header.get_by_role("button").click()
    expect(header).to_have_attribute("aria-sort", "descending")
    wait_sorted(page, reverse=True)

    page.get_by_role("row").filter(has_text=f"civico {n}").get_by_role("link", name=number, exact=True).click()
    expect(page.get_by_test_id("deadline-triaged")).to_have_text("entro il 09/12/2026: scaduta")
    expect(page.get_by_test_id("deadline-resolved")).to_contain_text("entro il 21/01/2027: da fare")

    page.get_by_role("link", name="Cruscotto").click()
    share = page.get_by_test_id("on-time")
    expect(share).to_contain_text("nei tempi previsti")
    expect(share).to_contain_text("%")
    by_category = page.locator("table.on-time").filter(has_text="Per categoria")
    expect(by_category.get_by_role("row", name="Strade e marciapiedi")).to_be_visible()
    expect(page.locator("table.on-time").filter(has_text="Per squadra")
           .get_by_role("row", name="Squadra cantonieri")).to_be_visible()


def wait_sorted(page: Page, reverse: bool) -> None:
    """The list, once the sorted answer is shown, is in that order by number."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        shown = _numbers(page)
        if len(shown) > 1 and shown == sorted(shown, reverse=reverse):
            return
        page.wait_for_timeout(200)
    raise AssertionError(f"not sorted {'descending' if reverse else 'ascending'}: {_numbers(page)}")


def test_the_overdue_filter_and_the_deadline_fit_a_phone(stack, page, monkeypatch):
    n = int(time.time() * 1000) % 10**8
    _at(monkeypatch, "2026-12-04", 10)
    created = api(stack, "POST", "/api/v1/reports", role="technical", json={
        "source": "phone", "category": "strade", "text": f"Tombino rotto al civico {n}"})
    assert created.status_code == 201, created.text
    _at(monkeypatch, "2026-12-11", 9)
    page.set_viewport_size({"width": 390, "height": 800})
    sign_in(page, stack, "technical")
    page.get_by_label("Scadenza", exact=True).select_option(label="Scadute")
    due = page.get_by_role("row").filter(has_text=f"civico {n}").get_by_test_id("due")
    due.scroll_into_view_if_needed()
    expect(due).to_contain_text("Scaduta il 09/12/2026")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # the page itself never scrolls sideways
