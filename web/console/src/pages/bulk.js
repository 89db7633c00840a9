// The inbox's bulk bar: one action on the selected reports, confirmed with how many, then what happened to each in
// Italian. Each report takes the same step as alone (the API's POST /api/v1/reports/bulk), citizens told as usual.
import { useEffect, useRef, useState } from "preact/hooks";
import { html } from "@filo/shared/html";
import { bulkReports, errorText, listAssignees } from "../api.js";
import { BULK_ACTION, BULK_RESULT, OUTCOME, STATUS } from "../labels.js";

const TIP_ACTIONS = ["triage", "close", "merge", "assignee"]; // a tip has no team and no category
const EMPTY = { action: "", team: "", category: "", to: "resolved", outcome: "", note: "", public: true, into: "", assignee: "" };

export function BulkBar({ tenant, kind, me, selected, onDone, onClear }) {
  const [form, setForm] = useState(EMPTY);
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState("");
  const [people, setPeople] = useState([]);
  const confirmRef = useRef(null);
  const actions = kind === "safety" ? TIP_ACTIONS : Object.keys(BULK_ACTION);

  useEffect(() => {
    if (form.action === "assignee" && !people.length) listAssignees(kind).then((p) => setPeople(p.items)).catch((e) => setError(e.message));
  }, [form.action]);
  useEffect(() => { if (confirming && confirmRef.current) confirmRef.current.focus(); }, [confirming]);

  const set = (name) => (e) => { setForm({ ...form, [name]: e.target.type === "checkbox" ? e.target.checked : e.target.value }); setConfirming(false); };
  const count = selected.length;
  const tells = (form.action === "close" || form.action === "merge") && (form.action === "merge" || form.public);
  const describe = () => {
    const what = form.action === "close" ? `${BULK_ACTION.close} come «${STATUS[form.to]}»` : BULK_ACTION[form.action];
    return `Confermi «${what}» su ${count} ${count === 1 ? "segnalazione" : "segnalazioni"}?${tells ? " I cittadini che le seguono ricevono l'aggiornamento su WhatsApp." : " Il cittadino non riceve nulla."}`;
  };
  const body = () => {
    const b = { ids: selected.map((r) => r.id), action: form.action };
    if (form.action === "assign") b.team = form.team;
    if (form.action === "category") b.category = form.category;
    if (form.action === "close") {
      Object.assign(b, { to: form.to, public: kind === "safety" ? false : form.public });
      if (kind === "safety" && form.outcome) b.outcome = form.outcome;
    }
    if (form.action === "merge") b.into = form.into.trim();
    if (form.action === "assignee") b.assignee = form.assignee;
    if ((form.action === "close" || form.action === "triage") && form.note.trim()) b.note = form.note.trim();
    return b;
  };
  const apply = async () => {
    setBusy(true);
    setError("");
    try {
      const answer = await bulkReports(body());
      setConfirming(false);
      setForm({ ...EMPTY, action: form.action });
      onDone(answer);
    } catch (e) {
      setError(e.message);
      setConfirming(false);
    } finally {
      setBusy(false);
    }
  };
  const ready = form.action && !(form.action === "assign" && !form.team) && !(form.action === "category" && !form.category)
    && !(form.action === "merge" && !form.into.trim()) && !(form.action === "assignee" && !form.assignee);

  return html`<section class="bulk-bar panel" aria-labelledby="bulk-title">
    <h2 id="bulk-title">Azioni su <span data-testid="bulk-count">${count}</span> ${count === 1 ? "segnalazione selezionata" : "segnalazioni selezionate"}</h2>
    <form onSubmit=${(e) => { e.preventDefault(); if (ready) setConfirming(true); }}>
      <div class="bulk-fields">
        <div><label for="bulk-action">Azione</label>
          <select id="bulk-action" value=${form.action} onChange=${set("action")}>
            <option value="">Scegli…</option>
            ${actions.map((a) => html`<option value=${a}>${BULK_ACTION[a]}</option>`)}
          </select></div>
        ${form.action === "assign" && html`<div><label for="bulk-team">Squadra</label>
          <select id="bulk-team" value=${form.team} onChange=${set("team")}>
            <option value="">Scegli…</option>
            ${tenant.teams.map((t) => html`<option value=${t.id}>${t.name}</option>`)}
          </select></div>`}
        ${form.action === "category" && html`<div><label for="bulk-category">Categoria</label>
          <select id="bulk-category" value=${form.category} onChange=${set("category")}>
            <option value="">Scegli…</option>
            ${tenant.categories.map((c) => html`<option value=${c.id}>${c.name}</option>`)}
          </select></div>`}
        ${form.action === "close" && html`<div><label for="bulk-to">Esito della chiusura</label>
          <select id="bulk-to" value=${form.to} onChange=${set("to")}>
            <option value="resolved">${STATUS.resolved}</option><option value="rejected">${STATUS.rejected}</option>
          </select></div>
          ${kind === "safety" && html`<div><label for="bulk-outcome">Esito dell'intervento</label>
            <select id="bulk-outcome" value=${form.outcome} onChange=${set("outcome")}>
              <option value="">—</option>
              ${Object.entries(OUTCOME).map(([k, v]) => html`<option value=${k}>${v}</option>`)}
            </select></div>`}`}
        ${form.action === "merge" && html`<div><label for="bulk-into">Numero della segnalazione originale</label>
          <input id="bulk-into" placeholder="es. 2026/12" value=${form.into} onInput=${set("into")} /></div>`}
        ${form.action === "assignee" && html`<div><label for="bulk-assignee">Persona</label>
          <select id="bulk-assignee" value=${form.assignee} onChange=${set("assignee")}>
            <option value="">Scegli…</option>
            ${people.map((p) => html`<option value=${p.id}>${p.name}${me && p.id === me.subject ? " (tu)" : ""}</option>`)}
          </select></div>`}
      </div>
      ${(form.action === "close" || form.action === "triage") && html`
        <label for="bulk-note">Nota (la stessa per tutte)</label>
        <textarea id="bulk-note" rows="2" maxlength="2000" value=${form.note} onInput=${set("note")}></textarea>`}
      ${form.action === "close" && kind !== "safety" && html`<div class="check">
        <input id="bulk-public" type="checkbox" checked=${form.public} onChange=${set("public")} />
        <label for="bulk-public">Avvisa i cittadini su WhatsApp (ricevono il nuovo stato e la nota)</label></div>`}
      <div class="buttons">
        <button type="submit" disabled=${!ready || busy || confirming}>Continua</button>
        <button type="button" class="secondary" onClick=${onClear}>Deseleziona tutte</button>
      </div>
    </form>
    ${confirming && html`<div class="confirm" role="group" aria-labelledby="bulk-confirm-text" tabindex="-1" ref=${confirmRef}>
      <p id="bulk-confirm-text" data-testid="bulk-confirm">${describe()}</p>
      <div class="buttons">
        <button type="button" disabled=${busy} class=${form.action === "close" && form.to === "rejected" ? "danger" : ""} onClick=${apply}>Conferma su ${count}</button>
        <button type="button" class="secondary" disabled=${busy} onClick=${() => setConfirming(false)}>Annulla</button>
      </div>
    </div>`}
    ${error && html`<p class="error" role="alert">${error}</p>`}
  </section>`;
}

// What a bulk action did, in Italian: the totals, then each report that did not take the step and why.
export function BulkOutcome({ answer }) {
  if (!answer) return null;
  const { counts, results } = answer;
  const parts = [
    counts.done && `${counts.done} ${counts.done === 1 ? "aggiornata" : "aggiornate"}`,
    counts.unchanged && `${counts.unchanged} già a posto, lasciate com'erano`,
    counts.refused && `${counts.refused} non ${counts.refused === 1 ? "consentita" : "consentite"}`,
    counts.not_found && `${counts.not_found} non ${counts.not_found === 1 ? "trovata" : "trovate"}`,
  ].filter(Boolean);
  const missed = results.filter((r) => r.result === "refused" || r.result === "not_found");
  return html`<div class="bulk-outcome" role="status" aria-live="polite" data-testid="bulk-outcome">
    <p><strong>${BULK_ACTION[answer.action]}:</strong> ${parts.join(", ") || "nessuna segnalazione"}.</p>
    ${missed.length > 0 && html`<ul>
      ${missed.map((r) => html`<li>${r.number ? `n. ${r.number}` : "Segnalazione"}: ${BULK_RESULT[r.result]}${r.reason
        ? ` (${errorText({ status: r.reason.code === "invalid_request" || r.reason.code === "report_full" ? 422 : 409, code: r.reason.code,
          message: r.reason.message, details: r.reason.field ? [{ field: r.reason.field, message: r.reason.message }] : [] })})` : ""}</li>`)}
    </ul>`}
  </div>`;
}
