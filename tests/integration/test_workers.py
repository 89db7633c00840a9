"""Queue consumers as Lambda runs them: per-record failures, redelivery, dead letters, the DLQ watch."""
from __future__ import annotations

import uuid

import boto3
from chalice.local import LambdaContext

from local.runner import Schedule
from tests.integration.conftest import BROADCAST, text_payload
from tests.waiting import wait_for


def sqs_event(bodies: list[str]) -> dict:
    return {"Records": [{
        "messageId": str(uuid.uuid4()), "receiptHandle": "r", "body": body, "attributes": {},
        "messageAttributes": {}, "md5OfBody": "", "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:eu-south-1:123456789012:filo-local-inbound", "awsRegion": "eu-south-1",
    } for body in bodies]}


def test_one_failing_record_does_not_fail_the_others(stack, new_phone):
    first, second = new_phone(), new_phone()
    event = sqs_event([
        text_payload(BROADCAST, first.e164[1:], "AIUTO", f"wamid.{uuid.uuid4().hex}").decode(),
        "this is not a webhook payload",
        text_payload(BROADCAST, second.e164[1:], "AIUTO", f"wamid.{uuid.uuid4().hex}").decode(),
    ])
    result = stack.app.handler_map["inbound_worker"](event, LambdaContext("inbound_worker", 512, 60_000))
    assert result == {"batchItemFailures": [{"itemIdentifier": event["Records"][1]["messageId"]}]}
    assert len(first.wait_inbox(1)) == 1 and len(second.wait_inbox(1)) == 1
    # the same batch again: the good records are replayed from the idempotency store, not handled twice
    result = stack.app.handler_map["inbound_worker"](event, LambdaContext("inbound_worker", 512, 60_000))
    assert len(result["batchItemFailures"]) == 1
    assert len(first.settle(1.0)) == 1 and len(second.inbox()) == 1


def test_poison_message_ends_in_the_dead_letter_queue_and_is_reported(stack, new_phone):
    sqs = boto3.client("sqs")
    url = sqs.get_queue_url(QueueName="filo-local-inbound")["QueueUrl"]
    dlq = sqs.get_queue_url(QueueName="filo-local-inbound-dlq")["QueueUrl"]
    good = new_phone()
    poison = f'{{"poison": "{uuid.uuid4().hex}"}}'
    sqs.send_message_batch(QueueUrl=url, Entries=[
        {"Id": "good", "MessageBody": text_payload(BROADCAST, good.e164[1:], "AIUTO",
                                                   f"wamid.{uuid.uuid4().hex}").decode()},
        {"Id": "poison", "MessageBody": poison},
    ])

    def dead_letters():
        messages = sqs.receive_message(QueueUrl=dlq, MaxNumberOfMessages=10, WaitTimeSeconds=1,
                                       VisibilityTimeout=0).get("Messages", [])
        return [m for m in messages if m["Body"] == poison]

    (dead,) = wait_for(dead_letters, timeout=30, interval=0.5)
    assert len(good.inbox()) == 1  # handled once, while the poison message came back five times
    watch = next(t for t in stack.threads if isinstance(t, Schedule) and t.config.name == "watch_dead_letters")
    assert watch.fire()["inbound"] >= 1
    sqs.delete_message(QueueUrl=dlq, ReceiptHandle=dead["ReceiptHandle"])


def test_a_message_found_on_the_statuses_queue_goes_on_to_the_inbound_worker(stack, new_phone):
    """The webhook queues a body of statuses alone apart (the status worker, in batches of 100); should a body with
    a message reach that queue, it is passed on, and the citizen is answered as ever."""
    sqs = boto3.client("sqs")
    statuses = sqs.get_queue_url(QueueName="filo-local-statuses")["QueueUrl"]
    citizen = new_phone()
    sqs.send_message(QueueUrl=statuses, MessageBody=text_payload(
        BROADCAST, citizen.e164[1:], "AIUTO", f"wamid.{uuid.uuid4().hex}").decode())
    assert len(citizen.wait_inbox(1, timeout=15)) == 1
    assert len(citizen.settle(1.0)) == 1
