// Registro accessi: who did what to which object and when, refused attempts included; filters by person, action,
// object and days; a change's before and after; CSV and Excel export. #/amministrazione/registro/<object> opens it
// filtered on an object (a number: "Chi ha visto i dati di questo cittadino?"). Every look is itself recorded.
// The actions' Italian labels come with the API's answers (one catalogue, chalicelib/messages/it.json).
import { useEffect, useRef, useState } from "preact/hooks";
import { html } from "@filo/shared/html";
import { useAnswerOrder } from "../../answers.js";
import { go } from "@filo/shared/router";
import { downloadAudit, getAuditFilters, listAudit } from "../../api.js";
import { ExportButtons } from "../../exports.js";
import { typedNumber, when } from "../../labels.js";

const EMPTY = { actor: "", action: "", object: "", from: "", to: "" };
const PAGE = 50;

export function AuditPage({ rest = [] }) {
  const preset = rest[0] || "";
  const [choices, setChoices] = useState({ people: [], actions: [] });
  const [form, setForm] = useState({ ...EMPTY, object: preset });
  const [applied, setApplied] = useState({ ...EMPTY, object: preset });
  const [items, setItems] = useState([]);
  const [next, setNext] = useState(null);
  const [open, setOpen] = useState(null);
  const [error, setError] = useState("");
  const [loading, setLoading] = useState(false);
  const [citizen, setCitizen] = useState("");
  const order = useAnswerOrder();

  useEffect(() => { getAuditFilters().then(setChoices).catch((e) => setError(e.message)); }, []);
  useEffect(() => {  // another number from the address (a link, the search above): the same filters, that object
    setForm((f) => (f.object === preset ? f : { ...f, object: preset }));
    setApplied((f) => (f.object === preset ? f : { ...f, object: preset }));
  }, [preset]);
  useEffect(() => { load(applied, null); }, [applied]);

  async function load(filters, cursor) {
    if (!cursor) order.change(); // other filters: an older answer arriving later is dropped
    const take = order.ask();
    setLoading(true); setError("");
    try {
      const page = await listAudit({ ...filters, limit: PAGE, cursor });
      if (!take()) return;
      setItems((shown) => (cursor ? [...shown, ...page.items] : page.items));
      setNext(page.next);
      if (!cursor) setOpen(null);
    } catch (e) {
      if (!take()) return;
      setError(e.message);
    }
    setLoading(false);
  }

  const set = (name) => (event) => setForm({ ...form, [name]: event.target.value });
  // the API reads a number in any writing, and a report id as typed
  const apply = (event) => { event.preventDefault(); setApplied({ ...form, object: form.object.trim() }); };
  const clear = () => { setForm(EMPTY); setApplied(EMPTY); if (preset) go("amministrazione/registro"); };
  const whoLooked = (event) => {
    event.preventDefault();
    const key = typedNumber(citizen);
    if (key) go("amministrazione/registro/" + encodeURIComponent(key));
  };

  return html`
    <h1 tabindex="-1">Registro accessi</h1>
    <p class="hint">Chi ha consultato o cambiato cosa, e quando, compresi i tentativi rifiutati. Ogni consultazione di
      questo registro è a sua volta registrata.</p>
    <form class="filters" role="search" aria-label="Accessi ai dati di un cittadino" onSubmit=${whoLooked}>
      <div><label for="a-citizen">Chi ha visto i dati di questo cittadino?</label>
        <input id="a-citizen" type="search" inputmode="tel" autocomplete="off" placeholder="es. 333 123 4567"
          value=${citizen} onInput=${(e) => setCitizen(e.target.value)} /></div>
      <div class="filter-actions"><button type="submit">Cerca negli accessi</button></div>
    </form>
    <form class="filters" aria-label="Filtri del registro" onSubmit=${apply}>
      <div><label for="a-actor">Persona</label>
        <select id="a-actor" value=${form.actor} onChange=${set("actor")}>
          <option value="">Tutte</option>
          ${choices.people.map((p) => html`<option value=${p.subject}>${p.name}</option>`)}
        </select></div>
      <div><label for="a-action">Azione</label>
        <select id="a-action" value=${form.action} onChange=${set("action")}>
          <option value="">Tutte</option>
          ${choices.actions.map((a) => html`<option value=${a.value}>${a.label}</option>`)}
        </select></div>
      <div><label for="a-object">Oggetto</label>
        <input id="a-object" type="search" autocomplete="off" placeholder="numero, n. segnalazione…"
          value=${form.object} onInput=${set("object")} /></div>
      <div><label for="a-from">Dal</label><input id="a-from" type="date" value=${form.from} onInput=${set("from")} /></div>
      <div><label for="a-to">Al</label><input id="a-to" type="date" value=${form.to} onInput=${set("to")} /></div>
      <div class="filter-actions">
        <button type="submit">Filtra</button>
        <button type="button" class="secondary" onClick=${clear}>Azzera</button>
      </div>
    </form>
    <${ExportButtons} what="audit" label="Esporta le voci filtrate del registro"
      download=${(format) => downloadAudit(format, applied)} />
    ${error && html`<p class="error" role="alert">${error}</p>`}
    ${applied.object && html`<p data-testid="audit-object">Voci che riguardano <strong>${applied.object}</strong>.</p>`}
    <div class="scroll"><table class="audit" aria-label="Voci del registro" aria-busy=${loading ? "true" : "false"}>
      <thead><tr><th scope="col">Quando</th><th scope="col">Persona</th><th scope="col">Azione</th>
        <th scope="col">Oggetto</th><th scope="col"><span class="visually-hidden">Dettagli</span></th></tr></thead>
      <tbody>${items.map((e, i) => html`<${Row} entry=${e} index=${i} open=${open === i}
        onToggle=${() => setOpen(open === i ? null : i)} />`)}</tbody>
    </table></div>
    <p role="status">${loading ? "Caricamento…" : items.length ? `${items.length} voci mostrate.` : "Nessuna voce con questi filtri."}</p>
    ${next && !loading && html`<button type="button" class="secondary" onClick=${() => load(applied, next)}>Mostra altre voci</button>`}`;
}

function Row({ entry, index, open, onToggle }) {
  const id = "audit-change-" + index;
  return html`
    <tr class=${entry.refused ? "refused" : ""} data-testid="audit-row">
      <td>${when(entry.at)}</td>
      <td>${entry.actor_name}</td>
      <td>${entry.refused && html`<span class="badge refused">Rifiutato</span> `}${entry.action_label}</td>
      <td class="text">${entry.target}</td>
      <td>${entry.changed && html`<button type="button" class="secondary" aria-expanded=${open ? "true" : "false"}
        aria-controls=${id} onClick=${onToggle}>${open ? "Nascondi modifica" : "Prima e dopo"}</button>`}</td>
    </tr>
    ${open && html`<tr id=${id}><td colspan="5"><${Change} before=${entry.before} after=${entry.after} /></td></tr>`}`;
}

// A change as a table of the fields that differ (a.b[0].c), before and after; unchanged fields counted.
function flatten(value, path = "", out = {}) {
  if (value && typeof value === "object") {
    const keys = Object.keys(value);
    if (!keys.length) out[path || "valore"] = Array.isArray(value) ? "[]" : "{}";
    keys.forEach((k) => flatten(value[k], Array.isArray(value) ? `${path}[${k}]` : path ? `${path}.${k}` : k, out));
  } else {
    out[path || "valore"] = value;
  }
  return out;
}

const shown = (value) => (value === undefined ? "—" : value === null ? "vuoto" : typeof value === "string" ? value : JSON.stringify(value));

export function Change({ before, after }) {
  const ref = useRef(null);
  const old = before == null ? {} : flatten(before);
  const now = after == null ? {} : flatten(after);
  const fields = [...new Set([...Object.keys(old), ...Object.keys(now)])];
  const changed = fields.filter((f) => JSON.stringify(old[f]) !== JSON.stringify(now[f]));
  const same = fields.length - changed.length;
  return html`<div class="change" ref=${ref}>
    <table aria-label="Prima e dopo la modifica">
      <thead><tr><th scope="col">Campo</th><th scope="col">Prima</th><th scope="col">Dopo</th></tr></thead>
      <tbody>${changed.map((f) => html`<tr><th scope="row">${f}</th>
        <td class="before"><del>${shown(old[f])}</del></td><td class="after"><ins>${shown(now[f])}</ins></td></tr>`)}</tbody>
    </table>
    ${!changed.length && html`<p>Nessuna differenza.</p>`}
    ${same > 0 && html`<p class="hint">${same === 1 ? "1 altro campo invariato." : `${same} altri campi invariati.`}</p>`}
  </div>`;
}
