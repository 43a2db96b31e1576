#!/usr/bin/python3
"""Writes the ONNX test fixtures in test/fixtures/ and, for each NAME.onnx, NAME.expect.json.

Run with Debian's python (it has torch 1.13, torchvision 0.14 and onnx 1.12):

    /usr/bin/python3 scripts/make_fixtures.py

Deterministic: fixed seeds; a rerun writes byte-identical files.

Each expect file holds:
- "torch" (PyTorch-made fixtures only): the truth measured on the PyTorch model itself. declared is
  sum(p.numel() for p in model.parameters()); a parameter is "used" when it has a .grad after backward of
  the outputs' sum (eval mode); "calls" counts forward-hook calls of the modules that own it.
- "graph": what a graph-only analysis per docs/counting.md (no manifest, static: no trace) must
  report for the file: declared, unique, summary (summary-style), shared (name -> calls), unused
  (name -> reason), duplicates, plus notes. These are written by hand below from the construction or from
  inspecting the exported graph, and the script re-derives them with a small reference analysis
  (reference_analysis) and stops if the two disagree.
- "file": the initializers (name -> dims) and main-graph nodes ([name, op_type]) as written, so tests can
  check the exporter facts they rely on.
"""

import hashlib
import importlib.util
import io
import json
import os
import re
import sys
import warnings
from collections import Counter, defaultdict

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))
OUT = os.path.join(ROOT, 'test', 'fixtures')
OPSET = 13
IR_VERSION = 7
TORCH_SOURCE = 'torch.onnx.export 1.13 eval, opset 13'
HAND_SOURCE = 'onnx.helper 1.12, opset 13, ir_version 7'

_spec = importlib.util.spec_from_file_location('gen_op_schemas', os.path.join(ROOT, 'scripts', 'gen_op_schemas.py'))
gen_op_schemas = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(gen_op_schemas)
ROLE_TABLE = gen_op_schemas.build_table()

FLOAT_DTYPES = {TensorProto.FLOAT, TensorProto.FLOAT16, TensorProto.DOUBLE, TensorProto.BFLOAT16}


# ----------------------------------------------------------------------------------------------------------
# PyTorch truth


def torch_facts(model, inputs):
    """declared / used / per-parameter numel, calls and used, measured on the PyTorch model (eval mode)."""
    import torch

    model.eval()
    calls = Counter()
    hooks = []
    seen = set()
    for _, mod in model.named_modules():
        if id(mod) in seen:
            continue
        seen.add(id(mod))
        hooks.append(mod.register_forward_hook(lambda m, i, o: calls.update([id(m)])))
    owners = defaultdict(list)  # id(param) -> modules that hold it directly (tied weights: several)
    for _, mod in model.named_modules():
        for p in mod._parameters.values():
            if p is not None:
                owners[id(p)].append(mod)
    model.zero_grad(set_to_none=True)
    out = model(*inputs)
    outs = out if isinstance(out, (tuple, list)) else (out,)
    sum(o.float().sum() for o in outs).backward()
    for h in hooks:
        h.remove()
    per = {}
    for name, p in model.named_parameters():
        per[name] = {
            'numel': p.numel(),
            'calls': sum(calls[id(m)] for m in owners[id(p)]),
            'used': p.grad is not None,
        }
    model.zero_grad(set_to_none=True)
    return {
        'declared': sum(p.numel() for p in model.parameters()),
        'used': sum(v['numel'] for v in per.values() if v['used']),
        'buffers': sum(b.numel() for b in model.buffers()),
        'perParameter': per,
    }


def torch_export(model, inputs, **kw):
    import torch

    f = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        torch.onnx.export(
            model.eval(), inputs, f, opset_version=OPSET, input_names=['x'], output_names=['y'], **kw
        )
    return onnx.load_from_string(f.getvalue())


# ----------------------------------------------------------------------------------------------------------
# Reference analysis: a small static, manifest-less reading of counting.md, used only to cross-check the
# hand-written expectations. Rules:
# - parameter candidates: float initializers (dense or sparse) and float Constant-node tensors with more
#   than one element (one-element constants are scalar constants, not parameters); integer tensors count
#   when they reach a 'qweight' input (DequantizeLinear's x).
# - a node whose inputs are all constants and that has no subgraph is a constant-chain node (Identity,
#   Transpose, DequantizeLinear, ...): not a layer call; its outputs carry the sources of its non-'meta'
#   inputs on to the nodes that consume them.
# - every other node belongs to a layer call: its name's scope (`/conv1/Conv` -> `/conv1`), or the node
#   alone when it has no scope. A call uses the sources that reach its 'weight'/'qweight' inputs.
# - live: the node reaches a graph output (subgraph nodes: reach their subgraph's outputs, inside a live
#   node). Both If branches and a Loop body count, each body node once (no trace: trip count unknown).
# - duplicates (equal bytes, or equal after a 2-D transpose) are one parameter stored twice when one of the
#   two has an exporter-generated name (onnx::X_N, val_N, a number): counted once under the name that comes
#   first in the file, the calls of both copies merged. Two named tensors are two parameters, equal or not.


def is_generated(name):
    return re.match(r'^onnx::|^val_[0-9]+$|^_?[0-9]+$|^$', name) is not None


def roles_for(op_type, domain, opset, n_inputs):
    key = op_type if domain in ('', 'ai.onnx') else f'{domain}:{op_type}'
    entries = [e for e in ROLE_TABLE.get(key, []) if e[0] <= opset]
    if not entries:
        return ['weight'] * n_inputs
    _, roles, variadic = entries[-1]
    roles = list(roles)
    while len(roles) < n_inputs:
        roles.append(roles[-1] if variadic and roles else 'meta')
    return roles


def call_id(node, where, index):
    name = node.name
    if name.startswith('/') and name.count('/') >= 2:
        return name.rsplit('/', 1)[0]
    return f'{where}#{index}:{name}'


def subgraphs(node):
    for a in node.attribute:
        if a.type == onnx.AttributeProto.GRAPH:
            yield a.g
        elif a.type == onnx.AttributeProto.GRAPHS:
            yield from a.graphs


def implicit_inputs(graph):
    """Names a (sub)graph reads from its enclosing scopes."""
    produced = {i.name for i in graph.input} | {i.name for i in graph.initializer}
    produced |= {s.values.name for s in graph.sparse_initializer}
    used = set()
    for n in graph.node:
        used.update(x for x in n.input if x)
        for g in subgraphs(n):
            used |= implicit_inputs(g)
        produced.update(n.output)
    return used - produced


def reference_analysis(model):
    opset = {o.domain: o.version for o in model.opset_import}
    tensors = {}  # source name -> numpy array (dense) or ('sparse', dims, dtype)
    dtypes = {}
    order = []

    def add_source(name, arr, dtype):
        tensors[name] = arr
        dtypes[name] = dtype
        order.append(name)

    calls = defaultdict(set)  # call -> sources used at weight/qweight inputs
    call_where = {}  # call -> the graph it runs in
    # graph -> its control-flow nodes: (an If, whose two branches are alternatives?, the subgraphs' wheres)
    tree = defaultdict(list)
    buffer_use = defaultdict(set)
    consumers = defaultdict(set)  # source -> {'live', 'dead', 'chain'}
    weightlike = set()  # sources that reached a weight/qweight input somewhere

    def walk(graph, where, outer_consts, parent_live):
        consts = dict(outer_consts)  # value name -> {source: passed_qweight}
        for t in graph.initializer:
            add_source(t.name, numpy_helper.to_array(t), t.data_type)
            consts[t.name] = {t.name: False}
        for s in graph.sparse_initializer:
            add_source(s.values.name, ('sparse', list(s.dims), s.values.data_type), s.values.data_type)
            consts[s.values.name] = {s.values.name: False}
        # liveness inside this graph
        live_vals = {o.name for o in graph.output} if parent_live else set()
        live_nodes = set()
        for idx in range(len(graph.node) - 1, -1, -1):
            n = graph.node[idx]
            if any(o in live_vals for o in n.output):
                live_nodes.add(idx)
                live_vals.update(x for x in n.input if x)
                for g in subgraphs(n):
                    live_vals |= implicit_inputs(g)
        for idx, n in enumerate(graph.node):
            live = idx in live_nodes
            if n.op_type == 'Constant' and n.domain in ('', 'ai.onnx'):
                attr = {a.name: a for a in n.attribute}
                if 'value' in attr:
                    t = attr['value'].t
                    add_source(n.output[0], numpy_helper.to_array(t), t.data_type)
                    consts[n.output[0]] = {n.output[0]: False}
                continue
            roles = roles_for(n.op_type, n.domain, opset.get(n.domain, OPSET), len(n.input))
            ins = [x for x in n.input if x]
            subs = list(subgraphs(n))
            if ins and not subs and all(x in consts for x in ins):
                carried = {}
                for x, r in zip(n.input, roles):
                    if x and r != 'meta':
                        for src, q in consts[x].items():
                            carried[src] = carried.get(src, False) or q or r == 'qweight'
                            consumers[src].add('chain')
                for x in ins:
                    for src in consts[x]:
                        consumers[src].add('chain')
                for o in n.output:
                    consts[o] = carried
                continue
            cid = call_id(n, where, idx)
            for x, r in zip(n.input, roles):
                if not x or x not in consts:
                    continue
                for src, q in consts[x].items():
                    consumers[src].add('live' if live else 'dead')
                    if r in ('weight', 'qweight'):
                        is_float = dtypes[src] in FLOAT_DTYPES
                        if is_float or q or r == 'qweight':
                            if numel(tensors[src]) > 1:
                                weightlike.add(src)
                                if live:
                                    calls[cid].add(src)
                                    call_where[cid] = where
                    elif r == 'buffer' and live:
                        buffer_use[cid].add(src)
            kids = [f'{where}/{n.name or n.op_type}#{idx}.{k}' for k in range(len(subs))]
            if subs:
                tree[where].append((n.op_type == 'If' and n.domain in ('', 'ai.onnx') and len(subs) == 2, kids))
            for g, kid in zip(subs, kids):
                walk(g, kid, consts, live)

    walk(model.graph, 'main', {}, True)

    params = set(weightlike)
    for src in order:
        if not consumers[src] and dtypes[src] in FLOAT_DTYPES and numel(tensors[src]) > 1:
            params.add(src)  # orphan float initializer

    # duplicated storage among parameters
    canon = {p: p for p in params}
    dups = []
    dense = [p for p in order if p in params and not isinstance(tensors[p], tuple)]
    for i, a in enumerate(dense):
        for b in dense[i + 1 :]:
            if canon[b] != b:
                continue
            if not (is_generated(a) or is_generated(b)):
                continue
            ta, tb = tensors[a], tensors[b]
            if ta.dtype != tb.dtype:
                continue
            if ta.shape == tb.shape and ta.tobytes() == tb.tobytes():
                dups.append({'names': [a, b], 'transposed': False})
                canon[b] = canon[a]
            elif ta.ndim == 2 and tb.ndim == 2 and ta.shape == tb.shape[::-1] and np.array_equal(ta.T, tb):
                dups.append({'names': [a, b], 'transposed': True})
                canon[b] = canon[a]

    used_by = defaultdict(set)
    for cid, srcs in calls.items():
        for s in srcs:
            used_by[canon[s]].add(cid)
    declared = sum(numel(tensors[p]) for p in params if canon[p] == p)
    unique = sum(numel(tensors[p]) for p in used_by)

    # counting.md, "Control flow without a trace": along one execution path, sequential parts add and an If
    # contributes one branch (the larger); a Loop or Scan body counts once.
    def along_paths(where):
        """(summary-style, {parameter: calls}) of the heaviest path through the graph `where`."""
        summary, runs = 0, Counter()
        for cid, w in call_where.items():
            if w == where:
                params = {canon[s] for s in calls[cid]}
                summary += sum(numel(tensors[p]) for p in params)
                runs.update(params)
        for is_if, kids in tree[where]:
            parts = [along_paths(k) for k in kids]
            if is_if:
                summary += max(part[0] for part in parts)
                names = set().union(*(part[1] for part in parts))
                runs.update({p: max(part[1][p] for part in parts) for p in names})
            else:
                for part in parts:
                    summary += part[0]
                    runs.update(part[1])
        return summary, runs

    summary, path_calls = along_paths('main')
    unused = {}
    for p in sorted(params):
        if canon[p] != p or p in used_by:
            continue
        c = consumers[p]
        unused[p] = 'orphan' if not c else ('dead' if 'live' not in c else 'not-executed')
    return {
        'declared': declared,
        'unique': unique,
        'summary': summary,
        'shared': {p: n for p, n in sorted(path_calls.items()) if n > 1},
        'unused': unused,
        'duplicates': dups,
        'callsUsing': {p: sorted(c) for p, c in sorted(used_by.items())},
        'paramCalls': sum(1 for srcs in calls.values() if srcs),
    }


def numel(t):
    if isinstance(t, tuple):
        return int(np.prod(t[1]))
    return int(t.size)


# ----------------------------------------------------------------------------------------------------------
# Writing


def file_facts(model):
    inits = {t.name: list(t.dims) for t in model.graph.initializer}
    for s in model.graph.sparse_initializer:
        inits[s.values.name] = list(s.dims)
    return {'initializers': inits, 'nodes': [[n.name, n.op_type] for n in model.graph.node]}


def save(name, model, expect, external=None):
    onnx.checker.check_model(model)
    path = os.path.join(OUT, f'{name}.onnx')
    if external:
        ext_path = os.path.join(OUT, external)
        if os.path.exists(ext_path):
            os.remove(ext_path)  # onnx appends to an existing external-data file
        onnx.save_model(
            model,
            path,
            save_as_external_data=True,
            all_tensors_to_one_file=True,
            location=external,
            size_threshold=0,
        )
    else:
        onnx.save_model(model, path)
    loaded = onnx.load(path)  # loads external data too
    onnx.checker.check_model(path)
    ref = reference_analysis(loaded)
    g = expect['graph']
    # Issue 2: a value-merged constant (all-equal values read by unrelated modules) is not a shared parameter.
    ref['shared'] = {p: n for p, n in ref['shared'].items() if p not in g.get('valueMerged', {})}
    for k in ('declared', 'unique', 'summary', 'shared', 'unused', 'duplicates'):
        if ref[k] != g[k]:
            sys.exit(f'{name}: graph.{k} is {g[k]!r} by hand but {ref[k]!r} by the reference analysis')
    if 'paramCalls' in g and ref['paramCalls'] != g['paramCalls']:
        sys.exit(f'{name}: graph.paramCalls {g["paramCalls"]} != reference {ref["paramCalls"]}')
    if 'callsUsing' in g and ref['callsUsing'] != g['callsUsing']:
        sys.exit(f'{name}: graph.callsUsing {g["callsUsing"]!r} != reference {ref["callsUsing"]!r}')
    expect['file'] = file_facts(loaded)
    with open(os.path.join(OUT, f'{name}.expect.json'), 'w', encoding='utf-8', newline='\n') as f:
        f.write(to_json(expect) + '\n')
    size = os.path.getsize(path) + (os.path.getsize(os.path.join(OUT, external)) if external else 0)
    print(f'  {name}.onnx  {size:>7} bytes  declared={g["declared"]} unique={g["unique"]} summary={g["summary"]}')
    return loaded


def to_json(value, indent=0):
    """JSON with two-space indentation, but lists of scalars (dims, call lists) on one line."""
    pad = '  ' * (indent + 1)
    if isinstance(value, dict):
        if not value:
            return '{}'
        items = [f'{pad}{json.dumps(k)}: {to_json(v, indent + 1)}' for k, v in value.items()]
        return '{\n' + ',\n'.join(items) + '\n' + '  ' * indent + '}'
    if isinstance(value, list):
        if all(not isinstance(v, (dict, list)) for v in value) and len(json.dumps(value)) <= 100:
            return json.dumps(value)
        items = [pad + to_json(v, indent + 1) for v in value]
        return '[\n' + ',\n'.join(items) + '\n' + '  ' * indent + ']'
    return json.dumps(value)


def rng(seed):
    return np.random.default_rng(seed)


def f32(r, *shape):
    return r.standard_normal(shape).astype(np.float32)


def hand_model(nodes, inputs, outputs, initializers=(), sparse=(), name='graph'):
    graph = helper.make_graph(
        nodes, name, inputs, outputs, initializer=list(initializers), sparse_initializer=list(sparse)
    )
    model = helper.make_model(
        graph, opset_imports=[helper.make_opsetid('', OPSET)], producer_name='paramtrace make_fixtures.py'
    )
    model.ir_version = IR_VERSION
    return model


def vi(name, elem, shape):
    return helper.make_tensor_value_info(name, elem, shape)


def init(name, arr):
    return numpy_helper.from_array(arr, name)


FLOAT = TensorProto.FLOAT


# ----------------------------------------------------------------------------------------------------------
# PyTorch fixtures


def seed_cases():
    import torch
    import torch.nn as nn

    class Case1(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(1, 1, 3, stride=1, padding=1, bias=False)
            self.conv2 = nn.Conv2d(1, 1, 3, stride=1, padding=1, bias=False)

        def forward(self, x):
            return self.conv2(self.conv1(x))

    class Case2(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(1, 1, 3, stride=1, padding=1, bias=False)

        def forward(self, x):
            return self.conv1(self.conv1(x))

    class Case3(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(1, 1, 3, stride=1, padding=1, bias=False)
            self.conv2 = nn.Conv2d(1, 1, 3, stride=1, padding=1, bias=False)

        def forward(self, x):
            return self.conv1(self.conv1(x))

    cases = {
        1: (Case1, 'Seed case 1 (no sharing): conv2(conv1(x)), two 3x3 convs of 9 weights each.'),
        2: (Case2, 'Seed case 2 (sharing): conv1(conv1(x)), one conv called twice.'),
        3: (Case3, 'Seed case 3 (unused layer): conv1 and conv2 declared, forward is conv1(conv1(x)).'),
    }
    graphs = {
        1: dict(declared=18, unique=18, summary=18, shared={}, unused={}, duplicates=[],
                callsUsing={'conv1.weight': ['/conv1'], 'conv2.weight': ['/conv2']},
                notes=['Nodes /conv1/Conv and /conv2/Conv: two calls, one weight each.']),
        2: dict(declared=9, unique=9, summary=18, shared={'conv1.weight': 2}, unused={}, duplicates=[],
                callsUsing={'conv1.weight': ['/conv1', '/conv1_1']},
                notes=['One initializer conv1.weight consumed by /conv1/Conv and /conv1_1/Conv: the second '
                       'call of conv1 gets the scope suffix _1, so two calls use it.']),
        3: dict(declared=9, unique=9, summary=18, shared={'conv1.weight': 2}, unused={}, duplicates=[],
                callsUsing={'conv1.weight': ['/conv1', '/conv1_1']},
                notes=['The exporter drops conv2.weight (never used by the traced forward): the file is '
                       'byte-identical to seed-case-2.onnx. Graph-only, declared is 9; only a manifest can '
                       'report conv2.weight (9) as unused, reason not-exported (PyTorch declares 18).']),
    }
    x = torch.randn(1, 1, 512, 512)
    written = {}
    for n, (cls, desc) in cases.items():
        # Cases 2 and 3 share a seed: conv1 is created first in both, so its weights are equal and the two
        # files can be compared byte for byte.
        torch.manual_seed({1: 1, 2: 2, 3: 2}[n])
        model = cls().eval()
        facts = torch_facts(model, (x,))
        mp = torch_export(model, x)
        expect = {'description': desc, 'source': TORCH_SOURCE, 'torch': facts, 'graph': graphs[n]}
        written[n] = save(f'seed-case-{n}', mp, expect)
    # The facts seed-cases.md states.
    names2 = [nd.name for nd in written[2].graph.node]
    assert names2 == ['/conv1/Conv', '/conv1_1/Conv'], names2
    assert [t.name for t in written[2].graph.initializer] == ['conv1.weight']
    assert [nd.name for nd in written[1].graph.node] == ['/conv1/Conv', '/conv2/Conv']
    b2 = open(os.path.join(OUT, 'seed-case-2.onnx'), 'rb').read()
    b3 = open(os.path.join(OUT, 'seed-case-3.onnx'), 'rb').read()
    return b2 == b3


def tied_embedding():
    import torch
    import torch.nn as nn

    class Tied(nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = nn.Embedding(100, 16)
            self.act = nn.Tanh()
            self.head = nn.Linear(16, 100, bias=False)
            self.head.weight = self.emb.weight  # tied

        def forward(self, x):
            return self.head(self.act(self.emb(x)))

    torch.manual_seed(10)
    model = Tied().eval()
    x = torch.tensor([[1, 5, 7, 42, 99]], dtype=torch.int64)
    facts = torch_facts(model, (x,))
    mp = torch_export(model, x)
    inits = [t.name for t in mp.graph.initializer]
    copy = [n for n in inits if n != 'emb.weight']
    assert inits[0] == 'emb.weight' and len(copy) == 1 and copy[0].startswith('onnx::MatMul_'), inits
    copy = copy[0]
    expect = {
        'description': 'Embedding(100,16) -> Tanh -> Linear(16,100,bias=False) whose weight is the embedding '
        'weight (tied). Default export (constant folding on), eval. PyTorch: one 1600-element parameter used '
        'by two module calls.',
        'source': TORCH_SOURCE,
        'torch': facts,
        'graph': {
            'declared': 1600,
            'unique': 1600,
            'summary': 3200,
            'shared': {'emb.weight': 2},
            'unused': {},
            'duplicates': [{'names': ['emb.weight', copy], 'transposed': True}],
            'callsUsing': {'emb.weight': ['/emb', '/head']},
            'storedNumel': 3200,
            'notes': [
                f'The file stores the tied weight twice: emb.weight [100,16] (Gather data in /emb/Gather) and '
                f'{copy} [16,100], its transpose (MatMul B in /head/MatMul). Constant folding transposed '
                f'the Linear weight into a new initializer instead of keeping Gemm(transB=1) on emb.weight.',
                'Graph-only expectation treats the byte-equal transposed pair as one parameter stored twice '
                '(counted once under emb.weight, the first in the file), shared by calls /emb and /head; '
                'storedNumel (3200) is what the file holds, 1600 of it wasted (6400 bytes of float32).',
            ],
        },
    }
    save('tied-embedding', mp, expect)


def value_merged():
    import torch
    import torch.nn as nn

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(2, 4, 3, padding=1)
            self.pool = nn.AdaptiveAvgPool2d(1)
            self.fc1 = nn.Linear(4, 4)
            self.bn = nn.BatchNorm1d(4)  # after a Linear, not a Conv: not fused
            self.fc2 = nn.Linear(4, 4)
            self.fc3 = nn.Linear(4, 2)
            for layer in (self.conv, self.fc1, self.fc2, self.fc3):
                nn.init.zeros_(layer.bias)

        def forward(self, x):
            h = torch.relu(self.conv(x))
            h = self.pool(h).flatten(1)
            return self.fc3(torch.relu(self.fc2(self.bn(torch.relu(self.fc1(h))))))

    torch.manual_seed(20)
    model = Net().eval()
    x = torch.randn(1, 2, 6, 6)
    facts = torch_facts(model, (x,))
    mp = torch_export(model, x)
    inits = [t.name for t in mp.graph.initializer]
    assert inits == ['conv.weight', 'conv.bias', 'fc1.weight', 'bn.weight', 'fc2.weight', 'fc3.weight',
                     'fc3.bias'], inits
    idents = {n.output[0]: n.input[0] for n in mp.graph.node if n.op_type == 'Identity'}
    assert idents == {'fc2.bias': 'conv.bias', 'bn.running_var': 'bn.weight', 'bn.running_mean': 'conv.bias',
                      'bn.bias': 'conv.bias', 'fc1.bias': 'conv.bias'}, idents
    expect = {
        'description': 'Freshly initialised Conv2d(2,4,3) -> pool -> Linear(4,4) -> BatchNorm1d(4) -> Linear(4,4) '
        '-> Linear(4,2), every bias zeroed, BN with fresh statistics, exported in eval. The exporter merges '
        'initializers with equal values: the zero [4] tensors (conv.bias, fc1.bias, bn.bias, fc2.bias, '
        'bn.running_mean) become one initializer conv.bias, and the ones [4] tensors (bn.weight, '
        'bn.running_var) become bn.weight. fc3.bias is zeros too but [2], so it stays.',
        'source': TORCH_SOURCE,
        'torch': facts,
        'graph': {
            'declared': 122,
            'unique': 122,
            'summary': 134,
            'shared': {},
            'unused': {},
            'duplicates': [],
            'callsUsing': {
                'conv.bias': ['/bn', '/conv', '/fc1', '/fc2'],
                'conv.weight': ['/conv'],
                'fc1.weight': ['/fc1'],
                'fc2.weight': ['/fc2'],
                'fc3.bias': ['/fc3'],
                'fc3.weight': ['/fc3'],
                'bn.weight': ['/bn'],
            },
            'valueMerged': {'conv.bias': ['/conv', '/fc1', '/bn', '/fc2']},
            'identityAliases': {
                'fc1.bias': 'conv.bias',
                'bn.bias': 'conv.bias',
                'bn.running_mean': 'conv.bias',
                'fc2.bias': 'conv.bias',
                'bn.running_var': 'bn.weight',
            },
            'buffers': 0,
            'notes': [
                'Unscoped nodes Identity_0..Identity_4 turn the merged initializers back into the original '
                'names (output fc2.bias = Identity(conv.bias), bn.running_var = Identity(bn.weight), ...). They '
                'are constant-chain nodes, not layer calls.',
                'Read by counting.md\'s rules alone, conv.bias is used by four calls (/conv Conv B, /fc1 Gemm C, '
                '/bn BatchNormalization B and input_mean, /fc2 Gemm C), so summary-style exceeds unique '
                'by 12. This is value merging, not sharing: in PyTorch those are five distinct tensors (four '
                'parameters and a buffer), each used by one call. conv.bias is all zeros and read by calls of '
                'different modules, so it is reported as a value-merged constant, not as a shared parameter. '
                'Only a manifest can undo the merge.',
                'bn.weight is value-merged too (bn.running_var is Identity(bn.weight)), but it reaches '
                'BatchNormalization scale (a weight input) and input_var (a buffer input) in the same call /bn: '
                'one call, so it is not in valueMerged and not shared. No initializer reaches only buffer inputs, so the '
                'graph shows no buffers although PyTorch has bn.running_mean/var (8) and num_batches_tracked.',
                'Graph declared 122 = the 7 initializers: conv.weight 72 + conv.bias 4 + fc1.weight 16 + '
                'bn.weight 4 + fc2.weight 16 + fc3.weight 8 + fc3.bias 2. PyTorch declares 134: fc1.bias, '
                'bn.bias and fc2.bias (4 each) exist in the file only as Identity aliases of conv.bias. '
                'summary-style 134 = /conv 76 + /fc1 20 + /bn 8 + /fc2 20 + /fc3 10; the 12 over unique is '
                'conv.bias x (4 - 1).',
            ],
        },
    }
    save('value-merged', mp, expect)


def resnet_block():
    import torch
    from torchvision.models.resnet import BasicBlock

    torch.manual_seed(30)
    model = BasicBlock(4, 4)
    with torch.no_grad():  # a "trained" BN: non-trivial affine and statistics, so nothing is value-merged
        for bn in (model.bn1, model.bn2):
            bn.weight.uniform_(0.5, 1.5)
            bn.bias.uniform_(-0.5, 0.5)
            bn.running_mean.uniform_(-0.5, 0.5)
            bn.running_var.uniform_(0.5, 1.5)
    model.eval()
    x = torch.randn(1, 4, 8, 8)
    facts = torch_facts(model, (x,))
    mp = torch_export(model, x)
    inits = [(t.name, list(t.dims)) for t in mp.graph.initializer]
    assert len(inits) == 4 and all(n.startswith('onnx::Conv_') for n, _ in inits), inits
    (w1, _), (b1, _), (w2, _), (b2, _) = inits
    names = [n.name for n in mp.graph.node]
    assert names == ['/conv1/Conv', '/relu/Relu', '/conv2/Conv', '/Add', '/relu_1/Relu'], names
    arrays = {t.name: numpy_helper.to_array(t) for t in mp.graph.initializer}
    for conv, bn, wname, bname in ((model.conv1, model.bn1, w1, b1), (model.conv2, model.bn2, w2, b2)):
        k = (bn.weight / torch.sqrt(bn.running_var + bn.eps)).detach()
        want_w = (conv.weight.detach() * k[:, None, None, None]).numpy()
        want_b = (bn.bias.detach() - bn.running_mean * k).numpy()
        assert np.allclose(arrays[wname], want_w, atol=1e-6) and np.allclose(arrays[bname], want_b, atol=1e-6)
    expect = {
        'description': 'torchvision BasicBlock(4, 4): conv1-bn1-relu-conv2-bn2 + identity, relu; BN with '
        'non-trivial (seeded) affine parameters and statistics, exported plainly in eval. The exporter folds '
        'each BN into the Conv before it: BN parameters and buffers vanish, and both the folded Conv weight '
        'and the new Conv bias get generated names.',
        'source': TORCH_SOURCE,
        'torch': facts,
        'graph': {
            'declared': 296,
            'unique': 296,
            'summary': 296,
            'shared': {},
            'unused': {},
            'duplicates': [],
            'callsUsing': {w1: ['/conv1'], b1: ['/conv1'], w2: ['/conv2'], b2: ['/conv2']},
            'bnFold': {
                w1: 'conv1.weight * bn1.weight / sqrt(bn1.running_var + eps), per output channel',
                b1: 'bn1.bias - bn1.running_mean * bn1.weight / sqrt(bn1.running_var + eps) (conv1 had no bias)',
                w2: 'conv2.weight * bn2.weight / sqrt(bn2.running_var + eps), per output channel',
                b2: 'bn2.bias - bn2.running_mean * bn2.weight / sqrt(bn2.running_var + eps) (conv2 had no bias)',
            },
            'notes': [
                f'Initializers {w1} [4,4,3,3], {b1} [4], {w2} [4,4,3,3], {b2} [4]: no PyTorch name survives, '
                'not even the conv weights (the folded weight is a new tensor).',
                'Graph declared 296 = 2 x 144 conv weights + 2 x 4 folded biases; PyTorch declares 304 '
                '(2 x 144 conv + 2 x (4 + 4) BN weight/bias): the BN affine parameters (16) became 8 bias '
                'elements. Running statistics (buffers, 16 + 2 num_batches_tracked) vanish.',
                'self.relu is called twice (/relu/Relu, /relu_1/Relu) but holds no parameters.',
                'make_fixtures.py checks the folded values against the bnFold formulas (eps 1e-5).',
            ],
        },
    }
    save('resnet-block', mp, expect)


# ----------------------------------------------------------------------------------------------------------
# Hand-built fixtures


def orphan():
    r = rng(101)
    model = hand_model(
        [helper.make_node('MatMul', ['x', 'fc.weight'], ['y'], name='/fc/MatMul')],
        [vi('x', FLOAT, [1, 4])],
        [vi('y', FLOAT, [1, 3])],
        [init('fc.weight', f32(r, 4, 3)), init('w_orphan', f32(r, 5, 5))],
    )
    expect = {
        'description': 'MatMul with its weight fc.weight [4,3], plus a float initializer w_orphan [5,5] that no '
        'node consumes.',
        'source': HAND_SOURCE,
        'graph': {
            'declared': 37, 'unique': 12, 'summary': 12, 'shared': {}, 'unused': {'w_orphan': 'orphan'},
            'duplicates': [], 'callsUsing': {'fc.weight': ['/fc']},
            'notes': ['declared counts w_orphan (25): a float initializer is a parameter found in the graph even '
                      'when nothing reads it.'],
        },
    }
    save('orphan', model, expect)


def dead_node():
    r = rng(102)
    model = hand_model(
        [
            helper.make_node('MatMul', ['x', 'live.weight'], ['y'], name='/live/MatMul'),
            helper.make_node('MatMul', ['x', 'dead.weight'], ['dead_out'], name='/dead/MatMul'),
            helper.make_node('Relu', ['dead_out'], ['dead_relu'], name='/dead/Relu'),
        ],
        [vi('x', FLOAT, [1, 4])],
        [vi('y', FLOAT, [1, 3])],
        [init('live.weight', f32(r, 4, 3)), init('dead.weight', f32(r, 4, 2))],
    )
    expect = {
        'description': 'Two MatMuls on x: /live/MatMul (live.weight [4,3]) feeds the output y; /dead/MatMul '
        '(dead.weight [4,2]) feeds a Relu whose output reaches no graph output.',
        'source': HAND_SOURCE,
        'graph': {
            'declared': 20, 'unique': 12, 'summary': 12, 'shared': {}, 'unused': {'dead.weight': 'dead'},
            'duplicates': [], 'callsUsing': {'live.weight': ['/live']},
            'notes': ['Under a trace the dead MatMul may still run (executed but dead); dead.weight stays unused, '
                      'reason dead, either way.'],
        },
    }
    save('dead-node', model, expect)


def if_branches():
    r = rng(103)
    then_g = helper.make_graph(
        [helper.make_node('MatMul', ['x', 'W_then'], ['then_y'], name='/then/MatMul')],
        'then_branch', [], [vi('then_y', FLOAT, [1, 3])],
    )
    else_g = helper.make_graph(
        [helper.make_node('MatMul', ['x', 'W_else'], ['else_y'], name='/else/MatMul')],
        'else_branch', [], [vi('else_y', FLOAT, [1, 3])],
    )
    model = hand_model(
        [helper.make_node('If', ['cond'], ['y'], name='/If', then_branch=then_g, else_branch=else_g)],
        [vi('x', FLOAT, [1, 4]), vi('cond', TensorProto.BOOL, [])],
        [vi('y', FLOAT, [1, 3])],
        [init('W_then', f32(r, 4, 3)), init('W_else', f32(r, 4, 3))],
    )
    expect = {
        'description': 'If(cond): then_branch is MatMul(x, W_then), else_branch MatMul(x, W_else); both weights '
        'are initializers of the main graph that the branches reference from the outer scope.',
        'source': HAND_SOURCE,
        'graph': {
            'declared': 24, 'unique': 24, 'summary': 12, 'shared': {}, 'unused': {}, 'duplicates': [],
            'callsUsing': {'W_else': ['/else'], 'W_then': ['/then']},
            'trace': {
                'cond=true': {'unique': 12, 'summary': 12, 'unused': {'W_else': 'not-executed'}},
                'cond=false': {'unique': 12, 'summary': 12, 'unused': {'W_then': 'not-executed'}},
            },
            'notes': ['Static analysis: both branches are possible, so both weights are used (unique 24) and the '
                      'report must say the result is static; but a run takes one branch, so summary-style is the '
                      'heavier branch (12) and each weight is conditional (used in one branch only). With a trace '
                      'only the branch that ran counts.'],
        },
    }
    save('if-branches', model, expect)


def loop_body():
    r = rng(104)
    body = helper.make_graph(
        [
            helper.make_node('Identity', ['cond_in'], ['cond_out'], name='/body/Identity'),
            helper.make_node('MatMul', ['state_in', 'W_loop'], ['state_out'], name='/body/MatMul'),
        ],
        'loop_body',
        [vi('iter', TensorProto.INT64, []), vi('cond_in', TensorProto.BOOL, []), vi('state_in', FLOAT, [1, 4])],
        [vi('cond_out', TensorProto.BOOL, []), vi('state_out', FLOAT, [1, 4])],
    )
    model = hand_model(
        [
            helper.make_node('Loop', ['M', '', 'x'], ['loop_out'], name='/Loop', body=body),
            helper.make_node('MatMul', ['loop_out', 'W_out'], ['y'], name='/out/MatMul'),
        ],
        [vi('x', FLOAT, [1, 4]), vi('M', TensorProto.INT64, [])],
        [vi('y', FLOAT, [1, 2])],
        [init('W_loop', f32(r, 4, 4)), init('W_out', f32(r, 4, 2))],
    )
    expect = {
        'description': 'Loop with trip count from the int64 scalar input M and loop-carried state (initially x); '
        'the body does MatMul(state, W_loop) with W_loop an outer-scope initializer. After the loop, '
        'MatMul(loop_out, W_out).',
        'source': HAND_SOURCE,
        'graph': {
            'declared': 24, 'unique': 24, 'summary': 24, 'shared': {}, 'unused': {}, 'duplicates': [],
            'callsUsing': {'W_loop': ['/body'], 'W_out': ['/out']},
            'trace': {
                'M=3': {'unique': 24, 'summary': 56, 'shared': {'W_loop': 3}},
                'M=0': {'unique': 8, 'summary': 8, 'unused': {'W_loop': 'not-executed'}},
            },
            'notes': ['Static analysis cannot know the trip count: it counts the body once (W_loop 16 + W_out 8). '
                      'Each iteration is a separate call, so a trace with M=3 gives summary 3 x 16 + 8 = 56 and '
                      'W_loop shared by 3 calls.'],
        },
    }
    save('loop-body', model, expect)


def constant_weights():
    r = rng(105)
    w = f32(r, 4, 3)
    b = f32(r, 3)
    model = hand_model(
        [
            helper.make_node('Constant', [], ['/fc/Constant_output_0'], name='/fc/Constant',
                             value=numpy_helper.from_array(w, 'w')),
            helper.make_node('Constant', [], ['/fc/Constant_1_output_0'], name='/fc/Constant_1',
                             value=numpy_helper.from_array(b, 'b')),
            helper.make_node('MatMul', ['x', '/fc/Constant_output_0'], ['/fc/MatMul_output_0'], name='/fc/MatMul'),
            helper.make_node('Add', ['/fc/MatMul_output_0', '/fc/Constant_1_output_0'], ['/fc/Add_output_0'],
                             name='/fc/Add'),
            helper.make_node('Reshape', ['/fc/Add_output_0', 'shape'], ['/Reshape_output_0'], name='/Reshape'),
            helper.make_node('Constant', [], ['/Constant_output_0'], name='/Constant',
                             value=numpy_helper.from_array(np.array(0.5, dtype=np.float32), 'half')),
            helper.make_node('Mul', ['/Reshape_output_0', '/Constant_output_0'], ['y'], name='/Mul'),
        ],
        [vi('x', FLOAT, [1, 4])],
        [vi('y', FLOAT, [3, 1])],
        [init('shape', np.array([3, 1], dtype=np.int64))],
    )
    expect = {
        'description': 'Weights as Constant nodes instead of initializers: /fc/Constant [4,3] feeds /fc/MatMul, '
        '/fc/Constant_1 [3] feeds /fc/Add. Then Reshape with shape from an int64 initializer `shape` [2] and a '
        'Mul by the scalar float Constant /Constant (0.5).',
        'source': HAND_SOURCE,
        'graph': {
            'declared': 15, 'unique': 15, 'summary': 15, 'shared': {}, 'unused': {}, 'duplicates': [],
            'callsUsing': {'/fc/Constant_1_output_0': ['/fc'], '/fc/Constant_output_0': ['/fc']},
            'notParameters': {'shape': 'int64 Reshape shape (meta input)',
                              '/Constant_output_0': 'scalar float constant in Mul'},
            'notes': ['Constant-node tensors are named here by their output names. MatMul and Add are one call '
                      '/fc (same scope). The /Reshape and /Mul nodes are unscoped calls that use no parameter.'],
        },
    }
    save('constant-weights', model, expect)


def external_data():
    r = rng(106)
    model = hand_model(
        [
            helper.make_node('MatMul', ['x', 'fc.weight'], ['/fc/MatMul_output_0'], name='/fc/MatMul'),
            helper.make_node('Add', ['/fc/MatMul_output_0', 'fc.bias'], ['y'], name='/fc/Add'),
        ],
        [vi('x', FLOAT, [1, 4])],
        [vi('y', FLOAT, [1, 3])],
        [init('fc.weight', f32(r, 4, 3)), init('fc.bias', f32(r, 3))],
    )
    expect = {
        'description': 'MatMul + Add (fc.weight [4,3], fc.bias [3]) saved with external data: both tensors live '
        'in external-data.weights next to the .onnx (all_tensors_to_one_file, size_threshold=0).',
        'source': HAND_SOURCE + ', onnx.save_model(save_as_external_data=True)',
        'graph': {
            'declared': 15, 'unique': 15, 'summary': 15, 'shared': {}, 'unused': {}, 'duplicates': [],
            'callsUsing': {'fc.bias': ['/fc'], 'fc.weight': ['/fc']},
            'externalData': {'location': 'external-data.weights',
                             'tensors': {'fc.weight': {'offset': 0, 'length': 48},
                                         'fc.bias': {'offset': 48, 'length': 12}}},
            'notes': ['Counting needs only dims, not bytes; duplicate detection needs the external bytes.'],
        },
    }
    loaded = save('external-data', model, expect, external='external-data.weights')
    raw = onnx.load(os.path.join(OUT, 'external-data.onnx'), load_external_data=False)
    got = {}
    for t in raw.graph.initializer:
        kv = {e.key: e.value for e in t.external_data}
        got[t.name] = {'offset': int(kv.get('offset', 0)), 'length': int(kv['length'])}
        assert kv['location'] == 'external-data.weights', kv
    assert got == expect['graph']['externalData']['tensors'], got
    del loaded


def sparse_initializer():
    r = rng(107)
    idx = np.array([0, 7, 9, 18, 27, 36, 45, 54, 63], dtype=np.int64)  # sorted linear indices into [8,8]
    vals = r.standard_normal(len(idx)).astype(np.float32)
    sparse = helper.make_sparse_tensor(
        numpy_helper.from_array(vals, 'W_sparse'), numpy_helper.from_array(idx, 'W_sparse_indices'), [8, 8]
    )
    model = hand_model(
        [helper.make_node('MatMul', ['x', 'W_sparse'], ['y'], name='/fc/MatMul')],
        [vi('x', FLOAT, [1, 8])],
        [vi('y', FLOAT, [1, 8])],
        sparse=[sparse],
    )
    expect = {
        'description': 'A sparse_initializer W_sparse (dense dims [8,8], 9 stored values with linear int64 '
        'indices) feeding /fc/MatMul.',
        'source': HAND_SOURCE,
        'graph': {
            'declared': 64, 'unique': 64, 'summary': 64, 'shared': {}, 'unused': {}, 'duplicates': [],
            'callsUsing': {'W_sparse': ['/fc']},
            'sparse': {'W_sparse': {'denseNumel': 64, 'storedValues': 9}},
            'notes': ['Counted at its dense numel (64), as PyTorch would count the dense weight; the 9 stored '
                      'values are a storage fact. The name is the values tensor\'s name.'],
        },
    }
    save('sparse-initializer', model, expect)


def unnamed_nodes():
    r = rng(108)
    model = hand_model(
        [
            helper.make_node('MatMul', ['x', 'W_a'], ['h1'], name=''),
            helper.make_node('Add', ['h1', 'b_a'], ['h2'], name=''),
            helper.make_node('MatMul', ['h2', 'W_b'], ['h3'], name='dup'),
            helper.make_node('MatMul', ['h3', 'W_c'], ['y'], name='dup'),
        ],
        [vi('x', FLOAT, [1, 4])],
        [vi('y', FLOAT, [1, 3])],
        [init('W_a', f32(r, 4, 4)), init('b_a', f32(r, 4)), init('W_b', f32(r, 4, 4)), init('W_c', f32(r, 4, 3))],
    )
    expect = {
        'description': 'Two nodes with empty names (MatMul W_a [4,4], Add b_a [4]) and two MatMul nodes both '
        'named "dup" (W_b [4,4], W_c [4,3]). No node has a scope, so each node is its own layer call.',
        'source': HAND_SOURCE,
        'graph': {
            'declared': 48, 'unique': 48, 'summary': 48, 'shared': {}, 'unused': {}, 'duplicates': [],
            'paramCalls': 4,
            'notes': ['paramCalls: layer calls that use at least one parameter. '
                      'Nodes must be told apart by position, not by name: the two "dup" nodes are two calls, and '
                      'the unnamed MatMul and Add are two calls. Nothing is shared.'],
        },
    }
    save('unnamed-nodes', model, expect)


def quantized():
    r = rng(109)
    wq = r.integers(-127, 128, size=(4, 3)).astype(np.int8)
    model = hand_model(
        [
            helper.make_node('DequantizeLinear', ['fc.weight_quantized', 'fc.weight_scale', 'fc.weight_zero_point'],
                             ['/fc/DequantizeLinear_output_0'], name='/fc/DequantizeLinear'),
            helper.make_node('MatMul', ['x', '/fc/DequantizeLinear_output_0'], ['y'], name='/fc/MatMul'),
        ],
        [vi('x', FLOAT, [1, 4])],
        [vi('y', FLOAT, [1, 3])],
        [
            init('fc.weight_quantized', wq),
            init('fc.weight_scale', np.array(0.02, dtype=np.float32)),
            init('fc.weight_zero_point', np.array(0, dtype=np.int8)),
        ],
    )
    expect = {
        'description': 'int8 initializer fc.weight_quantized [4,3] -> DequantizeLinear (float scalar scale, int8 '
        'scalar zero point) -> MatMul B.',
        'source': HAND_SOURCE,
        'graph': {
            'declared': 12, 'unique': 12, 'summary': 12, 'shared': {}, 'unused': {}, 'duplicates': [],
            'callsUsing': {'fc.weight_quantized': ['/fc']},
            'notParameters': {'fc.weight_scale': 'quantization scale', 'fc.weight_zero_point': 'quantization zero point'},
            'notes': ['The int8 weight is the parameter (numel 12, 12 bytes); the scale and zero point are '
                      'metadata. DequantizeLinear has only constant inputs, so it is part of the weight\'s '
                      'constant chain, not a call of its own; the weight is used by call /fc (its MatMul).'],
        },
    }
    save('quantized', model, expect)


def shared_matmul():
    r = rng(110)
    model = hand_model(
        [
            helper.make_node('MatMul', ['x', 'W'], ['/fc/MatMul_output_0'], name='/fc/MatMul'),
            helper.make_node('MatMul', ['/fc/MatMul_output_0', 'W'], ['y'], name='/fc_1/MatMul'),
        ],
        [vi('x', FLOAT, [1, 4])],
        [vi('y', FLOAT, [1, 4])],
        [init('W', f32(r, 4, 4))],
    )
    expect = {
        'description': 'One initializer W [4,4] consumed by /fc/MatMul and /fc_1/MatMul: the hand-built analogue '
        'of seed case 2 (one module called twice).',
        'source': HAND_SOURCE,
        'graph': {
            'declared': 16, 'unique': 16, 'summary': 32, 'shared': {'W': 2}, 'unused': {}, 'duplicates': [],
            'callsUsing': {'W': ['/fc', '/fc_1']},
            'notes': ['Scopes /fc and /fc_1 are two calls of one layer; W adds 16 x (2 - 1) = 16 to summary-style.'],
        },
    }
    save('shared-matmul', model, expect)


def main():
    os.makedirs(OUT, exist_ok=True)
    print(f'writing fixtures to {os.path.relpath(OUT)} (torch exporter + onnx {onnx.__version__})')
    same = seed_cases()
    print(f'  seed-case-3.onnx byte-identical to seed-case-2.onnx: {same}')
    tied_embedding()
    value_merged()
    resnet_block()
    orphan()
    dead_node()
    if_branches()
    loop_body()
    constant_weights()
    external_data()
    sparse_initializer()
    unnamed_nodes()
    quantized()
    shared_matmul()
    digest = hashlib.sha256()
    for name in sorted(os.listdir(OUT)):
        if name.endswith(('.onnx', '.json', '.weights')):
            digest.update(open(os.path.join(OUT, name), 'rb').read())
    print(f'  sha256 of all fixtures: {digest.hexdigest()[:16]}')


if __name__ == '__main__':
    main()
