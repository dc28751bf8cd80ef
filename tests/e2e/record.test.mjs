// Episodes leave the page as media: "Record episode" restarts the episode and downloads a WebM
// video of it that the browser decodes to a duration matching the steps played; "Save PNG"
// downloads a PNG of the view at the canvas's size.
import { test, after, afterEach, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { launch, open, ARTIFACTS } from './browser.mjs';

let browser;
before(async () => { mkdirSync(ARTIFACTS, { recursive: true }); browser = await launch(); });
after(async () => { await browser?.close(); });
afterEach(async () => { for (const context of browser.contexts()) await context.close(); });

test('a recorded episode is a WebM whose duration matches the steps played', async () => {
  const { page, errors } = await open(browser, '?task=cart-pole&seed=2');
  await page.waitForSelector('body[data-ready=true]', { timeout: 60_000 });
  await page.selectOption('#actor', 'random');
  await page.selectOption('#speed', '2');
  const downloaded = page.waitForEvent('download', { timeout: 60_000 });
  await page.click('#record');
  // While it records, a progress bar counts the episode's steps.
  await page.waitForFunction(() => /^Recording the episode: step [1-9]\d* of at most 500$/.test(document.getElementById('record-progress').getAttribute('aria-label') ?? ''));
  assert.equal(await page.isVisible('#record-progress'), true);
  const download = await downloaded;
  assert.equal(await page.isVisible('#record-progress'), false);
  assert.equal(download.suggestedFilename(), 'cart-pole-seed2.webm');
  const file = `${ARTIFACTS}/cart-pole-seed2.webm`;
  await download.saveAs(file);
  const bytes = readFileSync(file);
  // WebM is Matroska: the EBML magic number first.
  assert.deepEqual([...bytes.subarray(0, 4)], [0x1a, 0x45, 0xdf, 0xa3]);
  const recorded = JSON.parse(await page.getAttribute('body', 'data-recorded'));
  const stepSeconds = await page.evaluate(async () => {
    const task = await (await fetch('web/tasks/cart-pole.json')).json();
    return task.timestep * task.frame_skip;
  });
  // The browser decodes it: MediaRecorder's WebM states no duration, so seek to the end.
  const duration = await page.evaluate(async (data) => {
    const video = document.createElement('video');
    video.muted = true;
    video.src = URL.createObjectURL(new Blob([new Uint8Array(data)], { type: 'video/webm' }));
    await new Promise((resolve, reject) => { video.onloadedmetadata = resolve; video.onerror = () => reject(new Error(`cannot decode: ${video.error?.message}`)); });
    if (!Number.isFinite(video.duration)) {
      video.currentTime = 1e6;
      await new Promise((resolve) => { video.ondurationchange = () => Number.isFinite(video.duration) && resolve(); });
    }
    return { duration: video.duration, width: video.videoWidth, height: video.videoHeight };
  }, [...bytes]);
  const played = (recorded.steps * stepSeconds) / 2;
  console.log(JSON.stringify({ recorded, played, ...duration }));
  assert.ok(recorded.steps > 5, `the episode ran ${recorded.steps} steps`);
  assert.deepEqual([duration.width, duration.height], [640, 480]);
  assert.ok(Math.abs(duration.duration - played) < 0.25 + 0.2 * played,
    `the video lasts ${duration.duration.toFixed(2)} s; ${recorded.steps} steps at 2× play in ${played.toFixed(2)} s`);
  assert.deepEqual(errors, []);
});

test('Save PNG downloads the view as a PNG of the canvas size', async () => {
  const { page, errors } = await open(browser, '?task=push&policy=push-bc&seed=1');
  await page.waitForSelector('body[data-ready=true]', { timeout: 60_000 });
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#snapshot')]);
  assert.equal(download.suggestedFilename(), 'push-seed1.png');
  const file = `${ARTIFACTS}/push-seed1.png`;
  await download.saveAs(file);
  const png = readFileSync(file);
  assert.deepEqual([...png.subarray(1, 4)], [0x50, 0x4e, 0x47], 'PNG signature');
  assert.deepEqual([png.readUInt32BE(16), png.readUInt32BE(20)], [640, 480], 'IHDR width and height');
  assert.deepEqual(errors, []);
});
