//! `polyskill._native`: the Rust side of the `polyskill` Python package (PyO3, one abi3
//! extension for CPython ≥ 3.9). It holds the simulator ([`Env`], [`VecEnv`]), saved policies
//! ([`Policy`]), the offscreen renderer and the shipped tasks; the Gymnasium classes around
//! them are Python (`python/src/polyskill/`).
//!
//! Arrays cross without copies where they can: observations, rewards and frames are built as
//! Rust vectors and handed to NumPy as they are (`PyArray::from_vec`); actions are read from
//! the caller's array in place. Every bad input is a Python exception naming what is wrong
//! (a task's problems with their JSON paths and line:column, an action's expected and found
//! size); a Rust panic would surface as PyO3's `PanicException`, never a crash.

use numpy::{
    PyArray1, PyArray2, PyArray3, PyArrayMethods, PyReadonlyArray1, PyReadonlyArray2,
    PyUntypedArrayMethods,
};
use polyskill_learn::{Device, weights};
use polyskill_render::{Camera, OFFSCREEN_FORMAT, Renderer, offscreen};
use polyskill_sim::task::{ActionSpace, Task};
use polyskill_sim::{ExpertPolicy, SimError};
use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyBytes;

include!(concat!(env!("OUT_DIR"), "/shipped.rs"));

/// A task's problems as a `ValueError`: one line per problem, `line:column: path: message`
/// (the CLI's form).
fn task_error(e: polyskill_sim::task::TaskError) -> PyErr {
    let lines: Vec<String> = e
        .issues
        .iter()
        .map(|i| match (i.line, i.column) {
            (Some(l), Some(c)) => format!("{l}:{c}: {}: {}", display_path(&i.path), i.message),
            _ => format!("{}: {}", display_path(&i.path), i.message),
        })
        .collect();
    PyValueError::new_err(format!("invalid task:\n{}", lines.join("\n")))
}

fn display_path(path: &str) -> &str {
    if path.is_empty() { "(task)" } else { path }
}

fn sim_error(e: SimError) -> PyErr {
    PyValueError::new_err(e.to_string())
}

fn parse(task_json: &str) -> PyResult<Task> {
    Task::from_json(task_json).map_err(task_error)
}

/// The action space as plain data: `{"kind": "box", "low": […], "high": […]}` or
/// `{"kind": "discrete", "choices": [names…]}`.
fn action_space_json(task: &Task) -> String {
    let value = match task.action_space() {
        ActionSpace::Continuous { low, high } => {
            serde_json::json!({ "kind": "box", "low": low, "high": high })
        }
        ActionSpace::Discrete { choices } => {
            serde_json::json!({ "kind": "discrete", "choices": choices })
        }
    };
    value.to_string()
}

/// Checks a task file's text; raises `ValueError` listing every problem.
#[pyfunction]
fn validate(task_json: &str) -> PyResult<()> {
    parse(task_json).map(|_| ())
}

/// The shipped tasks as `{name: task JSON}`.
#[pyfunction]
fn shipped_tasks() -> Vec<(&'static str, &'static str)> {
    SHIPPED.to_vec()
}

/// `web/tasks.json` (the task list and the named sets, e.g. `mt10`), as JSON text.
#[pyfunction]
fn task_index() -> &'static str {
    INDEX
}

/// One environment of a task: reset from a seed, step with an action, draw a frame.
#[pyclass(module = "polyskill._native", unsendable)]
struct Env {
    env: polyskill_sim::Env,
    expert: Option<ExpertPolicy>,
    task_json: String,
    renderer: Option<Renderer>,
}

#[pymethods]
impl Env {
    /// An environment of the task in `task_json` (raises `ValueError` for a broken task).
    #[new]
    fn new(task_json: &str) -> PyResult<Env> {
        let env = polyskill_sim::Env::new(parse(task_json)?);
        let expert = ExpertPolicy::for_env(&env);
        Ok(Env {
            env,
            expert,
            task_json: task_json.to_string(),
            renderer: None,
        })
    }

    /// Starts the episode of `seed` (all of its randomness comes from the seed); its first
    /// observation.
    fn reset<'py>(&mut self, py: Python<'py>, seed: u64) -> Bound<'py, PyArray1<f32>> {
        if let Some(expert) = self.expert.as_mut() {
            expert.reset();
        }
        PyArray1::from_vec(py, self.env.reset(seed).to_vec())
    }

    /// One step with `action` (float32, the task's action size; a discrete task's choice as
    /// its index): `(observation, reward, terminated, truncated, success)`.
    #[allow(clippy::type_complexity)]
    fn step<'py>(
        &mut self,
        py: Python<'py>,
        action: PyReadonlyArray1<'py, f32>,
    ) -> PyResult<(Bound<'py, PyArray1<f32>>, f32, bool, bool, bool)> {
        let step = self.env.step(action.as_slice()?).map_err(sim_error)?;
        Ok((
            PyArray1::from_vec(py, step.observation),
            step.reward,
            step.terminated,
            step.truncated,
            step.success,
        ))
    }

    /// The task's scripted expert's action for the current state (raises if it has none).
    fn expert_action<'py>(&mut self, py: Python<'py>) -> PyResult<Bound<'py, PyArray1<f32>>> {
        let expert = self.expert.as_mut().ok_or_else(|| {
            PyValueError::new_err(format!("task {} has no expert", self.env.task().id))
        })?;
        Ok(PyArray1::from_vec(py, expert.act(&self.env)))
    }

    /// The current scene drawn offscreen (Vulkan; lavapipe headless) as `height × width × 3`
    /// uint8 RGB.
    fn render<'py>(
        &mut self,
        py: Python<'py>,
        width: u32,
        height: u32,
    ) -> PyResult<Bound<'py, PyArray3<u8>>> {
        if !(1..=8192).contains(&width) || !(1..=8192).contains(&height) {
            return Err(PyValueError::new_err(format!(
                "render size must be 1..=8192 on each side, got {width}×{height}"
            )));
        }
        if self.renderer.is_none() {
            let (device, queue, _) = offscreen::device().map_err(PyRuntimeError::new_err)?;
            self.renderer = Some(Renderer::new(device, queue, OFFSCREEN_FORMAT));
        }
        let renderer = self
            .renderer
            .as_mut()
            .ok_or_else(|| PyRuntimeError::new_err("no renderer"))?;
        let rgba = offscreen::render_rgba(
            renderer,
            &self.env.visuals(),
            &Camera::for_task(self.env.task()),
            width,
            height,
        )
        .map_err(PyRuntimeError::new_err)?;
        let rgb: Vec<u8> = rgba
            .chunks_exact(4)
            .flat_map(|p| [p[0], p[1], p[2]])
            .collect();
        PyArray1::from_vec(py, rgb)
            .reshape([height as usize, width as usize, 3])
            .map_err(|e| PyRuntimeError::new_err(e.to_string()))
    }

    /// The task's JSON text (what re-creates this environment, e.g. when pickled).
    #[getter]
    fn task_json(&self) -> &str {
        &self.task_json
    }

    /// The task's id.
    #[getter]
    fn task_id(&self) -> &str {
        &self.env.task().id
    }

    /// Values per observation.
    #[getter]
    fn observation_size(&self) -> usize {
        self.env.observation_size()
    }

    /// The action space as JSON (`{"kind": "box", "low", "high"}` or `{"kind": "discrete",
    /// "choices"}`).
    #[getter]
    fn action_space(&self) -> String {
        action_space_json(self.env.task())
    }

    /// Steps after which an episode is truncated.
    #[getter]
    fn max_steps(&self) -> u32 {
        self.env.task().max_steps
    }

    /// Simulated seconds per step (timestep × frame_skip).
    #[getter]
    fn step_seconds(&self) -> f64 {
        let task = self.env.task();
        task.timestep as f64 * task.frame_skip as f64
    }

    /// Whether the task has a scripted expert.
    #[getter]
    fn has_expert(&self) -> bool {
        self.expert.is_some()
    }
}

/// Many environments of one or several tasks stepped together in Rust, with Gymnasium's
/// same-step autoreset: where an episode ends, the returned row is the next episode's first
/// observation and the last one is in `final_observations`.
#[pyclass(module = "polyskill._native", unsendable)]
struct VecEnv {
    tasks: Vec<Task>,
    counts: Vec<usize>,
    inner: polyskill_sim::VecEnv,
}

/// What one `VecEnv.step` returns: observations, rewards, terminated, truncated, success (of
/// each environment's episode so far, or of the one that just ended), and the final
/// observations of ended episodes by environment index.
type VecStepOut<'py> = (
    Bound<'py, PyArray2<f32>>,
    Bound<'py, PyArray1<f32>>,
    Bound<'py, PyArray1<bool>>,
    Bound<'py, PyArray1<bool>>,
    Bound<'py, PyArray1<bool>>,
    Vec<(usize, Bound<'py, PyArray1<f32>>)>,
);

fn rows<'py>(
    py: Python<'py>,
    values: Vec<f32>,
    width: usize,
) -> PyResult<Bound<'py, PyArray2<f32>>> {
    let n = values.len() / width.max(1);
    PyArray1::from_vec(py, values)
        .reshape([n, width])
        .map_err(|e| PyRuntimeError::new_err(e.to_string()))
}

#[pymethods]
impl VecEnv {
    /// `counts[i]` environments of the task `task_jsons[i]`, environment `e` seeded `seed + e`.
    #[new]
    fn new(task_jsons: Vec<String>, counts: Vec<usize>, seed: u64) -> PyResult<VecEnv> {
        let tasks = task_jsons
            .iter()
            .map(|t| parse(t))
            .collect::<PyResult<Vec<_>>>()?;
        let inner =
            polyskill_sim::VecEnv::new(&tasks, &counts, seed).map_err(PyValueError::new_err)?;
        Ok(VecEnv {
            tasks,
            counts,
            inner,
        })
    }

    /// Starts again from `seed` (environment `e` from `seed + e`); the first observations.
    fn reset<'py>(&mut self, py: Python<'py>, seed: u64) -> PyResult<Bound<'py, PyArray2<f32>>> {
        self.inner = polyskill_sim::VecEnv::new(&self.tasks, &self.counts, seed)
            .map_err(PyValueError::new_err)?;
        rows(py, self.inner.observations(), self.inner.observation_size())
    }

    /// Steps every environment with its row of `actions` (`num_envs × action size`, float32).
    fn step<'py>(
        &mut self,
        py: Python<'py>,
        actions: PyReadonlyArray2<'py, f32>,
    ) -> PyResult<VecStepOut<'py>> {
        let shape = actions.shape();
        let expected = [self.inner.num_envs(), self.inner.action_size()];
        if shape != expected {
            return Err(PyValueError::new_err(format!(
                "actions have shape {shape:?}; expected {expected:?} (num_envs × action size)"
            )));
        }
        let step = self.inner.step(actions.as_slice()?).map_err(sim_error)?;
        let mut success: Vec<bool> = self
            .inner
            .envs()
            .iter()
            .map(|e| e.episode_success())
            .collect();
        for (e, _, result) in &step.finished {
            success[*e] = result.success;
        }
        let finals = step
            .finished
            .iter()
            .zip(step.final_observations)
            .map(|((e, _, _), obs)| (*e, PyArray1::from_vec(py, obs)))
            .collect();
        Ok((
            rows(py, step.observations, self.inner.observation_size())?,
            PyArray1::from_vec(py, step.rewards),
            PyArray1::from_vec(py, step.terminated),
            PyArray1::from_vec(py, step.truncated),
            PyArray1::from_vec(py, success),
            finals,
        ))
    }

    /// Environments stepped together.
    #[getter]
    fn num_envs(&self) -> usize {
        self.inner.num_envs()
    }

    /// Which task (index into the tasks given) each environment plays.
    #[getter]
    fn task_indices(&self) -> Vec<usize> {
        self.inner.task_indices().to_vec()
    }
}

/// A saved Polyskill policy (safetensors with its metadata) on the CPU.
#[pyclass(module = "polyskill._native", unsendable)]
struct Policy {
    policy: polyskill_learn::Policy,
}

#[pymethods]
impl Policy {
    /// Loads a policy from the bytes of its safetensors file.
    #[new]
    fn new(data: &Bound<'_, PyBytes>) -> PyResult<Policy> {
        let policy = weights::load(data.as_bytes(), &Device::flex())
            .map_err(|e| PyValueError::new_err(e.to_string()))?;
        Ok(Policy { policy })
    }

    /// Actions for a batch of observations (`n × observation size`, float32) from `task` (the
    /// task's id; needed by a multi-task policy): `n × action size`.
    #[pyo3(signature = (observations, task=None))]
    fn act<'py>(
        &self,
        py: Python<'py>,
        observations: PyReadonlyArray2<'py, f32>,
        task: Option<&str>,
    ) -> PyResult<Bound<'py, PyArray2<f32>>> {
        let width = self.policy.observation_size();
        if observations.shape()[1] != width {
            return Err(PyValueError::new_err(format!(
                "observations have {} columns; this policy observes {width} values",
                observations.shape()[1]
            )));
        }
        let actions = self
            .policy
            .act_in(observations.as_slice()?, task)
            .map_err(PyValueError::new_err)?;
        rows(py, actions, self.policy.action_size())
    }

    /// The policy's tensors as saved (PyTorch layout, `[out, in]` weights): name → array.
    fn tensors<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, pyo3::types::PyDict>> {
        let dict = pyo3::types::PyDict::new(py);
        for (name, values, shape) in
            weights::tensors(&self.policy).map_err(|e| PyValueError::new_err(e.to_string()))?
        {
            let array = PyArray1::from_vec(py, values).reshape(shape)?;
            dict.set_item(name, array)?;
        }
        Ok(dict)
    }

    /// The policy as an ONNX model (the bytes of a `.onnx` file; see `polyskill export`).
    fn to_onnx<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyBytes>> {
        let model = polyskill_learn::onnx::export(&self.policy).map_err(PyValueError::new_err)?;
        Ok(PyBytes::new(py, &model))
    }

    /// The policy's metadata (architecture, tasks, training, evaluation) as JSON.
    #[getter]
    fn info(&self) -> PyResult<String> {
        serde_json::to_string(&self.policy.info).map_err(|e| PyRuntimeError::new_err(e.to_string()))
    }
}

/// The module.
#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Env>()?;
    m.add_class::<VecEnv>()?;
    m.add_class::<Policy>()?;
    m.add_function(wrap_pyfunction!(validate, m)?)?;
    m.add_function(wrap_pyfunction!(shipped_tasks, m)?)?;
    m.add_function(wrap_pyfunction!(task_index, m)?)?;
    Ok(())
}
