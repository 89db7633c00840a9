// Subscribers of a channel: search, add one, import a CSV with a result per row, erase.
import { useEffect, useState } from "preact/hooks";
import { html } from "@filo/shared/html";
import { useAnswerOrder } from "../answers.js";
import { addSubscriber, eraseSubscriber, importSubscribers, listSubscribers, reasonText } from "../api.js";
import { ExportButtons } from "../exports.js";
import { CHANNEL_KIND, SUB_STATUS, SUBSCRIBER_SOURCE, named, typedNumber, when } from "../labels.js";

export function Subscribers({ tenant, channels }) {
  const usable = channels.filter((c) => c.kind === "broadcast" || c.kind === "safety");
  const [channel, setChannel] = useState(usable.length ? usable[0].phone_number_id : "");
  const [search, setSearch] = useState({ q: "", status: "" });
  const [items, setItems] = useState([]);
  const [next, setNext] = useState(null);
  const [error, setError] = useState("");
  const [done, setDone] = useState("");
  const [form, setForm] = useState({ phone: "", hamlets: [], topics: [], name: "", address: "", hamlet: "" });
  const [file, setFile] = useState(null);
  const [imported, setImported] = useState(null);
  const order = useAnswerOrder();
  const kind = (usable.find((c) => c.phone_number_id === channel) || {}).kind;

  useEffect(() => { if (!channel && usable.length) setChannel(usable[0].phone_number_id); }, [usable.length]);

  const load = async (cursor) => {
    if (!channel) return;
    if (!cursor) order.change(); // a search (or a reload) afresh: answers to earlier ones are dropped
    const take = order.ask();
    try {
      const page = await listSubscribers({ channel, q: typedNumber(search.q), status: search.status, limit: 50, cursor });
      if (!take()) return;
      setItems(cursor ? [...items, ...page.items] : page.items);
      setNext(page.next);
      setError("");
    } catch (e) {
      if (take()) setError(e.message);
    }
  };
  useEffect(() => { load(); }, [channel, search.status]);

  const add = async (event) => {
    event.preventDefault();
    setError(""); setDone("");
    const body = { channel, phone: form.phone, hamlets: form.hamlets, topics: form.topics };
    if (kind === "safety") Object.assign(body, { name: form.name, address: form.address, hamlet: form.hamlet || undefined, hamlets: [], topics: [] });
    try {
      const saved = await addSubscriber(body);
      setDone(`Iscritto ${saved.phone} salvato.`);
      setForm({ phone: "", hamlets: [], topics: [], name: "", address: "", hamlet: "" });
      load();
    } catch (e) {
      setError(e.message);
    }
  };
  const upload = async (event) => {
    event.preventDefault();
    setError(""); setDone(""); setImported(null);
    if (!file) return;
    try {
      const text = await file.text();
      setImported(await importSubscribers(channel, text));
      load();
    } catch (e) {
      setError(e.message);
    }
  };
  const erase = async (s) => {
    const who = s.phone || s.user_id;
    if (!window.confirm(`Cancellare definitivamente ${who}? Il registro dei consensi conserva la cancellazione.`)) return;
    try {
      await eraseSubscriber(channel, who);
      setDone(`${who} cancellato.`);
      setItems(items.filter((x) => x !== s));
    } catch (e) {
      setError(e.message);
    }
  };
  const toggle = (name, id, on) => setForm({ ...form, [name]: on ? [...form[name], id] : form[name].filter((x) => x !== id) });
  const hamletName = (id) => tenant.hamlets.features.find((h) => h.id === id)?.properties.name || id;

  if (!usable.length) return html`<h1 tabindex="-1">Iscritti</h1><p>Nessun canale visibile con il tuo ruolo.</p>`;
  return html`
    <h1 tabindex="-1">Iscritti</h1>
    ${usable.length > 1 && html`<p><label for="s-channel">Canale</label>
      <select id="s-channel" value=${channel} onChange=${(e) => setChannel(e.target.value)}>
        ${usable.map((c) => html`<option value=${c.phone_number_id}>${CHANNEL_KIND[c.kind]} — ${c.name}</option>`)}
      </select></p>`}
    ${error && html`<p class="error" role="alert">${error}</p>`}
    <p class="done" role="status" aria-live="polite">${done}</p>
    <form class="filters" role="search" aria-label="Cerca iscritti" onSubmit=${(e) => { e.preventDefault(); load(); }}>
      <div><label for="s-q">Cerca per numero</label><input id="s-q" type="search" placeholder="es. 333 12 (o +41 …)" value=${search.q} onInput=${(e) => setSearch({ ...search, q: e.target.value })} /></div>
      <div><label for="s-status">Stato</label>
        <select id="s-status" value=${search.status} onChange=${(e) => setSearch({ ...search, status: e.target.value })}>
          <option value="">Tutti</option>${Object.entries(SUB_STATUS).filter(([k]) => k !== "none").map(([k, v]) => html`<option value=${k}>${v}</option>`)}
        </select></div>
      <div class="filter-actions"><button type="submit" class="secondary">Cerca</button></div>
    </form>
    <${ExportButtons} what="subscribers" filters=${{ channel, status: search.status }}
      label="Esporta gli iscritti del canale (con lo stato scelto)" />
    <table class="subscribers">
      <thead><tr><th scope="col">Telefono</th><th scope="col">Stato</th>
        ${kind === "safety" ? html`<th scope="col">Nome</th><th scope="col">Frazione</th>` : html`<th scope="col">Frazioni</th><th scope="col">Argomenti</th>`}
        <th scope="col">Origine</th><th scope="col">Iscritto il</th><th scope="col"><span class="visually-hidden">Azioni</span></th></tr></thead>
      <tbody>${items.map((s) => html`<tr>
        <td><a href=${"#/cittadino/" + encodeURIComponent(s.phone || s.user_id)}>${s.phone || s.user_id}</a></td><td>${SUB_STATUS[s.status] || s.status}</td>
        ${kind === "safety" ? html`<td>${s.name || "—"}</td><td>${s.hamlet ? hamletName(s.hamlet) : "—"}</td>`
          : html`<td>${s.hamlets.map(hamletName).join(", ") || "Tutte"}</td><td>${s.topics.map((t) => named(tenant.topics, t)).join(", ") || "Tutti"}</td>`}
        <td>${SUBSCRIBER_SOURCE[s.source] || s.source || "—"}</td><td>${when(s.subscribed_at)}</td>
        <td><button type="button" class="danger small" aria-label=${`Cancella ${s.phone || s.user_id}`} onClick=${() => erase(s)}>Cancella</button></td>
      </tr>`)}</tbody>
    </table>
    ${!items.length && html`<p>Nessun iscritto trovato.</p>`}
    ${next && html`<button type="button" class="secondary" onClick=${() => load(next)}>Carica altri</button>`}
    <div class="two">
      <form class="panel" onSubmit=${add} aria-labelledby="add-title">
        <h2 id="add-title">${kind === "safety" ? "Registra un residente" : "Aggiungi un iscritto"}</h2>
        <p><small>Solo per chi ha dato il consenso al Comune (modulo cartaceo, sportello).</small></p>
        <label for="a-phone">Numero di telefono</label>
        <input id="a-phone" type="tel" required autocomplete="off" value=${form.phone} onInput=${(e) => setForm({ ...form, phone: e.target.value })} />
        ${kind === "safety" ? html`
          <label for="a-name">Nome e cognome</label><input id="a-name" required value=${form.name} onInput=${(e) => setForm({ ...form, name: e.target.value })} />
          <label for="a-address">Indirizzo</label><input id="a-address" required value=${form.address} onInput=${(e) => setForm({ ...form, address: e.target.value })} />
          <label for="a-hamlet">Frazione</label>
          <select id="a-hamlet" value=${form.hamlet} onChange=${(e) => setForm({ ...form, hamlet: e.target.value })}>
            <option value="">—</option>${tenant.hamlets.features.map((h) => html`<option value=${h.id}>${h.properties.name}</option>`)}
          </select>` : html`
          <fieldset><legend>Frazioni (nessuna: tutte)</legend>
            ${tenant.hamlets.features.map((h) => html`<div class="check"><input type="checkbox" id=${"a-h-" + h.id} checked=${form.hamlets.includes(h.id)} onChange=${(e) => toggle("hamlets", h.id, e.target.checked)} /><label for=${"a-h-" + h.id}>${h.properties.name}</label></div>`)}
          </fieldset>
          <fieldset><legend>Argomenti (nessuno: tutti)</legend>
            ${tenant.topics.map((t) => html`<div class="check"><input type="checkbox" id=${"a-t-" + t.id} checked=${form.topics.includes(t.id)} onChange=${(e) => toggle("topics", t.id, e.target.checked)} /><label for=${"a-t-" + t.id}>${t.name}</label></div>`)}
          </fieldset>`}
        <button type="submit">Salva</button>
      </form>
      <form class="panel" onSubmit=${upload} aria-labelledby="import-title">
        <h2 id="import-title">Importa da CSV</h2>
        <p><small>Prima riga con i nomi delle colonne: <code>phone</code> e, se servono, <code>hamlets</code>, <code>topics</code>${" "}
          (più valori separati da <code>;</code>)${kind === "safety" ? html`, <code>name</code>, <code>address</code>, <code>hamlet</code>` : ""}.</small></p>
        <label for="i-file">File CSV</label>
        <input id="i-file" type="file" accept=".csv,text/csv,text/plain" required onChange=${(e) => setFile(e.target.files[0])} />
        <button type="submit">Importa</button>
        ${imported && html`<div aria-live="polite">
          <p class="summary">Creati: <strong>${imported.summary.created}</strong> · Aggiornati: <strong>${imported.summary.updated}</strong> · Errori: <strong>${imported.summary.error}</strong></p>
          <table class="import-rows"><caption>Esito per riga</caption>
            <thead><tr><th scope="col">Riga</th><th scope="col">Telefono</th><th scope="col">Esito</th><th scope="col">Errore</th></tr></thead>
            <tbody>${imported.rows.map((r) => html`<tr class=${r.result === "error" ? "row-error" : ""}><td>${r.row}</td><td>${r.phone || "—"}</td>
              <td>${{ created: "Creato", updated: "Aggiornato", error: "Errore" }[r.result]}</td><td>${r.error ? reasonText(r.error, "Riga non valida: controlla numero, frazioni e argomenti.") : ""}</td></tr>`)}</tbody>
          </table></div>`}
      </form>
    </div>`;
}
