"""Allerte through the local stack: real DPC bulletins and CAP documents served by the local feed server, the
watcher reading them (at the bulletins' own dates, through its `now`), drafts and automatic sends through the
broadcast engine and the sandbox, the CAP push endpoint, a feed that times out. Citizen numbers of this file:
+39 347 719 xxxx; each test has a comune of its own."""
from __future__ import annotations

import hashlib
import itertools
import json
import re
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests

from chalicelib.domain.tenancy import Channel
from chalicelib.services.alerts import watch
from chalicelib.store import directory
from local.seed import TEMPLATES
from tests.integration.conftest import Phone
from tests.waiting import wait_for

FIXTURES = Path(__file__).parent.parent / "fixtures" / "alerts"
RED_DAY = datetime(2023, 5, 16, 16, 0, tzinfo=UTC)  # an hour after the red bulletin of 16 May 2023
_numbers = itertools.count(1)
PUSH_KEY = "chiave-di-prova-regione"


def number() -> str:
    return f"+39 347 719 {next(_numbers):04d}"


class AlertTown:
    """A comune of its own in Emilia-Romagna: hamlet bassa in Emil-F1 (Pianura modenese), collina in Emil-E2
    (Collina emiliana centrale), piana in Emil-H2 (Pianura piacentino-parmense), monte in Tosc-A4; a broadcast
    channel; the topic allerte."""

    def __init__(self, stack, rules: dict | None = None, feed_kind: str = "dpc", timeout: int = 10, **alerts):
        n = uuid.uuid4().int % 10**9
        self.stack, self.tenant, self.channel = stack, f"allerta{n}", f"46{n:013d}"
        self.path = f"/{self.tenant}/feed.{'json' if feed_kind == 'dpc' else 'xml'}"
        hamlets = [("bassa", 44.70, 10.95), ("collina", 44.45, 10.80), ("piana", 44.95, 9.80), ("monte", 43.72, 10.9)]
        directory.save_tenant(self.tenant, f"Comune di Allerta {n}", {
            "hamlets": [{"id": h, "name": h.title(), "latitude": lat, "longitude": lon} for h, lat, lon in hamlets],
            "topics": [{"id": "allerte", "name": "Allerte e protezione civile", "short_name": "Allerte"},
                       {"id": "eventi", "name": "Eventi"}],
            "privacy_notice_url": "https://example.org/privacy", "privacy_notice_version": "v1",
            "alerts": {"enabled": True, "zones": ["Tosc-A4"],
                       "places": {"bassa": {"zones": ["Emil-F1"]}, "collina": {"zones": ["Emil-E2"]},
                                  "piana": {"zones": ["Emil-H2"]}, "monte": {"geocodes": ["emma_id=NO808"]}},
                       "feeds": [{"id": "ufficiale", "kind": feed_kind, "url": f"{stack.alerts_url}{self.path}",
                                  "timeout_seconds": timeout}],
                       "rules": rules or {},
                       "push_partners": [{"name": "regione", "key_sha256": hashlib.sha256(PUSH_KEY.encode()).hexdigest()}],
                       **alerts},
        })
        directory.save_channel(Channel(self.channel, self.tenant, "broadcast", "Avvisi", "+39 0571 960000", {
            "rate_per_second": 200, "quiet_hours": {"enabled": False},
            "templates": {"notice": {"name": "avviso_comune", "language": "it", "category": "utility"}}}))
        stack.sandbox.add_channel({"phone_number_id": self.channel, "kind": "broadcast", "tenant": self.tenant,
                                   "templates": TEMPLATES})
        self.token = stack.issuer.token(self.tenant, ["communications"], name="Ufficio stampa")

    def call(self, method: str, path: str, **kwargs) -> requests.Response:
        return requests.request(method, f"{self.stack.api_url}{path}", timeout=30,
                                headers={"Authorization": f"Bearer {self.token}"}, **kwargs)

    def publish(self, body: bytes) -> None:
        self.stack.alert_feeds.publish(self.path, body)

    def watch(self, now: datetime) -> dict:
        return watch.watch_tenant(directory.get_tenant(self.tenant), now)

    def overview(self) -> dict:
        answer = self.call("GET", "/api/v1/alerts")
        assert answer.status_code == 200, answer.text
        return answer.json()

    def subscribe(self, rows: list[tuple[str, str, str]]) -> None:
        text = "phone,hamlets,topics\n" + "".join(f"{p},{h},{t}\n" for p, h, t in rows)
        answer = requests.post(f"{self.stack.api_url}/api/v1/subscribers/import", params={"channel": self.channel},
                               data=text.encode(), timeout=60,
                               headers={"Authorization": f"Bearer {self.token}", "Content-Type": "text/csv"})
        assert answer.json()["summary"]["error"] == 0, answer.text

    def inbox(self, phone: str) -> list[dict]:
        return Phone(self.stack, self.channel, phone).inbox()


def dpc(stamp: str) -> bytes:
    return (FIXTURES / "dpc" / f"{stamp}.json").read_bytes()


def summary(drafts: list[dict]) -> set[tuple]:
    return {(d["kind"], d["level"], tuple(d["audience"]["hamlets"]), tuple(d["audience"]["topics"])) for d in drafts}


def test_the_red_bulletin_drafts_one_notice_per_hamlet_audience_and_never_twice(stack):
    town = AlertTown(stack)
    town.publish(dpc("20230516_1522"))
    result = town.watch(RED_DAY)
    assert result["read"] == 1 and result["failed"] == 0
    drafts = town.overview()["drafts"]
    # today and tomorrow alike: hydraulic red in Emil-F1 (bassa), orange in Emil-E2 (collina), yellow in Emil-H2
    # (piana); hydrogeological red in Emil-E2; red goes to every subscriber of the hamlet, orange and yellow to the
    # topic's; monte (Tosc-A4) is not on alert
    assert summary(drafts) == {("alert", "red", ("bassa",), ()), ("alert", "orange", ("collina",), ("allerte",)),
                               ("alert", "yellow", ("piana",), ("allerte",)), ("alert", "red", ("collina",), ())}
    assert len(drafts) == 8  # four per day (16 and 17 May)
    red = next(d for d in drafts if d["level"] == "red" and d["audience"]["hamlets"] == ["bassa"])
    assert red["text"].startswith("Allerta ROSSA per rischio idraulico") and "Bassa" in red["text"]
    assert "Dipartimento della Protezione Civile" in red["text"]
    assert {d["status"] for d in drafts} == {"draft"}

    # the same bulletin read again (a 304), re-published as another file, and an hour later: nothing more
    town.watch(RED_DAY + timedelta(minutes=5))
    town.publish(dpc("20230516_1522").replace(b'"type":"first"', b'"type": "first" '))
    town.watch(RED_DAY + timedelta(minutes=10))
    town.watch(RED_DAY + timedelta(hours=1))
    assert len(town.overview()["drafts"]) == 8
    assert any(conditional for path, conditional in stack.alert_feeds.requests if path == town.path)

    # the day after, tomorrow's notices stand: no "fine allerta" for hamlets still on alert on the 17th
    town.watch(datetime(2023, 5, 17, 0, 30, tzinfo=UTC))
    assert not [d for d in town.overview()["drafts"] if d["kind"] == "end"]
    # after the 17th, the alert is over: one "fine allerta" per hazard for the hamlets that were told
    town.watch(datetime(2023, 5, 18, 0, 30, tzinfo=UTC))
    ends = [d for d in town.overview()["drafts"] if d["kind"] == "end"]
    assert summary(ends) == {("end", "red", ("bassa", "collina", "piana"), ()), ("end", "red", ("collina",), ())}
    assert all("Fine allerta" in d["text"] for d in ends)


def test_an_approved_draft_goes_out_through_the_broadcast_engine_and_names_its_approver(stack):
    town = AlertTown(stack)
    people = {"bassa": number(), "collina": number(), "monte": number(), "bassa_eventi": number()}
    town.subscribe([(people["bassa"], "bassa", "allerte"), (people["collina"], "collina", "allerte"),
                    (people["monte"], "monte", "allerte"), (people["bassa_eventi"], "bassa", "eventi")])
    town.publish(dpc("20230516_1522"))
    town.watch(RED_DAY)
    draft = next(d for d in town.overview()["drafts"] if d["level"] == "red" and d["audience"]["hamlets"] == ["bassa"]
                 and "16/05/2023" in d["text"])
    answer = town.call("POST", f"/api/v1/broadcasts/{draft['id']}/schedule")
    assert answer.status_code == 200, answer.text
    done = wait_for(lambda: (b := town.call("GET", f"/api/v1/broadcasts/{draft['id']}").json())["status"] ==
                    "completed" and b, timeout=30)
    assert done["counters"]["recipients"] == 2  # red: every subscriber of bassa, whatever their topics
    for person in ("bassa", "bassa_eventi"):
        (message,) = wait_for(lambda p=person: town.inbox(people[p]), timeout=10)
        assert "Allerta ROSSA" in message["text"]
    assert town.inbox(people["collina"]) == [] and town.inbox(people["monte"]) == []
    audit = requests.get(f"{stack.api_url}/api/v1/audit", timeout=20, params={"action": "broadcast.schedule"},
                         headers={"Authorization": f"Bearer {stack.issuer.token(town.tenant, ['admin'])}"}).json()
    entries = [e for e in audit["items"] if e["target"] == draft["id"]]
    assert entries and entries[0]["actor_name"] == "Ufficio stampa"


def test_the_no_alert_bulletin_produces_nothing(stack):
    town = AlertTown(stack)
    town.publish(dpc("20231022_1449"))  # today: no alert anywhere; tomorrow: Liguria only
    assert town.watch(datetime(2023, 10, 22, 13, 0, tzinfo=UTC))["read"] == 1
    overview = town.overview()
    assert overview["drafts"] == [] and overview["broadcasts"] == []
    (feed,) = overview["feeds"]
    assert feed["failures"] == 0 and feed["ok_at"].startswith("2023-10-22T13:00")
    assert feed["status"] == "silent"  # its last good read (at the bulletin's date) is years before the console's now


def test_the_yellow_and_orange_bulletin_follows_the_rules_per_level(stack):
    town = AlertTown(stack, rules={"idraulico": {"yellow": "nothing", "orange": "auto"}})
    piana_topic, piana_other, bassa = number(), number(), number()
    town.subscribe([(piana_topic, "piana", "allerte"), (piana_other, "piana", "eventi"), (bassa, "bassa", "allerte")])
    town.publish(dpc("20231025_1556"))  # hydraulic: orange in Emil-H2 (piana), yellow in Emil-F1 (bassa)
    town.watch(datetime(2023, 10, 25, 15, 0, tzinfo=UTC))
    overview = town.overview()
    assert overview["drafts"] == []  # yellow: nothing; orange: sent at once
    (sent,) = overview["broadcasts"]
    assert (sent["level"], sent["audience"]) == ("orange", {"hamlets": ["piana"], "topics": ["allerte"]})
    (message,) = wait_for(lambda: town.inbox(piana_topic), timeout=30)
    # outside the 24-hour window, the channel's notice template with the alert's first line as its title
    assert "Allerta ARANCIONE per rischio idraulico" in message["text"]
    assert town.inbox(piana_other) == [] and town.inbox(bassa) == []
    zones = {z["code"]: z for z in town.overview()["zones"]}
    assert zones["Emil-H2"]["level"] == "orange" and zones["Emil-F1"]["level"] == "yellow"
    assert zones["Emil-H2"]["hamlets"] == ["piana"]


def current_cap(now: datetime, **changes: str) -> bytes:
    """MET Norway's real CAP alert (gale, yellow, areas NO808/NO809), its times moved to now so it is in force,
    with the changes a test asks for (identifier, msgType, references, level)."""
    body = (FIXTURES / "cap" / "METfare-20210921T070421.cap.xml").read_text(encoding="utf-8")
    body = re.sub(r"<(effective|onset)>[^<]*<", lambda m: f"<{m.group(1)}>{now.isoformat()}<", body)
    body = re.sub(r"<expires>[^<]*<", f"<expires>{(now + timedelta(hours=12)).isoformat()}<", body)
    body = re.sub(r"<sent>[^<]*<", f"<sent>{changes.get('sent', now.isoformat())}<", body)
    if "identifier" in changes:
        body = re.sub(r"<identifier>[^<]*<", f"<identifier>{changes['identifier']}<", body)
    if "msg_type" in changes:
        body = body.replace("<msgType>Alert</msgType>", f"<msgType>{changes['msg_type']}</msgType>"
                            f"<references>{changes['references']}</references>")
    if "level" in changes:
        body = body.replace("2; yellow; Moderate", changes["level"])
    return body.encode()


def push(stack, town: AlertTown, body: bytes, key: str = PUSH_KEY) -> requests.Response:
    return requests.post(f"{stack.api_url}/alerts/v1/{town.tenant}/cap", data=body, timeout=30,
                         headers={"Content-Type": "application/xml", "X-Api-Key": key})


def test_a_cap_alert_then_its_updates_tell_once_then_only_what_changed(stack):
    town = AlertTown(stack)
    now = datetime.now(UTC).replace(microsecond=0)
    first = current_cap(now)
    original = re.search(rb"<identifier>([^<]*)<", first).group(1).decode()
    sender = re.search(rb"<sender>([^<]*)<", first).group(1).decode()
    answer = push(stack, town, first)
    assert answer.status_code == 202, answer.text
    assert len(answer.json()["broadcasts"]) == 1
    for _ in range(3):  # the same document three times: nothing more
        assert push(stack, town, first).json()["broadcasts"] == []

    def update(n: int, **changes) -> bytes:
        return current_cap(now, identifier=f"{original}.u{n}", msg_type="Update", sent=(now + timedelta(minutes=n))
                           .isoformat(), references=f"{sender},{original},{now.isoformat()}", **changes)

    assert push(stack, town, update(1)).json()["broadcasts"] == []  # an Update with the same content
    raised = push(stack, town, update(2, level="3; orange; Severe")).json()["broadcasts"]
    assert len(raised) == 1
    cancel = current_cap(now, identifier=f"{original}.c", msg_type="Cancel", sent=(now + timedelta(minutes=3))
                         .isoformat(), references=f"{sender},{original},{now.isoformat()}")
    assert len(push(stack, town, cancel).json()["broadcasts"]) == 1
    drafts = town.overview()["drafts"]
    assert summary(drafts) == {("alert", "yellow", ("monte",), ("allerte",)),
                               ("update", "orange", ("monte",), ("allerte",)),
                               ("end", "orange", ("monte",), ("allerte",))}
    update_text = next(d["text"] for d in drafts if d["kind"] == "update")
    assert update_text.startswith("AGGIORNAMENTO – Allerta ARANCIONE per vento")
    (series,) = town.overview()["series"]
    assert [v["msg_type"] for v in series["history"]] == ["Alert", "Update", "Cancel"]


def test_a_push_needs_the_partners_key_and_a_hostile_document_is_refused_without_harm(stack):
    town = AlertTown(stack)
    now = datetime.now(UTC)
    assert push(stack, town, current_cap(now), key="sbagliata").status_code == 403
    assert requests.post(f"{stack.api_url}/alerts/v1/nessuno/cap", data=current_cap(now), timeout=30,
                         headers={"Content-Type": "application/xml", "X-Api-Key": PUSH_KEY}).status_code == 403
    laughs = (b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa">'
              + b"".join(b'<!ENTITY a%d "%s">' % (i, (b"&a%d;" % (i - 1) if i > 1 else b"&a;") * 10) for i in range(1, 9))
              + b']><alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><identifier>&a8;</identifier></alert>')
    entity = (b'<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
              b'<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><identifier>&x;</identifier></alert>')
    for body in (laughs, entity):
        answer = push(stack, town, body)
        assert answer.status_code == 400 and "rifiutato" in answer.json()["message"]
    big = push(stack, town, b"<alert>" + b"x" * 10_000_000 + b"</alert>")
    assert big.status_code in (413, 400)
    assert requests.get(f"{stack.api_url}/health", timeout=10).status_code == 200
    assert town.overview()["drafts"] == []


def assert_recovers(town: AlertTown, at: datetime, drafts: int) -> None:
    """Nothing was drafted while the feed failed; at its next try it reads, no longer shows failing, and the bulletin
    read late gives every draft it says, once."""
    assert town.overview()["drafts"] == []
    assert town.watch(at)["read"] == 1
    (feed,) = town.overview()["feeds"]
    assert feed["status"] != "failing" and feed["failures"] == 0 and feed["error"] is None
    assert len(town.overview()["drafts"]) == drafts


def test_a_feed_that_times_out_backs_off_shows_failing_and_loses_nothing(stack):
    town = AlertTown(stack, timeout=1)
    town.publish(dpc("20230516_1522"))
    stack.alert_feeds.slow(town.path, 2)
    try:
        assert town.watch(RED_DAY)["failed"] == 1
        (feed,) = town.overview()["feeds"]
        assert feed["status"] == "failing" and feed["failures"] == 1 and "timed out" in feed["error"]
        assert feed["next_at"] == (RED_DAY + timedelta(minutes=5)).isoformat()
        assert town.watch(RED_DAY + timedelta(minutes=2)) == {"read": 0, "failed": 0, "broadcasts": 0}  # not yet
        assert town.watch(RED_DAY + timedelta(minutes=5))["failed"] == 1
        assert town.overview()["feeds"][0]["next_at"] == (RED_DAY + timedelta(minutes=15)).isoformat()  # doubled
    finally:
        stack.alert_feeds.slow(town.path, 0)
    assert_recovers(town, RED_DAY + timedelta(minutes=15), drafts=8)


@pytest.mark.parametrize("section", ["alerts"])
def test_the_rules_are_a_settings_section_the_administrator_saves(stack, section):
    town = AlertTown(stack)
    admin = {"Authorization": f"Bearer {stack.issuer.token(town.tenant, ['admin'])}"}
    current = requests.get(f"{stack.api_url}/api/v1/settings", headers=admin, timeout=20).json()
    value = current["sections"][section]
    assert value["rules"] == {} and value["zones"] == ["Tosc-A4"]
    value["rules"] = {"idraulico": {"yellow": "nothing", "orange": "draft", "red": "auto"}}
    saved = requests.put(f"{stack.api_url}/api/v1/settings/{section}", headers=admin, timeout=20,
                         json={"version": current["version"], "value": value})
    assert saved.status_code == 200, saved.text
    bad = requests.put(f"{stack.api_url}/api/v1/settings/{section}", headers=admin, timeout=20,
                       json={"version": saved.json()["version"], "value": {**value, "rules": {"idraulico": {"red": "subito"}}}})
    assert bad.status_code == 422


def next_day_bulletin() -> bytes:
    """The red bulletin's "tomorrow" (17 May) published the next day as "today", unchanged, with a quiet 18 May:
    built from the real bulletin of 16 May (its own words for the 17th moved to the today part)."""
    index = json.loads(dpc("20230516_1522"))
    index["date"] = "2023-05-17T13:30:00.000Z"
    index["name"] = "Bollettino del 17 maggio 2023 ore 15:30"
    index["today"] = {**index["today"], "topo_json": index["today"]["topo_json"].replace("20230516_1522", "20230517_1530"),
                      "html_descrition": index["tomorrow"]["html_descrition"].replace("di domani", "di oggi")}
    index["tomorrow"] = {**index["tomorrow"], "html_descrition": "<p>Per la giornata di domani, Giovedì 18 maggio 2023:"
                         "<br/><b>ASSENZA DI FENOMENI SIGNIFICATIVI PREVEDIBILI / NESSUNA ALLERTA</b> </p>"}
    return json.dumps(index).encode()


def test_tomorrows_bulletin_becomes_todays_without_a_second_message(stack):
    town = AlertTown(stack)
    town.publish(dpc("20230516_1522"))
    town.watch(RED_DAY)
    before = {d["id"] for d in town.overview()["drafts"]}
    town.publish(next_day_bulletin())
    assert town.watch(datetime(2023, 5, 17, 13, 40, tzinfo=UTC))["read"] == 1
    assert {d["id"] for d in town.overview()["drafts"]} == before


def test_a_cap_feed_is_polled_and_its_documents_read_once(stack):
    town = AlertTown(stack, feed_kind="cap", rules={"vento": {"yellow": "auto"}})
    person = number()
    town.subscribe([(person, "monte", "allerte")])
    now = datetime.now(UTC).replace(microsecond=0)
    document = f"/{town.tenant}/documents/met.xml"
    stack.alert_feeds.publish(document, current_cap(now))
    feed = (f'<?xml version="1.0" encoding="UTF-8"?><feed xmlns="http://www.w3.org/2005/Atom"><id>x</id>'
            f'<title>Avvisi</title><updated>{now.isoformat()}</updated><entry><id>met-1</id><title>Vento</title>'
            f'<updated>{now.isoformat()}</updated><link href="{stack.alerts_url}{document}"/></entry></feed>')
    town.publish(feed.encode())
    for minutes in (0, 5, 10):  # the feed read three times: the document fetched once, one notice sent
        assert town.watch(now + timedelta(minutes=minutes))["failed"] == 0
    assert sum(1 for path, _ in stack.alert_feeds.requests if path == document) == 1
    (sent,) = town.overview()["broadcasts"]
    assert (sent["level"], sent["audience"]["hamlets"]) == ("yellow", ["monte"])
    (message,) = wait_for(lambda: town.inbox(person), timeout=30)
    assert "Allerta GIALLA per vento" in message["text"]


def test_an_expired_cap_alert_ends_with_fine_allerta_once(stack):
    town = AlertTown(stack)
    now = datetime.now(UTC).replace(microsecond=0)
    assert len(push(stack, town, current_cap(now)).json()["broadcasts"]) == 1  # in force for 12 hours
    town.watch(now + timedelta(hours=1))
    assert [d["kind"] for d in town.overview()["drafts"]] == ["alert"]
    for hours in (13, 14):  # past its expiry, swept twice: one "fine allerta"
        town.watch(now + timedelta(hours=hours))
    assert sorted(d["kind"] for d in town.overview()["drafts"]) == ["alert", "end"]
    end = next(d for d in town.overview()["drafts"] if d["kind"] == "end")
    assert end["audience"] == {"hamlets": ["monte"], "topics": ["allerte"]} and "Fine allerta per vento" in end["text"]


class GitHubTown(AlertTown):
    """A comune whose dpc feed has no url: it finds the newest bulletin of a repository of its own on the local
    stand-in's copy of GitHub's API (as it would on api.github.com)."""

    def __init__(self, stack, **alerts):
        super().__init__(stack, **alerts)
        self.repository = f"prova-{self.tenant}/bollettini"
        settings = directory.stored_tenant(self.tenant)[0]
        settings["alerts"]["feeds"] = [{"id": "ufficiale", "kind": "dpc", "repository": self.repository,
                                        "api_url": stack.alerts_url, "raw_url": stack.alerts_url}]
        directory.save_tenant(self.tenant, f"Comune di {self.tenant}", settings)
        self.commits_path = f"/repos/{self.repository}/commits"

    def commit(self, stamp: str, body: bytes, **kwargs) -> str:
        return self.stack.alert_feeds.publish_bulletin(stamp, body, repository=self.repository, **kwargs)

    def requests_since(self, start: int) -> list[tuple[str, bool]]:
        return [r for r in self.stack.alert_feeds.requests[start:] if self.repository in r[0]]


def reissued(stamp: str, body: bytes, published: str) -> bytes:
    """A re-issue the same day, as the DPC publishes it: another file, its own stamp and time, here with Pianura
    modenese (Emil-F1) raised from yellow to orange for hydraulic risk today (built from the real bulletin)."""
    index = json.loads(body)
    old = re.search(r"(\d{8}_\d{4})", index["today"]["topo_json"]).group(1)
    index = json.loads(json.dumps(index).replace(old, stamp))
    index["date"], index["name"] = published, f"{index['name']} - Aggiornamento"
    today = index["today"]["html_descrition"]
    today = today.replace(": Pianura piacentino-parmense<br />", ": Pianura piacentino-parmense, Pianura modenese<br />")
    index["today"]["html_descrition"] = today.replace("Pianura reggiana, Pianura modenese, ", "Pianura reggiana, ")
    return json.dumps(index, ensure_ascii=False).encode()


def test_the_dpc_feed_finds_the_newest_bulletin_on_github_and_a_reissue_sends_only_what_changed(stack):
    town = GitHubTown(stack)
    for stamp in ("20230516_1522", "20231022_1449", "20231025_1556"):
        town.commit(stamp, dpc(stamp))
    town.commit("20231025_1556", b"", extra_files=("files/all/latest_all.zip", "files/pdf/20231025_1556.zip"))
    start = len(stack.alert_feeds.requests)
    assert town.watch(datetime(2023, 10, 25, 15, 0, tzinfo=UTC))["read"] == 1
    (feed,) = town.overview()["feeds"]
    assert feed["failures"] == 0 and feed["url"].endswith(f"/{town.repository}/master/files/20231025_1556.json")
    # the list of commits, the newest commit (attachments only), the one before (the bulletin), the bulletin
    assert [p for p, _ in town.requests_since(start)][0] == town.commits_path
    assert len(town.requests_since(start)) == 4
    # the newest bulletin's hydraulic levels: orange in Emil-H2 (piana), yellow in Emil-F1 (bassa)
    first = summary(town.overview()["drafts"])
    assert first == {("alert", "orange", ("piana",), ("allerte",)), ("alert", "yellow", ("bassa",), ("allerte",))}

    # nothing committed since: one conditional request, GitHub's 304, no bulletin read again, nothing new
    start = len(stack.alert_feeds.requests)
    assert town.watch(datetime(2023, 10, 25, 15, 5, tzinfo=UTC))["read"] == 1
    assert town.requests_since(start) == [(town.commits_path, True)]
    assert summary(town.overview()["drafts"]) == first

    # a re-issue the same day, another file: it replaces the first; only bassa, raised to orange, is told again
    town.commit("20231025_1830", reissued("20231025_1830", dpc("20231025_1556"), "2023-10-25T16:30:00.000Z"))
    assert town.watch(datetime(2023, 10, 25, 16, 40, tzinfo=UTC))["read"] == 1
    assert town.overview()["feeds"][0]["url"].endswith("/files/20231025_1830.json")
    assert summary(town.overview()["drafts"]) == first | {("update", "orange", ("bassa",), ("allerte",))}
    update = next(d for d in town.overview()["drafts"] if d["kind"] == "update")
    assert update["text"].startswith("AGGIORNAMENTO – Allerta ARANCIONE per rischio idraulico")
    # an older file touched again later is not newer: the feed stays on the re-issue
    town.commit("20231025_1556", dpc("20231025_1556"))
    town.watch(datetime(2023, 10, 25, 16, 50, tzinfo=UTC))
    assert town.overview()["feeds"][0]["url"].endswith("/files/20231025_1830.json")
    assert len(town.overview()["drafts"]) == 3


def test_a_rate_limited_github_backs_off_until_its_reset_and_loses_nothing(stack):
    town = GitHubTown(stack)
    town.commit("20231025_1556", dpc("20231025_1556"))
    now = datetime(2023, 10, 25, 15, 0, tzinfo=UTC)
    reset = now + timedelta(minutes=40)
    stack.alert_feeds.fail(town.commits_path, 403, {"x-ratelimit-limit": "60", "x-ratelimit-remaining": "0",
                                                    "x-ratelimit-reset": str(int(reset.timestamp()))})
    try:
        assert town.watch(now)["failed"] == 1
        (feed,) = town.overview()["feeds"]
        assert feed["status"] == "failing" and "rate limit" in feed["error"]
        assert feed["next_at"] == reset.isoformat()  # GitHub's reset, not the 5 minutes of a first failure
        start = len(stack.alert_feeds.requests)
        assert town.watch(now + timedelta(minutes=10)) == {"read": 0, "failed": 0, "broadcasts": 0}
        assert town.requests_since(start) == []  # no call before the reset: it would only count against the limit
        stack.alert_feeds.fail(town.commits_path, 429, {"retry-after": "600"})
        assert town.watch(reset)["failed"] == 1
        assert town.overview()["feeds"][0]["next_at"] == (reset + timedelta(minutes=10)).isoformat()
    finally:
        stack.alert_feeds.fail(town.commits_path, 0)
    assert_recovers(town, reset + timedelta(minutes=10), drafts=2)


def test_the_comuni_reading_one_repository_share_one_lookup_per_run_and_its_failure(stack):
    first, second = GitHubTown(stack), GitHubTown(stack)
    second.repository, second.commits_path = first.repository, first.commits_path
    settings = directory.stored_tenant(second.tenant)[0]
    settings["alerts"]["feeds"][0]["repository"] = first.repository
    directory.save_tenant(second.tenant, f"Comune di {second.tenant}", settings)
    first.commit("20231025_1556", dpc("20231025_1556"))
    now, memo = datetime(2023, 10, 25, 15, 0, tzinfo=UTC), {}
    start = len(stack.alert_feeds.requests)
    for town in (first, second):
        assert watch.watch_tenant(directory.get_tenant(town.tenant), now, memo)["read"] == 1
        assert len(town.overview()["drafts"]) == 2
    lookups = [p for p, _ in first.requests_since(start) if p.startswith("/repos/")]
    assert lookups.count(first.commits_path) == 1  # one list of commits for both comuni
    # GitHub rate limited: the first comune's answer holds for the second, which makes no request of its own
    stack.alert_feeds.fail(first.commits_path, 429, {"retry-after": "900"})
    try:
        start, memo = len(stack.alert_feeds.requests), {}
        for town in (first, second):
            assert watch.watch_tenant(directory.get_tenant(town.tenant), now + timedelta(minutes=5), memo)["failed"] == 1
            assert town.overview()["feeds"][0]["next_at"] == (now + timedelta(minutes=20)).isoformat()
        assert len(first.requests_since(start)) == 1
    finally:
        stack.alert_feeds.fail(first.commits_path, 0)
