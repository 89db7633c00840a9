// "Esporta CSV" and "Esporta Excel": the list as a file, with the filters the page shows (the API checks the role
// and writes one audit entry per export).
import { useState } from "preact/hooks";
import { html } from "@filo/shared/html";
import { downloadExport } from "./api.js";

// download(format): another file than /api/v1/exports/<what> (the audit log's), the name it saved returned.
export function ExportButtons({ what, filters = {}, label, download }) {
  const [busy, setBusy] = useState("");
  const [done, setDone] = useState("");
  const [error, setError] = useState("");
  const run = async (format) => {
    setBusy(format); setDone(""); setError("");
    try {
      const name = await (download ? download(format) : downloadExport(what, format, filters));
      setDone(`File scaricato: ${name}`);
    } catch (e) {
      setError(e.message);
    }
    setBusy("");
  };
  return html`<div class="exports" role="group" aria-label=${label}>
    <button type="button" class="secondary" disabled=${!!busy} onClick=${() => run("csv")}>
      ${busy === "csv" ? "Esportazione…" : "Esporta CSV"}</button>
    <button type="button" class="secondary" disabled=${!!busy} onClick=${() => run("xlsx")}>
      ${busy === "xlsx" ? "Esportazione…" : "Esporta Excel"}</button>
    <span class="done" aria-live="polite" data-testid=${"export-" + what}>${done}</span>
    ${error && html`<p class="error" role="alert">${error}</p>`}
  </div>`;
}
