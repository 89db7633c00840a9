"""Measures what a Lambda cold start pays (issue 18), each figure in fresh interpreters:

1. `python -c "import app"` against its floor, the libraries the app stands on (`import chalice, boto3, pydantic`
   plus Powertools' Logger and Metrics built as chalicelib/observability.py builds them): the two commands run
   alternately, pair by pair in one run, and each pair gives a ratio of CPU seconds (user + system of the whole
   process, interpreter start-up included, as the issue measured it). Medians are printed.
2. The webhook's first request after import: a fresh process imports app, then hands the Lambda handler
   (`app.app(event, context)`, as API Gateway invokes it) one signed status webhook; the answer must be 200 and the
   payload on the statuses queue (a moto server in a process of its own plays SQS, as AWS would over HTTP). The
   webhook is Meta's sample `delivered` status: a `sent` alone is answered without queueing (docs/decisions.md).
3. What other handlers build on first use: the settings' validators, the webhook's wire models, the OpenAPI document.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

FLOOR = ("import chalice, boto3, pydantic\n"
         "from aws_lambda_powertools import Logger, Metrics\n"
         "Logger(service='filo-diretto'); Metrics(namespace='FiloDiretto', service='filo-diretto')")
APP = "import app"

# The first webhook after import: Meta's sample status webhook, signed with the app secret as Meta (and the sandbox)
# sign it, as the API Gateway proxy event Lambda receives.
FIRST_WEBHOOK = r"""
import hashlib, hmac, json, sys, time
cpu, wall = time.process_time(), time.perf_counter()
import app
figures = {"import app (in process)": time.perf_counter() - wall}
raw = open("tests/fixtures/whatsapp/message_status.json", "rb").read()
body = json.dumps(json.loads(raw)["delivered"]).encode()  # Meta's sample status webhook, queued
signature = "sha256=" + hmac.new(b"bench-secret", body, hashlib.sha256).hexdigest()
event = {"resource": "/webhooks/meta", "path": "/webhooks/meta", "httpMethod": "POST",
         "headers": {"content-type": "application/json", "x-hub-signature-256": signature},
         "multiValueHeaders": {}, "queryStringParameters": None, "multiValueQueryStringParameters": None,
         "pathParameters": None, "stageVariables": None, "isBase64Encoded": False, "body": body.decode(),
         "requestContext": {"resourcePath": "/webhooks/meta", "httpMethod": "POST", "path": "/api/webhooks/meta",
                            "stage": "api", "requestId": "bench", "identity": {"sourceIp": "127.0.0.1"}}}

class Context:
    function_name, memory_limit_in_mb, aws_request_id = "filo-diretto", 1024, "bench"
    invoked_function_arn = "arn:aws:lambda:eu-south-1:123456789012:function:filo-diretto"
    def get_remaining_time_in_millis(self):
        return 30000

cpu_first, wall_first = time.process_time(), time.perf_counter()
answer = app.app(event, Context())
figures["first webhook"] = time.perf_counter() - wall_first
figures["first webhook CPU"] = time.process_time() - cpu_first
if answer["statusCode"] != 200:
    sys.exit(f"the first webhook was answered {answer['statusCode']}: {answer['body']}")
cpu_second, wall_second = time.process_time(), time.perf_counter()
app.app(event, Context())
figures["second webhook"] = time.perf_counter() - wall_second
print(json.dumps({k: round(v * 1000, 1) for k, v in figures.items()}))
"""

# What is built lazily after import, once per container.
FIRST_USES = r"""
import json, time
import app
figures = {}
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

QUEUE = "filo-bench-statuses"  # where the webhook puts a webhook of statuses alone
BASE_ENV = {"AWS_DEFAULT_REGION": "eu-south-1", "RESOURCE_PREFIX": "filo-bench", "POWERTOOLS_METRICS_DISABLED": "true",
            "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "META_APP_SECRET": "bench-secret",
            "META_VERIFY_TOKEN": "bench", "META_ACCESS_TOKEN": "bench", "PYTHONDONTWRITEBYTECODE": ""}


def _env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {**os.environ, **BASE_ENV, **(extra or {})}
    env.pop("PYTHONDONTWRITEBYTECODE")
    return env


def cpu_seconds(code: str) -> float:
    """User + system CPU seconds of a fresh `python -c code` (interpreter start-up included)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=_env(), capture_output=True, text=True,
                            timeout=120)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if result.returncode:
        raise SystemExit(result.stderr[-2000:])
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def probe(code: str, extra_env: dict[str, str] | None = None) -> dict[str, float]:
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=_env(extra_env), capture_output=True,
                            text=True, timeout=120)
    if result.returncode:
        raise SystemExit(result.stderr[-3000:])
    return json.loads(result.stdout.strip().splitlines()[-1])


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_moto() -> tuple[subprocess.Popen, str]:
    """A moto server in its own process, with the statuses queue the webhook sends to."""
    port = _free_port()
    server = shutil.which("moto_server", path=str(Path(sys.executable).parent)) or "moto_server"
    process = subprocess.Popen([server, "-p", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(url + "/moto-api/", timeout=1)
            break
        except OSError:
            if time.monotonic() > deadline or process.poll() is not None:
                process.kill()
                raise SystemExit("moto_server did not start") from None
            time.sleep(0.1)
    import boto3

    os.environ.update(BASE_ENV)
    sqs = boto3.client("sqs", endpoint_url=url, region_name="eu-south-1")
    sqs.create_queue(QueueName=QUEUE)
    return process, url


def queue_depth(url: str) -> int:
    import boto3

    sqs = boto3.client("sqs", endpoint_url=url, region_name="eu-south-1")
    queue = sqs.get_queue_url(QueueName=QUEUE)["QueueUrl"]
    return int(sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["ApproximateNumberOfMessages"])
               ["Attributes"]["ApproximateNumberOfMessages"])


def _row(name: str, values: list[float], unit: str = "ms") -> str:
    digits = 2 if unit == "x" else 1
    return (f"{name:<28} {statistics.median(values):>9.{digits}f} {min(values):>9.{digits}f} {max(values):>9.{digits}f}  {unit}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10, help="pairs (floor, app) and fresh processes per probe")
    args = parser.parse_args()
    print(f"load before: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f} (1, 5, 15 min)")

    cpu_seconds(FLOOR), cpu_seconds(APP)  # warm-up: bytecode written, files in the page cache
    floors, apps, ratios = [], [], []
    for _ in range(args.runs):
        floor, whole = cpu_seconds(FLOOR), cpu_seconds(APP)
        floors.append(floor * 1000)
        apps.append(whole * 1000)
        ratios.append(whole / floor)
    print(f"\n{'CPU of a fresh process':<28} {'median':>9} {'min':>9} {'max':>9}   ({args.runs} pairs, alternately)")
    print(_row("floor (libraries)", floors))
    print(_row("python -c 'import app'", apps))
    print(_row("ratio app / floor", ratios, unit="x"))

    moto, url = start_moto()
    try:
        webhook_runs = [probe(FIRST_WEBHOOK, {"AWS_ENDPOINT_URL": url}) for _ in range(args.runs)]
        queued = queue_depth(url)
    finally:
        moto.terminate()
        moto.wait(timeout=10)
    if queued != 2 * args.runs:
        raise SystemExit(f"{queued} webhooks on the statuses queue, {2 * args.runs} expected")
    print(f"\n{'first webhook after import':<28} {'median':>9} {'min':>9} {'max':>9}   "
          f"({args.runs} fresh processes; {queued} payloads queued, all answered 200)")
    for name in webhook_runs[0]:
        print(_row(name, [run[name] for run in webhook_runs]))

    first_runs = [probe(FIRST_USES) for _ in range(args.runs)]
    print(f"\n{'first use after import':<28} {'median':>9} {'min':>9} {'max':>9}   ({args.runs} fresh processes)")
    for name in first_runs[0]:
        print(_row(name, [run[name] for run in first_runs]))
    print(f"\nload after: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}")


if __name__ == "__main__":
    main()
