// Training runs kept in the browser's IndexedDB (through idb, vendored: web/vendor/idb), so they
// outlive the page. Three object stores in the database "polyskill-runs":
//   runs     a run's description by id: {id, name, label, group, algo, task, seed, compareItem,
//            settings, created, state, statusText, evaluations, watchTask, source}
//   records  its metrics, one JSON line (text, exactly as exported) per key [id, index]
//   weights  its final policy (safetensors bytes) by id
// A running run is saved as it goes: every record is its own write, so a write that fails
// (the storage quota is full) loses nothing saved before it; after a failure the run stops
// saving and the page is told once, by name and reason.

import { openDB } from './vendor/idb/idb.js';

const DB_NAME = 'polyskill-runs';
const DB_VERSION = 1;

/** The fields of a run's description that are saved (everything else on a page run is view). */
export const SAVED_FIELDS = ['id', 'name', 'label', 'group', 'algo', 'task', 'seed', 'compareItem', 'settings', 'created', 'state', 'statusText', 'evaluations', 'watchTask', 'source'];

/** A run's description as saved: its `SAVED_FIELDS`, structured-clone safe. */
export const describe = (run) => JSON.parse(JSON.stringify(Object.fromEntries(SAVED_FIELDS.filter((k) => run[k] !== undefined).map((k) => [k, run[k]]))));

/** A new run id: the time and a random part, so ids sort by creation. */
export const newId = () => `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;

/** Why a write failed, for people: the quota named as such. */
export function storageProblem(error) {
  const name = error?.name ?? error?.inner?.name;
  if (name === 'QuotaExceededError') return 'the browser\'s storage quota for this page is full (QuotaExceededError)';
  return `${name ?? 'Error'}: ${error?.message ?? String(error)}`;
}

/** The records of run `id` as a key range over [id, index]. */
const recordRange = (id) => IDBKeyRange.bound([id, 0], [id, Infinity]);

/** The runs saved in this browser. */
export class RunStore {
  constructor(db) {
    this.db = db;
  }

  /** Opens (creating on first use) the database; throws where the browser has no IndexedDB. */
  static async open() {
    if (typeof indexedDB === 'undefined') throw new Error('this browser has no IndexedDB');
    const db = await openDB(DB_NAME, DB_VERSION, {
      upgrade(database) {
        database.createObjectStore('runs', { keyPath: 'id' });
        database.createObjectStore('records');
        database.createObjectStore('weights');
      },
    });
    return new RunStore(db);
  }

  /** Every saved run's description, oldest first. */
  async list() {
    const all = await this.db.getAll('runs');
    return all.sort((a, b) => (a.created < b.created ? -1 : a.created > b.created ? 1 : 0));
  }

  /** Run `id`'s records as JSON lines (text), in order. */
  records(id) {
    return this.db.getAll('records', recordRange(id));
  }

  /** Run `id`'s weights (safetensors bytes), or undefined. */
  async weights(id) {
    const bytes = await this.db.get('weights', id);
    return bytes && new Uint8Array(bytes);
  }

  /** Writes run `description` (by its id). */
  put(description) {
    return this.db.put('runs', description);
  }

  /** Changes fields of run `id`'s description. */
  async update(id, changes) {
    const tx = this.db.transaction('runs', 'readwrite');
    const saved = await tx.store.get(id);
    if (!saved) throw new Error(`no saved run "${id}"`);
    await tx.store.put({ ...saved, ...changes });
    await tx.done;
  }

  /** Saves record number `index` (a JSON line) of run `id`. */
  putRecord(id, index, line) {
    return this.db.put('records', line, [id, index]);
  }

  /** Saves run `id`'s weights. */
  putWeights(id, bytes) {
    return this.db.put('weights', bytes, id);
  }

  /** Saves a whole run at once ({description, lines, weights?}), all or nothing. */
  async add({ description, lines, weights }) {
    const tx = this.db.transaction(['runs', 'records', 'weights'], 'readwrite');
    tx.objectStore('runs').put(description);
    lines.forEach((line, index) => tx.objectStore('records').put(line, [description.id, index]));
    if (weights) tx.objectStore('weights').put(weights, description.id);
    await tx.done;
  }

  /** Deletes run `id`: its description, records and weights, in one transaction. */
  async delete(id) {
    const tx = this.db.transaction(['runs', 'records', 'weights'], 'readwrite');
    tx.objectStore('runs').delete(id);
    tx.objectStore('records').delete(recordRange(id));
    tx.objectStore('weights').delete(id);
    await tx.done;
  }

  /** Saves `run` (a page run with an `id`) as it trains: the returned saver's writes happen in
   * order; the first failure stops the run's saving and calls `failed(run, problem)` once. */
  track(run, failed) {
    let chain = Promise.resolve();
    let broken = false;
    const then = (write) => {
      chain = chain.then(() => (broken ? undefined : write())).catch((error) => {
        if (broken) return;
        broken = true;
        run.saveProblem = storageProblem(error);
        failed(run, run.saveProblem);
      });
      return chain;
    };
    then(() => this.put(describe(run)));
    return {
      /** Saves record `index` (its JSON line). */
      record: (index, line) => then(() => this.putRecord(run.id, index, line)),
      /** Saves the run's description as it stands (state, evaluations). */
      describe: () => then(() => this.put(describe(run))),
      /** Saves the final (or last good) weights and the description. */
      finish: (weights) => then(async () => {
        if (weights) await this.putWeights(run.id, weights);
        await this.put(describe(run));
      }),
      /** Resolves when every write asked for so far has settled. */
      settled: () => chain,
    };
  }
}
