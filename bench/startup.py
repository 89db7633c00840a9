"""Measures how long `make dev` takes from launch to a ready stack (state file written, /health 200)."""
from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from local.devserver import free_port  # noqa: E402


def one_start() -> float:
    with tempfile.TemporaryDirectory() as folder:
        state = Path(folder) / "dev.json"
        env = {**os.environ, "FILO_API_PORT": str(free_port()), "FILO_SANDBOX_PORT": str(free_port()),
               "FILO_MOTO_PORT": str(free_port()), "FILO_WEB_PORT": str(free_port()), "FILO_STATE_FILE": str(state)}
        started = time.monotonic()
        process = subprocess.Popen([sys.executable, "-m", "local.devserver"], cwd=ROOT, env=env,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            while not state.exists():
                if process.poll() is not None or time.monotonic() - started > 120:
                    raise RuntimeError("the stack did not start")
                time.sleep(0.05)
            return time.monotonic() - started
        finally:
            process.send_signal(signal.SIGINT)
            process.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    times = [one_start() for _ in range(args.runs)]
    print(f"make dev start-up to ready, {args.runs} runs: median {statistics.median(times):.2f} s, "
          f"min {min(times):.2f} s, max {max(times):.2f} s")


if __name__ == "__main__":
    main()
