"""Meta's error codes that stop or slow a number (issue 13, docs/reliability.md rows E1-E4), one test per class:
the sandbox answers the code as Meta does (its HTTP status, its title), and the test asserts what staff and
citizens see - a broadcast paused with the reason instead of failing its audience one by one, a recipient
refused alone, a recipient that waits while the others go on.

Every test prints one line of figures ("[fault-matrix] E1 ..."): run with -s to read them.
"""
from __future__ import annotations

import time
import uuid

import pytest

# The module pytest collected (no __init__.py: named `test_fault_matrix`), so both files share one counter of towns
# and numbers; imported as tests.integration.test_fault_matrix it would be a second copy whose towns collide.
from test_fault_matrix import Town, figures, fresh, scripted

from chalicelib.providers.base import Text
from chalicelib.services.broadcasts import fanout
from chalicelib.services.messaging import outbound
from chalicelib.settings import get_settings
from tests.integration.conftest import BROADCAST
from tests.waiting import wait_for


@pytest.fixture
def sandbox(stack):
    """The sandbox, with the knobs these tests turn back to normal after each, whatever happened."""
    yield stack.sandbox
    stack.sandbox.configure(recipient_errors={}, send_script={}, status_errors={})

AUDIENCE = 20  # more than the sends one consumer has in flight (outbound.SEND_THREADS)

# code -> words of Meta's title that the pause reason carries (support/error-codes)
STOPS_THE_NUMBER = {
    131048: "Spam rate limit hit",
    131045: "Incorrect certificate",
    133016: "Account register deregister rate limit exceeded",
    132068: "Flow is blocked",
    132069: "Flow is throttled",
}


@pytest.mark.parametrize("code", list(STOPS_THE_NUMBER))
def test_e1_a_code_that_stops_the_number_pauses_the_broadcast_with_its_reason(stack, sandbox, code):
    town = Town(stack)
    phones = [town.phone(n) for n in range(1, AUDIENCE + 1)]
    town.subscribe(phones)
    sandbox.configure(send_script={p.e164: [code] * 3 for p in phones})  # every send from the number answers it
    before = scripted(sandbox)
    created = town.broadcast("Avviso: strada chiusa per frana")
    paused = town.wait_broadcast(created["id"], status="paused")
    time.sleep(1.0)  # sends still in flight when it paused have answered
    attempts = scripted(sandbox) - before
    counters = paused["counters"]
    assert str(code) in paused["pause_reason"] and STOPS_THE_NUMBER[code] in paused["pause_reason"]
    assert (counters["sent"], counters["failed"], counters["failed_by_reason"]) == (0, 0, {})  # nobody failed
    assert attempts <= outbound.SEND_THREADS < AUDIENCE  # one wave of sends at most, not the whole audience
    assert all(p.inbox() == [] for p in phones)
    sandbox.configure(send_script={})  # staff fixed it: resume sends to everyone, once
    assert town.call("POST", f"/api/v1/broadcasts/{created['id']}/resume").status_code == 200
    done = town.wait_broadcast(created["id"])
    assert done["counters"]["sent"] == AUDIENCE and done["counters"]["failed"] == 0
    assert all(len(p.inbox()) == 1 for p in phones)
    figures("E1", code=code, audience=AUDIENCE, attempts_before_pause=attempts, failed=counters["failed"],
            reason=repr(paused["pause_reason"][:70]), resumed_sent=done["counters"]["sent"])


def test_e2_a_country_restriction_130497_refuses_that_recipient_only(stack, sandbox):
    town = Town(stack)
    abroad, *home = [town.phone(n) for n in range(1, 5)]
    town.subscribe([abroad, *home])
    sandbox.configure(recipient_errors={abroad.e164: 130497})  # Meta answers it with HTTP 403
    before = sandbox.stats()["rejected"]
    done = town.wait_broadcast(town.broadcast("Mercato spostato in piazza")["id"])
    counters = done["counters"]
    assert done["status"] == "completed" and not done["pause_reason"]
    assert (counters["sent"], counters["failed"], counters["failed_by_reason"]) == (3, 1, {"130497": 1})
    assert abroad.settle(1.0) == [] and all(len(p.inbox()) == 1 for p in home)
    figures("E2", code=130497, http_status=403, sent=counters["sent"], failed_by_reason=counters["failed_by_reason"],
            status=done["status"], attempts_to_it=sandbox.stats()["rejected"] - before)


def test_e3_pair_rate_limit_131056_defers_that_recipient_and_holds_nobody_else(stack, sandbox):
    limited = [fresh(stack) for _ in range(outbound.SEND_THREADS)]  # as many as the sends a consumer has in flight
    others = [fresh(stack) for _ in range(4)]
    sandbox.configure(send_script={p.e164: [{"code": 131056}] * 2 for p in limited})
    before = scripted(sandbox)
    job = outbound.OutboundJob(job_id=f"pair-{uuid.uuid4().hex}", tenant_id="demo", channel_id=BROADCAST,
                               contents=[Text(body="Mercato spostato")],
                               recipients=[outbound.JobRecipient(key=p.e164, phone=p.e164) for p in limited + others])
    started = time.time()
    outbound.enqueue(job)
    first = [p.wait_inbox(1)[0]["time"] for p in others]
    refused_meanwhile = scripted(sandbox) - before
    late = [p.wait_inbox(1, timeout=40)[0]["time"] for p in limited]
    # one try each before the others went: nobody waited behind a pair-limited recipient's retries
    assert refused_meanwhile == len(limited)
    assert min(late) - max(first) >= 0.5  # the refused ones came back later, through the queue's backoff
    assert scripted(sandbox) - before == 2 * len(limited)  # both refusals played, no extra attempt
    assert all(len(p.settle(0.5)) == 1 for p in limited + others)  # each once: 0 lost, 0 duplicates
    figures("E3", code=131056, limited=len(limited), others=len(others),
            others_sent_after_s=round(max(first) - started, 2), refused_before_others_sent=refused_meanwhile,
            limited_sent_after_s=round(max(late) - started, 1), attempts_per_limited=3, duplicates=0)


def test_e4_a_code_that_stops_the_number_in_a_failed_status_webhook_pauses_the_broadcast(stack, sandbox):
    """Meta reports many refusals asynchronously: the send is accepted, then a `failed` status carries the code."""
    audience, chunk, consumers = 200, fanout.CHUNK_SIZE, get_settings().outbound_consumers
    town = Town(stack, rate_per_second=20)  # 40 recipients take a consumer 4 s: the status comes back meanwhile
    phones = [town.phone(n) for n in range(1, audience + 1)]
    town.subscribe(phones)
    sandbox.configure(status_errors={p.e164: 131048 for p in phones})
    started = time.time()
    created = town.broadcast("Avviso: acqua non potabile")
    town.wait_broadcast(created["id"], status="paused", timeout=40)
    paused_after = time.time() - started
    final = wait_for(lambda: (b := town.call("GET", f"/api/v1/broadcasts/{created['id']}").json())["counters"]["failed"]
                     == b["counters"]["sent"] and b, timeout=30)  # the chunks already running end, and report
    counters = final["counters"]
    assert final["status"] == "paused" and "131048" in final["pause_reason"]
    assert "Spam rate limit hit" in final["pause_reason"]
    assert counters["sent"] <= consumers * chunk < audience  # the chunks not yet started were not sent
    assert counters["failed_by_reason"] == {"131048": counters["failed"]}
    figures("E4", code=131048, audience=audience, paused_after_s=round(paused_after, 1), sent_then_failed=counters["sent"],
            never_sent=audience - counters["sent"], bound=f"{consumers}x{chunk}")
