#!/usr/bin/python3
"""Writes test/corpus/expected.json: for every model of test/corpus/corpus.json, what its graph alone says,
computed here with the onnx package (not with paramtrace's code), and what a plain onnxruntime session needs
to run it.

    npm run corpus                                   # fetch the models first
    /usr/bin/python3 scripts/corpus_expectations.py  # Debian's python: onnx 1.12, numpy

With onnxruntime importable (a venv made with --system-site-packages over /usr/bin/python3 and
`pip install --no-deps onnxruntime`), each model is also run once in a plain session (graph optimizations
off, CPU) with the inputs its corpus options describe, and the feeds and output shapes are recorded under
`plainSession`; without it, the `plainSession` entries already in expected.json are kept.

Models are read from PARAMTRACE_CORPUS_DIR (default .cache/corpus)/models/<id>.onnx.

Per model (docs/counting.md, "Parameter", without a manifest):
- `floatTensors`: every floating-point tensor with at least one dimension stored in the file, as an
  initializer (any graph) or a Constant node's `value`: count and numel.
- `reachingNode`: those that some node consumes, directly or through a chain of nodes whose inputs are all
  constants (Identity, Cast, Transpose, Reshape of a weight, ...). A chain node passes on the constants at
  its non-`meta` inputs only (Shape(W) does not carry W).
- `declared`: the parameters, counted as counting.md says: a floating-point tensor with at least one
  dimension that reaches a weight-like input (role `weight`/`qweight` in ONNX's own operator schemas, by
  scripts/gen_op_schemas.py: differentiable inputs), plus float initializers nothing consumes (orphans);
  Constant-node tensors holding one repeated value (fills made in forward: zeros, ones) are not
  parameters; and tensors stored twice (equal bytes, or equal after a 2-D transpose; at least 2 elements,
  not all-equal) count once when the copy has an exporter-generated name (`onnx::X_N`, `val_N`, a bare
  number): two tensors with their own names are two parameters, equal or not. `explain` takes reachingNode to declared step by step and names the tensors.
  One-element tensors of rank >= 1 ([1], [1, 1]) are parameters under this rule when one module owns them
  (only rank-0 scalars never are); with an exporter-generated name or read by nodes of several modules they
  are the exporter's constants; `oneElement` counts those still counted.
- `buffers`: tensors reaching only buffer inputs (BatchNormalization's mean and var).
- `controlFlow`: If / Loop / Scan nodes (subgraphs included) and, for each If, the parameters used (at a
  weight-like input) inside its then and else branches: `inBothBranches` lists those used in both
  branches of one If, which a run can never use twice (only one branch runs).
"""

import hashlib
import importlib.util
import json
import os
import re
import sys
from collections import defaultdict

import numpy as np
import onnx
from onnx import TensorProto, numpy_helper

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))
CORPUS = os.path.join(ROOT, 'test', 'corpus', 'corpus.json')
OUT = os.path.join(ROOT, 'test', 'corpus', 'expected.json')

_spec = importlib.util.spec_from_file_location('gen_op_schemas', os.path.join(ROOT, 'scripts', 'gen_op_schemas.py'))
gen_op_schemas = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(gen_op_schemas)
ROLE_TABLE = gen_op_schemas.build_table()

FLOAT_TYPES = {TensorProto.FLOAT, TensorProto.FLOAT16, TensorProto.DOUBLE, TensorProto.BFLOAT16}
CONTROL_FLOW = {'If', 'Loop', 'Scan'}


def corpus_dir():
    return os.path.abspath(os.environ.get('PARAMTRACE_CORPUS_DIR') or os.path.join(ROOT, '.cache', 'corpus'))


def role_of(op_type, domain, opsets, index):
    """The role of a constant at input `index` of an op: 'weight' | 'qweight' | 'buffer' | 'meta'."""
    if domain in ('', 'ai.onnx') and op_type in CONTROL_FLOW:
        return 'meta'  # conditions, trip counts, loop state: weights reach bodies as outer-scope names
    key = op_type if domain in ('', 'ai.onnx') else f'{domain}:{op_type}'
    entries = ROLE_TABLE.get(key)
    if not entries:
        return 'weight'  # no schema (custom domain): taken as a weight
    version = opsets.get(domain, opsets.get('', 10**9))
    chosen = None
    for since, roles, variadic in entries:
        if since <= version:
            chosen = (roles, variadic)
    roles, variadic = chosen or (entries[0][1], entries[0][2])
    if index < len(roles):
        return roles[index]
    return roles[-1] if variadic and roles else 'meta'


def subgraphs(node):
    for a in node.attribute:
        if a.type == onnx.AttributeProto.GRAPH:
            yield a.name, a.g
        elif a.type == onnx.AttributeProto.GRAPHS:
            for k, g in enumerate(a.graphs):
                yield f'{a.name}[{k}]', g


class Walk:
    def __init__(self, model):
        self.opsets = {o.domain: o.version for o in model.opset_import}
        self.tensors = {}  # key -> dict(name, kind, array, dtype, dims, graph)
        self.order = []
        self.consumed = set()
        self.uses = defaultdict(set)  # key -> roles it reached at compute nodes
        self.readers = defaultdict(set)  # key -> modules (scoped nodes) or nodes reading it at a weight role
        self.branch_uses = []  # (if_path, branch, key) for weight-role uses inside If branches
        self.outside_branches = set()  # keys used at a weight-role input outside every If branch
        self.if_nodes = []
        self.loops = 0
        self.scans = 0
        self.walk(model.graph, '', {}, [])

    def register(self, graph_path, name, tensor, kind, scope):
        key = f'{graph_path}|{name}'
        self.tensors[key] = {
            'name': name,
            'kind': kind,
            'array': numpy_helper.to_array(tensor),
            'dtype': tensor.data_type,
            'dims': list(tensor.dims),
            'graph': graph_path,
        }
        self.order.append(key)
        scope[name] = [key]

    def walk(self, graph, graph_path, outer, branches):
        scope = dict(outer)  # value name -> list of constant keys it carries, or None (not a constant)
        for i in graph.input:
            scope[i.name] = None  # subgraph inputs shadow outer names
        for t in graph.initializer:
            self.register(graph_path, t.name, t, 'initializer', scope)
        for s in graph.sparse_initializer:
            sys.exit('sparse initializers are not handled here (none in the corpus)')
        for index, node in enumerate(graph.node):
            node_path = f'{graph_path}/{index}' if graph_path else str(index)
            if node.op_type == 'Constant' and node.domain in ('', 'ai.onnx'):
                attrs = {a.name: a for a in node.attribute}
                if 'value' in attrs:
                    self.register(graph_path, node.output[0], attrs['value'].t, 'constant-node', scope)
                elif 'sparse_value' in attrs:
                    sys.exit('sparse Constant nodes are not handled here (none in the corpus)')
                else:
                    scope[node.output[0]] = []  # value_float(s) / value_int(s) / value_string(s): a constant, no tensor
                continue
            present = [x for x in node.input if x]
            subs = list(subgraphs(node))
            folds = bool(present) and not subs and all(scope.get(x) is not None for x in present)
            carried = []
            for k, x in enumerate(node.input):
                keys = scope.get(x) if x else None
                if keys is None:
                    continue
                self.consumed.update(keys)
                role = role_of(node.op_type, node.domain, self.opsets, k)
                if role == 'meta':
                    continue
                if folds:
                    carried.extend(keys)
                else:
                    for key in keys:
                        self.uses[key].add(role)
                        if role in ('weight', 'qweight'):
                            self.readers[key].add(module_of(node, graph_path, index))
                            for if_path, branch in branches:
                                self.branch_uses.append((if_path, branch, key))
                            if not branches:
                                self.outside_branches.add(key)
            for o in node.output:
                if o:
                    scope[o] = list(dict.fromkeys(carried)) if folds else None
            if node.op_type == 'If':
                self.if_nodes.append(node_path)
            elif node.op_type == 'Loop':
                self.loops += 1
            elif node.op_type == 'Scan':
                self.scans += 1
            for attr, sub in subs:
                inner = branches + ([(node_path, attr)] if node.op_type == 'If' else [])
                self.walk(sub, f'{node_path}/{attr}', scope, inner)


def numel(t):
    return int(np.prod(t['dims'])) if t['dims'] else 1


def is_float_tensor(t):
    return t['dtype'] in FLOAT_TYPES and len(t['dims']) > 0


def module_of(node, graph_path, index):
    """The module a node's call belongs to: a TorchScript scope (`/enc/layers.1/linear1/Add` -> enc/layers.1/linear1,
    a second call `conv1_1` -> conv1), else the node itself."""
    if node.name.startswith('/') and node.name.count('/') >= 2:
        scope = node.name.rsplit('/', 1)[0]
        return re.sub(r'_[0-9]+$', '', scope)
    return f'{graph_path}|node {index}'


def is_generated(name):
    """Names exporters give the tensors they make (TorchScript's onnx::MatMul_20, dynamo's val_20, numbers)."""
    return re.match(r'^onnx::|^val_[0-9]+$|^_?[0-9]+$|^$', name) is not None


def is_uniform(t):
    """Every element has the same bytes (a fill such as zeros or ones; a one-element tensor too)."""
    a = np.ascontiguousarray(t['array']).reshape(-1)
    rows = a.view(np.uint8).reshape(a.size, -1)
    return a.size > 0 and bool(np.all(rows == rows[0]))


def describe(t):
    return {'name': t['name'], 'dims': t['dims'], 'numel': numel(t), 'kind': t['kind'],
            **({'graph': t['graph']} if t['graph'] else {})}


def expectations(model):
    w = Walk(model)
    T = w.tensors
    floats = [k for k in w.order if is_float_tensor(T[k])]
    reaching = [k for k in floats if k in w.consumed]
    weight_like = [k for k in floats if w.uses[k] & {'weight', 'qweight'}]
    orphans = [k for k in floats if k not in w.consumed and T[k]['kind'] == 'initializer']
    meta_only = [k for k in reaching if k not in weight_like]
    fills = [k for k in weight_like if T[k]['kind'] == 'constant-node' and is_uniform(T[k])]
    # One-element tensors are parameters only when one module owns them: not with a generated name, not when
    # read by several modules (a shared 1 or 0).
    exporter_scalars = [k for k in weight_like if numel(T[k]) == 1
                        and (is_generated(T[k]['name']) or len(w.readers[k]) >= 2)]
    params = [k for k in weight_like if k not in set(fills) and k not in set(exporter_scalars)] + orphans
    buffers = [k for k in reaching if k not in weight_like and 'buffer' in w.uses[k]]

    # Stored twice: equal bytes, or equal after a 2-D transpose (same dtype and element count).
    groups = []
    grouped = set()
    buckets = defaultdict(list)
    for k in params:
        if numel(T[k]) >= 2:
            buckets[(T[k]['dtype'], numel(T[k]))].append(k)
    for bucket in buckets.values():
        if len(bucket) < 2:
            continue
        by_bytes = defaultdict(list)
        for k in bucket:
            if not is_uniform(T[k]):
                by_bytes[T[k]['array'].tobytes()].append(k)
        for same in by_bytes.values():
            if len(same) > 1:
                # The exporter's copies go with the first named tensor; named tensors are never merged.
                named = [k for k in same if not is_generated(T[k]['name'])]
                group = named[:1] + [k for k in same if is_generated(T[k]['name'])]
                if len(group) > 1:
                    groups.append({'names': [T[k]['name'] for k in group], 'transposed': False,
                                   'numel': numel(T[group[0]])})
                    grouped.update(group)
        for k in bucket:
            a = T[k]['array']
            if k in grouped or a.ndim != 2 or a.shape[0] == a.shape[1] or is_uniform(T[k]):
                continue
            flipped = np.ascontiguousarray(a.T).tobytes()
            twin = next((o for o in bucket if o != k and o not in grouped and not is_uniform(T[o])
                         and (is_generated(T[o]['name']) or is_generated(T[k]['name']))
                         and T[o]['array'].tobytes() == flipped), None)
            if twin:
                groups.append({'names': [T[twin]['name'], T[k]['name']], 'transposed': True, 'numel': numel(T[k])})
                grouped.update([k, twin])
    copies = sum(g['numel'] * (len(g['names']) - 1) for g in groups)

    total = lambda keys: sum(numel(T[k]) for k in keys)
    declared = total(params) - copies
    one_element = [k for k in params if numel(T[k]) == 1]

    # If branches: parameters used at a weight-like input inside then / else (a tensor stored twice is one
    # parameter: the 16 kHz and 8 kHz sub-models of a Silero VAD store some equal weights once per branch).
    canon = {}
    for g in groups:
        keys = [k for k in params if T[k]['name'] in g['names']]
        for k in keys:
            canon[k] = keys[0]
    per_if = defaultdict(lambda: defaultdict(set))
    param_set = set(params)
    for if_path, branch, key in w.branch_uses:
        if key in param_set:
            per_if[if_path][branch].add(canon.get(key, key))
    in_both = []
    for if_path in w.if_nodes:
        then_keys = per_if[if_path].get('then_branch', set())
        else_keys = per_if[if_path].get('else_branch', set())
        for key in sorted(then_keys & else_keys):
            in_both.append({'if': if_path, 'name': T[key]['name'], 'numel': numel(T[key])})
    main_keys = {k for k in param_set if k in w.outside_branches or k not in w.consumed}

    explain = {
        'reachingNode': {'count': len(reaching), 'numel': total(reaching)},
        'minusOnlyNonWeightInputs': {'count': len(meta_only), 'numel': total(meta_only),
                                     'tensors': [describe(T[k]) | {'roles': sorted(w.uses[k]) or ['meta']}
                                                 for k in meta_only][:40]},
        'minusConstantFills': {'count': len(fills), 'numel': total(fills),
                               'tensors': [describe(T[k]) for k in fills][:40]},
        'minusExporterScalars': {'count': len(exporter_scalars), 'numel': total(exporter_scalars),
                                 'tensors': [describe(T[k]) for k in exporter_scalars][:40]},
        'plusOrphans': {'count': len(orphans), 'numel': total(orphans),
                        'tensors': [describe(T[k]) for k in orphans]},
        'minusStoredTwice': {'count': sum(len(g['names']) - 1 for g in groups), 'numel': copies},
    }
    check = (explain['reachingNode']['numel'] - explain['minusOnlyNonWeightInputs']['numel']
             - explain['minusConstantFills']['numel'] - explain['minusExporterScalars']['numel']
             + explain['plusOrphans']['numel']
             - explain['minusStoredTwice']['numel'])
    assert check == declared, (check, declared)
    kinds = defaultdict(int)
    for k in params:
        kinds[T[k]['kind']] += numel(T[k])
    return {
        'floatTensors': {'count': len(floats), 'numel': total(floats)},
        'declared': declared,
        'parameterTensors': len(params) - sum(len(g['names']) - 1 for g in groups),
        'declaredByKind': dict(sorted(kinds.items())),
        'oneElement': {'count': len(one_element), 'numel': total(one_element),
                       'names': [T[k]['name'] for k in one_element][:40]},
        'buffers': total(buffers),
        'duplicates': groups,
        'explain': explain,
        'controlFlow': {
            'if': len(w.if_nodes),
            'loop': w.loops,
            'scan': w.scans,
            'parametersOnlyInBranches': {'count': len(param_set - main_keys),
                                         'numel': total(param_set - main_keys)},
            'inBothBranches': in_both,
        },
    }


def graph_facts(model):
    inits = {t.name for t in model.graph.initializer}
    inputs = []
    for i in model.graph.input:
        if i.name in inits:
            continue
        t = i.type.tensor_type
        dims = None
        if t.HasField('shape'):
            dims = [d.dim_value if d.HasField('dim_value') else (d.dim_param if d.HasField('dim_param') else None)
                    for d in t.shape.dim]
        inputs.append({'name': i.name, 'dtype': np.dtype(onnx.mapping.TENSOR_TYPE_TO_NP_TYPE[t.elem_type]).name, 'shape': dims})
    return {
        'producer': f'{model.producer_name} {model.producer_version}'.strip(),
        'irVersion': model.ir_version,
        'opsets': {o.domain or 'ai.onnx': o.version for o in model.opset_import},
        'inputs': inputs,
    }


def feeds_for(model, options):
    """The inputs the corpus options describe, made as paramtrace does: floats uniform [-1, 1), rest zeros."""
    rng = np.random.default_rng(0)
    feeds = {}
    described = []
    for spec in graph_facts(model)['inputs']:
        name = spec['name']
        dtype = np.dtype(spec['dtype'])
        shape = options.get('inputs', {}).get(name)
        if shape is None:
            shape = [d if isinstance(d, int) else options.get('dims', {}).get(d) for d in spec['shape']]
            if any(d is None for d in shape):
                raise ValueError(f'input {name}: shape {spec["shape"]} not set by the options')
        if name in options.get('values', {}):
            value = np.array(options['values'][name], dtype=dtype).reshape(shape)
            how = {'values': options['values'][name]}
        elif dtype.kind == 'f':
            value = rng.uniform(-1, 1, shape).astype(dtype)
            how = {'from': 'random uniform [-1, 1)'}
        else:
            value = np.zeros(shape, dtype)
            how = {'from': 'zeros'}
        feeds[name] = value
        described.append({'name': name, 'dtype': dtype.name, 'shape': list(shape), **how})
    return feeds, described


def plain_session(path, model, options):
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    so.log_severity_level = 3
    session = ort.InferenceSession(path, so, providers=['CPUExecutionProvider'])
    feeds, described = feeds_for(model, options)
    outputs = session.run(None, feeds)
    return {
        'onnxruntime': ort.__version__,
        'feeds': described,
        'outputs': [{'name': o.name, 'shape': list(v.shape)} for o, v in zip(session.get_outputs(), outputs)],
    }


def to_json(value, indent=0):
    """JSON with two-space indentation, short lists of scalars on one line."""
    pad = '  ' * (indent + 1)
    if isinstance(value, dict):
        if not value:
            return '{}'
        items = [f'{pad}{json.dumps(k)}: {to_json(v, indent + 1)}' for k, v in value.items()]
        return '{\n' + ',\n'.join(items) + '\n' + '  ' * indent + '}'
    if isinstance(value, list):
        if all(not isinstance(v, (dict, list)) for v in value) and len(json.dumps(value)) <= 100:
            return json.dumps(value)
        if not value:
            return '[]'
        items = [pad + to_json(v, indent + 1) for v in value]
        return '[\n' + ',\n'.join(items) + '\n' + '  ' * indent + ']'
    return json.dumps(value)


def main():
    with open(CORPUS, encoding='utf-8') as f:
        corpus = json.load(f)
    previous = {}
    if os.path.exists(OUT):
        with open(OUT, encoding='utf-8') as f:
            previous = json.load(f).get('models', {})
    try:
        import onnxruntime  # noqa: F401

        have_ort = True
    except ImportError:
        have_ort = False
        print('onnxruntime not importable: keeping the plainSession entries already in expected.json')
    folder = os.path.join(corpus_dir(), 'models')
    models = {}
    for m in corpus['models']:
        path = os.path.join(folder, f'{m["id"]}.onnx')
        if not os.path.exists(path):
            sys.exit(f'{path} is missing: run npm run corpus first (or set PARAMTRACE_CORPUS_DIR)')
        with open(path, 'rb') as f:
            digest = hashlib.sha256(f.read()).hexdigest()
        if digest != m['sha256']:
            sys.exit(f'{path}: sha256 {digest}, corpus.json pins {m["sha256"]}')
        model = onnx.load(path)
        entry = {'sha256': m['sha256'], **graph_facts(model), **expectations(model)}
        if have_ort:
            try:
                entry['plainSession'] = plain_session(path, model, m.get('options', {}))
            except Exception as e:  # recorded: the options do not run the model
                entry['plainSession'] = {'error': str(e).splitlines()[0][:300]}
        elif 'plainSession' in previous.get(m['id'], {}):
            entry['plainSession'] = previous[m['id']]['plainSession']
        models[m['id']] = entry
        print(f'{m["id"]:24} declared {entry["declared"]:>9}  float tensors {entry["floatTensors"]["numel"]:>9}'
              f'  if {entry["controlFlow"]["if"]:>2}  in both branches {len(entry["controlFlow"]["inBothBranches"])}'
              + (f'  plain session: {"ok" if "feeds" in entry["plainSession"] else entry["plainSession"]["error"]}'
                 if 'plainSession' in entry else ''))
    out = {
        'description': 'Made by scripts/corpus_expectations.py from the graphs alone (onnx '
        f'{onnx.__version__}); see that script for what each field means. Do not edit by hand.',
        'models': models,
    }
    with open(OUT, 'w', encoding='utf-8', newline='\n') as f:
        f.write(to_json(out) + '\n')
    # The repository's JSON is formatted by prettier (npm run lint checks it).
    import subprocess

    try:
        done = subprocess.run(['npx', '--no-install', 'prettier', '--write', OUT], cwd=ROOT,
                              capture_output=True, timeout=120).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        done = False
    print('wrote', os.path.relpath(OUT, ROOT), '' if done else '(run npx prettier --write on it: prettier did not run)')


if __name__ == '__main__':
    main()
