"""Shared fixtures: the whole local stack, started once per test session on free ports (under make test's
pytest-xdist, once per worker process: each worker has its own moto, queues, sandbox and app)."""
from __future__ import annotations

import pytest

from local.devserver import Stack, free_port


def pytest_collection_modifyitems(items):
    """Files marked `long` (a minute or more of one worker) first: make test hands out whole files in this order
    (--dist loadfile --no-loadscope-reorder), and a long file handed out last leaves the other workers idle until it
    ends (the two schemathesis halves did: four minutes of one worker at the end of the run)."""
    items.sort(key=lambda item: item.get_closest_marker("long") is None)  # stable: the rest keep their order


@pytest.fixture(scope="session")
def stack():
    """moto server, the Chalice app over HTTP, real SQS pollers, the sandbox provider, the demo comune. No data_dir:
    unlike make dev it starts empty every session and keeps nothing (tests/integration/test_dev_snapshot.py)."""
    started = Stack(api_port=free_port(), sandbox_port=free_port(), moto_port=free_port(), web_port=free_port(),
                    visibility_timeout=1, schedule_seconds=3600, access_log=False).start()
    yield started
    started.stop()
