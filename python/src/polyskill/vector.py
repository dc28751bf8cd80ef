"""Vector environments stepped in Rust (no Python loop per environment).

``gymnasium.make_vec("polyskill/push-v1", num_envs=N)`` builds a :class:`PolyskillVectorEnv`
through the registered ``vector_entry_point``; :func:`make_mt` builds a multi-task one (MT10:
``envs_per_task`` environments of each task of a set, the task's one-hot appended to the
observation, as Meta-World's MT benchmarks give it). Reset follows Gymnasium: environment ``i``
starts from ``seed + i``. Autoreset is Gymnasium's *same-step* mode (declared in
``metadata["autoreset_mode"]``): where an episode ends, the returned row is already the next
episode's first observation and the last one is in ``info["final_obs"]`` (masked by
``info["_final_obs"]``); ``info["success"]`` is each environment's episode success (of the
episode that just ended, where one did).
"""

from __future__ import annotations

import json

import gymnasium
import numpy as np
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from . import _native
from .envs import spaces_of, task_json


class PolyskillVectorEnv(VectorEnv):
    """``num_envs`` environments of one task, or ``envs_per_task`` of each of ``tasks``."""

    metadata = {"autoreset_mode": AutoresetMode.SAME_STEP, "render_modes": []}

    def __init__(
        self,
        task=None,
        num_envs: int = 1,
        *,
        tasks=None,
        envs_per_task: int | None = None,
        one_hot: bool = False,
        **ignored,
    ) -> None:
        if ignored.get("render_mode") not in (None,):
            raise ValueError("PolyskillVectorEnv does not render; use a single PolyskillEnv")
        names = list(tasks) if tasks is not None else [task if task is not None else "reach"]
        self.task_jsons = [task_json(t) for t in names]
        if tasks is not None:
            counts = [int(envs_per_task or 1)] * len(names)
        else:
            counts = [int(num_envs)]
        if min(counts) < 1:
            raise ValueError(f"need at least one environment per task, got {counts}")
        self._counts = counts
        self._native = _native.VecEnv(self.task_jsons, counts, 0)
        self.num_envs = self._native.num_envs
        self.task_ids = [json.loads(t)["id"] for t in self.task_jsons]
        self.one_hot = bool(one_hot)
        probe = _native.Env(self.task_jsons[0])
        observation, self.single_action_space = spaces_of(probe)
        width = observation.shape[0] + (len(names) if self.one_hot else 0)
        self.single_observation_space = gymnasium.spaces.Box(-np.inf, np.inf, (width,), np.float32)
        self.observation_space = batch_space(self.single_observation_space, self.num_envs)
        self.action_space = batch_space(self.single_action_space, self.num_envs)
        self._codes = np.eye(len(names), dtype=np.float32)[np.asarray(self._native.task_indices)]

    def _observe(self, rows: np.ndarray) -> np.ndarray:
        return np.concatenate([rows, self._codes], axis=1) if self.one_hot else rows

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        if isinstance(seed, (list, tuple)):
            seed = seed[0]
        start = int(seed) if seed is not None else int(self.np_random.integers(0, 2**62))
        rows = self._native.reset(start)
        return self._observe(rows), {"task": np.asarray(self._native.task_indices)}

    def step(self, actions):
        if isinstance(self.single_action_space, gymnasium.spaces.Discrete):
            values = np.asarray(actions)
            if values.shape != (self.num_envs,) or values.dtype.kind not in "iu":
                raise ValueError(
                    f"actions have shape {values.shape} and dtype {values.dtype}; "
                    f"expected ({self.num_envs},) integer choices"
                )
            batch = values.astype(np.float32).reshape(self.num_envs, 1)
        else:
            values = np.asarray(actions)
            if values.dtype.kind not in "fiu":
                raise TypeError(f"actions have dtype {values.dtype}; expected float32 numbers")
            expected = (self.num_envs, *self.single_action_space.shape)
            if values.shape != expected:
                raise ValueError(f"actions have shape {values.shape}; expected {expected}")
            batch = np.ascontiguousarray(values, dtype=np.float32)
        rows, rewards, terminated, truncated, success, finals = self._native.step(batch)
        info = {"success": success, "_success": np.ones(self.num_envs, dtype=bool)}
        if finals:
            final_obs = np.empty(self.num_envs, dtype=object)
            mask = np.zeros(self.num_envs, dtype=bool)
            for e, last in finals:
                final_obs[e] = self._observe(last[None, :])[0]
                mask[e] = True
            info["final_obs"], info["_final_obs"] = final_obs, mask
        return self._observe(rows), rewards.astype(np.float64), terminated, truncated, info


def make_mt(task_set: str = "mt10", envs_per_task: int = 1, seed: int | None = None, one_hot: bool = True):
    """A multi-task vector environment: ``envs_per_task`` environments of each task of the set
    ``task_set`` (a name in web/tasks.json, e.g. ``mt10``, or a list of tasks), the task's
    one-hot appended to each observation (``one_hot=False`` leaves it out; ``info["task"]``
    says which task each row is either way)."""
    from . import SETS

    tasks = SETS[task_set] if isinstance(task_set, str) else list(task_set)
    env = PolyskillVectorEnv(tasks=tasks, envs_per_task=envs_per_task, one_hot=one_hot)
    if seed is not None:
        env.reset(seed=seed)
    return env
