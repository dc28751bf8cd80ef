// A training run as files, and back: the export of a saved run (a zip holding NAME/metrics.jsonl,
// NAME/policy.safetensors and NAME/settings.json, made with fflate, vendored: web/vendor/fflate)
// and the import of runs from what a user drops or picks: such zips, a run's folder as
// `polyskill train` writes it (runs/NAME/metrics.jsonl, with a policy .safetensors put beside it),
// or loose files as the page's download links name them (LABEL.jsonl + LABEL.safetensors).
// Records stay the exact JSON lines they were, so export → import → export gives the same bytes.
// Every problem names the file (and line) it is in.

import { unzipSync, zipSync } from './vendor/fflate/fflate.js';
import { describe, newId } from './run-store.js';

/** The largest file (or zip entry) read, in bytes: more is refused by name, not loaded. */
export const MAX_FILE_BYTES = 256 * 1024 * 1024;

const text = (bytes) => new TextDecoder().decode(bytes);
const bytesOf = (string) => new TextEncoder().encode(string);
/** A run's description as its settings.json holds it: everything saved but the local id. */
function settingsJson(description) {
  const { id: _id, ...rest } = description;
  return `${JSON.stringify(rest, null, 2)}\n`;
}

/** A run's folder name inside a zip: its name with path separators and odd characters replaced. */
export const folderName = (name) => name.replace(/[^A-Za-z0-9._+-]+/g, '_').replace(/^\.+/, '_') || 'run';

/** The zip of one saved run ({description, lines, weights?}): deterministic, every entry dated
 * at the run's creation. */
export function exportZip({ description, lines, weights }) {
  const dir = folderName(description.name ?? description.label);
  const mtime = new Date(description.created ?? 0);
  const files = {
    [`${dir}/metrics.jsonl`]: [bytesOf(lines.map((l) => `${l}\n`).join('')), { mtime }],
    [`${dir}/settings.json`]: [bytesOf(settingsJson(description)), { mtime }],
  };
  if (weights) files[`${dir}/policy.safetensors`] = [weights, { mtime, level: 0 }];
  return zipSync(files, { level: 6 });
}

/** The `__metadata__` of a safetensors file (its values parsed where they are JSON), or an
 * Error naming `where`. */
export function safetensorsMetadata(bytes, where) {
  if (bytes.length < 8) throw new Error(`${where}: not a safetensors file (${bytes.length} bytes, shorter than its 8-byte header length)`);
  const length = Number(new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true));
  if (length > bytes.length - 8) throw new Error(`${where}: not a safetensors file (a header of ${length} bytes in a file of ${bytes.length})`);
  let header;
  try {
    header = JSON.parse(text(bytes.subarray(8, 8 + length)));
  } catch (e) {
    throw new Error(`${where}: not a safetensors file (its header is not JSON: ${e.message})`);
  }
  const parsed = {};
  for (const [key, value] of Object.entries(header.__metadata__ ?? {})) {
    try { parsed[key] = JSON.parse(value); } catch { parsed[key] = value; }
  }
  return parsed;
}

/** The JSON lines of a metrics file, each checked to be a record with a step count. */
function metricLines(bytes, where) {
  const lines = text(bytes).split('\n').map((l) => l.replace(/\r$/, '')).filter((l) => l.trim() !== '');
  if (lines.length === 0) throw new Error(`${where}: no records (an empty file)`);
  lines.forEach((line, i) => {
    let record;
    try {
      record = JSON.parse(line);
    } catch (e) {
      throw new Error(`${where} line ${i + 1}: not JSON (${e.message})`);
    }
    if (!record || typeof record !== 'object' || Array.isArray(record)) throw new Error(`${where} line ${i + 1}: not a JSON object`);
    if (!Number.isFinite(record.env_steps) && !Number.isFinite(record.step)) throw new Error(`${where} line ${i + 1}: a record needs "env_steps" or "step" (a number)`);
  });
  return lines;
}

/** Run name → the group of its seeds (NAME-sSEED → NAME). */
const groupOf = (name) => name.replace(/-s\d+$/, '');

/** A description for a run that came without settings.json (e.g. from `polyskill train`): the
 * algorithm and tasks from its weights' metadata, else from its records. */
function inferDescription(name, lines, metadata) {
  const records = lines.map((l) => JSON.parse(l));
  const taskIds = metadata?.tasks ?? records.findLast((r) => r.tasks?.length)?.tasks.map((t) => t.task) ?? [];
  const algo = metadata?.training?.algorithm ?? (records.some((r) => Number.isFinite(r.env_steps)) ? 'rl' : 'bc');
  return {
    name, label: name, group: groupOf(name), algo, task: taskIds.join(','), seed: metadata?.training?.config?.seed,
    settings: metadata?.training?.config, created: new Date().toISOString(), state: 'imported',
    statusText: 'imported', evaluations: [], watchTask: taskIds[0], source: 'file',
  };
}

/** Expands zips among `files` ([{path, bytes}]) into their entries (paths inside the zip). */
function expandZips(files) {
  return files.flatMap(({ path, bytes }) => {
    if (!/\.zip$/i.test(path)) return [{ path, bytes }];
    let too = null;
    let entries;
    try {
      entries = unzipSync(bytes, { filter: (f) => { if (f.originalSize > MAX_FILE_BYTES) too = f.name; return !too && !f.name.endsWith('/'); } });
    } catch (e) {
      throw new Error(`${path}: not a readable zip (${e.message ?? e})`);
    }
    if (too) throw new Error(`${path}: ${too} is over ${MAX_FILE_BYTES / 2 ** 20} MB unpacked; not read`);
    return Object.entries(entries).map(([name, data]) => ({ path: name, bytes: data }));
  });
}

/** The runs in `files` ([{path, bytes}], paths with "/" between folders): each a
 * {description, lines, weights?} with a fresh id. A folder with metrics.jsonl is one run named
 * after the folder (loose, after the one .safetensors beside it); other .jsonl files are one run each, named after the file, with the
 * .safetensors and .settings.json of the same name. Throws an Error naming the file at fault. */
export function runsFromFiles(files) {
  for (const { path, bytes } of files) {
    if (bytes.length > MAX_FILE_BYTES) throw new Error(`${path}: ${(bytes.length / 2 ** 20).toFixed(0)} MB is over ${MAX_FILE_BYTES / 2 ** 20} MB; not read`);
  }
  const all = expandZips(files);
  const byPath = new Map(all.map((f) => [f.path, f]));
  const dirOf = (path) => path.slice(0, path.lastIndexOf('/') + 1);
  const baseOf = (path) => path.slice(path.lastIndexOf('/') + 1);
  const runs = [];
  for (const metrics of all.filter((f) => /\.jsonl$/i.test(f.path))) {
    const dir = dirOf(metrics.path);
    const whole = baseOf(metrics.path) === 'metrics.jsonl';
    const stem = baseOf(metrics.path).replace(/\.jsonl$/i, '');
    const beside = (suffix) => all.filter((f) => dirOf(f.path) === dir && f.path.endsWith(suffix));
    const weightsFile = whole
      ? (byPath.get(`${dir}policy.safetensors`) ?? (beside('.safetensors').length === 1 ? beside('.safetensors')[0] : undefined))
      : byPath.get(`${dir}${stem}.safetensors`);
    if (whole && !weightsFile && beside('.safetensors').length > 1) {
      throw new Error(`${dir}: ${beside('.safetensors').length} .safetensors files beside metrics.jsonl; keep one (or name it policy.safetensors)`);
    }
    // A loose metrics.jsonl is named after its folder, else after the policy beside it.
    const name = whole ? (dir.split('/').filter(Boolean).at(-1) ?? weightsFile?.path.replace(/^.*\//, '').replace(/\.safetensors$/i, '') ?? 'metrics') : stem;
    const settingsFile = byPath.get(whole ? `${dir}settings.json` : `${dir}${stem}.settings.json`);
    const lines = metricLines(metrics.bytes, metrics.path);
    const metadata = weightsFile ? safetensorsMetadata(weightsFile.bytes, weightsFile.path) : null;
    let description;
    if (settingsFile) {
      try {
        description = JSON.parse(text(settingsFile.bytes));
      } catch (e) {
        throw new Error(`${settingsFile.path}: not JSON (${e.message})`);
      }
      if (!description || typeof description !== 'object' || typeof (description.name ?? description.label) !== 'string') {
        throw new Error(`${settingsFile.path}: not a run's settings (it needs "name" or "label")`);
      }
    } else {
      description = inferDescription(name, lines, metadata);
    }
    runs.push({ description: describe({ ...description, id: newId() }), lines, weights: weightsFile?.bytes });
  }
  if (runs.length === 0) {
    const names = files.map((f) => f.path).join(', ');
    throw new Error(`${names}: no run found (a run is a metrics.jsonl or NAME.jsonl, with its .safetensors beside it, or a zip of them)`);
  }
  return runs;
}

/** The files of a drop or a file picker as [{path, bytes}]; dropped folders are walked. */
export async function filesFrom(dataTransferOrFiles) {
  const out = [];
  const items = dataTransferOrFiles.items ? [...dataTransferOrFiles.items] : null;
  const entries = items?.map((i) => i.webkitGetAsEntry?.()).filter(Boolean) ?? [];
  if (entries.length > 0) {
    const walk = async (entry) => {
      if (entry.isFile) {
        const file = await new Promise((resolve, reject) => entry.file(resolve, reject));
        out.push({ path: entry.fullPath.replace(/^\//, ''), bytes: await readFile(file) });
      } else if (entry.isDirectory) {
        const reader = entry.createReader();
        for (;;) {
          const batch = await new Promise((resolve, reject) => reader.readEntries(resolve, reject));
          if (batch.length === 0) break;
          for (const child of batch) await walk(child);
        }
      }
    };
    for (const entry of entries) await walk(entry);
    return out;
  }
  for (const file of dataTransferOrFiles.files ?? dataTransferOrFiles) {
    out.push({ path: file.webkitRelativePath || file.name, bytes: await readFile(file) });
  }
  return out;
}

async function readFile(file) {
  if (file.size > MAX_FILE_BYTES) throw new Error(`${file.name}: ${(file.size / 2 ** 20).toFixed(0)} MB is over ${MAX_FILE_BYTES / 2 ** 20} MB; not read`);
  return new Uint8Array(await file.arrayBuffer());
}
