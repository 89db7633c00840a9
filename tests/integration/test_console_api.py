"""The staff endpoints the console reads: the comune's set-up, the live broadcast preview, subscribers over time."""
from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime, timedelta

import pytest
import requests

from chalicelib.domain.subscriptions import Citizen
from chalicelib.domain.tenancy import Channel
from chalicelib.services.admin.overview import weekly_active
from chalicelib.store import directory
from local.seed import HAMLETS, REPORTS, TEMPLATES, TOPICS, _square

_towns = itertools.count(1)


class Town:
    """A comune of its own, so counts are exact: two hamlets, two topics, a broadcast and a reports channel."""

    def __init__(self, stack):
        n = next(_towns)
        self.stack, self.tenant = stack, f"console{n}"
        self.broadcast, self.reports = f"3100000000{n:05d}", f"3200000000{n:05d}"
        directory.save_tenant(self.tenant, f"Comune di Console {n}", {
            "hamlets": [{**h, "geometry": _square(h["latitude"], h["longitude"])} for h in HAMLETS[:2]],
            "topics": TOPICS[:2], "reports": REPORTS,
            "privacy_notice_url": "https://example.org/privacy", "privacy_notice_version": "v1",
        })
        directory.save_channel(Channel(self.broadcast, self.tenant, "broadcast", "Avvisi", "+39 0571 910000", {
            "rate_per_second": 200, "quiet_hours": {"enabled": False},
            "templates": {"notice": {"name": "avviso_comune", "language": "it", "category": "utility"}}}))
        directory.save_channel(Channel(self.reports, self.tenant, "reports", "Segnalazioni", "+39 0571 910001", {}))
        stack.sandbox.add_channel({"phone_number_id": self.broadcast, "kind": "broadcast", "tenant": self.tenant,
                                   "templates": TEMPLATES})

    def call(self, method: str, path: str, role: str = "admin", **kwargs) -> requests.Response:
        token = self.stack.issuer.token(self.tenant, [role])
        return requests.request(method, f"{self.stack.api_url}{path}", timeout=30,
                                headers={"Authorization": f"Bearer {token}", **kwargs.pop("headers", {})}, **kwargs)

    def residents(self, csv: str) -> None:
        answer = self.call("POST", f"/api/v1/subscribers/import?channel={self.broadcast}", data=csv.encode(),
                           headers={"Content-Type": "text/csv"})
        assert answer.json()["summary"]["error"] == 0, answer.text


@pytest.fixture
def town(stack):
    return Town(stack)


def test_tenant_gives_hamlet_outlines_and_the_report_set_up_without_personal_data(town):
    for role in ("admin", "communications", "technical", "police"):
        answer = town.call("GET", "/api/v1/tenant", role=role)
        assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["id"] == town.tenant and body["name"].startswith("Comune di Console")
    features = body["hamlets"]["features"]
    assert body["hamlets"]["type"] == "FeatureCollection" and [f["id"] for f in features] == ["capoluogo", "pieve"]
    assert features[1]["geometry"]["type"] == "Polygon" and features[1]["properties"]["name"] == "Pieve a Ripoli"
    assert [t["id"] for t in body["topics"]] == ["viabilita", "allerte"]
    assert {"id": "acque", "name": "Fossi e acque", "team": None, "external_body": "consorzio"} in body["categories"]
    assert [t["id"] for t in body["teams"]] == ["cantonieri", "elettricisti", "giardinieri"]
    assert body["external_bodies"][0] == {"id": "provincia", "name": "Provincia di Esempio (viabilità)"}  # no email


def test_tenant_is_the_callers_own_and_needs_a_token(town, stack):
    other = Town(stack)
    assert other.call("GET", "/api/v1/tenant").json()["id"] == other.tenant
    assert requests.get(f"{stack.api_url}/api/v1/tenant", timeout=10).status_code == 401


def test_the_live_preview_counts_the_audience_and_saves_nothing(town):
    town.residents("phone,hamlets,topics\n+39 349 100 0001,pieve,\n+39 349 100 0002,capoluogo,\n"
                   "+39 349 100 0003,,allerte\n+39 349 100 0004,pieve,viabilita\n")

    def preview(**audience) -> dict:
        answer = town.call("POST", "/api/v1/broadcast-preview", role="communications",
                           json={"channel": town.broadcast, "text": "Prova", "audience": audience})
        assert answer.status_code == 200, answer.text
        return answer.json()

    assert preview()["audience"] == 4
    assert preview(hamlets=["pieve"])["audience"] == 3  # pieve twice, and the one who chose every hamlet
    assert preview(hamlets=["pieve"], topics=["allerte"])["audience"] == 2
    everyone = preview()
    assert everyone["outside_window"] == 4 and everyone["template"]["needed"] and everyone["warnings"] == []
    assert town.call("GET", "/api/v1/broadcasts").json()["items"] == []  # nothing was created


def test_the_live_preview_refuses_what_create_refuses_and_checks_roles(town):
    unknown = town.call("POST", "/api/v1/broadcast-preview", json={"channel": town.broadcast, "text": "Prova",
                                                                   "audience": {"hamlets": ["atlantide"]}})
    assert (unknown.status_code, unknown.json()["error"]["code"]) == (422, "invalid_broadcast")
    wrong_kind = town.call("POST", "/api/v1/broadcast-preview", json={"channel": town.reports, "text": "Prova"})
    assert (wrong_kind.status_code, wrong_kind.json()["error"]["code"]) == (422, "invalid_broadcast")  # as create
    technical = town.call("POST", "/api/v1/broadcast-preview", role="technical", json={"channel": town.broadcast,
                                                                                      "text": "Prova"})
    assert technical.status_code == 403


def test_subscribers_over_time_count_the_active_ones(town):
    town.residents("phone,hamlets,topics\n+39 349 200 0001,,\n+39 349 200 0002,,\n+39 349 200 0003,,\n")
    answer = town.call("GET", "/api/v1/stats/subscribers?weeks=4", role="communications")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["channel"] == town.broadcast and body["active"] == 3
    assert [w["active"] for w in body["weeks"]] == [0, 0, 0, 3]
    assert town.call("GET", "/api/v1/stats/subscribers", role="technical").status_code == 403
    assert town.call("GET", "/api/v1/stats/subscribers?weeks=0").status_code == 422


def test_weekly_active_counts_each_person_from_subscribing_until_stopping():
    now = datetime(2026, 11, 25, 12, tzinfo=UTC)  # a Wednesday, ISO week 48
    people = [
        Citizen("c", "t", phone="+1", status="active", subscribed_at=now - timedelta(days=15)),
        Citizen("c", "t", phone="+2", status="stopped", subscribed_at=now - timedelta(days=15),
                stopped_at=now - timedelta(days=6)),
        Citizen("c", "t", phone="+3", status="active", subscribed_at=now - timedelta(hours=1)),
        Citizen("c", "t", phone="+4", status="pending"),  # never confirmed
    ]
    weeks = weekly_active(people, 4, now)
    assert [w["week"] for w in weeks] == ["2026-W45", "2026-W46", "2026-W47", "2026-W48"]
    assert [w["active"] for w in weeks] == [0, 2, 1, 2]


def test_local_sign_in_gives_a_demo_user_a_token_of_their_role(stack):
    url = f"{stack.web_url}/local-auth/token"
    good = requests.post(url, json={"username": "police", "password": stack.staff_sign_in.password}, timeout=10)
    assert good.status_code == 200, good.text
    me = requests.get(f"{stack.web_url}/api/v1/me", timeout=10,
                      headers={"Authorization": f"Bearer {good.json()['id_token']}"}).json()
    # a user of make dev's Cognito user pool (moto's): its sub, never the login id, is the subject
    assert (me["tenant"], me["roles"], me["name"]) == ("demo", ["police"], "Polizia municipale")
    assert me["subject"] != "police" and me["subject"]
    for body in ({"username": "police", "password": "sbagliata"}, {"username": "root", "password": stack.staff_sign_in.password},
                 {}):
        refused = requests.post(url, json=body, timeout=10)
        assert (refused.status_code, "id_token" in refused.text) == (401, False)
    config = requests.get(f"{stack.web_url}/config.json", timeout=10).json()
    assert config["auth"]["mode"] == "local"
    assert [u["username"] for u in config["auth"]["users"]] == ["admin", "communications", "technical", "police"]
    assert stack.staff_sign_in.password not in json.dumps(config)
