// Frazioni: the hamlets with their outlines on the map. An outline comes from a GeoJSON file (read and checked by
// the API, then added here) or is drawn: a click on the map adds a corner, or the corners are typed one per line
// (latitude, longitude), the keyboard's way. Nothing is saved until «Salva».
import { useEffect, useRef, useState } from "preact/hooks";
import L from "leaflet";
import { html } from "@filo/shared/html";
import { addHamlets, createMap } from "@filo/shared/map";
import { importHamletOutlines } from "../../api.js";
import { Field, FormErrors, SaveBar, errorFor, slug, useSaving } from "./settings-form.js";

const DRAWN = { color: "#c0392b", weight: 2, dashArray: "4 4", fillOpacity: 0.1 };

const asFeatures = (hamlets) => ({ type: "FeatureCollection", features: hamlets.filter((h) => h.geometry).map((h) => ({
  type: "Feature", id: h.id, properties: { id: h.id, name: h.name }, geometry: h.geometry })) });

// "43.74, 10.98" per line -> [[lat, lon], ...]; null when a line is not a pair of coordinates.
export function parseCorners(text) {
  const rows = text.split("\n").map((l) => l.trim()).filter(Boolean);
  const corners = rows.map((row) => {
    const m = row.match(/^(-?\d{1,2}(?:\.\d+)?)\s*[,;\s]\s*(-?\d{1,3}(?:\.\d+)?)$/);
    return m ? [Number(m[1]), Number(m[2])] : null;
  });
  return corners.every(Boolean) ? corners : null;
}

const cornersText = (corners) => corners.map(([lat, lon]) => `${lat.toFixed(6)}, ${lon.toFixed(6)}`).join("\n");

// A closed GeoJSON polygon (lon, lat) from corners (lat, lon).
const polygonOf = (corners) => ({ type: "Polygon",
  coordinates: [[...corners, corners[0]].map(([lat, lon]) => [lon, lat])] });

function problemText(detail) {
  const feature = (detail.field || "").match(/^features\.(\d+)(?: \((.*)\))?$/);
  if (!feature) return detail.text;
  return `Elemento ${Number(feature[1]) + 1}${feature[2] ? ` «${feature[2]}»` : ""}: ${detail.text}`;
}

export function HamletsSection({ config, data, save, saved }) {
  const [hamlets, setHamlets] = useState(data.sections.hamlets);
  const [drawing, setDrawing] = useState(null); // {target: index or "new", name, corners: [[lat, lon]], typed}
  const [upload, setUpload] = useState({ busy: false, errors: [], done: "" });
  const [state, run] = useSaving();
  const box = useRef(null);
  const map = useRef(null);
  const layers = useRef({});
  const drawingRef = useRef(drawing);
  drawingRef.current = drawing;

  useEffect(() => {
    const created = createMap(box.current, config);
    layers.current.outlines = addHamlets(created, asFeatures(hamlets));
    layers.current.drawn = L.layerGroup().addTo(created);
    created.on("click", (event) => {
      const current = drawingRef.current;
      if (!current) return;
      const corners = [...current.corners, [event.latlng.lat, event.latlng.lng]];
      setDrawing({ ...current, corners, typed: cornersText(corners), invalid: false });
    });
    map.current = created;
    return () => { created.remove(); map.current = null; };
  }, []);

  useEffect(() => { // the outlines as they are now in the form
    if (!map.current) return;
    layers.current.outlines.remove();
    layers.current.outlines = addHamlets(map.current, asFeatures(hamlets));
  }, [hamlets]);

  useEffect(() => { // the outline being drawn: its corners and sides
    const group = layers.current.drawn;
    if (!group) return;
    group.clearLayers();
    if (!drawing || !drawing.corners.length) return;
    drawing.corners.forEach((c) => L.circleMarker(c, { radius: 4, color: DRAWN.color }).addTo(group));
    (drawing.corners.length > 2 ? L.polygon(drawing.corners, DRAWN) : L.polyline(drawing.corners, DRAWN)).addTo(group);
  }, [drawing && drawing.corners]);

  // a new outline starts empty; an existing Polygon's corners are there to move (typed) or to add to (clicked)
  const start = (target) => {
    const existing = target === "new" ? null : hamlets[target];
    const ring = existing && existing.geometry && existing.geometry.type === "Polygon" ? existing.geometry.coordinates[0] : [];
    const corners = ring.slice(0, -1).map(([lon, lat]) => [lat, lon]);
    setDrawing({ target, name: existing ? existing.name : "", corners, typed: cornersText(corners), invalid: false });
  };
  const typeCorners = (typed) => {
    const corners = parseCorners(typed);
    setDrawing({ ...drawing, typed, corners: corners || drawing.corners, invalid: !corners });
  };
  const finish = () => {
    if (drawing.corners.length < 3 || (drawing.target === "new" && !drawing.name.trim())) {
      setDrawing({ ...drawing, incomplete: true });
      return;
    }
    const geometry = polygonOf(drawing.corners);
    if (drawing.target === "new") {
      const name = drawing.name.trim();
      setHamlets([...hamlets, { id: slug(name), name, short_name: null, geometry }]);
    } else {
      setHamlets(hamlets.map((h, i) => {
        if (i !== drawing.target) return h;
        const { latitude, longitude, ...rest } = h; // the API puts the point inside the new outline
        return { ...rest, geometry };
      }));
    }
    setDrawing(null);
  };

  const read = async (event) => {
    const file = event.target.files[0];
    event.target.value = "";
    if (!file) return;
    setUpload({ busy: true, errors: [], done: "" });
    try {
      const answer = await importHamletOutlines(await file.text());
      const byId = Object.fromEntries(answer.hamlets.map((h) => [h.id, h]));
      const merged = hamlets.map((h) => (byId[h.id] ? { ...h, ...byId[h.id] } : h));
      const added = answer.hamlets.filter((h) => !hamlets.some((old) => old.id === h.id));
      setHamlets([...merged, ...added.map((h) => ({ short_name: null, ...h }))]);
      setUpload({ busy: false, errors: [], done: `Lette dal file ${answer.hamlets.length} frazioni: controlla la mappa e salva.` });
    } catch (error) {
      const errors = error.status === 422 && error.details.length ? error.details.map(problemText) : [error.message];
      setUpload({ busy: false, errors, done: "" });
    }
  };

  const submit = async (event) => {
    event.preventDefault();
    const answer = await run(() => save("hamlets", hamlets));
    if (answer) saved(answer);
  };
  const shown = [];
  const err = (path) => { shown.push(path); return errorFor(state.errors, path); };
  const set = (index, changed) => setHamlets(hamlets.map((h, i) => (i === index ? { ...h, ...changed } : h)));

  return html`<p class="hint">Le frazioni sono i destinatari degli avvisi e il luogo in cui cade una segnalazione: il contorno di ognuna dice a quale frazione appartiene un punto sulla mappa.</p>
    <div class="map form-map" ref=${box} style="height:320px" role="region"
      aria-label="Mappa delle frazioni: durante il disegno, un clic aggiunge un vertice"></div>
    <fieldset class="outline-tools">
      <legend>Aggiungi contorni</legend>
      <label for="hamlets-file">Carica un file GeoJSON</label>
      <p class="hint" id="hamlets-file-hint">Una FeatureCollection di poligoni, ognuno con la proprietà «name» (e facoltativamente «id»). Una frazione con lo stesso codice di una esistente ne sostituisce il contorno.</p>
      <input id="hamlets-file" type="file" accept=".geojson,.json,application/geo+json,application/json"
        aria-describedby="hamlets-file-hint" onChange=${read} disabled=${upload.busy} />
      ${upload.errors.length > 0 && html`<div class="error" role="alert"><p>File non accettato: nessuna frazione è cambiata.</p>
        <ul>${upload.errors.map((t) => html`<li>${t}</li>`)}</ul></div>`}
      <p role="status">${upload.busy ? "Lettura del file…" : upload.done}</p>
      ${!drawing && html`<button type="button" class="secondary" onClick=${() => start("new")}>Disegna una nuova frazione</button>`}
      ${drawing && html`<div class="drawing">
        <p class="hint">Clicca sulla mappa i vertici del contorno, in ordine, oppure scrivili qui sotto (per correggerne uno, cambia la sua riga). Il contorno si chiude da solo.</p>
        ${drawing.target === "new" && html`<${Field} id="draw-name" label="Nome della nuova frazione" value=${drawing.name}
          onChange=${(name) => setDrawing({ ...drawing, name })} />`}
        <${Field} id="draw-corners" kind="textarea" rows="4" label="Vertici (latitudine, longitudine: uno per riga)"
          value=${drawing.typed} error=${drawing.invalid ? "Scrivi ogni vertice come latitudine, longitudine, per esempio 43.745, 10.980." : ""}
          onChange=${typeCorners} />
        ${drawing.incomplete && html`<p class="field-error" role="alert">Servono almeno 3 vertici${drawing.target === "new" ? " e un nome" : ""}.</p>`}
        <div class="buttons">
          <button type="button" onClick=${finish}>${drawing.target === "new" ? "Aggiungi la frazione" : "Usa questo contorno"}</button>
          <button type="button" class="secondary" disabled=${!drawing.corners.length}
            onClick=${() => { const corners = drawing.corners.slice(0, -1); setDrawing({ ...drawing, corners, typed: cornersText(corners) }); }}>Togli l'ultimo vertice</button>
          <button type="button" class="secondary" onClick=${() => setDrawing(null)}>Annulla il disegno</button>
        </div>
      </div>`}
    </fieldset>
    <form class="settings-form" aria-label="Frazioni" noValidate onSubmit=${submit}>
      <${FormErrors} message=${state.message} errors=${state.errors} shown=${shown} />
      ${hamlets.map((h, i) => html`<fieldset class="item">
        <legend>${h.name || `Frazione ${i + 1}`}</legend>
        <${Field} id=${`hamlet-${i}-name`} label="Nome" value=${h.name} error=${err(`hamlets.${i}.name`) || err(`hamlets.${i}`)}
          onChange=${(name) => set(i, { name })} />
        <${Field} id=${`hamlet-${i}-short`} label="Nome breve (facoltativo)" value=${h.short_name}
          error=${err(`hamlets.${i}.short_name`)} onChange=${(v) => set(i, { short_name: v || null })} />
        <${Field} id=${`hamlet-${i}-id`} label="Codice" value=${h.id} error=${err(`hamlets.${i}.id`)}
          onChange=${(id) => set(i, { id })} />
        <p id=${`hamlet-${i}-outline`}>${h.geometry ? "Con contorno" : "Senza contorno"}</p>
        ${err(`hamlets.${i}.geometry`) && html`<p class="field-error">${errorFor(state.errors, `hamlets.${i}.geometry`)}</p>`}
        <div class="buttons">
          <button type="button" class="secondary small" onClick=${() => start(i)} aria-label=${`Modifica il contorno di ${h.name}`}>Modifica il contorno</button>
          <button type="button" class="secondary small" onClick=${() => setHamlets(hamlets.filter((_, j) => j !== i))}
            aria-label=${`Rimuovi ${h.name}`}>Rimuovi</button>
        </div>
      </fieldset>`)}
      <${SaveBar} state=${state} label="Salva le frazioni" />
    </form>`;
}
