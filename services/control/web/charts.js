// Small hand-written SVG line charts: one series of drift values over time with its threshold line.
// Built with DOM calls (never innerHTML), so feature names from the API cannot inject markup.

const SVG_NS = 'http://www.w3.org/2000/svg';

function el(name, attrs = {}, text) {
  const node = document.createElementNS(SVG_NS, name);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (text !== undefined) node.textContent = text;
  return node;
}

function niceMax(value) {
  if (value <= 0) return 1;
  const magnitude = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 2.5, 5, 10]) if (step * magnitude >= value) return step * magnitude;
  return 10 * magnitude;
}

const timeLabel = (ms, spanMs) => {
  const d = new Date(ms);
  const hm = d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  return spanMs > 36 * 3600 * 1000
    ? `${d.toLocaleDateString([], { month: 'short', day: 'numeric' })} ${hm}`
    : hm;
};

/**
 * series: { feature, metric, threshold, points: [{ windowStart, value, sampleSize, breached }] }
 * range: { from, to } epoch ms, so every chart of a model shares the same time axis.
 */
export function driftChart(series, range, { width = 460, height = 200 } = {}) {
  const pad = { left: 44, right: 12, top: 12, bottom: 28 };
  const w = width - pad.left - pad.right;
  const h = height - pad.top - pad.bottom;
  const values = series.points.map((p) => p.value);
  const yMax = niceMax(Math.max(series.threshold * 1.2, ...values));
  const span = Math.max(1, range.to - range.from);
  const x = (t) => pad.left + ((t - range.from) / span) * w;
  const y = (v) => pad.top + h - (Math.min(v, yMax) / yMax) * h;

  const svg = el('svg', {
    viewBox: `0 0 ${width} ${height}`,
    class: 'chart',
    role: 'img',
    'aria-label': `${series.feature} ${series.metric} over time, threshold ${series.threshold}`,
  });

  for (let i = 0; i <= 4; i += 1) {
    const v = (yMax * i) / 4;
    svg.append(el('line', { x1: pad.left, x2: pad.left + w, y1: y(v), y2: y(v), class: 'grid' }));
    svg.append(
      el('text', { x: pad.left - 6, y: y(v) + 4, class: 'axis', 'text-anchor': 'end' }, +v.toPrecision(3)),
    );
  }
  for (let i = 0; i <= 3; i += 1) {
    const t = range.from + (span * i) / 3;
    const anchor = i === 0 ? 'start' : i === 3 ? 'end' : 'middle';
    svg.append(
      el('text', { x: x(t), y: height - 8, class: 'axis', 'text-anchor': anchor }, timeLabel(t, span)),
    );
  }

  svg.append(
    el('line', {
      x1: pad.left,
      x2: pad.left + w,
      y1: y(series.threshold),
      y2: y(series.threshold),
      class: 'threshold',
    }),
  );
  svg.append(
    el(
      'text',
      { x: pad.left + w - 2, y: y(series.threshold) - 4, class: 'threshold-label', 'text-anchor': 'end' },
      `threshold ${series.threshold}`,
    ),
  );

  const sorted = [...series.points].sort((a, b) => a.windowStart - b.windowStart);
  if (sorted.length > 1) {
    const d = sorted
      .map((p, i) => `${i ? 'L' : 'M'}${x(p.windowStart).toFixed(1)},${y(p.value).toFixed(1)}`)
      .join('');
    svg.append(el('path', { d, class: 'series' }));
  }
  for (const p of sorted) {
    const dot = el('circle', {
      cx: x(p.windowStart).toFixed(1),
      cy: y(p.value).toFixed(1),
      r: 3,
      class: p.breached ? 'pt breached' : 'pt',
      'data-value': p.value,
    });
    dot.append(
      el('title', {}, `${new Date(p.windowStart).toLocaleString()}: ${p.value} (n=${p.sampleSize})`),
    );
    svg.append(dot);
  }
  return svg;
}
