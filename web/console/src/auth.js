// Signing in: the local issuer in make dev (POST /local-auth/token), Cognito's hosted UI (code + PKCE) in AWS.
const KEY = "filo.console.token";
const PKCE_KEY = "filo.console.pkce";

export function decode(token) {
  try {
    const part = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    const json = decodeURIComponent(
      atob(part).split("").map((c) => "%" + c.charCodeAt(0).toString(16).padStart(2, "0")).join(""),
    );
    return JSON.parse(json);
  } catch {
    return null;
  }
}

export function session() {
  const token = sessionStorage.getItem(KEY);
  const claims = token && decode(token);
  if (!claims || (claims.exp && claims.exp * 1000 < Date.now())) {
    sessionStorage.removeItem(KEY);
    return null;
  }
  return { token }; // who it is (name, roles, capabilities) comes from the API (GET /api/v1/me)
}

export function keep(token) {
  sessionStorage.setItem(KEY, token);
}

export function forget() {
  sessionStorage.removeItem(KEY);
}

// make dev's sign-in (its Cognito user pool on moto, as the hosted UI does in AWS): the token, or, for an invited
// member's first sign-in or after a password reset, { challenge: "NEW_PASSWORD_REQUIRED", session } to answer with
// localNewPassword. A refusal throws the server's Italian reason.
export async function localSignIn(username, password) {
  return localAuth({ username, password });
}

export async function localNewPassword(username, session, newPassword) {
  return localAuth({ username, session, new_password: newPassword });
}

async function localAuth(body) {
  let answer;
  try {
    answer = await fetch("/local-auth/token", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
  } catch {
    throw new Error("Il server non risponde: controlla la connessione e riprova.");
  }
  const data = await answer.json().catch(() => null);
  if (!answer.ok) throw new Error((data && data.error && data.error.message) || "Nome utente o password non validi.");
  if (data.challenge) return data;
  keep(data.id_token);
  return null;
}

// ---- Cognito: authorization code with PKCE ---------------------------------------------------------------

function redirectUri(auth) {
  return auth.redirect_uri || window.location.origin + window.location.pathname;
}

function base64url(bytes) {
  return btoa(String.fromCharCode(...new Uint8Array(bytes))).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

export async function cognitoSignIn(auth) {
  const verifier = base64url(crypto.getRandomValues(new Uint8Array(32)));
  const state = base64url(crypto.getRandomValues(new Uint8Array(16)));
  const challenge = base64url(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier)));
  sessionStorage.setItem(PKCE_KEY, JSON.stringify({ verifier, state }));
  const query = new URLSearchParams({
    response_type: "code", client_id: auth.client_id, redirect_uri: redirectUri(auth),
    scope: auth.scopes || "openid email profile", state, code_challenge: challenge, code_challenge_method: "S256",
  });
  window.location.assign(`${auth.domain.replace(/\/$/, "")}/oauth2/authorize?${query}`);
}

// Back from the hosted UI with ?code=...&state=...: trade the code for tokens, keep the ID token.
export async function cognitoCallback(auth) {
  const params = new URLSearchParams(window.location.search);
  const code = params.get("code");
  if (!code) return false;
  const saved = JSON.parse(sessionStorage.getItem(PKCE_KEY) || "{}");
  sessionStorage.removeItem(PKCE_KEY);
  window.history.replaceState(null, "", window.location.pathname + window.location.hash);
  if (!saved.verifier || saved.state !== params.get("state")) throw new Error("Accesso non valido: riprova.");
  const answer = await fetch(`${auth.domain.replace(/\/$/, "")}/oauth2/token`, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({
      grant_type: "authorization_code", client_id: auth.client_id, code, redirect_uri: redirectUri(auth),
      code_verifier: saved.verifier,
    }),
  });
  if (!answer.ok) throw new Error("Accesso non riuscito: riprova.");
  keep((await answer.json()).id_token);
  return true;
}

export function cognitoSignOut(auth) {
  const query = new URLSearchParams({ client_id: auth.client_id, logout_uri: auth.logout_uri || redirectUri(auth) });
  window.location.assign(`${auth.domain.replace(/\/$/, "")}/logout?${query}`);
}
