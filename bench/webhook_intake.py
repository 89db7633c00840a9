"""Webhook intake (issue 18): signed status webhooks posted by concurrent clients to `make dev`, workers running.

Starts `make dev` (python -m local.devserver, as `make dev` does) on free ports in a process of its own, seeds one
broadcast of the demo comune with N recipients recorded as sent (through the app's own stores, on the stack's moto),
then posts, from C client threads with a keep-alive connection each, one webhook per status as Meta mostly posts
them: sent, delivered and read for every recipient (3 N webhooks), each signed with the app secret as Meta and the
sandbox sign them. Prints requests per second, latency percentiles and errors, then checks that nothing was lost:
every webhook answered 200, the inbound worker applied every status (the broadcast's delivered and read counters
reach N, each delivery reads `read`) and the inbound dead-letter queue is empty.

Then, in this process, the handler's own CPU per request: the same webhooks through the Lambda handler
(`app.app(event, context)`), once with the SQS send to a moto server and once without it (the send replaced by a
no-op here, in the benchmark only), so the difference is the queue call's client-side cost.

    .venv/bin/python bench/webhook_intake.py                 # 500 recipients: 1,500 webhooks, 8 clients
    .venv/bin/python bench/webhook_intake.py --recipients 500 --clients 8 --runs 3
"""
from __future__ import annotations

import argparse
import hashlib
import hmac
import http.client
import json
import logging
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.proc_cpu import tree_cpu, used_between  # noqa: E402
from local.devserver import free_port  # noqa: E402

TENANT, CHANNEL = "demo", "100000000000001"  # make dev's demo comune and its broadcast channel (local/seed.py)
STATUSES = ("sent", "delivered", "read")


def sign(raw: bytes, secret: str) -> str:
    return "sha256=" + hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()


def status_webhook(message_id: str, status: str, recipient: str, callback: str, at: float) -> bytes:
    """One status as Meta posts it (one change, one status; pricing on sent and delivered)."""
    item = {"id": message_id, "status": status, "timestamp": str(int(at)), "recipient_id": recipient.lstrip("+"),
            "biz_opaque_callback_data": callback}
    if status in ("sent", "delivered"):
        item["pricing"] = {"billable": True, "pricing_model": "PMP", "type": "regular", "category": "utility"}
    payload = {"object": "whatsapp_business_account", "entry": [{"id": "102290129340398", "changes": [{
        "field": "messages", "value": {"messaging_product": "whatsapp",
                                       "metadata": {"display_phone_number": "390000000001", "phone_number_id": CHANNEL},
                                       "statuses": [item]}}]}]}
    return json.dumps(payload, separators=(",", ":")).encode()


class DevStack:
    """make dev in a process of its own, on free ports, with its data in a temporary folder."""

    def __init__(self, profile: str | None = None):
        self.folder = tempfile.TemporaryDirectory()
        self.ports = {name: free_port() for name in ("API", "SANDBOX", "MOTO", "WEB", "ALERTS")}
        self.state_file = Path(self.folder.name) / "dev.json"
        env = {**os.environ, **{f"FILO_{name}_PORT": str(port) for name, port in self.ports.items()},
               "FILO_STATE_FILE": str(self.state_file)}
        command = [sys.executable, "-m", "local.devserver"]
        if profile:  # py-spy (a dev tool: pip install py-spy) samples the whole stack, as collapsed stacks
            command = ["py-spy", "record", "--format", "raw", "--rate", "200", "--output", profile, "--", *command]
        self.process = subprocess.Popen(command, cwd=ROOT, env=env,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 180
        while not self.state_file.exists():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("make dev did not start: " + (self.process.stderr.read() or b"").decode()[-3000:])
            time.sleep(0.2)
        self.state = json.loads(self.state_file.read_text())

    def cpu(self) -> dict[str, float]:
        """CPU seconds used so far by make dev and each of its processes."""
        return tree_cpu(self.process.pid, "local.devserver",
                        self.state["aws_endpoints"].get("AWS_ENDPOINT_URL_DYNAMODB", ""))

    def stop(self) -> None:
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.folder.cleanup()


def use_stack_aws(endpoints: dict[str, str]) -> None:
    """This process's AWS clients on the stack's moto (its endpoints: `aws_endpoints` of the state file, DynamoDB's
    apart), with the local stage's names."""
    os.environ.update({**endpoints, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                       "AWS_SESSION_TOKEN": "testing", "AWS_DEFAULT_REGION": "eu-south-1", "AWS_REGION": "eu-south-1",
                       "RESOURCE_PREFIX": "filo-local", "STAGE": "local", "POWERTOOLS_METRICS_DISABLED": "true"})


def seed_broadcast(recipients: int) -> tuple[str, list[tuple[str, str, str]]]:
    """A completed broadcast of the demo comune and its recipients recorded as sent: (wamid, recipient, callback)."""
    from chalicelib.domain.broadcasts import Audience
    from chalicelib.store import broadcasts, deliveries

    broadcast_id = f"bench-{uuid.uuid4().hex[:12]}"
    now = datetime.now(UTC)
    broadcasts.create(broadcasts.Broadcast(
        tenant_id=TENANT, id=broadcast_id, channel_id=CHANNEL, status="completed", content={"text": "Prova"},
        audience=Audience(), priority="normal", send_at=now.isoformat(), due_at=now.isoformat(),
        created_by="bench", created_at=now.isoformat()))
    key = f"{broadcast_id}#00"
    sent = []
    for index in range(recipients):
        recipient = f"+39347999{index:05d}"
        wamid = f"wamid.bench{uuid.uuid4().hex}"
        deliveries.record(key, recipient, TENANT, "sent", now, provider_message_id=wamid, channel_id=CHANNEL)
        sent.append((wamid, recipient, f"{key}|{recipient}|{TENANT}|{broadcast_id}"))
    return broadcast_id, sent


def post_all(api_url: str, bodies: list[tuple[bytes, str]], clients: int) -> tuple[list[float], list[int], float]:
    """Post every (body, signature) from `clients` threads, each with its own keep-alive connection, taking the next
    body as soon as its last answer is in; latencies in seconds, statuses, and the whole span."""
    host, port = api_url.removeprefix("http://").split(":")
    latencies: list[float] = [0.0] * len(bodies)
    statuses: list[int] = [0] * len(bodies)
    next_index = iter(range(len(bodies)))
    lock = threading.Lock()
    start = threading.Barrier(clients + 1)

    def client() -> None:
        connection = http.client.HTTPConnection(host, int(port), timeout=30)
        start.wait()
        while True:
            with lock:
                index = next(next_index, None)
            if index is None:
                break
            body, signature = bodies[index]
            began = time.perf_counter()
            try:
                connection.request("POST", "/webhooks/meta", body=body, headers={
                    "Content-Type": "application/json", "X-Hub-Signature-256": signature})
                answer = connection.getresponse()
                answer.read()
                statuses[index] = answer.status
            except (OSError, http.client.HTTPException):
                statuses[index] = -1
                connection.close()
                connection = http.client.HTTPConnection(host, int(port), timeout=30)
            latencies[index] = time.perf_counter() - began
        connection.close()

    threads = [threading.Thread(target=client, daemon=True) for _ in range(clients)]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    return latencies, statuses, time.perf_counter() - began


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


def wait_applied(broadcast_id: str, recipients: int, timeout: float = 300.0) -> tuple[dict, float]:
    """The broadcast's counters once delivered and read reach recipients (or at the timeout), and how long after
    the last answer that took."""
    from chalicelib.store import broadcasts

    began = time.monotonic()
    while True:
        counters = broadcasts.get(TENANT, broadcast_id).counters
        if (counters.delivered >= recipients and counters.read >= recipients) or time.monotonic() - began > timeout:
            return {"delivered": counters.delivered, "read": counters.read}, time.monotonic() - began
        time.sleep(0.2)


def one_run(stack: DevStack, recipients: int, clients: int, drain_timeout: float) -> dict:
    from chalicelib.store import deliveries, queues

    broadcast_id, sent = seed_broadcast(recipients)
    secret, at = stack.state["app_secret"], time.time()
    bodies = []
    for status in STATUSES:  # Meta's order per message; the clients interleave them anyway
        for wamid, recipient, callback in sent:
            raw = status_webhook(wamid, status, recipient, callback, at)
            bodies.append((raw, sign(raw, secret)))
    load = os.getloadavg()[0]
    cpu_before = stack.cpu()
    latencies, statuses, span = post_all(stack.state["api_url"], bodies, clients)
    counters, drain = wait_applied(broadcast_id, recipients, drain_timeout)
    cpu = used_between(cpu_before, stack.cpu())
    key = f"{broadcast_id}#00"
    not_read = sum(1 for _, recipient, _ in sent if deliveries.get(key, recipient).status != "read")
    return {
        "webhooks": len(bodies), "req_per_s": len(bodies) / span,
        "p50_ms": 1000 * percentile(latencies, 0.50), "p90_ms": 1000 * percentile(latencies, 0.90),
        "p99_ms": 1000 * percentile(latencies, 0.99), "max_ms": 1000 * max(latencies),
        "errors": sum(1 for s in statuses if s != 200), "delivered": counters["delivered"], "read": counters["read"],
        "not_read": not_read, "dead_letters": queues.depth("inbound-dlq") + queues.depth("statuses-dlq"),
        "drain_s": drain, "load": load, "cpu_ms": {name: 1000 * used / len(bodies) for name, used in cpu.items()},
    }


def handler_cpu(count: int) -> dict[str, float]:
    """CPU per webhook of the Lambda handler in this process: with the SQS send (to the stack's moto) and without."""
    os.environ.update({"META_APP_SECRET": "bench-secret", "META_VERIFY_TOKEN": "bench", "META_ACCESS_TOKEN": "bench"})
    import app

    try:
        from chalicelib.services import webhook_queue
    except ImportError:  # the tree before issue 18: the route called services.inbound.queue_payload
        from chalicelib.services import inbound as webhook_queue

    class Context:
        function_name, memory_limit_in_mb, aws_request_id = "filo-diretto", 1024, "bench"
        invoked_function_arn = "arn:aws:lambda:eu-south-1:123456789012:function:filo-diretto"

        def get_remaining_time_in_millis(self) -> int:
            return 30000

    def event(raw: bytes) -> dict:
        return {"resource": "/webhooks/meta", "path": "/webhooks/meta", "httpMethod": "POST",
                "headers": {"content-type": "application/json", "x-hub-signature-256": sign(raw, "bench-secret")},
                "multiValueHeaders": {}, "queryStringParameters": None, "multiValueQueryStringParameters": None,
                "pathParameters": None, "stageVariables": None, "isBase64Encoded": False, "body": raw.decode(),
                "requestContext": {"resourcePath": "/webhooks/meta", "httpMethod": "POST", "stage": "api",
                                   "path": "/api/webhooks/meta", "requestId": "bench",
                                   "identity": {"sourceIp": "127.0.0.1"}}}

    # 'delivered' statuses, which the endpoint queues ('sent' alone it answers without queueing), of one delivery of
    # no broadcast: the stack's status worker, which takes what the send queues, writes it once
    events = [event(status_webhook(f"wamid.cpu{i}", "delivered", "+393479990000", "bench-cpu|+393479990000",
                                   time.time()))
              for i in range(count)]
    for handler in logging.getLogger("filo-diretto").handlers:  # INFO, as in Lambda, but not on this terminal
        handler.setStream(open(os.devnull, "w"))  # noqa: SIM115 - for the life of the process
    context = Context()
    assert app.app(events[0], context)["statusCode"] == 200  # the first request (lazy imports, clients) apart

    def per_request() -> float:
        began = time.process_time()
        for item in events:
            answer = app.app(item, context)
            if answer["statusCode"] != 200:
                raise SystemExit(f"the handler answered {answer['statusCode']}: {answer['body']}")
        return 1000 * (time.process_time() - began) / len(events)

    figures = {"handler CPU with the SQS send": per_request()}
    real = webhook_queue.queue_payload
    webhook_queue.queue_payload = lambda raw, **options: None  # the benchmark's own measure: the handler without its queue call
    try:
        figures["handler CPU without it"] = per_request()
    finally:
        webhook_queue.queue_payload = real
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipients", type=int, default=500, help="three webhooks each (sent, delivered, read)")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--runs", type=int, default=1, help="runs on the same stack, one broadcast each")
    parser.add_argument("--cpu-requests", type=int, default=1000, help="webhooks for the handler's CPU figure")
    parser.add_argument("--profile", help="record make dev with py-spy into this file (collapsed stacks)")
    parser.add_argument("--drain-timeout", type=float, default=300.0, help="seconds to wait for every status applied")
    args = parser.parse_args()
    print(f"load before: {' '.join(f'{v:.2f}' for v in os.getloadavg())} (1, 5, 15 min); {os.cpu_count()} CPUs")
    stack = DevStack(args.profile)
    try:
        use_stack_aws(stack.state["aws_endpoints"])
        runs = []
        for number in range(1, args.runs + 1):
            run = one_run(stack, args.recipients, args.clients, args.drain_timeout)
            runs.append(run)
            print(f"run {number}: {run['webhooks']} webhooks, {args.clients} clients: {run['req_per_s']:.1f} req/s, "
                  f"p50 {run['p50_ms']:.0f} ms, p90 {run['p90_ms']:.0f} ms, p99 {run['p99_ms']:.0f} ms, "
                  f"max {run['max_ms']:.0f} ms, errors {run['errors']}; applied: delivered {run['delivered']}, "
                  f"read {run['read']} of {args.recipients} ({run['not_read']} deliveries not read), "
                  f"{run['drain_s']:.1f} s after the last answer; dead letters {run['dead_letters']}; "
                  f"load {run['load']:.2f}")
            print(f"  CPU per webhook, intake to applied: {sum(run['cpu_ms'].values()):.2f} ms ("
                  + ", ".join(f"{name} {ms:.2f}" for name, ms in sorted(run["cpu_ms"].items())) + ")")
        cpu = handler_cpu(args.cpu_requests)
    finally:
        stack.stop()
    if len(runs) > 1:
        print(f"median of {len(runs)} runs: {statistics.median(r['req_per_s'] for r in runs):.1f} req/s, "
              f"p50 {statistics.median(r['p50_ms'] for r in runs):.0f} ms, "
              f"p99 {statistics.median(r['p99_ms'] for r in runs):.0f} ms")
    for name, value in cpu.items():
        print(f"{name}: {value:.2f} ms per request ({args.cpu_requests} requests, this process, after the first)")
    lost = [r for r in runs if r["errors"] or r["delivered"] != args.recipients or r["read"] != args.recipients
            or r["not_read"] or r["dead_letters"]]
    if lost:
        raise SystemExit(f"{len(lost)} run(s) lost or refused webhooks")
    print(f"load after: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")


if __name__ == "__main__":
    main()
