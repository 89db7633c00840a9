// Richieste privacy: one citizen's rights across the comune. "Anteprima" says what an erasure of the number would
// erase and keep (nothing changes); a confirmation naming it; then the result. "Esporta i dati" downloads the archive
// to hand over (the data as JSON, a summary in Italian, the files they sent). Below, the log of requests handled,
// where the person appears only masked. Every step is recorded in the audit log.
import { useEffect, useRef, useState } from "preact/hooks";
import { html } from "@filo/shared/html";
import { downloadPersonArchive, erasePerson, listPrivacyRequests, previewErasure } from "../../api.js";
import { CHANNEL_KIND, SUB_STATUS, typedNumber, when } from "../../labels.js";

const KIND = { erase: "Cancellazione", export: "Esportazione dei dati" };
const OUTCOME = { done: "Eseguita", failed: "Non riuscita" };
const plural = (n, one, many) => `${n} ${n === 1 ? one : many}`;

// What an erasure removes, from the preview's counts: one line each, only what there is.
function erasedLines(p) {
  const lines = p.channels.filter((c) => c.citizen_record).map((c) =>
    `iscrizione o registrazione su ${CHANNEL_KIND[c.kind] || c.kind} — ${c.name}${c.status ? ` (${SUB_STATUS[c.status] || c.status})` : ""}`);
  if (p.conversations) lines.push(plural(p.conversations, "conversazione in Messaggi", "conversazioni in Messaggi"));
  if (p.files) lines.push(plural(p.files, "file inviato (foto, vocale, video o documento)", "file inviati (foto, vocali, video o documenti)"));
  if (p.delivery_records) lines.push(plural(p.delivery_records, "registrazione di messaggi inviati dal Comune", "registrazioni di messaggi inviati dal Comune"));
  if (p.reports_sent) lines.push(`numero e contatti di chi ha inviato ${plural(p.reports_sent, "segnalazione", "segnalazioni")}`);
  if (p.reports_followed) lines.push(`l'adesione a ${plural(p.reports_followed, "segnalazione seguita", "segnalazioni seguite")}`);
  if (p.appointments) lines.push(plural(p.appointments, "prenotazione dell'agenda (quelle future disdette)", "prenotazioni dell'agenda (quelle future disdette)"));
  return lines;
}

// What stays, and why.
function keptLines(p) {
  const consents = p.channels.reduce((n, c) => n + c.consents, 0);
  const lines = [`il registro dei consensi (${plural(consents, "voce", "voci")}), con la cancellazione annotata: è la prova del consenso`];
  if (p.reports_sent) lines.push(`${plural(p.reports_sent, "segnalazione resta", "segnalazioni restano")} in forma anonima, nell'interesse pubblico`);
  lines.push(`${plural(p.audit_entries, "voce", "voci")} del registro accessi, con lo pseudonimo ${p.pseudonym} al posto del numero`);
  lines.push("questa richiesta nel registro delle richieste privacy, con il numero mascherato");
  return lines;
}

export function PrivacyPage() {
  const [typed, setTyped] = useState("");
  const [preview, setPreview] = useState(null);
  const [confirming, setConfirming] = useState(false);
  const [result, setResult] = useState(null);
  const [busy, setBusy] = useState("");
  const [error, setError] = useState("");
  const [notice, setNotice] = useState("");
  const [log, setLog] = useState([]);

  const reload = () => listPrivacyRequests().then((r) => setLog(r.items)).catch((e) => setError(e.message));
  useEffect(() => { reload(); }, []);

  const run = async (what, action) => {
    setBusy(what); setError(""); setNotice("");
    try {
      await action();
    } catch (e) {
      setError(e.message);
    }
    setBusy("");
  };
  const number = () => typedNumber(typed);
  const askPreview = (event) => {
    event.preventDefault();
    setResult(null); setConfirming(false);
    run("preview", async () => setPreview(await previewErasure(number())));
  };
  const exportData = () => run("export", async () => {
    const name = await downloadPersonArchive(number());
    setNotice(`Archivio scaricato: ${name}`);
    await reload();
  });
  const erase = () => run("erase", async () => {
    setResult(await erasePerson(preview.subject));
    setPreview(null); setConfirming(false); setTyped("");
    await reload();
  });

  return html`
    <h1 tabindex="-1">Richieste privacy</h1>
    <p class="hint">Le richieste di accesso (art. 15 GDPR) e di cancellazione (art. 17) di un cittadino, su tutti i
      canali del Comune. Ogni passo è registrato.</p>
    <form class="filters" aria-label="Numero del cittadino" onSubmit=${askPreview}>
      <div><label for="p-phone">Numero di telefono</label>
        <input id="p-phone" type="text" inputmode="tel" autocomplete="off" required placeholder="es. 333 123 4567"
          value=${typed} onInput=${(e) => { setTyped(e.target.value); setPreview(null); setConfirming(false); }} /></div>
      <div class="filter-actions">
        <button type="submit" disabled=${!!busy}>${busy === "preview" ? "Anteprima…" : "Anteprima"}</button>
        <button type="button" class="secondary" disabled=${!!busy || !typed.trim()} onClick=${exportData}>
          ${busy === "export" ? "Esportazione…" : "Esporta i dati"}</button>
      </div>
    </form>
    <p aria-live="polite" data-testid="privacy-notice">${notice}</p>
    ${error && html`<p class="error" role="alert">${error}</p>`}
    ${preview && html`<${Preview} preview=${preview} busy=${!!busy} onErase=${() => setConfirming(true)} />`}
    ${preview && confirming && html`<${Confirm} preview=${preview} busy=${busy === "erase"} onConfirm=${erase}
      onCancel=${() => setConfirming(false)} />`}
    ${result && html`<${Result} result=${result} />`}
    <${RequestLog} items=${log} />`;
}

function Preview({ preview, busy, onErase }) {
  const erased = erasedLines(preview);
  return html`<section class="privacy-preview" aria-labelledby="pv-title" data-testid="privacy-preview">
    <h2 id="pv-title" tabindex="-1">Anteprima per ${preview.masked}</h2>
    <p>Nulla è stato ancora cambiato.
      <a href=${"#/amministrazione/registro/" + encodeURIComponent(preview.subject)}>Chi ha visto i dati di questo cittadino?</a></p>
    <h3>Verrà cancellato</h3>
    ${erased.length ? html`<ul>${erased.map((l) => html`<li>${l}</li>`)}</ul>` : html`<p>Nessun dato su questo numero.</p>`}
    <h3>Resterà</h3>
    <ul>${keptLines(preview).map((l) => html`<li>${l}</li>`)}</ul>
    ${preview.previous_requests.length > 0 && html`<p>Richieste precedenti per questo numero:
      ${preview.previous_requests.map((r) => `${KIND[r.kind] || r.kind} del ${when(r.at)}`).join("; ")}.</p>`}
    <button type="button" class="danger" disabled=${busy} onClick=${onErase}>Cancella i dati di questo numero…</button>
  </section>`;
}

function Confirm({ preview, busy, onConfirm, onCancel }) {
  const ref = useRef(null);
  useEffect(() => { if (ref.current) ref.current.focus(); }, []);
  const erased = erasedLines(preview);
  return html`<div class="confirm" role="alertdialog" aria-modal="false" aria-labelledby="pc-title"
      aria-describedby="pc-what" tabindex="-1" ref=${ref}>
    <h3 id="pc-title">Confermi la cancellazione dei dati di ${preview.masked}?</h3>
    <div id="pc-what">
      <p>Verranno cancellati: ${erased.length ? erased.join("; ") : "nessun dato oltre al numero nei registri"}.</p>
      <p>Resteranno: ${keptLines(preview).join("; ")}.</p>
      <p>La cancellazione non si può annullare.</p>
    </div>
    <div class="buttons">
      <button type="button" class="danger" disabled=${busy} onClick=${onConfirm}>
        ${busy ? "Cancellazione…" : "Conferma la cancellazione"}</button>
      <button type="button" class="secondary" disabled=${busy} onClick=${onCancel}>Annulla</button>
    </div>
  </div>`;
}

function Result({ result }) {
  const ref = useRef(null);
  useEffect(() => { if (ref.current) ref.current.focus(); }, []);
  return html`<section class="privacy-result" aria-labelledby="pr-title" data-testid="privacy-result">
    <h2 id="pr-title" tabindex="-1" ref=${ref}>Cancellazione eseguita</h2>
    <ul>
      <li>${plural(result.channels.filter((c) => c.citizen_record === "deleted").length, "iscrizione o registrazione cancellata", "iscrizioni o registrazioni cancellate")}</li>
      <li>${plural(result.reports_anonymised, "segnalazione resa anonima", "segnalazioni rese anonime")}</li>
      <li>${plural(result.conversations_deleted, "conversazione cancellata", "conversazioni cancellate")}</li>
      <li>${plural(result.delivery_records_deleted, "registrazione di invio cancellata", "registrazioni di invio cancellate")}</li>
      ${result.appointments_deleted ? html`<li>${plural(result.appointments_deleted, "prenotazione dell'agenda cancellata", "prenotazioni dell'agenda cancellate")}</li>` : ""}
      <li>${plural(result.audit_entries_pseudonymised, "voce del registro accessi", "voci del registro accessi")} con lo pseudonimo <strong>${result.pseudonym}</strong></li>
    </ul>
  </section>`;
}

function RequestLog({ items }) {
  return html`<section aria-labelledby="pl-title">
    <h2 id="pl-title">Richieste gestite</h2>
    <p class="hint">Per il registro dei trattamenti: il cittadino vi compare solo con il numero mascherato e un codice
      che permette di riconoscere una richiesta ripetuta.</p>
    ${!items.length ? html`<p>Nessuna richiesta gestita.</p>` : html`<div class="scroll"><table aria-label="Richieste privacy gestite">
      <thead><tr><th scope="col">Quando</th><th scope="col">Richiesta</th><th scope="col">Chi</th><th scope="col">Esito</th>
        <th scope="col">Cittadino</th><th scope="col">Codice</th></tr></thead>
      <tbody>${items.map((r) => html`<tr data-testid="privacy-request">
        <td>${when(r.at)}</td><td>${KIND[r.kind] || r.kind}</td><td>${r.actor_name}</td>
        <td>${OUTCOME[r.outcome] || r.outcome}</td><td>${r.subject}</td><td><code>${r.subject_hash.slice(-8)}</code></td></tr>`)}</tbody>
    </table></div>`}
  </section>`;
}
