"""Forwarding a report to the external body in charge: one email with the facts and short-lived photo links."""
from __future__ import annotations

from chalicelib.domain.reports import Report
from chalicelib.domain.tenancy import Tenant
from chalicelib.services.reports import external, wording
from chalicelib.store import mailer, media


def send(tenant: Tenant, report: Report, link_seconds: int) -> str:
    """Email the report to report.external's address; returns SES's message id. Photo links point at the
    copies without metadata and expire; the citizen's contact is not included (data minimisation)."""
    hamlet = tenant.hamlet(report.hamlet) if report.hamlet else None
    lines = [
        f"Il {tenant.name} vi inoltra la segnalazione n. {report.number}, di vostra competenza.",
        "",
        f"Categoria: {wording.category_label(tenant, report)}",
        f"Ricevuta il: {wording.local_date(report.created_at)}",
        f"Frazione: {hamlet.name if hamlet else '-'}",
        f"Indirizzo: {report.address or (report.position.address if report.position else None) or '-'}",
    ]
    if report.position:
        lat, lon = report.position.latitude, report.position.longitude
        lines.append(f"Posizione: {lat:.6f}, {lon:.6f} - https://www.openstreetmap.org/?mlat={lat:.6f}&mlon={lon:.6f}#map=18/{lat:.6f}/{lon:.6f}")
    lines += ["", "Descrizione:", report.text or "-"]
    links = [media.presigned_url(p.public_key, link_seconds) for p in report.photos if p.public_key]
    if links:
        lines += ["", f"Foto (link validi {link_seconds // 86400 or 1} giorni):", *links]
    lines += ["", "Per comunicarci lo stato dell'intervento (preso in carico, risolto, non di competenza), il vostro "
              f"riferimento e una nota, usate questo link riservato (valido {external.expiry_days(tenant)} giorni, "
              "senza registrazione; non inoltratelo):", external.link(tenant, report)]
    lines += ["", f"Per comunicazioni citate il numero {report.number}. Grazie."]
    subject = f"[{tenant.name}] Segnalazione {report.number}: {wording.category_label(tenant, report)}"
    return mailer.send(report.external["email"], subject, "\n".join(lines))
