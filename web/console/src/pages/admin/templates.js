// Modelli WhatsApp (issue 15): a channel's message templates as WhatsApp holds them (status, category, language and
// the text as the phone shows it, why one was rejected or re-categorised), a form that creates one and submits it to
// WhatsApp's review with a live preview and the same limits WhatsApp checks, and which template serves each purpose.
import { useEffect, useRef, useState } from "preact/hooks";
import { html } from "@filo/shared/html";
import { chooseTemplate, createTemplate, listTemplates, refreshTemplates } from "../../api.js";
import {
  CHANNEL_KIND, TEMPLATE_PURPOSE, TEMPLATE_STATUS, recategorised, rejectionReason, templateCategory, when,
} from "../../labels.js";

// WhatsApp's limits for a template (the API and the sandbox check the same)
const LIMITS = { name: 512, header: 60, body: 1024, footer: 60, button: 25, buttons: 10, example: 200 };
const PLACEHOLDER = /\{\{\s*(\d+)\s*\}\}/g;
const EMPTY = { name: "", language: "it", category: "UTILITY", header: "", body: "", examples: [], footer: "", buttons: "" };

function parameterCount(body) {
  return [...body.matchAll(PLACEHOLDER)].length;
}

function fill(text, values) {
  return text.replace(PLACEHOLDER, (whole, n) => values[Number(n) - 1] || whole);
}

function buttonList(text) {
  return text.split("\n").map((b) => b.trim()).filter(Boolean);
}

// The form's problems, as WhatsApp would refuse them: field -> Italian message.
export function problems(form) {
  const found = {};
  if (!/^[a-z0-9_]{1,512}$/.test(form.name)) found.name = "Solo lettere minuscole, cifre e trattini bassi (es. avviso_lavori).";
  if (!/^[a-z]{2,3}(_[A-Z]{2})?$/.test(form.language)) found.language = "Una lingua come it o en_US.";
  if (form.header.length > LIMITS.header || /\{\{|\n/.test(form.header)) found.header = `Al massimo ${LIMITS.header} caratteri, su una riga, senza parametri.`;
  const body = form.body;
  const numbers = [...body.matchAll(PLACEHOLDER)].map((m) => Number(m[1]));
  const trimmed = body.trim();
  if (!trimmed) found.body = "Scrivi il testo del modello.";
  else if (body.length > LIMITS.body) found.body = `Al massimo ${LIMITS.body} caratteri.`;
  else if ([...numbers].sort((a, b) => a - b).some((n, i) => n !== i + 1)) found.body = "I parametri vanno numerati {{1}}, {{2}}… in ordine, ciascuno una volta.";
  else if (/^\{\{\s*\d+\s*\}\}/.test(trimmed) || /\{\{\s*\d+\s*\}\}$/.test(trimmed)) found.body = "Il testo non può iniziare o finire con un parametro.";
  const examples = form.examples.slice(0, numbers.length);
  if (numbers.length && (examples.length < numbers.length || examples.some((e) => !e.trim() || /[\n\t]| {5,}/.test(e) || e.length > LIMITS.example)))
    found.examples = "Scrivi un esempio per ogni parametro, su una riga.";
  if (form.footer.length > LIMITS.footer || /\{\{|\n/.test(form.footer)) found.footer = `Al massimo ${LIMITS.footer} caratteri, su una riga, senza parametri.`;
  const buttons = buttonList(form.buttons);
  if (buttons.length > LIMITS.buttons) found.buttons = `Al massimo ${LIMITS.buttons} pulsanti.`;
  else if (buttons.some((b) => b.length > LIMITS.button)) found.buttons = `Ogni pulsante ha al massimo ${LIMITS.button} caratteri.`;
  else if (new Set(buttons).size !== buttons.length) found.buttons = "I pulsanti devono essere diversi tra loro.";
  return found;
}

// A template as the citizen's phone shows it: header in bold, body, footer in grey, quick replies as taps.
export function Phone({ header, body, footer, buttons }) {
  return html`<div class="wa" data-testid="template-phone">
    ${header && html`<strong class="wa-header">${header}</strong>`}${header ? "\n" : ""}${body}
    ${footer && html`<span class="wa-footer">${footer}</span>`}
    ${(buttons || []).map((b) => html`<span class="wa-button">${b}</span>`)}
  </div>`;
}

export function TemplatesPage({ channels }) {
  const [channel, setChannel] = useState(channels.length ? channels[0].phone_number_id : "");
  const [data, setData] = useState(null);
  const [error, setError] = useState("");
  const [notice, setNotice] = useState("");
  const [busy, setBusy] = useState(false);

  useEffect(() => { if (!channel && channels.length) setChannel(channels[0].phone_number_id); }, [channels.length]);

  // Opening the page asks WhatsApp (the poll); the webhooks keep the list current meanwhile.
  const load = async (fromWhatsApp) => {
    if (!channel) return;
    setBusy(true);
    setError("");
    try {
      setData(fromWhatsApp ? await refreshTemplates(channel) : await listTemplates(channel));
      if (fromWhatsApp === "button") setNotice("Elenco aggiornato da WhatsApp.");
    } catch (e) {
      setError(e.message);
      if (fromWhatsApp) listTemplates(channel).then(setData).catch(() => {});
    } finally {
      setBusy(false);
    }
  };
  useEffect(() => { setData(null); setNotice(""); load(true); }, [channel]);

  const choose = async (purpose, template) => {
    setError(""); setNotice("");
    try {
      setData(await chooseTemplate(channel, purpose, { name: template.name, language: template.language }));
      setNotice(`Il modello «${template.name}» ora serve per: ${TEMPLATE_PURPOSE[purpose] || purpose}.`);
    } catch (e) {
      setError(e.message);
    }
  };

  if (!channels.length) return html`<h1 tabindex="-1">Modelli WhatsApp</h1><p>Nessun canale visibile con il tuo ruolo.</p>`;
  const current = channels.find((c) => c.phone_number_id === channel) || {};
  return html`
    <h1 tabindex="-1">Modelli WhatsApp</h1>
    <p>Fuori dalla finestra di 24 ore WhatsApp consegna solo modelli approvati. Qui vedi quelli del canale come li mostra WhatsApp, ne crei di nuovi (vanno in revisione) e scegli quale usare per ciascun invio automatico.</p>
    <div class="filters">
      <div><label for="t-channel">Canale</label>
        <select id="t-channel" value=${channel} onChange=${(e) => setChannel(e.target.value)}>
          ${channels.map((c) => html`<option value=${c.phone_number_id}>${c.name} (${CHANNEL_KIND[c.kind] || c.kind})</option>`)}
        </select></div>
      <button type="button" class="secondary" disabled=${busy} onClick=${() => load("button")}>Aggiorna da WhatsApp</button>
    </div>
    <div aria-live="polite">
      ${error && html`<p class="error" role="alert">${error}</p>`}
      ${notice && html`<p class="done">${notice}</p>`}
    </div>
    <section class="panel" aria-labelledby="t-list-title">
      <h2 id="t-list-title">Modelli del canale ${current.name || ""}</h2>
      ${data === null ? html`<p>Caricamento…</p>` : data.items.length === 0 ? html`<p>Nessun modello: creane uno qui sotto.</p>`
        : html`<ul class="templates">${data.items.map((t) => html`<${TemplateItem} key=${t.id} template=${t} onChoose=${choose} />`)}</ul>`}
    </section>
    <${CreateForm} channel=${channel} onCreated=${(created) => {
      setNotice(`Modello «${created.name}» inviato a WhatsApp: è in revisione. Lo stato si aggiorna da solo quando WhatsApp risponde.`);
      load(false);
    }} />`;
}

function TemplateItem({ template: t, onChoose }) {
  const titleId = `t-${t.id}-title`;
  const choosable = Object.entries(t.fits || {}).filter(([purpose, fits]) => fits && !t.serves.includes(purpose));
  return html`<li class="template" aria-labelledby=${titleId} data-testid=${"template-" + t.name}>
    <h3 id=${titleId}>${t.name} <span class=${"badge t-" + t.status}>${TEMPLATE_STATUS[t.status] || t.status}</span></h3>
    <p class="tag">Categoria: ${templateCategory(t.category)} · Lingua: ${t.language}${t.updated_at ? ` · Aggiornato: ${when(t.updated_at)}` : ""}</p>
    ${t.status === "REJECTED" && html`<p class="error" data-testid="rejected-reason">Rifiutato da WhatsApp: ${rejectionReason(t.rejected_reason)}.</p>`}
    ${t.previous_category && html`<p class="warnings" data-testid="recategorised">${recategorised(t.name, t.previous_category, t.category)}</p>`}
    <${Phone} header=${t.header} body=${t.body} footer=${t.footer} buttons=${t.buttons} />
    ${t.serves.length > 0 && html`<p>Usato per: ${t.serves.map((p) => TEMPLATE_PURPOSE[p] || p).join(", ")}.</p>`}
    ${choosable.length > 0 && html`<div class="buttons">${choosable.map(([purpose]) => html`
      <button type="button" class="secondary" onClick=${() => onChoose(purpose, t)}>Usa per: ${TEMPLATE_PURPOSE[purpose] || purpose}</button>`)}</div>`}
  </li>`;
}

function CreateForm({ channel, onCreated }) {
  const [form, setForm] = useState(EMPTY);
  const [shown, setShown] = useState({}); // the problems shown after a first attempt
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  const first = useRef(null);
  const count = parameterCount(form.body);
  const buttons = buttonList(form.buttons);
  const set = (name) => (e) => setForm({ ...form, [name]: e.target.value });
  const setExample = (i) => (e) => {
    const examples = [...form.examples];
    examples[i] = e.target.value;
    setForm({ ...form, examples });
  };
  const live = Object.keys(shown).length ? problems(form) : {};

  const submit = async (event) => {
    event.preventDefault();
    setError("");
    const found = problems(form);
    setShown(found);
    if (Object.keys(found).length) {
      const field = event.target.querySelector(`[name="${Object.keys(found)[0]}"]`);
      if (field) field.focus();
      return;
    }
    setBusy(true);
    try {
      const body = { name: form.name, language: form.language, category: form.category, body: form.body,
        examples: form.examples.slice(0, count).map((e) => e.trim()), buttons };
      if (form.header.trim()) body.header = form.header.trim();
      if (form.footer.trim()) body.footer = form.footer.trim();
      const created = await createTemplate(channel, body);
      setForm(EMPTY);
      setShown({});
      onCreated(created);
      if (first.current) first.current.focus();
    } catch (e) {
      setError(e.message);
    } finally {
      setBusy(false);
    }
  };
  const field = (name) => ({ name, "aria-invalid": live[name] ? "true" : undefined, "aria-describedby": `tf-${name}-help` });
  const help = (name, text) => html`<small id=${`tf-${name}-help`} class=${live[name] ? "error" : ""}>${live[name] || text}</small>`;

  return html`<section class="panel" aria-labelledby="t-new-title">
    <h2 id="t-new-title">Nuovo modello</h2>
    <div class="composer">
      <form onSubmit=${submit} novalidate>
        <label for="tf-name">Nome</label>
        <input id="tf-name" ref=${first} ...${field("name")} value=${form.name} onInput=${set("name")} maxlength=${LIMITS.name} autocomplete="off" />
        ${help("name", "Lettere minuscole, cifre e trattini bassi, es. avviso_lavori.")}
        <label for="tf-language">Lingua</label>
        <input id="tf-language" ...${field("language")} value=${form.language} onInput=${set("language")} maxlength="15" />
        ${help("language", "Codice della lingua, es. it.")}
        <label for="tf-category">Categoria</label>
        <select id="tf-category" name="category" value=${form.category} onChange=${set("category")} aria-describedby="tf-category-help">
          <option value="UTILITY">Di servizio (avvisi, aggiornamenti)</option>
          <option value="MARKETING">Marketing</option>
        </select>
        <small id="tf-category-help">Gli avvisi del Comune sono «di servizio»: WhatsApp può spostare in «Marketing» un testo promozionale, che costa di più.</small>
        <label for="tf-header">Intestazione (facoltativa)</label>
        <input id="tf-header" ...${field("header")} value=${form.header} onInput=${set("header")} />
        ${help("header", `${form.header.length} / ${LIMITS.header} caratteri.`)}
        <label for="tf-body">Testo</label>
        <textarea id="tf-body" rows="5" ...${field("body")} value=${form.body} onInput=${set("body")}></textarea>
        ${help("body", `${form.body.length} / ${LIMITS.body} caratteri. Parametri: {{1}}, {{2}}… (per un avviso, {{1}} è il titolo).`)}
        ${count > 0 && html`<fieldset>
          <legend>Esempi dei parametri (li vede solo chi revisiona)</legend>
          ${Array.from({ length: count }, (_, i) => html`<label for=${`tf-example-${i}`}>Esempio per {{${i + 1}}}</label>
            <input id=${`tf-example-${i}`} name=${i === 0 ? "examples" : undefined} value=${form.examples[i] || ""} onInput=${setExample(i)}
              maxlength=${LIMITS.example} aria-invalid=${live.examples ? "true" : undefined} aria-describedby="tf-examples-help" />`)}
          ${help("examples", "WhatsApp chiede un esempio per ogni parametro.")}
        </fieldset>`}
        <label for="tf-footer">Piè di pagina (facoltativo)</label>
        <input id="tf-footer" ...${field("footer")} value=${form.footer} onInput=${set("footer")} />
        ${help("footer", `${form.footer.length} / ${LIMITS.footer} caratteri.`)}
        <label for="tf-buttons">Pulsanti di risposta rapida (uno per riga, facoltativi)</label>
        <textarea id="tf-buttons" rows="3" ...${field("buttons")} value=${form.buttons} onInput=${set("buttons")}></textarea>
        ${help("buttons", `${buttons.length} / ${LIMITS.buttons} pulsanti, ognuno al massimo ${LIMITS.button} caratteri. Per un avviso: «Leggi l'avviso».`)}
        ${error && html`<p class="error" role="alert">${error}</p>`}
        ${Object.keys(shown).length > 0 && Object.keys(live).length > 0 && html`<p class="error" role="alert">Correggi i campi indicati prima di inviare.</p>`}
        <button type="submit" disabled=${busy || !channel}>Invia a WhatsApp per la revisione</button>
      </form>
      <aside aria-labelledby="t-preview-title">
        <h3 id="t-preview-title">Anteprima sul telefono</h3>
        <${Phone} header=${form.header} body=${fill(form.body, form.examples) || "Il testo del modello apparirà qui."} footer=${form.footer} buttons=${buttons} />
      </aside>
    </div>
  </section>`;
}
