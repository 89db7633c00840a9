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
