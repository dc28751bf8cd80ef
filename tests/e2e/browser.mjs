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

/** Opens `path` and collects console errors and page errors. */
export async function open(browser, path) {
  const page = await browser.newPage({ viewport: { width: 1100, height: 720 } });
  const errors = [];
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(new URL(path, BASE).href);
  return { page, errors };
}
