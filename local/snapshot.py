"""make dev's data between restarts: DynamoDB items, S3 objects and queued SQS messages under .local/data/.

moto 5.2 keeps everything in memory and has no persistence of its own (its recorder replays every request, SQS
receives and deletes included, which cannot rebuild queues and grows without end). So make dev reads its
data through the AWS API and writes it down: `snapshot.json` (every item, each object's key, type and
metadata, and at a clean stop the queued messages) beside `objects/` (each object's bytes, written once per
version). The next start creates the tables, queues and bucket from resources.py as always, then puts the
data back: a table or index added since is simply there, empty or filled.
"""
from __future__ import annotations

import base64
import functools
import hashlib
import json
import logging
import os
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import boto3

from chalicelib.resources import BUCKETS, QUEUES, TABLES

log = logging.getLogger("filo.local")

FORMAT = 1
MANIFEST = "snapshot.json"
OBJECTS = "objects"
DRAIN_VISIBILITY_SECONDS = 12 * 3600  # a message taken out at a clean stop does not show up again meanwhile
# counters last: a report's number is counted before the report is written, so a snapshot taken while the stack
# runs never holds a report whose number the counter has not reached
TABLE_ORDER = sorted(TABLES, key=lambda logical: logical == "counters")


class Clients:
    """The AWS clients a snapshot uses; by default those of the endpoint the environment names (moto's)."""

    def __init__(self, endpoint_url: str | None = None):
        client = functools.partial(boto3.session.Session().client, endpoint_url=endpoint_url)
        self.dynamodb, self.s3, self.sqs, self.ses = client("dynamodb"), client("s3"), client("sqs"), client("ses")


class Snapshot:
    """The data of make dev's moto, written to a folder and read back into an empty moto."""

    def __init__(self, folder: Path, clients: Clients):
        self.folder, self.clients = Path(folder), clients
        self.manifest, self.objects = self.folder / MANIFEST, self.folder / OBJECTS
        self._lock = threading.Lock()  # the periodic snapshot and the one at stop never write at once
        self._written: str | None = None  # the digest of what the manifest holds
        self._object_info: dict[tuple, dict] = {}  # (bucket, key, etag, modified) -> its manifest entry

    def take(self, queues: bool = False) -> bool:
        """Write the data down; False when nothing changed since the last time. queues=True takes every queued
        message out of its queue, so only once nothing consumes them any more (at a clean stop)."""
        with self._lock:
            self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)  # for its owner: numbers, photos
            content = {"format": FORMAT, "tables": self._tables(), "objects": self._objects(),
                       "queues": self._drain_queues() if queues else {}}
            digest = _digest(content)
            if digest == self._written:
                return False
            _write_atomically(self.manifest, json.dumps({**content, "taken_at": _now()}).encode())
            self._written = digest
            self._forget_unlisted_objects(content["objects"])
            return True

    def restore(self) -> dict[str, int]:
        """Put the last snapshot's data into the (empty) stores; how many items, objects and messages."""
        content = self._read()
        if content is None:
            return {"items": 0, "objects": 0, "messages": 0}
        counts = {"items": self._put_items(content["tables"]), "objects": self._put_objects(content["objects"]),
                  "messages": self._send_messages(content["queues"])}
        self._remember_objects(content["objects"])
        queued = any(content["queues"].values())  # then the first snapshot while running writes them out of it
        self._written = None if queued else _digest({**content, "queues": {}})
        return counts

    def _read(self) -> dict | None:
        try:
            content = json.loads(self.manifest.read_bytes())
        except FileNotFoundError:
            return None
        except ValueError as error:
            raise SystemExit(f"{self.manifest} cannot be read ({error}); start clean with FILO_FRESH=1 make dev") \
                from None
        if content.get("format") != FORMAT:
            raise SystemExit(f"{self.manifest} has format {content.get('format')}, this make dev reads {FORMAT}; "
                             "start clean with FILO_FRESH=1 make dev")
        content.pop("taken_at", None)
        return content

    # DynamoDB

    def _tables(self) -> dict[str, list[dict]]:
        pages = self.clients.dynamodb.get_paginator("scan")
        return {logical: [encode_item(item) for page in pages.paginate(TableName=TABLES[logical].name)
                          for item in page["Items"]] for logical in TABLE_ORDER}

    def _put_items(self, tables: dict[str, list[dict]]) -> int:
        count = 0
        for logical, items in tables.items():
            if logical not in TABLES:
                log.warning("snapshot: table %s is no longer defined; its %d items are left out", logical, len(items))
                continue
            for start in range(0, len(items), 25):
                self._batch_write(TABLES[logical].name, [decode_item(i) for i in items[start:start + 25]])
            count += len(items)
        return count

    def _batch_write(self, table: str, items: list[dict]) -> None:
        requests = {table: [{"PutRequest": {"Item": item}} for item in items]}
        while requests:
            requests = self.clients.dynamodb.batch_write_item(RequestItems=requests).get("UnprocessedItems") or {}

    # S3

    def _objects(self) -> list[dict]:
        return [self._object_entry(logical, listed) for logical, listed in self._listed_objects()]

    def _listed_objects(self):
        """(bucket's logical name, the object as listed) for every object of every bucket."""
        pages = self.clients.s3.get_paginator("list_objects_v2")
        for logical in BUCKETS:
            for page in pages.paginate(Bucket=BUCKETS[logical].name):
                yield from ((logical, listed) for listed in page.get("Contents", []))

    def _object_entry(self, logical: str, listed: dict) -> dict:
        """The manifest entry of one object; its bytes are fetched only when this version is new."""
        version = _version(logical, listed)
        entry = self._object_info.get(version)
        if entry is None or not (self.objects / entry["file"]).exists():
            answer = self.clients.s3.get_object(Bucket=BUCKETS[logical].name, Key=listed["Key"])
            entry = {"bucket": logical, "key": listed["Key"], "content_type": answer.get("ContentType"),
                     "metadata": answer.get("Metadata", {}),
                     "file": hashlib.sha256("\0".join(version).encode()).hexdigest()}
            _write_atomically(self.objects / entry["file"], answer["Body"].read())
            self._object_info[version] = entry
        return entry

    def _put_objects(self, entries: list[dict]) -> int:
        for entry in entries:
            options = {"ContentType": entry["content_type"]} if entry["content_type"] else {}
            self.clients.s3.put_object(Bucket=BUCKETS[entry["bucket"]].name, Key=entry["key"],
                                       Body=(self.objects / entry["file"]).read_bytes(),
                                       Metadata=entry["metadata"], **options)
        return len(entries)

    def _remember_objects(self, entries: list[dict]) -> None:
        """After a restore: the objects just put back are the snapshot's, so their bytes need no new fetch."""
        by_key = {(entry["bucket"], entry["key"]): entry for entry in entries}
        for logical, listed in self._listed_objects():
            if (logical, listed["Key"]) in by_key:
                self._object_info[_version(logical, listed)] = by_key[(logical, listed["Key"])]

    def _forget_unlisted_objects(self, entries: list[dict]) -> None:
        """Bytes no object refers to any more (a photo erased, a version replaced) leave the disk too."""
        listed = {entry["file"] for entry in entries}
        for path in self.objects.glob("*"):
            if path.name not in listed:
                path.unlink(missing_ok=True)
        self._object_info = {k: v for k, v in self._object_info.items() if v["file"] in listed}

    # SQS

    def _queue_names(self) -> dict[str, str]:
        names = {logical: spec.name for logical, spec in QUEUES.items()}
        return {**names, **{f"{logical}-dlq": spec.dlq_name for logical, spec in QUEUES.items()}}

    def _drain_queues(self) -> dict[str, list[dict]]:
        return {logical: self._drain(name) for logical, name in self._queue_names().items()}

    def _drain(self, name: str) -> list[dict]:
        """Every message a receive can see now. One in flight or waiting for a retry is invisible: not kept."""
        url = self.clients.sqs.get_queue_url(QueueName=name)["QueueUrl"]
        taken = []
        while True:
            messages = self.clients.sqs.receive_message(
                QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0, MessageAttributeNames=["All"],
                VisibilityTimeout=DRAIN_VISIBILITY_SECONDS).get("Messages", [])
            if not messages:
                return taken
            taken += [{"body": m["Body"], "attributes": encode_attributes(m.get("MessageAttributes", {}))}
                      for m in messages]

    def _send_messages(self, queues: dict[str, list[dict]]) -> int:
        names, count = self._queue_names(), 0
        for logical, messages in queues.items():
            if logical not in names:
                log.warning("snapshot: queue %s is no longer defined; %d messages left out", logical, len(messages))
                continue
            url = self.clients.sqs.get_queue_url(QueueName=names[logical])["QueueUrl"]
            for start in range(0, len(messages), 10):
                self.clients.sqs.send_message_batch(QueueUrl=url, Entries=[
                    {"Id": str(n), "MessageBody": m["body"], "MessageAttributes": decode_attributes(m["attributes"])}
                    for n, m in enumerate(messages[start:start + 10])])
            count += len(messages)
        return count


class Snapshotter(threading.Thread):
    """Takes a snapshot every `period` seconds while the stack runs (a crash loses at most that much), when
    `changed()` says something may have been written since the last one (without it: every period).

    A snapshot reads every item through the emulator, which shares the stack's cores: with much data (a benchmark's
    thousands of deliveries) one takes a second, and a snapshot every 5 s took a fifth of the process under load.
    So the next one waits at least SPACING times as long as the last one took: snapshots stay under a twentieth of
    the time, and a crash loses at most the period or that wait."""

    SPACING = 20

    def __init__(self, snapshot: Snapshot, period: float, stop: threading.Event,
                 changed: Callable[[], bool] | None = None):
        super().__init__(name="snapshot", daemon=True)
        self.snapshot, self.period, self.stop = snapshot, period, stop
        self.changed = changed or (lambda: True)
        self.wait = period

    def run(self) -> None:
        pending = False
        while not self.stop.wait(self.wait):
            pending = self.changed() or pending
            if pending:
                pending = not self._take()

    def _take(self) -> bool:
        """False when it failed (the next period tries again); the stack goes on either way."""
        started = time.perf_counter()
        try:
            written = self.snapshot.take()
        except Exception:
            log.exception("snapshot failed")
            return False
        took = time.perf_counter() - started
        self.wait = max(self.period, self.SPACING * took)
        log.debug("snapshot %s in %.0f ms", "written" if written else "unchanged", took * 1e3)
        return True


def encode_item(item: dict) -> dict:
    """A DynamoDB item (typed, as the client gives it) as JSON can hold it: binary values in base64."""
    return {name: _encode_value(value) for name, value in item.items()}


def decode_item(item: dict) -> dict:
    return {name: _decode_value(value) for name, value in item.items()}


def _encode_value(value: dict) -> dict:
    (kind, inner), = value.items()
    if kind == "B":
        return {"B": _b64(inner)}
    if kind == "BS":
        return {"BS": [_b64(member) for member in inner]}
    if kind == "M":
        return {"M": encode_item(inner)}
    if kind == "L":
        return {"L": [_encode_value(member) for member in inner]}
    return value


def _decode_value(value: dict) -> dict:
    (kind, inner), = value.items()
    if kind == "B":
        return {"B": base64.b64decode(inner)}
    if kind == "BS":
        return {"BS": [base64.b64decode(member) for member in inner]}
    if kind == "M":
        return {"M": decode_item(inner)}
    if kind == "L":
        return {"L": [_decode_value(member) for member in inner]}
    return value


def encode_attributes(attributes: dict) -> dict:
    """SQS message attributes as ReceiveMessage gives them, ready for JSON and for SendMessage."""
    return {name: {"DataType": value["DataType"], **({"StringValue": value["StringValue"]} if "StringValue" in value
                                                     else {"BinaryValue": _b64(value["BinaryValue"])})}
            for name, value in attributes.items()}


def decode_attributes(attributes: dict) -> dict:
    return {name: {**value, "BinaryValue": base64.b64decode(value["BinaryValue"])} if "BinaryValue" in value
            else value for name, value in attributes.items()}


def _version(logical: str, listed: dict) -> tuple[str, str, str, str]:
    return logical, listed["Key"], listed["ETag"], listed["LastModified"].isoformat()


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _digest(content: dict) -> str:
    return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _write_atomically(path: Path, data: bytes) -> None:
    """A reader (or the next start, after a crash) sees the old file or the new one, never half of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    with temporary.open("wb") as out:
        out.write(data)
        out.flush()
        os.fsync(out.fileno())
    os.replace(temporary, path)
