// The soak: for `minutes`, headless Chromium plays policies in the gallery (push under its BC
// policy, a new seed each episode, at 8×) while the train page trains PPO on cart-pole in a
// Web Worker, run after run (100 000 steps each; the finished run is cleared from the page and
// the next starts, so the page holds one run at a time and what grows is what leaks). Every
// `sampleSeconds` it forces a garbage collection and records each page's JS heap (CDP
// `Runtime.getHeapUsage`) and wasm linear memory (`memoryBytes()` of the page's module, and of
// each training worker's). Memory that keeps growing is a leak: `summary.ratio` is the pages'
// memory at the end over their memory after the first minute.
//
// `cargo xtask soak --minutes M` runs it against a fresh server and prints the samples as JSON
// lines and the summary last; `soak.test.mjs` runs two minutes of it in the e2e suite.
import { writeFileSync } from 'node:fs';
import { launch, open } from './browser.mjs';

const sleep = (ms) => new Promise((resolve) => { setTimeout(resolve, ms); });
const MODULE = '/pkg/polyskill_web.js';

/** Wasm memory of the module the page (or worker) has already loaded, in bytes. */
async function wasmBytes(target) {
  return target.evaluate(async (path) => (await import(new URL(path, location.origin).href)).memoryBytes(), MODULE);
}

/** JS heap in use after a full garbage collection, in bytes. */
async function jsHeap(cdp) {
  await cdp.send('HeapProfiler.collectGarbage');
  return (await cdp.send('Runtime.getHeapUsage')).usedSize;
}

/** Plays and trains for `minutes`; returns `{samples, summary, errors}`. */
export async function soak({ minutes, sampleSeconds = 10, log = () => {} }) {
  const browser = await launch();
  try {
    const gallery = await open(browser, '?task=push&policy=push-bc&seed=0');
    await gallery.page.waitForSelector('body[data-ready=true]', { timeout: 60_000 });
    await gallery.page.selectOption('#speed', '8');
    const train = await open(browser, 'web/train.html?task=cart-pole&seed=1');
    await train.page.waitForSelector('body[data-ready=true]', { timeout: 60_000 });
    await train.page.fill('#steps', '100000');
    await train.page.fill('#target', '');
    const pages = { gallery, train };
    const cdp = {};
    for (const [name, { page }] of Object.entries(pages)) cdp[name] = await page.context().newCDPSession(page);

    const started = Date.now();
    const samples = [];
    let nextSample = started;
    let seed = 0;
    let episodes = 0;
    let runs = 0;
    while (Date.now() - started < minutes * 60_000) {
      // Keep both busy: a finished episode gets the next seed, a finished run a successor.
      if ((await gallery.page.textContent('#play')) === 'Play') {
        seed += 1;
        await gallery.page.fill('#seed', String(seed));
        await gallery.page.dispatchEvent('#seed', 'change');
        await gallery.page.click('#play');
        episodes += 1;
      }
      const state = await train.page.getAttribute('#status', 'data-state');
      if (state !== 'running' && state !== 'stopping') {
        if (await train.page.isEnabled('#clear-runs')) await train.page.click('#clear-runs');
        await train.page.click('#start');
        await train.page.waitForSelector('#status[data-state=running]');
        runs += 1;
      }
      if (Date.now() >= nextSample) {
        const sample = { seconds: Math.round((Date.now() - started) / 1000), episodes, runs };
        for (const [name, { page }] of Object.entries(pages)) {
          sample[`${name}_js_heap`] = await jsHeap(cdp[name]);
          sample[`${name}_wasm`] = await wasmBytes(page);
        }
        const workers = [];
        for (const worker of train.page.workers()) {
          try { workers.push(await wasmBytes(worker)); } catch { /* a worker that just ended */ }
        }
        sample.worker_wasm = workers;
        sample.pages_bytes = Object.keys(pages).reduce((sum, name) => sum + sample[`${name}_js_heap`] + sample[`${name}_wasm`], 0);
        samples.push(sample);
        log(JSON.stringify(sample));
        nextSample += sampleSeconds * 1000;
      }
      await sleep(250);
    }
    const atOneMinute = samples.find((s) => s.seconds >= 60) ?? samples[0];
    const last = samples[samples.length - 1];
    const summary = {
      minutes,
      episodes,
      runs,
      samples: samples.length,
      after_first_minute_bytes: atOneMinute.pages_bytes,
      end_bytes: last.pages_bytes,
      ratio: last.pages_bytes / atOneMinute.pages_bytes,
      max_worker_wasm_bytes: Math.max(0, ...samples.flatMap((s) => s.worker_wasm)),
    };
    return { samples, summary, errors: [...gallery.errors, ...train.errors] };
  } finally {
    await browser.close();
  }
}

// `node tests/e2e/soak.mjs MINUTES [OUT.json]`: samples as JSON lines, then the summary; the
// whole result is also written to OUT.json when given.
if (import.meta.url === `file://${process.argv[1]}`) {
  const minutes = Number(process.argv[2] ?? 30);
  if (!(minutes > 0)) throw new Error(`minutes must be a positive number, got "${process.argv[2]}"`);
  const result = await soak({ minutes, sampleSeconds: minutes > 5 ? 30 : 10, log: console.log });
  console.log(JSON.stringify({ summary: result.summary, errors: result.errors }));
  if (process.argv[3]) writeFileSync(process.argv[3], `${JSON.stringify(result, null, 1)}\n`);
  if (result.errors.length) process.exit(1);
}
