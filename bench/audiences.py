"""Audiences at size: the composer's preview, the nightly recount and the fan-out at 1,000, 10,000 and 50,000
subscribers, through the whole local stack (the app and its pollers in one process; moto and the sandbox beside it).

    python bench/audiences.py --sizes 1000 10000 50000 --json

Per size, on a channel of its own of the demo comune: subscribers written straight to the table (as an import of
residents leaves them, spread over the hamlets and topics, 2% of them wrote in the last day), then:
- recount: the nightly reconciliation building the counts from nothing (services.subscriptions.audiences);
- preview: POST /api/v1/broadcast-preview for a few audiences, median and worst of the repeats, each count (and
  how many of them are outside the 24-hour window) checked against a one-by-one count of the seeded subscribers;
  and, for the figure before issue 18, the way the preview counted until then (every active subscriber of the
  channel paged and filtered), timed in-process;
- fan-out: a broadcast to everyone, from creation to the fan-out's last checkpoint, with the outbound consumers
  not polled (the sends themselves are bench/broadcast.py's), and the AWS requests of the fan-out per recipient.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import requests  # noqa: E402

from bench.broadcast import RequestCounter  # noqa: E402
from chalicelib.domain.access import Role  # noqa: E402

HAMLETS = ("capoluogo", "pieve", "santandrea", "pontenuovo")
TOPICS = ("viabilita", "allerte", "acqua", "eventi")
AUDIENCES = [{}, {"hamlets": ["pieve"]}, {"hamlets": ["pieve", "santandrea"], "topics": ["allerte", "acqua"]},
             {"topics": ["eventi"]}]
RECENT_SHARE = 0.02  # subscribers who wrote in the last 24 hours


def choice(rng: random.Random, items: tuple[str, ...]) -> list[str]:
    """As citizens choose: mostly everything (empty) or one; some two (the web form, a staff import)."""
    roll = rng.random()
    if roll < 0.4:
        return []
    if roll < 0.9:
        return [rng.choice(items)]
    return rng.sample(items, 2)


def seed(channel: str, size: int, rng: random.Random) -> list[tuple[list[str], list[str], bool]]:
    from chalicelib.store.models import CitizenModel

    now = datetime.now(UTC)
    people = []
    with CitizenModel.batch_write() as batch:
        for n in range(size):
            phone = f"+39351{channel[-3:]}{n:06d}"
            hamlets, topics = choice(rng, HAMLETS), choice(rng, TOPICS)
            last = now - timedelta(hours=rng.uniform(0, 23)) if rng.random() < RECENT_SHARE else None
            batch.save(CitizenModel(
                channel, phone, tenant_id="demo", phone=phone, status="active", active_channel=channel,
                hamlets=hamlets or None, topics=topics or None, source="staff", created_at=now, updated_at=now,
                subscribed_at=now, last_inbound_at=last,
                inbound_day=f"{channel}#{last:%Y-%m-%d}" if last else None))
            people.append((hamlets, topics, last is not None))
    return people


def add_channel(channel: str) -> None:
    from chalicelib.domain.tenancy import Channel
    from chalicelib.store import directory

    directory.save_channel(Channel(channel, "demo", "broadcast", f"Avvisi {channel[-3:]}", "+39 0571 999000", {
        "rate_per_second": 80, "quiet_hours": {"enabled": False}, "messaging_limit": 1_000_000}))


def old_preview_count(channel: str, audience) -> tuple[int, float]:
    """How the preview counted before issue 18: every active subscriber of the channel, paged and filtered."""
    from chalicelib.store import citizens

    started, count, cursor = time.perf_counter(), 0, None
    while True:
        page, cursor = citizens.active_page(channel, cursor, 1000)
        count += sum(1 for c in page if audience.includes(c.hamlets, c.topics))
        if cursor is None:
            return count, time.perf_counter() - started


def measure(stack, headers: dict, counter: RequestCounter, channel: str, size: int, repeats: int,
            rng: random.Random, old_preview: bool, skip: argparse.Namespace) -> dict:
    from chalicelib.domain.broadcasts import Audience
    from chalicelib.services.subscriptions import audiences

    add_channel(channel)
    started = time.perf_counter()
    people = seed(channel, size, rng)
    seeded = time.perf_counter() - started
    started = time.perf_counter()
    if skip.no_recount:  # the counts written from the seed itself (moto's paged Query of 50,000 is what takes long)
        from chalicelib.domain import audiences as cells
        from chalicelib.store import audiences as stored

        counted = cells.tally((True, h, t) for h, t, _ in people)
        for cell, n in counted.items():
            stored.correct(channel, cell, 0, n)
        recount = {"subscribers": size, "cells": len(counted)}
    else:
        recount = audiences.reconcile_channel(channel)
    recounted = time.perf_counter() - started
    assert recount["subscribers"] == size, recount

    previews, reaches, exact = [], [], True
    counter.counts.clear()
    counter.enabled = True
    for audience in AUDIENCES:
        wanted = Audience(tuple(audience.get("hamlets", ())), tuple(audience.get("topics", ())))
        included = [wrote for h, t, wrote in people if wanted.includes(h, t)]
        expected, outside = len(included), included.count(False)
        for _ in range(repeats):
            started = time.perf_counter()
            answer = requests.post(f"{stack.api_url}/api/v1/broadcast-preview", headers=headers, timeout=120,
                                   json={"channel": channel, "text": "Prova", "audience": audience})
            previews.append(time.perf_counter() - started)
            answer.raise_for_status()
            exact &= (answer.json()["audience"], answer.json()["outside_window"]) == (expected, outside)
    counter.enabled = False
    dynamodb = sum(n for (_, service, _), n in counter.counts.items() if service == "dynamodb")
    preview_requests = round(dynamodb / (len(AUDIENCES) * repeats), 1)
    for audience in AUDIENCES:  # the counting itself, in-process (no HTTP, no token, no composing)
        wanted = Audience(tuple(audience.get("hamlets", ())), tuple(audience.get("topics", ())))
        for _ in range(repeats):
            started = time.perf_counter()
            audiences.reach(channel, wanted, datetime.now(UTC))
            reaches.append(time.perf_counter() - started)
    result = {"subscribers": size, "seed_s": round(seeded, 1),
              "recount_s": None if skip.no_recount else round(recounted, 2),
              "cells": recount["cells"], "preview_ms_median": round(1000 * statistics.median(previews), 1),
              "preview_ms_max": round(1000 * max(previews), 1), "preview_exact": exact,
              "preview_dynamodb_requests": preview_requests,
              "reach_ms_median": round(1000 * statistics.median(reaches), 1)}
    if skip.no_fanout:
        return result
    if old_preview:
        count, took = old_preview_count(channel, Audience(("pieve",), ()))
        result["old_preview_ms"] = round(1000 * took, 1)
        exact &= count == sum(1 for h, t, _ in people if Audience(("pieve",), ()).includes(h, t))

    counter.counts.clear()
    counter.enabled = True
    started = time.perf_counter()
    created = requests.post(f"{stack.api_url}/api/v1/broadcasts", headers=headers, timeout=120,
                            json={"channel": channel, "text": "Benchmark: avviso a tutta la cittadinanza"})
    created.raise_for_status()
    broadcast_id = created.json()["id"]
    while True:
        broadcast = requests.get(f"{stack.api_url}/api/v1/broadcasts/{broadcast_id}", headers=headers,
                                 timeout=120).json()
        if broadcast["fanout_done"] or broadcast["status"] not in ("scheduled", "sending"):
            break
        time.sleep(0.2)
    fanned = time.perf_counter() - started
    counter.enabled = False
    fanout_requests = counter.total("send")
    requests.post(f"{stack.api_url}/api/v1/broadcasts/{broadcast_id}/cancel", headers=headers, timeout=120)
    result.update({"fanout_s": round(fanned, 1), "fanout_recipients": broadcast["counters"]["recipients"],
                   "fanout_aws_requests_per_recipient": round(fanout_requests / max(size, 1), 4),
                   "fanout_requests": {f"{s}:{op}": n for (p, s, op), n in sorted(counter.counts.items())
                                       if p == "send"}})
    return result


def run(args) -> list[dict]:
    counter = RequestCounter()
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "ERROR")
    from local.devserver import Stack, free_port

    stack = Stack(api_port=free_port(), sandbox_port=free_port(), moto_port=free_port(), web_port=free_port(),
                  visibility_timeout=30, schedule_seconds=3600, access_log=False, moto=args.moto,
                  sandbox_process=True, consumers_elsewhere=("outbound_sender",)).start()
    try:
        headers = {"Authorization": f"Bearer {stack.state()['tokens'][Role.COMMUNICATIONS]}"}
        rng = random.Random(18)
        results = []
        for number, size in enumerate(args.sizes):
            results.append(measure(stack, headers, counter, f"1800000000{number:05d}", size, args.repeats, rng,
                                   not args.no_old_preview, args))
            print(json.dumps(results[-1]), flush=True)
        return results
    finally:
        stack.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10_000, 50_000])
    parser.add_argument("--repeats", type=int, default=5, help="previews per audience (four audiences)")
    parser.add_argument("--moto", choices=("process", "memory", "thread"), default="process")
    parser.add_argument("--no-old-preview", action="store_true", help="skip timing the preview before issue 18")
    parser.add_argument("--no-recount", action="store_true",
                        help="write the counts from the seed instead of timing the nightly recount")
    parser.add_argument("--no-fanout", action="store_true",
                        help="preview only: no fan-out (nor the preview before issue 18)")
    parser.add_argument("--json", action="store_true", help="end with one JSON line of every size")
    args = parser.parse_args()
    results = run(args)
    if args.json:
        print(json.dumps(results))


if __name__ == "__main__":
    main()
