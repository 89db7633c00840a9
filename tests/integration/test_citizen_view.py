"""One view per citizen (issue 14, item 5) through HTTP: GET /api/v1/citizens/{phone} gives each role its part of
one person (records and consents per channel, reports, the conversation with delivery status, newest first), and
each read is audited. The person here subscribes to the news, reports a pothole and, as a registered resident,
sends the police a tip."""
from __future__ import annotations

import pytest

from tests.integration.conftest import Phone
from tests.integration.test_exports import Comune
from tests.waiting import wait_for

NUMBER = "+39 345 678 1234"
E164 = "+393456781234"
PATH = "/api/v1/citizens/%2B393456781234"
QUESTION = "A che ora apre il municipio sabato?"


@pytest.fixture(scope="module")
def town(stack):
    comune = Comune(stack)
    news = Phone(stack, comune.broadcast, NUMBER)
    news.text("ATTIVA")
    news.wait_inbox(1)
    news.tap("sub:confirm", "Sì, confermo")
    news.wait_inbox(2)
    reports = Phone(stack, comune.reports, NUMBER)
    reports.text("Buca enorme in via Roma davanti al civico 12")
    resident = comune.call("POST", "/api/v1/subscribers", role="police", json={
        "channel": comune.safety, "phone": NUMBER, "name": "Anna Bianchi", "address": "Via Mazzini 4", "hamlet": "colle"})
    assert resident.status_code == 201, resident.text
    safety = Phone(stack, comune.safety, NUMBER)
    safety.text("Auto sospetta ferma davanti alla scuola da due ore")
    news.text(QUESTION)  # no flow takes it: it lands in Messaggi, and in the view

    def recorded() -> dict | None:  # the replies on the reports and safety channels recorded as delivered
        seen = comune.call("GET", PATH, role="technical").json()
        tips = comune.call("GET", PATH, role="police").json()
        asked = comune.call("GET", PATH, role="communications").json()["conversation"]
        out = [m for m in seen["conversation"] + tips["conversation"] if m["direction"] == "out"]
        return seen if len(out) >= 2 and seen["reports"] and any(m["direction"] == "in" for m in asked) else None
    wait_for(recorded, 20)
    return comune


def view(town: Comune, role: str) -> dict:
    answer = town.call("GET", PATH, role=role)
    assert answer.status_code == 200, answer.text
    return answer.json()


def kinds(body: dict) -> set[str]:
    return {c["kind"] for c in body["channels"]}


def test_the_technical_office_sees_the_report_and_its_conversation_only(town):
    seen = view(town, "technical")
    assert seen["subject"] == E164
    assert kinds(seen) == {"reports"}
    assert [r["text"] for r in seen["reports"]] == ["Buca enorme in via Roma davanti al civico 12"]
    number = seen["reports"][0]["number"]
    said = [m for m in seen["conversation"] if m["direction"] == "in"]
    assert [(m["text"], m["report"]) for m in said] == [("Buca enorme in via Roma davanti al civico 12", number)]
    answered = [m for m in seen["conversation"] if m["direction"] == "out"]
    assert answered and all(m["channel"] == town.reports for m in answered)
    assert any(number in (m["text"] or "") for m in answered)  # the receipt, with its number
    assert {m["status"] for m in answered} <= {"sent", "delivered", "read"}
    assert {m["channel"] for m in seen["conversation"]} == {town.reports}
    assert seen["consents"] == []  # the broadcast channel's ledger is not theirs
    moments = [m["at"] for m in seen["conversation"]]
    assert moments == sorted(moments, reverse=True)  # newest first


def test_communications_sees_the_subscription_and_what_the_channel_sent(town):
    seen = view(town, "communications")
    assert kinds(seen) == {"broadcast"}
    record = seen["channels"][0]["subscriber"]
    assert record["status"] == "active" and record["phone"] == E164
    assert [(c["action"], c["channel"]) for c in seen["consents"]] == [("grant", town.broadcast)]
    assert seen["reports"] == []
    assert seen["conversation"] and {m["channel"] for m in seen["conversation"]} == {town.broadcast}
    said = [m for m in seen["conversation"] if m["direction"] == "in"]
    assert [m["text"] for m in said] == [QUESTION]  # the question no flow took (Messaggi); ATTIVA itself is not kept
    assert all(m["status"] for m in seen["conversation"] if m["direction"] == "out")


def test_the_police_see_the_tip_and_the_resident(town):
    seen = view(town, "police")
    assert kinds(seen) == {"safety"}
    assert seen["channels"][0]["subscriber"]["name"] == "Anna Bianchi"
    assert [(r["kind"], r["text"]) for r in seen["reports"]] == [
        ("safety", "Auto sospetta ferma davanti alla scuola da due ore")]
    assert {m["channel"] for m in seen["conversation"]} == {town.safety}
    assert [m["text"] for m in seen["conversation"] if m["direction"] == "in"] == [
        "Auto sospetta ferma davanti alla scuola da due ore"]


def test_the_administrator_sees_all_but_the_tips(town):
    seen = view(town, "admin")
    assert kinds(seen) == {"broadcast", "reports", "safety"}  # admins register residents
    assert [r["kind"] for r in seen["reports"]] == ["report"]
    assert {m["channel"] for m in seen["conversation"]} == {town.broadcast, town.reports}
    assert "scuola" not in str(seen)


def test_each_view_is_audited_and_a_bad_number_is_refused(town):
    before = town.call("GET", "/api/v1/audit", params={"limit": "100"}).json()["items"]
    view(town, "technical")
    after = town.call("GET", "/api/v1/audit", params={"limit": "100"}).json()["items"]
    added = after[:len(after) - len(before)]
    assert [(e["action"], e["target"]) for e in added if e["action"] == "citizen.read"] == [("citizen.read", E164)]

    refused = town.call("GET", "/api/v1/citizens/abc", role="technical")
    assert refused.status_code == 422 and refused.json()["error"]["details"][0]["field"] == "phone"
    assert town.call("GET", "/api/v1/citizens/%2B393450000000", role="technical").json()["reports"] == []
