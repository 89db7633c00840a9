"""The local stack's changes to moto's SQS cost less and answer as moto does: counts, receives, deletes by handle."""
from __future__ import annotations

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from local import motofixes

COUNTS = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible", "ApproximateNumberOfMessagesDelayed"]


@pytest.fixture
def sqs(monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-south-1")
    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB"):
        monkeypatch.delenv(name, raising=False)
    motofixes.apply()
    with mock_aws():
        client = boto3.client("sqs", aws_access_key_id="x", aws_secret_access_key="x")
        url = client.create_queue(QueueName="work", Attributes={"VisibilityTimeout": "30"})["QueueUrl"]
        yield client, url


def counts(client, url) -> list[int]:
    attributes = client.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    return [int(attributes[name]) for name in COUNTS]


def receive(client, url, most: int = 10, wait: int = 0) -> list[dict]:
    return client.receive_message(QueueUrl=url, MaxNumberOfMessages=most, WaitTimeSeconds=wait).get("Messages", [])


def test_a_receive_takes_what_it_asks_for_in_order_and_the_counts_follow(sqs):
    client, url = sqs
    for number in range(25):
        client.send_message(QueueUrl=url, MessageBody=str(number))
    client.send_message(QueueUrl=url, MessageBody="later", DelaySeconds=60)
    assert counts(client, url) == [25, 0, 1]

    first = receive(client, url)
    assert [m["Body"] for m in first] == [str(n) for n in range(10)]
    assert counts(client, url) == [15, 10, 1]
    assert [m["Body"] for m in receive(client, url, most=3)] == ["10", "11", "12"]


def test_a_delete_finds_its_message_by_any_handle_it_was_given_and_refuses_a_made_up_one(sqs):
    client, url = sqs
    for body in ("a", "b", "c"):
        client.send_message(QueueUrl=url, MessageBody=body)
    [a, b, c] = receive(client, url)
    client.change_message_visibility(QueueUrl=url, ReceiptHandle=b["ReceiptHandle"], VisibilityTimeout=0)
    [again] = receive(client, url, most=1)
    assert again["Body"] == "b" and again["ReceiptHandle"] != b["ReceiptHandle"]

    answer = client.delete_message_batch(QueueUrl=url, Entries=[
        {"Id": "a", "ReceiptHandle": a["ReceiptHandle"]},
        {"Id": "b-old", "ReceiptHandle": b["ReceiptHandle"]},  # an earlier handle of a message still names it
        {"Id": "made-up", "ReceiptHandle": "not-a-handle"}])
    assert sorted(s["Id"] for s in answer["Successful"]) == ["a", "b-old"]
    assert [(f["Id"], f["Code"]) for f in answer["Failed"]] == [("made-up", "ReceiptHandleIsInvalid")]
    client.delete_message(QueueUrl=url, ReceiptHandle=a["ReceiptHandle"])  # deleted already: no error, as SQS
    assert counts(client, url) == [0, 1, 0]  # c only, still invisible

    client.change_message_visibility(QueueUrl=url, ReceiptHandle=c["ReceiptHandle"], VisibilityTimeout=0)
    assert [m["Body"] for m in receive(client, url)] == ["c"]


def test_a_handle_of_another_queue_deletes_nothing_here(sqs):
    client, url = sqs
    other = client.create_queue(QueueName="other")["QueueUrl"]
    client.send_message(QueueUrl=url, MessageBody="mine")
    client.send_message(QueueUrl=other, MessageBody="theirs")
    [theirs] = receive(client, other)
    with pytest.raises(ClientError) as refused:
        client.delete_message(QueueUrl=url, ReceiptHandle=theirs["ReceiptHandle"])
    assert refused.value.response["Error"]["Code"] == "ReceiptHandleIsInvalid"
    assert counts(client, url) == [1, 0, 0] and counts(client, other) == [0, 1, 0]


def test_a_long_poll_of_an_empty_queue_waits_and_answers_nothing(sqs):
    client, url = sqs
    assert receive(client, url, wait=1) == []
