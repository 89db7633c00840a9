"""Audience counts per hamlet and topic (issue 18): the composer's preview counts from cells kept in the same
transaction as each subscription change, so it stays exact after subscribing (WhatsApp and staff import),
DISATTIVA, a change of hamlet, erasure and concurrent changes; the nightly reconciliation finds and fixes drift.
And the status flood: statuses posted one per webhook, as Meta mostly posts them, still end in exact counters.

Each count is checked against the subscribers themselves, as staff list them (GET /api/v1/subscribers).
Citizen numbers of this file: +39 347 76x xxxx."""
from __future__ import annotations

import itertools
import uuid
from concurrent.futures import ThreadPoolExecutor

import boto3
import pytest
import requests

from chalicelib.domain.broadcasts import Audience
from chalicelib.domain.tenancy import Channel
from chalicelib.resources import QUEUES
from chalicelib.services.subscriptions import audiences as service
from chalicelib.store import audiences, directory
from tests.integration.conftest import Phone
from tests.waiting import wait_for

HAMLETS = [{"id": "colle", "name": "Colle", "latitude": 43.70, "longitude": 10.90},
           {"id": "piano", "name": "Piano", "latitude": 43.72, "longitude": 10.94},
           {"id": "borgo", "name": "Borgo", "latitude": 43.74, "longitude": 10.96}]
TOPICS = [{"id": "strade", "name": "Strade"}, {"id": "scuole", "name": "Scuole"}]
AUDIENCES = [{}, {"hamlets": ["colle"]}, {"hamlets": ["piano"]}, {"hamlets": ["colle", "piano"]},
             {"topics": ["scuole"]}, {"hamlets": ["colle", "piano"], "topics": ["strade", "scuole"]},
             {"hamlets": ["borgo"], "topics": ["strade"]}]
_numbers = itertools.count(1)


class Town:
    """A comune of this file: one broadcast channel, three hamlets, two topics."""

    def __init__(self, stack):
        n = uuid.uuid4().int % 10**9
        self.stack, self.tenant, self.channel = stack, f"conta{n}", f"76{n:013d}"
        directory.save_tenant(self.tenant, f"Comune di Conta {n}", {
            "hamlets": HAMLETS, "topics": TOPICS,
            "privacy_notice_url": "https://example.org/privacy", "privacy_notice_version": "v1"})
        directory.save_channel(Channel(self.channel, self.tenant, "broadcast", "Avvisi", "+39 0571 976000", {
            "rate_per_second": 200, "quiet_hours": {"enabled": False}}))
        stack.sandbox.add_channel({"phone_number_id": self.channel, "kind": "broadcast", "tenant": self.tenant})
        self.tokens = {role: stack.issuer.token(self.tenant, [role]) for role in ("communications", "admin")}
        self.block = next(_numbers)

    def call(self, method: str, path: str, role: str = "communications", headers: dict | None = None,
             **kwargs) -> requests.Response:
        return requests.request(method, f"{self.stack.api_url}{path}", timeout=60,
                                headers={"Authorization": f"Bearer {self.tokens[role]}", **(headers or {})}, **kwargs)

    def number(self, n: int) -> str:
        return f"+39 347 76{self.block % 10} {n:04d}"

    def preview(self, audience: dict) -> dict:
        answer = self.call("POST", "/api/v1/broadcast-preview",
                           json={"channel": self.channel, "text": "Prova", "audience": audience})
        assert answer.status_code == 200, answer.text
        return answer.json()

    def subscribers(self) -> list[dict]:
        listed, cursor = [], None
        while True:
            page = self.call("GET", "/api/v1/subscribers", role="admin", params={
                "channel": self.channel, "status": "active", "limit": 100, **({"cursor": cursor} if cursor else {})})
            assert page.status_code == 200, page.text
            body = page.json()
            listed += body["items"]
            cursor = body.get("next")
            if not cursor:
                return listed

    def assert_exact(self) -> dict:
        """Every audience's preview equals the subscribers it includes, counted one by one, and so does the number
        of them outside the 24-hour window (those who never wrote: imported ones); returns the counts."""
        people = self.subscribers()
        counts = {}
        for audience in AUDIENCES:
            wanted = Audience(tuple(audience.get("hamlets", ())), tuple(audience.get("topics", ())))
            included = [p for p in people if wanted.includes(p["hamlets"], p["topics"])]
            shown = self.preview(audience)
            assert shown["audience"] == len(included), (audience, shown["audience"], len(included))
            silent = sum(1 for p in included if not p["last_inbound_at"])  # this test's citizens wrote just now
            assert shown["outside_window"] == silent, (audience, shown["outside_window"], silent)
            counts[str(audience)] = len(included)
        return counts

    def import_rows(self, rows: str) -> None:
        answer = self.call("POST", "/api/v1/subscribers/import", params={"channel": self.channel},
                           data=("phone,hamlets,topics\n" + rows).encode(), headers={"Content-Type": "text/csv"})
        assert answer.status_code == 200 and answer.json()["summary"]["error"] == 0, answer.text


def subscribe_on_whatsapp(town: Town, n: int, hamlet: str, topic: str) -> Phone:
    """ATTIVA, confirm, then a hamlet and a topic from the lists ('*' for all of them)."""
    phone = Phone(town.stack, town.channel, town.number(n))
    phone.text("ATTIVA")
    phone.wait_inbox(1)
    phone.tap("sub:confirm")
    phone.wait_inbox(3)  # the welcome and the hamlet list
    phone.tap(f"hamlet:{hamlet}", kind="list")
    phone.wait_inbox(4)
    phone.tap(f"topic:{topic}", kind="list")
    phone.wait_inbox(5)
    return phone


@pytest.fixture
def town(stack):
    return Town(stack)


def test_the_preview_counts_each_subscriber_once_through_every_change(town):
    first = subscribe_on_whatsapp(town, 1, "colle", "*")
    subscribe_on_whatsapp(town, 2, "piano", "scuole")
    # two hamlets at once, and everything: a subscriber in two chosen hamlets must count once
    town.import_rows(f"{town.number(3)},colle;piano,strade\n{town.number(4)},,\n{town.number(5)},borgo,scuole\n")
    counts = town.assert_exact()
    assert counts[str({"hamlets": ["colle", "piano"]})] == 4  # 1, 2, 3 (in both) and 4 (every hamlet)
    assert counts[str({})] == 5

    first.text("DISATTIVA")
    first.wait_inbox(6)
    wait_for(lambda: town.preview({})["audience"] == 4)
    town.assert_exact()

    # a change of hamlet: by staff (an update of an imported resident) and by the citizen on WhatsApp
    changed = town.call("POST", "/api/v1/subscribers", json={
        "channel": town.channel, "phone": town.number(3), "hamlets": ["borgo"], "topics": ["strade"]})
    assert changed.status_code == 200, changed.text
    second = Phone(town.stack, town.channel, town.number(2))
    second.text("PREFERENZE")
    second.wait_inbox(6)
    second.tap("hamlet:borgo", kind="list")
    second.wait_inbox(7)
    second.tap("topic:strade", kind="list")
    second.wait_inbox(8)
    counts = town.assert_exact()
    assert counts[str({"hamlets": ["borgo"], "topics": ["strade"]})] == 3  # 2, 3 and 4

    # erasure: by the subscriber list, and by the privacy desk
    assert town.call("DELETE", f"/api/v1/subscribers/{town.number(5).replace(' ', '')}", role="admin",
                     params={"channel": town.channel}).status_code in (200, 204)
    erased = town.call("POST", "/api/v1/privacy/erase", role="admin", json={"phone": town.number(2)})
    assert erased.status_code == 200, erased.text
    counts = town.assert_exact()
    assert counts[str({})] == 2

    # subscribing again after DISATTIVA counts again
    first.text("ATTIVA")
    first.wait_inbox(7)
    first.tap("sub:confirm")
    wait_for(lambda: town.preview({})["audience"] == 3)
    town.assert_exact()


def test_concurrent_changes_of_one_subscriber_leave_the_count_exact(town):
    """Staff add the same resident from many requests at once, each with other hamlets: one subscriber, one count."""
    choices = [["colle"], ["piano"], ["borgo"], ["colle", "piano"], [], ["piano", "borgo"], ["borgo"], ["colle"]]

    def add(hamlets):
        return town.call("POST", "/api/v1/subscribers", json={
            "channel": town.channel, "phone": town.number(100), "hamlets": hamlets, "topics": []}).status_code

    with ThreadPoolExecutor(4) as pool:
        assert set(pool.map(add, choices)) <= {200, 201}
    assert town.preview({})["audience"] == 1
    town.assert_exact()
    assert sum(audiences.cells(town.channel).values()) == 1


def test_the_nightly_reconciliation_fixes_a_drifted_count_and_says_so(town):
    town.import_rows(f"{town.number(200)},colle,\n{town.number(201)},colle,\n{town.number(202)},piano,scuole\n")
    town.assert_exact()
    before = audiences.cells(town.channel)
    cell = "h=colle|t="
    assert before[cell] == 2
    # drift as a lost write would leave it: the cell says 7, another cell counts someone who is not there
    audiences.correct(town.channel, cell, 2, 7)
    audiences.correct(town.channel, "h=borgo|t=strade", 0, 1)
    assert town.preview({"hamlets": ["colle"]})["audience"] == 7

    result = service.reconcile_channel(town.channel)
    assert result["fixed"] == {cell: -5, "h=borgo|t=strade": -1} and result["busy"] == []
    assert result["subscribers"] == 3
    town.assert_exact()
    assert service.reconcile_channel(town.channel)["fixed"] == {}  # nothing left to fix


def test_a_broadcast_whose_statuses_come_one_per_webhook_ends_with_exact_counters(town):
    """The status flood (issue 18): the sandbox posts sent, delivered and read of each message in POSTs of their own,
    concurrently; every one is applied once, the counters end exact and nothing is dead-lettered."""
    dead_before = _dead_inbound()  # the stack is the whole test file's (and other files' in this process)
    phones = [subscribe_on_whatsapp(town, 300 + n, "*", "*") for n in range(3)]
    town.stack.sandbox.configure(statuses_per_post=1, status_posters=4)
    try:
        created = town.call("POST", "/api/v1/broadcasts", json={"channel": town.channel, "text": "Avviso a tutti"})
        assert created.status_code == 201, created.text
        done = wait_for(lambda: (b := town.call("GET", f"/api/v1/broadcasts/{created.json()['id']}").json())
                        ["counters"]["read"] == 3 and b, timeout=60)
    finally:
        town.stack.sandbox.configure(statuses_per_post=1000, status_posters=1)
    assert done["status"] == "completed"
    assert {k: done["counters"][k] for k in ("sent", "delivered", "read", "failed")} == \
        {"sent": 3, "delivered": 3, "read": 3, "failed": 0}
    for phone in phones:
        assert [m["type"] for m in phone.inbox() if m["type"] == "text"
                and m["body"]["text"]["body"] == "Avviso a tutti"] == ["text"]
    assert _dead_inbound() == dead_before  # nothing of this broadcast's statuses dead-lettered


def _dead_inbound() -> int:
    sqs = boto3.client("sqs")
    url = sqs.get_queue_url(QueueName=QUEUES["inbound"].dlq_name)["QueueUrl"]
    return int(sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])[
        "Attributes"]["ApproximateNumberOfMessages"])
