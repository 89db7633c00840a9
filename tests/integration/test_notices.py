"""Every broadcast the composer accepts reaches every recipient intact through the strict sandbox: the full text inside
the 24-hour window; outside it, the notice template with a one-line title and "Leggi l'avviso", whose tap gets the
full text (issue 13); the preview says which group receives what."""
from __future__ import annotations

import itertools
import json
import time

import pytest
import requests

from chalicelib.domain.tenancy import Channel
from chalicelib.store import directory
from local.seed import TEMPLATES, template_setting
from tests.integration.conftest import Phone
from tests.waiting import wait_for

_towns = itertools.count(1)

ALERT_TITLE = "ALLERTA METEO ARANCIONE per domani, martedì 2 dicembre"
PARAGRAPH = ("La Protezione civile regionale ha emesso un'allerta arancione per rischio idrogeologico e idraulico "
             "sul reticolo minore, con piogge forti e temporali dalle 6:00 di martedì alle 24:00. ")
ADVICE = ["\t- non sostare sotto ponti e sottopassi;", "\t- non scendere in cantine e seminterrati;",
          "\t- tieni il telefono carico e segui gli aggiornamenti del Comune.",
          "Scuole chiuse:     tutte, anche i nidi.     Mercato sospeso."]


def long_alert(length: int = 1500) -> str:
    """A real alert's shape: a title line, paragraphs, a list with tabs, runs of spaces; exactly `length` long."""
    text = ALERT_TITLE + "\n\n" + PARAGRAPH + "\n\n" + "Raccomandazioni:\n" + "\n".join(ADVICE) + "\n\n"
    while len(text) < length:
        text += PARAGRAPH
    return text[:length - 1].rstrip() + "."


class Town:
    """A comune of its own whose notice template is declared with its approved texts (local/seed.py), as the demo's
    is, and registered in the sandbox for its business account."""

    def __init__(self, stack):
        self.n = next(_towns)
        self.stack, self.tenant, self.channel = stack, f"avvisi{self.n}", f"6000000000{self.n:05d}"
        directory.save_tenant(self.tenant, f"Comune degli Avvisi {self.n}", {
            "privacy_notice_url": "https://example.org/privacy", "privacy_notice_version": "v1"})
        directory.save_channel(Channel(self.channel, self.tenant, "broadcast", "Avvisi", "+39 0571 960000", {
            "rate_per_second": 200, "quiet_hours": {"enabled": False},
            "templates": {"notice": template_setting("avviso_comune")}}))
        stack.sandbox.add_channel({"phone_number_id": self.channel, "kind": "broadcast", "tenant": self.tenant,
                                   "templates": TEMPLATES})
        self.token = stack.issuer.token(self.tenant, ["communications"])
        self.numbers = itertools.count(1)

    def call(self, method: str, path: str, **kwargs) -> requests.Response:
        return requests.request(method, f"{self.stack.api_url}{path}", timeout=30,
                                headers={"Authorization": f"Bearer {self.token}"}, **kwargs)

    def phone(self) -> Phone:
        """A new citizen of this comune."""
        return Phone(self.stack, self.channel, f"+39 345 {self.n:03d} {next(self.numbers):04d}")

    def subscribed(self) -> Phone:
        """A resident staff added from a CSV: subscribed, never wrote, so outside the 24-hour window."""
        phone = self.phone()
        answer = requests.post(f"{self.stack.api_url}/api/v1/subscribers/import", params={"channel": self.channel},
                               data=f"phone,hamlets,topics\n{phone.number},,\n".encode(), timeout=60,
                               headers={"Authorization": f"Bearer {self.token}", "Content-Type": "text/csv"})
        assert answer.json()["summary"]["error"] == 0, answer.text
        return phone

    def window_opened(self) -> Phone:
        """A subscriber who wrote to the comune (ATTIVA and the confirmation): inside the 24-hour window."""
        phone = self.phone()
        phone.text("ATTIVA")
        phone.wait_inbox(1)
        phone.tap("sub:confirm")
        phone.wait_inbox(2)
        return phone

    def broadcast(self, **body) -> dict:
        answer = self.call("POST", "/api/v1/broadcasts", json={"channel": self.channel, **body})
        assert answer.status_code == 201, answer.text
        return answer.json()

    def wait_status(self, broadcast_id: str, status: str, timeout: float = 30) -> dict:
        return wait_for(lambda: (b := self.call("GET", f"/api/v1/broadcasts/{broadcast_id}").json())["status"]
                        == status and b, timeout=timeout)


@pytest.fixture
def town(stack):
    return Town(stack)


def read_the_notice(phone, notice: dict) -> dict:
    """The citizen taps the notice's button; the answer that arrives next."""
    (button,) = notice["options"]
    assert button["title"] == "Leggi l'avviso"
    before = len(phone.inbox())
    phone.send(type="quick_reply", id=button["id"], title=button["title"], context=notice["id"])
    return phone.wait_inbox(before + 1)[before]


def test_a_multi_line_alert_of_1500_characters_reaches_everyone_in_full_inside_and_outside_the_window(town):
    """The issue's acceptance: through the strict sandbox over HTTP, each subscriber ends up with the whole text."""
    text = long_alert()
    assert len(text) == 1500 and "\n" in text and "\t" in text and "     " in text
    outside = town.subscribed()
    inside = town.window_opened()

    started = time.monotonic()
    created = town.broadcast(text=text, priority="alert")
    done = town.wait_status(created["id"], "completed")
    sent_in = time.monotonic() - started
    print(f"[notices] 1,500 characters to 2: counters {done['counters']}, completed in {sent_in:.2f} s")
    assert done["counters"]["sent"] == 2 and done["counters"]["failed"] == 0, done["counters"]

    (full,) = [m for m in inside.inbox() if m["type"] == "text" and m["body"]["text"]["body"] == text]
    (notice,) = outside.wait_inbox(1)
    assert notice["type"] == "template" and notice["body"]["template"]["name"] == "avviso_comune"
    assert notice["text"] == ("Nuovo avviso del Comune:\n" + ALERT_TITLE +
                              "\n\nTocca «Leggi l'avviso» per leggerlo per intero.\n"
                              "Scrivi DISATTIVA per non ricevere più avvisi")
    tapped = time.monotonic()
    answer = read_the_notice(outside, notice)
    print(f"[notices] tap to the full text: {time.monotonic() - tapped:.2f} s, {len(answer['text'])} characters")
    assert answer["type"] == "text" and answer["body"]["text"]["body"] == text


def test_the_title_staff_give_is_the_notices_and_a_long_first_line_is_shortened_in_the_preview(town):
    outside = town.subscribed()
    created = town.broadcast(text="Prima riga\nseconda riga", title="Strada provinciale chiusa")
    town.wait_status(created["id"], "completed")
    (notice,) = outside.wait_inbox(1)
    assert "\nStrada provinciale chiusa\n" in notice["text"]
    assert read_the_notice(outside, notice)["body"]["text"]["body"] == "Prima riga\nseconda riga"

    long_first_line = "Lavori sulla rete idrica: " + "acqua interrotta in via Roma e dintorni " * 3 + "\naltro"
    preview = town.call("POST", "/api/v1/broadcast-preview",
                        json={"channel": town.channel, "text": long_first_line}).json()
    outside_group = next(g for g in preview["receives"] if g["group"] == "outside_window")
    title = outside_group["messages"][0]["parameters"][0]
    assert len(title) <= 60 and title.endswith("…") and "\n" not in title
    assert long_first_line.startswith(title[:-1])


def test_an_image_broadcast_outside_the_window_sends_the_image_after_the_tap(town):
    outside = town.subscribed()
    inside = town.window_opened()
    text = "Ponte sul Rio chiuso\nVedi la mappa della deviazione."
    created = town.broadcast(text=text, image_url="https://comune.esempio.it/deviazione.jpg")
    done = town.wait_status(created["id"], "completed")
    assert done["counters"]["sent"] == 2 and done["counters"]["failed"] == 0
    (photo,) = [m for m in inside.inbox() if m["type"] == "image"]
    assert photo["body"]["image"] == {"link": "https://comune.esempio.it/deviazione.jpg", "caption": text}
    (notice,) = outside.wait_inbox(1)
    assert notice["type"] == "template" and "components" in notice["body"]["template"]
    assert all(c["type"] != "header" for c in notice["body"]["template"]["components"])
    answer = read_the_notice(outside, notice)
    assert answer["type"] == "image" and answer["body"]["image"]["caption"] == text


@pytest.mark.parametrize("payload", ["notice:20991231T000000000000-abcdef", "notice:../../etc", "notice:" + "9" * 300])
def test_a_tap_for_a_notice_that_is_not_there_gets_an_answer_in_italian(town, payload):
    phone = town.window_opened()
    before = len(phone.inbox())
    phone.send(type="quick_reply", id=payload[:256], title="Leggi l'avviso")
    answer = phone.wait_inbox(before + 1)[before]
    assert answer["type"] == "text" and "avviso" in answer["text"] and "non" in answer["text"]


def test_a_tap_never_reads_a_draft_or_another_comunes_notice(stack, town):
    other = Town(stack)
    foreign = other.broadcast(text="Solo per l'altro comune")
    other.wait_status(foreign["id"], "completed")
    draft = town.broadcast(text="Bozza riservata", draft=True)
    phone = town.window_opened()
    for broadcast_id in (foreign["id"], draft["id"]):
        before = len(phone.inbox())
        phone.send(type="quick_reply", id=f"notice:{broadcast_id}", title="Leggi l'avviso")
        answer = phone.wait_inbox(before + 1)[before]
        assert "Solo per l'altro" not in answer["text"] and "Bozza" not in answer["text"]


def test_the_preview_says_what_each_group_receives(town):
    town.subscribed()
    town.window_opened()
    text = long_alert(1200)
    preview = town.call("POST", "/api/v1/broadcast-preview", json={"channel": town.channel, "text": text}).json()
    inside, outside = preview["receives"]
    assert inside == {"group": "inside_window", "recipients": 1,
                      "messages": [{"kind": "text", "text": text}], "after_tap": []}
    assert outside["group"] == "outside_window" and outside["recipients"] == 1
    (notice,) = outside["messages"]
    assert notice == {"kind": "template", "template": "avviso_comune", "parameters": [ALERT_TITLE],
                      "text": f"Nuovo avviso del Comune:\n{ALERT_TITLE}\n\nTocca «Leggi l'avviso» per leggerlo per "
                              "intero.\nScrivi DISATTIVA per non ricevere più avvisi",
                      "buttons": ["Leggi l'avviso"]}
    assert outside["after_tap"] == [{"kind": "text", "text": text}]


@pytest.mark.parametrize("body, words", [
    ({"text": "Allerta", "title": "Riga uno\nriga due"}, "one line"),
    ({"text": "Allerta", "title": "x" * 61}, "60"),
    ({"template": {"name": "avviso_comune", "parameters": ["Riga uno\nriga due"]}}, "one line"),
    ({"template": {"name": "avviso_comune", "parameters": ["uno", "due"]}}, "1 parameter"),
    ({"template": {"name": "avviso_comune", "parameters": []}}, "1 parameter"),
    ({"template": {"name": "avviso_comune", "parameters": ["   "]}}, "empty"),
    ({"template": {"name": "avviso_comune", "parameters": ["Mercato"]}, "image_url": "https://comune.it/m.jpg"},
     "image goes with a text"),
])
def test_what_whatsapp_would_refuse_is_a_clear_422_before_anything_is_saved(town, body, words):
    answer = town.call("POST", "/api/v1/broadcasts", json={"channel": town.channel, **body})
    assert answer.status_code == 422, answer.text
    assert words in json.dumps(answer.json()["error"], ensure_ascii=False)  # the message, or the field's details
    assert town.call("GET", "/api/v1/broadcasts").json()["items"] == []


def test_the_sandbox_holds_the_templates_the_demo_declares(stack):
    """local/seed.py is the one source: what the demo's channels declare is what the sandbox approved."""
    import requests

    listed = requests.get(f"{stack.sandbox_url}/_sandbox/templates", params={"channel": "100000000000001"},
                          timeout=5).json()
    assert [t["name"] for t in listed] == [t["name"] for t in TEMPLATES]
