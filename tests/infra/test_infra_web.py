"""The web front ends in AWS: private bucket behind CloudFront (OAC), the API paths, config.json, the hosted UI."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.infra.test_infra_template import of_type

ROOT = Path(__file__).resolve().parents[2]
API_PATHS = {"/api/*", "/public/*", "/open311/*", "/s/*", "/health", "/webhooks/*"}
CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"  # AWS managed cache policy
ALL_VIEWER_EXCEPT_HOST_HEADER = "b689b0a8-53d0-40ab-baf2-68738e2966ac"  # AWS managed origin request policy
ALL_METHODS = {"GET", "HEAD", "OPTIONS", "PUT", "PATCH", "POST", "DELETE"}


def _built() -> list[str]:
    return [app for app in ("console", "portal") if (ROOT / "web" / app / "dist" / "index.html").is_file()]


@pytest.fixture(scope="module")
def distribution(template) -> dict:
    (resource,) = of_type(template, "AWS::CloudFront::Distribution").values()
    return resource["Properties"]["DistributionConfig"]


@pytest.fixture(scope="module")
def web_bucket_id(template) -> str:
    """The bucket the distribution's S3 origin reads."""
    (dist,) = of_type(template, "AWS::CloudFront::Distribution").values()
    s3_origins = [o for o in dist["Properties"]["DistributionConfig"]["Origins"] if "S3OriginConfig" in o]
    assert len(s3_origins) == 1
    return s3_origins[0]["DomainName"]["Fn::GetAtt"][0]


def _origins(distribution: dict) -> dict[str, dict]:
    return {origin["Id"]: origin for origin in distribution["Origins"]}


def _behaviours(distribution: dict) -> dict[str, dict]:
    return {"default": distribution["DefaultCacheBehavior"],
            **{b["PathPattern"]: b for b in distribution.get("CacheBehaviors", [])}}


# --- bucket ---------------------------------------------------------------------------------------------------------

def test_web_bucket_is_private_encrypted_logged_and_tls_only(template, web_bucket_id):
    props = template["Resources"][web_bucket_id]["Properties"]
    assert props["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True, "BlockPublicPolicy": True, "IgnorePublicAcls": True, "RestrictPublicBuckets": True}
    assert props["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"]
    assert props["OwnershipControls"]["Rules"] == [{"ObjectOwnership": "BucketOwnerEnforced"}]
    access_logs = props["LoggingConfiguration"]["DestinationBucketName"]["Ref"]
    assert template["Resources"][access_logs]["Type"] == "AWS::S3::Bucket" and access_logs.startswith("DataAccessLogs")
    assert "WebsiteConfiguration" not in props  # served through CloudFront only, never as an S3 website


def test_only_this_distribution_reads_the_bucket_and_plain_http_is_refused(template, web_bucket_id):
    (policy,) = [p for p in of_type(template, "AWS::S3::BucketPolicy").values()
                 if p["Properties"]["Bucket"] == {"Ref": web_bucket_id}]
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    assert any(s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}} for s in statements)
    allows = [s for s in statements if s["Effect"] == "Allow"]
    assert len(allows) == 1, allows
    (allow,) = allows
    assert allow["Principal"] == {"Service": "cloudfront.amazonaws.com"} and allow["Action"] == "s3:GetObject"
    (dist_id,) = of_type(template, "AWS::CloudFront::Distribution")
    source_arn = allow["Condition"]["StringEquals"]["AWS:SourceArn"]["Fn::Join"][1]
    assert source_arn[-1] == {"Ref": dist_id}


def test_the_s3_origin_signs_with_origin_access_control(template, distribution):
    (origin,) = [o for o in distribution["Origins"] if "S3OriginConfig" in o]
    assert origin["S3OriginConfig"] == {"OriginAccessIdentity": ""}  # no legacy OAI
    oac_id = origin["OriginAccessControlId"]["Fn::GetAtt"][0]
    oac = template["Resources"][oac_id]["Properties"]["OriginAccessControlConfig"]
    assert oac["OriginAccessControlOriginType"] == "s3"
    assert oac["SigningBehavior"] == "always" and oac["SigningProtocol"] == "sigv4"


# --- behaviours -----------------------------------------------------------------------------------------------------

def test_the_api_paths_go_uncached_to_the_rest_api_stage_with_every_viewer_header_but_host(distribution):
    origins, behaviours = _origins(distribution), _behaviours(distribution)
    assert API_PATHS <= set(behaviours)
    for path in API_PATHS:
        behaviour = behaviours[path]
        origin = origins[behaviour["TargetOriginId"]]
        assert origin["DomainName"]["Fn::Join"][1][:2] == [{"Ref": "RestAPI"}, ".execute-api."], path
        assert origin["OriginPath"] == "/api"  # .chalice/config.json api_gateway_stage
        assert origin["CustomOriginConfig"]["OriginProtocolPolicy"] == "https-only"
        assert behaviour["CachePolicyId"] == CACHING_DISABLED, path
        assert behaviour["OriginRequestPolicyId"] == ALL_VIEWER_EXCEPT_HOST_HEADER, path
        assert set(behaviour["AllowedMethods"]) == ALL_METHODS, path


def test_the_api_origin_carries_the_edge_secret_every_function_knows(template, distribution):
    """With it the app counts per-client limits by CloudFront-Viewer-Address (chalicelib/api/http.py client_ip):
    behind the distribution, API Gateway's source address is only an edge server."""
    api_origins = [o for o in distribution["Origins"] if "CustomOriginConfig" in o]
    headers = {h["HeaderName"]: h["HeaderValue"] for o in api_origins for h in o.get("OriginCustomHeaders", [])}
    edge = headers["X-Filo-Edge"]
    assert edge == {"Fn::Select": [2, {"Fn::Split": ["/", {"Ref": "AWS::StackId"}]}]}
    for function in of_type(template, "AWS::Serverless::Function").values():
        assert function["Properties"]["Environment"]["Variables"]["EDGE_SECRET"] == edge


def test_the_api_paths_are_those_the_local_web_server_proxies(distribution):
    from local.webserver import API_PREFIXES

    covered = {path.rstrip("*").rstrip("/") for path in API_PATHS}
    assert {prefix.rstrip("/") for prefix in API_PREFIXES} <= covered


def test_the_apps_and_the_rest_come_from_the_bucket_with_caching(distribution):
    origins, behaviours = _origins(distribution), _behaviours(distribution)
    for path in ("default", "/console/*", "/portal/*"):
        behaviour = behaviours[path]
        assert "S3OriginConfig" in origins[behaviour["TargetOriginId"]], path
        assert behaviour["CachePolicyId"] != CACHING_DISABLED and set(behaviour["AllowedMethods"]) == {"GET", "HEAD"}
        assert behaviour["FunctionAssociations"][0]["EventType"] == "viewer-request"


def test_every_behaviour_redirects_plain_http_to_https(distribution):
    for path, behaviour in _behaviours(distribution).items():
        assert behaviour["ViewerProtocolPolicy"] in {"redirect-to-https", "https-only"}, path


def test_the_distribution_writes_access_logs(template, distribution):
    bucket = distribution["Logging"]["Bucket"]["Fn::GetAtt"][0]
    assert template["Resources"][bucket]["Type"] == "AWS::S3::Bucket"


REWRITE_CASES = {
    "/": {"statusCode": 302, "location": "/portal/"},
    "/portal": {"statusCode": 302, "location": "/portal/"},
    "/console": {"statusCode": 302, "location": "/console/"},
    "/portal/": {"uri": "/portal/index.html"},
    "/console/": {"uri": "/console/index.html"},
    "/portal/assets/index-abc.js": {"uri": "/portal/assets/index-abc.js"},
    "/config.json": {"uri": "/config.json"},
}


@pytest.mark.skipif(not shutil.which("node"), reason="needs node to run the CloudFront function")
def test_the_viewer_request_function_sends_the_root_to_the_portal_and_folders_to_their_index(template):
    (function,) = of_type(template, "AWS::CloudFront::Function").values()
    code = function["Properties"]["FunctionCode"]
    script = code + f"""
var cases = {json.dumps(list(REWRITE_CASES))};
var out = {{}};
cases.forEach(function (uri) {{
  var answer = handler({{request: {{uri: uri, headers: {{}}, querystring: {{}}}}}});
  out[uri] = answer.statusCode ? {{statusCode: answer.statusCode, location: answer.headers.location.value}}
                               : {{uri: answer.uri}};
}});
console.log(JSON.stringify(out));
"""
    result = subprocess.run(["node", "-e", script], capture_output=True, text=True, timeout=60, check=True)
    assert json.loads(result.stdout) == REWRITE_CASES


# --- what is deployed to the bucket ----------------------------------------------------------------------------------

def _deployments(template: dict, web_bucket_id: str) -> list[dict]:
    return [r["Properties"] for r in of_type(template, "Custom::CDKBucketDeployment").values()
            if r["Properties"]["DestinationBucketName"] == {"Ref": web_bucket_id}]


def _asset_dir(assembly: Path, deployment: dict) -> Path:
    (key,) = deployment["SourceObjectKeys"]
    return assembly / f"asset.{key.removesuffix('.zip')}"


def test_the_built_apps_are_deployed_under_their_prefix_with_fresh_index_pages(template, web_bucket_id, assembly):
    built = _built()
    assert "portal" in built, "run make web first (make infra-test does)"
    prefixes = {d.get("DestinationBucketKeyPrefix") for d in _deployments(template, web_bucket_id)}
    assert prefixes - {None} == {f"{app}/" for app in built}
    for app in built:
        mine = [d for d in _deployments(template, web_bucket_id) if d.get("DestinationBucketKeyPrefix") == f"{app}/"]
        index = [d for d in mine if d.get("Include") == ["index.html"]]
        assert len(index) == 1 and index[0]["SystemMetadata"]["cache-control"] == "no-cache"
        assert (_asset_dir(assembly, index[0]) / "index.html").is_file()
        assets = [d for d in mine if d.get("Exclude") == ["index.html"]]
        assert len(assets) == 1 and assets[0]["Prune"] is True and "immutable" in assets[0]["SystemMetadata"]["cache-control"]


def test_config_json_is_deployed_at_the_root_with_the_console_sign_in(template, web_bucket_id, assembly):
    (config,) = [d for d in _deployments(template, web_bucket_id) if "DestinationBucketKeyPrefix" not in d]
    assert config["Prune"] is False  # it must not delete the apps
    assert config["SystemMetadata"]["cache-control"] == "no-cache"
    (dist_id,) = of_type(template, "AWS::CloudFront::Distribution")
    assert config["DistributionId"] == {"Ref": dist_id} and config["DistributionPaths"] == ["/*"]
    text = (_asset_dir(assembly, config) / "config.json").read_text()
    markers = config["SourceMarkers"][0]
    for marker, value in markers.items():  # the deploy fills the markers in; resolve them to what they reference
        text = text.replace(marker, json.dumps(value))
    settings = json.loads(text)
    assert settings["api_base"] == "" and settings["tiles_url"] == "" and "tenant" in settings
    auth = settings["auth"]
    assert auth["mode"] == "cognito" and auth["scopes"] == "openid email profile"
    (client_id,) = of_type(template, "AWS::Cognito::UserPoolClient")
    assert {"Ref": client_id} in auth["client_id"]["Fn::Join"][1]
    (domain_id,) = of_type(template, "AWS::Cognito::UserPoolDomain")
    assert {"Ref": domain_id} in auth["domain"]["Fn::Join"][1] and ".amazoncognito.com" in auth["domain"]["Fn::Join"][1][-1]
    assert {"Fn::GetAtt": [dist_id, "DomainName"]} in auth["redirect_uri"]["Fn::Join"][1]
    assert auth["redirect_uri"]["Fn::Join"][1][-1].endswith('/console/"')


def test_the_deployments_run_one_after_the_other_and_config_last(template, web_bucket_id):
    ids = {name for name, r in of_type(template, "Custom::CDKBucketDeployment").items()
           if r["Properties"]["DestinationBucketName"] == {"Ref": web_bucket_id}}
    config_id = next(name for name in ids if name.startswith("WebConfig"))
    assert ids - {config_id} <= set(template["Resources"][config_id].get("DependsOn", []))


# --- staff sign-in and outputs ----------------------------------------------------------------------------------------

def test_the_staff_pool_has_a_hosted_ui_domain_named_after_the_prefix(template, stage_env):
    (domain,) = of_type(template, "AWS::Cognito::UserPoolDomain").values()
    assert domain["Properties"]["Domain"] == stage_env["RESOURCE_PREFIX"]


def test_without_public_base_url_the_client_keeps_the_password_flow_and_no_hosted_ui_yet(template):
    (client,) = of_type(template, "AWS::Cognito::UserPoolClient").values()
    props = client["Properties"]
    assert "ALLOW_USER_PASSWORD_AUTH" in props["ExplicitAuthFlows"]  # docs/deploy.md's CLI sign-in
    assert props["AllowedOAuthFlowsUserPoolClient"] is False and "CallbackURLs" not in props


def test_the_stack_prints_the_web_addresses(template):
    outputs = template["Outputs"]
    assert {"WebUrl", "StaffSignInDomain", "WebBucket"} <= set(outputs)
    for app in _built():
        assert outputs[f"{app.capitalize()}Url"]["Value"]["Fn::Join"][1][-1] == f"/{app}/"


def test_functions_get_no_portal_url_until_public_base_url_is_set(template):
    for function in of_type(template, "AWS::Serverless::Function").values():
        variables = function["Properties"]["Environment"]["Variables"]
        assert "PORTAL_URL" not in variables and "PUBLIC_BASE_URL" not in variables


# --- pieces on their own (a subprocess: jsii and filo_infra stay out of the test process) ---------------------------

def _run(script: str, *args: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "CDK_"))}
    env.update(AWS_DEFAULT_REGION="eu-south-1", JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION="20",
               JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION="20")
    result = subprocess.run([sys.executable, "-c", script, *args], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr[-4000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


APPS_SCRIPT = """
import json, sys
sys.path[:0] = ["infra"]
from pathlib import Path
from filo_infra.web import built_apps, present_apps
web = Path(sys.argv[1])
built, unbuilt = built_apps(web)
print(json.dumps({"built": built, "unbuilt": unbuilt, "present": present_apps(web)}))
"""


def test_only_built_apps_are_deployed_and_a_missing_app_is_no_error(tmp_path):
    (tmp_path / "portal" / "dist").mkdir(parents=True)
    (tmp_path / "portal" / "dist" / "index.html").write_text("<!doctype html>")
    assert _run(APPS_SCRIPT, str(tmp_path)) == {"built": ["portal"], "unbuilt": [], "present": ["portal"]}
    (tmp_path / "console").mkdir()  # checked out, not built: warned about, not deployed
    assert _run(APPS_SCRIPT, str(tmp_path)) == {"built": ["portal"], "unbuilt": ["console"],
                                                "present": ["console", "portal"]}


POOL_SCRIPT = """
import json, sys
sys.path[:0] = ["infra"]
from aws_cdk import App, RemovalPolicy, Stack
from aws_cdk.assertions import Template
from filo_infra.staff_pool import StaffPool
stack = Stack(App(), "t")
StaffPool(stack, "Staff", prefix="filo-test", removal=RemovalPolicy.DESTROY, console_url=sys.argv[1])
clients = Template.from_stack(stack).find_resources("AWS::Cognito::UserPoolClient")
print(json.dumps(next(iter(clients.values()))["Properties"]))
"""


def test_once_the_console_url_is_known_the_client_takes_code_with_pkce_and_keeps_the_password_flow():
    url = "https://d111111abcdef8.cloudfront.net/console/"
    client = _run(POOL_SCRIPT, url)
    assert client["AllowedOAuthFlowsUserPoolClient"] is True
    assert client["AllowedOAuthFlows"] == ["code"]  # no implicit flow; a public client (no secret): PKCE
    assert client["GenerateSecret"] is False
    assert set(client["AllowedOAuthScopes"]) == {"openid", "email", "profile"}
    assert client["CallbackURLs"] == [url, url + "index.html"] and client["LogoutURLs"] == [url, url + "index.html"]
    assert {"ALLOW_USER_PASSWORD_AUTH", "ALLOW_USER_SRP_AUTH"} <= set(client["ExplicitAuthFlows"])


# --- the second deploy: public_base_url set ----------------------------------------------------------------------------

BASE = "https://d111111abcdef8.cloudfront.net"


@pytest.fixture(scope="module")
def with_base_url(tmp_path_factory) -> dict:
    """The stack synthesized again as the second deploy makes it (CloudFormation would refuse a cycle)."""
    from tests.infra.conftest import STAGE, SYNTH_TIMEOUT, _synth_env

    work = tmp_path_factory.mktemp("synth-base-url")
    env = _synth_env(work / "cdk.out")
    env["CDK_CONTEXT_JSON"] = json.dumps({"public_base_url": BASE + "/", "tenant": "comune-esempio",
                                          "tiles_url": "https://tiles.example.org/{z}/{x}/{y}.png"})
    result = subprocess.run([sys.executable, str(ROOT / "infra" / "main.py")], cwd=work, env=env,
                            capture_output=True, text=True, timeout=SYNTH_TIMEOUT)
    assert result.returncode == 0, result.stderr[-6000:]
    template = json.loads((work / "cdk.out" / f"{STAGE}.template.json").read_text())
    template["assembly"] = str(work / "cdk.out")
    template["path"] = str(work / "cdk.out" / f"{STAGE}.template.json")
    return template


def test_the_second_deploy_has_no_dependency_cycle_and_lints_clean(with_base_url):
    from tests.infra.test_infra_checks import _cfn_lint

    result = _cfn_lint(with_base_url["path"])  # E3004 would be a circular dependency
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_second_deploy_points_citizens_links_and_the_portal_at_the_distribution(with_base_url):
    for function in of_type(with_base_url, "AWS::Serverless::Function").values():
        variables = function["Properties"]["Environment"]["Variables"]
        assert variables["PUBLIC_BASE_URL"] == BASE  # no trailing slash: the app appends /s/<token>
        assert variables["PORTAL_URL"] == BASE + "/portal/"


def test_the_second_deploy_writes_the_tenant_tiles_and_console_url_to_config_json(with_base_url):
    (bucket_id,) = [name for name in of_type(with_base_url, "AWS::S3::Bucket") if name.startswith("WebBucket")]
    (config,) = [d for d in _deployments(with_base_url, bucket_id) if "DestinationBucketKeyPrefix" not in d]
    text = (_asset_dir(Path(with_base_url["assembly"]), config) / "config.json").read_text()
    for marker in config["SourceMarkers"][0]:
        text = text.replace(marker, '"token"')
    settings = json.loads(text)
    assert settings["tenant"] == "comune-esempio" and settings["tiles_url"].startswith("https://tiles.example.org/")
    assert settings["auth"]["redirect_uri"] == settings["auth"]["logout_uri"] == BASE + "/console/"
