// Frame pacing of the gallery's 3D view in headless Chromium (WebGPU on SwiftShader, the
// software adapter): the player plays push under its policy for a few seconds at the page's
// 640×480 canvas and the intervals between animation frames are reported (JSON), after the
// page has timed its first frames and chosen its quality (a slow software adapter: basic). A benchmark,
// run by `cargo xtask bench-web`; its figure goes into docs/benchmarks/web.json.
import { launch } from './browser.mjs';

export async function framePacing(browser, base, seconds = 6) {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await page.addInitScript(() => {
    const times = [];
    const raf = window.requestAnimationFrame.bind(window);
    window.requestAnimationFrame = (callback) => raf((t) => { times.push(t); callback(t); });
    window.__frameTimes = times;
  });
  await page.goto(new URL('?task=push&policy=push-bc&seed=1', base).href);
  await page.waitForSelector('body[data-ready=true]', { timeout: 120_000 });
  // A software adapter's first frames are timed to choose its quality; measure after that.
  await page.waitForSelector('body[data-paced=true]', { timeout: 60_000 });
  const quality = await page.getAttribute('body', 'data-quality');
  const backend = await page.textContent('#render-backend');
  const canvas = await page.$eval('#scene', (c) => [c.width, c.height]);
  await page.evaluate(() => { window.__frameTimes.length = 0; });
  await page.waitForTimeout(seconds * 1000);
  const times = await page.evaluate(() => window.__frameTimes.slice());
  await page.close();
  const intervals = times.slice(1).map((t, i) => t - times[i]).sort((a, b) => a - b);
  const at = (q) => intervals[Math.round((intervals.length - 1) * q)];
  return {
    backend, quality, canvas, frames: intervals.length,
    median_ms: +at(0.5).toFixed(1), p95_ms: +at(0.95).toFixed(1), max_ms: +at(1).toFixed(1),
    over_50_ms: intervals.filter((d) => d > 50).length,
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const browser = await launch();
  try {
    console.log(JSON.stringify(await framePacing(browser, process.env.POLYSKILL_URL), null, 1));
  } finally {
    await browser.close();
  }
}
