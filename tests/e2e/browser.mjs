// Shared Playwright set-up for the e2e suite: Debian's Chromium, headless, with WebGPU on
// SwiftShader (never a downloaded browser).
import { chromium } from 'playwright-core';

export const BASE = process.env.POLYSKILL_URL ?? 'http://127.0.0.1:8080/';
export const ARTIFACTS = process.env.POLYSKILL_ARTIFACTS ?? new URL('./artifacts/', import.meta.url).pathname;

export async function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: [
      '--no-sandbox', '--enable-unsafe-webgpu', '--enable-features=Vulkan', '--use-vulkan=swiftshader',
      '--use-angle=swiftshader', '--enable-unsafe-swiftshader', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
    ],
  });
}

/** Opens `path` and collects console errors, page errors and Content-Security-Policy
 * violations (every violation is also a console error, so a test that expects no errors
 * expects no violations either); `response` is the document's HTTP response. `files` maps
 * URL paths (`/elsewhere/task.json`) to JSON bodies the page gets instead of asking the server (test fixtures,
 * which the server does not serve). `before` runs in the page before its own scripts. */
export async function open(browser, path, files = {}, before = null) {
  const page = await browser.newPage({ viewport: { width: 1100, height: 720 } });
  for (const [path, body] of Object.entries(files)) {
    await page.route((url) => url.pathname === path, (route) => route.fulfill({ contentType: 'application/json', body }));
  }
  const errors = [];
  const violations = [];
  await page.addInitScript(() => {
    addEventListener('securitypolicyviolation', (e) => {
      console.error(`CSP violation: ${e.violatedDirective} blocked ${e.blockedURI || 'an inline resource'} (${e.sourceFile}:${e.lineNumber})`);
    });
  });
  page.on('console', (m) => {
    if (m.type() !== 'error') return;
    errors.push(m.text());
    if (m.text().startsWith('CSP violation')) violations.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(String(e)));
  if (before) await page.addInitScript(before);
  const response = await page.goto(new URL(path, BASE).href);
  return { page, errors, violations, response };
}

/** Serves onnxruntime-web (the e2e suite's npm package, not part of the playground) to `page`
 *  under `/ort/`: same-origin, so the page's Content-Security-Policy applies to it as to ours. */
export async function routeOnnxruntime(page) {
  const dist = new URL('./node_modules/onnxruntime-web/dist/', import.meta.url);
  const types = { mjs: 'text/javascript', js: 'text/javascript', wasm: 'application/wasm', map: 'application/json' };
  await page.route((url) => url.pathname.startsWith('/ort/'), async (route) => {
    const name = new URL(route.request().url()).pathname.slice('/ort/'.length);
    if (!/^[\w.-]+$/.test(name)) return route.fulfill({ status: 404, body: 'not found' });
    const { readFile } = await import('node:fs/promises');
    const body = await readFile(new URL(name, dist)).catch(() => null);
    if (!body) return route.fulfill({ status: 404, body: 'not found' });
    return route.fulfill({
      body, contentType: types[name.split('.').pop()] ?? 'application/octet-stream',
      headers: { 'cross-origin-resource-policy': 'same-origin' },
    });
  });
}
