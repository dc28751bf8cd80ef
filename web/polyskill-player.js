// <polyskill-player>: a live Polyskill task and policy as one custom element, for docs pages.
//
//   <script type="module" src="https://example.org/polyskill/web/polyskill-player.js"></script>
//   <polyskill-player task="push" policy="push-bc" seed="1" autoplay controls></polyskill-player>
//
// Attributes: task (a file in web/tasks/), policy (in web/policies.json; omitted: the task's
// expert), seed, autoplay, controls, and the debug view's trail (the hand's path) and contacts
// (where bodies touch). Task and weight files are fetched next to this module,
// so a static copy of web/ and pkg/ is all a host needs. Every element on a page shares one
// wasm module; each draws with WebGPU when it can and with a 2D canvas otherwise, sizes
// itself to its container (4:3), and shows any error inside itself. It sets data-ready when
// loaded, data-success="true" once the episode succeeds and data-render="webgpu" or "2d" as
// it draws (a lost GPU device switches it to 2D and says why on the console), and on a
// software WebGPU adapter too slow for shadows data-quality="basic". It plays in real
// time (the task's timestep × frame_skip per step). `element.watch(bytes, label)` plays a
// policy given as safetensors bytes instead (the train page shows a run's current weights).

import { Policy } from '../pkg/polyskill_web.js';
import { NAME, ScenePlayer, fetchChecked, loadWasm } from './scene-player.js';

/** Fetches a file that lives next to this module (a host copies web/ and pkg/ as they are). */
const fetchBeside = (path, what) => fetchChecked(path, what, import.meta.url);

const STYLE = `
  :host { display: block; width: 100%; font: 13px system-ui, sans-serif; color: #1d2330; }
  canvas { display: block; width: 100%; aspect-ratio: 4 / 3; border-radius: 6px; background: #dbe5f2; }
  canvas[hidden], [hidden] { display: none; }
  .bar { display: flex; gap: 0.5rem; align-items: center; flex-wrap: wrap; margin-top: 0.3rem; }
  .bar button { font: inherit; padding: 0.2rem 0.7rem; }
  .status { font-variant-numeric: tabular-nums; }
  .ok { color: #17803d; font-weight: 600; }
  .error { margin-top: 0.3rem; padding: 0.4rem 0.6rem; border-radius: 4px; background: #fde8e8; color: #8a1c1c; white-space: pre-wrap; }
`;

/** The player's shadow-DOM styles, one sheet shared by every player on the page. */
const SHEET = new CSSStyleSheet();
SHEET.replaceSync(STYLE);

class PolyskillPlayer extends HTMLElement {
  connectedCallback() {
    if (this.shadowRoot) return;
    const root = this.attachShadow({ mode: 'open' });
    // A constructed stylesheet, not a <style> element: the page's CSP allows no inline style.
    root.adoptedStyleSheets = [SHEET];
    root.innerHTML = `<canvas class="gpu" aria-label="3D view of the task"></canvas>
      <canvas class="flat" hidden aria-label="2D view of the task"></canvas>
      <div class="bar">
        <span class="controls" hidden><button class="play" type="button">Play</button>
        <button class="reset" type="button">Reset</button></span>
        <span class="status" role="status">loading…</span>
      </div>
      <div class="error" role="alert" hidden></div>`;
    this.parts = Object.fromEntries(['gpu', 'flat', 'controls', 'play', 'reset', 'status', 'error']
      .map((c) => [c, root.querySelector(`.${c}`)]));
    this.playing = false;
    this.start().catch((e) => this.fail(e.message));
  }

  disconnectedCallback() {
    this.playing = false;
    this.resizer?.disconnect();
    cancelAnimationFrame(this.frameId);
  }

  fail(message) {
    this.parts.error.textContent = `Polyskill player: ${message}`;
    this.parts.error.hidden = false;
    this.parts.status.textContent = '';
    this.dataset.ready = 'error';
  }

  /** Reads a name attribute, checking its form. */
  name(attribute) {
    const value = this.getAttribute(attribute);
    if (value !== null && !NAME.test(value)) throw new Error(`${attribute}="${value}" is not a valid name`);
    return value;
  }

  async start() {
    const task = this.name('task');
    if (!task) throw new Error('the task attribute is missing (e.g. task="reach")');
    const policyName = this.name('policy');
    const seedText = this.getAttribute('seed') ?? '0';
    this.seed = Number(seedText);
    if (!Number.isInteger(this.seed) || this.seed < 0) throw new Error(`seed="${seedText}" must be a whole number ≥ 0`);
    await loadWasm();
    const text = await (await fetchBeside(`./tasks/${task}.json`, `task "${task}"`)).text();
    this.scene = new ScenePlayer({
      gpu: this.parts.gpu,
      flat: this.parts.flat,
      onFallback: (reason, kind) => { if (kind !== 'unavailable') console.warn(`<polyskill-player>: drawing in 2D from now on: ${reason}`); },
      onPaced: (quality, why) => {
        this.dataset.quality = this.scene.view.qualityName;
        if (why) console.info(`<polyskill-player>: ${quality}: ${why}`);
      },
    });
    this.player = this.scene.load(text, this.seed);
    if (this.pending) {
      this.usePending();
    } else if (policyName) {
      const bytes = new Uint8Array(await (await fetchBeside(`./weights/${policyName}.safetensors`, `policy "${policyName}"`)).arrayBuffer());
      this.policy = new Policy(bytes);
    } else if (!this.player.hasExpert) {
      throw new Error(`task "${task}" has no expert; give a policy attribute`);
    }
    this.actor = policyName ?? 'task expert';
    this.fitToContainer();
    this.resizer = new ResizeObserver(() => this.fitToContainer());
    this.resizer.observe(this);
    this.scene.setOverlays({ trail: this.hasAttribute('trail'), contacts: this.hasAttribute('contacts') });
    await this.scene.attach();
    this.reset();
    if (this.hasAttribute('controls')) {
      this.parts.controls.hidden = false;
      this.parts.play.addEventListener('click', () => this.setPlaying(!this.playing));
      this.parts.reset.addEventListener('click', () => { this.reset(); this.draw(); });
    }
    this.dataset.ready = 'true';
    this.setPlaying(this.hasAttribute('autoplay'));
    this.draw();
    this.frameId = requestAnimationFrame((t) => this.frame(t));
  }

  /** Plays the policy in `bytes` (safetensors) from the seed, labelled `label`. */
  watch(bytes, label) {
    this.pending = { bytes, label };
    if (this.dataset.ready !== 'true') return; // start() takes it up
    try {
      this.usePending();
    } catch (e) {
      this.fail(e.message);
      return;
    }
    this.reset();
    this.setPlaying(true);
  }

  usePending() {
    const { bytes, label } = this.pending;
    this.pending = null;
    this.policy = new Policy(bytes);
    this.actor = label;
  }

  /** Canvas pixels follow the element's width (4:3), at the screen's pixel ratio. */
  fitToContainer() {
    const width = Math.max(160, Math.round(this.clientWidth * (window.devicePixelRatio || 1)));
    for (const canvas of [this.parts.gpu, this.parts.flat]) {
      canvas.width = width;
      canvas.height = Math.round((width * 3) / 4);
    }
  }

  reset() {
    this.scene.reset(this.seed);
    this.episodeReturn = 0;
    this.showStatus();
  }

  setPlaying(on) {
    this.playing = on;
    this.parts.play.textContent = on ? 'Pause' : 'Play';
  }

  showStatus() {
    const ok = this.player.episodeSuccess;
    this.parts.status.innerHTML = '';
    const text = document.createElement('span');
    text.textContent = `${this.player.taskId} · ${this.actor} · step ${this.player.steps} · return ${this.episodeReturn.toFixed(1)}`;
    this.parts.status.append(text);
    if (ok) {
      const badge = document.createElement('span');
      badge.className = 'ok';
      badge.textContent = ' · success';
      this.parts.status.append(badge);
    }
    this.dataset.success = String(ok);
  }

  step() {
    const obs = this.player.observation();
    const action = this.policy ? this.policy.act(obs, this.player.taskId) : this.player.expertAction();
    const result = this.player.step(action);
    this.episodeReturn += result.reward;
    if (result.terminated || result.truncated) this.setPlaying(false);
  }

  draw() {
    this.scene.draw();
    const render = this.scene.view ? 'webgpu' : '2d';
    if (this.dataset.render !== render) this.dataset.render = render;
  }

  frame(time) {
    if (!this.isConnected) return;
    try {
      if (this.playing) {
        for (let n = this.scene.due((time - (this.lastTime ?? time)) / 1000); n > 0 && this.playing; n--) this.step();
        this.showStatus();
      }
      this.lastTime = time;
      this.draw();
    } catch (e) {
      this.setPlaying(false);
      this.fail(`a step failed: ${e.message}`);
    }
    this.frameId = requestAnimationFrame((t) => this.frame(t));
  }
}

if (!customElements.get('polyskill-player')) customElements.define('polyskill-player', PolyskillPlayer);
