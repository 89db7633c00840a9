// Preact with htm tagged templates: components without a JSX build step.
import { h } from "preact";
import htm from "htm";

export const html = htm.bind(h);

export function formatDate(iso) {
  return new Date(iso).toLocaleDateString("it-IT", { day: "2-digit", month: "2-digit", year: "numeric" });
}
