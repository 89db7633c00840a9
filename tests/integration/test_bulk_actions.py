"""Bulk actions on reports and a staff member in charge of a report (issue 14, items 3 and 9): many reports take the
same step as one would alone, each citizen told once through the outbound queue, one audit entry per report, a
retry telling nobody twice; "my reports"; tips only ever in the police's hands."""
from __future__ import annotations

import pytest
import requests

from local.seed import TEMPLATES
from tests.integration.conftest import Phone
from tests.integration.own_comuni import OwnLine as SafetyLine
from tests.integration.own_comuni import OwnTown as Town
from tests.waiting import wait_for


@pytest.fixture
def town(stack):
    """A comune whose channel has its update template approved: the citizens here have not written for a day."""
    made = Town(stack)
    stack.sandbox.add_channel({"phone_number_id": made.channel, "kind": "reports", "tenant": made.tenant,
                               "templates": TEMPLATES})
    return made


def _desk_report(town: Town, text: str, phone: str | None = None, **fields) -> dict:
    contact = {"contact": {"name": "Cittadino", "phone": phone, "updates_on_whatsapp": True}} if phone else {}
    created = town.call("POST", "/api/v1/reports", json={"source": "phone", "text": text, **contact, **fields})
    assert created.status_code == 201, created.text
    return created.json()


def _bulk(town, role: str = "technical", **body):
    return town.call("POST", "/api/v1/reports/bulk", role=role, json=body)


def _audit(town) -> list[dict]:
    answer = town.call("GET", "/api/v1/audit", role="admin", params={"limit": "100"})
    assert answer.status_code == 200, answer.text
    return answer.json()["items"]


def _sign_in(town, role: str) -> dict:
    me = town.call("GET", "/api/v1/me", role=role)
    assert me.status_code == 200, me.text
    return me.json()


def test_twenty_reports_closed_in_one_bulk_action_tell_each_citizen_once(stack, town):
    phones = [Phone(stack, town.channel, f"+39 347 714 {n:04d}") for n in range(20)]
    reports = [_desk_report(town, f"Lampione spento n. {n}", p.number) for n, p in enumerate(phones)]
    ids = [r["id"] for r in reports]
    untouched = _desk_report(town, "Buca in via Roma")  # still new: it cannot be closed as resolved

    taken = _bulk(town, ids=ids, action="triage")
    assert taken.status_code == 200, taken.text
    assert taken.json()["counts"]["done"] == 20
    closed = _bulk(town, ids=[*ids, untouched["id"], "2026-9999999"], action="close", to="resolved",
                   note="Lampioni riparati")
    assert closed.status_code == 200, closed.text
    results = closed.json()["results"]
    assert [r["result"] for r in results] == ["done"] * 20 + ["refused", "not_found"]
    assert all(r["status"] == "resolved" for r in results[:20])
    assert results[20]["status"] == "new" and results[20]["reason"]["code"] == "not_allowed"

    for report_id in ids:  # one timeline entry each
        steps = [e for e in town.report(report_id)["events"] if e["action"] == "status" and e["status"] == "resolved"]
        assert len(steps) == 1 and steps[0]["public"] and steps[0]["note"] == "Lampioni riparati"
    trail = [e["target"] for e in _audit(town) if e["action"] == "report.bulk.close"]
    assert sorted(trail) == sorted(ids)  # one audit entry each, none for the refused one
    assert town.report(untouched["id"])["status"] == "new"

    for phone in phones:  # each citizen told once, as a single change tells them
        assert len(phone.wait_inbox(1)) == 1
    again = _bulk(town, ids=ids, action="close", to="resolved", note="Lampioni riparati")
    assert [r["result"] for r in again.json()["results"]] == ["unchanged"] * 20
    for phone in phones:
        inbox = phone.settle(0.5) if phone is not phones[-1] else phone.settle()
        assert len(inbox) == 1, phone.number
    assert len([e for e in _audit(town) if e["action"] == "report.bulk.close"]) == 20


def test_bulk_assign_category_and_merge_reuse_the_single_steps(stack, town):
    first = _desk_report(town, "Problema davanti al municipio")
    second = _desk_report(town, "Problema in via Po")
    phone = Phone(stack, town.channel, "+39 347 714 1100")
    third = _desk_report(town, "Ramo caduto davanti alla scuola", phone.number)
    ids = [first["id"], second["id"]]

    filed = _bulk(town, ids=ids, action="category", category="verde")
    assert [r["result"] for r in filed.json()["results"]] == ["done", "done"], filed.text
    corrected = [e["data"] for e in town.report(first["id"])["events"] if e["action"] == "corrected"][-1]
    assert (corrected["field"], corrected["to"]) == ("category", "verde")  # as one report's correction writes it
    assigned = _bulk(town, ids=ids, action="assign", team="cantonieri")
    assert [r["status"] for r in assigned.json()["results"]] == ["assigned", "assigned"], assigned.text
    assert town.report(second["id"])["team"] == "cantonieri"
    again = _bulk(town, ids=ids, action="assign", team="cantonieri")
    assert [r["result"] for r in again.json()["results"]] == ["unchanged", "unchanged"]

    merged = _bulk(town, ids=[second["id"], third["id"], first["id"]], action="merge", into=first["number"])
    assert [r["result"] for r in merged.json()["results"]] == ["done", "done", "unchanged"], merged.text
    assert town.report(third["id"])["duplicate_of"] == first["id"]
    assert "già segnalata" in phone.wait_inbox(1)[-1]["text"]  # told, as a single merge tells them
    assert {e["target"] for e in _audit(town) if e["action"] == "report.bulk.merge"} == {second["id"], third["id"]}


@pytest.mark.parametrize("body,field", [
    ({"ids": [], "action": "triage"}, "ids"),
    ({"ids": [f"2026-{n:07d}" for n in range(101)], "action": "triage"}, "ids"),
    ({"ids": ["2026-0000001"], "action": "assign"}, "team"),
    ({"ids": ["2026-0000001"], "action": "merge"}, "into"),
    ({"ids": ["2026-0000001"], "action": "explode"}, "action"),
    ({"ids": ["2026-0000001"], "action": "close", "to": "triaged"}, "to"),
    ({"ids": ["2026-0000001"], "action": "triage", "status": "resolved"}, "status"),
])
def test_a_bulk_request_out_of_bounds_is_a_clear_422(town, body, field):
    answer = _bulk(town, **body)
    assert answer.status_code == 422, answer.text
    assert field in answer.text


def test_merging_into_a_report_that_does_not_exist_changes_nothing(town):
    report = _desk_report(town, "Cartello divelto")
    answer = _bulk(town, ids=[report["id"]], action="merge", into="2026-9999999")
    assert answer.status_code == 422 and answer.json()["error"]["details"][0]["field"] == "into"
    assert town.report(report["id"])["status"] == "new"


def test_a_staff_member_takes_a_report_and_finds_it_under_my_reports(town):
    technical, admin = _sign_in(town, "technical"), _sign_in(town, "admin")
    _sign_in(town, "police")
    people = town.call("GET", "/api/v1/reports/assignees", params={"kind": "report"}).json()["items"]
    assert {p["id"] for p in people} == {technical["subject"], admin["subject"]}  # not the police
    report = _desk_report(town, "Perdita d'acqua in piazza")
    other = _desk_report(town, "Marciapiede rotto")

    mine = town.call("POST", f"/api/v1/reports/{report['id']}/assignee", json={"assignee": "me"})
    assert mine.status_code == 200, mine.text
    assert mine.json()["assignee"] == {"id": technical["subject"], "name": technical["name"]}
    entry = [e for e in mine.json()["events"] if e["action"] == "assignee"]
    assert len(entry) == 1 and not entry[0]["public"] and entry[0]["data"]["assignee"] == technical["subject"]
    assert [r["id"] for r in town.reports(assignee="me")] == [report["id"]]
    assert town.call("GET", "/api/v1/reports", role="admin", params={"assignee": "me"}).json()["items"] == []
    assert [e["target"] for e in _audit(town) if e["action"] == "report.assign"] == [report["id"]]

    handed = _bulk(town, ids=[report["id"], other["id"]], action="assignee", assignee=admin["subject"])
    assert [r["result"] for r in handed.json()["results"]] == ["done", "done"], handed.text
    assert town.reports(assignee="me") == []
    assert {r["id"] for r in town.call("GET", "/api/v1/reports", role="admin",
                                       params={"assignee": "me"}).json()["items"]} == {report["id"], other["id"]}
    released = town.call("POST", f"/api/v1/reports/{other['id']}/assignee", json={"assignee": None})
    assert released.status_code == 200 and released.json()["assignee"] is None


def test_a_report_goes_only_to_staff_whose_roles_reach_it(town):
    police = _sign_in(town, "police")
    report = _desk_report(town, "Tombino aperto")
    for assignee in (police["subject"], "nessuno"):
        refused = town.call("POST", f"/api/v1/reports/{report['id']}/assignee", json={"assignee": assignee})
        assert refused.status_code == 422, refused.text
        assert refused.json()["error"]["details"][0]["field"] == "assignee"
    bulk = _bulk(town, ids=[report["id"]], action="assignee", assignee=police["subject"])
    assert bulk.json()["results"][0]["result"] == "refused"
    assert town.report(report["id"])["assignee"] is None


def test_tips_stay_with_the_police(stack):
    line = SafetyLine(stack)

    def call(method, path, role, **kwargs):
        return line.call(method, path, role=role, **kwargs)
    technical = call("GET", "/api/v1/me", "technical").json()
    police = call("GET", "/api/v1/me", "police").json()
    tip = call("POST", "/api/v1/reports", "police", json={"kind": "safety", "source": "phone",
                                                           "text": "Auto sospetta in via Dante"}).json()

    assert call("GET", "/api/v1/reports/assignees", "technical", params={"kind": "safety"}).status_code == 403
    people = call("GET", "/api/v1/reports/assignees", "police", params={"kind": "safety"}).json()["items"]
    assert [p["id"] for p in people] == [police["subject"]]
    assert call("POST", f"/api/v1/reports/{tip['id']}/assignee", "technical",
                json={"assignee": "me"}).status_code == 404
    refused = call("POST", f"/api/v1/reports/{tip['id']}/assignee", "police", json={"assignee": technical["subject"]})
    assert refused.status_code == 422 and refused.json()["error"]["details"][0]["field"] == "assignee"
    for action in ({"action": "close", "to": "rejected"}, {"action": "assignee", "assignee": "me"}):
        for role in ("technical", "admin"):
            bulk = call("POST", "/api/v1/reports/bulk", role, json={"ids": [tip["id"]], **action})
            assert bulk.status_code == 200 and bulk.json()["results"][0]["result"] == "not_found", bulk.text
    assert call("POST", "/api/v1/reports/bulk", "police",
                json={"ids": [tip["id"]], "action": "triage"}).json()["results"][0]["result"] == "done"
    report = call("POST", "/api/v1/reports", "technical", json={"source": "phone", "text": "Buca in piazza"}).json()
    assert call("GET", "/api/v1/reports/assignees", "police", params={"kind": "report"}).status_code == 403
    assert call("POST", f"/api/v1/reports/{report['id']}/assignee", "police",
                json={"assignee": "me"}).status_code == 404  # the police do not handle citizens' reports
    assert call("POST", "/api/v1/reports/bulk", "police", json={"ids": [report["id"]], "action": "triage"}) \
        .json()["results"][0]["result"] == "not_found"
    closed = call("POST", "/api/v1/reports/bulk", "police", json={"ids": [tip["id"]], "action": "close",
                                                                  "to": "resolved", "outcome": "patrol_sent"})
    assert closed.json()["results"][0]["result"] == "done", closed.text
    shown = call("GET", f"/api/v1/reports/{tip['id']}", "police").json()
    assert shown["status"] == "resolved" and shown["outcome"] == "patrol_sent"
    assert [e["target"] for e in call("GET", "/api/v1/audit", "admin", params={"limit": "50"}).json()["items"]
            if e["action"].startswith("report.bulk.")] == [tip["id"], tip["id"]]


def test_a_role_without_reports_cannot_act_in_bulk(stack, town):
    token = stack.issuer.token(town.tenant, ["communications"])
    for method, path, kwargs in (("POST", "/api/v1/reports/bulk", {"json": {"ids": ["2026-0000001"],
                                                                           "action": "triage"}}),
                                 ("GET", "/api/v1/reports/assignees", {})):
        answer = requests.request(method, f"{stack.api_url}{path}", timeout=20,
                                  headers={"Authorization": f"Bearer {token}"}, **kwargs)
        assert answer.status_code == 403, answer.text


def test_another_comune_acting_in_bulk_finds_nothing(stack, town):
    report = _desk_report(town, "Fontana rotta")
    stranger = Town(stack)
    answer = _bulk(stranger, ids=[report["id"]], action="close", to="rejected")
    assert answer.status_code == 200 and answer.json()["results"][0]["result"] == "not_found"
    assert "Fontana" not in answer.text
    assert town.report(report["id"])["status"] == "new"


def test_the_demo_staff_can_be_assigned_before_they_sign_in(stack, api):
    demo = stack.staff_sign_in.subjects  # the demo users as the console signs them in (make dev's Cognito pool)
    people = wait_for(lambda: api.call("GET", "/api/v1/reports/assignees", role="technical").json()["items"], 5)
    assert {demo["technical"], demo["admin"]} <= {p["id"] for p in people}
    assert demo["police"] not in {p["id"] for p in people}
