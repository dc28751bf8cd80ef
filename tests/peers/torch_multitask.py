"""PyTorch one-thread peer of `polyskill bench learn`'s multi-task BC figures (the same
networks and batch): 10 synthetic tasks, 39 observations + a 10-way one-hot, 4 actions, batch
256, Adam 1e-3.

- pooled: one MSE over the minibatch (as Polyskill's rows-pooled step);
- mean / pcgrad: each task's loss on its rows, its gradient of every parameter by
  torch.autograd.grad (LibMTL's per-task backward), combined (mean, or PCGrad's projection),
  then one Adam step (as Polyskill's combiner step);
- moe: 4 expert MLPs, a task router with top-2 gates (as Polyskill's `moe`), pooled.

Usage: python tests/peers/torch_multitask.py [steps] -> JSON on stdout. Needs torch (not part
of CI; see docs/multitask.md for the figures measured beside ours).
"""
import json
import sys
import time

import torch
import torch.nn as nn

torch.set_num_threads(1)
T, OBS, ACT, B = 10, 39, 4, 256
STEPS = int(sys.argv[1]) if len(sys.argv) > 1 else 300
torch.manual_seed(0)
N = 4000 * T
X = torch.rand(N, OBS) * 2 - 1
Y = torch.rand(N, ACT) * 2 - 1
TASK = torch.arange(N) % T
ONE_HOT = torch.eye(T)[TASK]


def mlp(inp):
    return nn.Sequential(nn.Linear(inp, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(), nn.Linear(256, ACT), nn.Tanh())


class Moe(nn.Module):
    def __init__(self, experts=4, k=2):
        super().__init__()
        self.experts = nn.ModuleList(nn.Sequential(nn.Linear(OBS, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU()) for _ in range(experts))
        self.router = nn.Linear(T, experts)
        self.head = nn.Linear(256, ACT)
        self.k = k

    def forward(self, x, task):
        logits = self.router(task)
        kth = logits.topk(self.k, dim=1).values[:, -1:]
        gates = torch.softmax(logits.masked_fill(logits < kth, float('-inf')), dim=1)
        mixed = sum(e(x) * gates[:, i:i + 1] for i, e in enumerate(self.experts))
        return torch.tanh(self.head(mixed))


def pcgrad(grads):
    flat = [torch.cat([g.reshape(-1) for g in gs]) for gs in grads]
    projected = []
    for i, gi in enumerate(flat):
        g = gi.clone()
        for j in torch.randperm(len(flat)).tolist():
            if j == i:
                continue
            dot = torch.dot(g, flat[j])
            if dot < 0:
                g -= dot / flat[j].norm() ** 2 * flat[j]
        projected.append(g)
    return torch.stack(projected).mean(0)


def run(kind):
    torch.manual_seed(1)
    net = Moe() if kind == 'moe' else mlp(OBS + T)
    params = list(net.parameters())
    opt = torch.optim.Adam(params, lr=1e-3)
    start = time.perf_counter()
    for _ in range(STEPS):
        idx = torch.randint(0, N, (B,))
        x, y, task, hot = X[idx], Y[idx], TASK[idx], ONE_HOT[idx]
        out = net(x, hot) if kind == 'moe' else net(torch.cat([x, hot], 1))
        opt.zero_grad(set_to_none=True)
        if kind in ('pooled', 'moe'):
            ((out - y) ** 2).mean().backward()
        else:
            grads = []
            for t in range(T):
                rows = task == t
                if rows.any():
                    loss = ((out[rows] - y[rows]) ** 2).mean()
                    grads.append(torch.autograd.grad(loss, params, retain_graph=True))
            if kind == 'mean':
                flat = torch.stack([torch.cat([g.reshape(-1) for g in gs]) for gs in grads]).mean(0)
            else:
                flat = pcgrad(grads)
            at = 0
            for p in params:
                p.grad = flat[at:at + p.numel()].view_as(p).clone()
                at += p.numel()
        opt.step()
    seconds = time.perf_counter() - start
    return {'kind': kind, 'samples_per_s': B * STEPS / seconds, 'ms_per_step': 1000 * seconds / STEPS}


print(json.dumps({'torch': torch.__version__, 'threads': torch.get_num_threads(), 'steps': STEPS,
                  'results': [run(k) for k in ('pooled', 'mean', 'pcgrad', 'moe')]}, indent=1))
