//! [`SceneView`]: the wgpu renderer drawing a [`Player`]'s scene on a `<canvas>` through
//! WebGPU (a lost device is reported, and the page draws in 2D), and [`render_offscreen`].

use crate::player::Player;
use crate::{at_most, js_error, task_error};
use polyskill_render::{Camera, Quality, Renderer, wgpu};
use polyskill_sim::Env;
use polyskill_sim::task::Task;

use wasm_bindgen::prelude::*;

/// A wgpu (WebGPU) view of a player's scene on a `<canvas>`.
#[wasm_bindgen]
pub struct SceneView {
    renderer: Renderer,
    surface: wgpu::Surface<'static>,
    canvas: web_sys::HtmlCanvasElement,
    format: wgpu::TextureFormat,
    configured: (u32, u32),
    adapter: String,
    /// A camera set by the page (e.g. an orbit control), else the task's own view.
    camera: Option<Camera>,
    /// Set when the device is lost: drawing then fails so the page switches to its 2D view.
    lost: DeviceLost,
    /// Which debug overlays are drawn: the hand's trail, contact points.
    overlays: (bool, bool),
    /// The adapter rasterises on the CPU.
    software: bool,
}

/// Why the GPU device was lost, once it has been (a driver reset, the browser reclaiming the
/// GPU, `GPUDevice.destroy()`); shared with the device's lost callback.
#[derive(Clone, Default)]
struct DeviceLost(std::sync::Arc<std::sync::Mutex<Option<String>>>);

impl DeviceLost {
    fn set(&self, why: String) {
        if let Ok(mut slot) = self.0.lock() {
            *slot = Some(why);
        }
    }

    fn get(&self) -> Option<String> {
        self.0.lock().ok().and_then(|slot| slot.clone())
    }
}

/// Opens a WebGPU adapter and device (for a canvas surface when one is given), with handlers
/// for uncaptured errors and for the device's loss.
async fn open_gpu(
    instance: &wgpu::Instance,
    surface: Option<&wgpu::Surface<'_>>,
) -> Result<(wgpu::Adapter, wgpu::Device, wgpu::Queue, DeviceLost), JsValue> {
    let adapter = instance
        .request_adapter(&wgpu::RequestAdapterOptions {
            compatible_surface: surface,
            ..Default::default()
        })
        .await
        .map_err(|e| js_error(format!("no WebGPU adapter: {e}")))?;
    let (device, queue) = adapter
        .request_device(&wgpu::DeviceDescriptor {
            required_limits: wgpu::Limits::downlevel_webgl2_defaults()
                .using_resolution(adapter.limits()),
            ..Default::default()
        })
        .await
        .map_err(|e| js_error(format!("WebGPU device: {e}")))?;
    // wgpu's default for an error nobody captured is to panic, which would trap the one
    // module every player on the page shares: say it in the console instead, and the
    // device's loss too (the next draw then fails with an error the page shows).
    device.on_uncaptured_error(std::sync::Arc::new(|e: wgpu::Error| {
        web_sys::console::error_1(&format!("WebGPU error: {e}").into());
    }));
    let lost = DeviceLost::default();
    let record = lost.clone();
    device.set_device_lost_callback(move |reason, message| {
        let why = format!("WebGPU device lost ({reason:?}): {message}");
        web_sys::console::error_1(&why.as_str().into());
        record.set(why);
    });
    Ok((adapter, device, queue, lost))
}

/// The largest width and height `device` can render to.
fn max_texture_side(device: &wgpu::Device) -> u32 {
    device.limits().max_texture_dimension_2d
}

fn browser_instance() -> wgpu::Instance {
    let mut desc = wgpu::InstanceDescriptor::new_without_display_handle();
    desc.backends = wgpu::Backends::BROWSER_WEBGPU;
    wgpu::Instance::new(desc)
}

#[wasm_bindgen]
impl SceneView {
    /// Creates a WebGPU view on `canvas`; rejects (the page then uses its 2D fallback) when
    /// the browser has no usable WebGPU.
    pub async fn create(canvas: web_sys::HtmlCanvasElement) -> Result<SceneView, JsValue> {
        let instance = browser_instance();
        let surface = instance
            .create_surface(wgpu::SurfaceTarget::Canvas(canvas.clone()))
            .map_err(|e| js_error(format!("WebGPU canvas: {e}")))?;
        let (adapter, device, queue, lost) = open_gpu(&instance, Some(&surface)).await?;
        let caps = surface.get_capabilities(&adapter);
        let format = caps
            .formats
            .iter()
            .copied()
            .find(|f| !f.is_srgb())
            .or(caps.formats.first().copied())
            .ok_or_else(|| js_error("the canvas offers no texture format"))?;
        let info = adapter.get_info();
        let adapter_name = if info.name.is_empty() {
            format!("{:?} WebGPU adapter", info.backend)
        } else {
            info.name
        };
        // A software adapter (SwiftShader without a GPU) rasterises on the CPU: without
        // multisampling and with a smaller shadow map it stays near real time (the figures
        // are in docs/performance.md).
        let name = adapter_name.to_lowercase();
        let software = info.device_type == wgpu::DeviceType::Cpu
            || ["swiftshader", "software", "fallback", "llvmpipe"]
                .iter()
                .any(|w| name.contains(w));
        let quality = if software {
            Quality::SOFTWARE
        } else {
            Quality::FULL
        };
        Ok(SceneView {
            renderer: Renderer::with_quality(device, queue, format, quality),
            surface,
            canvas,
            format,
            configured: (0, 0),
            adapter: adapter_name,
            camera: None,
            lost,
            overlays: (false, false),
            software,
        })
    }

    /// Looks from `eye` at `target` (3 numbers each) from now on, instead of the task's view;
    /// throws unless both are 3 finite numbers.
    #[wasm_bindgen(js_name = setCamera)]
    pub fn set_camera(&mut self, eye: Vec<f32>, target: Vec<f32>) -> Result<(), JsValue> {
        let point = |v: &[f32], name: &str| -> Result<[f32; 3], JsValue> {
            match v {
                [x, y, z] if v.iter().all(|c| c.is_finite()) => Ok([*x, *y, *z]),
                _ => Err(js_error(format!(
                    "camera {name} must be 3 finite numbers, got {v:?}"
                ))),
            }
        };
        let (eye, target) = (point(&eye, "eye")?, point(&target, "target")?);
        let fov_degrees = self
            .camera
            .as_ref()
            .map_or(Camera::default().fov_degrees, |c| c.fov_degrees);
        self.camera = Some(Camera {
            eye,
            target,
            fov_degrees,
        });
        Ok(())
    }

    /// Draws the hand's trail (`trail`) and the points where bodies touch (`contacts`) over
    /// the scene from now on (a debug view; both off at first).
    #[wasm_bindgen(js_name = setOverlays)]
    pub fn set_overlays(&mut self, trail: bool, contacts: bool) {
        self.overlays = (trail, contacts);
    }

    /// Goes back to the task's own camera.
    #[wasm_bindgen(js_name = resetCamera)]
    pub fn reset_camera(&mut self) {
        self.camera = None;
    }

    /// What the renderer draws at: `"4× MSAA, 2048² shadows"`, on a software adapter
    /// `"no MSAA, 1024² shadows"`, and after [`SceneView::set_quality`] to `"basic"` `"no MSAA,
    /// no shadows (basic lighting)"`.
    #[wasm_bindgen(getter)]
    pub fn quality(&self) -> String {
        self.renderer.quality().describe()
    }

    /// The quality's name: `"full"`, `"software"` or `"basic"`.
    #[wasm_bindgen(getter, js_name = qualityName)]
    pub fn quality_name(&self) -> String {
        self.renderer.quality().name().into()
    }

    /// Whether the adapter rasterises on the CPU (SwiftShader, llvmpipe): the page may then
    /// drop to the basic quality when frames come too slowly.
    #[wasm_bindgen(getter)]
    pub fn software(&self) -> bool {
        self.software
    }

    /// Draws at quality `name` from now on: `"full"`, `"software"` or `"basic"` (the pipelines
    /// are rebuilt); throws for any other name, listing the valid ones.
    #[wasm_bindgen(js_name = setQuality)]
    pub fn set_quality(&mut self, name: &str) -> Result<(), JsValue> {
        let quality = match name {
            "full" => Quality::FULL,
            "software" => Quality::SOFTWARE,
            "basic" => Quality::BASIC,
            other => {
                return Err(js_error(format!(
                    "unknown quality {other:?}: full, software or basic"
                )));
            }
        };
        if quality != self.renderer.quality() {
            let (device, queue) = (
                self.renderer.device().clone(),
                self.renderer.queue().clone(),
            );
            let overlays = self.renderer.overlays().clone();
            self.renderer = Renderer::with_quality(device, queue, self.format, quality);
            self.renderer.set_overlays(overlays);
        }
        Ok(())
    }

    /// The WebGPU adapter's name as the browser reports it.
    #[wasm_bindgen(getter)]
    pub fn adapter(&self) -> String {
        self.adapter.clone()
    }

    /// Why the view's GPU device was lost, or `undefined` while it works.
    #[wasm_bindgen(getter)]
    pub fn lost(&self) -> Option<String> {
        self.lost.get()
    }

    /// Draws the player's current scene into the canvas; throws once the device is lost (the
    /// page then draws with its 2D fallback).
    pub fn draw(&mut self, player: &Player) -> Result<(), JsValue> {
        if let Some(why) = self.lost.get() {
            return Err(js_error(why));
        }
        // A canvas larger than the device can render to is drawn at the largest size it can
        // (the browser scales it up), not passed on to fail validation.
        let side = max_texture_side(self.renderer.device());
        let size = (
            self.canvas.width().clamp(1, side),
            self.canvas.height().clamp(1, side),
        );
        if size != self.configured {
            self.surface.configure(
                self.renderer.device(),
                &wgpu::SurfaceConfiguration {
                    usage: wgpu::TextureUsages::RENDER_ATTACHMENT,
                    format: self.format,
                    width: size.0,
                    height: size.1,
                    present_mode: wgpu::PresentMode::Fifo,
                    desired_maximum_frame_latency: 2,
                    alpha_mode: wgpu::CompositeAlphaMode::Auto,
                    view_formats: vec![],
                    color_space: wgpu::SurfaceColorSpace::Auto,
                },
            );
            self.configured = size;
        }
        let frame = match self.surface.get_current_texture() {
            wgpu::CurrentSurfaceTexture::Success(frame)
            | wgpu::CurrentSurfaceTexture::Suboptimal(frame) => frame,
            _ => {
                return Err(js_error(
                    "the canvas has no frame to draw into right now (timeout, occluded or lost)",
                ));
            }
        };
        let view = frame.texture.create_view(&Default::default());
        let task_camera = Camera::for_task(player.env.task());
        let camera = match &self.camera {
            Some(c) => Camera {
                fov_degrees: task_camera.fov_degrees,
                ..*c
            },
            None => task_camera,
        };
        self.renderer
            .set_overlays(player.overlays(self.overlays.0, self.overlays.1));
        self.renderer
            .render(&view, size.0, size.1, &player.env.visuals(), &camera);
        self.renderer.queue().present(frame);
        Ok(())
    }
}

/// Renders a task's scene at reset from `seed` offscreen on WebGPU and resolves to its RGBA
/// pixels (tests and thumbnails).
#[wasm_bindgen(js_name = renderOffscreen)]
pub async fn render_offscreen(
    task_json: String,
    seed: u64,
    width: u32,
    height: u32,
) -> Result<Vec<u8>, JsValue> {
    let task = Task::from_json(&task_json).map_err(|e| task_error(&e))?;
    let mut env = Env::new(task);
    env.reset(seed);
    let visuals = env.visuals();
    let (_, device, queue, _) = open_gpu(&browser_instance(), None).await?;
    let side = max_texture_side(&device);
    let (width, height) = (
        at_most("renderOffscreen: width", width, side)?,
        at_most("renderOffscreen: height", height, side)?,
    );
    let mut renderer = Renderer::new(device, queue, polyskill_render::OFFSCREEN_FORMAT);
    let target = renderer.offscreen_target(width, height);
    let view = target.create_view(&Default::default());
    renderer.render(
        &view,
        width,
        height,
        &visuals,
        &Camera::for_task(env.task()),
    );
    polyskill_render::read_rgba(renderer.device(), renderer.queue(), &target)
        .await
        .map_err(js_error)
}
