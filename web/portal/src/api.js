// The portal's calls: runtime settings from /config.json, then the comune's public API on the same origin.

let settings = { tenant: "", api_base: "", tiles_url: "" };

export async function loadConfig() {
  const answer = await fetch(new URL("/config.json", location.href), { cache: "no-store" });
  if (!answer.ok) throw new Error("config.json: " + answer.status);
  settings = { ...settings, ...(await answer.json()) };
  return settings;
}

export const config = () => settings;

export class ApiError extends Error {
  constructor(status, body) {
    const error = (body && body.error) || {};
    super(error.message || "Il servizio non risponde: riprova tra poco.");
    this.status = status;
    this.code = error.code;
    this.details = error.details || [];
  }
}

async function call(method, path, body) {
  const url = `${settings.api_base || ""}/public/v1/${encodeURIComponent(settings.tenant)}${path}`;
  const options = { method, headers: { Accept: "application/json" } };
  if (body !== undefined) {
    options.headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(body);
  }
  let answer;
  try {
    answer = await fetch(url, options);
  } catch {
    throw new ApiError(0, null);
  }
  const data = await answer.json().catch(() => null);
  if (!answer.ok) {
    const problem = new ApiError(answer.status, data);
    if (answer.status === 413) problem.message = "Le foto sono troppo pesanti: allegane meno o più piccole.";
    if (answer.status === 429 && !data) problem.message = "Troppe richieste: riprova più tardi.";
    throw problem;
  }
  return data;
}

export const getComune = () => call("GET", "/portal");
export const getReports = () => call("GET", "/reports");
export const getStatus = (token) => call("GET", `/status/${encodeURIComponent(token)}`);
export const fileReport = (form) => call("POST", "/reports", form);
export const subscribe = (form) => call("POST", "/subscriptions", form);
