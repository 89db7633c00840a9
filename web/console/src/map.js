// The console's map of reports: the hamlets' outlines (names on hover) and a dot per report in its status's colour.
import { useEffect, useRef } from "preact/hooks";
import { html } from "@filo/shared/html";
import { addHamlets, createMap, reportMarker } from "@filo/shared/map";
import { STATUS } from "./labels.js";

const COLORS = {
  new: "#c0392b", triaged: "#d35400", assigned: "#2471a3", forwarded: "#7d3c98", in_progress: "#1f618d",
  resolved: "#1e8449", rejected: "#616a6b", duplicate: "#616a6b",
};

export function ReportMap({ config, hamlets, reports = [], label, onSelect, height = 320 }) {
  const box = useRef(null);
  const state = useRef({});

  useEffect(() => {
    const map = createMap(box.current, config);
    const outlines = addHamlets(map, hamlets || { type: "FeatureCollection", features: [] }, { namesOnHover: true });
    state.current = { map, outlines, markers: [] };
    return () => map.remove();
  }, []);

  useEffect(() => {
    const { map, markers, outlines } = state.current;
    if (!map) return;
    markers.splice(0).forEach((marker) => marker.remove());
    for (const r of reports.filter((report) => report.location)) {
      const marker = reportMarker(r.location, COLORS[r.status] || "#333")
        .bindTooltip(`${r.number} · ${STATUS[r.status] || r.status}`).addTo(map);
      if (onSelect) marker.on("click", () => onSelect(r));
      markers.push(marker);
    }
    const points = markers.map((marker) => marker.getLatLng());
    if (points.length === 1 && reports.length === 1) map.setView(points[0], 14);
    else if (!outlines.getBounds().isValid() && points.length) map.fitBounds(points, { padding: [20, 20] });
  }, [reports]);

  return html`<div class="map" ref=${box} style=${`height:${height}px`} role="region" aria-label=${label}></div>`;
}
