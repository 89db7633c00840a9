// Amministrazione › Personale: the comune's staff (GET /api/v1/staff), an invitation form, and for each person their
// roles and teams, disable or enable, a new temporary password, MFA off. People are named, never by a login id.
// Every change is audited by the API; the comune's last active administrator cannot lose the role (409 last_admin).
import { useEffect, useRef, useState } from "preact/hooks";
import { html } from "@filo/shared/html";
import { changeStaff, inviteStaff, listStaff, resetStaffMfa, resetStaffPassword } from "../../api.js";
import { ROLE, when } from "../../labels.js";

const ROLES = Object.keys(ROLE);
const EMPTY = { name: "", email: "", roles: [], teams: [] };
const toggle = (list, value, on) => (on ? [...new Set([...list, value])] : list.filter((v) => v !== value));

export function StaffPage({ tenant, who }) {
  const [people, setPeople] = useState(null);
  const [status, setStatus] = useState("");
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  const [editing, setEditing] = useState(null); // a member's id
  const teams = (tenant && tenant.teams) || [];

  const load = () => listStaff().then((answer) => setPeople(answer.items)).catch((e) => setError(e.message));
  useEffect(() => { load(); }, []);

  // One change at a time: the answer's words in the live region, the list reloaded.
  const act = async (call, done) => {
    setBusy(true);
    setError("");
    setStatus("");
    try {
      await call();
      setStatus(done);
      await load();
      return true;
    } catch (e) {
      setError(e.message);
      return false;
    } finally {
      setBusy(false);
    }
  };

  return html`
    <h1 tabindex="-1">Personale</h1>
    <p>Le persone del Comune che usano la console: ruoli, squadre, accesso. Ogni modifica resta nel registro.</p>
    <p role="status" aria-live="polite" class="notice">${status}</p>
    ${error && html`<p class="error" role="alert">${error}</p>`}
    <${Invite} teams=${teams} busy=${busy} act=${act} />
    <section aria-labelledby="staff-list-title">
      <h2 id="staff-list-title">Persone ${people ? html`<span class="count">(${people.length})</span>` : ""}</h2>
      ${people === null && !error && html`<p role="status">Caricamento…</p>`}
      <ul class="staff-list">
        ${(people || []).map((p) => html`<${Member} key=${p.id} person=${p} teams=${teams} busy=${busy} act=${act}
          self=${who && who.subject === p.id} editing=${editing === p.id}
          onEdit=${() => setEditing(p.id)} onDone=${() => setEditing(null)} />`)}
      </ul>
    </section>`;
}

function Invite({ teams, busy, act }) {
  const [form, setForm] = useState(EMPTY);
  const submit = async (event) => {
    event.preventDefault();
    const ok = await act(() => inviteStaff(form),
      `Invito inviato a ${form.name}: riceverà per email la password temporanea.`);
    if (ok) setForm(EMPTY);
  };
  return html`<details class="panel invite">
    <summary>Invita una persona</summary>
    <form onSubmit=${submit} aria-label="Invita una persona">
      <label for="invite-name">Nome e cognome</label>
      <input id="invite-name" required minlength="2" maxlength="80" value=${form.name}
        onInput=${(e) => setForm({ ...form, name: e.target.value })} />
      <label for="invite-email">Email</label>
      <input id="invite-email" type="email" required maxlength="254" value=${form.email}
        aria-describedby="invite-email-help" onInput=${(e) => setForm({ ...form, email: e.target.value })} />
      <small id="invite-email-help">È il nome utente per accedere; la password temporanea arriva qui.</small>
      <${Choices} legend="Ruoli" prefix="invite-role" options=${ROLES.map((r) => ({ id: r, name: ROLE[r] }))}
        chosen=${form.roles} onChange=${(roles) => setForm({ ...form, roles })} />
      ${teams.length > 0 && html`<${Choices} legend="Squadre" prefix="invite-team" options=${teams}
        chosen=${form.teams} onChange=${(chosen) => setForm({ ...form, teams: chosen })} />`}
      <button type="submit" disabled=${busy || form.roles.length === 0}>Invita</button>
      ${form.roles.length === 0 && html`<small> Scegli almeno un ruolo.</small>`}
    </form>
  </details>`;
}

function Member({ person, teams, busy, act, self, editing, onEdit, onDone }) {
  const named = (ids, list) => ids.map((id) => (list.find((t) => t.id === id) || {}).name || id).join(", ");
  const flip = () => act(() => changeStaff(person.id, { enabled: !person.enabled }),
    person.enabled ? `${person.name} è disattivato: le sue richieste sono rifiutate.` : `${person.name} è di nuovo attivo.`);
  const title = `staff-${person.id}`;
  return html`<li class=${"panel staff" + (person.enabled ? "" : " disabled")} aria-labelledby=${title}>
    <h3 id=${title}>${person.name}${self ? " (tu)" : ""}</h3>
    <dl>
      <dt>Email</dt><dd>${person.email || "—"}</dd>
      <dt>Ruoli</dt><dd>${person.roles.map((r) => ROLE[r] || r).join(", ") || "nessuno"}</dd>
      <dt>Squadre</dt><dd>${named(person.teams, teams) || "nessuna"}</dd>
      <dt>Stato</dt><dd>${person.enabled ? "Attivo" : "Disattivato"}</dd>
      <dt>Ultimo accesso</dt><dd>${person.last_sign_in ? when(person.last_sign_in) : "mai"}</dd>
    </dl>
    ${editing ? html`<${Edit} person=${person} teams=${teams} busy=${busy} act=${act} onDone=${onDone} />` : html`
      <div class="buttons">
        <button type="button" disabled=${busy} onClick=${onEdit} aria-describedby=${title}>Modifica</button>
        <button type="button" class="secondary" disabled=${busy} onClick=${flip} aria-describedby=${title}>
          ${person.enabled ? "Disattiva" : "Riattiva"}</button>
        ${person.email && html`
          <button type="button" class="secondary" disabled=${busy} aria-describedby=${title}
            onClick=${() => act(() => resetStaffPassword(person.id), `Nuova password temporanea inviata a ${person.email}.`)}>
            Nuova password</button>
          <button type="button" class="secondary" disabled=${busy} aria-describedby=${title}
            onClick=${() => act(() => resetStaffMfa(person.id), `Verifica in due passaggi azzerata per ${person.name}: la configurerà al prossimo accesso.`)}>
            Azzera verifica in due passaggi</button>`}
      </div>`}
  </li>`;
}

function Edit({ person, teams, busy, act, onDone }) {
  const [form, setForm] = useState({ name: person.name, roles: person.roles, teams: person.teams });
  const prefix = `edit-${person.id}`;
  const first = useRef(null);
  useEffect(() => { first.current && first.current.focus(); }, []); // the keyboard lands in the form it opened
  const submit = async (event) => {
    event.preventDefault();
    if (await act(() => changeStaff(person.id, form), `Modifiche a ${form.name} salvate.`)) onDone();
  };
  return html`<form onSubmit=${submit} aria-label=${`Modifica ${person.name}`}>
    <label for=${prefix + "-name"}>Nome e cognome</label>
    <input id=${prefix + "-name"} ref=${first} required minlength="2" maxlength="80" value=${form.name}
      onInput=${(e) => setForm({ ...form, name: e.target.value })} />
    <${Choices} legend="Ruoli" prefix=${prefix + "-role"} options=${ROLES.map((r) => ({ id: r, name: ROLE[r] }))}
      chosen=${form.roles} onChange=${(roles) => setForm({ ...form, roles })} />
    ${teams.length > 0 && html`<${Choices} legend="Squadre" prefix=${prefix + "-team"} options=${teams}
      chosen=${form.teams} onChange=${(chosen) => setForm({ ...form, teams: chosen })} />`}
    <div class="buttons">
      <button type="submit" disabled=${busy || form.roles.length === 0}>Salva</button>
      <button type="button" class="secondary" disabled=${busy} onClick=${onDone}>Annulla</button>
    </div>
  </form>`;
}

function Choices({ legend, prefix, options, chosen, onChange }) {
  return html`<fieldset>
    <legend>${legend}</legend>
    ${options.map((o) => html`<div class="check">
      <input type="checkbox" id=${`${prefix}-${o.id}`} checked=${chosen.includes(o.id)}
        onChange=${(e) => onChange(toggle(chosen, o.id, e.target.checked))} />
      <label for=${`${prefix}-${o.id}`}>${o.name}</label></div>`)}
  </fieldset>`;
}
