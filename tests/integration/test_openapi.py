"""The OpenAPI document of /api/v1 and /public/v1 (GET /api/v1/openapi.json): served without a token, complete
(every route of the app is in it) and true: schemathesis loads it from the running stack and tests every
operation (examples, coverage, fuzzing, then linked sequences) as an admin of a comune of its own; every answer
must be no server error and have a documented status, content type and body. No operation is excluded: the
comune is the test's own, so erasing or broadcasting there disturbs no other test's data.

schemathesis runs through its command line (its pytest integration does not work with pytest 9.2); this module
is also its hooks module (SCHEMATHESIS_HOOKS), so it imports nothing of the app at module level."""
from __future__ import annotations

import os
import subprocess
import sys
import time
import zlib
from pathlib import Path

import pytest
import requests
import schemathesis

pytestmark = pytest.mark.long  # started first by make test (tests/conftest.py)

PROJECT_DIR = Path(__file__).resolve().parents[2]
CHECKS = "not_a_server_error,response_schema_conformance,content_type_conformance,status_code_conformance"
MAX_EXAMPLES = 25  # per operation and phase; deterministic generation, no shrinking: the run repeats itself
# The coverage phase also tries methods an operation lacks (the app answers 405). TRACE and QUERY are left out:
# the local server (http.server) refuses them with a 501 of its own before the app sees them, as API Gateway
# refuses them in AWS.
CONFIG = """
[phases.coverage]
unexpected-methods = ["get", "put", "post", "delete", "options", "patch"]
"""
HTTP_METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}
DOCUMENTED_PREFIXES = ("/api/v1/", "/public/v1/")

# The document's examples name the demo comune of make dev and its channels; the run aims them at its own.
DEMO_TENANT = "demo"
DEMO_CHANNELS = {"broadcast": "100000000000001", "reports": "100000000000002", "safety": "100000000000003"}
OWN_TENANT = "openapi"
OWN_CHANNELS = {"broadcast": "500000000000001", "reports": "500000000000002", "safety": "500000000000003"}
OWN_WABA = "500000000000009"  # its WhatsApp Business Account: the templates routes submit there, not to the demo's
RENAMES = {DEMO_TENANT: OWN_TENANT, **{DEMO_CHANNELS[kind]: OWN_CHANNELS[kind] for kind in DEMO_CHANNELS}}


def aim(case) -> None:
    """Point a case's tenant and channel ids (path, query, body's channel) at the test's comune: see own()."""
    for values in (case.path_parameters, case.query):
        for name, value in list((values or {}).items()):
            values[name] = own(name, value)
    if isinstance(case.body, dict) and "channel" in case.body:
        case.body["channel"] = own("channel", case.body["channel"])


def own(name: str, value):
    """The demo's ids become the comune's own. Of the other generated tenant and channel ids, half (by a stable
    hash, so runs repeat) become the comune's too: random ids alone would never get past the lookup (404), and
    the other half still tests that answer."""
    if not isinstance(value, str):
        return value
    if value in RENAMES:
        return RENAMES[value]
    if name in ("tenant", "channel", "channel_id") and zlib.crc32(value.encode()) % 2:
        return OWN_TENANT if name == "tenant" else OWN_CHANNELS["broadcast"]
    return value


@schemathesis.hook
def before_call(context, case, kwargs):
    """The schemathesis run's hook (SCHEMATHESIS_HOOKS names this module)."""
    aim(case)


def create_own_comune(stack) -> str:
    """A comune like the demo one (hamlets, topics, report set-up, three channels) with ids of its own; returns
    an admin token of it."""
    from chalicelib.domain.tenancy import Channel
    from chalicelib.store import directory
    from local.seed import CHANNELS, HAMLETS, REPORTS, TEMPLATES, TOPICS, _square

    directory.save_tenant(OWN_TENANT, "Comune di Prova OpenAPI", {
        "hamlets": [{**h, "geometry": _square(h["latitude"], h["longitude"])} for h in HAMLETS],
        "topics": TOPICS, "reports": REPORTS, "language": "it",
        "privacy_notice_url": "https://example.org/privacy", "privacy_notice_version": "v1",
        # schemathesis is a script at full speed: above any person's rate, and it creates many broadcasts
        "limits": {"staff_requests_per_minute": 100_000, "broadcasts_per_user_per_hour": 1000, "broadcasts_per_day": 10_000},
    })
    for demo in CHANNELS:
        own = Channel(OWN_CHANNELS[demo.kind], OWN_TENANT, demo.kind, demo.name, demo.display_phone_number,
                      demo.settings, OWN_WABA)
        directory.save_channel(own)
        stack.sandbox.add_channel({"phone_number_id": own.phone_number_id, "kind": own.kind, "tenant": OWN_TENANT,
                                   "waba_id": OWN_WABA, "templates": TEMPLATES})
    return stack.issuer.token(OWN_TENANT, ["admin"])


def test_document_is_public_openapi_3_1_and_names_every_route(stack):
    from local.seed import CHANNELS, TENANT_ID

    answer = requests.get(f"{stack.api_url}/api/v1/openapi.json", timeout=10)
    assert answer.status_code == 200, answer.text
    assert answer.headers["Content-Type"].startswith("application/json")
    document = answer.json()
    assert document["openapi"].startswith("3.1.")
    schemathesis.openapi.from_dict(document).validate()

    routes = {(path, method.lower()) for path, methods in stack.app.routes.items()
              if path.startswith(DOCUMENTED_PREFIXES) for method in methods}
    documented = {(path, method) for path, item in document["paths"].items() for method in item
                  if method in HTTP_METHODS}
    assert routes - documented == set(), "routes missing from the OpenAPI document"
    assert documented - routes == set(), "documented operations the app does not have"

    assert document["security"] == [{"bearerAuth": []}]
    assert document["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    for path, method in documented:
        operation = document["paths"][path][method]
        open_to_all = operation.get("security") == []
        assert open_to_all == (path == "/api/v1/openapi.json" or path.startswith("/public/")), (method, path)
        assert open_to_all or "401" in operation["responses"], (method, path)
    assert (DEMO_TENANT, DEMO_CHANNELS) == (TENANT_ID, {c.kind: c.phone_number_id for c in CHANNELS})


def test_every_route_of_the_documented_apis_has_its_entry(stack):
    """A new route under /api/v1 or /public/v1 without @documented fails here, naming its view."""
    document = requests.get(f"{stack.api_url}/api/v1/openapi.json", timeout=10).json()
    for path, methods in stack.app.routes.items():
        for method, route in methods.items():
            if path.startswith(DOCUMENTED_PREFIXES):
                view = route.view_function
                where = f"{method} {path}: {view.__module__}.{view.__name__}"
                assert hasattr(view, "openapi_entry"), f"{where} needs @documented (chalicelib/api/openapi.py)"
                assert method.lower() in document["paths"].get(path, {}), f"{where} is not in the document"


def test_each_staff_route_lists_exactly_the_roles_of_its_capabilities(stack):
    from chalicelib.domain.access import MAY

    document = requests.get(f"{stack.api_url}/api/v1/openapi.json", timeout=10).json()
    for path, item in document["paths"].items():
        for method, operation in ((m, o) for m, o in item.items() if m in HTTP_METHODS):
            view = stack.app.routes[path][method.upper()].view_function
            if not hasattr(view, "staff_capabilities"):
                assert "x-roles" not in operation and operation["security"] == [], (method, path)
                continue
            roles = sorted({role.value for capability in view.staff_capabilities for role in MAY[capability]})
            assert operation.get("x-roles", []) == roles, (method, path)
            assert ("403" in operation["responses"]) == bool(roles), (method, path)
            if roles:
                assert f"Roles: {', '.join(roles)}." in operation["description"], (method, path)


@pytest.fixture(scope="module")
def token(stack) -> str:
    return create_own_comune(stack)


# The run is split in two halves of about 50 operations, the second in test_openapi_first_half.py, so that make
# test's two processes each take one (pytest-xdist --dist loadfile keeps a module in one process).
FIRST_HALF = r"^/(api/v1/(reports|vicinato|agenda|alerts)|public/v1/)"


@pytest.mark.timeout(600)  # a few minutes on 2 cores; the default 120 s per test is for ordinary tests
def test_schemathesis_finds_no_server_error_and_no_answer_outside_the_document(stack, token, tmp_path):
    run_schemathesis(stack, token, tmp_path, "--exclude-path-regex", FIRST_HALF)


def run_schemathesis(stack, token: str, tmp_path: Path, *selection: str) -> None:
    config = tmp_path / "schemathesis.toml"
    config.write_text(CONFIG)
    command = [
        sys.executable, "-m", "schemathesis.cli", "--config-file", str(config), "run",
        f"{stack.api_url}/api/v1/openapi.json",
        "--url", stack.api_url, "--header", f"Authorization: Bearer {token}", "--checks", CHECKS,
        "--phases", "examples,coverage,fuzzing,stateful", "--max-examples", str(MAX_EXAMPLES),
        "--generation-deterministic", "--no-shrink", "--workers", "1",
        "--suppress-health-check", "all", "--request-timeout", "30", "--report-dir", str(tmp_path), *selection,
    ]
    environment = {**os.environ, "SCHEMATHESIS_HOOKS": "tests.integration.test_openapi", "NO_COLOR": "1",
                   "PYTHONPATH": str(PROJECT_DIR)}
    started = time.monotonic()
    run = subprocess.run(command, cwd=PROJECT_DIR, env=environment, capture_output=True, text=True, timeout=600)
    print(f"schemathesis ran for {time.monotonic() - started:.0f} s\n{run.stdout[-30000:]}")
    assert run.returncode == 0, f"schemathesis found problems:\n{run.stdout[-30000:]}\n{run.stderr[-5000:]}"



@pytest.mark.parametrize("method, path, kwargs, status, code", [
    # a date-time at the end of the calendar overflowed quiet-hours arithmetic (500)
    ("POST", "/api/v1/broadcasts", {"json": {"channel": OWN_CHANNELS["broadcast"], "text": "Prova",
                                             "send_at": "9999-12-31T23:59:59+00:00"}}, 422, "invalid_broadcast"),
    # far-off dates have odd zone offsets (Rome's +00:49:56 before 1893), not valid date-times in the answer
    ("GET", "/api/v1/reports/kpis", {"params": {"to": "0731-12-27"}}, 422, "invalid_request"),
    ("GET", "/api/v1/reports", {"params": {"status": "new,closed"}}, 422, "invalid_request"),
    ("POST", "/api/v1/reports/2026-0000001/transitions", {"json": {"to": "closed"}}, 422, "invalid_request"),
    # a CSV field over the csv module's limit (128 KiB) was a 500
    ("POST", "/api/v1/subscribers/import", {"data": b"phone,name\n3331234567," + b"x" * 200_000,
                                            "headers": {"Content-Type": "text/csv"}}, 422, "invalid_csv"),
    # ids longer than any real one are no one's (DynamoDB refuses keys that long: a 500 in AWS)
    ("GET", "/api/v1/subscribers", {"params": {"channel": "1" * 3000}}, 404, "not_found"),
    ("GET", f"/api/v1/subscribers/bsuid:{'x' * 3000}", {}, 404, "not_found"),
    ("POST", f"/public/v1/{'t' * 3000}/subscriptions", {"json": {"phone": "+39 333 111 2222", "consent": True}},
     404, "not_found"),
    # Chalice's own refusals, in the documented error shape
    ("POST", "/api/v1/subscribers", {"data": "phone=1", "headers": {"Content-Type": "text/plain"}}, 415,
     "unsupported_media_type"),
    ("PUT", "/api/v1/me", {}, 405, "method_not_allowed"),
])
def test_edges_that_generated_requests_rarely_reach(stack, token, method, path, kwargs, status, code):
    kwargs = dict(kwargs)
    headers = {"Authorization": f"Bearer {token}", **kwargs.pop("headers", {})}
    answer = requests.request(method, f"{stack.api_url}{path}", headers=headers, timeout=30, **kwargs)
    assert (answer.status_code, answer.json()["error"]["code"]) == (status, code), answer.text
