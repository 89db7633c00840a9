"""The external body's private link: a report forwarded by email (services/reports/forwarding.py) carries a signed,
expiring link to a small page where the body in charge reads that one report's minimal facts and posts its own status
(«preso in carico», «risolto», «non di competenza»), its reference and a note, public or not. No login: the link is
the credential.

The token is itsdangerous' URL-safe timed signature over the report id, the body and the forwarding's time, with a
key derived per comune (the salt names the comune) from the deployment's link secret (settings.link_secret). It is
refused with 403 when it does not verify (tampered, another comune's, another report's) and with 410 once it has
expired (the comune's setting reports.external_link_days) or the report was forwarded again since (a new link went
with the new email). Each post is a timeline event (actor "external:<body id>"), an audit entry, and, when public,
an update to the citizen through the usual path (services/reports/updates.py).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from chalicelib.domain import reports as rules
from chalicelib.domain.reports import Event, Report
from chalicelib.domain.tenancy import Tenant
from chalicelib.services import clock
from chalicelib.services.reports import updates
from chalicelib.settings import get_settings
from chalicelib.store import audit, directory
from chalicelib.store import reports as store

STATUSES = ("taken", "resolved", "not_competent")  # labels: messages external.<status>
MAX_REFERENCE, MAX_NOTE = 120, 2000


class LinkRefused(Exception):
    """The link does not open: status 403 (not a valid link for this report) or 410 (expired or replaced)."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status, self.message = status, message


@dataclass(frozen=True)
class Opened:
    tenant: Tenant
    report: Report


class InvalidPost(ValueError):
    def __init__(self, message: str, field: str):
        super().__init__(message)
        self.field = field


def _serializer(tenant_id: str):
    from itsdangerous import URLSafeTimedSerializer  # lazily: keeps `import app` fast

    return URLSafeTimedSerializer(get_settings().link_secret(), salt=f"filo-external-link/{tenant_id}")


def link(tenant: Tenant, report: Report) -> str:
    """The private link for the body a report was just forwarded to (report.external)."""
    token = _serializer(tenant.id).dumps({"r": report.report_id, "b": report.external["id"],
                                          "f": report.external["forwarded_at"]})
    return f"{get_settings().public_base_url}/x/{tenant.id}/{report.report_id}/{token}"


def expiry_days(tenant: Tenant) -> int:
    return tenant.reports.external_link_days


def open_link(tenant_id: str, report_id: str, token: str) -> Opened:
    """The report a link opens, or LinkRefused."""
    refused = LinkRefused(403, "Questo link non è valido. Usate il link ricevuto nell'email del Comune, per intero.")
    tenant = directory.get_tenant(tenant_id) if tenant_id and len(tenant_id) <= 64 else None
    if tenant is None or not rules.is_report_id(report_id):
        raise refused
    from itsdangerous import BadSignature, SignatureExpired

    try:
        data = _serializer(tenant.id).loads(token, max_age=expiry_days(tenant) * 86400)
    except SignatureExpired:
        raise LinkRefused(410, "Questo link è scaduto. Per aggiornare la segnalazione contattate il Comune, "
                               "citando il numero della segnalazione.") from None
    except BadSignature:
        raise refused from None
    if not isinstance(data, dict) or data.get("r") != report_id:
        raise refused
    report = store.get(tenant.id, report_id)
    if report is None or report.kind != "report":
        raise refused
    external = report.external or {}
    if external.get("id") != data.get("b") or external.get("forwarded_at") != data.get("f"):
        raise LinkRefused(410, "Questo link non è più attivo: la segnalazione è stata inoltrata di nuovo o ripresa "
                               "dal Comune. Usate il link dell'ultima email ricevuta.")
    return Opened(tenant, report)


def check_post(status: str | None, reference: str | None, note: str | None) -> tuple[str, str | None, str | None]:
    """The form's fields, validated (InvalidPost names the field, in Italian)."""
    if status not in STATUSES:
        raise InvalidPost("Scegliete uno stato.", "status")
    reference = (reference or "").strip() or None
    note = (note or "").strip() or None
    if reference and len(reference) > MAX_REFERENCE:
        raise InvalidPost(f"Il vostro riferimento può avere al massimo {MAX_REFERENCE} caratteri.", "reference")
    if note and len(note) > MAX_NOTE:
        raise InvalidPost(f"La nota può avere al massimo {MAX_NOTE} caratteri.", "note")
    return status, reference, note


def post(opened: Opened, status: str, reference: str | None, note: str | None, public: bool,
         request_id: str | None = None) -> Report:
    """Record the body's post on the report's timeline, audit it, and tell the citizen when public."""
    tenant, report = opened.tenant, opened.report
    body = report.external
    now = clock.now()
    actor = f"external:{body['id']}"
    event = Event(at=now, actor=actor, action=updates.EXTERNAL_UPDATE, public=public, note=note,
                  data={k: v for k, v in {"external_status": status, "reference": reference, "body": body["id"],
                                          "body_name": body.get("name")}.items() if v})

    def edit(current: Report) -> Report:
        external = {**current.external, "status": status, "updated_at": now.isoformat()}
        if reference:
            external["reference"] = reference
        return store.with_event(current, event, external=external)
    updated = store.change(tenant.id, report.report_id, edit, room=rules.STAFF_ROOM)
    audit.append(audit.AuditEntry(tenant_id=tenant.id, actor=actor, action="report.external_update",
                                  target=report.report_id, at=now, request_id=request_id))
    if public:
        updates.notify(tenant, updated, updated.events[-1])
    return updated


def posts(report: Report) -> list[Event]:
    """What the body posted so far, oldest first (its page shows them)."""
    return [e for e in report.events if e.action == updates.EXTERNAL_UPDATE]


def when(moment: datetime) -> str:
    from chalicelib.services.reports import wording

    return moment.astimezone(wording.ROME).strftime("%d/%m/%Y %H:%M")
