// Leaflet maps of the comune for both apps: tiles when configured, hamlet outlines and report markers from data.
// With no tile server (tiles_url empty or unreachable) the map is a plain background with the same layers.
import L from "leaflet";
import "leaflet/dist/leaflet.css";

const OUTLINE = { color: "#1d4e89", weight: 2, fillColor: "#5b8fd1", fillOpacity: 0.08 };
const ITALY = [[42.5, 12.5], 6]; // the view when the comune has no hamlet outlines

// A map in element (which names it for screen readers: role="region" and an aria-label); config is /config.json.
export function createMap(element, config) {
  const map = L.map(element, { zoomControl: false, attributionControl: Boolean(config.tiles_url) });
  L.control.zoom({ zoomInTitle: "Ingrandisci", zoomOutTitle: "Riduci" }).addTo(map);
  map.on("popupopen", (event) => {
    const close = event.popup.getElement()?.querySelector(".leaflet-popup-close-button");
    if (close) { close.setAttribute("aria-label", "Chiudi"); close.setAttribute("title", "Chiudi"); }
  });
  if (config.tiles_url) {
    map.attributionControl.setPrefix(false);
    // a tile server that does not answer leaves the plain background: the outlines and markers are data
    L.tileLayer(config.tiles_url, {
      maxZoom: 19, attribution: config.tiles_attribution || "&copy; OpenStreetMap", errorTileUrl: "",
    }).addTo(map);
  }
  return map;
}

// The hamlets (GeoJSON) as outlines with their names, always shown or on hover; the map fits them.
export function addHamlets(map, hamlets, { namesOnHover = false } = {}) {
  const layer = L.geoJSON(hamlets, {
    filter: (feature) => Boolean(feature.geometry),
    style: () => OUTLINE,
    onEachFeature: (feature, shape) => {
      shape.bindTooltip(feature.properties.name, namesOnHover ? { sticky: true }
        : { permanent: true, direction: "center", className: "hamlet-label" });
    },
  }).addTo(map);
  const bounds = layer.getBounds();
  if (bounds.isValid()) map.fitBounds(bounds, { padding: [12, 12] });
  else map.setView(...ITALY);
  return layer;
}

// A report at its location ({latitude, longitude}), a dot in the given colour.
export function reportMarker(location, color) {
  return L.circleMarker([location.latitude, location.longitude], {
    radius: 9, weight: 2, color: "#fff", fillColor: color, fillOpacity: 0.95, className: "report-marker",
  });
}

// The pin a citizen puts where the problem is.
export function pinMarker(latlng) {
  const icon = L.divIcon({ className: "pin", html: "<span></span>", iconSize: [26, 26], iconAnchor: [13, 26] });
  return L.marker(latlng, { icon, keyboard: false, title: "Luogo della segnalazione", alt: "" });
}
