// The playground page: loads the wasm package, a task (JSON) and a policy (safetensors),
// runs the simulation and the policy inside wasm, and draws the scene with WebGPU (wgpu) or,
// without WebGPU, with a plain 2D canvas. URL: ?task=reach&policy=reach-bc&seed=0&actor=policy,
// and for the gallery &kind=manipulation|control&pick=reach,push (a multi-task set to train);
// ?view=train|compare|editor&… opens that view's page with the other parameters; &vs=expert|
// random|POLICY plays a second actor beside the first on the same seed.

import { Policy } from '../pkg/polyskill_web.js';
import { Orbit } from './orbit.js';
import { NAME, ScenePlayer, fetchChecked, loadWasm } from './scene-player.js';

const $ = (id) => document.getElementById(id);

const state = {
  /** The task drawn and stepped in real time (scene-player.js), and its Player. */
  scene: null, player: null, policy: null, playing: false, busy: false,
  episodeReturn: 0, lastReward: 0, lastTime: 0, gpuInference: false,
  /** The shown policy on WebGPU, once asked for (see setInference). */
  gpuPolicy: null,
  orbit: null, rewards: [], speed: 1,
  taskText: null, policyNames: [],
  /** The side-by-side view: another actor on the same task and seed, stepped in lockstep, on
   * its own scene (made once). */
  second: null, secondScene: null,
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
  let kind = params.get('kind') ?? 'all';
  if (!['all', 'manipulation', 'control'].includes(kind)) { problems.push(`URL parameter kind="${kind}" must be all, manipulation or control.`); kind = 'all'; }
  const picked = (params.get('pick') ?? '').split(',').filter(Boolean);
  const vs = params.get('vs');
  let actor = params.get('actor') ?? 'policy';
  if (!['policy', 'expert', 'random'].includes(actor)) { problems.push(`URL parameter actor="${actor}" must be policy, expert or random.`); actor = 'policy'; }
  // The 3D view's quality, instead of the one the page chooses (full on a GPU; on a software
  // adapter, software or, when too slow, basic).
  let quality = params.get('quality');
  if (quality !== null && !['full', 'software', 'basic'].includes(quality)) { problems.push(`URL parameter quality="${quality}" must be full, software or basic.`); quality = null; }
  return { task, policy, seed, actor, kind, picked, vs, quality, problems };
}

const fetchOk = fetchChecked;

/** The gallery: one card per task (thumbnail rendered by `cargo xtask thumbnails`, name, kind,
 *  instruction), a filter by kind, and check boxes to pick a multi-task set (MT10 in one
 *  click) that the train page can learn together. Kind and instruction come from each task
 *  file, fetched after the player has started. */
function showGallery(index, current, params) {
  const nav = $('tasks');
  nav.replaceChildren(...index.tasks.map((name) => {
    const card = document.createElement('div');
    card.className = 'card';
    card.dataset.task = name;
    const link = document.createElement('a');
    link.href = `?task=${name}`;
    if (name === current) link.setAttribute('aria-current', 'page');
    const img = document.createElement('img');
    img.src = `web/thumbs/${name}.png`;
    img.alt = '';
    const label = document.createElement('span');
    label.textContent = name;
    const kind = document.createElement('small');
    kind.className = 'kind';
    link.append(img, label, kind);
    const pick = document.createElement('label');
    pick.className = 'pick';
    const box = document.createElement('input');
    box.type = 'checkbox';
    box.value = name;
    box.checked = params.picked.includes(name);
    box.addEventListener('change', updatePicked);
    pick.append(box, ' pick');
    card.append(link, pick);
    return card;
  }));
  $('kind-filter').value = params.kind;
  $('kind-filter').addEventListener('change', () => { filterGallery(); remember(); });
  $('pick-mt10').addEventListener('click', () => {
    for (const box of nav.querySelectorAll('input[type=checkbox]')) box.checked = index.sets.mt10.includes(box.value);
    updatePicked();
  });
  $('pick-none').addEventListener('click', () => {
    for (const box of nav.querySelectorAll('input[type=checkbox]')) box.checked = false;
    updatePicked();
  });
  updatePicked();
  Promise.all(index.tasks.map(async (name) => {
    const task = await (await fetchOk(`web/tasks/${name}.json`, `task ${name}`)).json();
    const card = nav.querySelector(`[data-task="${name}"]`);
    card.dataset.kind = task.hand ? 'manipulation' : 'control';
    card.querySelector('.kind').textContent = card.dataset.kind;
    card.querySelector('a').title = task.instruction;
  })).then(filterGallery).catch((e) => addMessage(`The gallery could not describe every task: ${e.message}`));
}

/** Shows only the cards of the chosen kind. */
function filterGallery() {
  const kind = $('kind-filter').value;
  for (const card of $('tasks').querySelectorAll('.card')) card.hidden = kind !== 'all' && card.dataset.kind !== kind;
}

function picked() {
  return [...$('tasks').querySelectorAll('input[type=checkbox]:checked')].map((b) => b.value);
}

/** Offers to train the picked tasks together (behaviour cloning: one network, a head per task). */
function updatePicked() {
  const names = picked();
  const link = $('train-picked');
  link.hidden = names.length === 0;
  link.textContent = `Train the ${names.length} picked task${names.length === 1 ? '' : 's'} together →`;
  link.href = `web/train.html?algo=bc&task=${names.join(',')}`;
  remember();
}

/** Keeps the filter and the picked set in the URL (without a new history entry). */
function remember() {
  const params = new URLSearchParams(location.search);
  const kind = $('kind-filter').value;
  if (kind === 'all') params.delete('kind'); else params.set('kind', kind);
  const names = picked();
  if (names.length) params.set('pick', names.join(',')); else params.delete('pick');
  const query = params.toString().replace(/%2C/g, ',');
  history.replaceState(null, '', query ? `?${query}` : location.pathname);
}

async function loadTask(name, params) {
  const index = await (await fetchOk('web/tasks.json', 'task list')).json();
  const unknown = params.picked.filter((p) => !index.tasks.includes(p));
  if (unknown.length) {
    params.problems.push(`URL parameter pick: ${unknown.join(', ')} ${unknown.length === 1 ? 'is not a task' : 'are not tasks'}.`);
    params.picked = params.picked.filter((p) => index.tasks.includes(p));
  }
  showGallery(index, name, params);
  if (!index.tasks.includes(name)) {
    throw new Error(`Unknown task "${name}". Available tasks: ${index.tasks.join(', ')}.`);
  }
  const text = await (await fetchOk(`web/tasks/${name}.json`, `task ${name}`)).text();
  const player = state.scene.load(text); // validates; throws a path-qualified Error when invalid
  state.taskText = text;
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
  state.policyNames = index.policies.filter((p) => p.tasks.includes(task)).map((p) => p.name);
  return index.policies.find((p) => p.tasks.includes(task))?.name ?? null;
}

/** Shows `actor` ('expert', 'random' or a policy name) beside the main view on the same task
 * and seed; '' hides it. */
async function showSecond(actor) {
  state.second = null;
  $('second').hidden = !actor;
  if (!actor || !state.taskText) return;
  if (!state.secondScene) {
    state.secondScene = new ScenePlayer({ gpu: $('scene-b'), flat: $('scene2d-b') });
    // Beside a 2D main view, the second is 2D too.
    state.secondScene.setOverlays(state.scene.overlays);
    if (state.scene.view) {
      await state.secondScene.attach();
      // The main view's frames are timed once: the side view takes its quality.
      if (!state.scene.pacingPending) state.secondScene.setQuality(state.scene.view.qualityName);
    }
    else state.secondScene.fallBack('the main view draws in 2D', 'unavailable');
  }
  const second = { actor, scene: state.secondScene, player: state.secondScene.load(state.taskText), policy: null, episodeReturn: 0 };
  if (actor !== 'expert' && actor !== 'random') second.policy = await loadPolicy(actor);
  state.second = second;
  resetSecond();
  draw();
}

function resetSecond() {
  const b = state.second;
  if (!b) return;
  b.scene.reset(Number($('seed').value) || 0);
  b.episodeReturn = 0;
  b.done = false;
  showSecondReadout();
}

function showSecondReadout() {
  const b = state.second;
  if (!b) return;
  const ok = b.player.episodeSuccess;
  $('second-readout').textContent = `${b.actor}: step ${b.player.steps}, return ${b.episodeReturn.toFixed(1)}${ok ? ', success' : ''}`;
  $('second-readout').dataset.success = String(ok);
}

/** One step of the side-by-side view, if its episode is still going. */
function stepSecond() {
  const b = state.second;
  if (!b || b.done) return;
  const obs = b.player.observation();
  const action = b.policy ? b.policy.act(obs, b.player.taskId) : b.actor === 'expert' ? b.player.expertAction() : b.player.randomAction();
  const step = b.player.step(action);
  b.episodeReturn += step.reward;
  b.done = step.terminated || step.truncated;
  showSecondReadout();
}

/** Links to the shown policy's file and to its ONNX model (made here, on click, by the same
 *  exporter as `polyskill export --onnx`; architectures it cannot export say so). */
function offerDownloads(name, policy) {
  const file = $('download-safetensors');
  file.href = `web/weights/${name}.safetensors`;
  file.download = `${name}.safetensors`;
  $('download-onnx').onclick = (event) => {
    event.preventDefault();
    try {
      download(new Blob([policy.toOnnx()], { type: 'application/octet-stream' }), `${name}.onnx`);
    } catch (e) {
      addMessage(`ONNX export of ${name}: ${e.message}`);
    }
  };
  $('policy-downloads').hidden = false;
}

async function loadPolicy(name) {
  const bytes = new Uint8Array(await (await fetchOk(`web/weights/${name}.safetensors`, `policy ${name}`)).arrayBuffer());
  try {
    const policy = new Policy(bytes);
    policy.bytes = bytes;
    return policy;
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
  if (state.recording && p) {
    const bar = $('record-progress');
    bar.max = p.maxSteps;
    bar.value = p.steps;
    bar.setAttribute('aria-label', `Recording the episode: step ${p.steps} of at most ${p.maxSteps}`);
  }
  if (step && (step.truncated || step.terminated)) {
    setPlaying(false);
    state.recording?.finish();
  }
}

function draw() {
  if (!state.player) return;
  const camera = state.orbit?.moved ? state.orbit.camera() : null;
  state.scene.draw(camera);
  state.second?.scene.draw(camera);
  drawRewardPlot();
}

/** The episode's reward per step so far, as a small line plot. */
function drawRewardPlot() {
  const canvas = $('reward-plot');
  const ctx = canvas.getContext('2d');
  const { width: w, height: h } = canvas;
  ctx.clearRect(0, 0, w, h);
  const r = state.rewards;
  if (r.length < 2) return;
  const [lo, hi] = [Math.min(0, ...r), Math.max(1e-6, ...r)];
  const maxSteps = Math.max(r.length, state.player?.maxSteps ?? r.length);
  ctx.strokeStyle = '#3b5bdb';
  ctx.lineWidth = 1.5;
  ctx.beginPath();
  r.forEach((v, i) => {
    const x = (i / (maxSteps - 1)) * (w - 2) + 1;
    const y = h - 2 - ((v - lo) / (hi - lo)) * (h - 4);
    if (i === 0) ctx.moveTo(x, y); else ctx.lineTo(x, y);
  });
  ctx.stroke();
}

async function chooseAction() {
  const actor = $('actor').value;
  const obs = state.player.observation();
  if (actor === 'expert') return state.player.expertAction();
  if (actor === 'policy' && state.policy) {
    const task = state.player.taskId;
    if (state.gpuInference) return new Float32Array(await state.gpuPolicy.act(obs, task));
    return state.policy.act(obs, task);
  }
  return state.player.randomAction();
}

async function stepOnce() {
  const action = await chooseAction();
  const step = state.player.step(action);
  state.lastReward = step.reward;
  state.episodeReturn += step.reward;
  state.rewards.push(step.reward);
  stepSecond();
  updateReadout(step);
  return step;
}

async function frame(time) {
  if (state.playing && !state.busy && state.player) {
    state.busy = true;
    try {
      let n = state.scene.due((time - (state.lastTime || time)) / 1000, state.speed);
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
  state.scene.reset(seed);
  state.episodeReturn = 0;
  state.lastReward = 0;
  state.rewards = [];
  updateReadout(null);
  resetSecond();
}

/** The canvas showing the scene now (WebGPU or the 2D fallback). */
function visibleCanvas() {
  return $('scene').hidden ? $('scene2d') : $('scene');
}

/** A file name for this task and seed: `push-seed3.webm`. */
function fileName(extension) {
  return `${state.player?.taskId ?? 'scene'}-seed${$('seed').value}.${extension}`;
}

/** Offers `blob` as a download named `name`. */
function download(blob, name) {
  const url = URL.createObjectURL(blob);
  const link = Object.assign(document.createElement('a'), { href: url, download: name });
  link.click();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** Restarts the episode and records the canvas with MediaRecorder (WebM, VP8/VP9) until the
 *  episode ends or the button is pressed again; then offers the video as a download. The
 *  body's `data-recorded` carries the steps and seconds recorded (for tests). */
function toggleRecording() {
  if (state.recording) { state.recording.finish(); return; }
  const canvas = visibleCanvas();
  if (typeof MediaRecorder === 'undefined' || !canvas.captureStream) {
    addMessage('This browser cannot record a canvas (no MediaRecorder); use Save PNG for stills.');
    return;
  }
  const type = ['video/webm;codecs=vp9', 'video/webm;codecs=vp8', 'video/webm'].find((t) => MediaRecorder.isTypeSupported(t));
  if (!type) { addMessage('This browser cannot encode WebM video.'); return; }
  reset();
  draw();
  const recorder = new MediaRecorder(canvas.captureStream(30), { mimeType: type, videoBitsPerSecond: 4_000_000 });
  const chunks = [];
  const started = performance.now();
  recorder.ondataavailable = (e) => { if (e.data.size) chunks.push(e.data); };
  recorder.onstop = () => {
    const seconds = (performance.now() - started) / 1000;
    const blob = new Blob(chunks, { type: 'video/webm' });
    document.body.dataset.recorded = JSON.stringify({ steps: state.player?.steps ?? 0, seconds, bytes: blob.size });
    if (blob.size === 0) addMessage('The recording is empty: the canvas produced no frames.');
    else download(blob, fileName('webm'));
  };
  recorder.onerror = (e) => addMessage(`Recording failed: ${e.error?.message ?? e}`);
  state.recording = {
    finish() {
      if (state.recording !== this) return;
      state.recording = null;
      $('record').textContent = 'Record episode';
      $('record-progress').hidden = true;
      // One more frame so the last step is in the video.
      draw();
      setTimeout(() => recorder.stop(), 100);
    },
  };
  recorder.start(250);
  $('record').textContent = 'Stop recording';
  $('record-progress').hidden = false;
  setPlaying(true);
}

/** Downloads the current view as a PNG (drawn again first: a WebGPU canvas keeps its image
 *  only until the frame ends). */
function saveSnapshot() {
  draw();
  visibleCanvas().toBlob((blob) => {
    if (blob) download(blob, fileName('png'));
    else addMessage('Could not read the view back as an image.');
  }, 'image/png');
}

function useFallback(reason) {
  $('scene').hidden = true;
  $('scene2d').hidden = false;
  $('render-backend').textContent = `2D canvas fallback (${reason})`;
}

/** burn's WebGPU backend is its own wasm module (two thirds of the code), fetched the first time
 * WebGPU inference is chosen; the policy is then copied onto the GPU. */
async function gpuPolicy() {
  if (state.gpuPolicy) return state.gpuPolicy;
  if (!state.policy || !navigator.gpu) return null;
  $('infer-backend').textContent = 'loading burn\'s WebGPU backend…';
  const gpu = await import('../pkg/gpu/polyskill_web_gpu.js');
  await gpu.default();
  if (!(await gpu.initGpu())) return null;
  state.gpuPolicy = new gpu.GpuPolicy(state.policy.bytes);
  return state.gpuPolicy;
}

async function setInference(kind) {
  if (kind === 'gpu') {
    const ready = await gpuPolicy().catch((e) => { addMessage(`WebGPU inference could not start: ${e.message}`); return null; });
    if (!ready) {
      addMessage('WebGPU inference is not available here; the policy runs on the CPU backend.');
      $('inference').value = 'cpu';
      kind = 'cpu';
    }
  }
  state.gpuInference = kind === 'gpu';
  $('infer-backend').textContent = state.gpuInference ? 'burn WebGPU backend' : 'burn CPU backend (flex, wasm SIMD)';
}

/** The browser's own description of its WebGPU adapter (vendor, architecture, fallback). */
/** The Rendering readout: `WebGPU (short adapter name)` and, below it, the quality drawn at;
 *  the full adapter description in the tooltip (it is long and wraps badly in the readout). */
function showBackend(adapter, quality) {
  const short = /swiftshader/i.test(adapter) ? 'SwiftShader, software'
    : adapter.length > 28 ? `${adapter.slice(0, 26)}…` : adapter;
  const cell = $('render-backend');
  cell.textContent = `WebGPU (${short})`;
  cell.title = adapter;
  const detail = document.createElement('small');
  detail.className = 'detail';
  detail.textContent = quality;
  cell.append(document.createElement('br'), detail);
}

/** Keys for the player when focus is not in a form field: Space plays or pauses (unless a
 *  button has focus: then it presses that button), `.` steps, `r` resets, `t` and `c` turn the
 *  hand trail and the contact points on or off (the view's own keys turn and zoom the camera
 *  when it has focus). */
function playerKeys(event) {
  if (event.target.closest?.('input, select, textarea, [contenteditable]') || event.ctrlKey || event.metaKey || event.altKey) return;
  // Space on a focused button or link is that control's own click.
  if (event.key === ' ' && !event.target.closest?.('button, a')) { event.preventDefault(); setPlaying(!state.playing); }
  else if (event.key === '.') { event.preventDefault(); $('step-once').click(); }
  else if (event.key === 'r') { event.preventDefault(); reset(); draw(); }
  else if (event.key === 't' || event.key === 'c') { event.preventDefault(); $(event.key === 't' ? 'show-trail' : 'show-contacts').click(); }
}

/** The debug view's choices (the hand trail, contact points) applied to both views. */
function showOverlays() {
  const overlays = { trail: $('show-trail').checked, contacts: $('show-contacts').checked };
  state.scene.setOverlays(overlays);
  state.secondScene?.setOverlays(overlays);
  draw();
}

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

/** The other views live on their own pages: `?view=train|compare|editor&…` goes there with the
 * other parameters (`?view=player` or none stays here). Returns 'navigated', a problem to
 * show, or null. */
function routeView() {
  const params = new URLSearchParams(location.search);
  const view = params.get('view');
  if (view === null || view === 'player' || view === 'gallery') return null;
  const page = { train: 'web/train.html', compare: 'web/compare.html', editor: 'web/editor.html' }[view];
  if (!page) return `URL parameter view="${view}" must be gallery, player, train, compare or editor.`;
  params.delete('view');
  const query = params.toString().replace(/%2C/g, ',').replace(/%3A/g, ':');
  location.replace(`${page}${query ? `?${query}` : ''}`);
  return 'navigated';
}

async function main() {
  const routed = routeView();
  if (routed === 'navigated') return;
  const params = readParams();
  if (routed) params.problems.unshift(routed);
  showMessage(params.problems.join('\n'));
  $('seed').value = params.seed;
  $('actor').value = params.actor;
  await loadWasm();

  state.scene = await new ScenePlayer({
    gpu: $('scene'),
    flat: $('scene2d'),
    onFallback: (reason, kind) => {
      // A lost device (driver reset, GPU reclaimed) or a failed draw: say so, go on in 2D.
      if (kind === 'lost') addMessage(`${reason}; drawing in 2D from now on.`);
      if (kind === 'failed') addMessage(`Drawing failed: ${reason}`);
      useFallback({ lost: 'the WebGPU device was lost', failed: 'WebGPU drawing failed' }[kind] ?? reason);
    },
    // A software adapter's frames timed: if too slow for shadows, the readout says so and
    // the side view follows. body[data-quality] names the quality drawn at.
    onPaced: async (quality, why) => {
      if (why) {
        showBackend(await adapterName(state.scene.adapter), quality);
        $('render-backend').querySelector('.detail').title = why;
        state.secondScene?.setQuality(state.scene.view.qualityName);
      }
      document.body.dataset.quality = state.scene.view.qualityName;
      document.body.dataset.paced = 'true';
    },
  }).attach();
  if (state.scene.view && params.quality) state.scene.setQuality(params.quality);
  if (state.scene.view) showBackend(await adapterName(state.scene.adapter), state.scene.quality);
  document.body.dataset.quality = state.scene.view?.qualityName ?? '2d';
  if (!state.scene.pacingPending) document.body.dataset.paced = 'true';

  if (params.task) {
    try {
      ({ player: state.player, instruction: state.instruction } = await loadTask(params.task, params));
      if (params.problems.length) showMessage(params.problems.join('\n'));
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
        offerDownloads(name, state.policy);
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
  if (!navigator.gpu || !state.policy) $('inference').querySelector('option[value=gpu]').disabled = true;

  if (state.player) state.orbit = new Orbit($('viewport'), state.player.camera(), () => { if (!state.playing) draw(); });
  $('play').addEventListener('click', () => setPlaying(!state.playing));
  $('step-once').addEventListener('click', async () => {
    setPlaying(false);
    if (!state.player || state.busy) return;
    state.busy = true;
    try { await stepOnce(); } catch (e) { addMessage(`Step failed: ${e.message}`); } finally { state.busy = false; }
    draw();
  });
  $('speed').addEventListener('change', () => { state.speed = Number($('speed').value); });
  $('view-reset').addEventListener('click', () => {
    if (!state.player) return;
    state.orbit = new Orbit($('viewport'), state.player.camera(), () => { if (!state.playing) draw(); });
    state.scene.view?.resetCamera();
    state.secondScene?.view?.resetCamera();
    draw();
  });
  // The side-by-side choices: the expert, random actions, and this task's shipped policies.
  for (const name of state.policyNames) $('second-actor').append(new Option(`policy ${name}`, name));
  if (!state.player?.hasExpert) $('second-actor').querySelector('option[value=expert]').disabled = true;
  $('second-actor').addEventListener('change', () => {
    showSecond($('second-actor').value).catch((e) => addMessage(`The side-by-side view could not start: ${e.message}`));
  });
  if (params.vs) {
    const known = [...$('second-actor').options].some((o) => o.value === params.vs && !o.disabled);
    if (known) {
      $('second-actor').value = params.vs;
      await showSecond(params.vs).catch((e) => addMessage(`The side-by-side view could not start: ${e.message}`));
    } else {
      addMessage(`URL parameter vs="${params.vs}" is not expert, random or a policy for this task (${state.policyNames.join(', ') || 'none shipped'}).`);
    }
  }
  $('reset').addEventListener('click', () => { reset(); draw(); });
  $('record').addEventListener('click', toggleRecording);
  for (const id of ['show-trail', 'show-contacts']) $(id).addEventListener('change', showOverlays);
  document.addEventListener('keydown', playerKeys);
  $('snapshot').addEventListener('click', saveSnapshot);
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
