"""cdk-nag (AwsSolutions) findings we accept, each with its reason, on the narrowest construct that has it."""
from __future__ import annotations

from aws_cdk import Acknowledgment, Stack, Validations

from filo_infra.access import FUNCTION_ACCESS

NAG = "AwsSolutions::"


def acknowledge(stack: Stack, *, data, roles, secret, api_logging_role, firewall, web) -> int:
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
    _acknowledge_web(stack, web, ack)
    return made


# What aws-cdk-lib's BucketDeployment grants its (shared, CDK-owned) upload function
DEPLOYMENT_WILDCARDS = (
    "Action::s3:GetObject*", "Action::s3:GetBucket*", "Action::s3:List*", "Action::s3:DeleteObject*", "Action::s3:Abort*",
    "Resource::arn:<AWS::Partition>:s3:::cdk-hnb659fds-assets-<AWS::AccountId>-<AWS::Region>/*",
)


def _acknowledge_web(stack: Stack, web, ack) -> None:
    distribution = web.distribution
    ack(distribution, f"{NAG}AwsSolutions-CFR1",
        "No geo restriction: citizens abroad (emigrants, workers, tourists) follow their reports and subscribe from "
        "anywhere, and Meta's webhooks come from its own data centres; abuse is limited by the API's throttling and WAF.")
    ack(distribution, f"{NAG}AwsSolutions-CFR2",
        "A CloudFront web ACL must live in us-east-1 and this stack is regional (eu-south-1); the API stage keeps its "
        "regional WAF (prod) and throttling, and the distribution itself serves only static files besides the API.")
    ack(distribution, f"{NAG}AwsSolutions-CFR4",
        "The distribution uses the default *.cloudfront.net certificate, whose viewer security policy CloudFront fixes "
        "and no setting can raise; a custom domain with its ACM certificate would set TLSv1.2_2021 (docs/deploy.md).")
    handler = web.deployment_handler()  # config.json is always deployed, so there is one
    ack(handler, f"{NAG}AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
        "AWSLambdaBasicExecutionRole]",
        "aws-cdk-lib's BucketDeployment handler role: the managed policy only lets it write its own CloudWatch logs.")
    for finding in DEPLOYMENT_WILDCARDS:
        ack(handler, f"{NAG}AwsSolutions-IAM5[{finding}]",
            "aws-cdk-lib's BucketDeployment grant: read the CDK asset bucket's objects and sync (put/delete) the built "
            "front ends in the web bucket; the actions are CDK's and limited to those two buckets.")
    ack(handler, f"{NAG}AwsSolutions-IAM5[Resource::<{stack.get_logical_id(web.bucket.node.default_child)}.Arn>/*]",
        "aws-cdk-lib's BucketDeployment writes and prunes the built front ends and config.json under any key of the "
        "web bucket, which holds nothing else.")
    ack(handler, f"{NAG}AwsSolutions-IAM5[Resource::*]",
        "cloudfront:CreateInvalidation and GetInvalidation, which aws-cdk-lib's BucketDeployment grants on * so that "
        "config.json and index.html are fresh after a deploy; no data is reachable with them.")
    ack(handler, f"{NAG}AwsSolutions-L1",
        "The runtime of aws-cdk-lib's BucketDeployment handler is chosen by aws-cdk-lib and moves with its version "
        "(requirements-infra.txt); it runs only during deploys.")
