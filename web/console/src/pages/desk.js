// "Nuova segnalazione": a report (or, for the police, a tip) taken at the desk, by phone or by email: category, the
// citizen's words, hamlet, address, a pin, photos (shrunk in the browser), the citizen's contact and the source.
// It joins the same inbox as WhatsApp ones; the citizen's words and contact stay in the office.
import { useState } from "preact/hooks";
import { html } from "@filo/shared/html";
import { MAX_PHOTOS, readAsDataUrl, shrink } from "@filo/shared/photos";
import { go } from "@filo/shared/router";
import { createReport } from "../api.js";
import { PinPicker } from "../pin.js";

const SOURCES = [["desk", "Sportello"], ["phone", "Telefono"], ["email", "Email"]];

export function DeskForm({ config, tenant, kind, back }) {
  const [form, setForm] = useState({ source: "desk", category: "", text: "", hamlet: "", address: "", name: "",
    phone: "", email: "", updates: false });
  const [pin, setPin] = useState(null);
  const [photos, setPhotos] = useState([]);
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  const set = (name) => (e) => setForm({ ...form, [name]: e.target.type === "checkbox" ? e.target.checked : e.target.value });

  const pick = async (e) => {
    const files = [...e.target.files].slice(0, MAX_PHOTOS - photos.length);
    const added = [];
    for (const file of files) {
      const small = await shrink(file);
      added.push({ name: file.name, size: small.size, data: await readAsDataUrl(small) });
    }
    setPhotos([...photos, ...added]);
    e.target.value = "";
  };

  const submit = async (e) => {
    e.preventDefault();
    setError("");
    if (form.text.trim().length < 3) { setError("Scrivi che cosa è stato segnalato (almeno 3 caratteri)."); return; }
    const contact = Object.fromEntries([["name", form.name], ["phone", form.phone], ["email", form.email]]
      .map(([k, v]) => [k, v.trim()]).filter(([, v]) => v));
    if (form.updates && contact.phone) contact.updates_on_whatsapp = true;
    const body = { kind, source: form.source, text: form.text.trim() };
    if (kind === "report" && form.category) body.category = form.category;
    if (form.hamlet) body.hamlet = form.hamlet;
    if (form.address.trim()) body.address = form.address.trim();
    if (pin) body.position = pin;
    if (Object.keys(contact).length) body.contact = contact;
    if (photos.length) body.photos = photos.map((p) => ({ data: p.data }));
    setBusy(true);
    try {
      const created = await createReport(body);
      go(`${back}/${encodeURIComponent(created.id)}`);
    } catch (err) {
      setError(err.message);
    } finally {
      setBusy(false);
    }
  };

  return html`
    <p><a href=${"#/" + back}>← Torna all'elenco</a></p>
    <h1 tabindex="-1">${kind === "safety" ? "Nuova segnalazione sicurezza" : "Nuova segnalazione"}</h1>
    <p class="hint">Per le segnalazioni arrivate allo sportello, per telefono o per email. Il testo e il contatto del cittadino restano nell'ufficio: il pubblico vede solo categoria, frazione e il testo pubblico approvato.</p>
    ${error && html`<p class="error" role="alert">${error}</p>`}
    <form class="desk-form" onSubmit=${submit} aria-label="Nuova segnalazione">
      <fieldset>
        <legend>Segnalazione</legend>
        <label for="desk-source">Arrivata da</label>
        <select id="desk-source" value=${form.source} onChange=${set("source")}>
          ${SOURCES.map(([value, label]) => html`<option value=${value}>${label}</option>`)}
        </select>
        ${kind === "report" && html`<label for="desk-category">Categoria</label>
          <select id="desk-category" value=${form.category} onChange=${set("category")}>
            <option value="">Da decidere (dal testo)</option>
            ${tenant.categories.map((c) => html`<option value=${c.id}>${c.name}</option>`)}
          </select>`}
        <label for="desk-text">Testo (parole del cittadino)</label>
        <textarea id="desk-text" rows="4" required maxlength="4000" value=${form.text} onInput=${set("text")}></textarea>
      </fieldset>
      <fieldset>
        <legend>Dove</legend>
        <label for="desk-hamlet">Frazione</label>
        <select id="desk-hamlet" value=${form.hamlet} onChange=${set("hamlet")}>
          <option value="">Dalla posizione, se indicata</option>
          ${tenant.hamlets.features.map((h) => html`<option value=${h.id}>${h.properties.name}</option>`)}
        </select>
        <label for="desk-address">Indirizzo</label>
        <input id="desk-address" maxlength="300" value=${form.address} onInput=${set("address")} />
        <${PinPicker} config=${config} hamlets=${tenant.hamlets} pin=${pin} onPin=${setPin} id="desk-position" />
      </fieldset>
      ${kind === "report" && html`<fieldset>
        <legend>Foto</legend>
        <label for="desk-photos">Foto (fino a ${MAX_PHOTOS})</label>
        <input id="desk-photos" type="file" accept="image/jpeg,image/png,image/webp" multiple
          disabled=${photos.length >= MAX_PHOTOS} onChange=${pick} />
        <ul class="desk-photos">
          ${photos.map((p, i) => html`<li><img src=${p.data} alt="" /> ${p.name} (${Math.max(1, Math.round(p.size / 1024))} kB)
            <button type="button" class="secondary small" aria-label=${`Togli la foto ${i + 1}`}
              onClick=${() => setPhotos(photos.filter((_, j) => j !== i))}>Togli</button></li>`)}
        </ul>
      </fieldset>`}
      <fieldset>
        <legend>Contatto del cittadino (facoltativo, resta interno)</legend>
        <label for="desk-name">Nome</label>
        <input id="desk-name" maxlength="120" autocomplete="off" value=${form.name} onInput=${set("name")} />
        <label for="desk-phone">Telefono</label>
        <input id="desk-phone" type="tel" maxlength="40" autocomplete="off" value=${form.phone} onInput=${set("phone")} />
        <label for="desk-email">Email</label>
        <input id="desk-email" type="email" maxlength="200" autocomplete="off" value=${form.email} onInput=${set("email")} />
        <div class="check"><input id="desk-updates" type="checkbox" checked=${form.updates} disabled=${!form.phone.trim()}
          onChange=${set("updates")} />
          <label for="desk-updates">Il cittadino vuole gli aggiornamenti su WhatsApp a questo numero</label></div>
      </fieldset>
      <div class="buttons"><button type="submit" disabled=${busy}>Registra la segnalazione</button></div>
    </form>`;
}
