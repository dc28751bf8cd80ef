// Live training curves drawn with uPlot (vendored: web/vendor/uplot): every run of one kind
// overlaid against its steps, one chart per metric; runs of the same algorithm and task with
// different seeds also get their mean (dashed) and a band from their lowest to their highest.

import uPlot from './vendor/uplot/uPlot.esm.js';

/** The charts of policy-gradient / SAC runs and of behaviour cloning: record field and title. */
const PANELS = {
  rl: [
    { key: 'mean_return', title: 'Mean return (last 10 episodes)' },
    { key: 'success_rate', title: 'Success rate (last 10 episodes)' },
    { key: 'entropy', title: 'Policy entropy' },
  ],
  bc: [{ key: 'loss', title: 'Behaviour-cloning loss (minibatch MSE)' }],
};

/** A first draw made when a chart is created (at page load), with every kind of mark the real
 * curves use: a browser drawing canvases through a software GPU prepares each kind on its
 * first use (100+ ms), which must not happen mid-run on the page's main thread. */
const WARM_UP = {
  series: [
    { label: 'warm-up line', stroke: '#3b5bdb', width: 2, points: { show: false } },
    { label: 'warm-up low', stroke: 'transparent', points: { show: false } },
    { label: 'warm-up mean', stroke: '#e8590c', width: 3, dash: [8, 5], points: { show: false } },
  ],
  bands: [{ series: [1, 2], fill: '#3b5bdb33' }],
  data: [[0, 1, 2], [0, 1, 2], [0, 0, 1], [0, 0.5, 1.5]],
};

/** On a chart's first draw, every character its tick labels may use is drawn once, nearly
 * invisibly (the next draw clears it): new glyphs otherwise cost ~80 ms on their first use. */
function warmUpText(u) {
  if (u.warmedUp) return;
  u.warmedUp = true;
  u.ctx.save();
  u.ctx.fillStyle = 'rgba(255, 255, 255, 0.02)';
  for (const font of [u.axes[0].font[0], u.axes[0].labelFont[0]]) {
    u.ctx.font = font;
    u.ctx.fillText('0123456789,.-−+e kMG', u.bbox.left + 4, u.bbox.top + 20);
  }
  u.ctx.restore();
}

const charts = new Map(); // panel key → {chart, signature, element}
// Visible to the console and the end-to-end tests.
window.polyskillCharts = charts;

/** Each x of `xs` mapped to the run's latest value at or before it (null outside the run). */
function stepValues(points, xKey, yKey, xs) {
  const out = [];
  let k = -1;
  for (const x of xs) {
    while (k + 1 < points.length && points[k + 1][xKey] <= x) k += 1;
    const inside = k >= 0 && x <= points[points.length - 1][xKey];
    const v = inside ? points[k][yKey] : null;
    out.push(Number.isFinite(v) ? v : null);
  }
  return out;
}

/** Mean, lowest and highest of the runs' values at each x (null where none has one). */
function spread(columns) {
  const mean = []; const low = []; const high = [];
  for (let i = 0; i < columns[0].length; i += 1) {
    const vs = columns.map((c) => c[i]).filter((v) => v !== null);
    mean.push(vs.length ? vs.reduce((a, b) => a + b, 0) / vs.length : null);
    low.push(vs.length ? Math.min(...vs) : null);
    high.push(vs.length ? Math.max(...vs) : null);
  }
  return { mean, low, high };
}

/** Draws (or updates) the charts for `runs` ({label, group, color, records}) of one kind. */
export function drawCurves(container, runs, bc) {
  const xKey = bc ? 'step' : 'env_steps';
  const usable = (r) => (bc ? r.phase === 'fitting' : r.episodes > 0);
  const shown = runs.map((run) => ({ run, points: run.records.filter(usable) }));
  const xs = [...new Set(shown.flatMap((s) => s.points.map((p) => p[xKey])))].sort((a, b) => a - b);
  const panels = PANELS[bc ? 'bc' : 'rl'];
  for (const [key, entry] of charts) {
    if (!panels.some((p) => p.key === key)) { entry.chart.destroy(); entry.element.remove(); charts.delete(key); }
  }
  for (const panel of panels) {
    const data = [xs];
    const series = [{ label: bc ? 'gradient steps' : 'env steps' }];
    const bands = [];
    const columns = new Map(); // group → its runs' columns
    for (const { run, points } of shown) {
      const ys = stepValues(points, xKey, panel.key, xs);
      data.push(ys);
      series.push({ label: run.label, stroke: run.color, width: 2, spanGaps: true, points: { show: false } });
      if (!columns.has(run.group)) columns.set(run.group, { color: run.color, columns: [] });
      columns.get(run.group).columns.push(ys);
    }
    for (const [group, { color, columns: cols }] of columns) {
      if (cols.length < 2) continue;
      const { mean, low, high } = spread(cols);
      const at = data.length;
      data.push(high, low, mean);
      series.push(
        { label: `${group} highest`, stroke: 'transparent', points: { show: false }, spanGaps: true },
        { label: `${group} lowest`, stroke: 'transparent', points: { show: false }, spanGaps: true },
        { label: `${group} mean of ${cols.length} seeds`, stroke: color, width: 3, dash: [8, 5], spanGaps: true, points: { show: false } },
      );
      bands.push({ series: [at, at + 1], fill: `${color}33` });
    }
    const signature = JSON.stringify(series.map((s) => s.label));
    let entry = charts.get(panel.key);
    const width = Math.max(240, Math.floor(container.getBoundingClientRect().width) - 12);
    if (!entry) {
      // Made once per kind (at page load for the first): creating a chart is the costly part,
      // so runs coming and going only change its series.
      const element = container.appendChild(document.createElement('div'));
      element.className = 'chart';
      element.dataset.metric = panel.key;
      const chart = new uPlot({
        title: panel.title,
        width,
        height: bc ? 300 : 200,
        scales: { x: { time: false } },
        axes: [{ label: bc ? 'gradient steps' : 'environment steps' }, {}],
        series: [series[0], ...WARM_UP.series],
        bands: WARM_UP.bands,
        legend: { show: false },
        hooks: { draw: [warmUpText] },
      }, WARM_UP.data, element);
      entry = { chart, signature: 'warm-up', element };
      charts.set(panel.key, entry);
    }
    const { chart } = entry;
    if (entry.signature !== signature) {
      while (chart.series.length > 1) chart.delSeries(chart.series.length - 1);
      chart.delBand(null);
      series.slice(1).forEach((s) => chart.addSeries(s));
      bands.forEach((b) => chart.addBand(b));
      entry.signature = signature;
    }
    chart.setData(data);
    if (chart.width !== width) chart.setSize({ width, height: chart.height });
  }
}
