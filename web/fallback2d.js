// The 2D fallback view for browsers without WebGPU: projects each body's box (as the outline of
// its corners), sphere or cylinder with the 3D renderer's camera (from wasm's camera()), paints
// them far to near, and draws the debug overlays (hand trail, contact points) over them.

const sub = (a, b) => [a[0] - b[0], a[1] - b[1], a[2] - b[2]];
const dot = (a, b) => a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
const cross = (a, b) => [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];
const norm = (a) => { const l = Math.hypot(...a); return [a[0] / l, a[1] / l, a[2] / l]; };

function rotate(q, v) {
  const [x, y, z, w] = q;
  const u = [x, y, z];
  const t = cross(u, v).map((c) => 2 * c);
  const c2 = cross(u, t);
  return [v[0] + w * t[0] + c2[0], v[1] + w * t[1] + c2[1], v[2] + w * t[2] + c2[2]];
}

function halfExtents(shape) {
  if (shape.box) return shape.box.half_extents;
  if (shape.sphere) return [shape.sphere.radius, shape.sphere.radius, shape.sphere.radius];
  const c = shape.cylinder ?? shape.capsule;
  const cap = shape.capsule ? c.radius : 0;
  return [c.radius, c.radius, c.half_height + cap];
}

/** The convex hull of 2D points `points` ([x, y, …]), counter-clockwise (Andrew's monotone
 * chain). */
function hull(points) {
  const p = [...points].sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const turn = (o, a, b) => (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0]);
  const half = (list) => {
    const out = [];
    for (const q of list) {
      while (out.length >= 2 && turn(out.at(-2), out.at(-1), q) <= 0) out.pop();
      out.push(q);
    }
    out.pop();
    return out;
  };
  return [...half(p), ...half([...p].reverse())];
}

/** Draws `visuals` (from Player.visuals()) onto a 2D canvas seen from `camera`, and over
 * them `overlays` ({trail, contacts} from Player.overlayPoints()) when given: the hand's path
 * as amber dots, older ones fainter, and contact points as red dots, as the WebGPU view does. */
export function drawFallback(canvas, visuals, camera, overlays = null) {
  const { eye: EYE, target: TARGET } = camera;
  const FOV = (camera.fov_degrees * Math.PI) / 180;
  const ctx = canvas.getContext('2d');
  const { width, height } = canvas;
  const forward = norm(sub(TARGET, EYE));
  const right = norm(cross(forward, [0, 0, 1]));
  const up = cross(right, forward);
  const f = height / 2 / Math.tan(FOV / 2);
  const project = (p) => {
    const d = sub(p, EYE);
    const z = dot(d, forward);
    return [width / 2 + (f * dot(d, right)) / z, height / 2 - (f * dot(d, up)) / z, z];
  };
  ctx.fillStyle = 'rgb(219, 229, 242)';
  ctx.fillRect(0, 0, width, height);
  const items = visuals.map((v) => {
    const h = halfExtents(v.shape);
    const corners = [];
    for (const sx of [-1, 1]) for (const sy of [-1, 1]) for (const sz of [-1, 1]) {
      const r = rotate(v.rotation, [sx * h[0], sy * h[1], sz * h[2]]);
      corners.push(project([v.position[0] + r[0], v.position[1] + r[1], v.position[2] + r[2]]));
    }
    // Painter's order by the farthest corner: the table (whose far edge is farthest) first,
    // the things on it after.
    return { v, corners, depth: Math.max(...corners.map((c) => c[2])) };
  });
  items.sort((a, b) => b.depth - a.depth);
  for (const { v, corners } of items) {
    if (corners.some((c) => c[2] <= 0)) continue; // behind the camera
    const xs = corners.map((c) => c[0]);
    const ys = corners.map((c) => c[1]);
    const [x0, x1, y0, y1] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
    // Goal markers translucent, as the WebGPU renderer draws them.
    const alpha = v.role === 'goal' ? 0.45 : 1;
    ctx.fillStyle = `rgba(${v.color.map((c) => Math.round(c * 255)).join(',')},${alpha})`;
    ctx.strokeStyle = 'rgba(0,0,0,0.35)';
    ctx.beginPath();
    if (v.shape.box) {
      // A box is the outline of its eight projected corners.
      hull(corners).forEach(([x, y], i) => (i === 0 ? ctx.moveTo(x, y) : ctx.lineTo(x, y)));
      ctx.closePath();
    }
    else ctx.ellipse((x0 + x1) / 2, (y0 + y1) / 2, (x1 - x0) / 2, (y1 - y0) / 2, 0, 0, 2 * Math.PI);
    ctx.fill();
    ctx.stroke();
  }
  const dots = (points, color, radius, alpha) => points.forEach((p, i) => {
    const [x, y, z] = project(p);
    if (z <= 0) return;
    ctx.fillStyle = `rgba(${color},${alpha(i, points.length)})`;
    ctx.beginPath();
    ctx.arc(x, y, Math.max(1.5, (f * radius) / z), 0, 2 * Math.PI);
    ctx.fill();
  });
  dots(overlays?.trail ?? [], '255,140,13', 0.005, (i, n) => 0.15 + (0.7 * (i + 1)) / n);
  dots(overlays?.contacts ?? [], '230,13,13', 0.008, () => 0.9);
}
