// The citizen portal: a map of public reports, a status view per report, the report form, the subscription form.
// Routes live in the URL fragment (#/segnala, #/r/<token>...), so the static files need no server-side routing
// and a report's token never reaches a server log or a Referer header.
import { render } from "preact";
import { useEffect, useState } from "preact/hooks";
import { html } from "@filo/shared/html";
import { useHashRoute } from "@filo/shared/router";
import { getAgenda, getComune, getVicinato, loadConfig } from "./api.js";
import { BookingPage, ManagePage, askedService } from "./pages/agenda.js";
import { MapPage } from "./pages/map.js";
import { ReportForm } from "./pages/report.js";
import { StatusPage } from "./pages/status.js";
import { SubscribeForm } from "./pages/subscribe.js";
import { VicinatoPage } from "./pages/vicinato.js";
import "./style.css";

const NAV = [
  ["#/", "Mappa delle segnalazioni"],
  ["#/segnala", "Fai una segnalazione"],
  ["#/iscriviti", "Avvisi su WhatsApp"],
  ["#/prenota", "Prenota un appuntamento"], // the agenda (issue 17): shown when the comune has bookable services
  ["#/vicinato", "Controllo del Vicinato"], // Vicinato (issue 16): shown when the comune takes requests from the portal
];

function route(path) {
  const status = path.match(/^r\/([A-Za-z0-9_-]{1,64})$/);
  if (status) return { page: "status", token: status[1] };
  if (path === "segnala") return { page: "report" };
  if (path === "iscriviti") return { page: "subscribe" };
  if (path === "vicinato") return { page: "vicinato" };
  // the agenda (issue 17): #/prenota[?servizio=<id>], a booking's link #/agenda/<tenant>/<token>, and a service
  // page's link /portal/?servizio=<id> (no fragment)
  const booking = path.match(/^agenda\/([A-Za-z0-9_-]{1,64})\/([A-Za-z0-9_.-]{1,300})$/);
  if (booking) return { page: "booking", tenant: booking[1], token: booking[2] };
  if (path === "prenota" || path.startsWith("prenota?") || (!path && askedService())) return { page: "book" };
  return { page: "map" };
}

// After a move: back to the top, and the heading takes the focus.
function moved() {
  window.scrollTo(0, 0);
  const heading = document.querySelector("main h1");
  if (heading) heading.focus();
}

function App({ comune }) {
  const current = useHashRoute(route, moved);
  const here = current.page === "map" ? "#/" : current.page === "report" ? "#/segnala" :
    current.page === "subscribe" ? "#/iscriviti" : current.page === "book" ? "#/prenota" :
    current.page === "vicinato" ? "#/vicinato" : null;
  const [bookable, setBookable] = useState(false);
  useEffect(() => { getAgenda().then((a) => setBookable(a.services.length > 0)).catch(() => setBookable(false)); }, []);
  const [vicinato, setVicinato] = useState(false);
  useEffect(() => { getVicinato().then((v) => setVicinato(v.open)).catch(() => setVicinato(false)); }, []);
  useEffect(() => {
    const titles = { map: "Mappa delle segnalazioni", report: "Fai una segnalazione",
      subscribe: "Avvisi su WhatsApp", status: "Stato della segnalazione", book: "Prenota un appuntamento",
      booking: "Il tuo appuntamento", vicinato: "Controllo del Vicinato" };
    document.title = `${titles[current.page]} - ${comune.name}`;
  }, [current.page]);
  const navItems = NAV.filter(([href]) => (href !== "#/iscriviti" || comune.subscriptions) && (href !== "#/prenota" || bookable)
    && (href !== "#/vicinato" || vicinato));
  return html`
    <a class="skip" href="#contenuto" onClick=${(e) => { e.preventDefault(); document.getElementById("contenuto").focus(); }}>
      Vai al contenuto</a>
    <header class="top">
      <div class="brand"><span class="comune">${comune.name}</span><span class="service">Filo Diretto</span></div>
      <nav aria-label="Sezioni del portale">
        <ul>
          ${navItems.map(([href, label]) => html`
            <li><a href=${href} aria-current=${href === here ? "page" : undefined}>${label}</a></li>`)}
        </ul>
      </nav>
    </header>
    <main id="contenuto" tabindex="-1">
      ${current.page === "map" && html`<${MapPage} comune=${comune} />`}
      ${current.page === "report" && html`<${ReportForm} comune=${comune} />`}
      ${current.page === "subscribe" && html`<${SubscribeForm} comune=${comune} />`}
      ${current.page === "status" && html`<${StatusPage} comune=${comune} token=${current.token} />`}
      ${current.page === "book" && html`<${BookingPage} comune=${comune} />`}
      ${current.page === "booking" && html`<${ManagePage} tenant=${current.tenant} token=${current.token} />`}
      ${current.page === "vicinato" && html`<${VicinatoPage} comune=${comune} />`}
    </main>
    <footer class="bottom">
      ${comune.reports_whatsapp && html`<p>Puoi segnalare anche su WhatsApp al numero ${comune.reports_whatsapp}.</p>`}
      ${comune.privacy_notice_url && html`<p><a href=${comune.privacy_notice_url}>Informativa privacy</a></p>`}
      <p>Per le emergenze chiama il 112.</p>
    </footer>`;
}

async function start() {
  const root = document.getElementById("app");
  try {
    await loadConfig();
    const comune = await getComune();
    render(html`<${App} comune=${comune} />`, root);
  } catch (error) {
    root.innerHTML = "";
    render(html`<main id="contenuto"><h1>Portale non disponibile</h1>
      <p role="alert">Il portale non riesce a caricare i dati del comune: riprova tra qualche minuto.</p></main>`, root);
    console.error(error);
  }
}

start();
