// The task editor: a JSON text area with highlighting, line numbers and problems shown at their
// line with their path (the wasm validator runs on every edit), a live preview of the scene
// that can run the task's expert or random actions, download, open by file or drag-and-drop,
// and drafts kept in local storage per source so nothing typed is lost across reloads.
// URL: ?task=NAME starts from a shipped task, ?url=URL from any task file (one that ships
// nowhere works without a rebuild); back/forward move between the tasks opened.

import { parseTask } from '../pkg/polyskill_web.js';
import { highlightLine } from './json-highlight.js';
import { NAME, ScenePlayer, fetchChecked, loadWasm } from './scene-player.js';

const $ = (id) => document.getElementById(id);
const DRAFT = (source) => `polyskill-editor:draft:${source}`;
const OPENED_FILE = (source) => `polyskill-editor:file:${source}`;
const LAST = 'polyskill-editor:last';

const state = { problemLines: new Set(), source: null, original: '', player: null, summary: null, scene: null, actor: null, episodeReturn: 0, timer: 0 };

function showMessage(text) {
  $('message').textContent = text;
  $('message').hidden = !text;
}

/** Local storage that never throws: a browser without it (or full) only loses persistence. */
const store = {
  get(key) { try { return localStorage.getItem(key); } catch { return null; } },
  set(key, value) {
    try { localStorage.setItem(key, value); } catch (e) { showMessage(`Your edits cannot be kept in this browser's storage (${e.message}); download them to keep them.`); }
  },
  remove(key) { try { localStorage.removeItem(key); } catch { /* nothing kept, nothing to remove */ } },
};

/** Highlighted text and line numbers, with problem lines marked. */
function render(text, problemLines) {
  const lines = text.split('\n');
  $('highlight').innerHTML = lines
    .map((line, k) => `<span class="line${problemLines.has(k + 1) ? ' problem' : ''}">${highlightLine(line)}</span>\n`)
    .join('');
  state.problemLines = problemLines;
  $('gutter').innerHTML = lines.map((_, k) => (problemLines.has(k + 1) ? `<span class="problem">${k + 1}</span>` : `${k + 1}`)).join('\n');
  syncScroll();
}

function syncScroll() {
  const source = $('source');
  const code = $('highlight').parentElement;
  code.scrollTop = source.scrollTop;
  code.scrollLeft = source.scrollLeft;
  $('gutter').scrollTop = source.scrollTop;
}

/** Puts the caret at the start of line `n` and shows it. */
function goToLine(n) {
  const source = $('source');
  const offset = source.value.split('\n').slice(0, n - 1).reduce((sum, l) => sum + l.length + 1, 0);
  source.focus();
  source.setSelectionRange(offset, offset);
  const lineHeight = source.scrollHeight / Math.max(1, source.value.split('\n').length);
  source.scrollTop = Math.max(0, (n - 3) * lineHeight);
  syncScroll();
}

function showIssues(issues) {
  $('issues').replaceChildren(...issues.map((issue) => {
    const item = document.createElement('li');
    const jump = document.createElement('button');
    jump.type = 'button';
    jump.textContent = `line ${issue.line}:${issue.column}`;
    jump.addEventListener('click', () => goToLine(issue.line));
    const path = document.createElement('code');
    path.textContent = issue.path || '(task)';
    item.append(jump, ' ', path, `: ${issue.message}`);
    item.dataset.line = String(issue.line);
    item.dataset.path = issue.path;
    return item;
  }));
}

/** Validates the text, shows its problems at their lines, and previews a valid task. */
function check() {
  const text = $('source').value;
  let issues = [];
  let summary = null;
  try {
    summary = parseTask(text);
  } catch (e) {
    issues = e.issues?.length ? e.issues : [{ path: '', message: e.message }];
  }
  // The validator places every issue (line and column of its value); a problem that is not at
  // a place in the text (the file as a whole) is shown at line 1.
  const located = issues.map((issue) => ({ path: issue.path, message: issue.message, line: issue.line ?? 1, column: issue.column ?? 1 }));
  render(text, new Set(located.map((i) => i.line)));
  showIssues(located);
  const status = $('status');
  if (summary) {
    status.dataset.state = 'valid';
    status.textContent = `Valid: ${summary.id} — ${summary.observation_size} observations, ${summary.action_size} actions, ${summary.max_steps} steps${summary.has_expert ? ', has an expert' : ''}.`;
    preview(text, summary);
  } else {
    status.dataset.state = 'invalid';
    status.textContent = `${located.length} problem${located.length === 1 ? '' : 's'}; the preview shows the last valid version.`;
  }
}

function preview(text, summary) {
  stop();
  try {
    state.player = state.scene.load(text);
  } catch (e) {
    showMessage(`The task is valid but could not be simulated: ${e.message}`);
    return;
  }
  state.summary = summary;
  $('task-title').textContent = summary.id;
  $('run-expert').disabled = !summary.has_expert;
  reset();
}

function reset() {
  if (!state.player) return;
  const seed = Number($('seed').value);
  if (!Number.isInteger(seed) || seed < 0) { showMessage(`Seed "${$('seed').value}" must be a whole number ≥ 0.`); return; }
  state.scene.reset(seed);
  state.episodeReturn = 0;
  readout();
  state.scene.draw();
}

function readout() {
  const p = state.player;
  $('step').textContent = p ? p.steps : 0;
  $('return').textContent = state.episodeReturn.toFixed(1);
  const ok = p ? p.episodeSuccess : false;
  $('success').textContent = ok ? 'yes' : 'no';
  $('success').dataset.success = String(ok);
}

function useFallback(reason) {
  $('render-backend').textContent = `2D canvas fallback (${reason})`;
}

/** Plays one episode from the seed with the expert or random actions, in real time. */
function run(actor) {
  if (!state.player) return;
  reset();
  state.actor = actor;
  $('status').dataset.running = actor;
  let last = null;
  const tick = (time) => {
    if (state.actor !== actor || !state.player) return;
    try {
      for (let k = state.scene.due(((time - (last ?? time)) / 1000)); k > 0; k -= 1) {
        const action = actor === 'expert' ? state.player.expertAction() : state.player.randomAction();
        const step = state.player.step(action);
        state.episodeReturn += step.reward;
        if (step.terminated || step.truncated) { stop(); break; }
      }
    } catch (e) {
      showMessage(`The ${actor} run failed: ${e.message}`);
      stop();
    }
    last = time;
    readout();
    state.scene.draw();
    if (state.actor === actor) state.timer = requestAnimationFrame(tick);
  };
  state.timer = requestAnimationFrame(tick);
}

function stop() {
  cancelAnimationFrame(state.timer);
  state.actor = null;
  delete $('status').dataset.running;
}

const fetchText = async (url, what) => (await fetchChecked(url, what)).text();

/** Opens a source (`task:NAME`, `url:URL` or `file:NAME`): its draft if one is kept, else the
 * original text. */
async function open(source) {
  stop();
  let original = null;
  let problem = '';
  try {
    if (source.startsWith('task:')) original = await fetchText(`tasks/${source.slice(5)}.json`, `Task "${source.slice(5)}"`);
    else if (source.startsWith('url:')) original = await fetchText(source.slice(4), `The task at ${source.slice(4)}`);
    else original = store.get(OPENED_FILE(source));
  } catch (e) {
    problem = e.message;
  }
  const draft = store.get(DRAFT(source));
  if (original === null && draft === null) {
    showMessage(problem || `Nothing is kept for ${source}.`);
    return false;
  }
  state.source = source;
  state.original = original ?? draft;
  $('source').value = draft ?? original;
  const restored = draft !== null && original !== null && draft !== original;
  $('revert').hidden = !restored;
  showMessage([problem, restored ? `Restored your edits of ${source.replace(/^\w+:/, '')} kept in this browser ("Revert to original" discards them).` : '']
    .filter(Boolean).join('\n'));
  store.set(LAST, source);
  if (source.startsWith('task:')) $('start-from').value = source.slice(5);
  check();
  return true;
}

function openFile(file) {
  file.text().then((text) => {
    const source = `file:${file.name}`;
    store.set(OPENED_FILE(source), text);
    store.remove(DRAFT(source));
    history.pushState({ source }, '', location.pathname);
    return open(source);
  }).catch((e) => showMessage(`${file.name} could not be read: ${e.message}`));
}

/** The source named by the URL, or null (with a message) when the URL names a bad one. */
function sourceFromUrl(taskNames) {
  const params = new URLSearchParams(location.search);
  const task = params.get('task');
  if (task !== null) {
    if (!NAME.test(task) || !taskNames.includes(task)) {
      showMessage(`URL parameter task="${task}" is not a shipped task (${taskNames.join(', ')}).`);
      return null;
    }
    return `task:${task}`;
  }
  const url = params.get('url');
  if (url !== null) {
    try { new URL(url, location.href); } catch { showMessage(`URL parameter url="${url}" is not a URL.`); return null; }
    return `url:${url}`;
  }
  return null;
}

async function main() {
  await loadWasm();
  state.scene = await new ScenePlayer({
    gpu: $('scene'),
    flat: $('scene2d'),
    onFallback: (reason, kind) => useFallback(kind === 'lost' ? 'the WebGPU device was lost' : reason),
  }).attach();
  if (state.scene.view) $('render-backend').textContent = `WebGPU (${state.scene.adapter})`;
  const index = JSON.parse(await fetchText('tasks.json', 'The task list'));
  $('start-from').replaceChildren(...index.tasks.map((n) => new Option(n, n)));

  let saveTimer = 0;
  $('source').addEventListener('input', () => {
    store.set(DRAFT(state.source), $('source').value);
    $('revert').hidden = $('source').value === state.original;
    render($('source').value, state.problemLines);
    clearTimeout(saveTimer);
    saveTimer = setTimeout(check, 120);
  });
  $('source').addEventListener('scroll', syncScroll);
  $('start-from').addEventListener('change', () => {
    const name = $('start-from').value;
    history.pushState({ source: `task:${name}` }, '', `?task=${name}`);
    open(`task:${name}`);
  });
  $('open-file').addEventListener('change', (e) => { if (e.target.files[0]) openFile(e.target.files[0]); });
  const editor = $('editor');
  editor.addEventListener('dragover', (e) => { e.preventDefault(); editor.classList.add('dropping'); });
  editor.addEventListener('dragleave', () => editor.classList.remove('dropping'));
  editor.addEventListener('drop', (e) => {
    e.preventDefault();
    editor.classList.remove('dropping');
    const file = e.dataTransfer?.files?.[0];
    if (file) openFile(file);
  });
  $('download').addEventListener('click', () => {
    const link = document.createElement('a');
    link.href = URL.createObjectURL(new Blob([$('source').value], { type: 'application/json' }));
    link.download = `${state.summary?.id ?? 'task'}.json`;
    link.click();
    URL.revokeObjectURL(link.href);
  });
  $('revert').addEventListener('click', () => {
    store.remove(DRAFT(state.source));
    $('source').value = state.original;
    $('revert').hidden = true;
    showMessage('');
    check();
  });
  $('run-expert').addEventListener('click', () => run('expert'));
  $('run-random').addEventListener('click', () => run('random'));
  $('reset').addEventListener('click', () => { stop(); reset(); });
  $('seed').addEventListener('change', () => { stop(); reset(); });
  window.addEventListener('popstate', (e) => {
    const source = e.state?.source ?? sourceFromUrl(index.tasks) ?? 'task:reach';
    open(source);
  });

  // Every note of the way in is kept: a bad URL parameter, a source that failed, a restored draft.
  const notes = [];
  const note = () => { if (!$('message').hidden) notes.push($('message').textContent); };
  const fromUrl = sourceFromUrl(index.tasks);
  note();
  let opened = await open(fromUrl ?? store.get(LAST) ?? 'task:reach');
  note();
  if (!opened) {
    opened = await open('task:reach');
    note();
  }
  showMessage([...new Set(notes)].join('\n'));
  document.body.dataset.ready = opened ? 'true' : 'error';
}

main().catch((e) => {
  showMessage(`The editor could not start: ${e.message}`);
  document.body.dataset.ready = 'error';
});
