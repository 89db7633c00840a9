// Agenda (issue 17): an office's day per counter for the staff who receive the public (capability agenda: the
// police for their office, admin for all). Today and the next days, the walk-in services of the day, a booking taken
// at the desk or on the phone, presente / assente, cancelling one booking, blocking a range or the whole day (a
// confirmation says how many bookings it cancels; each citizen is told by the API), the export. Every read of the
// day names citizens, so the API records it in the audit log.
import { useEffect, useState } from "preact/hooks";
import { html } from "@filo/shared/html";
import {
  bookAtDesk, cancelAppointment, closeAgenda, downloadAgenda, getAgendaCatalogue, getAgendaDay, getAgendaFreeTimes,
  markAttendance,
} from "../api.js";
import { ExportButtons } from "../exports.js";
import { APPOINTMENT_SOURCE, APPOINTMENT_STATUS, addDays, longDay, shortDay } from "../labels.js";

const NEXT_DAYS = 7; // the strip of days from today
const EXPORT_DAYS = 7;
const time = (start) => (start || "").slice(11, 16);
const minutes = (hhmm) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));

// Blocked cells as ranges: 08:30, 08:45, 09:00 -> "08:30–09:15" (the grid's step read from the cells themselves).
function ranges(cells) {
  const times = cells.map(time).sort();
  if (!times.length) return [];
  const gaps = times.slice(1).map((t, i) => minutes(t) - minutes(times[i])).filter((g) => g > 0);
  const step = gaps.length ? Math.min(...gaps) : 15;
  const clock = (m) => `${String(Math.floor(m / 60)).padStart(2, "0")}:${String(m % 60).padStart(2, "0")}`;
  const found = [];
  let first = minutes(times[0]);
  let last = first;
  for (const t of times.slice(1)) {
    const m = minutes(t);
    if (m - last > step) { found.push(`${clock(first)}–${clock(last + step)}`); first = m; }
    last = m;
  }
  found.push(`${clock(first)}–${clock(last + step)}`);
  return found;
}

// The bookings a closure of [from, to) on these counters would cancel (the API cancels the same ones).
export function affected(view, counter, from, to) {
  const first = from || "00:00";
  const last = to || "24:00";
  return view.counters.filter((c) => !counter || c.id === counter)
    .flatMap((c) => c.bookings.filter((b) => b.status === "booked" && time(b.start) < last && time(b.end) > first));
}

export function Agenda({ tenant }) {
  const [catalogue, setCatalogue] = useState(null);
  const [office, setOffice] = useState("");
  const [date, setDate] = useState(""); // empty: the server's today
  const [today, setToday] = useState("");
  const [view, setView] = useState(null);
  const [error, setError] = useState("");
  const [loading, setLoading] = useState(false);
  const [news, setNews] = useState("");
  const [panel, setPanel] = useState(""); // "book", "close"

  useEffect(() => {
    getAgendaCatalogue().then((c) => {
      setCatalogue(c);
      if (c.offices.length) setOffice(c.offices[0].id);
    }).catch((e) => setError(e.message));
  }, []);

  const load = (officeId = office, day = date) => {
    if (!officeId) return;
    setLoading(true);
    getAgendaDay(officeId, day || undefined).then((v) => {
      setView(v); setError("");
      if (!day) { setToday(v.date); setDate(v.date); }
    }).catch((e) => setError(e.message)).finally(() => setLoading(false));
  };
  useEffect(() => { load(); }, [office, date]);

  if (!catalogue) {
    return html`<h1 tabindex="-1">Agenda degli appuntamenti</h1>
      ${error ? html`<p class="error" role="alert">${error}</p>` : html`<p role="status">Caricamento…</p>`}`;
  }
  if (!catalogue.offices.length) {
    return html`<h1 tabindex="-1">Agenda degli appuntamenti</h1>
      <p>Il Comune non ha ancora uffici con appuntamenti: un amministratore li imposta nel catalogo dell'agenda
        (docs/agenda.md).</p>`;
  }
  const services = catalogue.services.filter((s) => s.office === office);
  const named = (serviceId) => (catalogue.services.find((s) => s.id === serviceId) || { name: serviceId }).name;
  const after = (message) => { setNews(message); setPanel(""); load(); };
  const days = today ? Array.from({ length: NEXT_DAYS }, (_, i) => addDays(today, i)) : [];

  return html`
    <h1 tabindex="-1">Agenda degli appuntamenti</h1>
    <form class="filters" aria-label="Ufficio e giorno" onSubmit=${(e) => e.preventDefault()}>
      <div><label for="ag-office">Ufficio</label>
        <select id="ag-office" value=${office} onChange=${(e) => { setOffice(e.target.value); setNews(""); }}>
          ${catalogue.offices.map((o) => html`<option value=${o.id}>${o.name}</option>`)}
        </select></div>
      <div><label for="ag-date">Giorno</label>
        <input id="ag-date" type="date" value=${date} onChange=${(e) => { if (e.target.value) { setDate(e.target.value); setNews(""); } }} /></div>
      <div class="filter-actions buttons">
        <button type="button" class="secondary" onClick=${() => setDate(addDays(date, -1))} disabled=${!date}>Giorno prima</button>
        <button type="button" class="secondary" onClick=${() => setDate(addDays(date, 1))} disabled=${!date}>Giorno dopo</button>
      </div>
    </form>
    ${days.length > 0 && html`<nav aria-label="Prossimi giorni"><ul class="day-strip">
      ${days.map((d, i) => html`<li><button type="button" class="secondary small" aria-pressed=${d === date ? "true" : "false"}
        onClick=${() => { setDate(d); setNews(""); }}>${i === 0 ? "Oggi" : shortDay(d)}</button></li>`)}
    </ul></nav>`}
    ${error && html`<p class="error" role="alert">${error}</p>`}
    ${news && html`<p class="done" role="status" data-testid="agenda-news">${news}</p>`}
    ${loading && !view && html`<p role="status">Caricamento…</p>`}
    ${view && view.office === office && html`<${Day} view=${view} today=${today} named=${named} reload=${() => load()}
      setNews=${setNews} />
      <div class="buttons">
        <button type="button" aria-expanded=${panel === "book" ? "true" : "false"}
          onClick=${() => { setPanel(panel === "book" ? "" : "book"); setNews(""); }}>Nuova prenotazione</button>
        <button type="button" class="secondary" aria-expanded=${panel === "close" ? "true" : "false"}
          onClick=${() => { setPanel(panel === "close" ? "" : "close"); setNews(""); }}>Blocca orari o giorno</button>
      </div>
      ${panel === "book" && html`<${DeskBooking} tenant=${tenant} services=${services} day=${view.date} done=${after} />`}
      ${panel === "close" && html`<${Closure} view=${view} done=${after} />`}
      <h2>Esporta</h2>
      <${ExportButtons} what="agenda" label=${`Esporta gli appuntamenti di ${EXPORT_DAYS} giorni da ${longDay(view.date)}`}
        download=${(format) => downloadAgenda(office, view.date, addDays(view.date, EXPORT_DAYS - 1), format)} />
      <p class="hint">Il file comprende gli appuntamenti di ${EXPORT_DAYS} giorni a partire da quello mostrato, con nomi
        e telefoni: ogni esportazione è registrata.</p>`}`;
}

function Day({ view, today, named, reload, setNews }) {
  const [busy, setBusy] = useState("");
  const [asked, setAsked] = useState(""); // the code whose cancellation waits for a confirmation
  const [error, setError] = useState("");
  const past = today && view.date <= today; // presence is marked from the appointment's day
  const act = async (code, action, message) => {
    setBusy(code); setError(""); setNews("");
    try {
      await action();
      setNews(message);
      setAsked("");
      reload();
    } catch (e) {
      setError(e.message);
    } finally {
      setBusy("");
    }
  };
  return html`
    <section aria-labelledby="ag-day" class="agenda-day">
      <h2 id="ag-day" data-testid="agenda-day">${longDay(view.date)}</h2>
      ${view.closed ? html`<p class="error" data-testid="agenda-closed">Ufficio chiuso questo giorno (festività o chiusura).</p>`
        : html`<p>Orario: ${view.hours.length ? view.hours.join(", ") : "nessuna apertura"}</p>`}
      ${view.walk_in.length > 0 && html`<p class="walk-in" data-testid="agenda-walk-in"><strong>Accesso libero, senza
        appuntamento:</strong> ${view.walk_in.map(named).join(", ")} (in orario di apertura).</p>`}
      ${error && html`<p class="error" role="alert">${error}</p>`}
      ${view.counters.map((c) => html`<section aria-labelledby=${`ag-c-${c.id}`} class="panel">
        <h3 id=${`ag-c-${c.id}`}>${c.name}</h3>
        ${c.blocked.length > 0 && html`<p class="blocked">Orari bloccati: ${ranges(c.blocked).join(", ")}</p>`}
        ${!c.bookings.length ? html`<p>Nessun appuntamento.</p>` : html`<table class="appointments">
          <caption class="visually-hidden">Appuntamenti di ${c.name}, ${longDay(view.date)}</caption>
          <thead><tr><th scope="col">Ora</th><th scope="col">Servizio</th><th scope="col">Persona</th>
            <th scope="col">Codice</th><th scope="col">Stato</th><th scope="col">Azioni</th></tr></thead>
          <tbody>${c.bookings.map((b) => html`<tr data-code=${b.code}>
            <td>${time(b.start)}–${time(b.end)}</td>
            <td>${b.service_name}</td>
            <td>${b.name || "—"}${b.phone && html`<br /><small>${b.phone}</small>`}${b.note && html`<br /><small>Nota: ${b.note}</small>`}</td>
            <td>${b.code}<br /><small>${APPOINTMENT_SOURCE[b.source] || b.source}</small></td>
            <td><span class=${"badge a-" + b.status} data-testid="appointment-status">${APPOINTMENT_STATUS[b.status] || b.status}</span></td>
            <td class="actions">${b.status === "booked" && html`<div class="buttons">
              ${past && html`<button type="button" class="small" disabled=${busy === b.code}
                aria-label=${`Presente: ${b.name || b.code} alle ${time(b.start)}`}
                onClick=${() => act(b.code, () => markAttendance(b.code, true), `${b.name || b.code}: presente.`)}>Presente</button>
              <button type="button" class="small secondary" disabled=${busy === b.code}
                aria-label=${`Assente: ${b.name || b.code} alle ${time(b.start)}`}
                onClick=${() => act(b.code, () => markAttendance(b.code, false), `${b.name || b.code}: assente.`)}>Assente</button>`}
              ${!past && asked !== b.code && html`<button type="button" class="small secondary"
                aria-label=${`Annulla l'appuntamento di ${b.name || b.code} alle ${time(b.start)}`}
                onClick=${() => setAsked(b.code)}>Annulla</button>`}
              ${asked === b.code && html`<span role="group" aria-label="Conferma l'annullamento">Il cittadino sarà avvisato.
                <button type="button" class="small danger" disabled=${busy === b.code}
                  onClick=${() => act(b.code, () => cancelAppointment(b.code), `Appuntamento ${b.code} annullato.`)}>Conferma l'annullamento</button>
                <button type="button" class="small secondary" onClick=${() => setAsked("")}>Lascia</button></span>`}
            </div>`}</td>
          </tr>`)}</tbody></table>`}
      </section>`)}
    </section>`;
}

function DeskBooking({ tenant, services, day, done }) {
  const [service, setService] = useState(services.length ? services[0].id : "");
  const [date, setDate] = useState(day);
  const [times, setTimes] = useState(null);
  const [start, setStart] = useState("");
  const [name, setName] = useState("");
  const [phone, setPhone] = useState("");
  const [note, setNote] = useState("");
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  const [asked, setAsked] = useState(0); // the free times asked again (after a time went meanwhile)
  useEffect(() => {
    setTimes(null); setStart("");
    if (!service || !date || !tenant) return;
    getAgendaFreeTimes(tenant.id, service, date).then((a) => { setTimes(a.items); setStart(a.items.length ? a.items[0].start : ""); })
      .catch((e) => setError(e.message));
  }, [service, date, asked, tenant && tenant.id]);

  const submit = async (event) => {
    event.preventDefault();
    if (!start) { setError("Scegli un orario libero."); return; }
    if (name.trim().length < 3) { setError("Scrivi nome e cognome (da 3 a 80 caratteri)."); return; }
    setBusy(true); setError("");
    try {
      const made = await bookAtDesk({ service, start, name: name.trim(), ...(phone.trim() ? { phone: phone.trim() } : {}),
        ...(note.trim() ? { note: note.trim() } : {}) });
      done(`Prenotato: ${made.booking.service_name}, ${longDay(made.booking.start.slice(0, 10))} alle ${time(made.booking.start)}, codice ${made.booking.code}.`);
    } catch (e) {
      setError(e.message);
      if (e.code === "slot_taken") setAsked((n) => n + 1);
    } finally {
      setBusy(false);
    }
  };
  return html`<form class="panel desk-booking" onSubmit=${submit} aria-labelledby="ag-book-title" novalidate>
    <h2 id="ag-book-title">Nuova prenotazione (allo sportello o al telefono)</h2>
    <p class="hint">Gli orari sono quelli liberi per i cittadini: stesse regole di preavviso e di apertura.</p>
    <div class="two-fields">
      <div><label for="ag-b-service">Servizio</label>
        <select id="ag-b-service" value=${service} onChange=${(e) => setService(e.target.value)}>
          ${services.map((s) => html`<option value=${s.id}>${s.name}</option>`)}
        </select></div>
      <div><label for="ag-b-date">Giorno</label>
        <input id="ag-b-date" type="date" value=${date} onChange=${(e) => setDate(e.target.value)} /></div>
      <div><label for="ag-b-time">Ora</label>
        <select id="ag-b-time" value=${start} onChange=${(e) => setStart(e.target.value)} disabled=${!times || !times.length}>
          ${times && !times.length && html`<option value="">Nessun orario libero</option>`}
          ${(times || []).map((t) => html`<option value=${t.start}>${t.time}</option>`)}
        </select></div>
    </div>
    <div class="two-fields">
      <div><label for="ag-b-name">Nome e cognome</label>
        <input id="ag-b-name" type="text" maxlength="80" autocomplete="off" value=${name} onInput=${(e) => setName(e.target.value)} /></div>
      <div><label for="ag-b-phone">Telefono (facoltativo: per avvisarlo su WhatsApp)</label>
        <input id="ag-b-phone" type="tel" maxlength="32" autocomplete="off" value=${phone} onInput=${(e) => setPhone(e.target.value)} /></div>
    </div>
    <label for="ag-b-note">Nota (facoltativa)</label>
    <textarea id="ag-b-note" rows="2" maxlength="500" value=${note} onInput=${(e) => setNote(e.target.value)}></textarea>
    ${error && html`<p class="error" role="alert">${error}</p>`}
    <button type="submit" disabled=${busy}>Prenota</button>
  </form>`;
}

function Closure({ view, done }) {
  const [counter, setCounter] = useState("");
  const [from, setFrom] = useState("");
  const [to, setTo] = useState("");
  const [reason, setReason] = useState("");
  const [confirming, setConfirming] = useState(false);
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  const [fresh, setFresh] = useState(null); // the day as read when the closure was asked: what it counts
  const hit = affected(fresh || view, counter, from, to);
  const where = counter ? view.counters.find((c) => c.id === counter).name : "tutti gli sportelli";
  const span = from || to ? `dalle ${from || "apertura"} alle ${to || "chiusura"}` : "tutto il giorno";

  const ask = (event) => {
    event.preventDefault();
    setError("");
    if ((from && to && from >= to)) { setError("L'inizio deve venire prima della fine."); return; }
    setBusy(true);
    getAgendaDay(view.office, view.date).then((v) => { setFresh(v); setConfirming(true); })
      .catch((e) => setError(e.message)).finally(() => setBusy(false));
  };
  const close = async () => {
    setBusy(true); setError("");
    try {
      const result = await closeAgenda({ office: view.office, date: view.date, ...(counter ? { counter } : {}),
        ...(from ? { start: from } : {}), ...(to ? { end: to } : {}), ...(reason.trim() ? { reason: reason.trim() } : {}) });
      done(`Chiusura registrata: ${result.cancelled} ${result.cancelled === 1 ? "prenotazione annullata" : "prenotazioni annullate"}, `
        + `${result.told} ${result.told === 1 ? "cittadino avvisato" : "cittadini avvisati"} su WhatsApp.`);
    } catch (e) {
      setError(e.message);
      setConfirming(false);
    } finally {
      setBusy(false);
    }
  };
  return html`<form class="panel" onSubmit=${ask} aria-labelledby="ag-close-title" novalidate>
    <h2 id="ag-close-title">Blocca orari o giorno: ${longDay(view.date)}</h2>
    <p class="hint">Nessuno potrà prenotare gli orari bloccati. Le prenotazioni già fatte lì sono annullate e ogni
      cittadino riceve un messaggio con il motivo.</p>
    <div class="two-fields">
      <div><label for="ag-x-counter">Sportello</label>
        <select id="ag-x-counter" value=${counter} onChange=${(e) => { setCounter(e.target.value); setConfirming(false); }}>
          <option value="">Tutti gli sportelli</option>
          ${view.counters.map((c) => html`<option value=${c.id}>${c.name}</option>`)}
        </select></div>
      <div><label for="ag-x-from">Dalle (vuoto: tutto il giorno)</label>
        <input id="ag-x-from" type="time" step="300" value=${from} onInput=${(e) => { setFrom(e.target.value); setConfirming(false); }} /></div>
      <div><label for="ag-x-to">Alle</label>
        <input id="ag-x-to" type="time" step="300" value=${to} onInput=${(e) => { setTo(e.target.value); setConfirming(false); }} /></div>
    </div>
    <label for="ag-x-reason">Motivo (detto ai cittadini)</label>
    <input id="ag-x-reason" type="text" maxlength="200" value=${reason} placeholder="es. assemblea del personale"
      onInput=${(e) => setReason(e.target.value)} />
    ${error && html`<p class="error" role="alert">${error}</p>`}
    ${!confirming && html`<button type="submit" disabled=${busy}>Blocca…</button>`}
    ${confirming && html`<div class="confirm" role="group" aria-label="Conferma la chiusura">
      <p data-testid="closure-count">Blocchi ${span} di ${longDay(view.date)} per ${where}:
        <strong>${hit.length === 0 ? "nessuna prenotazione da annullare" : hit.length === 1
          ? "1 prenotazione sarà annullata" : `${hit.length} prenotazioni saranno annullate`}</strong>${hit.length ? " e i cittadini avvisati." : "."}</p>
      <div class="buttons">
        <button type="button" class="danger" disabled=${busy} onClick=${close}>Conferma la chiusura</button>
        <button type="button" class="secondary" onClick=${() => setConfirming(false)}>Torna indietro</button>
      </div>
    </div>`}
  </form>`;
}
