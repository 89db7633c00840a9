"""cdk-nag (AwsSolutions) findings we accept, each with its reason, on the narrowest construct that has it."""
from __future__ import annotations

from aws_cdk import Acknowledgment, Stack, Validations

from filo_infra.access import FUNCTION_ACCESS

NAG = "AwsSolutions::"


def acknowledge(stack: Stack, *, data, roles, secret, api_logging_role, firewall) -> int:
    """Acknowledge the accepted findings; returns how many acknowledgements were made."""
    made = 0

    def ack(scope, rule: str, reason: str) -> None:
        nonlocal made
        Validations.of(scope).acknowledge(Acknowledgment(id=rule, reason=reason))
        made += 1

    ack(secret, f"{NAG}AwsSolutions-SMG4",
        "Meta issues the app secret and the system-user access token; they are rotated in Meta Business Manager and "
        "written here with put-secret-value (docs/deploy.md). No rotation Lambda can obtain a new one from Meta.")
    bucket = data.buckets["media"]
    objects = f"Resource::<{stack.get_logical_id(bucket.node.default_child)}.Arn>/tenants/*"
    for function in (name for name, access in FUNCTION_ACCESS.items() if access.media):
        ack(roles.roles[function], f"{NAG}AwsSolutions-IAM5[{objects}]",
            "Photo keys (tenants/{tenant}/reports/{report}/{photo}/...) are created at run time; the grant is limited to "
            "Get/Put/DeleteObject under tenants/ of the one photos bucket.")
    ack(api_logging_role, f"{NAG}AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
        "AmazonAPIGatewayPushToCloudWatchLogs]",
        "AWS's documented role for API Gateway account-level logging; it only creates and writes log groups/streams.")
    if firewall is not None:
        ack(firewall.association, "CloudFormation-Validate::E3005",
            "The API stage RestAPIapiStage is created by the SAM transform of the Chalice API; tests/infra expands the "
            "transform with aws-sam-translator and checks the stage exists (and cfn-lints the result).")
    return made
