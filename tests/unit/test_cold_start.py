"""Cold start (issue 18): which modules `import app` loads, and which the webhook's first request loads. Every Lambda
function imports app.py; a heavy module any blueprint imports at module level, every function pays for at every cold
start. These tests check the set of modules (never a time: bench/coldstart.py measures)."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parents[2]

# Modules no handler needs before its first call, and what loads them when a blueprint imports them at module level.
HEAVY = (
    "pynamodb.connection",  # PyNamoDB's connection stack: any store module
    "pynamodb.models",
    "jwt",  # PyJWT, and with it its crypto backend: staff authentication, on the first staff request
    "jwt.algorithms",
    "cryptography.hazmat.primitives.asymmetric.rsa",
    "phonenumbers",  # domain.phones, for citizens' numbers
    "shapely",
    "openpyxl",  # the XLSX exports
    "PIL",  # photos
    "holidays",  # working days
    "defusedxml",
    "aws_lambda_powertools.utilities.batch",  # the queue consumers
    "aws_lambda_powertools.utilities.idempotency",  # the inbound worker
    "pydantic.main",  # BaseModel: the models of services and of Meta's wire format
    "chalicelib.providers.base",
    "chalicelib.providers.meta.wire",
    "chalicelib.domain.settings",
    "chalicelib.api.consumers",
)
# Of ours, import app may load the blueprints, their light helpers, pure domain modules that import nothing heavy
# and these few light services and stores (boto3's SQS client, built by store.aws); never PynamoDB's stores nor a
# service package.
LIGHT_SERVICES = {"chalicelib.services", "chalicelib.services.abuse", "chalicelib.services.clock",
                  "chalicelib.services.forms", "chalicelib.services.webhook_queue"}
LIGHT_STORES = {"chalicelib.store", "chalicelib.store.aws", "chalicelib.store.queues"}


def _modules_after(code: str) -> set[str]:
    probe = code + "\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    env = {"AWS_DEFAULT_REGION": "eu-south-1", "RESOURCE_PREFIX": "filo-unit", "POWERTOOLS_METRICS_DISABLED": "true",
           "PATH": "/usr/bin:/bin"}
    answer = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=120)
    assert answer.returncode == 0, answer.stderr
    return set(json.loads(answer.stdout.strip().splitlines()[-1]))


def test_import_app_loads_no_heavy_module():
    loaded = _modules_after("import app")
    assert "app" in loaded and "chalicelib.api.webhooks" in loaded
    assert sorted(name for name in HEAVY if name in loaded) == []
    ours = {name for name in loaded if name.startswith("chalicelib.")}
    assert sorted(name for name in ours if name.startswith("chalicelib.store") and name not in LIGHT_STORES) == []
    assert sorted(name for name in ours if name.startswith("chalicelib.services") and name not in LIGHT_SERVICES) == []


def test_a_lazy_module_is_imported_on_first_use_and_only_then():
    loaded = _modules_after(
        "from chalicelib.api import lazy\n"
        "kpis = lazy('chalicelib.services.reports.kpis')\n"
        "import sys\n"
        "assert 'chalicelib.services.reports.kpis' not in sys.modules\n"
        "assert callable(kpis.__getattr__) and kpis.__name__ == 'chalicelib.services.reports.kpis'\n")
    assert "chalicelib.services.reports.kpis" in loaded


def test_the_webhook_endpoint_needs_no_wire_models_nor_worker_services():
    """What the webhook route loads to verify and queue a body: no pydantic models, no PynamoDB, not the inbound
    worker's services (they load with the first queue batch)."""
    loaded = _modules_after(
        "import hashlib, hmac, json, os\n"
        "os.environ['META_APP_SECRET'] = 'unit-secret'\n"
        "import app\n"
        "from chalicelib.providers import get_provider\n"
        "body = json.dumps(json.load(open('tests/fixtures/whatsapp/message_status.json'))['sent']).encode()\n"
        "signature = 'sha256=' + hmac.new(b'unit-secret', body, hashlib.sha256).hexdigest()\n"
        "provider = get_provider()\n"
        "assert provider.verify_signature(body, {'X-Hub-Signature-256': signature})\n"
        "summary = provider.check_webhook(body)\n"
        "assert (summary.messages, summary.statuses) == (0, 1)\n"
        "assert provider.webhook_parts(body, 1_000_000) == [body.decode()]\n")
    assert sorted(name for name in HEAVY if name in loaded) == []
    assert "chalicelib.services.inbound" not in loaded
    assert "chalicelib.providers.meta.inbound" not in loaded


# ---- the endpoint's envelope check agrees with the worker's parse ----------------------------------------------

JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=5),
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
                    max_leaves=8)
ENVELOPES = st.fixed_dictionaries({}, optional={"object": st.sampled_from(["whatsapp_business_account", "page", 1]) | JSON,
                                                "entry": st.lists(JSON, max_size=2) | JSON}) | JSON


@settings(max_examples=150, deadline=None)
@given(ENVELOPES)
def test_the_webhook_refuses_what_the_worker_would_refuse_and_nothing_else(document):
    """The endpoint checks the envelope with json only (envelope.check) and queues; the inbound worker parses with
    the wire models. A body one takes and the other refuses would be queued and lost, or refused and retried."""
    from chalicelib.providers.meta import MetaProvider
    from chalicelib.providers.webhook import NotAWebhook

    provider = MetaProvider(app_secret="s", verify_token="v", access_token="a")
    raw = json.dumps(document).encode()
    outcomes = []
    for step in (provider.check_webhook, provider.parse_webhook):
        try:
            step(raw)
            outcomes.append("taken")
        except NotAWebhook as refusal:
            outcomes.append(str(refusal))
    assert outcomes[0] == outcomes[1]


STATUSES = st.fixed_dictionaries(
    {"id": st.just("wamid.1"), "status": st.sampled_from(["sent", "delivered", "read", "failed", "played"]) | JSON,
     "timestamp": st.just("1795450000"), "recipient_id": st.just("393331234567")},
    optional={"biz_opaque_callback_data": st.just("job#0|+393331234567")})
READ = {"messages": st.lists(JSON, max_size=2) | JSON, "statuses": st.lists(STATUSES | JSON, max_size=3) | JSON,
        "event": JSON}
VALUES = st.fixed_dictionaries({"messaging_product": st.just("whatsapp"), "metadata": st.just({
    "display_phone_number": "390571000001", "phone_number_id": "1"})}, optional=READ)
CHANGES = st.fixed_dictionaries({}, optional={
    "field": st.sampled_from(["messages", "message_template_status_update", "template_category_update",
                              "account_update"]) | JSON,
    "value": VALUES | st.fixed_dictionaries({}, optional=READ) | JSON})
BODIES = st.builds(lambda changes: {"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": changes}]},
                   st.lists(CHANGES, max_size=3))


@settings(max_examples=150, deadline=None)
@given(BODIES)
def test_a_body_queued_as_statuses_alone_holds_nothing_else_the_worker_reads(document):
    """The endpoint sends a body of statuses alone to the statuses queue, whose worker applies statuses and passes
    anything else on: the envelope check must never call a body with a message or template news statuses alone."""
    from chalicelib.providers.meta import MetaProvider

    provider = MetaProvider(app_secret="s", verify_token="v", access_token="a")
    raw = json.dumps(document).encode()
    summary, batch = provider.check_webhook(raw), provider.parse_webhook(raw)
    if summary.statuses_only:
        assert not batch.messages and not batch.templates


WELL_FORMED = st.fixed_dictionaries(
    {"id": st.just("wamid.1"), "status": st.sampled_from(["sent", "delivered", "read", "failed"]),
     "timestamp": st.just("1795450000"), "recipient_id": st.just("393331234567")})
STATUS_CHANGES = st.fixed_dictionaries({"field": st.just("messages"), "value": st.fixed_dictionaries(
    {"messaging_product": st.just("whatsapp"),
     "metadata": st.just({"display_phone_number": "390571000001", "phone_number_id": "1"}),
     "statuses": st.lists(WELL_FORMED | JSON, min_size=1, max_size=3)}, optional={"messages": st.lists(JSON, max_size=1)})})
STATUS_BODIES = st.builds(
    lambda changes: {"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": changes}]},
    st.lists(STATUS_CHANGES | CHANGES, min_size=1, max_size=3))


@settings(max_examples=150, deadline=None)
@given(STATUS_BODIES)
def test_a_body_answered_without_queueing_holds_nothing_the_worker_would_apply(document):
    """The endpoint answers a body of 'sent' statuses alone without queueing it: the worker's parse of such a body
    must find no message, no template news and no status but those the send recorded (which it skips)."""
    from chalicelib.providers.meta import MetaProvider
    from chalicelib.providers.webhook import RECORDED_BY_THE_SEND

    provider = MetaProvider(app_secret="s", verify_token="v", access_token="a")
    raw = json.dumps(document).encode()
    summary, batch = provider.check_webhook(raw), provider.parse_webhook(raw)
    if summary.nothing_to_apply:
        assert not batch.messages and not batch.templates
        assert {status.status for status in batch.statuses} <= RECORDED_BY_THE_SEND
