// Modelli WhatsApp: not built yet (issue 15); its helper replaces this file.
import { html } from "@filo/shared/html";

export function TemplatesPage() {
  return html`<h1 tabindex="-1">Modelli WhatsApp</h1><p>Non ancora disponibile.</p>`;
}
