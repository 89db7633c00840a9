// The API client core of both apps: the runtime settings (/config.json), a JSON fetch wrapper, failures as ApiError.

// The settings served next to the apps (in AWS from S3, in make dev written by the local web server).
export async function loadConfig() {
  const answer = await fetch("/config.json", { cache: "no-store" });
  if (!answer.ok) throw new Error(`config.json: ${answer.status}`);
  return answer.json();
}

// A call that failed: its HTTP status (0: no answer), the API's error code and details, and describe's words
// for people (each app words its own: describe(status, error, body)).
export class ApiError extends Error {
  constructor(status, body, describe) {
    const error = (body && body.error) || {};
    super(describe(status, error, body));
    this.status = status;
    this.code = error.code;
    this.details = error.details || [];
  }
}

// One call: body as JSON, or as it is with its contentType; the answer's JSON (null when it has none).
export async function request(url, { method = "GET", headers = {}, body, contentType, describe }) {
  const sent = { method, headers: { Accept: "application/json", ...headers } };
  if (body !== undefined) {
    sent.headers["Content-Type"] = contentType || "application/json";
    sent.body = contentType ? body : JSON.stringify(body);
  }
  let answer;
  try {
    answer = await fetch(url, sent);
  } catch {
    throw new ApiError(0, null, describe);
  }
  const data = await answer.json().catch(() => null);
  if (!answer.ok) throw new ApiError(answer.status, data, describe);
  return data;
}
