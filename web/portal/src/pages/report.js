// The report form: category, description, the place (a pin on the map, your position, typed coordinates or the
// hamlet), up to three photos shrunk in the browser, and, only if wanted, a phone to follow it on WhatsApp.
import { useEffect, useRef, useState } from "preact/hooks";
import { html } from "@filo/shared/html";
import { MAX_PHOTOS, prepare } from "@filo/shared/photos";
import { addHamlets, createMap, pinMarker } from "@filo/shared/map";
import { config, fileReport } from "../api.js";

function parseCoordinates(text) {
  const match = text.trim().match(/^(-?\d{1,2}(?:[.,]\d+)?)\s*[,;\s]\s*(-?\d{1,3}(?:[.,]\d+)?)$/);
  if (!match) return null;
  const [lat, lon] = [match[1], match[2]].map((n) => Number(n.replace(",", ".")));
  return Math.abs(lat) <= 90 && Math.abs(lon) <= 180 ? { latitude: lat, longitude: lon } : null;
}

// A labelled form field with its hint and its error, announced to screen readers (the portal's forms share it).
export function Field({ id, label, error, hint, children }) {
  return html`<div class=${"field" + (error ? " invalid" : "")}>
    <label for=${id}>${label}</label>
    ${hint && html`<p class="hint" id=${id + "-hint"}>${hint}</p>`}
    ${children}
    ${error && html`<p class="field-error" id=${id + "-error"}>${error}</p>`}
  </div>`;
}

export function describedBy(id, hint, error) {
  return [hint && `${id}-hint`, error && `${id}-error`].filter(Boolean).join(" ") || undefined;
}

// The field people never see (hidden from screen readers too): a bot that fills it is refused by the API.
export function Trap({ id, value, onInput }) {
  return html`<div class="trap" aria-hidden="true">
    <label for=${id}>Non compilare questo campo</label>
    <input id=${id} name="website" type="text" tabindex="-1" autocomplete="off" value=${value} onInput=${onInput} />
  </div>`;
}

export function ReportForm({ comune }) {
  const element = useRef(null);
  const mapRef = useRef(null);
  const pinRef = useRef(null);
  const [category, setCategory] = useState("");
  const [description, setDescription] = useState("");
  const [pin, setPin] = useState(null);
  const [coordinates, setCoordinates] = useState("");
  const [hamlet, setHamlet] = useState("");
  const [address, setAddress] = useState("");
  const [photos, setPhotos] = useState([]);
  const [follow, setFollow] = useState(false);
  const [phone, setPhone] = useState("");
  const [website, setWebsite] = useState("");
  const [errors, setErrors] = useState({});
  const [message, setMessage] = useState("");
  const [busy, setBusy] = useState(false);
  const [done, setDone] = useState(null);

  useEffect(() => {
    if (done) return undefined;
    const map = createMap(element.current, config());
    addHamlets(map, comune.hamlets);
    map.on("click", (event) => setPin({ latitude: event.latlng.lat, longitude: event.latlng.lng }));
    mapRef.current = map;
    return () => { map.remove(); mapRef.current = null; pinRef.current = null; };
  }, [done]);

  useEffect(() => {
    const map = mapRef.current;
    if (!map) return;
    if (pinRef.current) { pinRef.current.remove(); pinRef.current = null; }
    if (pin) {
      pinRef.current = pinMarker([pin.latitude, pin.longitude]).addTo(map);
      setCoordinates(`${pin.latitude.toFixed(5)}, ${pin.longitude.toFixed(5)}`);
    }
  }, [pin]);

  const chooseHamlet = (value) => {
    setHamlet(value);
    const feature = comune.hamlets.features.find((f) => f.id === value);
    if (feature && !pin && mapRef.current) {
      mapRef.current.setView([feature.properties.latitude, feature.properties.longitude], 14);
    }
  };

  const typedCoordinates = (value) => {
    setCoordinates(value);
    if (!value.trim()) { setPin(null); return; }
    const parsed = parseCoordinates(value);
    setErrors((e) => ({ ...e, position: parsed ? undefined : "Scrivi latitudine e longitudine, per esempio 43.74300, 10.94600." }));
    if (parsed) {
      setPin(parsed);
      if (mapRef.current) mapRef.current.setView([parsed.latitude, parsed.longitude], 16);
    }
  };

  const locate = () => {
    if (!navigator.geolocation) { setMessage("Il browser non sa dire dove ti trovi: tocca la mappa o scegli la frazione."); return; }
    setMessage("Cerco la tua posizione…");
    navigator.geolocation.getCurrentPosition((position) => {
      const found = { latitude: position.coords.latitude, longitude: position.coords.longitude };
      setPin(found);
      if (mapRef.current) mapRef.current.setView([found.latitude, found.longitude], 17);
      setMessage("Posizione trovata: controlla il segnaposto sulla mappa.");
    }, () => setMessage("Posizione non disponibile: tocca la mappa o scegli la frazione."), { timeout: 15000 });
  };

  const pickPhotos = async (event) => {
    const files = [...event.target.files];
    event.target.value = "";
    const problems = [];
    const added = [];
    for (const file of files) {
      if (photos.length + added.length >= MAX_PHOTOS) { problems.push(`Al massimo ${MAX_PHOTOS} foto.`); break; }
      const { photo, problem } = await prepare(file);
      if (problem === "file") problems.push(`${file.name}: file troppo grande.`);
      else if (problem === "shrunk") problems.push(`${file.name}: foto troppo grande anche dopo averla ridotta.`);
      else added.push(photo);
    }
    setPhotos([...photos, ...added]);
    setErrors((e) => ({ ...e, photos: problems.join(" ") || undefined }));
  };

  const submit = async (event) => {
    event.preventDefault();
    const found = {};
    if (!category) found.category = "Scegli una categoria.";
    if (description.trim().length < 3) found.description = "Descrivi il problema in poche parole.";
    if (!pin && !hamlet) found.position = "Indica il luogo: tocca la mappa, usa la tua posizione, scrivi le coordinate o scegli la frazione.";
    if (follow && !phone.trim()) found.phone = "Scrivi il numero su cui ricevere gli aggiornamenti.";
    setErrors(found);
    if (Object.keys(found).length) {
      setMessage("Controlla i campi segnalati.");
      const first = document.querySelector(`[name="${Object.keys(found)[0]}"]`);
      if (first) first.focus();
      return;
    }
    setBusy(true);
    setMessage("Invio in corso…");
    try {
      const body = {
        category, description, photos: photos.map((p) => ({ data: p.data })), website,
        ...(pin ? { position: pin } : {}), ...(hamlet ? { hamlet } : {}), ...(address.trim() ? { address: address.trim() } : {}),
        ...(follow ? { follow: { phone, consent: true } } : {}),
      };
      setDone(await fileReport(body));
      setMessage("");
    } catch (error) {
      const fields = {};
      for (const detail of error.details || []) {
        const name = detail.field.startsWith("photos") ? "photos" : detail.field.startsWith("follow") ? "phone" : detail.field;
        fields[name] = detail.message;
      }
      setErrors(fields);
      setMessage(error.message);
    } finally {
      setBusy(false);
    }
  };

  if (done) {
    return html`
      <h1 tabindex="-1">Segnalazione inviata</h1>
      <div class="confirmation" role="status">
        <p class="big">La tua segnalazione ha il numero <strong data-testid="report-number">${done.number}</strong>.</p>
        <p>${done.message}</p>
        <p><a href=${`#/r/${done.token}`}>Segui lo stato della segnalazione n. ${done.number}</a></p>
        <p class="hint">Conserva questo link: è l'unico modo di aprire la pagina della segnalazione dal portale.</p>
      </div>
      <p><button type="button" onClick=${() => { setDone(null); setDescription(""); setPhotos([]); setPin(null); setCoordinates(""); }}>
        Fai un'altra segnalazione</button></p>`;
  }

  return html`
    <h1 tabindex="-1">Fai una segnalazione</h1>
    <p class="lead">Buche, lampioni spenti, rifiuti abbandonati, fossi intasati: dicci cosa e dove.
      Per le emergenze chiama il 112.</p>
    <form onSubmit=${submit} novalidate>
      <${Field} id="category" label="Categoria (obbligatoria)" error=${errors.category}>
        <select id="category" name="category" value=${category} required aria-invalid=${errors.category ? "true" : undefined}
          aria-describedby=${describedBy("category", false, errors.category)} onChange=${(e) => setCategory(e.target.value)}>
          <option value="">Scegli…</option>
          ${comune.categories.map((c) => html`<option value=${c.id}>${c.name}</option>`)}
        </select>
      </${Field}>
      <${Field} id="description" label="Descrizione (obbligatoria)" error=${errors.description}
        hint="Cosa succede e, se serve, un punto di riferimento. Non scrivere dati personali.">
        <textarea id="description" name="description" rows="4" maxlength="2000" required value=${description}
          aria-invalid=${errors.description ? "true" : undefined} aria-describedby=${describedBy("description", true, errors.description)}
          onInput=${(e) => setDescription(e.target.value)}></textarea>
      </${Field}>
      <fieldset class=${errors.position ? "invalid" : ""}>
        <legend>Dove (obbligatorio: uno dei modi)</legend>
        <p class="hint" id="place-hint">Tocca la mappa per mettere il segnaposto, usa la tua posizione, scrivi le coordinate
          oppure scegli la frazione.</p>
        <div class="map form-map" ref=${element} role="region"
          aria-label="Mappa: tocca il punto del problema per metterci il segnaposto"></div>
        <p><button type="button" onClick=${locate}>Usa la mia posizione</button>
          ${pin && html` <button type="button" class="link" onClick=${() => { setPin(null); setCoordinates(""); }}>Togli il segnaposto</button>`}</p>
        <div class="row">
          <${Field} id="coordinates" label="Coordinate (latitudine, longitudine)" hint=${null}>
            <input id="coordinates" name="position" type="text" inputmode="decimal" autocomplete="off" value=${coordinates}
              placeholder="43.74300, 10.94600" aria-describedby="place-hint" onChange=${(e) => typedCoordinates(e.target.value)} />
          </${Field}>
          <${Field} id="hamlet" label="Frazione">
            <select id="hamlet" name="hamlet" value=${hamlet} onChange=${(e) => chooseHamlet(e.target.value)}>
              <option value="">${pin ? "Dal segnaposto" : "Scegli…"}</option>
              ${comune.hamlets.features.map((f) => html`<option value=${f.id}>${f.properties.name}</option>`)}
            </select>
          </${Field}>
        </div>
        <${Field} id="address" label="Indirizzo o punto di riferimento (facoltativo)">
          <input id="address" name="address" type="text" maxlength="200" autocomplete="off" value=${address}
            onInput=${(e) => setAddress(e.target.value)} />
        </${Field}>
        ${errors.position && html`<p class="field-error" role="alert">${errors.position}</p>`}
      </fieldset>
      <${Field} id="photos" label=${`Foto (facoltative, al massimo ${MAX_PHOTOS})`} error=${errors.photos}
        hint="JPEG, PNG o WebP. Le riduciamo prima di inviarle; sul portale compaiono solo se il comune le pubblica, senza dati di posizione.">
        <input id="photos" name="photos" type="file" accept="image/jpeg,image/png,image/webp" multiple
          disabled=${photos.length >= MAX_PHOTOS} aria-describedby=${describedBy("photos", true, errors.photos)} onChange=${pickPhotos} />
      </${Field}>
      ${photos.length > 0 && html`<ul class="picked" aria-label="Foto scelte">
        ${photos.map((p, i) => html`<li><img src=${p.data} alt="" /> ${p.name} (${Math.round(p.size / 1024)} kB)
          <button type="button" class="link" aria-label=${`Togli la foto ${p.name}`}
            onClick=${() => setPhotos(photos.filter((_, j) => j !== i))}>Togli</button></li>`)}
      </ul>`}
      ${comune.follow_on_whatsapp && html`<fieldset>
        <legend>Aggiornamenti su WhatsApp (facoltativo)</legend>
        <div class="check">
          <input id="follow" name="follow" type="checkbox" checked=${follow} onChange=${(e) => setFollow(e.target.checked)}
            aria-describedby="follow-hint" />
          <label for="follow">Voglio ricevere su WhatsApp gli aggiornamenti di questa segnalazione</label>
        </div>
        <p class="hint" id="follow-hint">Il numero serve solo a mandarti gli aggiornamenti di questa segnalazione: lo vede
          soltanto l'ufficio del comune, non compare sul portale e viene cancellato insieme alla segnalazione, alla fine del
          periodo di conservazione.
          ${comune.privacy_notice_url && html`${" "}<a href=${comune.privacy_notice_url}>Informativa privacy</a>.`}${" "}
          Ti scriveremo su WhatsApp per confermare che il numero è tuo: finché non tocchi il pulsante del messaggio
          non ti mandiamo altro. Senza numero la segnalazione è anonima: la segui con il link che ricevi alla fine.</p>
        ${follow && html`<${Field} id="phone" label="Numero di cellulare" error=${errors.phone}>
          <input id="phone" name="phone" type="tel" autocomplete="tel" value=${phone} maxlength="32"
            aria-invalid=${errors.phone ? "true" : undefined} aria-describedby=${describedBy("phone", false, errors.phone)}
            onInput=${(e) => setPhone(e.target.value)} />
        </${Field}>`}
      </fieldset>`}
      <${Trap} id="website" value=${website} onInput=${(e) => setWebsite(e.target.value)} />
      <p><button type="submit" class="primary" disabled=${busy}>Invia la segnalazione</button></p>
      <p class="message" role="status" aria-live="polite">${message}</p>
    </form>`;
}
