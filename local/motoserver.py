"""moto's server: in a process of its own (`python -m local.motoserver --port 8002`), or in a thread of the caller
(`WatchedMotoServer`: the tests' stacks, which reach into moto's memory), watched for writes either way when asked.

AWS services do not run on the caller's CPU: make dev and the broadcast benchmark (bench/broadcast.py --moto
process) start moto in processes of their own, DynamoDB in one and the other services in another (`--watch`:
GET /_filo/changes tells make dev's snapshots whether anything was written since they last asked). moto's own server
(werkzeug's) closes the connection after every request, so each AWS call would pay a new TCP connection and a new
thread on both sides; waitress keeps connections alive and serves from a pool of threads.
"""
from __future__ import annotations

import argparse
import logging
import threading
import time
from collections.abc import Callable, Iterable

THREADS = 32  # SQS long polls each hold one while they wait
CHANGES_PATH = "/_filo/changes"  # a watched server's answer to "anything written since I last asked?": 1 or 0
log = logging.getLogger("filo.moto")
DYNAMODB_READS = ("GetItem", "BatchGetItem", "Query", "Scan", "Describe", "List")  # operation names, or their start
QUEUE_TARGET = "AmazonSQS."  # queued messages are written down only at a clean stop: not a change of the data


class WriteWatch:
    """WSGI middleware that notes whether a request may have changed the data since it was last asked. Safe side:
    only known reads (DynamoDB's reads, GET and HEAD) and queue traffic are left out; anything else counts."""

    def __init__(self, app: Callable):
        self.app = app
        self._changed = threading.Event()

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == CHANGES_PATH:
            start_response("200 OK", [("Content-Type", "text/plain")])
            return [b"1" if self.take_changes() else b"0"]
        if _may_write(environ):
            self._changed.set()
        return self.app(environ, start_response)

    def take_changes(self) -> bool:
        """Whether anything may have changed since the last call (cleared by asking, before the caller reads)."""
        changed = self._changed.is_set()
        self._changed.clear()
        return changed


def changes_over_http(url: str) -> Callable[[], bool]:
    """WriteWatch.take_changes of a watched server in another process; when it cannot say, it says yes."""
    import urllib.request

    def take_changes() -> bool:
        try:
            with urllib.request.urlopen(url + CHANGES_PATH, timeout=5) as answer:
                return answer.read() != b"0"
        except OSError:
            return True
    return take_changes


class AccessLog:
    """WSGI middleware: a line per AWS call (method, path, the operation's target, status), as werkzeug printed."""

    def __init__(self, app: Callable):
        self.app = app

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        def logged(status: str, headers, exc_info=None):
            log.info("%s %s %s %s", environ.get("REQUEST_METHOD"), environ.get("PATH_INFO"),
                     environ.get("HTTP_X_AMZ_TARGET", ""), status.split(" ", 1)[0])
            return start_response(status, headers, exc_info)
        return self.app(environ, logged)


def _may_write(environ: dict) -> bool:
    target = environ.get("HTTP_X_AMZ_TARGET", "")
    if target.startswith(QUEUE_TARGET):
        return False
    if target.startswith("DynamoDB_"):
        return not target.partition(".")[2].startswith(DYNAMODB_READS)
    return environ.get("REQUEST_METHOD") not in ("GET", "HEAD")


class WatchedMotoServer:
    """moto's server in a thread of this process, with a WriteWatch in front, served by waitress as in a process of
    its own (keep-alive connections, a pool of threads): werkzeug's server, moto's own, made every AWS call of the
    app a new connection and a new thread."""

    def __init__(self, host: str, port: int, access_log: bool = False):
        from waitress.server import create_server

        self.watch = WriteWatch(_moto_app(access_log))
        self._server = create_server(self.watch, host=host, port=port, **_WAITRESS)
        self._thread = threading.Thread(target=self._serve, name="moto", daemon=True)
        self._stopping = False

    def start(self) -> None:
        self._thread.start()

    def _serve(self) -> None:
        try:
            self._server.run()
        except OSError:  # stop() closed a socket under the loop's select (EBADF): the loop is over
            if not self._stopping:
                raise

    def stop(self) -> None:
        """The port closed and every connection with it (as WebTest's StopableWSGIServer stops waitress)."""
        self._stopping = True
        server = self._server
        while server._map:
            for channel in list(server._map.values()):
                channel.handle_close()
        server.task_dispatcher.shutdown()
        self._thread.join(timeout=5)


_WAITRESS = {"threads": THREADS, "ident": "moto", "channel_timeout": 300, "connection_limit": 1000}


def _moto_app(access_log: bool) -> Callable:
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    logging.getLogger("waitress").setLevel(logging.ERROR)
    app = DomainDispatcherApplication(_without_debug(create_backend_app))
    if not access_log:
        return app
    log.setLevel(logging.INFO)  # its lines at any level of the caller's logging, as werkzeug printed them
    return AccessLog(app)


def _without_debug(create_backend_app: Callable) -> Callable:
    """moto runs each service's Flask app in debug mode, whose request checks cost ~5% of an SQS call under a
    status flood (py-spy); an error is still answered 500 and logged without it."""
    def create(service):
        backend_app = create_backend_app(service)
        backend_app.debug = False
        return backend_app
    return create


def _leave_with_parent() -> None:
    """Started in a session of its own (Ctrl-C in make dev's terminal must not stop moto before the data is written
    down), this process leaves when the one that started it is gone, however that went."""
    import os

    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(0)
    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--watch", action="store_true", help=f"answer GET {CHANGES_PATH} (WriteWatch)")
    parser.add_argument("--access-log", action="store_true", help="a line per AWS call")
    args = parser.parse_args()
    import waitress

    from local import motofixes

    logging.basicConfig(level=logging.INFO if args.access_log else logging.WARNING,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    motofixes.apply()
    _leave_with_parent()
    app = _moto_app(args.access_log)
    waitress.serve(WriteWatch(app) if args.watch else app, host=args.host, port=args.port, **_WAITRESS)


if __name__ == "__main__":
    main()
