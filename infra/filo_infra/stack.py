"""One deployment of Filo Diretto: data stores, secrets, staff pool, the Chalice app, alarms, optional WAF, web."""
from __future__ import annotations

import json

from aws_cdk import Annotations, CfnOutput, Fn, RemovalPolicy, Stack
from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from filo_infra import chalice_app, nag
from filo_infra.access import FunctionRoles
from filo_infra.data import DataStores
from filo_infra.monitoring import Alarms
from filo_infra.settings import StageSettings
from filo_infra.staff_pool import StaffPool
from filo_infra.waf import ApiFirewall
from filo_infra.web import WebFrontEnds, present_apps


class FiloDirettoStack(Stack):
    """The construct id is the Chalice stage (dev or prod): chalice.cdk packages app.py for that stage."""

    def __init__(self, scope: Construct, settings: StageSettings, **kwargs):
        super().__init__(scope, settings.stage, stack_name=settings.stack_name,
                         description=f"Filo Diretto ({settings.stage}): WhatsApp for comuni", **kwargs)
        removal = RemovalPolicy.RETAIN if settings.deletion_protection else RemovalPolicy.DESTROY
        prefix = settings.resource_prefix
        key = kms.Key(self, "DataKey", alias=f"alias/{prefix}-data", enable_key_rotation=True, removal_policy=removal,
                      description="Filo Diretto: tables, queues, photos, secrets and alarm topic at rest")
        data = DataStores(self, "Data", key=key, deletion_protection=settings.deletion_protection)
        secret = self._meta_secret(settings, key, removal)
        # Citizens' links and the console's sign-in callback need the distribution's address, which the functions
        # cannot reference (distribution -> API -> functions): they come from public_base_url, set after a first deploy
        base = settings.public_base_url
        apps = present_apps()
        console_url = f"{base}/console/" if base and "console" in apps else ""
        portal_url = f"{base}/portal/" if base and "portal" in apps else ""
        staff = StaffPool(self, "Staff", prefix=prefix, removal=removal, console_url=console_url)
        names = chalice_app.function_names(settings)
        roles = FunctionRoles(self, "Functions", data=data, secret=secret, mail_from=settings.mail_from,
                              function_names=names, log_retention_days=settings.log_retention_days,
                              staff_pool_arn=staff.pool.user_pool_arn)
        # CloudFront sends this with every API request (X-Filo-Edge); the app then trusts CloudFront-Viewer-Address
        # as the client's address for its per-client limits. The stack's own id: unknown outside the account, and
        # neither side needs the other to exist first.
        edge_secret = Fn.select(2, Fn.split("/", self.stack_id))
        environment = {
            **settings.chalice_env,
            "EDGE_SECRET": edge_secret,
            "OUTBOUND_CONSUMERS": str(settings.outbound_consumers),
            "STATUS_CONSUMERS": str(settings.status_consumers),
            "MAIL_FROM": settings.mail_from,
            "STAFF_ISSUER": staff.issuer,
            "STAFF_JWKS_URL": staff.jwks_url,
            "STAFF_AUDIENCE": staff.client.user_pool_client_id,
            "STAFF_USER_POOL_ID": staff.pool.user_pool_id,  # the staff admin API (services/admin/staff.py)
            **({"PUBLIC_BASE_URL": base} if base else {}),
            **({"PORTAL_URL": portal_url} if portal_url else {}),
            **({"CONSOLE_URL": console_url} if console_url else {}),
        }
        app = chalice_app.add_chalice_app(self, settings, roles=roles, data=data, environment=environment)
        api_logging_role = self._api_gateway_logging_role()
        chalice_app.configure_api(self, app, settings, staff=staff)
        api = app.get_resource("RestAPI")
        api.add_override("Properties.Name", f"{prefix}-api")  # the API's name is the alarms' ApiName dimension
        rest_api_id = api.ref
        Alarms(self, "Alarms", key=key, data=data, function_names=names, api_name=f"{prefix}-api",
               alarm_email=settings.alarm_email)
        firewall = None
        if settings.waf:
            firewall = ApiFirewall(self, "Firewall", rest_api_id=rest_api_id, api_stage=chalice_app.API_STAGE,
                                   stage_resource=f"RestAPI{chalice_app.API_STAGE}Stage",
                                   rate_limit=settings.waf_rate_limit)
        web = WebFrontEnds(self, "Web", rest_api_id=rest_api_id, api_stage=chalice_app.API_STAGE,
                           access_logs=data.access_logs, removal=removal, edge_secret=edge_secret)
        web.deploy(self._web_config(settings, staff, f"{base or web.url}/console/"))
        if not base:
            Annotations.of(self).add_warning_v2(
                "filo:public-base-url", "public_base_url is not set: citizens' links point nowhere useful and the "
                "console cannot sign in yet. Deploy again with -c public_base_url=<the WebUrl output or your domain> "
                "(docs/deploy.md).")
        if not settings.tenant:
            Annotations.of(self).add_warning_v2(
                "filo:tenant", "tenant is not set: the portal does not know its comune. Deploy with -c tenant=<tenant_id>.")
        self._outputs(settings, rest_api_id, staff, data, web)
        self.acknowledged = nag.acknowledge(self, data=data, roles=roles, secret=secret,
                                            api_logging_role=api_logging_role, firewall=firewall, web=web)

    def _meta_secret(self, settings: StageSettings, key: kms.Key, removal: RemovalPolicy) -> secretsmanager.Secret:
        """The Meta app secret, webhook verify token (generated here) and access token, read via Powertools."""
        return secretsmanager.Secret(
            self, "MetaSecret", secret_name=settings.meta_secret_name, encryption_key=key, removal_policy=removal,
            description="Meta WhatsApp Cloud API: app_secret and access_token to set; verify_token generated",
            generate_secret_string=secretsmanager.SecretStringGenerator(
                secret_string_template=json.dumps({"app_secret": "", "access_token": ""}),
                generate_string_key="verify_token", exclude_punctuation=True, password_length=40))

    def _api_gateway_logging_role(self) -> iam.Role:
        """API Gateway writes execution and access logs with one role per account and region."""
        role = iam.Role(self, "ApiGatewayLogging", assumed_by=iam.ServicePrincipal("apigateway.amazonaws.com"),
                        managed_policies=[iam.ManagedPolicy.from_aws_managed_policy_name(
                            "service-role/AmazonAPIGatewayPushToCloudWatchLogs")])
        apigateway.CfnAccount(self, "ApiGatewayAccount", cloud_watch_role_arn=role.role_arn)
        return role

    @staticmethod
    def _web_config(settings: StageSettings, staff: StaffPool, console_url: str) -> dict:
        """/config.json, read by both front ends at start (local/devserver.py web_config() is the make dev twin)."""
        return {
            "tenant": settings.tenant,
            "api_base": "",  # same origin: CloudFront routes the API paths
            "tiles_url": settings.tiles_url,
            "tiles_attribution": settings.tiles_attribution,
            "auth": {"mode": "cognito", "domain": staff.hosted_ui_url, "client_id": staff.client.user_pool_client_id,
                     "redirect_uri": console_url, "logout_uri": console_url, "scopes": "openid email profile"},
        }

    def _outputs(self, settings: StageSettings, rest_api_id: str, staff: StaffPool, data, web: WebFrontEnds) -> None:
        base = f"https://{rest_api_id}.execute-api.{self.region}.{self.url_suffix}/{chalice_app.API_STAGE}"
        CfnOutput(self, "ApiUrl", value=base)
        CfnOutput(self, "WebhookUrl", value=f"{base}/webhooks/meta")
        CfnOutput(self, "StaffUserPoolId", value=staff.pool.user_pool_id)
        CfnOutput(self, "StaffClientId", value=staff.client.user_pool_client_id)
        CfnOutput(self, "MetaSecretName", value=settings.meta_secret_name)
        CfnOutput(self, "MediaBucket", value=data.buckets["media"].bucket_name)
        CfnOutput(self, "WebUrl", value=web.url, description="the distribution: public_base_url after the first deploy")
        for app in web.apps:
            CfnOutput(self, f"{app.capitalize()}Url", value=f"{web.url}/{app}/")
        CfnOutput(self, "StaffSignInDomain", value=staff.hosted_ui_url)
        CfnOutput(self, "WebBucket", value=web.bucket.bucket_name)
