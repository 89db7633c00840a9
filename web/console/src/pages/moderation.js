// The report detail's moderation: correct what automation guessed (category, hamlet, position, address), approve the
// public text the portal, Open311 and the status page show instead of the citizen's words, and draw boxes over faces
// and plates on a photo's copy without metadata before publishing it.
// act(send, message) is the detail page's: it runs the call, shows the answer and the message or the error.
import { useEffect, useRef, useState } from "preact/hooks";
import { html } from "@filo/shared/html";
import { approvePublicText, correctReport, redactPhoto } from "../api.js";
import { PinPicker } from "../pin.js";

const MAX_BOXES = 20;
const MIN_SIDE = 0.01; // a box narrower than 1% of the picture is a slip of the mouse

const formOf = (report) => ({ category: report.category || "", hamlet: report.hamlet || "", address: report.address || "" });
const pinOf = (report) => (report.location ? { latitude: report.location.latitude, longitude: report.location.longitude } : null);

export function Corrections({ config, tenant, report, act, busy }) {
  const [form, setForm] = useState(formOf(report));
  const [pin, setPin] = useState(pinOf(report));
  // after any change of the report (a moved pin moves the hamlet too), the form shows it as it is now
  useEffect(() => { setForm(formOf(report)); setPin(pinOf(report)); }, [report.updated_at]);
  const set = (name) => (e) => setForm({ ...form, [name]: e.target.value });

  const submit = async (e) => {
    e.preventDefault();
    const body = {};
    if (report.kind === "report" && form.category && form.category !== (report.category || "")) body.category = form.category;
    if (form.hamlet && form.hamlet !== (report.hamlet || "")) body.hamlet = form.hamlet;
    if (form.address.trim() && form.address.trim() !== (report.address || "")) body.address = form.address.trim();
    const moved = pin && (!report.location || pin.latitude !== report.location.latitude || pin.longitude !== report.location.longitude);
    if (moved) body.position = pin;
    if (!Object.keys(body).length) {
      await act(() => Promise.reject(new Error("Non c'è nulla da correggere: cambia almeno un dato.")), "");
      return;
    }
    await act(() => correctReport(report.id, body), "Correzione salvata: è nella cronologia.");
  };

  return html`<section aria-labelledby="correct" class="panel">
    <h2 id="correct">Correggi</h2>
    <p class="hint">Categoria, frazione, posizione e indirizzo indovinati dal sistema: ogni correzione resta nella cronologia (interna).</p>
    <form onSubmit=${submit} aria-label="Correzioni">
      ${report.kind === "report" && html`<label for="fix-category">Categoria</label>
        <select id="fix-category" value=${form.category} onChange=${set("category")}>
          ${!report.category && html`<option value="">—</option>`}
          ${tenant.categories.map((c) => html`<option value=${c.id}>${c.name}</option>`)}
        </select>`}
      <label for="fix-hamlet">Frazione</label>
      <select id="fix-hamlet" value=${form.hamlet} onChange=${set("hamlet")}>
        ${!report.hamlet && html`<option value="">—</option>`}
        ${tenant.hamlets.features.map((h) => html`<option value=${h.id}>${h.properties.name}</option>`)}
      </select>
      <label for="fix-address">Indirizzo</label>
      <input id="fix-address" maxlength="300" value=${form.address} onInput=${set("address")} />
      <${PinPicker} config=${config} hamlets=${tenant.hamlets} pin=${pin} onPin=${setPin} id="fix-position"
        label="Posizione (la frazione segue il segnaposto, se non la scegli tu)" />
      <button type="submit" disabled=${busy}>Salva le correzioni</button>
    </form>
  </section>`;
}

export function PublicTextEditor({ report, act, busy }) {
  const current = report.public || { title: "", description: "", approved: false };
  const [title, setTitle] = useState(current.title);
  const [description, setDescription] = useState(current.description);

  const submit = (e) => {
    e.preventDefault();
    act(() => approvePublicText(report.id, { title: title.trim(), description: description.trim() }),
      "Testo pubblico approvato: il portale, Open311 e la pagina di stato mostrano questo testo.");
  };

  return html`<section aria-labelledby="public-text" class="panel">
    <h2 id="public-text">Testo pubblico</h2>
    <p class="hint" data-testid="public-state">${current.approved
      ? "Il pubblico vede il testo approvato qui sotto."
      : "Il pubblico vede solo categoria e frazione finché non approvi un testo. Le parole del cittadino restano interne."}</p>
    <form onSubmit=${submit} aria-label="Testo pubblico">
      <label for="public-title">Titolo pubblico</label>
      <input id="public-title" required minlength="3" maxlength="120" value=${title} onInput=${(e) => setTitle(e.target.value)} />
      <label for="public-description">Descrizione pubblica</label>
      <textarea id="public-description" rows="3" required minlength="3" maxlength="1000" value=${description}
        onInput=${(e) => setDescription(e.target.value)}></textarea>
      <p class="hint">Non scrivere nomi, numeri di telefono o numeri civici: il testo è pubblico.</p>
      <button type="submit" disabled=${busy}>Approva</button>
    </form>
  </section>`;
}

const clamp = (value) => Math.min(1, Math.max(0, value));
const rounded = (value) => Math.round(value * 10000) / 10000;

// Boxes are drawn by dragging on the picture (a mouse, a pen or a finger); there is no keyboard way to draw one.
export function PhotoRedactor({ report, photo, index, act, busy }) {
  const [boxes, setBoxes] = useState(photo.boxes || []);
  const [drawing, setDrawing] = useState(null);
  const area = useRef(null);

  const point = (e) => {
    const rect = area.current.getBoundingClientRect();
    return { x: clamp((e.clientX - rect.left) / rect.width), y: clamp((e.clientY - rect.top) / rect.height) };
  };
  const down = (e) => {
    if (boxes.length >= MAX_BOXES) return;
    e.preventDefault();
    area.current.setPointerCapture?.(e.pointerId);
    const p = point(e);
    setDrawing({ from: p, to: p });
  };
  const move = (e) => { if (drawing) setDrawing({ ...drawing, to: point(e) }); };
  const up = (e) => {
    if (!drawing) return;
    const end = point(e);
    const x = Math.min(drawing.from.x, end.x);
    const y = Math.min(drawing.from.y, end.y);
    const width = Math.abs(end.x - drawing.from.x);
    const height = Math.abs(end.y - drawing.from.y);
    setDrawing(null);
    if (width >= MIN_SIDE && height >= MIN_SIDE) {
      setBoxes([...boxes, { x: rounded(x), y: rounded(y), width: rounded(Math.min(width, 1 - x)), height: rounded(Math.min(height, 1 - y)) }]);
    }
  };
  const style = (b) => `left:${b.x * 100}%;top:${b.y * 100}%;width:${b.width * 100}%;height:${b.height * 100}%`;
  const live = drawing && {
    x: Math.min(drawing.from.x, drawing.to.x), y: Math.min(drawing.from.y, drawing.to.y),
    width: Math.abs(drawing.to.x - drawing.from.x), height: Math.abs(drawing.to.y - drawing.from.y),
  };
  const save = () => act(() => redactPhoto(report.id, photo.id, boxes), boxes.length
    ? `Riquadri salvati: ${boxes.length}. Il portale mostra la copia oscurata${photo.published ? "." : " quando pubblichi la foto."}`
    : "Riquadri tolti: il portale mostra la foto senza oscuramenti.");

  return html`<div class="redactor" data-testid=${`redactor-${index + 1}`}>
    <p class="hint" id=${`redact-hint-${photo.id}`}>Trascina sulla foto per coprire volti e targhe (al massimo ${MAX_BOXES} riquadri), poi salva. I riquadri si disegnano solo con mouse, penna o dito. L'originale non cambia.</p>
    <div class="redact-area" ref=${area} role="img" aria-label=${`Foto ${index + 1} senza dati di posizione: ${boxes.length} riquadri oscurati`}
      aria-describedby=${`redact-hint-${photo.id}`} data-testid=${`redact-area-${index + 1}`}
      onPointerDown=${down} onPointerMove=${move} onPointerUp=${up}>
      <img src=${photo.public_url} alt="" draggable="false" />
      ${boxes.map((b) => html`<span class="redact-box" style=${style(b)}></span>`)}
      ${live && html`<span class="redact-box drawing" style=${style(live)}></span>`}
    </div>
    <ul class="redact-list">
      ${boxes.map((b, i) => html`<li>Riquadro ${i + 1}
        <button type="button" class="secondary small" aria-label=${`Togli il riquadro ${i + 1} dalla foto ${index + 1}`}
          onClick=${() => setBoxes(boxes.filter((_, j) => j !== i))}>Togli</button></li>`)}
    </ul>
    <div class="buttons">
      <button type="button" class="small" disabled=${busy} onClick=${save}>Salva i riquadri della foto ${index + 1}</button>
    </div>
  </div>`;
}
