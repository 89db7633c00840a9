"""Tables, queues and the photos bucket, built from chalicelib/resources.py (the definition `make dev` uses)."""
from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from chalicelib.resources import BUCKETS, QUEUES, TABLES, BucketSpec, QueueSpec, TableSpec

PROJECTIONS = {"ALL": dynamodb.ProjectionType.ALL, "KEYS_ONLY": dynamodb.ProjectionType.KEYS_ONLY}


class DataStores(Construct):
    """Every table (PITR, KMS customer key, TTL), queue (KMS, TLS only, DLQ with redrive) and bucket of the app."""

    def __init__(self, scope: Construct, id: str, *, key: kms.IKey, deletion_protection: bool):
        super().__init__(scope, id)
        self.key = key
        removal = RemovalPolicy.RETAIN if deletion_protection else RemovalPolicy.DESTROY
        self.tables = {logical: self._table(spec, deletion_protection, removal) for logical, spec in TABLES.items()}
        self.dead_letter_queues: dict[str, sqs.Queue] = {}
        self.queues = {logical: self._queue(spec) for logical, spec in QUEUES.items()}
        self.access_logs = self._access_log_bucket(removal)
        self.buckets = {logical: self._bucket(spec, removal) for logical, spec in BUCKETS.items()}

    def _table(self, spec: TableSpec, deletion_protection: bool, removal: RemovalPolicy) -> dynamodb.Table:
        table = dynamodb.Table(
            self, f"Table-{spec.logical}",
            table_name=spec.name,
            partition_key=_string(spec.hash_key),
            sort_key=_string(spec.range_key) if spec.range_key else None,
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            encryption=dynamodb.TableEncryption.CUSTOMER_MANAGED,
            encryption_key=self.key,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True),
            time_to_live_attribute=spec.ttl_attribute,
            deletion_protection=deletion_protection,
            removal_policy=removal,
        )
        for index in spec.indexes:
            table.add_global_secondary_index(
                index_name=index.name,
                partition_key=_string(index.hash_key),
                sort_key=_string(index.range_key) if index.range_key else None,
                projection_type=PROJECTIONS[index.projection],
            )
        return table

    def _queue(self, spec: QueueSpec) -> sqs.Queue:
        dead_letters = sqs.Queue(
            self, f"DeadLetters-{spec.logical}",
            queue_name=spec.dlq_name,
            retention_period=Duration.seconds(spec.dlq_retention_seconds),
            max_message_size_bytes=spec.max_message_size,
            encryption=sqs.QueueEncryption.KMS,
            encryption_master_key=self.key,
            enforce_ssl=True,
        )
        self.dead_letter_queues[spec.logical] = dead_letters
        return sqs.Queue(
            self, f"Queue-{spec.logical}",
            queue_name=spec.name,
            visibility_timeout=Duration.seconds(spec.visibility_timeout),
            retention_period=Duration.seconds(spec.retention_seconds),
            max_message_size_bytes=spec.max_message_size,
            encryption=sqs.QueueEncryption.KMS,
            encryption_master_key=self.key,
            data_key_reuse=Duration.minutes(5),
            enforce_ssl=True,
            dead_letter_queue=sqs.DeadLetterQueue(max_receive_count=spec.max_receive_count, queue=dead_letters),
        )

    def _access_log_bucket(self, removal: RemovalPolicy) -> s3.Bucket:
        """S3 server access logs of the photos bucket (log delivery supports SSE-S3 only)."""
        return s3.Bucket(
            self, "AccessLogs",
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            lifecycle_rules=[s3.LifecycleRule(id="expire-access-logs", expiration=Duration.days(365))],
            removal_policy=removal,
            auto_delete_objects=False,
        )

    def _bucket(self, spec: BucketSpec, removal: RemovalPolicy) -> s3.Bucket:
        rules = [
            s3.LifecycleRule(id=f"expire-{prefix.strip('/') or 'all'}", prefix=prefix, expiration=Duration.days(days))
            for prefix, days in spec.lifecycle_days.items()
        ]
        rules.append(s3.LifecycleRule(id="abort-incomplete-uploads", abort_incomplete_multipart_upload_after=Duration.days(1)))
        return s3.Bucket(
            self, f"Bucket-{spec.logical}",
            bucket_name=spec.name,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            encryption=s3.BucketEncryption.KMS,
            encryption_key=self.key,
            bucket_key_enabled=True,
            enforce_ssl=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            server_access_logs_bucket=self.access_logs,
            server_access_logs_prefix=f"{spec.logical}/",
            lifecycle_rules=rules,
            removal_policy=removal,
        )


def _string(name: str) -> dynamodb.Attribute:
    return dynamodb.Attribute(name=name, type=dynamodb.AttributeType.STRING)
