"""Synthesize one stage of Filo Diretto: python infra/main.py [-c stage=prod] (make synth runs it)."""
from __future__ import annotations

import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE)]  # the repository root (chalicelib, app.py) and infra/ (filo_infra)

from aws_cdk import App, Validations  # noqa: E402
from cdk_nag import AwsSolutionsChecks  # noqa: E402
from filo_infra.settings import DEPLOYED_STAGES, stage_settings, use_stage_environment  # noqa: E402
from filo_infra.stack import FiloDirettoStack  # noqa: E402

# CDK feature flags this app relies on (there is no cdk.json when main.py runs on its own)
FEATURE_FLAGS = {
    "@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy": True,  # log delivery by bucket policy, not ACLs
}


def main() -> None:
    app = App(outdir=os.environ.get("CDK_OUTDIR") or str(HERE / "cdk.out"), context=FEATURE_FLAGS)
    stage = app.node.try_get_context("stage") or os.environ.get("FILO_STAGE") or "prod"
    if stage not in DEPLOYED_STAGES:
        raise SystemExit(f"stage must be one of {DEPLOYED_STAGES}, not {stage!r}")
    settings = stage_settings(stage, app.node.try_get_context)
    use_stage_environment(settings)  # one stage per process: app.py reads its names at import
    FiloDirettoStack(app, settings)
    Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    app.synth()


if __name__ == "__main__":
    main()
