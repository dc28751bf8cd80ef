// An orbit camera for a scene: drag to turn around the point looked at, wheel or pinch to zoom,
// arrow keys and +/- when the view has focus; mouse, pen and touch alike (pointer events).
// The world is z-up (gravity along −z).

const MIN_PITCH = -1.45;
const MAX_PITCH = 1.45;

export class Orbit {
  /** Orbits around `camera.target` starting from `camera.eye`; calls `onChange` after a move. */
  constructor(element, camera, onChange) {
    this.target = [...camera.target];
    this.fov_degrees = camera.fov_degrees;
    const d = camera.eye.map((e, i) => e - this.target[i]);
    this.distance = Math.hypot(...d);
    this.yaw = Math.atan2(d[1], d[0]);
    this.pitch = Math.asin(d[2] / this.distance);
    this.moved = false;
    this.onChange = onChange;
    this.pointers = new Map();
    element.tabIndex = 0;
    element.style.touchAction = 'none';
    element.addEventListener('pointerdown', (e) => {
      element.setPointerCapture(e.pointerId);
      this.pointers.set(e.pointerId, [e.clientX, e.clientY]);
    });
    const release = (e) => this.pointers.delete(e.pointerId);
    element.addEventListener('pointerup', release);
    element.addEventListener('pointercancel', release);
    element.addEventListener('pointermove', (e) => this.pointerMoved(e));
    element.addEventListener('wheel', (e) => { e.preventDefault(); this.zoom(Math.exp(e.deltaY * 0.001)); }, { passive: false });
    element.addEventListener('keydown', (e) => {
      const turn = { ArrowLeft: [0.1, 0], ArrowRight: [-0.1, 0], ArrowUp: [0, 0.1], ArrowDown: [0, -0.1] }[e.key];
      if (turn) { e.preventDefault(); this.turn(...turn); }
      if (e.key === '+' || e.key === '=') this.zoom(0.9);
      if (e.key === '-') this.zoom(1.1);
    });
  }

  pointerMoved(e) {
    const last = this.pointers.get(e.pointerId);
    if (!last) return;
    if (this.pointers.size === 1) {
      this.turn(-(e.clientX - last[0]) * 0.01, (e.clientY - last[1]) * 0.01);
    } else if (this.pointers.size === 2) {
      const other = [...this.pointers].find(([id]) => id !== e.pointerId)[1];
      const before = Math.hypot(last[0] - other[0], last[1] - other[1]);
      const after = Math.hypot(e.clientX - other[0], e.clientY - other[1]);
      if (before > 0 && after > 0) this.zoom(before / after);
    }
    this.pointers.set(e.pointerId, [e.clientX, e.clientY]);
  }

  turn(yaw, pitch) {
    this.yaw += yaw;
    this.pitch = Math.min(MAX_PITCH, Math.max(MIN_PITCH, this.pitch + pitch));
    this.changed();
  }

  zoom(factor) {
    this.distance = Math.min(20, Math.max(0.2, this.distance * factor));
    this.changed();
  }

  changed() {
    this.moved = true;
    this.onChange?.();
  }

  /** The camera now: `{eye, target, fov_degrees}` (the shape Player.camera() returns). */
  camera() {
    const c = Math.cos(this.pitch);
    const offset = [c * Math.cos(this.yaw), c * Math.sin(this.yaw), Math.sin(this.pitch)].map((v) => v * this.distance);
    return { eye: offset.map((v, i) => v + this.target[i]), target: [...this.target], fov_degrees: this.fov_degrees };
  }
}
