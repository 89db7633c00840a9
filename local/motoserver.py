"""moto's server in a process of its own: `python -m local.motoserver --port 8002`.

AWS services do not run on the caller's CPU; the broadcast benchmark (bench/broadcast.py --moto process)
starts moto this way, one process per service group. moto's own server (werkzeug's) closes the connection
after every request, so each AWS call would pay a new TCP connection and a new thread on both sides;
waitress keeps connections alive and serves from a pool of threads.
"""
from __future__ import annotations

import argparse
import logging

THREADS = 32  # SQS long polls each hold one while they wait


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    import waitress
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    from local.devserver import speed_up_moto

    speed_up_moto()
    logging.getLogger("waitress").setLevel(logging.ERROR)
    waitress.serve(DomainDispatcherApplication(create_backend_app), host=args.host, port=args.port,
                   threads=THREADS, ident="moto", channel_timeout=300, connection_limit=1000)


if __name__ == "__main__":
    main()
