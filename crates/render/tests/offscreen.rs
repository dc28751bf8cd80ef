//! Native offscreen rendering through Vulkan (lavapipe here): a frame of the reach scene is
//! not just the clear colour, and the hand, table and goal colours all show up; a floating box
//! casts a shadow; a slanted edge is anti-aliased.

use polyskill_render::{Camera, OFFSCREEN_FORMAT, Renderer, non_background_pixels, offscreen};
use polyskill_sim::task::Task;
use polyskill_sim::{Env, Role, Visual};

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

/// A test scene: a grey slab as the table and, `lift` above it, a box of half-size `half`
/// (`thick` along z) turned `yaw` radians about z, seen from straight above.
fn slab_and_box(
    lift: f32,
    [half, thick]: [f32; 2],
    yaw: f32,
    color: [f32; 3],
) -> (Vec<Visual>, Camera) {
    use polyskill_sim::task::{Shape, V3};
    let slab = Visual {
        shape: Shape::Box {
            half_extents: V3([0.5, 0.5, 0.02]),
        },
        position: [0.0, 0.0, -0.02],
        rotation: [0.0, 0.0, 0.0, 1.0],
        color: [0.3, 0.3, 0.3],
        role: Role::Body,
    };
    let (s, c) = (yaw / 2.0).sin_cos();
    let cube = Visual {
        shape: Shape::Box {
            half_extents: V3([half, half, thick]),
        },
        position: [0.0, 0.0, lift + thick],
        rotation: [0.0, 0.0, s, c],
        color,
        role: Role::Body,
    };
    let camera = Camera {
        eye: [0.0, -0.001, 1.0],
        target: [0.0, 0.0, 0.0],
        fov_degrees: 40.0,
    };
    (vec![slab, cube], camera)
}

fn luminance(rgba: &[u8], width: u32, [x, y]: [f32; 2]) -> f32 {
    let i = ((y as u32 * width + x as u32) * 4) as usize;
    0.2126 * rgba[i] as f32 + 0.7152 * rgba[i + 1] as f32 + 0.0722 * rgba[i + 2] as f32
}

/// The key light casts shadows: the table under a floating box, displaced along the light's
/// direction, is much darker than the lit table beside it.
#[test]
fn a_floating_box_casts_a_shadow_on_the_table() {
    let (device, queue, _) = offscreen::device().expect("a Vulkan adapter");
    let mut renderer = Renderer::new(device, queue, OFFSCREEN_FORMAT);
    let (lift, half) = (0.1, 0.03);
    let (visuals, camera) = slab_and_box(lift, [half, half], 0.0, [0.9, 0.9, 0.9]);
    let (w, h) = (200, 200);
    let rgba = offscreen::render_rgba(&mut renderer, &visuals, &camera, w, h).unwrap();
    // Where the ray from the box's centre along the light meets the table top (z = 0).
    let light = polyskill_render::LIGHT_DIRECTION.normalize();
    let centre = glam::Vec3::new(0.0, 0.0, lift + half);
    let shadow = centre + light * (centre.z / -light.z);
    let shadowed = luminance(&rgba, w, camera.project(shadow.to_array(), w, h).unwrap());
    let lit = luminance(&rgba, w, camera.project([0.3, -0.3, 0.0], w, h).unwrap());
    assert!(
        shadowed < 0.7 * lit,
        "the table under the box ({shadowed:.0}) is not darker than the lit table ({lit:.0})"
    );
}

/// Edges are anti-aliased: across the slanted edge of a bright box on the grey table, most
/// rows pass through a pixel strictly between the two surfaces' shades.
#[test]
fn a_slanted_edge_has_intermediate_pixels() {
    let (device, queue, _) = offscreen::device().expect("a Vulkan adapter");
    let mut renderer = Renderer::new(device, queue, OFFSCREEN_FORMAT);
    // A thin plate, so no side face lies between the table and the top.
    let (visuals, camera) = slab_and_box(0.0, [0.1, 0.003], 0.17, [1.0, 1.0, 1.0]);
    let (w, h) = (200, 200);
    let rgba = offscreen::render_rgba(&mut renderer, &visuals, &camera, w, h).unwrap();
    let table = luminance(&rgba, w, camera.project([0.25, -0.25, 0.0], w, h).unwrap());
    let top = luminance(&rgba, w, camera.project([0.0, 0.0, 0.006], w, h).unwrap());
    assert!(top > table + 40.0, "box {top:.0}, table {table:.0}");
    let (mut rows, mut blended) = (0, 0);
    for y in (h / 2 - 30)..(h / 2 + 30) {
        // From the table at the left edge of the image towards the box's centre.
        let row: Vec<f32> = (0..w / 2)
            .map(|x| luminance(&rgba, w, [x as f32, y as f32]))
            .collect();
        let Some(first_box) = row.iter().position(|&l| l > top - 10.0) else {
            continue;
        };
        rows += 1;
        let before = &row[first_box.saturating_sub(3)..first_box];
        if before.iter().any(|&l| l > table + 10.0 && l < top - 10.0) {
            blended += 1;
        }
    }
    assert!(rows >= 50, "the box's edge crossed only {rows} rows");
    assert!(
        blended * 2 >= rows,
        "only {blended} of {rows} rows have an anti-aliased pixel at the edge"
    );
}
