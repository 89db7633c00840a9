// Consumi e costi: per channel and month the messages sent and billable by WhatsApp pricing category, the channel's
// messaging limit, the estimated cost from the comune's price table (GET /api/v1/usage); the price table's history
// and, for the administration, a form to add or correct one (PUT /api/v1/usage/prices, audited); the month as a file.
import { useEffect, useState } from "preact/hooks";
import { html } from "@filo/shared/html";
import { getPrices, getUsage, savePrices } from "../../api.js";
import { ExportButtons } from "../../exports.js";
import { CHANNEL_KIND, USAGE_CATEGORY, day, money, monthName, thisMonth } from "../../labels.js";

const CATEGORIES = ["service", "utility", "marketing", "authentication"];
const PRICE_FIELDS = ["utility", "marketing", "authentication", "service"];

export function UsagePage({ who }) {
  const [month, setMonth] = useState(thisMonth());
  const [usage, setUsage] = useState(null);
  const [prices, setPrices] = useState(null);
  const [error, setError] = useState("");
  const load = () => {
    setError("");
    getUsage(month).then(setUsage).catch((e) => { setUsage(null); setError(e.message); });
  };
  const loadPrices = () => getPrices().then(setPrices).catch((e) => setError(e.message));
  useEffect(load, [month]);
  useEffect(() => { loadPrices(); }, []);
  const saved = () => { loadPrices(); load(); };
  return html`
    <h1 tabindex="-1">Consumi e costi</h1>
    <p class="muted">Per ogni canale e mese (ora italiana): i messaggi <strong>inviati</strong>, contati quando WhatsApp
      accetta l'invio (testo libero: servizio; un modello: la sua categoria), e quelli <strong>fatturabili</strong>,
      consegnati e addebitati secondo le notifiche di stato di WhatsApp. Il <strong>costo stimato</strong> è fatturabili
      per prezzo del listino in vigore il primo giorno del mese: la fattura di Meta resta il riferimento.</p>
    <form class="filters" aria-label="Scegli il mese" onSubmit=${(e) => { e.preventDefault(); load(); }}>
      <div><label for="u-month">Mese</label>
        <input id="u-month" type="month" required value=${month} max=${thisMonth()}
          onChange=${(e) => e.target.value && setMonth(e.target.value)} /></div>
    </form>
    <${ExportButtons} what="usage" filters=${{ month }} label=${`Esporta i consumi di ${monthName(month)}`} />
    ${error && html`<p class="error" role="alert">${error}</p>`}
    ${usage && html`<${Month} usage=${usage} />`}
    <${PriceTables} prices=${prices} />
    ${who.can.includes("setup") && html`<${PriceForm} prices=${prices} onSaved=${saved} />`}`;
}

function Month({ usage }) {
  const currency = usage.prices ? usage.prices.currency : "EUR";
  const t = usage.totals;
  return html`<section aria-labelledby="usage-month">
    <h2 id="usage-month">${monthName(usage.month)}</h2>
    <ul class="cards" data-testid="usage-totals">
      <li><span class="big">${t.sent_total.toLocaleString("it-IT")}</span> messaggi inviati</li>
      <li><span class="big">${t.billable_total.toLocaleString("it-IT")}</span> fatturabili</li>
      <li><span class="big">${money(t.estimated_cost, currency)}</span> costo stimato</li>
    </ul>
    ${usage.prices ? html`<p>Listino in vigore dal ${day(usage.prices.valid_from)} (${currency}).</p>`
      : html`<p class="error">Nessun listino in vigore per questo mese: il costo non si può stimare. Inserisci i prezzi qui sotto.</p>`}
    ${usage.channels.length === 0 && html`<p>Nessun canale visibile con il tuo ruolo.</p>`}
    ${usage.channels.map((c) => html`<${ChannelUsage} row=${c} prices=${usage.prices} />`)}
  </section>`;
}

function ChannelUsage({ row, prices }) {
  const id = "usage-" + row.channel;
  const currency = prices ? prices.currency : "EUR";
  return html`<section class="usage-channel" aria-labelledby=${id} data-channel=${row.channel}>
    <h3 id=${id}>${CHANNEL_KIND[row.kind] || row.kind} — ${row.name}</h3>
    <p>Limite di WhatsApp: ${row.messaging_limit.toLocaleString("it-IT")} persone in 24 ore fuori dalla finestra di
      servizio${row.tier ? ` (livello ${row.tier} nel WhatsApp Manager)` : ""}.</p>
    <table class="usage" aria-labelledby=${id}>
      <thead><tr><th scope="col">Categoria</th><th scope="col">Inviati</th><th scope="col">Fatturabili</th><th scope="col">Prezzo</th></tr></thead>
      <tbody>${CATEGORIES.map((c) => html`<tr data-category=${c}>
        <th scope="row">${USAGE_CATEGORY[c]}</th><td>${row.sent[c].toLocaleString("it-IT")}</td>
        <td>${row.billable[c].toLocaleString("it-IT")}</td><td>${prices ? money(prices[c], currency) : "—"}</td></tr>`)}</tbody>
      <tfoot><tr><th scope="row">Totale (costo stimato)</th><td>${row.sent_total.toLocaleString("it-IT")}</td>
        <td>${row.billable_total.toLocaleString("it-IT")}</td><td data-testid="channel-cost">${money(row.estimated_cost, currency)}</td></tr></tfoot>
    </table>
  </section>`;
}

function PriceTables({ prices }) {
  if (!prices) return null;
  return html`<section aria-labelledby="usage-prices">
    <h2 id="usage-prices">Listini di WhatsApp</h2>
    <p class="muted">Prezzo per messaggio consegnato a un numero italiano. Meta cambia i prezzi il 1° gennaio, aprile,
      luglio e ottobre: ogni mese si calcola con il listino in vigore il suo primo giorno, anche dopo un cambio.</p>
    ${prices.tables.length === 0 ? html`<p>Nessun listino inserito.</p>` : html`<table class="prices">
      <thead><tr><th scope="col">In vigore dal</th>${PRICE_FIELDS.map((c) => html`<th scope="col">${USAGE_CATEGORY[c]}</th>`)}<th scope="col">Fonte</th></tr></thead>
      <tbody>${prices.tables.map((t) => html`<tr>
        <th scope="row">${day(t.valid_from)}${t.valid_from === prices.current ? html` <span class="badge">in vigore</span>` : ""}</th>
        ${PRICE_FIELDS.map((c) => html`<td>${money(t[c], t.currency)}</td>`)}<td>${t.source || "—"}</td></tr>`)}</tbody>
    </table>`}
  </section>`;
}

function blankForm(prices) {
  const current = prices && (prices.tables.find((t) => t.valid_from === prices.current) || prices.tables[0]);
  const base = current || { currency: "EUR", utility: 0, marketing: 0, authentication: 0, service: 0, source: "" };
  return { month: thisMonth(), currency: base.currency, source: base.source,
    ...Object.fromEntries(PRICE_FIELDS.map((c) => [c, String(base[c]).replace(".", ",")])) };
}

function PriceForm({ prices, onSaved }) {
  const [form, setForm] = useState(blankForm(prices));
  const [error, setError] = useState("");
  const [done, setDone] = useState("");
  const [busy, setBusy] = useState(false);
  useEffect(() => { setForm(blankForm(prices)); }, [prices && prices.current]);
  const set = (name) => (e) => setForm({ ...form, [name]: e.target.value });
  const submit = async (event) => {
    event.preventDefault();
    setError(""); setDone("");
    const numbers = Object.fromEntries(PRICE_FIELDS.map((c) => [c, Number(String(form[c]).replace(",", "."))]));
    const wrong = PRICE_FIELDS.find((c) => String(form[c]).trim() === "" || !Number.isFinite(numbers[c]));
    if (wrong) { setError(`${USAGE_CATEGORY[wrong]}: scrivi un numero, per esempio 0,0258.`); return; }
    setBusy(true);
    try {
      await savePrices({ valid_from: `${form.month}-01`, currency: form.currency.trim().toUpperCase(), ...numbers,
        source: form.source.trim() });
      setDone(`Listino dal ${day(form.month + "-01")} salvato.`);
      onSaved();
    } catch (e) {
      setError(e.message);
    }
    setBusy(false);
  };
  return html`<form class="panel price-form" onSubmit=${submit} aria-labelledby="price-form-title">
    <h2 id="price-form-title">Aggiorna il listino</h2>
    <p><small>Un listino con lo stesso mese di inizio di uno già inserito lo sostituisce; gli altri restano. Ogni modifica
      finisce nel registro con i valori prima e dopo.</small></p>
    <label for="p-month">In vigore dal mese</label>
    <input id="p-month" type="month" required value=${form.month} onChange=${set("month")} />
    <label for="p-currency">Valuta</label>
    <input id="p-currency" required maxlength="3" pattern="[A-Za-z]{3}" value=${form.currency} onInput=${set("currency")} />
    ${PRICE_FIELDS.map((c) => html`<label for=${"p-" + c}>${USAGE_CATEGORY[c]} (per messaggio)</label>
      <input id=${"p-" + c} inputmode="decimal" required value=${form[c]} onInput=${set(c)} />`)}
    <label for="p-source">Fonte (listino di Meta e sua data)</label>
    <input id="p-source" class="wide" maxlength="300" value=${form.source} onInput=${set("source")} />
    ${error && html`<p class="error" role="alert">${error}</p>`}
    <p class="done" role="status" aria-live="polite">${done}</p>
    <button type="submit" disabled=${busy}>${busy ? "Salvataggio…" : "Salva il listino"}</button>
  </form>`;
}
