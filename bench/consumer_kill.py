"""A consumer killed mid-broadcast: how long until every recipient has its message, and is any lost or doubled.

The local stack runs everything but the outbound sender, which runs in a process of its own (local.consumer,
as a Lambda function runs apart): the broadcast starts, the consumer is killed with SIGKILL once some messages
have gone (its jobs in hand, their leases and claims left behind), another consumer starts at once, and the
clock runs until every recipient has a message; then nothing more may arrive.

    python bench/consumer_kill.py --subscribers 400 --rate 40 --kill-after 100 --json
"""
from __future__ import annotations

import argparse
import collections
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import requests  # noqa: E402
from broadcast import CHANNEL, configure_channel, seed  # noqa: E402

from chalicelib.domain.access import Role  # noqa: E402

TEXT = "Prova di ripresa: avviso a tutta la cittadinanza"
CONSUMER = "outbound_sender"


def start_consumer() -> subprocess.Popen:
    """The app's outbound consumer in a process of its own, with the environment the stack set up."""
    log = open(os.environ.get("FILO_CONSUMER_LOG", os.devnull), "a")  # noqa: SIM115 - the child keeps it open
    return subprocess.Popen([sys.executable, "-m", "local.consumer", CONSUMER], cwd=ROOT, env=dict(os.environ),
                            stdout=log, stderr=subprocess.STDOUT)


def per_recipient(stack) -> collections.Counter:
    return collections.Counter(m["to"] for m in stack.sandbox.sent_messages()
                               if m["channel"] == CHANNEL and TEXT in (m.get("text") or ""))


def wait_until(condition, timeout: float, interval: float = 0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    return None


def run(args) -> dict:
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "ERROR")
    os.environ["OUTBOUND_CONSUMERS"] = str(args.consumers)
    from local.devserver import Stack, free_port

    stack = Stack(api_port=free_port(), sandbox_port=free_port(), moto_port=free_port(), web_port=free_port(),
                  visibility_timeout=args.visibility, schedule_seconds=3600, sandbox_rate_limit=max(args.rate, 80),
                  access_log=False, moto="process", sandbox_process=True, consumers_elsewhere=(CONSUMER,)).start()
    consumers: list[subprocess.Popen] = []
    try:
        configure_channel(args.rate)
        phones = seed(args.subscribers)
        consumers.append(start_consumer())
        headers = {"Authorization": f"Bearer {stack.state()['tokens'][Role.COMMUNICATIONS]}"}
        created = requests.post(f"{stack.api_url}/api/v1/broadcasts", headers=headers, timeout=60,
                                json={"channel": CHANNEL, "text": TEXT})
        created.raise_for_status()
        broadcast_id = created.json()["id"]
        if not wait_until(lambda: sum(per_recipient(stack).values()) >= args.kill_after, args.timeout):
            raise RuntimeError("the broadcast did not start")
        consumers[0].send_signal(signal.SIGKILL)
        killed = time.monotonic()
        consumers[0].wait()
        at_kill = sum(per_recipient(stack).values())
        consumers.append(start_consumer())
        everyone = wait_until(lambda: len(per_recipient(stack)) >= len(phones) and time.monotonic(), args.timeout)
        recovery = (everyone - killed) if everyone else None
        final = wait_until(lambda: (b := _broadcast(stack, headers, broadcast_id))["status"] != "sending" and b,
                           args.timeout, interval=0.5) or _broadcast(stack, headers, broadcast_id)
        time.sleep(args.settle)  # anything sent twice would arrive now
        counts = per_recipient(stack)
        return {
            "subscribers": len(phones), "rate": args.rate, "consumers_per_process": args.consumers,
            "sent_at_kill": at_kill, "recovery_s": round(recovery, 1) if recovery is not None else None,
            "completed_after_kill_s": round(time.monotonic() - killed - args.settle, 1),
            "lost": sum(1 for p in phones if not counts.get(p)),
            "duplicates": sum(n - 1 for n in counts.values() if n > 1),
            "status": final["status"], "counters": {k: final["counters"].get(k) for k in
                                                    ("recipients", "sent", "failed", "skipped", "ambiguous")},
        }
    finally:
        for consumer in consumers:
            if consumer.poll() is None:
                consumer.terminate()
                consumer.wait(timeout=15)
        stack.stop()


def _broadcast(stack, headers, broadcast_id) -> dict:
    return requests.get(f"{stack.api_url}/api/v1/broadcasts/{broadcast_id}", headers=headers, timeout=30).json()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--subscribers", type=int, default=400)
    parser.add_argument("--rate", type=float, default=40.0, help="the channel's rate, msg/s")
    parser.add_argument("--consumers", type=int, default=2, help="outbound consumers (the event source's maximum "
                                                                 "concurrency): pollers per consumer process")
    parser.add_argument("--kill-after", type=int, default=100,
                        help="kill the consumer once this many have gone (not a multiple of 40: mid-job)")
    parser.add_argument("--visibility", type=int, default=30, help="the local queues' visibility timeout, s")
    parser.add_argument("--settle", type=float, default=5.0, help="seconds to watch for duplicates at the end")
    parser.add_argument("--timeout", type=float, default=240)
    parser.add_argument("--json", action="store_true", help="end with one JSON line")
    args = parser.parse_args()
    result = run(args)
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key:24} {value}")


if __name__ == "__main__":
    main()
