"""Env steps/s through Python (one thread): a single Gymnasium environment and make_vec with
1–64 environments, on MT10's tasks; prints JSON. A benchmark, not a test:
`python python/bench.py > docs/benchmarks/python.json`."""

import json
import platform
import time

import gymnasium as gym
import numpy as np

import polyskill


def single(name: str, steps: int) -> float:
    env = gym.make(f"polyskill/{name}-v1")
    env.reset(seed=0)
    action = np.zeros(env.action_space.shape, dtype=np.float32)
    start = time.perf_counter()
    for _ in range(steps):
        _, _, terminated, truncated, _ = env.step(action)
        if terminated or truncated:
            env.reset()
    return steps / (time.perf_counter() - start)


def vector(num_envs: int, steps: int) -> float:
    envs = polyskill.make_mt("mt10", envs_per_task=max(1, num_envs // 10), one_hot=False)
    envs.reset(seed=0)
    actions = np.zeros((envs.num_envs, 4), dtype=np.float32)
    start = time.perf_counter()
    for _ in range(max(1, steps // envs.num_envs)):
        envs.step(actions)
    return max(1, steps // envs.num_envs) * envs.num_envs / (time.perf_counter() - start)


if __name__ == "__main__":
    steps = 20_000
    report = {
        "python": platform.python_version(),
        "machine": platform.processor() or platform.machine(),
        "single_env_steps_per_s": {name: single(name, steps) for name in polyskill.SETS["mt10"]},
        "mt10_vector_steps_per_s": {str(n): vector(n, steps) for n in (10, 20, 40, 60)},
        "reach_make_vec_steps_per_s": {},
    }
    for n in (1, 4, 16, 64):
        envs = gym.make_vec("polyskill/reach-v1", num_envs=n)
        envs.reset(seed=0)
        actions = np.zeros((n, 4), dtype=np.float32)
        iterations = max(1, steps // n)
        start = time.perf_counter()
        for _ in range(iterations):
            envs.step(actions)
        report["reach_make_vec_steps_per_s"][str(n)] = iterations * n / (time.perf_counter() - start)
    singles = report["single_env_steps_per_s"]
    report["single_env_mt10_mean"] = sum(singles.values()) / len(singles)
    print(json.dumps(report, indent=1))
