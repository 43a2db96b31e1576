#!/usr/bin/env python3
"""Ground truth for one model of torch_models.MODELS: what PyTorch itself says, plus the exported ONNX file.

    /usr/bin/python3 test/support/torch_truth.py NAME OUT_DIR      (NAME may be `all`)
    /usr/bin/python3 test/support/torch_truth.py NAME OUT_DIR --plain NAME[,NAME...]

Writes OUT_DIR/NAME.onnx (exported with python/paramtrace_torch.py, manifest attached), the example inputs and
the eval-mode PyTorch outputs (OUT_DIR/NAME.input-K.npy, OUT_DIR/NAME.output-K.npy; raw little-endian .bin when
numpy is missing) and OUT_DIR/NAME.truth.json:

- declared: sum(p.numel() for p in model.parameters()); trainable / frozen: its split by requires_grad;
  buffers: numel of all buffers.
- used: parameters with a non-None .grad after backward() of the sum of the outputs (frozen parameters get
  requires_grad=True for the measurement, then it is restored). unique = their numel.
- calls: per parameter, from forward hooks: each call of a module counts once for every parameter the module
  owns directly (recurse=False); a used parameter no hooked call owns (used directly in some forward) counts
  one call of the root. Unused parameters have 0 calls. summary = sum of numel * calls.
- shared: used parameters with calls >= 2; unused: declared but not used.

With --plain, also OUT_DIR/NAME.plain.onnx for each NAME listed: a plain torch.onnx.export (eval mode, constant
folding on) with the helper's manifest attached afterwards, and NAME.plain.json listing its initializers.

Names are PyTorch's canonical names (the first name named_parameters() gives).

Exit status: 0 done; 2 error; 3 skip (torch, or torchvision for resnet18, cannot be imported). With `all`, a model whose
package is missing (torchvision) is skipped alone: OUT_DIR/NAME.skip holds the reason and the others are written.
"""

from __future__ import annotations

import ctypes
import importlib.util
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)

try:
    import torch
except ImportError as _err:  # exit 3: the caller should skip, not fail
    print(f'torch_truth: skip: PyTorch is not available to {sys.executable}: {_err}', file=sys.stderr)
    sys.exit(3)

from torch_models import MODELS, eager_twin  # noqa: E402

try:
    import numpy
except ImportError:  # pragma: no cover
    numpy = None


def load_helper():
    path = os.path.join(ROOT, 'python', 'paramtrace_torch.py')
    spec = importlib.util.spec_from_file_location('paramtrace_torch', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


pt = load_helper()


def flatten(value):
    """Tensors of a (nested) output, in the order torch.onnx.export lists graph outputs."""
    if isinstance(value, torch.Tensor):
        return [value]
    if isinstance(value, (list, tuple)):
        return [t for v in value for t in flatten(v)]
    if isinstance(value, dict):
        return [t for v in value.values() for t in flatten(v)]
    return []


def save_array(tensor, out_dir, stem):
    t = tensor.detach().cpu().contiguous()
    entry = {'shape': [int(d) for d in t.shape], 'dtype': pt._dtype_name(t.dtype)}
    if numpy is not None and t.dtype != torch.bfloat16:
        file = stem + '.npy'
        numpy.save(os.path.join(out_dir, file), t.numpy())
        entry.update(file=file, format='npy')
    else:
        file = stem + '.bin'
        data = ctypes.string_at(t.data_ptr(), t.numel() * t.element_size()) if t.numel() else b''
        if sys.byteorder == 'big':  # pragma: no cover
            raise RuntimeError('raw .bin output needs a little-endian host')
        with open(os.path.join(out_dir, file), 'wb') as fh:
            fh.write(data)
        entry.update(file=file, format='raw-le')
    return entry


def measure(model, inputs):
    """declared / used / calls, measured on the eager model."""
    params = list(model.named_parameters())
    by_id = {id(p): name for name, p in params}
    calls = {name: 0 for name, _ in params}
    handles = []

    def hook(module, _inputs, _output):
        seen = set()
        for p in module._parameters.values():
            if p is not None and id(p) in by_id and id(p) not in seen:
                seen.add(id(p))
                calls[by_id[id(p)]] += 1

    for module in model.modules():
        handles.append(module.register_forward_hook(hook))
    frozen = [p for _, p in params if not p.requires_grad]
    for p in frozen:
        p.requires_grad_(True)
    for _, p in params:
        p.grad = None
    try:
        with torch.enable_grad():
            outputs = flatten(model(*inputs))
            total = sum(o.float().sum() for o in outputs if o.is_floating_point() and o.requires_grad)
            if isinstance(total, torch.Tensor):
                total.backward()
        used = {name for name, p in params if p.grad is not None}
    finally:
        for h in handles:
            h.remove()
        for p in frozen:
            p.requires_grad_(False)
        for _, p in params:
            p.grad = None
    for name in calls:
        if name not in used:
            calls[name] = 0
        elif calls[name] == 0:
            calls[name] = 1  # used outside any hooked module call that owns it: one call of the root
    return params, used, calls


def truth(name, out_dir):
    if name not in MODELS:
        raise KeyError(f'unknown model {name!r}; known: {", ".join(MODELS)}')
    factory, inputs_factory = MODELS[name]
    os.makedirs(out_dir, exist_ok=True)
    torch.manual_seed(0)
    model = factory()
    torch.manual_seed(1)
    inputs = tuple(inputs_factory())
    eager = eager_twin(model)
    model.eval()
    eager.eval()

    params, used, calls = measure(eager, inputs)
    man = pt.manifest(model)
    aliases = {t['name']: t['aliases'] for t in man['tensors']}
    with torch.no_grad():
        outputs = flatten(model(*inputs))

    onnx_file = f'{name}.onnx'
    exported = pt.export(
        model,
        inputs,
        os.path.join(out_dir, onnx_file),
        input_names=[f'input_{k}' for k in range(len(inputs))],
        output_names=[f'output_{k}' for k in range(len(outputs))],
    )
    info = pt.inspect_onnx(os.path.join(out_dir, onnx_file))

    per_param = []
    for pname, p in params:
        per_param.append(
            {
                'name': pname,
                'aliases': aliases.get(pname, []),
                'shape': [int(d) for d in p.shape],
                'numel': int(p.numel()),
                'requiresGrad': bool(p.requires_grad),
                'used': pname in used,
                'calls': calls[pname],
            }
        )
    buffers = [
        {'name': bname, 'shape': [int(d) for d in b.shape], 'dtype': pt._dtype_name(b.dtype), 'numel': int(b.numel())}
        for bname, b in model.named_buffers()
    ]
    result = {
        'name': name,
        'modelClass': man['modelClass'],
        'torchVersion': str(torch.__version__),
        'onnx': onnx_file,
        'declared': sum(e['numel'] for e in per_param),
        'trainable': sum(e['numel'] for e in per_param if e['requiresGrad']),
        'frozen': sum(e['numel'] for e in per_param if not e['requiresGrad']),
        'buffers': sum(b['numel'] for b in buffers),
        'unique': sum(e['numel'] for e in per_param if e['used']),
        'summary': sum(e['numel'] * e['calls'] for e in per_param),
        'used': [e['name'] for e in per_param if e['used']],
        'shared': [
            {'name': e['name'], 'numel': e['numel'], 'calls': e['calls']} for e in per_param if e['calls'] >= 2
        ],
        'unused': [{'name': e['name'], 'numel': e['numel']} for e in per_param if not e['used']],
        'parameters': per_param,
        'bufferTensors': buffers,
        'exported': {
            'exporter': exported['exporter'],
            'opset': exported['opset'],
            'altered': exported['altered'],
            'initializers': [i['name'] for i in info['initializers']],
        },
        'inputs': [
            dict(name=f'input_{k}', **save_array(t, out_dir, f'{name}.input-{k}')) for k, t in enumerate(inputs)
        ],
        'outputs': [
            dict(name=f'output_{k}', **save_array(t, out_dir, f'{name}.output-{k}')) for k, t in enumerate(outputs)
        ],
    }
    with open(os.path.join(out_dir, f'{name}.truth.json'), 'w') as fh:
        json.dump(result, fh, indent=2)
        fh.write('\n')
    return result


def plain(name, out_dir):
    """A plain torch.onnx.export of the model (eval mode, the exporter's defaults: constant folding on, so
    BatchNormalization folded into Conv, transposed `onnx::MatMul_N` weight copies, value-merged initializers),
    with the helper's manifest attached afterwards. Writes OUT_DIR/NAME.plain.onnx and NAME.plain.json (the
    initializers the file holds)."""
    if name not in MODELS:
        raise KeyError(f'unknown model {name!r}; known: {", ".join(MODELS)}')
    factory, inputs_factory = MODELS[name]
    os.makedirs(out_dir, exist_ok=True)
    torch.manual_seed(0)
    model = factory()
    torch.manual_seed(1)
    inputs = tuple(inputs_factory())
    model.eval()
    onnx_file = f'{name}.plain.onnx'
    path = os.path.join(out_dir, onnx_file)
    torch.onnx.export(model, inputs, path)
    man = pt.manifest(model)
    pt.attach(path, man)
    info = pt.inspect_onnx(path)
    result = {
        'name': name,
        'onnx': onnx_file,
        'initializers': [{'name': i['name'], 'dims': i['dims']} for i in info['initializers'] if not i['graph']],
        'manifest': [t['name'] for t in man['tensors']],
    }
    with open(os.path.join(out_dir, f'{name}.plain.json'), 'w') as fh:
        json.dump(result, fh, indent=2)
        fh.write('\n')
    return result


def main(argv):
    usage = 'usage: torch_truth.py NAME|all OUT_DIR [--plain NAME[,NAME...]]'
    plain_names = []
    if '--plain' in argv:
        k = argv.index('--plain')
        if k + 1 >= len(argv):
            print(usage, file=sys.stderr)
            return 2
        plain_names = [n for n in argv[k + 1].split(',') if n]
        argv = argv[:k] + argv[k + 2 :]
    if len(argv) != 2:
        print(usage, file=sys.stderr)
        return 2
    name, out_dir = argv
    names = list(MODELS) if name == 'all' else [name]
    try:
        for n in plain_names:
            r = plain(n, out_dir)
            print(f'{n} (plain export): initializers {", ".join(i["name"] for i in r["initializers"])}')
        skipped = 0
        for n in names:
            try:
                r = truth(n, out_dir)
            except ImportError as err:  # e.g. torchvision for resnet18
                if name != 'all':
                    raise
                # With `all`, one model's missing package skips that model only: NAME.skip says why.
                skipped += 1
                with open(os.path.join(out_dir, f'{n}.skip'), 'w') as fh:
                    fh.write(f'{err}\n')
                print(f'torch_truth: skip {n}: {err}', file=sys.stderr)
                continue
            shared = ', '.join(f'{s["name"]} x{s["calls"]}' for s in r['shared']) or 'none'
            unused = ', '.join(u['name'] for u in r['unused']) or 'none'
            print(
                f'{n}: declared {r["declared"]:,} unique {r["unique"]:,} summary {r["summary"]:,} '
                f'buffers {r["buffers"]:,}; shared: {shared}; unused: {unused}'
            )
    except ImportError as err:  # e.g. torchvision for resnet18
        print(f'torch_truth: skip: {err}', file=sys.stderr)
        return 3
    except Exception as err:
        print(f'torch_truth: error: {type(err).__name__}: {err}', file=sys.stderr)
        return 2
    return 0

if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
