// `cargo xtask bench-web`: opens web/bench.html in headless Chromium and prints its JSON report.
import { launch } from './browser.mjs';

const browser = await launch();
try {
  const page = await browser.newPage();
  await page.goto(process.env.POLYSKILL_URL);
  await page.waitForSelector('body[data-done]', { timeout: 300_000 });
  const text = await page.textContent('#report');
  console.log(text);
  if ((await page.getAttribute('body', 'data-done')) !== 'true') process.exitCode = 1;
} finally {
  await browser.close();
}
