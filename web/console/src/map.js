// Leaflet maps: tiles from the tiles_url setting when there is one; hamlet outlines and markers always (no tiles needed).
import { useEffect, useRef } from "preact/hooks";
import L from "leaflet";
import "leaflet/dist/leaflet.css";
import { html } from "@filo/shared/html";
import { STATUS } from "./labels.js";

const COLORS = {
  new: "#c0392b", triaged: "#d35400", assigned: "#2471a3", forwarded: "#7d3c98", in_progress: "#1f618d",
  resolved: "#1e8449", rejected: "#616a6b", duplicate: "#616a6b",
};

export function ReportMap({ config, hamlets, reports = [], label, onSelect, height = 320 }) {
  const box = useRef(null);
  const state = useRef({});

  useEffect(() => {
    const map = L.map(box.current, { zoomControl: true, attributionControl: Boolean(config.tiles_url) });
    if (config.tiles_url) {
      L.tileLayer(config.tiles_url, { maxZoom: 19, attribution: config.tiles_attribution || "" }).addTo(map);
    }
    const outlines = L.geoJSON(hamlets || { type: "FeatureCollection", features: [] }, {
      style: { color: "#1a5276", weight: 2, fillColor: "#aed6f1", fillOpacity: 0.18 },
      onEachFeature: (feature, layer) => layer.bindTooltip(feature.properties.name, { sticky: true }),
    }).addTo(map);
    const markers = L.layerGroup().addTo(map);
    state.current = { map, outlines, markers };
    const bounds = outlines.getBounds();
    if (bounds.isValid()) map.fitBounds(bounds, { padding: [12, 12] });
    else map.setView([43.72, 10.95], 12);
    return () => map.remove();
  }, []);

  useEffect(() => {
    const { map, markers, outlines } = state.current;
    if (!map) return;
    markers.clearLayers();
    const points = [];
    for (const r of reports) {
      if (!r.location) continue;
      const at = [r.location.latitude, r.location.longitude];
      points.push(at);
      const marker = L.circleMarker(at, {
        radius: 8, color: "#fff", weight: 2, fillColor: COLORS[r.status] || "#333", fillOpacity: 0.95,
      }).bindTooltip(`${r.number} · ${STATUS[r.status] || r.status}`);
      if (onSelect) marker.on("click", () => onSelect(r));
      markers.addLayer(marker);
    }
    if (points.length === 1 && reports.length === 1) map.setView(points[0], 14);
    else if (!outlines.getBounds().isValid() && points.length) map.fitBounds(points, { padding: [20, 20] });
  }, [reports]);

  return html`<div class="map" ref=${box} style=${`height:${height}px`} role="region" aria-label=${label}></div>`;
}
