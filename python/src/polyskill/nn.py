"""A saved Polyskill policy as a PyTorch module (``Policy.to_torch()``), for users who want to
fine-tune it, run it beside their own networks or export it with torch's own tools.

The module is the whole act path, as :class:`polyskill.Policy` runs it: the observation
normalised with the file's statistics, the task's one-hot code appended (one-hot policies),
an ``nn.Sequential`` of ``Linear`` layers and activations whose state-dict names are the
weights file's (``net.0.weight``, ``net.2.weight``, …), and a multi-head policy's task head
picked. Only the MLP architecture converts today (every shipped policy is one); PyTorch is not
a dependency of the package and is imported here only.
"""

from __future__ import annotations

import torch
from torch import nn

from .policy import Policy


class PolicyModule(nn.Module):
    """``forward(observation, task=None)``: the policy's outputs for a batch
    (``[batch, obs]`` float32) in ``task`` (an int, or an int64 tensor ``[batch]`` of task
    indices; needed by a multi-task policy): actions in [−1, 1] for a continuous policy, the
    logits for a discrete one (:meth:`act` takes their argmax)."""

    def __init__(self, policy: Policy) -> None:
        super().__init__()
        info = policy.info
        arch = info["architecture"]
        if arch["kind"] != "mlp":
            raise NotImplementedError(
                f"PyTorch conversion supports the mlp architecture; this policy is {arch['kind']}"
            )
        self.tasks: list[str] = list(info["tasks"])
        self.conditioning: str = info.get("conditioning", "none")
        self.categorical: bool = arch["output"] == "categorical"
        sizes = arch["sizes"]
        tensors = policy.tensors()
        layers: list[nn.Module] = []
        for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:])):
            linear = nn.Linear(fan_in, fan_out)
            with torch.no_grad():
                linear.weight.copy_(torch.from_numpy(tensors[f"{2 * i}.weight"]))
                linear.bias.copy_(torch.from_numpy(tensors[f"{2 * i}.bias"]))
            layers.append(linear)
            if i < len(sizes) - 2:
                layers.append(nn.Tanh() if arch["activation"] == "tanh" else nn.ReLU())
            elif arch["output"] == "tanh":
                layers.append(nn.Tanh())
        self.net = nn.Sequential(*layers)
        self.register_buffer("obs_mean", torch.tensor(info["obs_mean"], dtype=torch.float32))
        self.register_buffer("obs_std", torch.tensor(info["obs_std"], dtype=torch.float32))
        self.heads = len(self.tasks) if self.conditioning == "multi-head" else 1

    def _task(self, task, batch: int) -> torch.Tensor:
        if self.conditioning == "none":
            return torch.zeros(batch, dtype=torch.int64)
        if task is None:
            raise ValueError(
                f"this policy acts in {len(self.tasks)} tasks ({', '.join(self.tasks)}); say which"
            )
        if isinstance(task, str):
            task = self.tasks.index(task)
        return torch.as_tensor(task, dtype=torch.int64).expand(batch)

    def forward(self, observation: torch.Tensor, task=None) -> torch.Tensor:
        x = (observation - self.obs_mean) / self.obs_std
        index = self._task(task, x.shape[0])
        if self.conditioning == "one-hot":
            one_hot = nn.functional.one_hot(index, len(self.tasks)).to(x.dtype)
            x = torch.cat([x, one_hot], dim=1)
        y = self.net(x)
        if self.heads > 1:
            y = y.reshape(y.shape[0], self.heads, -1)[torch.arange(y.shape[0]), index]
        return y

    @torch.no_grad()
    def act(self, observation: torch.Tensor, task=None) -> torch.Tensor:
        """Actions for a batch: :meth:`forward`'s outputs, or their argmax (int64) for a
        discrete policy."""
        y = self(observation, task)
        return y.argmax(dim=1) if self.categorical else y
