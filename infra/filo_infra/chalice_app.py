"""The Chalice app through chalice.cdk: pre-created roles, and what Chalice's SAM output lacks, added by override."""
from __future__ import annotations

import sys

from aws_cdk import Stack
from aws_cdk import aws_logs as logs
from chalice.app import SQSEventConfig
from chalice.cdk import Chalice
from chalice.utils import to_cfn_resource_name

from chalicelib.resources import QUEUES
from filo_infra.settings import FUNCTIONS, ROOT, StageSettings, log_retention

API_STAGE = "api"
ACCESS_LOG_FORMAT = (
    '{"requestId":"$context.requestId","ip":"$context.identity.sourceIp","time":"$context.requestTime",'
    '"method":"$context.httpMethod","path":"$context.resourcePath","status":"$context.status",'
    '"latencyMs":"$context.responseLatency","bytes":"$context.responseLength","error":"$context.error.messageString"}'
)


def function_logical_id(function: str) -> str:
    """Chalice's logical id of a function in its SAM template (the API handler is always APIHandler)."""
    return "APIHandler" if function == "api_handler" else to_cfn_resource_name(function)


def function_names(settings: StageSettings) -> dict[str, str]:
    """Deployed function names: the stage's resource prefix, so logs, alarms and roles can name them up front."""
    return {function: f"{settings.resource_prefix}-{function.replace('_', '-')}" for function in FUNCTIONS}


def chalice_app():
    """The app object of app.py, as Chalice imported it while packaging (same process, same environment)."""
    return sys.modules["app"].app


def add_chalice_app(stack: Stack, settings: StageSettings, *, roles, data, environment: dict[str, str]) -> Chalice:
    """The stack's id is the Chalice stage: the construct packages app.py with that stage's config."""
    stage_config = {
        "api_gateway_stage": API_STAGE,
        "api_gateway_endpoint_type": "REGIONAL",
        "autogen_policy": False,
        # Chalice manages no role. Its config takes per-function values only from .chalice/config.json, not from
        # the construct, so every function's own role, timeout and memory are set below by override.
        "manage_iam_role": False,
        "iam_role_arn": roles.roles["api_handler"].role_arn,
        "environment_variables": environment,
    }
    chalice = Chalice(stack, "ChaliceApp", source_dir=str(ROOT), stage_config=stage_config)
    _check_functions_known()
    names = function_names(settings)
    for function in FUNCTIONS:
        resource = chalice.get_resource(function_logical_id(function))
        resource.add_override("Properties.FunctionName", names[function])
        resource.add_override("Properties.Role", roles.roles[function].role_arn)
        resource.add_override("Properties.Timeout", FUNCTIONS[function].timeout)
        resource.add_override("Properties.MemorySize", FUNCTIONS[function].memory)
        resource.node.add_dependency(roles.log_groups[function])
    for source in _sqs_event_sources():
        _report_batch_item_failures(chalice, source, data)
    return chalice


def _check_functions_known() -> None:
    """Every function app.py declares has settings and a role here, and no role is left unused."""
    app = chalice_app()
    declared = {"api_handler"} | {source.name for source in app.event_sources} | set(app.pure_lambda_functions)
    if declared != set(FUNCTIONS):
        raise ValueError(f"app.py declares functions {sorted(declared)}, infra knows {sorted(FUNCTIONS)}")


def _sqs_event_sources() -> list[SQSEventConfig]:
    return [source for source in chalice_app().event_sources if isinstance(source, SQSEventConfig)]


def consumed_queue(source: SQSEventConfig) -> str:
    """The logical name (chalicelib/resources.py) of the queue an SQS event source reads."""
    for logical, spec in QUEUES.items():
        if spec.name == source.queue:
            return logical
    raise ValueError(f"{source.name} consumes {source.queue}, which chalicelib/resources.py does not define")


def _report_batch_item_failures(chalice: Chalice, source: SQSEventConfig, data) -> None:
    """Chalice never sets FunctionResponseTypes: without it Lambda ignores the handlers' batchItemFailures."""
    logical = consumed_queue(source)
    timeout = FUNCTIONS[source.name].timeout
    visibility = QUEUES[logical].visibility_timeout
    if visibility < 6 * timeout:
        raise ValueError(f"queue {logical}: visibility timeout {visibility}s is under 6x {source.name}'s {timeout}s")
    function_id = function_logical_id(source.name)
    event_id = to_cfn_resource_name(f"{source.name}-sqs-event-source")
    resource = chalice.get_resource(function_id)
    resource.add_override(f"Properties.Events.{event_id}.Properties.FunctionResponseTypes", ["ReportBatchItemFailures"])
    # the event names the queue by name (Fn::Sub), so CloudFormation needs the order spelled out
    resource.node.add_dependency(data.queues[logical])


def configure_api(stack: Stack, chalice: Chalice, settings: StageSettings, *, staff) -> logs.LogGroup:
    """Throttling, access logs and the Cognito authorizer on every staff route of the REST API."""
    api = chalice.get_resource("RestAPI")
    access_logs = logs.LogGroup(stack, "ApiAccessLogs", log_group_name=f"/filo/{settings.resource_prefix}/api-access",
                                retention=log_retention(settings.log_retention_days))
    api.add_override("Properties.MethodSettings", [{
        "ResourcePath": "/*", "HttpMethod": "*",
        "ThrottlingRateLimit": settings.api_rate_limit, "ThrottlingBurstLimit": settings.api_burst_limit,
        "MetricsEnabled": True, "LoggingLevel": "ERROR", "DataTraceEnabled": False,
    }])
    api.add_override("Properties.AccessLogSetting", {"DestinationArn": access_logs.log_group_arn,
                                                     "Format": ACCESS_LOG_FORMAT})
    api.add_override("Properties.DefinitionBody.securityDefinitions.StaffPool", {
        "type": "apiKey", "name": "Authorization", "in": "header",
        "x-amazon-apigateway-authtype": "cognito_user_pools",
        "x-amazon-apigateway-authorizer": {"type": "cognito_user_pools", "providerARNs": [staff.pool.user_pool_arn]},
    })
    for path, method in staff_routes():
        api.add_override(f"Properties.DefinitionBody.paths.{path}.{method.lower()}.security", [{"StaffPool": []}])
    return access_logs


def staff_routes() -> list[tuple[str, str]]:
    """Routes whose view is wrapped by chalicelib.api.auth.staff_only (it marks them with staff_capabilities)."""
    routes = []
    for path, methods in chalice_app().routes.items():
        for method, entry in methods.items():
            if hasattr(entry.view_function, "staff_capabilities"):
                if "." in path:
                    raise ValueError(f"staff route {path} has a dot, which add_override cannot address")
                routes.append((path, method))
    return routes

