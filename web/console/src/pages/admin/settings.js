// Impostazioni (#/amministrazione/impostazioni/<sezione>): the comune's settings, one section at a time: hamlets
// (map, GeoJSON file, drawing), topics, categories and target times, teams, external bodies, the channels' hours,
// the calendar, retention and limits, the privacy notice, the channels' texts. Each save is checked by the API
// (refusals by field, in Italian) over the version read, audited, and in effect within a minute.
import { useEffect, useState } from "preact/hooks";
import { html } from "@filo/shared/html";
import { getSettings, saveSettings } from "../../api.js";
import { Field, FormErrors, ItemList, SaveBar, errorFor, slug, useSaving } from "./settings-form.js";
import { HamletsSection } from "./settings-hamlets.js";
import { HoursSection, TextsSection } from "./settings-channels.js";
import { AgendaSection } from "./settings-agenda.js";

const SECTIONS = [
  { path: "frazioni", label: "Frazioni", Section: HamletsSection },
  { path: "argomenti", label: "Argomenti", Section: TopicsSection },
  { path: "categorie", label: "Categorie e tempi", Section: CategoriesSection },
  { path: "squadre", label: "Squadre", Section: TeamsSection },
  { path: "enti", label: "Enti esterni", Section: BodiesSection },
  { path: "orari", label: "Orari", Section: HoursSection },
  { path: "calendario", label: "Calendario", Section: CalendarSection },
  { path: "conservazione", label: "Conservazione e limiti", Section: RetentionSection },
  { path: "privacy", label: "Informativa privacy", Section: PrivacySection },
  { path: "testi", label: "Testi dei canali", Section: TextsSection },
  { path: "agenda", label: "Agenda", Section: AgendaSection }, // appointments' catalogue (issue 17)
];

export function SettingsPage(props) {
  const { rest = [], reloadTenant } = props;
  const [data, setData] = useState(null);
  const [error, setError] = useState("");
  const [notice, setNotice] = useState("");
  const current = SECTIONS.find((s) => s.path === rest[0]) || SECTIONS[0];
  useEffect(() => setNotice(""), [current.path]);

  const load = () => getSettings().then((d) => { setData(d); setError(""); }).catch((e) => setError(e.message));
  useEffect(() => { load(); }, []);

  // a section saved: the new version and sections; the rest of the console reads the comune's set-up again
  const saved = (answer) => {
    setData({ ...data, version: answer.version, sections: answer.sections });
    setNotice(`${current.label}: impostazioni salvate. Valgono da subito qui e entro un minuto ovunque.`);
    if (reloadTenant) reloadTenant();
  };
  const save = (section, value) => saveSettings(section, { version: data.version, value });

  return html`
    <h1 tabindex="-1">Impostazioni</h1>
    <nav class="settings-nav" aria-label="Sezioni delle impostazioni">
      <ul>${SECTIONS.map((s) => html`<li><a href=${"#/amministrazione/impostazioni/" + s.path}
        aria-current=${s === current ? "page" : undefined}>${s.label}</a></li>`)}</ul>
    </nav>
    ${error && html`<p class="error" role="alert">${error}</p>`}
    <p role="status" class="notice">${notice}</p>
    ${!data && !error && html`<p role="status">Caricamento…</p>`}
    ${data && html`<section class="settings-section" aria-labelledby="settings-heading">
      <h2 id="settings-heading">${current.label}</h2>
      <${current.Section} ...${props} key=${current.path + data.version} data=${data} save=${save} saved=${saved}
        reload=${load} />
    </section>`}`;
}

// A form that saves one section: the draft, the refusals placed by field, the outcome.
function SectionForm({ label, onSubmit, state, shown, children }) {
  return html`<form class="settings-form" aria-label=${label} noValidate onSubmit=${(e) => { e.preventDefault(); onSubmit(); }}>
    <${FormErrors} message=${state.message} errors=${state.errors} shown=${shown} />
    ${children}
    <${SaveBar} state=${state} />
  </form>`;
}

function useSection(data, save, saved, section) {
  const [state, run] = useSaving();
  const submit = async (value) => {
    const answer = await run(() => save(section, value));
    if (answer) saved(answer);
  };
  return [state, submit];
}

const NAME_HINT = "WhatsApp mostra negli elenchi al massimo 24 caratteri: per un nome più lungo indica un nome breve.";

function TopicsSection({ data, save, saved }) {
  const [topics, setTopics] = useState(data.sections.topics);
  const [state, submit] = useSection(data, save, saved, "topics");
  const shown = [];
  const err = (path) => { shown.push(path); return errorFor(state.errors, path); };
  return html`<p class="hint">Gli argomenti che gli iscritti possono scegliere (allerte, eventi…).</p>
    <${SectionForm} label="Argomenti" state=${state} shown=${shown} onSubmit=${() => submit(topics)}>
      <${ItemList} items=${topics} onChange=${setTopics} addLabel="Aggiungi un argomento"
        legend=${(t, i) => t.name || `Argomento ${i + 1}`} blank=${() => ({ id: "", name: "", short_name: null })}
        render=${(t, i, set) => html`
          <${Field} id=${`topic-${i}-name`} label="Nome" value=${t.name} error=${err(`topics.${i}.name`) || err(`topics.${i}`)}
            onChange=${(name) => set({ name, id: t.id && t.id !== slug(t.name) ? t.id : slug(name) })} />
          <${Field} id=${`topic-${i}-short`} label="Nome breve (facoltativo)" hint=${NAME_HINT} value=${t.short_name}
            error=${err(`topics.${i}.short_name`)} onChange=${(v) => set({ short_name: v || null })} />
          <${Field} id=${`topic-${i}-id`} label="Codice" value=${t.id} error=${err(`topics.${i}.id`)}
            onChange=${(id) => set({ id })} />`} />
    </${SectionForm}>`;
}

const STEPS = [["triaged", "Presa in carico"], ["in_progress", "Avvio lavori"], ["resolved", "Chiusura"]];

function CategoriesSection({ data, save, saved }) {
  const reports = data.sections.reports;
  const [categories, setCategories] = useState(reports.categories);
  const [targets, setTargets] = useState(reports.targets);
  const [state, submit] = useSection(data, save, saved, "reports");
  const shown = [];
  const err = (path) => { shown.push(path); return errorFor(state.errors, path); };
  const teams = [["", "Nessuna"], ...reports.teams.map((t) => [t.id, t.name])];
  const bodies = [["", "Nessuno"], ...reports.external_bodies.map((b) => [b.id, b.name])];
  const days = (steps, step) => (steps && steps[step] != null ? steps[step] : "");
  const setDefault = (step, value) => setTargets({ ...targets, default: withStep(targets.default, step, value) });
  const setOwn = (id, step, value) => {
    const own = withStep((targets.categories || {})[id] || {}, step, value);
    const categoriesTargets = { ...targets.categories, [id]: own };
    if (!Object.keys(own).length) delete categoriesTargets[id];
    setTargets({ ...targets, categories: categoriesTargets });
  };
  const send = () => {
    const ids = new Set(categories.map((c) => c.id));
    const kept = Object.fromEntries(Object.entries(targets.categories || {}).filter(([id]) => ids.has(id)));
    submit({ ...reports, categories, targets: { ...targets, categories: kept } });
  };
  return html`<p class="hint">Le categorie delle segnalazioni, le parole che le riconoscono nel testo del cittadino, chi se ne occupa e i tempi (in giorni lavorativi dalla segnalazione).</p>
    <${SectionForm} label="Categorie e tempi" state=${state} shown=${shown} onSubmit=${send}>
      <fieldset>
        <legend>Tempi per tutte le categorie (giorni lavorativi)</legend>
        ${STEPS.map(([step, label]) => html`<${Field} id=${`target-default-${step}`} kind="number" label=${label}
          value=${days(targets.default, step)} error=${err(`reports.targets.default.${step}`)}
          onChange=${(v) => setDefault(step, v)} />`)}
        <${Field} id="target-due-soon" kind="number" label="«In scadenza» quando mancano al massimo (giorni)"
          value=${targets.due_soon_days} error=${err("reports.targets.due_soon_days")}
          onChange=${(v) => setTargets({ ...targets, due_soon_days: v })} />
        ${err("reports.targets") && html`<p class="field-error">${err("reports.targets")}</p>`}
      </fieldset>
      <${ItemList} items=${categories} onChange=${setCategories} addLabel="Aggiungi una categoria"
        legend=${(c, i) => c.name || `Categoria ${i + 1}`}
        blank=${() => ({ id: "", name: "", keywords: [], team: null, external_body: null, short_name: null })}
        render=${(c, i, set) => html`
          <${Field} id=${`category-${i}-name`} label="Nome" value=${c.name}
            error=${err(`reports.categories.${i}.name`) || err(`reports.categories.${i}`)}
            onChange=${(name) => set({ name, id: c.id && c.id !== slug(c.name) ? c.id : slug(name) })} />
          <${Field} id=${`category-${i}-short`} label="Nome breve (facoltativo)" hint=${NAME_HINT} value=${c.short_name}
            error=${err(`reports.categories.${i}.short_name`)} onChange=${(v) => set({ short_name: v || null })} />
          <${Field} id=${`category-${i}-id`} label="Codice" value=${c.id} error=${err(`reports.categories.${i}.id`)}
            onChange=${(id) => set({ id })} />
          <${Field} id=${`category-${i}-keywords`} label="Parole chiave" kind="textarea" rows="2"
            hint="Separate da virgole: una segnalazione che ne contiene una è proposta in questa categoria."
            value=${(c.keywords || []).join(", ")} error=${err(`reports.categories.${i}.keywords`)}
            onChange=${(v) => set({ keywords: v.split(",").map((k) => k.trim()).filter(Boolean) })} />
          <${Field} id=${`category-${i}-team`} label="Squadra" kind="select" options=${teams} value=${c.team || ""}
            error=${err(`reports.categories.${i}.team`)} onChange=${(v) => set({ team: v || null })} />
          <${Field} id=${`category-${i}-body`} label="Oppure ente esterno competente" kind="select" options=${bodies}
            value=${c.external_body || ""} error=${err(`reports.categories.${i}.external_body`)}
            onChange=${(v) => set({ external_body: v || null })} />
          <p class="hint">Tempi propri (vuoto: quelli di tutte le categorie)</p>
          ${STEPS.map(([step, label]) => html`<${Field} id=${`category-${i}-target-${step}`} kind="number"
            label=${`${label} (giorni)`} value=${days((targets.categories || {})[c.id], step)}
            error=${err(`reports.targets.categories.${c.id}.${step}`)} onChange=${(v) => setOwn(c.id, step, v)} />`)}`} />
    </${SectionForm}>`;
}

function withStep(steps, step, value) {
  const changed = { ...steps };
  if (value === null || value === "") delete changed[step];
  else changed[step] = value;
  return changed;
}

const lines = (text) => text.split(/[\n,;]+/).map((l) => l.trim()).filter(Boolean);

function TeamsSection({ data, save, saved }) {
  const reports = data.sections.reports;
  const [teams, setTeams] = useState(reports.teams);
  const [notify, setNotify] = useState({ report: (reports.notify.report || []).join("\n"),
    safety: (reports.notify.safety || []).join("\n") });
  const [state, submit] = useSection(data, save, saved, "reports");
  const shown = [];
  const err = (path) => { shown.push(path); return errorFor(state.errors, path); };
  const notifyErr = (kind) => state.errors.filter((e) => e.field.startsWith(`reports.notify.${kind}`)).map((e) => {
    shown.push(e.field); return e.text; })[0] || "";
  const send = () => {
    const given = Object.fromEntries(Object.entries(notify).map(([k, v]) => [k, lines(v)]).filter(([, v]) => v.length));
    submit({ ...reports, teams, notify: given });
  };
  return html`<p class="hint">Le squadre del Comune a cui si assegnano le segnalazioni. Con un'email, la squadra riceve l'avviso di ogni nuova segnalazione delle sue categorie e il riepilogo giornaliero delle scadute.</p>
    <${SectionForm} label="Squadre" state=${state} shown=${shown} onSubmit=${send}>
      <${ItemList} items=${teams} onChange=${setTeams} addLabel="Aggiungi una squadra"
        legend=${(t, i) => t.name || `Squadra ${i + 1}`} blank=${() => ({ id: "", name: "", email: null })}
        render=${(t, i, set) => html`
          <${Field} id=${`team-${i}-name`} label="Nome" value=${t.name} error=${err(`reports.teams.${i}.name`)}
            onChange=${(name) => set({ name, id: t.id && t.id !== slug(t.name) ? t.id : slug(name) })} />
          <${Field} id=${`team-${i}-id`} label="Codice" value=${t.id} error=${err(`reports.teams.${i}.id`)}
            onChange=${(id) => set({ id })} />
          <${Field} id=${`team-${i}-email`} kind="email" label="Email (facoltativa)" value=${t.email}
            error=${err(`reports.teams.${i}.email`)} onChange=${(v) => set({ email: v || null })} />`} />
      <fieldset>
        <legend>Uffici avvisati di ogni nuova segnalazione</legend>
        <${Field} id="notify-report" kind="textarea" rows="2" label="Segnalazioni (un indirizzo per riga)"
          value=${notify.report} error=${notifyErr("report")} onChange=${(v) => setNotify({ ...notify, report: v })} />
        <${Field} id="notify-safety" kind="textarea" rows="2" label="Sicurezza, Polizia municipale (un indirizzo per riga)"
          value=${notify.safety} error=${notifyErr("safety")} onChange=${(v) => setNotify({ ...notify, safety: v })} />
      </fieldset>
    </${SectionForm}>`;
}

function BodiesSection({ data, save, saved }) {
  const reports = data.sections.reports;
  const [bodies, setBodies] = useState(reports.external_bodies);
  const [linkDays, setLinkDays] = useState(reports.external_link_days);
  const [state, submit] = useSection(data, save, saved, "reports");
  const shown = [];
  const err = (path) => { shown.push(path); return errorFor(state.errors, path); };
  return html`<p class="hint">Gli enti a cui si inoltrano le segnalazioni per email (Provincia, Consorzio di bonifica…).</p>
    <${SectionForm} label="Enti esterni" state=${state} shown=${shown}
      onSubmit=${() => submit({ ...reports, external_bodies: bodies, external_link_days: linkDays })}>
      <${ItemList} items=${bodies} onChange=${setBodies} addLabel="Aggiungi un ente"
        legend=${(b, i) => b.name || `Ente ${i + 1}`} blank=${() => ({ id: "", name: "", email: "" })}
        render=${(b, i, set) => html`
          <${Field} id=${`body-${i}-name`} label="Nome" value=${b.name} error=${err(`reports.external_bodies.${i}.name`)}
            onChange=${(name) => set({ name, id: b.id && b.id !== slug(b.name) ? b.id : slug(name) })} />
          <${Field} id=${`body-${i}-id`} label="Codice" value=${b.id} error=${err(`reports.external_bodies.${i}.id`)}
            onChange=${(id) => set({ id })} />
          <${Field} id=${`body-${i}-email`} kind="email" label="Email" value=${b.email}
            error=${err(`reports.external_bodies.${i}.email`)} onChange=${(email) => set({ email })} />`} />
      <${Field} id="external-link-days" kind="number" label="Giorni di validità del collegamento privato inviato all'ente"
        value=${linkDays} error=${err("reports.external_link_days")} onChange=${setLinkDays} />
    </${SectionForm}>`;
}

function CalendarSection({ data, save, saved }) {
  const [calendar, setCalendar] = useState(data.sections.calendar);
  const [closures, setClosures] = useState((data.sections.calendar.closures || []).join("\n"));
  const [state, submit] = useSection(data, save, saved, "calendar");
  const shown = [];
  const err = (path) => { shown.push(path); return errorFor(state.errors, path); };
  const closuresErr = state.errors.filter((e) => e.field.startsWith("calendar.closures")).map((e) => {
    shown.push(e.field); return e.text; })[0] || "";
  return html`<p class="hint">Oltre ai fine settimana e alle festività nazionali, i giorni in cui gli uffici sono chiusi: le scadenze li saltano.</p>
    <${SectionForm} label="Calendario" state=${state} shown=${shown}
      onSubmit=${() => submit({ ...calendar, closures: lines(closures) })}>
      <${Field} id="patron" label="Santo patrono" value=${calendar.patron} error=${err("calendar.patron")}
        onChange=${(patron) => setCalendar({ ...calendar, patron })} />
      <${Field} id="patron-day" label="Giorno del patrono (MM-GG)" placeholder="06-24" value=${calendar.patron_day}
        error=${err("calendar.patron_day")} onChange=${(v) => setCalendar({ ...calendar, patron_day: v || null })} />
      <${Field} id="closures" kind="textarea" rows="4" label="Altre chiusure (una data AAAA-MM-GG per riga)"
        value=${closures} error=${closuresErr} onChange=${setClosures} />
    </${SectionForm}>`;
}

const RETENTION = [
  ["inactive_citizens", "Cittadini non iscritti, dopo l'ultimo contatto"],
  ["deliveries", "Esiti degli invii"],
  ["closed_reports", "Segnalazioni, dopo la chiusura"],
  ["conversations", "Conversazioni (Messaggi), dopo l'ultimo messaggio"],
];
const LIMITS = [
  ["staff_requests_per_minute", "Richieste al minuto per ogni operatore"],
  ["broadcasts_per_user_per_hour", "Avvisi creati da un operatore in un'ora"],
  ["broadcasts_per_day", "Avvisi creati dal Comune in un giorno"],
  ["broadcast_messages_per_day", "Messaggi inviati dal Comune in un giorno (oltre, l'avviso si ferma)"],
];

function NumbersForm({ data, save, saved, section, rows, label }) {
  const [values, setValues] = useState(data.sections[section]);
  const [state, submit] = useSection(data, save, saved, section);
  const knobs = data.knobs[section] || {};
  const shown = [];
  const err = (path) => { shown.push(path); return errorFor(state.errors, path); };
  const bounds = (k) => (knobs[k] ? `Da ${knobs[k].minimum} a ${knobs[k].maximum}.` : "");
  return html`<${SectionForm} label=${label} state=${state} shown=${shown} onSubmit=${() => submit(values)}>
    <fieldset><legend>${label}</legend>
      ${rows.map(([k, text]) => html`<${Field} id=${`${section}-${k}`} kind="number" label=${text} hint=${bounds(k)}
        min=${knobs[k] && knobs[k].minimum} max=${knobs[k] && knobs[k].maximum} value=${values[k]}
        error=${err(`${section}.${k}`)} onChange=${(v) => setValues({ ...values, [k]: v })} />`)}
    </fieldset>
  </${SectionForm}>`;
}

function RetentionSection(props) {
  return html`<p class="hint">Per quanti giorni si conservano i dati personali (vedi l'informativa) e i limiti di utilizzo.</p>
    <${NumbersForm} ...${props} section="retention" rows=${RETENTION} label="Conservazione dei dati (giorni)" />
    <${NumbersForm} ...${props} section="limits" rows=${LIMITS} label="Limiti" />`;
}

function PrivacySection({ data, save, saved }) {
  const privacy = data.sections.privacy;
  const [form, setForm] = useState({ url: privacy.url, version: "" });
  const [state, submit] = useSection(data, save, saved, "privacy");
  const shown = [];
  const err = (path) => { shown.push(path); return errorFor(state.errors, path); };
  return html`<p>Versione in vigore: <strong>${privacy.version || "nessuna"}</strong>
      ${privacy.url && html` · <a href=${privacy.url} target="_blank" rel="noopener">${privacy.url}</a>`}</p>
    <p class="hint">Ogni consenso registra la versione dell'informativa in vigore in quel momento. Una nuova versione vale per i consensi da quando la salvi.</p>
    ${privacy.history.length > 0 && html`<table class="history"><caption>Versioni</caption>
      <thead><tr><th scope="col">Versione</th><th scope="col">In vigore dal</th><th scope="col">Indirizzo</th></tr></thead>
      <tbody>${privacy.history.map((h) => html`<tr><td>${h.version}</td><td>${h.since || "—"}</td>
        <td class="wrap">${h.url}</td></tr>`)}</tbody></table>`}
    <${SectionForm} label="Nuova versione dell'informativa" state=${state} shown=${shown} onSubmit=${() => submit(form)}>
      <fieldset><legend>Nuova versione</legend>
        <${Field} id="privacy-version" label="Versione" placeholder="es. 2027-01" value=${form.version}
          error=${err("privacy.version")} onChange=${(version) => setForm({ ...form, version })} />
        <${Field} id="privacy-url" kind="url" label="Indirizzo dell'informativa" value=${form.url}
          error=${err("privacy.url")} onChange=${(url) => setForm({ ...form, url })} />
      </fieldset>
    </${SectionForm}>`;
}
