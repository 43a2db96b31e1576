#!/usr/bin/env python3
"""Ground truth for one model of torch_models.MODELS: what PyTorch itself says, plus the exported ONNX file.

    PYTHON test/support/torch_truth.py NAME OUT_DIR      (NAME may be `all`)
    PYTHON test/support/torch_truth.py NAME OUT_DIR --plain NAME[,NAME...]

PYTHON is /usr/bin/python3 (Debian's PyTorch 1.13) or .cache/torch2/bin/python (PyTorch 2.x); both have torchvision.

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

`torch_truth.py --api` prints one JSON object: the helper's Python API exercised claim by claim (api_check()).

`torch_truth.py --torchvision OUT_DIR [NAME...]` measures torchvision's resnet18, mobilenet_v3_small and googlenet
(aux heads declared) and exports each with the default torch.onnx.export (dynamo) and with the helper, for
test/dynamo-torchvision.test.ts (torchvision_case()).

With --plain, also OUT_DIR/NAME.plain.onnx for each NAME listed: a plain torch.onnx.export (eval mode, constant
folding on) with the helper's manifest attached afterwards, and NAME.plain.json listing its initializers.

Names are PyTorch's canonical names (the first name named_parameters() gives).

Exit status: 0 done; 2 error; 3 skip (torch, or torchvision for resnet18, cannot be imported). With `all`, a model whose
package is missing (torchvision) is skipped alone: OUT_DIR/NAME.skip holds the reason and the others are written.
"""

from __future__ import annotations

import contextlib
import ctypes
import importlib.util
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import warnings

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
    """A plain TorchScript torch.onnx.export of the model (eval mode, the exporter's defaults: constant folding on, so
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
    # The TorchScript exporter's defaults on every version (2.9+ defaults to dynamo: ask for TorchScript).
    extra = {'dynamo': False} if 'dynamo' in pt._export_parameters() else {}
    with warnings.catch_warnings():
        warnings.simplefilter('ignore', DeprecationWarning)
        torch.onnx.export(model, inputs, path, **extra)
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


# torchvision models for test/dynamo-torchvision.test.ts (the 2.x world): name -> factory(torchvision module).
TORCHVISION = {
    'resnet18': lambda tv: tv.models.resnet18(weights=None),
    'mobilenet_v3_small': lambda tv: tv.models.mobilenet_v3_small(weights=None),
    # aux_logits=True: the two auxiliary heads are declared; forward calls them in training mode only.
    'googlenet': lambda tv: tv.models.googlenet(weights=None, aux_logits=True, init_weights=True),
}


def trained_like(model):
    """Random values where a fresh model holds constants, as in a trained model: BatchNorm's weight (ones) and bias
    (zeros), zero-initialised biases, and the running statistics (running_var in [0.5, 2)). The dynamo exporter's
    optimizer drops a Conv's or Gemm's all-zero bias, and a fresh BatchNorm folds into its Conv as an all-zero
    bias, dropped too: the graph of a fresh model would lack tensors a trained one keeps."""
    with torch.no_grad():
        for p in model.parameters():
            if p.numel() > 1 and bool((p == p.flatten()[0]).all()):
                p.normal_()
        for m in model.modules():
            if isinstance(m, torch.nn.modules.batchnorm._BatchNorm) and m.running_mean is not None:
                m.running_mean.normal_()
                m.running_var.uniform_(0.5, 2.0)


def torchvision_case(name, out_dir):
    """One torchvision model of TORCHVISION (eval mode, trained_like values, input 1x3x224x224), in one run:

    - PyTorch's truth, measured as for torch_models.MODELS (measure(): declared, .grad for used, hooks for calls);
    - NAME.dynamo.onnx: the default torch.onnx.export (PyTorch 2.9+: the dynamo exporter, its optimizer on),
      weights in NAME.dynamo.onnx.data beside it as the exporter writes them;
    - NAME.helper.onnx: python/paramtrace_torch.py's export (default route), manifest attached;
    - `graph`: what the dynamo file alone can show, derived from the model: only what forward uses is exported
      (PyTorch's unique: unused parameters, GoogLeNet's eval-mode aux heads, are dropped), and the optimizer folds
      each BatchNorm2d into the bias-free Conv2d before it (asserted here), its weight and bias (2 x C) becoming
      one Conv bias (C): graph = unique - sum(BN weight + bias) + sum(C), over the BatchNorms forward uses. No
      parameter is called twice (asserted), so that is declared, unique and summary-style of the file alike.

    Writes NAME.torchvision.json (the exporters print to stdout)."""
    import onnx
    import torchvision

    torch.manual_seed(0)
    model = TORCHVISION[name](torchvision)
    trained_like(model)
    model.eval()
    torch.manual_seed(1)
    inputs = (torch.randn(1, 3, 224, 224),)
    params, used, calls = measure(model, inputs)
    numel = {pname: int(p.numel()) for pname, p in params}
    if any(c >= 2 for c in calls.values()):
        raise AssertionError(f'{name}: a parameter is called twice: the graph figures below assume none is')
    declared = sum(numel.values())
    unique = sum(numel[n] for n in used)
    summary = sum(numel[n] * calls[n] for n in numel)
    unused = [n for n in numel if n not in used]

    modules = list(model.named_modules())
    folds = []
    for k, (mname, m) in enumerate(modules):
        if isinstance(m, torch.nn.BatchNorm2d):
            cname, conv = modules[k - 1]
            if not (isinstance(conv, torch.nn.Conv2d) and conv.bias is None and conv.out_channels == m.num_features):
                raise AssertionError(f'{name}: {mname} does not follow a bias-free Conv2d of {m.num_features} channels')
            folds.append(
                {
                    'batchNorm': mname,
                    'conv': cname,
                    'used': f'{mname}.weight' in used,
                    'bnParams': int(m.weight.numel() + m.bias.numel()),
                    'convBias': int(m.num_features),
                }
            )
    # GoogLeNet's auxiliary heads (aux_logits=True): declared, run in training mode only.
    aux = [m for m in (getattr(model, 'aux1', None), getattr(model, 'aux2', None)) if m is not None]
    aux_numel = sum(int(p.numel()) for m in aux for p in m.parameters())
    used_folds = [f for f in folds if f['used']]
    bn_params = sum(f['bnParams'] for f in used_folds)
    conv_biases = sum(f['convBias'] for f in used_folds)
    graph = unique - bn_params + conv_biases

    helper_file = f'{name}.helper.onnx'
    man = pt.export(model, inputs, os.path.join(out_dir, helper_file))
    dynamo_file = f'{name}.dynamo.onnx'
    torch.onnx.export(model, inputs, os.path.join(out_dir, dynamo_file))  # the default: dynamo on 2.9+
    exported = onnx.load(os.path.join(out_dir, dynamo_file), load_external_data=False)
    ops = [n.op_type for n in exported.graph.node]

    result = {
        'name': name,
        'torchVersion': str(torch.__version__),
        'torchvisionVersion': str(torchvision.__version__),
        'modelClass': type(model).__name__,
        'declared': declared,
        'unique': unique,
        'summary': summary,
        'shared': [n for n in numel if calls[n] >= 2],
        'unused': [{'name': n, 'numel': numel[n]} for n in unused],
        'dynamo': {
            'onnx': dynamo_file,
            'graph': graph,
            'auxHeads': aux_numel,
            'batchNorms': len(used_folds),
            'bnParams': bn_params,
            'convBiases': conv_biases,
            'batchNormalizationNodes': ops.count('BatchNormalization'),
            'convNodes': ops.count('Conv'),
        },
        'helper': {'onnx': helper_file, 'exporter': man['exporter'], 'altered': man['altered']},
    }
    with open(os.path.join(out_dir, f'{name}.torchvision.json'), 'w') as fh:
        json.dump(result, fh, indent=2)
        fh.write('\n')
    return result


def api_check():
    """The helper's Python API, claim by claim (python/README.md), in the PyTorch that runs this: a dict the
    helper tests assert on (test/helper-cli.test.ts). Models need no torchvision."""
    from torch_models import FreshBN, IfModel, SeedCase3, TiedEmbedding

    work = tempfile.mkdtemp(prefix='paramtrace-api-')
    out = {'torch': str(torch.__version__)}

    def err(fn):
        try:
            fn()
        except Exception as e:
            return f'{type(e).__name__}: {e}'
        return None

    def manifest_entries(path):
        b = memoryview(open(path, 'rb').read())
        n = 0
        for num, w, v, _, _ in pt._fields(b):
            if num == 14 and w == 2:
                for n2, w2, v2, _, _ in pt._fields(b, *v):
                    if n2 == 1 and w2 == 2 and pt._string(b, v2) == pt.MANIFEST_KEY:
                        n += 1
        return n

    torch.manual_seed(0)
    tied = TiedEmbedding()
    tokens = (torch.zeros(1, 8, dtype=torch.int64),)
    out['manifest'] = pt.manifest(tied)
    out['route'] = list(pt.choose_exporter())
    out['routeTorchscript'] = list(pt.choose_exporter(False))

    # export() to a binary file object; read_manifest / inspect_onnx on the bytes.
    buf = io.BytesIO()
    man = pt.export(tied, tokens, buf)
    data = buf.getvalue()
    info = pt.inspect_onnx(data)
    out['tied'] = {
        'exporter': man['exporter'],
        'opset': man['opset'],
        'settings': man['exportSettings'],
        'altered': man['altered'],
        'readBack': pt.read_manifest(data) == man,
        'initializers': [i['name'] for i in info['initializers']],
        'infoOpset': info['opset'],
    }

    # attach() replaces an old manifest: one entry after two attaches, the last one.
    path = os.path.join(work, 'tied.onnx')
    with open(path, 'wb') as fh:
        fh.write(data)
    pt.attach(path, {'format': 'old'})
    pt.attach(path, man)
    out['attach'] = {'entries': manifest_entries(path), 'same': pt.read_manifest(path) == man}

    # Fresh BatchNorm: no fusion, no folding, no value merging; eval-mode BatchNormalization; flags restored.
    torch.manual_seed(0)
    bn = FreshBN()
    bn.train()
    man = pt.export(bn, (torch.randn(1, 3, 16, 16),), os.path.join(work, 'bn.onnx'))
    info = pt.inspect_onnx(os.path.join(work, 'bn.onnx'))
    out['freshBn'] = {
        'altered': man['altered'],
        'initializers': [i['name'] for i in info['initializers']],
        'ops': sorted({n['opType'] for n in info['nodes']}),
        'bn': [
            [n['ints'].get('training_mode', 0), len([o for o in n['outputs'] if o])]
            for n in info['nodes']
            if n['opType'] == 'BatchNormalization'
        ],
        'trainingRestored': all(m.training for m in bn.modules()),
        'patches': man['exportSettings'].get('patches'),
    }

    # A caller's unfaithful setting is recorded in altered.
    torch.manual_seed(0)
    man = pt.export(SeedCase3(), (torch.randn(1, 1, 8, 8),), os.path.join(work, 's3.onnx'), do_constant_folding=True)
    out['override'] = man['altered']

    # A scripted module: If node, names kept.
    torch.manual_seed(0)
    scripted = torch.jit.script(IfModel())
    man = pt.export(scripted, (torch.rand(1, 8),), os.path.join(work, 'if.onnx'))
    info = pt.inspect_onnx(os.path.join(work, 'if.onnx'))
    out['scripted'] = {
        'exporter': man['exporter'],
        'altered': man['altered'],
        'modelClass': man['modelClass'],
        'initializers': sorted(i['name'] for i in info['initializers']),
        'hasIf': any(n['opType'] == 'If' for n in info['nodes']),
    }

    # dynamo=True: the dynamo route on 2.5+, an error naming the version before.
    torch.manual_seed(0)
    dyn = {}
    try:
        buf = io.BytesIO()
        man = pt.export(TiedEmbedding(), tokens, buf, dynamo=True)
        info = pt.inspect_onnx(buf.getvalue())
        dyn['tied'] = {
            'exporter': man['exporter'],
            'altered': man['altered'],
            'reason': man['exportSettings'].get('exporterReason'),
            'patches': man['exportSettings'].get('patches'),
            'initializers': sorted(i['name'] for i in info['initializers']),
            'readBack': pt.read_manifest(buf.getvalue()) == man,
        }
        torch.manual_seed(0)
        man = pt.export(
            FreshBN(), (torch.randn(1, 3, 16, 16),), os.path.join(work, 'bn-dyn.onnx'), dynamo=True,
            do_constant_folding=False,
        )
        n_init = len(pt.inspect_onnx(os.path.join(work, 'bn-dyn.onnx'))['initializers'])
        dyn['freshBn'] = {
            'altered': man['altered'],
            'initializers': n_init,
            'ignored': man['exportSettings'].get('ignored'),
            'settings': sorted(man['exportSettings']),
        }
        dyn['scripted'] = err(
            lambda: pt.export(scripted, (torch.rand(1, 8),), os.path.join(work, 'x.onnx'), dynamo=True)
        )
    except RuntimeError as e:
        dyn['error'] = str(e)
    out['dynamo'] = dyn

    # Without the TorchScript exporter (simulated): dynamo where it exists, else an error saying what to do.
    saved = pt._torchscript_exporter_available
    pt._torchscript_exporter_available = lambda: False
    try:
        out['noTorchscript'] = {
            'auto': err(lambda: pt.choose_exporter()) or list(pt.choose_exporter()),
            'torchscript': err(lambda: pt.choose_exporter(False)),
        }
    finally:
        pt._torchscript_exporter_available = saved

    # The de-duplication patch not reached (simulated: the exporter calls the pass unpatched): altered says so.
    @contextlib.contextmanager
    def unreached(record):
        record['available'] = True
        yield

    saved = pt._storage_only_dedup
    pt._storage_only_dedup = unreached
    try:
        torch.manual_seed(0)
        man = pt.export(FreshBN(), (torch.randn(1, 3, 16, 16),), os.path.join(work, 'bn-unpatched.onnx'))
        out['unreached'] = man['altered']
    finally:
        pt._storage_only_dedup = saved

    # The command line checks its arguments before importing PyTorch, and says in one line that it is missing.
    def cli_without_torch(*args):
        code = (
            "import runpy, sys; sys.modules['torch'] = None; sys.argv = ['paramtrace_torch.py'] + sys.argv[1:]; "
            f"runpy.run_path({pt.__file__!r}, run_name='__main__')"
        )
        r = subprocess.run([sys.executable, '-c', code, *args], capture_output=True, text=True, cwd=ROOT)
        return [r.returncode, r.stdout, r.stderr]

    out['noTorch'] = {
        'badSpec': cli_without_torch('--model', 'nocolon', '--input', '1x1', '-o', 'x.onnx'),
        'goodSpec': cli_without_torch('--model', 'test.support.torch_models:SeedCase3', '--input', '1x1', '-o', 'x.onnx'),
    }

    # A PyTorch older than 1.13 (simulated) is refused, naming the version.
    version = torch.__version__
    torch.__version__ = '1.12.1'
    try:
        out['old'] = err(lambda: pt.export(SeedCase3(), (torch.randn(1, 1, 8, 8),), os.path.join(work, 'old.onnx')))
    finally:
        torch.__version__ = version

    shutil.rmtree(work, ignore_errors=True)
    return out


def main(argv):
    usage = (
        'usage: torch_truth.py NAME|all OUT_DIR [--plain NAME[,NAME...]] | torch_truth.py --api'
        ' | torch_truth.py --torchvision OUT_DIR [NAME...]'
    )
    if argv == ['--api']:
        print(json.dumps(api_check()))
        return 0
    if argv[:1] == ['--torchvision']:
        if len(argv) < 2:
            print(usage, file=sys.stderr)
            return 2
        out_dir, names = argv[1], argv[2:] or list(TORCHVISION)
        os.makedirs(out_dir, exist_ok=True)
        try:
            for n in names:
                r = torchvision_case(n, out_dir)
                d = r['dynamo']
                print(
                    f'{n}: declared {r["declared"]:,} unique {r["unique"]:,} summary {r["summary"]:,}; '
                    f'dynamo graph {d["graph"]:,} ({d["batchNorms"]} BatchNorms folded)',
                    file=sys.stderr,
                )
        except ImportError as err:  # torchvision, onnx
            print(f'torch_truth: skip: {err}', file=sys.stderr)
            return 3
        except Exception as err:
            print(f'torch_truth: error: {type(err).__name__}: {err}', file=sys.stderr)
            return 2
        return 0
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
