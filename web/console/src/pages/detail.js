// One report or tip: text, photos, position, timeline, and the office's actions (lifecycle, team, forwarding, notes,
// merge). A tip also shows the registered resident who sent it. A step is chosen first, then confirmed: its own
// default for telling the citizen (from the API) is shown and preset, never carried over from the last step.
import { useEffect, useState } from "preact/hooks";
import { html } from "@filo/shared/html";
import { addNote, getReport, mergeReport, publishPhoto, transition } from "../api.js";
import { ReportMap } from "../map.js";
import { AssigneePanel } from "./assignee.js";
import { ACTION, CORRECTED, DEADLINE_STEP, EXTERNAL_STATUS, FEEDBACK, OUTCOME, SOURCE, STATUS, STEP, STEP_FROM, TIP_STEP, day, named, when } from "../labels.js";
import { VICINATO_REPORT_STATUS, VICINATO_TIP_STEP } from "../labels.js";
import { Corrections, PhotoRedactor, PublicTextEditor } from "./moderation.js";

const FILE_KIND = { audio: "Messaggio vocale", video: "Video", document: "Documento" };
const FILE_REASON = { too_large: "troppo grande", unsupported_type: "tipo non supportato", damaged: "danneggiato",
  not_an_image: "non è una foto", transient: "WhatsApp non l'ha consegnato", fatal: "WhatsApp non l'ha consegnato" };

export function ReportDetail({ config, tenant, id, back, who }) {
  const [report, setReport] = useState(null);
  const [error, setError] = useState("");
  const [done, setDone] = useState("");
  const [busy, setBusy] = useState(false);
  const [step, setStep] = useState({ note: "", public: false, team: "", external_body: "", external_reference: "", outcome: "" });
  const [chosen, setChosen] = useState(null); // the step about to be taken: { to, public } from report.steps
  const [note, setNote] = useState({ note: "", public: false });
  const [into, setInto] = useState("");

  const load = () => getReport(id).then(setReport).catch((e) => setError(e.message));
  useEffect(() => { load(); }, [id]);

  const act = async (send, message) => {
    setBusy(true);
    setError("");
    setDone("");
    try {
      const updated = await send();
      setReport(updated);
      setDone(message);
      return true;
    } catch (e) {
      setError(e.message);
      return false;
    } finally {
      setBusy(false);
    }
  };

  if (!report) {
    return html`<h1 tabindex="-1">Segnalazione</h1>${error ? html`<p class="error" role="alert">${error}</p>` : html`<p role="status">Caricamento…</p>`}`;
  }

  const changeStatus = async () => {
    const to = chosen.to;
    const body = { to, public: step.public };
    if (step.note.trim()) body.note = step.note.trim();
    if (to === "assigned" && step.team) body.team = step.team;
    if (to === "forwarded") {
      if (step.external_body) body.external_body = step.external_body;
      if (step.external_reference.trim()) body.external_reference = step.external_reference.trim();
    }
    if (report.kind === "safety" && step.outcome && (to === "resolved" || to === "rejected")) body.outcome = step.outcome;
    if (await act(() => transition(id, body), `Stato aggiornato: ${(report.source === "vicinato" ? VICINATO_REPORT_STATUS : STATUS)[to]}.${report.source === "vicinato" ? " Il coordinatore della zona riceve l'aggiornamento su WhatsApp." : ""}${step.public ? " Il cittadino riceve l'aggiornamento su WhatsApp." : " Passaggio interno: il cittadino non è stato avvisato."}`)) {
      setStep({ ...step, note: "", external_reference: "" });
      setChosen(null);
    }
  };
  const choose = (option) => {
    setChosen(option);
    setStep({ ...step, public: option.public });
  };
  const submitNote = async (e) => {
    e.preventDefault();
    if (await act(() => addNote(id, { note: note.note.trim(), public: note.public }), note.public ? "Nota pubblicata: il cittadino la riceve su WhatsApp." : "Nota interna aggiunta.")) {
      setNote({ note: "", public: false });
    }
  };
  const merge = async (e) => {
    e.preventDefault();
    if (await act(() => mergeReport(id, { into: into.trim() }), "Segnalata come duplicata: i cittadini seguiranno l'originale.")) setInto("");
  };
  // The copy without EXIF/GPS becomes visible on the citizens' portal (the endpoint comes with the portal).
  const publish = async (photo) => {
    setBusy(true);
    setError("");
    setDone("");
    try {
      const answer = await publishPhoto(id, photo.id);
      if (answer && answer.events) setReport(answer);
      else await load();
      setDone(photo.boxes && photo.boxes.length
        ? "Foto pubblicata sul portale (la copia con i riquadri oscurati, senza dati di posizione)."
        : "Foto pubblicata sul portale (copia senza dati di posizione).");
    } catch (e) {
      setError(e.message);
    } finally {
      setBusy(false);
    }
  };
  const steps = report.steps || [];
  const placeName = (id) => (id ? tenant.hamlets.features.find((h) => h.id === id)?.properties.name || id : "—");
  const hamletName = placeName(report.hamlet);
  const stepLabel = (to) => (STEP_FROM[report.status] || {})[to] || (report.source === "vicinato" && VICINATO_TIP_STEP[to])
    || (report.kind === "safety" && TIP_STEP[to]) || STEP[to];
  const resident = report.resident;
  const correction = (field, value) => {
    if (value === null || value === undefined || value === "") return "—";
    if (field === "category") return named(tenant.categories, value);
    if (field === "hamlet") return placeName(value);
    if (field === "position") return `${Number(value.latitude).toFixed(5)}, ${Number(value.longitude).toFixed(5)}`;
    return value;
  };

  return html`
    <p><a href=${"#/" + back}>← Torna all'elenco</a></p>
    <h1 tabindex="-1">${report.kind === "safety" ? "Segnalazione sicurezza" : "Segnalazione"} ${report.number}</h1>
    <p class="status-line">Stato: <strong class=${"badge s-" + report.status} data-testid="report-status">${(report.source === "vicinato" ? VICINATO_REPORT_STATUS : STATUS)[report.status]}</strong>
      ${report.team && html` · Squadra: <strong>${named(tenant.teams, report.team)}</strong>`}
      ${report.assignee && html` · In carico a: <strong>${report.assignee.name || report.assignee.id}</strong>`}
      ${report.external && html` · Inoltrata a: <strong>${report.external.name}</strong>${report.external.reference ? ` (rif. ${report.external.reference})` : ""}`}
      ${report.duplicate_of && html` · Duplicato di <a href=${`#/${back}/${encodeURIComponent(report.duplicate_of)}`}>${report.duplicate_of}</a>`}
      ${report.reopened_by_citizen && html` · <strong class="badge reopened">Riaperta dal cittadino: «Non risolto»</strong>`}
    </p>
    ${report.feedback && report.feedback.asked > 0 && html`<p class="feedback-line" data-testid="report-feedback">Esito chiesto
      a ${report.feedback.asked} ${report.feedback.asked === 1 ? "cittadino" : "cittadini"}: ${report.feedback.satisfied} «Risolto»,
      ${report.feedback.not_satisfied} «Non risolto»</p>`}
    ${error && html`<p class="error" role="alert">${error}</p>`}
    <p class="done" role="status" aria-live="polite">${done}</p>
    <div class="detail">
      <div>
        <section aria-labelledby="what">
          <h2 id="what">Che cosa</h2>
          <p class="report-text">${report.text || html`<em>Nessun testo</em>`}</p>
          <dl class="facts">
            ${report.kind === "report" && html`<dt>Categoria</dt><dd>${named(tenant.categories, report.category)}</dd>`}
            <dt>Frazione</dt><dd>${hamletName}</dd>
            <dt>Indirizzo</dt><dd>${report.address || (report.location && report.location.address) || "—"}</dd>
            <dt>Canale</dt><dd>${SOURCE[report.source] || report.source}</dd>
            <dt>Ricevuta</dt><dd>${when(report.created_at)}</dd>
            <dt>Età</dt><dd>${report.age_days === 1 ? "1 giorno" : `${report.age_days} giorni`}</dd>
            ${(report.deadlines || []).map((d) => html`<dt>Scadenza (${DEADLINE_STEP[d.step]})</dt><dd data-testid=${"deadline-" + d.step}>entro il ${day(d.due_on)}: ${
              d.reached_at ? `${d.late ? "fatta in ritardo" : "fatta"} il ${when(d.reached_at)}` : d.late ? html`<strong class="due due-overdue">scaduta</strong>` : "da fare"}</dd>`)}
            <dt>Cittadini che la seguono</dt><dd>${1 + report.followers}</dd>
            ${report.outcome && html`<dt>Esito</dt><dd>${OUTCOME[report.outcome] || report.outcome}</dd>`}
            ${Object.keys(report.contact || {}).length > 0 && html`<dt>${report.source === "whatsapp" ? "Nome del profilo WhatsApp" : "Contatto"}</dt>
              <dd>${Object.values(report.contact).join(" · ")}</dd>`}
            ${citizenOf(report) && html`<dt>Cittadino</dt><dd><a href=${"#/cittadino/" + encodeURIComponent(citizenOf(report))}>Scheda del cittadino: segnalazioni e conversazione</a></dd>`}
          </dl>
        </section>
        ${report.vicinato && html`<section aria-labelledby="vicinato-origin">
          <h2 id="vicinato-origin">Controllo del Vicinato</h2>
          <dl class="facts" data-testid="vicinato-origin">
            <dt>Zona</dt><dd>${report.vicinato.zone_name || report.vicinato.zone || "—"}</dd>
            <dt>Membro (nome di zona)</dt><dd>${report.vicinato.handle || "—"}</dd>
            <dt>Nota del coordinatore</dt><dd>${report.vicinato.note || "—"}</dd>
            ${report.vicinato.urgent && html`<dt>Priorità</dt><dd><strong class="badge urgent">Urgente</strong> (il membro ha già ricevuto l'invito a chiamare il 112)</dd>`}
          </dl>
          <p class="hint">Gli stati (presa in carico, pattuglia inviata, chiusa con esito) arrivano al coordinatore su WhatsApp; al membro solo quelli pubblici.</p>
        </section>`}
        ${report.kind === "safety" && html`<section aria-labelledby="who">
          <h2 id="who">Chi ha segnalato</h2>
          ${resident ? html`<dl class="facts" data-testid="resident">
              <dt>Nome</dt><dd>${resident.name}</dd>
              <dt>Indirizzo</dt><dd>${resident.address || "—"}</dd>
              <dt>Frazione</dt><dd>${placeName(resident.hamlet)}</dd>
              <dt>Numero</dt><dd>${resident.phone || "—"}</dd>
            </dl>
            <p class="tag">Dati del registro dei residenti della Polizia municipale: la consultazione è registrata.</p>`
            : html`<p>${report.reporter ? "Il residente non è più registrato." : "Segnalazione raccolta dall'ufficio: vedi il contatto."}</p>`}
        </section>`}
        <section aria-labelledby="photos">
          <h2 id="photos">Foto</h2>
          ${report.photos.length === 0 && html`<p>Nessuna foto.</p>`}
          <ul class="photos">
            ${report.photos.map((p, i) => html`<li>
              ${p.url ? html`<a href=${p.url} target="_blank" rel="noopener"><img src=${p.url} alt=${`Foto ${i + 1} della segnalazione ${report.number}`} /></a>`
                : html`<span>Foto ${i + 1}: ${p.status === "refused" ? "rifiutata" : "non scaricata"}${p.reason ? ` (${FILE_REASON[p.reason] || p.reason})` : ""}</span>`}
              ${report.kind === "report" && p.status === "stored" && (p.public || p.published
                ? html`<small class="ok">Pubblicata sul portale</small>`
                : html`<button type="button" class="secondary small" disabled=${busy} aria-label=${`Pubblica sul portale la foto ${i + 1}`}
                    onClick=${() => publish(p)}>Pubblica sul portale</button>`)}
              ${report.kind === "report" && p.status === "stored" && p.public_url && html`<details class="redact">
                <summary>Oscura volti e targhe (foto ${i + 1})${p.boxes && p.boxes.length ? ` · ${p.boxes.length} riquadri` : ""}</summary>
                <${PhotoRedactor} key=${p.id} report=${report} photo=${p} index=${i} act=${act} busy=${busy} />
              </details>`}
            </li>`)}
          </ul>
        </section>
        ${(report.attachments || []).length > 0 && html`<section aria-labelledby="files">
          <h2 id="files">Messaggi vocali, video e documenti</h2>
          <ul class="files">
            ${report.attachments.map((f, i) => html`<li>
              ${!f.url ? html`<span>${FILE_KIND[f.kind]} ${i + 1}: ${f.status === "refused" ? "rifiutato" : f.status === "erased" ? "cancellato" : "non scaricato"}${f.reason ? ` (${FILE_REASON[f.reason] || f.reason})` : ""}</span>`
                : f.kind === "audio" ? html`<audio controls preload="none" src=${f.url} aria-label=${`Messaggio vocale ${i + 1} della segnalazione ${report.number}`}></audio>`
                : f.kind === "video" ? html`<video controls preload="none" width="320" src=${f.url} aria-label=${`Video ${i + 1} della segnalazione ${report.number}`}></video>`
                : html`<a href=${f.url} download>Scarica il documento PDF ${i + 1}${f.size ? ` (${Math.max(1, Math.round(f.size / 1024))} kB)` : ""}</a>`}
            </li>`)}
          </ul>
          <p class="tag">I collegamenti valgono 5 minuti: ricarica la pagina per ascoltare o scaricare di nuovo. Non si pubblicano mai.</p>
        </section>`}
        <section aria-labelledby="where">
          <h2 id="where">Dove</h2>
          ${report.location ? html`<p>${report.location.latitude.toFixed(5)}, ${report.location.longitude.toFixed(5)}</p>` : html`<p>Posizione non indicata.</p>`}
          <${ReportMap} config=${config} hamlets=${tenant.hamlets} reports=${[report]} label=${`Posizione della segnalazione ${report.number}`} height=${260} />
        </section>
      </div>
      <div>
        <section aria-labelledby="actions" class="panel">
          <h2 id="actions">Azioni</h2>
          ${steps.length === 0 && html`<p>Nessuna azione possibile: la segnalazione è chiusa.</p>`}
          ${steps.length > 0 && html`<div class="buttons" role="group" aria-label="Prossimo passaggio">
              ${steps.map((option) => html`<button type="button" disabled=${busy} aria-pressed=${chosen && chosen.to === option.to ? "true" : "false"}
                class=${(option.to === "rejected" ? "danger" : "") + (chosen && chosen.to !== option.to ? " secondary" : "")}
                onClick=${() => choose(option)}>${stepLabel(option.to)}</button>`)}
            </div>
            <p class="tag" data-testid="steps-notify">${steps.some((o) => o.public)
              ? `Avvisano il cittadino, salvo tua scelta: ${steps.filter((o) => o.public).map((o) => stepLabel(o.to)).join(", ")}. Gli altri passaggi sono interni.`
              : "Tutti i passaggi sono interni: il cittadino non riceve nulla, salvo tua scelta."}</p>`}
          ${chosen && html`<form class="step-form" aria-label="Conferma del passaggio" aria-describedby="step-default" onSubmit=${(e) => { e.preventDefault(); changeStatus(); }}>
            <p class="hint" id="step-default" data-testid="step-default">${chosen.public
              ? `«${stepLabel(chosen.to)}» avvisa il cittadino su WhatsApp, salvo tua scelta.`
              : `«${stepLabel(chosen.to)}» è un passaggio interno: il cittadino non riceve nulla, salvo tua scelta.`}</p>
            <label for="step-note">Nota per il cambio di stato</label>
            <textarea id="step-note" rows="2" maxlength="2000" value=${step.note} onInput=${(e) => setStep({ ...step, note: e.target.value })}></textarea>
            <div class="check"><input id="step-public" type="checkbox" checked=${step.public} onChange=${(e) => setStep({ ...step, public: e.target.checked })} />
              <label for="step-public">Avvisa il cittadino su WhatsApp (riceve il nuovo stato e la nota)</label></div>
            ${chosen.to === "assigned" && html`
              <label for="step-team">Squadra</label>
              <select id="step-team" value=${step.team} onChange=${(e) => setStep({ ...step, team: e.target.value })}>
                <option value="">Quella della categoria</option>
                ${tenant.teams.map((t) => html`<option value=${t.id}>${t.name}</option>`)}
              </select>`}
            ${chosen.to === "forwarded" && html`
              <label for="step-body">Ente competente</label>
              <select id="step-body" value=${step.external_body} onChange=${(e) => setStep({ ...step, external_body: e.target.value })}>
                <option value="">Quello della categoria</option>
                ${tenant.external_bodies.map((b) => html`<option value=${b.id}>${b.name}</option>`)}
              </select>
              <label for="step-ref">Riferimento dell'ente (facoltativo)</label>
              <input id="step-ref" maxlength="120" value=${step.external_reference} onInput=${(e) => setStep({ ...step, external_reference: e.target.value })} />`}
            ${report.kind === "safety" && (chosen.to === "resolved" || chosen.to === "rejected") && html`
              <label for="step-outcome">Esito</label>
              <select id="step-outcome" value=${step.outcome} onChange=${(e) => setStep({ ...step, outcome: e.target.value })}>
                <option value="">—</option>
                ${Object.entries(OUTCOME).map(([k, v]) => html`<option value=${k}>${v}</option>`)}
              </select>`}
            <div class="buttons">
              <button type="submit" disabled=${busy} class=${chosen.to === "rejected" ? "danger" : ""}>Conferma</button>
              <button type="button" class="secondary" disabled=${busy} onClick=${() => setChosen(null)}>Annulla</button>
            </div>
          </form>`}
        </section>
        <${AssigneePanel} report=${report} who=${who} busy=${busy} act=${act} />
        ${report.kind === "report" && html`<${PublicTextEditor} key=${report.id} report=${report} act=${act} busy=${busy} />`}
        <${Corrections} key=${report.id} config=${config} tenant=${tenant} report=${report} act=${act} busy=${busy} />
        <section aria-labelledby="notes" class="panel">
          <h2 id="notes">Aggiungi una nota</h2>
          <form onSubmit=${submitNote}>
            <label for="note-text">Nota</label>
            <textarea id="note-text" rows="2" required maxlength="2000" value=${note.note} onInput=${(e) => setNote({ ...note, note: e.target.value })}></textarea>
            <div class="check"><input id="note-public" type="checkbox" checked=${note.public} onChange=${(e) => setNote({ ...note, public: e.target.checked })} />
              <label for="note-public">Pubblica: il cittadino la riceve su WhatsApp</label></div>
            <button type="submit" disabled=${busy}>Aggiungi nota</button>
          </form>
        </section>
        ${report.status !== "duplicate" && html`<section aria-labelledby="merge" class="panel">
          <h2 id="merge">Duplicato</h2>
          <form onSubmit=${merge}>
            <label for="merge-into">Numero della segnalazione originale</label>
            <input id="merge-into" required placeholder="es. 2026/12" value=${into} onInput=${(e) => setInto(e.target.value)} />
            <button type="submit" class="secondary" disabled=${busy}>Unisci come duplicato</button>
          </form>
        </section>`}
        <section aria-labelledby="timeline" class="panel">
          <h2 id="timeline">Cronologia</h2>
          <ol class="timeline">
            ${report.events.map((e) => html`<li>
              <time datetime=${e.at}>${when(e.at)}</time>
              <span class="what">${ACTION[e.action] || e.action}${e.status ? `: ${(report.source === "vicinato" ? VICINATO_REPORT_STATUS : STATUS)[e.status] || e.status}` : ""}</span>
              <span class=${"visibility " + (e.public ? "pub" : "int")}>${e.public ? "pubblica" : "interna"}</span>
              <span class="actor">${e.actor_name || actorLabel(e.actor, tenant)}</span>
              ${e.note && html`<p class="note">${e.note}</p>`}
              ${e.data && e.data.answer && html`<p class="note">Ha risposto ${FEEDBACK[e.data.answer] || e.data.answer}</p>`}
              ${e.data && e.data.asked && html`<p class="note">Cittadini interpellati: ${e.data.asked.length}</p>`}
              ${e.data && e.data.external_status && html`<p class="note">Stato comunicato: ${EXTERNAL_STATUS[e.data.external_status] || e.data.external_status}${e.data.reference ? ` (rif. ${e.data.reference})` : ""}</p>`}
              ${e.data && e.data.team && html`<p class="note">Squadra: ${named(tenant.teams, e.data.team)}</p>`}
              ${e.data && e.data.external_body && html`<p class="note">Ente: ${named(tenant.external_bodies, e.data.external_body)}</p>`}
              ${e.data && e.data.original && html`<p class="note">Originale: ${e.data.original}</p>`}
              ${e.action === "assignee" && html`<p class="note">${e.data && e.data.assignee ? `Persona: ${e.data.name || e.data.assignee}` : "Nessuna persona"}</p>`}
              ${e.action === "corrected" && e.data && html`<p class="note">${CORRECTED[e.data.field] || e.data.field}: ${correction(e.data.field, e.data.from)} → ${correction(e.data.field, e.data.to)}</p>`}
              ${e.action === "public_text" && html`<p class="note">${e.data && e.data.description}</p>`}
            </li>`)}
          </ol>
        </section>
      </div>
    </div>`;
}

// Whose report it is, as the citizen view takes it: the reporter's key on WhatsApp, else the desk contact's number.
function citizenOf(report) {
  return (report.reporter && report.reporter.citizen) || (report.contact && report.contact.phone) || "";
}

// who took a step: the citizen, the system, an external body through its private link, or a staff member
function actorLabel(actor, tenant) {
  if (actor === "citizen") return "cittadino";
  if (actor === "system") return "sistema";
  if (actor.startsWith("external:")) return `ente: ${named(tenant.external_bodies, actor.slice("external:".length))}`;
  return actor;
}
