// How the portal writes dates for citizens.
export function formatDate(iso) {
  return new Date(iso).toLocaleDateString("it-IT", { day: "2-digit", month: "2-digit", year: "numeric" });
}
