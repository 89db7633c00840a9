"""Issue 14, items 7 and 8: a report entered at the desk (with photos), staff's corrections of what automation
guessed, the public text staff approve (until then no surface shows anything a citizen wrote), and boxes painted
over a photo's public copy before it is published."""
from __future__ import annotations

import base64
import io
import json
import uuid

import pytest
import requests
from PIL import Image

from chalicelib.services import abuse
from chalicelib.services.reports import web_form
from tests.integration.own_comuni import OwnTown
from tests.integration.test_public_surfaces import ADDRESS, PERSONAL, PIN, TEXT, Comune
from tests.leaks import shown

TITLE = "Buca sulla carreggiata"
DESCRIPTION = "Buca profonda sulla carreggiata vicino al parcheggio: transennata in attesa dei lavori."
SURFACES = ("open311", "portal", "status-page")


@pytest.fixture(autouse=True)
def own_allowance(monkeypatch):
    monkeypatch.setattr(web_form, "PER_CLIENT", abuse.Limit(f"test-moderation-{uuid.uuid4().hex}", 10, 3600))


def picture(color=(255, 255, 255), size=(200, 100), fmt="PNG") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, format=fmt)
    return out.getvalue()


def pixel(data: bytes, x: int, y: int) -> tuple:
    return Image.open(io.BytesIO(data)).convert("RGB").getpixel((x, y))


# ---- the public text ----------------------------------------------------------------------------------------

@pytest.fixture
def citizen_report(stack):
    """A report filed on the portal with a name, a phone, a house number and the citizen's own words, and one
    taken at the desk with the same words and the citizen's contact."""
    comune = Comune(stack)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(web_form, "PER_CLIENT", abuse.Limit(f"test-moderation-{uuid.uuid4().hex}", 10, 3600))
        web = comune.file(description=TEXT, address=ADDRESS, position={"latitude": PIN[0], "longitude": PIN[1]})
    assert web.status_code == 201, web.text
    desk = comune.staff("POST", "/api/v1/reports", json={
        "source": "phone", "text": TEXT, "category": "illuminazione", "hamlet": "colle", "address": ADDRESS,
        "contact": {"name": "Mario Rossi", "phone": "+39 347 555 0199", "email": "mario.rossi@example.org"}})
    assert desk.status_code == 201, desk.text
    return comune, web.json()["token"], desk.json()


def public_text(comune: Comune, token: str, surface: str) -> str:
    if surface == "open311":
        answers = [comune.open311("requests.json"), comune.open311("requests.xml")]
    elif surface == "portal":
        answers = [comune.portal("reports"), comune.portal(f"status/{token}")]
    else:
        answers = [requests.get(f"{comune.stack.api_url}/s/{token}", timeout=30)]
    assert all(a.status_code == 200 for a in answers), [a.text[:300] for a in answers]
    texts = [json.dumps(a.json(), ensure_ascii=False) if "json" in a.headers["Content-Type"] else a.text
             for a in answers]
    return shown("\n".join(texts), token)


def approve(comune: Comune, report_id: str, title: str, description: str) -> requests.Response:
    return comune.staff("PUT", f"/api/v1/reports/{report_id}/public-text",
                        json={"title": title, "description": description})


@pytest.mark.parametrize("surface", SURFACES)
def test_only_an_approved_public_text_reaches_each_surface(citizen_report, surface):
    comune, token, desk = citizen_report
    web = next(r for r in comune.reports() if r["id"] != desk["id"])
    before = public_text(comune, token, surface)
    assert [p for p in PERSONAL if p in before] == []
    assert "Strade e marciapiedi — Colle" in before  # the default, public at once
    assert TITLE not in before

    shown = comune.staff("GET", f"/api/v1/reports/{web['id']}").json()
    assert shown["public"] == {"title": "Strade e marciapiedi", "description": "Strade e marciapiedi — Colle",
                               "approved": False, "approved_by": None, "approved_at": None}
    approved = approve(comune, web["id"], TITLE, DESCRIPTION)
    assert approved.status_code == 200, approved.text
    assert approved.json()["public"]["approved"] is True and approved.json()["public"]["title"] == TITLE
    assert approved.json()["text"] == TEXT  # the citizen's words stay, for staff

    after = public_text(comune, token, surface)
    assert DESCRIPTION in after
    if surface != "open311":  # GeoReport v2 has no title: its description is the approved one
        assert TITLE in after
    assert "Strade e marciapiedi — Colle" not in after  # the approved text replaced the default
    assert [p for p in PERSONAL if p in after] == []


def test_the_desk_report_and_its_contact_stay_internal_until_a_text_is_approved(citizen_report):
    comune, _, desk = citizen_report
    listed = comune.portal("reports").json()["items"]
    mine = next(r for r in listed if r["id"] == desk["id"])
    assert (mine["title"], mine["description"]) == ("Illuminazione pubblica", "Illuminazione pubblica — Colle")
    for text in (comune.portal("reports").text, comune.open311("requests.json").text):
        assert [p for p in PERSONAL if p in text] == []
    assert approve(comune, desk["id"], "Lampione spento", "Lampione spento in piazza: segnalato al gestore, "
                   "per urgenze 0571 123456").status_code == 200
    shown = next(r for r in comune.portal("reports").json()["items"] if r["id"] == desk["id"])
    assert shown["title"] == "Lampione spento"
    assert "123456" not in shown["description"] and "[telefono]" in shown["description"]  # contacts masked


def test_a_public_text_is_bounded_audited_and_a_tip_has_none(stack):
    town = OwnTown(stack)
    report = town.call("POST", "/api/v1/reports", json={"source": "desk", "text": "Buca in via dei Mille"}).json()
    too_long = town.call("PUT", f"/api/v1/reports/{report['id']}/public-text",
                         json={"title": "x" * 121, "description": "Buca"})
    assert too_long.status_code == 422 and too_long.json()["error"]["details"][0]["field"] == "title"
    blank = town.call("PUT", f"/api/v1/reports/{report['id']}/public-text", json={"title": "Buca", "description": "  "})
    assert blank.status_code == 422 and blank.json()["error"]["details"][0]["field"] == "description"
    ok = town.call("PUT", f"/api/v1/reports/{report['id']}/public-text", json={"title": "Buca", "description": "Buca grande"})
    assert ok.status_code == 200, ok.text
    assert [e["action"] for e in ok.json()["events"]][-1] == "public_text"
    assert not ok.json()["events"][-1]["public"]
    trail = town.call("GET", "/api/v1/audit", role="admin", params={"limit": "50"}).json()["items"]
    assert any(e["action"] == "report.public_text.approve" and e["target"] == report["id"] for e in trail)

    tip = town.call("POST", "/api/v1/reports", role="police", json={"kind": "safety", "source": "phone",
                                                                    "text": "Auto sospetta"}).json()
    refused = town.call("PUT", f"/api/v1/reports/{tip['id']}/public-text", role="police",
                        json={"title": "Auto", "description": "Auto sospetta"})
    assert refused.status_code == 403  # the police have no reports to publish


# ---- corrections --------------------------------------------------------------------------------------------

def test_staff_correct_category_hamlet_position_and_address_each_on_the_timeline_and_audited(stack):
    town = OwnTown(stack)
    report = town.call("POST", "/api/v1/reports", json={
        "source": "desk", "text": "Lampione spento", "category": "strade", "hamlet": "colle"}).json()
    path = f"/api/v1/reports/{report['id']}"
    answer = town.call("PATCH", path, json={"category": "illuminazione", "address": "Via Roma 3"})
    assert answer.status_code == 200, answer.text
    assert (answer.json()["category"], answer.json()["address"]) == ("illuminazione", "Via Roma 3")

    moved = town.call("PATCH", path, json={"position": {"latitude": 43.7190, "longitude": 10.9460}})  # in Piano
    assert moved.status_code == 200, moved.text
    assert moved.json()["location"]["latitude"] == 43.7190 and moved.json()["hamlet"] == "piano"  # follows the pin
    back = town.call("PATCH", path, json={"hamlet": "colle"})
    assert back.json()["hamlet"] == "colle"
    same = town.call("PATCH", path, json={"hamlet": "colle", "address": "Via Roma 3"})  # nothing changes
    assert same.status_code == 200 and len(same.json()["events"]) == len(back.json()["events"])

    corrections = [(e["data"]["field"], e["data"]["from"], e["data"]["to"], e["public"])
                   for e in back.json()["events"] if e["action"] == "corrected"]
    assert corrections == [
        ("category", "strade", "illuminazione", False), ("address", None, "Via Roma 3", False),
        ("position", None, {"latitude": 43.719, "longitude": 10.946}, False), ("hamlet", "colle", "piano", False),
        ("hamlet", "piano", "colle", False)]
    trail = town.call("GET", "/api/v1/audit", role="admin", params={"limit": "50"}).json()["items"]
    audited = sorted(e["action"] for e in trail if e["target"] == report["id"] and e["action"].startswith("report.correct"))
    assert audited == ["report.correct.address", "report.correct.category", "report.correct.hamlet",
                       "report.correct.hamlet", "report.correct.position"]  # the pin moved the hamlet, then staff


@pytest.mark.parametrize("body, field", [
    ({"category": "astronavi"}, "category"),
    ({"hamlet": "marte"}, "hamlet"),
    ({"position": {"latitude": 45.4642, "longitude": 9.19}}, "position"),  # Milan: outside the comune
    ({"position": {"latitude": 91, "longitude": 9.19}}, "position.latitude"),
    ({"address": "   "}, "address"),
    ({"status": "resolved"}, "status"),
    ({}, ""),  # nothing to correct
    ({"category": None}, ""),
])
def test_a_bad_correction_is_a_422_naming_the_field_and_changes_nothing(stack, body, field):
    town = OwnTown(stack)
    report = town.call("POST", "/api/v1/reports", json={"source": "desk", "text": "Buca", "hamlet": "colle"}).json()
    refused = town.call("PATCH", f"/api/v1/reports/{report['id']}", json=body)
    assert refused.status_code == 422, refused.text
    assert refused.json()["error"]["details"][0]["field"] == field
    after = town.report(report["id"])
    assert (after["category"], after["hamlet"], after["location"], after["status"]) == (
        report["category"], "colle", None, "new")
    assert len(after["events"]) == len(report["events"])


def test_corrections_follow_the_roles_technical_for_reports_police_for_tips(stack):
    town = OwnTown(stack)
    report = town.call("POST", "/api/v1/reports", json={"source": "desk", "text": "Buca"}).json()
    tip = town.call("POST", "/api/v1/reports", role="police", json={"kind": "safety", "source": "phone",
                                                                    "text": "Auto sospetta"}).json()
    assert town.call("PATCH", f"/api/v1/reports/{report['id']}", role="police", json={"hamlet": "colle"}).status_code == 404
    assert town.call("PATCH", f"/api/v1/reports/{tip['id']}", json={"hamlet": "colle"}).status_code == 404
    assert town.call("PATCH", f"/api/v1/reports/{tip['id']}", role="admin", json={"hamlet": "colle"}).status_code == 404
    fixed = town.call("PATCH", f"/api/v1/reports/{tip['id']}", role="police", json={"hamlet": "colle"})
    assert fixed.status_code == 200 and fixed.json()["hamlet"] == "colle"
    no_category = town.call("PATCH", f"/api/v1/reports/{tip['id']}", role="police", json={"category": "strade"})
    assert no_category.status_code == 422 and no_category.json()["error"]["details"][0]["field"] == "category"
    communications = requests.patch(f"{stack.api_url}/api/v1/reports/{report['id']}", json={"hamlet": "colle"},
                                    headers={"Authorization": f"Bearer {stack.issuer.token(town.tenant, ['communications'])}"},
                                    timeout=30)
    assert communications.status_code == 403


# ---- desk photos and redaction ------------------------------------------------------------------------------

def test_desk_photos_are_checked_and_kept_like_a_citizens(stack):
    town = OwnTown(stack)
    created = town.call("POST", "/api/v1/reports", json={
        "source": "email", "text": "Rami caduti sul marciapiede", "category": "verde", "hamlet": "colle",
        "photos": [{"data": "data:image/png;base64," + base64.b64encode(picture()).decode()}]})
    assert created.status_code == 201, created.text
    [photo] = created.json()["photos"]
    assert photo["status"] == "stored" and photo["public_url"] and not photo["published"]
    assert requests.get(photo["url"], timeout=10).content == picture()

    refused = town.call("POST", "/api/v1/reports", json={
        "source": "desk", "text": "Foto sbagliata", "photos": [{"data": base64.b64encode(b"%PDF-1.4 no").decode()}]})
    assert refused.status_code == 422 and refused.json()["error"]["details"][0]["field"] == "photos.0"
    assert len(town.reports()) == 1  # nothing was filed


def test_boxes_are_burnt_into_a_new_public_copy_which_the_portal_shows_once_published(stack):
    town = OwnTown(stack)
    created = town.call("POST", "/api/v1/reports", json={
        "source": "desk", "text": "Auto abbandonata con targa", "category": "strade", "hamlet": "colle",
        "photos": [{"data": base64.b64encode(picture(fmt="JPEG")).decode()}]}).json()
    photo = created["photos"][0]
    path = f"/api/v1/reports/{created['id']}/photos/{photo['id']}"
    box = {"x": 0.5, "y": 0.5, "width": 0.25, "height": 0.5}  # pixels 100..149 x 50..99 of 200 x 100
    answer = town.call("PUT", f"{path}/redaction", json={"boxes": [box]})
    assert answer.status_code == 200, answer.text
    [redacted] = answer.json()["photos"]
    assert redacted["boxes"] == [box]
    shown = requests.get(redacted["shown_url"], timeout=10).content
    assert max(pixel(shown, 120, 75)) < 30 and min(pixel(shown, 20, 20)) > 225  # black in the box, white outside
    assert min(pixel(requests.get(redacted["public_url"], timeout=10).content, 120, 75)) > 225  # untouched
    assert requests.get(redacted["url"], timeout=10).content == picture(fmt="JPEG")  # the original too

    portal = requests.get(f"{stack.api_url}/public/v1/{town.tenant}/reports", timeout=30).json()["items"]
    assert portal[0]["photos"] == []  # not published yet
    assert town.call("POST", f"{path}/publish", json={"published": True}).status_code == 200
    portal = requests.get(f"{stack.api_url}/public/v1/{town.tenant}/reports", timeout=30).json()["items"]
    [public] = portal[0]["photos"]
    assert "/redacted." in public["url"]
    assert max(pixel(requests.get(public["url"], timeout=10).content, 120, 75)) < 30

    cleared = town.call("PUT", f"{path}/redaction", json={"boxes": []})  # no boxes: the stripped copy again
    assert cleared.json()["photos"][0]["boxes"] == []
    public = requests.get(f"{stack.api_url}/public/v1/{town.tenant}/reports", timeout=30).json()["items"][0]["photos"][0]
    assert "/public." in public["url"]
    trail = town.call("GET", "/api/v1/audit", role="admin", params={"limit": "50"}).json()["items"]
    assert sum(e["action"] == "report.photo.redact" for e in trail) == 2


@pytest.mark.parametrize("boxes, field", [
    ([{"x": 0.1, "y": 0.1, "width": 0.1, "height": 0.1}] * 21, "boxes"),
    ([{"x": 0.9, "y": 0.1, "width": 0.2, "height": 0.1}], "boxes.0"),
    ([{"x": -0.1, "y": 0.1, "width": 0.2, "height": 0.1}], "boxes.0.x"),
    ([{"x": 0.1, "y": 0.1, "width": 0, "height": 0.1}], "boxes.0.width"),
])
def test_bad_boxes_are_a_422_and_change_nothing(stack, boxes, field):
    town = OwnTown(stack)
    created = town.call("POST", "/api/v1/reports", json={
        "source": "desk", "text": "Foto", "photos": [{"data": base64.b64encode(picture()).decode()}]}).json()
    photo = created["photos"][0]
    refused = town.call("PUT", f"/api/v1/reports/{created['id']}/photos/{photo['id']}/redaction", json={"boxes": boxes})
    assert refused.status_code == 422, refused.text
    assert refused.json()["error"]["details"][0]["field"] == field
    assert town.report(created["id"])["photos"][0]["boxes"] == []
