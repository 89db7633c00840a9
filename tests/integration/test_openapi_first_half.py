"""The first half of the schemathesis run of test_openapi.py (reports, Vicinato, the agenda, the alerts and the
public routes), in a module of its own so that it runs beside the other half under make test."""
from __future__ import annotations

import pytest

from tests.integration.test_openapi import FIRST_HALF, run_schemathesis, token  # noqa: F401 (the comune's fixture)

pytestmark = pytest.mark.long  # started first by make test (tests/conftest.py)


@pytest.mark.timeout(600)
def test_schemathesis_finds_no_server_error_in_the_first_half(stack, token, tmp_path):  # noqa: F811
    run_schemathesis(stack, token, tmp_path, "--include-path-regex", FIRST_HALF)
