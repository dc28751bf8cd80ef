//! `polyskill render`: a task's first frame drawn by the native renderer into a PNG, or a whole
//! episode into an animated GIF, optionally with the debug overlays (the hand's trail, contact
//! points).

use crate::tasks::{TaskArgs, load_task};
use polyskill_learn::Policy;
use polyskill_render::{Camera, OFFSCREEN_FORMAT, Overlays, Renderer, Trail, offscreen};
use polyskill_sim::{Env, ExpertPolicy, RandomPolicy};
use std::path::{Path, PathBuf};

/// Draws the first frame of episode `seed` of the task at `width`×`height` into `out`.
pub(crate) fn render(
    args: &TaskArgs,
    out: &Path,
    seed: u64,
    width: u32,
    height: u32,
) -> Result<(), String> {
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

/// How many of the hand's latest positions a trail keeps (the page's player keeps as many).
const TRAIL_POINTS: usize = polyskill_render::overlay::TRAIL_POINTS;

/// Who acts in a recorded episode.
enum Actor {
    Policy(Box<Policy>),
    Expert(ExpertPolicy),
    Random(Box<RandomPolicy>),
}

impl Actor {
    /// `policy` (a path, or a shipped name under `web/weights/`), else the task's expert, else
    /// random actions.
    fn choose(policy: Option<&str>, env: &Env, seed: u64) -> Result<(Actor, String), String> {
        if let Some(name) = policy {
            let path = if Path::new(name).exists() {
                PathBuf::from(name)
            } else {
                PathBuf::from(format!("web/weights/{name}.safetensors"))
            };
            let policy = crate::inspect::read_policy(&path)
                .map_err(|e| format!("--policy {name} (a file or a shipped policy's name): {e}"))?;
            policy.info.task_index(Some(&env.task().id))?;
            return Ok((Actor::Policy(Box::new(policy)), path.display().to_string()));
        }
        Ok(match ExpertPolicy::for_env(env) {
            Some(expert) => (Actor::Expert(expert), "the task's expert".into()),
            None => (
                Actor::Random(Box::new(RandomPolicy::new(env.task(), seed))),
                "random actions".into(),
            ),
        })
    }

    fn act(&mut self, env: &Env) -> Result<Vec<f32>, String> {
        match self {
            Actor::Policy(p) => p.act_in(env.observation(), Some(&env.task().id)),
            Actor::Expert(e) => Ok(e.act(env)),
            Actor::Random(r) => Ok(r.act()),
        }
    }
}

/// Which debug overlays an episode's frames draw.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct OverlayChoice {
    /// The hand's path so far.
    pub trail: bool,
    /// Where bodies touch.
    pub contacts: bool,
}

/// Records episode `seed` (until it ends or succeeds, plus half a second) as an animated GIF
/// at `size`, one frame every `every` steps, playing in real time, with the `overlays` chosen.
pub(crate) fn episode(
    args: &TaskArgs,
    out: &Path,
    seed: u64,
    [width, height]: [u32; 2],
    policy: Option<&str>,
    every: u32,
    overlays: OverlayChoice,
) -> Result<(), String> {
    if out.extension().and_then(|e| e.to_str()) != Some("gif") {
        return Err(format!(
            "--episode writes a GIF: --out {} should end in .gif",
            out.display()
        ));
    }
    if every == 0 {
        return Err("--every must be at least 1".into());
    }
    let task = load_task(args)?;
    let mut env = Env::new(task);
    env.reset(seed);
    let (mut actor, who) = Actor::choose(policy, &env, seed)?;
    let (device, queue, adapter) = offscreen::device()?;
    let mut renderer = Renderer::new(device, queue, OFFSCREEN_FORMAT);
    let camera = Camera::for_task(env.task());
    let step_ms = env.task().timestep * env.task().frame_skip as f32 * 1000.0;
    let linger = (500.0 / step_ms).ceil() as u32;
    let mut frames = Vec::new();
    let mut trail = Trail::new(TRAIL_POINTS);
    if env.task().hand.is_some() {
        trail.push(env.hand_position());
    }
    let (mut steps, mut success, mut after) = (0u32, false, 0u32);
    loop {
        if steps.is_multiple_of(every) {
            renderer.set_overlays(Overlays {
                trail: if overlays.trail {
                    trail.points()
                } else {
                    vec![]
                },
                contacts: if overlays.contacts {
                    env.contact_points()
                } else {
                    vec![]
                },
            });
            frames.push(offscreen::render_rgba(
                &mut renderer,
                &env.visuals(),
                &camera,
                width,
                height,
            )?);
        }
        let action = actor.act(&env)?;
        let step = env.step(&action).map_err(|e| e.to_string())?;
        if env.task().hand.is_some() {
            trail.push(env.hand_position());
        }
        steps += 1;
        success |= step.success;
        if success {
            after += 1;
        }
        if step.terminated || step.truncated || after > linger {
            break;
        }
    }
    offscreen::write_gif(
        out,
        &mut frames,
        width,
        height,
        (step_ms * every as f32).round() as u32,
    )?;
    eprintln!(
        "wrote {} ({} frames of {steps} steps, {width}×{height}, {who}, {}; {adapter})",
        out.display(),
        frames.len(),
        if success {
            "succeeded"
        } else {
            "did not succeed"
        }
    );
    Ok(())
}
