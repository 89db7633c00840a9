// Registro accessi: not built yet (issue 15); its helper replaces this file.
import { html } from "@filo/shared/html";

export function AuditPage() {
  return html`<h1 tabindex="-1">Registro accessi</h1><p>Non ancora disponibile.</p>`;
}
