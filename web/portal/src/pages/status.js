// One report as its citizen follows it (the link in the WhatsApp receipt): status, public history, place, photos.
import { useEffect, useRef, useState } from "preact/hooks";
import { html } from "@filo/shared/html";
import { addHamlets, createMap } from "@filo/shared/map";
import { config, getStatus } from "../api.js";
import { formatDate, markerOf } from "../display.js";

function PlaceMap({ comune, report }) {
  const element = useRef(null);
  useEffect(() => {
    const map = createMap(element.current, config());
    addHamlets(map, comune.hamlets);
    const { latitude, longitude } = report.location;
    markerOf(report).addTo(map);
    map.setView([latitude, longitude], 14);
    return () => map.remove();
  }, [report.number]);
  return html`<div class="map small" ref=${element} role="region"
    aria-label=${`Mappa: luogo della segnalazione n. ${report.number}`}></div>`;
}

export function StatusPage({ comune, token }) {
  const [report, setReport] = useState(null);
  const [error, setError] = useState("");
  useEffect(() => {
    setReport(null);
    getStatus(token).then(setReport).catch((e) =>
      setError(e.status === 404 ? "Segnalazione non trovata: controlla il link ricevuto su WhatsApp." : e.message));
  }, [token]);

  if (error) return html`<h1 tabindex="-1">Segnalazione non trovata</h1><p role="alert" class="error">${error}</p>`;
  if (!report) return html`<h1 tabindex="-1">Stato della segnalazione</h1><p aria-live="polite">Caricamento…</p>`;
  const short = report.number.split("/").pop();
  return html`
    <h1 tabindex="-1">Segnalazione n. ${report.number}</h1>
    ${report.title && html`<h2 class="public-title" data-testid="public-title">${report.title}</h2>`}
    ${report.description && html`<p data-testid="public-description">${report.description}</p>`}
    <p class="lead">${report.category_name} · ${report.hamlet_name || "frazione non indicata"}</p>
    <p>Stato: <strong class=${"badge " + (report.open ? "open" : "closed")} data-testid="status">${report.status_label}</strong></p>
    ${report.duplicate_of && html`<p>Lo stesso problema era già stato segnalato: la segnalazione n. ${report.duplicate_of}
      viene seguita insieme a questa.</p>`}
    ${report.location ? html`<${PlaceMap} comune=${comune} report=${report} />` : html`<p>Posizione non indicata sulla mappa.</p>`}
    ${report.photos.length > 0 && html`<h2>Foto</h2><div class="photos">
      ${report.photos.map((p, i) => html`<img src=${p.url} alt=${`Foto ${i + 1} della segnalazione n. ${report.number}`} />`)}
    </div>`}
    <h2>Aggiornamenti</h2>
    <ol class="timeline">
      ${report.events.map((e) => html`<li><time datetime=${e.at}>${formatDate(e.at)}</time>
        ${e.status_label && html` <strong>${e.status_label}</strong>`}${e.note && html`: ${e.note}`}</li>`)}
    </ol>
    <p class="hint">Se hai fatto la segnalazione su WhatsApp, scrivi STATO ${short} allo stesso numero per avere notizie.</p>
    <p><a href="#/">Torna alla mappa</a></p>`;
}
