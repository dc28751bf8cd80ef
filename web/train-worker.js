// A Web Worker that trains one policy with its own wasm instance, so the page never freezes.
// Messages in:  {type: 'start', algo: 'ppo', task: <task JSON text>, seed, totalSteps, targetReturn}
//               {type: 'stop'}  (ends the run after the current iteration; weights still arrive)
// Messages out: {type: 'iteration', record}  after every iteration (the CLI's JSON-lines record)
//               {type: 'done', reason: 'target' | 'budget' | 'stopped', weights: Uint8Array}
//               {type: 'error', message}
import init, { PpoTrainer } from '../pkg/polyskill_web.js';

let stopRequested = false;

// Yields to the event loop without timer clamping, so a waiting 'stop' message is handled.
const channel = new MessageChannel();
const pauses = [];
channel.port1.onmessage = () => pauses.shift()?.();
const yieldToEvents = () => new Promise((resume) => { pauses.push(resume); channel.port2.postMessage(0); });

async function train(msg) {
  if (msg.algo !== 'ppo') throw new Error(`algorithm "${msg.algo}" cannot train in a worker yet (available: ppo)`);
  await init();
  const trainer = new PpoTrainer(msg.task, BigInt(msg.seed ?? 0), msg.totalSteps ?? 500_000);
  let reason = 'budget';
  for (;;) {
    const record = trainer.iterate();
    if (!record) break;
    self.postMessage({ type: 'iteration', record });
    if (msg.targetReturn != null && record.episodes >= 10 && record.mean_return >= msg.targetReturn) { reason = 'target'; break; }
    await yieldToEvents();
    if (stopRequested) { reason = 'stopped'; break; }
  }
  const weights = trainer.weights();
  trainer.free();
  self.postMessage({ type: 'done', reason, weights }, [weights.buffer]);
}

self.onmessage = async ({ data }) => {
  if (data?.type === 'stop') { stopRequested = true; return; }
  if (data?.type !== 'start') return;
  stopRequested = false;
  try {
    await train(data);
  } catch (e) {
    self.postMessage({ type: 'error', message: e?.message ?? String(e) });
  }
};
