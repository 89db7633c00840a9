// The staff API calls of the console, one named function each: the pages call only these.
// Same origin (api_base from /config.json), with the signed-in staff member's token.
import { request } from "@filo/shared/api";
import { forget, session } from "./auth.js";

let base = "";
let onSignedOut = () => {};

export function configure(apiBase, signedOut) {
  base = apiBase || "";
  onSignedOut = signedOut;
}

function describe(status, error) {
  if (status === 403) return "Non hai i permessi per questa operazione.";
  if (status === 404) return "Non trovato (o non visibile con il tuo ruolo).";
  if (status === 409) return "Operazione non consentita nello stato attuale: ricarica e riprova.";
  if (status === 401) return "Sessione scaduta: accedi di nuovo.";
  if (status === 422 && error.code === "report_full") {
    return "La segnalazione è al completo: la sua cronologia non può contenere altre note. Un cambio di stato senza nota è ancora possibile; per continuare apri una nuova segnalazione e cita questa.";
  }
  if (status === 422) {
    const details = (error.details || []).map((d) => `${d.field}: ${d.message}`).join("; ");
    return `Dati non validi${error.message ? ": " + error.message : ""}${details ? " (" + details + ")" : ""}`;
  }
  if (status === 429) return "Troppe richieste: attendi qualche secondo.";
  return `Errore del server (${status}): riprova tra poco.`;
}

// A 401 ends the session: the console goes back to the sign-in page with a notice.
async function call(path, { method = "GET", body, contentType } = {}) {
  const current = session();
  const headers = current ? { Authorization: `Bearer ${current.token}` } : {};
  try {
    return await request(base + path, { method, headers, body, contentType, describe });
  } catch (error) {
    if (error.status === 401) {
      forget();
      onSignedOut("Sessione scaduta: accedi di nuovo.");
    }
    throw error;
  }
}

const post = (path, body) => call(path, { method: "POST", body });
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
export const reportKpis = (filters) => call("/api/v1/reports/kpis" + query(filters));

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
