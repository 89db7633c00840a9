"""Open311 GeoReport v2 as partners and city dashboards use it: discovery, services, requests (GET and
form-encoded POST), tokens and updates, in JSON (validated against schemas written from the spec) and XML."""
from __future__ import annotations

import hashlib
import itertools
import json
import re
from pathlib import Path
from xml.etree import ElementTree

import pytest
import requests
from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry, Resource

from chalicelib.domain.tenancy import Channel
from chalicelib.store import directory
from local.seed import REPORTS, TEMPLATES, _square
from tests.integration.conftest import Phone
from tests.waiting import wait_for

SCHEMAS = Path(__file__).resolve().parents[1] / "schemas" / "open311"
_resources = {path.name: json.loads(path.read_text()) for path in SCHEMAS.glob("*.json")}
REGISTRY = Registry().with_resources(
    (f"open311/{name}", Resource.from_contents(schema)) for name, schema in _resources.items())
_comuni = itertools.count(1)
PIN = (43.7430, 10.9460)


def check(schema: str, document) -> None:
    validator = Draft202012Validator(_resources[schema], registry=REGISTRY, format_checker=FormatChecker())
    errors = sorted(validator.iter_errors(document), key=str)
    assert not errors, [e.message for e in errors]


class Comune:
    """A comune of its own, with an Open311 partner key and a reports channel."""

    def __init__(self, stack):
        n = next(_comuni)
        self.stack, self.id, self.key = stack, f"aperto{n}", f"key-{n}-segreta"
        self.channel = f"5100000000{n:05d}"  # test_openapi has 50...
        directory.save_tenant(self.id, f"Comune Aperto {n}", {
            "hamlets": [{"id": "colle", "name": "Colle", "latitude": PIN[0], "longitude": PIN[1],
                         "geometry": _square(*PIN)}],
            "reports": REPORTS,
            "open311_partners": [{"name": "cruscotto", "key_sha256": hashlib.sha256(self.key.encode()).hexdigest()}],
        })
        directory.save_channel(Channel(self.channel, self.id, "reports", "Segnalazioni", "+39 0571 930000",
                                       {"rate_per_second": 200,
                                        "templates": {"follow_confirm": {"name": "conferma_aggiornamenti"}}}))
        stack.sandbox.add_channel({"phone_number_id": self.channel, "kind": "reports", "tenant": self.id, "templates": TEMPLATES})
        self.token = stack.issuer.token(self.id, ["technical"])

    def get(self, path: str, **params) -> requests.Response:
        return requests.get(f"{self.stack.api_url}/open311/v2/{path}", params={"jurisdiction_id": self.id, **params},
                            timeout=20)

    def post(self, **form) -> requests.Response:
        body = {"jurisdiction_id": self.id, "api_key": self.key, **form}
        return requests.post(f"{self.stack.api_url}/open311/v2/requests.json", data=body, timeout=20)

    def staff(self, method: str, path: str, **kwargs) -> requests.Response:
        return requests.request(method, f"{self.stack.api_url}{path}", timeout=20,
                                headers={"Authorization": f"Bearer {self.token}"}, **kwargs)


@pytest.fixture
def comune(stack):
    return Comune(stack)


def xml(answer: requests.Response) -> ElementTree.Element:
    assert answer.headers["Content-Type"] == "text/xml; charset=utf-8"
    assert answer.text.startswith('<?xml version="1.0" encoding="utf-8"?>')
    return ElementTree.fromstring(answer.content)


def test_discovery_in_both_formats(comune):
    answer = comune.get("discovery.json")
    assert answer.status_code == 200 and answer.headers["Content-Type"] == "application/json; charset=utf-8"
    check("discovery.json", answer.json())
    root = xml(comune.get("discovery.xml"))
    assert root.tag == "discovery" and "text/xml" in [f.text for f in root.iter("format")]
    assert root.findtext("endpoints/endpoint/url") == answer.json()["endpoints"][0]["url"]


def test_services_and_their_definition(comune):
    services = comune.get("services.json").json()
    check("services.json", services)
    assert {s["service_code"] for s in services} >= {"strade", "illuminazione", "acque"}
    root = xml(comune.get("services.xml"))
    assert root.tag == "services" and len(root.findall("service")) == len(services)
    assert root.find("service/metadata").text == "false"
    definition = comune.get("services/strade.json")
    check("service-definition.json", definition.json())
    assert xml(comune.get("services/strade.xml")).tag == "service_definition"


@pytest.mark.parametrize("path,params,status", [
    ("services.json", {"jurisdiction_id": ""}, 400),  # empty behaves like absent: required here
    ("services.json", {"jurisdiction_id": "nessuno"}, 404),
    ("services/nessuno.json", {}, 404),
    ("requests/2026-9999999.json", {}, 404),
    ("tokens/nessuno.json", {}, 404),
    ("requests.json", {"start_date": "2026-01-01T00:00:00Z", "end_date": "2026-06-01T00:00:00Z"}, 400),  # > 90 days
    ("requests.json", {"status": "maybe"}, 400),
    ("requests.json", {"page_size": "\u0663"}, 400),  # an Arabic-Indic 3: int() takes it, a URL's number is ASCII
    ("requests.json", {"page": "1_0"}, 400),
    ("services.txt", {}, 404),
])
def test_errors_use_the_spec_format(comune, path, params, status):
    answer = comune.get(path, **params)
    assert answer.status_code == status
    check("errors.json", answer.json())
    assert answer.json()[0]["code"] == status


def test_post_a_request_then_read_it_back_in_the_inbox_and_on_whatsapp(comune, stack):
    answer = comune.post(service_code="strade", lat=str(PIN[0]), long=str(PIN[1]), address_string="Via Roma 3",
                         description="Buca pericolosa, chiamatemi al 333 1234567 o scrivete a mario@example.org",
                         first_name="Mario", last_name="Rossi", email="mario@example.org", phone="+39 333 900 0001")
    assert answer.status_code == 200, answer.text
    check("post-response.json", answer.json())
    request_id = answer.json()[0]["service_request_id"]

    [inbox] = comune.staff("GET", "/api/v1/reports").json()["items"]
    assert (inbox["id"], inbox["source"], inbox["category"], inbox["hamlet"]) == (request_id, "open311", "strade", "colle")
    assert comune.staff("GET", f"/api/v1/reports/{request_id}").json()["contact"]["name"] == "Mario Rossi"

    [public] = comune.get(f"requests/{request_id}.json").json()
    check("request.json", public)
    assert public["status"] == "open" and public["lat"] == pytest.approx(PIN[0])
    text = json.dumps(public)
    assert "Mario" not in text and "mario@example.org" not in text and "1234567" not in text
    # none of the filer's words: the default description and the street without its number (issue 13)
    assert (public["description"], public["address"]) == ("Strade e marciapiedi — Colle", "Via Roma")
    assert xml(comune.get(f"requests/{request_id}.xml")).findtext("request/service_request_id") == request_id

    citizen = Phone(stack, comune.channel, "+39 333 900 0001")  # the filer's phone follows it once confirmed
    [confirmation] = citizen.wait_inbox(1)
    assert confirmation["body"]["template"]["name"] == "conferma_aggiornamenti"
    payload = next(p["payload"] for c in confirmation["body"]["template"]["components"] if c["type"] == "button"
                   for p in c["parameters"])
    citizen.send(type="quick_reply", id=payload, title="Sì, aggiornatemi")
    citizen.wait_inbox(2)
    number = request_id.split("-")[1].lstrip("0")
    citizen.text(f"STATO {number}")
    assert wait_for(lambda: [m for m in citizen.inbox() if "ricevuta" in (m.get("text") or "")], 15)


@pytest.mark.parametrize("form,status", [
    ({"api_key": "sbagliata"}, 403),
    ({"api_key": ""}, 403),
    ({"service_code": "nessuno"}, 404),
    ({"lat": "", "long": "", "address_string": ""}, 400),  # no location
    ({"lat": "91", "long": "10"}, 400),
    ({"description": "x" * 4001}, 400),
])
def test_bad_posts_are_refused_and_file_nothing(comune, form, status):
    base = {"service_code": "strade", "lat": str(PIN[0]), "long": str(PIN[1]), "description": "Buca"}
    answer = comune.post(**{**base, **form})
    assert answer.status_code == status, answer.text
    check("errors.json", answer.json())
    assert comune.staff("GET", "/api/v1/reports").json()["items"] == []


def test_filters_paging_status_mapping_agency_and_updates(comune):
    ids = [comune.post(service_code=code, address_string=f"Via {n}", description=f"Problema {n}").json()[0]
           ["service_request_id"] for n, code in enumerate(["strade", "acque", "strade"])]
    forwarded = comune.staff("POST", f"/api/v1/reports/{ids[1]}/transitions",
                             json={"to": "forwarded", "note": "Competenza del consorzio"})
    assert forwarded.status_code == 200, forwarded.text
    comune.staff("POST", f"/api/v1/reports/{ids[0]}/transitions", json={"to": "triaged", "public": True})  # internal unless told
    comune.staff("POST", f"/api/v1/reports/{ids[0]}/transitions", json={"to": "resolved", "note": "Riparata"})

    everything = comune.get("requests.json").json()
    check("requests.json", everything)
    assert {r["service_request_id"] for r in everything} == set(ids)
    by_id = {r["service_request_id"]: r for r in everything}
    assert by_id[ids[0]]["status"] == "closed" and "Riparata" in by_id[ids[0]]["status_notes"]
    assert by_id[ids[1]]["agency_responsible"] == "Consorzio di bonifica Esempio"
    assert {r["service_request_id"] for r in comune.get("requests.json", status="open").json()} == set(ids[1:])
    assert {r["service_request_id"] for r in comune.get("requests.json", service_code="strade").json()} == {ids[0], ids[2]}
    assert [r["service_request_id"] for r in comune.get("requests.json", service_request_id=ids[2]).json()] == [ids[2]]
    first = comune.get("requests.json", page="1", page_size="2").json()
    second = comune.get("requests.json", page="2", page_size="2").json()
    assert len(first) == 2 and len(second) == 1 and not {r["service_request_id"] for r in first} & {
        r["service_request_id"] for r in second}
    assert len(xml(comune.get("requests.xml")).findall("request")) == 3

    updates = comune.get("servicerequestupdates.json").json()
    check("updates.json", updates)
    assert [(u["service_request_id"], u["status"]) for u in updates] == [
        (ids[1], "open"), (ids[0], "open"), (ids[0], "closed")]


def test_the_status_page_token_resolves_to_its_request(comune):
    posted = comune.post(service_code="verde", address_string="Parco", description="Albero caduto").json()[0]
    token = re.search(r"/s/(\S+)", posted["service_notice"]).group(1)  # the link the filer may pass on
    answer = comune.get(f"tokens/{token}.json")
    check("token.json", answer.json())
    assert answer.json()[0]["service_request_id"] == posted["service_request_id"]
    assert xml(comune.get(f"tokens/{token}.xml")).findtext("request/token") == token
