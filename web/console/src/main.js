// The staff console: sign-in, the sections the staff member can open, and their pages.
// Reports, safety tips, broadcasts, subscribers, dashboard.
import { render } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import { loadConfig } from "@filo/shared/api";
import { html } from "@filo/shared/html";
import { go, hashPath, useHashRoute } from "@filo/shared/router";
import "./style.css";
import { configure, getArrivals, getMe, getTenant, listChannels } from "./api.js";
import { Badge, usePolled } from "./badges.js";
import { cognitoCallback, cognitoSignIn, cognitoSignOut, forget, session } from "./auth.js";
import { ROLE } from "./labels.js";
import { SignIn } from "./pages/signin.js";
import { Inbox } from "./pages/inbox.js";
import { ReportDetail } from "./pages/detail.js";
import { DeskForm } from "./pages/desk.js";
import { Broadcasts } from "./pages/broadcasts.js";
import { Subscribers } from "./pages/subscribers.js";
import { Dashboard } from "./pages/dashboard.js";
import { Messages, MessagesBadge } from "./pages/messages.js";
import { Citizen } from "./pages/citizen.js";
import { ADMIN_PAGES, Admin } from "./pages/admin.js";
import { Alerts } from "./pages/alerts.js";
import { Vicinato } from "./pages/vicinato.js";
import { Agenda } from "./pages/agenda.js";

// Each section and the capability that opens it: GET /api/v1/me lists the staff member's in "can", and the API
// checks the same rules on every call.
const SECTIONS = [
  { path: "segnalazioni", label: "Segnalazioni", capability: "reports" },
  { path: "sicurezza", label: "Sicurezza", capability: "tips" },
  { path: "avvisi", label: "Avvisi", capability: "broadcasts" },
  { path: "iscritti", label: "Iscritti", capability: "subscribers" },
  // Messaggi: the conversations of the channels the staff member's office works (any of these capabilities)
  { path: "messaggi", label: "Messaggi", capability: ["broadcasts", "reports", "tips"], badge: MessagesBadge },
  { path: "cittadino", label: "Cittadino", capability: ["reports", "tips", "broadcasts", "subscribers"] },
  { path: "cruscotto", label: "Cruscotto", capability: "stats" },
  { path: "amministrazione", label: "Amministrazione", capability: ADMIN_PAGES.flatMap((p) => [].concat(p.capability)) },
  { path: "allerte", label: "Allerte", capability: "broadcasts" },
  // Vicinato (neighbourhood watch): the police's join requests, members per zone, notices to zones, members' reports
  { path: "vicinato", label: "Vicinato", capability: "tips" },
  { path: "agenda", label: "Agenda", capability: "agenda" }, // appointments (issue 17): the offices' day view
];

// New arrivals (GET /api/v1/reports/arrivals), asked again this often and after every move: each section's badge
// counts its kind (the report kind of its inbox).
const ARRIVALS_MS = 5000;
const ARRIVAL_KIND = { segnalazioni: "report", sicurezza: "safety" };

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
  const [signedIn, setSignedIn] = useState(session());
  const [me, setMe] = useState(null);
  const [notice, setNotice] = useState("");
  const [tenant, setTenant] = useState(null);
  const [channels, setChannels] = useState([]);
  const route = useHashRoute(segments);
  const main = useRef(null);
  const readsReports = me && (me.can.includes("reports") || me.can.includes("tips"));
  const arrivals = usePolled(readsReports ? getArrivals : null, ARRIVALS_MS, [route.join("/")]);
  const newCount = arrivals ? arrivals.count : 0;
  useEffect(() => { // a tab in the background still shows that something came
    document.title = (newCount ? `(${newCount}) ` : "") + "Filo Diretto · Console del Comune";
  }, [newCount]);

  useEffect(() => {
    configure(config.api_base, (message) => {
      setSignedIn(null);
      setNotice(message);
    });
  }, []);

  useEffect(() => {
    setMe(null);
    if (!signedIn) return;
    getMe().then(setMe).catch((e) => setNotice(e.message));
    getTenant().then(setTenant).catch((e) => setNotice(e.message));
    listChannels().then((c) => setChannels(c.items)).catch(() => {});
  }, [signedIn && signedIn.token]);

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

  if (!signedIn) {
    return html`<${SignIn} config=${config} notice=${notice} onSignedIn=${() => { setNotice(""); setSignedIn(session()); }} />`;
  }

  // Who is signed in: name (the token's name, else email), roles and capabilities, as the API says.
  const who = me;
  const sections = who ? SECTIONS.filter((s) => [].concat(s.capability).some((c) => who.can.includes(c))) : [];
  const [section, id] = route;
  const current = sections.find((s) => s.path === section);
  // The default page, for an address that is no section of this person's; read from the address itself, not from
  // this render's route: a section clicked just after signing in may not have reached the route yet, and would be
  // overridden (seen in a browser test under load)
  if (!current && sections.length && !sections.some((s) => s.path === segments(hashPath())[0])) {
    go(sections[0].path);
  }
  const signOut = () => {
    forget();
    if (config.auth && config.auth.mode === "cognito") cognitoSignOut(config.auth);
    setSignedIn(null);
    setNotice("Sei uscito dalla console.");
  };
  // reloadTenant: after an administrator changes the set-up (hamlets, topics...), every page reads the new one
  const reloadTenant = () => getTenant().then(setTenant).catch((e) => setNotice(e.message));
  const context = { config, tenant, channels, who, arrivals, reloadTenant };
  const waiting = (path) => (arrivals && ARRIVAL_KIND[path] ? arrivals.by_kind[ARRIVAL_KIND[path]] || 0 : 0);
  let page = html`<h1 tabindex="-1">Nessuna sezione</h1><p>Il tuo ruolo non dà accesso a nessuna sezione della console.</p>`;
  if (!who || (current && !tenant)) {
    page = notice ? html`<p class="error" role="alert">${notice}</p>` : html`<p role="status">Caricamento…</p>`;
  } else if (current) {
    if (section === "segnalazioni") page = id ? html`<${ReportDetail} ...${context} id=${id} back="segnalazioni" />` : html`<${Inbox} ...${context} kind="report" />`;
    if (section === "sicurezza") page = id ? html`<${ReportDetail} ...${context} id=${id} back="sicurezza" />` : html`<${Inbox} ...${context} kind="safety" />`;
    // #/segnalazioni/nuova, #/sicurezza/nuova: the desk form (a report id is never "nuova")
    if ((section === "segnalazioni" || section === "sicurezza") && id === "nuova") {
      page = html`<${DeskForm} ...${context} kind=${section === "sicurezza" ? "safety" : "report"} back=${section} />`;
    }
    if (section === "avvisi") page = html`<${Broadcasts} ...${context} id=${id} />`;
    if (section === "iscritti") page = html`<${Subscribers} ...${context} />`;
    if (section === "cittadino") page = html`<${Citizen} ...${context} id=${id} />`;
    if (section === "cruscotto") page = html`<${Dashboard} ...${context} />`;
    if (section === "messaggi") page = html`<${Messages} ...${context} id=${id} />`;
    if (section === "amministrazione") page = html`<${Admin} ...${context} page=${id} rest=${route.slice(2)} />`;
    if (section === "allerte") page = html`<${Alerts} ...${context} />`;
    if (section === "vicinato") page = html`<${Vicinato} ...${context} id=${id} />`;
    if (section === "agenda") page = html`<${Agenda} ...${context} />`;
  }

  return html`
    <a class="skip" href="#contenuto" onClick=${(e) => { e.preventDefault(); main.current.querySelector("h1")?.focus(); }}>Vai al contenuto</a>
    <header class="top">
      <div class="brand"><strong>Filo Diretto</strong> <span>${tenant ? tenant.name : ""}</span></div>
      <nav aria-label="Sezioni">
        <ul>${sections.map((s) => html`<li><a href=${"#/" + s.path} aria-current=${s.path === section ? "page" : undefined}>${s.label}<${Badge} count=${waiting(s.path)} label="da vedere" />${s.badge && html`<${s.badge} />`}</a></li>`)}</ul>
      </nav>
      <div class="who">
        ${who && html`<span aria-label="Utente collegato">${who.name} · <span class="role">${who.roles.map((r) => ROLE[r] || r).join(", ")}</span></span>`}
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
