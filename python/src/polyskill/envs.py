"""One Polyskill task as a Gymnasium (>= 1.0) environment.

Semantics are Gymnasium's exactly: ``reset(seed=None, options=None) -> (obs, info)`` draws
every bit of the episode's randomness from the seed (``seed=None`` draws one from the
environment's ``np_random``), ``step(action) -> (obs, reward, terminated, truncated, info)``
with ``info["success"]``; the spaces come from the task file (``Box`` for continuous actions,
``Discrete`` for a task's named choices). ``render_mode="rgb_array"`` draws uint8 frames with
the native renderer (Vulkan; lavapipe works headless), so ``RecordVideo`` works. An
environment pickles: it is re-created from its task JSON and its episode replayed from the
seed and the actions taken (the simulator is deterministic), so ``AsyncVectorEnv`` and Ray
workers can build and move it.
"""

from __future__ import annotations

import json
import os
from typing import Any

import gymnasium
import numpy as np
from gymnasium import spaces

from . import _native

_SHIPPED = dict(_native.shipped_tasks())


def task_json(task: str | os.PathLike | dict) -> str:
    """The JSON text of ``task``: a shipped task's name, a path to a task file, a task as a
    dict, or task JSON text itself. Raises ``ValueError`` (with every problem and its place)
    for a task that does not validate, ``FileNotFoundError`` for a missing file."""
    if isinstance(task, dict):
        text = json.dumps(task)
    elif isinstance(task, os.PathLike) or (isinstance(task, str) and task.endswith(".json")):
        with open(task, encoding="utf-8") as f:
            text = f.read()
    elif isinstance(task, str) and task in _SHIPPED:
        text = _SHIPPED[task]
    elif isinstance(task, str) and task.lstrip().startswith("{"):
        text = task
    else:
        raise ValueError(
            f"unknown task {task!r}: give a shipped task ({', '.join(sorted(_SHIPPED))}), "
            "a path to a task file (.json), a dict or JSON text"
        )
    _native.validate(text)
    return text


def spaces_of(native: Any) -> tuple[spaces.Box, spaces.Space]:
    """The observation and action spaces of a native environment."""
    observation = spaces.Box(-np.inf, np.inf, shape=(native.observation_size,), dtype=np.float32)
    described = json.loads(native.action_space)
    if described["kind"] == "discrete":
        action: spaces.Space = spaces.Discrete(len(described["choices"]))
    else:
        action = spaces.Box(
            np.asarray(described["low"], dtype=np.float32),
            np.asarray(described["high"], dtype=np.float32),
            dtype=np.float32,
        )
    return observation, action


def as_action(action: Any, space: spaces.Space) -> np.ndarray:
    """``action`` as the float32 vector the simulator takes; raises naming the expected and
    the found shape or type."""
    if isinstance(space, spaces.Discrete):
        value = np.asarray(action)
        if value.shape not in ((), (1,)) or value.dtype.kind not in "iu":
            raise ValueError(
                f"action {action!r}: expected one integer choice in 0..{space.n} "
                f"(found dtype {value.dtype}, shape {value.shape})"
            )
        return np.asarray([float(value.reshape(()))], dtype=np.float32)
    value = np.asarray(action)
    if value.dtype.kind not in "fiu":
        raise TypeError(f"action has dtype {value.dtype}; expected float32 numbers")
    if value.shape != space.shape:
        raise ValueError(f"action has shape {value.shape}; expected {space.shape}")
    return np.ascontiguousarray(value, dtype=np.float32)


class PolyskillEnv(gymnasium.Env):
    """A Polyskill task (see :func:`task_json` for what ``task`` may be)."""

    metadata = {"render_modes": ["rgb_array"], "render_fps": 80}

    def __init__(
        self,
        task: str | os.PathLike | dict = "reach",
        render_mode: str | None = None,
        width: int = 320,
        height: int = 240,
    ) -> None:
        if render_mode not in (None, "rgb_array"):
            raise ValueError(f"render_mode {render_mode!r}: expected None or 'rgb_array'")
        self._json = task_json(task)
        self._native = _native.Env(self._json)
        self.observation_space, self.action_space = spaces_of(self._native)
        self.render_mode = render_mode
        self.width, self.height = int(width), int(height)
        # Real time: one step is the task's timestep × frame_skip.
        self.metadata = {**self.metadata, "render_fps": round(1.0 / self._native.step_seconds)}
        self.task_id: str = self._native.task_id
        self._seed: int | None = None
        self._actions: list[np.ndarray] = []

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        episode_seed = int(seed) if seed is not None else int(self.np_random.integers(0, 2**63))
        if episode_seed < 0:
            raise ValueError(f"seed must be ≥ 0, got {seed}")
        self._seed, self._actions = episode_seed, []
        observation = self._native.reset(episode_seed)
        return observation, {"success": False, "seed": episode_seed}

    def step(self, action):
        value = as_action(action, self.action_space)
        observation, reward, terminated, truncated, success = self._native.step(value)
        self._actions.append(value)
        return observation, float(reward), terminated, truncated, {"success": success}

    def render(self):
        if self.render_mode != "rgb_array":
            return None
        return self._native.render(self.width, self.height)

    def expert_action(self) -> np.ndarray:
        """The task's scripted expert's action now (raises if the task has none)."""
        return self._native.expert_action()

    # Pickling: the task, the settings and the episode so far (replayed on load).
    def __getstate__(self) -> dict:
        return {
            "json": self._json,
            "render_mode": self.render_mode,
            "size": (self.width, self.height),
            "seed": self._seed,
            "actions": [a.tolist() for a in self._actions],
            "np_random": self._np_random,
        }

    def __setstate__(self, state: dict) -> None:
        self.__init__(state["json"], state["render_mode"], *state["size"])
        self._np_random = state["np_random"]
        if state["seed"] is not None:
            self._seed = state["seed"]
            self._native.reset(self._seed)
            for action in state["actions"]:
                value = np.asarray(action, dtype=np.float32)
                self._native.step(value)
                self._actions.append(value)


def make(task: str | os.PathLike | dict, **kwargs) -> gymnasium.Env:
    """A Gymnasium environment of any task (a shipped name, a path, a dict or JSON text),
    truncated at the file's ``max_steps`` like the registered ones."""
    text = task_json(task)
    env = PolyskillEnv(text, **kwargs)
    return gymnasium.wrappers.TimeLimit(env, max_episode_steps=json.loads(text)["max_steps"])
