"""The sender against the sandbox: one send per recipient however often a job comes, errors by class."""
from __future__ import annotations

import uuid

import pytest

from chalicelib.providers.base import Text
from chalicelib.services.messaging import outbound
from chalicelib.store import deliveries
from tests.integration.conftest import BROADCAST
from tests.waiting import wait_for


@pytest.fixture
def sandbox(stack):
    yield stack.sandbox
    stack.sandbox.configure(fault_rate=0.0, recipient_errors={}, rate_limit=80.0)


def job_for(phone, text: str = "Avviso di prova") -> outbound.OutboundJob:
    return outbound.OutboundJob(
        job_id=f"test-{uuid.uuid4().hex}", tenant_id="demo", channel_id=BROADCAST, contents=[Text(body=text)],
        recipients=[outbound.JobRecipient(key=phone.e164, phone=phone.e164)])


def test_a_job_delivered_three_times_sends_once(stack, new_phone):
    phone = new_phone()
    job = job_for(phone)
    for _ in range(3):
        outbound.enqueue(job)
    phone.wait_inbox(1)
    assert len(phone.settle(2.0)) == 1
    wait_for(lambda: deliveries.get(job.job_id, phone.e164).status in ("sent", "delivered", "read"))


@pytest.mark.parametrize("code", [131026, 131047], ids=["undeliverable", "window-closed-without-template"])
def test_a_permanent_error_is_recorded_with_its_code_not_retried(stack, sandbox, new_phone, code):
    phone = new_phone()
    sandbox.configure(recipient_errors={phone.e164: code})
    job = job_for(phone)
    outbound.enqueue(job)
    failed = wait_for(lambda: (d := deliveries.get(job.job_id, phone.e164)) and d.status == "failed" and d)
    assert failed.error_code == code
    assert phone.settle(1.5) == []


def test_transient_errors_are_retried_with_backoff_until_the_send_goes_through(stack, sandbox, new_phone):
    phone = new_phone()
    sandbox.configure(fault_rate=1.0)
    faults_before = sandbox.stats()["faults"]
    job = job_for(phone)
    outbound.enqueue(job)
    wait_for(lambda: sandbox.stats()["faults"] >= faults_before + 5, timeout=15)  # one delivery, five tries
    sandbox.configure(fault_rate=0.0)
    phone.wait_inbox(1, timeout=20)
    assert len(phone.settle(1.5)) == 1
    assert deliveries.get(job.job_id, phone.e164).status in ("sent", "delivered", "read")


def test_retry_delay_doubles_up_to_a_cap_with_jitter(stack):
    from chalicelib.api.consumers import MAX_RETRY_DELAY, retry_delay

    # the local stack's base is 1 s: receive n waits between half and all of 2^(n-1) seconds, never under 1 s
    for receives, (low, high) in {1: (1, 1), 2: (1, 2), 3: (2, 4), 5: (8, 16)}.items():
        assert all(low <= retry_delay(receives) <= high for _ in range(50))
    assert len({retry_delay(5) for _ in range(50)}) > 1  # jitter: jobs that failed together come back apart
    assert all(MAX_RETRY_DELAY / 2 <= retry_delay(30) <= MAX_RETRY_DELAY for _ in range(20))
