"""The web front ends in AWS: the built console and portal on a private bucket, behind CloudFront with the API.

The browser sees one origin, as with `local/webserver.py` in `make dev`: `/console/*` and `/portal/*` (and
`/config.json`) come from S3 through Origin Access Control, the API paths go to the REST API's stage with
caching off and every viewer header but Host forwarded (Authorization, query strings and bodies pass).
"""
from __future__ import annotations

from pathlib import Path

from aws_cdk import Annotations, Duration, RemovalPolicy, Stack
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_deployment as s3deploy
from constructs import Construct

from filo_infra.settings import ROOT

APPS = ("console", "portal")  # web/<app>/dist, served under /<app>/
API_PATHS = ("/api/*", "/public/*", "/open311/*", "/s/*", "/health", "/webhooks/*")  # as local/webserver.py proxies
DEFAULT_APP = "portal"  # what / redirects to

# Viewer request on the static behaviours: / goes to the portal, /<app> gets its slash, a folder its index.html.
# Both apps route with URL fragments (#/...), so no other path needs rewriting.
URL_REWRITE = """function handler(event) {
  var request = event.request;
  var uri = request.uri;
  if (uri === "/" || uri === "") return redirect("/%(default)s/");
  if (%(apps)s.indexOf(uri) >= 0) return redirect(uri + "/");
  if (uri.charAt(uri.length - 1) === "/") request.uri = uri + "index.html";
  return request;
}
function redirect(location) {
  return {statusCode: 302, statusDescription: "Found", headers: {location: {value: location}}};
}
"""


def built_apps(web_dir: Path = ROOT / "web") -> tuple[list[str], list[str]]:
    """(apps built into web/<app>/dist, apps present but not built). An app whose directory is absent is neither."""
    built = [app for app in APPS if (web_dir / app / "dist" / "index.html").is_file()]
    unbuilt = [app for app in APPS if app not in built and (web_dir / app).is_dir()]
    return built, unbuilt


def present_apps(web_dir: Path = ROOT / "web") -> list[str]:
    """The apps this checkout has (built or not): the console may not be merged yet."""
    built, unbuilt = built_apps(web_dir)
    return [app for app in APPS if app in built + unbuilt]


EDGE_HEADER = "X-Filo-Edge"  # chalicelib/api/http.py client_ip reads it


class WebFrontEnds(Construct):
    """Private bucket (+ OAC), CloudFront distribution (static apps + API), the apps and /config.json deployed."""

    def __init__(self, scope: Construct, id: str, *, rest_api_id: str, api_stage: str, access_logs: s3.IBucket,
                 removal: RemovalPolicy, edge_secret: str, web_dir: Path = ROOT / "web"):
        super().__init__(scope, id)
        stack = Stack.of(self)
        auto_delete = removal == RemovalPolicy.DESTROY  # built files only: nothing to keep when the stack goes
        self.bucket = s3.Bucket(
            self, "Bucket",
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            encryption=s3.BucketEncryption.S3_MANAGED,  # public files; SSE-S3 needs no key grant to CloudFront
            enforce_ssl=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            server_access_logs_bucket=access_logs,
            server_access_logs_prefix="web/",
            removal_policy=removal,
            auto_delete_objects=auto_delete,
        )
        # CloudFront standard logs are written with ACLs: a bucket of their own (its access logs go to the shared one)
        self.log_bucket = s3.Bucket(
            self, "CdnLogs",
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
            server_access_logs_bucket=access_logs,
            server_access_logs_prefix="cdn-logs/",
            lifecycle_rules=[s3.LifecycleRule(id="expire-cdn-logs", expiration=Duration.days(365))],
            removal_policy=removal,
            auto_delete_objects=auto_delete,
        )
        if auto_delete:  # aws-cdk-lib's emptying function, like its upload function below: cfn-lint W3005, not ours
            provider = stack.node.find_child("Custom::S3AutoDeleteObjectsCustomResourceProvider")
            provider.node.find_child("Handler").add_metadata("cfn-lint", {"config": {"ignore_checks": ["W3005"]}})
        static_origin = origins.S3BucketOrigin.with_origin_access_control(self.bucket)
        rewrite = cloudfront.Function(
            self, "UrlRewrite", runtime=cloudfront.FunctionRuntime.JS_2_0,
            comment="Filo Diretto: / to the portal, /<app>/ to its index.html",
            code=cloudfront.FunctionCode.from_inline(URL_REWRITE % {
                "default": DEFAULT_APP, "apps": "[" + ", ".join(f'"/{app}"' for app in APPS) + "]"}))
        static = cloudfront.BehaviorOptions(
            origin=static_origin,
            viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
            allowed_methods=cloudfront.AllowedMethods.ALLOW_GET_HEAD,
            cache_policy=cloudfront.CachePolicy.CACHING_OPTIMIZED,
            response_headers_policy=cloudfront.ResponseHeadersPolicy.SECURITY_HEADERS,
            compress=True,
            function_associations=[cloudfront.FunctionAssociation(
                function=rewrite, event_type=cloudfront.FunctionEventType.VIEWER_REQUEST)],
        )
        api_origin = origins.HttpOrigin(
            f"{rest_api_id}.execute-api.{stack.region}.{stack.url_suffix}",
            origin_path=f"/{api_stage}",  # /api/v1/me reaches the stage's /api/v1/me, /health its /health
            protocol_policy=cloudfront.OriginProtocolPolicy.HTTPS_ONLY,
            origin_ssl_protocols=[cloudfront.OriginSslPolicy.TLS_V1_2],
            custom_headers={EDGE_HEADER: edge_secret},  # tells the app the request came through CloudFront
        )
        api = cloudfront.BehaviorOptions(
            origin=api_origin,
            viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
            allowed_methods=cloudfront.AllowedMethods.ALLOW_ALL,
            cache_policy=cloudfront.CachePolicy.CACHING_DISABLED,
            # API Gateway answers only for its own Host; Authorization, query strings and bodies pass
            origin_request_policy=cloudfront.OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
            compress=False,
        )
        self.distribution = cloudfront.Distribution(
            self, "Distribution",
            comment=f"Filo Diretto {stack.stack_name}: console, portal and API",
            default_behavior=static,
            additional_behaviors={**{f"/{app}/*": static for app in APPS}, **{path: api for path in API_PATHS}},
            http_version=cloudfront.HttpVersion.HTTP2_AND_3,
            price_class=cloudfront.PriceClass.PRICE_CLASS_100,  # Europe and North America edges
            enable_logging=True,
            log_bucket=self.log_bucket,
            log_file_prefix="cloudfront/",
        )
        self.url = f"https://{self.distribution.distribution_domain_name}"
        self.apps, unbuilt = built_apps(web_dir)
        for app in unbuilt:
            Annotations.of(self).add_warning_v2(
                f"filo:web-{app}-not-built", f"web/{app}/dist does not exist: the {app} is not deployed. Run `make web` "
                "before `cdk deploy` (docs/deploy.md).")
        self._deployments: list[s3deploy.BucketDeployment] = []

    def deploy(self, config: dict) -> None:
        """Upload each built app under /<app>/ and config.json at the root; invalidate the distribution."""
        for app in self.apps:
            dist = str(ROOT / "web" / app / "dist")  # resolved here, not relative to the CDK CLI's directory
            # hashed assets stay a year; index.html is revalidated, so a deploy shows at the next load
            self._deploy(f"{app.capitalize()}Assets", [s3deploy.Source.asset(dist)], prefix=f"{app}/",
                         exclude=["index.html"], prune=True,
                         cache_control=[s3deploy.CacheControl.from_string("public, max-age=31536000, immutable")])
            self._deploy(f"{app.capitalize()}Index", [s3deploy.Source.asset(dist)], prefix=f"{app}/",
                         exclude=["*"], include=["index.html"], prune=False,
                         cache_control=[s3deploy.CacheControl.no_cache()])
        self._deploy("Config", [s3deploy.Source.json_data("config.json", config)], prefix=None, prune=False,
                     cache_control=[s3deploy.CacheControl.no_cache()], distribution_paths=["/*"])
        # aws-cdk-lib's upload function depends on its role both by GetAtt and by DependsOn: cfn-lint W3005, not ours
        handler = self.deployment_handler()
        handler.node.default_child.add_metadata("cfn-lint", {"config": {"ignore_checks": ["W3005"]}})

    def deployment_handler(self):
        """The stack's shared BucketDeployment function (a singleton that aws-cdk-lib adds at the stack's root)."""
        stack = Stack.of(self)
        return next(child for child in stack.node.children if child.node.id.startswith("Custom::CDKBucketDeployment"))

    def _deploy(self, id: str, sources, *, prefix: str | None, prune: bool, cache_control, exclude=None, include=None,
                distribution_paths=None) -> None:
        deployment = s3deploy.BucketDeployment(
            self, id, destination_bucket=self.bucket, sources=sources, destination_key_prefix=prefix, prune=prune,
            exclude=exclude, include=include, cache_control=cache_control, memory_limit=512,
            distribution=self.distribution if distribution_paths else None, distribution_paths=distribution_paths,
        )
        for earlier in self._deployments:  # one after the other: the invalidation comes after every upload
            deployment.node.add_dependency(earlier)
        self._deployments.append(deployment)
