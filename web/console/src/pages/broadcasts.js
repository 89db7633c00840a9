// Broadcasts: the composer (content or template, optionally an image, hamlets and topics with a live audience count
// and pre-flight warnings, now or at a time; a confirmation naming the audience before anything goes), then a live
// progress bar and the delivery funnel; the recent broadcasts below, a scheduled one with its time.
import { useEffect, useRef, useState } from "preact/hooks";
import { html } from "@filo/shared/html";
import { useAnswerOrder } from "../answers.js";
import { go } from "@filo/shared/router";
import { controlBroadcast, createBroadcast, getBroadcast, listBroadcasts, listTemplates, previewBroadcast } from "../api.js";
import { ExportButtons } from "../exports.js";
import { BROADCAST_STATUS, named, pauseReason, recategorised, templateCategory, when, warning } from "../labels.js";
import { Phone } from "./admin/templates.js";

const POLL_MS = 1000;
const SETTLE_POLLS = 60;
const FINISHED = ["completed", "cancelled"];
const CAPTION_MAX = 1024; // WhatsApp's limit for an image's caption (the text goes as the caption)

function toggle(list, id, on) {
  return on ? [...list, id] : list.filter((x) => x !== id);
}

export function Broadcasts({ config, tenant, channels, id }) {
  const broadcastChannels = channels.filter((c) => c.kind === "broadcast");
  const [latest, setLatest] = useState(null);
  return html`
    <h1 tabindex="-1">Avvisi ai cittadini</h1>
    ${id ? html`<${Progress} config=${config} id=${id} onUpdate=${setLatest} />` : html`<${Composer} tenant=${tenant} channels=${broadcastChannels} />`}
    <${Recent} tenant=${tenant} current=${id} latest=${latest} />`;
}

function audienceText(tenant, audience) {
  const hamlets = audience.hamlets.map((id) => tenant.hamlets.features.find((h) => h.id === id)?.properties.name || id);
  const topics = audience.topics.map((id) => named(tenant.topics, id));
  return [...hamlets, ...topics].join(", ") || "Tutti";
}

function Composer({ tenant, channels }) {
  const [form, setForm] = useState({
    channel: channels.length ? channels[0].phone_number_id : "", mode: "text", text: "", title: "", template: "", parameters: "",
    hamlets: [], topics: [], priority: "normal", when: "now", send_at: "", image_url: "",
  });
  const [confirming, setConfirming] = useState(null); // the preview of what is about to go, until staff confirm
  const [preview, setPreview] = useState(null);
  const [problem, setProblem] = useState("");
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  const previews = useAnswerOrder();

  useEffect(() => {
    if (!form.channel && channels.length) setForm({ ...form, channel: channels[0].phone_number_id });
  }, [channels.length]);

  // Only the approved templates fit for a notice ({{1}} and a quick reply, serving no other purpose), with their text
  // as WhatsApp holds it; when WhatsApp's list cannot be read, the channel's declared approved templates.
  const [fit, setFit] = useState(null);
  useEffect(() => {
    setFit(null);
    if (form.channel) listTemplates(form.channel, "notice").then((answer) => setFit(answer.items)).catch(() => setFit(null));
  }, [form.channel]);
  const declared = (channels.find((c) => c.phone_number_id === form.channel) || {}).templates || [];
  const approved = fit || declared;
  const chosen = fit && fit.find((t) => t.name === form.template);
  const templateLanguage = () => (approved.find((t) => t.name === form.template) || {}).language || "it";
  const parameterValues = form.parameters.split("\n").map((p) => p.trim()).filter(Boolean);

  const body = (draftText) => {
    const b = { channel: form.channel, audience: { hamlets: form.hamlets, topics: form.topics }, priority: form.priority };
    if (form.mode === "text") {
      b.text = form.text.trim() || draftText;
      if (form.title.trim()) b.title = form.title.trim();
    }
    else b.template = { name: form.template.trim() || "modello", language: templateLanguage(), parameters: form.parameters.split("\n").map((p) => p.trim()).filter(Boolean) };
    if (form.when === "later" && form.send_at) b.send_at = new Date(form.send_at).toISOString();
    if (form.image_url.trim()) b.image_url = form.image_url.trim();
    return b;
  };

  // The live count: the preview of the broadcast as composed so far, nothing saved.
  useEffect(() => {
    if (!form.channel) return;
    previews.change(); // the broadcast as composed now: a preview of an earlier draft arriving later is dropped
    const timer = setTimeout(async () => {
      const take = previews.ask();
      try {
        const answer = await previewBroadcast(body("(anteprima)"));
        if (take()) { setPreview(answer); setProblem(""); }
      } catch (e) {
        if (take()) { setPreview(null); setProblem(e.message); }
      }
    }, 250);
    return () => clearTimeout(timer);
  }, [form.channel, form.mode, form.template, form.parameters, form.hamlets.join(), form.topics.join(), form.priority, form.when, form.send_at,
    form.text, form.title, form.image_url]);

  // "Invia ora" first asks: who exactly (counted afresh), where, when. Nothing is saved until confirmed.
  const submit = async (event) => {
    event.preventDefault();
    setBusy(true);
    setError("");
    try {
      setConfirming(await previewBroadcast(body()));
    } catch (e) {
      setError(e.message);
    } finally {
      setBusy(false);
    }
  };
  const send = async () => {
    setBusy(true);
    setError("");
    try {
      const created = await createBroadcast(body());
      go(`avvisi/${encodeURIComponent(created.id)}`);
    } catch (e) {
      setConfirming(null);
      setError(e.message);
    } finally {
      setBusy(false);
    }
  };
  const set = (name) => (e) => setForm({ ...form, [name]: e.target.type === "checkbox" ? e.target.checked : e.target.value });

  if (!channels.length) return html`<p>Nessun canale di avvisi visibile con il tuo ruolo.</p>`;
  return html`<div class="composer">
    <form onSubmit=${submit} aria-labelledby="compose-title">
      <h2 id="compose-title">Nuovo avviso</h2>
      ${channels.length > 1 && html`<label for="b-channel">Canale</label>
        <select id="b-channel" value=${form.channel} onChange=${set("channel")}>
          ${channels.map((c) => html`<option value=${c.phone_number_id}>${c.name} (${c.display_phone_number})</option>`)}
        </select>`}
      <fieldset>
        <legend>Contenuto</legend>
        <div class="check"><input type="radio" id="b-mode-text" name="mode" value="text" checked=${form.mode === "text"} onChange=${set("mode")} />
          <label for="b-mode-text">Testo libero</label></div>
        <div class="check"><input type="radio" id="b-mode-template" name="mode" value="template" checked=${form.mode === "template"} onChange=${set("mode")} />
          <label for="b-mode-template">Modello approvato da WhatsApp</label></div>
        ${form.mode === "text" ? html`
          <label for="b-text">Testo del messaggio</label>
          <textarea id="b-text" rows="5" maxlength=${form.image_url ? CAPTION_MAX : 4096} required value=${form.text} onInput=${set("text")} aria-describedby="b-text-count"></textarea>
          <small id="b-text-count">${form.text.length} / ${form.image_url ? `${CAPTION_MAX} caratteri (didascalia dell'immagine)` : "4096 caratteri"}</small>
          <label for="b-title">Titolo per chi è fuori dalla finestra di 24 ore (facoltativo)</label>
          <input id="b-title" maxlength="60" value=${form.title} onInput=${set("title")} aria-describedby="b-title-help" />
          <small id="b-title-help">Una riga, al massimo 60 caratteri: WhatsApp lo mostra nel modello di avviso. Se lo lasci vuoto, è la prima riga del testo.</small>` : html`
          <label for="b-template">Modello</label>
          ${approved.length ? html`
          <select id="b-template" required value=${form.template} onChange=${set("template")}>
            <option value="">Scegli un modello approvato</option>
            ${approved.map((t) => html`<option value=${t.name}>${t.name} (${templateCategory(t.category).toLowerCase()}, ${t.language})</option>`)}
          </select>` : fit ? html`<p class="error" id="b-template">Nessun modello adatto a un avviso è approvato per questo canale: crealo in Amministrazione, «Modelli WhatsApp».</p>` : html`
          <input id="b-template" required pattern="[a-z0-9_]+" value=${form.template} onInput=${set("template")}
            aria-describedby="b-template-help" />
          <small id="b-template-help">Questo numero non ha modelli approvati registrati: scrivi il nome esatto.</small>`}
          <label for="b-params">Parametri del modello (uno per riga)</label>
          <textarea id="b-params" rows="3" value=${form.parameters} onInput=${set("parameters")}
            aria-describedby=${chosen ? "b-template-text" : undefined}></textarea>
          ${chosen && html`<div id="b-template-text" data-testid="composer-template">
            <p>Il testo che riceveranno${chosen.parameters > 0 ? " (i parametri al posto di {{1}}…)" : ""}:</p>
            <${Phone} header=${chosen.header} buttons=${chosen.buttons} footer=${chosen.footer}
              body=${chosen.body.replace(/\{\{\s*(\d+)\s*\}\}/g, (whole, n) => parameterValues[Number(n) - 1] || whole)} />
            ${chosen.previous_category && html`<p class="warnings" role="note" data-testid="composer-recategorised">${recategorised(chosen.name, chosen.previous_category, chosen.category)}</p>`}
          </div>`}`}
        <label for="b-image">Immagine (facoltativa): indirizzo web</label>
        <input id="b-image" type="url" placeholder="https://www.comune.example.it/avvisi/foto.jpg" value=${form.image_url}
          onInput=${set("image_url")} aria-describedby="b-image-help" />
        <small id="b-image-help">${form.mode === "text"
          ? "JPEG o PNG fino a 5 MB, a un indirizzo pubblico che WhatsApp possa scaricare; il testo diventa la didascalia."
          : "Solo se il modello ha un'immagine di intestazione: JPEG o PNG fino a 5 MB, a un indirizzo pubblico."}</small>
      </fieldset>
      <fieldset>
        <legend>Frazioni (nessuna scelta: tutto il Comune)</legend>
        ${tenant.hamlets.features.map((h) => html`<div class="check">
          <input type="checkbox" id=${"b-h-" + h.id} checked=${form.hamlets.includes(h.id)}
            onChange=${(e) => setForm({ ...form, hamlets: toggle(form.hamlets, h.id, e.target.checked) })} />
          <label for=${"b-h-" + h.id}>${h.properties.name}</label></div>`)}
      </fieldset>
      <fieldset>
        <legend>Argomenti (nessuna scelta: tutti)</legend>
        ${tenant.topics.map((t) => html`<div class="check">
          <input type="checkbox" id=${"b-t-" + t.id} checked=${form.topics.includes(t.id)}
            onChange=${(e) => setForm({ ...form, topics: toggle(form.topics, t.id, e.target.checked) })} />
          <label for=${"b-t-" + t.id}>${t.name}</label></div>`)}
      </fieldset>
      <fieldset>
        <legend>Priorità</legend>
        <div class="check"><input type="radio" id="b-normal" name="priority" value="normal" checked=${form.priority === "normal"} onChange=${set("priority")} />
          <label for="b-normal">Normale (rispetta la fascia silenziosa)</label></div>
        <div class="check"><input type="radio" id="b-alert" name="priority" value="alert" checked=${form.priority === "alert"} onChange=${set("priority")} />
          <label for="b-alert">Allerta (parte subito, anche di notte)</label></div>
      </fieldset>
      <fieldset>
        <legend>Quando</legend>
        <div class="check"><input type="radio" id="b-now" name="when" value="now" checked=${form.when === "now"} onChange=${set("when")} />
          <label for="b-now">Subito</label></div>
        <div class="check"><input type="radio" id="b-later" name="when" value="later" checked=${form.when === "later"} onChange=${set("when")} />
          <label for="b-later">Programma</label></div>
        ${form.when === "later" && html`<label for="b-send-at">Data e ora di invio</label>
          <input id="b-send-at" type="datetime-local" required value=${form.send_at} onInput=${set("send_at")} />`}
      </fieldset>
      ${error && html`<p class="error" role="alert">${error}</p>`}
      ${confirming ? html`<${Confirm} tenant=${tenant} form=${form} preview=${confirming} busy=${busy}
          onConfirm=${send} onBack=${() => setConfirming(null)} />`
        : html`<button type="submit" disabled=${busy}>${form.when === "later" ? "Programma l'invio" : "Invia ora"}</button>`}
    </form>
    <aside class="panel preflight" aria-labelledby="preflight-title">
      <h2 id="preflight-title">Destinatari e controlli</h2>
      <div aria-live="polite">
        ${problem && html`<p class="error">${problem}</p>`}
        ${preview && html`
          <p class="audience">Destinatari: <strong data-testid="audience-count">${preview.audience}</strong></p>
          <dl class="facts">
            <dt>Fuori dalla finestra di 24 ore</dt><dd>${preview.outside_window}${preview.template.needed ? ` (useranno il modello «${preview.template.name || "—"}»)` : ""}</dd>
            <dt>Durata stimata</dt><dd>${preview.estimated_seconds === null ? "—" : preview.estimated_seconds < 1 ? "meno di 1 s" : `${Math.ceil(preview.estimated_seconds)} s`}</dd>
            <dt>Partenza</dt><dd>${when(preview.due_at)}</dd>
            <dt>Limite giornaliero</dt><dd>${preview.messaging_limit}</dd>
          </dl>
          ${preview.warnings.length ? html`<ul class="warnings" aria-label="Avvertenze">${preview.warnings.map((w) => html`<li>${warning(w)}</li>`)}</ul>`
            : html`<p class="ok">Nessuna avvertenza.</p>`}
          <${Receives} groups=${preview.receives || []} />`}
      </div>
    </aside>
  </div>`;
}

// The last look before sending: how many, which hamlets and topics, when, with what.
function Confirm({ tenant, form, preview, busy, onConfirm, onBack }) {
  const ref = useRef(null);
  useEffect(() => { if (ref.current) ref.current.focus(); }, []);
  const where = form.hamlets.length ? "frazioni " + form.hamlets.map((id) => tenant.hamlets.features.find((h) => h.id === id)?.properties.name || id).join(", ") : "tutto il Comune";
  const topics = form.topics.length ? form.topics.map((id) => named(tenant.topics, id)).join(", ") : "tutti gli argomenti";
  const later = form.when === "later";
  return html`<div class="confirm" role="alertdialog" aria-modal="false" aria-labelledby="confirm-title" aria-describedby="confirm-what" tabindex="-1" ref=${ref}>
    <h3 id="confirm-title">${later ? "Confermi la programmazione?" : "Confermi l'invio?"}</h3>
    <p id="confirm-what" data-testid="confirm-audience">${`L'avviso${form.image_url ? " con immagine" : ""} andrà a `}<strong>${preview.audience} ${preview.audience === 1 ? "iscritto" : "iscritti"}</strong>${`: ${where}; ${topics}.`}
      ${later || new Date(preview.due_at) > new Date(Date.now() + 60_000) ? ` Partenza: ${when(preview.due_at)}.` : " Parte subito."}
      ${form.priority === "alert" ? " È un'allerta: parte anche nella fascia silenziosa." : ""}</p>
    ${preview.warnings.length > 0 && html`<ul class="warnings" aria-label="Avvertenze">${preview.warnings.map((w) => html`<li>${warning(w)}</li>`)}</ul>`}
    <div class="buttons">
      <button type="button" disabled=${busy || preview.audience === 0} onClick=${onConfirm}>${later ? "Conferma e programma" : "Conferma e invia"}</button>
      <button type="button" class="secondary" disabled=${busy} onClick=${onBack}>Torna a modificare</button>
    </div>
  </div>`;
}

// Who receives what, as the API's preview says: the same words a citizen's phone will show.
const GROUP = {
  everyone: (n) => `Tutti i destinatari (${n}) ricevono:`,
  inside_window: (n) => `Chi ha scritto al Comune nelle ultime 24 ore (${n}) riceve il testo completo:`,
  outside_window: (n) => `Gli altri, fuori dalla finestra di 24 ore (${n}), ricevono un modello approvato da WhatsApp:`,
};

function Receives({ groups }) {
  if (!groups.length) return null;
  return html`<section class="receives" aria-labelledby="receives-title">
    <h3 id="receives-title">Cosa riceve ciascuno</h3>
    ${groups.map((g) => html`<div class="receives-group" data-testid=${"receives-" + g.group}>
      <p>${GROUP[g.group](g.recipients)}</p>
      ${g.messages.length ? g.messages.map((m) => html`<${Shown} message=${m} />`)
        : html`<p class="error">Non possono riceverlo: il canale non ha un modello di avviso approvato.</p>`}
      ${g.after_tap.length > 0 && html`<p>Se toccano «${tapped(g.messages)}» ricevono, come risposta:</p>
        ${g.after_tap.map((m) => html`<${Shown} message=${m} />`)}`}
    </div>`)}
  </section>`;
}

function tapped(messages) {
  const buttons = messages.flatMap((m) => m.buttons || []);
  return buttons.length ? buttons[0] : "il pulsante del modello";
}

function Shown({ message }) {
  const text = message.text !== undefined && message.text !== null ? message.text
    : `Modello «${message.template}» con ${(message.parameters || []).map((p) => `«${p}»`).join(", ") || "nessun parametro"}`;
  return html`<div class="wa">
    ${message.image_url && html`<span class="wa-image">🖼 immagine: ${message.image_url}</span>`}${text}
    ${(message.buttons || []).map((b) => html`<span class="wa-button">${b}</span>`)}
  </div>`;
}

function Progress({ config, id, onUpdate }) {
  const [b, setB] = useState(null);
  const [error, setError] = useState("");
  const load = () => getBroadcast(id).then((x) => { setB(x); onUpdate(x); return x; }).catch((e) => setError(e.message));

  useEffect(() => {
    let stop = false;
    let timer;
    let after = 0; // polls since it finished: delivery and read statuses keep coming for a while
    const tick = async () => {
      const current = await load();
      const finished = current && FINISHED.includes(current.status);
      const settled = finished && current.counters.delivered + current.counters.failed >= current.counters.sent;
      if (finished) after += 1;
      if (!stop && !settled && after < SETTLE_POLLS) timer = setTimeout(tick, POLL_MS);
    };
    tick();
    return () => { stop = true; clearTimeout(timer); };
  }, [id]);

  const act = async (action) => {
    try {
      setB(await controlBroadcast(id, action));
    } catch (e) {
      setError(e.message);
    }
  };

  if (!b) return error ? html`<p class="error" role="alert">${error}</p>` : html`<p role="status">Caricamento…</p>`;
  const c = b.counters;
  const funnel = [["Destinatari", c.recipients], ["Inviati", c.sent], ["Consegnati", c.delivered], ["Letti", c.read], ["Non riusciti", c.failed], ["Saltati (disiscritti)", c.skipped]];
  const top = Math.max(1, c.recipients);
  return html`<section class="panel progress-panel" aria-labelledby="progress-title">
    <h2 id="progress-title">Avviso ${b.status === "completed" ? "inviato" : BROADCAST_STATUS[b.status].toLowerCase()}</h2>
    <p class="quote">${b.content.text || `Modello «${b.content.template && b.content.template.name}»`}</p>
    <p>Stato: <strong data-testid="broadcast-status">${BROADCAST_STATUS[b.status]}</strong>
      ${b.status === "scheduled" && html` · partirà ${when(b.due_at)}`}
      ${b.pause_reason && html` · motivo della pausa: <span data-testid="pause-reason" title=${b.pause_reason}>${pauseReason(b.pause_reason)}</span>`}</p>
    <div class="bar-wrap">
      <div class="bar" role="progressbar" aria-label="Avanzamento dell'invio" aria-valuemin="0" aria-valuemax="100" aria-valuenow=${b.progress}>
        <span style=${`width:${b.progress}%`}></span>
      </div>
      <span class="bar-value">${b.progress.toLocaleString("it-IT")}%</span>
    </div>
    <h3>Consegna</h3>
    <table class="funnel">
      <tbody>${funnel.map(([label, value]) => html`<tr>
        <th scope="row">${label}</th><td class="n">${value}</td>
        <td class="viz"><span style=${`width:${(100 * value) / top}%`}></span></td></tr>`)}</tbody>
    </table>
    ${Object.keys(c.failed_by_reason || {}).length > 0 && html`<p>Errori: ${Object.entries(c.failed_by_reason).map(([k, v]) => `${k}: ${v}`).join(", ")}</p>`}
    <div class="buttons">
      ${["scheduled", "sending"].includes(b.status) && html`<button type="button" class="secondary" onClick=${() => act("pause")}>Metti in pausa</button>`}
      ${b.status === "paused" && html`<button type="button" onClick=${() => act("resume")}>Riprendi</button>`}
      ${b.status === "draft" && html`<button type="button" onClick=${() => act("schedule")}>Programma</button>`}
      ${!FINISHED.includes(b.status) && html`<button type="button" class="danger" onClick=${() => act("cancel")}>Annulla</button>`}
      <a class="button secondary" href="#/avvisi">Nuovo avviso</a>
      ${config.sandbox_url && html`<a class="button secondary" href=${config.sandbox_url + "/"} target="_blank" rel="noopener">Apri il telefono di prova</a>`}
    </div>
    ${error && html`<p class="error" role="alert">${error}</p>`}
  </section>`;
}

function Recent({ tenant, current, latest }) {
  const [loaded, setItems] = useState([]);
  const items = loaded.map((b) => (latest && b.id === latest.id ? latest : b));
  useEffect(() => {
    const load = () => listBroadcasts({ limit: 10 }).then((p) => setItems(p.items)).catch(() => {});
    load();
    const timer = setInterval(load, 5000);
    return () => clearInterval(timer);
  }, [current]);
  return html`<section aria-labelledby="recent-title">
    <h2 id="recent-title">Avvisi recenti</h2>
    <${ExportButtons} what="broadcasts" label="Esporta tutti gli avvisi con i dati di consegna" />
    ${!items.length && html`<p>Nessun avviso ancora.</p>`}
    ${items.length > 0 && html`<table class="broadcasts">
      <thead><tr><th scope="col">Creato</th><th scope="col">Testo</th><th scope="col">Pubblico</th><th scope="col">Stato</th><th scope="col">Avanzamento</th><th scope="col">Consegnati</th></tr></thead>
      <tbody>${items.map((b) => html`<tr>
        <td><a href=${`#/avvisi/${encodeURIComponent(b.id)}`}>${when(b.created_at)}</a></td>
        <td class="text"><span class="excerpt" title=${b.content.text || ""}>${b.content.text || `Modello ${b.content.template && b.content.template.name}`}</span></td>
        <td>${audienceText(tenant, b.audience)}</td>
        <td>${BROADCAST_STATUS[b.status]}</td>
        ${b.status === "scheduled" ? html`<td colspan="2">Partirà ${when(b.due_at)}</td>`
          : b.status === "draft" ? html`<td colspan="2">Non programmato</td>`
          : html`<td>${b.progress}%</td><td>${b.counters.delivered} / ${b.counters.recipients}</td>`}</tr>`)}</tbody>
    </table>`}
  </section>`;
}
