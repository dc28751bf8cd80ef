"""The `polyskill` package against Gymnasium itself: `check_env` on every shipped task and on a
task made here, seeding, spaces, vector environments and their autoreset, pickling, rendering,
saved policies, and the errors bad input gets."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env
from gymnasium.vector import AutoresetMode

import polyskill

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("name", polyskill.TASKS)
def test_check_env_passes_on_every_shipped_task(name):
    env = gym.make(f"polyskill/{name}-v1")
    check_env(env.unwrapped, skip_render_check=True)
    spec_steps = json.loads((ROOT / "web/tasks" / f"{name}.json").read_text())["max_steps"]
    assert env.spec.max_episode_steps == spec_steps


def test_check_env_passes_on_a_task_that_ships_nowhere(tmp_path):
    task = json.loads((ROOT / "web/tasks/reach.json").read_text())
    task["id"] = "reach-far"
    task["goal"]["range"]["max"][0] = task["goal"]["range"]["max"][0] + 0.05
    path = tmp_path / "reach-far.json"
    path.write_text(json.dumps(task))
    env = polyskill.make(path)
    assert env.unwrapped.task_id == "reach-far"
    check_env(env.unwrapped, skip_render_check=True)


def test_all_randomness_comes_from_the_seed():
    env = gym.make("polyskill/pick-place-v1")
    first, _ = env.reset(seed=7)
    again, _ = env.reset(seed=7)
    other, _ = env.reset(seed=8)
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)
    # Unseeded resets are drawn from the environment's own generator, seeded once.
    a = gym.make("polyskill/pick-place-v1")
    b = gym.make("polyskill/pick-place-v1")
    a.reset(seed=3)
    b.reset(seed=3)
    np.testing.assert_array_equal(a.reset()[0], b.reset()[0])


def test_discrete_tasks_have_discrete_spaces_and_info_success():
    env = gym.make("polyskill/cart-pole-v1")
    assert isinstance(env.action_space, gym.spaces.Discrete) and env.action_space.n == 2
    env.reset(seed=0)
    _, reward, terminated, truncated, info = env.step(1)
    assert isinstance(reward, float) and not truncated and isinstance(terminated, bool)
    assert info["success"] in (True, False)


def test_bad_input_raises_with_what_and_where():
    text = (ROOT / "web/tasks/reach.json").read_text()
    broken = json.loads(text)
    broken["bodies"][1]["shape"] = {"box": {"half_extents": [0.1, 0.1]}}
    broken["max_stepz"] = 3
    with pytest.raises(ValueError) as e:
        polyskill.make(broken)
    message = str(e.value)
    assert "bodies[1].shape.box.half_extents: expected 3 numbers, got 2" in message
    assert "max_stepz: unknown field" in message
    with pytest.raises(ValueError, match="unknown task 'nope'"):
        polyskill.make("nope")
    env = gym.make("polyskill/reach-v1")
    env.reset(seed=0)
    with pytest.raises(ValueError, match=r"action has shape \(3,\); expected \(4,\)"):
        env.step(np.zeros(3))
    with pytest.raises(TypeError, match="action has dtype <U1; expected float32"):
        env.step(np.array(["a", "b", "c", "d"]))
    with pytest.raises(ValueError, match="not a finite number"):
        env.step(np.array([np.nan, 0, 0, 0]))
    discrete = gym.make("polyskill/cart-pole-v1")
    discrete.reset(seed=0)
    with pytest.raises(ValueError, match="expected one integer choice in 0..2"):
        discrete.step(0.5)


def test_make_vec_steps_in_rust_with_same_step_autoreset():
    envs = gym.make_vec("polyskill/reacher-v1", num_envs=4)
    assert envs.metadata["autoreset_mode"] == AutoresetMode.SAME_STEP
    assert isinstance(envs.unwrapped, polyskill.PolyskillVectorEnv)
    obs, _ = envs.reset(seed=10)
    assert obs.shape == (4, envs.single_observation_space.shape[0]) and obs.dtype == np.float32
    # Environment i starts from seed + i, as a single environment reset with that seed.
    single = polyskill.make("reacher")
    for i in range(4):
        np.testing.assert_array_equal(obs[i], single.reset(seed=10 + i)[0])
    # reacher's episodes last 50 steps: the 50th step ends them all, reports the last
    # observations and returns the next episodes' first.
    zeros = np.zeros((4, 2), dtype=np.float32)
    for _ in range(49):
        obs, rewards, terminated, truncated, info = envs.step(zeros)
        assert not truncated.any()
    obs, rewards, terminated, truncated, info = envs.step(zeros)
    assert truncated.all() and info["_final_obs"].all()
    assert rewards.shape == (4,) and info["success"].shape == (4,)
    np.testing.assert_array_equal(obs[0], single.reset(seed=14)[0])
    with pytest.raises(ValueError, match=r"expected \(4, 2\)"):
        envs.step(np.zeros((3, 2)))


def test_mt10_vector_env_appends_the_task_one_hot():
    mt10 = polyskill.make_mt("mt10", envs_per_task=2, seed=0)
    assert mt10.num_envs == 20 and mt10.task_ids == polyskill.SETS["mt10"]
    obs, info = mt10.reset(seed=0)
    assert obs.shape == (20, 39 + 10)
    np.testing.assert_array_equal(obs[:, 39:].argmax(axis=1), np.repeat(np.arange(10), 2))
    np.testing.assert_array_equal(info["task"], np.repeat(np.arange(10), 2))
    obs, *_ = mt10.step(np.zeros((20, 4), dtype=np.float32))
    assert obs.shape == (20, 49)


def test_an_environment_pickles_mid_episode_and_continues_identically():
    env = polyskill.PolyskillEnv("push")
    env.reset(seed=5)
    rng = np.random.default_rng(0)
    for _ in range(20):
        env.step(rng.uniform(-1, 1, 4).astype(np.float32))
    copy = pickle.loads(pickle.dumps(env))
    action = rng.uniform(-1, 1, 4).astype(np.float32)
    a = env.step(action)
    b = copy.step(action)
    np.testing.assert_array_equal(a[0], b[0])
    assert a[1:4] == b[1:4]


def test_rgb_array_frames_come_from_the_native_renderer():
    env = gym.make("polyskill/door-open-v1", render_mode="rgb_array", width=96, height=64)
    env.reset(seed=0)
    frame = env.render()
    assert frame.shape == (64, 96, 3) and frame.dtype == np.uint8
    assert len(np.unique(frame.reshape(-1, 3), axis=0)) > 10, "a scene, not a blank frame"
    assert env.metadata["render_fps"] == 80


def test_a_shipped_policy_loads_and_solves_its_task_through_gymnasium():
    policy = polyskill.Policy.load(ROOT / "web/weights/reach-bc.safetensors")
    assert policy.tasks == ["reach"]
    env = gym.make("polyskill/reach-v1")
    obs, _ = env.reset(seed=0)
    for _ in range(500):
        obs, _, terminated, truncated, info = env.step(policy.act(obs))
        if info["success"] or terminated or truncated:
            break
    assert info["success"], "reach-bc succeeds on seed 0 (it does on all 100 recorded seeds)"
    batch = policy.act(np.zeros((3, 39), dtype=np.float32))
    assert batch.shape == (3, 4)
    with pytest.raises(ValueError, match="this policy observes 39 values"):
        policy.act(np.zeros((1, 5), dtype=np.float32))
    with pytest.raises(ValueError, match="not a safetensors file"):
        polyskill.Policy(polyskill._native.Policy(b"not weights"))


def test_a_task_set_is_one_environment_choosing_its_task_at_reset():
    env = gym.make("polyskill/mt10-v1")
    check_env(env.unwrapped, skip_render_check=True)
    assert env.observation_space.shape == (39 + 10,)
    assert env.spec.max_episode_steps == 500
    seen = set()
    for seed in range(40):
        obs, info = env.reset(seed=seed)
        again, info_again = env.reset(seed=seed)
        np.testing.assert_array_equal(obs, again)
        assert info["task"] == info_again["task"]
        index = polyskill.SETS["mt10"].index(info["task"])
        assert obs[39 + index] == 1.0 and obs[39:].sum() == 1.0
        seen.add(info["task"])
    assert len(seen) >= 8, f"uniform over ten tasks: saw only {sorted(seen)} in 40 resets"
    _, info = env.reset(seed=0, options={"task": "push"})
    assert info["task"] == "push"
    _, _, _, _, info = env.step(env.action_space.sample())
    assert info["task"] == "push" and "success" in info
    with pytest.raises(ValueError, match="'cart-pole' is not in this set"):
        env.reset(options={"task": "cart-pole"})


def test_a_task_set_environment_pickles_mid_episode():
    env = polyskill.PolyskillMultiTaskEnv("mt10")
    env.reset(seed=5, options={"task": "door-open"})
    for _ in range(10):
        env.step(np.full(4, 0.3, np.float32))
    copy = pickle.loads(pickle.dumps(env))
    a = env.step(np.zeros(4, np.float32))
    b = copy.step(np.zeros(4, np.float32))
    np.testing.assert_array_equal(a[0], b[0])
    assert copy.task_id == "door-open"


def test_tasks_with_different_spaces_are_refused_as_one_environment():
    with pytest.raises(ValueError, match="different observation or action spaces"):
        polyskill.PolyskillMultiTaskEnv(["reach", "cart-pole"])
    with pytest.raises(ValueError, match="unknown task set 'mt50'"):
        polyskill.PolyskillMultiTaskEnv("mt50")


def test_the_rllib_env_creator_builds_tasks_and_sets_without_ray():
    from polyskill.rllib import env_creator

    assert env_creator({"task": "cart-pole"}).action_space == gym.spaces.Discrete(2)
    mt = env_creator({"task": "mt10", "num_envs": 1})
    assert mt.observation_space.shape == (49,)
    assert mt.spec is None or mt.spec.max_episode_steps in (None, 500)
