// Hand-made SVG charts: bars and a line, labelled for screen readers (each chart has a title and a table-like list).
import { html } from "@filo/shared/html";

const W = 520;
const H = 200;
const PAD = { left: 40, right: 10, top: 12, bottom: 36 };

function scale(max) {
  return max > 0 ? (H - PAD.top - PAD.bottom) / max : 0;
}

export function BarChart({ title, data, format = (v) => String(v), color = "#2471a3", max }) {
  const values = data.map((d) => d.value ?? 0);
  const top = max ?? Math.max(1, ...values);
  const k = scale(top);
  const step = (W - PAD.left - PAD.right) / Math.max(1, data.length);
  return html`<figure class="chart">
    <figcaption>${title}</figcaption>
    <svg viewBox="0 0 ${W} ${H}" role="img" aria-label=${`${title}: ${data.map((d) => `${d.label} ${d.value === null ? "nessun dato" : format(d.value)}`).join(", ")}`}>
      <line x1=${PAD.left} y1=${H - PAD.bottom} x2=${W - PAD.right} y2=${H - PAD.bottom} stroke="#888" />
      <text x=${PAD.left - 6} y=${PAD.top + 4} text-anchor="end" class="axis">${format(top)}</text>
      <text x=${PAD.left - 6} y=${H - PAD.bottom} text-anchor="end" class="axis">0</text>
      ${data.map((d, i) => {
        const h = (d.value ?? 0) * k;
        const x = PAD.left + i * step + step * 0.15;
        return html`<g>
          <rect x=${x} y=${H - PAD.bottom - h} width=${step * 0.7} height=${h} fill=${color}><title>${d.label}: ${d.value === null ? "—" : format(d.value)}</title></rect>
          ${d.value !== null && html`<text x=${x + step * 0.35} y=${H - PAD.bottom - h - 3} text-anchor="middle" class="value">${format(d.value)}</text>`}
          <text x=${x + step * 0.35} y=${H - PAD.bottom + 14} text-anchor="middle" class="axis">${d.label}</text>
        </g>`;
      })}
    </svg>
  </figure>`;
}

export function LineChart({ title, data, color = "#1e8449" }) {
  const values = data.map((d) => d.value);
  const top = Math.max(1, ...values);
  const k = scale(top);
  const step = (W - PAD.left - PAD.right) / Math.max(1, data.length - 1);
  const points = data.map((d, i) => [PAD.left + i * step, H - PAD.bottom - d.value * k]);
  return html`<figure class="chart">
    <figcaption>${title}</figcaption>
    <svg viewBox="0 0 ${W} ${H}" role="img" aria-label=${`${title}: ${data.map((d) => `${d.label} ${d.value}`).join(", ")}`}>
      <line x1=${PAD.left} y1=${H - PAD.bottom} x2=${W - PAD.right} y2=${H - PAD.bottom} stroke="#888" />
      <text x=${PAD.left - 6} y=${PAD.top + 4} text-anchor="end" class="axis">${top}</text>
      <text x=${PAD.left - 6} y=${H - PAD.bottom} text-anchor="end" class="axis">0</text>
      <polyline fill="none" stroke=${color} stroke-width="2.5" points=${points.map((p) => p.join(",")).join(" ")} />
      ${points.map((p, i) => html`<g>
        <circle cx=${p[0]} cy=${p[1]} r="3.5" fill=${color}><title>${data[i].label}: ${data[i].value}</title></circle>
        ${(i % Math.ceil(data.length / 8) === 0 || i === data.length - 1) && html`<text x=${p[0]} y=${H - PAD.bottom + 14} text-anchor="middle" class="axis">${data[i].label}</text>`}
      </g>`)}
    </svg>
  </figure>`;
}

// Stacked shares per broadcast: read, delivered (not read), sent (not delivered), failed.
export function FunnelBars({ title, items }) {
  const parts = [["read", "Letti", "#1e8449"], ["delivered", "Consegnati", "#52be80"], ["sent", "Inviati", "#aed6f1"], ["failed", "Non riusciti", "#c0392b"]];
  return html`<figure class="chart">
    <figcaption>${title}</figcaption>
    <ul class="legend">${parts.map(([, label, color]) => html`<li><span class="swatch" style=${`background:${color}`}></span>${label}</li>`)}</ul>
    <div class="stacks">
      ${items.map((item) => html`<div class="stack-row">
        <span class="stack-label">${item.label}</span>
        <div class="stack" role="img" aria-label=${`${item.label}: ${parts.map(([key, label]) => `${label} ${item[key]}%`).join(", ")}`}>
          ${parts.map(([key, label, color]) => item[key] > 0 && html`<span style=${`width:${item[key]}%;background:${color}`} title=${`${label}: ${item[key]}%`}></span>`)}
        </div>
      </div>`)}
    </div>
  </figure>`;
}
