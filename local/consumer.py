"""One SQS consumer of the app in a process of its own, as a Lambda function runs apart from the rest:
`python -m local.consumer outbound_sender`.

It reads the environment a running local stack gave its own process (Stack.configure_environment: moto's
endpoint, the sandbox as Meta, the secrets), so a benchmark can start it beside a stack that leaves that
consumer out (Stack(consumers_elsewhere=...)), kill it with SIGKILL mid-job and start another
(bench/consumer_kill.py). SIGTERM or SIGINT stops it after the polls under way.
"""
from __future__ import annotations

import argparse
import logging
import signal
import threading


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("consumer", help="the name of the app's SQS handler, e.g. outbound_sender")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    from chalice.app import SQSEventConfig

    from app import app
    from local.runner import QueuePoller

    source = next((s for s in app.event_sources if isinstance(s, SQSEventConfig) and s.name == args.consumer), None)
    if source is None:
        raise SystemExit(f"the app has no SQS consumer named {args.consumer!r}")
    stop = threading.Event()
    for received in (signal.SIGTERM, signal.SIGINT):
        signal.signal(received, lambda *_: stop.set())
    pollers = [QueuePoller(app, source, stop, n) for n in range(source.maximum_concurrency or 1)]
    for poller in pollers:
        poller.start()
    print(f"consumer {args.consumer}: {len(pollers)} pollers", flush=True)
    while not stop.wait(0.5):  # a signal delivered to another thread is handled only when this one wakes
        pass
    for poller in pollers:
        poller.join(timeout=10)


if __name__ == "__main__":
    main()
