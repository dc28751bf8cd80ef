// A shipped policy leaves the page as ONNX and comes back in onnxruntime-web: the gallery's
// "ONNX" link downloads the model our exporter makes, and onnxruntime-web (wasm, in the same
// page) plays whole episodes with it, choosing at every step the action our own wasm inference
// chooses (to 1e-5; a discrete choice exactly), single-task, multi-head multi-task and discrete.
import { test, after, afterEach, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { launch, open, routeOnnxruntime, ARTIFACTS } from './browser.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });
afterEach(async () => { for (const context of browser.contexts()) await context.close(); });

/** Plays one episode of `task` (seed 0) in the page with onnxruntime-web acting; per step it
 *  compares with the wasm policy's action. Runs in the page. */
async function playWithOnnxruntime({ name, task }) {
  const m = await import('/pkg/polyskill_web.js');
  await m.default();
  const ort = await import('/ort/ort.wasm.min.mjs');
  ort.env.wasm.numThreads = 1;
  ort.env.wasm.wasmPaths = '/ort/';
  const bytes = new Uint8Array(await (await fetch(`/web/weights/${name}.safetensors`)).arrayBuffer());
  const policy = new m.Policy(bytes);
  const info = policy.info();
  const session = await ort.InferenceSession.create(policy.toOnnx(), { executionProviders: ['wasm'] });
  const player = new m.Player(await (await fetch(`/web/tasks/${task}.json`)).text());
  let obs = player.reset(0n);
  let worst = 0;
  let steps = 0;
  let ret = 0;
  for (;;) {
    const feed = { observation: new ort.Tensor('float32', Float32Array.from(obs), [1, obs.length]) };
    if (session.inputNames.includes('task')) {
      feed.task = new ort.Tensor('int64', BigInt64Array.of(BigInt(info.tasks.indexOf(task))), [1]);
    }
    const out = (await session.run(feed)).action;
    const action = out.type === 'int64' ? Float32Array.from(out.data, Number) : out.data;
    const ours = policy.act(Float32Array.from(obs), task);
    for (let i = 0; i < ours.length; i++) worst = Math.max(worst, Math.abs(ours[i] - action[i]));
    const step = player.step(action);
    steps += 1;
    ret += step.reward;
    obs = step.observation;
    if (step.terminated || step.truncated) break;
  }
  return { worst, steps, ret, success: player.episodeSuccess, inputs: session.inputNames, output: session.outputNames };
}

test('onnxruntime-web plays exported policies in the page with our actions', async () => {
  const { page, errors } = await open(browser, '?task=reach&policy=reach-bc');
  await routeOnnxruntime(page);
  await page.waitForSelector('#policy-downloads:not([hidden])');
  for (const [name, task, expect] of [
    ['reach-bc', 'reach', { success: true }],
    ['mt10-bc-multi-head', 'push', { success: true, inputs: ['observation', 'task'] }],
    ['cart-pole-ppo', 'cart-pole', { ret: 500 }],
  ]) {
    const r = await page.evaluate(playWithOnnxruntime, { name, task });
    console.log(name, task, JSON.stringify(r));
    assert.ok(r.worst <= 1e-5, `${name} on ${task}: onnxruntime-web differs from our inference by ${r.worst}`);
    if (expect.success) assert.equal(r.success, true, `${name} solves ${task} under onnxruntime-web`);
    if (expect.ret) assert.equal(r.ret, expect.ret, `${name} balances the whole episode`);
    if (expect.inputs) assert.deepEqual(r.inputs, expect.inputs);
  }
  assert.deepEqual(errors, []);
});

test("the gallery's ONNX link downloads the model of the shown policy", async () => {
  const { page, errors } = await open(browser, '?task=push&policy=push-sac');
  await page.waitForSelector('#policy-downloads:not([hidden])');
  assert.equal(await page.getAttribute('#download-safetensors', 'download'), 'push-sac.safetensors');
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download-onnx')]);
  assert.equal(download.suggestedFilename(), 'push-sac.onnx');
  const file = `${ARTIFACTS}/push-sac.onnx`;
  await download.saveAs(file);
  const model = await readFile(file);
  // An ONNX ModelProto starts with field 1 (ir_version, varint 8) and names its producer.
  assert.deepEqual([...model.subarray(0, 2)], [0x08, 0x08]);
  assert.ok(model.includes(Buffer.from('polyskill')), 'producer and metadata name polyskill');
  const weights = 4 * (39 * 128 + 128 * 128 + 128 * 4);
  assert.ok(model.length > weights, `a 39→128→128→4 network's ${weights} bytes of weights are in it (${model.length} bytes)`);
  assert.deepEqual(errors, []);
});
