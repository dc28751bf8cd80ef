// `cargo xtask bench-web`: opens web/bench.html in headless Chromium and prints its JSON report,
// with onnxruntime-web timed beside our wasm inference on the same network in the same page
// (reach-bc, 39→256→256→4, exported by our ONNX exporter; both from the raw observation,
// normalisation included; one thread each).
import { launch, routeOnnxruntime } from './browser.mjs';

/** Microseconds per call at batch 1 and 1024, ours and onnxruntime-web's. Runs in the page. */
async function sameNetwork() {
  const m = await import('/pkg/polyskill_web.js');
  await m.default();
  const ort = await import('/ort/ort.wasm.min.mjs');
  ort.env.wasm.numThreads = 1;
  ort.env.wasm.wasmPaths = '/ort/';
  const policy = new m.Policy(new Uint8Array(await (await fetch('/web/weights/reach-bc.safetensors')).arrayBuffer()));
  const session = await ort.InferenceSession.create(policy.toOnnx(), { executionProviders: ['wasm'] });
  const out = { network: policy.info().architecture.sizes.join('→'), onnxruntime_web: ort.env.versions?.web ?? 'unknown' };
  for (const batch of [1, 1024]) {
    const obs = Float32Array.from({ length: batch * 39 }, (_, i) => Math.sin(i) * 0.3);
    const feed = { observation: new ort.Tensor('float32', obs, [batch, 39]) };
    const iterations = batch === 1 ? 2000 : 100;
    const time = async (call) => {
      for (let i = 0; i < 50; i++) await call();
      const start = performance.now();
      for (let i = 0; i < iterations; i++) await call();
      return ((performance.now() - start) / iterations) * 1000;
    };
    const ours = await time(() => policy.act(obs));
    const theirs = await time(() => session.run(feed));
    out[`batch_${batch}`] = { polyskill_us: +ours.toFixed(1), onnxruntime_web_us: +theirs.toFixed(1), ratio: +(theirs / ours).toFixed(2) };
  }
  return out;
}

const browser = await launch();
try {
  const page = await browser.newPage();
  await routeOnnxruntime(page);
  await page.goto(process.env.POLYSKILL_URL);
  await page.waitForSelector('body[data-done]', { timeout: 300_000 });
  const text = await page.textContent('#report');
  if ((await page.getAttribute('body', 'data-done')) !== 'true') {
    console.log(text);
    process.exit(1);
  }
  const report = JSON.parse(text);
  report.same_network_as_onnxruntime_web = await page.evaluate(sameNetwork);
  console.log(JSON.stringify(report, null, 2));
} finally {
  await browser.close();
}
