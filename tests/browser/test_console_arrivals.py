"""New arrivals in the console (issue 14, item 1): a report sent from a phone while the console is open raises the
menu's badge and joins the "Da vedere" list without a reload, its team gets an email (SES in moto), and opening it
takes it off; the police land on their "Da vedere" list, the night's tips marked."""
from __future__ import annotations

import itertools
import re
import time
from dataclasses import replace

from playwright.sync_api import Page, expect

from chalicelib.store import directory
from local.seed import REPORTS as DEMO_REPORTS
from tests import mailbox
from tests.browser.test_console import api, sign_in
from tests.integration.conftest import REPORTS, SAFETY, Phone
from tests.integration.test_safety import hours_around_now
from tests.waiting import wait_for

_numbers = itertools.count(int(time.time()) % 5000)


def waiting_count(page: Page) -> int:
    """The "Da vedere" list's count, once the console has it."""
    heading = page.get_by_role("heading", name=re.compile(r"^Da vedere \(\d+\)$"))
    expect(heading).to_be_visible()
    return int(re.search(r"\((\d+)\)", heading.inner_text()).group(1))


def starts(number: str) -> re.Pattern:
    """A link whose name starts with this report number (the list's links add the time)."""
    return re.compile("^" + re.escape(number).replace("/", r"\/") + " ")


def test_a_report_from_a_phone_raises_the_badge_without_reload_and_opening_it_takes_it_off(stack, page):
    n = next(_numbers)
    citizen = Phone(stack, REPORTS, f"+39 347 630 {n:04d}")
    sign_in(page, stack, "technical")
    expect(page.get_by_role("heading", name="Segnalazioni dei cittadini")).to_be_visible()
    before = waiting_count(page)
    page.evaluate("window.stillTheSamePage = true")  # gone if the page reloads

    citizen.text(f"Lampione spento in via Arrivi {n}")
    receipt = citizen.wait_inbox(1)[0]["text"]
    number = re.search(r"n\. (\d{4}/\d+)", receipt).group(1)

    menu = page.get_by_role("navigation", name="Sezioni").get_by_role("link", name=re.compile("^Segnalazioni"))
    expect(menu.locator(".nav-badge")).to_have_attribute("data-count", str(before + 1), timeout=15_000)
    expect(menu).to_have_accessible_name(re.compile(rf"^Segnalazioni\s*\({before + 1} da vedere\)$"))
    arrival = page.locator(".to-see").get_by_role("link", name=starts(number))
    expect(arrival).to_be_visible()
    assert page.evaluate("window.stillTheSamePage") is True

    # the team in charge of street lights got an email (SES, in moto), with the number and a link to the console
    electricians = next(t["email"] for t in DEMO_REPORTS["teams"] if t["id"] == "elettricisti")
    wait_for(lambda: [m for m in mailbox.sent() if number in m.subject
                      and m.destinations.get("ToAddresses") == [electricians]] or None, 15)

    arrival.click()
    expect(page.get_by_role("heading", name=f"Segnalazione {number}")).to_be_visible()
    page.go_back()
    expect(page.locator(".to-see").get_by_role("link", name=starts(number))).to_have_count(0)
    expect(page.get_by_role("heading", name=f"Da vedere ({before})")).to_be_visible()


def test_a_list_slower_than_its_refresh_still_shows_new_reports(stack, page):
    """On a busy server each answer of the list takes longer than the 5 s refresh period: the inbox must still show
    the answers (it used to drop each one because a newer refresh had been asked meanwhile, and never updated)."""
    n = next(_numbers)
    citizen = Phone(stack, REPORTS, f"+39 347 631 {n:04d}")
    sign_in(page, stack, "technical")
    expect(page.get_by_role("heading", name="Segnalazioni dei cittadini")).to_be_visible()

    def slowly(route):
        time.sleep(5.3)  # this blocks the routing of later requests too: they queue behind it, as on a busy server
        route.continue_()

    page.route(re.compile(r"/api/v1/reports\?"), slowly)
    citizen.text(f"Tombino aperto in via Lenta {n}")
    citizen.wait_inbox(1)
    expect(page.get_by_role("row").filter(has_text=f"via Lenta {n}")).to_be_visible(timeout=30_000)


def test_the_police_land_on_their_da_vedere_list_with_the_nights_tips_marked(stack, page):
    n = next(_numbers)
    line = directory.get_channel(SAFETY)
    directory.save_channel(replace(line, settings=replace(line.settings, watched_hours=type(
        line.settings.watched_hours)(**hours_around_now(False)))))  # the line is not watched now
    try:
        tip = api(stack, "POST", "/api/v1/reports", role="police", json={
            "kind": "safety", "source": "phone", "text": f"Furgone fermo da ore in via Notte {n}"}).json()
        sign_in(page, stack, "police")
        first = page.locator("main").locator("h1 + section")
        expect(first).to_have_class(re.compile("to-see"))
        item = first.get_by_role("listitem").filter(has=page.get_by_role("link", name=starts(tip["number"])))
        expect(item).to_contain_text("Arrivata fuori orario")
        menu = page.get_by_role("navigation", name="Sezioni").get_by_role("link", name=re.compile("^Sicurezza"))
        expect(menu.locator(".nav-badge")).to_be_visible()
    finally:
        directory.save_channel(line)
