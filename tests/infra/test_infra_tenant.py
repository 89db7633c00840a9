"""infra/tenant.py writes a comune and its channels where the deployed app reads them (moto, no AWS)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

HARNESS = """
import json, runpy, sys
import boto3
from moto import mock_aws
with mock_aws():
    import os
    os.environ["RESOURCE_PREFIX"] = "filo-prod"
    from chalicelib.resources import TABLES
    from local.bootstrap import create_table
    client = boto3.client("dynamodb")
    for logical in ("tenants", "channels"):
        create_table(client, TABLES[logical])
    sys.argv = ["tenant.py", sys.argv[1], "--stage", "prod"]
    runpy.run_path("infra/tenant.py", run_name="__main__")
    from chalicelib.store import directory
    tenant = directory.get_tenant("comune-esempio")
    channels = directory.channels_of("comune-esempio")
    print(json.dumps({"name": tenant.name, "hamlets": [h.id for h in tenant.hamlets],
                      "channels": sorted(c.kind for c in channels)}))
"""


def test_tenant_script_writes_the_example_comune_to_the_stage_tables():
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(AWS_DEFAULT_REGION="eu-south-1", AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing")
    result = subprocess.run([sys.executable, "-c", HARNESS, str(ROOT / "infra" / "examples" / "comune.json")], cwd=ROOT,
                            env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-4000:]
    written = json.loads(result.stdout.strip().splitlines()[-1])
    assert written == {"name": "Comune di Esempio", "hamlets": ["capoluogo", "pieve"], "channels": ["broadcast", "reports"]}
