//! Polyskill renderer: draws a simulation snapshot ([`Visual`]s) with wgpu — instanced unit
//! primitives, one directional light, a perspective camera. The same [`Renderer`] draws into
//! a web canvas (WebGPU) or an offscreen texture (natively through Vulkan, e.g. lavapipe);
//! [`read_rgba`] reads a rendered texture back for tests and PNG thumbnails.

mod mesh;

use glam::{Mat4, Quat, Vec3};
use polyskill_sim::Visual;
use polyskill_sim::task::Shape;
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
    light_dir: [f32; 4],
}

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct Instance {
    model: [[f32; 4]; 4],
    scale: [f32; 4],
    color: [f32; 4],
}

struct Mesh {
    vertices: wgpu::Buffer,
    indices: wgpu::Buffer,
    count: u32,
}

/// Draws scenes with one wgpu device; create it once, call [`Renderer::render`] per frame.
pub struct Renderer {
    device: wgpu::Device,
    queue: wgpu::Queue,
    pipeline: wgpu::RenderPipeline,
    globals: wgpu::Buffer,
    bind_group: wgpu::BindGroup,
    meshes: [Mesh; 3],
    depth: Option<(wgpu::TextureView, u32, u32)>,
}

impl Renderer {
    /// Builds the pipeline for targets of `format` on `device`.
    pub fn new(device: wgpu::Device, queue: wgpu::Queue, format: wgpu::TextureFormat) -> Renderer {
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
        let layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some("globals"),
            entries: &[wgpu::BindGroupLayoutEntry {
                binding: 0,
                visibility: wgpu::ShaderStages::VERTEX_FRAGMENT,
                ty: wgpu::BindingType::Buffer {
                    ty: wgpu::BufferBindingType::Uniform,
                    has_dynamic_offset: false,
                    min_binding_size: None,
                },
                count: None,
            }],
        });
        let bind_group = device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some("globals"),
            layout: &layout,
            entries: &[wgpu::BindGroupEntry {
                binding: 0,
                resource: globals.as_entire_binding(),
            }],
        });
        let pipeline_layout = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
            label: Some("scene"),
            bind_group_layouts: &[Some(&layout)],
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
                    2 => Float32x4, 3 => Float32x4, 4 => Float32x4, 5 => Float32x4, 6 => Float32x4, 7 => Float32x4
                ],
            }),
        ];
        let pipeline = device.create_render_pipeline(&wgpu::RenderPipelineDescriptor {
            label: Some("scene"),
            layout: Some(&pipeline_layout),
            vertex: wgpu::VertexState {
                module: &shader,
                entry_point: Some("vs_main"),
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
                bias: Default::default(),
            }),
            multisample: Default::default(),
            fragment: Some(wgpu::FragmentState {
                module: &shader,
                entry_point: Some("fs_main"),
                compilation_options: Default::default(),
                targets: &[Some(format.into())],
            }),
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
        Renderer {
            device,
            queue,
            pipeline,
            globals,
            bind_group,
            meshes,
            depth: None,
        }
    }

    /// The device this renderer draws with.
    pub fn device(&self) -> &wgpu::Device {
        &self.device
    }

    /// The queue this renderer submits to.
    pub fn queue(&self) -> &wgpu::Queue {
        &self.queue
    }

    fn depth_view(&mut self, width: u32, height: u32) -> wgpu::TextureView {
        if let Some((view, w, h)) = &self.depth
            && *w == width
            && *h == height
        {
            return view.clone();
        }
        let texture = self.device.create_texture(&wgpu::TextureDescriptor {
            label: Some("depth"),
            size: wgpu::Extent3d {
                width,
                height,
                depth_or_array_layers: 1,
            },
            mip_level_count: 1,
            sample_count: 1,
            dimension: wgpu::TextureDimension::D2,
            format: DEPTH_FORMAT,
            usage: wgpu::TextureUsages::RENDER_ATTACHMENT,
            view_formats: &[],
        });
        let view = texture.create_view(&Default::default());
        self.depth = Some((view.clone(), width, height));
        view
    }

    /// Draws `visuals` seen from `camera` into `target` (`width × height` pixels).
    pub fn render(
        &mut self,
        target: &wgpu::TextureView,
        width: u32,
        height: u32,
        visuals: &[Visual],
        camera: &Camera,
    ) {
        let (width, height) = (width.max(1), height.max(1));
        let light = Vec3::new(-0.4, 0.5, -1.0).normalize();
        let globals = Globals {
            view_proj: camera
                .view_proj(width as f32 / height as f32)
                .to_cols_array_2d(),
            light_dir: [light.x, light.y, light.z, 0.0],
        };
        self.queue
            .write_buffer(&self.globals, 0, bytemuck::bytes_of(&globals));
        let mut groups: [Vec<Instance>; 3] = Default::default();
        for v in visuals {
            let rotation = Quat::from_array(v.rotation).normalize();
            let position = Vec3::from(v.position);
            let mut push = |kind: usize, scale: [f32; 3], position: Vec3| {
                let model =
                    Mat4::from_scale_rotation_translation(Vec3::from(scale), rotation, position);
                groups[kind].push(Instance {
                    model: model.to_cols_array_2d(),
                    scale: [scale[0], scale[1], scale[2], 0.0],
                    color: [v.color[0], v.color[1], v.color[2], 1.0],
                });
            };
            match v.shape {
                Shape::Box { half_extents } => push(0, half_extents.0, position),
                Shape::Sphere { radius } => push(1, [radius; 3], position),
                Shape::Cylinder {
                    half_height,
                    radius,
                } => push(2, [radius, radius, half_height], position),
                Shape::Capsule {
                    half_height,
                    radius,
                } => {
                    push(2, [radius, radius, half_height], position);
                    let tip = rotation * Vec3::new(0.0, 0.0, half_height);
                    push(1, [radius; 3], position + tip);
                    push(1, [radius; 3], position - tip);
                }
            }
        }
        let instance_buffers: Vec<Option<wgpu::Buffer>> = groups
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
            .collect();
        let depth = self.depth_view(width, height);
        let mut encoder = self.device.create_command_encoder(&Default::default());
        {
            let [r, g, b] = CLEAR_COLOR;
            let mut pass = encoder.begin_render_pass(&wgpu::RenderPassDescriptor {
                label: Some("scene"),
                color_attachments: &[Some(wgpu::RenderPassColorAttachment {
                    view: target,
                    depth_slice: None,
                    resolve_target: None,
                    ops: wgpu::Operations {
                        load: wgpu::LoadOp::Clear(wgpu::Color { r, g, b, a: 1.0 }),
                        store: wgpu::StoreOp::Store,
                    },
                })],
                depth_stencil_attachment: Some(wgpu::RenderPassDepthStencilAttachment {
                    view: &depth,
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
            pass.set_pipeline(&self.pipeline);
            pass.set_bind_group(0, &self.bind_group, &[]);
            for ((mesh, group), buffer) in self.meshes.iter().zip(&groups).zip(&instance_buffers) {
                if let Some(buffer) = buffer {
                    pass.set_vertex_buffer(0, mesh.vertices.slice(..));
                    pass.set_vertex_buffer(1, buffer.slice(..));
                    pass.set_index_buffer(mesh.indices.slice(..), wgpu::IndexFormat::Uint32);
                    pass.draw_indexed(0..mesh.count, 0, 0..group.len() as u32);
                }
            }
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
