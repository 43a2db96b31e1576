#!/usr/bin/env python3
"""Writes small dynamo-exporter fixtures into test/fixtures/dynamo/ (committed), each with PyTorch's truth.

Run with the PyTorch 2 venv (made by `bash scripts/setup-torch2.sh`; PyTorch 2.13, onnx, onnxscript):

    .cache/torch2/bin/python scripts/make_dynamo_fixtures.py              # all fixtures
    .cache/torch2/bin/python scripts/make_dynamo_fixtures.py only NAME    # one fixture
    .cache/torch2/bin/python scripts/make_dynamo_fixtures.py inspect NAME # print each node's metadata

Every file is the default `torch.onnx.export(model, args, path)` of PyTorch 2.9+ (the dynamo exporter, eval
mode), with one change afterwards: the checkout's absolute path is cut from `pkg.torch.onnx.stack_trace`
metadata, so the files do not depend on where the repository lives. Deterministic: fixed seeds.

The dynamo exporter records a node's module scope in metadata, `pkg.torch.onnx.name_scopes` (`['', 'conv1',
'conv2d_1']`: module paths from the root, then the FX node's name), not the module *call*: both calls of
`conv1` in `conv1(conv1(x))` say `conv1`. paramtrace tells the calls apart by parameter reuse
(docs/counting.md, "Layer call").

Fixtures (NAME.onnx + NAME.expect.json, inputs NAME.input-K.npy):
- seed-case-1/2/3: the three seed cases (docs/seed-cases.md) at input 1x1x16x16 instead of 1x1x512x512 (the
  counts do not depend on the input size). Case 3's unused conv2 is dropped by the exporter (graph: 9).
- tied-embedding: Embedding(100, 16) tied to the Linear(16, 100) head; stored as `head.weight` plus a
  transposed copy `val_N`.
- albert-shared: ALBERT-style cross-layer sharing: one pre-norm transformer block (LayerNorm, Linear qkv,
  Linear out, LayerNorm, Linear-GELU-Linear MLP) applied three times.
- siamese: one encoder (Conv2d, ReLU, Flatten, Linear) on two inputs, then a Linear head on |a - b|.
- lstm: nn.LSTM(8, 16) then Linear(16, 4); the LSTM weights are folded into generated `val_N` initializers.
- vit-block: tiny ViT: patch Conv2d, class token and position Parameters, pre-norm block with
  nn.MultiheadAttention (called once) and MLP, LayerNorm, head.
- frozen-backbone: a Conv backbone with requires_grad=False and a trainable Linear head.
- weight-read-twice: a module whose forward reads its weight twice (`relu(x @ w) @ w`), called twice, and a
  Linear called on two lines: block.w has 2 calls, not 4 (the stack traces tell the reads of one call apart).

NAME.expect.json `torch` block follows test/support/torch_truth.py (its measure() is reused): declared =
sum(p.numel() for p in model.parameters()); unique = numel of the parameters with a .grad after backward of the
outputs' sum; calls per parameter via forward hooks (a module call counts for the parameters it owns directly;
a used parameter no hooked call owns counts one call of the root); summary = sum of numel x calls. `graph`
holds what a graph-only analysis must report where the file cannot show PyTorch's count (seed case 3).
"""

from __future__ import annotations

import json
import os
import sys
import tempfile

import numpy as np
import onnx
import onnx.numpy_helper
import torch
import torch.nn as nn

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))
OUT = os.path.join(ROOT, 'test', 'fixtures', 'dynamo')
sys.path.insert(0, os.path.join(ROOT, 'test', 'support'))

from torch_models import FrozenBackbone, SeedCase1, SeedCase2, SeedCase3, TiedEmbedding  # noqa: E402
from torch_truth import flatten, measure  # noqa: E402


class Block(nn.Module):
    """A pre-norm transformer block with its attention written out (every parameter in an nn.Linear or
    nn.LayerNorm, so forward hooks see every call)."""

    def __init__(self, dim=16, heads=2, hidden=32):
        super().__init__()
        self.heads = heads
        self.norm1 = nn.LayerNorm(dim)
        self.qkv = nn.Linear(dim, 3 * dim)
        self.out = nn.Linear(dim, dim)
        self.norm2 = nn.LayerNorm(dim)
        self.fc1 = nn.Linear(dim, hidden)
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x):
        b, t, d = x.shape
        q, k, v = self.qkv(self.norm1(x)).chunk(3, dim=-1)
        q, k, v = (z.reshape(b, t, self.heads, d // self.heads).transpose(1, 2) for z in (q, k, v))
        a = torch.softmax(q @ k.transpose(-2, -1) / (d // self.heads) ** 0.5, dim=-1) @ v
        x = x + self.out(a.transpose(1, 2).reshape(b, t, d))
        return x + self.fc2(torch.nn.functional.gelu(self.fc1(self.norm2(x))))


class AlbertShared(nn.Module):
    """ALBERT-style cross-layer sharing: one block, applied three times."""

    def __init__(self):
        super().__init__()
        self.layer = Block()

    def forward(self, x):
        for _ in range(3):
            x = self.layer(x)
        return x


class Siamese(nn.Module):
    """One encoder applied to two inputs."""

    def __init__(self):
        super().__init__()
        self.encoder = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 6 * 6, 8))
        self.head = nn.Linear(8, 1)

    def forward(self, a, b):
        return self.head(torch.abs(self.encoder(a) - self.encoder(b)))


class Lstm(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(input_size=8, hidden_size=16, num_layers=1)
        self.head = nn.Linear(16, 4)

    def forward(self, x):  # x: (seq, batch, 8)
        h, _ = self.lstm(x)
        return self.head(h)


class VitBlock(nn.Module):
    """Patch embedding, class token, position embedding, one attention block, head."""

    def __init__(self, dim=16):
        super().__init__()
        self.patch = nn.Conv2d(3, dim, 4, stride=4)
        self.cls_token = nn.Parameter(torch.randn(1, 1, dim))
        self.pos_embed = nn.Parameter(torch.randn(1, 17, dim))
        self.norm1 = nn.LayerNorm(dim)
        self.attn = nn.MultiheadAttention(dim, 2, batch_first=True)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = nn.Sequential(nn.Linear(dim, 32), nn.GELU(), nn.Linear(32, dim))
        self.norm = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, 10)

    def forward(self, img):
        x = self.patch(img).flatten(2).transpose(1, 2)
        x = torch.cat([self.cls_token.expand(x.shape[0], -1, -1), x], dim=1) + self.pos_embed
        h = self.norm1(x)
        x = x + self.attn(h, h, h, need_weights=False)[0]
        x = x + self.mlp(self.norm2(x))
        return self.head(self.norm(x)[:, 0])


class ReadsTwice(nn.Module):
    """A module whose forward reads its own weight twice, on two lines: one call, two reads."""

    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(torch.randn(8, 8))

    def forward(self, x):
        y = torch.relu(x @ self.w)
        return y @ self.w


class WeightReadTwice(nn.Module):
    """block (reads block.w twice per call) called twice, around fc called twice on two lines."""

    def __init__(self):
        super().__init__()
        self.block = ReadsTwice()
        self.fc = nn.Linear(8, 8)

    def forward(self, x):
        x = self.block(x)
        x = self.fc(x)
        x = self.fc(x)
        return self.block(x)


def small_image():
    return (torch.randn(1, 1, 16, 16),)


FIXTURES = {
    'seed-case-1': (SeedCase1, small_image, 'seed case 1 at 1x1x16x16: conv2(conv1(x)), no sharing'),
    'seed-case-2': (SeedCase2, small_image, 'seed case 2 at 1x1x16x16: conv1(conv1(x)), conv1.weight shared'),
    'seed-case-3': (
        SeedCase3,
        small_image,
        'seed case 3 at 1x1x16x16: conv1(conv1(x)), conv2 declared, never called, dropped by the exporter',
    ),
    'tied-embedding': (
        TiedEmbedding,
        lambda: (torch.randint(0, 100, (1, 8), dtype=torch.int64),),
        'Embedding(100, 16) tied to the Linear(16, 100) head',
    ),
    'albert-shared': (AlbertShared, lambda: (torch.randn(1, 4, 16),), 'one transformer block applied 3 times'),
    'siamese': (
        Siamese,
        lambda: (torch.randn(1, 1, 8, 8), torch.randn(1, 1, 8, 8)),
        'one encoder on two inputs, Linear head on |a - b|',
    ),
    'lstm': (Lstm, lambda: (torch.randn(5, 1, 8),), 'LSTM(8, 16) then Linear(16, 4)'),
    'vit-block': (VitBlock, lambda: (torch.randn(1, 3, 16, 16),), 'tiny ViT with nn.MultiheadAttention'),
    'weight-read-twice': (
        WeightReadTwice,
        lambda: (torch.randn(1, 8),),
        'block.w read twice in each of 2 calls of block (one call = two reads), fc called on two lines',
    ),
    'frozen-backbone': (
        FrozenBackbone,
        lambda: (torch.randn(1, 3, 16, 16),),
        'Conv backbone with requires_grad=False, trainable Linear head',
    ),
}

# What the file cannot show of PyTorch's count, per fixture: the graph-only value and why.
GRAPH = {
    'seed-case-3': {
        'declared': 9,
        'notes': 'the exporter drops conv2.weight (forward never calls conv2): the file declares 9, PyTorch 18',
    },
}


def torch_names(exported, params):
    """Initializer name -> the PyTorch parameter it stores, equal or 2-D transposed (the exporter keeps PyTorch's
    name for some and writes folded copies as `val_N`); initializers that are no one parameter are left out."""
    out = {}
    for init in exported.graph.initializer:
        value = torch.from_numpy(onnx.numpy_helper.to_array(init).copy())
        for pname, p in params:
            t = p.detach()
            if (value.shape == t.shape and torch.equal(value, t)) or (
                t.dim() == 2 and value.shape == t.t().shape and torch.equal(value, t.t())
            ):
                out[init.name] = pname
                break
    return out


def export(model, inputs, path):
    """torch.onnx.export's defaults into a scratch folder, then saved as one file (the exporter may put the
    weights in a `.onnx.data` file beside it), the checkout's absolute path cut from the stack-trace metadata
    (nothing else changes)."""
    with tempfile.TemporaryDirectory() as scratch:
        raw = os.path.join(scratch, 'model.onnx')
        torch.onnx.export(model, inputs, raw)
        exported = onnx.load(raw, load_external_data=True)
    prefix = ROOT + os.sep
    for node in exported.graph.node:
        for prop in node.metadata_props:
            if prefix in prop.value:
                prop.value = prop.value.replace(prefix, '')
    onnx.save(exported, path)
    return exported


def make(name):
    factory, inputs_factory, description = FIXTURES[name]
    torch.manual_seed(0)
    model = factory()
    with torch.no_grad():
        # Fresh LayerNorm / bias tensors are all ones or all zeros, and the exporter's optimizer merges
        # initializers of equal value (norm2.weight becomes a second read of norm1.weight): random values keep
        # every parameter its own tensor, as in a trained model.
        for p in model.parameters():
            if p.numel() > 1 and bool((p == p.flatten()[0]).all()):
                p.normal_()
    torch.manual_seed(1)
    inputs = tuple(inputs_factory())
    model.eval()
    params, used, calls = measure(model, inputs)
    with torch.no_grad():
        outputs = flatten(model(*inputs))
    path = os.path.join(OUT, f'{name}.onnx')
    exported = export(model, inputs, path)
    input_names = [i.name for i in exported.graph.input]
    files = {}
    for k, (input_name, tensor) in enumerate(zip(input_names, inputs)):
        files[input_name] = f'{name}.input-{k}.npy'
        np.save(os.path.join(OUT, files[input_name]), tensor.numpy())
    per_param = {
        pname: {'numel': int(p.numel()), 'calls': calls[pname], 'used': pname in used, 'requiresGrad': p.requires_grad}
        for pname, p in params
    }
    torch_block = {
        'torchVersion': str(torch.__version__),
        'declared': sum(e['numel'] for e in per_param.values()),
        'unique': sum(e['numel'] for e in per_param.values() if e['used']),
        'summary': sum(e['numel'] * e['calls'] for e in per_param.values()),
        'shared': {n: e['calls'] for n, e in per_param.items() if e['calls'] >= 2},
        'unused': [n for n, e in per_param.items() if not e['used']],
        'perParameter': per_param,
    }
    expect = {
        'description': description,
        'exporter': 'torch.onnx.export (dynamo, PyTorch 2.13 default)',
        'torch': torch_block,
        'inputs': files,
        'outputShapes': [list(o.shape) for o in outputs],
        'initializers': {i.name: list(i.dims) for i in exported.graph.initializer},
        'torchNames': torch_names(exported, params),
    }
    if name in GRAPH:
        expect['graph'] = GRAPH[name]
    with open(os.path.join(OUT, f'{name}.expect.json'), 'w') as fh:
        json.dump(expect, fh, indent=2)
        fh.write('\n')
    size = os.path.getsize(path)
    print(
        f'{name}: {size:,} bytes; declared {torch_block["declared"]} unique {torch_block["unique"]} '
        f'summary {torch_block["summary"]} shared {torch_block["shared"]} unused {torch_block["unused"]}'
    )


def inspect(name):
    model = onnx.load(os.path.join(OUT, f'{name}.onnx'))
    print('initializers:', {i.name: list(i.dims) for i in model.graph.initializer})
    print('functions:', [f.name for f in model.functions])
    for node in model.graph.node:
        md = {p.key: p.value for p in node.metadata_props}
        print(node.op_type, node.name, list(node.input), md.get('pkg.torch.onnx.name_scopes'))


def main(argv):
    os.makedirs(OUT, exist_ok=True)
    if len(argv) == 2 and argv[0] == 'only':
        make(argv[1])
    elif len(argv) == 2 and argv[0] == 'inspect':
        inspect(argv[1])
    elif not argv:
        for name in FIXTURES:
            make(name)
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
