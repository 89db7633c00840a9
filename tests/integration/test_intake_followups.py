"""A citizen's messages after the first, on the reports channel (issue 13, section 5): the category list is offered
once, and after an automatic merge STATO, photos and positions concern the report the citizen now follows."""
from __future__ import annotations

import re

import pytest

from tests.integration.own_comuni import OwnTown as Town
from tests.integration.test_reports import CENTRE, YEAR, photo_jpeg, send_photo, texts, wait_text
from tests.waiting import wait_for


@pytest.fixture
def town(stack):
    return Town(stack)  # each Phone reads its chat with this town's channel only (tests/integration/conftest.py)


def lists(phone) -> list[dict]:
    return [m for m in phone.inbox() if m.get("type") == "interactive"]


def test_the_category_list_is_offered_once_not_after_each_photo_and_position(town):
    citizen = town.phone("+39 333 720 0001")
    citizen.text("C'è un problema davanti al municipio")  # tells no category: the list comes with the receipt
    wait_text(citizen, "n. ")
    assert len(citizen.wait_inbox(2)) == 2 and len(lists(citizen)) == 1
    send_photo(citizen, photo_jpeg())
    wait_text(citizen, "Foto aggiunta")
    citizen.send(type="location", latitude=CENTRE[0], longitude=CENTRE[1])
    wait_text(citizen, "Posizione aggiunta")
    citizen.text("È lì da una settimana")
    wait_text(citizen, "Aggiunto alla segnalazione")
    assert len(citizen.settle()) == 5 and len(lists(citizen)) == 1


def test_a_report_opened_by_a_photo_gets_the_list_with_its_first_words_only(town):
    citizen = town.phone("+39 333 720 0002")
    send_photo(citizen, photo_jpeg())
    wait_text(citizen, "n. ")
    assert lists(citizen) == []  # no words yet: nothing the list could correct
    citizen.text("Non so bene cosa sia, guardate la foto")
    wait_text(citizen, "Aggiunto alla segnalazione")
    citizen.text("È davanti alla chiesa")
    assert len(citizen.wait_inbox(4)) == 4
    assert len(citizen.settle()) == 4 and len(lists(citizen)) == 1


def _merged(town) -> tuple[dict, dict, object]:
    """Two citizens report the same lamp: the second report is merged into the first on its position."""
    first, second = town.phone("+39 333 720 0010"), town.phone("+39 333 720 0011")
    first.text("Lampione spento in via Verdi da una settimana")
    wait_text(first, "n. ")
    first.send(type="location", latitude=CENTRE[0], longitude=CENTRE[1])
    wait_text(first, "Posizione aggiunta")
    original = town.wait_report(lambda r: r["location"])
    second.text("Il lampione davanti al civico 3 di via Verdi non si accende")
    wait_text(second, "n. ")
    second.send(type="location", latitude=CENTRE[0] + 0.0002, longitude=CENTRE[1])
    wait_text(second, "già stato segnalato")  # the last of the position's replies: all of them are in
    duplicate = town.wait_report(lambda r: r["status"] == "duplicate")
    return original, duplicate, second


def test_after_an_automatic_merge_stato_answers_about_the_report_the_citizen_follows(town):
    original, duplicate, citizen = _merged(town)
    assert town.step(original["id"], "triaged").status_code == 200
    assert town.step(original["id"], "in_progress").status_code == 200  # public: both citizens are told
    wait_text(citizen, "lavori in corso")

    citizen.text("STATO")
    reply = wait_text(citizen, "Le tue segnalazioni")
    assert f"n. {original['number']}" in reply and "lavori in corso" in reply
    assert "già segnalata" not in reply and f"n. {duplicate['number']} " not in reply
    citizen.text(f"STATO {duplicate['number'].split('/')[1]}")
    one = wait_text(citizen, r"^Segnalazione n\.")
    assert one.startswith(f"Segnalazione n. {original['number']} ") and "lavori in corso" in one


def test_after_an_automatic_merge_photos_and_positions_join_the_report_the_citizen_follows(town):
    original, duplicate, citizen = _merged(town)

    def answers_to(send, answer: str) -> list[str]:
        """What the chat got after send, once the answer (a pattern: which kind of reply) is among it."""
        before = len(citizen.inbox())
        send()
        return wait_for(lambda: (lambda new: new if any(re.search(answer, t) for t in new) else None)(
            [m["text"] for m in citizen.inbox()[before:]]))
    assert answers_to(lambda: send_photo(citizen, photo_jpeg()), "^Foto aggiunta") == [
        f"Foto aggiunta alla segnalazione n. {original['number']}."]
    pinned = answers_to(lambda: citizen.send(type="location", latitude=CENTRE[0] + 0.0001, longitude=CENTRE[1]),
                        "^Posizione aggiunta")
    assert len(pinned) == 1 and pinned[0].startswith(f"Posizione aggiunta alla segnalazione n. {original['number']}")
    assert answers_to(lambda: citizen.text("Ora fa anche le scintille"), "^Aggiunto alla segnalazione") == [
        f"Aggiunto alla segnalazione n. {original['number']}."]

    followed = town.report(original["id"])
    assert [p["status"] for p in followed["photos"]] == ["stored"]
    assert followed["location"]["latitude"] == pytest.approx(CENTRE[0])  # the reporter's pin stays the report's
    extra = [e for e in followed["events"] if e["actor"] == "citizen" and e.get("data", {}).get("from")]
    assert [e["action"] for e in extra] == ["photo", "location", "text"]
    assert {e["data"]["from"] for e in extra} == {duplicate["number"]}
    assert extra[-1]["note"] == "Ora fa anche le scintille"
    assert "scintille" not in followed["text"]  # the reporter's words stay theirs; the follower's are in the history
    assert town.report(duplicate["id"])["photos"] == []
    assert len(town.reports()) == 2 and f"{YEAR}/3" not in " ".join(texts(citizen))  # no new report was opened


def test_a_followers_photo_lost_for_good_is_asked_again_of_the_follower_not_the_reporter(town, stack):
    from chalicelib.services.reports import photo_refetch

    original, _, citizen = _merged(town)
    reporter = town.phone("+39 333 720 0010")
    heard_before = len(reporter.inbox())
    stack.sandbox.configure(media_faults=3 * (1 + photo_refetch.MAX_REFETCHES) + 10)  # every try of every fetch
    try:
        send_photo(citizen, photo_jpeg())
        wait_text(citizen, "non serve inviarla di nuovo")
        wait_text(citizen, "Non siamo riusciti a ricevere la foto", timeout=40)
    finally:
        stack.sandbox.configure(media_faults=0)
    assert [p["status"] for p in town.report(original["id"])["photos"]] == ["failed"]
    assert len(reporter.settle(1.0)) == heard_before  # the reporter sent no photo: nothing to ask them
