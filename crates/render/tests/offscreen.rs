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
    let [shadowed, lit, _] = under_and_beside_a_floating_box(&mut renderer);
    assert!(
        shadowed < 0.7 * lit,
        "the table under the box ({shadowed:.0}) is not darker than the lit table ({lit:.0})"
    );
}

/// Draws a light box floating over the table and returns the luminance of the table where the
/// box's shadow falls (the ray from its centre along the light meets the table top), of the
/// table beside it, and of the box's top.
fn under_and_beside_a_floating_box(renderer: &mut Renderer) -> [f32; 3] {
    let (lift, half) = (0.1, 0.03);
    let (visuals, camera) = slab_and_box(lift, [half, half], 0.0, [0.9, 0.9, 0.9]);
    let (w, h) = (200, 200);
    let rgba = offscreen::render_rgba(renderer, &visuals, &camera, w, h).unwrap();
    let light = polyskill_render::LIGHT_DIRECTION.normalize();
    let centre = glam::Vec3::new(0.0, 0.0, lift + half);
    let under = centre + light * (centre.z / -light.z);
    let at = |p: [f32; 3]| luminance(&rgba, w, camera.project(p, w, h).unwrap());
    [
        at(under.to_array()),
        at([0.3, -0.3, 0.0]),
        at([0.0, 0.0, lift + 2.0 * half]),
    ]
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

/// The debug overlays draw where they are: over an expert's push episode the trail's dots and
/// the contact points (the puck on the table, at least) change pixels only near their own
/// projections, most visible points show, and contact dots are red.
#[test]
fn the_hand_trail_and_contact_points_are_drawn_where_they_are() {
    use polyskill_render::{Overlays, Trail};
    use polyskill_sim::ExpertPolicy;
    let (device, queue, _) = offscreen::device().expect("a Vulkan adapter (mesa-vulkan-drivers)");
    let mut renderer = Renderer::new(device, queue, OFFSCREEN_FORMAT);
    let mut env = Env::new(Task::from_json(include_str!("../../../web/tasks/push.json")).unwrap());
    env.reset(2);
    let mut expert = ExpertPolicy::for_env(&env).unwrap();
    let mut trail = Trail::new(400);
    for _ in 0..60 {
        let action = expert.act(&env);
        env.step(&action).unwrap();
        trail.push(env.hand_position());
    }
    let contacts = env.contact_points();
    assert!(
        !contacts.is_empty(),
        "the puck rests on the table: some contact"
    );
    let overlays = Overlays {
        trail: trail.points(),
        contacts,
    };
    assert!(
        overlays.trail.len() > 10,
        "{} trail points",
        overlays.trail.len()
    );
    let (w, h) = (640, 480);
    let camera = Camera::for_task(env.task());
    let plain = offscreen::render_rgba(&mut renderer, &env.visuals(), &camera, w, h).unwrap();
    renderer.set_overlays(overlays.clone());
    let drawn = offscreen::render_rgba(&mut renderer, &env.visuals(), &camera, w, h).unwrap();
    renderer.set_overlays(Overlays::default());
    let again = offscreen::render_rgba(&mut renderer, &env.visuals(), &camera, w, h).unwrap();
    assert_eq!(plain, again, "no overlays after they are cleared");

    let changed: Vec<(usize, usize)> = (0..(w * h) as usize)
        .filter(|&i| (0..3).any(|c| (plain[i * 4 + c] as i32 - drawn[i * 4 + c] as i32).abs() > 8))
        .map(|i| (i % w as usize, i / w as usize))
        .collect();
    let project = |points: &[[f32; 3]]| -> Vec<[f32; 2]> {
        points
            .iter()
            .filter_map(|p| camera.project(*p, w, h))
            .collect()
    };
    let (trail_px, contact_px) = (project(&overlays.trail), project(&overlays.contacts));
    let near = |(x, y): (usize, usize), points: &[[f32; 2]], within: f32| {
        points
            .iter()
            .any(|p| (p[0] - x as f32).hypot(p[1] - y as f32) <= within)
    };
    let all: Vec<[f32; 2]> = trail_px.iter().chain(&contact_px).copied().collect();
    let stray = changed.iter().filter(|&&p| !near(p, &all, 12.0)).count();
    assert!(!changed.is_empty(), "the overlays changed no pixel");
    assert_eq!(
        stray,
        0,
        "{stray} of {} changed pixels are far from every overlay point",
        changed.len()
    );
    let shown = trail_px
        .iter()
        .filter(|p| {
            changed
                .iter()
                .any(|&(x, y)| (p[0] - x as f32).hypot(p[1] - y as f32) <= 3.0)
        })
        .count();
    assert!(
        shown * 2 >= trail_px.len(),
        "{shown} of {} trail dots show",
        trail_px.len()
    );
    let red = changed
        .iter()
        .filter(|&&p| near(p, &contact_px, 2.0))
        .filter(|&&(x, y)| {
            let i = (y * w as usize + x) * 4;
            drawn[i] as i32 > drawn[i + 1] as i32 + 60 && drawn[i] as i32 > drawn[i + 2] as i32 + 60
        })
        .count();
    assert!(red > 0, "no red pixel at a contact point");
    if let Ok(dir) = std::env::var("POLYSKILL_ARTIFACTS") {
        offscreen::write_png(
            &std::path::Path::new(&dir).join("overlays-native.png"),
            &drawn,
            w,
            h,
        )
        .unwrap();
    }
}

/// The software quality's branch-free shader (`fs_lean`: one shadow tap, a fitted sRGB curve)
/// draws the scene as the full shader does with the same samples and shadow map: the reach
/// scene's pixels differ by a few levels on average, and its shadow still shows.
#[test]
fn the_lean_shader_looks_like_the_full_one() {
    use polyskill_render::Quality;
    let render = |quality: Quality| {
        let (device, queue, _) = offscreen::device().expect("a Vulkan adapter");
        let mut renderer = Renderer::with_quality(device, queue, OFFSCREEN_FORMAT, quality);
        let mut env =
            Env::new(Task::from_json(include_str!("../../../web/tasks/reach.json")).unwrap());
        env.reset(1);
        offscreen::render_rgba(
            &mut renderer,
            &env.visuals(),
            &Camera::for_task(env.task()),
            320,
            240,
        )
        .unwrap()
    };
    let full = render(Quality {
        samples: 1,
        shadow_map: 1024,
        shadow_taps: 4,
    });
    let lean = render(Quality::SOFTWARE);
    let diffs: Vec<i32> = full
        .iter()
        .zip(&lean)
        .map(|(a, b)| (*a as i32 - *b as i32).abs())
        .collect();
    let mean = diffs.iter().sum::<i32>() as f64 / diffs.len() as f64;
    let large = diffs.iter().filter(|&&d| d > 24).count();
    assert!(mean < 2.0, "mean difference {mean:.2} levels");
    // Only shadow edges (one tap against four) may differ much.
    assert!(
        large * 100 < diffs.len(),
        "{large} channel values differ by more than 24"
    );
    assert_ne!(full, lean, "two different shaders ran");
}

/// The basic quality (software adapters too slow for shadows) skips the shadow: the table under
/// a floating box is as bright as the table beside it, and the box is still drawn.
#[test]
fn the_basic_quality_draws_no_shadow() {
    use polyskill_render::Quality;
    let (device, queue, _) = offscreen::device().expect("a Vulkan adapter");
    let mut renderer = Renderer::with_quality(device, queue, OFFSCREEN_FORMAT, Quality::BASIC);
    assert_eq!(
        renderer.quality().describe(),
        "no MSAA, no shadows (basic lighting)"
    );
    let [shadowed, lit, top] = under_and_beside_a_floating_box(&mut renderer);
    assert!(
        (shadowed - lit).abs() < 0.1 * lit,
        "under the box {shadowed:.0}, beside it {lit:.0}"
    );
    assert!(top > lit + 40.0, "the box {top:.0} on the table {lit:.0}");
}
