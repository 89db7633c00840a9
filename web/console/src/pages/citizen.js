// One citizen for the desk ("I reported something last week"): by phone number, their subscriptions and consents,
// their reports and the conversation on each channel (what they sent, what we sent and whether it arrived), newest
// first; each part only as far as the role reaches (the API decides). Every look is recorded in the audit log.
import { useEffect, useState } from "preact/hooks";
import { html } from "@filo/shared/html";
import { go } from "@filo/shared/router";
import { getCitizen } from "../api.js";
import { ACTION, CHANNEL_KIND, SOURCE, STATUS, SUB_STATUS, typedNumber, when } from "../labels.js";

const DELIVERY = { sent: "Inviato", delivered: "Consegnato", read: "Letto", played: "Ascoltato", failed: "Non consegnato", skipped: "Non inviato" };
const IN_KIND = { ...ACTION, text: "Messaggio", photo: "Foto", location: "Posizione", category: "Categoria scelta" };
const CONSENT = { grant: "Consenso dato", withdraw: "Consenso revocato" };

export function Citizen({ id }) {
  const [typed, setTyped] = useState(id || "");
  const [seen, setSeen] = useState(null);
  const [error, setError] = useState("");
  const [loading, setLoading] = useState(false);

  useEffect(() => {
    setSeen(null); setError("");
    if (!id) return;
    setTyped(id);
    setLoading(true);
    getCitizen(id).then(setSeen).catch((e) => setError(e.message)).finally(() => setLoading(false));
  }, [id]);

  const search = (event) => {
    event.preventDefault();
    const key = typedNumber(typed);
    if (key) go("cittadino/" + encodeURIComponent(key));
  };

  return html`
    <h1 tabindex="-1">Cittadino</h1>
    <form class="filters" role="search" aria-label="Cerca un cittadino" onSubmit=${search}>
      <div><label for="c-phone">Numero di telefono</label>
        <input id="c-phone" type="search" inputmode="tel" autocomplete="off" placeholder="es. 333 123 4567"
          value=${typed} onInput=${(e) => setTyped(e.target.value)} /></div>
      <div class="filter-actions"><button type="submit">Cerca</button></div>
    </form>
    <p class="hint">Ogni consultazione è registrata. Vedi solo i canali e le segnalazioni del tuo ufficio.</p>
    ${error && html`<p class="error" role="alert">${error}</p>`}
    ${loading && html`<p role="status">Caricamento…</p>`}
    ${seen && html`<${View} seen=${seen} />`}`;
}

function View({ seen }) {
  const channelName = (channelId) => {
    const found = seen.channels.find((c) => c.channel === channelId);
    return found ? `${CHANNEL_KIND[found.kind] || found.kind} — ${found.name}` : channelId;
  };
  const reportLink = (r) => `#/${r.kind === "safety" ? "sicurezza" : "segnalazioni"}/${encodeURIComponent(r.id)}`;
  const known = seen.channels.some((c) => c.subscriber) || seen.reports.length || seen.conversation.length;
  return html`
    <h2 class="citizen-number" data-testid="citizen-number">${seen.phone || seen.subject}</h2>
    ${!known && html`<p>Nessun dato su questo numero per il tuo ufficio.</p>`}
    ${seen.truncated && html`<p class="hint">Sono mostrate solo le segnalazioni e i messaggi più recenti.</p>`}
    <section aria-labelledby="c-channels">
      <h3 id="c-channels">Iscrizioni</h3>
      <ul class="plain">${seen.channels.map((c) => html`<li>
        <strong>${CHANNEL_KIND[c.kind] || c.kind} — ${c.name}</strong>:
        ${c.subscriber ? html`${SUB_STATUS[c.subscriber.status] || c.subscriber.status}
          ${c.subscriber.subscribed_at && html` dal ${when(c.subscriber.subscribed_at)}`}
          ${c.subscriber.name && html` · ${c.subscriber.name}, ${c.subscriber.address || ""}`}
          ${c.subscriber.last_inbound_at && html` · ultimo messaggio ${when(c.subscriber.last_inbound_at)}`}`
          : "nessuna iscrizione"}</li>`)}</ul>
    </section>
    <section aria-labelledby="c-reports">
      <h3 id="c-reports">Segnalazioni</h3>
      ${!seen.reports.length ? html`<p>Nessuna segnalazione.</p>` : html`<div class="scroll"><table class="reports">
        <thead><tr><th scope="col">Numero</th><th scope="col">Stato</th><th scope="col">Testo</th><th scope="col">Ricevuta</th><th scope="col">Ruolo</th></tr></thead>
        <tbody>${seen.reports.map((r) => html`<tr>
          <td><a href=${reportLink(r)}>${r.number}</a></td>
          <td><span class=${"badge s-" + r.status}>${STATUS[r.status]}</span></td>
          <td class="text">${r.text || "—"}</td>
          <td>${when(r.created_at)}<br /><small>${SOURCE[r.source] || r.source}</small></td>
          <td>${r.role === "reporter" ? "Ha segnalato" : "Segue"}</td></tr>`)}</tbody></table></div>`}
    </section>
    <section aria-labelledby="c-talk">
      <h3 id="c-talk">Conversazione</h3>
      <p class="hint">Dal più recente. Sono conservati i messaggi del cittadino che fanno parte di una segnalazione o
        di una conversazione in «Messaggi» e quanto il Comune ha inviato, con l'esito della consegna; le parole chiave
        (ATTIVA, DISATTIVA) non sono conservate, solo il consenso che ne segue.</p>
      ${!seen.conversation.length ? html`<p>Nessun messaggio.</p>` : html`<ol class="conversation">
        ${seen.conversation.map((m) => html`<li class=${"msg " + m.direction}>
          <p class="meta"><strong>${m.direction === "in" ? "Il cittadino ha scritto" : "Il Comune ha inviato"}</strong>
            · ${when(m.at)} · ${channelName(m.channel)}
            ${m.direction === "in" ? html` · ${IN_KIND[m.kind] || m.kind}` : html` · ${m.kind === "broadcast" ? "avviso" : "risposta"}
              · <span class=${"delivery d-" + m.status}>${DELIVERY[m.status] || m.status}</span>`}
            ${m.report && html` · segnalazione <a href=${reportLink({ id: m.report_id, kind: seen.channels.find((c) => c.channel === m.channel)?.kind === "safety" ? "safety" : "report" })}>${m.report}</a>`}</p>
          <p class="body">${m.text || html`<em>${m.direction === "in" ? IN_KIND[m.kind] || "—" : "Contenuto non conservato"}</em>`}</p>
        </li>`)}</ol>`}
    </section>
    <section aria-labelledby="c-consents">
      <h3 id="c-consents">Consensi</h3>
      ${!seen.consents.length ? html`<p>Nessun consenso registrato.</p>` : html`<ul class="plain">
        ${seen.consents.map((c) => html`<li>${when(c.recorded_at)} · ${CONSENT[c.action] || c.action} · ${channelName(c.channel)}</li>`)}</ul>`}
    </section>`;
}
