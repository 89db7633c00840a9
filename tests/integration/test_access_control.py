"""Who may reach what: one comune's staff against every id of another, roles against kinds of data, and
fields no caller may set. Every refusal is checked, and where it matters, that it leaks no existence."""
from __future__ import annotations

from urllib.parse import quote

import pytest
import requests

from tests.integration.conftest import BROADCAST, REPORTS, SAFETY
from tests.waiting import wait_for

OTHER_TENANT_ROLES = ["admin", "communications", "technical", "police"]


@pytest.fixture(scope="module")
def demo_ids(stack):
    """Real ids of the demo comune: a report, a tip, a broadcast and a subscriber on each channel kind."""
    tokens = stack.state()["tokens"]

    def call(method, path, role, **kwargs):
        return requests.request(method, f"{stack.api_url}{path}", timeout=20,
                                headers={"Authorization": f"Bearer {tokens[role]}"}, **kwargs)

    report = call("POST", "/api/v1/reports", "technical", json={"source": "desk", "text": "Buca in piazza"}).json()
    tip = call("POST", "/api/v1/reports", "police", json={"kind": "safety", "source": "phone",
                                                           "text": "Auto sospetta in via Dante"}).json()
    broadcast = call("POST", "/api/v1/broadcasts", "communications",
                     json={"channel": BROADCAST, "text": "Prova accessi", "draft": True}).json()
    resident = call("POST", "/api/v1/subscribers", "police", json={
        "channel": SAFETY, "phone": "+39 347 555 0101", "name": "Anna", "address": "Via Po 1", "hamlet": "pieve"})
    assert resident.status_code in (200, 201), resident.text
    subscriber = call("POST", "/api/v1/subscribers", "communications", json={"channel": BROADCAST,
                                                                              "phone": "+39 347 555 0102"})
    assert subscriber.status_code in (200, 201), subscriber.text
    return {"report": report["id"], "tip": tip["id"], "broadcast": broadcast["id"],
            "resident": "+393475550101", "subscriber": "+393475550102"}


def requests_on(ids: dict) -> list[tuple[str, str, dict]]:
    """Every staff operation that names a demo id, with a body that would be valid for the demo comune."""
    report, tip, broadcast = ids["report"], ids["tip"], ids["broadcast"]
    subscriber, resident = quote(ids["subscriber"]), quote(ids["resident"])
    return [
        ("GET", f"/api/v1/reports/{report}", {}),
        ("GET", f"/api/v1/reports/{tip}", {}),
        ("POST", f"/api/v1/reports/{report}/transitions", {"json": {"to": "triaged"}}),
        ("POST", f"/api/v1/reports/{tip}/transitions", {"json": {"to": "triaged"}}),
        ("POST", f"/api/v1/reports/{report}/notes", {"json": {"note": "x"}}),
        ("POST", f"/api/v1/reports/{report}/merge", {"json": {"into": tip}}),
        ("POST", f"/api/v1/reports/{report}/assignee", {"json": {"assignee": "me"}}),
        ("POST", f"/api/v1/reports/{tip}/assignee", {"json": {"assignee": "me"}}),
        ("GET", f"/api/v1/broadcasts/{broadcast}", {}),
        ("POST", f"/api/v1/broadcasts/{broadcast}/preview", {}),
        ("POST", f"/api/v1/broadcasts/{broadcast}/schedule", {}),
        ("POST", f"/api/v1/broadcasts/{broadcast}/cancel", {}),
        ("GET", f"/api/v1/subscribers/{subscriber}", {"params": {"channel": BROADCAST}}),
        ("GET", f"/api/v1/subscribers/{subscriber}/consents", {"params": {"channel": BROADCAST}}),
        ("DELETE", f"/api/v1/subscribers/{subscriber}", {"params": {"channel": BROADCAST}}),
        ("GET", f"/api/v1/subscribers/{resident}", {"params": {"channel": SAFETY}}),
        ("DELETE", f"/api/v1/subscribers/{resident}", {"params": {"channel": SAFETY}}),
        ("GET", "/api/v1/subscribers", {"params": {"channel": REPORTS}}),
        ("POST", "/api/v1/broadcasts", {"json": {"channel": BROADCAST, "text": "Intruso"}}),
        ("POST", "/api/v1/subscribers", {"json": {"channel": BROADCAST, "phone": "+39 347 555 0199"}}),
        ("GET", f"/api/v1/channels/{BROADCAST}/templates", {}),
        ("POST", f"/api/v1/channels/{BROADCAST}/templates/refresh", {}),
        ("POST", f"/api/v1/channels/{BROADCAST}/templates", {"json": {"name": "intruso", "body": "Ciao."}}),
        ("PUT", f"/api/v1/channels/{BROADCAST}/templates/purposes/notice", {"json": {"name": "avviso_comune"}}),
        ("GET", f"/api/v1/channels/{SAFETY}/settings", {}),
        ("PUT", f"/api/v1/channels/{BROADCAST}/settings", {"json": {"version": 0, "settings": {"messaging_limit": 5}}}),
    ]


@pytest.mark.parametrize("role", OTHER_TENANT_ROLES)
def test_another_comune_reaches_no_id_of_this_one(stack, demo_ids, role):
    token = stack.issuer.token("altrove", [role])
    for method, path, kwargs in requests_on(demo_ids):
        answer = requests.request(method, f"{stack.api_url}{path}", timeout=20,
                                  headers={"Authorization": f"Bearer {token}"}, **kwargs)
        assert answer.status_code in (403, 404), (role, method, path, answer.status_code, answer.text)
        assert "Buca" not in answer.text and "Anna" not in answer.text and "+39347555" not in answer.text
    lists = [("/api/v1/reports", {}), ("/api/v1/reports", {"kind": "safety"}), ("/api/v1/broadcasts", {}),
             ("/api/v1/audit", {})]
    for path, params in lists:
        answer = requests.get(f"{stack.api_url}{path}", params=params, timeout=20,
                              headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code in (200, 403), (path, answer.text)
        if answer.status_code == 200 and path == "/api/v1/audit":  # its own trail: its refused attempts, its reads
            assert all(e["action"].startswith("refused.") or e["action"] == "audit.read"
                       for e in answer.json()["items"]), answer.text
        elif answer.status_code == 200:
            assert answer.json()["items"] == [], (role, path)  # its own, empty comune


def test_the_demo_ids_are_real(api, demo_ids):
    """The refusals above mean something: the same calls succeed for the demo comune's own staff."""
    assert api.call("GET", f"/api/v1/reports/{demo_ids['report']}", role="technical").status_code == 200
    assert api.call("GET", f"/api/v1/reports/{demo_ids['tip']}", role="police").status_code == 200
    assert api.call("GET", f"/api/v1/broadcasts/{demo_ids['broadcast']}", role="communications").status_code == 200
    assert api.call("GET", f"/api/v1/subscribers/{quote(demo_ids['resident'])}", role="police",
                    params={"channel": SAFETY}).status_code == 200


@pytest.mark.parametrize("role,kind_visible", [
    ("technical", {"report": True, "safety": False}),
    ("admin", {"report": True, "safety": False}),
    ("police", {"report": False, "safety": True}),
    ("communications", {"report": False, "safety": False}),
])
def test_roles_see_only_their_kind_of_report(api, demo_ids, role, kind_visible):
    for kind, visible in kind_visible.items():
        answer = api.call("GET", "/api/v1/reports", role=role, params={"kind": kind})
        assert answer.status_code == (200 if visible else 403), (role, kind)
        item_id = demo_ids["report" if kind == "report" else "tip"]
        detail = api.call("GET", f"/api/v1/reports/{item_id}", role=role)
        assert detail.status_code == (200 if visible else 404 if role != "communications" else 403), (role, kind)
    listed = api.call("GET", "/api/v1/reports", role=role)
    if listed.status_code == 200:
        kinds = {item["kind"] for item in listed.json()["items"]}
        assert kinds <= {k for k, v in kind_visible.items() if v}


@pytest.mark.parametrize("path,body", [
    ("/api/v1/reports", {"source": "desk", "text": "Buca", "status": "resolved"}),
    ("/api/v1/reports", {"source": "desk", "text": "Buca", "tenant_id": "altrove"}),
    ("/api/v1/reports", {"source": "desk", "text": "Buca", "number": "2026/1"}),
    ("/api/v1/reports", {"source": "desk", "text": "Buca", "followers": ["x"]}),
    ("/api/v1/broadcasts", {"channel": BROADCAST, "text": "Ciao", "status": "completed"}),
    ("/api/v1/broadcasts", {"channel": BROADCAST, "text": "Ciao", "counters": {"sent": 5}}),
    ("/api/v1/subscribers", {"channel": BROADCAST, "phone": "+39 347 555 0150", "status": "active",
                             "tenant_id": "altrove"}),
])
def test_fields_no_caller_may_set_are_refused(api, path, body):
    answer = api.call("POST", path, role="admin", json=body)
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"]["code"] == "invalid_request"


def test_a_step_cannot_smuggle_other_fields(api, demo_ids):
    answer = api.call("POST", f"/api/v1/reports/{demo_ids['report']}/transitions", role="technical",
                      json={"to": "triaged", "tenant_id": "altrove", "created_at": "2020-01-01"})
    assert answer.status_code == 422


def test_a_citizen_asks_about_another_citizens_report(stack, new_phone, api):
    author, other = new_phone(REPORTS), new_phone(REPORTS)
    author.text("Lampione spento in via Verdi")
    number = wait_for(lambda: next((m["text"].split("n. ")[1].split(" ")[0] for m in author.inbox()
                                    if "n. " in (m.get("text") or "")), None), 15)
    other.text(f"STATO {number}")
    answer = wait_for(lambda: next((m["text"] for m in other.inbox() if "Non troviamo" in (m.get("text") or "")), None), 15)
    assert "Lampione" not in answer and "Verdi" not in answer


def _cursor(key) -> str:
    import base64
    import json

    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode()


@pytest.mark.parametrize("path,role,params,foreign", [
    ("/api/v1/broadcasts", "communications", {}, {"tenant_id": {"S": "altrove"}, "broadcast_id": {"S": "x"}}),
    ("/api/v1/reports", "technical", {}, {"tenant_id": {"S": "altrove"}, "report_id": {"S": "2026-0000001"}}),
    ("/api/v1/subscribers", "communications", {"channel": BROADCAST},
     {"channel_id": {"S": "999"}, "citizen_key": {"S": "+393470000000"}}),
])
def test_forged_or_foreign_cursors_are_a_clear_422(api, path, role, params, foreign):
    for cursor in ("%%%", _cursor({"foo": 1}), _cursor([1, 2]), _cursor(foreign)):
        answer = api.call("GET", path, role=role, params={**params, "cursor": cursor})
        assert answer.status_code == 422, (path, cursor, answer.text)
