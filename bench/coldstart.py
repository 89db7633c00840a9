"""Measures what a Lambda cold start pays: importing app.py, then the first use of what is built lazily (the
settings' validators, the webhook's wire models, the OpenAPI document), each in a fresh process."""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# Each probe runs in a fresh interpreter and prints {"name": milliseconds, ...}.
PROBE = r"""
import json, time
started = time.perf_counter()
import app
figures = {"import app": time.perf_counter() - started}

from chalicelib.domain import settings
started = time.perf_counter()
settings.tenant_settings({"topics": [{"id": "allerte", "name": "Allerte"}], "retention": {"deliveries": 60}})
settings.channel_settings({"rate_per_second": 80, "templates": {"notice": {"name": "avviso_comune"}}})
figures["first settings read"] = time.perf_counter() - started

from chalicelib.providers.meta import inbound
body = json.dumps(json.load(open("tests/fixtures/whatsapp/message.json"))["text"]).encode()  # Meta's sample
started = time.perf_counter()
inbound.parse(body)
figures["first webhook parse"] = time.perf_counter() - started

from chalicelib.api import openapi
started = time.perf_counter()
openapi.document(app.app.routes)
figures["OpenAPI document"] = time.perf_counter() - started
print(json.dumps({k: round(v * 1000, 1) for k, v in figures.items()}))
"""


def one_run() -> dict[str, float]:
    env = {**os.environ, "AWS_DEFAULT_REGION": "eu-south-1", "RESOURCE_PREFIX": "filo-bench",
           "POWERTOOLS_METRICS_DISABLED": "true"}
    result = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=120)
    if result.returncode:
        raise SystemExit(result.stderr[-2000:])
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    one_run()  # warm-up: bytecode written, files in the page cache
    runs = [one_run() for _ in range(args.runs)]
    print(f"{'what':<22} {'median ms':>10} {'min ms':>8} {'max ms':>8}   ({args.runs} fresh processes)")
    for name in runs[0]:
        values = [run[name] for run in runs]
        print(f"{name:<22} {statistics.median(values):>10.1f} {min(values):>8.1f} {max(values):>8.1f}")


if __name__ == "__main__":
    main()
