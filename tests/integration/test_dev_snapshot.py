"""make dev's snapshot: what one moto held (items, photos, queued messages) comes back in an empty one."""
from __future__ import annotations

import json
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from chalicelib.resources import BUCKETS, QUEUES, TABLES
from local.bootstrap import create_all
from local.devserver import _wait_for_port, free_port
from local.snapshot import Clients, Snapshot

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def moto_servers(monkeypatch):
    """Empty moto servers, each in a process of its own (moto's state is per process: one in this process would
    share the session stack's), with make dev's tables, queues and bucket."""
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                        "AWS_DEFAULT_REGION": "eu-south-1"}.items():  # what the session's stack sets too
        monkeypatch.setenv(name, value)
    started = []

    def start() -> Clients:
        port = free_port()
        started.append(subprocess.Popen([sys.executable, "-m", "local.motoserver", "--port", str(port)], cwd=ROOT))
        _wait_for_port("127.0.0.1", port, "moto")
        clients = Clients(f"http://127.0.0.1:{port}")
        create_all(clients=clients)
        return clients
    yield start
    for server in started:
        server.terminate()
        server.wait(timeout=10)


def put_some_data(clients: Clients) -> None:
    clients.dynamodb.put_item(TableName=TABLES["reports"].name, Item={
        "tenant_id": {"S": "demo"}, "report_id": {"S": "2026-0000001"}, "text": {"S": "Buca"},
        "version": {"N": "3"}, "raw": {"B": b"\x00\x01"}, "events": {"L": [{"M": {"to": {"S": "triaged"}}}]}})
    clients.dynamodb.put_item(TableName=TABLES["counters"].name, Item={
        "counter_key": {"S": "reports#demo#2026"}, "value": {"N": "1"}})
    clients.s3.put_object(Bucket=BUCKETS["media"].name, Key="tenants/demo/reports/1/photo.jpg", Body=b"\xff\xd8jpeg",
                          ContentType="image/jpeg", Metadata={"report": "2026-0000001"})
    inbound = clients.sqs.get_queue_url(QueueName=QUEUES["inbound"].name)["QueueUrl"]
    clients.sqs.send_message(QueueUrl=inbound, MessageBody=json.dumps({"media": "m1"}), MessageAttributes={
        "kind": {"DataType": "String", "StringValue": "refetch"}})
    dead = clients.sqs.get_queue_url(QueueName=QUEUES["outbound"].dlq_name)["QueueUrl"]
    clients.sqs.send_message(QueueUrl=dead, MessageBody="a job that kept failing")


def queued(clients: Clients, name: str) -> list[tuple[str, dict]]:
    url = clients.sqs.get_queue_url(QueueName=name)["QueueUrl"]
    messages = clients.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"],
                                           WaitTimeSeconds=0).get("Messages", [])
    return [(m["Body"], m.get("MessageAttributes", {})) for m in messages]


def test_items_photos_and_queued_messages_come_back_in_an_empty_moto(tmp_path, moto_servers):
    before = moto_servers()
    put_some_data(before)
    assert Snapshot(tmp_path, before).take(queues=True)

    after = moto_servers()
    counts = Snapshot(tmp_path, after).restore()
    assert counts == {"items": 2, "objects": 1, "messages": 2}
    report = after.dynamodb.get_item(TableName=TABLES["reports"].name,
                                     Key={"tenant_id": {"S": "demo"}, "report_id": {"S": "2026-0000001"}})["Item"]
    assert report["raw"] == {"B": b"\x00\x01"} and report["version"] == {"N": "3"}
    photo = after.s3.get_object(Bucket=BUCKETS["media"].name, Key="tenants/demo/reports/1/photo.jpg")
    metadata = {name.lower(): value for name, value in photo["Metadata"].items()}  # waitress capitalises them
    assert (photo["Body"].read(), photo["ContentType"], metadata) == (
        b"\xff\xd8jpeg", "image/jpeg", {"report": "2026-0000001"})
    assert queued(after, QUEUES["inbound"].name) == [
        ('{"media": "m1"}', {"kind": {"DataType": "String", "StringValue": "refetch"}})]
    assert [body for body, _ in queued(after, QUEUES["outbound"].dlq_name)] == ["a job that kept failing"]


def test_the_snapshot_is_for_its_owner_only(tmp_path, moto_servers):
    clients = moto_servers()
    put_some_data(clients)
    Snapshot(tmp_path / "data", clients).take()
    assert stat.S_IMODE((tmp_path / "data").stat().st_mode) == 0o700  # photos and numbers, even made-up ones


def test_the_sessions_stack_starts_empty_and_keeps_nothing(stack):
    """tests/conftest.py's stack: no folder to keep data in, nothing restored, no snapshot thread."""
    assert stack.data_dir is None and stack.snapshot is None
    assert stack.restored == {"items": 0, "objects": 0, "messages": 0}
    assert "snapshot" not in [thread.name for thread in stack.threads]


def test_a_periodic_snapshot_leaves_queued_messages_to_the_consumers(tmp_path, moto_servers):
    clients = moto_servers()
    put_some_data(clients)
    assert Snapshot(tmp_path, clients).take()
    assert len(queued(clients, QUEUES["inbound"].name)) == 1  # still there for the pollers


def test_an_unchanged_store_is_not_written_again_and_a_deleted_photo_leaves_the_disk(tmp_path, moto_servers):
    clients = moto_servers()
    put_some_data(clients)
    snapshot = Snapshot(tmp_path, clients)
    assert snapshot.take()
    assert not snapshot.take()  # nothing changed since
    assert len(list((tmp_path / "objects").iterdir())) == 1
    clients.s3.delete_object(Bucket=BUCKETS["media"].name, Key="tenants/demo/reports/1/photo.jpg")  # an erasure
    assert snapshot.take()
    assert list((tmp_path / "objects").iterdir()) == []  # erased photos do not linger in .local/


def test_no_snapshot_restores_nothing(tmp_path, moto_servers):
    assert Snapshot(tmp_path / "never-written", moto_servers()).restore() == {"items": 0, "objects": 0, "messages": 0}
