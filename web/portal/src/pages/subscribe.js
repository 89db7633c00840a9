// The broadcast channel's web opt-in: the comune writes on WhatsApp, and only the citizen's reply subscribes them.
import { useState } from "preact/hooks";
import { html } from "@filo/shared/html";
import { subscribe } from "../api.js";

function Choices({ legend, name, items, chosen, setChosen }) {
  const toggle = (id, on) => setChosen(on ? [...chosen, id] : chosen.filter((c) => c !== id));
  return html`<fieldset>
    <legend>${legend}</legend>
    <div class="choices">
      ${items.map((item) => html`<div class="check">
        <input type="checkbox" id=${`${name}-${item.id}`} name=${name} value=${item.id} checked=${chosen.includes(item.id)}
          onChange=${(e) => toggle(item.id, e.target.checked)} />
        <label for=${`${name}-${item.id}`}>${item.name}</label>
      </div>`)}
    </div>
  </fieldset>`;
}

export function SubscribeForm({ comune }) {
  const [phone, setPhone] = useState("");
  const [hamlets, setHamlets] = useState([]);
  const [topics, setTopics] = useState([]);
  const [consent, setConsent] = useState(false);
  const [errors, setErrors] = useState({});
  const [message, setMessage] = useState("");
  const [busy, setBusy] = useState(false);
  const [done, setDone] = useState("");

  const submit = async (event) => {
    event.preventDefault();
    const found = {};
    if (!phone.trim()) found.phone = "Scrivi il tuo numero di cellulare.";
    if (!consent) found.consent = "Per iscriversi bisogna accettare l'informativa privacy.";
    setErrors(found);
    if (Object.keys(found).length) {
      setMessage("Controlla i campi segnalati.");
      document.getElementById(Object.keys(found)[0] === "phone" ? "sub-phone" : "sub-consent").focus();
      return;
    }
    setBusy(true);
    setMessage("Invio in corso…");
    try {
      const answer = await subscribe({ phone, consent, hamlets, topics });
      setDone(answer.message);
      setMessage("");
    } catch (error) {
      const fields = {};
      for (const detail of error.details || []) fields[detail.field === "consent" ? "consent" : "phone"] = detail.message;
      setErrors(fields);
      setMessage(error.message);
    } finally {
      setBusy(false);
    }
  };

  if (done) {
    return html`<h1 tabindex="-1">Quasi fatto</h1>
      <div class="confirmation" role="status"><p class="big">${done}</p>
      <p>Finché non rispondi al messaggio non ricevi avvisi. Per smettere in qualsiasi momento scrivi STOP.</p></div>`;
  }
  return html`
    <h1 tabindex="-1">Avvisi del comune su WhatsApp</h1>
    <p class="lead">Allerte meteo, lavori e chiusure strade, avvisi per la tua frazione. Gratis, e smetti quando vuoi
      scrivendo STOP.</p>
    <form onSubmit=${submit} novalidate>
      <div class=${"field" + (errors.phone ? " invalid" : "")}>
        <label for="sub-phone">Numero di cellulare (WhatsApp)</label>
        <input id="sub-phone" name="phone" type="tel" autocomplete="tel" maxlength="32" value=${phone}
          aria-invalid=${errors.phone ? "true" : undefined} aria-describedby=${errors.phone ? "sub-phone-error" : undefined}
          onInput=${(e) => setPhone(e.target.value)} />
        ${errors.phone && html`<p class="field-error" id="sub-phone-error">${errors.phone}</p>`}
      </div>
      ${comune.hamlets.features.length > 0 && html`<${Choices} legend="Le frazioni che ti interessano (nessuna: tutto il comune)"
        name="hamlets" items=${comune.hamlets.features.map((f) => ({ id: f.id, name: f.properties.name }))}
        chosen=${hamlets} setChosen=${setHamlets} />`}
      ${comune.topics.length > 0 && html`<${Choices} legend="Gli argomenti (nessuno: tutti)" name="topics"
        items=${comune.topics} chosen=${topics} setChosen=${setTopics} />`}
      <div class=${"field check" + (errors.consent ? " invalid" : "")}>
        <input id="sub-consent" name="consent" type="checkbox" checked=${consent} onChange=${(e) => setConsent(e.target.checked)}
          aria-invalid=${errors.consent ? "true" : undefined} aria-describedby="sub-consent-text" />
        <label for="sub-consent">Ho letto l'informativa privacy e voglio ricevere gli avvisi del ${comune.name} su WhatsApp</label>
      </div>
      <p class="hint" id="sub-consent-text">Il ${comune.name} usa il tuo numero, la frazione e gli argomenti scelti solo per
        mandarti questi avvisi, finché non scrivi STOP; non li cede a nessuno.${" "}
        ${comune.privacy_notice_url && html`<a href=${comune.privacy_notice_url}>Leggi l'informativa privacy</a>.`}</p>
      ${errors.consent && html`<p class="field-error" role="alert">${errors.consent}</p>`}
      <p><button type="submit" class="primary" disabled=${busy}>Iscriviti</button></p>
      <p class="message" role="status" aria-live="polite">${message}</p>
    </form>`;
}
