// Every page of the playground under the server's Content-Security-Policy (no inline script or
// style, no eval; `'wasm-unsafe-eval'` for WebAssembly): each one loads, gets to work and
// records no violation, in the page, its shadow DOM (the embedded players) or its workers.
// And every string from outside (task files, URL parameters, element attributes) reaches the
// DOM as text: markup and script in them show literally and nothing runs.
import { test, after, afterEach, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { launch, open } from './browser.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });
afterEach(async () => { for (const context of browser.contexts()) await context.close(); });

// Each page and what shows it has started: the gallery's player, the train page, a shipped
// comparison report, the editor, the page embedding two players, the benchmark page.
const PAGES = [
  ['?task=reach&policy=reach-bc&seed=1', 'body[data-ready=true]'],
  ['web/train.html?algo=bc&task=reach', 'body[data-ready=true]'],
  ['web/compare.html?report=sac-mt10', 'body[data-ready=true]'],
  ['web/editor.html?task=push', 'body[data-ready=true]'],
  ['docs/embed.html', 'polyskill-player[data-ready=true]'],
  ['web/bench.html', 'body[data-running=true]'],
];

test('every page runs under a strict Content-Security-Policy with no violation', async () => {
  for (const [path, started] of PAGES) {
    const { page, errors, violations, response } = await open(browser, path);
    const csp = response.headers()['content-security-policy'] ?? '';
    assert.match(csp, /script-src 'self' 'wasm-unsafe-eval'/, `${path}: ${csp}`);
    assert.doesNotMatch(csp, /unsafe-inline|'unsafe-eval'/, path);
    await page.waitForSelector(started, { timeout: 60_000 });
    // A short while of running: the player animates, the train page's worker may start.
    await page.waitForTimeout(500);
    assert.deepEqual(violations, [], path);
    assert.deepEqual(errors, [], path);
    // Enter in a form's field does not submit it (which would reload the page): the forms are
    // kept on the page by a listener (web/forms.js), since inline handlers are refused.
    const field = await page.$('form input:not([type=file]):not([type=checkbox])');
    if (field) {
      await page.evaluate(() => { window.stillHere = true; });
      await field.press('Enter');
      await page.waitForTimeout(300);
      assert.equal(await page.evaluate(() => window.stillHere ?? false), true, `${path}: Enter in a form reloaded the page`);
    }
    await page.close();
  }
});

test('an inline script is refused and reported, so the check above can fail', async () => {
  const { page, violations } = await open(browser, 'web/train.html');
  await page.waitForSelector('body[data-ready=true]');
  await page.evaluate(() => {
    const script = document.createElement('script');
    script.textContent = 'window.inlineRan = true;';
    document.body.append(script);
  });
  await page.waitForFunction(() => true);
  await page.waitForTimeout(200);
  assert.equal(await page.evaluate(() => window.inlineRan ?? false), false);
  assert.equal(violations.length, 1, JSON.stringify(violations));
  assert.match(violations[0], /script-src/);
});

// Markup that would run script if it reached the DOM as HTML.
const PAYLOAD = '<img src=x onerror="window.pwned=1"><script>window.pwned=2</script>';

/** Nothing of `PAYLOAD` ran or became an element, and no CSP violation fired. */
async function assertInert(page, violations, where) {
  assert.equal(await page.evaluate(() => window.pwned ?? null), null, `${where}: script ran`);
  const injected = await page.evaluate(() => {
    const count = (root) => root.querySelectorAll('img[src=x], script:not([src])').length
      + [...root.querySelectorAll('*')].filter((e) => e.shadowRoot).reduce((n, e) => n + count(e.shadowRoot), 0);
    return count(document);
  });
  assert.equal(injected, 0, `${where}: the payload became elements`);
  assert.deepEqual(violations, [], where);
}

test('markup in a task file, a URL parameter and an attribute shows as text and never runs', async () => {
  // The editor: a task (by ?url=) whose instruction and a body's name hold the payload.
  const task = readFileSync(new URL('../fixtures/editor/reach-high.json', import.meta.url), 'utf8')
    .replace(/"instruction": "[^"]*"/, `"instruction": ${JSON.stringify(PAYLOAD)}`)
    .replaceAll('"puck"', JSON.stringify(`puck${PAYLOAD}`));
  const editor = await open(browser, 'web/editor.html?url=../elsewhere/html.json', { '/elsewhere/html.json': task });
  await editor.page.waitForSelector('body[data-ready]');
  await editor.page.waitForSelector('#status[data-state]');
  // The source shows it as written (JSON-escaped quotes), not as an element.
  assert.ok((await editor.page.textContent('#highlight')).includes(JSON.stringify(PAYLOAD).slice(1, -1)), 'the source shows literally');
  const issues = await editor.page.$$eval('#issues li', (lis) => lis.map((li) => li.textContent));
  console.log(`editor on a task with markup in its strings: ${await editor.page.getAttribute('#status', 'data-state')}, ${JSON.stringify(issues).slice(0, 300)}`);
  await assertInert(editor.page, editor.violations, 'editor');

  // The gallery: the payload as the task parameter is named literally in the message.
  const gallery = await open(browser, `?task=${encodeURIComponent(PAYLOAD)}`);
  await gallery.page.waitForSelector('body[data-ready]');
  assert.ok((await gallery.page.textContent('#message')).includes(PAYLOAD), 'the gallery names the parameter literally');
  await assertInert(gallery.page, gallery.violations, 'gallery');

  // The train page and <polyskill-player>: the same as a URL parameter and as an attribute.
  const train = await open(browser, `web/train.html?task=${encodeURIComponent(PAYLOAD)}`);
  await train.page.waitForSelector('body[data-ready]');
  assert.ok((await train.page.textContent('#message')).includes(PAYLOAD), 'the train page names the parameter literally');
  await assertInert(train.page, train.violations, 'train');
  const embed = await open(browser, 'docs/embed.html');
  await embed.page.waitForSelector('polyskill-player[data-ready=true]');
  await embed.page.evaluate((payload) => {
    const player = document.createElement('polyskill-player');
    player.id = 'hostile';
    player.setAttribute('task', payload);
    document.body.append(player);
  }, PAYLOAD);
  await embed.page.waitForSelector('#hostile[data-ready=error]');
  const shown = await embed.page.evaluate(() => document.getElementById('hostile').shadowRoot.querySelector('.error').textContent);
  assert.ok(shown.includes(PAYLOAD), `the player names the attribute literally: ${shown}`);
  await assertInert(embed.page, embed.violations, 'polyskill-player');
});
