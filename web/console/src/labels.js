// Italian words for the API's codes, and small formatters.
export const STATUS = {
  new: "Nuova", triaged: "Presa in carico", assigned: "Assegnata", forwarded: "Inoltrata",
  in_progress: "In lavorazione", resolved: "Risolta", rejected: "Respinta", duplicate: "Duplicata",
};
export const OPEN = ["new", "triaged", "assigned", "forwarded", "in_progress"];

// Deadlines: the list's filter, a report's state against its next deadline, and what that deadline is for.
export const DUE_FILTER = { overdue: "Scadute", due_soon: "In scadenza" };
export const DUE_STATE = { overdue: "Scaduta il", due_soon: "In scadenza il", on_time: "Entro il" };
export const DEADLINE_STEP = { triaged: "presa in carico", in_progress: "avvio dei lavori", resolved: "chiusura" };

// The words of each lifecycle step (the API lists the steps a report can take now, with their defaults).
export const STEP = {
  triaged: "Prendi in carico", assigned: "Assegna alla squadra", forwarded: "Inoltra all'ente",
  in_progress: "Avvia i lavori", resolved: "Segna come risolta", rejected: "Respingi",
};
// A tip's steps are the police's: no works, no team, no external body.
export const TIP_STEP = { in_progress: "Avvia l'intervento", resolved: "Chiudi la segnalazione", rejected: "Archivia" };
export const STEP_FROM = { resolved: { in_progress: "Riapri" }, rejected: { triaged: "Riapri" } };

export const ACTION = {
  created: "Ricevuta", status: "Stato", note: "Nota", photo: "Foto", audio: "Messaggio vocale", video: "Video", document: "Documento", location: "Posizione", category: "Categoria",
  follower: "Nuovo cittadino interessato", merged: "Unita", forwarded: "Inoltrata", text: "Testo aggiunto",
  follow_requested: "Aggiornamenti WhatsApp chiesti", follow_confirmed: "Aggiornamenti WhatsApp confermati",
  assignee: "In carico a",
  corrected: "Correzione", public_text: "Testo pubblico approvato", photo_redacted: "Foto oscurata",
  photo_published: "Foto pubblicata", photo_unpublished: "Foto ritirata dal portale",
  feedback_asked: "Chiesto ai cittadini se è risolto", feedback: "Risposta del cittadino", external_update: "Aggiornamento dall'ente",
};
// the citizen's answer when a report is resolved, and an external body's status (its private link)
export const FEEDBACK = { resolved: "«Risolto»", not_resolved: "«Non risolto»" };
export const EXTERNAL_STATUS = { taken: "Preso in carico", resolved: "Risolto", not_competent: "Non di competenza" };
// How a subscriber came: by writing ATTIVA, through the web form, added or imported by staff.
export const SUBSCRIBER_SOURCE = { keyword: "Messaggio WhatsApp", web_form: "Modulo web", staff: "Ufficio" };
// Bulk actions on the selected reports, and what happened to each report.
export const BULK_ACTION = {
  triage: "Prendi in carico", assign: "Assegna alla squadra", category: "Cambia categoria", close: "Chiudi",
  merge: "Unisci a un'altra segnalazione", assignee: "Affida a una persona",
};
export const BULK_RESULT = { done: "fatto", unchanged: "già così", refused: "non consentito", not_found: "non trovata" };
// What staff may correct of a report (the timeline's "Correzione" entries name it).
export const CORRECTED = { category: "Categoria", hamlet: "Frazione", position: "Posizione", address: "Indirizzo" };
export const SOURCE = { whatsapp: "WhatsApp", desk: "Sportello", phone: "Telefono", email: "Email", open311: "Open311", web: "Portale", vicinato: "Vicinato" };
export const BROADCAST_STATUS = {
  draft: "Bozza", scheduled: "Programmato", sending: "In invio", paused: "In pausa", completed: "Completato",
  cancelled: "Annullato",
};
export const OUTCOME = {
  patrol_sent: "Pattuglia inviata", no_action: "Nessun intervento", passed_to_carabinieri: "Passata ai Carabinieri",
  passed_to_other: "Passata ad altro ente",
};
export const SUB_STATUS = { active: "Attivo", pending: "In attesa di conferma", stopped: "Disiscritto", none: "Nessuno" };
// Messaggi: a conversation's status, a staff answer's delivery (WhatsApp's status webhooks), what a citizen sent.
export const CONVERSATION_STATUS = { open: "Da gestire", done: "Fatto" };
export const DELIVERY = { queued: "In coda", sent: "Inviato", delivered: "Consegnato", read: "Letto", failed: "Non consegnato", skipped: "Non inviato" };
export const MESSAGE_KIND = {
  image: "Foto", audio: "Audio o vocale", video: "Video", document: "Documento", location: "Posizione",
  reply: "Risposta a un pulsante", button: "Risposta a un pulsante", template: "Modello", other: "Messaggio senza testo",
};
export const ROLE = { admin: "Amministratore", communications: "Comunicazione", technical: "Ufficio tecnico", police: "Polizia municipale" };

export function when(iso) {
  if (!iso) return "—";
  return new Date(iso).toLocaleString("it-IT", { dateStyle: "short", timeStyle: "short", timeZone: "Europe/Rome" });
}

// An ISO date (2026-12-10) as Italians write it: 10/12/2026.
export function day(iso) {
  if (!iso) return "—";
  const [y, m, d] = iso.split("-");
  return `${d}/${m}/${y}`;
}

export function named(list, id) {
  const found = (list || []).find((x) => x.id === id);
  return found ? found.name : id || "—";
}

export function hours(value) {
  if (value === null || value === undefined) return "—";
  if (value < 1) return `${Math.max(1, Math.round(value * 60))} min`;
  return value < 48 ? `${value.toLocaleString("it-IT")} h` : `${(value / 24).toLocaleString("it-IT", { maximumFractionDigits: 1 })} giorni`;
}

export function percent(share) {
  return share === null || share === undefined ? "—" : `${Math.round(share * 100)}%`;
}

// The preview's warnings come in English from the API: the usual ones in Italian, others as they are.
export function warning(text) {
  let m;
  if (text.startsWith("No active subscriber")) return "Nessun iscritto attivo corrisponde a questo pubblico.";
  if ((m = text.match(/^(\d+) recipients are outside the 24-hour window and the channel has no approved notice template/)))
    return `${m[1]} destinatari sono fuori dalla finestra di 24 ore e il canale non ha un modello approvato: non riceveranno il messaggio.`;
  if ((m = text.match(/^Template '(.+)' is (\w+), not approved/))) return `Il modello «${m[1]}» non è approvato (${m[2]}).`;
  if ((m = text.match(/^(\d+) recipients need a template but the channel's messaging limit is (\d+)/)))
    return `${m[1]} destinatari richiedono un modello ma il limite giornaliero del canale è ${m[2]}: WhatsApp rifiuterà gli altri.`;
  if ((m = text.match(/^Template '(.+)' was re-categorised by WhatsApp from (\w+) to (\w+)\./)))
    return recategorised(m[1], m[2], m[3]);
  if ((m = text.match(/^Quiet hours: it will go at (.+)\.$/)))
    return `Fascia silenziosa: partirà alle ${when(m[1])}. Scegli «Allerta» per inviarlo subito.`;
  return "Controlla l'anteprima prima di inviare.";
}

// Why WhatsApp stopped a broadcast, per error code (chalicelib/providers/meta/errors.py says which codes stop a
// channel): what happened and what to do, in Italian. The API's reason is English, with Meta's own text.
const STOPPED = [
  [[131048, 131064], "WhatsApp ha limitato il numero perché troppi messaggi recenti sono stati bloccati o segnalati come spam. Controllate la qualità del numero in WhatsApp Manager prima di riprendere."],
  [[131045, 133016], "Il numero non è registrato correttamente su WhatsApp (registrazione da rifare, o troppi tentativi di registrazione). Riprendete quando la registrazione è di nuovo valida."],
  [[132068, 132069], "Il modulo WhatsApp (flow) del messaggio è bloccato o limitato a 10 invii l'ora. Riprendete quando è di nuovo attivo."],
  [[132000, 132001, 132005, 132007, 132012, 132015, 132016, 131063], "WhatsApp ha rifiutato il modello del messaggio (non approvato, sospeso, disattivato o con parametri sbagliati). Correggete il modello, poi riprendete."],
  [[131051, 131008], "WhatsApp non accetta questo messaggio così com'è. Avvisate chi gestisce il servizio."],
  [[368, 131031], "L'account WhatsApp del Comune è bloccato o limitato per le regole di WhatsApp. Verificate in WhatsApp Manager."],
  [[131042], "L'account WhatsApp del Comune ha un problema di pagamento. Verificate il metodo di pagamento in WhatsApp Manager."],
  // token, authentication, permissions (200-299: "API Permission")
  [[0, 3, 10, 190, 131005, ...Array.from({ length: 100 }, (_, i) => 200 + i)], "WhatsApp non accetta più l'accesso del Comune (credenziali scadute o permessi mancanti). Avvisate chi gestisce il servizio."],
];

function stopped(code) {
  const found = STOPPED.find(([codes]) => codes.includes(code));
  return found ? found[1] : null;
}

// Why a broadcast is paused, as the API records it (English), in Italian: never the API's English on screen.
export function pauseReason(text) {
  if (text === "paused by staff") return "messo in pausa da un operatore";
  let m;
  if ((m = text.match(/^daily message budget reached \((\d+) a day\)/)))
    return `raggiunto il limite di messaggi al giorno del Comune (${m[1]}): riprendi domani o alza il limite`;
  if (!(m = text.match(/^WhatsApp refused the channel \(code (\d+)\)/))) return "vedi il registro dell'invio";
  const words = stopped(Number(m[1]));
  return words ? `${words} (WhatsApp, codice ${m[1]})` : `WhatsApp ha bloccato il numero (codice ${m[1]}): controllalo nel Business Manager di Meta, poi riprendi`;
}
// A channel's kind, as the menu names its section.
export const CHANNEL_KIND = { broadcast: "Avvisi", reports: "Segnalazioni", safety: "Sicurezza" };

// An E.164 number (or its beginning) from what staff type: Italian numbers need no +39; bsuid:<id> stays as it is.
export function typedNumber(typed) {
  const text = typed.trim();
  const digits = text.replace(/\D/g, "");
  if (!digits || text.startsWith("bsuid:")) return text;
  if (text.startsWith("+")) return "+" + digits;
  if (digits.startsWith("00")) return "+" + digits.slice(2);
  return "+39" + digits;
}

// WhatsApp templates (Amministrazione > Modelli WhatsApp): Meta's statuses, categories and rejection reasons.
export const TEMPLATE_STATUS = {
  APPROVED: "Approvato", PENDING: "In revisione", REJECTED: "Rifiutato", PAUSED: "In pausa", DISABLED: "Disattivato",
  IN_APPEAL: "In appello", PENDING_DELETION: "In eliminazione", DELETED: "Eliminato", LIMIT_EXCEEDED: "Oltre il limite",
};
export const TEMPLATE_CATEGORY = { UTILITY: "Di servizio", MARKETING: "Marketing", AUTHENTICATION: "Autenticazione" };
export const REJECTION_REASON = {
  INVALID_FORMAT: "Formato non valido",
  TAG_CONTENT_MISMATCH: "Il contenuto non corrisponde alla categoria scelta",
  ABUSIVE_CONTENT: "Contenuto offensivo o vietato",
  PROMOTIONAL: "Contenuto promozionale in un modello di servizio",
  SCAM: "Contenuto ritenuto ingannevole",
  INCORRECT_CATEGORY: "Categoria non corretta",
};
export const TEMPLATE_PURPOSE = {
  notice: "Avviso fuori dalla finestra di 24 ore", subscription_confirm: "Conferma dell'iscrizione",
  report_update: "Aggiornamento di una segnalazione", follow_confirm: "Conferma per seguire una segnalazione",
  urgent_tip: "Segnalazione urgente al reperibile", report_feedback: "Esito di una segnalazione risolta",
  agenda_reminder: "Promemoria di un appuntamento", agenda_update: "Appuntamento annullato o liberato",
};

export function templateCategory(category) {
  return TEMPLATE_CATEGORY[(category || "").toUpperCase()] || category || "—";
}

export function rejectionReason(reason) {
  return REJECTION_REASON[reason] || (reason ? "Motivo indicato da WhatsApp: " + reason : "Motivo non indicato da WhatsApp");
}

// A template WhatsApp moved to another category: what it means for the comune (cost and delivery), in Italian.
export function recategorised(name, from, to) {
  const marketing = (to || "").toUpperCase() === "MARKETING";
  return `WhatsApp ha spostato il modello «${name}» dalla categoria «${templateCategory(from)}» a «${templateCategory(to)}».`
    + (marketing ? " I messaggi di marketing costano di più, non arrivano a chi ha disattivato il marketing e WhatsApp ne limita la consegna: valuta un modello di servizio."
      : " Il costo per messaggio può cambiare.");
}

// Consumi e costi: WhatsApp's pricing categories, and an amount of money (up to 4 decimals: prices per message).
export const USAGE_CATEGORY = {
  service: "Servizio (testo libero)", utility: "Modelli di utilità", marketing: "Modelli di marketing",
  authentication: "Modelli di autenticazione",
};
export function money(value, currency = "EUR") {
  if (value === null || value === undefined) return "—";
  return new Intl.NumberFormat("it-IT", { style: "currency", currency, minimumFractionDigits: 2, maximumFractionDigits: 4 }).format(value);
}
// This month (YYYY-MM) in Italy.
export function thisMonth() {
  return new Date().toLocaleDateString("sv-SE", { timeZone: "Europe/Rome" }).slice(0, 7);
}
// A YYYY-MM month as Italians say it: dicembre 2026.
export function monthName(month) {
  const [y, m] = month.split("-").map(Number);
  return new Date(Date.UTC(y, m - 1, 15)).toLocaleDateString("it-IT", { month: "long", year: "numeric", timeZone: "UTC" });
}

// Allerte (issue 19)
export const ALERT_LEVEL = { green: "Verde (nessuna allerta)", yellow: "Gialla", orange: "Arancione", red: "Rossa" };
export const ALERT_KIND = { alert: "Allerta", update: "Aggiornamento", end: "Fine allerta" };
export const ALERT_ACTION = { nothing: "Nessun avviso", draft: "Bozza da approvare", auto: "Invio automatico" };
export const ALERT_FEED_STATUS = { ok: "Funziona", failing: "Non risponde", silent: "Silenziosa da oltre un giorno", waiting: "Mai letta" };
export const ALERT_HAZARD = {
  idraulico: "Rischio idraulico", idrogeologico: "Rischio idrogeologico", temporali: "Temporali", vento: "Vento",
  neve: "Neve e ghiaccio", nebbia: "Nebbia", caldo: "Temperature elevate", freddo: "Temperature basse",
  mareggiate: "Mareggiate", incendi: "Incendi boschivi", valanghe: "Valanghe", pioggia: "Pioggia", altro: "Altri fenomeni",
};
// Vicinato (neighbourhood watch): roles and statuses of its people, the relay's cases, archive reasons, the monthly
// report's columns; a forwarded report's steps as the police name them (presa in carico, pattuglia inviata, chiusa
// con esito).
export const VICINATO_ROLE = { member: "Membro", coordinator: "Coordinatore", stand_in: "Vice coordinatore" };
export const VICINATO_STATUS = {
  joining: "Sta compilando la richiesta", pending: "In attesa della Polizia", active: "Attivo", refused: "Rifiutato",
  left: "Uscito",
};
export const VICINATO_CASE = { queued: "Dal coordinatore", forwarded: "Inoltrata alla Polizia", notified: "Zona avvisata", archived: "Archiviata" };
export const VICINATO_STAGE = { coordinator: "coordinatore", stand_in: "vice coordinatore", police: "referente di Polizia" };
export const VICINATO_ARCHIVE = {
  not_relevant: "Non rilevante", duplicate: "Già segnalata", not_vicinato: "Non di competenza del Vicinato",
  insufficient: "Informazioni insufficienti", resolved: "Già risolta",
};
export const VICINATO_REPORT_STATUS = { ...STATUS, in_progress: "Pattuglia inviata", resolved: "Chiusa con esito" };
export const VICINATO_TIP_STEP = { triaged: "Presa in carico", in_progress: "Pattuglia inviata", resolved: "Chiudi con esito", rejected: "Non di competenza" };
export const VICINATO_COLUMN = {
  zone_name: "Zona", members: "Membri", joined: "Entrati", left: "Usciti", reports: "Segnalazioni", urgent: "Urgenti",
  forwarded: "Inoltrate alla Polizia", notified: "Avvisi alla zona", archived: "Archiviate", escalated: "Passate al vice o alla Polizia",
  police_notices: "Avvisi della Polizia", median_minutes_to_forward: "Mediana minuti all'inoltro",
};
// A report forwarded by Vicinato: its status in the police's words; any other report: the usual ones.
export const reportStatus = (report) => (report.source === "vicinato" ? VICINATO_REPORT_STATUS : STATUS)[report.status];
// Agenda (issue 17): a booking's status and where it was made.
export const APPOINTMENT_STATUS = {
  booked: "Prenotato", cancelled: "Annullato", released: "Liberato (senza conferma)", attended: "Presente", no_show: "Assente",
};
export const APPOINTMENT_SOURCE = { whatsapp: "WhatsApp", web: "Portale", desk: "Sportello o telefono" };

// A calendar day (YYYY-MM-DD) as Italians say it (martedì 9 dicembre 2026), and days after it.
export function longDay(iso) {
  const [y, m, d] = iso.split("-").map(Number);
  return new Date(Date.UTC(y, m - 1, d)).toLocaleDateString("it-IT", {
    weekday: "long", day: "numeric", month: "long", year: "numeric", timeZone: "UTC" });
}
export function shortDay(iso) {
  const [y, m, d] = iso.split("-").map(Number);
  return new Date(Date.UTC(y, m - 1, d)).toLocaleDateString("it-IT", { weekday: "short", day: "numeric", month: "short", timeZone: "UTC" });
}
export function addDays(iso, days) {
  const [y, m, d] = iso.split("-").map(Number);
  return new Date(Date.UTC(y, m - 1, d + days)).toISOString().slice(0, 10);
}
