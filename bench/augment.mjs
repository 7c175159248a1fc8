// Augmentation cost per batch of 128 CIFAR-sized (32x32x3 uint8) images: ours (typed-array loops in the data
// pipeline) against torchvision 0.14 on PIL images (RandomCrop(32, padding=4) + RandomHorizontalFlip, then
// RandAugment(2, 10); ToTensor + Normalize), the same work per image. Needs a build (`make setup`); the
// torchvision column needs Debian's python3-torchvision (`make bench` installs it).
//   node bench/augment.mjs [--reps 20]
import { execFileSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import { Rng } from 'layerwise-lr';
import { uint8Split } from '../packages/lab/dist/src/data/dataset.js';
import { Augmenter } from '../packages/lab/dist/src/data/augment/pipeline.js';
import { resolveAugment } from '../packages/lab/dist/src/data/augment/policy.js';

const { values } = parseArgs({ options: { reps: { type: 'string', default: '20' } } });
const reps = Number(values.reps);
const n = 1024;
const norm = { mean: [0.4914, 0.4822, 0.4465], std: [0.247, 0.2435, 0.2616] };
const rng = new Rng(1);
const split = uint8Split(Uint8Array.from({ length: n * 3072 }, () => Math.floor(rng.uniform() * 256)), new Int32Array(n), norm, 3);
const idx = Int32Array.from({ length: 128 }, (_, i) => (i * 37) % n);
const ours = {};
for (const level of ['basic', 'strong']) {
  const aug = new Augmenter(split.pixels, [32, 32, 3], 32, norm, resolveAugment(level, { crop: 'pad' }), 0);
  aug.batch(idx, split.labels, 0, 0); // warm-up
  const t0 = performance.now();
  for (let b = 1; b <= reps; b++) aug.batch(idx, split.labels, 0, b);
  ours[level] = (performance.now() - t0) / reps;
}

const py = `
import time, random, numpy as np, torch, torchvision.transforms as T
from PIL import Image
torch.set_num_threads(1)
rs = np.random.RandomState(1)
imgs = [Image.fromarray(rs.randint(0, 256, (32, 32, 3), dtype=np.uint8)) for _ in range(128)]
norm = T.Normalize((0.4914, 0.4822, 0.4465), (0.247, 0.2435, 0.2616))
basic = T.Compose([T.RandomCrop(32, padding=4), T.RandomHorizontalFlip(), T.ToTensor(), norm])
strong = T.Compose([T.RandomCrop(32, padding=4), T.RandomHorizontalFlip(), T.RandAugment(2, 10), T.ToTensor(), norm])
for name, tf in (('basic', basic), ('strong', strong)):
    torch.stack([tf(im) for im in imgs])
    t0 = time.perf_counter()
    for _ in range(${reps}):
        torch.stack([tf(im) for im in imgs])
    print(name, (time.perf_counter() - t0) / ${reps} * 1000)
`;
let torch = {};
try {
  const out = execFileSync('/usr/bin/python3', ['-c', py], { encoding: 'utf8', env: { ...process.env, OMP_NUM_THREADS: '1' } });
  torch = Object.fromEntries(out.trim().split('\n').map((l) => l.split(' ')).map(([k, v]) => [k, Number(v)]));
} catch {
  console.log('(torchvision not available: /usr/bin/python3 -c "import torchvision" failed; its column is empty)');
}
console.log('augmentation, ms per batch of 128 32x32x3 images (Mixup included in strong for ours; one thread each)');
console.log('level    ours     torchvision   torchvision/ours');
for (const level of ['basic', 'strong']) {
  const t = torch[level];
  console.log(`${level.padEnd(8)} ${ours[level].toFixed(2).padStart(6)}   ${t ? t.toFixed(2).padStart(9) : '        -'}     ${t ? (t / ours[level]).toFixed(2) : '-'}`);
}
