"""Command line for the sandbox provider: python -m local.sandbox --port 8001 --webhook-url ... --channels channels.json."""
from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import threading
from pathlib import Path
from typing import Any

from .server import SandboxServer

DEFAULT_CHANNELS: list[dict[str, Any]] = [
    {"phone_number_id": "100000000000001", "display_phone_number": "+39 0571 000001", "kind": "broadcast",
     "tenant": "demo", "name": "Comune Demo - Avvisi"},
    {"phone_number_id": "100000000000002", "display_phone_number": "+39 0571 000002", "kind": "reports",
     "tenant": "demo", "name": "Comune Demo - Segnalazioni"},
    {"phone_number_id": "100000000000003", "display_phone_number": "+39 0571 000003", "kind": "safety",
     "tenant": "demo", "name": "Comune Demo - Protezione civile"},
]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    env = os.environ.get
    parser = argparse.ArgumentParser(prog="python -m local.sandbox", description=__doc__)
    parser.add_argument("--host", default=env("SANDBOX_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(env("SANDBOX_PORT", "8001")))
    parser.add_argument("--webhook-url", default=env("SANDBOX_WEBHOOK_URL", "http://127.0.0.1:8000/webhooks/meta"),
                        help="the app's Meta webhook, where inbound messages and statuses are posted")
    parser.add_argument("--app-secret", default=env("META_APP_SECRET", "sandbox-app-secret"),
                        help="signs webhooks (X-Hub-Signature-256)")
    parser.add_argument("--access-token", default=env("META_ACCESS_TOKEN", "sandbox-access-token"),
                        help="the bearer token the Graph API endpoints accept")
    parser.add_argument("--channels", type=Path, default=None,
                        help='JSON file: a list of channels (or {"channels": [...]}); default: three demo channels')
    parser.add_argument("--rate-limit", type=float, default=80.0, help="sends per second per phone number")
    parser.add_argument("--no-status-webhooks", action="store_true", help="do not post sent/delivered/read")
    parser.add_argument("--strict-versions", action="store_true",
                        help="accept only the Graph API versions Meta still serves")
    parser.add_argument("--config", type=json.loads, default={},
                        help='extra settings as JSON (see local/sandbox/settings.py), e.g. \'{"fault_rate": 0.1, "seed": 7}\'')
    parser.add_argument("--verbose", "-v", action="store_true", help="log every request")
    return parser.parse_args(argv)


def load_channels(path: Path | None) -> list[dict[str, Any]]:
    if path is None:
        return DEFAULT_CHANNELS
    data = json.loads(path.read_text(encoding="utf-8"))
    channels = data.get("channels") if isinstance(data, dict) else data
    if not isinstance(channels, list) or not channels:
        raise SystemExit(f"{path}: expected a non-empty list of channels")
    return channels


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    server = SandboxServer(
        args.host, args.port, app_secret=args.app_secret, access_token=args.access_token,
        webhook_url=args.webhook_url, channels=load_channels(args.channels), rate_limit=args.rate_limit,
        status_webhooks=not args.no_status_webhooks, graph_versions_any=not args.strict_versions, **args.config)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    server.start()
    print(f"Sandbox WhatsApp provider on {server.url} (phone page: {server.url}/), "
          f"webhooks to {args.webhook_url}", file=sys.stderr, flush=True)
    try:
        while not done.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
