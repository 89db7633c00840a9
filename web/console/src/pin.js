// A pin on the comune's map, for the desk form and for correcting a report's position: a click on the map puts it;
// typed coordinates ("43.743, 10.946") are the keyboard's way, and move it too.
import { useEffect, useRef, useState } from "preact/hooks";
import { html } from "@filo/shared/html";
import { addHamlets, createMap, pinMarker } from "@filo/shared/map";

export function parseCoordinates(text) {
  const match = (text || "").trim().match(/^(-?\d{1,2}(?:[.,]\d+)?)\s*[,;\s]\s*(-?\d{1,3}(?:[.,]\d+)?)$/);
  if (!match) return null;
  const [lat, lon] = [match[1], match[2]].map((n) => Number(n.replace(",", ".")));
  return Math.abs(lat) <= 90 && Math.abs(lon) <= 180 ? { latitude: lat, longitude: lon } : null;
}

const shown = (pin) => (pin ? `${pin.latitude.toFixed(5)}, ${pin.longitude.toFixed(5)}` : "");

// pin: {latitude, longitude} or null; onPin(pin) when staff put or move it. id names the coordinates' field.
export function PinPicker({ config, hamlets, pin, onPin, id, label = "Posizione (facoltativa)" }) {
  const element = useRef(null);
  const map = useRef(null);
  const marker = useRef(null);
  const [typed, setTyped] = useState(shown(pin));
  const [invalid, setInvalid] = useState(false);

  useEffect(() => {
    const created = createMap(element.current, config);
    addHamlets(created, hamlets || { type: "FeatureCollection", features: [] }, { namesOnHover: true });
    created.on("click", (event) => onPin({ latitude: event.latlng.lat, longitude: event.latlng.lng }));
    map.current = created;
    return () => { created.remove(); map.current = null; marker.current = null; };
  }, []);

  useEffect(() => {
    if (!map.current) return;
    if (marker.current) { marker.current.remove(); marker.current = null; }
    if (pin) {
      marker.current = pinMarker([pin.latitude, pin.longitude]).addTo(map.current);
      setTyped(shown(pin));
      setInvalid(false);
    }
  }, [pin && pin.latitude, pin && pin.longitude]);

  const apply = () => {
    if (!typed.trim()) { setInvalid(false); onPin(null); return; }
    const parsed = parseCoordinates(typed);
    setInvalid(!parsed);
    if (parsed) {
      onPin(parsed);
      if (map.current) map.current.setView([parsed.latitude, parsed.longitude], 16);
    }
  };

  return html`<div class="pin-picker">
    <label for=${id}>${label}</label>
    <p class="hint" id=${id + "-hint"}>Clicca sulla mappa per mettere il segnaposto, oppure scrivi le coordinate (latitudine, longitudine) e premi Invio.</p>
    <input id=${id} inputmode="decimal" placeholder="es. 43.743, 10.946" value=${typed} aria-describedby=${id + "-hint"}
      aria-invalid=${invalid ? "true" : undefined}
      onInput=${(e) => setTyped(e.target.value)} onBlur=${apply}
      onKeyDown=${(e) => { if (e.key === "Enter") { e.preventDefault(); apply(); } }} />
    ${invalid && html`<p class="field-error" role="alert">Coordinate non valide: scrivi per esempio 43.743, 10.946.</p>`}
    <div class="map form-map" ref=${element} style="height:240px" role="region" aria-label="Mappa: clicca il punto della segnalazione"></div>
  </div>`;
}
