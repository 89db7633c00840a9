// Vicinato for the police (#/vicinato/<tab>): the join requests to approve or refuse (with the ID photo through a
// five-minute link), the people of each zone, notices to one zone, several or all (an alert passes the quiet hours),
// and the relay's cases (those forwarded are safety reports in Sicurezza). Identity is the police's only: the API
// answers 404 to every other role, and audits each read.
import { useEffect, useState } from "preact/hooks";
import { html } from "@filo/shared/html";
import {
  approveVicinatoRequest, listVicinatoCases, listVicinatoPeople, listVicinatoRequests, listVicinatoZones,
  refuseVicinatoRequest, removeVicinatoPerson, sendVicinatoNotice, vicinatoIdPhoto,
} from "../api.js";
import {
  VICINATO_ARCHIVE, VICINATO_CASE, VICINATO_ROLE, VICINATO_STAGE, VICINATO_STATUS, when,
} from "../labels.js";

const TABS = [
  { path: "richieste", label: "Richieste di adesione", Tab: Requests },
  { path: "membri", label: "Membri per zona", Tab: People },
  { path: "avvisi", label: "Avvisi alle zone", Tab: Notices },
  { path: "segnalazioni", label: "Segnalazioni dei membri", Tab: Cases },
];

export function Vicinato(props) {
  const { id } = props;
  const current = TABS.find((t) => t.path === id) || TABS[0];
  const [zones, setZones] = useState(null);
  const [error, setError] = useState("");
  const loadZones = () => listVicinatoZones().then((z) => setZones(z.items)).catch((e) => setError(e.message));
  useEffect(() => { loadZones(); }, []);
  return html`
    <h1 tabindex="-1">Controllo del Vicinato</h1>
    <nav class="subnav" aria-label="Vicinato">
      <ul>${TABS.map((t) => html`<li><a href=${"#/vicinato/" + t.path} aria-current=${t === current ? "page" : undefined}>${t.label}</a></li>`)}</ul>
    </nav>
    ${error && html`<p class="error" role="alert">${error}</p>`}
    ${!zones && !error && html`<p role="status">Caricamento…</p>`}
    ${zones && !zones.length && html`<p class="hint">Il Comune non ha ancora zone del Vicinato: le imposta l'amministratore in Amministrazione › Vicinato.</p>`}
    ${zones && html`<section aria-labelledby="vicinato-tab"><h2 id="vicinato-tab">${current.label}</h2>
      <${current.Tab} ...${props} zones=${zones} reloadZones=${loadZones} />
    </section>`}`;
}

const zoneName = (zones, id) => (zones.find((z) => z.id === id) || {}).name || id || "—";

function Requests({ zones, reloadZones }) {
  const [items, setItems] = useState(null);
  const [error, setError] = useState("");
  const [done, setDone] = useState("");
  const [busy, setBusy] = useState("");
  const [refusing, setRefusing] = useState(null); // {id, note}
  const [photos, setPhotos] = useState({}); // person id -> {url, expires}
  const load = () => listVicinatoRequests().then((r) => { setItems(r.items); setError(""); }).catch((e) => setError(e.message));
  useEffect(() => { load(); }, []);

  const act = async (person, call, text) => {
    setBusy(person.id);
    setDone("");
    try {
      await call();
      setDone(text);
      setRefusing(null);
      load();
      reloadZones();
    } catch (e) {
      setError(e.message);
    }
    setBusy("");
  };
  const showPhoto = async (person) => {
    try {
      const link = await vicinatoIdPhoto(person.id);
      setPhotos({ ...photos, [person.id]: { url: link.url, until: Date.now() + link.expires_in * 1000 } });
    } catch (e) {
      setError(e.message);
    }
  };
  return html`
    <p class="hint">Chi ha chiesto di aderire su WhatsApp (VICINATO), dal più vecchio. Controlla nome, indirizzo e documento; il cittadino riceve la decisione su WhatsApp. Il documento si cancella da solo dopo i giorni fissati dal Comune.</p>
    ${error && html`<p class="error" role="alert">${error}</p>`}
    <p role="status" class="notice">${done}</p>
    ${items && !items.length && html`<p>Nessuna richiesta in attesa.</p>`}
    <ul class="vicinato-requests">${(items || []).map((p) => html`<li class="card" data-testid="vicinato-request">
      <h3>${p.name || "Senza nome"}</h3>
      <dl class="facts">
        <dt>Indirizzo</dt><dd>${p.address || "—"}</dd>
        <dt>Zona</dt><dd>${p.zone_name || zoneName(zones, p.zone)}</dd>
        <dt>Telefono</dt><dd>${p.phone || "—"}</dd>
        <dt>Richiesta del</dt><dd>${when(p.requested_at)}${p.source === "portal" ? " (dal portale)" : ""}</dd>
        <dt>Documento d'identità</dt><dd>${p.id_photo ? (photos[p.id]
          ? html`<a href=${photos[p.id].url} target="_blank" rel="noopener noreferrer">Apri il documento</a> <small>(collegamento valido 5 minuti)</small>`
          : html`<button type="button" class="secondary small" onClick=${() => showPhoto(p)} aria-label=${`Mostra il documento di ${p.name}`}>Mostra il documento</button>`)
          : "non inviato"}</dd>
      </dl>
      <div class="buttons">
        <button type="button" disabled=${busy === p.id} aria-label=${`Approva la richiesta di ${p.name}`}
          onClick=${() => act(p, () => approveVicinatoRequest(p.id), `Richiesta di ${p.name} approvata: riceve su WhatsApp il suo nome di zona.`)}>Approva</button>
        <button type="button" class="secondary" disabled=${busy === p.id} aria-label=${`Rifiuta la richiesta di ${p.name}`}
          onClick=${() => setRefusing({ id: p.id, note: "" })}>Rifiuta</button>
      </div>
      ${refusing && refusing.id === p.id && html`<form class="refuse" onSubmit=${(e) => { e.preventDefault(); act(p, () => refuseVicinatoRequest(p.id, refusing.note), `Richiesta di ${p.name} rifiutata: il cittadino è stato avvisato.`); }}>
        <label for=${`refuse-note-${p.id}`}>Motivo (resta alla Polizia: il cittadino legge solo che la richiesta non è stata accolta)</label>
        <textarea id=${`refuse-note-${p.id}`} rows="2" maxlength="500" value=${refusing.note}
          onInput=${(e) => setRefusing({ ...refusing, note: e.target.value })}></textarea>
        <div class="buttons"><button type="submit" disabled=${busy === p.id}>Conferma il rifiuto</button>
          <button type="button" class="secondary" onClick=${() => setRefusing(null)}>Annulla</button></div>
      </form>`}
    </li>`)}</ul>`;
}

function People({ zones, reloadZones }) {
  const [zone, setZone] = useState(zones.length ? zones[0].id : "");
  const [status, setStatus] = useState("active");
  const [items, setItems] = useState(null);
  const [error, setError] = useState("");
  const [done, setDone] = useState("");
  const load = () => listVicinatoPeople({ zone, status }).then((r) => { setItems(r.items); setError(""); }).catch((e) => setError(e.message));
  useEffect(() => { load(); }, [zone, status]);
  const remove = async (p) => {
    if (!window.confirm(`Togliere ${p.name || p.handle} dal Controllo del Vicinato? Non riceverà più avvisi e non potrà più segnalare.`)) return;
    try {
      await removeVicinatoPerson(p.id);
      setDone(`${p.name || p.handle} non fa più parte del Vicinato.`);
      load();
      reloadZones();
    } catch (e) {
      setError(e.message);
    }
  };
  const current = zones.find((z) => z.id === zone);
  return html`
    <form class="filters" aria-label="Filtri dei membri" onSubmit=${(e) => { e.preventDefault(); load(); }}>
      <div><label for="vp-zone">Zona</label>
        <select id="vp-zone" value=${zone} onChange=${(e) => setZone(e.target.value)}>
          <option value="">Tutte</option>
          ${zones.map((z) => html`<option value=${z.id}>${z.name}</option>`)}
        </select></div>
      <div><label for="vp-status">Stato</label>
        <select id="vp-status" value=${status} onChange=${(e) => setStatus(e.target.value)}>
          <option value="">Tutti</option>
          ${Object.entries(VICINATO_STATUS).map(([k, v]) => html`<option value=${k}>${v}</option>`)}
        </select></div>
      <div class="filter-actions"><button type="submit" class="secondary">Aggiorna</button></div>
    </form>
    ${current && html`<p data-testid="zone-summary">${current.name}: ${current.active} attivi, ${current.pending} in attesa.
      Coordinatore: ${current.coordinator ? current.coordinator.handle : "nessuno"}; vice: ${current.stand_in ? current.stand_in.handle : "nessuno"}.</p>`}
    ${error && html`<p class="error" role="alert">${error}</p>`}
    <p role="status" class="notice">${done}</p>
    ${items && !items.length && html`<p>Nessuno con questi filtri.</p>`}
    ${items && items.length > 0 && html`<div class="table-scroll"><table class="people">
      <caption class="visually-hidden">Persone del Vicinato</caption>
      <thead><tr><th scope="col">Nome</th><th scope="col">Nome di zona</th><th scope="col">Ruolo</th><th scope="col">Zona</th>
        <th scope="col">Indirizzo</th><th scope="col">Telefono</th><th scope="col">Stato</th><th scope="col">Azioni</th></tr></thead>
      <tbody>${items.map((p) => html`<tr>
        <td>${p.name || "—"}</td><td>${p.handle || "—"}</td><td>${VICINATO_ROLE[p.role] || p.role}</td>
        <td>${p.zone_name || zoneName(zones, p.zone)}</td><td>${p.address || "—"}</td><td>${p.phone || "—"}</td>
        <td>${VICINATO_STATUS[p.status] || p.status}</td>
        <td>${p.status === "active" || p.status === "pending" ? html`<button type="button" class="secondary small"
          aria-label=${`Togli ${p.name || p.handle} dal Vicinato`} onClick=${() => remove(p)}>Togli dal Vicinato</button>` : ""}</td>
      </tr>`)}</tbody>
    </table></div>`}`;
}

function Notices({ zones }) {
  const [chosen, setChosen] = useState([]);
  const [all, setAll] = useState(false);
  const [text, setText] = useState("");
  const [priority, setPriority] = useState("normal");
  const [state, setState] = useState({ busy: false, error: "", sent: null });
  const toggle = (zoneId, on) => setChosen(on ? [...chosen, zoneId] : chosen.filter((z) => z !== zoneId));
  const send = async (event) => {
    event.preventDefault();
    const targets = all ? ["*"] : chosen;
    if (!targets.length) { setState({ busy: false, error: "Scegli almeno una zona, o tutte.", sent: null }); return; }
    if (!text.trim()) { setState({ busy: false, error: "Scrivi il testo dell'avviso.", sent: null }); return; }
    setState({ busy: true, error: "", sent: null });
    try {
      const sent = await sendVicinatoNotice({ zones: targets, text: text.trim(), priority });
      setState({ busy: false, error: "", sent });
      setText("");
    } catch (e) {
      setState({ busy: false, error: e.message, sent: null });
    }
  };
  return html`
    <p class="hint">L'avviso arriva su WhatsApp a ogni membro attivo delle zone scelte (coordinatori compresi), dal numero della sicurezza del Comune, con i ritmi di invio e le ore di silenzio dei messaggi del Comune. Nessuno vede i numeri degli altri.</p>
    <form class="notice-form" aria-label="Avviso alle zone" noValidate onSubmit=${send}>
      <fieldset>
        <legend>Zone</legend>
        <div class="check"><input id="vn-all" type="checkbox" checked=${all} onChange=${(e) => setAll(e.target.checked)} />
          <label for="vn-all">Tutte le zone</label></div>
        ${zones.map((z) => html`<div class="check"><input id=${`vn-zone-${z.id}`} type="checkbox" disabled=${all}
          checked=${all || chosen.includes(z.id)} onChange=${(e) => toggle(z.id, e.target.checked)} />
          <label for=${`vn-zone-${z.id}`}>${z.name} <small>(${z.active} attivi)</small></label></div>`)}
      </fieldset>
      <div class="field"><label for="vn-text">Testo dell'avviso</label>
        <p class="hint" id="vn-text-hint">Per esempio: «Truffe agli anziani in corso: non aprite a finti tecnici».</p>
        <textarea id="vn-text" rows="4" maxlength="3800" aria-describedby="vn-text-hint" value=${text}
          onInput=${(e) => setText(e.target.value)}></textarea></div>
      <fieldset>
        <legend>Priorità</legend>
        <div class="check"><input type="radio" id="vn-normal" name="vn-priority" checked=${priority === "normal"} onChange=${() => setPriority("normal")} />
          <label for="vn-normal">Normale: rispetta le ore di silenzio</label></div>
        <div class="check"><input type="radio" id="vn-alert" name="vn-priority" checked=${priority === "alert"} onChange=${() => setPriority("alert")} />
          <label for="vn-alert">Allerta: parte subito, anche nelle ore di silenzio</label></div>
      </fieldset>
      ${state.error && html`<p class="error" role="alert">${state.error}</p>`}
      <div class="buttons"><button type="submit" disabled=${state.busy}>${state.busy ? "Invio…" : "Invia l'avviso"}</button></div>
      <p role="status" class="notice">${state.sent ? `Avviso ${state.sent.priority === "alert" ? "di allerta " : ""}in invio a: ${state.sent.zone_names}.` : ""}</p>
    </form>`;
}

function Cases({ zones }) {
  const [zone, setZone] = useState("");
  const [status, setStatus] = useState("");
  const [items, setItems] = useState(null);
  const [error, setError] = useState("");
  useEffect(() => {
    listVicinatoCases({ zone, status }).then((r) => { setItems(r.items); setError(""); }).catch((e) => setError(e.message));
  }, [zone, status]);
  return html`
    <p class="hint">Le segnalazioni dei membri ai coordinatori, per nome di zona. Quelle inoltrate alla Polizia sono anche in Sicurezza, con l'identità di chi ha segnalato.</p>
    <form class="filters" aria-label="Filtri delle segnalazioni dei membri" onSubmit=${(e) => e.preventDefault()}>
      <div><label for="vc-zone">Zona</label>
        <select id="vc-zone" value=${zone} onChange=${(e) => setZone(e.target.value)}>
          <option value="">Tutte</option>
          ${zones.map((z) => html`<option value=${z.id}>${z.name}</option>`)}
        </select></div>
      <div><label for="vc-status">Stato</label>
        <select id="vc-status" value=${status} onChange=${(e) => setStatus(e.target.value)}>
          <option value="">Tutti</option>
          ${Object.entries(VICINATO_CASE).map(([k, v]) => html`<option value=${k}>${v}</option>`)}
        </select></div>
    </form>
    ${error && html`<p class="error" role="alert">${error}</p>`}
    ${items && !items.length && html`<p>Nessuna segnalazione con questi filtri.</p>`}
    <ul class="vicinato-cases">${(items || []).map((c) => html`<li class="card">
      <h3>${c.what || "Segnalazione"} ${c.urgent && html`<span class="badge urgent">Urgente</span>`}</h3>
      <p><strong>${VICINATO_CASE[c.status] || c.status}</strong>${c.status === "queued" ? ` (tocca al ${VICINATO_STAGE[c.stage] || c.stage})` : ""}
        ${c.archive_reason ? ` · ${VICINATO_ARCHIVE[c.archive_reason] || c.archive_reason}` : ""}</p>
      <dl class="facts">
        <dt>Zona</dt><dd>${c.zone_name || zoneName(zones, c.zone)}</dd>
        <dt>Da</dt><dd>${c.handle}</dd>
        <dt>Dove</dt><dd>${c.where || "—"}</dd>
        <dt>Quando</dt><dd>${c.when || "—"}</dd>
        <dt>Descrizione</dt><dd>${c.description || "—"}</dd>
        <dt>Nota del coordinatore</dt><dd>${c.coordinator_note || "—"}</dd>
        <dt>Ricevuta</dt><dd>${when(c.created_at)}</dd>
      </dl>
      ${c.photos.length > 0 && html`<p>${c.photos.map((p, i) => html`<a href=${p.url} target="_blank" rel="noopener noreferrer">Foto ${i + 1}</a> `)}</p>`}
      ${c.report_id && html`<p><a href=${"#/sicurezza/" + encodeURIComponent(c.report_id)}>Apri in Sicurezza</a></p>`}
    </li>`)}</ul>`;
}
