// How the portal displays a report: its dates, and its marker (red while open, green once resolved).
import { reportMarker } from "@filo/shared/map";

export function formatDate(iso) {
  return new Date(iso).toLocaleDateString("it-IT", { day: "2-digit", month: "2-digit", year: "numeric" });
}

export function markerOf(report) {
  return reportMarker(report.location, report.open ? "#c0392b" : "#2e7d32");
}
