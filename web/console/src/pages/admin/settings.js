// Impostazioni: not built yet (issue 15); its helper replaces this file.
import { html } from "@filo/shared/html";

export function SettingsPage() {
  return html`<h1 tabindex="-1">Impostazioni</h1><p>Non ancora disponibile.</p>`;
}
