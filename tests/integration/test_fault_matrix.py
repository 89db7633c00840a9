"""The fault matrix (docs/reliability.md): one test per row of the reference's section 5 - webhook (W),
outbound send (S), staff API and data lifecycle (A) - each injecting the fault its row names through the
real seams (HTTP to the app, the sandbox's knobs, the staff API, moto, botocore's own request pipeline) and
asserting the expected behaviour. What the system cannot honour yet is a strict xfail with the reason.

Every test prints one line of figures ("[fault-matrix] S1 ..."): run with -s to read them.
"""
from __future__ import annotations

import base64
import datetime as real_datetime
import hashlib
import io
import itertools
import json
import logging
import os
import threading
import time
import uuid
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from urllib.parse import parse_qs, quote, urlsplit

import boto3
import jwt
import pytest
import requests
from botocore.awsrequest import AWSResponse
from botocore.exceptions import ClientError
from chalice.local import LambdaContext
from cryptography.hazmat.primitives.asymmetric import rsa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from chalicelib.api import consumers as workers
from chalicelib.domain import reports as report_rules
from chalicelib.domain.reports import Event
from chalicelib.domain.tenancy import Channel
from chalicelib.providers import get_provider
from chalicelib.providers.base import StatusUpdate, Text
from chalicelib.resources import QUEUES, bucket_name
from chalicelib.services import clock, inbound, webhook_queue
from chalicelib.services.messaging import outbound
from chalicelib.settings import get_settings
from chalicelib.store import audit, citizens, deliveries, directory, dynamo, queues
from chalicelib.store import reports as report_store
from local.issuer import AUDIENCE, ISSUER
from local.runner import QueuePoller, Schedule
from local.seed import REPORTS as DEMO_REPORTS
from local.seed import TEMPLATES, _square
from tests.integration.conftest import BROADCAST, REPORTS, SAFETY, Phone, sign, text_payload
from tests.waiting import wait_for

pytestmark = pytest.mark.long  # started first by make test (tests/conftest.py)

_numbers = itertools.count(1)
_towns = itertools.count(1)
CENTRE = (43.7430, 10.9460)


# ---- figures, logs and the sandbox --------------------------------------------------------------------

def figures(row: str, **values: object) -> None:
    """One line per row for docs/reliability.md (pytest -s shows them)."""
    print(f"\n[fault-matrix] {row} " + " ".join(f"{k}={v}" for k, v in values.items()), flush=True)


class AppLog(logging.Handler):
    """What the app logged while a test ran (every Powertools logger of the app is under 'filo-diretto')."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def find(self, text: str, level: int = logging.DEBUG) -> list[logging.LogRecord]:
        return [r for r in list(self.records) if text in r.getMessage() and r.levelno >= level]


@pytest.fixture
def app_log():
    handler, parent = AppLog(), logging.getLogger("filo-diretto")
    level = parent.level
    parent.addHandler(handler)
    parent.setLevel(logging.INFO)
    yield handler
    parent.removeHandler(handler)
    parent.setLevel(level)


@pytest.fixture
def sandbox(stack):
    """The sandbox, with every fault knob back to normal after the test whatever happened."""
    yield stack.sandbox
    stack.sandbox.configure(fault_rate=0.0, slow_rate=0.0, recipient_errors={}, send_script={}, media_faults=0,
                            rate_limit=80.0)


def fresh(stack, channel: str = BROADCAST) -> Phone:
    """A citizen number no other test uses."""
    return Phone(stack, channel, f"+39 346 {next(_numbers):07d}")


def wamid() -> str:
    return f"wamid.{uuid.uuid4().hex}"


def post(stack, body: bytes, signature: str | None = "sign") -> requests.Response:
    headers = {"Content-Type": "application/json"}
    if signature == "sign":
        signature = sign(stack.app_secret, body)
    if signature is not None:
        headers["X-Hub-Signature-256"] = signature
    return requests.post(f"{stack.api_url}/webhooks/meta", data=body, headers=headers, timeout=30)


def envelope(channel: str, value: dict) -> bytes:
    return json.dumps({"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [{
        "field": "messages", "value": {"messaging_product": "whatsapp",
                                       "metadata": {"display_phone_number": "390571000001", "phone_number_id": channel},
                                       **value}}]}]}).encode()


def message_body(channel: str, phone: Phone, message_id: str, **fields) -> bytes:
    message = {"from": phone.e164[1:], "id": message_id, "timestamp": str(int(time.time())), **fields}
    return envelope(channel, {"contacts": [{"profile": {"name": "Test"}, "wa_id": phone.e164[1:]}],
                              "messages": [message]})


@pytest.fixture
def inbound_sends(monkeypatch):
    """How many bodies went onto the inbound queue during the test (the webhook's durable write); given the
    raw body a test posted, how many of them were that one (status webhooks of earlier tests may still come)."""
    sent: list[str] = []
    real = queues.send

    def spy(logical, body):
        if logical == "inbound":
            sent.append(body)
        return real(logical, body)

    monkeypatch.setattr(queues, "send", spy)
    return lambda raw=None: sum(1 for body in sent if raw is None or body == raw.decode("utf-8", "replace"))


def pollers(stack, name: str) -> list[QueuePoller]:
    return [t for t in stack.threads if isinstance(t, QueuePoller) and t.config.name == name]


def failed_records(stack, name: str = "inbound_worker") -> int:
    return sum(p.failed for p in pollers(stack, name))


def idempotency_suffix(message_id: str) -> str:
    """The end of Powertools' idempotency key for a message id (md5 of its JSON), to count its duplicates."""
    return hashlib.md5(json.dumps(message_id).encode()).hexdigest()


def duplicates_of(app_log: AppLog, message_id: str) -> int:
    suffix = idempotency_suffix(message_id)
    return sum(1 for r in app_log.find("duplicate message skipped")
               if str(getattr(r, "idempotency_key", "")).endswith(suffix))


def reply_job(phone: Phone, text: str = "Avviso di prova", channel: str = BROADCAST) -> outbound.OutboundJob:
    return outbound.OutboundJob(
        job_id=f"fault-{uuid.uuid4().hex}", tenant_id="demo", channel_id=channel, contents=[Text(body=text)],
        recipients=[outbound.JobRecipient(key=phone.e164, phone=phone.e164)])


def settled(job: outbound.OutboundJob, phone: Phone, timeout: float = 20.0) -> deliveries.Delivery:
    return wait_for(lambda: (d := deliveries.get(job.job_id, phone.e164)) and d.status and d, timeout=timeout)


def scripted(sandbox) -> int:
    return sandbox.stats()["scripted"]


class _Raw(io.BytesIO):
    def stream(self, **_):
        yield self.read()


@contextmanager
def aws_fault(client, events: str | list[str], matches, status: int, error: str, pattern=None):
    """Answer matching requests of a boto3 client with an AWS error before they leave (botocore's before-send
    hook): the SDK's own retry policy then runs, as it would against the real service. pattern(request) tells
    whether a matching request fails (default: all). Yields the log of (operation, injected)."""
    seen: list[tuple[str, bool]] = []

    def hook(request, **kwargs):
        if not matches(request.body or b""):
            return None
        inject = pattern is None or pattern(request)
        seen.append((kwargs.get("event_name", "").split(".")[-1], inject))
        if not inject:
            return None
        body = json.dumps({"__type": error, "message": "injected by the fault matrix"}).encode()
        return AWSResponse(request.url, status, {"Content-Type": "application/x-amz-json-1.0",
                                                 "x-amzn-RequestId": uuid.uuid4().hex,
                                                 "x-amzn-query-error": f"{error.rsplit('#', 1)[-1]};Sender"}, _Raw(body))

    events = [events] if isinstance(events, str) else events
    for event in events:
        client.meta.events.register(event, hook)
    try:
        yield seen
    finally:
        for event in events:
            client.meta.events.unregister(event, hook)


def first_attempt(request) -> bool:
    """The SDK's first try of a call (botocore numbers its attempts in the amz-sdk-request header)."""
    header = request.headers.get("amz-sdk-request") or b""
    return (header.decode() if isinstance(header, bytes) else header).startswith("attempt=1;")


def _contains(text: str):
    needle = text.encode()
    return lambda body: needle in (body if isinstance(body, bytes) else str(body).encode())


def dead_letters(logical: str, marker: str) -> list[dict]:
    sqs = boto3.client("sqs")
    url = sqs.get_queue_url(QueueName=f"filo-local-{logical}-dlq")["QueueUrl"]
    found = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1, VisibilityTimeout=0,
                                AttributeNames=["All"]).get("Messages", [])
    return [dict(m, QueueUrl=url) for m in found if marker in m["Body"]]


def watch_dead_letters(stack) -> dict:
    watch = next(t for t in stack.threads if isinstance(t, Schedule) and t.config.name == "watch_dead_letters")
    return watch.fire()


class Town:
    """A comune of its own (tenant and one channel), so counts and report numbers are exact."""

    def __init__(self, stack, kind: str = "broadcast", limits: dict | None = None, **settings):
        self.n = next(_towns)
        self.stack, self.tenant, self.channel = stack, f"guasti{self.n}", f"4000000000{self.n:05d}"
        directory.save_tenant(self.tenant, f"Comune di Guasti {self.n}", {
            "hamlets": [{"id": "colle", "name": "Colle", "latitude": CENTRE[0], "longitude": CENTRE[1],
                         "geometry": _square(*CENTRE)}],
            "topics": [{"id": "strade", "name": "Strade"}],
            "privacy_notice_url": "https://example.org/privacy", "privacy_notice_version": "v1",
            "reports": DEMO_REPORTS, **({"limits": limits} if limits else {}),
        })
        directory.save_channel(Channel(self.channel, self.tenant, kind, "Canale guasti", "+39 0571 920000", {
            "rate_per_second": 200, "quiet_hours": {"enabled": False},
            "templates": {"notice": {"name": "avviso_comune", "language": "it", "category": "utility"},
                          "report_update": {"name": "aggiornamento_segnalazione"}}, **settings}))
        stack.sandbox.add_channel({"phone_number_id": self.channel, "kind": kind, "tenant": self.tenant, "templates": TEMPLATES})
        self.tokens = {r: stack.issuer.token(self.tenant, [r]) for r in ("admin", "communications", "technical")}

    def call(self, method: str, path: str, role: str = "communications", **kwargs) -> requests.Response:
        headers = {"Authorization": f"Bearer {self.tokens[role]}", **kwargs.pop("headers", {})}
        return requests.request(method, f"{self.stack.api_url}{path}", timeout=30, headers=headers, **kwargs)

    def phone(self, n: int) -> Phone:
        return Phone(self.stack, self.channel, f"+39 349 {self.n:03d} {n:04d}")

    def subscribe(self, phones: list[Phone]) -> None:
        text = "phone,hamlets,topics\n" + "".join(f"{p.number},,\n" for p in phones)
        answer = self.call("POST", "/api/v1/subscribers/import", params={"channel": self.channel},
                           data=text.encode(), headers={"Content-Type": "text/csv"})
        assert answer.status_code == 200 and answer.json()["summary"]["error"] == 0, answer.text

    def broadcast(self, text: str) -> dict:
        answer = self.call("POST", "/api/v1/broadcasts", json={"channel": self.channel, "text": text})
        assert answer.status_code == 201, answer.text
        return answer.json()

    def wait_broadcast(self, broadcast_id: str, status: str = "completed", timeout: float = 30) -> dict:
        return wait_for(lambda: (b := self.call("GET", f"/api/v1/broadcasts/{broadcast_id}").json())["status"] == status
                        and b, timeout=timeout)


@contextmanager
def broadcast_sends_held(monkeypatch, tenant_id: str):
    """A running broadcast: its jobs reach the sender and wait there until released."""
    reached, release = threading.Event(), threading.Event()
    real = outbound.process_job

    def held(job):
        if job.tenant_id == tenant_id and job.broadcast_id:
            reached.set()
            release.wait(20)
        return real(job)

    monkeypatch.setattr(outbound, "process_job", held)
    try:
        yield reached, release
    finally:
        release.set()


def texts(phone: Phone) -> list[str]:
    return [m.get("text") or "" for m in phone.inbox()]


def wait_text(phone: Phone, needle: str, timeout: float = 15) -> str:
    return wait_for(lambda: next((t for t in reversed(texts(phone)) if needle in t), None), timeout)


def latest_report(phone: Phone):
    found = report_store.of_reporter(phone.channel, phone.e164, limit=1)
    return found[0] if found else None


def jpeg(size: tuple[int, int] = (64, 48), noise: bool = False) -> bytes:
    out = io.BytesIO()
    image = Image.frombytes("RGB", size, os.urandom(size[0] * size[1] * 3)) if noise else Image.new("RGB", size, "gray")
    image.save(out, "JPEG", quality=95)
    return out.getvalue()


def send_photo(phone: Phone, data: bytes, mime_type: str = "image/jpeg") -> dict:
    return phone.send(type="image", image_base64=base64.b64encode(data).decode(), mime_type=mime_type)


# ==== 5.1 Inbound webhook ===============================================================================

@pytest.mark.parametrize("case", ["missing", "wrong-secret", "body-altered-by-one-byte"])
def test_w1_w2_unsigned_or_altered_webhook_is_401_nothing_stored_and_logged(stack, case, inbound_sends, app_log):
    phone = fresh(stack)
    body = text_payload(BROADCAST, phone.e164[1:], "ATTIVA", wamid())
    signature = {"missing": None, "wrong-secret": sign("not-the-secret", body),
                 "body-altered-by-one-byte": sign(stack.app_secret, body)}[case]
    sent = body.replace(b"ATTIVA", b"ATTIVO") if case == "body-altered-by-one-byte" else body
    answer = post(stack, sent, signature)
    assert answer.status_code == 401 and answer.json()["error"]["code"] == "invalid_signature"
    for mac in (sign(stack.app_secret, body)[7:], sign(stack.app_secret, sent)[7:]):
        assert mac not in answer.text  # never the expected MAC (courier's leak)
    assert inbound_sends(sent) == 0
    assert app_log.find("bad or missing signature", logging.WARNING)
    figures("W1/W2", case=case, status=answer.status_code, queued=inbound_sends(sent),
            security_log=len(app_log.find("bad or missing signature")))


def test_w3_same_message_posted_concurrently_is_handled_once(stack, app_log):
    copies = 5
    phone, message_id = fresh(stack), wamid()
    body = text_payload(BROADCAST, phone.e164[1:], "AIUTO", message_id)
    start, statuses = threading.Barrier(copies), []

    def deliver():
        start.wait()
        statuses.append(post(stack, body).status_code)

    threads = [threading.Thread(target=deliver) for _ in range(copies)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [200] * copies
    wait_for(lambda: duplicates_of(app_log, message_id) >= copies - 1, timeout=20)
    inbox = phone.settle(1.0)
    assert len(inbox) == 1
    assert duplicates_of(app_log, message_id) == copies - 1
    figures("W3", posts=copies, answered_200=statuses.count(200), handled=1, replies=len(inbox),
            duplicates_counted=duplicates_of(app_log, message_id))


def _idempotency_clock(monkeypatch, days: float) -> None:
    """Powertools' DynamoDB layer compares records' expiry with its own clock: move that clock on."""
    from aws_lambda_powertools.utilities.idempotency.persistence import dynamodb as layer

    class Later(real_datetime.datetime):
        @classmethod
        def now(cls, tz=None):
            return real_datetime.datetime.now(tz) + timedelta(days=days)

    monkeypatch.setattr(layer, "dt", SimpleNamespace(datetime=Later, timedelta=real_datetime.timedelta))


def test_w4_the_same_message_a_week_later_is_still_one_record(stack, monkeypatch):
    phone, message_id = fresh(stack, REPORTS), wamid()
    body = text_payload(REPORTS, phone.e164[1:], "Lampione spento in via dei Mille", message_id)
    assert post(stack, body).status_code == 200
    report = wait_for(lambda: (r := latest_report(phone)) and r.text and r)
    _idempotency_clock(monkeypatch, days=7)  # Meta's retry horizon
    assert post(stack, body).status_code == 200
    phone.settle(1.0)
    assert latest_report(phone).text == report.text == "Lampione spento in via dei Mille"
    _idempotency_clock(monkeypatch, days=9)  # past the 8-day window the id is forgotten: the test can tell
    assert post(stack, body).status_code == 200
    doubled = wait_for(lambda: (r := latest_report(phone)) and r.text.count("Lampione") == 2 and r)
    figures("W4", window_days=inbound.DEDUPE_WINDOW.days, records_after_7_days=1,
            handled_again_after_9_days=doubled.text.count("Lampione") - 1)


NOT_WEBHOOKS = {
    "bad-json": b'{"object": "whatsapp_business_account", "entry": [',
    "not-utf-8": b"\xff\xfe{\x00}",
    "wrong-types": json.dumps({"object": "whatsapp_business_account", "entry": {"changes": []}}).encode(),
    "not-an-object": b'["whatsapp_business_account"]',
    "deep-nesting": b"[" * 100_000 + b"]" * 100_000,
    "deep-nesting-in-envelope": b'{"object": "whatsapp_business_account", "entry": '
                                + b"[" * 50_000 + b"]" * 50_000 + b"}",
    "over-1-MiB": json.dumps({"object": "page", "entry": [], "pad": "x" * 1_200_000}).encode(),
    "odd-unicode": '{"object": "whatsapp_business_account\u202e\u200b", "entry": []}'.encode(),
    "lone-surrogate": b'{"object": "\\ud800", "entry": []}',
}


@pytest.mark.parametrize("case", list(NOT_WEBHOOKS))
def test_w5_a_signed_body_that_is_not_a_webhook_is_a_fast_400_and_nothing_is_stored(stack, case, inbound_sends):
    body = NOT_WEBHOOKS[case]
    started = time.monotonic()
    answer = post(stack, body)
    elapsed = time.monotonic() - started
    assert answer.status_code == 400 and answer.json()["error"]["code"] == "not_a_webhook"
    assert elapsed < 3.0
    assert inbound_sends(body) == 0
    figures("W5", case=case, bytes=len(body), status=answer.status_code, ms=round(elapsed * 1000), queued=0)


def test_w5_malformed_items_in_a_real_envelope_are_skipped_and_odd_unicode_is_read(stack):
    """A real envelope is acknowledged (Meta would redeliver a refused one for days); its unreadable items are
    skipped by the parser, so nothing is stored, nothing is answered and the worker never fails."""
    failed_before = failed_records(stack)
    mute = fresh(stack)
    digits = mute.e164[1:]
    malformed = [
        {"messages": "not a list"},
        {"messages": [1, None, [], {"type": "text"}]},
        {"messages": [{"from": digits, "id": wamid(), "timestamp": "yesterday", "type": "text", "text": {"body": "x"}}]},
        {"messages": [{"from": digits, "id": wamid(), "timestamp": "1", "type": "text", "text": {"body": 42}}]},
        {"messages": [{"from": "+39 abc", "id": wamid(), "timestamp": "1", "type": "text", "text": {"body": "x"}}]},
        {"messages": [{"from": digits, "id": {"x": 1}, "timestamp": "1", "type": "text", "text": {"body": "x"}}]},
        {"statuses": [{"id": 1, "status": "read"}, {"status": ["sent"]}, "x"]},
    ]
    for value in malformed:
        assert post(stack, envelope(BROADCAST, value)).status_code == 200, value
    surrogate = envelope(BROADCAST, {"messages": [{"from": digits, "id": wamid(), "timestamp": "1", "type": "text",
                                                   "text": {"body": "x"}}]}).replace(b'"body": "x"', b'"body": "\\udc80"')
    assert post(stack, surrogate).status_code == 200
    odd = fresh(stack)
    assert post(stack, message_body(BROADCAST, odd, wamid(), type="text",
                                    text={"body": "Ciao \u202eollec\u202c 👋🏽 مرحبا \u0000 e\u0301 \ufeff"})).status_code == 200
    assert "un operatore" in odd.wait_inbox(1)[0]["text"]
    assert mute.settle(1.0) == []
    assert failed_records(stack) == failed_before
    figures("W5", case="malformed-items", posts=len(malformed) + 2, answered_200=len(malformed) + 2,
            replies_to_malformed=0, worker_failures=failed_records(stack) - failed_before)


@pytest.fixture
def queued_inbound(monkeypatch):
    """queued(*needles): the bodies SQS took on the inbound queue during the test that hold one of the needles, in
    order (the sandbox's status webhooks of earlier replies go there too)."""
    sent: list[str] = []
    real = queues.send

    def spy(logical, body, *args, **kwargs):
        real(logical, body, *args, **kwargs)
        if logical == "inbound":
            sent.append(body)

    monkeypatch.setattr(queues, "send", spy)
    return lambda *needles: [body for body in list(sent) if any(needle in body for needle in needles)]


def carrying(message_id: str) -> str:
    """What only a queued part carrying this inbound message holds (a status of our reply names the id too, in its
    callback data)."""
    return f'"id":"{message_id}"'


def read_back(parts: list[str]) -> tuple[int, int]:
    """(messages, statuses) the worker reads from these queued bodies."""
    batches = [get_provider().parse_webhook(part.encode()) for part in parts]
    return sum(len(b.messages) for b in batches), sum(len(b.statuses) for b in batches)


def sent_statuses(count: int, marker: str, pad: int = 1000) -> list[dict]:
    """Status webhooks of messages we sent, about pad bytes each (Meta batches up to 1,000 in a POST)."""
    return [{"id": wamid(), "status": "sent", "timestamp": "1700000000", "recipient_id": "393330000000",
             "pricing": {"billable": True, "pricing_model": "PMP", "category": "utility", "note": marker + "p" * pad}}
            for _ in range(count)]


def messages_entry(value: dict, channel: str = BROADCAST) -> dict:
    return {"id": "1", "changes": [{"field": "messages", "value": {
        "messaging_product": "whatsapp", "metadata": {"display_phone_number": "390571000001",
                                                      "phone_number_id": channel}, **value}}]}


def webhook_of(*entries: object) -> bytes:
    return json.dumps({"object": "whatsapp_business_account", "entry": list(entries)}).encode()


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-le", "utf-32-be"])
def test_w5_a_signed_body_in_utf_16_or_utf_32_is_a_400_and_nothing_is_queued(stack, encoding, queued_inbound):
    """JSON between systems is UTF-8 (RFC 8259) and Meta posts UTF-8; json.loads would read these, but no queue or
    table would: it was a 500, which Meta retries for 7 days."""
    phone, message_id = fresh(stack), wamid()
    body = text_payload(BROADCAST, phone.e164[1:], "AIUTO", message_id).decode().encode(encoding)
    answer = post(stack, body)
    assert (answer.status_code, answer.json()["error"]["code"]) == (400, "not_a_webhook")
    assert "UTF-8" in answer.json()["error"]["message"]
    assert queued_inbound(message_id) == [] and phone.settle(1.0) == []
    figures("W5", case=encoding, bytes=len(body), status=answer.status_code, queued=0)


def test_w5_a_utf_8_body_with_a_byte_order_mark_is_read(stack, queued_inbound):
    """RFC 8259 lets a reader ignore a leading byte order mark: it is, as before."""
    phone, message_id = fresh(stack), wamid()
    body = b"\xef\xbb\xbf" + text_payload(BROADCAST, phone.e164[1:], "AIUTO", message_id)
    assert post(stack, body).status_code == 200
    assert len(phone.wait_inbox(1)) == 1 and len(queued_inbound(message_id)) == 1


def test_w15_a_body_over_1_mb_with_entries_that_are_no_objects_is_queued_once_in_parts_that_fit(stack,
                                                                                               queued_inbound):
    """Meta posts up to 3 MB and an SQS message holds 1 MiB: a bigger body goes in parts. Entries that are no
    objects are left out before anything is queued (they were a 500 after part of the body was queued, and each of
    Meta's retries queued that part again); Meta's retry of the same body queues nothing more."""
    phone, message_id, marker = fresh(stack), wamid(), uuid.uuid4().hex
    message = json.loads(text_payload(BROADCAST, phone.e164[1:], "AIUTO", message_id))["entry"][0]
    pads = [messages_entry({"statuses": sent_statuses(300, marker)}) for _ in range(4)]
    body = webhook_of(message, "not an object", 7, None, ["x"], *pads)
    assert len(body) > 1_000_000
    answers = [post(stack, body).status_code]
    parts = queued_inbound(carrying(message_id), marker)
    answers.append(post(stack, body).status_code)  # Meta's retry, as if our 200 had been lost
    assert answers == [200, 200]
    assert queued_inbound(carrying(message_id), marker) == parts and len(parts) >= 2
    assert max(len(p.encode()) for p in parts) <= inbound.MAX_QUEUED_BYTES
    assert read_back(parts) == (1, 1200)
    assert len(phone.wait_inbox(1)) == 1 and len(phone.settle(1.0)) == 1
    figures("W15", case="over-1-MB-with-non-object-entries", bytes=len(body), answers=answers, parts=len(parts),
            largest_part=max(len(p.encode()) for p in parts), queued_again_on_retry=0, messages=1, statuses=1200,
            replies=1)


def test_w15_one_change_over_1_mib_is_queued_in_parts_split_between_its_items(stack, queued_inbound):
    """Meta never splits a change, but each message and status in it is read on its own: one too big for a queue
    message (a batch of statuses) goes in parts of whole items, each with its channel and its sender's contact."""
    phone, message_id, marker = fresh(stack), wamid(), uuid.uuid4().hex
    change = json.loads(text_payload(BROADCAST, phone.e164[1:], "AIUTO", message_id))["entry"][0]
    value = change["changes"][0]["value"]
    value["contacts"].insert(0, {"profile": {"name": "Altro"}, "wa_id": "393339999999"})
    value["statuses"] = sent_statuses(1100, marker)
    body = webhook_of(change)
    assert len(body) > 1_048_576
    answers = [post(stack, body).status_code]
    parts = queued_inbound(carrying(message_id), marker)
    answers.append(post(stack, body).status_code)
    assert answers == [200, 200] and queued_inbound(carrying(message_id), marker) == parts
    assert max(len(p.encode()) for p in parts) <= inbound.MAX_QUEUED_BYTES
    assert read_back(parts) == (1, 1100)
    [message] = [m for p in parts for m in get_provider().parse_webhook(p.encode()).messages]
    assert (message.sender_phone, message.profile_name) == (phone.e164, "Test")
    assert len(phone.wait_inbox(1)) == 1 and len(phone.settle(1.0)) == 1
    figures("W15", case="one-change-over-1-MiB", bytes=len(body), answers=answers, parts=len(parts),
            largest_part=max(len(p.encode()) for p in parts), messages=1, statuses=1100, replies=1)


def test_w15_a_body_whose_parts_failed_half_way_is_completed_by_metas_retry_each_part_queued_once(stack,
                                                                                                 queued_inbound):
    """SQS refuses the second part (after the SDK's own retries): 500, and Meta retries the body. The first part
    is not queued again: each part is marked once SQS took it."""
    phone, message_id, marker = fresh(stack), wamid(), uuid.uuid4().hex
    message = json.loads(text_payload(BROADCAST, phone.e164[1:], "AIUTO", message_id))["entry"][0]
    pads = [messages_entry({"statuses": sent_statuses(300, marker)}) for _ in range(4)]
    body = webhook_of(message, *pads)
    with aws_fault(queues._client(), "before-send.sqs.SendMessage", lambda b: marker.encode() in b
                   and message_id.encode() not in b, 500, "InternalError") as attempts:
        first = post(stack, body)
    assert first.status_code >= 500
    after_failure = queued_inbound(carrying(message_id), marker)
    assert len(after_failure) == 1 and carrying(message_id) in after_failure[0]
    assert post(stack, body).status_code == 200
    parts = queued_inbound(carrying(message_id), marker)
    assert len(parts) == 2 and parts[0] == after_failure[0] and read_back(parts) == (1, 1200)
    assert len(phone.wait_inbox(1)) == 1 and len(phone.settle(1.0)) == 1
    figures("W15", case="part-refused-half-way", first_answer=first.status_code, sdk_attempts=len(attempts),
            queued_before_the_retry=len(after_failure), queued_in_all=len(parts), each_part_once=True, replies=1)


def test_w15_an_item_too_big_for_any_queue_message_is_dropped_logged_and_the_rest_queued(stack, queued_inbound,
                                                                                        app_log):
    """No WhatsApp message comes near 1 MB (a text holds 4,096 characters): one that does is dropped with an error
    and a metric, and Meta gets its 200 (a refusal would be retried for 7 days, each time the same)."""
    giant, phone, message_id, giant_id = fresh(stack), fresh(stack), wamid(), wamid()
    change = json.loads(text_payload(BROADCAST, phone.e164[1:], "AIUTO", message_id))["entry"][0]
    value = change["changes"][0]["value"]
    value["messages"].insert(0, {"from": giant.e164[1:], "id": giant_id, "timestamp": "1700000000", "type": "text",
                                 "text": {"body": "x" * 1_100_000}})
    body = webhook_of(change)
    answer = post(stack, body)
    assert answer.status_code == 200
    assert queued_inbound(giant_id) == [] and read_back(queued_inbound(carrying(message_id))) == (1, 0)
    assert len(phone.wait_inbox(1)) == 1 and giant.settle(1.0) == []
    [logged] = app_log.find("too large to queue", logging.ERROR)
    figures("W15", case="one-item-over-1-MB", bytes=len(body), answer=answer.status_code, dropped=1,
            error_logged=bool(logged), queued=len(queued_inbound(carrying(message_id))))


def _fixture_case(name: str) -> dict:
    path, case = name.split("/")
    return json.loads((__import__("pathlib").Path(__file__).parents[1] / "fixtures" / "whatsapp"
                       / f"{path}.json").read_text())[case]


def _aimed_at(value, digits: str):
    """A fixture rewritten for our channel and a fresh sender (ids fresh too)."""
    if isinstance(value, list):
        return [_aimed_at(v, digits) for v in value]
    if not isinstance(value, dict):
        return value
    out = {}
    for key, item in value.items():
        if key == "phone_number_id":
            out[key] = BROADCAST
        elif key in ("from", "wa_id", "recipient_id") and isinstance(item, str):
            out[key] = digits
        elif key == "id" and isinstance(item, str) and item.startswith("wamid"):
            out[key] = wamid()
        elif key == "timestamp":
            out[key] = str(int(time.time()))
        else:
            out[key] = _aimed_at(item, digits)
    return out


SILENT = ["deleted_message/revoke", "system/phone_number_change", "system/identity_change",
          "user_marketing_preferences/resume", "message/reaction", "message_status/played", "unknown-status-deleted"]


def test_w6_unknown_types_and_statuses_are_acknowledged_ignored_and_never_crash(stack):
    failed_before, phones, answers = failed_records(stack), [], []
    for name in SILENT:
        phone = fresh(stack)
        if name == "unknown-status-deleted":
            body = envelope(BROADCAST, {"statuses": [{"id": wamid(), "status": "deleted", "timestamp": "1700000000",
                                                      "recipient_id": phone.e164[1:]}]})
        else:
            body = json.dumps(_aimed_at(_fixture_case(name), phone.e164[1:])).encode()
        answers.append(post(stack, body).status_code)
        phones.append(phone)
    hologram = fresh(stack)  # a message type nobody knows: the citizen is told what we read (a decision)
    answers.append(post(stack, message_body(BROADCAST, hologram, wamid(), type="hologram",
                                            hologram={"id": "1"})).status_code)
    assert answers == [200] * (len(SILENT) + 1)
    assert "un operatore" in hologram.wait_inbox(1)[0]["text"]
    assert all(p.inbox() == [] for p in phones)
    assert failed_records(stack) == failed_before
    figures("W6", cases=len(SILENT) + 1, answered_200=answers.count(200), replies_to_silent=0,
            worker_failures=failed_records(stack) - failed_before)


@settings(max_examples=15, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(order=st.lists(st.sampled_from(["sent", "delivered", "read", "played", "failed"]), min_size=1, max_size=6))
def test_w7_statuses_in_any_order_never_regress(stack, order):
    key, recipient = f"fault-{uuid.uuid4().hex}", "+393460000000"
    assert deliveries.record(key, recipient, "demo", "sent", datetime.now(UTC), "wamid.sent")
    best = deliveries.STATUS_RANK["sent"]
    for status in order:  # one webhook batch each, in the order given
        outbound.record_statuses([StatusUpdate(provider="meta", channel_id=BROADCAST, message_id="wamid.sent",
                                               status=status, timestamp=datetime.now(UTC),
                                               callback_data=f"{key}|{recipient}")])
        if status != "sent":
            best = max(best, deliveries.STATUS_RANK[status])
        assert deliveries.STATUS_RANK[deliveries.get(key, recipient).status] == best


@pytest.mark.parametrize("where", ["sqs-send-fails-at-the-webhook", "dynamodb-throttles-in-the-worker"])
def test_w8_a_failed_durable_write_is_a_5xx_or_a_retry_and_ends_in_exactly_one(stack, monkeypatch, app_log, where):
    phone, message_id = fresh(stack), wamid()
    body = text_payload(BROADCAST, phone.e164[1:], "ATTIVA", message_id)
    if where == "sqs-send-fails-at-the-webhook":
        with aws_fault(queues._client(), "before-send.sqs.SendMessage", _contains(message_id), 500,
                       "InternalError") as attempts:
            first = post(stack, body)
        assert first.status_code >= 500  # Meta retries what was not acknowledged
        assert phone.settle(1.0) == []
        assert post(stack, body).status_code == 200  # Meta's retry
        sdk_attempts = len(attempts)
    else:
        real, thrown = citizens.save, []

        def throttled(citizen, now):
            if citizen.phone == phone.e164 and not thrown:
                thrown.append(1)
                raise ClientError({"Error": {"Code": "ProvisionedThroughputExceededException",
                                             "Message": "injected"}}, "PutItem")
            return real(citizen, now)

        monkeypatch.setattr(citizens, "save", throttled)
        first = post(stack, body)
        assert first.status_code == 200
        wait_for(lambda: (c := citizens.get(BROADCAST, phone.e164)) and c.status == "pending", timeout=15)
        sdk_attempts = len(thrown)
    inbox = phone.wait_inbox(1)
    inbox = phone.settle(1.0)
    assert len(inbox) == 1 and inbox[0]["text"].startswith("Ciao! Vuoi ricevere")
    assert citizens.get(BROADCAST, phone.e164).status == "pending"
    figures("W8", case=where, first_answer=first.status_code, injected=sdk_attempts, replies=len(inbox),
            lost=0, duplicates=len(inbox) - 1)


def test_w9_a_crash_after_the_durable_write_is_deduplicated_on_metas_retry(stack, monkeypatch, app_log):
    phone, message_id = fresh(stack), wamid()
    body = text_payload(BROADCAST, phone.e164[1:], "AIUTO", message_id)
    real, crashed = webhook_queue.queue_payload, []

    def crash_after_write(raw, **options):
        real(raw, **options)
        if message_id.encode() in raw and not crashed:
            crashed.append(1)
            raise RuntimeError("the function died after the queue write, before answering")

    monkeypatch.setattr(webhook_queue, "queue_payload", crash_after_write)
    assert post(stack, body).status_code >= 500
    assert post(stack, body).status_code == 200
    wait_for(lambda: duplicates_of(app_log, message_id) >= 1, timeout=15)
    inbox = phone.settle(1.0)
    assert len(inbox) == 1
    figures("W9", queued=2, handled=1, replies=len(inbox), duplicates_counted=duplicates_of(app_log, message_id))


def _photo_that_cannot_be_fetched(stack, sandbox, faults: int = 3) -> tuple[Phone, int]:
    citizen = fresh(stack, REPORTS)
    citizen.text("Cassonetto rovesciato in via Verdi")
    wait_text(citizen, "n. ")
    before = sandbox.stats()["faults"]
    sandbox.configure(media_faults=faults)  # this many fetch attempts fail, from the first
    send_photo(citizen, jpeg())
    wait_for(lambda: latest_report(citizen) and latest_report(citizen).photos, timeout=15)
    return citizen, before


def test_w10_a_photo_that_cannot_be_fetched_is_kept_pending_and_fetched_again_later(stack, sandbox):
    citizen, before = _photo_that_cannot_be_fetched(stack, sandbox)  # the three quick tries all fail
    report = latest_report(citizen)
    assert report.text == "Cassonetto rovesciato in via Verdi"
    assert [(p.status, p.reason) for p in report.photos] in ([("pending", "transient")], [("stored", None)])
    wait_text(citizen, "non serve inviarla di nuovo")
    stored = wait_for(lambda: (r := latest_report(citizen)) and r.photos[0].status == "stored" and r, timeout=15)
    assert stored.photos[0].public_key and len(stored.photos) == 1
    assert not any("Non siamo riusciti" in t for t in texts(citizen.settle(1.0) and citizen))
    figures("W10", fetch_attempts_failed=sandbox.stats()["faults"] - before, report_kept=1,
            photo="pending -> stored", citizen_asked_again=0)


def test_w10_a_photo_still_unreachable_after_the_last_try_is_failed_and_the_citizen_asked_once(stack, sandbox):
    from chalicelib.services.reports import photo_refetch

    tries = 3 * (1 + photo_refetch.MAX_REFETCHES)  # three quick tries on each of the four fetches
    citizen, before = _photo_that_cannot_be_fetched(stack, sandbox, faults=tries + 10)
    try:
        failed = wait_for(lambda: (r := latest_report(citizen)) and r.photos[0].status == "failed" and r, timeout=30)
    finally:
        sandbox.configure(media_faults=0)
    asked = [t for t in texts(citizen.settle(1.0) and citizen) if "Non siamo riusciti" in t]
    assert len(asked) == 1 and failed.photos[0].reason == "transient"
    assert [e.data["status"] for e in failed.events if e.action == "photo"] == ["pending", "failed"]
    figures("W10", case="given-up", fetch_attempts=sandbox.stats()["faults"] - before, refetches=photo_refetch.MAX_REFETCHES,
            photo="failed", citizen_asked_again=len(asked))


def test_w11_refused_photos_get_a_clear_reply_and_nothing_reaches_the_bucket(stack):
    town = Town(stack, kind="reports", photo_max_bytes=1024 * 1024)
    citizen = town.phone(1)
    citizen.text("Rami caduti sul marciapiede")
    wait_text(citizen, "n. ")
    big = jpeg((1100, 1100), noise=True)
    assert len(big) > 1024 * 1024
    gif = io.BytesIO()
    Image.new("RGB", (8, 8), "green").save(gif, "GIF")
    cases = [(big, "image/jpeg", "troppo grande"), (gif.getvalue(), "image/gif", "JPEG, PNG o WebP"),
             (b"hello, this is not a photo at all", "image/jpeg", "non è una foto valida")]
    for data, mime, reply in cases:
        send_photo(citizen, data, mime)
        wait_text(citizen, reply)
    report = wait_for(lambda: (r := latest_report(citizen)) and len(r.photos) == 3 and r)
    assert [(p.status, p.reason) for p in report.photos] == [
        ("refused", "too_large"), ("refused", "unsupported_type"), ("refused", "not_an_image")]
    stored = boto3.client("s3").list_objects_v2(Bucket=bucket_name("media"), Prefix=f"tenants/{town.tenant}/")
    assert stored.get("KeyCount", 0) == 0
    figures("W11", refused=3, replies=3, objects_in_bucket=stored.get("KeyCount", 0))


def test_w12_a_pin_outside_the_comune_is_kept_and_an_impossible_one_breaks_nothing(stack):
    failed_before = failed_records(stack)
    outside = fresh(stack, REPORTS)
    outside.text("Buca profonda in via Roma")
    wait_text(outside, "n. ")
    outside.send(type="location", latitude=0.5, longitude=0.5)
    added = wait_text(outside, "Posizione aggiunta")
    assert "frazione" not in added
    kept = latest_report(outside)
    assert (kept.position.latitude, kept.position.longitude, kept.hamlet) == (0.5, 0.5, None)
    # an open 'strade' report with a pin exists: an impossible pin must not reach the distance check
    impossible = fresh(stack, REPORTS)
    impossible.text("Buca sul ponte")
    wait_text(impossible, "n. ")
    assert post(stack, message_body(REPORTS, impossible, wamid(), type="location",
                                    location={"latitude": 999.0, "longitude": 10.9})).status_code == 200
    later = fresh(stack, REPORTS)  # and the next report of the comune still works
    later.text("Buca in piazza")
    wait_text(later, "n. ")
    later.send(type="location", latitude=CENTRE[0], longitude=CENTRE[1])
    wait_text(later, "Posizione aggiunta")
    impossible.settle(1.0)
    assert latest_report(impossible).position is None
    assert failed_records(stack) == failed_before
    figures("W12", outside_kept=1, outside_hamlet=None, impossible_pin="skipped", worker_failures=0)


def test_w12_a_pin_outside_the_comune_is_kept_flagged_for_staff_and_the_citizen_told(stack, api):
    citizen = fresh(stack, REPORTS)
    citizen.text("Lampione spento in via Lunga")
    wait_text(citizen, "n. ")
    citizen.send(type="location", latitude=0.5, longitude=0.5)
    reply = wait_text(citizen, "fuori dal territorio")
    assert "resta registrata" in reply
    report = latest_report(citizen)
    detail = api.call("GET", f"/api/v1/reports/{report.report_id}", role="technical").json()
    [pin] = [e for e in detail["events"] if e["action"] == "location"]
    assert pin["data"] == {"hamlet": None, "outside": True}
    assert detail["location"]["latitude"] == 0.5  # kept
    citizen.send(type="location", latitude=CENTRE[0], longitude=CENTRE[1])  # a second pin, inside
    pins = wait_for(lambda: (t := [x for x in texts(citizen) if "Posizione aggiunta" in x]) and len(t) == 2 and t)
    assert "fuori" not in pins[1]
    figures("W12", case="flagged", outside_kept=1, flag="event data.outside", reply="fuori dal territorio")


def test_w13_stop_while_a_broadcast_runs_means_nothing_after_the_opt_out(stack, monkeypatch):
    town = Town(stack)
    leaver, stayers = town.phone(1), [town.phone(2), town.phone(3)]
    town.subscribe([leaver, *stayers])
    with broadcast_sends_held(monkeypatch, town.tenant) as (reached, release):
        created = town.broadcast("Allerta meteo: scuole chiuse")
        assert reached.wait(15)  # the broadcast runs: its job is at the sender
        leaver.text("STOP")
        stopped = wait_for(lambda: (c := citizens.get(town.channel, leaver.e164)) and c.status == "stopped" and c)
        release.set()
        done = town.wait_broadcast(created["id"])
    wait_text(leaver, "non riceverai più avvisi")
    after = [m for m in leaver.inbox() if m["time"] >= stopped.stopped_at.timestamp()]
    assert [m for m in after if "Allerta meteo" in m["text"]] == []
    assert all(sum("Allerta meteo" in t for t in texts(p)) == 1 for p in stayers)
    counters = done["counters"]
    assert (counters["recipients"], counters["sent"], counters["skipped"]) == (3, 2, 1)
    figures("W13", recipients=3, sent=counters["sent"], skipped=counters["skipped"], sent_after_opt_out=0,
            confirmation=1)


def bsuid_text(channel: str, user_id: str, message_id: str, body: str) -> bytes:
    """A text from a citizen Meta names only by their business-scoped user id (a username, no number)."""
    return envelope(channel, {"contacts": [{"profile": {"name": "Test"}, "user_id": user_id}],
                              "messages": [{"from_user_id": user_id, "id": message_id, "type": "text",
                                            "timestamp": str(int(time.time())), "text": {"body": body}}]})


def sent_to(stack, recipient: str) -> list[dict]:
    return requests.get(f"{stack.sandbox_url}/_sandbox/messages", params={"to": recipient}, timeout=10).json()


def test_w14_a_provider_id_past_its_bound_is_skipped_at_the_parser_and_the_longest_bsuid_is_answered_once(stack,
                                                                                                         app_log):
    """A BSUID is a country code, a dot and up to 128 characters (reference, S25); a wamid is bounded too. Longer
    ids are no ids Meta gives: the parser skips what they name, before any reply or key is built from them."""
    town, failed_before = Town(stack, kind="reports"), failed_records(stack)
    too_long, longest = "IT." + "a" * 2997, "IT." + uuid.uuid4().hex * 4  # 3,000 and 131 characters
    citizen = town.phone(1)
    answers = [post(stack, bsuid_text(town.channel, too_long, wamid(), "Buca in via Roma")).status_code,
               post(stack, message_body(town.channel, citizen, "wamid." + "A" * 2994, type="text",
                                        text={"body": "Lampione spento"})).status_code,
               post(stack, bsuid_text(town.channel, longest, wamid(), "Buca in via Verdi")).status_code]
    assert answers == [200, 200, 200]
    receipt = wait_for(lambda: sent_to(stack, longest))
    time.sleep(1.5)
    assert len(sent_to(stack, longest)) == len(receipt) >= 1 and "n. " in receipt[0]["text"]
    assert citizen.inbox() == []
    reports = list(report_store.all_of(town.tenant, ("report",)))
    assert [(r.citizen_key, r.text) for r in reports] == [(f"bsuid:{longest}", "Buca in via Verdi")]
    assert failed_records(stack) == failed_before
    figures("W14", case="provider-id-length", bsuid_3000="skipped", wamid_3000="skipped", bsuid_131="answered",
            replies=len(receipt), reports=len(reports), worker_failures=failed_records(stack) - failed_before)


def _attribute_bytes(value: dict) -> int:
    """DynamoDB's size of one attribute value in its wire form (developer guide, "Item sizes"): UTF-8 of strings,
    about one byte per two digits of numbers plus one, one for booleans and nulls, three plus one per element for
    lists and maps (and the names of a map's entries)."""
    (kind, inner), = value.items()
    if kind == "S":
        return len(inner.encode("utf-8"))
    if kind == "N":
        return (len(inner.strip("-").replace(".", "")) + 1) // 2 + 1
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "L":
        return 3 + sum(1 + _attribute_bytes(v) for v in inner)
    if kind == "M":
        return 3 + sum(1 + len(k.encode("utf-8")) + _attribute_bytes(v) for k, v in inner.items())
    raise AssertionError(f"unexpected attribute type {kind}")


def dynamodb_item_bytes(report) -> int:
    """What DynamoDB counts for the report's item as the store writes it."""
    item = report_store._to_model(report).serialize()
    return sum(len(name.encode("utf-8")) + _attribute_bytes(value) for name, value in item.items())


def test_w16_a_citizen_cannot_grow_a_report_past_its_bound_the_next_message_starts_a_new_one(stack):
    """A report is one DynamoDB item (400 KB). 111 messages of 4,000 characters in the draft window once passed it:
    17 went to the dead-letter queue unanswered and staff's next note was a 500. Now a full draft hands the next
    message to a new report (which names the one it continues), every message is answered once, nothing is lost,
    and staff still have room on the full one."""
    town, failed_before = Town(stack, kind="reports"), failed_records(stack)
    citizen = town.phone(1)
    filler = "Buca profonda in via Roma davanti al civico 12, pericolosa per bici e motorini. " * 60
    for n in range(111):
        citizen.text(f"{n:03d} {filler}"[:4000])
    wait_for(lambda: len(citizen.inbox()) >= 111, timeout=120)
    inbox = citizen.settle(2.0)
    reports = sorted(report_store.of_reporter(town.channel, citizen.e164, limit=20), key=lambda r: r.report_id)
    told = [m["text"] for m in inbox if "al completo" in m["text"]]
    assert len(reports) >= 2 and len(told) == len(reports) - 1
    assert len(inbox) == 111 + len(told)  # one answer each; a message that starts a new report: notice and receipt
    assert sorted(e.note[:3] for r in reports for e in r.events if e.action == "text") == [f"{n:03d}" for n in range(111)]
    for previous, report in itertools.pairwise(reports):
        assert report.events[0].data.get("continues") == previous.number
        assert previous.number in next(t for t in told if f"n. {report.number}" in t)
    assert failed_records(stack) == failed_before and dead_letters("inbound", citizen.e164[1:]) == []
    note = town.call("POST", f"/api/v1/reports/{reports[0].report_id}/notes", role="technical",
                     json={"note": "Sopralluogo fatto. " * 105})  # 1,995 characters
    assert note.status_code == 200, note.text
    sizes = [dynamodb_item_bytes(report_store.get(town.tenant, r.report_id)) for r in reports]
    assert max(sizes) < 400 * 1024
    figures("W16", case="oversized-draft", messages=111, replies=len(inbox), reports=len(reports),
            texts_per_report=[sum(e.action == "text" for e in r.events) for r in reports], largest_item_bytes=max(sizes),
            dead_letters=0, worker_failures=0, staff_note_after=note.status_code)


def test_w16_a_report_filled_to_its_bound_with_the_costliest_text_is_still_a_valid_item(stack):
    """The bound holds for the worst a report can carry: every text at its longest and in emoji (4 bytes of UTF-8,
    12 as the history's JSON escapes them), the longest citizen key and channel id. Filled to the system's share,
    it is written, DynamoDB counts it under 400 KB, and an erasure's event still fits."""
    town, now = Town(stack, kind="reports"), datetime.now(UTC)
    emoji, longest = "\U0001f573", "IT." + "a" * 128
    fields = dict(source="whatsapp", channel_id="1" * 64, citizen_key=f"bsuid:{longest}", text=emoji * 4000,
                  contact={"name": emoji * 256}, address=emoji * 300, category="strade",
                  followers=tuple(f"{'1' * 64}#bsuid:IT.{n:0128d}" for n in range(20)))
    draft = report_store.open_report(town.tenant, "report", now, **fields)
    note = Event(at=now, actor="citizen", action="text", note=emoji * report_rules.MAX_EVENT_TEXT)
    events = ()
    for length in (report_rules.MAX_EVENT_TEXT, 256, 16, 1):  # whole notes, then ever shorter ones to the brim
        step = Event(at=now, actor="citizen", action="text", note=emoji * length)
        while report_rules.size_of(replace(draft, events=events + (step,))) <= report_rules.SYSTEM_ROOM.bytes:
            events += (step,)
    full = report_store.change(town.tenant, draft.report_id, lambda current: replace(current, events=events))
    stored = report_store.get(town.tenant, draft.report_id)
    assert stored.events == events and dynamodb_item_bytes(stored) < 400 * 1024
    with pytest.raises(report_rules.ReportFull):
        report_store.change(town.tenant, draft.report_id, lambda current: report_store.with_event(current, note))
    erased = report_store.change(town.tenant, draft.report_id, lambda current: report_store.with_event(
        current, Event(at=now, actor="system", action="anonymised")), room=None)
    assert len(erased.events) == len(events) + 1
    figures("W16", case="filled-to-the-bound", events=len(full.events), size_of=report_rules.size_of(full),
            dynamodb_bytes=dynamodb_item_bytes(stored), dynamodb_limit=400 * 1024)


def test_w16_a_text_longer_than_whatsapp_allows_is_cut_to_4096_characters(stack):
    """Meta sends at most 4,096 characters; a longer (signed) text is kept to that, and answered."""
    town = Town(stack, kind="reports")
    citizen = town.phone(1)
    assert post(stack, message_body(town.channel, citizen, wamid(), type="text",
                                    text={"body": "Buca in via Roma " + "x" * 20_000})).status_code == 200
    wait_text(citizen, "n. ")
    report = latest_report(citizen)
    [event] = [e for e in report.events if e.action == "text"]
    assert len(event.note) == 4096 and len(report.text) <= 4000


# ==== 5.2 Outbound send ==================================================================================

@pytest.fixture
def sleeps(monkeypatch):
    """The sender's in-process backoff sleeps (still slept)."""
    slept: list[float] = []

    def sleep(seconds):
        slept.append(round(seconds, 3))
        time.sleep(seconds)

    monkeypatch.setattr(outbound, "time", SimpleNamespace(sleep=sleep))
    return slept


def test_s1_http_429_is_retried_after_retry_after_and_sent_once(stack, sandbox, sleeps):
    phone = fresh(stack)
    sandbox.configure(send_script={phone.e164: [{"code": 613, "http_status": 429, "retry_after": 1}] * 2})
    before, job = scripted(sandbox), reply_job(phone)
    started = time.time()
    outbound.enqueue(job)
    assert settled(job, phone).status in ("sent", "delivered", "read")
    inbox = phone.settle(1.0)
    assert len(inbox) == 1 and inbox[0]["time"] - started >= 2.0  # two Retry-After: 1 honoured
    assert sleeps[:2] == [1.0, 1.0]
    figures("S1", http_429=scripted(sandbox) - before, waits=sleeps[:2], lost=0, duplicates=len(inbox) - 1,
            sent_after_s=round(inbox[0]["time"] - started, 1))


def _rate_limited_once(stack, sandbox) -> tuple[Phone, outbound.OutboundJob]:
    phone = fresh(stack)
    sandbox.configure(send_script={phone.e164: [{"code": 130429, "http_status": 400}]})
    job = reply_job(phone)
    outbound.enqueue(job)
    settled(job, phone)
    return phone, job


def test_s2_throughput_limit_130429_is_retried(stack, sandbox):
    before = scripted(sandbox)
    phone, job = _rate_limited_once(stack, sandbox)
    inbox = phone.settle(1.0)
    assert len(inbox) == 1 and deliveries.get(job.job_id, phone.e164).status != "failed"
    figures("S2", code_130429=scripted(sandbox) - before, lost=0, duplicates=len(inbox) - 1)


def test_s2_throughput_limit_halves_the_pace_which_then_recovers(stack, sandbox, monkeypatch):
    from chalicelib.services.messaging import pacing

    _rate_limited_once(stack, sandbox)
    nominal = outbound.consumer_rate(directory.get_channel(BROADCAST).rate_per_second)
    slowed = max((b for k, b in pacing._buckets.items() if k.startswith(f"{BROADCAST}:") and b.rate < nominal),
                 key=lambda b: b.slowed_at)  # the consumer that met the 130429 (earlier tests' may be slowed too)
    assert slowed.rate >= nominal * pacing.FLOOR_SHARE and slowed.rate <= nominal * pacing.SLOW_DOWN_FACTOR
    halved = slowed.rate
    monkeypatch.setattr(pacing, "RECOVERY_SECONDS", 0.0)  # time passing without another 130429
    steps = 0
    while slowed.rate < nominal:
        slowed.take()
        steps += 1
    assert slowed.rate == nominal and steps <= 11  # x1.25 per quiet period: from the floor (0.1) in eleven steps
    figures("S2", case="pacing", nominal_per_s=round(nominal, 2), after_130429=round(halved, 2),
            recovery_steps=steps, seconds_per_step=10)


def test_s3_pair_rate_limit_delays_only_that_recipient(stack, sandbox, sleeps):
    slow, quick = fresh(stack), fresh(stack)
    sandbox.configure(send_script={slow.e164: [{"code": 131056, "http_status": 403}] * 2})
    job = outbound.OutboundJob(job_id=f"fault-{uuid.uuid4().hex}", tenant_id="demo", channel_id=BROADCAST,
                               contents=[Text(body="Mercato spostato")],
                               recipients=[outbound.JobRecipient(key=p.e164, phone=p.e164) for p in (slow, quick)])
    outbound.enqueue(job)
    [late] = slow.wait_inbox(1)
    [early] = quick.wait_inbox(1)
    assert late["time"] - early["time"] >= 1.0  # deferred twice through the queue's backoff (1 s, then 1-2 s here)
    assert len(slow.settle(1.0)) == 1 and len(quick.inbox()) == 1
    figures("S3", code_131056=2, in_process_sleeps=sleeps[:2], deferred_s=round(late["time"] - early["time"], 1),
            other_recipient_delayed=False, lost=0, duplicates=0)


def _media_error(stack, sandbox) -> tuple[Phone, outbound.OutboundJob, int]:
    phone = fresh(stack)
    sandbox.configure(send_script={phone.e164: [{"code": 131053, "http_status": 400}] * 3})
    before, job = scripted(sandbox), reply_job(phone)
    outbound.enqueue(job)
    return phone, job, before


def test_s4_media_error_131053_is_retried_a_bounded_number_of_times_then_fails_with_its_code(stack, sandbox):
    phone, job, before = _media_error(stack, sandbox)  # Meta answers 131053 three times
    failed = wait_for(lambda: (d := deliveries.get(job.job_id, phone.e164)) and d.status == "failed" and d)
    assert failed.error_code == 131053
    assert phone.settle(1.0) == [] and scripted(sandbox) - before == 1 + outbound.MEDIA_RETRIES
    figures("S4", attempts=scripted(sandbox) - before, outcome="failed", code=failed.error_code)


def test_s4_a_media_error_that_clears_on_retry_is_sent_once(stack, sandbox):
    phone = fresh(stack)
    sandbox.configure(send_script={phone.e164: [{"code": 131053, "http_status": 400}]})
    job = reply_job(phone)
    outbound.enqueue(job)
    assert len(phone.wait_inbox(1)) == 1 and len(phone.settle(1.0)) == 1
    assert deliveries.get(job.job_id, phone.e164).status != "failed"
    figures("S4", case="clears-on-retry", attempts=2, sent=1, duplicates=0)


def test_s5_permanent_errors_fail_at_once_with_metas_code_visible_to_staff(stack, sandbox):
    town = Town(stack)
    refused, closed, fine = town.phone(1), town.phone(2), town.phone(3)
    town.subscribe([refused, closed, fine])
    sandbox.configure(send_script={refused.e164: [131026] * 3, closed.e164: [131047] * 3})
    before = scripted(sandbox)
    done = town.wait_broadcast(town.broadcast("Scuole chiuse per neve")["id"])
    counters = done["counters"]
    assert (counters["sent"], counters["failed"]) == (1, 2)
    assert counters["failed_by_reason"] == {"131026": 1, "131047": 1}
    assert scripted(sandbox) - before == 2  # one attempt each: no retry, no template loop
    assert refused.settle(1.0) == [] and closed.inbox() == []
    figures("S5", case="broadcast", attempts=scripted(sandbox) - before, failed_by_reason=counters["failed_by_reason"])


def test_s5_a_policy_block_on_a_reply_is_recorded_with_metas_code_and_text(stack, sandbox):
    phone = fresh(stack)
    sandbox.configure(send_script={phone.e164: [368] * 3})
    before, job = scripted(sandbox), reply_job(phone)
    outbound.enqueue(job)
    failed = wait_for(lambda: (d := deliveries.get(job.job_id, phone.e164)) and d.status == "failed" and d)
    assert failed.error_code == 368
    item = dynamo.plain(dynamo.client().get_item(TableName="filo-local-deliveries", Key={
        "job_id": {"S": job.job_id}, "recipient": {"S": phone.e164}})["Item"])
    assert "Temporarily blocked" in item["error_message"] and item["error_class"] == "fatal"
    assert phone.settle(1.0) == [] and scripted(sandbox) - before == 1
    figures("S5", case="reply-368", attempts=1, recorded="failed/368")


def test_s6_5xx_is_retried_with_capped_backoff_then_dead_lettered_and_alarmed(stack, sandbox, monkeypatch, sleeps):
    phone = fresh(stack)
    spec = QUEUES["outbound"]
    sandbox.configure(send_script={phone.e164: [{"code": 131000}] * 40})
    receives: list[int] = []
    monkeypatch.setattr(outbound, "IN_PROCESS_RETRIES", 1)  # the shape below, in seconds instead of minutes
    monkeypatch.setattr(workers, "retry_delay", lambda n: receives.append(n) or 0)
    before, job = scripted(sandbox), reply_job(phone, "Avviso che non passa")
    started = time.monotonic()
    outbound.enqueue(job)
    (dead,) = wait_for(lambda: dead_letters("outbound", job.job_id), timeout=40, interval=0.5)
    to_dlq = time.monotonic() - started
    alarm = watch_dead_letters(stack)
    boto3.client("sqs").delete_message(QueueUrl=dead["QueueUrl"], ReceiptHandle=dead["ReceiptHandle"])
    attempts = scripted(sandbox) - before
    # every receive is deferred until the redrive policy takes the job (a receive that finds the job still leased
    # by the other consumer - the local visibility timeout is 1 s - is deferred without sending)
    assert max(receives) == spec.max_receive_count and set(receives) <= set(range(1, spec.max_receive_count + 1))
    assert 2 <= attempts <= spec.max_receive_count * 2 and phone.inbox() == []
    assert alarm["outbound"] >= 1
    production = [min(30 * 2 ** (n - 1), workers.MAX_RETRY_DELAY) for n in range(1, spec.max_receive_count)]
    figures("S6", receives=max(receives), attempts=attempts, dlq=1, alarm=alarm["outbound"],
            seconds_to_dlq=round(to_dlq, 1), production_backoff_s=production, in_process=[0.25, 0.5, 1, 2])


def test_s6_backoff_has_jitter():
    """Jobs that failed together (a provider outage) come back spread out, each within [step/2, step]."""
    from chalicelib.services.messaging.backoff import backoff

    delays = [workers.retry_delay(4) for _ in range(200)]  # the local base is 1 s: step 8 s
    in_process = [backoff(0.25, 3, 10.0) for _ in range(200)]  # the third quick retry: step 1 s
    assert min(delays) >= 4 and max(delays) <= 8 and len(set(delays)) >= 3
    assert min(in_process) >= 0.5 and max(in_process) <= 1.0 and len(set(in_process)) > 100
    figures("S6", case="jitter", distinct_sqs_delays=len(set(delays)), sqs_range_s=[min(delays), max(delays)],
            in_process_range_s=[round(min(in_process), 2), round(max(in_process), 2)])


def test_s6_a_connection_closed_without_an_answer_is_retried(stack, sandbox):
    phone = fresh(stack)
    sandbox.configure(send_script={phone.e164: [{"drop": True}] * 2})
    before, job = scripted(sandbox), reply_job(phone)
    outbound.enqueue(job)
    settled(job, phone)
    inbox = phone.settle(1.0)
    assert len(inbox) == 1
    figures("S6", case="connection-dropped", drops=scripted(sandbox) - before, lost=0, duplicates=len(inbox) - 1)


def _ambiguous(stack, sandbox, monkeypatch, case: str) -> tuple[Phone, outbound.OutboundJob]:
    phone = fresh(stack)
    if case == "slower-than-the-timeout":
        monkeypatch.setattr(get_provider()._graph, "_timeout", 0.5)
        step = {"delay": 1.0, "deliver": True}
    else:
        step = {"http_status": 200, "body": "<html>Service Unavailable</html>", "deliver": True}
    sandbox.configure(send_script={phone.e164: [step]})
    job = reply_job(phone)
    outbound.enqueue(job)
    settled(job, phone)
    return phone, job


@pytest.mark.parametrize("case", ["slower-than-the-timeout", "200-with-unparseable-body"])
def test_s7_s9_an_ambiguous_outcome_is_retried_never_taken_for_a_success(stack, sandbox, monkeypatch, case):
    phone, job = _ambiguous(stack, sandbox, monkeypatch, case)
    inbox = wait_for(lambda: (m := phone.inbox()) and len(m) == 2 and m, timeout=10)
    # recorded: the retry whose answer was read (the slow first attempt lands last; the unreadable one first)
    read = inbox[0] if case == "slower-than-the-timeout" else inbox[1]
    assert deliveries.get(job.job_id, phone.e164).provider_message_id == read["id"]
    assert len(phone.settle(1.0)) == 2  # the ambiguous class: the retry is a duplicate on the phone
    figures("S7" if case.startswith("slower") else "S9", case=case, sends=1, ambiguous=1, duplicates_on_phone=1,
            records=1, rate="1 duplicate per ambiguous attempt")


@pytest.mark.parametrize("case", ["slower-than-the-timeout", "200-with-unparseable-body"])
def test_s7_s9_an_ambiguous_outcome_is_logged_and_counted_for_the_broadcast(stack, sandbox, monkeypatch, app_log,
                                                                            case):
    phone, _ = _ambiguous(stack, sandbox, monkeypatch, case)
    wait_for(lambda: len(phone.inbox()) == 2)
    [line] = app_log.find("ambiguous send outcome", logging.WARNING)
    assert phone.e164 not in line.getMessage() and line.recipient != phone.e164
    town = Town(stack)
    citizen = town.phone(1)
    town.subscribe([citizen])
    step = {"delay": 1.0, "deliver": True} if case.startswith("slower") else \
        {"http_status": 200, "body": "<html>Service Unavailable</html>", "deliver": True}
    sandbox.configure(send_script={citizen.e164: [step]})
    done = town.wait_broadcast(town.broadcast("Avviso: strada chiusa")["id"])
    assert (done["counters"]["sent"], done["counters"]["ambiguous"]) == (1, 1)
    figures("S7" if case.startswith("slower") else "S9", case=f"{case}-counted", ambiguous=1,
            broadcast_counter=done["counters"]["ambiguous"], metric="AmbiguousSends")


def test_s8_provider_down_backlog_drains_after_recovery_nothing_lost(stack, sandbox, monkeypatch):
    spec = QUEUES["outbound"]
    horizon = sum(min(30 * 2 ** (n - 1), workers.MAX_RETRY_DELAY) for n in range(1, spec.max_receive_count))
    assert horizon >= 30 * 60 and spec.retention_seconds > horizon  # production: a 30-minute outage is ridden out
    phones = [fresh(stack) for _ in range(4)]
    provider = get_provider()
    monkeypatch.setattr(provider._graph, "_base_url", f"http://127.0.0.1:{_closed_port()}/v25.0")  # Meta is off
    jobs = [reply_job(p, "Avviso durante il guasto") for p in phones]
    for job in jobs:
        outbound.enqueue(job)
    time.sleep(2.0)
    assert all(p.inbox() == [] for p in phones)
    monkeypatch.undo()  # Meta is back
    recovered = time.monotonic()
    for job, phone in zip(jobs, phones, strict=True):
        settled(job, phone, timeout=30)
    drained = time.monotonic() - recovered
    counts = [len(p.settle(0.2)) for p in phones]
    assert counts == [1] * len(phones)
    figures("S8", outage_s=2, queued=len(jobs), lost=0, duplicates=0, drain_s=round(drained, 1),
            production_horizon_min=round(horizon / 60, 1), retention_days=spec.retention_seconds // 86400)


def _closed_port() -> int:
    from local.devserver import free_port

    return free_port()


def test_s10_the_same_job_in_two_consumers_at_once_sends_once(stack, sandbox, monkeypatch):
    phone = fresh(stack)
    sandbox.configure(send_script={phone.e164: [{"delay": 1.0}]})  # a slow send: both consumers overlap
    job, outcomes = reply_job(phone), []

    def consume():
        try:
            outbound.process_job(job)
            outcomes.append("sent")
        except outbound.RetryLater:
            outcomes.append("held by the other")

    consumers = [threading.Thread(target=consume) for _ in range(2)]
    for consumer in consumers:
        consumer.start()
    for consumer in consumers:
        consumer.join()
    assert sorted(outcomes) == ["held by the other", "sent"]
    with pytest.raises(outbound.RetryLater):
        outbound.process_job(job)  # redelivered at once: the lease still holds it
    real_now = clock.now
    monkeypatch.setattr(clock, "now", lambda: real_now() + deliveries.LEASE)  # the lease lapses (15 seconds)
    outbound.process_job(job)  # the redelivery after that finds the recorded send
    monkeypatch.setattr(clock, "now", real_now)
    assert len(phone.settle(1.0)) == 1
    figures("S10", consumers=2, runs=3, sends=1, duplicates=0)


@pytest.mark.parametrize("dies", ["after-the-record-before-the-delete", "between-the-send-and-the-record"])
def test_s11_a_consumer_that_dies_after_sending(stack, monkeypatch, dies):
    phone = fresh(stack)
    job, died = reply_job(phone), []
    if dies == "after-the-record-before-the-delete":
        real_finish = outbound._finish

        def finish(run):
            if run.job.job_id == job.job_id and not died:
                died.append(1)
                raise RuntimeError("consumer killed before deleting the message")
            return real_finish(run)

        monkeypatch.setattr(outbound, "_finish", finish)
    else:
        real_record = deliveries.record

        def record(key, recipient, *args, **kwargs):
            if key == job.job_id and not died:
                died.append(1)
                raise RuntimeError("consumer killed between the send and its record")
            return real_record(key, recipient, *args, **kwargs)

        monkeypatch.setattr(deliveries, "record", record)
    outbound.enqueue(job)
    settled(job, phone)
    inbox = phone.settle(1.5)
    # the second: the run saw the send accepted and its record fail, and noted it on the job's lease: never sent again
    assert died and len(inbox) == 1
    figures("S11", case=dies, redeliveries=1, sends=len(inbox), duplicates=len(inbox) - 1)


def test_s12_poison_jobs_fail_fast_with_a_reason(stack, sandbox, app_log):
    marker = f"poison-{uuid.uuid4().hex}"
    started = time.monotonic()
    queues.send("outbound", {"job_id": marker, "contents": "not a list", "recipients": 7})
    (dead,) = wait_for(lambda: dead_letters("outbound", marker), timeout=30, interval=0.5)
    to_dlq = time.monotonic() - started
    boto3.client("sqs").delete_message(QueueUrl=dead["QueueUrl"], ReceiptHandle=dead["ReceiptHandle"])
    assert app_log.find("poison outbound message", logging.ERROR)
    assert any("ValidationError" in str(getattr(r, "errors", "")) for r in app_log.find("records failed"))
    # a bad number: Meta refuses it, the result is recorded with the reason at once
    bad = outbound.OutboundJob(job_id=f"fault-{uuid.uuid4().hex}", tenant_id="demo", channel_id=BROADCAST,
                               contents=[Text(body="x")], recipients=[outbound.JobRecipient(key="+39abc", phone="+39 abc")])
    outbound.enqueue(bad)
    failed = wait_for(lambda: (d := deliveries.get(bad.job_id, "+39abc")) and d.status == "failed" and d)
    assert failed.error_code in (100, 131009)
    figures("S12", poison_to_dlq_s=round(to_dlq, 1), dlq=1, backoff="none (back at once)",
            bad_number=f"failed/{failed.error_code}", retries_bad_number=0)


def test_s13_one_bad_record_in_a_batch_of_ten_is_the_only_one_retried(stack):
    phones = [fresh(stack) for _ in range(9)]
    bodies = [text_payload(BROADCAST, p.e164[1:], "AIUTO", wamid()).decode() for p in phones]
    bodies.insert(4, "this is not a webhook payload")
    event = {"Records": [{
        "messageId": str(uuid.uuid4()), "receiptHandle": "r", "body": body, "attributes": {},
        "messageAttributes": {}, "md5OfBody": "", "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:eu-south-1:123456789012:filo-local-inbound", "awsRegion": "eu-south-1",
    } for body in bodies]}
    result = stack.app.handler_map["inbound_worker"](event, LambdaContext("inbound_worker", 512, 60_000))
    assert result == {"batchItemFailures": [{"itemIdentifier": event["Records"][4]["messageId"]}]}
    assert all(len(p.wait_inbox(1)) == 1 for p in phones)
    figures("S13", batch=10, failed=1, retried=1, handled=9)


def test_s15_dynamodb_throttling_the_idempotency_records_is_retried_by_the_sdk(stack):
    phone = fresh(stack)
    job = reply_job(phone)
    sender = lambda body: _contains(job.job_id)(body) and b'":rank"' not in body  # noqa: E731 - not the statuses'
    with aws_fault(dynamo.client(), ["before-send.dynamodb.PutItem", "before-send.dynamodb.BatchGetItem",
                                     "before-send.dynamodb.UpdateItem"],
                   sender, 400,
                   "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException",
                   pattern=first_attempt) as requests_seen:
        outbound.enqueue(job)
        wait_for(lambda: (d := deliveries.get(job.job_id, phone.e164)) and d.recorded_at, timeout=20)
        wait_for(lambda: "claims" not in _lease_item(job.job_id), timeout=20)  # the sender is done
        inbox = phone.settle(1.0)
    throttled = [op for op, injected in requests_seen if injected]
    retried = [op for op, injected in requests_seen if not injected]
    assert len(inbox) == 1
    # the lease and the claim (updates of the lease item), the check and the record: each first try throttled, each
    # retried by the SDK and then answered
    assert throttled.count("UpdateItem") >= 2 and "BatchGetItem" in throttled and "PutItem" in throttled
    assert sorted(retried) == sorted(throttled)
    figures("S15", throttled=len(throttled), operations=sorted(set(throttled)), sends=len(inbox), duplicates=0)


def _lease_item(job_id: str) -> dict:
    return dynamo.plain(dynamo.client().get_item(TableName="filo-local-deliveries", ConsistentRead=True, Key={
        "job_id": {"S": job_id}, "recipient": {"S": deliveries.LEASE_KEY}}).get("Item", {}))


@pytest.mark.parametrize("case", ["secrets-manager-unavailable", "empty-access-token"])
def test_s16_without_the_provider_secret_nothing_is_sent_and_the_work_waits(stack, sandbox, monkeypatch, case):
    phone, message_id = fresh(stack), wamid()
    before = sandbox.stats()
    if case == "secrets-manager-unavailable":
        monkeypatch.setenv("META_SECRET_NAME", f"filo-local/missing-{uuid.uuid4().hex[:6]}")
    else:
        monkeypatch.setenv("META_ACCESS_TOKEN", "")
    get_settings.cache_clear()
    get_provider.cache_clear()
    job = reply_job(phone)
    try:
        outbound.enqueue(job)
        body = text_payload(BROADCAST, phone.e164[1:], "AIUTO", message_id)
        webhook = post(stack, body)
        if case == "secrets-manager-unavailable":
            assert webhook.status_code >= 500  # fail closed: Meta keeps the message and retries
            time.sleep(1.0)
            assert deliveries.get(job.job_id, phone.e164) is None  # not sent, not lost: the queue retries it
        else:
            assert webhook.status_code == 200  # the app secret still verifies webhooks
            failed = wait_for(lambda: (d := deliveries.get(job.job_id, phone.e164)) and d.status == "failed" and d)
            assert failed.status == "failed"
        after = sandbox.stats()
        assert (after["accepted"], after["rejected"]) == (before["accepted"], before["rejected"])
        assert phone.inbox() == []
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()
        get_provider.cache_clear()
    if case == "secrets-manager-unavailable":
        assert post(stack, text_payload(BROADCAST, phone.e164[1:], "AIUTO", message_id)).status_code == 200
        settled(job, phone)
        inbox = wait_for(lambda: (m := phone.inbox()) and len(m) == 2 and m)
        assert len(phone.settle(1.0)) == len(inbox) == 2  # the queued job and the reply, once each
    figures("S16", case=case, requests_to_meta_while_broken=0, outcome="retried, then sent once"
            if case.startswith("secrets") else "failed/fatal, recorded, no request")


# ==== 5.3 Staff API and data lifecycle ==================================================================

def _desk_report(api) -> dict:
    created = api.call("POST", "/api/v1/reports", role="technical", json={
        "source": "phone", "text": "Telefonata: semaforo spento all'incrocio", "address": "Via Roma"})
    assert created.status_code == 201, created.text
    return created.json()


def test_a1_an_officer_of_another_comune_gets_404_and_changes_nothing(stack, api):
    report = _desk_report(api)
    intruder = stack.issuer.token("altro", ["admin", "technical"])
    path = f"/api/v1/reports/{report['id']}"
    answers = [api.call("GET", path, token=intruder).status_code,
               api.call("POST", f"{path}/transitions", token=intruder, json={"to": "rejected"}).status_code,
               api.call("POST", f"{path}/notes", token=intruder, json={"note": "x"}).status_code]
    assert answers == [404, 404, 404]
    after = api.call("GET", path, role="technical").json()
    assert after["status"] == "new" and len(after["events"]) == len(report["events"])
    figures("A1", answers=answers, changed=0)


def test_a1_a_refused_attempt_is_audited_in_the_actors_comune(stack, api):
    report = _desk_report(api)
    intruder = stack.issuer.token("altro", ["admin", "technical"], subject="intruder-a1")
    api.call("GET", f"/api/v1/reports/{report['id']}", token=intruder)
    api.call("POST", f"/api/v1/reports/{report['id']}/notes", token=intruder, json={"note": "x"})
    police_only = api.call("GET", "/api/v1/subscribers", role="technical", params={"channel": SAFETY})
    assert police_only.status_code == 403
    intruders = [e for e in api.call("GET", "/api/v1/audit", token=intruder, params={"limit": "50"}).json()["items"]
                 if e["actor"] == "intruder-a1"]
    assert {(e["action"], e["target"]) for e in intruders} >= {
        ("refused.404", f"GET /api/v1/reports/{report['id']}"),
        ("refused.404", f"POST /api/v1/reports/{report['id']}/notes")}
    own = api.call("GET", "/api/v1/audit", role="admin", params={"limit": "50"}).json()["items"]
    assert any(e["action"] == "refused.403" and e["target"].startswith("GET /api/v1/subscribers") for e in own)
    assert not any(e["actor"] == "intruder-a1" for e in own)  # the other comune's trail stays its own
    figures("A1", case="audited", refused_entries=len(intruders), actions=sorted({e["action"] for e in intruders}))


def test_a2_fields_and_steps_a_role_may_not_set_are_refused_and_change_nothing(stack, api):
    report = _desk_report(api)
    path = f"/api/v1/reports/{report['id']}"
    answers = {
        "patch": api.call("PATCH", path, role="technical", json={"status": "resolved"}).status_code,
        "wrong-role": api.call("POST", f"{path}/transitions", role="communications", json={"to": "triaged"}).status_code,
        "mass-assignment": api.call("POST", f"{path}/transitions", role="technical",
                                    json={"to": "triaged", "reporter_phone": "+393330000000", "office": "x"}).status_code,
        "create-with-status": api.call("POST", "/api/v1/reports", role="technical", json={
            "source": "desk", "text": "x", "status": "resolved", "tenant_id": "altro"}).status_code,
        "subscriber-status": api.call("POST", "/api/v1/subscribers", role="communications", json={
            "channel": BROADCAST, "phone": "3460000999", "status": "active", "tenant_id": "altro"}).status_code,
    }
    assert answers["wrong-role"] == 403  # PATCH corrects category, hamlet, position, address: never a status
    assert answers["patch"] == answers["mass-assignment"] == answers["create-with-status"] == answers[
        "subscriber-status"] == 422
    after = api.call("GET", path, role="technical").json()
    assert after["status"] == "new" and len(after["events"]) == len(report["events"])
    assert "+393330000000" not in json.dumps(after)
    figures("A2", answers=answers, changed=0)


def _bad_tokens(stack) -> dict[str, str]:
    def part(data: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    now = int(time.time())
    claims = {"sub": "x", "iss": ISSUER, "aud": AUDIENCE, "iat": now, "exp": now + 600, "custom:tenant": "demo",
              "cognito:groups": ["admin"]}
    forged = jwt.encode(claims, rsa.generate_private_key(public_exponent=65537, key_size=2048), algorithm="RS256",
                        headers={"kid": stack.issuer.kid})
    return {"none": "", "expired": stack.issuer.token("demo", ["admin"], ttl_seconds=-10), "forged": forged,
            "alg-none": f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}.", "garbage": "not.a.jwt"}


def test_a3_no_expired_forged_or_unsigned_token_is_401_with_no_data(stack, api):
    answers = {}
    for name, token in _bad_tokens(stack).items():
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        answer = api.call("GET", "/api/v1/subscribers", role=None, headers=headers, params={"channel": BROADCAST})
        assert answer.status_code == 401 and list(answer.json()) == ["error"], name
        answers[name] = answer.status_code
    figures("A3", answers=answers)


def test_a3_failed_authentications_are_logged_with_a_reason(stack, api, app_log):
    bad = _bad_tokens(stack)
    for token in bad.values():
        api.call("GET", "/api/v1/me", role=None, headers={"Authorization": f"Bearer {token}"} if token else {})
    refusals = app_log.find("authentication refused", logging.WARNING)
    assert len(refusals) == len(bad)
    reasons = sorted(getattr(r, "auth_refusal", "?") for r in refusals)
    assert reasons == ["expired", "invalid", "invalid", "invalid", "missing"]
    assert not any(token and token in r.getMessage() for r in refusals for token in bad.values())
    figures("A3", case="counted", refusals=len(refusals), reasons=reasons, metric="AuthRefused{reason}")


def test_a4_an_enormous_page_size_is_refused(api):
    answers = {path: api.call("GET", path, role=role, params={"channel": BROADCAST, "limit": "1000000"}).status_code
               for path, role in (("/api/v1/subscribers", "communications"), ("/api/v1/reports", "technical"),
                                  ("/api/v1/broadcasts", "communications"), ("/api/v1/audit", "admin"))}
    assert set(answers.values()) == {422}
    figures("A4", answers=answers, max_page=100)


# str.isdigit and int() take superscripts, other scripts' digits, spaces, signs and underscores; int() refuses more
# than 4,300 digits. A number in a URL is ASCII digits, else 422.
NOT_NUMBERS = ["\u00b9", "\u00b2", "\u0663", "\uff15", " 5", "+5", "1_0", "5.0", "", "1" * 5000]


@pytest.mark.parametrize("value", NOT_NUMBERS, ids=["superscript-1", "superscript-2", "arabic-indic-3",
                                                     "fullwidth-5", "space", "plus", "underscore", "decimal",
                                                     "empty", "5000-digits"])
def test_a4_a_number_in_a_url_is_ascii_digits_or_a_422(api, value):
    answers = {path: api.call("GET", path, role=role, params={"channel": BROADCAST, name: value})
               for path, role, name in (("/api/v1/subscribers", "communications", "limit"),
                                        ("/api/v1/reports", "technical", "limit"),
                                        ("/api/v1/broadcasts", "communications", "limit"),
                                        ("/api/v1/audit", "admin", "limit"),
                                        ("/api/v1/stats/subscribers", "communications", "weeks"))}
    assert {path: a.status_code for path, a in answers.items()} == dict.fromkeys(answers, 422)
    assert all(a.json()["error"]["code"] == "invalid_request" for a in answers.values())
    figures("A4", case="not-ascii-digits", value=ascii(value)[:12], answers=422)


def test_a5_photo_links_for_staff_are_signed_and_short_lived(stack):
    town = Town(stack, kind="reports")
    citizen = town.phone(1)
    citizen.text("Buca davanti alla scuola")
    wait_text(citizen, "n. ")
    send_photo(citizen, jpeg())
    wait_text(citizen, "Foto aggiunta")
    report = latest_report(citizen)
    detail = town.call("GET", f"/api/v1/reports/{report.report_id}", role="technical").json()
    query = parse_qs(urlsplit(detail["photos"][0]["url"]).query)
    assert int(query["X-Amz-Expires"][0]) <= 300 and query["X-Amz-Signature"][0]
    assert requests.get(detail["photos"][0]["url"], timeout=10).status_code == 200
    figures("A5", expires_s=int(query["X-Amz-Expires"][0]), signed=True,
            note="moto enforces neither expiry nor auth; the API takes no uploads (W11 covers citizen photos)")


def _burst(api, count: int = 40) -> list[requests.Response]:
    return [api.call("GET", "/api/v1/me", role="communications") for _ in range(count)]


def test_a6_a_burst_on_the_staff_api_gives_no_5xx(api):
    answers = _burst(api)
    assert all(a.status_code < 500 for a in answers)
    figures("A6", requests=len(answers), status_5xx=0, status_429=sum(a.status_code == 429 for a in answers))


def test_a6_a_burst_above_the_staff_rate_is_429_with_retry_after(stack):
    town = Town(stack, limits={"staff_requests_per_minute": 20})
    answers = [town.call("GET", "/api/v1/me") for _ in range(30)]
    limited = [a for a in answers if a.status_code == 429]
    assert {a.status_code for a in answers} == {200, 429}
    assert len(answers) - len(limited) <= 40  # 20 a minute: at most two windows if the burst spans a minute's turn
    first = limited[0]
    assert 1 <= int(first.headers["Retry-After"]) <= 60
    assert first.headers["X-RateLimit-Limit"] == "20" and first.headers["X-RateLimit-Remaining"] == "0"
    assert first.json()["error"]["code"] == "too_many_requests"
    assert town.call("GET", "/api/v1/me", role="admin").status_code == 200  # per staff member, not per comune
    figures("A6", case="limited", requests=len(answers), status_429=len(limited), limit_per_minute=20,
            retry_after_s=int(first.headers["Retry-After"]), status_5xx=0)


def test_a7_broadcasts_created_in_a_loop_hit_the_user_then_the_comune_cap(stack):
    town = Town(stack, limits={"broadcasts_per_user_per_hour": 5, "broadcasts_per_day": 8})

    def create(role: str, n: int) -> requests.Response:
        return town.call("POST", "/api/v1/broadcasts", role=role,
                         json={"channel": town.channel, "text": f"Prova {n}", "draft": True})

    by_one = [create("communications", n).status_code for n in range(7)]
    assert by_one == [201] * 5 + [429] * 2
    by_another = [create("admin", n) for n in range(4)]
    assert [a.status_code for a in by_another] == [201, 201, 201, 429]
    assert "comune" in by_another[-1].json()["error"]["message"] and by_another[-1].headers["Retry-After"]
    drafts = town.call("GET", "/api/v1/broadcasts", params={"limit": "50"}).json()["items"]
    assert len(drafts) == 8
    figures("A7", user_cap=5, comune_cap=8, created=len(drafts), refused=by_one.count(429) + 1)


def test_a7_the_spending_guard_pauses_a_broadcast_past_the_daily_message_budget(stack):
    town = Town(stack, limits={"broadcast_messages_per_day": 3})
    phones = [town.phone(n) for n in range(1, 6)]
    town.subscribe(phones)
    paused = town.wait_broadcast(town.broadcast("Avviso: acqua sospesa")["id"], status="paused")
    assert "budget" in paused["pause_reason"] and paused["counters"]["sent"] == 0
    time.sleep(1.0)
    assert all(not any("acqua sospesa" in t for t in texts(p)) for p in phones)
    small = Town(stack, limits={"broadcast_messages_per_day": 3})
    small.subscribe([small.phone(1), small.phone(2)])
    done = small.wait_broadcast(small.broadcast("Avviso: acqua sospesa")["id"])
    assert done["counters"]["sent"] == 2  # within the budget: sent as usual
    figures("A7", case="spending-guard", budget=3, audience=5, sent=0, status="paused", within_budget_sent=2)


def test_a8_every_read_of_personal_data_is_audited_and_no_audit_means_no_answer(stack, api, monkeypatch):
    phone = fresh(stack)
    assert api.call("POST", "/api/v1/subscribers", role="communications",
                    json={"channel": BROADCAST, "phone": phone.number}).status_code == 201
    path = f"/api/v1/subscribers/{quote(phone.e164)}"
    assert api.call("GET", path, role="communications", params={"channel": BROADCAST}).status_code == 200
    trail = api.call("GET", "/api/v1/audit", role="admin", params={"limit": "20"}).json()["items"]
    entry = next(e for e in trail if e["action"] == "subscriber.read" and e["target"].endswith(phone.e164))
    assert entry["actor"] == stack.staff_sign_in.subjects["communications"] and entry["at"]

    def audit_down(entry):
        raise ClientError({"Error": {"Code": "InternalServerError", "Message": "injected"}}, "PutItem")

    monkeypatch.setattr(audit, "append", audit_down)
    refused = api.call("GET", path, role="communications", params={"channel": BROADCAST})
    assert refused.status_code >= 500 and phone.e164 not in refused.text and phone.e164[1:] not in refused.text
    figures("A8", audited=1, fields=sorted(entry), audit_down_status=refused.status_code, data_leaked=0)


def test_a9_erasure_removes_the_number_and_cancels_its_pending_sends(stack, monkeypatch):
    town = Town(stack)
    erased, kept = town.phone(1), town.phone(2)
    town.subscribe([erased, kept])
    with broadcast_sends_held(monkeypatch, town.tenant) as (reached, release):
        created = town.broadcast("Lavori in via Dante")
        assert reached.wait(15)
        started = time.monotonic()
        answer = town.call("DELETE", f"/api/v1/subscribers/{quote(erased.e164)}", role="admin",
                           params={"channel": town.channel})
        answered = time.monotonic() - started
        release.set()
        done = town.wait_broadcast(created["id"])
    assert answer.status_code == 204
    assert citizens.get(town.channel, erased.e164) is None
    assert town.call("GET", f"/api/v1/subscribers/{quote(erased.e164)}", params={"channel": town.channel}).status_code == 404
    assert erased.settle(1.0) == [] and len(kept.inbox()) == 1
    assert (done["counters"]["sent"], done["counters"]["skipped"]) == (1, 1)
    ledger = town.call("GET", f"/api/v1/subscribers/{quote(erased.e164)}/consents").json()["items"]
    assert [e["path"] for e in ledger][-1] == "erasure"
    figures("A9", answer_s=round(answered, 2), pending_sends_cancelled=1, sent_to_erased=0,
            backups="PITR 35 d: to document in infra/")


def test_a11_a_staff_write_that_would_not_fit_the_report_is_a_422_and_the_report_can_still_be_closed(stack):
    """Notes fill a report up to staff's share of its bound, then a note (or a step with a note) is a clear 422 that
    changes nothing; a step without text still fits, so a full report can always be resolved."""
    town = Town(stack, kind="reports")
    created = town.call("POST", "/api/v1/reports", role="technical", json={"source": "phone",
                                                                           "text": "Lampione spento in via Verdi"})
    assert created.status_code == 201, created.text
    path = f"/api/v1/reports/{created.json()['id']}"
    answers = []
    for _ in range(100):  # 2,000 characters of three bytes each: 6 KB of UTF-8 a note
        answers.append(town.call("POST", f"{path}/notes", role="technical", json={"note": "€" * 2000}))
        if answers[-1].status_code != 200:
            break
    full = answers[-1]
    assert [a.status_code for a in answers] == [200] * (len(answers) - 1) + [422]
    assert full.json()["error"]["code"] == "report_full" and "full" in full.json()["error"]["message"]
    events = len(town.call("GET", path, role="technical").json()["events"])
    with_note = town.call("POST", f"{path}/transitions", role="technical",
                          json={"to": "triaged", "note": "€" * 2000, "public": False})
    assert with_note.status_code == 422 and with_note.json()["error"]["code"] == "report_full"
    assert len(town.call("GET", path, role="technical").json()["events"]) == events
    steps = [town.call("POST", f"{path}/transitions", role="technical", json={"to": to, "public": False}).status_code
             for to in ("triaged", "resolved")]
    assert steps == [200, 200]
    assert town.call("GET", path, role="technical").json()["status"] == "resolved"
    figures("A11", case="oversized-report", notes_accepted=len(answers) - 1, note_stored_bytes=12_000, refused=422,
            step_with_note=with_note.status_code, steps_without_text=steps)


def test_a10_an_access_request_exports_all_data_of_a_number(stack, api):
    phone = fresh(stack)
    api.call("POST", "/api/v1/subscribers", role="admin", json={"channel": BROADCAST, "phone": phone.number})
    answer = api.call("GET", "/api/v1/privacy/export", role="admin", params={"phone": phone.e164})
    assert answer.status_code == 200, answer.text
    export = answer.json()
    assert [r["channel"] for r in export["citizen_records"]] == [BROADCAST]
    assert export["consents"] and {"reports", "deliveries", "audit"} <= set(export)
