"""What a deployment of one stage needs to know: the Chalice stage config plus CDK context values."""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]  # the repository root: the Chalice project (app.py, .chalice/)
CHALICE_CONFIG = ROOT / ".chalice" / "config.json"
DEPLOYED_STAGES = ("dev", "prod")


@dataclass(frozen=True)
class FunctionSettings:
    timeout: int  # seconds
    memory: int  # MB


# Every Lambda function of the app (Chalice's names). Consumers' timeouts bound their queue's visibility
# timeout (at least 6x, checked at synth); the API stays under API Gateway's 29 s integration timeout.
FUNCTIONS: dict[str, FunctionSettings] = {
    "api_handler": FunctionSettings(timeout=29, memory=1024),
    "inbound_worker": FunctionSettings(timeout=30, memory=1024),
    "status_worker": FunctionSettings(timeout=60, memory=512),  # up to 100 status webhooks a batch
    "outbound_sender": FunctionSettings(timeout=30, memory=512),
    "fanout_worker": FunctionSettings(timeout=120, memory=512),
    "start_due_broadcasts": FunctionSettings(timeout=60, memory=512),
    "watch_dead_letters": FunctionSettings(timeout=30, memory=256),
    "sweep_report_photos": FunctionSettings(timeout=300, memory=512),  # daily: lists the bucket, a batch read per 100
    "send_overdue_digests": FunctionSettings(timeout=120, memory=512),  # hourly: a Query per comune, an email per team
    "reconcile_audience_counts": FunctionSettings(timeout=900, memory=512),  # nightly: ~10 s per 100,000 subscribers
    # every 5 minutes: each comune's alert feeds (10 s timeout each, CAP documents fetched), versions, broadcasts
    "watch_alert_feeds": FunctionSettings(timeout=300, memory=512),
    "send_agenda_reminders": FunctionSettings(timeout=60, memory=512),  # every minute: at most 500 reminders a run
    # Vicinato (docs/vicinato.md): every minute, at most 100 late reports; daily, ID photos due and the bucket listed
    "escalate_vicinato_reports": FunctionSettings(timeout=60, memory=512),
    "sweep_vicinato_photos": FunctionSettings(timeout=300, memory=512),
}


@dataclass(frozen=True)
class StageSettings:
    stage: str
    chalice_env: dict[str, str]  # the stage's environment variables in .chalice/config.json
    mail_from: str  # SES-verified sender of emails to external bodies
    public_base_url: str  # where citizens' links point: the WebUrl output after the first deploy, or a custom domain
    tenant: str  # the comune the portal shows (its tenant_id), written to /config.json
    tiles_url: str  # the maps' tile URL template in /config.json; empty: no tiles (hamlet outlines and markers only)
    tiles_attribution: str
    alarm_email: str  # subscribed to the alarm topic when set
    waf: bool  # attach a WAF web ACL (AWS managed rules and a per-IP rate limit) to the API stage
    api_rate_limit: int  # API Gateway steady-state requests per second for the stage
    api_burst_limit: int
    waf_rate_limit: int  # requests per IP per 5 minutes before WAF blocks
    outbound_consumers: int  # the outbound event source's maximum concurrency
    status_consumers: int  # the statuses event source's maximum concurrency
    log_retention_days: int
    deletion_protection: bool  # tables keep their data when the stack is deleted

    @property
    def resource_prefix(self) -> str:
        return self.chalice_env["RESOURCE_PREFIX"]

    @property
    def meta_secret_name(self) -> str:
        return self.chalice_env["META_SECRET_NAME"]

    @property
    def stack_name(self) -> str:
        return f"filo-diretto-{self.stage}"


RETENTION_DAYS = {7: "ONE_WEEK", 14: "TWO_WEEKS", 30: "ONE_MONTH", 90: "THREE_MONTHS", 180: "SIX_MONTHS",
                  365: "ONE_YEAR", 400: "THIRTEEN_MONTHS"}


def log_retention(days: int):
    """CloudWatch Logs retention for days (one of RETENTION_DAYS)."""
    from aws_cdk import aws_logs as logs

    return getattr(logs.RetentionDays, RETENTION_DAYS[days])


def chalice_stage_env(stage: str) -> dict[str, str]:
    config = json.loads(CHALICE_CONFIG.read_text())
    if stage not in config["stages"]:
        raise ValueError(f"stage {stage!r} is not in {CHALICE_CONFIG}")
    return {**config.get("environment_variables", {}), **config["stages"][stage].get("environment_variables", {})}


def stage_settings(stage: str, context) -> StageSettings:
    """context: a callable name -> value or None (CDK's node.try_get_context)."""
    def value(name: str, default):
        found = context(f"{stage}:{name}")
        found = context(name) if found is None else found
        return default if found is None else found

    prod = stage == "prod"
    env = chalice_stage_env(stage)
    # bucket names are global: a deployment may need its own prefix (e.g. filo-prod-comune-x)
    env["RESOURCE_PREFIX"] = str(value("resource_prefix", env["RESOURCE_PREFIX"]))
    return StageSettings(
        stage=stage,
        chalice_env=env,
        mail_from=str(value("mail_from", "segnalazioni@filodiretto.example")),
        public_base_url=str(value("public_base_url", "")).rstrip("/"),
        tenant=str(value("tenant", "")),
        tiles_url=str(value("tiles_url", "")),
        tiles_attribution=str(value("tiles_attribution", "")),
        alarm_email=str(value("alarm_email", "")),
        waf=_flag(value("waf", prod)),
        api_rate_limit=int(value("api_rate_limit", 200)),
        api_burst_limit=int(value("api_burst_limit", 400)),
        waf_rate_limit=int(value("waf_rate_limit", 2000)),
        outbound_consumers=int(value("outbound_consumers", 2)),
        status_consumers=int(value("status_consumers", 2)),
        log_retention_days=int(value("log_retention_days", 90 if prod else 30)),
        deletion_protection=_flag(value("deletion_protection", prod)),
    )


def _flag(raw) -> bool:
    return raw if isinstance(raw, bool) else str(raw).lower() in {"1", "true", "yes", "on"}


def use_stage_environment(settings: StageSettings) -> None:
    """Set what app.py and chalicelib read at import (names, event source concurrency) before Chalice packages."""
    os.environ.update(settings.chalice_env)
    os.environ["OUTBOUND_CONSUMERS"] = str(settings.outbound_consumers)
    os.environ["STATUS_CONSUMERS"] = str(settings.status_consumers)
    os.environ.setdefault("AWS_DEFAULT_REGION", os.environ.get("CDK_DEFAULT_REGION", "eu-south-1"))
