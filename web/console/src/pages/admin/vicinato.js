// Amministrazione › Vicinato: the comune's neighbourhood-watch set-up. The scheme's knobs (on or off, ID photo,
// the coordinator's and stand-in's time before a report moves on, flood limits, how long reports and ID photos are
// kept) and its zones (a hamlet, its streets, an optional outline drawn on the map, the police referent), saved as
// the settings section «vicinato» over the version read; then each zone's coordinator and stand-in, with the
// Prefettura's approval. The administration never sees the members: only who coordinates.
import { useEffect, useRef, useState } from "preact/hooks";
import L from "leaflet";
import { html } from "@filo/shared/html";
import { addHamlets, createMap } from "@filo/shared/map";
import {
  appointVicinatoCoordinator, getSettings, listVicinatoPeople, listVicinatoReferents, listVicinatoZones, promoteVicinatoMember,
  saveSettings,
} from "../../api.js";
import { Field, FormErrors, SaveBar, errorFor, slug, useSaving } from "./settings-form.js";
import { parseCorners } from "./settings-hamlets.js";
import { VICINATO_ROLE, day } from "../../labels.js";

const ZONE_LINE = { color: "#c0392b", weight: 2, fillOpacity: 0.1 };

const cornersOf = (geometry) => (geometry && geometry.type === "Polygon"
  ? geometry.coordinates[0].slice(0, -1).map(([lon, lat]) => `${lat.toFixed(6)}, ${lon.toFixed(6)}`).join("\n") : "");
const polygonOf = (corners) => ({ type: "Polygon", coordinates: [[...corners, corners[0]].map(([lat, lon]) => [lon, lat])] });

export function VicinatoPage({ config, reloadTenant }) {
  const [data, setData] = useState(null);
  const [police, setPolice] = useState([]);
  const [error, setError] = useState("");
  const [notice, setNotice] = useState("");
  const load = () => getSettings().then((d) => { setData(d); setError(""); }).catch((e) => setError(e.message));
  useEffect(() => {
    load();
    listVicinatoReferents().then((r) => setPolice(r.items)).catch(() => {});
  }, []);
  return html`
    <h1 tabindex="-1">Controllo del Vicinato</h1>
    <p class="hint">Il Vicinato funziona sul numero della sicurezza del Comune: ognuno scrive da solo al Comune, che inoltra; nessuno vede il numero o il nome degli altri, tranne la Polizia municipale. Qui si impostano le zone, il referente di Polizia di ogni zona, i coordinatori e le regole del servizio.</p>
    ${error && html`<p class="error" role="alert">${error}</p>`}
    <p role="status" class="notice">${notice}</p>
    ${!data && !error && html`<p role="status">Caricamento…</p>`}
    ${data && html`<${SetupForm} key=${data.version} config=${config} data=${data} police=${police}
      saved=${(answer) => { setData({ ...data, version: answer.version, sections: answer.sections }); setNotice("Impostazioni del Vicinato salvate: valgono entro un minuto."); if (reloadTenant) reloadTenant(); }} />`}
    ${data && html`<${Coordinators} key=${"c" + data.version} zones=${data.sections.vicinato.zones} />`}`;
}

function SetupForm({ config, data, police, saved }) {
  const initial = data.sections.vicinato;
  const [scheme, setScheme] = useState(initial);
  const [zones, setZones] = useState(initial.zones.map((z) => ({ ...z, corners: cornersOf(z.geometry), streetsText: (z.streets || []).join("\n") })));
  const [words, setWords] = useState({ emergency: (initial.emergency_words || []).join("\n"),
    vigilantism: (initial.vigilantism_words || []).join("\n") }); // as typed, one per line
  const [drawing, setDrawing] = useState(null); // the index of the zone whose outline a map click extends
  const [state, run] = useSaving();
  const box = useRef(null);
  const map = useRef(null);
  const layer = useRef(null);
  const drawingRef = useRef(drawing);
  drawingRef.current = drawing;
  const zonesRef = useRef(zones);
  zonesRef.current = zones;
  const hamlets = data.sections.hamlets || [];

  useEffect(() => {
    const created = createMap(box.current, config);
    addHamlets(created, { type: "FeatureCollection", features: hamlets.filter((h) => h.geometry).map((h) => ({
      type: "Feature", properties: { name: h.name }, geometry: h.geometry })) }, { namesOnHover: true });
    created.on("click", (event) => {
      const index = drawingRef.current;
      if (index === null) return;
      const zone = zonesRef.current[index];
      const line = `${event.latlng.lat.toFixed(6)}, ${event.latlng.lng.toFixed(6)}`;
      setZone(index, { corners: zone.corners ? `${zone.corners}\n${line}` : line });
    });
    map.current = created;
    return () => { created.remove(); map.current = null; };
  }, []);

  useEffect(() => { // the zones' outlines as they are now in the form
    if (!map.current) return;
    if (layer.current) layer.current.remove();
    const group = L.layerGroup();
    zones.forEach((z) => {
      const corners = parseCorners(z.corners || "");
      if (!corners || !corners.length) return;
      (corners.length > 2 ? L.polygon(corners, ZONE_LINE) : L.polyline(corners, ZONE_LINE))
        .bindTooltip(z.name || "Zona", { sticky: true }).addTo(group);
    });
    layer.current = group.addTo(map.current);
  }, [zones]);

  const setZone = (index, changed) => setZones((now) => now.map((z, i) => (i === index ? { ...z, ...changed } : z)));
  const shown = [];
  const err = (path) => { shown.push(path); return errorFor(state.errors, path); };
  const knob = (name) => (value) => setScheme({ ...scheme, [name]: value });

  const submit = async (event) => {
    event.preventDefault();
    const lines = (text) => text.split("\n").map((w) => w.trim()).filter(Boolean);
    const value = { ...scheme, emergency_words: lines(words.emergency), vigilantism_words: lines(words.vigilantism), zones: zones.map(({ corners, streetsText, ...z }) => {
      const parsed = parseCorners(corners || "");
      return { ...z, streets: (streetsText || "").split("\n").map((s) => s.trim()).filter(Boolean),
        geometry: parsed && parsed.length >= 3 ? polygonOf(parsed) : null };
    }) };
    const badOutline = zones.findIndex((z) => (z.corners || "").trim() && !(parseCorners(z.corners) && parseCorners(z.corners).length >= 3));
    if (badOutline >= 0) {
      await run(() => Promise.reject({ status: 422, message: `Zona «${zones[badOutline].name}»: il contorno ha bisogno di almeno 3 vertici, uno per riga (latitudine, longitudine). Oppure lascialo vuoto.`, details: [] }));
      return;
    }
    setDrawing(null);
    const answer = await run(() => saveSettings("vicinato", { version: data.version, value }));
    if (answer) saved(answer);
  };
  const hamletOptions = [["", "Nessuna"], ...hamlets.map((h) => [h.id, h.name])];
  const policeOptions = [["", "Qualsiasi agente di Polizia municipale"], ...police.map((m) => [m.id, m.name])];

  return html`<form class="settings-form" aria-label="Impostazioni del Vicinato" noValidate onSubmit=${submit}>
    <${FormErrors} message=${state.message} errors=${state.errors} shown=${shown} />
    <fieldset>
      <legend>Il servizio</legend>
      <${Field} id="vic-enabled" kind="checkbox" label="Vicinato attivo sul numero della sicurezza" value=${scheme.enabled}
        error=${err("vicinato.enabled")} onChange=${knob("enabled")} />
      <${Field} id="vic-id-required" kind="checkbox" label="Per aderire serve la foto di un documento d'identità" value=${scheme.id_required}
        error=${err("vicinato.id_required")} onChange=${knob("id_required")} />
      <${Field} id="vic-id-days" kind="number" label="Giorni di conservazione della foto del documento dopo la decisione (0: cancellata subito)"
        value=${scheme.id_photo_days} error=${err("vicinato.id_photo_days")} onChange=${knob("id_photo_days")} />
      <${Field} id="vic-coordinator-minutes" kind="number" label="Minuti del coordinatore per agire prima che la segnalazione passi al vice"
        value=${scheme.coordinator_minutes} error=${err("vicinato.coordinator_minutes")} onChange=${knob("coordinator_minutes")} />
      <${Field} id="vic-stand-in-minutes" kind="number" label="Minuti del vice prima che passi al referente di Polizia"
        value=${scheme.stand_in_minutes} error=${err("vicinato.stand_in_minutes")} onChange=${knob("stand_in_minutes")} />
      <${Field} id="vic-reports-hour" kind="number" label="Segnalazioni per membro in un'ora (oltre, gli si chiede di attendere)"
        value=${scheme.reports_per_hour} error=${err("vicinato.reports_per_hour")} onChange=${knob("reports_per_hour")} />
      <${Field} id="vic-messages-hour" kind="number" label="Messaggi per membro in un'ora (oltre, è rallentato)"
        value=${scheme.messages_per_hour} error=${err("vicinato.messages_per_hour")} onChange=${knob("messages_per_hour")} />
      <${Field} id="vic-report-days" kind="number" label="Giorni di conservazione delle segnalazioni dei membri dopo la chiusura"
        value=${scheme.report_days} error=${err("vicinato.report_days")} onChange=${knob("report_days")} />
      <${Field} id="vic-emergency-words" kind="textarea" rows="4" label="Parole di emergenza (una per riga): il membro riceve subito l'invito a chiamare il 112 e la segnalazione è urgente"
        value=${words.emergency} error=${err("vicinato.emergency_words")} onChange=${(v) => setWords({ ...words, emergency: v })} />
      <${Field} id="vic-vigilantism-words" kind="textarea" rows="4" label="Parole da ronda (una per riga): il membro riceve il promemoria che il Vicinato osserva e basta"
        value=${words.vigilantism} error=${err("vicinato.vigilantism_words")} onChange=${(v) => setWords({ ...words, vigilantism: v })} />
      <p class="hint">Le ore sorvegliate sono quelle del numero della sicurezza (Impostazioni › Orari): fuori orario il membro legge quando sarà letta la sua segnalazione.</p>
    </fieldset>
    <h2>Zone</h2>
    <div class="map form-map" ref=${box} style="height:300px" role="region"
      aria-label="Mappa delle frazioni e delle zone del Vicinato: durante il disegno, un clic aggiunge un vertice al contorno della zona"></div>
    ${drawing !== null && html`<p role="status" class="notice">Disegno del contorno di «${zones[drawing] && zones[drawing].name}»: clicca i vertici sulla mappa, in ordine.
      <button type="button" class="secondary small" onClick=${() => setDrawing(null)}>Fine disegno</button></p>`}
    <div class="item-list">
      ${zones.map((z, i) => html`<fieldset class="item">
        <legend>${z.name || `Zona ${i + 1}`}</legend>
        <${Field} id=${`vic-zone-${i}-name`} label="Nome" value=${z.name} error=${err(`vicinato.zones.${i}.name`) || err(`vicinato.zones.${i}`)}
          onChange=${(name) => setZone(i, { name, id: z.id && z.id !== slug(z.name) ? z.id : slug(name) })} />
        <${Field} id=${`vic-zone-${i}-short`} label="Nome breve (facoltativo)" hint="WhatsApp mostra negli elenchi al massimo 24 caratteri."
          value=${z.short_name} error=${err(`vicinato.zones.${i}.short_name`)} onChange=${(v) => setZone(i, { short_name: v || null })} />
        <${Field} id=${`vic-zone-${i}-id`} label="Codice" value=${z.id} error=${err(`vicinato.zones.${i}.id`)}
          onChange=${(id) => setZone(i, { id })} />
        <${Field} id=${`vic-zone-${i}-hamlet`} kind="select" label="Frazione" options=${hamletOptions} value=${z.hamlet || ""}
          error=${err(`vicinato.zones.${i}.hamlet`)} onChange=${(v) => setZone(i, { hamlet: v || null })} />
        <${Field} id=${`vic-zone-${i}-streets`} kind="textarea" rows="3" label="Vie della zona (una per riga, facoltative)"
          value=${z.streetsText} error=${err(`vicinato.zones.${i}.streets`)} onChange=${(v) => setZone(i, { streetsText: v })} />
        <${Field} id=${`vic-zone-${i}-police`} kind="select" label="Referente di Polizia municipale" options=${policeOptions}
          hint="Un utente con il ruolo Polizia municipale (Amministrazione › Personale): approva le adesioni e riceve le segnalazioni che il coordinatore non gestisce in tempo."
          value=${z.police_referent || ""} error=${err(`vicinato.zones.${i}.police_referent`)} onChange=${(v) => setZone(i, { police_referent: v })} />
        <${Field} id=${`vic-zone-${i}-outline`} kind="textarea" rows="3" label="Contorno (facoltativo): vertici come latitudine, longitudine, uno per riga"
          value=${z.corners} error=${err(`vicinato.zones.${i}.geometry`)} onChange=${(v) => setZone(i, { corners: v })} />
        <div class="buttons">
          <button type="button" class="secondary small" onClick=${() => setDrawing(i)} aria-label=${`Disegna sulla mappa il contorno di ${z.name || `zona ${i + 1}`}`}>Disegna sulla mappa</button>
          <button type="button" class="secondary small" onClick=${() => { setDrawing(null); setZones(zones.filter((_, j) => j !== i)); }}
            aria-label=${`Rimuovi ${z.name || `zona ${i + 1}`}`}>Rimuovi</button>
        </div>
      </fieldset>`)}
      <button type="button" class="secondary" onClick=${() => setZones([...zones, { id: "", name: "", short_name: null, hamlet: null, streetsText: "", corners: "", police_referent: "" }])}>Aggiungi una zona</button>
    </div>
    <${SaveBar} state=${state} label="Salva il Vicinato" />
  </form>`;
}

const BLANK = { zone: "", role: "coordinator", member: "", name: "", phone: "", address: "", prefettura_date: "", prefettura_ref: "" };
const NEW_PERSON = "";  // the member select's «someone new» (name, number and address typed)

// Each zone's coordinator and stand-in (by their zone handle, with the Prefettura's approval) and the form that
// appoints one: whoever held the role before goes back to being a member.
function Coordinators({ zones: settingsZones }) {
  const [zones, setZones] = useState(null);
  const [error, setError] = useState("");
  const [form, setForm] = useState({ ...BLANK, zone: settingsZones.length ? settingsZones[0].id : "" });
  const [state, run] = useSaving();
  const [done, setDone] = useState("");
  const [members, setMembers] = useState([]); // the chosen zone's active members, by handle only
  const load = () => listVicinatoZones().then((z) => { setZones(z.items); setError(""); }).catch((e) => setError(e.message));
  useEffect(() => { load(); }, []);
  useEffect(() => {
    if (!form.zone) return;
    listVicinatoPeople({ zone: form.zone, role: "member", status: "active" })
      .then((p) => setMembers(p.items)).catch(() => setMembers([]));
  }, [form.zone, zones]);
  const set = (name) => (value) => setForm({ ...form, [name]: value });
  const shown = [];
  const err = (path) => { shown.push(path); return errorFor(state.errors, path); };
  const submit = async (event) => {
    event.preventDefault();
    const prefettura = { prefettura_date: form.prefettura_date || null, prefettura_ref: form.prefettura_ref || null };
    const { member, ...typed } = form;
    setDone("");
    const answer = await run(() => (member !== NEW_PERSON
      ? promoteVicinatoMember(member, { role: form.role, ...prefettura })
      : appointVicinatoCoordinator({ ...typed, ...prefettura })), "");
    if (answer) {
      setForm({ ...BLANK, zone: form.zone });
      setMembers([]);
      load();
      setDone(`${answer.name} è ${answer.role === "coordinator" ? "coordinatore" : "vice coordinatore"} di ${answer.zone_name} (${answer.handle}).`);
    }
  };
  const prefettura = (c) => (c.prefettura_date || c.prefettura_ref
    ? `nulla osta della Prefettura${c.prefettura_date ? ` del ${day(c.prefettura_date)}` : ""}${c.prefettura_ref ? `, ${c.prefettura_ref}` : ""}`
    : "senza nulla osta registrato");
  return html`<section aria-labelledby="vic-coordinators">
    <h2 id="vic-coordinators">Coordinatori</h2>
    <p class="hint">Ogni zona ha un coordinatore, che riceve su WhatsApp le segnalazioni dei membri e le inoltra alla Polizia o avvisa la zona, e un vice per quando è assente. Per gli altri sono solo il loro nome di zona.</p>
    ${error && html`<p class="error" role="alert">${error}</p>`}
    ${zones && !zones.length && html`<p>Nessuna zona: aggiungine una qui sopra e salva.</p>`}
    <ul class="vicinato-zones">${(zones || []).map((z) => html`<li class="card" data-testid="vicinato-zone">
      <h3>${z.name}</h3>
      <p>${z.active} attivi, ${z.pending} richieste in attesa.</p>
      <p>${VICINATO_ROLE.coordinator}: ${z.coordinator ? `${z.coordinator.handle}, ${prefettura(z.coordinator)}` : "nessuno"}</p>
      <p>${VICINATO_ROLE.stand_in}: ${z.stand_in ? `${z.stand_in.handle}, ${prefettura(z.stand_in)}` : "nessuno"}</p>
    </li>`)}</ul>
    ${settingsZones.length > 0 && html`<form class="settings-form" aria-label="Nomina un coordinatore" noValidate onSubmit=${submit}>
      <h3>Nomina un coordinatore o un vice</h3>
      <${FormErrors} message=${state.message} errors=${state.errors} shown=${shown} />
      <${Field} id="vic-appoint-zone" kind="select" label="Zona" options=${settingsZones.map((z) => [z.id, z.name])}
        value=${form.zone} error=${err("zone")} onChange=${(zone) => setForm({ ...form, zone, member: NEW_PERSON })} />
      <${Field} id="vic-appoint-role" kind="select" label="Ruolo" options=${[["coordinator", "Coordinatore"], ["stand_in", "Vice coordinatore"]]}
        value=${form.role} error=${err("role")} onChange=${set("role")} />
      <${Field} id="vic-appoint-member" kind="select" label="Chi"
        hint="Un membro della zona (per nome di zona: i suoi dati restano alla Polizia), oppure una persona nuova."
        options=${[[NEW_PERSON, "Una persona nuova (scrivi i suoi dati)"], ...members.map((m) => [m.id, m.handle || m.id])]}
        value=${form.member} error=${err("status")} onChange=${set("member")} />
      ${form.member === NEW_PERSON && html`
        <${Field} id="vic-appoint-name" label="Nome e cognome" value=${form.name} error=${err("name")} onChange=${set("name")} />
        <${Field} id="vic-appoint-phone" kind="tel" label="Numero WhatsApp" hint="Per intero, per esempio +39 333 123 4567: se è già membro della zona, tiene il suo nome di zona."
          value=${form.phone} error=${err("phone")} onChange=${set("phone")} />
        <${Field} id="vic-appoint-address" label="Indirizzo" value=${form.address} error=${err("address")} onChange=${set("address")} />`}
      <${Field} id="vic-appoint-date" kind="date" label="Data del nulla osta della Prefettura (facoltativa)" value=${form.prefettura_date}
        error=${err("prefettura_date")} onChange=${set("prefettura_date")} />
      <${Field} id="vic-appoint-ref" label="Riferimento del nulla osta (facoltativo)" value=${form.prefettura_ref}
        error=${err("prefettura_ref")} onChange=${set("prefettura_ref")} />
      <${SaveBar} state=${state} label="Nomina" />
      <p role="status" class="notice">${done}</p>
    </form>`}
  </section>`;
}
