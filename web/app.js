// The playground page: loads the wasm package, a task (JSON) and a policy (safetensors),
// runs the simulation and the policy inside wasm, and draws the scene with WebGPU (wgpu) or,
// without WebGPU, with a plain 2D canvas. URL: ?task=reach&policy=reach-bc&seed=0&actor=policy.

import init, { Player, Policy, SceneView, initGpu } from '../pkg/polyskill_web.js';
import { drawFallback } from './fallback2d.js';

const $ = (id) => document.getElementById(id);
const NAME = /^[a-z0-9][a-z0-9_-]{0,63}$/;
const STEPS_PER_SECOND = 80; // real time: 12.5 ms per environment step

const state = {
  player: null, policy: null, view: null, playing: false, busy: false,
  episodeReturn: 0, lastReward: 0, accumulator: 0, lastTime: 0, gpuInference: false,
};

function showMessage(text) {
  const box = $('message');
  box.textContent = text;
  box.hidden = !text;
}

function addMessage(text) {
  const box = $('message');
  box.textContent = box.hidden ? text : `${box.textContent}\n${text}`;
  box.hidden = false;
}

/** Reads and checks URL parameters; bad values become messages and fall back to defaults. */
function readParams() {
  const params = new URLSearchParams(location.search);
  const problems = [];
  const name = (key, fallback) => {
    const v = params.get(key);
    if (v === null) return fallback;
    if (!NAME.test(v)) { problems.push(`URL parameter ${key}="${v}" is not a valid name (letters, digits, - and _).`); return null; }
    return v;
  };
  const task = name('task', 'reach');
  const policy = name('policy', null);
  let seed = 0;
  if (params.has('seed')) {
    seed = Number(params.get('seed'));
    if (!Number.isInteger(seed) || seed < 0) { problems.push(`URL parameter seed="${params.get('seed')}" must be a whole number ≥ 0; using 0.`); seed = 0; }
  }
  let actor = params.get('actor') ?? 'policy';
  if (!['policy', 'expert', 'random'].includes(actor)) { problems.push(`URL parameter actor="${actor}" must be policy, expert or random.`); actor = 'policy'; }
  return { task, policy, seed, actor, problems };
}

async function fetchOk(url, what) {
  let response;
  try { response = await fetch(url); } catch (e) { throw new Error(`${what}: network error (${e.message})`); }
  if (!response.ok) throw new Error(`${what}: ${response.status} ${response.statusText} for ${url}`);
  return response;
}

/** Fills the task strip: one link per task with its thumbnail (rendered by `cargo xtask thumbnails`). */
function showTaskList(names, current) {
  const nav = $('tasks');
  nav.replaceChildren(...names.map((name) => {
    const link = document.createElement('a');
    link.href = `?task=${name}`;
    if (name === current) link.setAttribute('aria-current', 'page');
    const img = document.createElement('img');
    img.src = `web/thumbs/${name}.png`;
    img.alt = '';
    const label = document.createElement('span');
    label.textContent = name;
    link.append(img, label);
    return link;
  }));
}

async function loadTask(name) {
  const index = await (await fetchOk('web/tasks.json', 'task list')).json();
  showTaskList(index.tasks, name);
  if (!index.tasks.includes(name)) {
    throw new Error(`Unknown task "${name}". Available tasks: ${index.tasks.join(', ')}.`);
  }
  const text = await (await fetchOk(`web/tasks/${name}.json`, `task ${name}`)).text();
  const player = new Player(text); // validates; throws a path-qualified Error when invalid
  return { player, instruction: JSON.parse(text).instruction };
}

/** The policy to show: the one named in the URL (checked against web/policies.json), else
 *  the first shipped policy trained on `task`; null when there is none. */
async function choosePolicy(requested, task) {
  const index = await (await fetchOk('web/policies.json', 'policy list')).json();
  if (requested) {
    if (index.policies.some((p) => p.name === requested)) return requested;
    throw new Error(`Unknown policy "${requested}". Available policies: ${index.policies.map((p) => p.name).join(', ')}.`);
  }
  return index.policies.find((p) => p.tasks.includes(task))?.name ?? null;
}

async function loadPolicy(name) {
  const bytes = new Uint8Array(await (await fetchOk(`web/weights/${name}.safetensors`, `policy ${name}`)).arrayBuffer());
  try {
    return new Policy(bytes);
  } catch (e) {
    throw new Error(`Policy "${name}" could not be loaded: ${e.message}`);
  }
}

function updateReadout(step) {
  const p = state.player;
  $('step').textContent = p ? p.steps : 0;
  $('reward').textContent = state.lastReward.toFixed(3);
  $('return').textContent = state.episodeReturn.toFixed(1);
  const ok = p ? p.episodeSuccess : false;
  $('success').textContent = ok ? 'yes' : 'no';
  $('success').dataset.success = String(ok);
  if (step && (step.truncated || step.terminated)) setPlaying(false);
}

function draw() {
  if (!state.player) return;
  if (state.view) {
    try { state.view.draw(state.player); } catch (e) { addMessage(`Drawing failed: ${e.message}`); state.view = null; useFallback('WebGPU drawing failed'); }
  } else {
    drawFallback($('scene2d'), state.player.visuals(), state.player.camera());
  }
}

async function chooseAction() {
  const actor = $('actor').value;
  const obs = state.player.observation();
  if (actor === 'expert') return state.player.expertAction();
  if (actor === 'policy' && state.policy) {
    const task = state.player.taskId;
    if (state.gpuInference) return new Float32Array(await state.policy.actGpu(obs, task));
    return state.policy.act(obs, task);
  }
  return state.player.randomAction();
}

async function stepOnce() {
  const action = await chooseAction();
  const step = state.player.step(action);
  state.lastReward = step.reward;
  state.episodeReturn += step.reward;
  updateReadout(step);
  return step;
}

async function frame(time) {
  if (state.playing && !state.busy && state.player) {
    state.busy = true;
    try {
      const dt = Math.min(0.1, (time - (state.lastTime || time)) / 1000);
      state.accumulator += dt * STEPS_PER_SECOND;
      let n = Math.floor(state.accumulator);
      state.accumulator -= n;
      while (n-- > 0 && state.playing) await stepOnce();
    } catch (e) {
      addMessage(`Step failed: ${e.message}`);
      setPlaying(false);
    } finally {
      state.busy = false;
    }
  }
  state.lastTime = time;
  draw();
  requestAnimationFrame(frame);
}

function setPlaying(on) {
  state.playing = on && !!state.player;
  $('play').textContent = state.playing ? 'Pause' : 'Play';
}

function reset() {
  if (!state.player) return;
  const seed = Number($('seed').value);
  if (!Number.isInteger(seed) || seed < 0) { addMessage(`Seed "${$('seed').value}" must be a whole number ≥ 0.`); return; }
  state.player.reset(BigInt(seed));
  state.episodeReturn = 0;
  state.lastReward = 0;
  updateReadout(null);
}

function useFallback(reason) {
  $('scene').hidden = true;
  $('scene2d').hidden = false;
  $('render-backend').textContent = `2D canvas fallback (${reason})`;
}

async function setInference(kind) {
  if (kind === 'gpu' && !(state.policy && state.policy.hasGpu)) {
    addMessage('WebGPU inference is not available here; the policy runs on the CPU backend.');
    $('inference').value = 'cpu';
    kind = 'cpu';
  }
  state.gpuInference = kind === 'gpu';
  $('infer-backend').textContent = state.gpuInference ? 'burn WebGPU backend' : 'burn CPU backend (flex, wasm SIMD)';
}

/** The browser's own description of its WebGPU adapter (vendor, architecture, fallback). */
async function adapterName(fallback) {
  try {
    const adapter = await navigator.gpu.requestAdapter();
    const info = adapter?.info ?? {};
    const parts = [info.vendor, info.architecture, info.description].filter(Boolean);
    if (adapter?.isFallbackAdapter || info.isFallbackAdapter) parts.push('software fallback adapter');
    return parts.length ? parts.join(' ') : fallback;
  } catch {
    return fallback;
  }
}

async function main() {
  const params = readParams();
  showMessage(params.problems.join('\n'));
  $('seed').value = params.seed;
  $('actor').value = params.actor;
  await init();

  const gpuCompute = await initGpu().catch(() => false);
  try {
    state.view = await SceneView.create($('scene'));
    $('render-backend').textContent = `WebGPU (${await adapterName(state.view.adapter)})`;
  } catch (e) {
    state.view = null;
    useFallback(navigator.gpu ? `WebGPU unavailable: ${e.message}` : 'this browser has no WebGPU');
  }

  if (params.task) {
    try {
      ({ player: state.player, instruction: state.instruction } = await loadTask(params.task));
    } catch (e) {
      addMessage(e.message);
    }
  }
  if (state.player) {
    const summary = state.player.taskId;
    $('task-title').textContent = summary;
    $('instruction').textContent = state.instruction;
    reset();
  } else {
    $('task-title').textContent = 'No task loaded';
  }

  if (state.player) {
    try {
      const name = await choosePolicy(params.policy, state.player.taskId);
      if (name) {
        state.policy = await loadPolicy(name);
        const info = state.policy.info();
        const success = info.eval_success != null ? `, ${(info.eval_success * 100).toFixed(0)}% success over ${info.eval_episodes} episodes` : '';
        $('policy-info').textContent = `${name} (${info.architecture.sizes.join('→')}${success})`;
      } else {
        $('policy-info').textContent = `none shipped for ${state.player.taskId} yet; showing the task expert`;
      }
    } catch (e) {
      addMessage(`${e.message}\nThe page still works: choose the task expert or random actions.`);
    }
  }
  if (!state.policy && $('actor').value === 'policy') $('actor').value = 'expert';
  if (state.player && !state.player.hasExpert) {
    $('actor').querySelector('option[value=expert]').disabled = true;
    if ($('actor').value === 'expert') $('actor').value = 'random';
  }
  await setInference('cpu');
  if (!gpuCompute) $('inference').querySelector('option[value=gpu]').disabled = true;

  $('play').addEventListener('click', () => setPlaying(!state.playing));
  $('reset').addEventListener('click', () => { reset(); draw(); });
  $('seed').addEventListener('change', () => { reset(); draw(); });
  $('inference').addEventListener('change', (e) => setInference(e.target.value));

  document.body.dataset.ready = 'true';
  setPlaying(!!state.player);
  requestAnimationFrame(frame);
}

main().catch((e) => {
  addMessage(`Polyskill could not start: ${e.message}`);
  document.body.dataset.ready = 'error';
});
