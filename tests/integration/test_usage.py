"""The usage and cost meter over HTTP: a broadcast to subscribers inside and outside the 24-hour window, then the
meter's counts equal the sandbox's own record of template and free-form messages and its billable statuses; the
cost is counts x prices; a month boundary in Italy; the price table's validation, roles and audit."""
from __future__ import annotations

import json
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import boto3
import pytest
import requests

from chalicelib.domain.tenancy import Channel
from chalicelib.domain.usage import month_of
from chalicelib.providers.base import Text
from chalicelib.services import clock
from chalicelib.services.messaging import outbound
from chalicelib.store import audit, deliveries, directory, dynamo, queues
from local.seed import TEMPLATES, template_setting
from tests.integration.conftest import Phone
from tests.integration.test_fault_matrix import _contains, aws_fault, first_attempt
from tests.integration.test_send_durability import VALIDATION
from tests.waiting import wait_for

_numbers = iter(range(1, 10_000))


def number() -> str:
    return f"+39 347 750 {next(_numbers):04d}"


class Comune:
    """A comune of its own with one broadcast channel (ids from 75...), so the meter's counts are exact."""

    def __init__(self, stack):
        n = uuid.uuid4().int % 10**9
        self.stack, self.tenant, self.channel = stack, f"75consumi{n}", f"75{n:013d}"
        directory.save_tenant(self.tenant, f"Comune di Consumi {n}", {
            "privacy_notice_url": "https://example.org/privacy", "privacy_notice_version": "v1"})
        directory.save_channel(Channel(self.channel, self.tenant, "broadcast", "Avvisi", "+39 0571 750000", {
            "rate_per_second": 200, "quiet_hours": {"enabled": False}, "messaging_limit": 2000,
            "templates": {"notice": template_setting("avviso_comune")}}))
        stack.sandbox.add_channel({"phone_number_id": self.channel, "kind": "broadcast", "tenant": self.tenant,
                                   "templates": TEMPLATES})
        self.tokens = {role: stack.issuer.token(self.tenant, [role])
                       for role in ("admin", "communications", "technical", "police")}

    def call(self, method: str, path: str, role: str = "admin", **kwargs) -> requests.Response:
        return requests.request(method, f"{self.stack.api_url}{path}", timeout=30,
                                headers={"Authorization": f"Bearer {self.tokens[role]}"}, **kwargs)

    def usage(self, month: str | None = None, role: str = "admin") -> dict:
        answer = self.call("GET", "/api/v1/usage", role, params={"month": month} if month else {})
        assert answer.status_code == 200, answer.text
        return answer.json()

    def sandbox_messages(self) -> list[dict]:
        return requests.get(f"{self.stack.sandbox_url}/_sandbox/messages", params={"channel": self.channel},
                            timeout=10).json()

    def post_statuses(self, *statuses: tuple[str, str, datetime, str | None, str | None]) -> None:
        """Status webhooks as Meta posts them, in one signed post through the sandbox: (message id, status,
        when, pricing category, pricing type; None: no pricing); each echoes the callback data a send of ours sets
        (its delivery, self.delivery)."""
        items = [{"id": message_id, "status": status, "timestamp": str(int(at.timestamp())),
                  "recipient_id": "393477509999", "biz_opaque_callback_data": "|".join(self.delivery(message_id))}
                 | ({"pricing": {"billable": kind == "regular", "pricing_model": "PMP", "type": kind,
                                 "category": category}} if category else {})
                 for message_id, status, at, category, kind in statuses]
        body = {"object": "whatsapp_business_account", "entry": [{"id": "750", "changes": [{"field": "messages", "value": {
            "messaging_product": "whatsapp", "metadata": {"display_phone_number": "390571750000",
                                                          "phone_number_id": self.channel},
            "statuses": items}}]}]}
        answer = requests.post(f"{self.stack.sandbox_url}/_sandbox/raw", json={"body": body}, timeout=10)
        assert answer.json()["webhook_status"] == 200, answer.text

    def delivery(self, message_id: str) -> tuple[str, str]:
        """The delivery record (job key, recipient) a status of `message_id` applies to."""
        return f"{self.tenant}.{message_id}", "+393477509999"

    def status_of(self, message_id: str) -> str | None:
        found = deliveries.get(*self.delivery(message_id))
        return found.status if found else None


@pytest.fixture
def comune(stack):
    return Comune(stack)


PRICES = {"valid_from": "2025-07-01", "currency": "EUR", "service": 0, "utility": 0.0258, "marketing": 0.0592,
          "authentication": 0.0258, "source": "test"}


def test_a_broadcast_is_metered_as_the_sandbox_counted_it(stack, comune):
    assert comune.call("PUT", "/api/v1/usage/prices", json=PRICES).status_code == 200
    outside = [number() for _ in range(4)]
    rows = "phone,hamlets,topics\n" + "".join(f"{p},,\n" for p in outside)
    imported = requests.post(f"{stack.api_url}/api/v1/subscribers/import", params={"channel": comune.channel},
                             data=rows.encode(), timeout=60, headers={
                                 "Authorization": f"Bearer {comune.tokens['communications']}", "Content-Type": "text/csv"})
    assert imported.json()["summary"]["error"] == 0, imported.text
    inside = [Phone(stack, comune.channel, number()) for _ in range(2)]
    for talker in inside:  # they wrote: their 24-hour window is open, the broadcast reaches them as free text
        talker.text("ATTIVA")
        talker.wait_inbox(1)
        talker.tap("sub:confirm")
        talker.wait_inbox(2)
    created = comune.call("POST", "/api/v1/broadcasts", "communications",
                          json={"channel": comune.channel, "text": "Mercato spostato in piazza"})
    assert created.status_code == 201, created.text
    wait_for(lambda: comune.call("GET", f"/api/v1/broadcasts/{created.json()['id']}", "communications"
                                 ).json()["status"] == "completed", timeout=30)

    sent = comune.sandbox_messages()
    templates = [m for m in sent if m["type"] == "template"]
    free_form = [m for m in sent if m["type"] != "template"]
    assert len(templates) == 4 and len(free_form) >= 2 + 2  # the broadcast, and the subscription's replies
    charged = wait_for(lambda: (lambda s: s if all(m["status"] != "accepted" for m in s) else None)(
        comune.sandbox_messages()), timeout=20)
    billable_by_sandbox = sum(m["pricing"]["billable"] for m in charged)
    assert billable_by_sandbox == 4  # the templates outside the window; free-form replies are free

    month = month_of(datetime.now(UTC))
    meter = wait_for(lambda: (u := comune.usage(month))["channels"][0]["billable_total"] == 4 and u, timeout=20)
    (row,) = meter["channels"]
    assert row["channel"] == comune.channel and row["tier"] == "TIER_2K" and row["messaging_limit"] == 2000
    assert row["sent"] == {"service": len(free_form), "utility": len(templates), "marketing": 0, "authentication": 0}
    assert row["billable"] == {"service": 0, "utility": 4, "marketing": 0, "authentication": 0}
    assert row["estimated_cost"] == float(Decimal("0.0258") * 4)
    assert meter["totals"]["estimated_cost"] == row["estimated_cost"] and meter["prices"]["valid_from"] == "2025-07-01"
    # the communications office reads it too (the broadcast channels); the technical office does not
    assert comune.usage(month, "communications")["channels"][0]["sent"] == row["sent"]
    assert comune.call("GET", "/api/v1/usage", "technical").status_code == 403


def test_billable_messages_count_in_the_italian_month_they_were_delivered_once(comune):
    assert comune.call("PUT", "/api/v1/usage/prices", json=PRICES).status_code == 200
    assert comune.call("PUT", "/api/v1/usage/prices", json={**PRICES, "valid_from": "2026-10-01",
                                                              "marketing": 0.07}).status_code == 200
    october = datetime(2026, 10, 31, 22, 30, tzinfo=UTC)  # 23:30 in Rome: still October
    november = datetime(2026, 10, 31, 23, 30, tzinfo=UTC)  # 00:30 on 1 November in Rome
    comune.post_statuses(
        ("wamid.usage-oct", "delivered", october, "marketing", "regular"),
        ("wamid.usage-nov", "delivered", november, "marketing", "regular"),
        ("wamid.usage-nov", "read", november, "marketing", "regular"),  # its pricing again: counted once
        ("wamid.usage-free", "delivered", november, "utility", "free_customer_service"),  # not charged
        ("wamid.usage-sent", "sent", november, "marketing", "regular"),  # not delivered (yet): not charged
        ("wamid.usage-last", "delivered", november, "authentication", "regular"))  # the batch's last
    comune.post_statuses(("wamid.usage-nov", "delivered", november, "marketing", "regular"))  # redelivered
    comune.post_statuses(("wamid.usage-oct", "read", october, "marketing", "regular"))  # later news of a counted one
    comune.post_statuses(("wamid.usage-end", "delivered", november, "authentication", "regular"))
    nov = wait_for(lambda: (u := comune.usage("2026-11"))["totals"]["billable"]["authentication"] == 2 and u,
                   timeout=20)
    assert nov["totals"]["billable"] == {"service": 0, "utility": 0, "marketing": 1, "authentication": 2}
    assert nov["totals"]["estimated_cost"] == round(0.07 + 2 * 0.0258, 4)
    assert nov["prices"]["valid_from"] == "2026-10-01"
    oct_ = comune.usage("2026-10")
    assert oct_["totals"]["billable"]["marketing"] == 1 and oct_["totals"]["estimated_cost"] == 0.07
    # a month before the newer table keeps the table then in force
    assert comune.usage("2026-09")["prices"]["valid_from"] == "2025-07-01"


def test_a_charged_message_is_counted_once_whatever_order_its_statuses_come_in(stack, comune):
    """SQS and two status consumers do not keep order: a `read` without pricing, or a `failed` from another of the
    person's devices, can be applied before the priced `delivered` of the same message, which then moves nothing."""
    now = datetime.now(UTC)
    comune.post_statuses(("wamid.usage-late", "read", now, None, None),
                         ("wamid.usage-other-phone", "failed", now, None, None))  # another of the person's devices
    wait_for(lambda: comune.status_of("wamid.usage-late") == "read")
    wait_for(lambda: comune.status_of("wamid.usage-other-phone") == "failed")
    comune.post_statuses(("wamid.usage-late", "delivered", now, "utility", "regular"),
                         ("wamid.usage-other-phone", "delivered", now, "utility", "regular"))
    month = month_of(now)
    wait_for(lambda: comune.usage(month)["totals"]["billable"]["utility"] == 2, timeout=20)
    # its priced statuses again (Meta retries a webhook it thinks was lost), beside a message delivered now
    comune.post_statuses(("wamid.usage-late", "delivered", now, "utility", "regular"),
                         ("wamid.usage-late", "read", now, "utility", "regular"),
                         ("wamid.usage-next", "delivered", now, "utility", "regular"))
    comune.post_statuses(("wamid.usage-late", "delivered", now, "utility", "regular"))
    wait_for(lambda: comune.status_of("wamid.usage-next") == "delivered")
    wait_for(lambda: statuses_in_flight() == 0, timeout=20)
    assert comune.usage(month)["totals"]["billable"]["utility"] == 3


def statuses_in_flight() -> int:
    """Status webhooks queued or being applied right now."""
    attributes = boto3.client("sqs").get_queue_attributes(QueueUrl=queues.queue_url("statuses"), AttributeNames=["All"])
    return sum(int(attributes["Attributes"][name])
               for name in ("ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"))


@pytest.mark.parametrize("change, field", [
    ({"utility": -0.01}, "utility"), ({"marketing": 11}, "marketing"), ({"valid_from": "2026-10-15"}, "valid_from"),
    ({"valid_from": "ottobre"}, "valid_from"), ({"currency": "euro"}, "currency"), ({"marketing": "0.05"}, "marketing"),
    ({"discount": 1}, "discount"),
])
def test_a_bad_price_table_is_a_422_naming_the_field_and_changes_nothing(comune, change, field):
    answer = comune.call("PUT", "/api/v1/usage/prices", json={**PRICES, **change})
    assert answer.status_code == 422, answer.text
    assert field in [d["field"] for d in answer.json()["error"]["details"]]
    assert comune.call("GET", "/api/v1/usage/prices").json() == {"tables": [], "current": None}


def test_price_tables_keep_their_history_and_every_change_is_audited(comune):
    assert comune.call("PUT", "/api/v1/usage/prices", "communications", json=PRICES).status_code == 403
    assert comune.call("PUT", "/api/v1/usage/prices", json=PRICES).status_code == 200
    newer = {**PRICES, "valid_from": "2026-10-01", "marketing": 0.0615, "source": "rate card Oct 2026"}
    assert comune.call("PUT", "/api/v1/usage/prices", json=newer).status_code == 200
    fixed = {**newer, "marketing": 0.062}
    tables = comune.call("PUT", "/api/v1/usage/prices", json=fixed).json()
    assert [t["valid_from"] for t in tables["tables"]] == ["2026-10-01", "2025-07-01"]
    assert tables["tables"][0]["marketing"] == 0.062
    assert comune.call("GET", "/api/v1/usage/prices", "communications").json() == tables
    changes = [e for e in audit.recent(comune.tenant) if e.action == "usage.prices.update"]
    assert len(changes) == 3
    latest = changes[0]
    assert latest.target == "prices:2026-10-01" and latest.actor_name
    assert json.loads(json.dumps(latest.before))["marketing"] == 0.0615
    assert latest.after["marketing"] == 0.062 and changes[-1].before is None


def test_a_month_is_yyyy_mm_and_the_export_has_the_channels(comune):
    answer = comune.call("GET", "/api/v1/usage", params={"month": "2026-13"})
    assert answer.status_code == 422 and answer.json()["error"]["details"][0]["field"] == "month"
    exported = comune.call("GET", "/api/v1/exports/usage", params={"month": "2026-11", "format": "csv"})
    assert exported.status_code == 200 and "consumi" in exported.headers["Content-Disposition"]
    lines = exported.content.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("Mese;Canale;") and "Costo stimato" in lines[0]
    assert lines[1].startswith(f"2026-11;{comune.channel};Avvisi;2000;")
    assert comune.call("GET", "/api/v1/exports/usage", params={"format": "xlsx"}).status_code == 200
    assert any(e.action == "export.usage" for e in audit.recent(comune.tenant))


# ==== the sender's count: with its settling write, in one transaction ===================================================

def _talker(stack, comune) -> Phone:
    """A citizen who wrote to the comune's channel (their window is open) and was answered: the meter's service
    count then stands still at what it reads."""
    talker = Phone(stack, comune.channel, number())
    talker.text("Buongiorno")
    talker.wait_inbox(1)
    return talker


def _service_sent(comune) -> int:
    figures = comune.usage(month_of(datetime.now(UTC)))["channels"]
    return figures[0]["sent"]["service"] if figures else 0


def _reply(comune, talker: Phone) -> outbound.OutboundJob:
    return outbound.OutboundJob(job_id=f"usage-{uuid.uuid4().hex}", tenant_id=comune.tenant, channel_id=comune.channel,
                                contents=[Text(body="La sua richiesta è stata presa in carico")],
                                recipients=[outbound.JobRecipient(key=talker.e164, phone=talker.e164)])


def test_a_send_is_metered_once_when_the_settling_transaction_fails(stack, comune):
    """The sender's usage count goes with its settling write, in one transaction; when that fails, the two are
    written apart: the message is counted all the same, once."""
    talker = _talker(stack, comune)
    before = wait_for(lambda: _service_sent(comune) or None, timeout=10)
    with aws_fault(dynamo.client(), "before-send.dynamodb.TransactWriteItems", _contains(comune.channel), 400,
                   VALIDATION, pattern=first_attempt) as seen:
        outbound.process_job(_reply(comune, talker))
    assert [hit for _, hit in seen] == [True]  # the transaction refused, then the two writes made apart
    assert len(talker.wait_inbox(2)) == 2
    assert _service_sent(comune) == before + 1


def test_a_send_is_metered_once_when_its_run_lost_the_lease_before_settling(stack, comune):
    """A run whose lease another run took over while it was sending cannot settle (the other counts its results),
    but the message it sent is its own to meter: counted alone, once."""
    talker = _talker(stack, comune)
    before = wait_for(lambda: _service_sent(comune) or None, timeout=10)
    job = _reply(comune, talker)
    stack.sandbox.configure(send_script={talker.e164: [{"delay": 1.5}]})
    try:
        run = threading.Thread(target=outbound.process_job, args=(job,))
        run.start()
        time.sleep(0.7)  # the send is on its way: the lease is taken over as if it had lapsed
        assert deliveries.lease(job.job_id, "another-run", clock.now() + deliveries.LEASE + timedelta(seconds=1)).taken
        run.join()
    finally:
        stack.sandbox.configure(send_script={})
    assert deliveries.get(job.job_id, talker.e164).status == "sent"
    assert _service_sent(comune) == before + 1
