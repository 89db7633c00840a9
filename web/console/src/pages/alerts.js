// Allerte: the civil-protection alerts the comune watches (issue 19). The hamlets on the map in the colour of their
// current level, the zones and feeds, the drafts waiting for a person (approve: it goes out as any broadcast), the
// history of each alert with what it made, and the rules per hazard and level (administrators change them).
import { useEffect, useRef, useState } from "preact/hooks";
import { html } from "@filo/shared/html";
import { addHamlets, createMap } from "@filo/shared/map";
import { controlBroadcast, getAlerts, getSettings, saveSettings } from "../api.js";
import { ALERT_ACTION, ALERT_FEED_STATUS, ALERT_HAZARD, ALERT_KIND, ALERT_LEVEL, BROADCAST_STATUS, when } from "../labels.js";

const LEVEL_COLOR = { green: "#1e8449", yellow: "#f1c40f", orange: "#e67e22", red: "#c0392b" };
const RANK = { green: 0, yellow: 1, orange: 2, red: 3 };
const REFRESH_MS = 15000;

function worst(levels) {
  return levels.reduce((a, b) => (RANK[b] > RANK[a] ? b : a), "green");
}

// Each hamlet's current level: the worst over the active alerts
function hamletLevels(overview) {
  const out = {};
  for (const s of overview.series.filter((x) => x.active)) {
    for (const [hamlet, level] of Object.entries(s.levels)) out[hamlet] = worst([out[hamlet] || "green", level]);
  }
  return out;
}

function hamletNames(tenant, ids) {
  if (!ids.length) return "Tutto il Comune";
  return ids.map((id) => tenant.hamlets.features.find((h) => h.id === id)?.properties.name || id).join(", ");
}

function LevelMap({ config, tenant, levels }) {
  const box = useRef(null);
  const state = useRef({});
  useEffect(() => {
    const map = createMap(box.current, config);
    state.current = { map, layer: null };
    return () => map.remove();
  }, []);
  useEffect(() => {
    const { map } = state.current;
    if (!map) return;
    if (state.current.layer) state.current.layer.remove();
    const layer = addHamlets(map, tenant.hamlets || { type: "FeatureCollection", features: [] }, { namesOnHover: true });
    layer.eachLayer((shape) => {
      const level = levels[shape.feature.id] || "green";
      shape.setStyle({ color: LEVEL_COLOR[level], fillColor: LEVEL_COLOR[level], fillOpacity: level === "green" ? 0.08 : 0.45 });
      shape.bindTooltip(`${shape.feature.properties.name}: ${ALERT_LEVEL[level]}`, { sticky: true });
    });
    state.current.layer = layer;
  }, [JSON.stringify(levels)]);
  return html`<div class="map" ref=${box} style="height:300px" role="region" aria-label="Livelli di allerta delle frazioni"></div>`;
}

// CAP's message types as the history names them
const ALERT_MSG_TYPE = { Alert: "Allerta", Update: "Aggiornamento", Cancel: "Revoca" };

// Who a draft goes to: the topic's subscribers of its hamlets, or every subscriber there.
function audienceOf(tenant, draft) {
  const topic = draft.audience.topics[0];
  if (!topic) return "tutti gli iscritti";
  return "iscritti al tema «" + (tenant.topics.find((t) => t.id === topic)?.name || topic) + "»";
}

export function Alerts({ config, tenant, who }) {
  const [overview, setOverview] = useState(null);
  const [error, setError] = useState("");
  const [busy, setBusy] = useState("");
  const [confirming, setConfirming] = useState(""); // the draft whose sending waits for a second, explicit yes
  const load = () => getAlerts().then((o) => { setOverview(o); setError(""); }).catch((e) => setError(e.message));
  useEffect(() => {
    load();
    const timer = setInterval(load, REFRESH_MS);
    return () => clearInterval(timer);
  }, []);
  const act = async (id, action) => {
    setBusy(id);
    setConfirming("");
    try {
      await controlBroadcast(id, action);
      await load();
    } catch (e) {
      setError(e.message);
    } finally {
      setBusy("");
    }
  };
  if (!overview) return html`<h1 tabindex="-1">Allerte di protezione civile</h1>${error ? html`<p class="error" role="alert">${error}</p>` : html`<p role="status">Caricamento…</p>`}`;
  const levels = hamletLevels(overview);
  return html`
    <h1 tabindex="-1">Allerte di protezione civile</h1>
    ${error && html`<p class="error" role="alert">${error}</p>`}
    ${!overview.enabled && html`<p class="notice">Le allerte automatiche non sono attive per questo Comune: l'amministratore le attiva indicando zone e fonti (vedi la guida «Allerte»).</p>`}
    <section aria-labelledby="allerte-mappa">
      <h2 id="allerte-mappa">Livelli attuali</h2>
      <${LevelMap} config=${config} tenant=${tenant} levels=${levels} />
      <table class="alert-zones">
        <caption>Zone di allerta del Comune</caption>
        <thead><tr><th scope="col">Zona</th><th scope="col">Livello</th><th scope="col">Rischi</th><th scope="col">Frazioni</th></tr></thead>
        <tbody>${overview.zones.map((z) => html`<tr>
          <td>${z.name} <small>(${z.code})</small></td>
          <td><span class=${"level level-" + z.level}>${ALERT_LEVEL[z.level]}</span></td>
          <td>${Object.entries(z.hazards).map(([h, lv]) => `${ALERT_HAZARD[h] || h}: ${ALERT_LEVEL[lv]}`).join("; ") || "—"}</td>
          <td>${z.hamlets.length ? hamletNames(tenant, z.hamlets) : "—"}</td></tr>`)}</tbody>
      </table>
    </section>
    <section aria-labelledby="allerte-bozze">
      <h2 id="allerte-bozze">Avvisi da approvare (${overview.drafts.length})</h2>
      ${overview.drafts.length === 0 ? html`<p>Nessun avviso in attesa.</p>` : html`<ul class="alert-drafts">${overview.drafts.map((d) => html`
        <li class=${"level-" + d.level}>
          <p><strong>${ALERT_KIND[d.kind] || d.kind} · ${ALERT_LEVEL[d.level]}</strong>${" · "}${hamletNames(tenant, d.audience.hamlets)}${" · "}${audienceOf(tenant, d)}${" · "}preparato ${when(d.created_at)}</p>
          <pre class="alert-text">${d.text}</pre>
          ${confirming === d.id ? html`<div class="confirm" role="group" aria-label="Conferma dell'invio">
            <p>Inviare ora questo avviso a ${audienceOf(tenant, d)} di ${hamletNames(tenant, d.audience.hamlets)}? Una volta inviato non si può ritirare.</p>
            <button type="button" disabled=${busy === d.id} onClick=${() => act(d.id, "schedule")}>Conferma l'invio</button>
            <button type="button" class="secondary" onClick=${() => setConfirming("")}>Annulla</button>
          </div>` : html`
          <button type="button" disabled=${busy === d.id} onClick=${() => setConfirming(d.id)}>Approva e invia</button>
          <button type="button" class="secondary" disabled=${busy === d.id} onClick=${() => act(d.id, "cancel")}>Scarta</button>`}
        </li>`)}</ul>`}
    </section>
    <section aria-labelledby="allerte-storico">
      <h2 id="allerte-storico">Storico delle allerte</h2>
      ${overview.series.filter((s) => s.history.some((v) => v.broadcasts.length)).length === 0 ? html`<p>Nessuna allerta ha riguardato il Comune.</p>` : html`
      <table class="alert-history">
        <thead><tr><th scope="col">Allerta</th><th scope="col">Versione</th><th scope="col">Avvisi preparati</th></tr></thead>
        <tbody>${overview.series.filter((s) => s.history.some((v) => v.broadcasts.length)).flatMap((s) => s.history.filter((v) => v.broadcasts.length).map((v) => html`<tr>
          <td>${ALERT_HAZARD[s.hazard] || s.hazard}<br /><small>${s.headline}</small></td>
          <td>${when(v.at)} · ${ALERT_MSG_TYPE[v.msg_type] || v.msg_type}</td>
          <td>${v.broadcasts.map((b) => {
            const sent = overview.broadcasts.find((x) => x.id === b.id);
            return html`<div><a href=${"#/avvisi/" + encodeURIComponent(b.id)}>${ALERT_KIND[b.kind]} ${ALERT_LEVEL[b.level]}</a> · ${hamletNames(tenant, b.hamlets)} · ${sent ? BROADCAST_STATUS[sent.status] || sent.status : ALERT_ACTION[b.action]}${sent && sent.counters.recipients ? ` · ${sent.counters.sent} inviati su ${sent.counters.recipients}, ${sent.counters.read} letti` : ""}</div>`;
          })}</td></tr>`))}</tbody>
      </table>`}
    </section>
    <section aria-labelledby="allerte-fonti">
      <h2 id="allerte-fonti">Fonti ufficiali</h2>
      ${overview.feeds.length === 0 ? html`<p>Nessuna fonte configurata.</p>` : html`<ul>${overview.feeds.map((f) => html`
        <li class=${"feed-" + f.status}><strong>${f.id}</strong> (${f.kind === "dpc" ? "bollettino DPC" : "CAP"}): ${ALERT_FEED_STATUS[f.status] || f.status}
          · ultima lettura riuscita ${when(f.ok_at)}${f.failures ? ` · ${f.failures} errori di fila (${f.error}); nuovo tentativo ${when(f.next_at)}` : ""}</li>`)}</ul>`}
    </section>
    <${Rules} overview=${overview} canEdit=${who && who.can.includes("setup")} onSaved=${load} />`;
}

function Rules({ overview, canEdit, onSaved }) {
  const [draft, setDraft] = useState(null);
  const [message, setMessage] = useState("");
  const rules = draft || overview.rules;
  const hazards = Object.keys(overview.rules);
  const save = async () => {
    try {
      const current = await getSettings();
      const value = { ...current.sections.alerts, rules: draft };
      await saveSettings("alerts", { version: current.version, value });
      setMessage("Regole salvate.");
      setDraft(null);
      onSaved();
    } catch (e) {
      setMessage(e.message);
    }
  };
  const change = (hazard, level, action) => setDraft({ ...rules, [hazard]: { ...rules[hazard], [level]: action } });
  return html`
    <section aria-labelledby="allerte-regole">
      <h2 id="allerte-regole">Regole per rischio e livello</h2>
      <p>Per ogni rischio e livello: nessun avviso, una bozza da approvare qui, o l'invio automatico. L'allerta rossa ${overview.red_to_everyone ? "raggiunge tutti gli iscritti delle frazioni" : "raggiunge solo gli iscritti al tema delle allerte"} e non rispetta le ore di silenzio.</p>
      <table class="alert-rules">
        <thead><tr><th scope="col">Rischio</th><th scope="col">Gialla</th><th scope="col">Arancione</th><th scope="col">Rossa</th></tr></thead>
        <tbody>${hazards.map((h) => html`<tr><th scope="row">${ALERT_HAZARD[h] || h}</th>${["yellow", "orange", "red"].map((lv) => html`<td>
          ${canEdit ? html`<select aria-label=${`${ALERT_HAZARD[h] || h}, allerta ${ALERT_LEVEL[lv]}`} value=${rules[h][lv]} onChange=${(e) => change(h, lv, e.target.value)}>
            ${Object.entries(ALERT_ACTION).map(([k, label]) => html`<option value=${k}>${label}</option>`)}</select>` : ALERT_ACTION[rules[h][lv]]}</td>`)}</tr>`)}</tbody>
      </table>
      ${canEdit && html`<button type="button" disabled=${!draft} onClick=${save}>Salva le regole</button>`}
      ${message && html`<p role="status">${message}</p>`}
    </section>`;
}
