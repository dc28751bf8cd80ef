"""Polyskill in Ray RLlib: :func:`env_creator` builds the environment RLlib's env runners step,
from ``env_config`` (``{"task": "cart-pole"}``, or a set such as ``{"task": "mt10"}`` for one
multi-task environment per runner slot). It imports nothing from Ray, so workers on any node
only need this package installed::

    from ray.tune.registry import register_env
    register_env("polyskill", polyskill.rllib.env_creator)
    config = PPOConfig().environment("polyskill", env_config={"task": "mt10"})
"""

from __future__ import annotations

import gymnasium


def env_creator(env_config) -> gymnasium.Env:
    """The environment ``env_config["task"]`` names: a shipped task, a task set (one
    :class:`polyskill.multitask.PolyskillMultiTaskEnv`), or a task file's path; the rest of
    ``env_config`` (RLlib's ``worker_index`` and ``num_envs`` aside) goes to the environment."""
    from . import SETS, TASKS, make

    config = {k: v for k, v in dict(env_config).items() if k not in ("task", "num_envs")}
    task = dict(env_config).get("task", "reach")
    if task in SETS:
        from .multitask import PolyskillMultiTaskEnv

        return gymnasium.wrappers.TimeLimit(PolyskillMultiTaskEnv(task, **config),
                                            max_episode_steps=_longest(SETS[task]))
    if task in TASKS:
        return gymnasium.make(f"polyskill/{task}-v1", **config)
    return make(task, **config)


def _longest(names: list[str]) -> int:
    import json

    from .envs import task_json

    return max(json.loads(task_json(name))["max_steps"] for name in names)
