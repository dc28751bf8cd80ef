"""Saved Polyskill policies in Python: ``Policy.load(path).act(obs)`` on NumPy arrays, run by
the same Rust inference as the CLI and the page (observation normalisation included);
``to_onnx()`` for onnxruntime and ``to_torch()`` for PyTorch."""

from __future__ import annotations

import json
import os

import numpy as np

from . import _native


class Policy:
    """A policy saved by ``polyskill train`` (safetensors with Polyskill's metadata)."""

    def __init__(self, native: _native.Policy) -> None:
        self._native = native
        #: The file's metadata: architecture, tasks, training and evaluation.
        self.info: dict = json.loads(native.info)

    @classmethod
    def load(cls, path: str | os.PathLike) -> "Policy":
        """Loads a policy file; raises ``ValueError`` for a file that is not one."""
        with open(path, "rb") as f:
            return cls(_native.Policy(f.read()))

    @property
    def tasks(self) -> list[str]:
        """The tasks it was trained on (several for a multi-task policy)."""
        return list(self.info["tasks"])

    def act(self, observation, task: str | None = None) -> np.ndarray:
        """The action for one observation (a 1-D array) or a batch (2-D, one row each), in
        ``task`` (required by a multi-task policy). Discrete policies give the choice's index
        as a float, as the simulator takes it."""
        obs = np.asarray(observation, dtype=np.float32)
        single = obs.ndim == 1
        actions = self._native.act(np.ascontiguousarray(obs[None, :] if single else obs), task)
        return actions[0] if single else actions

    def task_index(self, task: str) -> int:
        """The index of ``task`` among the policy's tasks (the ONNX model's ``task`` input)."""
        try:
            return self.tasks.index(task)
        except ValueError:
            raise ValueError(
                f"this policy was trained on {', '.join(self.tasks)}; not on task {task}"
            ) from None

    def tensors(self) -> dict[str, np.ndarray]:
        """The weights as saved, in PyTorch's layout (``[out, in]``): name → array."""
        return dict(self._native.tensors())

    def to_onnx(self, path: str | os.PathLike | None = None) -> bytes:
        """The policy as an ONNX model (what ``polyskill export --onnx`` writes), written to
        ``path`` if given. Inputs ``observation`` (float32 ``[batch, obs]``) and, for a
        multi-task policy, ``task`` (int64 ``[batch]``, see :meth:`task_index`); output
        ``action`` (float32, or int64 indices for a discrete policy)."""
        model = self._native.to_onnx()
        if path is not None:
            with open(path, "wb") as f:
                f.write(model)
        return model

    def to_torch(self):
        """The policy as a ``torch.nn.Module`` (needs PyTorch): see
        :class:`polyskill.nn.PolicyModule`."""
        from .nn import PolicyModule

        return PolicyModule(self)
