// The staff API on the same origin (api_base from /config.json), with the signed-in staff member's token.
import { forget, session } from "./auth.js";

let base = "";
let onSignedOut = () => {};

export function configure(apiBase, signedOut) {
  base = apiBase || "";
  onSignedOut = signedOut;
}

export class ApiError extends Error {
  constructor(status, body) {
    const error = (body && body.error) || {};
    super(messageFor(status, error));
    this.status = status;
    this.code = error.code;
    this.details = error.details;
  }
}

function messageFor(status, error) {
  if (status === 403) return "Non hai i permessi per questa operazione.";
  if (status === 404) return "Non trovato (o non visibile con il tuo ruolo).";
  if (status === 409) return "Operazione non consentita nello stato attuale: ricarica e riprova.";
  if (status === 401) return "Sessione scaduta: accedi di nuovo.";
  if (status === 422) {
    const details = (error.details || []).map((d) => `${d.field}: ${d.message}`).join("; ");
    return `Dati non validi${error.message ? ": " + error.message : ""}${details ? " (" + details + ")" : ""}`;
  }
  if (status === 429) return "Troppe richieste: attendi qualche secondo.";
  return `Errore del server (${status}): riprova tra poco.`;
}

export async function api(path, { method = "GET", body, contentType } = {}) {
  const current = session();
  const headers = {};
  if (current) headers.Authorization = `Bearer ${current.token}`;
  let payload = body;
  if (body !== undefined && !contentType) {
    headers["Content-Type"] = "application/json";
    payload = JSON.stringify(body);
  } else if (contentType) {
    headers["Content-Type"] = contentType;
  }
  let answer;
  try {
    answer = await fetch(base + path, { method, headers, body: payload });
  } catch {
    throw new ApiError(0, { error: { message: "rete non raggiungibile" } });
  }
  if (answer.status === 204) return null;
  const data = await answer.json().catch(() => null);
  if (answer.status === 401) {
    forget();
    onSignedOut("Sessione scaduta: accedi di nuovo.");
  }
  if (!answer.ok) throw new ApiError(answer.status, data);
  return data;
}

export function query(params) {
  const clean = Object.entries(params).filter(([, v]) => v !== undefined && v !== null && v !== "");
  return clean.length ? "?" + new URLSearchParams(clean).toString() : "";
}
