// A Web Worker for the benchmark page: one worker of a behaviour-cloning fit split over
// several workers (each its own wasm instance, gradients summed through a SharedArrayBuffer).
// Message in: {buffer: SharedArrayBuffer, index, workers, steps}.
// Message out: {report} (the BC throughput report, all workers together) or {error}.
import init, { benchmarkBcShared } from '../pkg/polyskill_web.js';

self.onmessage = async ({ data }) => {
  try {
    await init();
    self.postMessage({ report: benchmarkBcShared(data.buffer, data.index, data.workers, data.steps) });
  } catch (e) {
    self.postMessage({ error: e?.message ?? String(e) });
  }
};
