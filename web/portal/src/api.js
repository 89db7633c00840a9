// The portal's calls: runtime settings from /config.json, then the comune's public API on the same origin.
import { loadConfig as fetchConfig, request } from "@filo/shared/api";

let settings = { tenant: "", api_base: "", tiles_url: "" };

export async function loadConfig() {
  settings = { ...settings, ...(await fetchConfig()) };
  return settings;
}

export const config = () => settings;

function describe(status, error, body) {
  if (status === 413) return "Le foto sono troppo pesanti: allegane meno o più piccole.";
  if (status === 429 && !body) return "Troppe richieste: riprova più tardi.";
  return error.message || "Il servizio non risponde: riprova tra poco.";
}

function call(method, path, body) {
  const url = `${settings.api_base || ""}/public/v1/${encodeURIComponent(settings.tenant)}${path}`;
  return request(url, { method, body, describe });
}

export const getComune = () => call("GET", "/portal");
export const getReports = () => call("GET", "/reports");
export const getStatus = (token) => call("GET", `/status/${encodeURIComponent(token)}`);
export const fileReport = (form) => call("POST", "/reports", form);
export const subscribe = (form) => call("POST", "/subscriptions", form);

// The agenda (issue 17): bookable services, free days and times, a booking; a booking opened by its signed link
// (#/agenda/<tenant>/<token>: the tenant comes from the link, which the WhatsApp confirmation carries too).
const enc = encodeURIComponent;
export const getAgenda = () => call("GET", "/agenda/services");
export const getAgendaDays = (service) => call("GET", `/agenda/services/${enc(service)}/days`);
export const getAgendaTimes = (service, day) => call("GET", `/agenda/services/${enc(service)}/slots?day=${enc(day)}`);
export const bookAppointment = (form) => call("POST", "/agenda/bookings", form);

function linkCall(method, tenant, path, body) {
  const url = `${settings.api_base || ""}/public/v1/${enc(tenant)}/agenda${path}`;
  return request(url, { method, body, describe });
}

export const linkIcsUrl = (tenant, token) =>
  `${settings.api_base || ""}/public/v1/${enc(tenant)}/agenda/b/${enc(token)}/ics`;
export const getBooking = (tenant, token) => linkCall("GET", tenant, `/b/${enc(token)}`);
export const cancelBooking = (tenant, token) => linkCall("POST", tenant, `/b/${enc(token)}/cancel`);
export const moveBooking = (tenant, token, start) => linkCall("POST", tenant, `/b/${enc(token)}/move`, { start });
export const getLinkDays = (tenant, service) => linkCall("GET", tenant, `/services/${enc(service)}/days`);
export const getLinkTimes = (tenant, service, day) =>
  linkCall("GET", tenant, `/services/${enc(service)}/slots?day=${enc(day)}`);

// Vicinato (issue 16): the page's set-up (zones by id and name) and the request to join, confirmed on WhatsApp.
export const getVicinato = () => call("GET", "/vicinato");
export const requestVicinato = (form) => call("POST", "/vicinato/requests", form);
