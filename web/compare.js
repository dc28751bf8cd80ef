// The compare view: shows a report written by `polyskill compare` (a shipped one, listed in
// docs/comparisons/index.json, picked by ?report=NAME; or a report.json opened or dropped
// here): the methods' IQM and mean success with their 95% intervals, best-checkpoint figures,
// gradient conflict and wall time; success per task; and each method's mean learning curve
// (uPlot). Everything in a report reaches the page as text.

import uPlot from './vendor/uplot/uPlot.esm.js';
import { cosineColor } from './task-panel.js';

const $ = (id) => document.getElementById(id);
const COLORS = ['#3b5bdb', '#e8590c', '#2b8a3e', '#ae3ec9', '#c92a2a', '#1098ad', '#5c940d', '#d6336c', '#495057', '#f08c00', '#7048e8', '#0b7285', '#a61e4d', '#364fc7', '#2f9e44', '#e67700', '#862e9c'];

function showMessage(text) {
  $('message').textContent = text;
  $('message').hidden = !text;
}

const pct = (v) => (Number.isFinite(v) ? (100 * v).toFixed(1) : '–');

/** A cell holding `text`. */
function cell(text, className) {
  const td = document.createElement('td');
  td.textContent = text;
  if (className) td.className = className;
  return td;
}

/** The interval [low, high] and estimate of `e` on a 0–100% scale, as a small bar. */
function intervalBar(e) {
  const td = document.createElement('td');
  td.className = 'ci-col';
  const track = document.createElement('span');
  track.className = 'ci-track';
  const span = document.createElement('span');
  span.className = 'ci-span';
  span.style.left = `${100 * e.low}%`;
  span.style.width = `${Math.max(0.5, 100 * (e.high - e.low))}%`;
  const mark = document.createElement('span');
  mark.className = 'ci-mark';
  mark.style.left = `${100 * e.value}%`;
  track.append(span, mark);
  track.title = `${pct(e.value)}% [${pct(e.low)}, ${pct(e.high)}]`;
  td.append(track);
  return td;
}

/** Checks that `report` has what the view draws; throws an Error naming what is missing. */
function checkReport(report) {
  const need = (ok, what) => { if (!ok) throw new Error(`not a polyskill compare report: ${what}`); };
  need(report && typeof report === 'object', 'the file is not a JSON object');
  need(Array.isArray(report.methods) && report.methods.length > 0, '"methods" is missing or empty');
  need(Array.isArray(report.tasks), '"tasks" is missing');
  for (const [i, m] of report.methods.entries()) {
    need(typeof m.method === 'string' && m.iqm && m.mean, `methods[${i}] lacks method, iqm or mean`);
  }
}

let chart = null;

/** Draws `report`. */
export function showReport(report) {
  checkReport(report);
  showMessage('');
  const spec = report.spec ?? {};
  $('title').textContent = spec.name ?? 'comparison';
  $('question').textContent = spec.question ?? '';
  $('protocol').textContent = report.protocol ?? '';
  $('budget').textContent = spec.budget_note ?? '';
  $('budget-line').hidden = !spec.budget_note;
  const rows = report.methods.map((m, i) => {
    const tr = document.createElement('tr');
    const name = cell(m.method);
    name.style.color = COLORS[i % COLORS.length];
    const ci = (e) => `${pct(e.value)} [${pct(e.low)}, ${pct(e.high)}]`;
    tr.append(
      name,
      cell(String(m.runs)),
      cell(ci(m.iqm)),
      intervalBar(m.iqm),
      cell(ci(m.mean)),
      cell(m.best_iqm ? ci(m.best_iqm) : '–'),
      cell(m.mean_cosine == null ? '–' : m.mean_cosine.toFixed(3)),
      cell(m.conflicting == null ? '–' : `${(100 * m.conflicting).toFixed(0)}%`),
      cell(Number.isFinite(m.seconds) ? m.seconds.toFixed(1) : '–'),
    );
    tr.dataset.method = m.method;
    return tr;
  });
  $('methods').querySelector('tbody').replaceChildren(...rows);
  const head = document.createElement('tr');
  head.append(...['method', ...report.tasks].map((t) => { const th = document.createElement('th'); th.textContent = t; return th; }));
  $('per-task').querySelector('thead').replaceChildren(head);
  $('per-task').querySelector('tbody').replaceChildren(...report.methods.map((m) => {
    const tr = document.createElement('tr');
    tr.append(cell(m.method), ...m.per_task.map((s) => cell(s == null ? '–' : (100 * s).toFixed(0))));
    return tr;
  }));
  const failed = report.methods.flatMap((m) => (m.failed ?? []).map((f) => `${m.method}: ${f}`));
  $('failed').replaceChildren(...failed.map((f) => { const li = document.createElement('li'); li.textContent = `stopped early (its last good policy was evaluated): ${f}`; return li; }));
  drawCurves(report);
  drawConflicts(report);
  document.body.dataset.report = spec.name ?? '';
}

/** Each method's task × task gradient cosine, averaged over its runs (methods with a
 * combiner measure it), as a heatmap: red where tasks pull the shared network apart. */
function drawConflicts(report) {
  const cards = report.methods.map((m) => {
    const matrices = (report.runs ?? []).filter((r) => r.method === m.method && Array.isArray(r.cosine)).map((r) => r.cosine);
    if (matrices.length === 0) return null;
    const t = matrices[0].length;
    const mean = (i, j) => matrices.reduce((s, c) => s + c[i][j], 0) / matrices.length;
    const card = document.createElement('figure');
    card.className = 'task-card';
    const caption = document.createElement('figcaption');
    caption.textContent = `${m.method}: mean cosine ${m.mean_cosine?.toFixed(3) ?? '–'}`;
    const canvas = document.createElement('canvas');
    canvas.className = 'heatmap';
    canvas.width = canvas.height = 160;
    canvas.setAttribute('role', 'img');
    canvas.setAttribute('aria-label', `${m.method}: task × task gradient cosine over ${matrices.length} run(s); rows and columns ${report.tasks.join(', ')}`);
    const ctx = canvas.getContext('2d');
    const cell = canvas.width / t;
    for (let i = 0; i < t; i++) {
      for (let j = 0; j < t; j++) {
        ctx.fillStyle = cosineColor(mean(i, j));
        ctx.fillRect(j * cell, i * cell, cell, cell);
      }
    }
    card.append(caption, canvas);
    return card;
  }).filter(Boolean);
  $('conflicts').replaceChildren(...cards);
  $('conflicts').hidden = cards.length === 0;
}

/** Each method's mean curve: success for PPO/SAC, loss for behaviour cloning. */
function drawCurves(report) {
  const bc = report.spec?.algorithm === 'bc';
  const key = bc ? 'loss' : 'success';
  const xs = [...new Set(report.methods.flatMap((m) => m.curve.map((p) => p.at)))].sort((a, b) => a - b);
  const series = report.methods.map((m) => {
    const at = new Map(m.curve.map((p) => [p.at, p[key]]));
    return xs.map((x) => at.get(x) ?? null);
  });
  chart?.destroy();
  $('curves').replaceChildren();
  if (xs.length === 0) return;
  const width = Math.max(280, Math.min(900, $('view').clientWidth || 900));
  chart = new uPlot({
    title: bc ? 'Behaviour-cloning loss (mean over seeds) by gradient step' : 'Success of recent training episodes (mean over seeds) by environment step',
    width,
    height: 320,
    spanGaps: true,
    series: [{ label: bc ? 'step' : 'env steps' }, ...report.methods.map((m, i) => ({ label: m.method, stroke: COLORS[i % COLORS.length], width: 2, points: { show: false } }))],
    axes: [{}, { label: bc ? 'loss' : 'success' }],
    scales: { x: { time: false }, y: bc ? { distr: 3 } : { range: [0, 1] } },
  }, [xs, ...series], $('curves'));
}

async function load(name) {
  try {
    const response = await fetch(`../docs/comparisons/${encodeURIComponent(name)}/report.json`);
    if (!response.ok) throw new Error(`report "${name}" could not be loaded (HTTP ${response.status})`);
    showReport(await response.json());
  } catch (e) {
    showMessage(e.message);
  }
}

async function readFile(file) {
  try {
    showReport(JSON.parse(await file.text()));
  } catch (e) {
    showMessage(`${file.name}: ${e.message}`);
  }
}

$('file').addEventListener('change', () => { if ($('file').files[0]) readFile($('file').files[0]); });
document.addEventListener('dragover', (e) => e.preventDefault());
document.addEventListener('drop', (e) => {
  e.preventDefault();
  const file = e.dataTransfer?.files?.[0];
  if (file) readFile(file);
});

const index = await fetch('../docs/comparisons/index.json').then((r) => (r.ok ? r.json() : { reports: [] })).catch(() => ({ reports: [] }));
$('report').replaceChildren(...index.reports.map((r) => new Option(r.name, r.dir)));
$('report').addEventListener('change', () => {
  history.replaceState(null, '', `?report=${encodeURIComponent($('report').value)}`);
  load($('report').value);
});
const wanted = new URLSearchParams(location.search).get('report');
if (wanted !== null && !index.reports.some((r) => r.dir === wanted)) {
  showMessage(`URL parameter report="${wanted}" is not one of the shipped reports (${index.reports.map((r) => r.dir).join(', ')}).`);
} else if (index.reports.length > 0) {
  $('report').value = wanted ?? index.reports[0].dir;
  await load($('report').value);
}
document.body.dataset.ready = 'true';
