"""The citizen's status page of a report (linked from the WhatsApp receipt): plain HTML of its public view
(services/reports/public_view.py), no personal data."""
from __future__ import annotations

import json
from html import escape

from chalicelib.services.reports import public_view, wording
from chalicelib.settings import get_settings
from chalicelib.store import directory
from chalicelib.store import reports as store

MAP_SPAN = 0.004  # degrees around the point shown on the map

_PAGE = """<!doctype html>
<html lang="it"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="robots" content="noindex"><title>{title}</title>
<style>body{{font-family:system-ui,sans-serif;max-width:40rem;margin:1rem auto;padding:0 1rem;color:#1b1b1b}}
.status{{display:inline-block;padding:.2rem .6rem;border-radius:1rem;background:#e6f0ff;font-weight:600}}
ol{{padding-left:1.2rem}} li{{margin:.4rem 0}} iframe{{width:100%;height:18rem;border:0}} small{{color:#555}}</style>
</head><body>
<p><small>{comune}</small></p>{portal}
<h1>Segnalazione n. {number}</h1>
<p><strong>{public_title}</strong></p>
<p>{description}</p>
<p>{category} &middot; {hamlet}</p>
<p>Stato: <span class="status">{status}</span></p>
{map}
<h2>Aggiornamenti</h2>
<ol>{events}</ol>
<p><small>Per informazioni scrivi STATO {short_number} su WhatsApp al numero da cui hai fatto la segnalazione.</small></p>
</body></html>"""


def render(token: str) -> str | None:
    report = store.by_token(token)
    if report is None or report.kind != "report":
        return None  # tips have no public page
    tenant = directory.get_tenant(report.tenant_id)
    if tenant is None:
        return None
    view = public_view.of(tenant, report)
    return _PAGE.format(
        title=escape(f"Segnalazione {view.number} - {tenant.name}"), comune=escape(tenant.name),
        number=escape(view.number), short_number=escape(view.number.split("/")[-1]),
        category=escape(view.category_name), hamlet=escape(view.hamlet_name or "posizione non indicata"),
        public_title=escape(view.title), description=escape(view.description),
        status=escape(view.status_label), map=_map(view), events="".join(_event_line(e) for e in view.events),
        portal=_portal(token))


def _portal(token: str) -> str:
    """With a citizen portal, browsers with JavaScript go on to its richer view (map, published photos); this
    page stays complete without it. The token travels in the fragment, which no server or Referer sees."""
    base = get_settings().portal_url
    if not base:
        return ""
    target = f"{base}#/r/{token}"
    script_safe = json.dumps(target).replace("<", "\\u003c")  # no "</script>" can end the script early
    return (f'\n<p><a href="{escape(target)}">Apri la segnalazione nel portale del comune</a></p>'
            f"\n<script>location.replace({script_safe})</script>")


def _event_line(event: public_view.PublicEvent) -> str:
    parts = [escape(p) for p in (event.status_label, event.note) if p]
    return f"<li><time>{wording.local_date(event.at)}</time> {': '.join(parts)}</li>"


def _map(view: public_view.PublicReport) -> str:
    if view.latitude is None:
        return ""
    lat, lon = view.latitude, view.longitude
    box = f"{lon - MAP_SPAN:.5f}%2C{lat - MAP_SPAN:.5f}%2C{lon + MAP_SPAN:.5f}%2C{lat + MAP_SPAN:.5f}"
    src = f"https://www.openstreetmap.org/export/embed.html?bbox={box}&layer=mapnik&marker={lat:.5f}%2C{lon:.5f}"
    return f'<iframe title="Mappa" src="{src}" loading="lazy"></iframe>'


def not_found() -> str:
    return ("<!doctype html><html lang=\"it\"><meta charset=\"utf-8\"><title>Segnalazione non trovata</title>"
            "<p>Segnalazione non trovata: controlla il link ricevuto su WhatsApp.</p></html>")
