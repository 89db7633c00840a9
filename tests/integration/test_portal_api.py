"""The citizen portal's API over HTTP: the report form feeds the staff inbox, the map and the status view show
nothing personal, and only photos staff published appear, as their copy without metadata."""
from __future__ import annotations

import base64
import io
import json
import os
import uuid

import pytest
import requests
from PIL import Image

from chalicelib.services import abuse
from chalicelib.services.reports import web_form
from tests.integration.test_reports import CENTRE, Town, photo_jpeg


@pytest.fixture(autouse=True)
def own_allowance(monkeypatch):
    """A fresh per-client allowance for this test: all tests share one client address (127.0.0.1)."""
    monkeypatch.setattr(web_form, "PER_CLIENT", abuse.Limit(f"test-web-report-{uuid.uuid4().hex}", 10, 3600))


class PortalTown(Town):
    """A comune of its own (as test_reports' Town) whose ids never meet another test's: report numbers from 1."""

    def __init__(self, stack):
        from chalicelib.domain.tenancy import Channel
        from chalicelib.store import directory
        from local.seed import REPORTS, TEMPLATES, _square

        n = uuid.uuid4().int % 10**9
        self.stack, self.tenant, self.channel = stack, f"portale{n}", f"36{n:013d}"  # 31... is test_console_api's
        directory.save_tenant(self.tenant, f"Comune di Portale {n}", {
            "hamlets": [{"id": "colle", "name": "Colle", "latitude": CENTRE[0], "longitude": CENTRE[1],
                         "geometry": _square(*CENTRE)},
                        {"id": "piano", "name": "Piano", "latitude": 43.7190, "longitude": 10.9460,
                         "geometry": _square(43.7190, 10.9460)}],
            "privacy_notice_url": "https://example.org/privacy", "privacy_notice_version": "v1", "reports": REPORTS})
        directory.save_channel(Channel(self.channel, self.tenant, "reports", "Segnalazioni", "+39 0571 920000", {
            "rate_per_second": 200, "templates": {"report_update": {"name": "aggiornamento_segnalazione"},
                                                  "follow_confirm": {"name": "conferma_aggiornamenti"}}}))
        stack.sandbox.add_channel({"phone_number_id": self.channel, "kind": "reports", "tenant": self.tenant,
                                   "templates": TEMPLATES})
        self.tokens = {role: stack.issuer.token(self.tenant, [role]) for role in ("technical", "police", "admin")}


@pytest.fixture
def town(stack):
    return PortalTown(stack)


def file(town: Town, **form) -> requests.Response:
    body = {"category": "strade", "description": "Buca profonda", **form}
    return requests.post(f"{town.stack.api_url}/public/v1/{town.tenant}/reports", json=body, timeout=30)


def public(town: Town, path: str) -> requests.Response:
    return requests.get(f"{town.stack.api_url}/public/v1/{town.tenant}/{path}", timeout=30)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def test_a_form_report_reaches_the_inbox_and_only_published_photos_reach_the_map(town):
    original = photo_jpeg()
    answer = file(town, position={"latitude": CENTRE[0] + 0.001, "longitude": CENTRE[1]},
                  photos=[{"data": "data:image/jpeg;base64," + b64(original)}], address="via Roma 3, casa Rossi")
    assert answer.status_code == 201, answer.text
    filed = answer.json()
    assert filed["number"].endswith("/1") and filed["duplicate_of"] is None and filed["number"] in filed["message"]

    [listed] = town.reports()
    assert (listed["number"], listed["hamlet"], listed["source"], listed["status"]) == (
        filed["number"], "colle", "web", "new")
    detail = town.report(listed["id"])
    [photo] = detail["photos"]
    assert photo["status"] == "stored" and photo["published"] is False
    assert requests.get(photo["url"], timeout=10).content == original  # staff see the original

    def on_map() -> dict:
        [item] = public(town, "reports").json()["items"]
        return item
    assert on_map()["photos"] == []  # not published: not shown
    status = public(town, f"status/{filed['token']}").json()
    assert status["photos"] == [] and status["hamlet_name"] == "Colle" and status["status_label"] == "ricevuta"

    published = town.call("POST", f"/api/v1/reports/{listed['id']}/photos/{photo['id']}/publish",
                          json={"published": True})
    assert published.status_code == 200, published.text
    assert published.json()["photos"][0]["published"] is True
    [shown] = on_map()["photos"]
    assert "/public." in shown["url"] and "original" not in shown["url"]
    copy = requests.get(shown["url"], timeout=10).content
    assert copy != original and not Image.open(io.BytesIO(copy)).getexif()  # no EXIF, no GPS
    assert public(town, f"status/{filed['token']}").json()["photos"][0]["url"].split("?")[0] == shown["url"].split("?")[0]

    text = json.dumps(public(town, "reports").json()) + public(town, f"status/{filed['token']}").text
    assert "Rossi" not in text and "Buca profonda" not in text and "original" not in text

    assert town.call("POST", f"/api/v1/reports/{listed['id']}/photos/{photo['id']}/publish",
                     json={"published": False}).status_code == 200
    assert on_map()["photos"] == []
    audit = town.call("GET", "/api/v1/audit", role="admin")
    assert audit.status_code == 200, audit.text
    actions = [e["action"] for e in audit.json()["items"]]
    assert "report.photo.publish" in actions and "report.photo.unpublish" in actions


def test_the_map_shows_nothing_personal_no_tips_and_no_rejected_reports(town):
    desk = town.call("POST", "/api/v1/reports", json={
        "source": "phone", "text": "Lampione spento, chiamatemi al 333 1234567", "category": "illuminazione",
        "position": {"latitude": CENTRE[0], "longitude": CENTRE[1]},
        "contact": {"name": "Anna Bianchi", "phone": "+39 333 123 4567", "email": "anna@example.org"}})
    assert desk.status_code == 201, desk.text
    note = town.call("POST", f"/api/v1/reports/{desk.json()['id']}/notes",
                     json={"note": "Richiamare Anna al 333 1234567", "public": True})
    assert note.status_code == 200
    tip = town.call("POST", "/api/v1/reports", role="police", json={
        "kind": "safety", "source": "phone", "text": "Auto sospetta", "position": {"latitude": CENTRE[0],
                                                                                  "longitude": CENTRE[1]}})
    assert tip.status_code == 201, tip.text
    rejected = town.call("POST", "/api/v1/reports", json={"source": "desk", "text": "Prova scherzosa",
                                                          "category": "altro", "hamlet": "piano"})
    assert town.step(rejected.json()["id"], "rejected", note="Non pertinente").status_code == 200

    items = public(town, "reports").json()["items"]
    assert [i["number"] for i in items] == [desk.json()["number"]]
    assert items[0]["category_name"] == "Illuminazione pubblica" and items[0]["open"] is True
    text = public(town, "reports").text
    for personal in ("Anna", "Bianchi", "1234567", "anna@example.org", "Auto sospetta", "Lampione spento"):
        assert personal not in text

    # a tip's photos are never published, whatever the roles; other roles do not even see the tip
    assert town.call("POST", f"/api/v1/reports/{tip.json()['id']}/photos/abc/publish", role="police",
                     json={"published": True}).status_code == 409
    assert town.call("POST", f"/api/v1/reports/{tip.json()['id']}/photos/abc/publish",
                     json={"published": True}).status_code == 404
    assert town.call("POST", f"/api/v1/reports/{desk.json()['id']}/photos/nope/publish",
                     json={"published": True}).status_code == 404


def test_the_status_view_and_the_no_script_page_by_token(town):
    filed = file(town, hamlet="piano", description="Cassonetto rotto").json()
    status = public(town, f"status/{filed['token']}")
    assert status.status_code == 200 and status.headers["Cache-Control"] == "no-store"
    body = status.json()
    assert (body["location"], body["hamlet"], body["comune"]) == (None, "piano", f"Comune di Portale {town.tenant[7:]}")
    assert [e["status"] for e in body["events"]] == ["new"]
    assert public(town, "status/not-a-token").status_code == 404
    page = requests.get(f"{town.stack.api_url}/s/{filed['token']}", timeout=10).text
    assert f"/portal/#/r/{filed['token']}" in page and f"Segnalazione n. {filed['number']}" in page


def test_the_same_problem_twice_is_a_duplicate_followed_together(town):
    first = file(town, position={"latitude": CENTRE[0], "longitude": CENTRE[1]}).json()
    second = file(town, position={"latitude": CENTRE[0] + 0.0002, "longitude": CENTRE[1]}).json()
    assert second["duplicate_of"] == first["number"] and first["number"] in second["message"]
    assert [i["number"] for i in public(town, "reports").json()["items"]] == [first["number"]]


def test_following_on_whatsapp_makes_the_phone_the_reporter_once_confirmed(town, new_phone):
    citizen = town.phone(f"+39 347 555 {uuid.uuid4().int % 10_000:04d}")
    filed = file(town, hamlet="colle", follow={"phone": citizen.number, "consent": True}).json()
    [listed] = town.reports()
    assert town.report(listed["id"])["contact"] == {"phone": citizen.e164}
    # issue 13: the number confirms on WhatsApp first (test_public_surfaces has what happens until it does)
    [confirmation] = citizen.wait_inbox(1, timeout=15)
    assert confirmation["type"] == "template" and filed["number"] in json.dumps(confirmation)
    payload = next(p["payload"] for c in confirmation["body"]["template"]["components"] if c["type"] == "button"
                   for p in c["parameters"])
    citizen.send(type="quick_reply", id=payload, title="Sì, aggiornatemi")
    citizen.wait_inbox(2, timeout=15)
    assert town.report(listed["id"])["reporter"] == {"channel": town.channel, "citizen": citizen.e164}
    assert town.step(listed["id"], "triaged", note="Sopralluogo domani", public=True).status_code == 200
    update = citizen.wait_inbox(3, timeout=15)[2]
    assert update["type"] == "text" and filed["number"] in json.dumps(update)  # the tap opened the 24-hour window


@pytest.mark.parametrize("form, field", [
    ({"website": "http://spam.example"}, "form"),
    ({}, "position"),
    ({"hamlet": "colle", "category": "nessuna"}, "category"),
    ({"hamlet": "nessuna"}, "hamlet"),
    ({"hamlet": "colle", "photos": [{"data": base64.b64encode(b"GIF89a" + b"\0" * 40).decode()}]}, "photos.0"),
    ({"hamlet": "colle", "photos": [{"data": "%%%"}]}, "photos.0"),
    ({"hamlet": "colle", "follow": {"phone": "+39 347 000 1111", "consent": False}}, "follow.consent"),
    ({"hamlet": "colle", "follow": {"phone": "12", "consent": True}}, "follow.phone"),
])
def test_refusals_are_clear_and_file_nothing(town, form, field):
    answer = file(town, **form)
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"]["details"][0]["field"] == field
    assert town.reports() == []


def test_too_large_and_too_many(town, monkeypatch):
    big = file(town, hamlet="colle", description="x" * 100, photos=[{"data": "A" * 1_000_000}] * 6)
    assert big.status_code == 413
    noise = Image.frombytes("RGB", (700, 700), os.urandom(700 * 700 * 3))  # does not compress
    heavy = io.BytesIO()
    noise.save(heavy, "PNG")
    assert len(heavy.getvalue()) > web_form.PHOTO_MAX_BYTES
    too_big = file(town, hamlet="colle", photos=[{"data": b64(heavy.getvalue())}])
    assert too_big.status_code == 422 and "troppo grande" in too_big.json()["error"]["message"]

    monkeypatch.setattr(web_form, "PER_CLIENT", abuse.Limit(f"test-web-report-{uuid.uuid4().hex}", 2, 3600))
    codes = [file(town, hamlet="colle").status_code for _ in range(3)]
    assert codes == [201, 201, 429]
    limited = file(town, hamlet="colle")
    assert int(limited.headers["Retry-After"]) >= 1 and "riprova" in limited.json()["error"]["message"]


def test_the_portal_set_up_has_outlines_categories_and_topics(stack):
    body = requests.get(f"{stack.api_url}/public/v1/demo/portal", timeout=10).json()
    assert body["name"] == "Comune di Esempio" and body["subscriptions"] is True and body["follow_on_whatsapp"] is True
    assert {f["id"] for f in body["hamlets"]["features"]} == {"capoluogo", "pieve", "santandrea", "pontenuovo"}
    assert all(f["geometry"]["type"] == "Polygon" for f in body["hamlets"]["features"])
    assert {"id": "strade", "name": "Strade e marciapiedi"} in body["categories"]
    assert body["reports_whatsapp"] == "+39 0571 000002"
    assert requests.get(f"{stack.api_url}/public/v1/nessuno/portal", timeout=10).status_code == 404
