// Who is in charge of a report, besides the team: a staff member whose roles reach it (a tip: the police only).
// "Affida a me" puts the signed-in member in charge; the report then shows under "Le mie segnalazioni".
import { useEffect, useState } from "preact/hooks";
import { html } from "@filo/shared/html";
import { assignReport, listAssignees } from "../api.js";

export function AssigneePanel({ report, who, busy, act }) {
  const [people, setPeople] = useState([]);
  const [chosen, setChosen] = useState("");
  useEffect(() => { listAssignees(report.kind).then((p) => setPeople(p.items)).catch(() => setPeople([])); }, [report.kind]);

  const current = report.assignee;
  const mine = current && who && current.id === who.subject;
  const give = (assignee, message) => act(() => assignReport(report.id, { assignee }), message).then((ok) => ok && setChosen(""));
  const submit = (e) => {
    e.preventDefault();
    const person = people.find((p) => p.id === chosen);
    if (person) give(person.id, `Affidata a ${person.name}.`);
  };

  return html`<section aria-labelledby="assignee" class="panel">
    <h2 id="assignee">Persona incaricata</h2>
    <p data-testid="assignee">${current ? html`In carico a <strong>${current.name || current.id}</strong>${mine ? " (tu)" : ""}` : "Nessuna persona incaricata."}</p>
    <div class="buttons">
      ${!mine && html`<button type="button" disabled=${busy} onClick=${() => give("me", "Affidata a te: la trovi in «Le mie segnalazioni».")}>Affida a me</button>`}
      ${current && html`<button type="button" class="secondary" disabled=${busy} onClick=${() => give(null, "Nessuna persona incaricata.")}>Togli l'incarico</button>`}
    </div>
    <form onSubmit=${submit}>
      <label for="assignee-person">Affida a</label>
      <select id="assignee-person" value=${chosen} onChange=${(e) => setChosen(e.target.value)}>
        <option value="">Scegli…</option>
        ${people.map((p) => html`<option value=${p.id}>${p.name}${who && p.id === who.subject ? " (tu)" : ""}</option>`)}
      </select>
      <button type="submit" class="secondary" disabled=${busy || !chosen}>Affida</button>
    </form>
  </section>`;
}
