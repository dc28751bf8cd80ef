// Two minutes of the soak (soak.mjs): the gallery plays push episode after episode while the
// train page trains PPO run after run in workers; the pages' memory (JS heap after a full
// garbage collection plus wasm linear memory) must end within 10% of what it was after the
// first minute, with no console or page errors. `cargo xtask soak --minutes 30` is the long run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { soak } from './soak.mjs';

test('two minutes of playing and training in workers do not grow the pages\' memory', async () => {
  const { summary, samples, errors } = await soak({ minutes: 2, sampleSeconds: 10 });
  console.log(`soak: ${JSON.stringify(summary)}`);
  assert.ok(summary.episodes >= 5 && summary.runs >= 3, `too little work to judge: ${JSON.stringify(summary)}`);
  assert.ok(samples.length >= 10, `${samples.length} samples`);
  assert.ok(summary.ratio <= 1.1, `memory went from ${summary.after_first_minute_bytes} bytes after the first minute to ${summary.end_bytes} at the end`);
  assert.deepEqual(errors, []);
});
