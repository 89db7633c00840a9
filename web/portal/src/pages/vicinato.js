// «Controllo del Vicinato»: what the scheme is, then the request to join (zone, name, address, WhatsApp number, the ID
// photo when the comune asks for it, consent). The request reaches the Polizia Locale only after the number's owner
// taps «Confermo» on WhatsApp.
import { useEffect, useState } from "preact/hooks";
import { html } from "@filo/shared/html";
import { prepare } from "@filo/shared/photos";
import { getVicinato, requestVicinato } from "../api.js";
import { Field, Trap, describedBy } from "./report.js";

const FIELDS = ["zone", "name", "address", "phone", "id_photo", "consent"];

export function VicinatoPage({ comune }) {
  const [setup, setSetup] = useState(null);
  const [unavailable, setUnavailable] = useState("");
  const [zone, setZone] = useState("");
  const [name, setName] = useState("");
  const [address, setAddress] = useState("");
  const [phone, setPhone] = useState("");
  const [photo, setPhoto] = useState(null);
  const [consent, setConsent] = useState(false);
  const [website, setWebsite] = useState("");
  const [errors, setErrors] = useState({});
  const [message, setMessage] = useState("");
  const [busy, setBusy] = useState(false);
  const [done, setDone] = useState("");

  useEffect(() => {
    getVicinato().then(setSetup).catch((error) => setUnavailable(error.message));
  }, []);

  const pickPhoto = async (event) => {
    const [file] = event.target.files;
    event.target.value = "";
    if (!file) return;
    const { photo: picked, problem } = await prepare(file);
    if (problem) {
      setErrors((e) => ({ ...e, id_photo: problem === "file" ? "File troppo grande: scegli una foto del documento."
        : "Foto troppo grande anche dopo averla ridotta: scegline un'altra." }));
      return;
    }
    setPhoto(picked);
    setErrors((e) => ({ ...e, id_photo: undefined }));
  };

  const focusFirst = (found) => {
    const first = FIELDS.find((f) => found[f]);
    const element = first && document.getElementById(`vic-${first}`);
    if (element) element.focus();
  };

  const submit = async (event) => {
    event.preventDefault();
    const found = {};
    if (!zone) found.zone = "Scegli la tua zona.";
    if (name.trim().split(/\s+/).length < 2) found.name = "Scrivi nome e cognome, come sul documento d'identità.";
    if (address.trim().length < 4) found.address = "Scrivi il tuo indirizzo di residenza (via e numero civico).";
    if (!phone.trim()) found.phone = "Scrivi il tuo numero di cellulare (WhatsApp).";
    if (setup.id_required && !photo) found.id_photo = "Allega una foto del tuo documento d'identità.";
    if (!consent) found.consent = "Per chiedere di entrare bisogna accettare l'informativa privacy.";
    setErrors(found);
    if (Object.keys(found).length) {
      setMessage("Controlla i campi segnalati.");
      focusFirst(found);
      return;
    }
    setBusy(true);
    setMessage("Invio in corso…");
    try {
      const answer = await requestVicinato({
        zone, name, address, phone, consent, website, notice_version: setup.privacy_notice_version,
        ...(photo ? { id_photo: photo.data } : {}),
      });
      setDone(answer.message);
      setMessage("");
    } catch (error) {
      const fields = {};
      for (const detail of error.details || []) fields[FIELDS.includes(detail.field) ? detail.field : "consent"] = detail.message;
      setErrors(fields);
      setMessage(error.message);
      focusFirst(fields);
    } finally {
      setBusy(false);
    }
  };

  if (unavailable) {
    return html`<h1 tabindex="-1">Controllo del Vicinato</h1><p class="message" role="status">${unavailable}</p>`;
  }
  if (!setup) return html`<h1 tabindex="-1">Controllo del Vicinato</h1><p role="status">Caricamento…</p>`;
  if (done) {
    return html`<h1 tabindex="-1">Quasi fatto</h1>
      <div class="confirmation" role="status"><p class="big">${done}</p>
      <p>Finché non tocchi «Confermo» su WhatsApp la richiesta non arriva alla Polizia Locale.</p>
      <p>In caso di emergenza chiama sempre il 112.</p></div>`;
  }
  return html`
    <h1 tabindex="-1">Controllo del Vicinato</h1>
    <p class="lead">Il Controllo del Vicinato del ${comune.name} unisce i residenti di una zona che osservano e segnalano
      alla Polizia Locale ciò che notano di insolito, tramite il coordinatore della zona su WhatsApp.</p>
    <ul>
      <li>È <strong>solo osservazione</strong>: niente ronde, inseguimenti o iniziative personali.</li>
      <li>Per le <strong>emergenze chiama il 112</strong>: il Controllo del Vicinato non è un servizio di emergenza.</li>
      <li>Agli altri membri apparirai solo come «Vicino N · via»: nome, indirizzo, numero${setup.id_required ? " e documento" : ""}
        li vede solo la Polizia Locale, che esamina la richiesta.</li>
    </ul>
    <form onSubmit=${submit} novalidate>
      <${Field} id="vic-zone" label="La tua zona" error=${errors.zone}>
        <select id="vic-zone" name="zone" value=${zone} aria-invalid=${errors.zone ? "true" : undefined}
          aria-describedby=${describedBy("vic-zone", false, errors.zone)} onChange=${(e) => setZone(e.target.value)}>
          <option value="">Scegli…</option>
          ${setup.zones.map((z) => html`<option value=${z.id}>${z.name}</option>`)}
        </select>
      </${Field}>
      <${Field} id="vic-name" label="Nome e cognome (come sul documento d'identità)" error=${errors.name}>
        <input id="vic-name" name="name" type="text" autocomplete="name" maxlength="80" value=${name}
          aria-invalid=${errors.name ? "true" : undefined} aria-describedby=${describedBy("vic-name", false, errors.name)}
          onInput=${(e) => setName(e.target.value)} />
      </${Field}>
      <${Field} id="vic-address" label="Indirizzo di residenza (via e numero civico)" error=${errors.address}>
        <input id="vic-address" name="address" type="text" autocomplete="street-address" maxlength="120" value=${address}
          aria-invalid=${errors.address ? "true" : undefined} aria-describedby=${describedBy("vic-address", false, errors.address)}
          onInput=${(e) => setAddress(e.target.value)} />
      </${Field}>
      <${Field} id="vic-phone" label="Numero di cellulare (WhatsApp)" error=${errors.phone}
        hint="Ti scriveremo su questo numero: la richiesta parte solo quando tocchi «Confermo» nel messaggio.">
        <input id="vic-phone" name="phone" type="tel" autocomplete="tel" maxlength="32" value=${phone}
          aria-invalid=${errors.phone ? "true" : undefined} aria-describedby=${describedBy("vic-phone", true, errors.phone)}
          onInput=${(e) => setPhone(e.target.value)} />
      </${Field}>
      ${setup.id_required && html`<${Field} id="vic-id_photo" label="Foto del documento d'identità (carta d'identità o patente)"
        error=${errors.id_photo} hint="JPEG, PNG o WebP. La riduciamo prima di inviarla; la vede solo la Polizia Locale e viene cancellata dopo la decisione.">
        <input id="vic-id_photo" name="id_photo" type="file" accept="image/jpeg,image/png,image/webp"
          aria-invalid=${errors.id_photo ? "true" : undefined} aria-describedby=${describedBy("vic-id_photo", true, errors.id_photo)}
          onChange=${pickPhoto} />
      </${Field}>
      ${photo && html`<p class="picked">Foto scelta: ${photo.name} (${Math.round(photo.size / 1024)} kB)${" "}
        <button type="button" class="link" onClick=${() => setPhoto(null)}>Togli</button></p>`}`}
      <div class=${"field check" + (errors.consent ? " invalid" : "")}>
        <input id="vic-consent" name="consent" type="checkbox" checked=${consent} onChange=${(e) => setConsent(e.target.checked)}
          aria-invalid=${errors.consent ? "true" : undefined} aria-describedby="vic-consent-text" />
        <label for="vic-consent">Ho letto l'informativa privacy${setup.privacy_notice_version ? ` (versione ${setup.privacy_notice_version})` : ""}${" "}
          e chiedo di entrare nel Controllo del Vicinato del ${comune.name}</label>
      </div>
      <p class="hint" id="vic-consent-text">I tuoi dati servono alla Polizia Locale per verificare la richiesta e a gestire
        la tua adesione. Senza la tua conferma su WhatsApp entro ${setup.confirm_hours} ore sono cancellati.${" "}
        ${setup.privacy_notice_url && html`<a href=${setup.privacy_notice_url}>Leggi l'informativa privacy</a>.`}</p>
      ${errors.consent && html`<p class="field-error" role="alert">${errors.consent}</p>`}
      <${Trap} id="vic-website" value=${website} onInput=${(e) => setWebsite(e.target.value)} />
      <p><button type="submit" class="primary" disabled=${busy}>Chiedi di entrare</button></p>
      <p class="message" role="status" aria-live="polite">${message}</p>
    </form>`;
}
