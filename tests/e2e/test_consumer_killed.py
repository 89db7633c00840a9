"""A consumer killed with SIGKILL mid-broadcast (docs/reliability.md, row S21): bench/consumer_kill.py runs the
stack with the outbound sender in a process of its own, kills it once some messages have gone, starts another,
and measures the time until every recipient has its message."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.long  # started first by make test (tests/conftest.py)

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.timeout(420)
def test_a_consumer_killed_mid_broadcast_is_recovered_in_under_a_minute_with_nothing_lost_or_doubled():
    finished = subprocess.run([sys.executable, "bench/consumer_kill.py", "--json", "--timeout", "120"], cwd=ROOT,
                              capture_output=True, text=True, timeout=400)
    assert finished.returncode == 0, finished.stderr[-3000:]
    result = json.loads(finished.stdout.strip().splitlines()[-1])
    print(f"\n[fault-matrix] S21 {result}", flush=True)
    assert 0 < result["sent_at_kill"] < result["subscribers"]  # killed mid-broadcast
    assert result["recovery_s"] is not None and result["recovery_s"] < 60
    assert (result["lost"], result["duplicates"]) == (0, 0)
    assert result["status"] == "completed" and result["counters"]["sent"] == result["subscribers"]
