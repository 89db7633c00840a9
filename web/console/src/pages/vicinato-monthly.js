// The Vicinato's monthly report per zone, for the Prefettura and the council (Cruscotto; police and administration):
// members, joins and leaves, reports, urgent ones, forwarded, zone notices, archived, escalated, police notices and
// the median minutes from a report to its forwarding. Counts only. Also as CSV.
import { useEffect, useState } from "preact/hooks";
import { html } from "@filo/shared/html";
import { downloadVicinatoMonthly, vicinatoMonthly } from "../api.js";
import { VICINATO_COLUMN, monthName, thisMonth } from "../labels.js";

const SHOWN = ["members", "joined", "left", "reports", "urgent", "forwarded", "notified", "archived", "escalated",
  "police_notices", "median_minutes_to_forward"];

export function VicinatoMonthly() {
  const [month, setMonth] = useState(thisMonth());
  const [report, setReport] = useState(null);
  const [error, setError] = useState("");
  const [saved, setSaved] = useState("");
  useEffect(() => {
    if (!/^\d{4}-\d{2}$/.test(month)) return;
    setError("");
    vicinatoMonthly(month).then(setReport).catch((e) => { setReport(null); setError(e.message); });
  }, [month]);
  const download = async () => {
    setSaved("");
    try {
      setSaved(`Scaricato: ${await downloadVicinatoMonthly(month, "csv")}.`);
    } catch (e) {
      setError(e.message);
    }
  };
  const value = (row, name) => (row[name] === null || row[name] === undefined ? "—"
    : name === "median_minutes_to_forward" ? Math.round(row[name]).toLocaleString("it-IT") : row[name].toLocaleString("it-IT"));
  if (report && !report.zones.length) return null; // a comune without Vicinato zones: nothing to show
  const total = (name) => (report ? report.zones.reduce((sum, row) => sum + (row[name] || 0), 0) : 0);
  return html`<section aria-labelledby="kpi-vicinato">
    <h2 id="kpi-vicinato">Controllo del Vicinato: resoconto mensile per zona</h2>
    <p class="hint">Per la Prefettura e il Consiglio comunale: solo numeri, nessun nome.</p>
    <div class="filters">
      <div><label for="vicinato-month">Mese</label>
        <input id="vicinato-month" type="month" value=${month} onChange=${(e) => setMonth(e.target.value)} /></div>
      <div class="filter-actions"><button type="button" class="secondary" onClick=${download}>Scarica CSV</button></div>
    </div>
    <p role="status">${saved}</p>
    ${error && html`<p class="error" role="alert">${error}</p>`}
    ${report && report.zones.length > 0 && html`<table class="vicinato-monthly" data-testid="vicinato-monthly">
      <caption>${monthName(report.month)}</caption>
      <thead><tr><th scope="col">${VICINATO_COLUMN.zone_name}</th>${SHOWN.map((c) => html`<th scope="col">${VICINATO_COLUMN[c]}</th>`)}</tr></thead>
      <tbody>${report.zones.map((row) => html`<tr><th scope="row">${row.zone_name}</th>${SHOWN.map((c) => html`<td>${value(row, c)}</td>`)}</tr>`)}</tbody>
      ${report.zones.length > 1 && html`<tfoot><tr><th scope="row">Totale</th>${SHOWN.map((c) => html`<td>${c === "median_minutes_to_forward" ? "" : total(c).toLocaleString("it-IT")}</td>`)}</tr></tfoot>`}
    </table>`}
  </section>`;
}
