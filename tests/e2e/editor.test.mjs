// The task editor, end to end: a broken task shows each problem at its line with its JSON path
// as you type; a fixed task previews and its expert reaches success; edits survive a reload;
// a task that ships nowhere opens from a URL and from a file; bad URL parameters are named.
import { test, after, afterEach, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { launch, open, ARTIFACTS } from './browser.mjs';

let browser;
before(async () => { mkdirSync(ARTIFACTS, { recursive: true }); browser = await launch(); });
after(async () => { await browser?.close(); });
afterEach(async () => { for (const context of browser.contexts()) await context.close(); });

const ROOT = new URL('../..', import.meta.url).pathname;
const REACH = readFileSync(`${ROOT}/web/tasks/reach.json`, 'utf8');
const lineOf = (text, needle) => text.slice(0, text.indexOf(needle)).split('\n').length;

test('the editor shows path-qualified problems at their lines, then previews and runs the fixed task', async () => {
  const { page, errors } = await open(browser, 'web/editor.html?task=reach');
  await page.waitForSelector('body[data-ready=true]');
  await page.waitForSelector('#status[data-state=valid]');

  const broken = REACH.replace('"radius": 0.02 } }, "collides": false', '"radius": -1 } }, "collides": false').replace('"max_steps": 500', '"max_steps": 0');
  await page.fill('#source', broken);
  await page.waitForSelector('#status[data-state=invalid]');
  const issues = await page.$$eval('#issues li', (items) => items.map((li) => ({ path: li.dataset.path, line: Number(li.dataset.line), text: li.textContent })));
  console.log(`problems shown: ${JSON.stringify(issues)}`);
  const radius = issues.find((i) => i.path === 'bodies[3].shape.sphere.radius');
  assert.ok(radius, JSON.stringify(issues));
  assert.equal(radius.line, lineOf(broken, '"radius": -1'));
  assert.match(radius.text, /must be a size in \(0, 100\] m, got -1/);
  const steps = issues.find((i) => i.path === 'max_steps');
  assert.equal(steps?.line, lineOf(broken, '"max_steps": 0'));
  const marked = await page.$$eval('#gutter .problem', (spans) => spans.map((s) => Number(s.textContent)));
  assert.deepEqual(marked.sort((a, b) => a - b), [steps.line, radius.line].sort((a, b) => a - b));
  // "line N" jumps there.
  await page.click(`#issues li[data-path="bodies[3].shape.sphere.radius"] button`);
  const caretLine = await page.$eval('#source', (t) => t.value.slice(0, t.selectionStart).split('\n').length);
  assert.equal(caretLine, radius.line);
  await page.screenshot({ path: `${ARTIFACTS}/editor-problems.png` });

  // A syntax error is placed at the line the parser names.
  await page.fill('#source', REACH.replace('"max_steps": 500,', '"max_steps": 500,,'));
  await page.waitForSelector('#status[data-state=invalid]');
  assert.equal(Number(await page.getAttribute('#issues li', 'data-line')), lineOf(REACH, '"max_steps": 500'));

  // Structural problems (a misspelt field, a vector of the wrong length) all show at once,
  // each at the line and column the validator gives.
  const structural = REACH.replace('"max_steps": 500', '"max_stepz": 500').replace('[0.035, 0.02, 0.04]', '[0.035, 0.02]');
  await page.fill('#source', structural);
  await page.waitForSelector('#issues li[data-path="max_stepz"]');
  const shown = await page.$$eval('#issues li', (items) => items.map((li) => ({ path: li.dataset.path, line: Number(li.dataset.line), text: li.textContent })));
  console.log(`structural problems shown: ${JSON.stringify(shown)}`);
  const misspelt = shown.find((i) => i.path === 'max_stepz');
  assert.equal(misspelt?.line, lineOf(structural, '"max_stepz"'), JSON.stringify(shown));
  assert.match(misspelt.text, /line \d+:3 .*unknown field `max_stepz`/);
  const short = shown.find((i) => i.path === 'bodies[1].shape.box.half_extents');
  assert.equal(short?.line, lineOf(structural, '[0.035, 0.02]'), JSON.stringify(shown));
  assert.match(short.text, /expected 3 numbers, got 2/);

  // Fixed (and changed: a higher goal), the task previews and its expert succeeds.
  const edited = REACH.replace('"max": [0.1, 0.9, 0.3]', '"max": [0.1, 0.9, 0.4]');
  await page.fill('#source', edited);
  await page.waitForSelector('#status[data-state=valid]');
  await page.click('#run-expert');
  await page.waitForSelector('#success[data-success=true]', { timeout: 60_000 });
  await page.screenshot({ path: `${ARTIFACTS}/editor-valid.png` });

  // The edit survives a reload, and can be reverted.
  await page.reload();
  await page.waitForSelector('body[data-ready=true]');
  assert.equal(await page.inputValue('#source'), edited);
  assert.match(await page.textContent('#message'), /Restored your edits of reach/);
  await page.click('#revert');
  assert.equal(await page.inputValue('#source'), REACH);
  assert.deepEqual(errors, []);
});

test('a task that ships nowhere opens from a URL and from a file, and back goes to the previous task', async () => {
  // The server serves only the playground, so the test hands the fixture out itself, at a
  // same-origin address that is not one of the shipped tasks.
  const fixture = readFileSync(new URL('../fixtures/editor/reach-high.json', import.meta.url));
  const { page, errors } = await open(browser, 'web/editor.html?url=../elsewhere/reach-high.json',
    { '/elsewhere/reach-high.json': fixture });
  await page.waitForSelector('body[data-ready=true]');
  await page.waitForSelector('#status[data-state=valid]');
  assert.equal(await page.textContent('#task-title'), 'reach-high');
  await page.click('#run-expert');
  await page.waitForSelector('#success[data-success=true]', { timeout: 60_000 });

  const file = `${ARTIFACTS}/broken-task.json`;
  writeFileSync(file, '{\n  "format": 1,\n  "id": "broken"\n  "bodies": []\n}\n');
  await page.setInputFiles('#open-file', file);
  await page.waitForSelector('#status[data-state=invalid]');
  assert.equal(Number(await page.getAttribute('#issues li', 'data-line')), 4, 'the missing comma is reported on line 4');

  await page.selectOption('#start-from', 'push');
  await page.waitForSelector('#status[data-state=valid]');
  assert.match(page.url(), /\?task=push$/);
  await page.goBack();
  await page.waitForFunction(() => document.getElementById('task-title').textContent === 'reach-high' || document.getElementById('source').value.includes('"broken"'));
  assert.deepEqual(errors, []);
});

test('bad editor URL parameters are named in the page', async () => {
  const { page } = await open(browser, 'web/editor.html?task=../secrets');
  await page.waitForSelector('body[data-ready=true]');
  assert.match(await page.textContent('#message'), /URL parameter task="..\/secrets" is not a shipped task/);
  const other = await open(browser, 'web/editor.html?url=nowhere/missing.json');
  await other.page.waitForSelector('body[data-ready]');
  assert.match(await other.page.textContent('#message'), /The task at nowhere\/missing.json could not be fetched: 404/);
});
