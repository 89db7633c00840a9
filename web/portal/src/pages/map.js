// The map of public reports: hamlet outlines, one marker per report, and the same reports as a list
// (the list is the keyboard's and the screen reader's way in; the map is the eyes').
import { useEffect, useRef, useState } from "preact/hooks";
import { html } from "@filo/shared/html";
import { addHamlets, createMap } from "@filo/shared/map";
import { config, getReports } from "../api.js";
import { formatDate, markerOf } from "../display.js";

const escapeHtml = (text) => String(text ?? "").replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function popup(report) {
  const photos = report.photos.map((p) =>
    `<img src="${escapeHtml(p.url)}" alt="Foto della segnalazione n. ${escapeHtml(report.number)}" loading="lazy">`).join("");
  return `<div class="popup"><strong>n. ${escapeHtml(report.number)}</strong> &middot; ${escapeHtml(report.category_name)}<br>
    ${escapeHtml(report.hamlet_name || "")} &middot; <span class="badge ${report.open ? "open" : "closed"}">${escapeHtml(report.status_label)}</span><br>
    <small>Segnalata il ${escapeHtml(formatDate(report.created_at))}</small>${photos ? `<div class="photos">${photos}</div>` : ""}</div>`;
}

export function MapPage({ comune }) {
  const element = useRef(null);
  const mapRef = useRef(null);
  const markers = useRef(new Map());
  const layer = useRef(null);
  const [reports, setReports] = useState(null);
  const [error, setError] = useState("");
  const [category, setCategory] = useState("");
  const [state, setState] = useState("all");

  useEffect(() => {
    const map = createMap(element.current, config());
    addHamlets(map, comune.hamlets);
    mapRef.current = map;
    getReports().then((body) => setReports(body.items)).catch((e) => setError(e.message));
    return () => map.remove();
  }, []);

  const shown = (reports || []).filter((r) => (!category || r.category === category) &&
    (state === "all" || (state === "open") === r.open));

  useEffect(() => {
    const map = mapRef.current;
    if (!map || !reports) return;
    if (layer.current) layer.current.remove();
    markers.current.clear();
    const group = [];
    for (const report of shown) {
      if (!report.location) continue;
      const marker = markerOf(report).bindPopup(popup(report), { maxWidth: 260 });
      markers.current.set(report.number, marker);
      group.push(marker);
    }
    layer.current = { remove: () => group.forEach((m) => m.remove()) };
    group.forEach((m) => m.addTo(map));
  }, [reports, category, state]);

  const showOnMap = (report) => {
    const marker = markers.current.get(report.number);
    if (!marker) return;
    mapRef.current.setView(marker.getLatLng(), Math.max(mapRef.current.getZoom(), 14), { animate: false });
    mapRef.current.panBy([0, -140], { animate: false }); // room above the marker for its popup
    marker.openPopup();
    element.current.scrollIntoView({ block: "center" });
  };

  return html`
    <h1 tabindex="-1">Segnalazioni nel ${comune.name.replace(/^Comune di /, "comune di ")}</h1>
    <p class="lead">Le segnalazioni degli ultimi 90 giorni: in rosso quelle aperte, in verde quelle risolte.
      Non mostriamo mai chi ha segnalato. <a href="#/segnala">Fai una segnalazione</a>.</p>
    <div class="filters">
      <label>Categoria
        <select value=${category} onChange=${(e) => setCategory(e.target.value)}>
          <option value="">Tutte le categorie</option>
          ${comune.categories.map((c) => html`<option value=${c.id}>${c.name}</option>`)}
        </select>
      </label>
      <label>Stato
        <select value=${state} onChange=${(e) => setState(e.target.value)}>
          <option value="all">Tutte</option><option value="open">Aperte</option><option value="closed">Risolte</option>
        </select>
      </label>
    </div>
    <div class="map big" ref=${element} role="region" aria-label="Mappa delle segnalazioni e delle frazioni"></div>
    ${error && html`<p role="alert" class="error">${error}</p>`}
    <h2>Elenco</h2>
    ${reports === null && !error && html`<p aria-live="polite">Caricamento delle segnalazioni…</p>`}
    ${reports !== null && html`<p aria-live="polite">${shown.length} segnalazioni</p>
      <ul class="report-list">
        ${shown.map((r) => html`<li key=${r.number}>
          <span class="number">n. ${r.number}</span>
          ${r.title && r.title !== r.category_name && html`<strong class="public-title">${r.title}</strong>`}
          <span>${r.category_name}${r.hamlet_name ? ` · ${r.hamlet_name}` : ""}</span>
          <span class=${"badge " + (r.open ? "open" : "closed")}>${r.status_label}</span>
          <span class="date">${formatDate(r.created_at)}</span>
          ${r.photos.length > 0 && html`<span class="has-photo">${r.photos.length} foto</span>`}
          ${r.location && html`<button type="button" class="link" onClick=${() => showOnMap(r)}
            aria-label=${`Mostra sulla mappa la segnalazione n. ${r.number}`}>Mostra sulla mappa</button>`}
        </li>`)}
      </ul>`}`;
}
