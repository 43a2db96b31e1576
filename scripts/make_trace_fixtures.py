#!/usr/bin/python3
"""Writes the trace stage's own test fixtures into test/fixtures/trace/ (small, committed), or exports a
resnet-sized model for the benchmark and the GPU check (large, never committed).

Run with Debian's python (torch 1.13, torchvision 0.14, onnx 1.12, numpy):

    /usr/bin/python3 scripts/make_trace_fixtures.py            # the fixtures
    /usr/bin/python3 scripts/make_trace_fixtures.py resnet18 OUT.onnx
    /usr/bin/python3 scripts/make_trace_fixtures.py only NAME    # one fixture (a function below, e.g. torch_script_lstm_if)

Deterministic: fixed seeds, so a rerun writes the same files.

Fixtures:
- unnamed-nodes.onnx: nodes with empty names and repeated names, in the main graph and in both If
  branches (the If is named like a main-graph node): every node that runs must join to itself, once.
- symbolic-dims.onnx: x [batch, 4] -> MatMul(W [4, 3]) -> y [batch, 3].
- local-function.onnx: a model-local function `local.Linear(x, W)` called twice with two weights;
  onnxruntime inlines the calls under generated names.
- scan-body.onnx: Scan over xs [T, 4] with state s [1, 4]; the body does MatMul(s, W [4, 4]) (W from the
  outer scope): T iterations, T calls of W.
- unsupported-op.onnx: a node of an operator no runtime has (`NoSuchOp`), named `/mystery/NoSuchOp`.
- torch-script-if.onnx: torch.jit.script of `if x.sum() > 0: self.a(x) else: self.b(x)` (two Linear(4, 3)
  layers), exported by torch.onnx.export 1.13 (opset 13): a data-dependent If.
- x-ones.npy, x-zeros.npy: float32 [1, 4] inputs for it (then branch, else branch).
- torch-script-lstm-if.onnx: torch.jit.script of `if flag.sum() > 0: lstm(x) else: lstm(pre(x))`, then
  `head(...)` (LSTM(4, 8), Linear(4, 4) `pre`, Linear(8, 3) `head`), exported by torch.onnx.export 1.13
  (opset 13): the same LSTM weights (Constant nodes `6`..`9`) are used in both If branches, `pre` only in the
  else branch, `head` after the If. Inputs x [3, 1, 4], flag [1, 4] (x-ones.npy: then, x-zeros.npy: else).
- torch-layernorm.onnx: Linear -> LayerNorm -> GELU -> Linear at opset 17 (a LayerNormalization node, axis=-1).
- torch-encoder-layer.onnx: nn.TransformerEncoderLayer(16, 2 heads, FFN 32) at opset 13: MultiheadAttention
  (Softmax axis=-1), LayerNorms decomposed (ReduceMean axes=[-1]).
- torch-tied-lm.onnx: Embedding + position Parameter + one encoder layer + LayerNorm + output head tied to
  the embedding (stored twice: emb.weight and a transposed onnx::MatMul_N copy).
- torch-script-loop-if.onnx: torch.jit.script of a loop over x.size(0) (T symbolic) calling Linear `cell`,
  then `if h.sum() > 0: pos(h) else: neg(h)`: a Loop and a data-dependent If.
  Each of these four has NAME.expect.json (PyTorch's own truth: declared, used via .grad, calls via forward
  hooks) and its inputs as NAME.<input>.npy.
- npy/: files numpy wrote, for the .npy reader: format versions 1.0, 2.0, 3.0, several dtypes, a Fortran-
  order array and a big-endian one (both to be refused).
"""

import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))
OUT = os.path.join(ROOT, 'test', 'fixtures', 'trace')
OPSET = 13


def vi(name, elem, shape):
    return helper.make_tensor_value_info(name, elem, shape)


def weight(name, seed, *shape):
    return numpy_helper.from_array(np.random.default_rng(seed).standard_normal(shape).astype(np.float32), name)


def save(name, model):
    model.producer_name = 'paramtrace make_trace_fixtures.py'
    path = os.path.join(OUT, name)
    onnx.save(model, path)
    print('wrote', os.path.relpath(path, ROOT))


def unnamed_nodes():
    then_branch = helper.make_graph(
        [helper.make_node('MatMul', ['h', 'W_then'], ['then_y'], name=''), helper.make_node('Relu', ['then_y'], ['then_out'], name='dup')],
        'then_branch', [], [vi('then_out', TensorProto.FLOAT, [1, 3])])
    else_branch = helper.make_graph(
        [helper.make_node('MatMul', ['h', 'W_else'], ['else_y'], name=''), helper.make_node('Relu', ['else_y'], ['else_out'], name='dup')],
        'else_branch', [], [vi('else_out', TensorProto.FLOAT, [1, 3])])
    nodes = [
        helper.make_node('MatMul', ['x', 'W1'], ['a'], name=''),
        helper.make_node('Relu', ['a'], ['h'], name='dup'),
        helper.make_node('Relu', ['h'], ['h2'], name='dup'),
        helper.make_node('Add', ['h', 'h2'], ['h3'], name=''),
        helper.make_node('If', ['cond'], ['b'], name='dup', then_branch=then_branch, else_branch=else_branch),
        helper.make_node('MatMul', ['h3', 'W2'], ['c'], name=''),
    ]
    graph = helper.make_graph(nodes, 'unnamed', [vi('x', TensorProto.FLOAT, [1, 4]), vi('cond', TensorProto.BOOL, [])],
                              [vi('b', TensorProto.FLOAT, [1, 3]), vi('c', TensorProto.FLOAT, [1, 2])],
                              [weight('W1', 1, 4, 4), weight('W2', 2, 4, 2), weight('W_then', 3, 4, 3), weight('W_else', 4, 4, 3)])
    save('unnamed-nodes.onnx', helper.make_model(graph, opset_imports=[helper.make_opsetid('', OPSET)], ir_version=7))


def symbolic_dims():
    graph = helper.make_graph([helper.make_node('MatMul', ['x', 'W'], ['y'], name='/fc/MatMul')], 'symbolic',
                              [vi('x', TensorProto.FLOAT, ['batch', 4])], [vi('y', TensorProto.FLOAT, ['batch', 3])],
                              [weight('W', 5, 4, 3)])
    save('symbolic-dims.onnx', helper.make_model(graph, opset_imports=[helper.make_opsetid('', OPSET)], ir_version=7))


def local_function():
    linear = helper.make_function('local', 'Linear', ['x', 'w'], ['y'],
                                  [helper.make_node('MatMul', ['x', 'w'], ['y'], name='matmul')],
                                  [helper.make_opsetid('', OPSET)])
    nodes = [
        helper.make_node('Linear', ['x', 'W1'], ['h'], domain='local', name='/first/Linear'),
        helper.make_node('Linear', ['h', 'W2'], ['y'], domain='local', name='/second/Linear'),
    ]
    graph = helper.make_graph(nodes, 'functions', [vi('x', TensorProto.FLOAT, [1, 4])], [vi('y', TensorProto.FLOAT, [1, 2])],
                              [weight('W1', 6, 4, 3), weight('W2', 7, 3, 2)])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid('', OPSET), helper.make_opsetid('local', 1)],
                              functions=[linear], ir_version=8)
    save('local-function.onnx', model)


def scan_body():
    body = helper.make_graph(
        [helper.make_node('MatMul', ['s_in', 'W'], ['s_out'], name='/body/MatMul'), helper.make_node('Identity', ['s_out'], ['y_t'], name='/body/Identity')],
        'scan_body', [vi('s_in', TensorProto.FLOAT, [1, 4]), vi('x_t', TensorProto.FLOAT, [4])],
        [vi('s_out', TensorProto.FLOAT, [1, 4]), vi('y_t', TensorProto.FLOAT, [1, 4])])
    graph = helper.make_graph([helper.make_node('Scan', ['s0', 'xs'], ['s_final', 'ys'], name='/Scan', body=body, num_scan_inputs=1)], 'scan',
                              [vi('s0', TensorProto.FLOAT, [1, 4]), vi('xs', TensorProto.FLOAT, ['T', 4])],
                              [vi('s_final', TensorProto.FLOAT, [1, 4]), vi('ys', TensorProto.FLOAT, ['T', 1, 4])],
                              [weight('W', 8, 4, 4)])
    save('scan-body.onnx', helper.make_model(graph, opset_imports=[helper.make_opsetid('', OPSET)], ir_version=7))


def unsupported_op():
    nodes = [helper.make_node('Relu', ['x'], ['h'], name='/relu/Relu'), helper.make_node('NoSuchOp', ['h'], ['y'], name='/mystery/NoSuchOp')]
    graph = helper.make_graph(nodes, 'unsupported', [vi('x', TensorProto.FLOAT, [1, 4])], [vi('y', TensorProto.FLOAT, [1, 4])])
    save('unsupported-op.onnx', helper.make_model(graph, opset_imports=[helper.make_opsetid('', OPSET)], ir_version=7))


def torch_script_if():
    import io
    import warnings

    import torch

    class Branchy(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.a = torch.nn.Linear(4, 3)
            self.b = torch.nn.Linear(4, 3)

        def forward(self, x):
            if x.sum() > 0:
                return self.a(x)
            else:
                return self.b(x)

    torch.manual_seed(0)
    model = torch.jit.script(Branchy().eval())
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        torch.onnx.export(model, (torch.ones(1, 4),), buffer, input_names=['x'], output_names=['y'], opset_version=OPSET)
    save('torch-script-if.onnx', onnx.load_from_string(buffer.getvalue()))
    np.save(os.path.join(OUT, 'x-ones.npy'), np.ones((1, 4), np.float32))
    np.save(os.path.join(OUT, 'x-zeros.npy'), np.zeros((1, 4), np.float32))
    torch.manual_seed(0)  # the same weights again, eager: a scripted module takes no forward hooks
    torch_expect('torch-script-if', Branchy().eval(), (torch.ones(1, 4),), {'x': 'x-ones.npy'},
                 'torch.jit.script of `if x.sum() > 0: self.a(x) else: self.b(x)` (two Linear(4, 3)), opset 13: '
                 'a data-dependent If. With x = ones (x-ones.npy) branch `a` runs.',
                 'torch.jit.script, torch.onnx.export 1.13 eval, opset 13')


def torch_script_lstm_if():
    import io
    import warnings

    import torch

    class LstmEitherWay(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.pre = torch.nn.Linear(4, 4)
            self.lstm = torch.nn.LSTM(4, 8)
            self.head = torch.nn.Linear(8, 3)

        def forward(self, x, flag):
            if bool(flag.sum() > 0):
                y, _ = self.lstm(x)
            else:
                y, _ = self.lstm(self.pre(x))
            return self.head(y)

    torch.manual_seed(0)
    model = torch.jit.script(LstmEitherWay().eval())
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        torch.onnx.export(model, (torch.ones(3, 1, 4), torch.ones(1, 4)), buffer, input_names=['x', 'flag'],
                          output_names=['y'], opset_version=OPSET)
    save('torch-script-lstm-if.onnx', onnx.load_from_string(buffer.getvalue()))


# ----------------------------------------------------------------------------------------------------------
# Transformer-style PyTorch exports, each with NAME.expect.json holding PyTorch's own truth (torch_expect).


def torch_expect(name, model, inputs, input_files, description, source, notes=()):
    """Writes NAME.expect.json: PyTorch's truth for the eager `model` (eval) on `inputs`, and saves the
    inputs as .npy files (input_files: graph input name -> file name, in the order of `inputs`).

    declared: sum(p.numel() for p in model.parameters()); used: parameters with a .grad after backward of
    the outputs' sum; calls: forward-hook calls of the modules holding the parameter directly, and for a
    used parameter no called module holds (MultiheadAttention's out_proj.weight, used by F.linear inside
    self_attn's forward), the calls of its nearest called ancestor. unique: numel of the used parameters;
    summary: sum of numel * calls over them; shared: used parameters with calls >= 2.
    """
    import json

    import torch

    model.eval()
    calls = {}
    hooks = [m.register_forward_hook(lambda m, i, o: calls.__setitem__(id(m), calls.get(id(m), 0) + 1))
             for m in model.modules()]
    model.zero_grad(set_to_none=True)
    with torch.enable_grad():
        out = model(*inputs)
        outs = out if isinstance(out, (tuple, list)) else (out,)
        sum(o.float().sum() for o in outs).backward()
    for h in hooks:
        h.remove()
    modules = dict(model.named_modules())
    per = {}
    for pname, p in model.named_parameters():  # tied parameters once, under their first name
        owners = [mname for mname, m in modules.items() if any(q is p for q in m._parameters.values())]
        n = sum(calls.get(id(modules[o]), 0) for o in owners)
        if n == 0 and p.grad is not None:
            parts = owners[0].split('.') if owners[0] else []
            while parts and calls.get(id(modules['.'.join(parts[:-1])]), 0) == 0:
                parts = parts[:-1]
            n = calls.get(id(modules['.'.join(parts[:-1])]), 1) if parts else 1
        per[pname] = {'numel': p.numel(), 'calls': n if p.grad is not None else 0, 'used': p.grad is not None}
    model.zero_grad(set_to_none=True)
    used = {k: v for k, v in per.items() if v['used']}
    truth = {
        'declared': sum(p.numel() for p in model.parameters()),
        'unique': sum(v['numel'] for v in used.values()),
        'summary': sum(v['numel'] * v['calls'] for v in used.values()),
        'buffers': sum(b.numel() for b in model.buffers()),
        'shared': {k: v['calls'] for k, v in used.items() if v['calls'] > 1},
        'unused': sorted(k for k, v in per.items() if not v['used']),
        'perParameter': per,
    }
    for (graph_input, file), tensor in zip(input_files.items(), inputs):
        np.save(os.path.join(OUT, file), tensor.detach().numpy())
    expect = {'description': description, 'source': source, 'inputs': input_files, 'torch': truth,
              'notes': list(notes)}
    path = os.path.join(OUT, f'{name}.expect.json')
    with open(path, 'w', encoding='utf-8', newline='\n') as f:
        f.write(json.dumps(expect, indent=2) + '\n')
    print('wrote', os.path.relpath(path, ROOT), f'(torch: declared {truth["declared"]}, unique {truth["unique"]}, '
          f'summary {truth["summary"]})')


def torch_onnx(model, args, input_names, opset=OPSET, **kw):
    import io
    import warnings

    import torch

    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        torch.onnx.export(model, args, buffer, input_names=input_names, output_names=['y'], opset_version=opset, **kw)
    return onnx.load_from_string(buffer.getvalue())


def seeded_parameters(model, seed):
    """Every parameter uniform in [-0.5, 0.5), seeded: no two tensors equal (fresh zero biases and unit
    LayerNorm weights would be merged by value in the eval export and look shared)."""
    import torch

    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.rand(p.shape, generator=g) - 0.5)
    return model


def torch_layernorm():
    import torch
    import torch.nn as nn

    class Norm(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1 = nn.Linear(8, 16)
            self.norm = nn.LayerNorm(16)
            self.fc2 = nn.Linear(16, 4)

        def forward(self, x):
            return self.fc2(nn.functional.gelu(self.norm(self.fc1(x))))

    torch.manual_seed(0)
    model = seeded_parameters(Norm().eval(), 40)
    x = torch.randn(2, 8)
    save('torch-layernorm.onnx', torch_onnx(model, (x,), ['x'], opset=17))
    torch_expect('torch-layernorm', model, (x,), {'x': 'torch-layernorm.x.npy'},
                 'Linear(8,16) -> LayerNorm(16) -> GELU -> Linear(16,4), exported at opset 17: one '
                 'LayerNormalization node (axis=-1) reading norm.weight and norm.bias.',
                 'torch.onnx.export 1.13 eval, opset 17')


def torch_encoder_layer():
    import torch
    import torch.nn as nn

    class Encoder(nn.Module):
        def __init__(self):
            super().__init__()
            self.layer = nn.TransformerEncoderLayer(d_model=16, nhead=2, dim_feedforward=32, dropout=0.0,
                                                    batch_first=True)

        def forward(self, x):
            return self.layer(x)

    torch.manual_seed(0)
    model = seeded_parameters(Encoder().eval(), 41)
    x = torch.randn(1, 5, 16)
    save('torch-encoder-layer.onnx', torch_onnx(model, (x,), ['x']))
    torch_expect('torch-encoder-layer', model, (x,), {'x': 'torch-encoder-layer.x.npy'},
                 'nn.TransformerEncoderLayer(d_model=16, nhead=2, dim_feedforward=32, dropout=0, batch_first) '
                 'at opset 13: MultiheadAttention (one packed in-projection MatMul, Softmax axis=-1, out_proj '
                 'Gemm), LayerNorms decomposed into ReduceMean(axes=[-1])/Sub/Pow/Sqrt/Div/Mul/Add, ReLU FFN.',
                 'torch.onnx.export 1.13 eval, opset 13',
                 ['Constant folding stores in_proj_weight [48,16], linear1.weight and linear2.weight transposed '
                  'under generated names (onnx::MatMul_N); the originals are not in the file. Same numel.',
                  'out_proj is never called as a module (F.linear inside self_attn\'s forward uses its weight), '
                  'so its parameters count the calls of layer.self_attn, as the graph does (/layer/self_attn/Gemm).'])


def torch_tied_lm():
    import torch
    import torch.nn as nn

    class TinyLM(nn.Module):
        def __init__(self, vocab=64, d=16, length=6):
            super().__init__()
            self.emb = nn.Embedding(vocab, d)
            self.pos = nn.Parameter(torch.zeros(1, length, d))
            self.block = nn.TransformerEncoderLayer(d_model=d, nhead=2, dim_feedforward=32, dropout=0.0,
                                                    batch_first=True)
            self.ln_f = nn.LayerNorm(d)
            self.head = nn.Linear(d, vocab, bias=False)
            self.head.weight = self.emb.weight  # tied: the output projection reuses the embedding

        def forward(self, tokens):
            return self.head(self.ln_f(self.block(self.emb(tokens) + self.pos)))

    torch.manual_seed(0)
    model = seeded_parameters(TinyLM().eval(), 42)
    tokens = torch.tensor([[3, 14, 15, 9, 26, 53]], dtype=torch.int64)
    save('torch-tied-lm.onnx', torch_onnx(model, (tokens,), ['tokens']))
    torch_expect('torch-tied-lm', model, (tokens,), {'tokens': 'torch-tied-lm.tokens.npy'},
                 'A one-block language model: Embedding(64,16) + a learned position Parameter [1,6,16], '
                 'TransformerEncoderLayer(16, 2 heads, FFN 32), final LayerNorm, and an output Linear(16,64) '
                 'whose weight is the embedding weight (tied), at opset 13.',
                 'torch.onnx.export 1.13 eval, opset 13',
                 ['The file stores the tied weight twice: emb.weight [64,16] (Gather in /emb) and its transpose '
                  'onnx::MatMul_N [16,64] (MatMul in /head), made by constant folding. One parameter, 2 calls.'])


def torch_script_loop_if():
    import torch
    import torch.nn as nn

    class LoopIf(nn.Module):
        def __init__(self):
            super().__init__()
            self.cell = nn.Linear(4, 4)
            self.pos = nn.Linear(4, 3)
            self.neg = nn.Linear(4, 3)

        def forward(self, x):
            h = torch.zeros(1, 4)
            for t in range(x.size(0)):
                h = torch.tanh(self.cell(x[t:t + 1]) + h)
            if bool(h.sum() > 0):
                return self.pos(h)
            else:
                return self.neg(h)

    torch.manual_seed(0)
    model = seeded_parameters(LoopIf().eval(), 43)
    x = torch.randn(3, 4)
    scripted = torch.jit.script(model)
    save('torch-script-loop-if.onnx', torch_onnx(scripted, (x,), ['x'], dynamic_axes={'x': {0: 'T'}}))
    with torch.no_grad():
        h = torch.zeros(1, 4)
        for t in range(x.size(0)):
            h = torch.tanh(model.cell(x[t:t + 1]) + h)
        taken, other = ('pos', 'neg') if bool(h.sum() > 0) else ('neg', 'pos')
    torch_expect('torch-script-loop-if', model, (x,), {'x': 'torch-script-loop-if.x.npy'},
                 'torch.jit.script of a loop over the rows of x [T, 4] (h = tanh(cell(x[t]) + h), Linear(4,4) '
                 '`cell`) followed by `if h.sum() > 0: pos(h) else: neg(h)` (two Linear(4,3)), at opset 13: a '
                 'Loop whose trip count is x.size(0) (T symbolic) and a data-dependent If.',
                 'torch.jit.script, torch.onnx.export 1.13 eval, opset 13',
                 [f'With x from torch-script-loop-if.x.npy (T=3) the loop runs 3 times (cell: 3 calls) and the If '
                  f'runs `{taken}`; `{other}` gets no .grad: unused, and not executed in the trace.'])


def npy_files():
    folder = os.path.join(OUT, 'npy')
    os.makedirs(folder, exist_ok=True)
    from numpy.lib import format as npformat

    def write(name, array, version):
        with open(os.path.join(folder, name), 'wb') as f:
            npformat.write_array(f, array, version=version, allow_pickle=False)

    write('f4-v1.npy', np.arange(6, dtype='<f4').reshape(2, 3) / 4, (1, 0))
    write('f8-v2.npy', np.array([[1.5, -2.25]], dtype='<f8'), (2, 0))
    write('i8-v3.npy', np.array([3, -1, 7], dtype='<i8'), (3, 0))
    write('f2-v1.npy', np.array([1.0, -0.5, 0.333], dtype='<f2'), (1, 0))
    write('i4-v1.npy', np.array([[1, 2], [3, 4]], dtype='<i4'), (1, 0))
    write('i1-v1.npy', np.array([-1, 2], dtype='i1'), (1, 0))
    write('u1-v1.npy', np.array([200, 1], dtype='u1'), (1, 0))
    write('b1-v1.npy', np.array([True, False, True]), (1, 0))
    write('scalar-i8-v1.npy', np.array(5, dtype='<i8'), (1, 0))
    write('fortran-v1.npy', np.asfortranarray(np.arange(6, dtype='<f4').reshape(2, 3)), (1, 0))
    write('big-endian-v1.npy', np.array([1.0, 2.0], dtype='>f4'), (1, 0))
    print('wrote', os.path.relpath(folder, ROOT))


def resnet18(path):
    """torchvision resnet18 (11.7M parameters), eval, opset 13, batch 1x3x224x224."""
    import warnings

    import torch
    import torchvision

    torch.manual_seed(0)
    model = torchvision.models.resnet18().eval()
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        torch.onnx.export(model, (torch.randn(1, 3, 224, 224),), path, input_names=['x'], output_names=['y'], opset_version=OPSET)
    print('wrote', path)


# Every fixture's maker, in the order a full run writes them; `only NAME` runs one.
FIXTURES = {f.__name__: f for f in (unnamed_nodes, symbolic_dims, local_function, scan_body, unsupported_op,
                                    torch_script_if, torch_script_lstm_if, torch_layernorm, torch_encoder_layer,
                                    torch_tied_lm, torch_script_loop_if, npy_files)}


def main():
    if len(sys.argv) == 3 and sys.argv[1] == 'resnet18':
        resnet18(sys.argv[2])
        return
    if len(sys.argv) == 3 and sys.argv[1] == 'only':
        if sys.argv[2] not in FIXTURES:
            sys.exit(f'make_trace_fixtures.py only: NAME is one of {", ".join(FIXTURES)}')
        os.makedirs(OUT, exist_ok=True)
        FIXTURES[sys.argv[2]]()
        return
    if len(sys.argv) != 1:
        sys.exit('usage: make_trace_fixtures.py [resnet18 OUT.onnx | only NAME]')
    os.makedirs(OUT, exist_ok=True)
    for make in FIXTURES.values():
        make()


if __name__ == '__main__':
    main()
