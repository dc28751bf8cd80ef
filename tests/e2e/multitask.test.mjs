// Multi-task methods in the page: two behaviour-cloning runs on reach + push with different
// architectures and combiners train side by side in workers, each with per-task bars and a
// task × task gradient-conflict heatmap that update as records arrive; the compare view shows
// a shipped report's methods with their intervals, and refuses an unknown report or a file
// that is not a report with a message.
import { test, after, afterEach, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { launch, open, ARTIFACTS } from './browser.mjs';

let browser;
before(async () => { mkdirSync(ARTIFACTS, { recursive: true }); browser = await launch(); });
after(async () => { await browser?.close(); });
afterEach(async () => { for (const context of browser.contexts()) await context.close(); });

test('two multi-task methods train side by side with per-task bars and a conflict heatmap', async () => {
  const runs = 'bc:reach+push:1:demos=2:grad-steps=400:architecture=moe:combiner=pcgrad,bc:reach+push:1:demos=2:grad-steps=400:combiner=cagrad';
  const { page, errors } = await open(browser, `web/train.html?compare=${runs}`);
  await page.waitForSelector('body[data-ready=true]');
  // The menus come from the wasm registries.
  const architectures = await page.$$eval('#architecture option', (o) => o.map((x) => x.value));
  const combiners = await page.$$eval('#combiner option', (o) => o.map((x) => x.value));
  assert.deepEqual(architectures, ['mlp', 'film', 'moe', 'soft-modular', 'care', 'paco', 'moore']);
  assert.ok(['pcgrad', 'cagrad', 'famo', 'nash-mtl'].every((c) => combiners.includes(c)), String(combiners));
  await page.waitForFunction(() => document.querySelectorAll('.task-card').length === 2, null, { timeout: 60_000 });
  // The heatmap updates: its conflict figure changes between records.
  const first = await page.waitForFunction(() => {
    const cards = [...document.querySelectorAll('.task-card')];
    return cards.length === 2 && cards.every((c) => c.dataset.conflict) ? cards.map((c) => c.dataset.conflict) : null;
  }, null, { timeout: 60_000 }).then((h) => h.jsonValue());
  await page.waitForFunction((before) => [...document.querySelectorAll('.task-card')].some((c, i) => c.dataset.conflict !== before[i]), first, { timeout: 60_000 });
  await page.waitForFunction(() => window.polyskillRuns.every((r) => r.state === 'finished'), null, { timeout: 180_000 });
  const cards = await page.$$eval('.task-card', (all) => all.map((c) => ({
    title: c.querySelector("figcaption").textContent,
    tasks: [...c.querySelectorAll('.task-name')].map((n) => n.textContent),
    values: [...c.querySelectorAll('.task-value')].map((n) => n.textContent),
    heat: c.querySelector('canvas').getAttribute('aria-label'),
  })));
  console.log(JSON.stringify(cards));
  assert.deepEqual(cards.map((c) => c.title), ['reach,push-bc-moe-pcgrad-s1', 'reach,push-bc-cagrad-s1']);
  for (const card of cards) {
    assert.deepEqual(card.tasks, ['reach', 'push']);
    assert.ok(card.values.every((v) => /test success/.test(v)), `final per-task success shown: ${card.values}`);
    assert.match(card.heat, /gradient cosine \(reach, push\): mean -?\d/);
  }
  // Heatmap pixels: not blank.
  const painted = await page.$eval('.task-card canvas', (c) => {
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    return d.some((v, i) => i % 4 !== 3 && v < 250);
  });
  assert.ok(painted, 'the heatmap has coloured cells');
  const records = await page.evaluate(() => window.polyskillRuns.map((r) => r.records.at(-1)));
  for (const r of records) assert.equal(r.tasks.length, 2);
  await page.screenshot({ path: `${ARTIFACTS}/train-multitask.png`, fullPage: true });
  // The mixture of experts plays in the player like any policy.
  await page.click('#runs tr:first-child .watch');
  await page.waitForSelector('#watch-host polyskill-player[data-ready=true]', { timeout: 30_000 });
  await page.waitForFunction(() => Number(/step (\d+)/.exec(document.querySelector('#watch-host polyskill-player').shadowRoot.querySelector('.status').textContent)?.[1]) > 5);
  assert.deepEqual(errors, []);
});

test('the compare view shows a shipped report with intervals and refuses what is not one', async () => {
  const { page, errors } = await open(browser, 'web/compare.html?report=bc-reach-hidden-goals');
  await page.waitForSelector('body[data-ready=true]');
  await page.waitForSelector('#methods tbody tr');
  const rows = await page.$$eval('#methods tbody tr', (r) => r.map((x) => x.dataset.method));
  assert.ok(rows.includes('pcgrad') && rows.includes('moore') && rows.includes('single-task'), String(rows));
  const bars = await page.$$eval('.ci-span', (s) => s.length);
  assert.equal(bars, rows.length, 'one interval bar per method');
  assert.ok(await page.$('#curves canvas'), 'the mean curves are drawn');
  // One conflict heatmap per method with a combiner (pcgrad, cagrad, … measure it).
  const heatmaps = await page.$$eval('#conflicts canvas', (c) => c.map((x) => x.getAttribute('aria-label')));
  assert.ok(heatmaps.some((h) => h.startsWith('pcgrad: task × task gradient cosine over 5 run(s)')), String(heatmaps));
  await page.screenshot({ path: `${ARTIFACTS}/compare-report.png`, fullPage: true });
  // Every shipped report loads.
  const reports = await page.$$eval('#report option', (o) => o.map((x) => ({ dir: x.value, name: x.textContent })));
  assert.ok(reports.length >= 4, JSON.stringify(reports));
  for (const { dir, name } of reports) {
    await page.selectOption('#report', dir);
    // Drawn: the page says which report it shows once it has drawn it.
    await page.waitForFunction((n) => document.body.dataset.report === n && document.querySelectorAll('#methods tbody tr').length > 0, name);
  }
  // A file that is not a report, and an unknown report name, get messages.
  const bad = `${ARTIFACTS}/not-a-report.json`;
  writeFileSync(bad, JSON.stringify({ hello: '<img src=x onerror=alert(1)>' }));
  await page.setInputFiles('#file', bad);
  await page.waitForSelector('#message:not([hidden])');
  assert.match(await page.textContent('#message'), /not-a-report\.json: not a polyskill compare report: "methods" is missing/);
  const other = await open(browser, 'web/compare.html?report=nope');
  await other.page.waitForSelector('body[data-ready=true]');
  assert.match(await other.page.textContent('#message'), /report="nope" is not one of the shipped reports/);
  assert.deepEqual(errors, []);
  assert.deepEqual(other.errors, []);
});
