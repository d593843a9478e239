/**
 * Inline SVG line charts for the HTML reports: no library, no external asset. Long series are
 * reduced to at most `maxPoints` per series keeping each bucket's minimum and maximum, so peaks
 * (a blocked interval, a GC spike) survive the reduction.
 */

export interface ChartPoint {
  /** Milliseconds since the start of the run. */
  t: number;
  v: number;
}

export interface ChartSeries {
  name: string;
  color: string;
  points: ChartPoint[];
}

export interface LineChartSpec {
  /** Stable id, also the `data-chart` attribute. */
  id: string;
  title: string;
  /** Formats a y value for the axis and tooltips. */
  format: (v: number) => string;
  series: ChartSeries[];
  /** x axis length, ms. */
  durationMs: number;
  /** Time ranges to shade (e.g. where a finding was seen). */
  highlight?: { fromMs: number; toMs: number }[];
  /** A horizontal reference line (e.g. the blocking threshold). */
  threshold?: { value: number; label: string };
  /** Top of the y axis while the data stays below it (e.g. 100 for a percentage). */
  minYMax?: number;
  /** The axis top is a round number of this unit (e.g. 1 MiB for bytes). Default 1. */
  axisUnit?: number;
  maxPoints?: number;
}

export function escapeHtml(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string,
  );
}

/** Keep at most `max` points: per bucket the minimum and the maximum, in time order. */
export function reducePoints(points: ChartPoint[], max: number): ChartPoint[] {
  if (points.length <= max) return points;
  const buckets = Math.max(1, Math.floor(max / 2));
  const size = points.length / buckets;
  const out: ChartPoint[] = [];
  for (let b = 0; b < buckets; b++) {
    const slice = points.slice(Math.floor(b * size), Math.floor((b + 1) * size));
    if (!slice.length) continue;
    let lo = slice[0] as ChartPoint;
    let hi = lo;
    for (const p of slice) {
      if (p.v < lo.v) lo = p;
      if (p.v > hi.v) hi = p;
    }
    if (lo === hi) out.push(lo);
    else out.push(...(lo.t <= hi.t ? [lo, hi] : [hi, lo]));
  }
  return out;
}

/** A "nice" axis maximum: 1, 2 or 5 times a power of ten, at least `value`. */
export function niceCeiling(value: number): number {
  if (!(value > 0)) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  for (const m of [1, 2, 5, 10]) if (m * power >= value) return m * power;
  return 10 * power;
}

const W = 760;
const H = 200;
const PAD = { left: 64, right: 16, top: 14, bottom: 28 };

export function renderLineChart(spec: LineChartSpec): string {
  const maxPoints = spec.maxPoints ?? 600;
  const series = spec.series.map((s) => ({
    ...s,
    points: reducePoints(
      s.points.filter((p) => Number.isFinite(p.v) && Number.isFinite(p.t)),
      maxPoints,
    ),
  }));
  const dataMax = Math.max(0, ...series.flatMap((s) => s.points.map((p) => p.v)), spec.threshold?.value ?? 0);
  const unit = spec.axisUnit ?? 1;
  const yMax =
    spec.minYMax !== undefined && dataMax <= spec.minYMax ? spec.minYMax : niceCeiling((dataMax * 1.05) / unit) * unit;
  const xMax = Math.max(1, spec.durationMs);
  const plotW = W - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  const x = (t: number): number => PAD.left + (Math.min(Math.max(t, 0), xMax) / xMax) * plotW;
  const y = (v: number): number => PAD.top + plotH - (Math.min(Math.max(v, 0), yMax) / yMax) * plotH;
  const parts: string[] = [];
  for (const r of spec.highlight ?? []) {
    parts.push(
      `<rect class="highlight" x="${x(r.fromMs).toFixed(1)}" y="${PAD.top}" width="${Math.max(2, x(r.toMs) - x(r.fromMs)).toFixed(1)}" height="${plotH}" fill="#e5484d" fill-opacity="0.12"/>`,
    );
  }
  for (let i = 0; i <= 4; i++) {
    const v = (yMax / 4) * i;
    parts.push(
      `<line x1="${PAD.left}" x2="${W - PAD.right}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" stroke="#e3e6ea"/>`,
    );
    parts.push(
      `<text x="${PAD.left - 6}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end" class="axis">${escapeHtml(spec.format(v))}</text>`,
    );
  }
  const stepS = niceCeiling(xMax / 1000 / 8);
  for (let s = 0; s * 1000 <= xMax + 1; s += stepS) {
    parts.push(
      `<text x="${x(s * 1000).toFixed(1)}" y="${H - 8}" text-anchor="middle" class="axis">${Number(s.toFixed(3))} s</text>`,
    );
  }
  if (spec.threshold) {
    const ty = y(spec.threshold.value).toFixed(1);
    parts.push(
      `<line x1="${PAD.left}" x2="${W - PAD.right}" y1="${ty}" y2="${ty}" stroke="#e5484d" stroke-dasharray="4 3"/>`,
    );
    parts.push(
      `<text x="${W - PAD.right - 4}" y="${(Number(ty) - 4).toFixed(1)}" text-anchor="end" class="axis threshold">${escapeHtml(spec.threshold.label)}</text>`,
    );
  }
  for (const s of series) {
    if (!s.points.length) continue;
    const d = s.points.map((p, i) => `${i ? 'L' : 'M'}${x(p.t).toFixed(1)} ${y(p.v).toFixed(1)}`).join(' ');
    parts.push(
      `<path class="series" data-series="${escapeHtml(s.name)}" d="${d}" fill="none" stroke="${escapeHtml(s.color)}" stroke-width="1.6"/>`,
    );
    if (s.points.length <= 300) {
      for (const p of s.points) {
        parts.push(
          `<circle cx="${x(p.t).toFixed(1)}" cy="${y(p.v).toFixed(1)}" r="2.2" fill="${escapeHtml(s.color)}"><title>${escapeHtml(`${s.name} at ${(p.t / 1000).toFixed(2)} s: ${spec.format(p.v)}`)}</title></circle>`,
        );
      }
    }
  }
  parts.push(`<line x1="${PAD.left}" x2="${PAD.left}" y1="${PAD.top}" y2="${PAD.top + plotH}" stroke="#9aa3ad"/>`);
  parts.push(
    `<line x1="${PAD.left}" x2="${W - PAD.right}" y1="${PAD.top + plotH}" y2="${PAD.top + plotH}" stroke="#9aa3ad"/>`,
  );
  const empty = series.every((s) => !s.points.length);
  if (empty) parts.push(`<text x="${W / 2}" y="${H / 2}" text-anchor="middle" class="axis">no data</text>`);
  const legend = spec.series
    .map(
      (s) => `<span class="legend-item"><i style="background:${escapeHtml(s.color)}"></i>${escapeHtml(s.name)}</span>`,
    )
    .join('');
  return (
    `<figure class="chart" data-chart="${escapeHtml(spec.id)}" data-points="${series.reduce((a, s) => a + s.points.length, 0)}">` +
    `<figcaption>${escapeHtml(spec.title)}<span class="legend">${legend}</span></figcaption>` +
    `<svg class="chart-svg" viewBox="0 0 ${W} ${H}" role="img" aria-label="${escapeHtml(spec.title)}" xmlns="http://www.w3.org/2000/svg">${parts.join('')}</svg>` +
    `</figure>`
  );
}
