"""The external body's page (services/reports/external.py): plain server-rendered HTML, one form, no script, so it
works from any mail client's browser and leaves the token nowhere but in the address. It shows only what the
forwarding email already gave: the report's number, category, dates, place and description; never the citizen."""
from __future__ import annotations

from html import escape

from chalicelib import messages
from chalicelib.services.reports import external, wording

_PAGE = """<!doctype html>
<html lang="it"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="robots" content="noindex"><title>{title}</title>
<style>body{{font-family:system-ui,sans-serif;max-width:42rem;margin:1rem auto;padding:0 1rem;color:#1b1b1b;line-height:1.4}}
dt{{font-weight:600}} dd{{margin:0 0 .5rem 0}} fieldset{{border:1px solid #bbb;padding:.5rem 1rem;margin:0 0 1rem}}
label{{display:block;margin:.3rem 0}} input[type=text],textarea{{width:100%;box-sizing:border-box;font:inherit;padding:.4rem}}
button{{font:inherit;padding:.5rem 1.2rem}} .error{{color:#a00;font-weight:600}} .done{{color:#1e6b30;font-weight:600}}
ol{{padding-left:1.2rem}} small{{color:#555}}</style>
</head><body>
<main>
<p><small>{comune} &middot; pagina riservata a {body}</small></p>
<h1>Segnalazione n. {number}</h1>
{flash}
<dl>
<dt>Categoria</dt><dd>{category}</dd>
<dt>Ricevuta il</dt><dd>{created}</dd>
<dt>Inoltrata il</dt><dd>{forwarded}</dd>
<dt>Frazione</dt><dd>{hamlet}</dd>
<dt>Indirizzo</dt><dd>{address}</dd>
{position}
<dt>Descrizione</dt><dd>{text}</dd>
</dl>
<h2>I vostri aggiornamenti</h2>
{posts}
<h2>Comunica lo stato</h2>
<form method="post" action="">
<fieldset><legend>Stato</legend>{choices}</fieldset>
<label for="reference">Vostro riferimento (numero di pratica, facoltativo)</label>
<input type="text" id="reference" name="reference" maxlength="{max_reference}" value="{reference}">
<label for="note">Nota (facoltativa)</label>
<textarea id="note" name="note" rows="4" maxlength="{max_note}">{note}</textarea>
<label><input type="checkbox" name="public" value="1"{public}> Visibile al cittadino: riceverà lo stato e la nota
su WhatsApp</label>
<p><button type="submit">Invia aggiornamento</button></p>
</form>
<p><small>Il link è personale e scade il {expires}. Ogni aggiornamento è registrato nella storia della segnalazione
presso il Comune.</small></p>
</main>
</body></html>"""


def render(opened: external.Opened, expires: str, form: dict | None = None, error: str | None = None,
           sent: bool = False) -> str:
    tenant, report = opened.tenant, opened.report
    form = form or {}
    hamlet = tenant.hamlet(report.hamlet) if report.hamlet else None
    address = report.address or (report.position.address if report.position else None)
    flash = (f'<p class="error" role="alert">{escape(error)}</p>' if error
             else '<p class="done" role="status">Aggiornamento registrato. Grazie.</p>' if sent else "")
    return _PAGE.format(
        title=escape(f"Segnalazione {report.number} - {tenant.name}"), comune=escape(tenant.name),
        body=escape(report.external.get("name") or ""), number=escape(report.number), flash=flash,
        category=escape(wording.category_label(tenant, report)), created=wording.local_date(report.created_at),
        forwarded=_forwarded(report), hamlet=escape(hamlet.name if hamlet else "-"), address=escape(address or "-"),
        position=_position(report), text=escape(report.text or "-").replace("\n", "<br>"), posts=_posts(tenant, report),
        choices="".join(_choice(tenant, s, form.get("status")) for s in external.STATUSES),
        max_reference=external.MAX_REFERENCE, max_note=external.MAX_NOTE,
        reference=escape(form.get("reference") or ""), note=escape(form.get("note") or ""),
        public=" checked" if form.get("public") else "", expires=escape(expires))


def refused(message: str) -> str:
    return ("<!doctype html><html lang=\"it\"><head><meta charset=\"utf-8\"><meta name=\"robots\" content=\"noindex\">"
            "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\"><title>Link non valido</title></head>"
            f"<body><main><h1>Link non disponibile</h1><p>{escape(message)}</p></main></body></html>")


def label(tenant, status: str) -> str:
    return messages.text(f"external.{status}", tenant.language)


def _choice(tenant, status: str, chosen: str | None) -> str:
    checked = " checked" if status == chosen else ""
    return (f'<label><input type="radio" name="status" value="{status}" required{checked}> '
            f"{escape(label(tenant, status).capitalize())}</label>")


def _forwarded(report) -> str:
    from datetime import datetime

    at = report.external.get("forwarded_at")
    return wording.local_date(datetime.fromisoformat(at)) if at else "-"


def _position(report) -> str:
    if report.position is None:
        return ""
    lat, lon = report.position.latitude, report.position.longitude
    url = f"https://www.openstreetmap.org/?mlat={lat:.6f}&mlon={lon:.6f}#map=18/{lat:.6f}/{lon:.6f}"
    return f'<dt>Posizione</dt><dd><a href="{escape(url)}" rel="noreferrer">{lat:.6f}, {lon:.6f}</a></dd>'


def _posts(tenant, report) -> str:
    shown = external.posts(report)
    if not shown:
        return "<p>Nessun aggiornamento inviato finora.</p>"
    lines = []
    for event in shown:
        parts = [escape(label(tenant, event.data.get("external_status", "")))]
        if event.data.get("reference"):
            parts.append("rif. " + escape(event.data["reference"]))
        if event.note:
            parts.append(escape(event.note))
        visibility = "visibile al cittadino" if event.public else "solo per il Comune"
        lines.append(f"<li><time>{external.when(event.at)}</time> {' &middot; '.join(parts)} <small>({visibility})</small></li>")
    return f"<ol>{''.join(lines)}</ol>"
