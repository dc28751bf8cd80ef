"""One Gymnasium environment over a task set (``gymnasium.make("polyskill/mt10-v1")``): each
episode plays one of the set's tasks, chosen at reset, with the task's one-hot code appended to
the observation — Meta-World's MT10 as a single environment, for trainers that take one env id
(Stable-Baselines3, RLlib's env runners). :func:`polyskill.make_mt` is the vector form, with a
fixed task per environment.

The task sampler (Meta-World's protocol: tasks uniformly at random, one per episode) draws from
the environment's ``np_random``, so ``reset(seed=s)`` picks the same task and the same episode;
``reset(options={"task": "push"})`` asks for one.
"""

from __future__ import annotations

import gymnasium
import numpy as np
from gymnasium import spaces

from .envs import PolyskillEnv


class PolyskillMultiTaskEnv(gymnasium.Env):
    """The tasks of ``task_set`` (a set named in web/tasks.json, e.g. ``mt10``, or a list of
    shipped task names) behind one observation and action space."""

    metadata = {"render_modes": ["rgb_array"]}

    def __init__(self, task_set: str | list[str] = "mt10", one_hot: bool = True,
                 render_mode: str | None = None) -> None:
        from . import SETS

        if isinstance(task_set, str):
            if task_set not in SETS:
                raise ValueError(f"unknown task set {task_set!r}; the sets are {', '.join(SETS)}")
            names = SETS[task_set]
        else:
            names = list(task_set)
        if not names:
            raise ValueError("a task set needs at least one task")
        self.tasks: list[str] = list(names)
        self.envs = [PolyskillEnv(name, render_mode=render_mode) for name in names]
        first = self.envs[0]
        for env in self.envs[1:]:
            if (env.observation_space.shape, env.action_space) != (first.observation_space.shape, first.action_space):
                raise ValueError(
                    f"tasks {first.task_id} and {env.task_id} have different observation or action "
                    "spaces; one environment needs them equal"
                )
        self.one_hot = one_hot
        self.action_space = first.action_space
        base = first.observation_space
        if one_hot:
            n = len(names)
            self.observation_space = spaces.Box(
                np.concatenate([base.low, np.zeros(n, np.float32)]),
                np.concatenate([base.high, np.ones(n, np.float32)]),
                dtype=np.float32,
            )
        else:
            self.observation_space = base
        self.render_mode = render_mode
        self.metadata = {**self.metadata, "render_fps": first.metadata["render_fps"]}
        self.task_index = 0

    @property
    def task_id(self) -> str:
        """The task of the current episode."""
        return self.tasks[self.task_index]

    def _observe(self, observation: np.ndarray) -> np.ndarray:
        if not self.one_hot:
            return observation
        code = np.zeros(len(self.tasks), np.float32)
        code[self.task_index] = 1.0
        return np.concatenate([observation, code]).astype(np.float32)

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        task = (options or {}).get("task")
        if task is None:
            self.task_index = int(self.np_random.integers(len(self.tasks)))
        elif task in self.tasks:
            self.task_index = self.tasks.index(task)
        else:
            raise ValueError(f"options['task'] {task!r} is not in this set ({', '.join(self.tasks)})")
        episode_seed = int(self.np_random.integers(0, 2**63))
        observation, info = self.envs[self.task_index].reset(seed=episode_seed)
        return self._observe(observation), {**info, "task": self.task_id}

    def step(self, action):
        observation, reward, terminated, truncated, info = self.envs[self.task_index].step(action)
        return self._observe(observation), reward, terminated, truncated, {**info, "task": self.task_id}

    def render(self):
        return self.envs[self.task_index].render()
