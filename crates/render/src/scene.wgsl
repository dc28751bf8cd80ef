// Polyskill scene shader: instanced unit primitives (box, sphere, cylinder), each scaled,
// posed and given a colour and material per instance. Lighting, in linear space:
// - a key light (directional, the sun) with a shadow map sampled by percentage-closer
//   filtering (Reeves, Salesin & Cook 1987): four bilinear comparison taps;
// - a fill light from the opposite side, unshadowed;
// - a hemisphere ambient (sky above, ground bounce below);
// - Blinn–Phong specular (Blinn 1977) with a per-instance strength and exponent;
// - box edges darkened (the table and objects read as solids), distance fog towards the
//   background colour, and sRGB encoding of the result (gamma-correct output to a UNORM
//   target; task colours are sRGB and decoded first).
// `vs_shadow` draws the same instances into the light's depth map. Three fragment shaders, by
// quality: `fs_main` (full), `fs_lean` (software adapters: one tap, no branches) and, with its
// own vertex shader `vs_basic` that lights each vertex, `fs_basic` (no shadows, for software
// adapters too slow for `fs_lean`).

struct Globals {
    view_proj: mat4x4<f32>,
    light_view_proj: mat4x4<f32>,
    // xyz: direction the key light travels; w: unused.
    light_dir: vec4<f32>,
    // xyz: camera position; w: shadow map texel size (1 / resolution).
    eye: vec4<f32>,
    // rgb: background (linear); w: distance at which fog is full.
    fog: vec4<f32>,
    // x: shadow taps (4: soft 4×4-texel footprint; 1: one bilinear tap; 0: no shadows), yzw:
    // unused.
    options: vec4<f32>,
};

@group(0) @binding(0) var<uniform> globals: Globals;
@group(0) @binding(1) var shadow_map: texture_depth_2d;
@group(0) @binding(2) var shadow_sampler: sampler_comparison;

struct VertexIn {
    @location(0) position: vec3<f32>,
    @location(1) normal: vec3<f32>,
    @location(2) m0: vec4<f32>,
    @location(3) m1: vec4<f32>,
    @location(4) m2: vec4<f32>,
    @location(5) m3: vec4<f32>,
    @location(6) scale: vec4<f32>,
    @location(7) color: vec4<f32>,
    // x: specular strength, y: Blinn–Phong exponent, z: edge width (m; 0 = none), w: unused.
    @location(8) material: vec4<f32>,
};

// The per-instance values are flat (one value per primitive, not interpolated): a software
// rasteriser such as SwiftShader then interpolates only normal, world and local per pixel.
struct VertexOut {
    @builtin(position) clip: vec4<f32>,
    @location(0) normal: vec3<f32>,
    @location(1) @interpolate(flat) color: vec4<f32>,
    @location(2) world: vec3<f32>,
    @location(3) local: vec3<f32>,
    @location(4) @interpolate(flat) half_size: vec3<f32>,
    @location(5) @interpolate(flat) material: vec4<f32>,
};

fn srgb_to_linear(c: vec3<f32>) -> vec3<f32> {
    return select(pow((c + 0.055) / 1.055, vec3<f32>(2.4)), c / 12.92, c <= vec3<f32>(0.04045));
}

fn linear_to_srgb(c: vec3<f32>) -> vec3<f32> {
    let x = clamp(c, vec3<f32>(0.0), vec3<f32>(1.0));
    return select(1.055 * pow(x, vec3<f32>(1.0 / 2.4)) - 0.055, x * 12.92, x <= vec3<f32>(0.0031308));
}

/// A vertex in the world: its position and its normal. model = R·S, so the normal matrix R·S⁻¹
/// equals model · S⁻²: exact for per-axis scale.
fn posed(v: VertexIn) -> array<vec4<f32>, 2> {
    let model = mat4x4<f32>(v.m0, v.m1, v.m2, v.m3);
    let s = v.scale.xyz;
    let normal = normalize((model * vec4<f32>(v.normal / (s * s), 0.0)).xyz);
    return array<vec4<f32>, 2>(model * vec4<f32>(v.position, 1.0), vec4<f32>(normal, 0.0));
}

@vertex
fn vs_main(v: VertexIn) -> VertexOut {
    var out: VertexOut;
    let p = posed(v);
    let world = p[0];
    out.clip = globals.view_proj * world;
    out.world = world.xyz;
    let s = v.scale.xyz;
    out.normal = p[1].xyz;
    out.color = vec4<f32>(srgb_to_linear(v.color.rgb), v.color.a);
    out.local = v.position * s;
    out.half_size = s;
    out.material = v.material;
    return out;
}

@vertex
fn vs_shadow(v: VertexIn) -> @builtin(position) vec4<f32> {
    let model = mat4x4<f32>(v.m0, v.m1, v.m2, v.m3);
    return globals.light_view_proj * model * vec4<f32>(v.position, 1.0);
}

/// Fraction of the key light reaching `world` (1 lit, 0 in shadow): four comparison taps a
/// texel apart, each bilinear, so a 4×4-texel footprint; or one bilinear tap (2×2 texels)
/// at the software quality.
fn key_light(world: vec3<f32>, n_dot_l: f32) -> f32 {
    let p = globals.light_view_proj * vec4<f32>(world, 1.0);
    let ndc = p.xyz / p.w;
    let uv = vec2<f32>(ndc.x * 0.5 + 0.5, 0.5 - ndc.y * 0.5);
    // Outside the light's frustum: lit.
    if (any(uv < vec2<f32>(0.0)) || any(uv > vec2<f32>(1.0)) || ndc.z > 1.0) {
        return 1.0;
    }
    let texel = globals.eye.w;
    // Slope-scaled receiver bias against acne on surfaces at a grazing angle to the light.
    let depth = ndc.z - (0.0008 + 0.002 * (1.0 - clamp(n_dot_l, 0.0, 1.0)));
    if (globals.options.x < 2.0) {
        return textureSampleCompareLevel(shadow_map, shadow_sampler, uv, depth);
    }
    let d = texel;
    return 0.25 * (textureSampleCompareLevel(shadow_map, shadow_sampler, uv + vec2<f32>(-d, -d), depth)
        + textureSampleCompareLevel(shadow_map, shadow_sampler, uv + vec2<f32>(d, -d), depth)
        + textureSampleCompareLevel(shadow_map, shadow_sampler, uv + vec2<f32>(-d, d), depth)
        + textureSampleCompareLevel(shadow_map, shadow_sampler, uv + vec2<f32>(d, d), depth));
}

/// How much of an edge of a box `in` lies on (0 on a face, 1 on an edge line); 0 for shapes
/// without edges (edge width 0). Written without a branch (see `fs_lean`).
fn edge_amount(in: VertexOut) -> f32 {
    let width = in.material.z;
    let e = smoothstep(in.half_size - vec3<f32>(width), in.half_size, abs(in.local));
    // On a face one coordinate is at its bound; on an edge, two are.
    let amount = clamp(e.x + e.y + e.z - max(e.x, max(e.y, e.z)), 0.0, 1.0);
    return select(0.0, amount, width > 0.0);
}

/// The diffuse light reaching a surface of normal `n`: the key light from direction `l`
/// (visible by the fraction `shadow`), the unshadowed fill light and the hemisphere sky.
fn diffuse_light(n: vec3<f32>, l: vec3<f32>, shadow: f32) -> vec3<f32> {
    let key = max(dot(n, l), 0.0) * shadow * vec3<f32>(1.0, 0.96, 0.9) * 1.9;
    let fill = max(dot(n, normalize(vec3<f32>(0.6, -0.4, 0.5))), 0.0) * vec3<f32>(0.55, 0.62, 0.75) * 0.45;
    let sky = mix(vec3<f32>(0.28, 0.25, 0.22), vec3<f32>(0.55, 0.62, 0.72), 0.5 + 0.5 * n.z) * 0.5;
    return key + fill + sky;
}

/// Highlights roll off instead of clipping: a soft shoulder above 0.8.
fn shoulder(color: vec3<f32>) -> vec3<f32> {
    let over = max(color - vec3<f32>(0.8), vec3<f32>(0.0));
    return min(color, vec3<f32>(0.8)) + over / (vec3<f32>(1.0) + over * 2.5);
}

/// The lit colour of fragment `in` (linear, before encoding) with normal `n` (towards the
/// camera), view direction `v`, key-light direction `l` and the key light's visibility
/// `shadow`: key, fill, hemisphere sky, Blinn–Phong specular, a soft highlight shoulder and
/// distance fog.
fn shade(in: VertexOut, n: vec3<f32>, v: vec3<f32>, l: vec3<f32>, shadow: f32) -> vec3<f32> {
    let n_dot_l = dot(n, l);
    let albedo = in.color.rgb * (1.0 - 0.55 * edge_amount(in));
    let h = normalize(l + v);
    let specular = in.material.x * pow(max(dot(n, h), 0.0), max(in.material.y, 1.0)) * shadow
        * select(0.0, 1.0, n_dot_l > 0.0) * 2.0;
    let color = shoulder(albedo * diffuse_light(n, l, shadow) + vec3<f32>(specular));
    // Distance fog towards the background: depth beyond the table.
    let distance = length(globals.eye.xyz - in.world);
    let fog = smoothstep(globals.fog.w * 0.35, globals.fog.w, distance);
    return mix(color, globals.fog.rgb, fog * 0.85);
}

/// The surface normal of `in` turned towards the camera (two-sided lighting), and the view
/// direction.
fn facing(in: VertexOut) -> array<vec3<f32>, 2> {
    let n = normalize(in.normal);
    let v = normalize(globals.eye.xyz - in.world);
    return array<vec3<f32>, 2>(select(n, -n, dot(n, v) < 0.0), v);
}

/// The full-quality fragment shader: percentage-closer soft shadows (`key_light`) and exact
/// sRGB encoding.
@fragment
fn fs_main(in: VertexOut) -> @location(0) vec4<f32> {
    let nv = facing(in);
    let l = -globals.light_dir.xyz;
    let n_dot_l = dot(nv[0], l);
    // Surfaces facing away from the key light are in its shadow anyway.
    var shadow = 0.0;
    if (n_dot_l > 0.0) {
        shadow = 1.0;
        if (globals.options.x > 0.5) {
            shadow = key_light(in.world, n_dot_l);
        }
    }
    return vec4<f32>(linear_to_srgb(shade(in, nv[0], nv[1], l, shadow)), in.color.a);
}

/// sRGB encoding of linear `c` in [0, 1] by a fit in three square roots (within 0.11% of the
/// exact curve above 0.2 linear, within 3/255 below), cheaper than its `pow` on a CPU.
fn linear_to_srgb_fast(c: vec3<f32>) -> vec3<f32> {
    let x = clamp(c, vec3<f32>(0.0), vec3<f32>(1.0));
    let s1 = sqrt(x);
    let s2 = sqrt(s1);
    let s3 = sqrt(s2);
    return clamp(0.585122381 * s1 + 0.783140355 * s2 - 0.368262736 * s3, vec3<f32>(0.0), vec3<f32>(1.0));
}

/// The software quality's fragment shader (one shadow tap or none): the same lighting as
/// `fs_main`, written without branches. A CPU rasteriser (SwiftShader in a browser without a
/// GPU) shades four pixels at once and runs both sides of a branch under a mask, so every
/// branch costs its whole body. On lavapipe at 1280×720 this takes a frame from 55 to 35 ms
/// (docs/performance.md).
@fragment
fn fs_lean(in: VertexOut) -> @location(0) vec4<f32> {
    let nv = facing(in);
    let l = -globals.light_dir.xyz;
    let n_dot_l = dot(nv[0], l);
    let p = globals.light_view_proj * vec4<f32>(in.world, 1.0);
    let ndc = p.xyz / p.w;
    let uv = vec2<f32>(ndc.x * 0.5 + 0.5, 0.5 - ndc.y * 0.5);
    let depth = ndc.z - (0.0008 + 0.002 * (1.0 - clamp(n_dot_l, 0.0, 1.0)));
    let tap = textureSampleCompareLevel(shadow_map, shadow_sampler, uv, depth);
    let inside = all(uv >= vec2<f32>(0.0)) && all(uv <= vec2<f32>(1.0)) && ndc.z <= 1.0;
    let lit = select(1.0, tap, inside && globals.options.x > 0.5);
    let shadow = select(0.0, lit, n_dot_l > 0.0);
    return vec4<f32>(linear_to_srgb_fast(shade(in, nv[0], nv[1], l, shadow)), in.color.a);
}

/// What `vs_basic` hands `fs_basic`: the colour lit per vertex and sRGB-encoded, and what
/// box edges need.
struct BasicOut {
    @builtin(position) clip: vec4<f32>,
    @location(0) lit: vec3<f32>,
    @location(1) local: vec3<f32>,
    @location(2) @interpolate(flat) half_size: vec3<f32>,
    @location(3) @interpolate(flat) material: vec4<f32>,
    @location(4) @interpolate(flat) alpha: f32,
};

/// The basic quality (no shadows, for software adapters too slow for `fs_lean`) lights each
/// vertex: key and fill light, hemisphere sky and the highlight shoulder, no specular or fog.
/// A box's faces are flat, so their light is exact; spheres and cylinders are Gouraud-shaded.
@vertex
fn vs_basic(v: VertexIn) -> BasicOut {
    var out: BasicOut;
    let p = posed(v);
    let world = p[0];
    out.clip = globals.view_proj * world;
    let s = v.scale.xyz;
    let n = select(p[1].xyz, -p[1].xyz, dot(p[1].xyz, globals.eye.xyz - world.xyz) < 0.0);
    let lit = srgb_to_linear(v.color.rgb) * diffuse_light(n, -globals.light_dir.xyz, 1.0);
    out.lit = linear_to_srgb(shoulder(lit));
    out.local = v.position * s;
    out.half_size = s;
    out.material = v.material;
    out.alpha = v.color.a;
    return out;
}

/// The basic quality's fragment shader: the vertex's colour with box edges darkened
/// (0.55 in linear light is about 0.3 once encoded). Branch-free like `fs_lean`.
@fragment
fn fs_basic(in: BasicOut) -> @location(0) vec4<f32> {
    let width = in.material.z;
    let e = smoothstep(in.half_size - vec3<f32>(width), in.half_size, abs(in.local));
    let edge = select(0.0, clamp(e.x + e.y + e.z - max(e.x, max(e.y, e.z)), 0.0, 1.0), width > 0.0);
    return vec4<f32>(in.lit * (1.0 - 0.3 * edge), in.alpha);
}
