"""PyTorch reference for bench/lm-step.mjs: the same GPT (token + learned position embedding, pre-norm blocks
with separate q/k/v, causal attention, exact GELU, LayerNorm eps 1e-5, tied head) and the same AdamW step
(lr 1e-3, weight decay 0.1) on a batch of random token windows, timed the same way (median over BENCH_ITERS
steps after 2 warm-up steps). Prints one JSON object: ms, cpu_s (per step), peak_rss and rss_growth (bytes:
peak RSS of the process, and its growth from before the model was built).

Run with Debian's interpreter (/usr/bin/python3, python3-torch); the caller sets OMP_WAIT_POLICY=passive and
LWLR_NUM_THREADS (the threads of the onednn run). BENCH_CONFIG: {"vocab", "ctx", "depth", "dim", "heads", "batch", "context"}.
"""
import json
import math
import os
import resource
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.set_num_threads(int(os.environ.get('LWLR_NUM_THREADS', os.cpu_count() or 1)))
torch.manual_seed(0)
cfg = json.loads(os.environ['BENCH_CONFIG'])
iters = int(os.environ.get('BENCH_ITERS', '10'))


def rss():
    with open('/proc/self/statm') as f:
        return int(f.read().split()[1]) * os.sysconf('SC_PAGE_SIZE')


class Block(nn.Module):
    def __init__(self, dim, heads):
        super().__init__()
        self.heads = heads
        self.norm1, self.norm2 = nn.LayerNorm(dim), nn.LayerNorm(dim)
        self.q, self.k, self.v, self.proj = (nn.Linear(dim, dim) for _ in range(4))
        self.fc1, self.fc2 = nn.Linear(dim, 4 * dim), nn.Linear(4 * dim, dim)

    def forward(self, x, mask):
        b, t, d = x.shape
        h = self.norm1(x)
        split = lambda z: z.view(b, t, self.heads, d // self.heads).transpose(1, 2)
        q, k, v = split(self.q(h)), split(self.k(h)), split(self.v(h))
        a = (q @ k.transpose(-2, -1) * (d // self.heads) ** -0.5 + mask[:t, :t]).softmax(-1)
        x = x + self.proj((a @ v).transpose(1, 2).reshape(b, t, d))
        return x + self.fc2(F.gelu(self.fc1(self.norm2(x))))


class GPT(nn.Module):
    def __init__(self, vocab, ctx, depth, dim, heads):
        super().__init__()
        self.tok, self.pos = nn.Embedding(vocab, dim), nn.Embedding(ctx, dim)
        self.blocks = nn.ModuleList(Block(dim, heads) for _ in range(depth))
        self.norm = nn.LayerNorm(dim)
        self.register_buffer('mask', torch.full((ctx, ctx), float('-inf')).triu(1), persistent=False)

    def forward(self, ids):
        x = self.tok(ids) + self.pos(torch.arange(ids.shape[1]))
        for b in self.blocks:
            x = b(x, self.mask)
        return self.norm(x) @ self.tok.weight.t()  # tied head


rss0 = rss()
model = GPT(cfg['vocab'], cfg['ctx'], cfg['depth'], cfg['dim'], cfg['heads'])
opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.1)
tokens = torch.randint(0, cfg['vocab'], (cfg['batch'], cfg['context'] + 1))
x, y = tokens[:, :-1], tokens[:, 1:]


def step():
    opt.zero_grad(set_to_none=True)
    loss = F.cross_entropy(model(x).reshape(-1, cfg['vocab']), y.reshape(-1))
    loss.backward()
    opt.step()
    return loss.item()


for _ in range(2):
    step()
times = []
c0 = time.process_time()
for _ in range(iters):
    t0 = time.perf_counter()
    step()
    times.append((time.perf_counter() - t0) * 1000)
cpu = (time.process_time() - c0) / iters
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({'ms': sorted(times)[len(times) // 2], 'cpu_s': cpu, 'peak_rss': peak, 'rss_growth': peak - rss0}))
