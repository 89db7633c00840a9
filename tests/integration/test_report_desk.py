"""What staff see and may do on a report or a tip (issue 13, section 5): who sent a tip, the steps a tip can take,
whether a step tells the citizen by default, and refusals that name the field at fault."""
from __future__ import annotations

import pytest

from tests.integration.own_comuni import OwnLine as SafetyLine
from tests.integration.own_comuni import OwnTown as Town
from tests.integration.test_reports import wait_text
from tests.integration.test_safety import last_text
from tests.waiting import wait_for


@pytest.fixture
def town(stack):
    return Town(stack)


def _tip(line: SafetyLine, number: str, text: str) -> dict:
    resident = line.resident(number)
    resident.send(type="text", text=text, profile_name="Cittadino")  # WhatsApp's profile name, not who it is
    last_text(resident, "Segnalazione ricevuta|non è presidiata")
    [tip] = wait_for(lambda: line.call("GET", "/api/v1/reports", params={"kind": "safety"}).json()["items"], 10)
    return tip


def test_police_see_the_registered_resident_behind_a_tip_and_the_read_is_audited(stack):
    line = SafetyLine(stack)
    tip = _tip(line, "+39 339 710 0001", "Furgone bianco che gira piano davanti alle case da un'ora")

    shown = line.call("GET", f"/api/v1/reports/{tip['id']}")
    assert shown.status_code == 200, shown.text
    assert shown.json()["resident"] == {"name": "Anna Bianchi", "address": "Via Mazzini 4", "hamlet": "centro",
                                        "phone": "+393397100001"}
    trail = line.call("GET", "/api/v1/audit", role="admin", params={"limit": "20"}).json()["items"]
    reads = [e for e in trail if e["action"] == "resident.read"]
    assert reads and reads[0]["target"] == f"{line.channel}#+393397100001" and reads[0]["actor"]

    # every answer about the tip names the resident (the console shows what the step answered)
    stepped = line.call("POST", f"/api/v1/reports/{tip['id']}/transitions", json={"to": "triaged"})
    assert stepped.status_code == 200, stepped.text
    assert stepped.json()["resident"]["name"] == "Anna Bianchi"


def test_a_tip_offers_only_what_a_tip_can_do_and_refuses_the_rest_clearly(stack):
    line = SafetyLine(stack)
    tip = _tip(line, "+39 339 710 0002", "Cassonetti bruciati in piazza stanotte")
    path = f"/api/v1/reports/{tip['id']}"

    assert line.call("GET", path).json()["steps"] == [{"to": "triaged", "public": False},
                                                      {"to": "rejected", "public": False}]
    for step in ("assigned", "forwarded"):
        refused = line.call("POST", f"{path}/transitions", json={"to": step})
        assert refused.status_code == 409, refused.text
        assert refused.json()["error"]["code"] == "not_allowed"
    assert line.call("POST", f"{path}/transitions", json={"to": "triaged"}).status_code == 200
    assert [s["to"] for s in line.call("GET", path).json()["steps"]] == ["in_progress", "resolved", "rejected"]
    assert [e["status"] for e in line.call("GET", path).json()["events"] if e["action"] == "status"] == ["triaged"]


def test_a_report_lists_its_steps_with_whether_each_tells_the_citizen(town):
    created = town.call("POST", "/api/v1/reports", json={"source": "desk", "text": "Buca in via dei Mille"}).json()
    assert created["steps"] == [{"to": "triaged", "public": False}, {"to": "assigned", "public": False},
                                {"to": "forwarded", "public": True}, {"to": "rejected", "public": True}]
    assert "resident" not in created  # reports have no registered residents


def test_each_step_tells_the_citizen_by_its_own_default_and_staff_can_choose(town):
    citizen = town.phone("+39 333 710 0003")
    citizen.text("Buca profonda in via Garibaldi")
    wait_text(citizen, "n. ")
    report = town.wait_report(lambda r: True)

    before = len(citizen.inbox())
    assert town.step(report["id"], "triaged", note="Sopralluogo domani: chiedere a Mario").status_code == 200
    assert town.step(report["id"], "assigned", team="cantonieri").status_code == 200
    assert len(citizen.settle()) == before  # internal by default: the working note stayed in the office
    events = [e for e in town.report(report["id"])["events"] if e["action"] == "status"]
    assert [(e["status"], e["public"]) for e in events] == [("triaged", False), ("assigned", False)]

    assert town.step(report["id"], "in_progress", note="Lavori iniziati").status_code == 200  # public by default
    assert "Lavori iniziati" in citizen.wait_inbox(before + 1)[-1]["text"]
    assert town.step(report["id"], "resolved", note="Fatto", public=False).status_code == 200  # staff's choice
    assert town.step(report["id"], "in_progress", note="Riaperta: la buca è tornata", public=True).status_code == 200
    assert "Riaperta" in citizen.wait_inbox(before + 2)[-1]["text"]
    assert len(citizen.settle()) == before + 2


def test_a_refused_step_names_the_field_at_fault(town):
    created = town.call("POST", "/api/v1/reports", json={"source": "email", "text": "Segnalazione generica"}).json()
    refused = town.step(created["id"], "assigned")  # no category, so no team to fall back on
    assert refused.status_code == 422
    assert refused.json()["error"]["details"] == [{"field": "team", "message": refused.json()["error"]["message"]}]
    unknown = town.call("POST", "/api/v1/reports", json={"source": "desk", "text": "Altro", "hamlet": "marte"})
    assert unknown.status_code == 422 and unknown.json()["error"]["details"][0]["field"] == "hamlet"
