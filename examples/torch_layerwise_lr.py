"""Layer-wise learning rates from `lwlr` in PyTorch (a reference script; nothing in lwlr depends on it).

1. Measure the table and the measurement init, and convert both to torch names and layouts:

     lwlr lr --model resnet18-cifar --data cifar10 --out lr-table.json --save-init init.safetensors
     lwlr convert --model resnet18-cifar --image-size 32 --channels 3 --num-classes 10 \
         --from init.safetensors --to init-torch.safetensors --format torch
     lwlr convert --lr-table lr-table.json --format torch --out lr-table-torch.json

2. Build the optimizer here (torchvision's resnet18 with the CIFAR stem: 3x3 stride-1 conv1, no max-pool):

     python3 examples/torch_layerwise_lr.py --weights init-torch.safetensors \
         --lr-table lr-table-torch.json --arch resnet18-cifar --num-classes 10 --lr 0.1

Every parameter gets its own param group with lr = base_lr * eta. A timm ViT / Swin fuses q, k, v into one
`attn.qkv` tensor (GPT-2: `attn.c_attn`, fused along its columns) while the table has one eta per part
(entries with `rows`, and `axis: 1` for columns): that tensor's group gets lr = base_lr * max(eta) and a
gradient hook scales each row (column) range by eta / max(eta) (weight decay is applied in the hook too, so
every row moves exactly as with its own lr; exact for SGD with or without momentum).

`lwlr lr --save-init` writes the trainable parameters only: BatchNorm running statistics are then missing
(load with strict=False; torch's defaults, 0 and 1, are the measurement init's too). `num_batches_tracked`
is never written: torch's BatchNorm sets a missing counter to 0 itself.

The safetensors file is read with json + struct + torch.frombuffer (no `safetensors` package needed).
"""
import argparse
import json
import struct

import torch

_DTYPES = {'F32': torch.float32, 'F64': torch.float64, 'F16': torch.float16, 'I64': torch.int64}


def load_safetensors(path):
    """{name: tensor} of a safetensors file (8-byte little-endian header length, JSON header, raw data)."""
    with open(path, 'rb') as f:
        raw = f.read()
    (n,) = struct.unpack('<Q', raw[:8])
    header = json.loads(raw[8:8 + n])
    header.pop('__metadata__', None)
    data = bytearray(raw[8 + n:])  # writable, so torch.frombuffer does not warn
    out = {}
    for name, info in header.items():
        begin, end = info['data_offsets']
        dtype = _DTYPES[info['dtype']]
        count = (end - begin) // torch.empty(0, dtype=dtype).element_size()
        t = torch.frombuffer(data, dtype=dtype, count=count, offset=begin) if count else torch.empty(0, dtype=dtype)
        out[name] = t.reshape(info['shape']).clone()
    return out


def param_groups(model, table, base_lr, weight_decay=0.0):
    """SGD param groups from an lwlr LR table in torch names (`lwlr convert --lr-table ... --format torch`).

    Returns a list for torch.optim.SGD: one group per parameter, lr = base_lr * eta. A tensor with several
    entries (a fused qkv: `rows` [begin, end) per part; of axis 1 where the entry says `axis: 1`, as GPT-2's
    Conv1D `c_attn.weight`) gets lr = base_lr * max(eta) and a gradient hook that multiplies those rows (or
    columns) by eta / max(eta) after adding weight decay (the group's own weight_decay is 0).
    """
    if table.get('schema') != 'layerwise-lr/lr-table-torch@1':
        raise ValueError(f"expected an LR table in torch names (schema layerwise-lr/lr-table-torch@1), got {table.get('schema')!r}")
    by_name = {}
    for e in table['entries']:
        by_name.setdefault(e['name'], []).append(e)
    params = dict(model.named_parameters())
    unknown = [n for n in by_name if n not in params]
    missing = [n for n in params if n not in by_name]
    if unknown or missing:
        raise ValueError(f'the table does not fit the model: not in the model {unknown[:5]}, not in the table {missing[:5]}')
    groups = []
    for name, p in params.items():
        entries = by_name[name]
        top = max(e['eta'] for e in entries)
        if len(entries) == 1 or all(e['eta'] == top for e in entries):
            groups.append({'params': [p], 'lr': base_lr * top, 'weight_decay': weight_decay, 'name': name})
            continue
        axis = entries[0].get('axis', 0)
        scale = torch.ones(*[p.shape[d] if d == axis else 1 for d in range(p.dim())], dtype=p.dtype)
        for e in entries:
            begin, end = e['rows']
            scale.narrow(axis, begin, end - begin).fill_(e['eta'] / top)

        def hook(grad, p=p, scale=scale):
            g = grad + weight_decay * p.detach() if weight_decay else grad
            return g * scale.to(grad.device)
        p.register_hook(hook)
        groups.append({'params': [p], 'lr': base_lr * top, 'weight_decay': 0.0, 'name': name})
    return groups


def build(arch, num_classes):
    """torchvision resnet18 / resnet50, optionally with lwlr's CIFAR stem (3x3 stride-1 conv1, no max-pool)."""
    import torchvision
    base = arch.replace('-cifar', '')
    model = getattr(torchvision.models, base)(num_classes=num_classes)
    if arch.endswith('-cifar'):
        model.conv1 = torch.nn.Conv2d(3, 64, 3, 1, 1, bias=False)
        model.maxpool = torch.nn.Identity()
    return model


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--weights', required=True, help='safetensors in torch layout (lwlr convert --format torch)')
    ap.add_argument('--lr-table', required=True, help='LR table in torch names (lwlr convert --lr-table ... --format torch)')
    ap.add_argument('--arch', default='resnet18-cifar', choices=['resnet18', 'resnet18-cifar', 'resnet50', 'resnet50-cifar'])
    ap.add_argument('--num-classes', type=int, default=10)
    ap.add_argument('--lr', type=float, default=0.1)
    ap.add_argument('--momentum', type=float, default=0.9)
    ap.add_argument('--weight-decay', type=float, default=5e-4)
    a = ap.parse_args()
    model = build(a.arch, a.num_classes)
    state = load_safetensors(a.weights)
    result = model.load_state_dict(state, strict=False)
    extra = [k for k in result.missing_keys if not k.endswith('num_batches_tracked')]
    if result.unexpected_keys:
        raise SystemExit(f'{a.weights}: unexpected keys {result.unexpected_keys[:5]}')
    if extra:
        print(f'note: {len(extra)} tensors not in {a.weights} keep their torch init (first: {extra[:3]})')
    with open(a.lr_table) as f:
        table = json.load(f)
    groups = param_groups(model, table, a.lr, a.weight_decay)
    opt = torch.optim.SGD(groups, lr=a.lr, momentum=a.momentum, weight_decay=a.weight_decay)
    for g in opt.param_groups[:5]:
        print(f"{g['name']:40s} lr {g['lr']:.5g}")
    print(f'... {len(opt.param_groups)} param groups; train with opt as usual')


if __name__ == '__main__':
    main()
