"""The local pollers hand a consumer its batches as Lambda's event source mapping would: a batch larger than one
ReceiveMessage (10) is gathered for up to the batching window."""
from __future__ import annotations

import threading

import boto3
import pytest
from chalice import Chalice
from moto import mock_aws

from local import motofixes
from local.runner import QueuePoller


@pytest.fixture
def queue(monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-south-1")
    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "x")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "x")
    motofixes.apply()
    with mock_aws():
        sqs = boto3.client("sqs")
        yield sqs, sqs.create_queue(QueueName="work")["QueueUrl"]


def consumer(batch_size: int, window: int) -> tuple[Chalice, list[list[str]]]:
    app, batches = Chalice(app_name="runner-test"), []

    @app.on_sqs_message(queue="work", batch_size=batch_size, maximum_batching_window_in_seconds=window)
    def work(event):
        batches.append([record.body for record in event])
        return {"batchItemFailures": []}

    return app, batches


def poll(app: Chalice, sqs, url: str) -> QueuePoller:
    [source] = app.event_sources
    poller = QueuePoller(app, source, threading.Event())
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    poller.poll_once(sqs, url, arn)
    return poller


def depth(sqs, url: str) -> int:
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])
    return int(attributes["Attributes"]["ApproximateNumberOfMessages"])


def send(sqs, url: str, count: int) -> None:
    for start in range(0, count, 10):
        sqs.send_message_batch(QueueUrl=url, Entries=[
            {"Id": str(n), "MessageBody": str(n)} for n in range(start, min(start + 10, count))])


def test_a_batch_of_100_is_gathered_from_several_receives_and_deleted_when_handled(queue):
    sqs, url = queue
    send(sqs, url, 130)
    app, batches = consumer(batch_size=100, window=1)
    poller = poll(app, sqs, url)
    assert [len(b) for b in batches] == [100] and batches[0] == [str(n) for n in range(100)]
    assert poller.handled == 100 and depth(sqs, url) == 30


@pytest.mark.parametrize("batch_size,window,handed,left", [
    (100, 1, 25, 0),  # the window ends with less than a batch: what came is handed over
    (10, 0, 10, 15),  # no window: a batch is one receive
])
def test_a_batch_is_what_came_within_its_window_or_one_receive_without_one(queue, batch_size, window, handed, left):
    sqs, url = queue
    send(sqs, url, 25)
    app, batches = consumer(batch_size=batch_size, window=window)
    poll(app, sqs, url)
    assert [len(b) for b in batches] == [handed] and depth(sqs, url) == left
