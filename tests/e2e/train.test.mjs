// Training in a Web Worker, end to end: PPO solves cart-pole inside a worker while the page's
// main thread stays free (no long task over 100 ms), the downloaded weights load natively
// (`polyskill eval`); behaviour cloning on reach reaches 90% split over two workers; a run can be stopped
// with its weights still delivered; SAC trains reach in a worker; bad URL parameters and
// settings show messages.
import { test, after, afterEach, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { launch, open, ARTIFACTS } from './browser.mjs';

let browser;
before(async () => { mkdirSync(ARTIFACTS, { recursive: true }); browser = await launch(); });
after(async () => { await browser?.close(); });
afterEach(async () => { for (const context of browser.contexts()) await context.close(); });

const CLI = process.env.POLYSKILL_CLI;

test('PPO solves cart-pole in a Web Worker, the main thread stays free, the weights load natively', async () => {
  const { page, errors } = await open(browser, 'web/train.html?task=cart-pole&seed=1');
  await page.waitForSelector('body[data-ready=true]');
  await page.evaluate(() => {
    window.longTasks = [];
    new PerformanceObserver((list) => window.longTasks.push(...list.getEntries().map((e) => Math.round(e.duration))))
      .observe({ type: 'longtask', buffered: false });
  });
  await page.fill('#steps', '200000');
  await page.fill('#target', '475');
  await page.click('#start');
  await page.waitForSelector('#status[data-state=target]', { timeout: 180_000 });
  const meanReturn = Number(await page.textContent('#metric'));
  const steps = Number(await page.textContent('#progress'));
  console.log(`cart-pole in a worker: mean return ${meanReturn} after ${steps} env steps, ${await page.textContent('#seconds')}`);
  assert.ok(meanReturn >= 475, `mean return ${meanReturn}`);
  const longTasks = await page.evaluate(() => window.longTasks);
  console.log(`main-thread long tasks while training: ${longTasks.length}, longest ${Math.max(0, ...longTasks).toFixed(0)} ms`);
  assert.ok(longTasks.every((d) => d <= 100), `long tasks: ${longTasks}`);
  await page.screenshot({ path: `${ARTIFACTS}/train-cart-pole.png` });

  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download-weights')]);
  const file = `${ARTIFACTS}/cart-pole-ppo-worker.safetensors`;
  await download.saveAs(file);
  // The weights made in the page play natively: this check is part of the test, not optional
  // (`cargo xtask test` sets POLYSKILL_CLI to the CLI it built).
  assert.ok(CLI && existsSync(CLI), `POLYSKILL_CLI must name the built polyskill CLI (got ${CLI})`);
  const report = JSON.parse(execFileSync(CLI, ['eval', '--task', 'cart-pole', '--policy', file, '--episodes', '10', '--json'],
    { cwd: new URL('../..', import.meta.url).pathname }).toString());
  console.log(`natively: mean return ${report.evaluation.mean_return} over 10 unseen seeds`);
  assert.ok(report.evaluation.mean_return >= 400, JSON.stringify(report));
  assert.deepEqual(errors, []);
});

test('a training run can be watched mid-run, stopped, and still delivers its weights', async () => {
  const { page, errors } = await open(browser, 'web/train.html?task=cart-pole&seed=2');
  await page.waitForSelector('body[data-ready=true]');
  await page.fill('#target', '');
  await page.fill('#steps', '1000000');
  await page.click('#start');
  await page.waitForFunction(() => Number(document.getElementById('progress').textContent) >= 2048, null, { timeout: 60_000 });
  // The policy as it stands plays in the page while the run goes on.
  await page.click('#runs .watch');
  await page.waitForSelector('#watch-host polyskill-player[data-ready=true]', { timeout: 30_000 });
  assert.match(await page.textContent('#watch-title'), /^cart-pole-ppo-s2 at \d+ env steps, on cart-pole$/);
  await page.waitForFunction(() => Number(/step (\d+)/.exec(document.querySelector('#watch-host polyskill-player').shadowRoot.querySelector('.status').textContent)?.[1]) > 5);
  await page.click('#stop');
  await page.waitForSelector('#status[data-state=stopped]', { timeout: 30_000 });
  const steps = Number(await page.textContent('#progress'));
  assert.ok(steps < 1_000_000, `stopped after ${steps} steps`);
  assert.equal(await page.isVisible('#download-weights'), true);
  assert.equal(await page.getAttribute('#download-weights', 'download'), 'cart-pole-ppo-s2.safetensors');
  assert.deepEqual(errors, []);
});

test('a bad URL parameter and a bad setting show messages', async () => {
  const { page } = await open(browser, 'web/train.html?algo=grpo&task=reach');
  await page.waitForSelector('body[data-ready=true]');
  // GRPO samples discrete actions, so the learner refuses reach's continuous ones.
  assert.match(await page.textContent('#message'), /task="reach" is not a task this algorithm can train here \((acrobot, cart-pole|cart-pole, acrobot)\)/);
  await page.fill('#steps', '2048');
  await page.fill('#hidden', '64,x');
  await page.click('#start');
  assert.match(await page.textContent('#message'), /Hidden widths "64,x" must be whole numbers separated by commas/);
  assert.equal(await page.textContent('#status'), 'idle');
  // A value out of the algorithm's range is named by its own settings check, from the worker.
  await page.fill('#hidden', '32,32');
  await page.fill('#lr', '5');
  await page.click('#start');
  await page.waitForSelector('#status[data-state=error]', { timeout: 30_000 });
  assert.match(await page.textContent('#message'), /GRPO settings: learning_rate: must be in \(0, 1\]/);
  // A value of the wrong kind is named by its setting, as the learner calls it.
  await page.fill('#lr', '');
  await page.fill('#steps', '-5');
  await page.click('#start');
  await page.waitForFunction(() => document.getElementById('message').textContent.includes('total_steps'), null, { timeout: 30_000 });
  assert.match(await page.textContent('#message'), /settings\.total_steps: invalid value: integer `-5`, expected u64/);
  const other = await open(browser, 'web/train.html?algo=dqn&task=cart-pole');
  await other.page.waitForSelector('body[data-ready=true]');
  assert.match(await other.page.textContent('#message'), /algo="dqn" is not one of ppo, sac, grpo, rloo, bc/);
  const third = await open(browser, 'web/train.html?algo=sac&task=cart-pole');
  await third.page.waitForSelector('body[data-ready=true]');
  // SAC lists MT10 first, then the tasks with actions bounded by ±1 (reach among them).
  const sacMessage = await third.page.textContent('#message');
  assert.match(sacMessage, /task="cart-pole" is not a task this algorithm can train here \(mt10, [^)]*\breach\b[^)]*\)/);
  assert.doesNotMatch(sacMessage.split('here (')[1], /cart-pole|acrobot/);
});

// The served page is cross-origin isolated, so a run training alone splits each minibatch
// over two workers (gradients summed through a SharedArrayBuffer).
test('behaviour cloning on reach, split over two Web Workers, reaches 90% success', async () => {
  const { page, errors } = await open(browser, 'web/train.html?algo=bc&task=reach&seed=1');
  await page.waitForSelector('body[data-ready=true]');
  assert.equal(await page.evaluate(() => self.crossOriginIsolated), true);
  await page.fill('#demos', '20');
  await page.fill('#grad-steps', '1500');
  // Every label the run's progress bar is given, through its phases.
  await page.evaluate(() => {
    window.progressLabels = new Set();
    new MutationObserver((changes) => changes.forEach((c) => window.progressLabels.add(c.target.getAttribute('aria-label'))))
      .observe(document.getElementById('runs'), { subtree: true, attributeFilter: ['aria-label'] });
  });
  await page.click('#start');
  await page.waitForSelector('#status:has-text("running (2 workers)")', { timeout: 60_000 });
  await page.waitForSelector('#status[data-state=finished]', { timeout: 180_000 });
  assert.equal(await page.evaluate(() => window.polyskillRuns[0].workers), 2);
  await page.waitForFunction(() => document.getElementById('success').dataset.success !== undefined, null, { timeout: 60_000 });
  const success = Number(await page.getAttribute('#success', 'data-success'));
  console.log(`BC on reach in a worker: ${await page.textContent('#success')} after ${await page.textContent('#seconds')}`);
  assert.ok(success >= 0.9, `success ${success}`);
  // The bar counted the demonstrations, then the gradient steps, then the evaluation.
  const labels = [...await page.evaluate(() => [...window.progressLabels])];
  for (const phase of [/^reach-bc-s1: \d+ of 20 demonstrations recorded$/, /^reach-bc-s1: \d+ of 1500 gradient steps$/, /^reach-bc-s1: evaluated on 0 of 1 tasks$/]) {
    assert.ok(labels.some((l) => phase.test(l)), `no progress label like ${phase}: ${labels.slice(0, 5).join(' | ')} …`);
  }
  await page.screenshot({ path: `${ARTIFACTS}/train-bc-reach.png` });
  assert.deepEqual(errors, []);
});

test('a behaviour-cloning run split over two workers stops, ends its helper and delivers its weights', async () => {
  const { page, errors } = await open(browser, 'web/train.html?algo=bc&task=reach&seed=3');
  await page.waitForSelector('body[data-ready=true]');
  await page.fill('#demos', '2');
  await page.fill('#grad-steps', '1000000');
  await page.click('#start');
  await page.waitForSelector('#status:has-text("running (2 workers)")', { timeout: 60_000 });
  await page.waitForFunction(() => Number(document.getElementById('progress').textContent) >= 200, null, { timeout: 60_000 });
  await page.click('#stop');
  await page.waitForSelector('#status[data-state=stopped]', { timeout: 30_000 });
  assert.deepEqual(await page.evaluate(() => [window.polyskillRuns[0].worker, window.polyskillRuns[0].helpers.length]), [null, 0]);
  const steps = Number(await page.textContent('#progress'));
  assert.ok(steps >= 200 && steps < 1_000_000, `stopped after ${steps} steps`);
  assert.equal(await page.getAttribute('#download-weights', 'download'), 'reach-bc-s3.safetensors');
  assert.deepEqual(errors, []);
});

// The in-tab target (MT10 multi-task BC to ≥ 90% within 60 s) with the page's own
// defaults: one multi-head network, 30 demonstrations per task, 4000 annealed steps.
test('multi-task behaviour cloning learns all of MT10 in a Web Worker with the page defaults', async () => {
  const { page, errors } = await open(browser, 'web/train.html?algo=bc&task=mt10&seed=0');
  await page.waitForSelector('body[data-ready=true]');
  assert.deepEqual([await page.inputValue('#demos'), await page.inputValue('#grad-steps'), await page.inputValue('#noise')], ['30', '4000', '0']);
  const started = Date.now();
  await page.click('#start');
  await page.waitForFunction(() => window.polyskillRuns[0]?.evaluations.length === 10, null, { timeout: 240_000 });
  const seconds = (Date.now() - started) / 1000;
  const evaluations = await page.evaluate(() => window.polyskillRuns[0].evaluations.map((e) => [e.task, e.result.success_rate]));
  const mean = evaluations.reduce((sum, [, rate]) => sum + rate, 0) / evaluations.length;
  const workers = await page.evaluate(() => window.polyskillRuns[0].workers);
  console.log(`MT10 BC in ${workers} worker(s): ${(mean * 100).toFixed(1)}% mean success over 20 seeds per task, ${seconds.toFixed(1)} s from Train to the last evaluation; ${JSON.stringify(evaluations)}`);
  assert.ok(mean >= 0.9, `mean success ${mean}`);
  assert.match(await page.textContent('#runs .success'), /^\d+% \(reach \d+%, push \d+%/);
  await page.screenshot({ path: `${ARTIFACTS}/train-bc-mt10.png` });
  assert.deepEqual(errors, []);
});

test('three runs train side by side in three workers and are compared, two seeds as a mean and a band', async () => {
  const { page, errors } = await open(browser, 'web/train.html?compare=ppo:cart-pole:1,grpo:cart-pole:1,ppo:cart-pole:2');
  await page.waitForSelector('body[data-ready=true]');
  await page.waitForFunction(() => document.querySelectorAll('#runs tr').length === 3, null, { timeout: 30_000 });
  await page.waitForFunction(() => [...document.querySelectorAll('#runs .state')].every((c) => c.textContent === 'reached the target'),
    null, { timeout: 180_000 });
  const rows = await page.$$eval('#runs tr', (trs) => trs.map((tr) => [...tr.children].map((td) => td.textContent)));
  console.log(`compared runs: ${JSON.stringify(rows)}`);
  assert.deepEqual(rows.map((r) => r[0]), ['cart-pole-ppo-s1', 'cart-pole-grpo-s1', 'cart-pole-ppo-s2']);
  for (const row of rows) assert.ok(Number(row[3].replace('return ', '')) >= 475, JSON.stringify(row));
  // Each run offers its own weights and metrics.
  assert.deepEqual(await page.$$eval('#runs .files a', (links) => links.map((a) => a.download)),
    ['cart-pole-ppo-s1.safetensors', 'cart-pole-ppo-s1.jsonl', 'cart-pole-ppo-s1.csv', 'cart-pole-grpo-s1.safetensors',
      'cart-pole-grpo-s1.jsonl', 'cart-pole-grpo-s1.csv', 'cart-pole-ppo-s2.safetensors', 'cart-pole-ppo-s2.jsonl', 'cart-pole-ppo-s2.csv']);
  // The CSV has a header of every field and one row per record.
  const [csvDownload] = await Promise.all([page.waitForEvent('download'), page.click('#runs tr:first-child .files a:nth-of-type(3)')]);
  const csvText = readFileSync(await csvDownload.path(), 'utf8').trim().split('\n');
  assert.match(csvText[0], /^iteration,env_steps,episodes,mean_return,success_rate,/);
  assert.equal(csvText.length, 1 + Number(rows[0][2].replace(' env steps', '')) / 512);
  // The return chart: a curve per run, plus the two PPO seeds' mean and band (uPlot).
  const chart = await page.evaluate(() => {
    const { chart } = window.polyskillCharts.get('mean_return');
    return { labels: chart.series.map((s) => s.label), bands: chart.bands?.length ?? 0, points: chart.data.slice(1).map((ys) => ys.filter((y) => y !== null).length) };
  });
  console.log(`return chart: ${JSON.stringify(chart)}`);
  assert.deepEqual(chart.labels.slice(1), ['cart-pole-ppo-s1', 'cart-pole-grpo-s1', 'cart-pole-ppo-s2',
    'cart-pole-ppo highest', 'cart-pole-ppo lowest', 'cart-pole-ppo mean of 2 seeds']);
  assert.equal(chart.bands, 1);
  assert.ok(chart.points.every((n) => n >= 5), 'every curve has points');
  assert.deepEqual(await page.$$eval('#charts .chart', (els) => els.map((e) => e.dataset.metric)), ['mean_return', 'success_rate', 'entropy']);
  await page.screenshot({ path: `${ARTIFACTS}/train-compare.png` });
  assert.deepEqual(errors, []);
  const bad = await open(browser, 'web/train.html?compare=grpo:reach:1,sac:cart-pole:1');
  await bad.page.waitForSelector('body[data-ready=true]');
  const message = await bad.page.textContent('#message');
  assert.match(message, /compare: "grpo:reach:1" is not ALGO:TASK:SEED/);
  assert.match(message, /compare: "sac:cart-pole:1" is not ALGO:TASK:SEED/);
});

test('runs started by hand are shared as one link that re-creates them with their own settings', async () => {
  const { page, errors } = await open(browser, 'web/train.html?task=cart-pole&seed=1');
  await page.waitForSelector('body[data-ready=true]');
  assert.equal(await page.isVisible('#share'), false, 'no link before any run');
  await page.fill('#steps', '2048');
  await page.fill('#target', '');
  await page.fill('#lr', '0.001');
  await page.fill('#hidden', '32, 32');
  await page.click('#start');
  await page.selectOption('#algo', 'grpo');
  await page.fill('#steps', '1024');
  await page.fill('#target', '');
  await page.fill('#lr', '');
  await page.fill('#hidden', '');
  await page.fill('#seed', '2');
  await page.click('#start');
  const expected = 'train.html?compare=ppo:cart-pole:1:steps=2048:target=:lr=0.001:hidden=32x32,grpo:cart-pole:2:steps=1024:target=';
  await page.waitForFunction(() => document.querySelectorAll('#runs tr').length === 2);
  assert.equal(await page.getAttribute('#share', 'href'), expected);
  // The link, opened anew, starts the same two runs with their own budgets and settings.
  const shared = await open(browser, `web/${expected}`);
  await shared.page.waitForSelector('body[data-ready=true]');
  await shared.page.waitForFunction(() => document.querySelectorAll('#runs tr').length === 2 &&
    [...document.querySelectorAll('#runs .state')].every((c) => c.textContent === 'finished'), null, { timeout: 120_000 });
  const rows = await shared.page.$$eval('#runs tr', (trs) => trs.map((tr) => [...tr.children].slice(0, 3).map((td) => td.textContent)));
  console.log(`shared comparison: ${JSON.stringify(rows)}`);
  assert.deepEqual(rows.map((r) => r[0]), ['cart-pole-ppo-s1', 'cart-pole-grpo-s2']);
  assert.equal(rows[0][2], '2048 env steps');
  assert.ok(Number(rows[1][2].replace(' env steps', '')) <= 1024 + 500, rows[1][2]);
  assert.equal(await shared.page.getAttribute('#share', 'href'), expected);
  // The PPO run's weights have the link's hidden widths (safetensors header: tensor shapes).
  const shapes = await shared.page.evaluate(() => {
    const bytes = window.polyskillRuns[0].finalWeights;
    const length = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + length)));
    return Object.entries(header).filter(([name]) => name !== '__metadata__').map(([, t]) => t.shape.join('x'));
  });
  assert.ok(shapes.includes('32x32'), `shapes ${shapes}`);
  // A task set picked in the gallery travels as reach+push and trains as one network.
  const set = await open(browser, 'web/train.html?compare=bc:reach+push:1:demos=2:grad-steps=20:dagger=0');
  await set.page.waitForFunction(() => document.querySelector('#runs .state')?.textContent === 'finished', null, { timeout: 120_000 });
  assert.equal(await set.page.textContent('#runs .label'), 'reach,push-bc-s1');
  assert.equal(await set.page.getAttribute('#share', 'href'), 'train.html?compare=bc:reach+push:1:demos=2:grad-steps=20:dagger=0:noise=0');
  const bad = await open(browser, 'web/train.html?compare=ppo:cart-pole:1:demos=5');
  await bad.page.waitForSelector('body[data-ready=true]');
  assert.match(await bad.page.textContent('#message'), /compare: "ppo:cart-pole:1:demos=5" has "demos=5"; ppo runs take steps=…, target=…, lr=…, hidden=…/);
  assert.deepEqual(errors, []);
  assert.deepEqual(shared.errors, []);
});

// How well SAC learns reach is a native test (crates/learn/tests/sac.rs); here: it runs in a
// worker, reports every 200 steps, starts tuning α once the 5000 random steps are done, and
// its policy is evaluated in the page.
test('SAC trains reach in a Web Worker, tunes its entropy coefficient and is evaluated', async () => {
  const { page, errors } = await open(browser, 'web/train.html?algo=sac&task=reach&seed=1');
  await page.waitForSelector('body[data-ready=true]');
  assert.equal(await page.inputValue('#target'), '', 'no return target for SAC');
  assert.equal(await page.inputValue('#steps'), '20000', "SAC's smaller default budget");
  await page.fill('#steps', '6000');
  await page.click('#start');
  await page.waitForSelector('#status[data-state=finished]', { timeout: 300_000 });
  await page.waitForFunction(() => document.getElementById('success').dataset.success !== undefined, null, { timeout: 60_000 });
  const records = await page.evaluate(() => window.polyskillRuns[0].records);
  console.log(`SAC on reach in a worker: return ${await page.textContent('#metric')} after ${await page.textContent('#progress')} env steps, ${await page.textContent('#seconds')}; ${await page.textContent('#success')}`);
  assert.deepEqual(records.map((r) => r.env_steps), Array.from({ length: 30 }, (_, i) => 200 * (i + 1)));
  assert.ok(records.filter((r) => r.env_steps <= 5000).every((r) => Math.abs(r.alpha - 0.2) < 1e-6), 'α waits for learning');
  assert.ok(records.at(-1).alpha < 0.15, `α is tuned: ${records.at(-1).alpha}`);
  assert.ok(records.at(-1).episodes >= 10 && Number.isFinite(records.at(-1).mean_return));
  await page.screenshot({ path: `${ARTIFACTS}/train-sac-reach.png` });
  assert.deepEqual(errors, []);
});

test('views are reachable by URL and back/forward restore the training form', async () => {
  const { page, errors } = await open(browser, '?view=train&task=acrobot&algo=ppo&seed=3');
  await page.waitForURL(/web\/train\.html\?task=acrobot&algo=ppo&seed=3$/);
  await page.waitForSelector('body[data-ready=true]');
  assert.deepEqual([await page.inputValue('#algo'), await page.inputValue('#task'), await page.inputValue('#seed')], ['ppo', 'acrobot', '3']);
  await page.selectOption('#algo', 'sac');
  await page.selectOption('#task', 'push');
  assert.match(page.url(), /\?algo=sac&task=push&seed=3$/);
  await page.goBack();
  assert.deepEqual([await page.inputValue('#algo'), await page.inputValue('#task')], ['sac', 'reach']);
  await page.goBack();
  assert.deepEqual([await page.inputValue('#algo'), await page.inputValue('#task')], ['ppo', 'acrobot']);
  await page.goForward();
  assert.equal(await page.inputValue('#algo'), 'sac');
  assert.deepEqual(errors, []);
  const editor = await open(browser, '?view=editor&task=push');
  await editor.page.waitForURL(/web\/editor\.html\?task=push$/);
  const bad = await open(browser, '?view=dashboard');
  await bad.page.waitForSelector('body[data-ready=true]');
  assert.match(await bad.page.textContent('#message'), /URL parameter view="dashboard" must be gallery, player, train, compare or editor/);
});
