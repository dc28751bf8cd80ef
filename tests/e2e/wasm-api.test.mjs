// The wasm API against the worst arguments a page could pass: each call throws a readable
// Error (never a trap such as `RuntimeError: unreachable`, which would break every player on
// the page, since they share one module), and the module keeps answering afterwards.
import { test, after, afterEach, before } from 'node:test';
import assert from 'node:assert/strict';
import { launch, open } from './browser.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });
afterEach(async () => { for (const context of browser.contexts()) await context.close(); });

test('hostile arguments to the wasm API are errors, and the module still answers', async () => {
  // The train page is cross-origin isolated, so SharedArrayBuffer exists for the split calls.
  const { page } = await open(browser, 'web/train.html');
  await page.waitForSelector('body[data-ready=true]');
  const outcomes = await page.evaluate(async () => {
    const m = await import('../pkg/polyskill_web.js');
    const text = async (path) => (await fetch(path)).text();
    const reach = await text('tasks/reach.json');
    const cartPole = await text('tasks/cart-pole.json');
    const weights = new Uint8Array(await (await fetch('weights/cart-pole-ppo.safetensors')).arrayBuffer());
    const buffer = new SharedArrayBuffer(1 << 20);
    const cases = {
      'split between 2^31 workers': () => m.benchmarkBcShared(buffer, 0, 2 ** 31, 10),
      'split between 0 workers': () => m.benchmarkBcShared(buffer, 0, 0, 10),
      'split with a tiny buffer': () => m.benchmarkBcShared(new SharedArrayBuffer(8), 0, 2, 10),
      'a network of 3 × 65536 hidden units': () => new m.Trainer('ppo', [cartPole], '{"total_steps": 2048, "hidden": [65536, 65536, 65536]}'),
      'a network of 4 billion hidden units': () => new m.Trainer('ppo', [cartPole], '{"total_steps": 2048, "hidden": [4294967295]}'),
      '100 000 demonstrations': () => new m.Trainer('bc', [reach, reach], '{"demos": 100000, "steps": 10}'),
      'evaluation of 4 billion episodes': () => m.evaluatePolicy(weights, cartPole, 0n, 4294967295),
      'a trajectory hash of 4 billion steps': () => m.referenceTrajectoryHash(cartPole, 0n, 4294967295),
      'a benchmark of 4 billion steps': () => m.benchmark(reach, 4294967295),
      'weights that are not a file': () => new m.Policy(new Uint8Array([255, 255, 255, 255, 255, 255, 255, 255, 1])),
      'weights cut short': () => new m.Policy(weights.slice(0, weights.length - 7)),
      'a task nested 100 000 deep': () => m.parseTask('['.repeat(100000)),
      'an action of the wrong size': () => { const p = new m.Player(reach); p.reset(0n); return p.step(new Float32Array(100000)); },
      'a step before reset': () => new m.Player(reach).step(new Float32Array(4)),
      'an offscreen render of 100000 × 100000': () => m.renderOffscreen(reach, 0n, 100000, 100000),
    };
    const out = {};
    for (const [name, call] of Object.entries(cases)) {
      try {
        await call();
        out[name] = 'returned';
      } catch (e) {
        out[name] = `${e?.constructor?.name}: ${e?.message ?? e}`;
      }
    }
    // Still answering: the registry, a task, a policy acting, a player stepping.
    const player = new m.Player(cartPole);
    player.reset(1n);
    const step = player.step(new Float32Array([1]));
    out.after = { algorithms: m.methods().algorithms.length, acted: new m.Policy(weights).act(new Float32Array(player.observation())).length, stepped: typeof step.reward };
    return out;
  });
  console.log(JSON.stringify(outcomes, null, 1));
  for (const [name, outcome] of Object.entries(outcomes)) {
    if (name === 'after') continue;
    assert.match(outcome, /^Error: \S/, `${name}: ${outcome}`);
    assert.doesNotMatch(outcome, /unreachable|RuntimeError|memory access out of bounds/, name);
  }
  assert.deepEqual(outcomes.after, { algorithms: 5, acted: 1, stepped: 'number' });
});
