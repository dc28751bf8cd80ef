"""Polyskill for Python: every Polyskill task as a Gymnasium environment, simulated in Rust.

``import polyskill`` registers each shipped task as ``polyskill/NAME-v1`` (its
``max_episode_steps`` from the task file, a vector entry point stepped in Rust);
:func:`make` builds any task file; :func:`make_mt` a multi-task vector environment (MT10), and
``polyskill/SET-v1`` (e.g. ``polyskill/mt10-v1``) one environment over a set's tasks;
:class:`Policy` loads a saved Polyskill policy; :mod:`polyskill.rllib` builds envs for Ray RLlib.
"""

from __future__ import annotations

import json

import gymnasium

from . import _native
from .envs import PolyskillEnv, make, task_json
from .multitask import PolyskillMultiTaskEnv
from .policy import Policy
from .vector import PolyskillVectorEnv, make_mt

__all__ = [
    "PolyskillEnv",
    "PolyskillMultiTaskEnv",
    "PolyskillVectorEnv",
    "Policy",
    "TASKS",
    "SETS",
    "make",
    "make_mt",
    "register_envs",
    "task_json",
]

_INDEX = json.loads(_native.task_index())
#: The shipped tasks' names, as web/tasks.json lists them.
TASKS: list[str] = list(_INDEX["tasks"])
#: The named task sets (e.g. ``mt10``), as web/tasks.json lists them.
SETS: dict[str, list[str]] = {k: list(v) for k, v in _INDEX["sets"].items()}


def register_envs() -> None:
    """Registers ``polyskill/NAME-v1`` for every shipped task and every named task set
    (idempotent)."""
    for name in TASKS:
        env_id = f"polyskill/{name}-v1"
        if env_id in gymnasium.registry:
            continue
        gymnasium.register(
            id=env_id,
            entry_point="polyskill.envs:PolyskillEnv",
            vector_entry_point="polyskill.vector:PolyskillVectorEnv",
            kwargs={"task": name},
            max_episode_steps=json.loads(task_json(name))["max_steps"],
        )
    for name, tasks in SETS.items():
        env_id = f"polyskill/{name}-v1"
        if env_id in gymnasium.registry or name in TASKS:
            continue
        gymnasium.register(
            id=env_id,
            entry_point="polyskill.multitask:PolyskillMultiTaskEnv",
            kwargs={"task_set": name},
            max_episode_steps=max(json.loads(task_json(t))["max_steps"] for t in tasks),
        )


register_envs()
