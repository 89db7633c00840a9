"""Typed settings read from the environment; secrets from Secrets Manager when configured."""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from functools import lru_cache

DEFAULT_PREFIX = "filo-local"


def resource_prefix() -> str:
    """Prefix of every table, queue and bucket name of this deployment."""
    return os.environ.get("RESOURCE_PREFIX", DEFAULT_PREFIX)


def resource_name(logical: str) -> str:
    return f"{resource_prefix()}-{logical}"


@dataclass(frozen=True)
class MetaSecrets:
    app_secret: str
    verify_token: str
    access_token: str


@dataclass(frozen=True)
class Settings:
    stage: str
    graph_url: str
    graph_version: str
    staff_jwks: str  # inline JWKS JSON (local issuer); empty when a URL is used
    staff_jwks_url: str  # Cognito: https://cognito-idp.<region>.amazonaws.com/<pool>/.well-known/jwks.json
    staff_issuer: str
    staff_audience: str
    staff_user_pool_id: str  # the Cognito user pool the staff admin API drives (invite, roles, disable); empty: none
    public_base_url: str  # where citizens' links (privacy notice, status pages) point
    portal_url: str  # the citizen portal (ends with /); empty: none, status pages stay plain HTML
    console_url: str  # the staff console (ends with /): staff notices link to it; empty: no link
    meta_secret_name: str  # Secrets Manager name holding the Meta secrets as JSON; empty locally
    retry_base_seconds: int  # first wait before a deferred send is tried again; doubles each time
    outbound_consumers: int  # the outbound event source's maximum concurrency (pacing splits the rate)
    status_consumers: int  # the statuses event source's maximum concurrency (batches of up to 100 webhooks)
    mail_from: str  # the SES-verified sender of emails to external bodies
    edge_secret: str  # CloudFront's X-Filo-Edge header value: then its CloudFront-Viewer-Address names the client

    def meta_secrets(self) -> MetaSecrets:
        if self.meta_secret_name:
            from aws_lambda_powertools.utilities import parameters

            raw = parameters.get_secret(self.meta_secret_name, transform="json")
        else:
            raw = {
                "app_secret": os.environ.get("META_APP_SECRET", ""),
                "verify_token": os.environ.get("META_VERIFY_TOKEN", ""),
                "access_token": os.environ.get("META_ACCESS_TOKEN", ""),
            }
        secrets = MetaSecrets(**{k: str(raw.get(k, "")) for k in ("app_secret", "verify_token", "access_token")})
        if not secrets.app_secret:
            raise RuntimeError("Meta app secret is not configured: webhooks cannot be verified")
        return secrets

    def link_secret(self) -> str:
        """The key external bodies' private links are signed with (services/reports/external.py): `link_secret` in
        the same Secrets Manager secret (LINK_SECRET locally), else the app secret; each comune's key is derived
        from it. Changing it voids every link already sent."""
        if self.meta_secret_name:
            from aws_lambda_powertools.utilities import parameters

            value = str(parameters.get_secret(self.meta_secret_name, transform="json").get("link_secret") or "")
        else:
            value = os.environ.get("LINK_SECRET", "")
        return value or self.meta_secrets().app_secret

    def github_token(self) -> str:
        """Allerte's optional GitHub token (docs/allerte.md): `github_token` in the same Secrets Manager secret
        (GITHUB_TOKEN locally); empty: GitHub's API is read unauthenticated (60 requests an hour). Never logged."""
        if self.meta_secret_name:
            from aws_lambda_powertools.utilities import parameters

            return str(parameters.get_secret(self.meta_secret_name, transform="json").get("github_token") or "")
        return os.environ.get("GITHUB_TOKEN", "")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    env = os.environ.get
    return Settings(
        stage=env("STAGE", "local"),
        graph_url=env("GRAPH_URL", "https://graph.facebook.com"),
        graph_version=env("GRAPH_VERSION", "v25.0"),
        staff_jwks=env("STAFF_JWKS", ""),
        staff_jwks_url=env("STAFF_JWKS_URL", ""),
        staff_issuer=env("STAFF_ISSUER", ""),
        staff_audience=env("STAFF_AUDIENCE", ""),
        staff_user_pool_id=env("STAFF_USER_POOL_ID", ""),
        public_base_url=env("PUBLIC_BASE_URL", "http://127.0.0.1:8000").rstrip("/"),
        portal_url=env("PORTAL_URL", ""),
        console_url=env("CONSOLE_URL", ""),
        meta_secret_name=env("META_SECRET_NAME", ""),
        retry_base_seconds=int(env("RETRY_BASE_SECONDS", "30")),
        outbound_consumers=int(env("OUTBOUND_CONSUMERS", "2")),
        status_consumers=int(env("STATUS_CONSUMERS", "2")),
        mail_from=env("MAIL_FROM", "segnalazioni@filodiretto.example"),
        edge_secret=env("EDGE_SECRET", ""),
    )


def staff_jwks_keys() -> list[dict]:
    settings = get_settings()
    return json.loads(settings.staff_jwks)["keys"] if settings.staff_jwks else []
