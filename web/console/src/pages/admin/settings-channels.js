// The channels' settings: Orari (quiet and watched hours, urgent words, the on-call phone, limits) and Testi dei
// canali (the channel's own wording of each catalogue text, with a preview as the phone shows it). Not the WhatsApp
// templates: they have a page of their own.
import { useEffect, useState } from "preact/hooks";
import { html } from "@filo/shared/html";
import { getChannelSettings, saveChannelSettings } from "../../api.js";
import { CHANNEL_KIND } from "../../labels.js";
import { Field, FormErrors, SaveBar, errorFor, useSaving } from "./settings-form.js";

function ChannelPicker({ channels, channel, onChange, id }) {
  return html`<${Field} id=${id} kind="select" label="Canale" value=${channel} onChange=${onChange}
    options=${channels.map((c) => [c.phone_number_id, `${c.name} (${CHANNEL_KIND[c.kind] || c.kind})`])} />`;
}

// A channel's settings, loaded again after each save (its new version).
function useChannel(channels) {
  const [channel, setChannel] = useState(channels.length ? channels[0].phone_number_id : "");
  const [view, setView] = useState(null);
  const [error, setError] = useState("");
  const [notice, setNotice] = useState("");
  // a save answers with the channel's settings as now stored (a new version: the form starts again from them)
  const saved = (answer) => { setView(answer); setNotice("Impostazioni del canale salvate: valgono entro un minuto."); };
  useEffect(() => {
    if (!channel) return;
    setView(null);
    setNotice("");
    getChannelSettings(channel).then((v) => { setView(v); setError(""); }).catch((e) => setError(e.message));
  }, [channel]);
  return { channel, setChannel, view, saved, error, notice };
}

function ChannelSave({ view, setView, children, label, build }) {
  const [state, run] = useSaving();
  const shown = [];
  const err = (path) => { shown.push(path); return errorFor(state.errors, path); };
  const submit = async (event) => {
    event.preventDefault();
    const answer = await run(() => saveChannelSettings(view.channel.id, { version: view.version, settings: build() }));
    if (answer) setView(answer);
  };
  return html`<form class="settings-form" aria-label=${label} noValidate onSubmit=${submit}>
    <${FormErrors} message=${state.message} errors=${state.errors} shown=${shown} />
    ${children(err)}
    <${SaveBar} state=${state} />
  </form>`;
}

function HoursFields({ id, legend, hours, onChange, err, path }) {
  return html`<fieldset><legend>${legend}</legend>
    <${Field} id=${`${id}-enabled`} kind="checkbox" label="Attivo" value=${hours.enabled}
      onChange=${(enabled) => onChange({ ...hours, enabled })} />
    ${hours.enabled && html`
      <${Field} id=${`${id}-start`} kind="time" label="Dalle" value=${hours.start} error=${err(`${path}.start`)}
        onChange=${(start) => onChange({ ...hours, start: start || null })} />
      <${Field} id=${`${id}-end`} kind="time" label="Alle" value=${hours.end} error=${err(`${path}.end`)}
        onChange=${(end) => onChange({ ...hours, end: end || null })} />`}
    ${err(path) && html`<p class="field-error">${err(path)}</p>`}
  </fieldset>`;
}

export function HoursSection({ channels }) {
  const picked = useChannel(channels);
  const { view } = picked;
  return html`<p class="hint">Gli orari di ogni canale: sul canale avvisi le ore di quiete (gli avvisi normali aspettano, le allerte partono subito), sul canale sicurezza le ore presidiate (fuori orario la risposta indica il 112).</p>
    <${ChannelPicker} id="hours-channel" channels=${channels} channel=${picked.channel} onChange=${picked.setChannel} />
    ${picked.error && html`<p class="error" role="alert">${picked.error}</p>`}
    <p role="status" class="notice">${picked.notice}</p>
    ${view && html`<${HoursForm} key=${view.channel.id + view.version} view=${view} setView=${picked.saved} />`}`;
}

function HoursForm({ view, setView }) {
  const [values, setValues] = useState(view.settings);
  const kind = view.channel.kind;
  const set = (knob) => (value) => setValues({ ...values, [knob]: value });
  const build = () => Object.fromEntries(Object.entries(values).filter(([k]) => k !== "texts"));
  return html`<${ChannelSave} view=${view} setView=${setView} label="Orari del canale" build=${build}>
    ${(err) => html`
      ${kind === "broadcast" && html`
        <${HoursFields} id="quiet" legend="Ore di quiete" hours=${values.quiet_hours} onChange=${set("quiet_hours")}
          err=${err} path="settings.quiet_hours" />
        <${Field} id="messaging-limit" kind="number" label="Limite giornaliero di WhatsApp (persone fuori dalla finestra di 24 ore)"
          value=${values.messaging_limit} error=${err("settings.messaging_limit")} onChange=${set("messaging_limit")} />
        <${Field} id="reports-number" label="Numero del canale segnalazioni (citato nelle risposte automatiche)"
          value=${values.reports_number} error=${err("settings.reports_number")} onChange=${set("reports_number")} />`}
      ${kind === "safety" && html`
        <${HoursFields} id="watched" legend="Ore presidiate" hours=${values.watched_hours} onChange=${set("watched_hours")}
          err=${err} path="settings.watched_hours" />
        <${Field} id="urgent-keywords" kind="textarea" rows="2" label="Parole urgenti (separate da virgole)"
          value=${(values.urgent_keywords || []).join(", ")} error=${err("settings.urgent_keywords")}
          onChange=${(v) => setValues({ ...values, urgent_keywords: v.split(",").map((k) => k.trim()).filter(Boolean) })} />
        <${Field} id="on-call-phone" label="Telefono di reperibilità (WhatsApp, +39…; vuoto: nessuno)"
          value=${values.on_call_phone} error=${err("settings.on_call_phone")} onChange=${set("on_call_phone")} />
        <${Field} id="registered-only" kind="checkbox" label="Solo residenti registrati"
          value=${values.registered_only} error=${err("settings.registered_only")} onChange=${set("registered_only")} />`}
      ${(kind === "reports" || kind === "safety") && html`
        <${Field} id="draft-minutes" kind="number" label="Minuti in cui un nuovo messaggio si aggiunge alla stessa segnalazione"
          value=${values.draft_minutes} error=${err("settings.draft_minutes")} onChange=${set("draft_minutes")} />`}`}
  </${ChannelSave}>`;
}

// The text as the phone shows it: placeholders filled with examples, *bold* in bold.
export function fill(text, examples) {
  return text.replace(/\{\{|\}\}|\{(\w+)\}/g, (all, name) => {
    if (all === "{{") return "{";
    if (all === "}}") return "}";
    return examples[name] ?? "";
  });
}

function Bubble({ text }) {
  const parts = text.split(/(\*[^*\n]+\*)/g);
  return html`<div class="wa">${parts.map((p) => (/^\*[^*\n]+\*$/.test(p) ? html`<strong>${p.slice(1, -1)}</strong>` : p))}</div>`;
}

export function TextsSection({ channels }) {
  const picked = useChannel(channels);
  const { view } = picked;
  return html`<p class="hint">I messaggi che il canale invia ai cittadini. Un testo lasciato vuoto usa quello predefinito. I segnaposto tra graffe, per esempio {comune}, sono riempiti al momento dell'invio: l'anteprima li mostra con valori di esempio.</p>
    <${ChannelPicker} id="texts-channel" channels=${channels} channel=${picked.channel} onChange=${picked.setChannel} />
    ${picked.error && html`<p class="error" role="alert">${picked.error}</p>`}
    <p role="status" class="notice">${picked.notice}</p>
    ${view && html`<${TextsForm} key=${view.channel.id + view.version} view=${view} setView=${picked.saved} />`}`;
}

function TextsForm({ view, setView }) {
  const [overrides, setOverrides] = useState(Object.fromEntries(view.texts.map((t) => [t.key, t.override || ""])));
  const [filter, setFilter] = useState("");
  const [open, setOpen] = useState(null);
  const wanted = filter.trim().toLowerCase();
  const texts = view.texts.filter((t) => !wanted || t.key.includes(wanted) || t.default.toLowerCase().includes(wanted)
    || (overrides[t.key] || "").toLowerCase().includes(wanted));
  const build = () => ({ texts: Object.fromEntries(Object.entries(overrides).filter(([, v]) => v.trim())) });
  return html`<${Field} id="texts-filter" kind="search" label="Cerca un testo" value=${filter} onChange=${setFilter} />
    <${ChannelSave} view=${view} setView=${setView} label="Testi del canale" build=${build}>
    ${(err) => html`<ul class="texts">${texts.map((t) => {
      const id = `text-${t.key.replace(/\W/g, "-")}`;
      const current = overrides[t.key] || "";
      const error = err(`settings.texts.${t.key}`);
      const expanded = open === t.key || Boolean(error) || Boolean(current);
      return html`<li class="text-item">
        <div class="text-head">
          <span class="text-key">${t.key}</span>${current && html` <span class="badge">Personalizzato</span>`}
          <button type="button" class="secondary small" aria-expanded=${expanded ? "true" : "false"} aria-controls=${id + "-box"}
            onClick=${() => setOpen(open === t.key ? null : t.key)}>${expanded ? "Chiudi" : "Modifica"}</button>
        </div>
        ${!expanded && html`<p class="text-default">${t.default}</p>`}
        ${expanded && html`<div id=${id + "-box"} class="text-edit">
          <p class="hint">Predefinito: ${t.default}</p>
          <${Field} id=${id} kind="textarea" rows="4" label=${`Testo del canale per ${t.key}`} value=${current}
            placeholder=${t.default} maxlength=${t.limit || 4096} error=${error}
            hint=${`${t.limit ? `Al massimo ${t.limit} caratteri (pulsante o elenco WhatsApp). ` : ""}Segnaposto: ${t.placeholders.length ? t.placeholders.map((p) => `{${p}}`).join(" ") : "nessuno"}.`}
            onChange=${(v) => setOverrides({ ...overrides, [t.key]: v })} />
          <p class="counter" aria-live="polite">${current.length}${t.limit ? ` / ${t.limit}` : ""} caratteri</p>
          <p class="preview-label">Anteprima sul telefono</p>
          <${Bubble} text=${fill(current || t.default, view.examples)} />
        </div>`}
      </li>`;
    })}</ul>`}
  </${ChannelSave}>`;
}
