"""What the deployed system must have, read from the synthesized template (and its SAM expansion)."""
from __future__ import annotations

import json

import pytest
from chalice.app import ScheduledEventConfig

from app import app as chalice_app
from chalicelib.resources import BUCKETS, QUEUES, TABLES

pytestmark = pytest.mark.long  # started first by make test (tests/conftest.py)

DATA_SERVICES = ("dynamodb", "s3", "sqs", "kms", "secretsmanager", "ses", "sns")


def of_type(template: dict, kind: str) -> dict[str, dict]:
    return {name: r for name, r in template["Resources"].items() if r["Type"] == kind}


def by_property(template: dict, kind: str, prop: str) -> dict[str, dict]:
    """Resources of kind keyed by a literal property (a table's or queue's name)."""
    return {r["Properties"][prop]: r for r in of_type(template, kind).values()}


def logical_id(template: dict, kind: str, prop: str, value: str) -> str:
    return next(name for name, r in of_type(template, kind).items() if r["Properties"].get(prop) == value)


@pytest.fixture
def names(monkeypatch, stage_env):
    """chalicelib's own naming, under the stage's prefix."""
    monkeypatch.setenv("RESOURCE_PREFIX", stage_env["RESOURCE_PREFIX"])
    return stage_env["RESOURCE_PREFIX"]


# --- tables -------------------------------------------------------------------------------------------------------

def test_tables_are_exactly_those_of_chalicelib_resources(template, names):
    assert set(by_property(template, "AWS::DynamoDB::Table", "TableName")) == {spec.name for spec in TABLES.values()}


@pytest.mark.parametrize("logical", sorted(TABLES))
def test_every_table_has_pitr_kms_ttl_and_the_shared_keys(template, names, logical):
    spec = TABLES[logical]
    props = by_property(template, "AWS::DynamoDB::Table", "TableName")[spec.name]["Properties"]
    assert props["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
    assert props["SSESpecification"]["SSEEnabled"] is True and props["SSESpecification"]["SSEType"] == "KMS"
    assert props["SSESpecification"]["KMSMasterKeyId"]["Fn::GetAtt"][0] in of_type(template, "AWS::KMS::Key")
    assert props["BillingMode"] == "PAY_PER_REQUEST"
    keys = {k["KeyType"]: k["AttributeName"] for k in props["KeySchema"]}
    assert keys == {"HASH": spec.hash_key, **({"RANGE": spec.range_key} if spec.range_key else {})}
    indexes = {i["IndexName"]: i for i in props.get("GlobalSecondaryIndexes", [])}
    assert set(indexes) == {index.name for index in spec.indexes}
    for index in spec.indexes:
        assert {k["KeyType"]: k["AttributeName"] for k in indexes[index.name]["KeySchema"]} == {
            "HASH": index.hash_key, **({"RANGE": index.range_key} if index.range_key else {})}
        assert indexes[index.name]["Projection"]["ProjectionType"] == index.projection
    if spec.ttl_attribute:
        assert props["TimeToLiveSpecification"] == {"AttributeName": spec.ttl_attribute, "Enabled": True}
    else:
        assert "TimeToLiveSpecification" not in props


# --- queues -------------------------------------------------------------------------------------------------------

def test_queues_are_exactly_those_of_chalicelib_resources_with_their_dead_letter_queues(template, names):
    expected = {spec.name for spec in QUEUES.values()} | {spec.dlq_name for spec in QUEUES.values()}
    assert set(by_property(template, "AWS::SQS::Queue", "QueueName")) == expected


@pytest.mark.parametrize("logical", sorted(QUEUES))
def test_every_queue_has_a_kms_encrypted_dlq_with_redrive(template, names, logical):
    spec = QUEUES[logical]
    queues = by_property(template, "AWS::SQS::Queue", "QueueName")
    props = queues[spec.name]["Properties"]
    redrive = props["RedrivePolicy"]
    dlq_id = logical_id(template, "AWS::SQS::Queue", "QueueName", spec.dlq_name)
    assert redrive == {"deadLetterTargetArn": {"Fn::GetAtt": [dlq_id, "Arn"]}, "maxReceiveCount": spec.max_receive_count}
    assert props["VisibilityTimeout"] == spec.visibility_timeout
    assert props["MessageRetentionPeriod"] == spec.retention_seconds
    assert props["MaximumMessageSize"] == spec.max_message_size
    for queue in (props, queues[spec.dlq_name]["Properties"]):
        assert queue["KmsMasterKeyId"]["Fn::GetAtt"][0] in of_type(template, "AWS::KMS::Key")


def test_every_queue_refuses_plain_http(template):
    secured = set()
    for policy in of_type(template, "AWS::SQS::QueuePolicy").values():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            if statement["Effect"] == "Deny" and statement.get("Condition") == {"Bool": {"aws:SecureTransport": "false"}}:
                secured |= {ref["Ref"] for ref in policy["Properties"]["Queues"]}
    assert secured == set(of_type(template, "AWS::SQS::Queue"))


# --- event sources and functions ----------------------------------------------------------------------------------

def _queue_of_mapping(mapping: dict) -> str:
    """The queue name in an event source mapping's ARN (Chalice names queues: Fn::Sub of arn:...:<name>)."""
    return mapping["Properties"]["EventSourceArn"]["Fn::Sub"].rsplit(":", 1)[1]


def test_every_sqs_mapping_reports_batch_item_failures(expanded):
    mappings = of_type(expanded, "AWS::Lambda::EventSourceMapping")
    assert mappings, "the expanded template should have the SQS event source mappings"
    for name, mapping in mappings.items():
        assert mapping["Properties"].get("FunctionResponseTypes") == ["ReportBatchItemFailures"], name


def test_every_queue_has_one_consumer_whose_timeout_fits_six_times_in_its_visibility(expanded, names):
    functions = of_type(expanded, "AWS::Lambda::Function")
    consumed = {}
    for mapping in of_type(expanded, "AWS::Lambda::EventSourceMapping").values():
        function = functions[mapping["Properties"]["FunctionName"]["Ref"]]
        consumed[_queue_of_mapping(mapping)] = function["Properties"]["Timeout"]
    visibility = {spec.name: spec.visibility_timeout for spec in QUEUES.values()}
    assert set(consumed) == set(visibility)
    for queue, timeout in consumed.items():
        assert visibility[queue] >= 6 * timeout, f"{queue}: {visibility[queue]} s < 6 x {timeout} s"


def test_consumers_wait_for_their_queue(template, names):
    """The mapping names its queue by name, so the function must depend on the queue explicitly."""
    for function in of_type(template, "AWS::Serverless::Function").values():
        for event in function["Properties"].get("Events", {}).values():
            if event["Type"] == "SQS":
                queue_id = logical_id(template, "AWS::SQS::Queue", "QueueName", event["Properties"]["Queue"]["Fn::Sub"]
                                      .rsplit(":", 1)[1])
                assert queue_id in function["DependsOn"]


def test_outbound_consumers_are_capped(expanded, names):
    outbound = next(m for m in of_type(expanded, "AWS::Lambda::EventSourceMapping").values()
                    if _queue_of_mapping(m) == QUEUES["outbound"].name)
    assert outbound["Properties"]["ScalingConfig"]["MaximumConcurrency"] >= 2


def test_status_webhooks_are_read_in_batches_of_100_gathered_for_a_second(expanded, names):
    statuses = next(m for m in of_type(expanded, "AWS::Lambda::EventSourceMapping").values()
                    if _queue_of_mapping(m) == QUEUES["statuses"].name)
    properties = statuses["Properties"]
    assert (properties["BatchSize"], properties["MaximumBatchingWindowInSeconds"]) == (100, 1)
    assert properties["ScalingConfig"]["MaximumConcurrency"] >= 2
    assert properties["FunctionResponseTypes"] == ["ReportBatchItemFailures"]


def test_the_app_schedules_become_rules(expanded):
    expressions = sorted(r["Properties"]["ScheduleExpression"] for r in of_type(expanded, "AWS::Events::Rule").values())
    # one rule per schedule of app.py, at its rate
    assert expressions == sorted(source.schedule_expression.to_string() for source in chalice_app.event_sources
                                 if isinstance(source, ScheduledEventConfig))


def test_every_function_has_its_own_role_and_the_staff_pool_settings(template, stage_env):
    functions = of_type(template, "AWS::Serverless::Function")
    roles = [f["Properties"]["Role"]["Fn::GetAtt"][0] for f in functions.values()]
    assert len(functions) == 1 + len(chalice_app.event_sources)  # the API's, and one per schedule and consumer
    assert len(set(roles)) == len(roles)
    for function in functions.values():
        variables = function["Properties"]["Environment"]["Variables"]
        assert variables["RESOURCE_PREFIX"] == stage_env["RESOURCE_PREFIX"]
        assert variables["META_SECRET_NAME"] == stage_env["META_SECRET_NAME"]
        pool_id = next(iter(of_type(template, "AWS::Cognito::UserPool")))
        issuer = {"Fn::Join": ["", ["https://cognito-idp.", {"Ref": "AWS::Region"}, ".", {"Ref": "AWS::URLSuffix"}, "/",
                                    {"Ref": pool_id}]]}
        assert variables["STAFF_ISSUER"] == issuer  # the iss claim of the pool's ID tokens
        assert variables["STAFF_JWKS_URL"]["Fn::Join"][1][-1] == "/.well-known/jwks.json"
        assert variables["STAFF_AUDIENCE"] == {"Ref": next(iter(of_type(template, "AWS::Cognito::UserPoolClient")))}
        assert function["Properties"]["FunctionName"].startswith(stage_env["RESOURCE_PREFIX"])


# --- IAM ------------------------------------------------------------------------------------------------------------

def _statements(template: dict):
    for name, role in of_type(template, "AWS::IAM::Role").items():
        for policy in role["Properties"].get("Policies", []):
            for statement in policy["PolicyDocument"]["Statement"]:
                yield name, statement
    for name, policy in of_type(template, "AWS::IAM::Policy").items():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            yield name, statement


def _as_list(value) -> list:
    return value if isinstance(value, list) else [value]


def _deployment_statement_stays_off_the_data(template: dict, statement: dict) -> bool:
    """aws-cdk-lib's BucketDeployment handler (the web front ends) has CDK's own S3 wildcards: on the CDK asset
    bucket and the web bucket only, never on a data store."""
    for resource in _as_list(statement["Resource"]):
        text = json.dumps(resource)
        if "cdk-hnb659fds-assets-" in text:
            continue
        bucket = resource.get("Fn::GetAtt", [None])[0] or resource.get("Fn::Join", ["", [{}]])[1][0].get("Fn::GetAtt", [None])[0]
        if not (bucket and bucket.startswith("WebBucket") and template["Resources"][bucket]["Type"] == "AWS::S3::Bucket"):
            return False
    return True


def test_no_wildcard_action_and_no_star_resource_on_data(expanded):
    checked = 0
    for name, statement in _statements(expanded):
        if statement["Effect"] != "Allow":
            continue
        if name.startswith("CustomCDKBucketDeployment") and any(a.startswith("s3:") for a in _as_list(statement["Action"])):
            assert _deployment_statement_stays_off_the_data(expanded, statement), f"{name}: {statement}"
            continue
        actions = _as_list(statement["Action"])
        data_actions = [a for a in actions if a == "*" or a.split(":")[0] in DATA_SERVICES]
        for action in data_actions:
            assert "*" not in action, f"{name}: wildcard action {action}"
            checked += 1
        if data_actions:
            assert "*" not in _as_list(statement["Resource"]), f"{name}: {data_actions} on every resource"
    assert checked > 20


def test_the_dead_letter_watcher_reads_no_data(template):
    role = next(f["Properties"]["Role"]["Fn::GetAtt"][0] for f in of_type(template, "AWS::Serverless::Function").values()
                if f["Properties"]["FunctionName"].endswith("watch-dead-letters"))
    actions = {a for owner, s in _statements(template) if owner == role for a in _as_list(s["Action"])}
    assert actions and not any(a.startswith(("dynamodb:", "s3:", "secretsmanager:", "ses:")) for a in actions)
    assert not any(a in {"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:SendMessage"} for a in actions)


def test_only_the_api_may_administer_staff_and_only_in_the_staff_pool(template):
    """The staff admin API (/api/v1/staff) drives the pool through exactly the calls store/identity.py makes."""
    calls = ("AdminCreateUser", "AdminAddUserToGroup", "AdminRemoveUserFromGroup", "AdminEnableUser", "AdminDisableUser",
             "AdminSetUserPassword", "AdminSetUserMFAPreference", "AdminUpdateUserAttributes")
    pool = next(iter(of_type(template, "AWS::Cognito::UserPool")))
    functions = of_type(template, "AWS::Serverless::Function").values()
    api_role = next(f["Properties"]["Role"]["Fn::GetAtt"][0] for f in functions
                    if f["Properties"]["FunctionName"].endswith("api-handler"))
    granted = [(owner, s) for owner, s in _statements(template)
               if any(a.startswith("cognito-idp:") for a in _as_list(s["Action"]))]
    assert [owner for owner, _ in granted] == [api_role]
    assert sorted(_as_list(granted[0][1]["Action"])) == sorted(f"cognito-idp:{call}" for call in calls)
    assert _as_list(granted[0][1]["Resource"]) == [{"Fn::GetAtt": [pool, "Arn"]}]
    api = next(f for f in functions if f["Properties"]["Role"]["Fn::GetAtt"][0] == api_role)
    assert api["Properties"]["Environment"]["Variables"]["STAFF_USER_POOL_ID"] == {"Ref": pool}


# --- photos bucket ----------------------------------------------------------------------------------------------------

def test_photos_bucket_is_private_kms_encrypted_tls_only_with_the_shared_lifecycle(template, names):
    spec = BUCKETS["media"]
    bucket_id = logical_id(template, "AWS::S3::Bucket", "BucketName", spec.name)
    props = template["Resources"][bucket_id]["Properties"]
    assert props["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True, "BlockPublicPolicy": True, "IgnorePublicAcls": True, "RestrictPublicBuckets": True}
    encryption = props["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"]
    assert encryption["SSEAlgorithm"] == "aws:kms" and "KMSMasterKeyID" in encryption
    expiries = {r["Prefix"]: r["ExpirationInDays"] for r in props["LifecycleConfiguration"]["Rules"] if "Prefix" in r}
    assert expiries == spec.lifecycle_days
    policies = of_type(template, "AWS::S3::BucketPolicy").values()
    policy = next(p for p in policies if p["Properties"]["Bucket"] == {"Ref": bucket_id})
    assert any(s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
               for s in policy["Properties"]["PolicyDocument"]["Statement"])


# --- staff pool, API, secrets, alarms, WAF ------------------------------------------------------------------------------

def test_staff_pool_has_the_tenant_attribute_and_the_role_groups(template, app_facts):
    pool = next(iter(of_type(template, "AWS::Cognito::UserPool").values()))["Properties"]
    tenant = next(a for a in pool["Schema"] if a["Name"] == "tenant")
    assert tenant["Mutable"] is False
    assert pool["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is True
    assert pool["MfaConfiguration"] == "ON"
    groups = {g["Properties"]["GroupName"] for g in of_type(template, "AWS::Cognito::UserPoolGroup").values()}
    assert groups == set(app_facts["roles"])
    client = next(iter(of_type(template, "AWS::Cognito::UserPoolClient").values()))["Properties"]
    assert "custom:tenant" not in client["WriteAttributes"] and "custom:tenant" in client["ReadAttributes"]


def _api(template: dict) -> dict:
    return next(iter(of_type(template, "AWS::Serverless::Api").values()))["Properties"]


def test_staff_routes_use_the_cognito_authorizer_and_public_ones_do_not(template, app_facts):
    """Staff routes are those the app wraps with staff_only."""
    body = _api(template)["DefinitionBody"]
    authorizer = body["securityDefinitions"]["StaffPool"]["x-amazon-apigateway-authorizer"]
    pool_id = next(iter(of_type(template, "AWS::Cognito::UserPool")))
    assert authorizer["type"] == "cognito_user_pools" and authorizer["providerARNs"] == [{"Fn::GetAtt": [pool_id, "Arn"]}]
    staff = 0
    for path, method, is_staff in app_facts["routes"]:
        security = body["paths"][path][method.lower()].get("security")
        if is_staff:
            assert security == [{"StaffPool": []}], f"{method} {path}"
            staff += 1
        else:
            assert not security, f"{method} {path} is public"
    assert staff > 10


def test_api_is_throttled_and_logged(template):
    api = _api(template)
    settings = api["MethodSettings"][0]
    assert settings["ThrottlingRateLimit"] > 0 and settings["ThrottlingBurstLimit"] > 0
    assert api["AccessLogSetting"]["DestinationArn"]


def test_meta_secret_is_named_as_the_app_reads_it_and_kms_encrypted(template, stage_env):
    secret = next(iter(of_type(template, "AWS::SecretsManager::Secret").values()))["Properties"]
    assert secret["Name"] == stage_env["META_SECRET_NAME"]
    assert secret["KmsKeyId"]["Fn::GetAtt"][0] in of_type(template, "AWS::KMS::Key")
    generated = secret["GenerateSecretString"]
    assert generated["GenerateStringKey"] == "verify_token"
    assert set(json.loads(generated["SecretStringTemplate"])) == {"app_secret", "access_token"}


def test_data_key_rotates(template):
    assert all(k["Properties"]["EnableKeyRotation"] for k in of_type(template, "AWS::KMS::Key").values())


def test_alarms_watch_every_dead_letter_queue_and_every_function(template, names):
    alarms = [a["Properties"] for a in of_type(template, "AWS::CloudWatch::Alarm").values()]
    dead_letter_alarms = {json.dumps(a["Dimensions"]) for a in alarms if a["MetricName"] == "ApproximateNumberOfMessagesVisible"}
    assert len(dead_letter_alarms) == len(QUEUES)
    functions = {f["Properties"]["FunctionName"] for f in of_type(template, "AWS::Serverless::Function").values()}
    for metric in ("Errors", "Throttles"):
        watched = {a["Dimensions"][0]["Value"] for a in alarms if a["MetricName"] == metric}
        assert watched == functions
    assert all(a["AlarmActions"] for a in alarms)


def test_prod_has_a_waf_on_the_api_stage(expanded):
    association = next(iter(of_type(expanded, "AWS::WAFv2::WebACLAssociation").values()))
    assert association["DependsOn"] == ["RestAPIapiStage"] and "RestAPIapiStage" in expanded["Resources"]
    acl = next(iter(of_type(expanded, "AWS::WAFv2::WebACL").values()))["Properties"]
    assert any("RateBasedStatement" in rule["Statement"] for rule in acl["Rules"])
