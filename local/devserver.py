"""make dev: the whole system on this machine: moto, the Chalice app, pollers, scheduler, sandbox, demo data."""
from __future__ import annotations

import argparse
import faulthandler
import functools
import json
import logging
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Mapping
from pathlib import Path

from local import motofixes
from local.persistence import DevSecrets, LocalDir, local_dir, write_private

PROJECT_DIR = Path(__file__).resolve().parent.parent
SNAPSHOT_SECONDS = 5.0  # a crash loses at most this much of the data (FILO_SNAPSHOT_SECONDS)
DEMO_USERS_SEED = 15  # moto's random seed while the demo users are made: their ids stay across restarts
THREADS_STOP_SECONDS = 5.0  # consumers and schedules finish what they hold, all within this
STOP_REPORT_SECONDS = 10.0  # a stop taking longer prints every thread's stack
log = logging.getLogger("filo.local")


FIRST_FREE_PORT = 10_000
_GIVEN_PORTS: set[int] = set()


def free_port(host: str = "127.0.0.1") -> int:
    """A port free now, below the kernel's range for outgoing connections (ip_local_port_range): a port picked in
    that range can be taken by any process's next outgoing connection before the server binds it, which under the
    parallel test suite's thousands of connections made a stack fail to start (EADDRINUSE) now and then."""
    low = _outgoing_ports_start()
    for _ in range(200):
        port = secrets.randbelow(low - FIRST_FREE_PORT) + FIRST_FREE_PORT
        if port in _GIVEN_PORTS:  # free now, but perhaps not yet bound by whoever asked for it first
            continue
        with socket.socket() as sock:
            try:
                sock.bind((host, port))
            except OSError:
                continue
        _GIVEN_PORTS.add(port)
        return port
    with socket.socket() as sock:  # that range all taken: any free port
        sock.bind((host, 0))
        return sock.getsockname()[1]


def _outgoing_ports_start() -> int:
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as ranges:
            low = int(ranges.read().split()[0])
    except (OSError, ValueError, IndexError):  # not Linux: IANA's dynamic ports start at 49152
        low = 49152
    return max(low, FIRST_FREE_PORT + 1000)


def _port(env_name: str, default: int) -> int:
    value = os.environ.get(env_name)
    return int(value) if value else default


MOTO_MODES = ("thread", "process", "memory")
# The listen queue of the local API and web servers: socketserver's default of 5 dropped the connections of a burst
# beyond it while the server was busy, so local load tests counted losses (issue 13); the sandbox takes 256.
LISTEN_BACKLOG = 128


def _wait_for_port(host: str, port: int, what: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex((host, port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"{what} did not start on {host}:{port}")


def stage_environment(stage: str) -> dict[str, str]:
    """The environment .chalice/config.json gives a stage (top level, then the stage's own)."""
    config = json.loads((PROJECT_DIR / ".chalice" / "config.json").read_text())
    return {**config.get("environment_variables", {}),
            **config["stages"][stage].get("environment_variables", {})}


def _handler_class(access_log: bool):
    """Chalice's request handler with Nagle's algorithm off: it writes an answer's headers and its body apart, and the
    body then waited for the client's delayed ACK, ~40 ms per request on a keep-alive connection (one client got
    20 answers a second). API Gateway answers in one go. Quiet unless the access log is wanted."""
    from chalice.local import ChaliceRequestHandler

    class RequestHandler(ChaliceRequestHandler):
        disable_nagle_algorithm = True

        def log_message(self, format, *args):  # noqa: A002 - the base class's signature
            if access_log:
                super().log_message(format, *args)
    return RequestHandler


class Stack:
    """Everything make dev runs, in one process; tests start it on free ports."""

    def __init__(self, host: str = "127.0.0.1", api_port: int = 8000, sandbox_port: int = 8001,
                 moto_port: int = 8002, web_port: int = 8003, schedule_seconds: float | None = None, visibility_timeout: int = 5,
                 sandbox_rate_limit: float = 80.0, access_log: bool = False, moto: str = "thread",
                 sandbox_process: bool = False, secrets: DevSecrets | None = None, data_dir: Path | None = None,
                 snapshot_seconds: float = SNAPSHOT_SECONDS,
                 consumers_elsewhere: tuple[str, ...] = (), alerts_port: int | None = None,
                 alerts_replay: bool = False):
        """secrets: kept ones (make dev's .local/), else new ones; data_dir: where the data is kept between
        restarts (make dev's .local/data/), else nowhere: the stack starts empty and leaves nothing behind."""
        self.host, self.api_port, self.sandbox_port, self.moto_port = host, api_port, sandbox_port, moto_port
        self.web_port = web_port
        # the local stand-in for the civil-protection feeds (local/alertfeeds.py); make dev replays its bulletin today
        self.alerts_port, self.alerts_replay = alerts_port or free_port(host), alerts_replay
        self.alerts_url = f"http://{host}:{self.alerts_port}"
        self.alert_feeds = None
        self.schedule_seconds = schedule_seconds
        self.visibility_timeout = visibility_timeout
        self.secrets = secrets or DevSecrets.new().with_environment(os.environ)
        self.app_secret, self.verify_token = self.secrets.app_secret, self.secrets.verify_token
        self.access_token = self.secrets.access_token
        self.open311_api_key = self.secrets.open311_api_key  # the demo partner's Open311 key
        self.data_dir, self.snapshot_seconds = data_dir, snapshot_seconds
        self.snapshot = None  # a local.snapshot.Snapshot once started with a data_dir
        self.restored = {"items": 0, "objects": 0, "messages": 0}
        self.sandbox_rate_limit = sandbox_rate_limit
        self.access_log = access_log
        if moto not in MOTO_MODES:
            raise ValueError(f"moto must be one of {MOTO_MODES}")
        # thread: moto's server in this process (tests, which reach into moto's memory); process: in processes of
        # their own, DynamoDB in one and the other services in another, like AWS services on other CPUs (make dev,
        # benchmarks); memory: in this process's memory with no HTTP at all
        self.moto_mode = moto
        self.moto_children: list[subprocess.Popen] = []
        self.sandbox_process = sandbox_process  # True: the sandbox in a process of its own, like Meta
        self.consumers_elsewhere = consumers_elsewhere  # SQS consumers not polled here (local.consumer runs them)
        self.stop_event = threading.Event()
        self.threads: list[threading.Thread] = []
        self.api_url = f"http://{host}:{api_port}"
        self.sandbox_url = f"http://{host}:{sandbox_port}"
        self.web_url = f"http://{host}:{web_port}"
        self.app = self.api_server = self.sandbox = self.sandbox_child = self.moto = self.issuer = self.web = None
        self.staff_sign_in = None
        self.cognito = self.staff_pool_id = self.staff_client_id = None  # make dev's user pool on moto

    def _check_ports_free(self) -> None:
        ports = [("FILO_API_PORT", self.api_port), ("FILO_SANDBOX_PORT", self.sandbox_port),
                 ("FILO_WEB_PORT", self.web_port), ("FILO_ALERTS_PORT", self.alerts_port)]
        ports += [("FILO_MOTO_PORT", self.moto_port)] if self.moto_mode != "memory" else []
        for variable, port in ports:
            with socket.socket() as probe:
                if probe.connect_ex((self.host, port)) == 0:
                    raise SystemExit(f"Port {port} on {self.host} is in use (another make dev?): stop that process "
                                     f"or choose another port with {variable}.")

    def configure_environment(self) -> None:
        """Settings the app reads at import: they must be in place before app.py is imported."""
        os.environ.update(stage_environment("local"))
        os.environ.update({
            "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing",
            "AWS_DEFAULT_REGION": "eu-south-1", "AWS_REGION": "eu-south-1",
            "META_APP_SECRET": self.app_secret, "META_VERIFY_TOKEN": self.verify_token,
            "META_ACCESS_TOKEN": self.access_token, "GRAPH_URL": self.sandbox_url,
            "PUBLIC_BASE_URL": self.api_url, "PORTAL_URL": f"{self.web_url}/portal/",
            "CONSOLE_URL": f"{self.web_url}/console/",
            "RETRY_BASE_SECONDS": str(self.visibility_timeout),
            # make dev's user pool and console client get the same ids at every start (a hash of their names and
            # settings): the issuer and audience the app trusts stay the same, so an open console's token survives
            # a restart
            "MOTO_COGNITO_IDP_USER_POOL_ID_STRATEGY": "HASH", "MOTO_COGNITO_IDP_USER_POOL_CLIENT_ID_STRATEGY": "HASH",
            **self.issuer.env(),
        })

    def start(self) -> Stack:
        from local.issuer import LocalIssuer

        self._check_ports_free()
        self.issuer = LocalIssuer(self.secrets.issuer_key_pem, self.secrets.issuer_kid)
        self.configure_environment()
        self._start_moto()
        self._start_staff_pool()
        from local.bootstrap import create_all
        from local.seed import seed_demo

        create_all(visibility_timeout=self.visibility_timeout)
        self._restore_data()
        seed_demo(self.open311_api_key, alert_feeds_url=self.alerts_url)
        self._start_app()
        self._start_sandbox()
        self._start_alert_feeds()
        self._start_web()
        self._start_threads()
        self._wait_ready()
        return self

    def _start_staff_pool(self) -> None:
        """make dev's Cognito user pool on moto (local/bootstrap.py); the app trusts its ID tokens (moto's fixed
        signing key, the pool's issuer, the console client) besides the local issuer's, and drives its users from
        the staff admin API (STAFF_USER_POOL_ID)."""
        import boto3

        from chalicelib.settings import get_settings, resource_prefix
        from local.bootstrap import create_staff_pool

        self.cognito = boto3.client("cognito-idp")
        self.staff_pool_id, self.staff_client_id = create_staff_pool(self.cognito, resource_prefix())
        region = self.cognito.meta.region_name
        keys = json.loads(self.issuer.jwks())["keys"] + moto_cognito_keys()
        os.environ.update({
            "STAFF_USER_POOL_ID": self.staff_pool_id, "STAFF_JWKS": json.dumps({"keys": keys}),
            "STAFF_ISSUER": f"{os.environ['STAFF_ISSUER']},https://cognito-idp.{region}.amazonaws.com/{self.staff_pool_id}",
            "STAFF_AUDIENCE": f"{os.environ['STAFF_AUDIENCE']},{self.staff_client_id}",
        })
        get_settings.cache_clear()

    def _restore_data(self) -> None:
        """The data kept by the last run (nothing without a data_dir): before any consumer or request runs."""
        if self.data_dir is None:
            return
        from local.snapshot import Clients, Snapshot

        self.snapshot = Snapshot(self.data_dir, Clients())
        self.restored = self.snapshot.restore()

    def _start_threads(self) -> None:
        from local.runner import event_threads
        from local.snapshot import Snapshotter

        self.threads = event_threads(self.app, self.stop_event, self.schedule_seconds, self.consumers_elsewhere)
        if self.snapshot is not None and self.snapshot_seconds > 0:  # 0: only at a clean stop
            self.threads.append(Snapshotter(self.snapshot, self.snapshot_seconds, self.stop_event,
                                            changed=self._moto_changes()))
        for thread in self.threads:
            thread.start()

    def _moto_changes(self):
        """How a snapshot learns whether anything was written since the last one (None: it cannot, so it assumes
        so every period)."""
        from local.motoserver import changes_over_http

        if self.moto_mode == "process":
            asks = [changes_over_http(os.environ[k]) for k in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB")]
            return lambda: any([ask() for ask in asks])  # every one asked: each clears its own
        watch = getattr(self.moto, "watch", None)
        return watch.take_changes if watch else None

    def _start_moto(self) -> None:
        motofixes.apply()
        if self.moto_mode == "memory":
            from moto import mock_aws

            self.moto = mock_aws()
            self.moto.start()
            return
        os.environ["AWS_ENDPOINT_URL"] = f"http://{self.host}:{self.moto_port}"
        if self.moto_mode == "process":
            self._start_moto_process()
            return
        from local.motoserver import WatchedMotoServer

        self.moto = WatchedMotoServer(self.host, self.moto_port, access_log=self.access_log)
        self.moto.start()

    def _start_moto_process(self) -> None:
        """DynamoDB in one moto process, the other services in another: separate services, separate CPUs. Each
        says whether it was written to (for the snapshots) and, with the access log, prints a line per AWS call."""
        dynamodb_port = free_port(self.host)
        os.environ["AWS_ENDPOINT_URL_DYNAMODB"] = f"http://{self.host}:{dynamodb_port}"
        flags = ["--watch", *(["--access-log"] if self.access_log else [])]
        self.moto_children = [self._moto_child(port, *flags) for port in (self.moto_port, dynamodb_port)]
        for port in (self.moto_port, dynamodb_port):
            _wait_for_port(self.host, port, "moto")

    def _moto_child(self, port: int, *flags: str) -> subprocess.Popen:
        return subprocess.Popen([sys.executable, "-m", "local.motoserver", "--host", self.host, "--port", str(port),
                                 *flags], cwd=PROJECT_DIR, start_new_session=True)  # Ctrl-C is for this process

    def _start_app(self) -> None:
        from chalice.cli.factory import CLIFactory
        from chalice.local import create_local_server

        config = CLIFactory(str(PROJECT_DIR), environ=os.environ).create_config_obj(chalice_stage_name="local")
        self.app = config.chalice_app
        self.api_server = create_local_server(self.app, config, self.host, self.api_port)
        self.api_server.server.socket.listen(LISTEN_BACKLOG)  # Chalice's server listened with 5: widen its queue
        self.api_server.server.RequestHandlerClass = functools.partial(
            _handler_class(self.access_log), app_object=self.app, config=config)
        thread = threading.Thread(target=self.api_server.server.serve_forever, name="api", daemon=True)
        thread.start()

    def _start_sandbox(self) -> None:
        from local.sandbox import SandboxServer
        from local.seed import CHANNELS, TEMPLATES, WABA_ID

        templates = TEMPLATES + kept_templates(WABA_ID)
        channels = [{"phone_number_id": c.phone_number_id, "display_phone_number": c.display_phone_number,
                     "kind": c.kind, "tenant": c.tenant_id, "name": c.name, "waba_id": c.waba_id, "templates": templates}
                    for c in CHANNELS]
        if self.sandbox_process:
            self._start_sandbox_process(channels)
            return
        self.sandbox = SandboxServer(
            self.host, self.sandbox_port, app_secret=self.app_secret, access_token=self.access_token,
            webhook_url=f"{self.api_url}/webhooks/meta", channels=channels, rate_limit=self.sandbox_rate_limit)
        self.sandbox.start()

    def _start_alert_feeds(self) -> None:
        from local.alertfeeds import AlertFeedServer

        self.alert_feeds = AlertFeedServer(self.host, self.alerts_port, replay=self.alerts_replay).start()

    def _start_sandbox_process(self, channels: list[dict]) -> None:
        from local.sandbox.client import SandboxClient

        channels_file = Path(tempfile.mkdtemp()) / "channels.json"
        channels_file.write_text(json.dumps(channels))
        self.sandbox_child = subprocess.Popen([
            sys.executable, "-m", "local.sandbox", "--host", self.host, "--port", str(self.sandbox_port),
            "--webhook-url", f"{self.api_url}/webhooks/meta", "--app-secret", self.app_secret,
            "--access-token", self.access_token, "--channels", str(channels_file),
            "--rate-limit", str(self.sandbox_rate_limit)], cwd=PROJECT_DIR)
        self.sandbox = SandboxClient(self.sandbox_url)
        _wait_for_port(self.host, self.sandbox_port, "the sandbox")

    def _start_web(self) -> None:
        from local.seed import TENANT_ID
        from local.staff_signin import StaffSignIn
        from local.webserver import WebServer

        self.staff_sign_in = StaffSignIn(self.cognito, self.staff_pool_id, self.staff_client_id, TENANT_ID,
                                         self.secrets.staff_password)
        _seed_moto_random(DEMO_USERS_SEED)  # the demo users' ids (Cognito's sub) are the same at every start, so the
        self.staff_sign_in.seed_demo_users()  # roster, timelines and assignments kept from the last run still name them
        _seed_moto_random(secrets.randbits(64))  # and nothing else of moto's repeats across starts
        self.web = WebServer(self.host, self.web_port, self.api_url, self.web_config,
                             sign_in=self.staff_sign_in.token).start()

    def web_config(self) -> dict:
        """What the console and the portal read from /config.json at start (in AWS: a file next to them)."""
        from local.seed import TENANT_ID

        return {"tenant": TENANT_ID, "api_base": "", "tiles_url": os.environ.get("FILO_TILES_URL", ""),
                "sandbox_url": self.sandbox_url,
                "auth": {"mode": "local", "users": self.staff_sign_in.users() if self.staff_sign_in else []}}

    def _wait_ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{self.api_url}/health", timeout=2) as answer:
                    if answer.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError("the local stack did not become ready")

    def state(self) -> dict:
        """What tools and tests need to drive the stack (.local/dev.json)."""
        from chalicelib.domain.access import ROLES
        from local.seed import CHANNELS, HAMLETS, TENANT_ID, TOPICS
        from local.staff_signin import DEMO_NAMES

        return {
            "api_url": self.api_url, "sandbox_url": self.sandbox_url,
            "webhook_url": f"{self.api_url}/webhooks/meta", "app_secret": self.app_secret,
            "verify_token": self.verify_token, "tenant": TENANT_ID,
            # each role's demo user (the same person the console signs in as), for curl and tests
            "tokens": {role: self.issuer.token(TENANT_ID, [role], subject=self.staff_sign_in.subjects[role],
                                               name=DEMO_NAMES[role]) for role in ROLES},
            "channels": [{"phone_number_id": c.phone_number_id, "kind": c.kind, "tenant": c.tenant_id,
                          "display_phone_number": c.display_phone_number} for c in CHANNELS],
            "hamlets": [{k: h[k] for k in ("id", "name", "latitude", "longitude")} for h in HAMLETS],
            "topics": [t["id"] for t in TOPICS],
            "open311_api_key": self.open311_api_key,
            "console_url": self.web.app_url("console"), "portal_url": self.web.app_url("portal"),
            "staff_password": self.staff_sign_in.password,  # the console's demo users (admin, communications, ...)
            "aws_endpoints": {k: v for k, v in os.environ.items() if k.startswith("AWS_ENDPOINT_URL")},
        }

    def stop(self) -> None:
        """Consumers finish their batch (the sandbox still answers them), the servers stop, then the data is
        written down (queued messages too: nothing consumes them any more) before moto goes."""
        self.stop_event.set()
        deadline = time.monotonic() + THREADS_STOP_SECONDS  # one bound for all: a batch may still be running
        for thread in self.threads:
            thread.join(timeout=max(deadline - time.monotonic(), 0))
        if busy := [thread.name for thread in self.threads if thread.is_alive()]:
            log.warning("still busy at stop, left behind: %s", ", ".join(busy))
        if self.sandbox and not self.sandbox_child:
            self.sandbox.stop()
        if self.web:
            self.web.stop()
        if self.alert_feeds:
            self.alert_feeds.stop()
        if self.api_server:
            self.api_server.server.shutdown()
            self.api_server.server.server_close()
        self._keep_data()
        if self.moto:
            self.moto.stop()
        for child in (self.sandbox_child, *self.moto_children):
            if child and child.poll() is None:
                child.terminate()
                child.wait(timeout=10)

    def _keep_data(self) -> None:
        if self.snapshot is None:
            return
        try:
            self.snapshot.take(queues=True)
        except Exception:  # stopping must go on; the last periodic snapshot is still on disk
            log.exception("the data could not be written down at stop")


def _seed_moto_random(value: int) -> None:
    """moto's one source of ids (users' subs, message ids...), seeded: in this process, or over its API."""
    endpoint = os.environ.get("AWS_ENDPOINT_URL")
    if endpoint:
        urllib.request.urlopen(urllib.request.Request(f"{endpoint}/moto-api/seed?a={value}", method="POST"), timeout=10)
        return
    from moto.moto_api._internal import mock_random

    mock_random.seed(value)


def moto_cognito_keys() -> list[dict]:
    """The public key moto's Cognito signs every ID token with (kid "dummy"): trusted in make dev only."""
    import gzip
    from importlib import resources

    data = resources.files("moto.cognitoidp").joinpath("resources/jwks-public.json.gz").read_bytes()
    return json.loads(gzip.decompress(data))["keys"]


def access_log_wanted(environ: Mapping[str, str]) -> bool:
    """A line per request (the API's and moto's) only when asked: FILO_ACCESS_LOG=1, or FILO_LOG_LEVEL INFO/DEBUG."""
    if environ.get("FILO_ACCESS_LOG"):
        return _flag(environ["FILO_ACCESS_LOG"])
    return environ.get("FILO_LOG_LEVEL", "WARNING").upper() in ("INFO", "DEBUG")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--state-file", default=os.environ.get("FILO_STATE_FILE", str(PROJECT_DIR / ".local/dev.json")))
    parser.add_argument("--schedule-seconds", type=float, default=os.environ.get("FILO_SCHEDULE_SECONDS") or None,
                        help="fire every schedule at this period instead of its own rate")
    parser.add_argument("--fresh", action="store_true", default=_flag(os.environ.get("FILO_FRESH")),
                        help="forget the data and secrets kept by earlier runs (FILO_FRESH=1)")
    args = parser.parse_args()
    _stop_on_signals()
    level = os.environ.get("FILO_LOG_LEVEL", "WARNING").upper()
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", level)
    logging.basicConfig(level=level, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    started = time.monotonic()
    path = Path(args.state_file)
    kept = LocalDir(local_dir(os.environ, path))
    kept.lock()
    if args.fresh:
        kept.wipe()
    stack = Stack(
        api_port=_port("FILO_API_PORT", 8000), sandbox_port=_port("FILO_SANDBOX_PORT", 8001),
        moto_port=_port("FILO_MOTO_PORT", 8002), web_port=_port("FILO_WEB_PORT", 8003), schedule_seconds=args.schedule_seconds,
        secrets=kept.secrets(os.environ), data_dir=kept.data_dir, access_log=access_log_wanted(os.environ),
        snapshot_seconds=float(os.environ.get("FILO_SNAPSHOT_SECONDS") or SNAPSHOT_SECONDS),
        alerts_port=_port("FILO_ALERTS_PORT", 8004), alerts_replay=True, moto=os.environ.get("FILO_MOTO_MODE", "process"),
    ).start()
    try:
        _seed_demo_reports(stack)
        _read_alert_feeds_once()
        state = stack.state()
        write_private(path, json.dumps(state, indent=2))  # the password and tokens: for this user only
        _print_welcome(state, path, kept, stack.restored, time.monotonic() - started)
        while True:  # not one endless wait: a signal delivered to another thread would never wake it (the stop
            time.sleep(0.5)  # hung past 30 s in a test); Python runs the handler when this thread next wakes
    except KeyboardInterrupt:
        print("\nStopping Filo Diretto (writing the data down)...", flush=True)
    finally:
        faulthandler.dump_traceback_later(STOP_REPORT_SECONDS)  # a stop that hangs says where
        stack.stop()
        faulthandler.cancel_dump_traceback_later()
    _leave_now()


def _read_alert_feeds_once() -> None:
    """The demo comune's alert feed read at start, in the background (then every 5 minutes by its schedule): the
    console's Allerte page has a draft to show at once."""
    def read() -> None:
        try:
            from chalicelib.services.alerts import watch

            watch.run()
        except Exception:  # the stack must start whatever a feed does
            log.exception("the first read of the alert feeds failed")
    threading.Thread(target=read, name="alerts-first-read", daemon=True).start()


def _leave_now() -> None:
    """The data is written down and the servers are closed: leave without the interpreter's teardown, which
    frees moto's whole memory object by object (a second or more) and waits for any worker thread still
    retrying a send against the closed servers."""
    if stragglers := [t.name for t in threading.enumerate() if t is not threading.main_thread() and not t.daemon]:
        log.warning("left behind at exit: %s", ", ".join(stragglers))
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def _flag(value: str | None) -> bool:
    return (value or "").strip().lower() not in ("", "0", "false", "no")


def _stop_on_signals() -> None:
    """Ctrl-C (SIGINT) and SIGTERM stop the stack cleanly, even when started from a shell that ignores SIGINT in
    background jobs (Python leaves an inherited 'ignore' in place)."""
    def stop(signum, frame):
        raise KeyboardInterrupt
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, stop)


def _seed_demo_reports(stack: Stack) -> None:
    """A few citizens' reports to triage in the console (tests file their own); make dev runs without them."""
    from local.demo_reports import seed_demo_reports

    try:
        seed_demo_reports(stack)
    except (OSError, RuntimeError) as error:
        log.warning("demo reports not seeded: %s", error)


def _print_welcome(state: dict, path: Path, kept: LocalDir, restored: dict[str, int], seconds: float) -> None:
    """The long tokens first, then what a person needs (URLs, the password), last, so it stays on screen."""
    print("\nStaff tokens (Authorization: Bearer <token>; also in the state file):")
    for role, token in state["tokens"].items():
        print(f"  {role:<15} {token}")
    print(f"""
Filo Diretto is running (ready in {seconds:.1f} s). State for tools: {path}

  Channels of "{state['tenant']}" (Comune di Esempio):""")
    for channel in state["channels"]:
        print(f"    {channel['kind']:<10} {channel['phone_number_id']}  {channel['display_phone_number']}")
    print(f"""
  Webhook          {state['webhook_url']}
  App secret       {state['app_secret']}   Verify token  {state['verify_token']}
  Staff API        {state['api_url']}   (GET /health, /api/v1/me ...)
  Phone simulator  {state['sandbox_url']}/   (chat as a citizen)
  Citizen portal   {state['portal_url']}
  Staff console    {state['console_url']}
                   sign in as admin, communications, technical or police, password {state['staff_password']}

  {_kept_line(kept, restored)}
  A clean start: FILO_FRESH=1 make dev (or make dev-clean). A line per request: FILO_ACCESS_LOG=1 make dev.

Press Ctrl-C to stop.""", flush=True)


def _kept_line(kept: LocalDir, restored: dict[str, int]) -> str:
    where = f"Data, password, secrets and tokens are kept in {kept.root} between restarts"
    if not any(restored.values()):
        return where + "."
    return (f"{where}: restored {restored['items']} items, {restored['objects']} photos and files, "
            f"{restored['messages']} queued messages.")



def kept_templates(waba_id: str) -> list[dict]:
    """The templates the app holds for a business account beyond the seeded ones (created in the console in an
    earlier run, with their id and review status): the sandbox, which keeps nothing, knows them again."""
    from chalicelib.store import templates
    from local.sandbox.templates import TemplateError, parse_template
    from local.seed import TEMPLATES

    seeded = {(t["name"], t["language"]) for t in TEMPLATES}
    kept = []
    for held in templates.of_account(waba_id):
        definition = {"id": held.template_id, "name": held.name, "language": held.language, "status": held.status,
                      "category": held.category, "components": held.components,
                      "rejected_reason": held.rejected_reason, "previous_category": held.previous_category}
        try:
            parse_template(definition)
        except TemplateError:
            continue  # a status the sandbox does not know (e.g. IN_APPEAL): left to the app's poll
        if (held.name, held.language) not in seeded:
            kept.append(definition)
    return kept


if __name__ == "__main__":
    main()
