//! Native offscreen rendering through Vulkan (lavapipe here): a frame of the reach scene is
//! not just the clear colour, and the hand, table and goal colours all show up.

use polyskill_render::{Camera, OFFSCREEN_FORMAT, Renderer, non_background_pixels, offscreen};
use polyskill_sim::Env;
use polyskill_sim::task::Task;

#[test]
fn reach_scene_renders_its_bodies() {
    let (device, queue, adapter) =
        offscreen::device().expect("a Vulkan adapter (mesa-vulkan-drivers)");
    let mut renderer = Renderer::new(device, queue, OFFSCREEN_FORMAT);
    let mut env = Env::new(Task::from_json(include_str!("../../../web/tasks/reach.json")).unwrap());
    env.reset(1);
    let (w, h) = (160, 120);
    let rgba = offscreen::render_rgba(
        &mut renderer,
        &env.visuals(),
        &Camera::for_task(env.task()),
        w,
        h,
    )
    .unwrap();
    assert_eq!(rgba.len(), (w * h * 4) as usize);
    let drawn = non_background_pixels(&rgba);
    assert!(
        drawn > (w * h / 10) as usize,
        "only {drawn} pixels drawn on {adapter}"
    );
    // Some pixel is dominated by blue (the hand) and some by red (the goal).
    let dominant = |c: usize| {
        rgba.chunks_exact(4).any(|p| {
            let (v, others) = (
                p[c] as i32,
                (0..3)
                    .filter(|&i| i != c)
                    .map(|i| p[i] as i32)
                    .max()
                    .unwrap(),
            );
            v > others + 40
        })
    };
    assert!(dominant(2), "no blue hand pixel");
    assert!(dominant(0), "no red goal pixel");
    if let Ok(dir) = std::env::var("POLYSKILL_ARTIFACTS") {
        offscreen::write_png(
            &std::path::Path::new(&dir).join("reach-native.png"),
            &rgba,
            w,
            h,
        )
        .unwrap();
    }
}
