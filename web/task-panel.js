// The per-task view of a multi-task training run: one bar per task (its final test success
// once evaluated; before that its recent training success, or for behaviour cloning its loss)
// and the task × task heatmap of the gradient conflict (the mean pairwise cosine of the tasks'
// gradients of the shared parameters over the latest record's updates: red where two tasks
// pull the shared network apart, blue where they agree). Everything here is drawn from the
// records the workers post; task names reach the page as text only.

/** Colour of a cosine in [-1, 1]: red (conflict) through white to blue (agreement). */
export function cosineColor(c) {
  const t = Math.max(-1, Math.min(1, Number.isFinite(c) ? c : 0));
  const mix = (a, b) => Math.round(255 + (b - 255) * Math.abs(t)).toString(16).padStart(2, '0');
  return t < 0 ? `#${mix(0, 0xc9)}${mix(0, 0x2a)}${mix(0, 0x2a)}` : `#${mix(0, 0x1c)}${mix(0, 0x7e)}${mix(0, 0xd6)}`;
}

/** The figures to draw for a run: per task {task, value, label} and the latest conflict. */
export function taskFigures(run) {
  const last = [...run.records].reverse().find((r) => r.tasks?.length);
  const conflict = [...run.records].reverse().find((r) => r.conflict)?.conflict ?? null;
  const ids = last?.tasks.map((t) => t.task) ?? run.evaluations.map((e) => e.task);
  const evaluated = new Map(run.evaluations.map((e) => [e.task, e.result.success_rate]));
  const bars = ids.map((task) => {
    const t = last?.tasks.find((x) => x.task === task);
    if (evaluated.has(task)) return { task, value: evaluated.get(task), label: `${(evaluated.get(task) * 100).toFixed(0)}% test success` };
    if (run.algo === 'bc') return { task, value: null, loss: t?.loss ?? null, label: t?.loss == null ? '–' : `loss ${t.loss.toPrecision(3)}` };
    return { task, value: t?.success_rate ?? 0, label: `${((t?.success_rate ?? 0) * 100).toFixed(0)}% of recent episodes` };
  });
  return { bars, conflict, ids };
}

/** Draws (or updates) `run`'s card in `container`, cards in the order of `place` (the run's
 * index on the page); a run with one task has none. */
export function drawTaskPanel(container, run, place) {
  const { bars, conflict, ids } = taskFigures(run);
  if (ids.length < 2) return;
  let card = run.taskCard;
  if (!card) {
    card = document.createElement('figure');
    card.className = 'task-card';
    card.innerHTML = '<figcaption></figcaption><div class="task-bars"></div><div class="heatmap-box"><canvas class="heatmap" width="160" height="160" role="img"></canvas><p class="heatmap-note"></p></div>';
    card.querySelector('figcaption').textContent = run.label;
    card.querySelector('figcaption').style.color = run.color;
    card.dataset.place = String(place);
    const after = [...container.children].find((c) => Number(c.dataset.place) > place);
    container.insertBefore(card, after ?? null);
    container.hidden = false;
    run.taskCard = card;
  }
  const losses = bars.map((b) => b.loss).filter((l) => Number.isFinite(l));
  const worst = Math.max(...losses, 1e-9);
  const rows = bars.map((b) => {
    const row = document.createElement('div');
    row.className = 'task-bar';
    const name = document.createElement('span');
    name.className = 'task-name';
    name.textContent = b.task;
    const track = document.createElement('span');
    track.className = 'track';
    const fill = document.createElement('span');
    fill.className = b.value == null ? 'fill loss' : 'fill';
    const share = b.value == null ? (Number.isFinite(b.loss) ? b.loss / worst : 0) : b.value;
    fill.style.width = `${(100 * share).toFixed(1)}%`;
    track.append(fill);
    const value = document.createElement('span');
    value.className = 'task-value';
    value.textContent = b.label;
    row.append(name, track, value);
    return row;
  });
  card.querySelector('.task-bars').replaceChildren(...rows);
  const canvas = card.querySelector('canvas');
  const note = card.querySelector('.heatmap-note');
  card.dataset.conflict = conflict ? String(conflict.mean_cosine) : '';
  if (!conflict) {
    canvas.hidden = true;
    note.textContent = 'Gradient conflict: measured when a combiner is chosen.';
    return;
  }
  canvas.hidden = false;
  const t = conflict.cosine.length;
  const ctx = canvas.getContext('2d');
  const cell = canvas.width / t;
  for (let i = 0; i < t; i++) {
    for (let j = 0; j < t; j++) {
      ctx.fillStyle = cosineColor(conflict.cosine[i][j]);
      ctx.fillRect(j * cell, i * cell, cell, cell);
    }
  }
  canvas.setAttribute('aria-label', `Task × task gradient cosine (${ids.join(', ')}): mean ${conflict.mean_cosine.toFixed(2)}, ${(conflict.conflicting * 100).toFixed(0)}% of pairs conflicting`);
  note.textContent = `Cosine of the tasks' gradients (red: they conflict, white: unrelated, blue: they agree): mean ${conflict.mean_cosine.toFixed(2)}, ${(conflict.conflicting * 100).toFixed(0)}% of pairs conflicting over ${conflict.updates} updates; rows and columns: ${ids.join(', ')}.`;
}
