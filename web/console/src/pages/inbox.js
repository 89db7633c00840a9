// The inbox: reports (or, for the police, safety tips) with filters, a map and a list; new ones appear by themselves.
import { useEffect, useRef, useState } from "preact/hooks";
import { html } from "@filo/shared/html";
import { go } from "@filo/shared/router";
import { listReports, listVicinatoZones } from "../api.js";
import { useAnswerOrder } from "../answers.js";
import { BulkBar, BulkOutcome } from "./bulk.js";
import { ExportButtons } from "../exports.js";
import { ReportMap } from "../map.js";
import { DEADLINE_STEP, DUE_FILTER, DUE_STATE, OPEN, SOURCE, STATUS, day, named, when } from "../labels.js";
import { reportStatus } from "../labels.js";

const REFRESH_MS = 5000;
const PAGE = 50;

// New ones nobody has opened yet (GET /api/v1/reports/arrivals, polled by the console): the first thing on the page;
// for the police, tips that came while the line was not watched come first.
function ToSee({ arrivals, kind, tenant, base }) {
  if (!arrivals) return null;
  const items = arrivals.items.filter((a) => a.kind === kind);
  const total = arrivals.by_kind[kind] || 0;
  const place = (a) => [kind === "report" ? named(tenant.categories, a.category) : null,
    a.hamlet ? tenant.hamlets.features.find((h) => h.id === a.hamlet)?.properties.name || a.hamlet : null]
    .filter(Boolean).join(" · ");
  return html`
    <section class="to-see" aria-labelledby="to-see-title">
      <h2 id="to-see-title">Da vedere <span class="count">(${total})</span></h2>
      ${!total && html`<p>Nessuna nuova segnalazione da vedere.</p>`}
      ${total > 0 && html`<p class="hint">Nuove e non ancora aperte da nessuno: aprile per prenderne visione.</p>`}
      <ul>${items.map((a) => html`<li>
        <a href=${`#/${base}/${encodeURIComponent(a.id)}`}><strong>${a.number}</strong> · ${when(a.created_at)}</a>
        ${place(a) && html`<span>${place(a)}</span>`}
        <span class="tag">${SOURCE[a.source] || a.source}</span>
        ${a.after_hours && html`<span class="late">Arrivata fuori orario</span>`}
      </li>`)}</ul>
      ${total > items.length && html`<p class="hint">… e altre ${total - items.length}.</p>`}
    </section>`;
}

export function Inbox({ config, tenant, kind, who, arrivals }) {
  const base = kind === "safety" ? "sicurezza" : "segnalazioni";
  const [filters, setFilters] = useState({ status: "open", category: "", hamlet: "", team: "", q: "", from: "", to: "", due: "", sort: "", zone: "" });
  // the police's Vicinato zones (the reports their coordinators forwarded: a filter and a column); none: no Vicinato
  const [zones, setZones] = useState([]);
  useEffect(() => {
    if (kind === "safety" && who.can.includes("tips")) listVicinatoZones().then((z) => setZones(z.items)).catch(() => {});
  }, [kind]);
  const [items, setItems] = useState([]);
  const [next, setNext] = useState(null);
  const [error, setError] = useState("");
  const [loaded, setLoaded] = useState(false);
  const order = useAnswerOrder();
  const more = useRef(false); // pages were added below the first: a refresh keeps them
  const [text, setText] = useState(""); // typed into Cerca; applied on Enter or leaving the field, not per key
  const [mine, setMine] = useState(false); // "Le mie segnalazioni": the ones the staff member is in charge of
  const [selected, setSelected] = useState({}); // id -> report, kept across refreshes until acted on or cleared
  const [outcome, setOutcome] = useState(null); // the last bulk action's answer

  const params = (cursor) => ({
    kind, status: filters.status === "open" ? OPEN.join(",") : filters.status, category: filters.category,
    hamlet: filters.hamlet, team: filters.team, q: filters.q, from: filters.from, to: filters.to, limit: PAGE, cursor,
    due: filters.due, sort: filters.sort, zone: filters.zone,
    assignee: mine ? "me" : undefined,
  });

  // Asked again every few seconds: the first page is refreshed; pages added by "Carica altre" stay below it.
  const load = async () => {
    const take = order.ask();
    try {
      const page = await listReports(params());
      if (!take()) return;
      const first = new Set(page.items.map((r) => r.id));
      setItems((shown) => [...page.items, ...(more.current ? shown.slice(PAGE).filter((r) => !first.has(r.id)) : [])]);
      if (!more.current) setNext(page.next);
      setError("");
    } catch (e) {
      if (take()) setError(e.message);
    }
    setLoaded(true);
  };

  useEffect(() => {
    order.change();
    more.current = false;
    load();
    const timer = setInterval(() => { if (!order.busy()) load(); }, REFRESH_MS);
    return () => clearInterval(timer);
  }, [JSON.stringify(filters), mine]);

  const loadMore = async () => {
    const take = order.ask();
    const page = await listReports(params(next));
    if (!take()) return;
    more.current = true;
    setItems((shown) => [...shown, ...page.items.filter((r) => !shown.some((s) => s.id === r.id))]);
    setNext(page.next);
  };
  const set = (name) => (e) => setFilters({ ...filters, [name]: e.target.value });
  const picked = Object.values(selected);
  const allPicked = items.length > 0 && items.every((r) => selected[r.id]);
  const pick = (r, on) => setSelected((now) => { const next = { ...now }; if (on) next[r.id] = r; else delete next[r.id]; return next; });
  const pickPage = (on) => setSelected((now) => { const next = { ...now }; items.forEach((r) => { if (on) next[r.id] = r; else delete next[r.id]; }); return next; });
  const bulkDone = (answer) => {
    setOutcome(answer);
    const kept = new Set(answer.results.filter((r) => r.result === "refused").map((r) => r.id)); // to look at again
    setSelected((now) => Object.fromEntries(Object.entries(now).filter(([id]) => kept.has(id))));
    load();
  };
  // A column header sorts by its column; a second click reverses the order (the API sorts: every page agrees).
  const sortBy = (column) => setFilters({ ...filters, sort: filters.sort === column ? `-${column}` : column });
  const Sortable = ({ column, label }) => {
    const order = filters.sort === column ? "ascending" : filters.sort === `-${column}` ? "descending" : undefined;
    return html`<th scope="col" aria-sort=${order}><button type="button" class="sort" onClick=${() => sortBy(column)}>${label}<span aria-hidden="true">${order === "ascending" ? " ▲" : order === "descending" ? " ▼" : ""}</span></button></th>`;
  };
  const title = kind === "safety" ? "Segnalazioni alla Polizia municipale" : "Segnalazioni dei cittadini";

  return html`
    <h1 tabindex="-1">${title}</h1>
    <${ToSee} arrivals=${arrivals} kind=${kind} tenant=${tenant} base=${base} />
    <p><a class="button" href=${`#/${base}/nuova`}>Nuova segnalazione</a> <small>(sportello, telefono, email)</small></p>
    <form class="filters" role="search" aria-label="Filtri" onSubmit=${(e) => { e.preventDefault(); if (text !== filters.q) setFilters({ ...filters, q: text }); else load(); }}>
      <div><label for="f-status">Stato</label>
        <select id="f-status" value=${filters.status} onChange=${set("status")}>
          <option value="open">Aperte</option><option value="">Tutte</option>
          ${Object.entries(STATUS).map(([k, v]) => html`<option value=${k}>${v}</option>`)}
        </select></div>
      ${kind === "report" && html`
        <div><label for="f-category">Categoria</label>
          <select id="f-category" value=${filters.category} onChange=${set("category")}>
            <option value="">Tutte</option>
            ${tenant.categories.map((c) => html`<option value=${c.id}>${c.name}</option>`)}
          </select></div>
        <div><label for="f-team">Squadra</label>
          <select id="f-team" value=${filters.team} onChange=${set("team")}>
            <option value="">Tutte</option>
            ${tenant.teams.map((t) => html`<option value=${t.id}>${t.name}</option>`)}
          </select></div>`}
      <div><label for="f-hamlet">Frazione</label>
        <select id="f-hamlet" value=${filters.hamlet} onChange=${set("hamlet")}>
          <option value="">Tutte</option>
          ${tenant.hamlets.features.map((h) => html`<option value=${h.id}>${h.properties.name}</option>`)}
        </select></div>
      ${zones.length > 0 && html`
        <div><label for="f-zone">Zona Vicinato</label>
          <select id="f-zone" value=${filters.zone} onChange=${set("zone")}>
            <option value="">Tutte le segnalazioni</option>
            ${zones.map((z) => html`<option value=${z.id}>${z.name}</option>`)}
          </select></div>`}
      ${kind === "report" && html`
        <div><label for="f-due">Scadenza</label>
          <select id="f-due" value=${filters.due} onChange=${set("due")}>
            <option value="">Tutte</option>
            ${Object.entries(DUE_FILTER).map(([k, v]) => html`<option value=${k}>${v}</option>`)}
          </select></div>`}
      <div><label for="f-q">Cerca</label>
        <input id="f-q" type="search" placeholder="Numero, testo, indirizzo" value=${text}
          onInput=${(e) => setText(e.target.value)} onChange=${(e) => setFilters({ ...filters, q: e.target.value })} /></div>
      <div><label for="f-from">Dal</label><input id="f-from" type="date" value=${filters.from} onChange=${set("from")} /></div>
      <div><label for="f-to">Al</label><input id="f-to" type="date" value=${filters.to} onChange=${set("to")} /></div>
      <div class="check mine"><input id="f-mine" type="checkbox" checked=${mine} onChange=${(e) => setMine(e.target.checked)} />
        <label for="f-mine">Le mie segnalazioni</label></div>
      <div class="filter-actions"><button type="submit" class="secondary">Aggiorna</button></div>
    </form>
    <${ExportButtons} what="reports" label="Esporta l'elenco con questi filtri"
      filters=${(({ limit, cursor, ...shown }) => shown)(params())} />
    ${error && html`<p class="error" role="alert">${error}</p>`}
    <${BulkOutcome} answer=${outcome} />
    ${picked.length > 0 && html`<${BulkBar} tenant=${tenant} kind=${kind} me=${who} selected=${picked} onDone=${bulkDone}
      onClear=${() => setSelected({})} />`}
    <div class="inbox">
      <section aria-labelledby="list-title" class="list">
        <h2 id="list-title">Elenco <span class="count" aria-live="polite">(${items.length}${next ? "+" : ""})</span></h2>
        ${loaded && !items.length && html`<p>${mine ? "Nessuna segnalazione affidata a te con questi filtri." : "Nessuna segnalazione con questi filtri."}</p>`}
        <table class="reports">
          <thead><tr><th scope="col" class="pick"><input type="checkbox" aria-label="Seleziona tutte le segnalazioni di questa pagina"
            checked=${allPicked} disabled=${!items.length} onChange=${(e) => pickPage(e.target.checked)} /></th><${Sortable} column="number" label="Numero" /><${Sortable} column="status" label="Stato" />${kind === "report" && html`<${Sortable} column="category" label="Categoria" />`}<${Sortable} column="hamlet" label="Frazione" />${zones.length > 0 && html`<th scope="col">Vicinato</th>`}<th scope="col">Testo</th><${Sortable} column="created_at" label="Ricevuta" /><${Sortable} column="age" label="Età" />${kind === "report" && html`<${Sortable} column="due" label="Scadenza" />`}</tr></thead>
          <tbody>
            ${items.map((r) => html`<tr class=${"status-" + r.status}>
              <td class="pick"><input type="checkbox" aria-label=${`Seleziona la segnalazione ${r.number}`} checked=${!!selected[r.id]}
                onChange=${(e) => pick(r, e.target.checked)} /></td>
              <td><a href=${`#/${base}/${encodeURIComponent(r.id)}`}>${r.number}</a></td>
              <td><span class=${"badge s-" + r.status}>${reportStatus(r)}</span>${r.reopened_by_citizen && html` <span class="badge reopened">Riaperta dal cittadino</span>`}</td>
              ${kind === "report" && html`<td>${named(tenant.categories, r.category)}</td>`}
              <td>${r.hamlet ? tenant.hamlets.features.find((h) => h.id === r.hamlet)?.properties.name || r.hamlet : "—"}</td>
              ${zones.length > 0 && html`<td data-testid="vicinato-zone">${r.vicinato ? html`${r.vicinato.zone_name || r.vicinato.zone}${r.vicinato.urgent ? html` <span class="badge urgent">Urgente</span>` : ""}${r.vicinato.note ? html`<br /><small>Nota del coordinatore: ${r.vicinato.note}</small>` : ""}` : "—"}</td>`}
              <td class="text">${r.text}${r.photos ? html` <span class="tag">(foto: ${r.photos})</span>` : ""}</td>
              <td>${when(r.created_at)}<br /><small>${SOURCE[r.source] || r.source}</small></td>
              <td>${r.age_days === 1 ? "1 giorno" : `${r.age_days} giorni`}</td>
              ${kind === "report" && html`<td data-testid="due">${r.deadline ? html`<span class=${"due due-" + r.deadline.state}>${DUE_STATE[r.deadline.state]}</span>${" "}<time datetime=${r.deadline.due_on}>${day(r.deadline.due_on)}</time><br /><small>${DEADLINE_STEP[r.deadline.step]}</small>` : "—"}</td>`}
            </tr>`)}
          </tbody>
        </table>
        ${next && html`<button type="button" class="secondary" onClick=${loadMore}>Carica altre</button>`}
      </section>
      <section aria-label="Mappa" class="side">
        <${ReportMap} config=${config} hamlets=${tenant.hamlets} reports=${items} label="Mappa delle segnalazioni"
          height=${460} onSelect=${(r) => go(`${base}/${encodeURIComponent(r.id)}`)} />
      </section>
    </div>`;
}
