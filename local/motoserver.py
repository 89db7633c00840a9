"""moto's server: in a thread of make dev, watched for writes (`WatchedMotoServer`), or in a process of its own
(`python -m local.motoserver --port 8002`).

AWS services do not run on the caller's CPU; the broadcast benchmark (bench/broadcast.py --moto process)
starts moto this way, one process per service group. moto's own server (werkzeug's) closes the connection
after every request, so each AWS call would pay a new TCP connection and a new thread on both sides;
waitress keeps connections alive and serves from a pool of threads.
"""
from __future__ import annotations

import argparse
import logging
import threading
from collections.abc import Callable, Iterable

THREADS = 32  # SQS long polls each hold one while they wait
DYNAMODB_READS = ("GetItem", "BatchGetItem", "Query", "Scan", "Describe", "List")  # operation names, or their start
QUEUE_TARGET = "AmazonSQS."  # queued messages are written down only at a clean stop: not a change of the data


class WriteWatch:
    """WSGI middleware that notes whether a request may have changed the data since it was last asked. Safe side:
    only known reads (DynamoDB's reads, GET and HEAD) and queue traffic are left out; anything else counts."""

    def __init__(self, app: Callable):
        self.app = app
        self._changed = threading.Event()

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        if _may_write(environ):
            self._changed.set()
        return self.app(environ, start_response)

    def take_changes(self) -> bool:
        """Whether anything may have changed since the last call (cleared by asking, before the caller reads)."""
        changed = self._changed.is_set()
        self._changed.clear()
        return changed


def _may_write(environ: dict) -> bool:
    target = environ.get("HTTP_X_AMZ_TARGET", "")
    if target.startswith(QUEUE_TARGET):
        return False
    if target.startswith("DynamoDB_"):
        return not target.partition(".")[2].startswith(DYNAMODB_READS)
    return environ.get("REQUEST_METHOD") not in ("GET", "HEAD")


class WatchedMotoServer:
    """moto's server in a thread of this process, as moto's ThreadedMotoServer, with a WriteWatch in front."""

    def __init__(self, host: str, port: int):
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
        from werkzeug.serving import make_server

        self.watch = WriteWatch(DomainDispatcherApplication(create_backend_app))
        self._server = make_server(host, port, self.watch, threaded=True, request_handler=MotoRequestHandler)
        self._thread = threading.Thread(target=self._server.serve_forever, name="moto", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    import waitress
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    from local.devserver import atomic_dynamodb, light_transactions, speed_up_moto

    speed_up_moto()
    atomic_dynamodb()
    light_transactions()
    logging.getLogger("waitress").setLevel(logging.ERROR)
    waitress.serve(DomainDispatcherApplication(create_backend_app), host=args.host, port=args.port,
                   threads=THREADS, ident="moto", channel_timeout=300, connection_limit=1000)


if __name__ == "__main__":
    main()
