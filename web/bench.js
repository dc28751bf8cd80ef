// The benchmark page's script (bench.html): runs every wasm benchmark in this tab and prints
// the JSON report; a file of its own so the page needs no inline script under the CSP.
import init, { benchmark, benchmarkLearn, benchmarkMultiTask, benchmarkSuite } from '../pkg/polyskill_web.js';
import { sharedWorkBuffer } from './shared-buffer.js';
const out = document.getElementById('report');
// BC throughput with each minibatch split over `workers` Web Workers; every worker times
// the same steps, and the slowest one's figure is the honest one.
async function sharedBc(workers, steps) {
  const buffer = sharedWorkBuffer(workers);
  const reports = await Promise.all([...Array(workers).keys()].map((index) => new Promise((resolve, reject) => {
    const worker = new Worker(new URL('bench-worker.js', import.meta.url), { type: 'module' });
    worker.onmessage = ({ data }) => { worker.terminate(); data.error ? reject(new Error(data.error)) : resolve(data.report); };
    worker.onerror = (e) => { worker.terminate(); reject(new Error(e.message)); };
    worker.postMessage({ buffer, index, workers, steps });
  })));
  return reports.reduce((slowest, r) => (r.samples_per_s < slowest.samples_per_s ? r : slowest));
}
document.body.dataset.running = 'true';
try {
  await init();
  const task = await (await fetch('tasks/reach.json')).text();
  const report = benchmark(task, 20000);
  const names = (await (await fetch('tasks.json')).json()).tasks;
  const texts = await Promise.all(names.map(async (n) => (await fetch(`tasks/${n}.json`)).text()));
  report.suite = benchmarkSuite(texts, 5000);
  report.learn = benchmarkLearn(await (await fetch('tasks/cart-pole.json')).text());
  report.learn.multitask_bc_10_tasks = benchmarkMultiTask(10, 100);
  report.learn.bc_shared = self.crossOriginIsolated
    ? await sharedBc(2, 1000)
    : 'not measured: the page is not cross-origin isolated (no SharedArrayBuffer)';
  report.target = 'wasm32 in ' + navigator.userAgent.match(/(Headless)?Chrom(e|ium)\/[\d.]+/)?.[0];
  out.textContent = JSON.stringify(report, null, 2);
  document.body.dataset.done = 'true';
} catch (e) {
  out.textContent = 'benchmark failed: ' + e.message;
  document.body.dataset.done = 'error';
}
