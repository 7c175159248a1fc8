"""PyTorch reference for bench/step.mjs: the same training step (forward, backward, SGD-momentum update) or
Algorithm 1's measurement loop, on the same model and shapes, in its own process, measured the same way as
bench/step-worker.mjs. Prints one JSON line.

    /usr/bin/python3 bench/torch_step.py --model resnet50 [--batch 32] [--warmup 3] [--steps 10] [--mode step|alg1]

Run with Debian's interpreter (/usr/bin/python3, python3-torch 1.13, OpenBLAS pthread). bench/step.mjs sets
OMP_WAIT_POLICY=passive and 2 threads, PyTorch's fastest setting on this machine (see docs/benchmarks.md), and
the step uses zero_grad(set_to_none=True).

Models: torchvision 0.14's resnet18 (CIFAR stem), resnet50, convnext_tiny (stochastic depth 0, as lwlr's
convnext-t default) and swin_t (stochastic depth 0.1, as lwlr's swin-t default); the ViTs as the equivalent
plain module below (separate q/k/v, exact GELU, LayerNorm eps 1e-6, class token, learned position embedding).
"""
import argparse
import json
import os
import resource
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.set_num_threads(int(os.environ.get("LWLR_NUM_THREADS", os.cpu_count() or 1)))
torch.manual_seed(0)


def mlp():
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 1024), nn.ReLU(), nn.Linear(1024, 1024), nn.ReLU(), nn.Linear(1024, 10)), (256, 1, 28, 28)


def bn_cnn():
    # Same as bench/step-worker.mjs: conv3x3(32)-BN-ReLU-maxpool2, conv3x3(64)-BN-ReLU-maxpool2, dense(10). 'same' padding.
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


def resnet50():
    import torchvision
    return torchvision.models.resnet50(num_classes=10), (32, 3, 224, 224)


def convnext_t():
    import torchvision
    return torchvision.models.convnext_tiny(num_classes=10, stochastic_depth_prob=0.0), (32, 3, 224, 224)


def swin_t():
    import torchvision
    from torchvision.ops import StochasticDepth
    m = torchvision.models.swin_t(num_classes=10)  # builds with stochastic depth 0.2, linear over the blocks
    for mod in m.modules():
        if isinstance(mod, StochasticDepth):
            mod.p = mod.p / 2
    return m, (32, 3, 224, 224)


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


class Vit(nn.Module):
    """As lwlr's ViTs: patch conv, class token, learned position embedding, pre-norm blocks, final LayerNorm, head on the class token."""

    def __init__(self, dim, depth, heads, patch, size, classes=10):
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
    return Vit(dim=192, depth=6, heads=3, patch=4, size=32), (128, 3, 32, 32)


def vit_s16():
    return Vit(dim=384, depth=12, heads=6, patch=16, size=224), (32, 3, 224, 224)


BUILDERS = {
    "mlp": mlp, "bn-cnn": bn_cnn, "resnet18-cifar": resnet18_cifar, "vit-tiny": vit_tiny,
    "resnet50": resnet50, "vit-s16": vit_s16, "convnext-t": convnext_t, "swin-t": swin_t,
}


def peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True, choices=sorted(BUILDERS))
    ap.add_argument("--batch", type=int)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--mode", choices=["step", "alg1"], default="step")
    a = ap.parse_args()
    model, shape = BUILDERS[a.model]()
    shape = (a.batch or shape[0],) + shape[1:]
    x = torch.randn(*shape)
    y = torch.randint(0, 10, (shape[0],))
    model.train()
    params = [p for p in model.parameters() if p.requires_grad]
    base = peak_rss_mb()
    times, cpu = [], []
    if a.mode == "step":
        opt = torch.optim.SGD(params, lr=0.01, momentum=0.9)
        for i in range(a.warmup + a.steps):
            t0, c0 = time.perf_counter(), time.process_time()
            opt.zero_grad(set_to_none=True)
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
            loss.item()
            if i >= a.warmup:
                times.append(1000 * (time.perf_counter() - t0))
                cpu.append(1000 * (time.process_time() - c0))
    else:
        # Algorithm 1's loop: T minibatches without updates, G_i += mean |g_i| (accumulated on device).
        def pass_(acc):
            for p in params:
                p.grad = None
            F.cross_entropy(model(x), y).backward()
            if acc is not None:
                for g, p in zip(acc, params):
                    g.add_(p.grad.abs().mean())
        for _ in range(a.warmup):
            pass_(None)
        acc = [torch.zeros(()) for _ in params]
        t0, c0 = time.perf_counter(), time.process_time()
        for _ in range(a.steps):
            pass_(acc)
        [g.item() for g in acc]
        times.append(1000 * (time.perf_counter() - t0) / a.steps)
        cpu.append(1000 * (time.process_time() - c0) / a.steps)
    print(json.dumps({"model": a.model, "backend": "pytorch", "mode": a.mode, "batch": shape[0], "baseRssMB": base,
                      "peakRssMB": peak_rss_mb(), "times": times, "cpu": cpu, "leaked": 0}))


if __name__ == "__main__":
    main()
