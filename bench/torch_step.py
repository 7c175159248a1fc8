"""PyTorch reference for bench/step.mjs: the same training steps (forward, backward, SGD-momentum update)
on the same shapes, timed the same way. Prints one JSON object {model: ms_per_step}.

Run with Debian's interpreter (/usr/bin/python3, python3-torch); OMP_WAIT_POLICY=passive is set by the caller
because it is PyTorch's fastest setting on this machine (see docs/benchmarks.md).
"""
import json
import os
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.set_num_threads(int(os.environ.get("LWLR_NUM_THREADS", os.cpu_count() or 1)))
torch.manual_seed(0)


def mlp():
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 1024), nn.ReLU(), nn.Linear(1024, 1024), nn.ReLU(), nn.Linear(1024, 10)), (256, 1, 28, 28)


def bn_cnn():
    # Same as bench/step.mjs: conv3x3(32)-BN-ReLU-maxpool2, conv3x3(64)-BN-ReLU-maxpool2, dense(10). 'same' padding.
    return nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(64 * 7 * 7, 10),
    ), (128, 1, 28, 28)


def resnet18_cifar():
    import torchvision
    m = torchvision.models.resnet18(num_classes=10)
    m.conv1 = nn.Conv2d(3, 64, 3, 1, 1, bias=False)
    m.maxpool = nn.Identity()
    return m, (128, 3, 32, 32)


class VitBlock(nn.Module):
    def __init__(self, dim, heads):
        super().__init__()
        self.heads = heads
        self.norm1 = nn.LayerNorm(dim, eps=1e-6)
        self.q, self.k, self.v = nn.Linear(dim, dim), nn.Linear(dim, dim), nn.Linear(dim, dim)
        self.proj = nn.Linear(dim, dim)
        self.norm2 = nn.LayerNorm(dim, eps=1e-6)
        self.fc1, self.fc2 = nn.Linear(dim, 4 * dim), nn.Linear(4 * dim, dim)

    def forward(self, x):
        b, n, d = x.shape
        h = self.norm1(x)
        split = lambda t: t.view(b, n, self.heads, d // self.heads).transpose(1, 2)
        q, k, v = split(self.q(h)), split(self.k(h)), split(self.v(h))
        a = torch.softmax(q @ k.transpose(-2, -1) * (d // self.heads) ** -0.5, dim=-1)
        x = x + self.proj((a @ v).transpose(1, 2).reshape(b, n, d))
        return x + self.fc2(F.gelu(self.fc1(self.norm2(x))))


class VitTiny(nn.Module):
    """Same as lwlr's vit-tiny: dim 192, depth 6, heads 3, patch 4, 32x32x3, class token, learned position embedding."""

    def __init__(self, dim=192, depth=6, heads=3, patch=4, size=32, classes=10):
        super().__init__()
        self.patch = nn.Conv2d(3, dim, patch, patch)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.pos_embed = nn.Parameter(torch.randn(1, (size // patch) ** 2 + 1, dim) * 0.02)
        self.blocks = nn.Sequential(*[VitBlock(dim, heads) for _ in range(depth)])
        self.norm = nn.LayerNorm(dim, eps=1e-6)
        self.head = nn.Linear(dim, classes)

    def forward(self, x):
        x = self.patch(x).flatten(2).transpose(1, 2)
        x = torch.cat([self.cls_token.expand(x.shape[0], -1, -1), x], dim=1) + self.pos_embed
        return self.head(self.norm(self.blocks(x))[:, 0])


def vit_tiny():
    return VitTiny(), (128, 3, 32, 32)


def time_step(model, shape, warmup, iters):
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    x = torch.randn(*shape)
    y = torch.randint(0, 10, (shape[0],))
    model.train()
    times = []
    for i in range(warmup + iters):
        t0 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        if i >= warmup:
            times.append(time.perf_counter() - t0)
    times.sort()
    return 1000 * times[len(times) // 2]


if __name__ == "__main__":
    wanted = sys.argv[1:] or ["mlp", "bn-cnn"]
    builders = {"mlp": mlp, "bn-cnn": bn_cnn, "resnet18-cifar": resnet18_cifar, "vit-tiny": vit_tiny}
    out = {}
    for name in wanted:
        model, shape = builders[name]()
        out[name] = time_step(model, shape, warmup=3, iters=int(os.environ.get("BENCH_ITERS", "10")))
    print(json.dumps(out))
