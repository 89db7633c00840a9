// Amministrazione: what an administrator changes without calling IT, one page per subject (#/amministrazione/<page>).
// Each page lives in pages/admin/ and is listed here once, with the capability that opens it (GET /api/v1/me "can").
import { html } from "@filo/shared/html";
import { StaffPage } from "./admin/staff.js";
import { TemplatesPage } from "./admin/templates.js";
import { SettingsPage } from "./admin/settings.js";
import { AuditPage } from "./admin/audit.js";
import { PrivacyPage } from "./admin/privacy.js";
import { UsagePage } from "./admin/usage.js";
import { VicinatoPage } from "./admin/vicinato.js";

export const ADMIN_PAGES = [
  { path: "personale", label: "Personale", capability: "setup", Page: StaffPage },
  { path: "modelli", label: "Modelli WhatsApp", capability: "setup", Page: TemplatesPage },
  { path: "impostazioni", label: "Impostazioni", capability: "setup", Page: SettingsPage },
  { path: "registro", label: "Registro accessi", capability: "privacy", Page: AuditPage },
  { path: "privacy", label: "Richieste privacy", capability: "privacy", Page: PrivacyPage },
  // read by the administration and the communications office (domain/access.py USAGE_READERS); prices: setup only
  { path: "consumi", label: "Consumi e costi", capability: ["setup", "broadcasts"], Page: UsagePage },
  // Vicinato (neighbourhood watch): zones, the scheme's knobs, police referents, coordinators (pages/admin/vicinato.js)
  { path: "vicinato", label: "Vicinato", capability: "setup", Page: VicinatoPage },
];

export function Admin(props) {
  const { who, page, rest } = props;
  const pages = ADMIN_PAGES.filter((p) => [].concat(p.capability).some((c) => who.can.includes(c)));
  const current = pages.find((p) => p.path === page) || pages[0];
  if (!current) return html`<h1 tabindex="-1">Amministrazione</h1><p>Il tuo ruolo non dà accesso all'amministrazione.</p>`;
  return html`
    <nav class="subnav" aria-label="Amministrazione">
      <ul>${pages.map((p) => html`<li><a href=${"#/amministrazione/" + p.path} aria-current=${p === current ? "page" : undefined}>${p.label}</a></li>`)}</ul>
    </nav>
    <${current.Page} ...${props} rest=${rest} />`;
}
