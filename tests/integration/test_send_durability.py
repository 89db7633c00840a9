"""Sends that survive failures (docs/reliability.md, rows S20 and S21): every state write of a message comes before
its replies are queued, no failure after the provider accepted a send ever sends it again, and a job's lease is
short and renewed while the job runs.

Each failure goes in at the seam where it happens: a DynamoDB answer through botocore's own pipeline, a store
function or the idempotency library raising at its boundary, the local poller's SQS delete refused. Every test
counts what reached the sandbox's phones.
"""
from __future__ import annotations

import itertools
import json
import threading
import time
from datetime import timedelta

import boto3
import pytest
import requests
from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer
from botocore.exceptions import ClientError

from chalicelib.domain.tenancy import Channel
from chalicelib.services import clock
from chalicelib.services.messaging import outbound
from chalicelib.store import broadcasts as broadcast_store
from chalicelib.store import citizens, deliveries, directory, dynamo
from local.runner import QueuePoller
from local.seed import _square
from tests.integration.conftest import BROADCAST, Phone
from tests.integration.test_fault_matrix import aws_fault, dead_letters, figures, post, reply_job, wamid
from tests.waiting import wait_for

pytestmark = pytest.mark.long  # started first by make test (tests/conftest.py)

# numbers and comuni of this module's own (pytest imports test_fault_matrix's helpers here as a second copy: its
# counters would start again and hand out numbers its own tests use)
_numbers, _towns = itertools.count(1), itertools.count(1)
CENTRE = (43.7430, 10.9460)


def fresh(stack, channel: str = BROADCAST) -> Phone:
    return Phone(stack, channel, f"+39 342 {next(_numbers):07d}")


class Town:
    """A comune of its own with one broadcast channel, so each test counts exactly what it sent."""

    def __init__(self, stack):
        n = next(_towns)
        self.stack, self.n, self.tenant, self.channel = stack, n, f"durata{n}", f"4100000000{n:05d}"
        directory.save_tenant(self.tenant, f"Comune di Durata {n}", {
            "hamlets": [{"id": "colle", "name": "Colle", "latitude": CENTRE[0], "longitude": CENTRE[1],
                         "geometry": _square(*CENTRE)}],
            "privacy_notice_url": "https://example.org/privacy", "privacy_notice_version": "v1"})
        directory.save_channel(Channel(self.channel, self.tenant, "broadcast", "Avvisi", "+39 0571 930000",
                                       {"rate_per_second": 200, "quiet_hours": {"enabled": False}}))
        stack.sandbox.add_channel({"phone_number_id": self.channel, "kind": "broadcast", "tenant": self.tenant})
        self.token = stack.issuer.token(self.tenant, ["communications"])

    def call(self, method: str, path: str, **kwargs) -> requests.Response:
        return requests.request(method, f"{self.stack.api_url}{path}", timeout=30,
                                headers={"Authorization": f"Bearer {self.token}", **kwargs.pop("headers", {})}, **kwargs)

    def phone(self, k: int) -> Phone:
        return Phone(self.stack, self.channel, f"+39 341 {self.n:03d} {k:04d}")

    def subscribe(self, phones: list[Phone]) -> None:
        text = "phone,hamlets,topics\n" + "".join(f"{p.number},,\n" for p in phones)
        answer = self.call("POST", "/api/v1/subscribers/import", params={"channel": self.channel},
                           data=text.encode(), headers={"Content-Type": "text/csv"})
        assert answer.status_code == 200 and answer.json()["summary"]["error"] == 0, answer.text

    def broadcast(self, text: str) -> dict:
        answer = self.call("POST", "/api/v1/broadcasts", json={"channel": self.channel, "text": text})
        assert answer.status_code == 201, answer.text
        return answer.json()

    def wait_broadcast(self, broadcast_id: str, timeout: float = 60) -> dict:
        return wait_for(lambda: (b := self.call("GET", f"/api/v1/broadcasts/{broadcast_id}").json())["status"]
                        == "completed" and b, timeout=timeout)

VALIDATION = "com.amazonaws.dynamodb.v20120810#ValidationException"  # not retried by the SDK: the call fails at once


def _refused(*, times: int = 1):
    """A before-send pattern: the first `times` matching requests fail, the rest go through."""
    left = [times]

    def pattern(_request) -> bool:
        if left[0] <= 0:
            return False
        left[0] -= 1
        return True
    return pattern


def _with(*needles: str):
    parts = [n.encode() for n in needles]
    return lambda body: all(p in (body if isinstance(body, bytes) else str(body).encode()) for p in parts)


def _dynamodb_refuses(operations: str | tuple[str, ...], *needles: str, times: int = 1):
    """The first `times` matching DynamoDB requests (of these operations) of the app's low-level client fail as AWS
    would fail them."""
    events = [f"before-send.dynamodb.{operation}" for operation in
              ((operations,) if isinstance(operations, str) else operations)]
    return aws_fault(dynamo.client(), events, _with(*needles), 400, VALIDATION, pattern=_refused(times=times))


def _recorded(key: str, recipient: str, timeout: float = 40.0) -> deliveries.Delivery:
    """The send's own record (not just a status webhook about it)."""
    return wait_for(lambda: (d := deliveries.get(key, recipient)) and d.recorded_at and d, timeout=timeout)


def _reply_key(answer: dict) -> str:
    return f"reply-{answer['message_id']}"


class _DeleteRefused:
    """The local poller's SQS client with DeleteMessageBatch refused once for the messages holding `marker`
    (as Lambda's event source mapping may fail to delete): they come back after their visibility timeout."""

    def __init__(self, sqs, state: dict):
        self._sqs, self._state = sqs, state

    def __getattr__(self, name):
        return getattr(self._sqs, name)

    def receive_message(self, **kwargs):
        answer = self._sqs.receive_message(**kwargs)
        for message in answer.get("Messages", []):
            if self._state["marker"] and self._state["marker"] in message["Body"]:
                self._state["handles"].add(message["ReceiptHandle"])
                self._state["receives"] += 1
        return answer

    def delete_message_batch(self, **kwargs):
        ours = [e for e in kwargs["Entries"] if e["ReceiptHandle"] in self._state["handles"]]
        if ours and not self._state["refused"]:
            self._state["refused"] = True
            raise ClientError({"Error": {"Code": "InternalError", "Message": "injected"}}, "DeleteMessageBatch")
        answer = self._sqs.delete_message_batch(**kwargs)
        self._state["deleted"] += len(ours)
        return answer


@pytest.fixture
def deletes_refused(monkeypatch, request):
    """The outbound pollers' SQS deletes refused once for the messages holding a marker (for the queue-delete
    step only: the others need not wait for the pollers to pick the proxy up)."""
    state = {"marker": None, "handles": set(), "receives": 0, "refused": False, "deleted": 0}
    if request.node.callspec.params.get("step") != "queue-delete":
        return state
    real = QueuePoller.poll_once

    def poll_once(self, sqs, url, arn):
        if self.config.name == "outbound_sender":
            sqs = _DeleteRefused(sqs, state)
        return real(self, sqs, url, arn)

    monkeypatch.setattr(QueuePoller, "poll_once", poll_once)
    time.sleep(1.5)  # the pollers' long polls under way (1 s) end: every receive from now on goes through the proxy
    return state


# ==== state before replies ===============================================================================

def test_a_message_whose_state_cannot_be_saved_gets_no_reply_and_is_kept(stack, monkeypatch):
    """The reply of a message comes after its state: a save that keeps failing sends nothing (a reply would
    speak of a subscription that does not exist), and the message waits in the dead-letter queue."""
    phone, message_id = fresh(stack), wamid()
    real = citizens.save

    def refused(citizen, now):
        if citizen.phone == phone.e164:
            raise ClientError({"Error": {"Code": "ValidationException", "Message": "injected"}}, "PutItem")
        return real(citizen, now)

    monkeypatch.setattr(citizens, "save", refused)
    body = json.dumps({"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [{
        "field": "messages", "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "390571000001", "phone_number_id": BROADCAST},
            "contacts": [{"profile": {"name": "Test"}, "wa_id": phone.e164[1:]}],
            "messages": [{"from": phone.e164[1:], "id": message_id, "timestamp": str(int(time.time())),
                          "type": "text", "text": {"body": "ATTIVA"}}]}}]}]}).encode()
    assert post(stack, body).status_code == 200
    (dead,) = wait_for(lambda: dead_letters("inbound", message_id), timeout=60, interval=0.5)
    boto3.client("sqs").delete_message(QueueUrl=dead["QueueUrl"], ReceiptHandle=dead["ReceiptHandle"])
    assert phone.settle(1.0) == []
    figures("S20", case="state-write-fails-for-good", replies=0, dead_letters=1)


# ==== a failure after the provider accepted a send =========================================================

REPLY_STEPS = ["result-write", "queue-delete", "citizen-state-write", "inbound-completion"]


@pytest.mark.parametrize("step", REPLY_STEPS)
def test_a_failure_after_a_reply_is_sent_never_sends_it_again(stack, monkeypatch, deletes_refused, step):
    phone = fresh(stack)
    injected: list[str] = []
    if step == "citizen-state-write":
        real_save = citizens.save

        def save(citizen, now):
            if citizen.phone == phone.e164 and not injected:
                injected.append(step)
                raise ClientError({"Error": {"Code": "InternalServerError", "Message": "injected"}}, "PutItem")
            return real_save(citizen, now)
        monkeypatch.setattr(citizens, "save", save)
    if step == "inbound-completion":
        real_update = DynamoDBPersistenceLayer._update_record

        def update(self, data_record):
            if data_record.status == "COMPLETED" and not injected:
                injected.append(step)
                raise ClientError({"Error": {"Code": "InternalServerError", "Message": "injected"}}, "UpdateItem")
            return real_update(self, data_record)
        monkeypatch.setattr(DynamoDBPersistenceLayer, "_update_record", update)
    deletes_refused["marker"] = json.dumps(phone.e164) if step == "queue-delete" else None  # in its reply job
    with _dynamodb_refuses("PutItem", phone.e164, '"recorded_at"', times=1 if step == "result-write" else 0) as seen:
        answer = phone.text("AIUTO")
        record = _recorded(_reply_key(answer), phone.e164)
        if step == "queue-delete":  # the job came back after its visibility and was deleted: nothing sent
            wait_for(lambda: deletes_refused["deleted"] >= 1, timeout=40)
        if step == "inbound-completion":  # the message came back: handled again, or held as in progress
            time.sleep(6.0)
    inbox = phone.settle(2.0)
    assert len(inbox) == 1
    assert record.provider_message_id in (None, inbox[0]["id"])  # None: recorded from its status webhook
    assert step != "result-write" or [op for op, hit in seen if hit] == ["PutItem"]
    assert step != "queue-delete" or (deletes_refused["refused"] and deletes_refused["receives"] >= 2)
    assert step in ("result-write", "queue-delete") or injected == [step]
    figures("S20", case=f"reply-{step}", messages=len(inbox), duplicates=len(inbox) - 1)


# counters: the settling transaction (claims off, counts and usage on) refused, then written apart; counters-apart:
# the counter write made apart refused too, so the counted claims go back for the next run to count
BROADCAST_STEPS = ["result-write", "counters", "counters-apart", "completion", "queue-delete"]
REFUSED = {"result-write": 1, "counters": 1, "counters-apart": 2}


@pytest.mark.parametrize("step", BROADCAST_STEPS)
def test_a_failure_after_a_broadcast_send_never_sends_it_again(stack, monkeypatch, deletes_refused, step):
    town = Town(stack)
    phones = [town.phone(n) for n in range(1, 4)]
    town.subscribe(phones)
    injected: list[str] = []
    if step == "completion":
        real_transition = broadcast_store.transition

        def transition(tenant_id, broadcast_id, allowed_from, to, now, reason=None):
            if tenant_id == town.tenant and to == "completed" and not injected:
                injected.append(step)
                raise ClientError({"Error": {"Code": "InternalServerError", "Message": "injected"}}, "UpdateItem")
            return real_transition(tenant_id, broadcast_id, allowed_from, to, now, reason)
        monkeypatch.setattr(broadcast_store, "transition", transition)
    counters = (("TransactWriteItems", "UpdateItem"), (town.tenant, "-broadcasts", "#sent"))
    operations, needles = {"result-write": ("PutItem", (phones[1].e164, '"recorded_at"')), "counters": counters,
                           "counters-apart": counters}.get(step, ("PutItem", ("-",)))
    deletes_refused["marker"] = town.tenant if step == "queue-delete" else None
    with _dynamodb_refuses(operations, *needles, times=REFUSED.get(step, 0)) as seen:
        broadcast = town.broadcast("Acqua sospesa domani dalle 8 alle 12")
        done = town.wait_broadcast(broadcast["id"])
        if step == "queue-delete":
            wait_for(lambda: deletes_refused["deleted"] >= 1, timeout=40)
    inboxes = [len(p.settle(0.5 if i else 2.0)) for i, p in enumerate(phones)]
    assert inboxes == [1, 1, 1]
    assert (done["counters"]["sent"], done["counters"]["failed"], done["counters"]["skipped"]) == (3, 0, 0)
    assert [hit for _, hit in seen].count(True) == REFUSED.get(step, 0)
    if step.startswith("counters"):  # the transaction first; apart, the counter update
        assert [operation for operation, hit in seen if hit] == ["TransactWriteItems", "UpdateItem"][:REFUSED[step]]
    assert step != "completion" or injected == [step]
    assert step != "queue-delete" or (deletes_refused["refused"] and deletes_refused["receives"] >= 2)
    figures("S20", case=f"broadcast-{step}", recipients=3, messages=sum(inboxes), duplicates=sum(inboxes) - 3,
            status=done["status"], sent=done["counters"]["sent"])


def test_a_status_write_that_fails_in_a_batch_of_webhooks_loses_no_count(stack):
    """Statuses posted one per webhook (as Meta mostly posts them) are applied a queue batch at a time, the
    deliveries written together: when one write fails, what the others moved is counted at once, and the failed
    one when its webhook comes back, so the counters end exact (before, a failure mid-batch lost the counts of the
    writes already made: their retry found nothing left to move)."""
    town = Town(stack)
    phones = [town.phone(n) for n in range(1, 4)]
    town.subscribe(phones)
    stack.sandbox.configure(statuses_per_post=1, status_posters=4)
    try:
        with _dynamodb_refuses("UpdateItem", "-deliveries", phones[1].e164, '"read"') as seen:
            broadcast = town.broadcast("Strada chiusa per lavori")
            done = wait_for(lambda: (b := town.call("GET", f"/api/v1/broadcasts/{broadcast['id']}").json())
                            ["counters"]["read"] >= 3 and b, timeout=60, interval=0.5)
            time.sleep(1.5)  # a count applied twice would show by now
    finally:
        stack.sandbox.configure(statuses_per_post=1000, status_posters=1)
    final = town.call("GET", f"/api/v1/broadcasts/{broadcast['id']}").json()
    assert [hit for _, hit in seen].count(True) == 1  # the one write refused
    assert {k: final["counters"][k] for k in ("sent", "delivered", "read", "failed")} == \
        {"sent": 3, "delivered": 3, "read": 3, "failed": 0}, done


# ==== the lease ===========================================================================================

def test_a_job_that_runs_longer_than_its_lease_keeps_it(stack, sandbox_reset, monkeypatch):
    """The lease is short (a dead run's job is taken over soon) and renewed while the job runs: a slow send does
    not let a second consumer in."""
    monkeypatch.setattr(deliveries, "LEASE", timedelta(seconds=2))  # renewed every 0.67 s
    monkeypatch.setattr(outbound, "HEARTBEAT_SECONDS", deliveries.LEASE.total_seconds() / 3, raising=False)
    phone = fresh(stack)
    stack.sandbox.configure(send_script={phone.e164: [{"delay": 3.0}]})  # a send slower than the whole lease
    job, outcomes = reply_job(phone), []
    first = threading.Thread(target=lambda: outcomes.append(_run(job)))
    first.start()
    time.sleep(2.5)  # past the first lease: only its renewals hold the job now
    outcomes.append(_run(job))
    first.join()
    assert outcomes == ["held by the other", "done"]
    assert len(phone.settle(1.0)) == 1
    figures("S21", case="renewed-lease", lease_s=2, send_s=3, second_consumer="held", messages=1)


def _run(job: outbound.OutboundJob) -> str:
    try:
        outbound.process_job(job)
        return "done"
    except outbound.RetryLater:
        return "held by the other"


@pytest.fixture
def sandbox_reset(stack):
    yield stack.sandbox
    stack.sandbox.configure(send_script={})


def test_a_job_held_by_another_run_comes_back_when_that_short_lease_lapses(stack):
    """Not after the growing backoff (30 s, 60 s, ... in production) on top of a 5-minute lease, as before."""
    job = reply_job(fresh(stack))
    assert deliveries.lease(job.job_id, "another-run", clock.now()).taken
    with pytest.raises(outbound.RetryLater) as held:
        outbound.process_job(job)
    assert deliveries.LEASE.total_seconds() <= 15 and 13 <= held.value.after <= 15
    figures("S21", case="held-job", lease_s=deliveries.LEASE.total_seconds(), retry_after_s=round(held.value.after, 1))


class _TakeOverDuringSettle:
    """A second delivery of a job takes its lease while the first run settles, in the store's slowest order: the take
    has read the lease item (its claims, for ALL_OLD) and waits, before its condition is evaluated, until the first
    run's settling write is done (up to `wait` seconds), as a request does when moto's thread is preempted under
    load. DynamoDB evaluates and applies a conditional write as one step: the settling write cannot land inside
    the take, which is refused (the lease is still held) or sees the item as the settling left it."""

    def __init__(self, monkeypatch, wait: float = 3.0):
        from moto.dynamodb import models

        self.job, self.wait, self.taking = None, wait, threading.local()
        self.settling, self.inside, self.settled = threading.Event(), threading.Event(), threading.Event()
        real_update, real_parser = models.DynamoDBBackend.update_item, models.create_condition_expression_parser
        real_settle = deliveries.settle

        def update_item(backend, table_name, key, *args, **kwargs):
            self.taking.job = key["job_id"]["S"] if key.get("recipient", {}).get("S") == deliveries.LEASE_KEY else None
            return real_update(backend, table_name, key, *args, **kwargs)

        def parser(expression, *args, **kwargs):
            made = real_parser(expression, *args, **kwargs)
            if (self.settling.is_set() and not self.inside.is_set() and getattr(self.taking, "job", None) == self.job
                    and "leased_until <" in (expression or "")):
                self.inside.set()  # the take has read the item; its condition is not evaluated yet
                self.settled.wait(self.wait)
            return made

        def settle(job_id, *args, **kwargs):
            if job_id == self.job and not self.settling.is_set():
                self.settling.set()
                self.inside.wait(self.wait)
                try:
                    return real_settle(job_id, *args, **kwargs)
                finally:
                    self.settled.set()
            return real_settle(job_id, *args, **kwargs)

        monkeypatch.setattr(models.DynamoDBBackend, "update_item", update_item)
        monkeypatch.setattr(models, "create_condition_expression_parser", parser)
        monkeypatch.setattr(deliveries, "settle", settle)


@pytest.fixture
def scripts_reset(stack):
    yield stack.sandbox
    stack.sandbox.configure(recipient_errors={}, send_script={})


def test_a_job_delivered_again_while_its_run_settles_is_counted_once(stack, monkeypatch, scripts_reset):
    """Under load SQS hands a job out again while its run is still at work (locally the visibility timeout is 1 s,
    and a starved visibility beat lets it go), and a run that gives its lease back settles while that second
    delivery takes the lease. Each result is counted by exactly one of them, and nobody is sent twice. Before the
    local DynamoDB applied conditional writes atomically, the take read the claims, the settling removed them and
    released the lease, and the take then found the lease free: both runs counted the same results (the S20/E1/E2/E4
    symptoms under load: five outcomes for four recipients)."""
    town = Town(stack)
    phones = [town.phone(n) for n in range(1, 5)]
    town.subscribe(phones)
    stack.sandbox.configure(send_script={phones[0].e164: [{"code": 131056}]})  # deferred once: the run releases
    race, real, twins = _TakeOverDuringSettle(monkeypatch), outbound.process_job, []

    def delivered_again(job: outbound.OutboundJob) -> None:
        if job.tenant_id != town.tenant or race.job is not None:
            return real(job)
        race.job = job.job_id

        def second_delivery() -> None:
            if race.settling.wait(20):
                time.sleep(0.05)  # a moment after the first run's settling began
                twins.append(_run(job))
        twin = threading.Thread(target=second_delivery)
        twin.start()
        try:
            return real(job)
        finally:
            twin.join()

    monkeypatch.setattr(outbound, "process_job", delivered_again)
    done = town.wait_broadcast(town.broadcast("Mercato spostato in piazza")["id"])
    inboxes = [len(p.settle(1.0 if i == 0 else 0.0)) for i, p in enumerate(phones)]
    assert race.inside.is_set() and len(twins) == 1  # the second delivery asked for the lease while the first settled
    assert inboxes == [1, 1, 1, 1]
    assert (done["counters"]["sent"], done["counters"]["failed"], done["counters"]["ambiguous"]) == (4, 0, 0)
    figures("S21", case="delivered-again-while-settling", second_run=twins[0], recipients=4, messages=sum(inboxes),
            sent=done["counters"]["sent"])
