"""The synthesized stack passes cdk-nag (AwsSolutions) and cfn-lint, and main.py writes where make synth says."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Every accepted cdk-nag finding (infra/filo_infra/nag.py gives the reasons); a new one must be added here on purpose
ACCEPTED = {
    "AwsSolutions-SMG4",
    "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]",
    # the web front ends: the distribution, and aws-cdk-lib's BucketDeployment handler
    "AwsSolutions-CFR1",  # no geo restriction: citizens abroad
    "AwsSolutions-CFR2",  # a CloudFront WAF lives in us-east-1; the API stage has its regional one
    "AwsSolutions-CFR4",  # the default *.cloudfront.net certificate's policy cannot be raised
    "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]",
    "AwsSolutions-IAM5[Action::s3:GetObject*]",
    "AwsSolutions-IAM5[Action::s3:GetBucket*]",
    "AwsSolutions-IAM5[Action::s3:List*]",
    "AwsSolutions-IAM5[Action::s3:DeleteObject*]",
    "AwsSolutions-IAM5[Action::s3:Abort*]",
    "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::cdk-hnb659fds-assets-<AWS::AccountId>-<AWS::Region>/*]",
    "AwsSolutions-IAM5[Resource::*]",  # cloudfront:CreateInvalidation/GetInvalidation
    "AwsSolutions-L1",
}
ACCEPTED_PREFIXES = ("AwsSolutions-IAM5[Resource::<DataBucketmedia", "AwsSolutions-IAM5[Resource::<WebBucket")
# Accepted findings that only aws-cdk-lib's BucketDeployment handler may carry
DEPLOYMENT_ONLY = ("AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]",
                   "AwsSolutions-IAM5[Action::", "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::cdk-",
                   "AwsSolutions-IAM5[Resource::*]", "AwsSolutions-IAM5[Resource::<WebBucket", "AwsSolutions-L1")


def _nag_report(assembly) -> dict:
    report = json.loads((assembly / "validation-report.json").read_text())
    return next(p for p in report["pluginReports"] if p["pluginName"] == "AwsSolutions")


def test_synth_succeeds_without_aws_credentials(synth):
    assert synth.returncode == 0, f"{synth.stdout[-3000:]}\n{synth.stderr[-6000:]}"


def test_cdk_nag_has_no_unacknowledged_finding(assembly):
    nag = _nag_report(assembly)
    assert nag["violations"] == [], json.dumps(nag["violations"], indent=1)[:4000]
    assert nag["conclusion"] == "success"


def test_every_acknowledged_finding_is_known_and_justified(assembly):
    suppressed = _nag_report(assembly)["suppressedViolations"]
    assert suppressed, "the report should list the acknowledged findings"
    for finding in suppressed:
        rule = finding["ruleName"]
        assert rule in ACCEPTED or rule.startswith(ACCEPTED_PREFIXES), f"unexpected acknowledgement {rule}"
        assert len(finding["reason"]) > 60, f"{rule}: the reason must say why"
        if rule.startswith(DEPLOYMENT_ONLY):  # a wildcard or managed policy of our own is never accepted
            paths = {construct["constructPath"] for construct in finding["violatingConstructs"]}
            assert paths and all(p.startswith("prod/Custom::CDKBucketDeployment") for p in paths), (rule, paths)


def _cfn_lint(path) -> subprocess.CompletedProcess:
    cfn_lint = Path(sys.executable).parent / "cfn-lint"
    return subprocess.run([str(cfn_lint), "--format", "parseable", str(path)],
                          capture_output=True, text=True, timeout=300)


def test_cfn_lint_finds_nothing_in_the_template(template_path):
    result = _cfn_lint(template_path)
    assert result.returncode == 0, result.stdout + result.stderr  # 2: errors, 4: warnings, 6: both


def test_cfn_lint_finds_nothing_once_sam_is_expanded(expanded, tmp_path):
    path = tmp_path / "expanded.template.json"
    path.write_text(json.dumps(expanded))
    result = _cfn_lint(path)
    errors = [line for line in result.stdout.splitlines() if ":E" in line]
    assert not errors, result.stdout


def test_make_synth_writes_infra_cdk_out():
    """The contract: `make synth` leaves the templates as infra/cdk.out/*.template.json."""
    dry_run = subprocess.run(["make", "-n", "synth"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert "infra/main.py" in dry_run and "rm -rf chalice.out infra/cdk.out" in dry_run
    main = (ROOT / "infra" / "main.py").read_text()
    assert 'os.environ.get("CDK_OUTDIR") or str(HERE / "cdk.out")' in main
