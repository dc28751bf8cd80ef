"""Env steps/s through Python on one thread, side by side in one run: Polyskill (``gym.make``,
one environment), Meta-World 3.1.1 (Python + MuJoCo) and EnvPool 1.2.5's C++ Meta-World v3
(``num_threads=1``), on MT10's ten tasks, all fed the **same** action sequence (uniform in
[−1, 1]⁴ from one seed; an episode that ends is reset). Polyskill's hand is a kinematic mocap
body without arm links where MuJoCo simulates the whole Sawyer arm: the ratio compares the
environments a user would pick, not equal physics. A benchmark, not a test; `cargo xtask test
--extended` writes its JSON to docs/benchmarks/python-peers.json."""

from __future__ import annotations

import json
import os
import platform
import statistics
import sys
import time

import gymnasium as gym
import numpy as np

import polyskill

STEPS = int(sys.argv[1]) if len(sys.argv) > 1 else 5000
TASKS = polyskill.SETS["mt10"]
#: EnvPool's and Meta-World's names of MT10's tasks.
CAMEL = {
    "reach": "Reach", "push": "Push", "pick-place": "PickPlace", "door-open": "DoorOpen",
    "drawer-open": "DrawerOpen", "drawer-close": "DrawerClose",
    "button-press-topdown": "ButtonPressTopdown", "peg-insert-side": "PegInsertSide",
    "window-open": "WindowOpen", "window-close": "WindowClose",
}


def actions() -> np.ndarray:
    return np.random.default_rng(0).uniform(-1, 1, size=(STEPS, 4)).astype(np.float32)


def timed(step, reset) -> float:
    """Median steps/s of three passes over the action sequence."""
    acts = actions()
    runs = []
    for _ in range(3):
        reset()
        start = time.perf_counter()
        for a in acts:
            if step(a):
                reset()
        runs.append(STEPS / (time.perf_counter() - start))
    return statistics.median(runs)


def polyskill_rate(task: str) -> float:
    env = gym.make(f"polyskill/{task}-v1")

    def step(a):
        _, _, terminated, truncated, _ = env.step(a)
        return terminated or truncated

    return timed(step, lambda: env.reset(seed=0))


def make_vec_rate() -> float:
    """MT10 through ``polyskill.make_mt`` (one environment per task, stepped in Rust): every
    environment takes the same action sequence; steps/s over all ten."""
    envs = polyskill.make_mt("mt10", envs_per_task=1, one_hot=False)
    acts = actions()
    runs = []
    for _ in range(3):
        envs.reset(seed=0)
        start = time.perf_counter()
        for a in acts:
            envs.step(np.broadcast_to(a, (envs.num_envs, 4)))
        runs.append(STEPS * envs.num_envs / (time.perf_counter() - start))
    return statistics.median(runs)


def metaworld_rate(task: str) -> float:
    import metaworld

    mt10 = metaworld.MT10(seed=0)
    name = f"{task}-v3"
    env = mt10.train_classes[name]()
    env.set_task([t for t in mt10.train_tasks if t.env_name == name][0])

    def step(a):
        _, _, terminated, truncated, _ = env.step(a)
        return terminated or truncated or env.curr_path_length >= env.max_path_length

    return timed(step, lambda: env.reset())


def envpool_rate(task: str) -> float:
    import envpool

    env = envpool.make_gymnasium(f"MetaWorld/{CAMEL[task]}-v3", num_envs=1, batch_size=1,
                                 num_threads=1, seed=0)

    def step(a):
        _, _, terminated, truncated, _ = env.step(a[None])
        return bool(terminated[0] or truncated[0])

    return timed(step, lambda: env.reset())


def main() -> None:
    rows = {}
    for task in TASKS:
        rows[task] = {
            "polyskill": round(polyskill_rate(task)),
            "metaworld": round(metaworld_rate(task)),
            "envpool": round(envpool_rate(task)),
        }
        print(task, rows[task], file=sys.stderr)
    means = {k: round(statistics.mean(r[k] for r in rows.values())) for k in ("polyskill", "metaworld", "envpool")}
    vector = round(make_vec_rate())
    import envpool
    import metaworld
    import mujoco

    report = {
        "what": "MT10 env steps/s through Python, one thread, one environment, the same random actions",
        "date": time.strftime("%Y-%m-%d"),
        "machine": {"cpu": next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.processor()),
                    "cores": os.cpu_count()},
        "versions": {"python": platform.python_version(), "gymnasium": gym.__version__,
                     "metaworld": getattr(metaworld, "__version__", "3.1.1"), "mujoco": mujoco.__version__,
                     "envpool": envpool.__version__},
        "steps_per_task": STEPS,
        "steps_per_s": rows,
        "mean": means,
        "ratio_polyskill_over_envpool": round(means["polyskill"] / means["envpool"], 1),
        "ratio_polyskill_over_metaworld": round(means["polyskill"] / means["metaworld"], 1),
        "make_mt_10_envs_steps_per_s": vector,
        "ratio_make_mt_over_envpool": round(vector / means["envpool"], 1),
        "note": "Polyskill's hand is a kinematic mocap body without arm links; Meta-World and EnvPool simulate MuJoCo's full Sawyer arm.",
    }
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
