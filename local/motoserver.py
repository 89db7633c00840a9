"""moto's server in a process of its own: `python -m local.motoserver --port 8002`.

AWS services do not run on the caller's CPU; benchmarks that must not charge moto's emulation to the app
(bench/broadcast.py --moto process) start it this way. `make dev` keeps moto in its own process's thread.
"""
from __future__ import annotations

import argparse
import logging
import threading


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    from moto.server import ThreadedMotoServer

    from local.devserver import speed_up_moto

    speed_up_moto()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    ThreadedMotoServer(ip_address=args.host, port=args.port, verbose=False).start()
    threading.Event().wait()


if __name__ == "__main__":
    main()
