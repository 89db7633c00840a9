"""Allerte in chromium (issue 19): the demo comune (Tosc-A4, Pieve a Ripoli in Tosc-B) reads the real DPC bulletin of
16 May 2023 from the local feed server at that date; the communications office sees Pieve a Ripoli yellow on the
map's table and the two drafts (today, tomorrow), approves one (it goes out as a broadcast), discards the other."""
from __future__ import annotations

from datetime import UTC, datetime

from playwright.sync_api import Page, expect

from chalicelib.domain.hours import outside
from chalicelib.services.alerts import watch
from chalicelib.store import directory
from local.seed import TENANT_ID
from tests.browser.test_console import api, sign_in

BROADCAST_CHANNEL = "100000000000001"  # the demo's Notizie channel, where its alerts go


def test_the_office_approves_an_alert_draft_and_discards_another(stack, page: Page):
    result = watch.watch_tenant(directory.get_tenant(TENANT_ID), datetime(2023, 5, 16, 16, 0, tzinfo=UTC))
    assert result["read"] == 1 and result["broadcasts"] == 2
    sign_in(page, stack, "communications")
    page.get_by_role("link", name="Allerte").click()
    expect(page.get_by_role("heading", name="Allerte di protezione civile", level=1)).to_be_visible()
    zones = page.get_by_role("table", name="Zone di allerta del Comune")
    expect(zones.get_by_role("row").filter(has_text="Tosc-B")).to_contain_text("Gialla")
    expect(zones.get_by_role("row").filter(has_text="Tosc-B")).to_contain_text("Pieve a Ripoli")
    expect(page.get_by_role("heading", name="Avvisi da approvare (2)")).to_be_visible()
    drafts = page.locator(".alert-drafts > li")
    expect(drafts.first).to_contain_text("Allerta GIALLA per rischio idrogeologico")
    drafts.first.get_by_role("button", name="Approva e invia").click()
    confirm = drafts.first.get_by_role("group", name="Conferma dell'invio")
    expect(confirm).to_contain_text("Una volta inviato non si può ritirare.")  # nothing goes on one click
    confirm.get_by_role("button", name="Conferma l'invio").click()
    expect(page.get_by_role("heading", name="Avvisi da approvare (1)")).to_be_visible()
    page.locator(".alert-drafts > li").first.get_by_role("button", name="Scarta").click()
    expect(page.get_by_role("heading", name="Avvisi da approvare (0)")).to_be_visible()
    mine = [b for b in api(stack, "GET", "/api/v1/alerts", role="communications").json()["broadcasts"]]
    # a yellow alert goes as a normal broadcast: at once, or after the channel's quiet hours when approved in them
    quiet = directory.get_channel(BROADCAST_CHANNEL).settings.quiet_hours.window()
    now = datetime.now(UTC)
    going = ["completed", "sending"] if outside(quiet, now) <= now else ["scheduled"]
    assert sorted(b["status"] for b in mine) in [["cancelled", status] for status in going]
    # the communications office reads the rules but does not change them (administrators do)
    expect(page.get_by_role("table").filter(has_text="Rischio idraulico").first).to_contain_text("Bozza da approvare")
    expect(page.get_by_role("button", name="Salva le regole")).to_have_count(0)
