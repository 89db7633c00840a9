"""The CPU of moto's DynamoDB process per status write: conditional UpdateItems shaped like deliveries.advance (the
status flood's most frequent AWS call), one client over HTTP against `python -m local.motoserver` started from a
checkout (this one by default), so that two commits can be compared back to back on the same machine.

    python bench/status_writes.py --writes 3000
    python bench/status_writes.py --repo /tmp/older-checkout --repo . --rounds 2   # interleaved, pair by pair
"""
from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import boto3  # noqa: E402

from bench.proc_cpu import machine_speed_ms  # noqa: E402
from local.devserver import free_port  # noqa: E402

UPDATE = ("SET #status = :status, status_rank = :rank, updated_at = :now, "
          "expires_at = if_not_exists(expires_at, :expires), billed = :billed")
CONDITION = "attribute_not_exists(status_rank) OR status_rank < :rank"


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def started_moto(repo: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "local.motoserver", "--host", "127.0.0.1", "--port", str(port)],
                               cwd=repo)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return process, f"http://127.0.0.1:{port}"
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"moto from {repo} did not start")


def measure(repo: Path, writes: int) -> dict:
    process, url = started_moto(repo)
    try:
        client = boto3.client("dynamodb", endpoint_url=url, region_name="eu-south-1", aws_access_key_id="x",
                              aws_secret_access_key="x")
        client.create_table(TableName="deliveries", BillingMode="PAY_PER_REQUEST",
                            KeySchema=[{"AttributeName": "job_id", "KeyType": "HASH"},
                                       {"AttributeName": "recipient", "KeyType": "RANGE"}],
                            AttributeDefinitions=[{"AttributeName": "job_id", "AttributeType": "S"},
                                                  {"AttributeName": "recipient", "AttributeType": "S"}])
        keys = [{"job_id": {"S": f"job{n % 50}"}, "recipient": {"S": f"+39347{n:07d}"}} for n in range(writes)]
        for key in keys:  # what the sends recorded
            client.put_item(TableName="deliveries", Item={**key, "status": {"S": "sent"}, "status_rank": {"N": "1"},
                                                          "tenant_id": {"S": "demo"}, "expires_at": {"N": "1"}})
        before, began = cpu_seconds(process.pid), time.monotonic()
        for rank, status in ((2, "delivered"), (3, "read")):
            for key in keys:
                client.update_item(
                    TableName="deliveries", Key=key, UpdateExpression=UPDATE, ConditionExpression=CONDITION,
                    ExpressionAttributeNames={"#status": "status"}, ReturnValues="UPDATED_OLD",
                    ExpressionAttributeValues={":status": {"S": status}, ":rank": {"N": str(rank)},
                                               ":now": {"S": str(time.time())}, ":expires": {"N": "5"},
                                               ":billed": {"S": uuid.uuid4().hex}})
        used = cpu_seconds(process.pid) - before
        return {"repo": str(repo), "writes": 2 * writes, "moto_cpu_ms_per_write": round(1000 * used / (2 * writes), 3),
                "wall_s": round(time.monotonic() - began, 1)}
    finally:
        process.terminate()
        process.wait(10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--writes", type=int, default=3000, help="deliveries, each written twice (delivered, read)")
    parser.add_argument("--repo", type=Path, action="append", help="a checkout to start moto from (repeatable)")
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args()
    for _ in range(args.rounds):
        for repo in args.repo or [ROOT]:
            print(json.dumps({**measure(repo.resolve(), args.writes), "machine_speed_ms": machine_speed_ms()}),
                  flush=True)


if __name__ == "__main__":
    main()
