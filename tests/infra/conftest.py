"""Synthesize the prod stack once per session, in a subprocess, without AWS credentials; expand its SAM part."""
from __future__ import annotations

import fcntl
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
STAGE = "prod"
SYNTH_TIMEOUT = 900  # a cold synth downloads the Lambda's wheels (about a minute here)


def pytest_collection_modifyitems(items):
    """The first infra test pays for the synth: more than pytest.ini's 120 s per test."""
    for item in items:
        if Path(str(item.fspath)).is_relative_to(Path(__file__).parent):
            item.add_marker(pytest.mark.timeout(SYNTH_TIMEOUT + 60))


def _synth_env(outdir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "CDK_"))}  # no account, no credentials
    env.update(AWS_DEFAULT_REGION="eu-south-1", CDK_OUTDIR=str(outdir), FILO_STAGE=STAGE,
               JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION="20", JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION="20")
    return env


@pytest.fixture(scope="session")
def synth(tmp_path_factory) -> subprocess.CompletedProcess:
    """infra/main.py run as `make synth` runs it, into a temporary cloud assembly (chalice.out stays there too).
    A failing cdk-nag check fails the synth but still leaves the templates, so template tests run either way.
    Once per run: under pytest-xdist the first worker to need it synthesizes, the others wait and read its result."""
    shared = tmp_path_factory.getbasetemp()
    shared = shared.parent if os.environ.get("PYTEST_XDIST_WORKER") else shared
    work, done = shared / "synth", shared / "synth" / "result.json"
    with open(shared / "synth.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        if not done.exists():
            work.mkdir(exist_ok=True)
            started = time.monotonic()
            ran = subprocess.run([sys.executable, str(ROOT / "infra" / "main.py")], cwd=work,
                                 env=_synth_env(work / "cdk.out"), capture_output=True, text=True, timeout=SYNTH_TIMEOUT)
            print(f"\nsynth of {STAGE}: {time.monotonic() - started:.1f} s, exit {ran.returncode}")
            done.write_text(json.dumps({"args": ran.args, "returncode": ran.returncode, "stdout": ran.stdout,
                                        "stderr": ran.stderr}))
    result = subprocess.CompletedProcess(**json.loads(done.read_text()))
    result.outdir = work / "cdk.out"
    return result


@pytest.fixture(scope="session")
def assembly(synth) -> Path:
    if not (synth.outdir / f"{STAGE}.template.json").exists():
        pytest.fail(f"synth wrote no template:\n{synth.stdout[-3000:]}\n{synth.stderr[-6000:]}")
    return synth.outdir


@pytest.fixture(scope="session")
def template_path(assembly) -> Path:
    return assembly / f"{STAGE}.template.json"


@pytest.fixture(scope="session")
def template(template_path) -> dict:
    """As synthesized: CloudFormation with the Chalice functions and API still in SAM form."""
    return json.loads(template_path.read_text())


@pytest.fixture(scope="session")
def expanded(template) -> dict:
    """The template after the SAM transform, as CloudFormation will deploy it (mappings, rules, stage, roles)."""
    from samtranslator.translator.transform import transform

    class NoManagedPolicies:
        def load(self):
            return {}

    previous = os.environ.get("AWS_DEFAULT_REGION")
    os.environ["AWS_DEFAULT_REGION"] = "eu-south-1"
    try:
        return transform(json.loads(json.dumps(template)), {}, NoManagedPolicies())
    finally:
        if previous is None:
            os.environ.pop("AWS_DEFAULT_REGION")
        else:
            os.environ["AWS_DEFAULT_REGION"] = previous


@pytest.fixture(scope="session")
def stage_env() -> dict[str, str]:
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    return {**config.get("environment_variables", {}), **config["stages"][STAGE]["environment_variables"]}


ROUTES = """
import json
import app
from chalicelib.domain.access import ROLES
routes = [[path, method, hasattr(entry.view_function, "staff_capabilities")]
          for path, methods in app.app.routes.items() for method, entry in methods.items()]
print(json.dumps({"routes": routes, "roles": sorted(ROLES)}))
"""


@pytest.fixture(scope="session")
def app_facts() -> dict:
    """The app's routes (staff or public) and roles, read in a subprocess: app.py fixes its settings at import,
    and the integration tests' local stack must be the first to import it in this process."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    result = subprocess.run([sys.executable, "-c", ROUTES], cwd=ROOT, env={**env, "AWS_DEFAULT_REGION": "eu-south-1"},
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-4000:]
    return json.loads(result.stdout.strip().splitlines()[-1])
