// Impostazioni > Agenda (issue 17): the appointments' catalogue (offices with counters, hours and closures; services
// with duration, what to bring, counters, booking mode per weekday, notice and horizon) and the rules of reminders,
// no-shows, retention and links. Offices and services are edited as JSON, the format docs/agenda.md explains with the
// demo's police office; the API checks every field and answers each refusal in Italian, placed here.
import { useState } from "preact/hooks";
import { html } from "@filo/shared/html";
import { Field, FormErrors, SaveBar, errorFor, useSaving } from "./settings-form.js";

const RULES = [
  ["reminder_hours", "Ore prima dell'appuntamento in cui parte il promemoria"],
  ["no_show_limit", "Assenze dopo le quali il promemoria chiede una conferma esplicita"],
  ["release_hours", "Ore prima in cui si libera un appuntamento non confermato"],
  ["retention_days", "Giorni di conservazione di una prenotazione dopo l'appuntamento"],
  ["link_days", "Giorni dopo l'appuntamento in cui il link del cittadino si apre ancora"],
];

const pretty = (value) => JSON.stringify(value || [], null, 2);

// The text of a JSON box as a list, or the Italian reason it is not one.
function parsed(text, what) {
  try {
    const value = JSON.parse(text || "[]");
    if (!Array.isArray(value)) return { error: `${what}: serve un elenco tra parentesi quadre [ … ].` };
    return { value };
  } catch {
    return { error: `${what}: il testo non è JSON valido. Controlla virgole, virgolette e parentesi.` };
  }
}

export function AgendaSection({ data, save, saved }) {
  const agenda = data.sections.agenda || {};
  const [offices, setOffices] = useState(pretty(agenda.offices));
  const [services, setServices] = useState(pretty(agenda.services));
  const [rules, setRules] = useState(Object.fromEntries(RULES.map(([k]) => [k, agenda[k]])));
  const [local, setLocal] = useState({});
  const [state, run] = useSaving();
  const knobs = (data.knobs && data.knobs.agenda) || {};
  const shown = [];
  const err = (path) => { shown.push(path); return errorFor(state.errors, path); };
  const under = (prefix) => state.errors.filter((e) => e.field === prefix || e.field.startsWith(prefix + "."))
    .map((e) => { shown.push(e.field); return e.text; });

  const submit = async (event) => {
    event.preventDefault();
    const o = parsed(offices, "Uffici");
    const s = parsed(services, "Servizi");
    setLocal({ offices: o.error, services: s.error });
    if (o.error || s.error) return;
    const answer = await run(() => save("agenda", { ...agenda, ...rules, offices: o.value, services: s.value }));
    if (answer) saved(answer);
  };
  const officeErrors = [local.offices, ...under("agenda.offices")].filter(Boolean);
  const serviceErrors = [local.services, ...under("agenda.services")].filter(Boolean);
  const bounds = (k) => (knobs[k] ? `Da ${knobs[k].minimum} a ${knobs[k].maximum}.` : "");

  return html`<p class="hint">Gli uffici che ricevono su appuntamento e i servizi prenotabili su WhatsApp (PRENOTA) e dal
      portale (Prenota un appuntamento). Il formato, con l'esempio del Comando di Polizia Locale, è spiegato in
      docs/agenda.md. Ogni servizio ha un codice (<code>id</code>): il sito del Comune lo usa nel link
      <code>?servizio=</code> dalla pagina del servizio.</p>
    <form class="settings-form" aria-label="Agenda" noValidate onSubmit=${submit}>
      <${FormErrors} message=${state.message} errors=${state.errors} shown=${shown} />
      <fieldset><legend>Regole</legend>
        ${RULES.map(([k, label]) => html`<${Field} id=${`agenda-${k}`} kind="number" label=${label} value=${rules[k]}
          hint=${bounds(k)} error=${err(`agenda.${k}`)}
          onChange=${(v) => setRules({ ...rules, [k]: v === "" ? null : Number(v) })} />`)}
      </fieldset>
      <div class=${"field" + (officeErrors.length ? " invalid" : "")}>
        <label for="agenda-offices">Uffici (JSON: id, name, address, counters, hours, closures, slot_minutes, capacity)</label>
        <textarea id="agenda-offices" class="code" rows="14" spellcheck="false" value=${offices}
          aria-invalid=${officeErrors.length ? "true" : undefined} aria-describedby=${officeErrors.length ? "agenda-offices-error" : undefined}
          onInput=${(e) => setOffices(e.target.value)}></textarea>
        ${officeErrors.length > 0 && html`<ul class="error" id="agenda-offices-error">${officeErrors.map((t) => html`<li>${t}</li>`)}</ul>`}
      </div>
      <div class=${"field" + (serviceErrors.length ? " invalid" : "")}>
        <label for="agenda-services">Servizi (JSON: id, name, office, duration_minutes, bring, counters, modes, min_notice_days, horizon_days)</label>
        <textarea id="agenda-services" class="code" rows="18" spellcheck="false" value=${services}
          aria-invalid=${serviceErrors.length ? "true" : undefined} aria-describedby=${serviceErrors.length ? "agenda-services-error" : undefined}
          onInput=${(e) => setServices(e.target.value)}></textarea>
        ${serviceErrors.length > 0 && html`<ul class="error" id="agenda-services-error">${serviceErrors.map((t) => html`<li>${t}</li>`)}</ul>`}
      </div>
      <${SaveBar} state=${state} />
    </form>`;
}
