"""Ray RLlib PPO (new API stack) on Polyskill through a local Ray cluster: it learns
``cart-pole`` with one env runner; env-steps/s are measured with 1, 2 and 4 env-runner
processes (same code as on a multi-node cluster started with ``ray start --head`` /
``ray start --address``); MT10 trains as one multi-task environment per runner slot through
``env_config``. Figures go to docs/benchmarks/extended.json."""

from __future__ import annotations

import time

import pytest
import ray
from ray.rllib.algorithms.ppo import PPOConfig
from ray.tune.registry import register_env

import polyskill.rllib


@pytest.fixture(scope="module", autouse=True)
def cluster():
    # Four runners plus the driver's learner on this 2-core machine oversubscribe on purpose:
    # that is what the scaling figures measure.
    ray.init(num_cpus=5, include_dashboard=False, log_to_driver=False)
    register_env("polyskill", polyskill.rllib.env_creator)
    yield
    ray.shutdown()


def ppo(task: str, runners: int, batch: int = 4000):
    return (
        PPOConfig()
        .environment("polyskill", env_config={"task": task})
        .env_runners(num_env_runners=runners, num_envs_per_env_runner=1)
        .training(train_batch_size_per_learner=batch, minibatch_size=128, num_epochs=6, lr=3e-4)
        .debugging(seed=0)
        .build_algo()
    )


def steps_and_return(result) -> tuple[int, float]:
    runners = result["env_runners"]
    return runners["num_env_steps_sampled_lifetime"], runners.get("episode_return_mean", float("nan"))


def test_rllib_ppo_learns_cart_pole(record):
    algo = ppo("cart-pole", runners=1)
    start = time.perf_counter()
    returns = []
    for _ in range(30):
        steps, mean = steps_and_return(algo.train())
        returns.append(mean)
        if mean >= 300:
            break
    seconds = time.perf_counter() - start
    algo.stop()
    record(env_steps=steps, seconds=round(seconds, 1), iterations=len(returns),
           first_return=returns[0], last_return=returns[-1])
    assert returns[-1] >= 300 and returns[-1] > 5 * returns[0], returns


@pytest.mark.parametrize("runners", [1, 2, 4])
def test_rllib_env_steps_per_second_with_runners(runners, record):
    algo = ppo("reach", runners=runners)
    algo.train()  # warm-up: processes started, first weights sent
    before, start = steps_and_return(algo.train())[0], time.perf_counter()
    for _ in range(3):
        after = steps_and_return(algo.train())[0]
    seconds = time.perf_counter() - start
    algo.stop()
    # The first timed iteration's steps were counted before the clock started.
    rate = (after - before) / seconds
    record(runners=runners, env_steps=after - before, seconds=round(seconds, 2),
           env_steps_per_s_with_training=round(rate))
    assert after > before


def test_rllib_trains_mt10_through_env_config(record):
    algo = ppo("mt10", runners=2)
    start = time.perf_counter()
    for _ in range(2):
        steps, mean = steps_and_return(algo.train())
    seconds = time.perf_counter() - start
    module = algo.get_module()
    width = module.observation_space.shape[0]
    algo.stop()
    record(env_steps=steps, seconds=round(seconds, 1), observation_width=width)
    assert width == 39 + 10, "the task one-hot is part of the observation"
    assert steps >= 8000
