// Polyskill scene shader: instanced unit primitives (box, sphere, cylinder), each scaled,
// posed and coloured per instance, lit by one directional light plus ambient.

struct Globals {
    view_proj: mat4x4<f32>,
    light_dir: vec4<f32>,
};

@group(0) @binding(0) var<uniform> globals: Globals;

struct VertexIn {
    @location(0) position: vec3<f32>,
    @location(1) normal: vec3<f32>,
    @location(2) m0: vec4<f32>,
    @location(3) m1: vec4<f32>,
    @location(4) m2: vec4<f32>,
    @location(5) m3: vec4<f32>,
    @location(6) scale: vec4<f32>,
    @location(7) color: vec4<f32>,
};

struct VertexOut {
    @builtin(position) clip: vec4<f32>,
    @location(0) normal: vec3<f32>,
    @location(1) color: vec3<f32>,
};

@vertex
fn vs_main(v: VertexIn) -> VertexOut {
    let model = mat4x4<f32>(v.m0, v.m1, v.m2, v.m3);
    var out: VertexOut;
    out.clip = globals.view_proj * model * vec4<f32>(v.position, 1.0);
    // model = R·S, so the normal matrix R·S⁻¹ equals model · S⁻²: exact for per-axis scale.
    let s = v.scale.xyz;
    out.normal = normalize((model * vec4<f32>(v.normal / (s * s), 0.0)).xyz);
    out.color = v.color.rgb;
    return out;
}

@fragment
fn fs_main(in: VertexOut) -> @location(0) vec4<f32> {
    let diffuse = max(dot(normalize(in.normal), -globals.light_dir.xyz), 0.0);
    let sky = 0.5 + 0.5 * in.normal.z;
    let light = 0.25 + 0.15 * sky + 0.7 * diffuse;
    return vec4<f32>(in.color * light, 1.0);
}
