// Leaflet maps of the comune: hamlet outlines and report markers drawn from data, tiles only when configured.
// With no tile server (tiles_url empty or unreachable) the map is a plain background with the same layers.
import L from "leaflet";
import "leaflet/dist/leaflet.css";
import { config } from "./api.js";

const OUTLINE = { color: "#1d4e89", weight: 2, fillColor: "#5b8fd1", fillOpacity: 0.08 };

export function createMap(element, label) {
  const map = L.map(element, { zoomControl: false, attributionControl: true });
  L.control.zoom({ zoomInTitle: "Ingrandisci", zoomOutTitle: "Riduci" }).addTo(map);
  map.attributionControl.setPrefix(false);
  map.on("popupopen", (event) => {
    const close = event.popup.getElement()?.querySelector(".leaflet-popup-close-button");
    if (close) { close.setAttribute("aria-label", "Chiudi"); close.setAttribute("title", "Chiudi"); }
  });
  element.setAttribute("role", "region");
  element.setAttribute("aria-label", label);
  const tiles = config().tiles_url;
  if (tiles) {
    // a tile server that does not answer leaves the plain background: the outlines and markers are data
    L.tileLayer(tiles, { maxZoom: 19, attribution: "&copy; OpenStreetMap", errorTileUrl: "" }).addTo(map);
  }
  return map;
}

export function addHamlets(map, hamlets) {
  const layer = L.geoJSON(hamlets, {
    filter: (feature) => Boolean(feature.geometry),
    style: () => OUTLINE,
    onEachFeature: (feature, shape) => {
      shape.bindTooltip(feature.properties.name, { permanent: true, direction: "center", className: "hamlet-label" });
    },
  }).addTo(map);
  const bounds = layer.getBounds();
  if (bounds.isValid()) map.fitBounds(bounds, { padding: [12, 12] });
  else map.setView([42.5, 12.5], 6);
  return layer;
}

export function reportMarker(report) {
  const marker = L.circleMarker([report.location.latitude, report.location.longitude], {
    radius: 9, weight: 2, color: "#fff", fillOpacity: 0.95,
    fillColor: report.open ? "#c0392b" : "#2e7d32", className: "report-marker",
  });
  marker.options.reportNumber = report.number;
  return marker;
}

export function pinMarker(latlng) {
  const icon = L.divIcon({ className: "pin", html: "<span></span>", iconSize: [26, 26], iconAnchor: [13, 26] });
  return L.marker(latlng, { icon, keyboard: false, title: "Luogo della segnalazione", alt: "" });
}

export { L };
