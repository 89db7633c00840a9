// What the Impostazioni forms share: a labelled field with its error next to it, a list of items with add and
// remove, and the saving of a section over the version read, with the API's Italian refusals placed by field.
import { useState } from "preact/hooks";
import { html } from "@filo/shared/html";

// The field's error: the refusal naming that path exactly (the API's details[].field, e.g. "topics.0.name").
export function errorFor(errors, path) {
  const found = (errors || []).find((e) => e.field === path);
  return found ? found.text : "";
}

// Refusals no field on the form shows (a whole list, a rule across items): listed above the form.
export function FormErrors({ message, errors, shown }) {
  const loose = (errors || []).filter((e) => !shown.includes(e.field)).map((e) => e.text);
  if (!message && !loose.length) return null;
  return html`<div class="error" role="alert">
    <p>${message || "Impostazioni non salvate: correggi i campi indicati."}</p>
    ${loose.length > 0 && html`<ul>${[...new Set(loose)].map((t) => html`<li>${t}</li>`)}</ul>`}
  </div>`;
}

// One input with its label, hint and error; kind: text, email, number, url, time, date, checkbox, textarea, select.
export function Field({ id, label, value, onChange, error, hint, kind = "text", options, ...rest }) {
  const described = [hint && `${id}-hint`, error && `${id}-error`].filter(Boolean).join(" ") || undefined;
  const common = { id, "aria-describedby": described, "aria-invalid": error ? "true" : undefined, ...rest };
  let input;
  if (kind === "checkbox") {
    return html`<div class="check field">
      <input type="checkbox" ...${common} checked=${Boolean(value)} onChange=${(e) => onChange(e.target.checked)} />
      <label for=${id}>${label}</label>
      ${error && html`<p class="field-error" id=${`${id}-error`}>${error}</p>`}
    </div>`;
  }
  if (kind === "textarea") {
    input = html`<textarea ...${common} value=${value ?? ""} onInput=${(e) => onChange(e.target.value)}></textarea>`;
  } else if (kind === "select") {
    input = html`<select ...${common} value=${value ?? ""} onChange=${(e) => onChange(e.target.value)}>
      ${options.map(([v, text]) => html`<option value=${v}>${text}</option>`)}
    </select>`;
  } else {
    input = html`<input type=${kind} ...${common} value=${value ?? ""}
      onInput=${(e) => onChange(kind === "number" ? numberOrText(e.target.value) : e.target.value)} />`;
  }
  return html`<div class="field">
    <label for=${id}>${label}</label>
    ${hint && html`<p class="hint" id=${`${id}-hint`}>${hint}</p>`}
    ${input}
    ${error && html`<p class="field-error" id=${`${id}-error`}>${error}</p>`}
  </div>`;
}

// A typed number as a number (so that the API's bounds apply), anything else as typed (the API names it).
function numberOrText(text) {
  const trimmed = text.trim();
  if (trimmed === "") return null;
  const number = Number(trimmed.replace(",", "."));
  return Number.isFinite(number) ? number : trimmed;
}

// "San Martino in Colle" -> "san-martino-in-colle": a new item's code from its name, as the API does for files.
export function slug(name) {
  return (name || "").normalize("NFKD").replace(/[\u0300-\u036f]/g, "").toLowerCase()
    .replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 64);
}

// Saving: busy, the refusals by field, the outcome (role=status), and the call itself.
export function useSaving() {
  const [state, setState] = useState({ busy: false, message: "", errors: [], done: "" });
  const run = async (save, doneText = "Impostazioni salvate.") => {
    setState({ busy: true, message: "", errors: [], done: "" });
    try {
      const answer = await save();
      setState({ busy: false, message: "", errors: [], done: doneText });
      return answer;
    } catch (error) {
      const errors = error.status === 422 ? error.details.filter((d) => d.text) : [];
      setState({ busy: false, message: error.message, errors, done: "" });
      return null;
    }
  };
  return [state, run];
}

export function SaveBar({ state, label = "Salva" }) {
  return html`<div class="buttons">
    <button type="submit" disabled=${state.busy}>${state.busy ? "Salvataggio…" : label}</button>
    <span role="status">${state.done}</span>
  </div>`;
}

// A list of items (topics, teams, bodies, categories): each a fieldset of fields, removable; one more added.
export function ItemList({ items, legend, onChange, blank, render, addLabel }) {
  const set = (index, item) => onChange(items.map((old, i) => (i === index ? item : old)));
  return html`<div class="item-list">
    ${items.map((item, index) => html`<fieldset class="item">
      <legend>${legend(item, index)}</legend>
      ${render(item, index, (changed) => set(index, { ...item, ...changed }))}
      <button type="button" class="secondary small" onClick=${() => onChange(items.filter((_, i) => i !== index))}
        aria-label=${`Rimuovi ${legend(item, index)}`}>Rimuovi</button>
    </fieldset>`)}
    <button type="button" class="secondary" onClick=${() => onChange([...items, blank()])}>${addLabel}</button>
  </div>`;
}
