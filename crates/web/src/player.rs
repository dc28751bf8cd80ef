//! [`Player`]: one simulated task for the page (reset, step, the expert's and a random
//! action, the camera and the scene to draw, with the hand's trail it records as it steps).

use crate::{js_error, task_error, to_js};
use polyskill_render::overlay::TRAIL_POINTS;
use polyskill_render::{Camera, Overlays, Trail};
use polyskill_sim::task::Task;
use polyskill_sim::{Env, ExpertPolicy, RandomPolicy};
use wasm_bindgen::prelude::*;

/// One simulated task: reset, step with an action, the expert's action, the scene.
#[wasm_bindgen]
pub struct Player {
    pub(crate) env: Env,
    expert: Option<ExpertPolicy>,
    random: RandomPolicy,
    /// The hand's path in this episode (for the trail overlay).
    trail: Trail,
}

#[wasm_bindgen]
impl Player {
    /// Creates a player for a task file's JSON text; throws on an invalid task.
    #[wasm_bindgen(constructor)]
    pub fn new(task_json: &str) -> Result<Player, JsValue> {
        let task = Task::from_json(task_json).map_err(|e| task_error(&e))?;
        let env = Env::new(task);
        let expert = ExpertPolicy::for_env(&env);
        let random = RandomPolicy::new(env.task(), 0);
        Ok(Player {
            env,
            expert,
            random,
            trail: Trail::new(TRAIL_POINTS),
        })
    }

    /// Starts an episode from `seed`; returns the first observation.
    pub fn reset(&mut self, seed: u64) -> Vec<f32> {
        if let Some(e) = self.expert.as_mut() {
            e.reset();
        }
        self.random = RandomPolicy::new(self.env.task(), seed);
        let observation = self.env.reset(seed).to_vec();
        self.trail.clear();
        self.record_hand();
        observation
    }

    /// Adds the hand's position to the trail (tasks with a hand).
    fn record_hand(&mut self) {
        if self.env.task().hand.is_some() {
            self.trail.push(self.env.hand_position());
        }
    }

    /// Steps with `action`; returns `{observation, reward, terminated, truncated, success,
    /// diverged}`. Throws on a wrong-sized or non-finite action.
    pub fn step(&mut self, action: &[f32]) -> Result<JsValue, JsValue> {
        let step = self.env.step(action).map_err(js_error)?;
        self.record_hand();
        to_js(&step)
    }

    /// The debug overlays' points, `{trail, contacts}` (each a list of `[x, y, z]`; empty
    /// when not asked for): the hand's path this episode and where bodies touch now (for the
    /// 2D fallback view; the WebGPU view draws them itself).
    #[wasm_bindgen(js_name = overlayPoints)]
    pub fn overlay_points(&self, trail: bool, contacts: bool) -> Result<JsValue, JsValue> {
        let o = self.overlays(trail, contacts);
        to_js(&serde_json::json!({ "trail": o.trail, "contacts": o.contacts }))
    }

    /// The current observation.
    pub fn observation(&self) -> Vec<f32> {
        self.env.observation().to_vec()
    }

    /// The task expert's action for the current state; throws if the task has no expert.
    #[wasm_bindgen(js_name = expertAction)]
    pub fn expert_action(&mut self) -> Result<Vec<f32>, JsValue> {
        let expert = self
            .expert
            .as_mut()
            .ok_or_else(|| js_error("this task has no expert"))?;
        Ok(expert.act(&self.env).to_vec())
    }

    /// A uniformly random action from the task's action space (a seeded stream per episode).
    #[wasm_bindgen(js_name = randomAction)]
    pub fn random_action(&mut self) -> Vec<f32> {
        self.random.act()
    }

    /// The action space: `{continuous: {low, high}}` or `{discrete: {choices}}`.
    #[wasm_bindgen(js_name = actionSpace)]
    pub fn action_space(&self) -> Result<JsValue, JsValue> {
        to_js(&self.env.task().action_space())
    }

    /// Steps after which an episode is cut off (the task's `max_steps`).
    #[wasm_bindgen(getter, js_name = maxSteps)]
    pub fn max_steps(&self) -> u32 {
        self.env.task().max_steps
    }

    /// Simulated seconds per environment step (the task's `timestep × frame_skip`): a player
    /// showing the task in real time takes `1 / stepSeconds` steps per second.
    #[wasm_bindgen(getter, js_name = stepSeconds)]
    pub fn step_seconds(&self) -> f64 {
        let task = self.env.task();
        task.timestep as f64 * task.frame_skip as f64
    }

    /// Steps taken in this episode.
    #[wasm_bindgen(getter)]
    pub fn steps(&self) -> u32 {
        self.env.steps()
    }

    /// Whether success has held at some step of this episode.
    #[wasm_bindgen(getter, js_name = episodeSuccess)]
    pub fn episode_success(&self) -> bool {
        self.env.episode_success()
    }

    /// The task's id.
    #[wasm_bindgen(getter, js_name = taskId)]
    pub fn task_id(&self) -> String {
        self.env.task().id.clone()
    }

    /// Whether the task brings its own expert.
    #[wasm_bindgen(getter, js_name = hasExpert)]
    pub fn has_expert(&self) -> bool {
        self.expert.is_some()
    }

    /// Number of action components.
    #[wasm_bindgen(getter, js_name = actionSize)]
    pub fn action_size(&self) -> usize {
        self.env.action_size()
    }

    /// The task's camera `{eye, target, fov_degrees}`, so the 2D fallback view projects the
    /// scene exactly as the WebGPU view does.
    pub fn camera(&self) -> Result<JsValue, JsValue> {
        let c = Camera::for_task(self.env.task());
        to_js(
            &serde_json::json!({ "eye": c.eye, "target": c.target, "fov_degrees": c.fov_degrees }),
        )
    }

    /// The overlays asked for: the hand's trail and the current contact points.
    pub(crate) fn overlays(&self, trail: bool, contacts: bool) -> Overlays {
        Overlays {
            trail: if trail { self.trail.points() } else { vec![] },
            contacts: if contacts {
                self.env.contact_points()
            } else {
                vec![]
            },
        }
    }

    /// Every body's `{shape, position, rotation, color}` (for the 2D fallback view).
    pub fn visuals(&self) -> Result<JsValue, JsValue> {
        to_js(&self.env.visuals())
    }
}
