// The sign-in page: demo users and the dev-only password in make dev, Cognito's hosted UI in AWS. In make dev a
// member an administrator invited signs in with their email ("Altro utente") and the emailed temporary password,
// then chooses a new one, as the hosted UI asks in AWS.
const OTHER = "__altro__";
import { useState } from "preact/hooks";
import { html } from "@filo/shared/html";
import { localNewPassword, localSignIn } from "../auth.js";
import { ROLE } from "../labels.js";

export function SignIn({ config, notice, onSignedIn }) {
  const users = (config.auth && config.auth.users) || [];
  const [username, setUsername] = useState(users.length ? users[0].username : "");
  const [password, setPassword] = useState("");
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  const [email, setEmail] = useState("");
  const [challenge, setChallenge] = useState(null); // { username, session } while a new password is asked for
  const [fresh, setFresh] = useState("");
  const [again, setAgain] = useState("");

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
    const name = username === OTHER ? email.trim() : username;
    try {
      const asked = await localSignIn(name, password);
      if (asked) {
        setChallenge({ username: name, session: asked.session });
        setPassword("");
      } else {
        onSignedIn();
      }
    } catch (e) {
      setError(e.message);
    } finally {
      setBusy(false);
    }
  };

  const choose = async (event) => {
    event.preventDefault();
    setError("");
    if (fresh !== again) {
      setError("Le due password non coincidono.");
      return;
    }
    setBusy(true);
    try {
      await localNewPassword(challenge.username, challenge.session, fresh);
      onSignedIn();
    } catch (e) {
      setError(e.message);
      if (/scaduta/.test(e.message)) setChallenge(null);
    } finally {
      setBusy(false);
    }
  };

  if (challenge) {
    return html`<main class="signin" id="contenuto">
      <h1>Scegli una nuova password</h1>
      <p>Primo accesso di <strong>${challenge.username}</strong>: la password temporanea va sostituita.</p>
      <form onSubmit=${choose}>
        <label for="new-password">Nuova password</label>
        <input id="new-password" type="password" autocomplete="new-password" required minlength="6" value=${fresh}
          onInput=${(e) => setFresh(e.target.value)} />
        <label for="new-password-again">Ripeti la nuova password</label>
        <input id="new-password-again" type="password" autocomplete="new-password" required minlength="6" value=${again}
          onInput=${(e) => setAgain(e.target.value)} />
        ${error && html`<p class="error" role="alert">${error}</p>`}
        <button type="submit" disabled=${busy}>Salva e accedi</button>
      </form>
    </main>`;
  }

  return html`<main class="signin" id="contenuto">
    <h1>Console del Comune</h1>
    ${notice && html`<p role="status">${notice}</p>`}
    <form onSubmit=${submit} aria-describedby="demo-help">
      <label for="username">Utente</label>
      <select id="username" value=${username} onChange=${(e) => setUsername(e.target.value)}>
        ${users.map((u) => html`<option value=${u.username}>${u.username} — ${u.name}</option>`)}
        <option value=${OTHER}>Altro utente (email)</option>
      </select>
      ${username === OTHER && html`
        <label for="email">Email</label>
        <input id="email" type="email" autocomplete="username" required value=${email} onInput=${(e) => setEmail(e.target.value)} />`}
      <label for="password">Password</label>
      <input id="password" type="password" autocomplete="current-password" required value=${password}
        onInput=${(e) => setPassword(e.target.value)} />
      ${error && html`<p class="error" role="alert">${error}</p>`}
      <button type="submit" disabled=${busy}>Accedi</button>
    </form>
    <section id="demo-help" class="help">
      <h2>Ambiente di prova (make dev)</h2>
      <p>Un utente per ruolo; la password di prova è stampata da <code>make dev</code> e scritta in <code>.local/dev.json</code>
        (<code>staff_password</code>).</p>
      <ul>${users.map((u) => html`<li><code>${u.username}</code>: ${u.roles.map((r) => ROLE[r] || r).join(", ")}</li>`)}</ul>
      <p>Chi è stato invitato da <em>Amministrazione › Personale</em> sceglie «Altro utente» e usa la password
        temporanea dell'email d'invito (in <code>make dev</code> le email sono quelle di SES su moto:
        <code>/moto-api/data.json</code> sulla porta di moto).</p>
    </section>
  </main>`;
}
