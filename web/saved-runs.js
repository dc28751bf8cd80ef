// The training page's list of the runs saved in this browser (web/run-store.js): every run the
// page trained, and every run imported, listed after a reload with its task, algorithm, state,
// records and date, and per run: open (its curves, row and policy on the page, beside the
// others: that is how runs are compared), rename, export (a zip: run-files.js) and delete;
// "Open selected" opens several at once. Runs come in through "Import runs" (a file picker)
// or by dropping files or folders anywhere on the page (zips exported here, `polyskill train`'s
// runs/NAME folders, loose NAME.jsonl + NAME.safetensors). Storage use is shown next to the
// list; failed writes are reported by the page (never silently).

import { storageProblem } from './run-store.js';
import { exportZip, filesFrom, folderName, runsFromFiles } from './run-files.js';

const $ = (id) => document.getElementById(id);

/** Names each cell of row `tr` after its column's heading in `table` (data-label), which the
 * narrow layout (style.css, under 600 px) shows beside the cell as the rows stack as cards. */
export function labelCells(table, tr) {
  const headings = [...table.querySelectorAll('thead th')].map((th) => th.textContent.trim());
  [...tr.children].forEach((td, i) => { td.dataset.label = headings[i] ?? ''; });
}

/** Offers `bytes` as a download named `name` (the click is made here). */
function download(bytes, name) {
  const link = document.createElement('a');
  link.href = URL.createObjectURL(new Blob([bytes], { type: 'application/zip' }));
  link.download = name;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 60_000);
}

/** Sets up the list in #saved (the table #saved-runs, the controls #import, #open-selected and
 * #storage-use) over `store` (null: the browser cannot save; `problem` says why). The page
 * supplies: `open({description, lines, weights})` to put a run on the page, `renamed(id, name)`,
 * `deleted(id)`, `isTraining(id)` and `showMessage(text)`. Returns {refresh, track}. */
export function savedRunsView({ store, problem, open, renamed, deleted, isTraining, showMessage }) {
  const section = $('saved');
  if (!store) {
    $('saved-note').textContent = `Runs are not saved: ${problem}. They last until this page is closed; download their files from their rows.`;
    for (const id of ['import', 'open-selected']) $(id).disabled = true;
    return { refresh: async () => {}, track: () => null };
  }

  /** Loads run `id` whole: {description, lines, weights}. */
  const load = async (description) => ({
    description,
    lines: await store.records(description.id),
    weights: await store.weights(description.id),
  });

  /** What a saved run's state column says (a run saved as running that this page is not
   * training was cut off: its page closed, or it trains in another tab). */
  const stateOf = (d) => (['running', 'stopping'].includes(d.state) && !isTraining(d.id) ? 'unfinished (saving stopped before the run ended: its page closed, or storage was full)' : d.statusText ?? d.state);

  async function showUse() {
    const estimate = await navigator.storage?.estimate?.().catch(() => null);
    const size = (bytes) => (bytes < 2 ** 20 ? `${(bytes / 1024).toFixed(0)} kB` : `${(bytes / 2 ** 20).toFixed(1)} MB`);
    $('storage-use').textContent = estimate ? `${size(estimate.usage)} used of the ${size(estimate.quota)} this browser allows the page` : '';
  }

  function row(description, count) {
    const tr = document.createElement('tr');
    tr.dataset.id = description.id;
    tr.innerHTML = '<td><input type="checkbox" class="pick"></td><td class="name"></td><td class="task"></td><td class="algo"></td><td class="state"></td><td class="count"></td><td class="created"></td><td class="actions"><button type="button" class="open">open</button> <button type="button" class="rename">rename</button> <button type="button" class="export">export</button> <button type="button" class="delete">delete</button></td>';
    const name = description.name ?? description.label;
    tr.querySelector('.pick').setAttribute('aria-label', `select ${name}`);
    tr.querySelector('.name').textContent = name;
    tr.querySelector('.task').textContent = description.task || '–';
    tr.querySelector('.algo').textContent = description.algo ?? '–';
    tr.querySelector('.state').textContent = stateOf(description);
    tr.querySelector('.count').textContent = String(count);
    tr.querySelector('.created').textContent = new Date(description.created).toLocaleString(undefined, { dateStyle: 'short', timeStyle: 'short' });
    labelCells($('saved-runs'), tr);
    tr.querySelector('.delete').disabled = isTraining(description.id);
    tr.querySelector('.open').addEventListener('click', () => act(async () => open(await load(description))));
    tr.querySelector('.export').addEventListener('click', () => act(async () => {
      download(exportZip(await load(description)), `${folderName(name)}.zip`);
    }));
    tr.querySelector('.delete').addEventListener('click', () => act(async () => {
      await store.delete(description.id);
      deleted(description.id);
      await refresh();
    }));
    tr.querySelector('.rename').addEventListener('click', () => startRename(tr, description));
    return tr;
  }

  /** Turns the name cell into a text field: Enter (or leaving it) saves, Escape cancels. */
  function startRename(tr, description) {
    const cell = tr.querySelector('.name');
    const before = description.name ?? description.label;
    const input = document.createElement('input');
    input.type = 'text';
    input.value = before;
    input.className = 'rename-field';
    input.setAttribute('aria-label', `new name for ${before}`);
    cell.replaceChildren(input);
    input.focus();
    input.select();
    let finished = false;
    const finish = (save) => act(async () => {
      if (finished) return;
      finished = true;
      const name = input.value.trim();
      if (save && name && name !== before) {
        await store.update(description.id, { name });
        renamed(description.id, name);
      }
      await refresh();
    });
    input.addEventListener('keydown', (e) => {
      if (e.key === 'Enter') finish(true);
      if (e.key === 'Escape') finish(false);
    });
    input.addEventListener('blur', () => finish(true));
  }

  /** Runs `work`, showing its failure as a message (storage problems named as such). */
  async function act(work) {
    try {
      await work();
    } catch (e) {
      showMessage(e?.name && e.name !== 'Error' ? `Saved runs: ${storageProblem(e)}` : `Saved runs: ${e?.message ?? e}`);
    }
  }

  async function refresh() {
    const list = await store.list();
    const counts = await Promise.all(list.map((d) => store.db.count('records', IDBKeyRange.bound([d.id, 0], [d.id, Infinity]))));
    $('saved-runs').querySelector('tbody').replaceChildren(...list.map((d, i) => row(d, counts[i])));
    $('saved-runs').hidden = list.length === 0;
    $('saved-empty').hidden = list.length > 0;
    section.dataset.count = String(list.length);
    await showUse();
  }

  /** Imports the runs in `files` ([{path, bytes}]): each saved whole (or not at all), then
   * opened on the page. */
  async function importFiles(files) {
    const bar = $('import-progress');
    bar.hidden = false;
    try {
      const found = runsFromFiles(files);
      bar.max = found.length;
      for (const [i, run] of found.entries()) {
        await store.add(run);
        open(run);
        bar.value = i + 1;
      }
      showMessage('');
      $('import-status').textContent = `Imported ${found.map((r) => r.description.name ?? r.description.label).join(', ')}.`;
    } finally {
      bar.hidden = true;
      await refresh();
    }
  }

  const importFrom = (source) => act(async () => importFiles(await filesFrom(source)));
  $('import').addEventListener('change', () => {
    if ($('import').files.length) importFrom($('import').files).then(() => { $('import').value = ''; });
  });
  document.addEventListener('dragover', (e) => {
    if (![...(e.dataTransfer?.types ?? [])].includes('Files')) return;
    e.preventDefault();
    document.body.classList.add('dropping');
  });
  document.addEventListener('dragleave', (e) => { if (!e.relatedTarget) document.body.classList.remove('dropping'); });
  document.addEventListener('drop', (e) => {
    document.body.classList.remove('dropping');
    if (!e.dataTransfer?.files?.length) return;
    e.preventDefault();
    importFrom(e.dataTransfer);
  });
  $('open-selected').addEventListener('click', () => act(async () => {
    const ids = [...section.querySelectorAll('.pick:checked')].map((box) => box.closest('tr').dataset.id);
    const list = await store.list();
    for (const description of list.filter((d) => ids.includes(d.id))) open(await load(description));
  }));

  return {
    refresh,
    /** Saves a page run as it trains (see RunStore.track); a failed write is shown once. */
    track(run) {
      const saver = store.track(run, (failedRun, why) => {
        showMessage(`Run ${failedRun.label} is no longer being saved in this browser: ${why}. What was saved before is kept, and its files can still be downloaded from its row; delete saved runs to make room.`);
        refresh();
      });
      saver.settled().then(refresh);
      // The list's record count follows a training run, redrawn at most every two seconds.
      let pending = null;
      const record = saver.record;
      saver.record = (index, line) => {
        pending ??= setTimeout(() => { pending = null; saver.settled().then(refresh); }, 2000);
        return record(index, line);
      };
      const finish = saver.finish;
      saver.finish = (weights) => finish(weights).then(refresh);
      return saver;
    },
  };
}
