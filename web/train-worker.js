// A Web Worker that trains one policy with its own wasm instance, so the page never freezes.
// Messages in:
//   {type: 'start', algo: 'bc' | 'ppo' | 'sac' | 'grpo' | 'rloo', tasks: [<task JSON text>…],
//    settings: {name: value…}, targetReturn?, evaluate?}
//     several tasks train one network where the algorithm trains sets (bc, ppo, sac). settings
//     are the learner's own, by the configuration's field names (total_steps, hidden,
//     learning_rate, demos, combiner, …; the wasm API's trainDefaults lists them), laid over the
//     page's starting configuration; an unknown or out-of-range one is an 'error' naming it.
//   a 'bc' start may carry share: {buffer: SharedArrayBuffer, index, workers}: this worker is
//     one of `workers` that split the recorded episodes, every minibatch and the final
//     evaluation, exchanging through `buffer` (every worker gets the same start message
//     otherwise). Worker 0 reports as usual; the others post only errors, and the page ends
//     them when worker 0 is done.
//   {type: 'stop'}  (ends the run after the current piece of work; the weights still arrive)
//   {type: 'snapshot'}  (asks for the policy as it stands, after the current piece of work)
// Messages out:
//   {type: 'record', record}  after every iteration / recorded episode / few BC steps
//                             (the CLI's JSON-lines record)
//   {type: 'evaluating', tasks, episodes}  training is over; the final policy is evaluated next
//   {type: 'evaluation', task, result}  with `evaluate: N` in 'start': the final policy on seeds
//                             0..N of each task ({success_rate, mean_return, episodes, first_seed})
//   {type: 'snapshot', weights: Uint8Array}  the policy as it stands, mid-run
//   {type: 'done', reason: 'target' | 'finished' | 'stopped', weights: Uint8Array}
//   {type: 'error', message, weights?: Uint8Array}  (a run that fails part-way, e.g. diverges,
//                             still sends its last good weights)
import init, { Trainer } from '../pkg/polyskill_web.js';

let stopRequested = false;
let snapshotRequested = false;

// Yields to the event loop without timer clamping, so a waiting 'stop' message is handled.
const channel = new MessageChannel();
const pauses = [];
channel.port1.onmessage = () => pauses.shift()?.();
const yieldToEvents = () => new Promise((resume) => { pauses.push(resume); channel.port2.postMessage(0); });

function makeTrainer(msg) {
  const trainer = new Trainer(msg.algo, msg.tasks, JSON.stringify(msg.settings ?? {}));
  if (msg.targetReturn != null) trainer.stopAtReturn(msg.targetReturn);
  return trainer;
}

async function train(msg) {
  await init();
  const trainer = makeTrainer(msg);
  if (msg.share) trainer.splitBetweenWorkers(msg.share.buffer, msg.share.index, msg.share.workers);
  const evaluationTasks = msg.evaluate ? msg.tasks : [];
  if (msg.share?.index > 0) {
    // A helper: the same work as worker 0, nothing to report; ended by the page. It records
    // and evaluates its share of the episodes, which worker 0 gathers.
    while (trainer.advance()) await yieldToEvents();
    for (const task of evaluationTasks) trainer.evaluate(task, 0n, msg.evaluate);
    return;
  }
  let reason = 'finished';
  for (;;) {
    let record;
    try {
      record = trainer.advance();
    } catch (e) {
      // Every run checks an update before applying it: what it holds now is the last good policy.
      const weights = trainer.weights();
      trainer.free();
      self.postMessage({ type: 'error', message: e?.message ?? String(e), weights }, [weights.buffer]);
      return;
    }
    if (!record) {
      if (trainer.reachedTarget) reason = 'target';
      break;
    }
    self.postMessage({ type: 'record', record });
    await yieldToEvents();
    if (stopRequested) { reason = 'stopped'; break; }
    if (snapshotRequested) {
      snapshotRequested = false;
      const weights = trainer.weights();
      self.postMessage({ type: 'snapshot', weights }, [weights.buffer]);
    }
  }
  const weights = trainer.weights();
  // A finished split run evaluates with its helpers, each taking a share of the seeds; a
  // stopped one evaluates alone.
  if (evaluationTasks.length) self.postMessage({ type: 'evaluating', tasks: evaluationTasks.length, episodes: msg.evaluate });
  for (const task of evaluationTasks) {
    const result = trainer.evaluate(task, 0n, msg.evaluate);
    self.postMessage({ type: 'evaluation', task: JSON.parse(task).id, result });
  }
  trainer.free();
  self.postMessage({ type: 'done', reason, weights }, [weights.buffer]);
}

self.onmessage = async ({ data }) => {
  if (data?.type === 'stop') { stopRequested = true; return; }
  if (data?.type === 'snapshot') { snapshotRequested = true; return; }
  if (data?.type !== 'start') return;
  stopRequested = false;
  try {
    await train(data);
  } catch (e) {
    self.postMessage({ type: 'error', message: e?.message ?? String(e) });
  }
};
