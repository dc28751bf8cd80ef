//! Polyskill renderer: draws a simulation snapshot ([`Visual`]s) with wgpu — instanced unit
//! primitives under a shadow-casting key light, a fill light and hemisphere ambient
//! (`scene.wgsl`), 4× multisampling, translucent goal markers, a floor, and a visual-only arm
//! ([`arm`]) following the hand, and optional debug [`overlay`]s (the hand's trail, contact
//! points). The same [`Renderer`] draws into a web canvas (WebGPU) or an
//! offscreen texture (natively through Vulkan, e.g. lavapipe); [`read_rgba`] reads a rendered
//! texture back for tests and PNG thumbnails.

pub mod arm;
mod mesh;
pub mod overlay;

pub use overlay::{Overlays, Trail};

use glam::{Mat4, Quat, Vec3};
use polyskill_sim::task::Shape;
use polyskill_sim::{Role, Visual};
use wgpu::util::DeviceExt;

pub use wgpu;

/// Background colour of the scene (linear RGB).
pub const CLEAR_COLOR: [f64; 3] = [0.86, 0.9, 0.95];

/// Format of offscreen targets.
pub const OFFSCREEN_FORMAT: wgpu::TextureFormat = wgpu::TextureFormat::Rgba8Unorm;

const DEPTH_FORMAT: wgpu::TextureFormat = wgpu::TextureFormat::Depth32Float;

/// A perspective camera looking at a point, z up.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Camera {
    /// Eye position.
    pub eye: [f32; 3],
    /// Point looked at.
    pub target: [f32; 3],
    /// Vertical field of view, degrees.
    pub fov_degrees: f32,
}

impl Default for Camera {
    /// A three-quarter view of a Meta-World table from the front right.
    fn default() -> Self {
        Camera {
            eye: [0.72, -0.02, 0.62],
            target: [0.0, 0.78, 0.1],
            fov_degrees: 40.0,
        }
    }
}

impl Camera {
    /// The task's own view if it declares one, else the default.
    pub fn for_task(task: &polyskill_sim::task::Task) -> Camera {
        match task.view {
            Some(v) => Camera {
                eye: v.eye.0,
                target: v.target.0,
                ..Camera::default()
            },
            None => Camera::default(),
        }
    }

    /// Where `point` (world coordinates) appears in a `width × height` image from this camera:
    /// pixel coordinates from the top-left, or `None` behind the camera.
    pub fn project(&self, point: [f32; 3], width: u32, height: u32) -> Option<[f32; 2]> {
        let clip = self.view_proj(width as f32 / height as f32) * Vec3::from(point).extend(1.0);
        (clip.w > 0.0).then(|| {
            let ndc = clip.truncate() / clip.w;
            [
                (ndc.x * 0.5 + 0.5) * width as f32,
                (0.5 - ndc.y * 0.5) * height as f32,
            ]
        })
    }

    fn view_proj(&self, aspect: f32) -> Mat4 {
        let view = glam::camera::rh::view::look_at_mat4(
            Vec3::from(self.eye),
            Vec3::from(self.target),
            Vec3::Z,
        );
        let proj = glam::camera::rh::proj::directx::perspective(
            self.fov_degrees.to_radians(),
            aspect,
            0.01,
            20.0,
        );
        proj * view
    }
}

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct Globals {
    view_proj: [[f32; 4]; 4],
    light_view_proj: [[f32; 4]; 4],
    light_dir: [f32; 4],
    eye: [f32; 4],
    fog: [f32; 4],
    options: [f32; 4],
}

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct Instance {
    model: [[f32; 4]; 4],
    scale: [f32; 4],
    color: [f32; 4],
    material: [f32; 4],
}

struct Mesh {
    vertices: wgpu::Buffer,
    indices: wgpu::Buffer,
    count: u32,
}

/// How much work a frame may take: multisampling and shadow-map resolution.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quality {
    /// Samples per pixel of the colour and depth targets (1 = no multisample anti-aliasing).
    pub samples: u32,
    /// Side of the key light's shadow map, texels.
    pub shadow_map: u32,
    /// Shadow-map taps per pixel: 4 (soft edges over 4×4 texels, `fs_main`), 1 (2×2, the
    /// branch-free `fs_lean`), or 0 (no shadows: the shadow pass is skipped and the basic
    /// `fs_basic` lights the scene).
    pub shadow_taps: u32,
}

impl Quality {
    /// 4× MSAA and a 2048² shadow map read with four taps: native rendering and hardware
    /// GPUs.
    pub const FULL: Quality = Quality {
        samples: 4,
        shadow_map: 2048,
        shadow_taps: 4,
    };
    /// No MSAA, a 1024² shadow map read with one tap: software adapters (SwiftShader in a browser without a
    /// GPU), which rasterise on the CPU and would otherwise drop below real time.
    pub const SOFTWARE: Quality = Quality {
        samples: 1,
        shadow_map: 1024,
        shadow_taps: 1,
    };
    /// No MSAA and no shadows; key, fill and sky light per vertex (no specular or fog), box
    /// edges per pixel: software adapters too slow for [`Quality::SOFTWARE`] (figures in
    /// docs/performance.md).
    pub const BASIC: Quality = Quality {
        samples: 1,
        shadow_map: 256,
        shadow_taps: 0,
    };

    /// This quality as the page names it: `"full"`, `"software"` or `"basic"` (others
    /// `"custom"`).
    pub fn name(&self) -> &'static str {
        match *self {
            Quality::FULL => "full",
            Quality::SOFTWARE => "software",
            Quality::BASIC => "basic",
            _ => "custom",
        }
    }

    /// What this quality draws, for people: `"4× MSAA, 2048² shadows"`, `"no MSAA, 1024²
    /// shadows"`, `"no MSAA, no shadows (basic lighting)"`.
    pub fn describe(&self) -> String {
        let msaa = if self.samples > 1 {
            format!("{}× MSAA", self.samples)
        } else {
            "no MSAA".into()
        };
        if self.shadow_taps == 0 {
            format!("{msaa}, no shadows (basic lighting)")
        } else {
            format!("{msaa}, {}² shadows", self.shadow_map)
        }
    }
}
/// Opacity of goal markers.
pub const GOAL_OPACITY: f32 = 0.45;
/// Direction the key light travels (from above, behind-left of the default view; not
/// normalised).
pub const LIGHT_DIRECTION: Vec3 = Vec3::new(-0.35, 0.45, -1.0);
/// Colour of the floor under the scene (sRGB).
const FLOOR_COLOR: [f32; 3] = [0.58, 0.57, 0.55];
/// How far below the table top the floor of a manipulation scene lies (m).
const FLOOR_DEPTH: f32 = 0.75;

/// Draws scenes with one wgpu device; create it once, call [`Renderer::render`] per frame.
/// Each frame is two passes: the key light's shadow map (opaque shapes), then the scene
/// (multisampled at [`Quality::FULL`], resolved into the caller's target), opaque shapes
/// first and translucent goal markers after them.
pub struct Renderer {
    device: wgpu::Device,
    queue: wgpu::Queue,
    format: wgpu::TextureFormat,
    quality: Quality,
    opaque: wgpu::RenderPipeline,
    translucent: wgpu::RenderPipeline,
    shadow: wgpu::RenderPipeline,
    globals: wgpu::Buffer,
    bind_group: wgpu::BindGroup,
    shadow_bind_group: wgpu::BindGroup,
    shadow_view: wgpu::TextureView,
    meshes: [Mesh; 3],
    /// Multisampled colour and depth targets, and their size.
    targets: Option<(wgpu::TextureView, wgpu::TextureView, u32, u32)>,
    /// What the next frames draw over the scene ([`Renderer::set_overlays`]).
    overlays: Overlays,
}

impl Renderer {
    /// Builds the pipelines for targets of `format` on `device`, at [`Quality::FULL`].
    pub fn new(device: wgpu::Device, queue: wgpu::Queue, format: wgpu::TextureFormat) -> Renderer {
        Renderer::with_quality(device, queue, format, Quality::FULL)
    }

    /// Builds the pipelines for targets of `format` on `device` at `quality`.
    pub fn with_quality(
        device: wgpu::Device,
        queue: wgpu::Queue,
        format: wgpu::TextureFormat,
        quality: Quality,
    ) -> Renderer {
        let quality = Quality {
            samples: if quality.samples >= 4 { 4 } else { 1 },
            shadow_map: quality.shadow_map.clamp(256, 4096),
            shadow_taps: match quality.shadow_taps {
                0 => 0,
                1..=3 => 1,
                _ => 4,
            },
        };
        let shader = device.create_shader_module(wgpu::ShaderModuleDescriptor {
            label: Some("scene"),
            source: wgpu::ShaderSource::Wgsl(include_str!("scene.wgsl").into()),
        });
        let globals = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("globals"),
            size: std::mem::size_of::<Globals>() as u64,
            usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        let shadow_texture = device.create_texture(&wgpu::TextureDescriptor {
            label: Some("shadow map"),
            size: wgpu::Extent3d {
                width: quality.shadow_map,
                height: quality.shadow_map,
                depth_or_array_layers: 1,
            },
            mip_level_count: 1,
            sample_count: 1,
            dimension: wgpu::TextureDimension::D2,
            format: DEPTH_FORMAT,
            usage: wgpu::TextureUsages::RENDER_ATTACHMENT | wgpu::TextureUsages::TEXTURE_BINDING,
            view_formats: &[],
        });
        let shadow_view = shadow_texture.create_view(&Default::default());
        // Four shadow taps: `fs_main`; one: the branch-free `fs_lean` made for CPU
        // rasterisers; none: `fs_basic`.
        let (vertex_entry, fragment_entry) = match quality.shadow_taps {
            0 => ("vs_basic", "fs_basic"),
            1 => ("vs_main", "fs_lean"),
            _ => ("vs_main", "fs_main"),
        };
        let shadow_sampler = device.create_sampler(&wgpu::SamplerDescriptor {
            label: Some("shadow"),
            mag_filter: wgpu::FilterMode::Linear,
            min_filter: wgpu::FilterMode::Linear,
            compare: Some(wgpu::CompareFunction::LessEqual),
            ..Default::default()
        });
        // The globals, at binding 0 in both passes' layouts.
        let uniforms = wgpu::BindGroupLayoutEntry {
            binding: 0,
            visibility: wgpu::ShaderStages::VERTEX_FRAGMENT,
            ty: wgpu::BindingType::Buffer {
                ty: wgpu::BufferBindingType::Uniform,
                has_dynamic_offset: false,
                min_binding_size: None,
            },
            count: None,
        };
        let layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some("scene"),
            entries: &[
                uniforms,
                wgpu::BindGroupLayoutEntry {
                    binding: 1,
                    visibility: wgpu::ShaderStages::FRAGMENT,
                    ty: wgpu::BindingType::Texture {
                        sample_type: wgpu::TextureSampleType::Depth,
                        view_dimension: wgpu::TextureViewDimension::D2,
                        multisampled: false,
                    },
                    count: None,
                },
                wgpu::BindGroupLayoutEntry {
                    binding: 2,
                    visibility: wgpu::ShaderStages::FRAGMENT,
                    ty: wgpu::BindingType::Sampler(wgpu::SamplerBindingType::Comparison),
                    count: None,
                },
            ],
        });
        let bind_group = device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some("scene"),
            layout: &layout,
            entries: &[
                wgpu::BindGroupEntry {
                    binding: 0,
                    resource: globals.as_entire_binding(),
                },
                wgpu::BindGroupEntry {
                    binding: 1,
                    resource: wgpu::BindingResource::TextureView(&shadow_view),
                },
                wgpu::BindGroupEntry {
                    binding: 2,
                    resource: wgpu::BindingResource::Sampler(&shadow_sampler),
                },
            ],
        });
        // The shadow pass reads no texture; its own layout keeps the map out of its bindings.
        let shadow_layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some("shadow"),
            entries: &[uniforms],
        });
        let pipeline_layout = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
            label: Some("scene"),
            bind_group_layouts: &[Some(&layout)],
            immediate_size: 0,
        });
        let shadow_pipeline_layout =
            device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
                label: Some("shadow"),
                bind_group_layouts: &[Some(&shadow_layout)],
                immediate_size: 0,
            });
        let vertex_layouts = [
            Some(wgpu::VertexBufferLayout {
                array_stride: std::mem::size_of::<mesh::Vertex>() as u64,
                step_mode: wgpu::VertexStepMode::Vertex,
                attributes: &wgpu::vertex_attr_array![0 => Float32x3, 1 => Float32x3],
            }),
            Some(wgpu::VertexBufferLayout {
                array_stride: std::mem::size_of::<Instance>() as u64,
                step_mode: wgpu::VertexStepMode::Instance,
                attributes: &wgpu::vertex_attr_array![
                    2 => Float32x4, 3 => Float32x4, 4 => Float32x4, 5 => Float32x4,
                    6 => Float32x4, 7 => Float32x4, 8 => Float32x4
                ],
            }),
        ];
        let scene_pipeline = |label: &str, blend: Option<wgpu::BlendState>, depth_write: bool| {
            device.create_render_pipeline(&wgpu::RenderPipelineDescriptor {
                label: Some(label),
                layout: Some(&pipeline_layout),
                vertex: wgpu::VertexState {
                    module: &shader,
                    entry_point: Some(vertex_entry),
                    compilation_options: Default::default(),
                    buffers: &vertex_layouts,
                },
                primitive: wgpu::PrimitiveState {
                    cull_mode: None,
                    ..Default::default()
                },
                depth_stencil: Some(wgpu::DepthStencilState {
                    format: DEPTH_FORMAT,
                    depth_write_enabled: Some(depth_write),
                    depth_compare: Some(wgpu::CompareFunction::Less),
                    stencil: Default::default(),
                    bias: Default::default(),
                }),
                multisample: wgpu::MultisampleState {
                    count: quality.samples,
                    ..Default::default()
                },
                fragment: Some(wgpu::FragmentState {
                    module: &shader,
                    entry_point: Some(fragment_entry),
                    compilation_options: Default::default(),
                    targets: &[Some(wgpu::ColorTargetState {
                        format,
                        blend,
                        write_mask: wgpu::ColorWrites::ALL,
                    })],
                }),
                multiview_mask: None,
                cache: None,
            })
        };
        let opaque = scene_pipeline("opaque", None, true);
        let translucent =
            scene_pipeline("translucent", Some(wgpu::BlendState::ALPHA_BLENDING), false);
        let shadow = device.create_render_pipeline(&wgpu::RenderPipelineDescriptor {
            label: Some("shadow"),
            layout: Some(&shadow_pipeline_layout),
            vertex: wgpu::VertexState {
                module: &shader,
                entry_point: Some("vs_shadow"),
                compilation_options: Default::default(),
                buffers: &vertex_layouts,
            },
            primitive: wgpu::PrimitiveState {
                cull_mode: None,
                ..Default::default()
            },
            depth_stencil: Some(wgpu::DepthStencilState {
                format: DEPTH_FORMAT,
                depth_write_enabled: Some(true),
                depth_compare: Some(wgpu::CompareFunction::Less),
                stencil: Default::default(),
                bias: wgpu::DepthBiasState {
                    constant: 2,
                    slope_scale: 2.0,
                    clamp: 0.0,
                },
            }),
            multisample: Default::default(),
            fragment: None,
            multiview_mask: None,
            cache: None,
        });
        let upload = |m: mesh::MeshData| Mesh {
            vertices: device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
                label: Some("mesh vertices"),
                contents: bytemuck::cast_slice(&m.vertices),
                usage: wgpu::BufferUsages::VERTEX,
            }),
            indices: device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
                label: Some("mesh indices"),
                contents: bytemuck::cast_slice(&m.indices),
                usage: wgpu::BufferUsages::INDEX,
            }),
            count: m.indices.len() as u32,
        };
        let meshes = [
            upload(mesh::cube()),
            upload(mesh::sphere(16, 24)),
            upload(mesh::cylinder(24)),
        ];
        let shadow_bind_group = device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some("shadow"),
            layout: &shadow_layout,
            entries: &[wgpu::BindGroupEntry {
                binding: 0,
                resource: globals.as_entire_binding(),
            }],
        });
        Renderer {
            device,
            queue,
            format,
            quality,
            opaque,
            translucent,
            shadow,
            globals,
            bind_group,
            shadow_bind_group,
            shadow_view,
            meshes,
            targets: None,
            overlays: Overlays::default(),
        }
    }

    /// The quality it draws at.
    pub fn quality(&self) -> Quality {
        self.quality
    }

    /// The device this renderer draws with.
    pub fn device(&self) -> &wgpu::Device {
        &self.device
    }

    /// The queue this renderer submits to.
    pub fn queue(&self) -> &wgpu::Queue {
        &self.queue
    }

    /// The overlays the frames draw (see [`Renderer::set_overlays`]).
    pub fn overlays(&self) -> &Overlays {
        &self.overlays
    }

    /// Draws `overlays` (the hand's trail, contact points) over the scene in the frames from
    /// now on; `Overlays::default()` draws none.
    pub fn set_overlays(&mut self, overlays: Overlays) {
        self.overlays = overlays;
    }

    /// The multisampled colour and depth targets for `width × height` (made on a size change).
    fn targets(&mut self, width: u32, height: u32) -> (wgpu::TextureView, wgpu::TextureView) {
        if let Some((color, depth, w, h)) = &self.targets
            && *w == width
            && *h == height
        {
            return (color.clone(), depth.clone());
        }
        let texture = |label: &str, format: wgpu::TextureFormat| {
            self.device
                .create_texture(&wgpu::TextureDescriptor {
                    label: Some(label),
                    size: wgpu::Extent3d {
                        width,
                        height,
                        depth_or_array_layers: 1,
                    },
                    mip_level_count: 1,
                    sample_count: self.quality.samples,
                    dimension: wgpu::TextureDimension::D2,
                    format,
                    usage: wgpu::TextureUsages::RENDER_ATTACHMENT,
                    view_formats: &[],
                })
                .create_view(&Default::default())
        };
        let color = texture("multisampled colour", self.format);
        let depth = texture("multisampled depth", DEPTH_FORMAT);
        self.targets = Some((color.clone(), depth.clone(), width, height));
        (color, depth)
    }

    /// Draws `visuals` seen from `camera` into `target` (`width × height` pixels), with the
    /// floor under the scene and, where a hand is among the visuals, the visual-only arm
    /// ([`arm`]) reaching it.
    pub fn render(
        &mut self,
        target: &wgpu::TextureView,
        width: u32,
        height: u32,
        visuals: &[Visual],
        camera: &Camera,
    ) {
        let (width, height) = (width.max(1), height.max(1));
        let mut scene = compose(visuals);
        if !visuals.is_empty() {
            scene.translucent[1].extend(self.overlays.instances());
        }
        let light = LIGHT_DIRECTION.normalize();
        let background = CLEAR_COLOR.map(|c| srgb_to_linear(c as f32));
        let globals = Globals {
            view_proj: camera
                .view_proj(width as f32 / height as f32)
                .to_cols_array_2d(),
            light_view_proj: scene.light_view_proj(light).to_cols_array_2d(),
            light_dir: [light.x, light.y, light.z, 0.0],
            eye: [
                camera.eye[0],
                camera.eye[1],
                camera.eye[2],
                1.0 / self.quality.shadow_map as f32,
            ],
            fog: [
                background[0],
                background[1],
                background[2],
                (Vec3::from(camera.eye) - Vec3::from(camera.target)).length() * 4.0,
            ],
            options: [self.quality.shadow_taps as f32, 0.0, 0.0, 0.0],
        };
        self.queue
            .write_buffer(&self.globals, 0, bytemuck::bytes_of(&globals));
        let buffers = |groups: &[Vec<Instance>; 3]| -> Vec<Option<wgpu::Buffer>> {
            groups
                .iter()
                .map(|g| {
                    (!g.is_empty()).then(|| {
                        self.device
                            .create_buffer_init(&wgpu::util::BufferInitDescriptor {
                                label: Some("instances"),
                                contents: bytemuck::cast_slice(g),
                                usage: wgpu::BufferUsages::VERTEX,
                            })
                    })
                })
                .collect()
        };
        let opaque = buffers(&scene.opaque);
        let casters = buffers(&scene.casters);
        let translucent = buffers(&scene.translucent);
        let (color, depth) = self.targets(width, height);
        let multisampled = self.quality.samples > 1;
        let mut encoder = self.device.create_command_encoder(&Default::default());
        {
            let mut pass = encoder.begin_render_pass(&wgpu::RenderPassDescriptor {
                label: Some("shadow"),
                color_attachments: &[],
                depth_stencil_attachment: Some(wgpu::RenderPassDepthStencilAttachment {
                    view: &self.shadow_view,
                    depth_ops: Some(wgpu::Operations {
                        load: wgpu::LoadOp::Clear(1.0),
                        store: wgpu::StoreOp::Store,
                    }),
                    stencil_ops: None,
                }),
                timestamp_writes: None,
                occlusion_query_set: None,
                multiview_mask: None,
            });
            if self.quality.shadow_taps > 0 {
                pass.set_pipeline(&self.shadow);
                pass.set_bind_group(0, &self.shadow_bind_group, &[]);
                draw(&mut pass, &self.meshes, &scene.casters, &casters);
            }
        }
        {
            let [r, g, b] = CLEAR_COLOR;
            let mut pass = encoder.begin_render_pass(&wgpu::RenderPassDescriptor {
                label: Some("scene"),
                color_attachments: &[Some(wgpu::RenderPassColorAttachment {
                    view: if multisampled { &color } else { target },
                    depth_slice: None,
                    resolve_target: multisampled.then_some(target),
                    ops: wgpu::Operations {
                        load: wgpu::LoadOp::Clear(wgpu::Color { r, g, b, a: 1.0 }),
                        store: if multisampled {
                            wgpu::StoreOp::Discard
                        } else {
                            wgpu::StoreOp::Store
                        },
                    },
                })],
                depth_stencil_attachment: Some(wgpu::RenderPassDepthStencilAttachment {
                    view: &depth,
                    depth_ops: Some(wgpu::Operations {
                        load: wgpu::LoadOp::Clear(1.0),
                        store: wgpu::StoreOp::Discard,
                    }),
                    stencil_ops: None,
                }),
                timestamp_writes: None,
                occlusion_query_set: None,
                multiview_mask: None,
            });
            pass.set_bind_group(0, &self.bind_group, &[]);
            pass.set_pipeline(&self.opaque);
            draw(&mut pass, &self.meshes, &scene.opaque, &opaque);
            pass.set_pipeline(&self.translucent);
            draw(&mut pass, &self.meshes, &scene.translucent, &translucent);
        }
        self.queue.submit([encoder.finish()]);
    }

    /// Creates an offscreen colour target that [`read_rgba`] can read back.
    pub fn offscreen_target(&self, width: u32, height: u32) -> wgpu::Texture {
        self.device.create_texture(&wgpu::TextureDescriptor {
            label: Some("offscreen"),
            size: wgpu::Extent3d {
                width,
                height,
                depth_or_array_layers: 1,
            },
            mip_level_count: 1,
            sample_count: 1,
            dimension: wgpu::TextureDimension::D2,
            format: OFFSCREEN_FORMAT,
            usage: wgpu::TextureUsages::RENDER_ATTACHMENT | wgpu::TextureUsages::COPY_SRC,
            view_formats: &[],
        })
    }
}

/// Draws each mesh's instances.
fn draw(
    pass: &mut wgpu::RenderPass<'_>,
    meshes: &[Mesh; 3],
    groups: &[Vec<Instance>; 3],
    buffers: &[Option<wgpu::Buffer>],
) {
    for ((mesh, group), buffer) in meshes.iter().zip(groups).zip(buffers) {
        if let Some(buffer) = buffer {
            pass.set_vertex_buffer(0, mesh.vertices.slice(..));
            pass.set_vertex_buffer(1, buffer.slice(..));
            pass.set_index_buffer(mesh.indices.slice(..), wgpu::IndexFormat::Uint32);
            pass.draw_indexed(0..mesh.count, 0, 0..group.len() as u32);
        }
    }
}

/// sRGB-encoded `c` in linear light.
fn srgb_to_linear(c: f32) -> f32 {
    if c <= 0.04045 {
        c / 12.92
    } else {
        ((c + 0.055) / 1.055).powf(2.4)
    }
}

/// A frame's instances by mesh (box, sphere, cylinder): the opaque ones, those that cast
/// shadows (opaque, without the floor), the translucent ones; and the shadow casters' bounds.
struct Composed {
    opaque: [Vec<Instance>; 3],
    casters: [Vec<Instance>; 3],
    translucent: [Vec<Instance>; 3],
    bounds: (Vec3, Vec3),
}

impl Composed {
    /// An orthographic projection from the key light that holds every shadow caster.
    fn light_view_proj(&self, light: Vec3) -> Mat4 {
        let (min, max) = self.bounds;
        let center = (min + max) / 2.0;
        let radius = ((max - min).length() / 2.0).max(0.05) + 0.05;
        let view = glam::camera::rh::view::look_at_mat4(
            center - light * radius * 3.0,
            center,
            if light.cross(Vec3::Z).length() < 1e-3 {
                Vec3::Y
            } else {
                Vec3::Z
            },
        );
        let proj = glam::camera::rh::proj::directx::orthographic(
            -radius,
            radius,
            -radius,
            radius,
            radius,
            radius * 5.0,
        );
        proj * view
    }
}

/// The frame's scene: the visuals, the arm if there is a hand, and the floor.
fn compose(visuals: &[Visual]) -> Composed {
    let mut all: Vec<Visual> = visuals.to_vec();
    let mut lowest = f32::INFINITY;
    let (mut min, mut max) = (Vec3::splat(f32::INFINITY), Vec3::splat(f32::NEG_INFINITY));
    for v in visuals {
        let reach = Vec3::splat(extent(&v.shape));
        let p = Vec3::from(v.position);
        min = min.min(p - reach);
        max = max.max(p + reach);
        lowest = lowest.min(p.z - reach.z);
    }
    let hand = visuals.iter().find(|v| v.role == Role::Hand);
    let floor_z = if hand.is_some() {
        lowest - FLOOR_DEPTH
    } else {
        lowest - 0.02
    };
    if let Some(hand) = hand {
        all.extend(arm::ArmPose::reach(arm::hand_top(hand)).visuals(floor_z));
        max = max.max(arm::SHOULDER + Vec3::splat(0.1));
        min = min.min(arm::SHOULDER - Vec3::splat(0.1));
    }
    let mut out = Composed {
        opaque: Default::default(),
        casters: Default::default(),
        translucent: Default::default(),
        bounds: if min.is_finite() {
            (min, max)
        } else {
            (Vec3::ZERO, Vec3::ZERO)
        },
    };
    if visuals.is_empty() {
        return out;
    }
    for v in &all {
        let translucent = v.role == Role::Goal;
        for (kind, instance) in instances(v) {
            if translucent {
                out.translucent[kind].push(instance);
            } else {
                out.opaque[kind].push(instance);
                out.casters[kind].push(instance);
            }
        }
    }
    let center = (min + max) / 2.0;
    let floor = Visual {
        shape: Shape::Box {
            half_extents: polyskill_sim::task::V3([8.0, 8.0, 0.01]),
        },
        position: [center.x, center.y, floor_z - 0.01],
        rotation: [0.0, 0.0, 0.0, 1.0],
        color: FLOOR_COLOR,
        role: Role::Body,
    };
    for (kind, mut instance) in instances(&floor) {
        instance.material = [0.02, 4.0, 0.0, 0.0];
        out.opaque[kind].push(instance);
    }
    out
}

/// The largest distance of a shape's surface from its centre.
fn extent(shape: &Shape) -> f32 {
    match *shape {
        Shape::Box { half_extents } => Vec3::from(half_extents.0).length(),
        Shape::Sphere { radius } => radius,
        Shape::Cylinder {
            half_height,
            radius,
        } => half_height.hypot(radius),
        Shape::Capsule {
            half_height,
            radius,
        } => half_height + radius,
    }
}

/// The instances drawing one visual (a capsule is a cylinder and two spheres), by mesh.
fn instances(v: &Visual) -> Vec<(usize, Instance)> {
    let rotation = Quat::from_array(v.rotation).normalize();
    let position = Vec3::from(v.position);
    let alpha = if v.role == Role::Goal {
        GOAL_OPACITY
    } else {
        1.0
    };
    let instance = |kind: usize, scale: [f32; 3], position: Vec3| {
        let model = Mat4::from_scale_rotation_translation(Vec3::from(scale), rotation, position);
        // Boxes get visible edges; rounded shapes a tighter highlight.
        let material = match kind {
            0 => [
                0.12,
                12.0,
                0.004_f32.min(scale[0].min(scale[1]).min(scale[2])),
                0.0,
            ],
            _ => [0.35, 40.0, 0.0, 0.0],
        };
        (
            kind,
            Instance {
                model: model.to_cols_array_2d(),
                scale: [scale[0], scale[1], scale[2], 0.0],
                color: [v.color[0], v.color[1], v.color[2], alpha],
                material,
            },
        )
    };
    match v.shape {
        Shape::Box { half_extents } => vec![instance(0, half_extents.0, position)],
        Shape::Sphere { radius } => vec![instance(1, [radius; 3], position)],
        Shape::Cylinder {
            half_height,
            radius,
        } => vec![instance(2, [radius, radius, half_height], position)],
        Shape::Capsule {
            half_height,
            radius,
        } => {
            let tip = rotation * Vec3::new(0.0, 0.0, half_height);
            vec![
                instance(2, [radius, radius, half_height], position),
                instance(1, [radius; 3], position + tip),
                instance(1, [radius; 3], position - tip),
            ]
        }
    }
}

/// Reads an [`OFFSCREEN_FORMAT`] texture back as tightly packed RGBA bytes. Works natively
/// and on WebGPU (the map completes from the browser's event loop; this future awaits it).
pub async fn read_rgba(
    device: &wgpu::Device,
    queue: &wgpu::Queue,
    texture: &wgpu::Texture,
) -> Result<Vec<u8>, String> {
    let (width, height) = (texture.width(), texture.height());
    let padded = (width * 4).div_ceil(wgpu::COPY_BYTES_PER_ROW_ALIGNMENT)
        * wgpu::COPY_BYTES_PER_ROW_ALIGNMENT;
    let buffer = device.create_buffer(&wgpu::BufferDescriptor {
        label: Some("readback"),
        size: (padded * height) as u64,
        usage: wgpu::BufferUsages::COPY_DST | wgpu::BufferUsages::MAP_READ,
        mapped_at_creation: false,
    });
    let mut encoder = device.create_command_encoder(&Default::default());
    encoder.copy_texture_to_buffer(
        wgpu::TexelCopyTextureInfo {
            texture,
            mip_level: 0,
            origin: wgpu::Origin3d::ZERO,
            aspect: wgpu::TextureAspect::All,
        },
        wgpu::TexelCopyBufferInfo {
            buffer: &buffer,
            layout: wgpu::TexelCopyBufferLayout {
                offset: 0,
                bytes_per_row: Some(padded),
                rows_per_image: Some(height),
            },
        },
        wgpu::Extent3d {
            width,
            height,
            depth_or_array_layers: 1,
        },
    );
    queue.submit([encoder.finish()]);
    let (sender, receiver) = oneshot();
    buffer.slice(..).map_async(wgpu::MapMode::Read, move |r| {
        sender.send(r.map_err(|e| e.to_string()))
    });
    #[cfg(not(target_arch = "wasm32"))]
    device
        .poll(wgpu::PollType::wait_indefinitely())
        .map_err(|e| e.to_string())?;
    receiver.await?;
    let view = buffer
        .slice(..)
        .get_mapped_range()
        .map_err(|e| e.to_string())?;
    let mut rgba = Vec::with_capacity((width * height * 4) as usize);
    for row in view.chunks(padded as usize).take(height as usize) {
        rgba.extend_from_slice(&row[..(width * 4) as usize]);
    }
    drop(view);
    buffer.unmap();
    Ok(rgba)
}

/// A minimal one-shot channel whose receiver is a future (the map callback is the sender).
fn oneshot() -> (OneshotSender, OneshotReceiver) {
    let slot = std::sync::Arc::new(std::sync::Mutex::new(Slot {
        value: None,
        waker: None,
    }));
    (OneshotSender(slot.clone()), OneshotReceiver(slot))
}

struct Slot {
    value: Option<Result<(), String>>,
    waker: Option<std::task::Waker>,
}

struct OneshotSender(std::sync::Arc<std::sync::Mutex<Slot>>);
struct OneshotReceiver(std::sync::Arc<std::sync::Mutex<Slot>>);

impl OneshotSender {
    fn send(self, value: Result<(), String>) {
        if let Ok(mut slot) = self.0.lock() {
            slot.value = Some(value);
            if let Some(w) = slot.waker.take() {
                w.wake();
            }
        }
    }
}

impl std::future::Future for OneshotReceiver {
    type Output = Result<(), String>;
    fn poll(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Self::Output> {
        let Ok(mut slot) = self.0.lock() else {
            return std::task::Poll::Ready(Err("map callback poisoned".into()));
        };
        match slot.value.take() {
            Some(v) => std::task::Poll::Ready(v),
            None => {
                slot.waker = Some(cx.waker().clone());
                std::task::Poll::Pending
            }
        }
    }
}

/// Native offscreen rendering (Vulkan; lavapipe on machines without a GPU).
#[cfg(not(target_arch = "wasm32"))]
pub mod offscreen {
    use super::*;

    /// Opens a native wgpu device for offscreen work.
    pub fn device() -> Result<(wgpu::Device, wgpu::Queue, String), String> {
        pollster::block_on(async {
            let mut desc = wgpu::InstanceDescriptor::new_without_display_handle();
            desc.backends = wgpu::Backends::VULKAN;
            let instance = wgpu::Instance::new(desc);
            let adapter = instance
                .request_adapter(&wgpu::RequestAdapterOptions::default())
                .await
                .map_err(|e| {
                    format!("no Vulkan adapter ({e}); install mesa-vulkan-drivers for lavapipe")
                })?;
            let name = adapter.get_info().name;
            let (device, queue) = adapter
                .request_device(&wgpu::DeviceDescriptor::default())
                .await
                .map_err(|e| e.to_string())?;
            Ok((device, queue, name))
        })
    }

    /// Renders `visuals` to RGBA bytes of `width × height`.
    pub fn render_rgba(
        renderer: &mut Renderer,
        visuals: &[Visual],
        camera: &Camera,
        width: u32,
        height: u32,
    ) -> Result<Vec<u8>, String> {
        let target = renderer.offscreen_target(width, height);
        let view = target.create_view(&Default::default());
        renderer.render(&view, width, height, visuals, camera);
        pollster::block_on(read_rgba(renderer.device(), renderer.queue(), &target))
    }

    /// Encodes RGBA frames (each `width × height`) as an animated GIF that loops, each frame
    /// shown `delay_ms` (GIF keeps hundredths of a second); colours quantised per frame
    /// (NeuQuant, the gif crate's).
    pub fn write_gif(
        path: &std::path::Path,
        frames: &mut [Vec<u8>],
        width: u32,
        height: u32,
        delay_ms: u32,
    ) -> Result<(), String> {
        let (w, h) = (
            u16::try_from(width)
                .map_err(|_| format!("a GIF is at most 65535 wide, not {width}"))?,
            u16::try_from(height)
                .map_err(|_| format!("a GIF is at most 65535 high, not {height}"))?,
        );
        let file = std::fs::File::create(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let mut encoder = gif::Encoder::new(std::io::BufWriter::new(file), w, h, &[])
            .map_err(|e| e.to_string())?;
        encoder
            .set_repeat(gif::Repeat::Infinite)
            .map_err(|e| e.to_string())?;
        for rgba in frames.iter_mut() {
            let mut frame = gif::Frame::from_rgba_speed(w, h, rgba, 10);
            frame.delay = (delay_ms / 10).clamp(1, u16::MAX as u32) as u16;
            encoder.write_frame(&frame).map_err(|e| e.to_string())?;
        }
        Ok(())
    }

    /// Encodes RGBA bytes as a PNG file.
    pub fn write_png(
        path: &std::path::Path,
        rgba: &[u8],
        width: u32,
        height: u32,
    ) -> Result<(), String> {
        let file = std::fs::File::create(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let mut encoder = png::Encoder::new(std::io::BufWriter::new(file), width, height);
        encoder.set_color(png::ColorType::Rgba);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header().map_err(|e| e.to_string())?;
        writer.write_image_data(rgba).map_err(|e| e.to_string())
    }
}

/// Counts pixels that differ from the clear colour by more than a few levels.
pub fn non_background_pixels(rgba: &[u8]) -> usize {
    let clear = CLEAR_COLOR.map(|c| (c * 255.0).round() as i32);
    rgba.chunks_exact(4)
        .filter(|p| (0..3).any(|i| (p[i] as i32 - clear[i]).abs() > 3))
        .count()
}
