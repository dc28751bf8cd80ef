// The player page end to end: the pretrained reach policy reaches success with no console
// errors; an unknown task and a broken policy show readable messages and the page stays usable.
import { test, after, afterEach, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { launch, open, ARTIFACTS, BASE } from './browser.mjs';

let browser;
before(async () => { mkdirSync(ARTIFACTS, { recursive: true }); browser = await launch(); });
after(async () => { await browser?.close(); });
// Close each test's pages: pages left animating would slow the next tests down.
afterEach(async () => { for (const context of browser.contexts()) await context.close(); });

test('the reach policy plays to success on WebGPU', async () => {
  const { page, errors } = await open(browser, '?task=reach&policy=reach-bc&seed=3');
  const started = Date.now();
  await page.waitForSelector('body[data-ready=true]', { timeout: 60_000 });
  console.log(`first interactive frame after ${Date.now() - started} ms`);
  assert.match(await page.textContent('#render-backend'), /^WebGPU \(/);
  assert.match(await page.textContent('#policy-info'), /^reach-bc \(39→256→256→4/);
  await page.waitForSelector('#success[data-success=true]', { timeout: 60_000 });
  const steps = Number(await page.textContent('#step'));
  assert.ok(steps > 0 && steps < 500, `success after ${steps} steps`);
  await page.screenshot({ path: `${ARTIFACTS}/player-reach.png` });
  assert.deepEqual(errors, []);
});

test('WebGPU inference loads its module on demand and still reaches success', async () => {
  const { page, errors } = await open(browser, '?task=reach&seed=5');
  await page.waitForSelector('body[data-ready=true]', { timeout: 60_000 });
  // burn's WebGPU backend is a second wasm module, fetched only now.
  const gpuModule = () => page.evaluate(() => performance.getEntriesByType('resource').some((r) => r.name.endsWith('/pkg/gpu/polyskill_web_gpu_bg.wasm')));
  assert.equal(await gpuModule(), false);
  await page.selectOption('#inference', 'gpu');
  await page.waitForFunction(() => document.getElementById('infer-backend').textContent === 'burn WebGPU backend', null, { timeout: 60_000 });
  assert.equal(await gpuModule(), true);
  await page.click('#reset');
  await page.waitForSelector('#success[data-success=true]', { timeout: 90_000 });
  assert.deepEqual(errors, []);
});

test('the task list shows every task with a thumbnail and switches tasks', async () => {
  const { page, errors } = await open(browser, '?task=reach');
  await page.waitForSelector('body[data-ready=true]', { timeout: 60_000 });
  const all = JSON.parse(readFileSync(new URL('../../web/tasks.json', import.meta.url), 'utf8')).tasks;
  assert.deepEqual(await page.$$eval('#tasks a span', (spans) => spans.map((s) => s.textContent)), all);
  assert.equal(await page.getAttribute('#tasks a[aria-current=page]', 'href'), '?task=reach');
  const loaded = await page.$$eval('#tasks img', (imgs) => imgs.every((i) => i.complete && i.naturalWidth === 160));
  assert.ok(loaded, 'every thumbnail loads');
  await page.click('#tasks a[href="?task=door-open"]');
  await page.waitForSelector('body[data-ready=true]', { timeout: 60_000 });
  assert.equal(await page.textContent('#task-title'), 'door-open');
  await page.screenshot({ path: `${ARTIFACTS}/task-list.png` });
  assert.deepEqual(errors, []);
});

test('an unknown task shows a readable message', async () => {
  const { page } = await open(browser, '?task=nope');
  await page.waitForSelector('body[data-ready=true]', { timeout: 60_000 });
  const message = await page.textContent('#message');
  assert.match(message, /Unknown task "nope"\. Available tasks: (.*, )?cart-pole, (.*, )?reach(, .*)?\./);
  await page.screenshot({ path: `${ARTIFACTS}/unknown-task.png` });
});

test('bad URL parameters and a missing policy leave the page usable', async () => {
  const { page } = await open(browser, '?task=reach&policy=no-such-policy&seed=-4&quality=ultra');
  await page.waitForSelector('body[data-ready=true]', { timeout: 60_000 });
  const message = await page.textContent('#message');
  assert.match(message, /seed="-4" must be a whole number/);
  assert.match(message, /quality="ultra" must be full, software or basic/);
  assert.match(message, /Unknown policy "no-such-policy"\. Available policies: (.*, )?reach-bc(, .*)?\./);
  assert.equal(await page.inputValue('#actor'), 'expert');
  await page.waitForSelector('#success[data-success=true]', { timeout: 60_000 });
});

test('a broken weights file shows a readable message', async () => {
  const page = await browser.newPage();
  // Serve a corrupted copy of the shipped policy: a valid header promising more data than follows.
  const header = Buffer.from(JSON.stringify({ '0.weight': { dtype: 'F32', shape: [256, 39], data_offsets: [0, 39936] } }));
  const size = Buffer.alloc(8);
  size.writeBigUInt64LE(BigInt(header.length));
  await page.route('**/web/weights/reach-bc.safetensors', (route) =>
    route.fulfill({ status: 200, contentType: 'application/octet-stream', body: Buffer.concat([size, header, Buffer.alloc(100)]) }));
  await page.goto(new URL('?task=reach&policy=reach-bc', BASE).href);
  await page.waitForSelector('body[data-ready=true]', { timeout: 60_000 });
  const message = await page.textContent('#message');
  assert.match(message, /Policy "reach-bc" could not be loaded: weights: /);
  assert.equal(await page.inputValue('#actor'), 'expert');
});

test('without WebGPU the page says so and still plays to success', async () => {
  const page = await browser.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.addInitScript(() => { delete Navigator.prototype.gpu; });
  await page.goto(new URL('?task=reach&policy=reach-bc&seed=2', BASE).href);
  await page.waitForSelector('body[data-ready=true]', { timeout: 60_000 });
  assert.equal(await page.textContent('#render-backend'), '2D canvas fallback (this browser has no WebGPU)');
  assert.equal(await page.$eval('#inference option[value=gpu]', (o) => o.disabled), true);
  await page.waitForSelector('#success[data-success=true]', { timeout: 60_000 });
  await page.screenshot({ path: `${ARTIFACTS}/player-fallback-2d.png` });
  assert.deepEqual(errors, []);
});

test('cart-pole, a control task with joints, balances under its PPO policy', async () => {
  const { page, errors } = await open(browser, '?task=cart-pole');
  await page.waitForSelector('body[data-ready=true]', { timeout: 60_000 });
  assert.equal(await page.textContent('#task-title'), 'cart-pole');
  assert.match(await page.textContent('#policy-info'), /^cart-pole-ppo \(4→64→64→2, 100% success/);
  assert.equal(await page.textContent('#message'), '');
  await page.waitForSelector('#success[data-success=true]', { timeout: 90_000 });
  assert.equal(Number(await page.textContent('#step')), 500);
  await page.screenshot({ path: `${ARTIFACTS}/player-cart-pole.png` });
  assert.deepEqual(errors, []);
});

test('one multi-task network plays an MT10 task it is told about', async () => {
  const { page, errors } = await open(browser, '?task=drawer-close&policy=mt10-bc-multi-head&seed=1');
  await page.waitForSelector('body[data-ready=true]', { timeout: 60_000 });
  assert.match(await page.textContent('#policy-info'), /^mt10-bc-multi-head \(39→256→256→40/);
  await page.waitForSelector('#success[data-success=true]', { timeout: 90_000 });
  assert.deepEqual(errors, []);
});

// The pages share one player (web/scene-player.js): it plays a task in real time, one step per
// timestep × frame_skip of simulated time, not at one rate for every task.
test('the shared player steps each task in real time from its own timestep × frame_skip', async () => {
  const { page, errors } = await open(browser, '?task=reach');
  await page.waitForSelector('body[data-ready=true]', { timeout: 60_000 });
  const owed = await page.evaluate(async () => {
    const { ScenePlayer, loadWasm } = await import('./web/scene-player.js');
    await loadWasm();
    const out = {};
    for (const name of ['cart-pole', 'acrobot', 'reach']) {
      const text = await (await fetch(`web/tasks/${name}.json`)).text();
      const scene = new ScenePlayer({ gpu: document.createElement('canvas'), flat: document.createElement('canvas') });
      scene.load(text);
      let steps = 0;
      for (let frame = 0; frame < 120; frame++) steps += scene.due(1 / 60); // two seconds at 60 frames/s
      steps += scene.due(5); // a tab back from the background counts at most 0.1 s
      out[name] = { stepSeconds: scene.player.stepSeconds, steps };
    }
    return out;
  });
  console.log(`steps owed over 2.1 s: ${JSON.stringify(owed)}`);
  for (const [name, seconds] of [['cart-pole', 0.02], ['acrobot', 0.2], ['reach', 0.0125]]) {
    assert.ok(Math.abs(owed[name].stepSeconds - seconds) < 1e-6, `${name}: ${owed[name].stepSeconds} s per step`);
    assert.ok(Math.abs(owed[name].steps - 2.1 / seconds) <= 1, `${name}: ${owed[name].steps} steps in 2.1 s`);
  }
  assert.deepEqual(errors, []);
});

// Every task in the suite that has an expert opens in the page and its expert reaches success there.
const web = new URL('../../web/', import.meta.url);
const suite = JSON.parse(readFileSync(new URL('tasks.json', web), 'utf8')).tasks
  .filter((task) => JSON.parse(readFileSync(new URL(`tasks/${task}.json`, web), 'utf8')).expert);
for (const task of suite) {
  test(`${task}: the task expert reaches success in the page`, async () => {
    const { page, errors } = await open(browser, `?task=${task}&actor=expert&seed=1`);
    await page.waitForSelector('body[data-ready=true]', { timeout: 60_000 });
    assert.equal(await page.textContent('#task-title'), task);
    assert.equal(await page.inputValue('#actor'), 'expert');
    await page.waitForSelector('#success[data-success=true]', { timeout: 90_000 });
    await page.screenshot({ path: `${ARTIFACTS}/expert-${task}.png` });
    assert.deepEqual(errors, []);
  });
}

test('the embed page plays two <polyskill-player> elements to success', async () => {
  const { page, errors } = await open(browser, 'docs/embed.html');
  await page.waitForSelector('#single[data-ready=true]', { timeout: 60_000 });
  await page.waitForSelector('#multi[data-ready=true]', { timeout: 60_000 });
  // Each sizes its canvas to its column (4:3).
  const size = await page.$eval('#single', (el) => { const c = el.shadowRoot.querySelector('canvas:not([hidden])'); return [c.width, c.height, el.clientWidth]; });
  assert.ok(Math.abs(size[0] * 3 - size[1] * 4) <= 4 && size[0] >= size[2] * 0.9, `canvas ${size}`);
  await page.waitForSelector('#single[data-success=true]', { timeout: 90_000 });
  await page.waitForSelector('#multi[data-success=true]', { timeout: 90_000 });
  await page.screenshot({ path: `${ARTIFACTS}/embed-two-players.png` });
  assert.deepEqual(errors, []);
});

test('a <polyskill-player> with a bad attribute says so inside itself', async () => {
  const { page } = await open(browser, 'docs/embed.html');
  await page.evaluate(() => document.body.insertAdjacentHTML('beforeend', '<polyskill-player id="bad" task="no-such-task"></polyskill-player>'));
  await page.waitForSelector('#bad[data-ready=error]', { timeout: 60_000 });
  const message = await page.$eval('#bad', (el) => el.shadowRoot.querySelector('[role=alert]').textContent);
  assert.match(message, /task "no-such-task" could not be fetched: 404/);
});

test('the gallery filters by kind, picks MT10 in one click and hands the set to the train page', async () => {
  const { page, errors } = await open(browser, '?task=reach&kind=control');
  await page.waitForSelector('body[data-ready=true]');
  await page.waitForFunction(() => [...document.querySelectorAll('#tasks .card')].every((c) => c.dataset.kind));
  const visible = () => page.$$eval('#tasks .card:not([hidden])', (cards) => cards.map((c) => c.dataset.task));
  assert.deepEqual(await visible(), ['acrobot', 'cart-pole', 'pendulum', 'reacher']);
  assert.equal(await page.getAttribute('#tasks [data-task=pendulum] a', 'title'), JSON.parse(readFileSync(new URL('../../web/tasks/pendulum.json', import.meta.url), 'utf8')).instruction);
  await page.selectOption('#kind-filter', 'manipulation');
  assert.equal((await visible()).length, 10);
  await page.click('#pick-mt10');
  assert.match(page.url(), /kind=manipulation&pick=button-press-topdown,door-open,drawer-close,drawer-open,peg-insert-side,pick-place,push,reach,window-close,window-open$/);
  assert.equal(await page.textContent('#train-picked'), 'Train the 10 picked tasks together →');
  await page.click('#pick-none');
  await page.check('#tasks [data-task=reach] input');
  await page.check('#tasks [data-task=push] input');
  await page.screenshot({ path: `${ARTIFACTS}/gallery.png` });
  await page.click('#train-picked');
  await page.waitForSelector('body[data-ready=true]');
  assert.equal(await page.inputValue('#task'), 'push,reach');
  assert.equal(await page.inputValue('#algo'), 'bc');
  assert.deepEqual(errors, []);
  const bad = await open(browser, '?kind=robots&pick=reach,nope');
  await bad.page.waitForSelector('body[data-ready=true]');
  const message = await bad.page.textContent('#message');
  assert.match(message, /URL parameter kind="robots" must be all, manipulation or control/);
  assert.match(message, /URL parameter pick: nope is not a task/);
});

test('the player steps one at a time, changes speed, orbits the camera and plots the reward', async () => {
  const { page, errors } = await open(browser, '?task=push&actor=expert&seed=2');
  await page.waitForSelector('body[data-ready=true]', { timeout: 60_000 });
  await page.click('#play'); // pause
  await page.click('#reset');
  await page.click('#step-once');
  await page.click('#step-once');
  assert.equal(await page.textContent('#step'), '2');
  const before = await page.screenshot({ clip: { x: 16, y: 300, width: 700, height: 400 } });
  // Drag across the scene: the view turns (the picture changes) without stepping the episode.
  const box = await page.locator('#viewport').boundingBox();
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width / 2 + 150, box.y + box.height / 2 + 40, { steps: 5 });
  await page.mouse.up();
  await page.waitForTimeout(300);
  const after = await page.screenshot({ clip: { x: 16, y: 300, width: 700, height: 400 } });
  assert.notDeepEqual(before, after, 'dragging turned the view');
  assert.equal(await page.textContent('#step'), '2');
  await page.selectOption('#speed', '8');
  await page.click('#play');
  await page.waitForSelector('#success[data-success=true]', { timeout: 60_000 });
  const plotted = await page.$eval('#reward-plot', (c) => c.getContext('2d').getImageData(0, 0, c.width, c.height).data.some((v) => v !== 0));
  assert.ok(plotted, 'the reward plot has a line');
  await page.screenshot({ path: `${ARTIFACTS}/player-orbit.png` });
  assert.deepEqual(errors, []);
});

test('every view fits a narrow (390 px) screen without sideways scrolling', async () => {
  for (const path of ['?task=push', 'web/train.html', 'web/editor.html?task=reach', 'docs/embed.html', 'web/compare.html']) {
    const page = await browser.newPage({ viewport: { width: 390, height: 844 } });
    await page.goto(new URL(path, BASE).href);
    await page.waitForSelector('body[data-ready], polyskill-player[data-ready]', { timeout: 60_000 });
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.equal(overflow, 0, `${path} is ${overflow} px wider than the screen`);
    if (path.startsWith('?')) await page.screenshot({ path: `${ARTIFACTS}/narrow-player.png` });
  }
});

test('a second actor plays the same task and seed side by side', async () => {
  const { page, errors } = await open(browser, '?task=push&actor=policy&vs=expert&seed=4');
  await page.waitForSelector('body[data-ready=true]', { timeout: 60_000 });
  assert.equal(await page.isVisible('#second'), true);
  assert.deepEqual(await page.$$eval('#second-actor option', (os) => os.map((o) => o.value)), ['', 'expert', 'random', 'push-bc', 'push-sac', 'mt10-bc-multi-head', 'mt10-bc-one-hot', 'mt10-sac']);
  await page.waitForSelector('#success[data-success=true]', { timeout: 60_000 });
  await page.waitForSelector('#second-readout[data-success=true]', { timeout: 60_000 });
  assert.match(await page.textContent('#second-readout'), /^expert: step \d+, return [\d.]+, success$/);
  await page.screenshot({ path: `${ARTIFACTS}/player-side-by-side.png` });
  if (await page.textContent('#play') === 'Pause') await page.click('#play');
  await page.selectOption('#second-actor', 'random');
  await page.click('#reset');
  assert.match(await page.textContent('#second-readout'), /^random: step 0, return 0\.0$/);
  assert.deepEqual(errors, []);
  const bad = await open(browser, '?task=push&vs=cart-pole-ppo');
  await bad.page.waitForSelector('body[data-ready=true]', { timeout: 60_000 });
  assert.match(await bad.page.textContent('#message'), /URL parameter vs="cart-pole-ppo" is not expert, random or a policy for this task \(push-bc, /);
});

/** Runs in the page first: keeps every GPUDevice the page opens, so the test can lose them
 * the way a driver reset would (`destroy()` resolves `device.lost`). */
function keepDevices() {
  window.__devices = [];
  const request = GPUAdapter.prototype.requestDevice;
  GPUAdapter.prototype.requestDevice = async function keep(...args) {
    const device = await request.apply(this, args);
    window.__devices.push(device);
    return device;
  };
}

test('a lost WebGPU device switches the gallery and <polyskill-player> to 2D, and they play on', async () => {
  const { page, errors } = await open(browser, '?task=reach&policy=reach-bc&seed=3', {}, keepDevices);
  await page.waitForSelector('body[data-ready=true]', { timeout: 60_000 });
  assert.match(await page.textContent('#render-backend'), /^WebGPU \(/);
  await page.evaluate(() => window.__devices.forEach((d) => d.destroy()));
  await page.waitForFunction(() => document.getElementById('render-backend').textContent.startsWith('2D canvas fallback'), null, { timeout: 30_000 });
  assert.equal(await page.textContent('#render-backend'), '2D canvas fallback (the WebGPU device was lost)');
  assert.match(await page.textContent('#message'), /WebGPU device lost \(Destroyed\).*drawing in 2D from now on/);
  assert.equal(await page.$eval('#scene2d', (c) => c.hidden), false);
  // The episode goes on, drawn in 2D, to success.
  await page.waitForSelector('#success[data-success=true]', { timeout: 90_000 });
  await page.screenshot({ path: `${ARTIFACTS}/player-device-lost.png` });
  // The device's loss is reported on the console (an error) and nothing else went wrong.
  assert.ok(errors.length > 0 && errors.every((e) => /WebGPU device lost|WebGPU error/.test(e)), errors.join('\n'));

  const embed = await open(browser, 'docs/embed.html', {}, keepDevices);
  await embed.page.waitForSelector('#single[data-render=webgpu]', { timeout: 60_000 });
  await embed.page.evaluate(() => window.__devices.forEach((d) => d.destroy()));
  await embed.page.waitForSelector('#single[data-render="2d"]', { timeout: 30_000 });
  await embed.page.waitForSelector('#multi[data-render="2d"]', { timeout: 30_000 });
  await embed.page.waitForSelector('#single[data-success=true]', { timeout: 90_000 });
  assert.ok(embed.errors.every((e) => /WebGPU device lost|WebGPU error/.test(e)), embed.errors.join('\n'));
});

test('the keys the page lists drive the player, and the readout names the adapter briefly', async () => {
  const { page, errors } = await open(browser, '?task=reach&policy=reach-bc&seed=3');
  await page.waitForSelector('body[data-ready=true]', { timeout: 60_000 });
  assert.match(await page.textContent('.keys'), /Space.*play\/pause.*one step.*reset/);
  if ((await page.textContent('#play')) === 'Pause') await page.click('#play');
  await page.keyboard.press('r');
  assert.equal(await page.textContent('#step'), '0');
  await page.keyboard.press('.');
  await page.keyboard.press('.');
  await page.waitForFunction(() => document.getElementById('step').textContent === '2');
  await page.evaluate(() => document.activeElement?.blur());
  await page.keyboard.press(' ');
  assert.equal(await page.textContent('#play'), 'Pause');
  await page.keyboard.press(' ');
  assert.equal(await page.textContent('#play'), 'Play');
  // The readout's first line is short; the full adapter string is its tooltip.
  const backend = await page.$eval('#render-backend', (d) => ({ first: d.firstChild.textContent, title: d.title, detail: d.querySelector('.detail')?.textContent }));
  assert.ok(backend.first.length <= 40, backend.first);
  assert.match(backend.detail, /MSAA.*shadows/);
  assert.ok(backend.title.length >= backend.first.length - 9);
  // On a software adapter the first frames are timed; when they are too slow for shadows the
  // view drops to its basic quality and the readout says so and why.
  await page.waitForSelector('body[data-paced=true]', { timeout: 60_000 });
  const quality = await page.getAttribute('body', 'data-quality');
  const detail = await page.$eval('#render-backend .detail', (d) => ({ text: d.textContent, why: d.title }));
  console.log(`3D view quality after timing the first frames: ${quality} (${detail.text}; ${detail.why || 'kept'})`);
  assert.ok(['full', 'software', 'basic'].includes(quality), quality);
  if (quality === 'basic') {
    // Asked for by URL, the software quality is kept however slow the frames.
    const chosen = await open(browser, '?task=reach&policy=reach-bc&seed=3&quality=software');
    await chosen.page.waitForSelector('body[data-paced=true]', { timeout: 60_000 });
    await chosen.page.waitForTimeout(3000);
    assert.equal(await chosen.page.getAttribute('body', 'data-quality'), 'software');
    assert.equal(await chosen.page.textContent('#render-backend .detail'), 'no MSAA, 1024² shadows');
    assert.equal(detail.text, 'no MSAA, no shadows (basic lighting)');
    assert.match(detail.why, /^frames took \d+ ms on this software adapter, over the 50 ms target$/);
  }
  assert.deepEqual(errors, []);
});

/** Keeps the pixels of `selector`'s screenshot in the page as `name` (decoded there, so the
 * comparisons below need not move images out of it). */
async function shoot(page, selector, name) {
  const png = await page.locator(selector).screenshot();
  await page.evaluate(async ([b64, name]) => {
    const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    const bitmap = await createImageBitmap(new Blob([bytes], { type: 'image/png' }));
    const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
    const ctx = canvas.getContext('2d');
    ctx.drawImage(bitmap, 0, 0);
    (window.shots ??= {})[name] = ctx.getImageData(0, 0, bitmap.width, bitmap.height).data;
  }, [png.toString('base64'), name]);
}

/** How many pixels differ between shots `before` and `after`, and how many of those are
 * `hue`-dominated in `after` ('amber': red high, blue low; 'red': red over both others). */
function changed(page, before, after, hue) {
  return page.evaluate(([before, after, hue]) => {
    const [a, b] = [window.shots[before], window.shots[after]];
    let all = 0, matching = 0;
    for (let i = 0; i < a.length; i += 4) {
      if (![0, 1, 2].some((c) => Math.abs(a[i + c] - b[i + c]) > 24)) continue;
      all += 1;
      const [r, g, bl] = [b[i], b[i + 1], b[i + 2]];
      if (hue === 'amber' ? r > 180 && g > 70 && bl < 90 && r > g + 40 : r > g + 60 && r > bl + 60) matching += 1;
    }
    return { all, matching };
  }, [before, after, hue]);
}

test('the debug view draws the hand trail and the contact points, on WebGPU and in 2D', async () => {
  for (const gpu of [true, false]) {
    const { page, errors } = await open(browser, '?task=push&actor=expert&seed=2', {}, gpu ? null : () => { delete Navigator.prototype.gpu; });
    await page.waitForSelector('body[data-ready=true]', { timeout: 60_000 });
    const canvas = gpu ? '#scene' : '#scene2d';
    // The quality is chosen (a slow software adapter drops to basic) before any image is kept.
    await page.waitForSelector('body[data-paced=true]', { timeout: 60_000 });
    // The same state every time: paused, reset, then 60 single steps.
    if ((await page.textContent('#play')) === 'Pause') await page.click('#play');
    await page.evaluate(() => document.activeElement?.blur());
    await page.keyboard.press('r');
    for (let i = 0; i < 60; i += 1) await page.keyboard.press('.');
    await page.waitForFunction(() => document.getElementById('step').textContent === '60');
    await shoot(page, canvas, 'plain');
    await page.keyboard.press('t');
    assert.equal(await page.isChecked('#show-trail'), true);
    await shoot(page, canvas, 'trail');
    await page.click('#show-contacts');
    await shoot(page, canvas, 'both');
    const drawnTrail = await changed(page, 'plain', 'trail', 'amber');
    const drawnContacts = await changed(page, 'trail', 'both', 'red');
    console.log(`${gpu ? 'WebGPU' : '2D'}: trail changed ${drawnTrail.all} pixels (${drawnTrail.matching} amber), contacts ${drawnContacts.all} (${drawnContacts.matching} red)`);
    assert.ok(drawnTrail.matching >= 30 && drawnTrail.matching * 2 >= drawnTrail.all, JSON.stringify(drawnTrail));
    assert.ok(drawnContacts.matching >= 3, JSON.stringify(drawnContacts));
    await page.screenshot({ path: `${ARTIFACTS}/player-debug-view-${gpu ? 'webgpu' : '2d'}.png` });
    // Off again by keys (not while a form field has focus): the plain scene.
    await page.evaluate(() => document.activeElement?.blur());
    await page.keyboard.press('t');
    await page.keyboard.press('c');
    await shoot(page, canvas, 'off');
    assert.equal((await changed(page, 'plain', 'off', 'amber')).all, 0);
    assert.deepEqual(errors, []);
    await page.context().close();
  }
});
