"""make dev: the whole system on this machine: moto, the Chalice app, pollers, scheduler, sandbox, demo data."""
from __future__ import annotations

import argparse
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
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
log = logging.getLogger("filo.local")


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def _port(env_name: str, default: int) -> int:
    value = os.environ.get(env_name)
    return int(value) if value else default


MOTO_MODES = ("thread", "process", "memory")


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


def speed_up_moto() -> None:
    """Two lookups of moto 5.2 that cost more than the emulated request under load.

    moto looks a service's backend up on every request under a global lock, scanning a list of every
    backend (moto 5.2 BackendDict._create_account_specific_backend); under load that lock and scan cost
    more than the request. Once a backend exists and is registered, the lookup can return at once."""
    from moto.core.base_backend import BackendDict

    original = BackendDict._create_account_specific_backend
    if getattr(original, "filo_fast", False):
        return

    def lookup(self, account_id: str) -> None:
        if getattr(self, "_filo_registered", False) and dict.__contains__(self, account_id):
            return
        original(self, account_id)
        self._filo_registered = True

    lookup.filo_fast = True
    BackendDict._create_account_specific_backend = lookup
    _cache_moto_module_list()


def _cache_moto_module_list() -> None:
    """moto's server lists its own package directory (os.listdir and a stat per entry, ~200 of them) on every
    request to tell which service a host names; the list never changes while it runs."""
    from moto import backends

    modules = tuple(backends.list_of_moto_modules())
    backends.list_of_moto_modules = lambda: modules


def _quiet_handler_class():
    from chalice.local import ChaliceRequestHandler

    class QuietRequestHandler(ChaliceRequestHandler):
        def log_message(self, format, *args):  # noqa: A002 - the base class's signature
            pass
    return QuietRequestHandler


class Stack:
    """Everything make dev runs, in one process; tests start it on free ports."""

    def __init__(self, host: str = "127.0.0.1", api_port: int = 8000, sandbox_port: int = 8001,
                 moto_port: int = 8002, web_port: int = 8003, schedule_seconds: float | None = None, visibility_timeout: int = 5,
                 app_secret: str | None = None, verify_token: str | None = None,
                 sandbox_rate_limit: float = 80.0, access_log: bool = True, moto: str = "thread",
                 sandbox_process: bool = False, consumers_elsewhere: tuple[str, ...] = ()):
        self.host, self.api_port, self.sandbox_port, self.moto_port = host, api_port, sandbox_port, moto_port
        self.web_port = web_port
        self.schedule_seconds = schedule_seconds
        self.visibility_timeout = visibility_timeout
        self.app_secret = app_secret or secrets.token_hex(16)
        self.verify_token = verify_token or secrets.token_urlsafe(12)
        self.access_token = "sandbox-" + secrets.token_hex(12)
        self.open311_api_key = "o311-" + secrets.token_urlsafe(18)  # the demo partner's Open311 key
        self.sandbox_rate_limit = sandbox_rate_limit
        self.access_log = access_log
        if moto not in MOTO_MODES:
            raise ValueError(f"moto must be one of {MOTO_MODES}")
        # thread: moto's server in this process (make dev); process: in processes of their own, like AWS
        # services (benchmarks); memory: in this process's memory with no HTTP at all
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

    def _check_ports_free(self) -> None:
        ports = [("FILO_API_PORT", self.api_port), ("FILO_SANDBOX_PORT", self.sandbox_port),
                 ("FILO_WEB_PORT", self.web_port)]
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
            "RETRY_BASE_SECONDS": str(self.visibility_timeout),
            **self.issuer.env(),
        })

    def start(self) -> Stack:
        from local.issuer import LocalIssuer

        self._check_ports_free()
        self.issuer = LocalIssuer()
        self.configure_environment()
        self._start_moto()
        from local.bootstrap import create_all
        from local.seed import seed_demo

        create_all(visibility_timeout=self.visibility_timeout)
        seed_demo(self.open311_api_key)
        self._start_app()
        self._start_sandbox()
        self._start_web()
        from local.runner import event_threads

        self.threads = event_threads(self.app, self.stop_event, self.schedule_seconds, self.consumers_elsewhere)
        for thread in self.threads:
            thread.start()
        self._wait_ready()
        return self

    def _start_moto(self) -> None:
        speed_up_moto()
        if self.moto_mode == "memory":
            from moto import mock_aws

            self.moto = mock_aws()
            self.moto.start()
            return
        os.environ["AWS_ENDPOINT_URL"] = f"http://{self.host}:{self.moto_port}"
        if self.moto_mode == "process":
            self._start_moto_process()
            return
        from moto.server import ThreadedMotoServer

        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # moto's access log: one line per AWS call
        self.moto = ThreadedMotoServer(ip_address=self.host, port=self.moto_port, verbose=False)
        self.moto.start()

    def _start_moto_process(self) -> None:
        """DynamoDB in one moto process, the other services in another: separate services, separate CPUs."""
        dynamodb_port = free_port(self.host)
        os.environ["AWS_ENDPOINT_URL_DYNAMODB"] = f"http://{self.host}:{dynamodb_port}"
        self.moto_children = [
            subprocess.Popen([sys.executable, "-m", "local.motoserver", "--host", self.host, "--port", str(port)],
                             cwd=PROJECT_DIR)
            for port in (self.moto_port, dynamodb_port)]
        for port in (self.moto_port, dynamodb_port):
            _wait_for_port(self.host, port, "moto")

    def _start_app(self) -> None:
        from chalice.cli.factory import CLIFactory
        from chalice.local import create_local_server

        config = CLIFactory(str(PROJECT_DIR), environ=os.environ).create_config_obj(chalice_stage_name="local")
        self.app = config.chalice_app
        self.api_server = create_local_server(self.app, config, self.host, self.api_port)
        if not self.access_log:
            self.api_server.server.RequestHandlerClass = functools.partial(
                _quiet_handler_class(), app_object=self.app, config=config)
        thread = threading.Thread(target=self.api_server.server.serve_forever, name="api", daemon=True)
        thread.start()

    def _start_sandbox(self) -> None:
        from local.sandbox import SandboxServer
        from local.seed import CHANNELS

        channels = [{"phone_number_id": c.phone_number_id, "display_phone_number": c.display_phone_number,
                     "kind": c.kind, "tenant": c.tenant_id, "name": c.name} for c in CHANNELS]
        if self.sandbox_process:
            self._start_sandbox_process(channels)
            return
        self.sandbox = SandboxServer(
            self.host, self.sandbox_port, app_secret=self.app_secret, access_token=self.access_token,
            webhook_url=f"{self.api_url}/webhooks/meta", channels=channels, rate_limit=self.sandbox_rate_limit)
        self.sandbox.start()

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

        self.staff_sign_in = StaffSignIn(self.issuer, TENANT_ID)
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
            "tokens": {role: self.issuer.token(TENANT_ID, [role], name=DEMO_NAMES[role]) for role in ROLES},
            "channels": [{"phone_number_id": c.phone_number_id, "kind": c.kind, "tenant": c.tenant_id,
                          "display_phone_number": c.display_phone_number} for c in CHANNELS],
            "hamlets": [{k: h[k] for k in ("id", "name", "latitude", "longitude")} for h in HAMLETS],
            "topics": [t["id"] for t in TOPICS],
            "open311_api_key": self.open311_api_key,
            "console_url": self.web.app_url("console"), "portal_url": self.web.app_url("portal"),
            "staff_password": self.staff_sign_in.password,  # the console's demo users (admin, communications, ...)
        }

    def stop(self) -> None:
        self.stop_event.set()
        if self.sandbox and not self.sandbox_child:
            self.sandbox.stop()
        if self.web:
            self.web.stop()
        if self.api_server:
            self.api_server.server.shutdown()
            self.api_server.server.server_close()
        for thread in self.threads:
            thread.join(timeout=5)
        if self.moto:
            self.moto.stop()
        for child in (self.sandbox_child, *self.moto_children):
            if child and child.poll() is None:
                child.terminate()
                child.wait(timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--state-file", default=os.environ.get("FILO_STATE_FILE", str(PROJECT_DIR / ".local/dev.json")))
    parser.add_argument("--schedule-seconds", type=float, default=os.environ.get("FILO_SCHEDULE_SECONDS") or None,
                        help="fire every schedule at this period instead of its own rate")
    args = parser.parse_args()
    _stop_on_signals()
    level = os.environ.get("FILO_LOG_LEVEL", "WARNING").upper()
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", level)
    logging.basicConfig(level=level, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    started = time.monotonic()
    stack = Stack(
        api_port=_port("FILO_API_PORT", 8000), sandbox_port=_port("FILO_SANDBOX_PORT", 8001),
        moto_port=_port("FILO_MOTO_PORT", 8002), web_port=_port("FILO_WEB_PORT", 8003), schedule_seconds=args.schedule_seconds,
        app_secret=os.environ.get("FILO_APP_SECRET"), verify_token=os.environ.get("FILO_VERIFY_TOKEN"),
    ).start()
    try:
        _seed_demo_reports(stack)
        state = stack.state()
        path = Path(args.state_file)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(state, indent=2))
        _print_welcome(state, path, time.monotonic() - started)
        threading.Event().wait()
    except KeyboardInterrupt:
        print("\nStopping Filo Diretto...")
    finally:
        stack.stop()


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


def _print_welcome(state: dict, path: Path, seconds: float) -> None:
    print(f"""
Filo Diretto is running (ready in {seconds:.1f} s). State for tools: {path}

  Staff console    {state['console_url']}
                   sign in as admin, communications, technical or police, password {state['staff_password']}
  Citizen portal   {state['portal_url']}
  Staff API        {state['api_url']}   (GET /health, /api/v1/me ...)
  Phone simulator  {state['sandbox_url']}/   (chat as a citizen)
  Webhook          {state['webhook_url']}
  App secret       {state['app_secret']}
  Verify token     {state['verify_token']}

  Channels of "{state['tenant']}" (Comune di Esempio):""")
    for channel in state["channels"]:
        print(f"    {channel['kind']:<10} {channel['phone_number_id']}  {channel['display_phone_number']}")
    print("\n  Staff tokens (Authorization: Bearer <token>):")
    for role, token in state["tokens"].items():
        print(f"    {role:<15} {token}")
    print("\nPress Ctrl-C to stop.", flush=True)


if __name__ == "__main__":
    main()
