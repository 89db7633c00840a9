// The staff API calls of the console, one named function each: the pages call only these.
// Same origin (api_base from /config.json), with the signed-in staff member's token.
import { ApiError, request } from "@filo/shared/api";
import { forget, session } from "./auth.js";

let base = "";
let onSignedOut = () => {};

export function configure(apiBase, signedOut) {
  base = apiBase || "";
  onSignedOut = signedOut;
}

// Italian for staff, per field the API names as at fault (its details[].field): the API's own words are English,
// meant for developers, and never reach the screen (issue 13).
const FIELD = {
  team: "Scegli una squadra: la categoria di questa segnalazione non ne indica una.",
  external_body: "Scegli l'ente competente: la categoria di questa segnalazione non ne indica uno.",
  external_reference: "Il riferimento dell'ente è troppo lungo (al massimo 120 caratteri).",
  category: "Categoria sconosciuta per questo Comune.",
  hamlet: "Frazione sconosciuta per questo Comune.",
  outcome: "Esito non valido: si indica solo per chiudere una segnalazione alla Polizia municipale.",
  into: "Si può unire solo a un'altra segnalazione dello stesso tipo: controlla il numero.",
  assignee: "Scegli una persona dell'ufficio che può seguire questa segnalazione.",
  ids: "Seleziona da 1 a 100 segnalazioni.",
  action: "Azione non valida.",
  note: "La nota è vuota o troppo lunga (al massimo 2000 caratteri).",
  text: "Il testo è vuoto o troppo lungo.",
  to: "Passaggio di stato non valido.",
  kind: "Tipo di segnalazione non valido.",
  status: "Stato non valido.",
  from: "Periodo non valido: la data iniziale deve precedere quella finale (al massimo tre anni).",
  send_at: "Data e ora di invio non valide: al massimo un anno avanti.",
  image_url: "Indirizzo dell'immagine non valido: deve essere un indirizzo web completo (https://…).",
  channel: "Canale non valido.",
  "template.name": "Nome del modello non valido: solo lettere minuscole, cifre e trattini bassi.",
  "template.parameters": "Troppi parametri del modello (al massimo 10).",
  "audience.hamlets": "Troppe frazioni scelte.",
  "audience.topics": "Troppi argomenti scelti.",
  phone: "Numero di telefono non valido.",
  "contact.phone": "Numero di telefono del contatto non valido.",
  "contact.updates_on_whatsapp": "Questo Comune non ha un canale WhatsApp per inviare gli aggiornamenti.",
  "contact.email": "Email del contatto troppo lunga.",
  "contact.name": "Nome del contatto troppo lungo.",
  photos: "Una foto non è valida: si possono allegare fino a 3 foto JPEG, PNG o WebP.",
  position: "Posizione non valida: deve cadere nel territorio del Comune.",
  address: "L'indirizzo è vuoto o troppo lungo (al massimo 300 caratteri).",
  source: "Indica come è arrivata la segnalazione.",
  title: "Il titolo pubblico deve avere da 3 a 120 caratteri.",
  description: "La descrizione pubblica deve avere da 3 a 1000 caratteri.",
  // the usage meter's price table (Consumi e costi)
  valid_from: "La data di inizio del listino deve essere il primo giorno di un mese.",
  currency: "La valuta va scritta con il codice di tre lettere maiuscole, per esempio EUR.",
  service: "Prezzo dei messaggi di servizio non valido: un numero da 0 a 10.",
  utility: "Prezzo dei modelli di utilità non valido: un numero da 0 a 10.",
  marketing: "Prezzo dei modelli di marketing non valido: un numero da 0 a 10.",
  authentication: "Prezzo dei modelli di autenticazione non valido: un numero da 0 a 10.",
  prices: "Listino non valido: controlla date e prezzi (al massimo 60 listini).",
  month: "Mese non valido.",
  boxes: "I riquadri non sono validi: al massimo 20, tutti dentro la foto.",
};

// Fields whose name other forms use too, in Italian for the form that sends them (call's `fields`).
const TEMPLATE_FIELDS = {  // the template form (Amministrazione > Modelli WhatsApp)
  name: "Nome del modello non valido: solo lettere minuscole, cifre e trattini bassi (es. avviso_lavori).",
  language: "Lingua non valida (es. it).",
  header: "L'intestazione ha al massimo 60 caratteri, su una riga e senza parametri.",
  body: "Il testo del modello va da 1 a 1024 caratteri, con i parametri {{1}}, {{2}}… in ordine, e non può iniziare o finire con un parametro.",
  examples: "Serve un esempio per ogni parametro, su una riga.",
  footer: "Il piè di pagina ha al massimo 60 caratteri, su una riga e senza parametri.",
  buttons: "Al massimo 10 pulsanti di risposta rapida, diversi tra loro, di al massimo 25 caratteri.",
  purpose: "Uso del modello non valido per questo canale.",
};
const STAFF_FIELDS = {  // a staff member (Amministrazione > Personale)
  email: "Email non valida: scrivila per intero, per esempio mario.rossi@comune.it.",
  name: "Il nome deve avere da 2 a 80 caratteri.",
  roles: "Scegli almeno un ruolo.",
  teams: "Squadra sconosciuta per questo Comune.",
  enabled: "Stato dell'account non valido.",
};

// Known situations the API words in English, by the start of its message: the Italian for each.
const KNOWN = [
  [/^an image caption holds at most/, "Con un'immagine il testo può avere al massimo 1024 caratteri."],
  [/^give either text or template/, "Scrivi un testo oppure scegli un modello."],
  [/^send_at needs a time zone/, "Data e ora di invio non valide."],
  [/^send_at can be at most/, "Si può programmare un avviso al massimo un anno avanti."],
  [/^unknown hamlet or topic/, "Frazione o argomento sconosciuti per questo Comune."],
  [/^template '.*' is not approved/, "Il modello scelto non è approvato per questo canale."],
  [/^broadcasts go out on a channel/, "Gli avvisi partono solo dal canale degli avvisi."],
  [/^a \w+ broadcast cannot be/, "L'avviso è in uno stato che non consente questa azione: ricarica la pagina."],
  [/^the broadcast changed meanwhile/, "L'avviso è cambiato nel frattempo: ricarica la pagina e riprova."],
  [/^You created \d+ broadcasts/, "Hai creato il numero massimo di avvisi per quest'ora: riprova più tardi."],
  [/^Your comune created \d+ broadcasts/, "Il Comune ha creato il numero massimo di avvisi per oggi: riprova domani."],
  [/^a registered resident needs/, "Un residente registrato deve avere nome, indirizzo e frazione."],
  [/^phone: /, "Numero di telefono non valido."],
  [/^the first line must name the columns/, "La prima riga del file deve nominare le colonne, almeno «phone»."],
  [/^at most \d+ rows per import/, "Troppe righe in un solo file: dividilo in più file."],
  [/^line \d+: not readable as CSV/, "Il file non è un CSV leggibile."],
  [/^The file must be UTF-8 text/, "Il file deve essere testo UTF-8 (salva il CSV come UTF-8)."],
  [/^this report is already a duplicate/, "Questa segnalazione è già unita a un'altra."],
  [/^the photos of a safety tip are never published/, "Le foto delle segnalazioni alla Polizia municipale non si pubblicano."],
  [/^only a stored photo with its public copy/, "Si possono pubblicare solo foto già scaricate."],
  [/^a report \w+ cannot become/, "Il passaggio non è consentito dallo stato attuale della segnalazione."],
  [/^a safety tip has no category/, "Le segnalazioni alla Polizia municipale non hanno categoria."],
  [/^a safety tip cannot become/, "Una segnalazione alla Polizia municipale non si assegna a una squadra né si inoltra a un ente."],
  [/^a safety tip is never public/, "Le segnalazioni alla Polizia municipale non hanno un testo pubblico."],
  [/^a safety tip has no category/, "Le segnalazioni alla Polizia municipale non hanno una categoria."],
  [/^the position is outside the comune/, "La posizione è fuori dal territorio del Comune."],
  [/^give at least one of/, "Non c'è nulla da correggere: cambia almeno un dato."],
  [/^The report changed meanwhile/, "La segnalazione è cambiata nel frattempo: ricarica la pagina e riprova."],
];

// One of the API's English sentences (an error's message, a CSV row's error) in Italian; else, fallback.
export function reasonText(message, fallback = "Dati non validi: controlla quanto inserito.") {
  const known = KNOWN.find(([pattern]) => pattern.test(message || ""));
  if (known) return known[1];
  const field = (message || "").match(/^([a-z_.]+): /);
  return (field && FIELD[field[1]]) || fallback;
}

// What a failed call means, in Italian: by HTTP status, the API's error code, the fields at fault and the known
// situations above. error: an ApiError (status, code, message, details) or the API's error body with its status.
export function errorText({ status, code, message, details }, fields = FIELD) {
  if (status === 0) return "Il server non risponde: controlla la connessione e riprova.";
  if (status === 401) return SIGNED_OUT[code] || "Sessione scaduta: accedi di nuovo.";
  if (status === 403) return "Non hai i permessi per questa operazione.";
  if (status === 404) return "Non trovato (o non visibile con il tuo ruolo).";
  if (status === 413) return "Troppi dati in una volta: riduci il testo o il file.";
  if (status === 429) return reasonText(message, "Troppe richieste: attendi qualche secondo.");
  if (status === 409 && code === "template_exists") return "Esiste già un modello con questo nome in questa lingua: scegli un altro nome.";
  if (status === 409 && code === "no_business_account") return "Il canale non ha l'identificativo dell'account WhatsApp Business: chiedi a chi gestisce il servizio di impostarlo.";
  if (status === 502) return "WhatsApp non ha risposto come previsto: riprova tra poco.";
  if (status === 409 && code === "window_closed") {
    return "Sono passate più di 24 ore dall'ultimo messaggio del cittadino: WhatsApp consente di scrivergli solo con un modello approvato.";
  }
  if (status === 409 && code === "stale_version") {
    return "Nel frattempo qualcun altro ha cambiato queste impostazioni: ricarica la pagina e rifai la modifica.";
  }
  if (STAFF_ERROR[code]) return STAFF_ERROR[code];
  if (status === 409) return reasonText(message, "Operazione non consentita nello stato attuale: ricarica e riprova.");
  if (status === 422 && code === "export_too_large") {
    return "Troppe righe per un solo file (al massimo 5.000): restringi i filtri, per esempio il periodo, ed esporta una parte alla volta.";
  }
  if (status === 422 && code === "invalid_phone") return "Numero di telefono non valido: scrivilo per intero, per esempio +39 333 123 4567.";
  if (status === 422 && code === "report_full") {
    return "La segnalazione è al completo: la sua cronologia non può contenere altre note. Un cambio di stato senza nota è ancora possibile; per continuare apri una nuova segnalazione e cita questa.";
  }
  if (status === 422 && code === "invalid_settings") { // each detail carries the API's Italian text
    const texts = [...new Set((details || []).map((d) => d.text).filter(Boolean))];
    return texts.length ? texts.join(" ") : "Impostazioni non valide: controlla quanto inserito.";
  }
  if (status === 400 || status === 415 || status === 422) {
    const texts = (details || []).map((d) => fields[d.field] || fields[(d.field || "").split(".")[0]]
      || reasonText((d.message || "").replace(/^Value error, /, ""), "")).filter(Boolean);
    if (texts.length) return [...new Set(texts)].join(" ");
    return reasonText(message);
  }
  if (status === 503) return "Servizio momentaneamente non disponibile: riprova tra poco.";
  return `Errore del server (${status}): riprova tra poco.`;
}

// Why the API refused a signed-in member (the roster, services/admin/staff.py): the sign-in page says it.
const SIGNED_OUT = {
  account_disabled: "Il tuo account è disabilitato: rivolgiti all'amministratore del Comune.",
  roles_changed: "I tuoi ruoli sono cambiati: accedi di nuovo.",
};
// The staff administration's refusals (Amministrazione › Personale), by the API's error code.
const STAFF_ERROR = {
  last_admin: "È l'ultimo amministratore attivo del Comune: prima nomina un altro amministratore.",
  user_exists: "Esiste già un utente con questa email.",
  changed_meanwhile: "Il personale è cambiato nel frattempo: ricarica la pagina e riprova.",
  not_in_directory: "Questa persona non ha un utente nel sistema di accesso: non c'è una password da reimpostare.",
  identity_unavailable: "Il sistema di accesso non ha completato l'operazione: riprova tra poco.",
};

const describer = (fields) => (status, error) => errorText({ status, ...error }, fields ? { ...FIELD, ...fields } : FIELD);

// A 401 ends the session: the console goes back to the sign-in page with a notice.
async function call(path, { method = "GET", body, contentType, fields } = {}) {
  const describe = describer(fields);
  const current = session();
  const headers = current ? { Authorization: `Bearer ${current.token}` } : {};
  try {
    return await request(base + path, { method, headers, body, contentType, describe });
  } catch (error) {
    if (error.status === 401) {
      forget();
      onSignedOut(SIGNED_OUT[error.code] || "Sessione scaduta: accedi di nuovo.");
    }
    throw error;
  }
}

const post = (path, body, fields) => call(path, { method: "POST", body, fields });
const id = (value) => encodeURIComponent(value);

function query(params) {
  const clean = Object.entries(params).filter(([, v]) => v !== undefined && v !== null && v !== "");
  return clean.length ? "?" + new URLSearchParams(clean).toString() : "";
}

// The staff member (name, roles, what they can open: "can") and their comune (hamlets, topics, categories, teams).
export const getMe = () => call("/api/v1/me");
export const getTenant = () => call("/api/v1/tenant");
export const listChannels = () => call("/api/v1/channels");

// Reports and safety tips.
export const listReports = (filters) => call("/api/v1/reports" + query(filters));
export const getReport = (reportId) => call(`/api/v1/reports/${id(reportId)}`);
export const transition = (reportId, body) => post(`/api/v1/reports/${id(reportId)}/transitions`, body);
export const addNote = (reportId, body) => post(`/api/v1/reports/${id(reportId)}/notes`, body);
export const mergeReport = (reportId, body) => post(`/api/v1/reports/${id(reportId)}/merge`, body);
export const publishPhoto = (reportId, photoId) =>
  post(`/api/v1/reports/${id(reportId)}/photos/${id(photoId)}/publish`);
// Many reports at once (action: triage, assign, category, close, merge, assignee), and who can be put in charge.
export const bulkReports = (body) => post("/api/v1/reports/bulk", body);
export const listAssignees = (kind) => call("/api/v1/reports/assignees" + query({ kind }));
export const assignReport = (reportId, body) => post(`/api/v1/reports/${id(reportId)}/assignee`, body);
export const createReport = (body) => post("/api/v1/reports", body);
export const correctReport = (reportId, body) => call(`/api/v1/reports/${id(reportId)}`, { method: "PATCH", body });
export const approvePublicText = (reportId, body) =>
  call(`/api/v1/reports/${id(reportId)}/public-text`, { method: "PUT", body });
export const redactPhoto = (reportId, photoId, boxes) =>
  call(`/api/v1/reports/${id(reportId)}/photos/${id(photoId)}/redaction`, { method: "PUT", body: { boxes } });
export const reportKpis = (filters) => call("/api/v1/reports/kpis" + query(filters));
// New reports and tips nobody has opened yet: counts per kind and the oldest (the badge, the "Da vedere" list).
export const getArrivals = () => call("/api/v1/reports/arrivals");

// Broadcasts; action is one of pause, resume, schedule, cancel.
export const previewBroadcast = (body) => post("/api/v1/broadcast-preview", body);
export const createBroadcast = (body) => post("/api/v1/broadcasts", body);
export const listBroadcasts = (filters) => call("/api/v1/broadcasts" + query(filters));
export const getBroadcast = (broadcastId) => call(`/api/v1/broadcasts/${id(broadcastId)}`);
export const controlBroadcast = (broadcastId, action) => post(`/api/v1/broadcasts/${id(broadcastId)}/${action}`);

// Subscribers of a channel.
export const listSubscribers = (filters) => call("/api/v1/subscribers" + query(filters));
export const addSubscriber = (body) => post("/api/v1/subscribers", body);
export const importSubscribers = (channel, csv) =>
  call("/api/v1/subscribers/import" + query({ channel }), { method: "POST", body: csv, contentType: "text/csv" });
export const eraseSubscriber = (channel, subscriber) =>
  call(`/api/v1/subscribers/${id(subscriber)}` + query({ channel }), { method: "DELETE" });
export const subscriberGrowth = (weeks) => call("/api/v1/stats/subscribers" + query({ weeks }));

// Messaggi: two-way conversations with citizens; conversationId is "<channel>.<citizen key>" as listed.
export const listConversations = (filters) => call("/api/v1/conversations" + query(filters));
export const unreadConversations = () => call("/api/v1/conversations/unread");
export const getConversation = (conversationId) => call(`/api/v1/conversations/${id(conversationId)}`);
export const replyToConversation = (conversationId, body) => post(`/api/v1/conversations/${id(conversationId)}/replies`, body);
export const assignConversation = (conversationId, body) => post(`/api/v1/conversations/${id(conversationId)}/assign`, body);
export const setConversationStatus = (conversationId, body) => post(`/api/v1/conversations/${id(conversationId)}/status`, body);
// Exports (what: reports, broadcasts or subscribers; format: csv or xlsx) saved as the file the API names, and one
// citizen's view (by phone number or bsuid:<id>). A download needs the token, so it is fetched, not linked.
const XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

// API Gateway answers binary media (the XLSX, a ZIP) as bytes only when the request's first Accept type is one of them
const accepting = (format) => (format === "xlsx" ? XLSX : "text/csv, application/json");

export const downloadExport = (what, format, filters = {}) =>
  downloadFile(`/api/v1/exports/${what}` + query({ ...filters, format }), accepting(format), `${what}.${format}`);

// Any file of the API (path with its query), saved under the name the API gives (else fallback); the name returned.
export async function downloadFile(path, accept, fallback) {
  const current = session();
  const headers = { Accept: accept, ...(current ? { Authorization: `Bearer ${current.token}` } : {}) };
  let answer;
  try {
    answer = await fetch(base + path, { headers });
  } catch {
    throw new ApiError(0, null, describer());
  }
  if (!answer.ok) {
    const data = await answer.json().catch(() => null);
    if (answer.status === 401) {
      forget();
      onSignedOut("Sessione scaduta: accedi di nuovo.");
    }
    throw new ApiError(answer.status, data, describer());
  }
  const name = fileName(answer.headers.get("Content-Disposition")) || fallback;
  const link = document.createElement("a");
  link.href = URL.createObjectURL(await answer.blob());
  link.download = name;
  document.body.appendChild(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 60000);
  return name;
}

function fileName(disposition) {
  const utf8 = (disposition || "").match(/filename\*=UTF-8''([^;]+)/i);
  if (utf8) return decodeURIComponent(utf8[1]);
  const plain = (disposition || "").match(/filename="([^"]+)"/i);
  return plain && plain[1];
}

export const getCitizen = (phone) => call(`/api/v1/citizens/${id(phone)}`);

// Amministrazione (administrators): the audit log viewer (filters: actor, action, object, from, to; cursor) and the
// privacy desk (one phone number: preview of its erasure, the erasure, its archive; the log of requests handled).
export const listAudit = (filters) => call("/api/v1/audit" + query(filters));
export const getAuditFilters = () => call("/api/v1/audit/filters");
export const downloadAudit = (format, filters = {}) =>
  downloadFile("/api/v1/audit/export" + query({ ...filters, format }), accepting(format), `registro-accessi.${format}`);
export const previewErasure = (phone) => post("/api/v1/privacy/preview", { phone });
export const erasePerson = (phone) => post("/api/v1/privacy/erase", { phone });
export const downloadPersonArchive = (phone) =>
  downloadFile("/api/v1/privacy/archive" + query({ phone }), "application/zip", "dati-personali.zip");
export const listPrivacyRequests = (phone) => call("/api/v1/privacy/requests" + query({ phone }));
// WhatsApp templates of a channel, as Meta holds them (fit: "notice" for the composer), created for Meta's review,
// refreshed from Meta, and chosen for a purpose (notice, subscription_confirm...).
export const listTemplates = (channel, fit) => call(`/api/v1/channels/${id(channel)}/templates` + query({ fit }));
export const createTemplate = (channel, body) => post(`/api/v1/channels/${id(channel)}/templates`, body, TEMPLATE_FIELDS);
export const refreshTemplates = (channel) => post(`/api/v1/channels/${id(channel)}/templates/refresh`);
export const chooseTemplate = (channel, purpose, body) =>
  call(`/api/v1/channels/${id(channel)}/templates/purposes/${id(purpose)}`, { method: "PUT", body, fields: TEMPLATE_FIELDS });
// Consumi e costi: messages per channel and month, the estimated cost, the price table.
export const getUsage = (month) => call("/api/v1/usage" + query({ month }));
export const getPrices = () => call("/api/v1/usage/prices");
export const savePrices = (body) => call("/api/v1/usage/prices", { method: "PUT", body });
// Amministrazione › Personale: the comune's staff (list, invite, change roles, teams, name, enabled; resets).
export const listStaff = () => call("/api/v1/staff");
export const inviteStaff = (body) => post("/api/v1/staff", body, STAFF_FIELDS);
export const changeStaff = (memberId, body) => call(`/api/v1/staff/${id(memberId)}`, { method: "PATCH", body, fields: STAFF_FIELDS });
export const resetStaffPassword = (memberId) => post(`/api/v1/staff/${id(memberId)}/reset-password`);
export const resetStaffMfa = (memberId) => post(`/api/v1/staff/${id(memberId)}/reset-mfa`);

// The comune's settings (administrators): sections saved one at a time over the version read, GeoJSON outlines
// read and checked (not saved), a channel's knobs and texts.
export const getSettings = () => call("/api/v1/settings");
export const saveSettings = (section, body) => call(`/api/v1/settings/${id(section)}`, { method: "PUT", body });
export const importHamletOutlines = (text) =>
  call("/api/v1/settings/hamlets/import", { method: "POST", body: text, contentType: "application/geo+json" });
export const getChannelSettings = (channel) => call(`/api/v1/channels/${id(channel)}/settings`);
export const saveChannelSettings = (channel, body) =>
  call(`/api/v1/channels/${id(channel)}/settings`, { method: "PUT", body });
// Allerte (issue 19): the comune's civil-protection alerts; a draft is approved with controlBroadcast(id, "schedule")
export const getAlerts = () => call("/api/v1/alerts");

// Vicinato (neighbourhood watch, docs/vicinato.md): zones with their counts and coordinators; people (the police see
// identity, the administration only coordinators and stand-ins); join requests and the police's decision; the ID
// photo's short-lived link (police); the relay's cases; notices to zones (police); the monthly report per zone.
const VICINATO_FIELDS = {
  zone: "Scegli una zona del Vicinato.",
  zones: "Scegli almeno una zona.",
  role: "Ruolo non valido: coordinatore o vice.",
  name: "Il nome va da 3 a 120 caratteri.",
  address: "L'indirizzo va da 4 a 200 caratteri.",
  prefettura_date: "Data del nulla osta non valida.",
  prefettura_ref: "Il riferimento della Prefettura ha al massimo 100 caratteri.",
  text: "Il testo dell'avviso è vuoto o troppo lungo (al massimo 3800 caratteri).",
  priority: "Priorità non valida.",
  note: "La nota ha al massimo 500 caratteri.",
};
export const listVicinatoZones = () => call("/api/v1/vicinato/zones");
export const listVicinatoReferents = () => call("/api/v1/vicinato/referents");
export const listVicinatoPeople = (filters) => call("/api/v1/vicinato/people" + query(filters));
export const appointVicinatoCoordinator = (body) => post("/api/v1/vicinato/coordinators", body, VICINATO_FIELDS);
export const promoteVicinatoMember = (personId, body) =>
  post(`/api/v1/vicinato/people/${id(personId)}/appointment`, body, VICINATO_FIELDS);
export const removeVicinatoPerson = (personId) => call(`/api/v1/vicinato/people/${id(personId)}`, { method: "DELETE" });
export const listVicinatoRequests = () => call("/api/v1/vicinato/requests");
export const approveVicinatoRequest = (personId) => post(`/api/v1/vicinato/requests/${id(personId)}/approve`);
export const refuseVicinatoRequest = (personId, note) =>
  post(`/api/v1/vicinato/requests/${id(personId)}/refuse`, { note: note || null }, VICINATO_FIELDS);
export const vicinatoIdPhoto = (personId) => call(`/api/v1/vicinato/people/${id(personId)}/id-photo`);
export const listVicinatoCases = (filters) => call("/api/v1/vicinato/cases" + query(filters));
export const sendVicinatoNotice = (body) => post("/api/v1/vicinato/notices", body, VICINATO_FIELDS);
export const vicinatoMonthly = (month) => call("/api/v1/vicinato/report" + query({ month }));
export const downloadVicinatoMonthly = (month, format = "csv") =>
  downloadFile("/api/v1/vicinato/report/export" + query({ month, format }), accepting(format), `vicinato-${month}.${format}`);

// Agenda (issue 17): an office's day per counter, bookings at the desk or on the phone, presente/assente, a staff
// cancellation, closures of a range or a day, the export; the free times come from the public API the portal uses.
// The agenda's refusals are worded in Italian by the API (api/agenda.py): they are shown as they come.
const AGENDA_FIELDS = {
  service: "Scegli il servizio.", start: "Scegli un orario libero.", name: "Scrivi nome e cognome (da 3 a 80 caratteri).",
  phone: "Numero di telefono non valido.", note: "La nota è troppo lunga (al massimo 500 caratteri).",
  date: "Giorno non valido.", office: "Ufficio non valido.", counter: "Sportello non valido.",
  end: "Indica la fine come HH:MM, dopo l'inizio.", reason: "Il motivo ha al massimo 200 caratteri.",
  present: "Presenza non valida.",
};
const AGENDA_CODES = ["not_bookable", "slot_taken", "not_changeable"];
function agendaText(status, error) {
  const generic = "Some fields are missing or invalid."; // parse_body's English: the fields say what is wrong
  if (AGENDA_CODES.includes(error.code) || (error.code === "invalid_request" && error.message && error.message !== generic)) {
    return error.message;
  }
  return errorText({ status, ...error }, { ...FIELD, ...AGENDA_FIELDS });
}
async function agendaCall(path, { method = "GET", body } = {}) {
  const current = session();
  const headers = current ? { Authorization: `Bearer ${current.token}` } : {};
  try {
    return await request(base + path, { method, headers, body, describe: agendaText });
  } catch (error) {
    if (error.status === 401) {
      forget();
      onSignedOut(SIGNED_OUT[error.code] || "Sessione scaduta: accedi di nuovo.");
    }
    throw error;
  }
}
export const getAgendaCatalogue = () => agendaCall("/api/v1/agenda/catalogue");
export const getAgendaDay = (office, date) => agendaCall("/api/v1/agenda/day" + query({ office, date }));
export const getAgendaFreeTimes = (tenantId, service, date) =>
  agendaCall(`/public/v1/${id(tenantId)}/agenda/services/${id(service)}/slots` + query({ day: date }));
export const bookAtDesk = (body) => agendaCall("/api/v1/agenda/bookings", { method: "POST", body });
export const markAttendance = (code, present) =>
  agendaCall(`/api/v1/agenda/bookings/${id(code)}/attendance`, { method: "POST", body: { present } });
export const cancelAppointment = (code) => agendaCall(`/api/v1/agenda/bookings/${id(code)}/cancel`, { method: "POST" });
export const closeAgenda = (body) => agendaCall("/api/v1/agenda/closures", { method: "POST", body });
export const downloadAgenda = (office, from, to, format) =>
  downloadFile("/api/v1/agenda/export" + query({ office, from, to, format }), accepting(format), `appuntamenti.${format}`);
