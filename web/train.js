// The training page: starts a PPO run in a Web Worker (web/train-worker.js), draws the mean
// return against environment steps as iterations arrive, stops on request, and offers the
// weights (safetensors) and metrics (JSON lines) as downloads. URL: ?task=cart-pole&seed=1.

const $ = (id) => document.getElementById(id);
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

/** Mean return (last 10 episodes) against env steps, on a plain canvas. */
function drawCurve() {
  const canvas = $('curve');
  const ctx = canvas.getContext('2d');
  const { width: w, height: h } = canvas;
  ctx.clearRect(0, 0, w, h);
  ctx.fillStyle = '#fff';
  ctx.fillRect(0, 0, w, h);
  const pts = records.filter((r) => r.episodes > 0);
  if (pts.length === 0) return;
  const maxX = Math.max(...pts.map((r) => r.env_steps));
  const ys = pts.map((r) => r.mean_return);
  const [minY, maxY] = [Math.min(0, ...ys), Math.max(1, ...ys)];
  const pad = 40;
  const x = (v) => pad + (v / maxX) * (w - pad - 10);
  const y = (v) => h - pad - ((v - minY) / (maxY - minY)) * (h - pad - 10);
  ctx.strokeStyle = '#98a2b3';
  ctx.beginPath(); ctx.moveTo(pad, 10); ctx.lineTo(pad, h - pad); ctx.lineTo(w - 10, h - pad); ctx.stroke();
  ctx.fillStyle = '#1d2330';
  ctx.font = '12px system-ui, sans-serif';
  ctx.fillText(maxY.toFixed(0), 4, y(maxY) + 4);
  ctx.fillText(minY.toFixed(0), 4, y(minY));
  ctx.fillText(`${maxX} env steps`, w - 110, h - pad + 16);
  ctx.fillText('mean return (last 10 episodes)', pad + 6, 22);
  ctx.strokeStyle = '#3b5bdb';
  ctx.lineWidth = 2;
  ctx.beginPath();
  pts.forEach((r, i) => (i ? ctx.lineTo(x(r.env_steps), y(r.mean_return)) : ctx.moveTo(x(r.env_steps), y(r.mean_return))));
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

async function start() {
  showMessage('');
  const task = $('task').value;
  const seed = Number($('seed').value);
  const totalSteps = Number($('steps').value);
  const target = $('target').value === '' ? null : Number($('target').value);
  if (!Number.isInteger(seed) || seed < 0) return showMessage(`Seed "${$('seed').value}" must be a whole number ≥ 0.`);
  if (!Number.isInteger(totalSteps) || totalSteps < 512 || totalSteps > 10_000_000) {
    return showMessage(`Env steps "${$('steps').value}" must be a whole number in 512..10000000.`);
  }
  const response = await fetch(`tasks/${task}.json`);
  if (!response.ok) return showMessage(`Task "${task}" could not be loaded (HTTP ${response.status}).`);
  const taskJson = await response.text();
  records = [];
  started = performance.now();
  drawCurve();
  worker?.terminate();
  worker = new Worker(new URL('./train-worker.js', import.meta.url), { type: 'module' });
  worker.onmessage = ({ data }) => {
    if (data.type === 'iteration') {
      const record = { ...data.record, seconds: (performance.now() - started) / 1000 };
      records.push(record);
      $('env-steps').textContent = record.env_steps;
      $('mean-return').textContent = record.mean_return.toFixed(1);
      $('entropy').textContent = record.entropy.toFixed(3);
      $('seconds').textContent = `${record.seconds.toFixed(1)} s`;
      drawCurve();
    } else if (data.type === 'done') {
      setStatus(data.reason, { target: 'reached the target', budget: 'step budget spent', stopped: 'stopped' }[data.reason]);
      offer('download-weights', new Blob([data.weights]), `${task}-ppo-s${seed}.safetensors`);
      offer('download-metrics', new Blob(records.map((r) => `${JSON.stringify(r)}\n`)), `${task}-ppo-s${seed}.jsonl`);
      finish();
    } else if (data.type === 'error') {
      showMessage(`Training failed: ${data.message}`);
      setStatus('error');
      finish();
    }
  };
  worker.onerror = (e) => { showMessage(`The training worker failed: ${e.message}`); setStatus('error'); finish(); };
  worker.postMessage({ type: 'start', algo: 'ppo', task: taskJson, seed, totalSteps, targetReturn: target });
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

const params = new URLSearchParams(location.search);
if (params.has('task')) {
  if ([...$('task').options].some((o) => o.value === params.get('task'))) $('task').value = params.get('task');
  else showMessage(`URL parameter task="${params.get('task')}" is not a discrete task this page can train (cart-pole, acrobot).`);
}
if (params.has('seed')) $('seed').value = params.get('seed');
document.body.dataset.ready = 'true';
