// Messaggi: what citizens wrote that no flow took (a reply to a broadcast, a question, a follow-up on a closed
// report), and the office's answers. A list with the unread ones first in mind, one conversation with its messages
// and the delivery of each answer, a reply box inside WhatsApp's 24-hour window (outside it, the channel's approved
// templates), assign to me or to a colleague, "Fatto".
// Reading a list or a conversation is audited: they are reloaded when something changed (the unread count, the
// latest message), not on a timer; the unread count alone is polled.
import { useEffect, useRef, useState } from "preact/hooks";
import { html } from "@filo/shared/html";
import {
  assignConversation, getConversation, listConversations, replyToConversation, setConversationStatus, unreadConversations,
} from "../api.js";
import { CONVERSATION_STATUS, DELIVERY, MESSAGE_KIND, when } from "../labels.js";

const POLL_MS = 10000;
const AFTER_SEND_MS = [2500, 6000, 12000]; // the answer's delivery (sent, delivered, read) is looked at again

// The menu's badge: how many conversations have a message nobody opened. Kept apart from other badges.
export function MessagesBadge() {
  const [count, setCount] = useState(0);
  useEffect(() => {
    let live = true;
    const poll = () => unreadConversations().then((a) => live && setCount(a.count)).catch(() => {});
    poll();
    const timer = setInterval(poll, POLL_MS);
    window.addEventListener("filo:conversations", poll);
    return () => { live = false; clearInterval(timer); window.removeEventListener("filo:conversations", poll); };
  }, []);
  if (!count) return null;
  const words = count === 1 ? "1 non letto" : `${count >= 999 ? "999+" : count} non letti`;
  return html` <span class="unread" aria-label=${words} title=${words}>${count >= 999 ? "999+" : count}</span>`;
}

const changed = () => window.dispatchEvent(new Event("filo:conversations"));
const who = (c) => c.name ? `${c.name} (${c.phone || c.user_id})` : (c.phone || c.user_id);

export function Messages({ id, who: me }) {
  const [filters, setFilters] = useState({ status: "open", mine: false });
  const [items, setItems] = useState([]);
  const [loaded, setLoaded] = useState(false);
  const [error, setError] = useState("");
  const seen = useRef(null); // the unread count the list was loaded with

  const loadList = async () => {
    try {
      const page = await listConversations({ status: filters.status, mine: filters.mine ? "true" : undefined });
      setItems(page.items);
      setError("");
    } catch (e) {
      setError(e.message);
    }
    setLoaded(true);
  };

  useEffect(() => { loadList(); }, [filters.status, filters.mine]);
  useEffect(() => {
    const poll = async () => {
      try {
        const { count } = await unreadConversations();
        if (seen.current !== null && count !== seen.current) loadList();
        seen.current = count;
      } catch { /* the next poll tries again */ }
    };
    poll();
    const timer = setInterval(poll, POLL_MS);
    return () => clearInterval(timer);
  }, [filters.status, filters.mine]);

  const current = id ? items.find((c) => c.id === id) : null;
  return html`
    <h1 tabindex="-1">Messaggi</h1>
    <p class="hint">I messaggi dei cittadini che nessun servizio automatico ha gestito: risposte agli avvisi, domande,
      seguiti di segnalazioni chiuse. Rispondi entro 24 ore dall'ultimo messaggio del cittadino; dopo, WhatsApp
      consente solo un modello approvato.</p>
    <form class="filters" aria-label="Filtri" onSubmit=${(e) => { e.preventDefault(); loadList(); }}>
      <div><label for="m-status">Stato</label>
        <select id="m-status" value=${filters.status} onChange=${(e) => setFilters({ ...filters, status: e.target.value })}>
          <option value="open">Da gestire</option><option value="done">Fatti</option><option value="">Tutti</option>
        </select></div>
      <div class="check"><input id="m-mine" type="checkbox" checked=${filters.mine}
        onChange=${(e) => setFilters({ ...filters, mine: e.target.checked })} /><label for="m-mine">Solo assegnati a me</label></div>
      <div class="filter-actions"><button type="submit" class="secondary">Aggiorna</button></div>
    </form>
    ${error && html`<p class="error" role="alert">${error}</p>`}
    <div class=${"messages" + (id ? " has-current" : "")}>
      <section class="threads" aria-labelledby="threads-title">
        <h2 id="threads-title">Conversazioni <span class="count">(${items.length})</span></h2>
        ${loaded && !items.length && html`<p>Nessuna conversazione con questi filtri.</p>`}
        <ul>
          ${items.map((c) => html`<li class=${c.unread ? "is-unread" : ""}>
            <a href=${"#/messaggi/" + encodeURIComponent(c.id)} aria-current=${c.id === id ? "true" : undefined}>
              <span class="who">${who(c)}</span>
              ${c.unread && html` <span class="badge s-new">Nuovo</span>`}
              ${c.status === "done" && html` <span class="badge s-resolved">Fatto</span>`}
              <span class="last">${c.last_direction === "out" ? "Tu: " : ""}${c.last_text || MESSAGE_KIND.other}</span>
              <span class="tag">${c.channel_name} · ${when(c.last_at)}${c.assignee ? ` · ${c.assignee.name}` : ""}</span>
            </a></li>`)}
        </ul>
      </section>
      <section class="thread" aria-label="Conversazione">
        ${id ? html`<${Thread} id=${id} listed=${current} me=${me}
          onChanged=${() => { loadList(); changed(); }} />`
          : html`<p class="tag">Scegli una conversazione dall'elenco.</p>`}
      </section>
    </div>`;
}

function Thread({ id, listed, me, onChanged }) {
  const [conversation, setConversation] = useState(null);
  const [colleagues, setColleagues] = useState([]); // who may take it, as the API lists them when it is read
  const [error, setError] = useState("");
  const [done, setDone] = useState("");
  const [busy, setBusy] = useState(false);
  const [text, setText] = useState("");
  const [template, setTemplate] = useState({ name: "", parameters: [] });
  const timers = useRef([]);

  const load = () => getConversation(id).then((c) => { setConversation(c); setColleagues(c.assignees || []); setError(""); return c; })
    .catch((e) => setError(e.message));
  useEffect(() => {
    setConversation(null);
    setDone("");
    load().then((c) => { if (c && listed && listed.unread) onChanged(); });
    return () => timers.current.forEach(clearTimeout);
  }, [id]);
  // a newer message in the list (the citizen wrote again): the conversation is read again
  useEffect(() => {
    if (conversation && listed && listed.last_at !== conversation.last_at) load();
  }, [listed && listed.last_at]);

  if (!conversation) {
    return error ? html`<p class="error" role="alert">${error}</p>` : html`<p role="status">Caricamento…</p>`;
  }

  const act = async (call, message) => {
    setBusy(true);
    setError("");
    setDone("");
    try {
      const answer = await call();
      setDone(message);
      onChanged();
      return answer;
    } catch (e) {
      setError(e.message);
      if (e.code === "window_closed") load(); // the templates to send instead
      return null;
    } finally {
      setBusy(false);
    }
  };

  const send = async (body) => {
    const sent = await act(() => replyToConversation(id, body), "Risposta inviata: la trovi qui sotto con il suo stato di consegna.");
    if (!sent) return;
    setText("");
    setTemplate({ name: "", parameters: [] });
    await load();
    timers.current = AFTER_SEND_MS.map((ms) => setTimeout(load, ms));
  };
  const assign = (assignee, message) => act(() => assignConversation(id, { assignee }), message).then((c) => c && setConversation(c));
  const status = (value, message) => act(() => setConversationStatus(id, { status: value }), message).then((c) => c && setConversation(c));

  const offered = conversation.templates || [];
  const chosen = offered.find((t) => t.name === template.name);
  const mine = conversation.assignee && me && conversation.assignee.subject === me.subject;

  return html`
    <a class="back" href="#/messaggi">← Tutte le conversazioni</a>
    <h2 id="thread-title">${who(conversation)}</h2>
    <dl class="facts">
      <dt>Canale</dt><dd>${conversation.channel_name}</dd>
      <dt>Stato</dt><dd>${CONVERSATION_STATUS[conversation.status]}</dd>
      <dt>Assegnata a</dt><dd>${conversation.assignee ? conversation.assignee.name : "nessuno"}</dd>
    </dl>
    <div class="buttons">
      ${!mine && html`<button type="button" class="secondary" disabled=${busy}
        onClick=${() => assign("me", "Conversazione assegnata a te.")}>Assegna a me</button>`}
      <label for="m-assignee" class="visually-hidden">Assegna a una persona</label>
      <select id="m-assignee" disabled=${busy} value=""
        onChange=${(e) => {
          const value = e.target.value;
          if (value === "-") assign(null, "Conversazione non più assegnata.");
          else if (value) {
            const person = colleagues.find((p) => p.subject === value);
            assign({ subject: person.subject, name: person.name }, `Conversazione assegnata a ${person.name}.`);
          }
        }}>
        <option value="">Assegna a…</option>
        ${colleagues.map((p) => html`<option value=${p.subject}>${p.name}</option>`)}
        ${conversation.assignee && html`<option value="-">Nessuno</option>`}
      </select>
      ${conversation.status === "open"
        ? html`<button type="button" disabled=${busy} onClick=${() => status("done", "Conversazione segnata come fatta.")}>Fatto</button>`
        : html`<button type="button" class="secondary" disabled=${busy} onClick=${() => status("open", "Conversazione riaperta.")}>Riapri</button>`}
    </div>
    <p class="done" role="status">${done}</p>
    ${error && html`<p class="error" role="alert">${error}</p>`}
    <ol class="chat" aria-label="Messaggi della conversazione">
      ${conversation.messages.map((m) => html`<li class=${m.direction === "in" ? "in" : "out"}>
        <span class="visually-hidden">${m.direction === "in" ? "Il cittadino" : `Risposta di ${m.author ? m.author.name : "un operatore"}`}:</span>
        <p>${m.text || MESSAGE_KIND[m.kind] || MESSAGE_KIND.other}${m.text && m.kind !== "text" && MESSAGE_KIND[m.kind] ? html` <span class="tag">(${MESSAGE_KIND[m.kind]})</span>` : ""}</p>
        <span class="tag"><time datetime=${m.at}>${when(m.at)}</time>${m.direction === "out" && html` · ${m.author ? m.author.name : ""} · <span class=${"delivery d-" + m.delivery}>${DELIVERY[m.delivery] || m.delivery}</span>`}</span>
      </li>`)}
    </ol>
    ${conversation.window.open ? html`
      <form class="reply" onSubmit=${(e) => { e.preventDefault(); if (text.trim()) send({ text: text.trim() }); }}>
        <label for="m-reply">Risposta</label>
        <textarea id="m-reply" rows="3" maxlength="2000" value=${text} onInput=${(e) => setText(e.target.value)}
          aria-describedby="m-window"></textarea>
        <p id="m-window" class="tag">Il cittadino può ricevere risposte libere fino a ${when(conversation.window.closes_at)}.</p>
        <button type="submit" disabled=${busy || !text.trim()}>Invia risposta</button>
      </form>` : html`
      <form class="reply" onSubmit=${(e) => { e.preventDefault(); if (chosen) send({ template: { name: chosen.name, parameters: template.parameters.slice(0, chosen.parameters) } }); }}>
        <p class="hint" id="m-window">Sono passate più di 24 ore dall'ultimo messaggio del cittadino: WhatsApp consente di
          scrivergli solo con un modello approvato.${offered.length ? " Scegline uno:" : " Questo canale non ha modelli approvati: si potrà rispondere quando il cittadino scriverà di nuovo."}</p>
        ${offered.length > 0 && html`
          <label for="m-template">Modello</label>
          <select id="m-template" value=${template.name} aria-describedby="m-window"
            onChange=${(e) => setTemplate({ name: e.target.value, parameters: [] })}>
            <option value="">Scegli un modello…</option>
            ${offered.map((t) => html`<option value=${t.name}>${t.name}</option>`)}
          </select>
          ${chosen && Array.from({ length: chosen.parameters }, (_, i) => html`
            <label for=${"m-param-" + i}>Testo ${i + 1}</label>
            <input id=${"m-param-" + i} type="text" maxlength="200" value=${template.parameters[i] || ""}
              onInput=${(e) => { const p = [...template.parameters]; p[i] = e.target.value; setTemplate({ ...template, parameters: p }); }} />`)}
          ${chosen && chosen.body && html`<p class="wa" aria-label="Anteprima del modello">${chosen.body.replace(/\{\{\s*(\d+)\s*\}\}/g, (_, n) => template.parameters[n - 1] || `[testo ${n}]`)}</p>`}
          <button type="submit" disabled=${busy || !chosen || Array.from({ length: chosen.parameters }, (_, i) => (template.parameters[i] || "").trim()).some((p) => !p)}>Invia modello</button>`}
      </form>`}`;
}
