//! `polyskill render`: a task's first frame drawn by the native renderer into a PNG.

use crate::tasks::{TaskArgs, load_task};
use polyskill_sim::Env;
use std::path::Path;

/// Draws the first frame of episode `seed` of the task at `width`×`height` into `out`.
pub(crate) fn render(
    args: &TaskArgs,
    out: &Path,
    seed: u64,
    width: u32,
    height: u32,
) -> Result<(), String> {
    use polyskill_render::{Camera, OFFSCREEN_FORMAT, Renderer, offscreen};
    let task = load_task(args)?;
    let mut env = Env::new(task);
    env.reset(seed);
    let (device, queue, adapter) = offscreen::device()?;
    let mut renderer = Renderer::new(device, queue, OFFSCREEN_FORMAT);
    let rgba = offscreen::render_rgba(
        &mut renderer,
        &env.visuals(),
        &Camera::for_task(env.task()),
        width,
        height,
    )?;
    offscreen::write_png(out, &rgba, width, height)?;
    eprintln!("wrote {} ({width}×{height}, {adapter})", out.display());
    Ok(())
}
