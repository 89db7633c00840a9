// The sign-in page: demo users and the dev-only password in make dev, Cognito's hosted UI in AWS.
import { useState } from "preact/hooks";
import { html } from "@filo/shared/html";
import { localSignIn } from "../auth.js";
import { ROLE } from "../labels.js";

export function SignIn({ config, notice, onSignedIn }) {
  const users = (config.auth && config.auth.users) || [];
  const [username, setUsername] = useState(users.length ? users[0].username : "");
  const [password, setPassword] = useState("");
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);

  if (config.auth.mode === "cognito") {
    return html`<main class="signin" id="contenuto">
      <h1>Console del Comune</h1>
      ${notice && html`<p role="status">${notice}</p>`}
      <p>Accedi con le credenziali del Comune.</p>
      <button type="button" onClick=${config.signInWithCognito}>Accedi</button>
    </main>`;
  }

  const submit = async (event) => {
    event.preventDefault();
    setBusy(true);
    setError("");
    try {
      await localSignIn(username, password);
      onSignedIn();
    } catch (e) {
      setError(e.message);
    } finally {
      setBusy(false);
    }
  };

  return html`<main class="signin" id="contenuto">
    <h1>Console del Comune</h1>
    ${notice && html`<p role="status">${notice}</p>`}
    <form onSubmit=${submit} aria-describedby="demo-help">
      <label for="username">Utente</label>
      <select id="username" value=${username} onChange=${(e) => setUsername(e.target.value)}>
        ${users.map((u) => html`<option value=${u.username}>${u.username} — ${u.name}</option>`)}
      </select>
      <label for="password">Password</label>
      <input id="password" type="password" autocomplete="current-password" required value=${password}
        onInput=${(e) => setPassword(e.target.value)} />
      ${error && html`<p class="error" role="alert">${error}</p>`}
      <button type="submit" disabled=${busy}>Accedi</button>
    </form>
    <section id="demo-help" class="help">
      <h2>Ambiente di prova (make dev)</h2>
      <p>Un utente per ruolo; la password di prova è stampata da <code>make dev</code> e scritta in
        <code>.local/dev.json</code> (<code>staff_password</code>).</p>
      <ul>${users.map((u) => html`<li><code>${u.username}</code>: ${u.roles.map((r) => ROLE[r] || r).join(", ")}</li>`)}</ul>
    </section>
  </main>`;
}
