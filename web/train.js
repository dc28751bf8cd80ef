// The training page: each "Train" starts a run (PPO, SAC, GRPO, RLOO or behaviour cloning) in
// its own Web Worker (web/train-worker.js), so several runs train side by side; their curves
// (return, success rate and entropy against environment steps, or BC's loss against gradient
// steps; curves.js, uPlot) are overlaid as records arrive, runs differing only in their seed
// also as a mean and a band, and a table compares them. The readout follows the latest run:
// status, final success on 20 seeds per task, weights (safetensors) and metrics (JSON lines) to
// download. Stop ends every running run. URL: ?algo=ppo&task=cart-pole&seed=1 (task "mt10"
// trains BC or MT-SAC on all ten, task=reach,push the tasks picked in the gallery);
// ?compare=ppo:cart-pole:1,ppo:cart-pole:2,grpo:cart-pole:1 starts those runs at once; an
// item may carry its own settings (ppo:cart-pole:1:steps=20480:lr=0.001, hidden widths as
// 64x64, a task set as reach+push), and "Link to this comparison" writes such a URL for the
// runs on the page, so a comparison is shared by its address.

import init, { algorithmsFor, methods, trainDefaults } from '../pkg/polyskill_web.js';
import { drawCurves } from './curves.js';
import { RunStore, newId } from './run-store.js';
import { labelCells, savedRunsView } from './saved-runs.js';
import { sharedWorkBuffer } from './shared-buffer.js';
import { drawTaskPanel } from './task-panel.js';

const $ = (id) => document.getElementById(id);
// The tasks and the task sets as web/tasks.json lists them (the file every tool reads task
// sets from).
const CATALOGUE = await (await fetch('tasks.json')).json();
/** The named task sets (mt10, …): each trains as one network where the algorithm trains sets. */
const SETS = CATALOGUE.sets;
const EVAL_EPISODES = 20;
const COLORS = ['#3b5bdb', '#e8590c', '#2b8a3e', '#ae3ec9'];
const MAX_RUNNING = 4;
/** Every run started on this page: {label, algo, records, worker, state, color, row}. */
const runs = [];
// Visible to the console and the end-to-end tests.
window.polyskillRuns = runs;
let current = null;
/** The runs saved in this browser (saved-runs.js), once IndexedDB is open. */
let saved = null;

function showMessage(text) {
  $('message').textContent = text;
  $('message').hidden = !text;
}


const isBc = () => $('algo').value === 'bc';
/** Whether `task` names several tasks (a named set or a picked one) for one network. */
const isMultiTask = (task) => Object.hasOwn(SETS, task ?? '') || (task ?? '').includes(',');

// The algorithms, which of them train several tasks at once, which tasks each can train and
// the multi-task menus come from the learner (the wasm API), not from lists here.
await init();
const registry = methods();
const ALGOS = registry.algorithms;
/** Whether `algo` trains one network on several tasks in the page. */
const trainsSets = (algo) => registry.multi_task.includes(algo);
/** Each shipped task's JSON text, fetched once. */
const TASK_TEXT = Object.fromEntries(await Promise.all(CATALOGUE.tasks.map(async (name) => [name, await fetchTask(name)])));
/** Each shipped task's algorithms, as the learner's rules give them from its file. */
const TRAINABLE = Object.fromEntries(CATALOGUE.tasks.map((name) => [name, algorithmsFor(TASK_TEXT[name])]));
/** The task texts `task` names: one task, "mt10" or a picked set joined by ",". */
const taskTexts = (task) => (Object.hasOwn(SETS, task) ? SETS[task] : task.split(',')).map((name) => TASK_TEXT[name]);
/** The whole configuration a page run of `algo` on `task` starts from, every setting by name
 * (the learner's defaults with the page's budget preset: the wasm API's trainDefaults). */
const defaultsFor = (algo, task) => trainDefaults(algo, taskTexts(task));

/** The setting each form field sets, by the learner's configuration field names (the
 * learning-rate field sets SAC's actor rate, policy_lr). A field applies to an algorithm whose
 * configuration has its setting; "target" (stop at a return) to those that step environments. */
const FIELD_SETTINGS = { steps: 'total_steps', demos: 'demos', 'grad-steps': 'steps', dagger: 'dagger_rounds', noise: 'demo_noise', lr: ['learning_rate', 'policy_lr'], hidden: 'hidden', architecture: 'architecture', combiner: 'combiner' };
/** The setting field `id` sets in a configuration with these `defaults` (undefined: none). */
const settingName = (id, defaults) => [FIELD_SETTINGS[id]].flat().find((name) => name in defaults);
$('architecture').replaceChildren(...registry.architectures.map((name) => new Option(name === 'mlp' ? 'mlp (one-hot / heads)' : name, name)));
$('combiner').replaceChildren(new Option('none (pooled rows)', ''), ...registry.combiners.map((name) => new Option(name, name)));

/** Shows the architecture and combiner menus for a multi-task BC or SAC run. */
function showMultiTaskOptions() {
  const shown = trainsSets($('algo').value) && isMultiTask($('task').value);
  for (const element of document.querySelectorAll('.mt-only')) element.hidden = !shown;
}

/** The tasks `algo` can train (as the wasm API says: GRPO / RLOO discrete ones, SAC those
 * whose actions are bounded by ±1, behaviour cloning those with an expert), with each named
 * set (MT10) first for an algorithm that trains sets. */
function tasksFor(algo) {
  const tasks = CATALOGUE.tasks.filter((name) => TRAINABLE[name].includes(algo));
  return [...Object.keys(SETS).filter((set) => isTaskSet(algo, SETS[set].join(','))), ...tasks];
}

/** Whether `wanted` is a comma-separated set of distinct tasks `algo` can train together. */
function isTaskSet(algo, wanted) {
  const parts = wanted?.split(',') ?? [];
  return parts.length > 1 && trainsSets(algo) && parts.every((p) => TRAINABLE[p]?.includes(algo)) && new Set(parts).size === parts.length;
}

function fillTasks(wanted) {
  const algo = $('algo').value;
  const names = tasksFor(algo);
  const options = names.map((n) => new Option(Object.hasOwn(SETS, n) ? `${n.toUpperCase()} (all ${SETS[n].length}, one network)` : n, n));
  // A set picked in the gallery (?task=reach,push) trains as one multi-task network.
  if (isTaskSet(algo, wanted)) options.unshift(new Option(`picked: ${wanted.split(',').join(' + ')}`, wanted));
  $('task').replaceChildren(...options);
  if (isTaskSet(algo, wanted) || (wanted && names.includes(wanted))) $('task').value = wanted;
  else if (names.includes('reach')) $('task').value = 'reach';
  fillDefaults();
  document.querySelector('.pg-only').hidden = isBc();
  for (const element of document.querySelectorAll('.bc-only')) element.hidden = !isBc();
  $('progress-label').textContent = isBc() ? 'Gradient steps' : 'Env steps';
  $('metric-label').textContent = isBc() ? 'Loss' : 'Mean return';
  showMultiTaskOptions();
}

/** Fills the form's settings from the configuration the chosen run starts from: budgets as
 * values, the learning rate and hidden widths as placeholders ("default 0.0025"), blank. */
function fillDefaults() {
  const [algo, task] = [$('algo').value, $('task').value];
  for (const [id, value] of Object.entries(startingFields(algo, task))) $(id).value = value;
  const defaults = defaultsFor(algo, task);
  for (const id of ['lr', 'hidden']) {
    const name = settingName(id, defaults);
    $(id).placeholder = name ? `default ${[defaults[name]].flat().join(',')}` : 'default';
  }
}

/** The curves of every run of the latest run's kind (see curves.js), redrawn at most once a frame. */
let curvesPending = false;
function drawCurve() {
  if (curvesPending) return;
  curvesPending = true;
  requestAnimationFrame(() => {
    curvesPending = false;
    const bc = current ? current.algo === 'bc' : isBc();
    $('charts-empty').hidden = runs.length > 0;
    drawCurves($('charts'), runs.filter((r) => (r.algo === 'bc') === bc), bc);
  });
}

/** Points the download link `id` at `blob`, saved as `name`. */
function offer(id, blob, name) {
  const link = $(id);
  if (link.href) URL.revokeObjectURL(link.href);
  link.href = URL.createObjectURL(blob);
  link.download = name;
  link.textContent = name;
  link.hidden = false;
}

/** The form's settings besides algorithm, task and seed, by field id, as typed. */
const SETTING_FIELDS = ['steps', 'target', 'demos', 'grad-steps', 'dagger', 'noise', 'lr', 'hidden', 'architecture', 'combiner'];
function formFields() {
  return Object.fromEntries(SETTING_FIELDS.map((id) => [id, $(id).value.trim()]));
}

/** The form fields that matter to `algo` (those whose setting its configuration has; the
 * multi-task ones where it trains sets), in the order a shared link writes them. */
function settingsOf(algo) {
  // Which settings a configuration has does not depend on the task.
  const defaults = defaultsFor(algo, CATALOGUE.tasks[0]);
  return SETTING_FIELDS.filter((id) => (id === 'target' ? 'total_steps' in defaults : settingName(id, defaults))
    && (trainsSets(algo) || !['architecture', 'combiner'].includes(id)));
}

/** Reads the whole-number setting `id` of `fields` in [min, max]; returns null and shows a
 * message otherwise. */
function wholeNumber(fields, id, label, min, max) {
  const v = Number(fields[id]);
  if (fields[id] === '' || !Number.isInteger(v) || v < min || v > max) {
    showMessage(`${label} "${fields[id]}" must be a whole number in ${min}..${max}.`);
    return null;
  }
  return v;
}

async function fetchTask(name) {
  const response = await fetch(`tasks/${name}.json`);
  if (!response.ok) throw new Error(`Task "${name}" could not be loaded (HTTP ${response.status}).`);
  return response.text();
}

/** The label of form field `id`, for messages. */
const labelOf = (id) => $(id).closest('label')?.firstChild?.textContent.trim() ?? id;

/** The worker's start message for a run of `algo` on `task` with `seed` and the form's
 * settings in `fields` (see formFields): the given fields as the learner's settings by name,
 * blank ones left to the run's starting configuration. Values out of range are the learner's
 * to name (the worker reports its error); null (and a message shown) when a field is not a
 * number at all. */
function runSettings(algo, task, seed, fields) {
  const defaults = defaultsFor(algo, task);
  const multiTask = trainsSets(algo) && isMultiTask(task);
  const settings = { seed };
  let targetReturn = null;
  for (const id of settingsOf(algo)) {
    const text = fields[id];
    if (text === '' || ((id === 'architecture' || id === 'combiner') && !multiTask)) continue;
    if (id === 'target') {
      targetReturn = Number(text);
      if (!Number.isFinite(targetReturn)) { showMessage(`Stop at return "${text}" must be a number (blank: no target).`); return null; }
    } else if (id === 'architecture') {
      if (text !== 'mlp') settings.architecture = text;
    } else if (id === 'combiner') {
      settings.combiner = text;
    } else if (id === 'hidden') {
      const widths = text.split(',').map((w) => Number(w.trim()));
      if (!widths.every((w) => Number.isInteger(w) && w > 0)) { showMessage(`Hidden widths "${text}" must be whole numbers separated by commas, e.g. 64,64.`); return null; }
      settings.hidden = widths;
    } else {
      const value = Number(text);
      if (!Number.isFinite(value)) { showMessage(`${labelOf(id)} "${text}" must be a number (blank: the default).`); return null; }
      settings[settingName(id, defaults)] = value;
    }
  }
  return { algo, tasks: taskTexts(task), settings, targetReturn, evaluate: EVAL_EPISODES };
}

/** Shows the latest run in the readout: status, progress, metric, wall time. */
function showReadout(run) {
  const last = run.records[run.records.length - 1];
  const bc = run.algo === 'bc';
  $('progress-label').textContent = bc ? 'Gradient steps' : 'Env steps';
  $('metric-label').textContent = bc ? 'Loss' : 'Mean return';
  $('status').dataset.state = run.state;
  $('status').textContent = run.statusText ?? run.state;
  if (!last) return;
  $('progress').textContent = bc ? last.step : last.env_steps;
  const metric = bc ? last.loss : last.mean_return;
  if (Number.isFinite(metric)) $('metric').textContent = bc ? metric.toPrecision(3) : metric.toFixed(1);
  $('seconds').textContent = `${last.seconds.toFixed(1)} s`;
}

/** A run's progress in its row: a bar (with its figure for assistive technology) against its
 * budget while it trains (BC: recording its demonstrations, then fitting), and the count. */
function showProgress(run, last) {
  const bar = run.row.querySelector('progress');
  const bc = run.algo === 'bc';
  const recording = bc && last?.phase === 'recording';
  const done = last ? (recording ? last.episodes : bc ? last.step : last.env_steps) : 0;
  const total = recording ? run.budget?.episodes : run.budget?.steps;
  const unit = recording ? 'demonstrations recorded' : bc ? 'gradient steps' : 'env steps';
  bar.hidden = !run.worker || !Number.isFinite(total);
  if (run.worker && run.evaluating) {
    // Training is over: the bar counts the tasks evaluated.
    bar.hidden = false;
    bar.max = run.evaluating;
    bar.value = run.evaluations.length;
    bar.setAttribute('aria-label', `${run.label}: evaluated on ${run.evaluations.length} of ${run.evaluating} tasks`);
  } else if (!bar.hidden) {
    bar.max = total;
    bar.value = Math.min(done, total);
    bar.setAttribute('aria-label', `${run.label}: ${done} of ${total} ${unit}`);
  }
  run.row.querySelector('.count').textContent = last ? `${done} ${recording ? 'demos' : bc ? 'steps' : 'env steps'}` : '–';
}

/** Updates a run's row in the comparison table. */
function showRow(run) {
  const last = run.records[run.records.length - 1];
  const bc = run.algo === 'bc';
  const cell = (name, text) => { run.row.querySelector(`.${name}`).textContent = text; };
  cell('state', run.statusText ?? run.state);
  showProgress(run, last);
  const metric = last && (bc ? last.loss : last.mean_return);
  cell('metric', Number.isFinite(metric) ? (bc ? `loss ${metric.toPrecision(3)}` : `return ${metric.toFixed(1)}`) : '–');
  cell('seconds', last ? `${last.seconds.toFixed(1)} s` : '–');
}

function show(run) {
  showRow(run);
  if (run === current) showReadout(run);
  drawTaskPanel($('tasks-panel'), run, runs.indexOf(run));
  drawCurve();
}

/** A run's name: TASK-ALGO[-ARCHITECTURE][-COMBINER]-sSEED (the multi-task method only when one
 * is chosen for several tasks). */
function runLabel(algo, task, seed, fields) {
  const multiTask = trainsSets(algo) && isMultiTask(task);
  const method = multiTask ? [fields.architecture !== 'mlp' ? fields.architecture : '', fields.combiner].filter(Boolean) : [];
  return [task, algo, ...method, `s${seed}`].join('-');
}

/** A run as one item of a ?compare= URL: ALGO:TASK:SEED and the settings that matter to its
 * algorithm as NAME=VALUE (a task set joined by "+", hidden widths by "x", so that "," only
 * separates items). */
function compareItem(algo, task, seed, fields) {
  const settings = settingsOf(algo).filter((id) => (fields[id] !== '' || id === 'target') && !(id === 'architecture' && fields[id] === 'mlp'))
    .map((id) => `${id}=${id === 'hidden' ? fields[id].replace(/\s*,\s*/g, 'x') : fields[id]}`);
  return [algo, task.split(',').join('+'), seed, ...settings].join(':');
}

/** Parses one ?compare= item (see compareItem) against the form's settings: {algo, task, seed,
 * fields}, or a message naming what is wrong. */
function parseCompareItem(item) {
  const [runAlgo, runTask = '', runSeed = '1', ...pairs] = item.split(':');
  // "+" joins a task set; a query string reads it as a space.
  const task = runTask.split(/[+ ]/).join(',');
  const seed = Number(runSeed);
  if (!ALGOS.includes(runAlgo) || !(tasksFor(runAlgo).includes(task) || isTaskSet(runAlgo, task)) || runSeed === '' || !Number.isInteger(seed) || seed < 0) {
    return { problem: `URL parameter compare: "${item}" is not ALGO:TASK:SEED with a task that algorithm can train (e.g. ppo:cart-pole:1).` };
  }
  const fields = { ...formFields(), ...startingFields(runAlgo, task) };
  for (const pair of pairs) {
    const [name, value] = pair.split('=');
    if (!settingsOf(runAlgo).includes(name) || value === undefined) {
      return { problem: `URL parameter compare: "${item}" has "${pair}"; ${runAlgo} runs take ${settingsOf(runAlgo).map((n) => `${n}=…`).join(', ')}.` };
    }
    fields[name] = name === 'hidden' ? value.split('x').join(',') : value;
  }
  return { algo: runAlgo, task, seed, fields };
}

/** The form's fields as the configuration a run of `algo` on `task` starts from would fill them
 * (see fillDefaults): budgets as values, the rest blank. */
function startingFields(algo, task) {
  const defaults = defaultsFor(algo, task);
  // Cart-pole's "solved" return is the default stop; SAC's tasks have no such line.
  const fields = { lr: '', hidden: '', architecture: 'mlp', combiner: '', target: algo === 'sac' ? '' : '475' };
  for (const id of ['steps', 'demos', 'grad-steps', 'dagger', 'noise']) {
    const name = settingName(id, defaults);
    if (name) fields[id] = String(defaults[name]);
  }
  return fields;
}

/** Points "Link to this comparison" at a ?compare= URL of every run on the page. */
function updateShareLink() {
  const link = $('share');
  const items = runs.map((r) => r.compareItem).filter(Boolean);
  link.href = `train.html?compare=${items.join(',')}`;
  link.hidden = items.length === 0;
}

/** Web Workers a behaviour-cloning run splits its minibatches over (data parallelism, the
 * gradients summed through a SharedArrayBuffer): two when the page is cross-origin isolated,
 * the machine has two cores, and the run trains alone (runs side by side already share the
 * cores); one otherwise. */
function bcWorkers(settings, alone) {
  // A combiner weighs each task's whole gradient, which one worker's share of the rows cannot
  // give: such runs train in one worker.
  const combined = Boolean(settings.settings.combiner);
  return settings.algo === 'bc' && alone && !combined && self.crossOriginIsolated && navigator.hardwareConcurrency >= 2 ? 2 : 1;
}

/** Starts helper workers 1..workers-1 of a split BC run (worker 0 is the run's own). They
 * post nothing but errors; the page ends them when the run's own worker finishes. A helper's
 * error is kept for the run's own worker to report: that worker stops too (the same
 * divergence, or no partner at its next step) and still sends its last good weights. */
function startHelpers(run, settings, share) {
  run.helpers = [];
  for (let index = 1; index < share.workers; index++) {
    const helper = new Worker(new URL('./train-worker.js', import.meta.url), { type: 'module' });
    const failed = (message) => { run.helperError ??= message; };
    helper.onmessage = ({ data }) => { if (data.type === 'error') failed(data.message); };
    helper.onerror = (e) => failed(e.message);
    helper.postMessage({ type: 'start', ...settings, share: { ...share, index } });
    run.helpers.push(helper);
  }
}

/** Adds `run` to the page: its row in the table (label, state, progress, figures, files and
 * the watch button), its colour, its place among the curves. */
function addRun(run) {
  run.color = COLORS[runs.length % COLORS.length];
  run.row = document.createElement('tr');
  run.row.innerHTML = '<td class="label"></td><td class="state"></td><td class="progress"><progress max="1" value="0"></progress><span class="count"></span></td><td class="metric"></td><td class="seconds"></td><td class="success">–</td><td class="files"></td><td><button type="button" class="watch">watch</button></td>';
  run.row.querySelector('.watch').addEventListener('click', () => watch(run));
  run.row.querySelector('.watch').disabled = !run.watchTask || !TASK_TEXT[run.watchTask];
  run.row.querySelector('.label').textContent = run.label;
  run.row.querySelector('.label').style.color = run.color;
  run.row.dataset.id = run.id;
  labelCells($('runs-table'), run.row);
  $('runs').append(run.row);
  $('runs-table').hidden = false;
  runs.push(run);
  updateShareLink();
}

/** The settings a run's progress bar counts against: its total env steps, or for behaviour
 * cloning its gradient steps and the demonstrations it records first. */
function budgetOf(algo, task, settings) {
  const whole = { ...defaultsFor(algo, task), ...settings };
  const tasks = Object.hasOwn(SETS, task) ? SETS[task].length : task.split(',').length;
  return algo === 'bc' ? { steps: whole.steps, episodes: whole.demos * tasks } : { steps: whole.total_steps };
}

/** Starts a run of `settings` (runSettings' start message) named `label` (its ?compare= item
 * `item`) on `task`; `alone` when no other run trains. It is saved in this browser as it goes. */
function startRun(settings, { label, item, task, alone = false }) {
  // Runs that differ only in their seed form a group: the charts add its mean and band.
  const group = label.replace(/-s\d+$/, '');
  const run = {
    id: newId(), name: label, label, group, algo: settings.algo, task, seed: settings.settings.seed, compareItem: item,
    settings: { ...settings.settings, targetReturn: settings.targetReturn }, created: new Date().toISOString(),
    source: 'page', records: [], state: 'running', evaluations: [], watchTask: JSON.parse(settings.tasks[0]).id,
    budget: budgetOf(settings.algo, task, settings.settings),
  };
  addRun(run);
  const saver = saved?.track(run);
  current = run;
  $('success').textContent = '–';
  delete $('success').dataset.success;
  const started = performance.now();
  run.worker = new Worker(new URL('./train-worker.js', import.meta.url), { type: 'module' });
  const workers = bcWorkers(settings, alone);
  const share = workers > 1 ? { buffer: sharedWorkBuffer(workers), workers } : null;
  run.workers = workers;
  const settle = () => {
    run.worker?.terminate();
    run.worker = null;
    for (const helper of run.helpers ?? []) helper.terminate();
    run.helpers = [];
    updateButtons();
  };
  run.worker.onmessage = ({ data }) => {
    if (data.type === 'record') {
      run.records.push({ ...data.record, seconds: (performance.now() - started) / 1000 });
      saver?.record(run.records.length - 1, JSON.stringify(run.records.at(-1)));
      const split = run.workers > 1 ? ` (${run.workers} workers)` : '';
      run.statusText = run.algo === 'bc' && data.record.phase === 'recording' ? `recording episodes (${data.record.episodes})` : `running${split}`;
    } else if (data.type === 'evaluating') {
      run.evaluating = data.tasks;
      run.statusText = `evaluating (${data.episodes} seeds × ${data.tasks} task${data.tasks > 1 ? 's' : ''})`;
    } else if (data.type === 'evaluation') {
      run.evaluations.push({ task: data.task, result: data.result });
      showSuccess(run);
      saver?.describe();
    } else if (data.type === 'snapshot') {
      showPolicy(run, data.weights);
    } else if (data.type === 'done') {
      run.finalWeights = data.weights.slice();
      run.state = data.reason;
      run.statusText = { target: 'reached the target', finished: 'finished', stopped: 'stopped' }[data.reason];
      offerFiles(run, data.weights);
      saver?.finish(run.finalWeights);
      settle();
    } else if (data.type === 'error') {
      const kept = data.weights ? ' Its last good weights can still be downloaded.' : '';
      const helper = run.helperError && run.helperError !== data.message ? ` (its helper worker: ${run.helperError})` : '';
      showMessage(`Training ${label} failed: ${data.message}${helper}${kept}`);
      run.state = 'error';
      run.statusText = 'error';
      if (data.weights) {
        run.finalWeights = data.weights.slice();
        offerFiles(run, data.weights);
      }
      saver?.finish(run.finalWeights);
      settle();
    }
    show(run);
  };
  run.worker.onerror = (e) => { showMessage(`The training worker of ${label} failed: ${e.message}`); run.state = 'error'; saver?.finish(null); settle(); show(run); };
  run.worker.postMessage({ type: 'start', ...settings, share: share && { ...share, index: 0 } });
  if (share) startHelpers(run, settings, share);
  show(run);
  updateButtons();
}

/** A run's final test success in its row (mean, and per task) and, for the latest run, the
 * readout. */
function showSuccess(run) {
  if (run.evaluations.length === 0) return;
  const mean = run.evaluations.reduce((s, e) => s + e.result.success_rate, 0) / run.evaluations.length;
  const perTask = run.evaluations.map((e) => `${e.task} ${(e.result.success_rate * 100).toFixed(0)}%`).join(', ');
  run.row.querySelector('.success').textContent = run.evaluations.length > 1 ? `${(mean * 100).toFixed(0)}% (${perTask})` : `${(mean * 100).toFixed(0)}%`;
  if (run === current) {
    $('success').textContent = `${(mean * 100).toFixed(0)}% over ${run.evaluations[0].result.episodes ?? EVAL_EPISODES} seeds × ${run.evaluations.length} task(s)`;
    $('success').dataset.success = String(mean);
  }
}

/** Puts a saved run ({description, lines, weights}) on the page beside the others: its row,
 * curves, task card, files and policy. A run already on the page stays as it is. */
function openSaved({ description, lines, weights }) {
  if (runs.some((r) => r.id === description.id)) return;
  const name = description.name ?? description.label;
  const run = {
    ...description, label: name, group: description.group ?? name.replace(/-s\d+$/, ''),
    records: lines.map((line) => JSON.parse(line)), evaluations: description.evaluations ?? [],
    state: ['running', 'stopping'].includes(description.state) ? 'unfinished' : description.state,
    finalWeights: weights ?? null,
  };
  if (run.state === 'unfinished') run.statusText = 'unfinished (saved records only)';
  addRun(run);
  current = run;
  showSuccess(run);
  if (weights) offerFiles(run, weights);
  show(run);
  updateButtons();
}

/** A saved run renamed in the list: its name on the page too (row, curves, task card). */
function renameOnPage(id, name) {
  const run = runs.find((r) => r.id === id);
  if (!run) return;
  run.name = name;
  run.label = name;
  run.row.querySelector('.label').textContent = name;
  run.taskCard?.querySelector('figcaption')?.replaceChildren(name);
  show(run);
}

/** Takes run `run` off the page (its row, task card and files' blob URLs). */
function removeFromPage(run) {
  for (const link of run.row.querySelectorAll('.files a')) URL.revokeObjectURL(link.href);
  run.row.remove();
  run.taskCard?.remove();
  runs.splice(runs.indexOf(run), 1);
  if (run === current) current = null;
  $('runs-table').hidden = runs.length === 0;
  $('tasks-panel').hidden = !$('tasks-panel').children.length;
  updateShareLink();
  updateButtons();
  drawCurve();
}

/** Shows a run's policy as it stands in the player under the table: a running run is asked
 * for a snapshot of its weights (after its current piece of work), a finished one plays its
 * final weights. */
function watch(run) {
  if (run.worker) run.worker.postMessage({ type: 'snapshot' });
  else if (run.finalWeights) showPolicy(run, run.finalWeights);
}

async function showPolicy(run, weights) {
  await import('./polyskill-player.js');
  const last = run.records[run.records.length - 1];
  const progress = last ? (run.algo === 'bc' ? `${last.step ?? 0} gradient steps` : `${last.env_steps} env steps`) : 'the start';
  $('watch-title').textContent = `${run.label} at ${progress}, on ${run.watchTask}`;
  const player = document.createElement('polyskill-player');
  player.setAttribute('task', run.watchTask);
  player.setAttribute('seed', '0');
  player.setAttribute('controls', '');
  player.setAttribute('autoplay', '');
  player.watch(weights, run.label);
  $('watch-host').replaceChildren(player);
  $('watch-panel').hidden = false;
}

/** The records as CSV: one column per field any record has, in first-seen order. */
function csv(records) {
  const columns = [...new Set(records.flatMap((r) => Object.keys(r)))];
  const cell = (v) => (v === undefined || v === null ? '' : typeof v === 'string' ? `"${v.replace(/"/g, '""')}"` : String(v));
  return [columns.join(','), ...records.map((r) => columns.map((c) => cell(r[c])).join(','))].join('\n') + '\n';
}

/** Download links for a run's weights and metrics, in its table row (and the readout). */
function offerFiles(run, weightBytes) {
  const weights = new Blob([weightBytes]);
  const metrics = new Blob(run.records.map((r) => `${JSON.stringify(r)}\n`));
  const table = new Blob([csv(run.records)], { type: 'text/csv' });
  for (const [blob, name, text] of [[weights, `${run.label}.safetensors`, 'weights'], [metrics, `${run.label}.jsonl`, 'metrics'], [table, `${run.label}.csv`, 'csv']]) {
    const link = document.createElement('a');
    link.href = URL.createObjectURL(blob);
    link.download = name;
    link.textContent = text;
    run.row.querySelector('.files').append(link, ' ');
  }
  if (run === current) {
    offer('download-weights', weights, `${run.label}.safetensors`);
    offer('download-metrics', metrics, `${run.label}.jsonl`);
  }
}

async function start() {
  showMessage('');
  const algo = $('algo').value;
  const task = $('task').value;
  const seed = wholeNumber({ seed: $('seed').value }, 'seed', 'Seed', 0, 2 ** 32 - 1);
  if (seed === null) return;
  if (runs.filter((r) => r.worker).length >= MAX_RUNNING) return showMessage(`At most ${MAX_RUNNING} runs train at once; stop one first.`);
  const fields = formFields();
  try {
    const settings = await runSettings(algo, task, seed, fields);
    const alone = !runs.some((r) => r.worker);
    if (settings) startRun(settings, { label: runLabel(algo, task, seed, fields), item: compareItem(algo, task, seed, fields), task, alone });
  } catch (e) {
    showMessage(e.message);
  }
}

function updateButtons() {
  $('stop').disabled = !runs.some((r) => r.worker);
  $('clear-runs').disabled = !runs.some((r) => !r.worker);
}

/** Removes the finished runs from the page (rows, curves, task cards) and releases their
 * files' blob URLs; runs still training stay, and saved runs stay saved (listed below, to open
 * again). A long session keeps only what it shows. */
function clearFinished() {
  for (const run of runs.filter((r) => !r.worker)) removeFromPage(run);
}

$('start').addEventListener('click', start);
$('clear-runs').addEventListener('click', clearFinished);
$('stop').addEventListener('click', () => {
  for (const run of runs.filter((r) => r.worker)) {
    run.worker.postMessage({ type: 'stop' });
    run.state = 'stopping';
    run.statusText = 'stopping…';
    show(run);
  }
});
/** Records the form's algorithm, task and seed in the URL as a new history entry, so back
 * and forward return to earlier choices. */
function rememberChoice() {
  const query = `?algo=${$('algo').value}&task=${$('task').value}&seed=${$('seed').value}`;
  if (location.search !== query) history.pushState(null, '', query);
}

// Switching algorithm keeps the task picked when the new algorithm can train it.
$('algo').addEventListener('change', () => { fillTasks($('task').value); drawCurve(); rememberChoice(); });
$('task').addEventListener('change', () => { fillDefaults(); showMultiTaskOptions(); rememberChoice(); });
$('seed').addEventListener('change', rememberChoice);
window.addEventListener('popstate', () => {
  const back = new URLSearchParams(location.search);
  if (ALGOS.includes(back.get('algo'))) $('algo').value = back.get('algo');
  fillTasks(back.get('task'));
  if (back.has('seed')) $('seed').value = back.get('seed');
  drawCurve();
});
window.addEventListener('resize', drawCurve);

const params = new URLSearchParams(location.search);
const problems = [];
const algo = params.get('algo');
if (algo !== null) {
  if ([...$('algo').options].some((o) => o.value === algo)) $('algo').value = algo;
  else problems.push(`URL parameter algo="${algo}" is not one of ${ALGOS.join(', ')}.`);
}
fillTasks(params.get('task'));
const task = params.get('task');
if (task !== null && $('task').value !== task) {
  problems.push(`URL parameter task="${task}" is not a task ${isBc() ? 'behaviour cloning' : 'this algorithm'} can train here (${[...$('task').options].map((o) => o.value).join(', ')}).`);
}
if (params.has('seed')) $('seed').value = params.get('seed');
const compare = params.get('compare');
const planned = [];
if (compare !== null) {
  for (const item of compare.split(',')) {
    const parsed = parseCompareItem(item);
    if (parsed.problem) problems.push(parsed.problem);
    else planned.push(parsed);
  }
  if (planned.length > MAX_RUNNING) {
    problems.push(`URL parameter compare: at most ${MAX_RUNNING} runs at once; starting the first ${MAX_RUNNING}.`);
    planned.length = MAX_RUNNING;
  }
}
showMessage(problems.join('\n'));
// Runs are saved in this browser's IndexedDB as they train, and listed after a reload.
let store = null;
let storageUnavailable = null;
try {
  store = await RunStore.open();
} catch (e) {
  storageUnavailable = e?.message ?? String(e);
}
saved = savedRunsView({
  store,
  problem: storageUnavailable,
  open: openSaved,
  renamed: renameOnPage,
  deleted: (id) => { const run = runs.find((r) => r.id === id && !r.worker); if (run) removeFromPage(run); },
  isTraining: (id) => runs.some((r) => r.id === id && r.worker),
  showMessage,
});
await saved.refresh();
// The charts are made now, before any run: making one is the costly part of drawing.
drawCurves($('charts'), [], isBc());
document.body.dataset.ready = 'true';
// The compared runs start in the URL's order (their rows and colours follow it).
(async () => {
  for (const { algo: runAlgo, task: runTask, seed: runSeed, fields } of planned) {
    try {
      const settings = await runSettings(runAlgo, runTask, runSeed, fields);
      if (settings) startRun(settings, { label: runLabel(runAlgo, runTask, runSeed, fields), item: compareItem(runAlgo, runTask, runSeed, fields), task: runTask });
    } catch (e) {
      showMessage(e.message);
    }
  }
})();
