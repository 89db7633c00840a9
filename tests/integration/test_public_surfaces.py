"""What the public sees of a report (Open311 JSON and XML, the portal's map and status view, the /s/ page): never
what a citizen typed (names, phone numbers, house numbers, their own words), a position generalised to ~100 m,
every XML well-formed whatever was typed; Open311 reads bounded and limited per client; a number typed on the
portal follows a report only once its owner confirmed on WhatsApp; only a JSON true is consent."""
from __future__ import annotations

import hashlib
import json
import re
import uuid
from xml.etree import ElementTree

import pytest
import requests

from chalicelib.api import open311 as open311_api
from chalicelib.domain.tenancy import Channel
from chalicelib.services import abuse
from chalicelib.services.reports import web_form
from chalicelib.store import directory
from local.seed import REPORTS, TEMPLATES, _square
from tests.integration.conftest import Phone
from tests.leaks import shown
from tests.waiting import wait_for

CENTRE = (43.7430, 10.9460)  # the hamlet "colle"
PIN = (43.74321, 10.94687)  # where the citizen stood; public surfaces show (43.743, 10.947)
TEXT = "Buca davanti al portone di Mario Rossi, chiamatemi al 347 555 0199 o mario.rossi@example.org"
ADDRESS = "Via Garibaldi 187/B, interno 4 scala C, citofono Rossi 347 555 0199"
PERSONAL = ("Mario", "Rossi", "347", "5550199", "0199", "187", "interno", "scala", "citofono", "mario.rossi",
            "example.org", "portone", "chiamatemi", "43.74321", "10.94687", "4321", "4687")
STAFF_NOTE = "Sopralluogo fissato per lunedì; per urgenze 0571 123456"
FOLLOW_TEMPLATE = "conferma_aggiornamenti"
HOSTILE = "\u0001\u000b\u001f\ufffe\uffff"


class Comune:
    """A comune of its own: hamlet Colle, an Open311 partner, a reports channel with its templates."""

    def __init__(self, stack, follow_template: bool = True):
        n = uuid.uuid4().int % 10**9
        letters = str(n).translate(str.maketrans("0123456789", "abcdefghij"))  # no digit a test looks for
        self.stack, self.id, self.key = stack, f"pubblico{letters}", f"key-{n}"
        self.channel = f"35{n:013d}"  # 32... is test_console_api's
        directory.save_tenant(self.id, f"Comune Pubblico {letters}", {
            "hamlets": [{"id": "colle", "name": "Colle", "latitude": CENTRE[0], "longitude": CENTRE[1],
                         "geometry": _square(*CENTRE)}],
            "reports": REPORTS,
            "open311_partners": [{"name": "cruscotto", "key_sha256": hashlib.sha256(self.key.encode()).hexdigest()}],
        })
        templates = {"report_update": {"name": "aggiornamento_segnalazione"}}
        if follow_template:
            templates["follow_confirm"] = {"name": FOLLOW_TEMPLATE}
        directory.save_channel(Channel(self.channel, self.id, "reports", "Segnalazioni", "+39 0571 940000",
                                       {"rate_per_second": 200, "templates": templates}))
        stack.sandbox.add_channel({"phone_number_id": self.channel, "kind": "reports", "tenant": self.id,
                                   "templates": TEMPLATES})
        self.token = stack.issuer.token(self.id, ["technical"])

    def staff(self, method: str, path: str, **kwargs) -> requests.Response:
        return requests.request(method, f"{self.stack.api_url}{path}", timeout=30,
                                headers={"Authorization": f"Bearer {self.token}"}, **kwargs)

    def open311(self, path: str, **params) -> requests.Response:
        return requests.get(f"{self.stack.api_url}/open311/v2/{path}", params={"jurisdiction_id": self.id, **params},
                            timeout=30)

    def open311_post(self, **form) -> requests.Response:
        body = {"jurisdiction_id": self.id, "api_key": self.key, "service_code": "strade", **form}
        return requests.post(f"{self.stack.api_url}/open311/v2/requests.json", data=body, timeout=30)

    def portal(self, path: str) -> requests.Response:
        return requests.get(f"{self.stack.api_url}/public/v1/{self.id}/{path}", timeout=30)

    def file(self, **form) -> requests.Response:
        body = {"category": "strade", "description": "Buca profonda", **form}
        return requests.post(f"{self.stack.api_url}/public/v1/{self.id}/reports", json=body, timeout=30)

    def phone(self, number: str) -> Phone:
        return Phone(self.stack, self.channel, number)

    def reports(self) -> list[dict]:
        answer = self.staff("GET", "/api/v1/reports")
        assert answer.status_code == 200, answer.text
        return answer.json()["items"]


@pytest.fixture(autouse=True)
def own_allowances(monkeypatch):
    """Fresh per-client allowances for each test: every test calls from the same address (127.0.0.1)."""
    monkeypatch.setattr(web_form, "PER_CLIENT", abuse.Limit(f"test-web-report-{uuid.uuid4().hex}", 10, 3600))
    monkeypatch.setattr(open311_api, "READS_PER_CLIENT", abuse.Limit(f"test-o311-{uuid.uuid4().hex}", 600, 600),
                        raising=False)


def strict_xml(answer: requests.Response) -> ElementTree.Element:
    """The document parsed by expat, a conforming parser: a character XML 1.0 forbids is a ParseError."""
    assert answer.headers["Content-Type"] == "text/xml; charset=utf-8", answer.headers
    return ElementTree.fromstring(answer.content)


def token_in(text: str) -> str:
    return re.search(r"/s/([\w-]+)", text).group(1)


@pytest.fixture(scope="module")
def filed(stack):
    """One report each way a citizen files, all with a name, a phone, a house number and their own words; a staff
    member's public note on each."""
    comune = Comune(stack)
    # three categories, so that none of them is taken for a duplicate of another; a fresh allowance, as above
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(web_form, "PER_CLIENT", abuse.Limit(f"test-web-report-{uuid.uuid4().hex}", 10, 3600))
        web = comune.file(description=TEXT, address=ADDRESS, position={"latitude": PIN[0], "longitude": PIN[1]},
                          category="verde")
    assert web.status_code == 201, web.text
    posted = comune.open311_post(service_code="illuminazione", description=TEXT, address_string=ADDRESS,
                                 lat=str(PIN[0]), long=str(PIN[1]), first_name="Mario", last_name="Rossi",
                                 email="mario.rossi@example.org")
    assert posted.status_code == 200, posted.text
    citizen = comune.phone("+39 347 555 0199")
    citizen.text(TEXT)
    receipt = wait_for(lambda: next((m["text"] for m in citizen.inbox() if "/s/" in (m.get("text") or "")), None), 15)
    citizen.send(type="location", latitude=PIN[0], longitude=PIN[1], address=ADDRESS, name="Casa Rossi")
    wait_for(lambda: len(comune.reports()) == 3 and all(r["location"] for r in comune.reports()), 15)
    tokens = [web.json()["token"], token_in(posted.json()[0]["service_notice"]), token_in(receipt)]
    for report in comune.reports():
        step = comune.staff("POST", f"/api/v1/reports/{report['id']}/transitions",
                            json={"to": "triaged", "note": STAFF_NOTE, "public": True})
        assert step.status_code == 200, step.text
    return comune, tokens


def surface_text(comune: Comune, tokens: list[str], surface: str) -> str:
    """Everything one public surface answers about the three reports, as text."""
    ids = [r["id"] for r in comune.reports()]
    if surface in ("open311-json", "open311-xml"):
        fmt = surface.rpartition("-")[2]
        answers = [comune.open311(f"requests.{fmt}"), comune.open311(f"servicerequestupdates.{fmt}")]
        answers += [comune.open311(f"requests/{i}.{fmt}") for i in ids]
        answers += [comune.open311(f"requests.{fmt}", service_request_id=",".join(ids))]
        if fmt == "xml":
            for answer in answers:
                strict_xml(answer)
    elif surface == "portal":
        answers = [comune.portal("reports")] + [comune.portal(f"status/{t}") for t in tokens]
    else:
        answers = [requests.get(f"{comune.stack.api_url}/s/{t}", timeout=30) for t in tokens]
    assert all(a.status_code == 200 for a in answers), [(a.status_code, a.text[:200]) for a in answers]
    return shown("\n".join(a.text for a in answers), *tokens)


@pytest.mark.parametrize("surface", ["open311-json", "open311-xml", "portal", "status-page"])
def test_nothing_a_citizen_typed_reaches_a_public_surface(filed, surface):
    comune, tokens = filed
    text = surface_text(comune, tokens, surface)
    leaked = [p for p in PERSONAL if p in text]
    assert leaked == [], (leaked, text[:3000])
    assert "Sopralluogo fissato" in text and "123456" not in text  # the staff's public note, its number masked
    assert "43.743" in text and "10.947" in text  # the position, generalised to three decimals


def test_open311_shows_the_default_description_and_the_street_without_its_number(filed):
    comune, _ = filed
    requests_json = comune.open311("requests.json").json()
    assert len(requests_json) == 3
    assert {r["description"] for r in requests_json} == {
        "Verde pubblico — Colle", "Illuminazione pubblica — Colle", "Strade e marciapiedi — Colle"}
    assert sorted(r["address"] or "" for r in requests_json) == ["Via Garibaldi"] * 3
    assert {(r["lat"], r["long"]) for r in requests_json} == {(43.743, 10.947)}
    root = strict_xml(comune.open311("requests.xml"))
    assert {e.text for e in root.iter("address")} == {"Via Garibaldi"}


def test_every_public_xml_is_well_formed_after_hostile_input(stack):
    comune = Comune(stack)
    posted = comune.open311_post(description=f"Buca{HOSTILE}profonda", address_string=f"Via{HOSTILE} Roma 3",
                                 lat=str(CENTRE[0]), long=str(CENTRE[1]))
    assert posted.status_code == 200, posted.text
    web = comune.file(description=f"Lampione{HOSTILE} spento", address=f"Via Verdi{HOSTILE}",
                      hamlet="colle", category="illuminazione")
    assert web.status_code == 201, web.text
    for report in comune.reports():
        note = comune.staff("POST", f"/api/v1/reports/{report['id']}/transitions",
                            json={"to": "triaged", "note": f"Presa{HOSTILE} in carico", "public": True})
        assert note.status_code == 200, note.text
    request_id = posted.json()[0]["service_request_id"]
    token = token_in(posted.json()[0]["service_notice"])
    documents = ["discovery.xml", "services.xml", "services/strade.xml", "requests.xml", f"requests/{request_id}.xml",
                 f"tokens/{token}.xml", "servicerequestupdates.xml", "requests/nessuna.xml"]
    for path in documents:
        strict_xml(comune.open311(path))
    hostile_query = requests.get(f"{stack.api_url}/open311/v2/services.xml",
                                 params={"jurisdiction_id": f"x{HOSTILE}"}, timeout=30)
    assert hostile_query.status_code == 404
    strict_xml(hostile_query)
    assert "Presa in carico" in comune.open311("requests.xml").text  # the note stays, without what XML forbids


def test_open311_ids_per_request_are_capped_and_read_in_one_batch(filed, stack):
    comune, _ = filed
    ids = [r["id"] for r in comune.reports()]
    too_many = comune.open311("requests.json", service_request_id=",".join(f"2026-{n:07d}" for n in range(101)))
    assert too_many.status_code == 400
    assert too_many.json()[0]["code"] == 400 and "100" in too_many.json()[0]["description"]
    assert strict_xml(comune.open311("requests.xml", service_request_id=",".join(["x"] * 101))).tag == "errors"

    calls = []

    def count(model, params, **_):  # params: the request as botocore is about to send it
        body = json.loads(params["body"] or b"{}")
        if model.name in ("GetItem", "BatchGetItem", "Query") and "reports" in json.dumps(body):
            calls.append((model.name, sum(len(t["Keys"]) for t in body.get("RequestItems", {}).values())))
    from chalicelib.store.models import ReportModel
    client = ReportModel._get_connection().connection.client
    client.meta.events.register("before-call.dynamodb", count)
    try:
        asked = ids + [f"2026-{n:07d}" for n in range(900_000, 900_095)] + ["non-un-id", "x" * 2000]
        answer = comune.open311("requests.json", service_request_id=",".join(asked))
    finally:
        client.meta.events.unregister("before-call.dynamodb", count)
    assert answer.status_code == 200, answer.text
    assert {r["service_request_id"] for r in answer.json()} == set(ids)
    assert [c for c in calls if c[0] != "BatchGetItem"] == [] and len(calls) == 1, calls
    assert calls[0][1] == 98  # the 3 real and 95 unknown ids in one BatchGetItem; what is no report id is not read


def test_open311_reads_are_limited_per_client(stack, monkeypatch):
    comune = Comune(stack)
    monkeypatch.setattr(open311_api, "READS_PER_CLIENT", abuse.Limit(f"test-o311-{uuid.uuid4().hex}", 3, 600))
    codes = [comune.open311(path).status_code for path in ("services.json", "requests.json", "requests.xml")]
    assert codes == [200, 200, 200]
    limited = comune.open311("requests.json")
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) >= 1
    assert limited.json()[0]["code"] == 429
    assert strict_xml(comune.open311("services.xml")).findtext("error/code") == "429"


def follow_payload(message: dict) -> str:
    """The confirmation template's button payload, as the phone sends it back when tapped."""
    components = message["body"]["template"]["components"]
    return next(p["payload"] for c in components if c["type"] == "button" for p in c["parameters"])


def test_a_number_typed_on_the_portal_follows_the_report_only_once_confirmed_on_whatsapp(stack):
    comune = Comune(stack)
    stranger = comune.phone(f"+39 347 556 {uuid.uuid4().int % 10_000:04d}")
    answer = comune.file(hamlet="colle", follow={"phone": stranger.number, "consent": True})
    assert answer.status_code == 201, answer.text
    assert "conferma" in answer.json()["message"] and "WhatsApp" in answer.json()["message"]
    [confirmation] = stranger.wait_inbox(1)
    assert confirmation["type"] == "template" and confirmation["body"]["template"]["name"] == FOLLOW_TEMPLATE
    assert answer.json()["number"] in json.dumps(confirmation["body"])

    [report] = comune.reports()
    step = comune.staff("POST", f"/api/v1/reports/{report['id']}/transitions",
                        json={"to": "triaged", "note": "Sopralluogo domani", "public": True})
    assert step.status_code == 200, step.text
    stranger.text("STATO")
    stranger.wait_inbox(2, timeout=15)
    stranger.text(f"STATO {answer.json()['number']}")
    stranger.wait_inbox(3, timeout=15)
    inbox = stranger.settle(1.0)
    assert [m["type"] for m in inbox] == ["template", "text", "text"]  # no update: only the STATO answers
    assert "Non hai segnalazioni" in inbox[1]["text"] and "Non troviamo" in inbox[2]["text"]
    assert "presa in carico" not in inbox[1]["text"] + inbox[2]["text"]  # nothing of the report's state

    stranger.send(type="quick_reply", id=follow_payload(confirmation), title="Sì, aggiornatemi")
    confirmed = wait_for(lambda: (lambda m: m if len(m) >= 4 else None)(stranger.inbox()), 15)[3]
    assert answer.json()["number"] in confirmed["text"]
    assert comune.staff("POST", f"/api/v1/reports/{report['id']}/transitions",
                        json={"to": "in_progress", "note": "Lavori iniziati"}).status_code == 200
    update = wait_for(lambda: (lambda m: m[4] if len(m) >= 5 else None)(stranger.inbox()), 15)
    assert "Lavori iniziati" in update["text"]  # inside the 24-hour window opened by the tap: free text
    stranger.text("STATO")
    status = wait_for(lambda: (lambda m: m[5] if len(m) >= 6 else None)(stranger.inbox()), 15)
    assert answer.json()["number"] in status["text"]


def test_a_confirmed_number_of_a_duplicate_follows_the_original_too(stack):
    comune = Comune(stack)
    where = {"latitude": CENTRE[0], "longitude": CENTRE[1]}
    original = comune.file(position=where).json()
    citizen = comune.phone(f"+39 347 559 {uuid.uuid4().int % 10_000:04d}")
    second = comune.file(position=where, follow={"phone": citizen.number, "consent": True}).json()
    assert second["duplicate_of"] == original["number"]
    by_number = {r["number"]: r for r in comune.reports()}
    assert by_number[original["number"]]["followers"] == 0  # not before the tap
    [confirmation] = citizen.wait_inbox(1)
    citizen.send(type="quick_reply", id=follow_payload(confirmation), title="Sì, aggiornatemi")
    citizen.wait_inbox(2)
    assert {r["number"]: r for r in comune.reports()}[original["number"]]["followers"] == 1
    step = comune.staff("POST", f"/api/v1/reports/{by_number[original['number']]['id']}/transitions",
                        json={"to": "triaged", "note": "Sopralluogo domani", "public": True})
    assert step.status_code == 200, step.text
    update = wait_for(lambda: (lambda m: m[2] if len(m) >= 3 else None)(citizen.inbox()), 15)
    assert original["number"] in update["text"] and "Sopralluogo domani" in update["text"]


def test_a_tap_from_another_number_follows_nothing(stack):
    comune = Comune(stack)
    owner = comune.phone(f"+39 347 557 {uuid.uuid4().int % 10_000:04d}")
    other = comune.phone(f"+39 347 558 {uuid.uuid4().int % 10_000:04d}")
    filed = comune.file(hamlet="colle", follow={"phone": owner.number, "consent": True}).json()
    [confirmation] = owner.wait_inbox(1)
    other.send(type="quick_reply", id=follow_payload(confirmation), title="Sì, aggiornatemi")
    [answer] = other.wait_inbox(1)
    assert filed["number"] not in answer["text"]
    [report] = comune.reports()
    assert comune.staff("GET", f"/api/v1/reports/{report['id']}").json()["reporter"] is None
    assert len(owner.settle(1.0)) == 1


def test_following_needs_the_confirmation_template(stack):
    comune = Comune(stack, follow_template=False)
    answer = comune.file(hamlet="colle", follow={"phone": "+39 347 000 2222", "consent": True})
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"]["details"][0]["field"] == "follow"
    assert comune.reports() == []
    assert comune.portal("portal").json()["follow_on_whatsapp"] is False  # the form does not offer it


@pytest.mark.parametrize("consent", ["yes", "true", 1, "on"])
def test_only_a_json_true_is_consent_on_public_forms(stack, consent):
    comune = Comune(stack)
    report = comune.file(hamlet="colle", follow={"phone": "+39 347 000 3333", "consent": consent})
    assert report.status_code == 422, report.text
    assert report.json()["error"]["details"][0]["field"] == "follow.consent"
    assert comune.reports() == []
    subscription = requests.post(f"{stack.api_url}/public/v1/demo/subscriptions",
                                 json={"phone": "+39 347 000 3334", "consent": consent}, timeout=30)
    assert subscription.status_code == 422, subscription.text
    assert subscription.json()["error"]["details"][0]["field"] == "consent"
