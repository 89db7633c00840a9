"""Creates the tables, queues (each with its DLQ and redrive policy) and bucket of resources.py, and the\nSES sender identity."""
from __future__ import annotations

import json

from chalicelib.resources import BUCKETS, QUEUES, TABLES, QueueSpec, TableSpec
from chalicelib.settings import get_settings


def create_all(visibility_timeout: int | None = None, clients=None) -> None:
    """Create everything in the AWS endpoint the environment points at (moto locally), or that of `clients`
    (local.snapshot.Clients)."""
    if clients is None:
        from local.snapshot import Clients

        clients = Clients()
    dynamodb, sqs, s3 = clients.dynamodb, clients.sqs, clients.s3
    existing = set(dynamodb.list_tables()["TableNames"])
    for spec in TABLES.values():
        if spec.name not in existing:
            create_table(dynamodb, spec)
    for spec in QUEUES.values():
        create_queue(sqs, spec, visibility_timeout)
    for spec in BUCKETS.values():
        region = s3.meta.region_name
        options = {} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}
        try:
            s3.create_bucket(Bucket=spec.name, **options)
        except s3.exceptions.BucketAlreadyOwnedByYou:
            pass
        s3.put_bucket_encryption(Bucket=spec.name, ServerSideEncryptionConfiguration={"Rules": [  # KMS in AWS
            {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]})
        if spec.lifecycle_days:
            s3.put_bucket_lifecycle_configuration(Bucket=spec.name, LifecycleConfiguration={"Rules": [
                {"ID": f"expire-{prefix.strip('/') or 'all'}", "Status": "Enabled", "Filter": {"Prefix": prefix},
                 "Expiration": {"Days": days}} for prefix, days in spec.lifecycle_days.items()]})
    clients.ses.verify_email_identity(EmailAddress=get_settings().mail_from)  # SES sends only from these


def create_table(client, spec: TableSpec) -> None:
    key_schema = [{"AttributeName": spec.hash_key, "KeyType": "HASH"}]
    if spec.range_key:
        key_schema.append({"AttributeName": spec.range_key, "KeyType": "RANGE"})
    params = {
        "TableName": spec.name, "KeySchema": key_schema, "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [{"AttributeName": a, "AttributeType": "S"} for a in spec.key_attributes()],
    }
    if spec.indexes:
        params["GlobalSecondaryIndexes"] = [{
            "IndexName": index.name,
            "KeySchema": [{"AttributeName": index.hash_key, "KeyType": "HASH"}]
            + ([{"AttributeName": index.range_key, "KeyType": "RANGE"}] if index.range_key else []),
            "Projection": {"ProjectionType": index.projection},
        } for index in spec.indexes]
    client.create_table(**params)
    if spec.ttl_attribute:
        client.update_time_to_live(TableName=spec.name, TimeToLiveSpecification={
            "Enabled": True, "AttributeName": spec.ttl_attribute})


def create_queue(client, spec: QueueSpec, visibility_timeout: int | None = None) -> str:
    dlq_url = client.create_queue(QueueName=spec.dlq_name, Attributes={
        "MessageRetentionPeriod": str(spec.dlq_retention_seconds)})["QueueUrl"]
    dlq_arn = client.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return client.create_queue(QueueName=spec.name, Attributes={
        "VisibilityTimeout": str(visibility_timeout or spec.visibility_timeout),
        "MessageRetentionPeriod": str(spec.retention_seconds),
        "MaximumMessageSize": str(spec.max_message_size),
        "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": spec.max_receive_count}),
    })["QueueUrl"]


def create_staff_pool(client, prefix: str) -> tuple[str, str]:
    """make dev's Cognito user pool on moto, shaped like infra/'s (staff_pool.py): the immutable custom:tenant
    attribute, one group per role, an app client reading name, email and tenant; the console signs in through it
    with the admin password flow (local/staff_signin.py). Returns the pool id and the client id. moto keeps no
    user pool between runs: each start makes a new one."""
    from chalicelib.domain.access import ROLES

    pool_id = client.create_user_pool(
        PoolName=f"{prefix}-staff", AdminCreateUserConfig={"AllowAdminCreateUserOnly": True},
        Schema=[{"Name": "tenant", "AttributeDataType": "String", "Mutable": False,
                 "StringAttributeConstraints": {"MinLength": "1", "MaxLength": "64"}}],
        # the demo password (FILO_STAFF_PASSWORD, else made at the first start) is any text of 6 or more characters
        Policies={"PasswordPolicy": {"MinimumLength": 6, "RequireUppercase": False, "RequireLowercase": False,
                                     "RequireNumbers": False, "RequireSymbols": False}},
    )["UserPool"]["Id"]
    for role in ROLES:
        client.create_group(UserPoolId=pool_id, GroupName=role.value, Description=f"Filo Diretto staff role {role}")
    client_id = client.create_user_pool_client(
        UserPoolId=pool_id, ClientName=f"{prefix}-console", GenerateSecret=False,
        ExplicitAuthFlows=["ALLOW_ADMIN_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
        ReadAttributes=["name", "email", "email_verified", "custom:tenant"])["UserPoolClient"]["ClientId"]
    return pool_id, client_id
