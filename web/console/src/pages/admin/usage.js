// Consumi e costi: not built yet (issue 15); its helper replaces this file.
import { html } from "@filo/shared/html";

export function UsagePage() {
  return html`<h1 tabindex="-1">Consumi e costi</h1><p>Non ancora disponibile.</p>`;
}
