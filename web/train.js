// The training page: starts a run (PPO, GRPO, RLOO or behaviour cloning) in a Web Worker
// (web/train-worker.js), draws its curve as records arrive (mean return against environment
// steps, or BC's loss against gradient steps), stops on request, shows the final policy's
// success on 20 seeds per task, and offers weights (safetensors) and metrics (JSON lines) as
// downloads. URL: ?algo=ppo&task=cart-pole&seed=1 (task "mt10" trains BC on all ten).

const $ = (id) => document.getElementById(id);
const DISCRETE = ['cart-pole', 'acrobot'];
const CONTINUOUS_CONTROL = ['pendulum', 'reacher'];
const MT10 = ['reach', 'push', 'pick-place', 'door-open', 'drawer-open', 'drawer-close', 'button-press-topdown',
  'peg-insert-side', 'window-open', 'window-close'];
const EVAL_EPISODES = 20;
let worker = null;
let records = [];
let started = 0;

function showMessage(text) {
  $('message').textContent = text;
  $('message').hidden = !text;
}

function setStatus(state, text = state) {
  $('status').dataset.state = state;
  $('status').textContent = text;
}

const isBc = () => $('algo').value === 'bc';

/** The tasks the chosen algorithm can train: control tasks for PPO (discrete or continuous),
 * discrete ones for GRPO / RLOO, the MT10 tasks (and all of MT10 at once) for behaviour cloning. */
function fillTasks(wanted) {
  const names = isBc() ? ['mt10', ...MT10] : $('algo').value === 'ppo' ? [...DISCRETE, ...CONTINUOUS_CONTROL] : DISCRETE;
  $('task').replaceChildren(...names.map((n) => new Option(n === 'mt10' ? 'MT10 (all ten, one network)' : n, n)));
  if (wanted && names.includes(wanted)) $('task').value = wanted;
  else if (isBc()) $('task').value = 'reach';
  document.querySelector('.pg-only').hidden = isBc();
  document.querySelector('.bc-only').hidden = !isBc();
  $('progress-label').textContent = isBc() ? 'Gradient steps' : 'Env steps';
  $('metric-label').textContent = isBc() ? 'Loss' : 'Mean return';
}

/** The curve: (x, y) of the records that have one, on a plain canvas. */
function drawCurve() {
  const [xKey, yKey, title] = isBc() ? ['step', 'loss', 'BC loss (minibatch MSE)'] : ['env_steps', 'mean_return', 'mean return (last 10 episodes)'];
  const canvas = $('curve');
  const ctx = canvas.getContext('2d');
  const { width: w, height: h } = canvas;
  ctx.fillStyle = '#fff';
  ctx.fillRect(0, 0, w, h);
  const pts = records.filter((r) => Number.isFinite(r[yKey]) && (isBc() ? r.phase === 'fitting' : r.episodes > 0));
  const maxX = Math.max(1, ...pts.map((r) => r[xKey]));
  const ys = pts.map((r) => r[yKey]);
  const [minY, maxY] = [Math.min(0, ...ys), Math.max(isBc() ? 1e-3 : 1, ...ys)];
  const pad = 40;
  const x = (v) => pad + (v / maxX) * (w - pad - 10);
  const y = (v) => h - pad - ((v - minY) / (maxY - minY)) * (h - pad - 10);
  // Axes and labels are drawn even without data, so the canvas and its font are set up at
  // page load, not in the middle of a run.
  ctx.strokeStyle = '#98a2b3';
  ctx.lineWidth = 1;
  ctx.beginPath(); ctx.moveTo(pad, 10); ctx.lineTo(pad, h - pad); ctx.lineTo(w - 10, h - pad); ctx.stroke();
  ctx.fillStyle = '#1d2330';
  ctx.font = '12px system-ui, sans-serif';
  ctx.fillText(title, pad + 6, 22);
  if (pts.length === 0) return;
  ctx.fillText(maxY.toPrecision(3), 2, y(maxY) + 4);
  ctx.fillText(minY.toPrecision(3), 2, y(minY));
  ctx.fillText(`${maxX} ${isBc() ? 'gradient' : 'env'} steps`, w - 130, h - pad + 16);
  ctx.strokeStyle = '#3b5bdb';
  ctx.lineWidth = 2;
  ctx.beginPath();
  pts.forEach((r, i) => (i ? ctx.lineTo(x(r[xKey]), y(r[yKey])) : ctx.moveTo(x(r[xKey]), y(r[yKey]))));
  ctx.stroke();
}

function offer(id, blob, name) {
  const link = $(id);
  if (link.href) URL.revokeObjectURL(link.href);
  link.href = URL.createObjectURL(blob);
  link.download = name;
  link.textContent = name;
  link.hidden = false;
}

/** Reads a whole-number field in [min, max]; returns null and shows a message otherwise. */
function wholeNumber(id, label, min, max) {
  const v = Number($(id).value);
  if ($(id).value === '' || !Number.isInteger(v) || v < min || v > max) {
    showMessage(`${label} "${$(id).value}" must be a whole number in ${min}..${max}.`);
    return null;
  }
  return v;
}

async function fetchTask(name) {
  const response = await fetch(`tasks/${name}.json`);
  if (!response.ok) throw new Error(`Task "${name}" could not be loaded (HTTP ${response.status}).`);
  return response.text();
}

async function start() {
  showMessage('');
  const algo = $('algo').value;
  const task = $('task').value;
  const seed = wholeNumber('seed', 'Seed', 0, 2 ** 32 - 1);
  if (seed === null) return;
  let message;
  try {
    if (algo === 'bc') {
      const demos = wholeNumber('demos', 'Demos per task', 1, 1000);
      const steps = wholeNumber('grad-steps', 'Gradient steps', 1, 1_000_000);
      const daggerRounds = wholeNumber('dagger', 'DAgger rounds', 0, 20);
      if (demos === null || steps === null || daggerRounds === null) return;
      const tasks = await Promise.all((task === 'mt10' ? MT10 : [task]).map(fetchTask));
      message = { algo, tasks, seed, demos, steps, daggerRounds, evaluate: EVAL_EPISODES };
    } else {
      const totalSteps = wholeNumber('steps', 'Env steps', 512, 10_000_000);
      if (totalSteps === null) return;
      const targetReturn = $('target').value === '' ? null : Number($('target').value);
      message = { algo, task: await fetchTask(task), seed, totalSteps, targetReturn, evaluate: EVAL_EPISODES };
    }
  } catch (e) {
    return showMessage(e.message);
  }
  records = [];
  started = performance.now();
  drawCurve();
  $('success').textContent = '–';
  worker?.terminate();
  worker = new Worker(new URL('./train-worker.js', import.meta.url), { type: 'module' });
  const name = `${task}-${algo}-s${seed}`;
  const evaluations = [];
  worker.onmessage = ({ data }) => {
    if (data.type === 'record') {
      const record = { ...data.record, seconds: (performance.now() - started) / 1000 };
      records.push(record);
      $('progress').textContent = isBc() ? record.step : record.env_steps;
      const metric = isBc() ? record.loss : record.mean_return;
      if (Number.isFinite(metric)) $('metric').textContent = isBc() ? metric.toPrecision(3) : metric.toFixed(1);
      if (isBc() && record.phase === 'recording') setStatus('running', `recording episodes (${record.episodes})`);
      else setStatus('running');
      $('seconds').textContent = `${record.seconds.toFixed(1)} s`;
      drawCurve();
    } else if (data.type === 'evaluation') {
      evaluations.push(data);
      const mean = evaluations.reduce((s, e) => s + e.result.success_rate, 0) / evaluations.length;
      $('success').textContent = `${(mean * 100).toFixed(0)}% over ${EVAL_EPISODES} seeds × ${evaluations.length} task(s)`;
      $('success').dataset.success = String(mean);
    } else if (data.type === 'done') {
      setStatus(data.reason, { target: 'reached the target', finished: 'finished', stopped: 'stopped' }[data.reason]);
      offer('download-weights', new Blob([data.weights]), `${name}.safetensors`);
      offer('download-metrics', new Blob(records.map((r) => `${JSON.stringify(r)}\n`)), `${name}.jsonl`);
      finish();
    } else if (data.type === 'error') {
      showMessage(`Training failed: ${data.message}`);
      setStatus('error');
      finish();
    }
  };
  worker.onerror = (e) => { showMessage(`The training worker failed: ${e.message}`); setStatus('error'); finish(); };
  worker.postMessage({ type: 'start', ...message });
  setStatus('running');
  $('start').disabled = true;
  $('stop').disabled = false;
}

function finish() {
  $('start').disabled = false;
  $('stop').disabled = true;
}

$('start').addEventListener('click', start);
$('stop').addEventListener('click', () => { worker?.postMessage({ type: 'stop' }); setStatus('stopping', 'stopping…'); });
$('algo').addEventListener('change', () => { fillTasks(); drawCurve(); });

const params = new URLSearchParams(location.search);
const problems = [];
const algo = params.get('algo');
if (algo !== null) {
  if ([...$('algo').options].some((o) => o.value === algo)) $('algo').value = algo;
  else problems.push(`URL parameter algo="${algo}" is not one of ppo, grpo, rloo, bc.`);
}
fillTasks(params.get('task'));
const task = params.get('task');
if (task !== null && $('task').value !== task) {
  problems.push(`URL parameter task="${task}" is not a task ${isBc() ? 'behaviour cloning' : 'this algorithm'} can train here (${[...$('task').options].map((o) => o.value).join(', ')}).`);
}
if (params.has('seed')) $('seed').value = params.get('seed');
showMessage(problems.join('\n'));
drawCurve();
document.body.dataset.ready = 'true';
