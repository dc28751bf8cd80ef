"""Stable-Baselines3, unchanged, on Polyskill: PPO solves ``polyskill/cart-pole-v1`` (a
10-episode mean of ≥ 475) and Gymnasium's ``CartPole-v1`` with the same settings side by side;
SAC lifts ``polyskill/reach-v1``'s success above random actions', and the same SAC runs on
Meta-World 3.1.1's ``reach-v3`` (``Meta-World/MT1``) side by side. Steps, seconds and returns are
recorded (docs/benchmarks/extended.json)."""

from __future__ import annotations

import os
import time

import gymnasium as gym
import numpy as np
import pytest
import torch
from stable_baselines3 import PPO, SAC
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.evaluation import evaluate_policy

import polyskill  # noqa: F401  (registers polyskill/NAME-v1)

torch.set_num_threads(1)

#: RL Baselines3 Zoo's tuned PPO settings for CartPole-v1 (100k steps, 8 environments).
PPO_CARTPOLE = dict(
    n_steps=32,
    batch_size=256,
    gae_lambda=0.8,
    gamma=0.98,
    n_epochs=20,
    ent_coef=0.0,
    learning_rate=lambda progress: 1e-3 * progress,
    clip_range=lambda progress: 0.2 * progress,
)
PPO_STEPS = 100_000


def train_ppo(env_id: str, seed: int):
    env = make_vec_env(env_id, n_envs=8, seed=seed)
    model = PPO("MlpPolicy", env, seed=seed, device="cpu", **PPO_CARTPOLE)
    start = time.perf_counter()
    model.learn(PPO_STEPS)
    seconds = time.perf_counter() - start
    mean, std = evaluate_policy(model, gym.make(env_id), n_eval_episodes=10, deterministic=True)
    return {"env_steps": PPO_STEPS, "seconds": round(seconds, 1), "eval_return_mean": mean, "eval_return_std": std}


@pytest.mark.parametrize("env_id", ["polyskill/cart-pole-v1", "CartPole-v1"])
def test_sb3_ppo_solves_cart_pole(env_id, record):
    result = train_ppo(env_id, seed=0)
    record(**result)
    assert result["eval_return_mean"] >= 475, result


def success_rate(policy, make, episodes: int, first_seed: int) -> float:
    """Fraction of seeded episodes with ``info["success"]`` at any step, on ``make(0)``."""
    env = make(0)
    hits = 0
    for seed in range(first_seed, first_seed + episodes):
        obs, _ = env.reset(seed=seed)
        done, success = False, False
        while not done:
            obs, _, terminated, truncated, info = env.step(policy(obs))
            success |= bool(info["success"])
            done = terminated or truncated
        hits += success
    return hits / episodes


SAC_STEPS = 30_000
#: SAC's seeds on each reach (``POLYSKILL_SAC_SEEDS=0,1,2``; each is ~10 minutes per task).
SAC_SEEDS = [int(s) for s in os.environ.get("POLYSKILL_SAC_SEEDS", "0").split(",")]


def sac_on_reach(make, record, seed):
    """SB3 SAC with defaults (1000 random steps first) on one reach environment built by
    ``make(seed)``: success over 50 held-out seeded episodes, trained and random."""
    space = make(0).action_space
    space.seed(0)
    random_rate = success_rate(lambda _obs: space.sample(), make, 50, 1000)
    model = SAC("MlpPolicy", make(seed), seed=seed, device="cpu", learning_starts=1_000)
    start = time.perf_counter()
    model.learn(SAC_STEPS)
    seconds = time.perf_counter() - start
    trained = success_rate(lambda obs: model.predict(obs, deterministic=True)[0], make, 50, 1000)
    record(env_steps=SAC_STEPS, seconds=round(seconds, 1), success=trained, random_success=random_rate,
           episodes=50)
    return trained, random_rate


@pytest.mark.parametrize("seed", SAC_SEEDS)
def test_sb3_sac_raises_reach_success_above_random(seed, record):
    trained, random_rate = sac_on_reach(lambda _seed: gym.make("polyskill/reach-v1"), record, seed)
    assert trained > random_rate + 0.1, (trained, random_rate)


@pytest.mark.parametrize("seed", SAC_SEEDS)
def test_sb3_sac_on_metaworld_reach_side_by_side(seed, record):
    """The same trainer and budget on Meta-World's reach (MuJoCo, the full Sawyer arm, 500-step
    episodes like ours). Recorded for comparison; it asserts only that training ran, since
    30k steps is far below the 1M+ Meta-World's SAC baselines use."""
    pytest.importorskip("metaworld")
    trained, random_rate = sac_on_reach(
        lambda task_seed: gym.make("Meta-World/MT1", env_name="reach-v3", seed=task_seed), record, seed)
    assert 0.0 <= trained <= 1.0 and 0.0 <= random_rate <= 1.0
