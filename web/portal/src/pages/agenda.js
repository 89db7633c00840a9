// The agenda on the portal (issue 17): book an appointment with an office of the comune in the same steps as on
// WhatsApp (service, day, time, name and contact with consent, a summary with what to bring, Conferma), and the page
// a booking's signed link opens to move or cancel it without login. A comune's service page links here with the
// service chosen: /portal/?servizio=<id> (or #/prenota?servizio=<id>). The slots are the same pool as WhatsApp's.
import { useEffect, useState } from "preact/hooks";
import { html } from "@filo/shared/html";
import {
  bookAppointment, cancelBooking, getAgenda, getAgendaDays, getAgendaTimes, getBooking, getLinkDays, getLinkTimes,
  linkIcsUrl, moveBooking,
} from "../api.js";

const WEEKDAY = { mon: "lunedì", tue: "martedì", wed: "mercoledì", thu: "giovedì", fri: "venerdì", sat: "sabato", sun: "domenica" };
const STATUS = {
  booked: "Confermato", cancelled: "Annullato", released: "Liberato (mancata conferma)", attended: "Concluso",
  no_show: "Assente",
};

// "2026-12-09" as "mercoledì 9 dicembre 2026" (a calendar day: no time zone may shift it)
export function longDay(iso) {
  const [y, m, d] = iso.slice(0, 10).split("-").map(Number);
  return new Date(Date.UTC(y, m - 1, d)).toLocaleDateString("it-IT", {
    weekday: "long", day: "numeric", month: "long", year: "numeric", timeZone: "UTC",
  });
}

const timeOf = (start) => start.slice(11, 16);
const DAYS_SHOWN = 7; // days offered at first; «Mostra altri giorni» adds as many


// A step's error or news, read out by screen readers when it changes.
function Said({ error, text }) {
  return html`${error && html`<p class="error" role="alert">${error}</p>`}
    ${text && html`<p class="message" role="status">${text}</p>`}`;
}

// A group of radio buttons, one per choice: arrows move within it, Tab leaves it (the browser's own keyboard).
function Choices({ legend, name, items, chosen, choose, hint, narrow }) {
  return html`<fieldset class=${"slots" + (narrow ? " narrow" : "")}>
    <legend>${legend}</legend>
    ${hint && html`<p class="hint">${hint}</p>`}
    <div class="slot-list">
      ${items.map((item) => html`<div class="slot">
        <input type="radio" id=${`${name}-${item.id}`} name=${name} value=${item.id} checked=${chosen === item.id}
          onChange=${() => choose(item.id)} />
        <label for=${`${name}-${item.id}`}>${item.label}${item.detail && html`<span class="detail">${item.detail}</span>`}</label>
      </div>`)}
    </div>
  </fieldset>`;
}

// The days with free times of a service, then the times of the chosen day: shared by booking and moving.
function DayAndTime({ service, loadDays, loadTimes, start, setStart, offered, legendDay = "Giorno", legendTime = "Ora" }) {
  const [days, setDays] = useState(null);
  const [day, setDay] = useState("");
  const [times, setTimes] = useState(null);
  const [error, setError] = useState("");
  const [shown, setShown] = useState(DAYS_SHOWN);
  useEffect(() => {
    setDays(null); setDay(""); setTimes(null); setError("");
    if (!service) return;
    loadDays(service.id).then((a) => setDays(a.items)).catch((e) => setError(e.message));
  }, [service && service.id, offered]);
  useEffect(() => {
    setTimes(null);
    if (!day) return;
    loadTimes(service.id, day).then((a) => setTimes(a.items)).catch((e) => setError(e.message));
  }, [day, offered]);
  if (!service) return null;
  if (error) return html`<${Said} error=${error} />`;
  if (!days) return html`<p role="status">Cerco i giorni con posti liberi…</p>`;
  if (!days.length) {
    return html`<p role="status" class="error">Per «${service.name}» non ci sono posti liberi nei prossimi giorni.
      Riprova più avanti oppure contatta l'ufficio.</p>`;
  }
  const shownDays = days.slice(0, Math.max(shown, days.findIndex((d) => d.date === day) + 1));
  return html`
    <${Choices} legend=${legendDay} name="giorno" chosen=${day}
      choose=${(d) => { setDay(d); setStart(""); }}
      items=${shownDays.map((d) => ({ id: d.date, label: longDay(d.date), detail: `${d.free} ${d.free === 1 ? "orario libero" : "orari liberi"}` }))} />
    ${days.length > shownDays.length && html`<p><button type="button" onClick=${() => setShown(shownDays.length + DAYS_SHOWN)}>
      Mostra altri giorni</button></p>`}
    ${day && !times && html`<p role="status">Cerco gli orari liberi…</p>`}
    ${day && times && (times.length ? html`<${Choices} legend=${`${legendTime} (${longDay(day)})`} name="ora" chosen=${start} narrow
      choose=${setStart} items=${times.map((t) => ({ id: t.start, label: t.time }))} />`
      : html`<p role="status" class="error">Per ${longDay(day)} non restano orari liberi: scegli un altro giorno.</p>`)}`;
}

function Facts({ booking, service, office }) {
  return html`<dl class="facts">
    <dt>Servizio</dt><dd>${service.name}</dd>
    <dt>Quando</dt><dd>${longDay(booking.start)} alle ${timeOf(booking.start)}${booking.end ? ` (fino alle ${timeOf(booking.end)})` : ""}</dd>
    <dt>Dove</dt><dd>${office.name}${office.address ? `, ${office.address}` : ""}${booking.counter_name ? ` (${booking.counter_name})` : ""}</dd>
    ${booking.name && html`<dt>A nome di</dt><dd>${booking.name}</dd>`}
    ${service.bring && html`<dt>Da portare</dt><dd data-testid="bring">${service.bring}</dd>`}
  </dl>`;
}

function focusHeading() {
  setTimeout(() => { const h = document.querySelector("main h1"); if (h) h.focus(); }, 0);
}

// The service a link asks for: /portal/?servizio=x or #/prenota?servizio=x.
export function askedService() {
  const fromHash = new URLSearchParams((window.location.hash.split("?")[1]) || "").get("servizio");
  return fromHash || new URLSearchParams(window.location.search).get("servizio") || "";
}

export function BookingPage({ comune }) {
  const [catalogue, setCatalogue] = useState(null);
  const [error, setError] = useState("");
  const [serviceId, setServiceId] = useState(askedService());
  const [start, setStart] = useState("");
  const [name, setName] = useState("");
  const [phone, setPhone] = useState("");
  const [note, setNote] = useState("");
  const [consent, setConsent] = useState(false);
  const [errors, setErrors] = useState({});
  const [step, setStep] = useState("choose"); // choose -> summary -> done
  const [message, setMessage] = useState("");
  const [busy, setBusy] = useState(false);
  const [done, setDone] = useState(null);
  const [gone, setGone] = useState(null); // the next free times when the chosen one just went
  const [offered, setOffered] = useState(0); // asks days and times again

  useEffect(() => {
    getAgenda().then(setCatalogue).catch((e) => setError(e.message));
  }, []);

  if (error) return html`<h1 tabindex="-1">Prenota un appuntamento</h1><${Said} error=${error} />`;
  if (!catalogue) return html`<h1 tabindex="-1">Prenota un appuntamento</h1><p role="status">Caricamento…</p>`;
  const services = catalogue.services;
  const service = services.find((s) => s.id === serviceId) || null;
  const office = service ? catalogue.offices.find((o) => o.id === service.office) || { name: service.office } : null;
  const unknown = serviceId && !service;

  const chooseService = (id) => { setServiceId(id); setStart(""); setGone(null); };

  const toSummary = (event) => {
    event.preventDefault();
    const found = {};
    if (!service) found.service = "Scegli il servizio.";
    else if (!start) found.start = "Scegli il giorno e l'ora.";
    if (name.trim().length < 3) found.name = "Scrivi nome e cognome di chi verrà all'appuntamento.";
    if (!phone.trim()) found.phone = "Scrivi un numero di telefono.";
    if (!consent) found.consent = "Per prenotare bisogna accettare l'informativa privacy.";
    setErrors(found);
    if (Object.keys(found).length) {
      setMessage("Controlla i campi segnalati.");
      const first = { service: "servizio", start: "giorno", name: "ag-name", phone: "ag-phone", consent: "ag-consent" }[Object.keys(found)[0]];
      const target = document.getElementById(first) || document.querySelector(`input[name="${first}"]`);
      if (target) target.focus();
      return;
    }
    setMessage("");
    setStep("summary");
    focusHeading();
  };

  const confirm = async () => {
    setBusy(true);
    setMessage("Prenotazione in corso…");
    try {
      const made = await bookAppointment({ service: service.id, start, name: name.trim(), phone: phone.trim(),
        ...(note.trim() ? { note: note.trim() } : {}), consent: true });
      setDone(made);
      setStep("done");
      setMessage("");
      focusHeading();
    } catch (e) {
      const fields = {};
      for (const detail of e.details || []) if (detail.field && e.code !== "slot_taken") fields[detail.field] = detail.message;
      if (e.code === "slot_taken") {
        setGone((e.details || []).filter((d) => d.message).map((d) => ({ id: d.message, label: `${longDay(d.message)} alle ${d.text || timeOf(d.message)}` })));
        setStart("");
        setOffered((n) => n + 1);
        setStep("choose");
        setMessage(e.message);
      } else {
        setErrors(fields);
        setMessage(e.message);
        if (Object.keys(fields).some((f) => ["name", "phone", "consent", "note"].includes(f))) setStep("choose");
      }
    } finally {
      setBusy(false);
    }
  };

  if (step === "done" && done) {
    const b = done.booking;
    return html`
      <h1 tabindex="-1">Appuntamento prenotato</h1>
      <div class="confirmation" role="status">
        <p class="big">Codice della prenotazione: <strong data-testid="booking-code">${b.code}</strong></p>
        <p>Conservalo: all'ufficio basta dire il codice.</p>
      </div>
      <${Facts} booking=${b} service=${{ name: b.service_name, bring: b.bring }} office=${{ name: b.office_name, address: b.address }} />
      <ul class="actions">
        <li><a href=${done.ics_url} download=${`appuntamento-${b.code}.ics`}>Aggiungi al calendario (file .ics)</a></li>
        <li><a href=${done.manage_url}>Sposta o disdici l'appuntamento</a></li>
      </ul>
      <p class="hint">Il link per spostare o disdire funziona senza registrazione: tienilo per te. Se non puoi venire,
        disdici: il posto torna libero per altri.</p>
      <p><button type="button" onClick=${() => { setDone(null); setStart(""); setStep("choose"); setOffered((n) => n + 1); }}>
        Prenota un altro appuntamento</button></p>`;
  }

  if (step === "summary") {
    return html`
      <h1 tabindex="-1">Riepilogo della prenotazione</h1>
      <p class="lead">Controlla i dati e tocca «Conferma» per prenotare.</p>
      <${Facts} booking=${{ start, name: name.trim() }} service=${service} office=${office} />
      <dl class="facts"><dt>Telefono</dt><dd>${phone.trim()}</dd>${note.trim() && html`<dt>Nota</dt><dd>${note.trim()}</dd>`}</dl>
      <div class="buttons">
        <button type="button" class="primary" disabled=${busy} onClick=${confirm}>Conferma</button>
        <button type="button" disabled=${busy} onClick=${() => { setStep("choose"); focusHeading(); }}>Modifica</button>
      </div>
      <p class="message" role="status" aria-live="polite">${message}</p>`;
  }

  return html`
    <h1 tabindex="-1">Prenota un appuntamento</h1>
    <p class="lead">Scegli il servizio, il giorno e l'ora.${catalogue.whatsapp ? ` Si può prenotare anche su WhatsApp scrivendo PRENOTA al numero ${catalogue.whatsapp}.` : ""}</p>
    ${!services.length && html`<p role="status">Al momento il ${comune.name} non ha servizi prenotabili online.</p>`}
    <form onSubmit=${toSummary} novalidate>
      ${unknown && html`<p class="error" role="alert">Il servizio indicato dal link non è prenotabile: scegline uno dall'elenco.</p>`}
      ${services.length > 0 && html`<fieldset class=${"slots" + (errors.service ? " invalid" : "")}>
        <legend>Servizio</legend>
        <div class="slot-list services">
          ${services.map((s) => {
            const o = catalogue.offices.find((x) => x.id === s.office);
            const walkIn = Object.entries(s.modes || {}).filter(([, m]) => m === "walk_in").map(([d]) => WEEKDAY[d]);
            return html`<div class="slot">
              <input type="radio" id=${`servizio-${s.id}`} name="servizio" value=${s.id} checked=${serviceId === s.id}
                onChange=${() => chooseService(s.id)} />
              <label for=${`servizio-${s.id}`}>${s.name}<span class="detail">${o ? o.name : ""} · ${s.duration_minutes} minuti${
                walkIn.length ? ` · ${walkIn.join(", ")} ad accesso libero, senza appuntamento` : ""}</span></label>
            </div>`;
          })}
        </div>
        ${errors.service && html`<p class="field-error">${errors.service}</p>`}
      </fieldset>`}
      ${service && html`<div class="service-facts">
        <p><strong>${service.name}</strong>: ${office.name}${office.address ? `, ${office.address}` : ""}.</p>
        ${service.description && html`<p>${service.description}</p>`}
        ${service.bring && html`<p data-testid="service-bring"><strong>Da portare:</strong> ${service.bring}</p>`}
      </div>`}
      ${gone && html`<div class="gone" role="alert">
        <p>${message}</p>
        ${gone.length > 0 && html`<${Choices} legend="Orari ancora liberi" name="alternativa" chosen=${start}
          choose=${(s) => setStart(s)} items=${gone} />`}
      </div>`}
      <${DayAndTime} service=${service} loadDays=${getAgendaDays} loadTimes=${getAgendaTimes} start=${start}
        setStart=${(s) => { setStart(s); if (s) { setGone(null); setMessage(""); } }} offered=${offered} />
      ${errors.start && html`<p class="field-error" role="alert">${errors.start}</p>`}
      ${service && html`<fieldset>
        <legend>I tuoi dati</legend>
        <div class=${"field" + (errors.name ? " invalid" : "")}>
          <label for="ag-name">Nome e cognome (obbligatorio)</label>
          <input id="ag-name" name="name" type="text" autocomplete="name" maxlength="80" value=${name}
            aria-invalid=${errors.name ? "true" : undefined} aria-describedby=${errors.name ? "ag-name-error" : undefined}
            onInput=${(e) => setName(e.target.value)} />
          ${errors.name && html`<p class="field-error" id="ag-name-error">${errors.name}</p>`}
        </div>
        <div class=${"field" + (errors.phone ? " invalid" : "")}>
          <label for="ag-phone">Telefono (obbligatorio)</label>
          <p class="hint" id="ag-phone-hint">L'ufficio lo usa solo per questo appuntamento, per esempio se deve annullarlo.</p>
          <input id="ag-phone" name="phone" type="tel" autocomplete="tel" maxlength="32" value=${phone}
            aria-invalid=${errors.phone ? "true" : undefined}
            aria-describedby=${["ag-phone-hint", errors.phone && "ag-phone-error"].filter(Boolean).join(" ")}
            onInput=${(e) => setPhone(e.target.value)} />
          ${errors.phone && html`<p class="field-error" id="ag-phone-error">${errors.phone}</p>`}
        </div>
        <div class=${"field" + (errors.note ? " invalid" : "")}>
          <label for="ag-note">Motivo o nota per l'ufficio (facoltativo)</label>
          <textarea id="ag-note" name="note" rows="2" maxlength="500" value=${note} onInput=${(e) => setNote(e.target.value)}
            aria-describedby=${errors.note ? "ag-note-error" : undefined}></textarea>
          ${errors.note && html`<p class="field-error" id="ag-note-error">${errors.note}</p>`}
        </div>
        <div class=${"field check" + (errors.consent ? " invalid" : "")}>
          <input id="ag-consent" name="consent" type="checkbox" checked=${consent} onChange=${(e) => setConsent(e.target.checked)}
            aria-invalid=${errors.consent ? "true" : undefined} aria-describedby="ag-consent-text" />
          <label for="ag-consent">Ho letto l'informativa privacy e accetto che il ${comune.name} tratti questi dati per l'appuntamento</label>
        </div>
        <p class="hint" id="ag-consent-text">Nome, telefono, servizio, giorno, ora e nota servono solo a gestire
          l'appuntamento e sono cancellati dopo il periodo di conservazione stabilito dal comune.${" "}
          ${comune.privacy_notice_url && html`<a href=${comune.privacy_notice_url}>Leggi l'informativa privacy</a>.`}</p>
        ${errors.consent && html`<p class="field-error" role="alert">${errors.consent}</p>`}
      </fieldset>`}
      ${service && html`<p><button type="submit" class="primary">Vai al riepilogo</button></p>`}
      ${!gone && html`<p class="message" role="status" aria-live="polite">${message}</p>`}
    </form>`;
}

// The page a booking's link opens: what, when, where, what to bring; move it or cancel it (no login).
export function ManagePage({ tenant, token }) {
  const [booking, setBooking] = useState(null);
  const [error, setError] = useState("");
  const [mode, setMode] = useState(""); // "", "move", "cancel"
  const [start, setStart] = useState("");
  const [message, setMessage] = useState("");
  const [busy, setBusy] = useState(false);
  const [offered, setOffered] = useState(0);

  useEffect(() => {
    getBooking(tenant, token).then(setBooking).catch((e) => setError(e.message));
  }, [tenant, token]);

  if (error && !booking) return html`<h1 tabindex="-1">Appuntamento</h1><${Said} error=${error} />`;
  if (!booking) return html`<h1 tabindex="-1">Appuntamento</h1><p role="status">Caricamento…</p>`;
  const active = booking.status === "booked";

  const run = async (action) => {
    setBusy(true); setError(""); setMessage("");
    try {
      const after = await action();
      setBooking(after);
      setMode(""); setStart("");
      return after;
    } catch (e) {
      if (e.code === "slot_taken") { setStart(""); setOffered((n) => n + 1); }
      setError(e.message);
      return null;
    } finally {
      setBusy(false);
    }
  };
  const cancel = async () => {
    if (await run(() => cancelBooking(tenant, token))) setMessage("Appuntamento disdetto: il posto è di nuovo libero. Grazie di averci avvisato.");
  };
  const move = async (event) => {
    event.preventDefault();
    if (!start) { setError("Scegli il nuovo giorno e la nuova ora."); return; }
    const after = await run(() => moveBooking(tenant, token, start));
    if (after) setMessage(`Appuntamento spostato a ${longDay(after.start)} alle ${timeOf(after.start)}. Il posto di prima è di nuovo libero.`);
  };

  return html`
    <h1 tabindex="-1">Appuntamento ${booking.code}</h1>
    <p>Stato: <strong class=${"badge " + (active ? "open" : "closed")} data-testid="booking-status">${STATUS[booking.status] || booking.status}</strong></p>
    <${Facts} booking=${booking} service=${{ name: booking.service_name, bring: booking.bring }}
      office=${{ name: booking.office_name, address: booking.address }} />
    ${message && html`<p class="message ok" role="status">${message}</p>`}
    ${error && html`<p class="error" role="alert">${error}</p>`}
    ${active && html`<ul class="actions">
      <li><a href=${linkIcsUrl(tenant, token)} download=${`appuntamento-${booking.code}.ics`}>Aggiungi al calendario (file .ics)</a></li>
    </ul>
    <div class="buttons">
      <button type="button" aria-expanded=${mode === "move"} onClick=${() => { setMode(mode === "move" ? "" : "move"); setError(""); }}>Sposta</button>
      <button type="button" aria-expanded=${mode === "cancel"} onClick=${() => { setMode(mode === "cancel" ? "" : "cancel"); setError(""); }}>Disdici</button>
    </div>
    ${mode === "cancel" && html`<div class="confirm-box" role="group" aria-label="Conferma la disdetta">
      <p>Vuoi disdire l'appuntamento di ${longDay(booking.start)} alle ${timeOf(booking.start)}? Il posto tornerà libero per altri.</p>
      <button type="button" class="primary" disabled=${busy} onClick=${cancel}>Sì, disdici l'appuntamento</button>
    </div>`}
    ${mode === "move" && html`<form onSubmit=${move} novalidate>
      <${DayAndTime} service=${{ id: booking.service, name: booking.service_name }} start=${start} setStart=${setStart}
        loadDays=${(s) => getLinkDays(tenant, s)} loadTimes=${(s, d) => getLinkTimes(tenant, s, d)} offered=${offered}
        legendDay="Nuovo giorno" legendTime="Nuova ora" />
      <p><button type="submit" class="primary" disabled=${busy || !start}>Sposta l'appuntamento</button></p>
    </form>`}`}
    <p class="hint">Per prenotare un altro appuntamento: <a href="#/prenota">Prenota un appuntamento</a>.</p>`;
}
