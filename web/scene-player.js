// What every page that shows a task shares (the gallery's player, the editor's preview and
// <polyskill-player>): the one place the wasm package is loaded, the fetch and name helpers,
// and ScenePlayer — a task's Player drawn with WebGPU (wgpu's SceneView) or, without it or
// after a lost device, with the 2D fallback, and stepped in real time from the task's own
// timestep × frame_skip (cart-pole 50 steps/s, acrobot 5, the manipulation tasks 80).

import init, { Player, SceneView } from '../pkg/polyskill_web.js';
import { drawFallback } from './fallback2d.js';

let loading = null;
/** Initialises the wasm package once for the whole page; every caller awaits the same load. */
export function loadWasm() {
  loading ??= init();
  return loading;
}

/** A shipped task's or policy's name: lower-case letters, digits, - and _ (at most 64). */
export const NAME = /^[a-z0-9][a-z0-9_-]{0,63}$/;

/** Fetches `url` (relative to `base` when given); throws "WHAT could not be fetched: …" naming
 * the status and the address when it fails. */
export async function fetchChecked(url, what, base) {
  const address = base ? new URL(url, base) : url;
  let response;
  try { response = await fetch(address); } catch (e) { throw new Error(`${what} could not be fetched: ${e.message} (${url})`); }
  if (!response.ok) throw new Error(`${what} could not be fetched: ${response.status} ${response.statusText} (${url})`);
  return response;
}

/** Frames slower than this (median, ms) on a software adapter switch the 3D view to its basic
 * quality (no shadows): the page's frame-time target. */
export const SLOW_FRAME_MS = 50;
/** Frame intervals measured before deciding on the quality. */
const PACE_FRAMES = 24;

/** A task on a pair of canvases (WebGPU and 2D), stepped in real time. */
export class ScenePlayer {
  /** `gpu` and `flat` are the two canvases (one is shown); `onFallback(reason, kind)` is told
   * when drawing switches to 2D: kind 'unavailable' (no WebGPU here), 'lost' (the device was
   * lost; reason says why) or 'failed' (a draw failed); `onPaced(quality, why)` once a
   * software adapter's frames are timed (see pace): `why` says why the view dropped to its
   * basic quality, or is null when it kept its quality. */
  constructor({ gpu, flat, onFallback = () => {}, onPaced = () => {} }) {
    Object.assign(this, {
      gpu, flat, onFallback, onPaced, view: null, player: null, accumulator: 0,
      overlays: { trail: false, contacts: false }, pacing: { last: null, intervals: [], decided: false },
    });
  }

  /** Draws at quality `name` ('full', 'software' or 'basic') from now on, as chosen by the
   * page's user: the frames are then not timed to choose one. */
  setQuality(name) {
    this.view?.setQuality(name);
    this.pacing.decided = true;
  }

  /** Whether the frames still have to be timed (a software WebGPU adapter, not yet timed). */
  get pacingPending() { return !!this.view?.software && !this.pacing.decided; }

  /** Times the frames a software adapter draws: when the median of the first PACE_FRAMES
   * intervals between draws (gaps over a second, a paused tab, are skipped) is over
   * SLOW_FRAME_MS, drops the view to its basic quality once and says why (onPaced). */
  pace() {
    if (!this.view?.software || this.pacing.decided) return;
    const now = performance.now();
    const gap = this.pacing.last === null ? null : now - this.pacing.last;
    this.pacing.last = now;
    if (gap === null || gap > 1000) return;
    this.pacing.intervals.push(gap);
    if (this.pacing.intervals.length < PACE_FRAMES) return;
    this.pacing.decided = true;
    const median = [...this.pacing.intervals].sort((a, b) => a - b)[PACE_FRAMES >> 1];
    if (median > SLOW_FRAME_MS && this.view.qualityName !== 'basic') {
      this.view.setQuality('basic');
      this.onPaced(this.view.quality, `frames took ${median.toFixed(0)} ms on this software adapter, over the ${SLOW_FRAME_MS} ms target`);
    } else {
      this.onPaced(this.view.quality, null);
    }
  }

  /** Draws the debug overlays asked for, from the next frame on: `trail` (the hand's path this
   * episode) and `contacts` (where bodies touch). */
  setOverlays({ trail = false, contacts = false }) {
    this.overlays = { trail: !!trail, contacts: !!contacts };
    this.view?.setOverlays(this.overlays.trail, this.overlays.contacts);
  }

  /** Creates the WebGPU view; without WebGPU, shows the 2D canvas and says why. */
  async attach() {
    try {
      this.view = await SceneView.create(this.gpu);
      this.view.setOverlays(this.overlays.trail, this.overlays.contacts);
    } catch (e) {
      this.fallBack(navigator.gpu ? `WebGPU unavailable: ${e?.message ?? e}` : 'this browser has no WebGPU', 'unavailable');
    }
    return this;
  }

  /** The WebGPU adapter's description, or null when drawing in 2D. */
  get adapter() { return this.view?.adapter ?? null; }

  /** What the 3D view draws at (multisampling, shadow map), or null when drawing in 2D. */
  get quality() { return this.view?.quality ?? null; }

  /** Loads a task (JSON text; a broken one throws with its issues) and resets to `seed`. */
  load(taskText, seed = 0) {
    const player = new Player(taskText);
    this.player?.free();
    this.player = player;
    this.reset(seed);
    return player;
  }

  /** Starts the episode of `seed` again. */
  reset(seed) {
    this.player.reset(BigInt(seed));
    this.accumulator = 0;
  }

  /** Steps owed after `dt` seconds of wall time at `speed` × real time (at most 0.1 s of
   * time is counted, so a tab left in the background does not race ahead). */
  due(dt, speed = 1) {
    this.accumulator += (Math.min(0.1, Math.max(0, dt)) * speed) / this.player.stepSeconds;
    const n = Math.floor(this.accumulator);
    this.accumulator -= n;
    return n;
  }

  /** Draws the scene, from `camera` ({eye, target}) when given, else the task's own view. */
  draw(camera) {
    if (!this.player) return;
    if (this.view) {
      try {
        if (camera) this.view.setCamera(camera.eye, camera.target);
        this.view.draw(this.player);
        this.pace();
        return;
      } catch (e) {
        const lost = this.view.lost;
        if (lost) this.fallBack(lost, 'lost');
        else this.fallBack(`WebGPU drawing failed: ${e.message}`, 'failed');
      }
    }
    const { trail, contacts } = this.overlays;
    drawFallback(this.flat, this.player.visuals(), camera ?? this.player.camera(), (trail || contacts) ? this.player.overlayPoints(trail, contacts) : null);
  }

  fallBack(reason, kind) {
    this.view = null;
    this.gpu.hidden = true;
    this.flat.hidden = false;
    this.onFallback(reason, kind);
  }
}
