// The dashboard: reports per week, time to resolve, share resolved and citizens satisfied (reports KPIs), subscribers over time and
// broadcast delivery rates, each shown only to those who can read it (GET /api/v1/me's "can").
import { useEffect, useState } from "preact/hooks";
import { html } from "@filo/shared/html";
import { getUsage, listBroadcasts, reportKpis, subscriberGrowth } from "../api.js";
import { VicinatoMonthly } from "./vicinato-monthly.js";
import { BarChart, FunnelBars, LineChart } from "../charts.js";
import { hours, money, monthName, named, percent, thisMonth, when } from "../labels.js";

const WEEKS = 8;

function weekStarts(n) {
  const today = new Date();
  const monday = new Date(today.getFullYear(), today.getMonth(), today.getDate() - ((today.getDay() + 6) % 7));
  return Array.from({ length: n }, (_, i) => new Date(monday.getFullYear(), monday.getMonth(), monday.getDate() - 7 * (n - 1 - i)));
}

function isoDate(d) {
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;
}

function short(d) {
  return d.toLocaleDateString("it-IT", { day: "2-digit", month: "2-digit" });
}

export function Dashboard({ who, tenant }) {
  const can = (capability) => who.can.includes(capability);
  return html`
    <h1 tabindex="-1">Cruscotto</h1>
    ${(can("reports") || can("tips")) && html`<${ReportKpis} kind=${can("reports") ? "report" : "safety"} tenant=${tenant} />`}
    ${can("broadcasts") && html`<${BroadcastKpis} />`}
    ${(can("setup") || can("broadcasts")) && html`<${UsageCard} />`}
    ${(can("tips") || can("setup")) && html`<${VicinatoMonthly} />`}`;
}

// This month's WhatsApp messages and their estimated cost (GET /api/v1/usage): the details in Consumi e costi.
function UsageCard() {
  const [usage, setUsage] = useState(null);
  const [error, setError] = useState("");
  useEffect(() => { getUsage(thisMonth()).then(setUsage).catch((e) => setError(e.message)); }, []);
  const t = usage && usage.totals;
  return html`<section aria-labelledby="kpi-usage">
    <h2 id="kpi-usage">Consumi WhatsApp di ${monthName(thisMonth())}</h2>
    ${error && html`<p class="error" role="alert">${error}</p>`}
    ${t && html`<ul class="cards" data-testid="usage-card">
      <li><span class="big">${t.sent_total.toLocaleString("it-IT")}</span> messaggi inviati</li>
      <li><span class="big">${money(t.estimated_cost, usage.prices ? usage.prices.currency : "EUR")}</span>
        costo stimato (${t.billable_total.toLocaleString("it-IT")} fatturabili)</li>
    </ul>
    <p><a href="#/amministrazione/consumi">Dettagli in Consumi e costi</a></p>`}
  </section>`;
}

// The share of reports that met their deadlines, per category and per team (GET /api/v1/reports/kpis "on_time").
function OnTimeTable({ caption, shares, names }) {
  const rows = Object.entries(shares || {});
  if (!rows.length) return null;
  return html`<table class="on-time">
    <caption>${caption}</caption>
    <thead><tr><th scope="col">${caption.startsWith("Per squadra") ? "Squadra" : "Categoria"}</th><th scope="col">Nei tempi</th><th scope="col">Segnalazioni</th></tr></thead>
    <tbody>${rows.map(([id, s]) => html`<tr>
      <th scope="row">${id === "unknown" ? "Non indicata" : named(names, id)}</th><td>${percent(s.share)}</td><td>${s.on_time} su ${s.considered}</td>
    </tr>`)}</tbody>
  </table>`;
}

function ReportKpis({ kind, tenant }) {
  const [year, setYear] = useState(null);
  const [weeks, setWeeks] = useState([]);
  const [error, setError] = useState("");
  useEffect(() => {
    reportKpis({ kind }).then(setYear).catch((e) => setError(e.message));
    const starts = weekStarts(WEEKS);
    Promise.all(starts.map((start) => {
      const end = new Date(start.getFullYear(), start.getMonth(), start.getDate() + 7);
      return reportKpis({ kind, from: isoDate(start), to: isoDate(end) }).then((k) => ({ start, k }));
    })).then(setWeeks).catch((e) => setError(e.message));
  }, [kind]);
  return html`<section aria-labelledby="kpi-reports">
    <h2 id="kpi-reports">${kind === "safety" ? "Segnalazioni sicurezza" : "Segnalazioni"}</h2>
    ${error && html`<p class="error" role="alert">${error}</p>`}
    ${year && html`<ul class="cards">
      <li><span class="big">${year.total}</span> ricevute quest'anno</li>
      <li><span class="big">${hours(year.median_hours_to_first_response)}</span> mediana alla prima risposta</li>
      <li><span class="big">${hours(year.median_hours_to_resolution)}</span> mediana alla soluzione</li>
      <li><span class="big">${percent(year.resolved_share)}</span> risolte (${year.resolved} su ${year.considered})</li>
      ${kind === "report" && html`<li data-testid="on-time"><span class="big">${percent(year.on_time.share)}</span> nei tempi previsti (${year.on_time.on_time} su ${year.on_time.considered})</li>`}
      <li data-kpi="satisfied"><span class="big">${percent(year.satisfied_share)}</span> soddisfatti: hanno risposto «Risolto»
        ${year.satisfied} cittadini su ${year.asked} interpellati${year.not_satisfied ? html`, ${year.not_satisfied} «Non risolto»` : ""}</li>
    </ul>`}
    ${year && kind === "report" && html`<div class="charts on-time-tables">
      <${OnTimeTable} caption="Per categoria: segnalazioni nei tempi previsti" shares=${year.on_time.by_category} names=${tenant && tenant.categories} />
      <${OnTimeTable} caption="Per squadra: segnalazioni nei tempi previsti" shares=${year.on_time.by_team} names=${tenant && tenant.teams} />
    </div>`}
    ${weeks.length > 0 && html`<div class="charts">
      <${BarChart} title="Segnalazioni per settimana" data=${weeks.map(({ start, k }) => ({ label: short(start), value: k.total }))} />
      <${BarChart} title="Tempo mediano di soluzione (ore)" color="#7d3c98" format=${(v) => v.toLocaleString("it-IT")}
        data=${weeks.map(({ start, k }) => ({ label: short(start), value: k.median_hours_to_resolution }))} />
      <${BarChart} title="Quota risolte (%)" color="#1e8449" max=${100} format=${(v) => `${v}%`}
        data=${weeks.map(({ start, k }) => ({ label: short(start), value: k.resolved_share === null ? null : Math.round(k.resolved_share * 100) }))} />
    </div>`}
  </section>`;
}

function BroadcastKpis() {
  const [growth, setGrowth] = useState(null);
  const [items, setItems] = useState([]);
  const [error, setError] = useState("");
  useEffect(() => {
    subscriberGrowth(12).then(setGrowth).catch((e) => setError(e.message));
    listBroadcasts({ limit: 10 }).then((p) => setItems(p.items)).catch((e) => setError(e.message));
  }, []);
  const rates = items.filter((b) => b.counters.recipients > 0).map((b) => {
    const c = b.counters;
    const share = (n) => Math.round((100 * n) / c.recipients);
    return { label: when(b.created_at), read: share(c.read), delivered: share(c.delivered - c.read), sent: share(c.sent - c.delivered - Math.min(c.failed, c.sent - c.delivered)), failed: share(c.failed) };
  });
  return html`<section aria-labelledby="kpi-broadcasts">
    <h2 id="kpi-broadcasts">Iscritti e avvisi</h2>
    ${error && html`<p class="error" role="alert">${error}</p>`}
    ${growth && html`<ul class="cards"><li><span class="big">${growth.active}</span> iscritti attivi oggi</li>
      <li><span class="big">${items.length}</span> avvisi recenti</li></ul>`}
    <div class="charts">
      ${growth && html`<${LineChart} title="Iscritti attivi per settimana" data=${growth.weeks.map((w) => ({ label: w.week.slice(5), value: w.active }))} />`}
      ${rates.length > 0 ? html`<${FunnelBars} title="Consegna degli ultimi avvisi (% dei destinatari)" items=${rates} />` : html`<p>Nessun avviso inviato di recente.</p>`}
    </div>
  </section>`;
}
