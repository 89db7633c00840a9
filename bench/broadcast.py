"""One broadcast to N subscribers through the whole local stack (the app, its pollers and scheduler in one
process; moto and the sandbox beside it): speed, losses, duplicates and AWS requests per message.

    python bench/broadcast.py --limit 80 --subscribers 10000 --fault-rate 0.05 --json
    python bench/broadcast.py --limit 80 --subscribers 10000 --status-flood   # one status per webhook POST
    python bench/broadcast.py --status-flood --apart status_worker   # that consumer in a process of its own

With --apart, the consumers named run as Lambda runs them, each function in processes of its own (local.consumer),
and the AWS requests they make are not in the counts.
"""
from __future__ import annotations

import argparse
import collections
import json
import os
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import botocore.session  # noqa: E402
import requests  # noqa: E402

from bench.proc_cpu import machine_speed_ms, tree_cpu, used_between  # noqa: E402
from chalicelib.domain.access import Role  # noqa: E402

CHANNEL = "100000000000001"
SEND_PATH = ("poller-outbound_sender", "poller-fanout_worker", "sender", "schedule-")
STATUS_PATH = ("poller-status_worker", "status_")  # the status worker's poller and its writers (record_statuses)


class RequestCounter:
    """Counts AWS requests with a botocore 'before-call' hook on every client, by the path that made them."""

    def __init__(self) -> None:
        self.counts: collections.Counter = collections.Counter()
        self.lock = threading.Lock()
        self.enabled = False
        original = botocore.session.Session.create_client
        counter = self

        def create_client(session, *args, **kwargs):
            client = original(session, *args, **kwargs)
            client.meta.events.register("before-call", counter.hook)
            return client

        botocore.session.Session.create_client = create_client

    def hook(self, model, params, **_):  # params: the request as botocore is about to send it
        if not self.enabled:
            return
        thread = threading.current_thread().name
        if thread.startswith(SEND_PATH):
            path = "send"
        elif thread.startswith(STATUS_PATH) or (model.name == "SendMessage" and "statuses" in str(params.get("body"))):
            path = "status"  # the status worker, and the webhook queueing status payloads
        else:
            path = "other"
        with self.lock:
            self.counts[(path, model.service_model.service_name, model.name)] += 1

    def total(self, path: str) -> int:
        return sum(n for (p, _, _), n in self.counts.items() if p == path)


def seed(subscribers: int) -> list[str]:
    """Active subscribers written straight to the table, as an import of residents would leave them."""
    from chalicelib.store.models import CitizenModel

    now = datetime.now(UTC)
    phones = [f"+39350{n:07d}" for n in range(subscribers)]
    with CitizenModel.batch_write() as batch:
        for phone in phones:
            batch.save(CitizenModel(CHANNEL, phone, tenant_id="demo", phone=phone, status="active",
                                    active_channel=CHANNEL, source="staff", created_at=now, updated_at=now,
                                    subscribed_at=now))
    return phones


def configure_channel(limit: float) -> None:
    from dataclasses import replace

    from chalicelib.domain.settings import Hours
    from chalicelib.store import directory

    channel = directory.get_channel(CHANNEL)
    settings = replace(channel.settings, rate_per_second=limit, quiet_hours=Hours(enabled=False),
                       messaging_limit=1_000_000)
    directory.save_channel(replace(channel, settings=settings))


def kill_fanout_after(pages: int) -> None:
    """Fault hook: the fan-out dies once, after enqueuing page N+1 but before its checkpoint."""
    from chalicelib.store import broadcasts

    real, calls = broadcasts.checkpoint, []

    def checkpoint(*args, **kwargs):
        calls.append(1)
        if len(calls) == pages + 1:
            raise RuntimeError("fan-out killed by the benchmark")
        return real(*args, **kwargs)

    broadcasts.checkpoint = checkpoint


def run(args) -> dict:
    counter = RequestCounter()
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "ERROR")
    os.environ["OUTBOUND_CONSUMERS"] = str(args.consumers)
    from local.devserver import Stack, free_port

    stack = Stack(api_port=free_port(), sandbox_port=free_port(), moto_port=free_port(), web_port=free_port(),
                  visibility_timeout=30,
                  schedule_seconds=3600, sandbox_rate_limit=args.limit, access_log=False, moto=args.moto,
                  sandbox_process=True, consumers_elsewhere=tuple(args.apart)).start()
    apart = [subprocess.Popen([sys.executable, "-m", "local.consumer", name], cwd=ROOT, env=dict(os.environ),
                              stdout=subprocess.DEVNULL) for name in args.apart]
    try:
        if args.status_flood:  # as Meta mostly posts: one status per webhook, three per message, posted concurrently
            stack.sandbox.configure(fault_rate=args.fault_rate, seed=7, status_delay=0.5, status_batch_seconds=0.0,
                                    statuses_per_post=1, status_posters=args.status_posters,
                                    status_webhooks=not args.no_statuses)
        else:
            stack.sandbox.configure(fault_rate=args.fault_rate, seed=7, status_delay=0.5, status_batch_seconds=1.0,
                                    status_webhooks=not args.no_statuses)
        configure_channel(args.limit)
        phones = seed(args.subscribers)
        if args.kill_fanout_after is not None:
            kill_fanout_after(args.kill_fanout_after)
        token = stack.state()["tokens"][Role.COMMUNICATIONS]
        headers = {"Authorization": f"Bearer {token}"}
        counter.enabled = True
        speed_before = machine_speed_ms()
        started, cpu_before = time.monotonic(), tree_cpu(os.getpid())
        created = requests.post(f"{stack.api_url}/api/v1/broadcasts", headers=headers, timeout=60,
                                json={"channel": CHANNEL, "text": "Benchmark: avviso a tutta la cittadinanza"})
        created.raise_for_status()
        broadcast_id = created.json()["id"]
        samples: list[tuple[float, dict, dict]] = []
        final = wait(stack, headers, broadcast_id, lambda b: b["status"] in ("completed", "paused"), args.timeout,
                     samples)
        wall = time.monotonic() - started
        send_requests = counter.total("send")
        if not args.no_statuses:
            final = wait(stack, headers, broadcast_id,
                         lambda b: b["counters"]["read"] >= b["counters"]["sent"], args.timeout, samples)
            time.sleep(1.0)
            final = requests.get(f"{stack.api_url}/api/v1/broadcasts/{broadcast_id}", headers=headers,
                                 timeout=30).json()
        result = report(args, stack, phones, final, wall, send_requests, counter)
        result["cpu_s"] = used_between(cpu_before, tree_cpu(os.getpid()))
        result["machine_speed_ms"] = [speed_before, machine_speed_ms()]  # a fixed loop's CPU ms, before and after
        result["cpu_wall_s"] = round(time.monotonic() - started, 1)
        print(json.dumps(result), flush=True)  # the send path's figures, before the status backlog's
        if not args.no_statuses:
            result.update(status_backlog(stack, samples, final))
        return result
    finally:
        for process in apart:
            process.terminate()
            process.wait(timeout=15)
        stack.stop()


def status_backlog(stack, samples: list[tuple[float, dict, dict]], final: dict) -> dict:
    """How far the app's counters ran behind the statuses Meta (the sandbox) had due, sampled each second.

    Each accepted send has its delivered status due 2 x status_delay after it and its read 3 x status_delay after
    (sent is recorded by the send itself). At a sample taken at wall time t with A statuses applied (delivered + read
    counters), the backlog is t minus the due time of the (A+1)-th status in due order: how old the oldest status
    not yet applied is. Also printed: the sandbox's own backlog (due but not yet posted: the webhook not taking them
    fast enough) and the statuses queue's depth; and, at the end, the dead-letter queues' depth and whether the
    counters equal what the sandbox delivered."""
    import bisect

    from chalicelib.resources import QUEUES
    from chalicelib.store import queues

    delay = 0.5
    sent = [m for m in stack.sandbox.sent_messages() if m["channel"] == CHANNEL and "Benchmark" in m["text"]]
    due = sorted([m["time"] + 2 * delay for m in sent] + [m["time"] + 3 * delay for m in sent])
    lines, worst = [], 0.0
    start = samples[0][0] if samples else 0.0
    for wall, broadcast, sandbox in samples:
        applied = broadcast["counters"]["delivered"] + broadcast["counters"]["read"]
        overdue = bisect.bisect_right(due, wall)  # statuses due by now
        behind = (wall - due[applied]) if applied < overdue else 0.0
        worst = max(worst, behind)
        lines.append({"t": round(wall - start, 1), "applied": applied, "due": overdue, "behind_s": round(behind, 2),
                      "sandbox_due_unposted": sandbox.get("statuses_due"),
                      "sandbox_late_s": sandbox.get("statuses_late_s"), "status_queue": sandbox.get("status_queue")})
    sqs = queues._client()
    dead = {}
    for logical in QUEUES:
        url = sqs.get_queue_url(QueueName=QUEUES[logical].dlq_name)["QueueUrl"]
        attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])
        dead[logical] = int(attributes["Attributes"]["ApproximateNumberOfMessages"])
    counters = final["counters"]
    accepted = len(sent)
    return {"status_backlog_max_s": round(worst, 2), "status_backlog": lines, "dead_letters": dead,
            "counters_exact": counters["delivered"] == accepted and counters["read"] == accepted,
            "counters": {k: counters[k] for k in ("sent", "delivered", "read", "failed")},
            "status_posts": stack.sandbox.stats().get("status_posts")}


def wait(stack, headers, broadcast_id, done, timeout, samples: list | None = None) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        broadcast = requests.get(f"{stack.api_url}/api/v1/broadcasts/{broadcast_id}", headers=headers,
                                 timeout=30).json()
        if samples is not None:
            samples.append((time.time(), broadcast, {**stack.sandbox.stats(), "status_queue": status_depth()}))
        if done(broadcast) or time.monotonic() > deadline:
            return broadcast
        time.sleep(0.5 if samples is None else 1.0)


def status_depth() -> int:
    """Status webhooks queued and not yet taken (the statuses queue)."""
    from chalicelib.store import queues

    sqs = queues._client()
    attributes = sqs.get_queue_attributes(QueueUrl=queues.queue_url("statuses"),
                                          AttributeNames=["ApproximateNumberOfMessages"])
    return int(attributes["Attributes"]["ApproximateNumberOfMessages"])


def report(args, stack, phones, final, wall, send_requests, counter) -> dict:
    sent = [m for m in stack.sandbox.sent_messages() if m["channel"] == CHANNEL and "Benchmark" in m["text"]]
    per_recipient = collections.Counter(m["to"] for m in sent)
    delivered = sum(1 for p in phones if per_recipient.get(p))
    times = sorted(m["time"] for m in sent)
    span = (times[-1] - times[0]) if len(times) > 1 else 0.0
    achieved = (len(sent) - 1) / span if span else 0.0
    statuses = final["counters"]["delivered"] + final["counters"]["read"] + len(sent)  # sent, delivered, read
    status_requests = counter.total("status")
    result = {
        "limit": args.limit, "subscribers": args.subscribers, "fault_rate": args.fault_rate,
        "kill_fanout_after": args.kill_fanout_after, "moto": args.moto, "status": final["status"],
        "achieved_rate": round(achieved, 1), "ratio": round(achieved / args.limit, 3),
        "lost": len(phones) - delivered, "duplicates": sum(n - 1 for n in per_recipient.values() if n > 1),
        "aws_requests_per_message": round(send_requests / max(delivered, 1), 3),
        "status_requests_per_update": round(status_requests / max(statuses, 1), 3) if not args.no_statuses else None,
        "wall_s": round(wall, 1), "send_span_s": round(span, 1),
        "sandbox": {k: v for k, v in stack.sandbox.stats().items() if k in ("accepted", "rate_limited", "faults")},
    }
    if args.verbose:
        result["requests"] = {f"{p}:{s}:{op}": n for (p, s, op), n in sorted(counter.counts.items())}
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--limit", type=float, default=80.0, help="the sandbox's and the channel's rate, msg/s")
    parser.add_argument("--subscribers", type=int, default=10_000)
    parser.add_argument("--fault-rate", type=float, default=0.0, help="share of sends answered 500 (131000)")
    parser.add_argument("--kill-fanout-after", type=int, default=None, metavar="N",
                        help="kill the fan-out once after N pages, then let it resume")
    parser.add_argument("--consumers", type=int, default=2, help="outbound consumers (the event source's maximum concurrency)")
    parser.add_argument("--moto", choices=("process", "memory", "thread"), default="process",
                        help="moto's server in a process of its own (like an AWS service, default), "
                             "or in the app's process: in memory, or as a server thread")
    parser.add_argument("--no-statuses", action="store_true", help="the sandbox posts no status webhooks")
    parser.add_argument("--status-flood", action="store_true",
                        help="one status per webhook POST (three per message), as Meta mostly posts them")
    parser.add_argument("--status-posters", type=int, default=8, help="status POSTs in flight at once (flood mode)")
    parser.add_argument("--apart", action="append", default=[], metavar="CONSUMER",
                        help="run this SQS consumer (e.g. status_worker) in a process of its own, as Lambda would")
    parser.add_argument("--timeout", type=float, default=1800)
    parser.add_argument("--json", action="store_true", help="end with one JSON line")
    parser.add_argument("--verbose", action="store_true", help="requests by path, service and operation")
    args = parser.parse_args()
    result = run(args)
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            if key == "status_backlog":
                print("status backlog over time (t s, applied, due, behind s, sandbox unposted, sandbox late s, "
                      "statuses queue):")
                for line in value:
                    print("   ", *line.values())
                continue
            print(f"{key:28} {value}")


if __name__ == "__main__":
    main()
