"""Saved policies outside Polyskill: every shipped policy exported to ONNX and run by
onnxruntime gives the actions Polyskill's own inference gives (to 1e-5) on observations from
real episodes; the CLI's `polyskill export` writes the same model; PyTorch's module (when torch
is installed: the extended suite) agrees too."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import gymnasium as gym
import numpy as np
import onnxruntime as ort
import pytest

import polyskill

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = [p["name"] for p in json.loads((ROOT / "web/policies.json").read_text())["policies"]]


def episode_observations(policy: polyskill.Policy, task: str, steps: int = 60) -> np.ndarray:
    """Observations the policy meets in `task` (seed 0), acting with its own actions."""
    env = gym.make(f"polyskill/{task}-v1")
    obs, _ = env.reset(seed=0)
    seen = [obs]
    for _ in range(steps - 1):
        action = policy.act(obs, task)
        if isinstance(env.action_space, gym.spaces.Discrete):
            action = int(action[0])
        obs, _, terminated, truncated, _ = env.step(action)
        seen.append(obs)
        if terminated or truncated:
            obs, _ = env.reset(seed=len(seen))
    return np.asarray(seen, dtype=np.float32)


def onnx_feed(session: ort.InferenceSession, policy: polyskill.Policy, obs, task):
    feed = {"observation": obs}
    if "task" in [i.name for i in session.get_inputs()]:
        feed["task"] = np.full(len(obs), policy.task_index(task), dtype=np.int64)
    return feed


@pytest.mark.parametrize("name", SHIPPED)
def test_onnxruntime_acts_like_polyskill_on_every_shipped_policy(name):
    policy = polyskill.Policy.load(ROOT / "web/weights" / f"{name}.safetensors")
    session = ort.InferenceSession(policy.to_onnx(), providers=["CPUExecutionProvider"])
    meta = session.get_modelmeta().custom_metadata_map
    assert json.loads(meta["polyskill"])["tasks"] == policy.tasks
    for task in policy.tasks:
        obs = episode_observations(policy, task)
        ours = policy.act(obs, task)
        (theirs,) = session.run(["action"], onnx_feed(session, policy, obs, task))
        if policy.info["architecture"]["output"] == "categorical":
            assert theirs.dtype == np.int64
            np.testing.assert_array_equal(theirs.astype(np.float32), ours[:, 0])
        else:
            np.testing.assert_allclose(theirs, ours, atol=1e-5, rtol=0, err_msg=task)


def test_a_wrong_task_index_is_refused_by_name():
    policy = polyskill.Policy.load(ROOT / "web/weights/mt10-bc-multi-head.safetensors")
    with pytest.raises(ValueError, match="not on task cart-pole"):
        policy.task_index("cart-pole")


def test_the_cli_exports_the_same_model(tmp_path):
    cli = os.environ.get("POLYSKILL_CLI")
    if not cli:
        pytest.skip("POLYSKILL_CLI is not set (cargo xtask test sets it)")
    path = ROOT / "web/weights/mt10-bc-one-hot.safetensors"
    out = tmp_path / "policy.onnx"
    subprocess.run([cli, "export", str(path), "--onnx", str(out)], check=True)
    assert out.read_bytes() == polyskill.Policy.load(path).to_onnx()


@pytest.mark.parametrize("name", ["cart-pole-ppo", "mt10-bc-multi-head", "mt10-sac"])
def test_the_torch_module_acts_like_polyskill(name):
    torch = pytest.importorskip("torch")
    policy = polyskill.Policy.load(ROOT / "web/weights" / f"{name}.safetensors")
    module = policy.to_torch()
    assert "net.0.weight" in module.state_dict()
    for task in policy.tasks[:3]:
        obs = episode_observations(policy, task, steps=20)
        ours = policy.act(obs, task)
        theirs = module.act(torch.from_numpy(obs), task).numpy()
        if module.categorical:
            np.testing.assert_array_equal(theirs.astype(np.float32), ours[:, 0])
        else:
            np.testing.assert_allclose(theirs, ours, atol=1e-5, rtol=0)
