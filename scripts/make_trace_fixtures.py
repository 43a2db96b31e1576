#!/usr/bin/python3
"""Writes the trace stage's own test fixtures into test/fixtures/trace/ (small, committed), or exports a
resnet-sized model for the benchmark and the GPU check (large, never committed).

Run with Debian's python (torch 1.13, torchvision 0.14, onnx 1.12, numpy):

    /usr/bin/python3 scripts/make_trace_fixtures.py            # the fixtures
    /usr/bin/python3 scripts/make_trace_fixtures.py resnet18 OUT.onnx

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


def main():
    if len(sys.argv) == 3 and sys.argv[1] == 'resnet18':
        resnet18(sys.argv[2])
        return
    if len(sys.argv) != 1:
        sys.exit('usage: make_trace_fixtures.py [resnet18 OUT.onnx]')
    os.makedirs(OUT, exist_ok=True)
    unnamed_nodes()
    symbolic_dims()
    local_function()
    scan_body()
    unsupported_op()
    torch_script_if()
    npy_files()


if __name__ == '__main__':
    main()
