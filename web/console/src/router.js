// Hash routes (#/segnalazioni/2026-0000042): static hosting needs no server-side routes.
export function go(path) {
  window.location.hash = "#/" + path;
}
