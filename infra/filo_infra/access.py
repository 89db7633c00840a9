"""One IAM role per Lambda function, each allowed only the actions on the resources that function uses."""
from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from constructs import Construct

from chalicelib.resources import TABLES
from filo_infra.settings import log_retention

# Explicit DynamoDB actions (never dynamodb:*): what PynamoDB, the repositories and Powertools idempotency call
TABLE_READ = ["dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query", "dynamodb:Scan", "dynamodb:DescribeTable",
              "dynamodb:ConditionCheckItem"]
TABLE_WRITE = ["dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem"]
QUEUE_SEND = ["sqs:SendMessage", "sqs:GetQueueUrl", "sqs:GetQueueAttributes"]
QUEUE_CONSUME = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueAttributes",
                 "sqs:GetQueueUrl"]
QUEUE_WATCH = ["sqs:GetQueueUrl", "sqs:GetQueueAttributes"]
KEY_USE = ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:DescribeKey"]
BUCKET_OBJECTS = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]
# The staff admin API (chalicelib/store/identity.py), on the staff user pool only: exactly the calls it makes
STAFF_ADMIN = ["cognito-idp:AdminCreateUser", "cognito-idp:AdminAddUserToGroup", "cognito-idp:AdminRemoveUserFromGroup",
               "cognito-idp:AdminEnableUser", "cognito-idp:AdminDisableUser", "cognito-idp:AdminSetUserPassword",
               "cognito-idp:AdminSetUserMFAPreference", "cognito-idp:AdminUpdateUserAttributes"]
APP_TABLES = tuple(name for name in TABLES if name != "idempotency")


@dataclass(frozen=True)
class Access:
    """What one function may touch, by logical name (chalicelib/resources.py)."""
    tables: tuple[str, ...] = ()
    consumes: tuple[str, ...] = ()  # queues it is the event source consumer of
    sends: tuple[str, ...] = ()  # queues it sends to
    watches_dead_letters: bool = False
    media: bool = False  # photos bucket: read, write, delete, list
    meta_secret: bool = False  # the provider's secrets (app secret, verify token, access token)
    email: bool = False  # SES: forwarding reports to external bodies, teams' digests of overdue reports
    staff_admin: bool = False  # the staff user pool's admin calls (invite, roles, disable, resets)


FUNCTION_ACCESS: dict[str, Access] = {
    # webhooks (to inbound, or to statuses when they carry statuses alone), staff API (broadcasts to fanout,
    # replies to outbound), health (every queue's URL), photos (presigned links, erasure), forwarding emails
    "api_handler": Access(tables=APP_TABLES, sends=("inbound", "statuses", "outbound", "fanout"), media=True,
                          meta_secret=True, email=True, staff_admin=True),
    # inbound also sends to itself: a photo to fetch again later (services/reports/photo_refetch.py)
    "inbound_worker": Access(tables=APP_TABLES + ("idempotency",), consumes=("inbound",), sends=("inbound", "outbound"),
                             media=True, meta_secret=True, email=True),
    # deliveries, broadcasts' counters and the usage meter; a body with more than statuses goes on to inbound
    "status_worker": Access(tables=APP_TABLES, consumes=("statuses",), sends=("inbound",)),
    "outbound_sender": Access(tables=APP_TABLES, consumes=("outbound",), sends=("outbound",), meta_secret=True),
    "fanout_worker": Access(tables=APP_TABLES, consumes=("fanout",), sends=("outbound",)),
    "start_due_broadcasts": Access(tables=APP_TABLES, sends=("fanout", "outbound")),
    "watch_dead_letters": Access(watches_dead_letters=True),
    "sweep_report_photos": Access(tables=("reports",), media=True),  # lists the bucket, deletes orphaned folders
    # reads the comuni and their open reports, claims each team's day (counters), emails the team
    "send_overdue_digests": Access(tables=("tenants", "reports", "counters"), email=True),
    # nightly: pages every channel's active subscribers, corrects drifted audience counts (issue 18)
    "reconcile_audience_counts": Access(tables=("tenants", "channels", "citizens", "audiences")),
    # Allerte: reads the comuni and their channels, records alert versions and feeds' state, writes alert broadcasts
    # and starts the automatic ones (fanout); reads the official feeds over the internet (no VPC)
    "watch_alert_feeds": Access(tables=("tenants", "channels", "alerts", "broadcasts"), sends=("fanout",)),
    # the agenda (issue 17): claims due reminders and releases on the bookings, frees released slots, reads the
    # comune, its channels and the citizen's window, queues the messages
    "send_agenda_reminders": Access(tables=("tenants", "channels", "citizens", "agenda_bookings", "agenda_slots",
                                            "agenda_people"), sends=("outbound",)),
    # Vicinato (docs/vicinato.md): a late report to the stand-in (outbound) or into the police desk (reports, its
    # staff notice on the inbound queue, the on-call template on outbound); ID photos and expired reports' photos
    "escalate_vicinato_reports": Access(tables=APP_TABLES, sends=("inbound", "outbound")),
    "sweep_vicinato_photos": Access(tables=("vicinato_members", "vicinato_cases"), media=True),
}


class FunctionRoles(Construct):
    """Roles built before the Chalice app, handed to it as pre-created roles (Chalice manages none)."""

    def __init__(self, scope: Construct, id: str, *, data, secret, mail_from: str, function_names: dict[str, str],
                 log_retention_days: int, staff_pool_arn: str):
        super().__init__(scope, id)
        self.roles: dict[str, iam.Role] = {}
        self.log_groups: dict[str, logs.LogGroup] = {}
        for function, access in FUNCTION_ACCESS.items():
            log_group = logs.LogGroup(
                self, f"Logs-{function}", log_group_name=f"/aws/lambda/{function_names[function]}",
                retention=log_retention(log_retention_days),
            )
            self.log_groups[function] = log_group
            statements = _statements(access, data, secret, mail_from, log_group)
            if access.staff_admin:
                statements.append(iam.PolicyStatement(actions=STAFF_ADMIN, resources=[staff_pool_arn]))
            self.roles[function] = iam.Role(
                self, f"Role-{function}",
                assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
                description=f"Filo Diretto {function}: only what this function uses",
                inline_policies={"access": iam.PolicyDocument(statements=statements)},
            )



def _statements(access: Access, data, secret, mail_from: str, log_group: logs.LogGroup) -> list[iam.PolicyStatement]:
    statements = [iam.PolicyStatement(actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                                      resources=[log_group.log_group_arn])]
    if access.tables:
        statements.append(iam.PolicyStatement(actions=TABLE_READ + TABLE_WRITE, resources=_table_arns(access.tables, data)))
    if access.consumes:
        statements.append(iam.PolicyStatement(actions=QUEUE_CONSUME,
                                              resources=[data.queues[q].queue_arn for q in access.consumes]))
    if access.sends:
        statements.append(iam.PolicyStatement(actions=QUEUE_SEND, resources=[data.queues[q].queue_arn for q in access.sends]))
    if access.watches_dead_letters:
        statements.append(iam.PolicyStatement(
            actions=QUEUE_WATCH,
            resources=[q.queue_arn for q in data.queues.values()] + [q.queue_arn for q in data.dead_letter_queues.values()]))
    elif access.tables or access.sends:  # the health check resolves every queue's URL
        statements.append(iam.PolicyStatement(actions=["sqs:GetQueueUrl"],
                                              resources=[q.queue_arn for q in data.queues.values()]))
    if access.media:
        bucket = data.buckets["media"]
        statements.append(iam.PolicyStatement(actions=["s3:ListBucket"], resources=[bucket.bucket_arn]))
        statements.append(iam.PolicyStatement(actions=BUCKET_OBJECTS, resources=[bucket.arn_for_objects("tenants/*")]))
    if access.meta_secret:
        statements.append(iam.PolicyStatement(actions=["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"],
                                              resources=[secret.secret_arn]))
    if access.email:
        domain = mail_from.rpartition("@")[2]
        identity = Stack.of(data).format_arn(service="ses", resource="identity", resource_name=domain)
        statements.append(iam.PolicyStatement(actions=["ses:SendEmail"], resources=[identity]))
    if access.tables or access.consumes or access.sends or access.media or access.meta_secret:  # all KMS-encrypted
        statements.append(iam.PolicyStatement(actions=KEY_USE, resources=[data.key.key_arn]))
    return statements


def _table_arns(logicals: tuple[str, ...], data) -> list[str]:
    arns = []
    for logical in logicals:
        table = data.tables[logical]
        arns.append(table.table_arn)
        arns += [f"{table.table_arn}/index/{index.name}" for index in TABLES[logical].indexes]
    return arns
