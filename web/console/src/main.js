// The staff console: sign-in, navigation by role, and the pages (reports, safety tips, broadcasts, subscribers, dashboard).
import { render } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import { loadConfig } from "@filo/shared/api";
import { html } from "@filo/shared/html";
import { go, useHashRoute } from "@filo/shared/router";
import "./style.css";
import { configure, getTenant, listChannels } from "./api.js";
import { cognitoCallback, cognitoSignIn, cognitoSignOut, forget, session } from "./auth.js";
import { ROLE } from "./labels.js";
import { SignIn } from "./pages/signin.js";
import { Inbox } from "./pages/inbox.js";
import { ReportDetail } from "./pages/detail.js";
import { Broadcasts } from "./pages/broadcasts.js";
import { Subscribers } from "./pages/subscribers.js";
import { Dashboard } from "./pages/dashboard.js";

// What each role may open; the API checks the same rules (chalicelib/services/staff_access.py, domain/reports.py).
export const SECTIONS = [
  { path: "segnalazioni", label: "Segnalazioni", roles: ["admin", "technical"] },
  { path: "sicurezza", label: "Sicurezza", roles: ["police"] },
  { path: "avvisi", label: "Avvisi", roles: ["admin", "communications"] },
  { path: "iscritti", label: "Iscritti", roles: ["admin", "communications", "police"] },
  { path: "cruscotto", label: "Cruscotto", roles: ["admin", "communications", "technical", "police"] },
];

function allowed(roles) {
  return SECTIONS.filter((s) => s.roles.some((r) => roles.includes(r)));
}

// #/segnalazioni/2026%2F42 is ["segnalazioni", "2026/42"].
function segments(path) {
  return path.split("/").map((part) => {
    try {
      return decodeURIComponent(part);
    } catch {
      return part;
    }
  });
}

function App({ config }) {
  const [who, setWho] = useState(session());
  const [notice, setNotice] = useState("");
  const [tenant, setTenant] = useState(null);
  const [channels, setChannels] = useState([]);
  const route = useHashRoute(segments);
  const main = useRef(null);

  useEffect(() => {
    configure(config.api_base, (message) => {
      setWho(null);
      setNotice(message);
    });
  }, []);

  useEffect(() => {
    if (!who) return;
    getTenant().then(setTenant).catch((e) => setNotice(e.message));
    listChannels().then((c) => setChannels(c.items)).catch(() => {});
  }, [who && who.token]);

  // After a move to another page, its heading takes the focus (once it is there: pages wait for the comune's set-up).
  const routed = useRef(null);
  const pendingFocus = useRef(false);
  useEffect(() => {
    const path = route.join("/");
    if (routed.current && routed.current !== path) pendingFocus.current = true; // not the landing on the default page
    routed.current = path;
    const heading = main.current && main.current.querySelector("h1");
    if (pendingFocus.current && heading) {
      heading.focus();
      pendingFocus.current = false;
    }
  });

  if (!who) {
    return html`<${SignIn} config=${config} notice=${notice} onSignedIn=${() => { setNotice(""); setWho(session()); }} />`;
  }

  const sections = allowed(who.roles);
  const [section, id] = route;
  const current = sections.find((s) => s.path === section);
  if (!current && sections.length) {
    go(sections[0].path);
  }
  const signOut = () => {
    forget();
    if (config.auth && config.auth.mode === "cognito") cognitoSignOut(config.auth);
    setWho(null);
    setNotice("Sei uscito dalla console.");
  };
  const context = { config, tenant, channels, who };
  let page = html`<h1 tabindex="-1">Nessuna sezione</h1><p>Il tuo ruolo non dà accesso a nessuna sezione della console.</p>`;
  if (current && !tenant) page = html`<p role="status">Caricamento…</p>`;
  else if (current) {
    if (section === "segnalazioni") page = id ? html`<${ReportDetail} ...${context} id=${id} back="segnalazioni" />` : html`<${Inbox} ...${context} kind="report" />`;
    if (section === "sicurezza") page = id ? html`<${ReportDetail} ...${context} id=${id} back="sicurezza" />` : html`<${Inbox} ...${context} kind="safety" />`;
    if (section === "avvisi") page = html`<${Broadcasts} ...${context} id=${id} />`;
    if (section === "iscritti") page = html`<${Subscribers} ...${context} />`;
    if (section === "cruscotto") page = html`<${Dashboard} ...${context} />`;
  }

  return html`
    <a class="skip" href="#contenuto" onClick=${(e) => { e.preventDefault(); main.current.querySelector("h1")?.focus(); }}>Vai al contenuto</a>
    <header class="top">
      <div class="brand"><strong>Filo Diretto</strong> <span>${tenant ? tenant.name : ""}</span></div>
      <nav aria-label="Sezioni">
        <ul>${sections.map((s) => html`<li><a href=${"#/" + s.path} aria-current=${s.path === section ? "page" : undefined}>${s.label}</a></li>`)}</ul>
      </nav>
      <div class="who">
        <span aria-label="Utente collegato">${who.name} · <span class="role">${who.roles.map((r) => ROLE[r] || r).join(", ")}</span></span>
        <button type="button" class="secondary" onClick=${signOut}>Esci</button>
      </div>
    </header>
    <main id="contenuto" ref=${main}>${page}</main>`;
}

async function start() {
  const root = document.getElementById("app");
  let config;
  try {
    config = await loadConfig();
  } catch {
    config = { api_base: "", tiles_url: "", auth: { mode: "local" } };
  }
  config.auth = config.auth || { mode: "local" };
  if (config.auth.mode === "cognito") {
    try {
      await cognitoCallback(config.auth);
    } catch (error) {
      console.warn(error);
    }
  }
  config.signInWithCognito = () => cognitoSignIn(config.auth);
  render(html`<${App} config=${config} />`, root);
}

start();
