#!/usr/bin/env python3
"""The zoo sweep: every torchvision classification model and a few torch.nn models, each exported twice (a plain
torch.onnx.export and python/paramtrace_torch.py's faithful export with its manifest), analyzed by paramtrace with
a trace, and scored against PyTorch's own truth. Takes minutes to hours; not part of `npm test`. See docs/zoo.md.

    python3 scripts/zoo.py [--only NAME,NAME] [--slice N] [--python PATH] [--json OUT.json] [--markdown OUT.md]
                           [--jobs N] [--max-params N] [--init trained|fresh] [--keep] [--work DIR] [--list]
    python3 scripts/zoo.py --render OUT.json [MORE.json ...] [--markdown OUT.md]
    npm run zoo -- [the same options]

PyTorch's truth (test/support/torch_truth.py's measure(), on the eager model, eval mode, seeded):
declared = sum of numel of parameters(); unique = numel of the parameters that get a .grad from backward() of the
sum of the outputs; calls per parameter from forward hooks (each call of the module that owns it directly; a used
parameter no hooked call owns counts one call); summary = sum of numel x calls; shared = calls >= 2; unused =
declared but not used.

Each model is exported (its input saved as .npy, input names input_0, input_1, ...):
- helper: paramtrace_torch.export() (TorchScript exporter, no folding or fusion, manifest embedded);
- plain:  torch.onnx.export(model, inputs, f, input_names=...) with the exporter's defaults (eval mode, constant
          folding on; dynamo=False on PyTorch 2.x, as test/support/torch_truth.py's plain()), no manifest.
and analyzed with `tsx src/cli/main.ts analyze FILE --json --input-file input_K=FILE.npy` (traced with the very
input PyTorch's truth was measured on; a failed trace falls back to static and is scored as not traced).

Scores per model:
- helper exact: declared, unique and summary equal PyTorch's, and the shared and unused parameter names agree.
- plain exact: declared, unique and summary equal PyTorch's. explained: each count that differs differs by a
  number the report's notes state (one number, or the sum of numbers stated in two different notes; the matching
  notes are recorded). unexplained: otherwise.
- false shared: a shared finding of the plain report whose tensor is no parameter PyTorch calls 2+ times (tensors
  are matched to PyTorch's by name, else by value, as stored or 2-D transposed; BatchNorm-folded or other generated
  tensors match none).
- traced: trace.mode is 'onnxruntime' in both reports.

A model the PyTorch of --python cannot export (swin_v2_* on 1.13: its TorchScript exporter has no aten::zero) is
measured again, truth and both exports, with --fallback-python (default .cache/torch2/bin/python, the PyTorch 2.x
venv of scripts/setup-torch2.sh, when it exists); its row names that PyTorch.

Models over --max-params declared parameters (default 150M) are skipped and listed as skipped. Work files go to
.cache/zoo/ (git-ignored); ONNX files are deleted after each model unless --keep. Exit status 0 when every model
run is helper exact, plain exact-or-explained, free of false shared findings and traced; 1 otherwise; 2 on a usage
or setup error.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
WORK = os.path.join(ROOT, '.cache', 'zoo')
TSX = os.path.join(ROOT, 'node_modules', '.bin', 'tsx')
CLI = os.path.join(ROOT, 'src', 'cli', 'main.ts')
DEFAULT_PYTHON = '/usr/bin/python3'
# scripts/setup-torch2.sh's PyTorch 2.x: exports what 1.13's TorchScript exporter cannot.
DEFAULT_FALLBACK = os.path.join(ROOT, '.cache', 'torch2', 'bin', 'python')

# --------------------------------------------------------------------------------------------------------------
# Models (imported in the worker only: the driver needs no PyTorch)

NN_MODELS = [
    'nn.transformer',
    'nn.lstm_stack',
    'nn.gru_stack',
    'nn.attention_block',
    'nn.tied_lm',
    'nn.tied_embedding',
    'nn.unused_module',
    'nn.repeated_layer',
    'nn.lstm_attention',
    'nn.scripted_if',
]

# Input sides other than 224 (inception_v3 is built for 299).
IMAGE_SIDE = {'inception_v3': 299}


def nn_models():
    """name -> (factory, inputs factory). Some from test/support/torch_models.py, the rest defined here."""
    import torch
    import torch.nn as nn
    import torch_models as tm

    class Transformer(nn.Module):
        """A small nn.Transformer (2 encoder, 2 decoder layers, d_model 32)."""

        def __init__(self):
            super().__init__()
            self.t = nn.Transformer(
                d_model=32, nhead=4, num_encoder_layers=2, num_decoder_layers=2, dim_feedforward=64
            )

        def forward(self, src, tgt):
            return self.t(src, tgt)

    class LstmStack(nn.Module):
        """A 2-layer LSTM and a Linear head."""

        def __init__(self):
            super().__init__()
            self.lstm = nn.LSTM(16, 32, num_layers=2)
            self.head = nn.Linear(32, 4)

        def forward(self, x):
            h, _ = self.lstm(x)
            return self.head(h)

    class GruStack(nn.Module):
        """A 2-layer bidirectional GRU and a Linear head."""

        def __init__(self):
            super().__init__()
            self.gru = nn.GRU(16, 32, num_layers=2, bidirectional=True)
            self.head = nn.Linear(64, 4)

        def forward(self, x):
            h, _ = self.gru(x)
            return self.head(h)

    class AttentionBlock(nn.Module):
        """A pre-norm transformer block: LayerNorm, MultiheadAttention (batch_first), LayerNorm, MLP."""

        def __init__(self):
            super().__init__()
            self.norm1 = nn.LayerNorm(32)
            self.attn = nn.MultiheadAttention(32, 4, batch_first=True)
            self.norm2 = nn.LayerNorm(32)
            self.mlp = nn.Sequential(nn.Linear(32, 64), nn.GELU(), nn.Linear(64, 32))

        def forward(self, x):
            h = self.norm1(x)
            x = x + self.attn(h, h, h, need_weights=False)[0]
            return x + self.mlp(self.norm2(x))

    class TiedLM(nn.Module):
        """Embedding -> LSTM -> Linear head whose weight is the embedding's (a tied LM head)."""

        def __init__(self):
            super().__init__()
            self.emb = nn.Embedding(100, 32)
            self.rnn = nn.LSTM(32, 32, batch_first=True)
            self.head = nn.Linear(32, 100)
            self.head.weight = self.emb.weight

        def forward(self, tokens):
            h, _ = self.rnn(self.emb(tokens))
            return self.head(h)

    def tokens(n):
        return lambda: (torch.randint(0, 100, (1, n), dtype=torch.int64),)

    own = {
        'nn.transformer': (Transformer, lambda: (torch.randn(10, 1, 32), torch.randn(7, 1, 32))),
        'nn.lstm_stack': (LstmStack, lambda: (torch.randn(5, 1, 16),)),
        'nn.gru_stack': (GruStack, lambda: (torch.randn(5, 1, 16),)),
        'nn.attention_block': (AttentionBlock, lambda: (torch.randn(1, 10, 32),)),
        'nn.tied_lm': (TiedLM, tokens(12)),
    }
    for short in ('tied_embedding', 'unused_module', 'repeated_layer', 'lstm_attention', 'scripted_if'):
        own[f'nn.{short}'] = tm.MODELS[short]
    return own


def torchvision_names():
    import torchvision

    if hasattr(torchvision.models, 'list_models'):
        return sorted(torchvision.models.list_models(module=torchvision.models))
    # Before 0.14: the lower-case builders of torchvision.models (classification only: no sub-packages).
    import inspect

    return sorted(
        n
        for n, f in vars(torchvision.models).items()
        if inspect.isfunction(f) and n.islower() and not n.startswith('_') and n not in ('get_weight', 'get_model')
    )


# Small, varied torchvision models first, so that `--slice N` (CI) runs quick, representative ones; then the rest
# in alphabetical order.
FIRST_TORCHVISION = ['resnet18', 'mobilenet_v3_small', 'squeezenet1_1', 'googlenet', 'shufflenet_v2_x0_5',
                     'efficientnet_b0', 'densenet121', 'regnet_y_400mf', 'mnasnet0_5', 'inception_v3']


def all_names():
    tv = torchvision_names()
    first = [n for n in FIRST_TORCHVISION if n in tv]
    return NN_MODELS + first + [n for n in tv if n not in first]


def build(name):
    """(model, inputs factory, eager twin) for a model name, built with seed 0."""
    import torch

    torch.manual_seed(0)
    if name.startswith('nn.'):
        factory, inputs = nn_models()[name]
        model = factory()
    else:
        import torchvision

        model = getattr(torchvision.models, name)(weights=None)
        side = IMAGE_SIDE.get(name, 224)
        inputs = lambda: (torch.randn(1, 3, side, side),)  # noqa: E731
    from torch_models import eager_twin

    return model, inputs, eager_twin(model)


# --------------------------------------------------------------------------------------------------------------
# The worker: one model, in its own process


def run_cli(onnx_path, inputs, out_json, log):
    args = [TSX, CLI, 'analyze', onnx_path, '--json', '--output', out_json, '--trace-timeout', '1800']
    for k, path in enumerate(inputs):
        args += ['--input-file', f'input_{k}={path}']
    t0 = time.time()
    r = subprocess.run(args, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    seconds = time.time() - t0
    with open(log, 'a') as fh:
        fh.write(f'$ {" ".join(args)}\nexit {r.returncode} after {seconds:.1f}s\n{r.stderr}\n')
    if r.returncode != 0 or not os.path.exists(out_json):
        raise RuntimeError(f'paramtrace analyze exited {r.returncode}: {r.stderr.strip()[-1500:]}')
    with open(out_json) as fh:
        return json.load(fh), seconds


def value_map(onnx_path, named):
    """Plain file's initializer name -> PyTorch canonical name (by name, else equal values as stored or 2-D
    transposed), or None. `named`: [(canonical name, aliases, tensor)]."""
    import numpy as np
    import onnx
    from onnx import numpy_helper

    by_name = {}
    by_shape = {}
    for canon, aliases, t in named:
        arr = t.detach().cpu().numpy()
        for n in [canon, *aliases]:
            by_name[n] = canon
        by_shape.setdefault(tuple(arr.shape), []).append((canon, arr))
        if arr.ndim == 2:
            by_shape.setdefault(tuple(arr.shape[::-1]), []).append((canon, arr.T))
    model = onnx.load(onnx_path)
    out = {}
    constants = list(model.graph.initializer)
    for node in model.graph.node:
        if node.op_type == 'Constant':
            for a in node.attribute:
                if a.name == 'value' and a.t is not None:
                    t = onnx.TensorProto()
                    t.CopyFrom(a.t)
                    t.name = node.output[0]
                    constants.append(t)
    for init in constants:
        if init.name in by_name:
            out[init.name] = by_name[init.name]
            continue
        out[init.name] = None
        try:
            arr = numpy_helper.to_array(init)
        except Exception:
            continue
        if arr.size < 2:
            continue
        for canon, ref in by_shape.get(tuple(arr.shape), []):
            if ref.dtype == arr.dtype and np.array_equal(ref, arr):
                out[init.name] = canon
                break
    return out


def worker(name, out_dir, max_params, init, keep):
    sys.path.insert(0, os.path.join(ROOT, 'test', 'support'))
    import warnings

    warnings.filterwarnings('ignore')
    import numpy
    import torch
    import torch_truth as tt

    t_start = time.time()
    os.makedirs(out_dir, exist_ok=True)
    log = os.path.join(out_dir, 'log.txt')
    result = {'name': name, 'torch': str(torch.__version__)}
    try:
        import torchvision

        result['torchvision'] = str(torchvision.__version__)
    except ImportError:
        pass

    model, inputs_factory, eager = build(name)
    declared_all = sum(p.numel() for p in eager.parameters())
    result['declared'] = int(declared_all)
    if max_params is not None and declared_all > max_params:
        result['status'] = 'skipped'
        result['why'] = f'{declared_all:,} declared parameters > --max-params {max_params:,}'
        return result
    if init == 'trained':
        tt.trained_like(eager)
    model.eval()
    eager.eval()
    torch.manual_seed(1)
    inputs = tuple(inputs_factory())

    # PyTorch's truth.
    params, used, calls = tt.measure(eager, inputs)
    numel = {n: int(p.numel()) for n, p in params}
    truth = {
        'declared': sum(numel.values()),
        'unique': sum(numel[n] for n in used),
        'summary': sum(numel[n] * calls[n] for n in numel),
        'shared': sorted(n for n in numel if calls[n] >= 2),
        'unused': sorted(n for n in numel if n not in used),
    }
    truth['calls'] = {n: calls[n] for n in truth['shared']}
    truth['numel'] = numel
    owners = {}
    for mname, m in eager.named_modules():
        for pname, _ in m.named_parameters(recurse=False):
            owners.setdefault(f'{mname}.{pname}' if mname else pname, f'{type(m).__name__}.{pname}')
    truth['kinds'] = {n: owners.get(n, '?') for n in numel}
    result['truth'] = truth

    input_files = []
    for k, t in enumerate(inputs):
        path = os.path.join(out_dir, f'input_{k}.npy')
        numpy.save(path, t.detach().cpu().numpy())
        input_files.append(path)
    input_names = [f'input_{k}' for k in range(len(inputs))]

    # The helper's export.
    helper_path = os.path.join(out_dir, 'helper.onnx')
    t0 = time.time()
    try:
        man = tt.pt.export(model, inputs, helper_path, input_names=input_names)
        result['helperExport'] = {'exporter': man['exporter'], 'opset': man['opset'], 'altered': man['altered']}
    except Exception as err:
        result['helperExport'] = {'error': f'{type(err).__name__}: {str(err)[:1500]}'}
    result['helperExportSeconds'] = round(time.time() - t0, 1)

    # The plain export.
    plain_path = os.path.join(out_dir, 'plain.onnx')
    t0 = time.time()
    try:
        extra = {'dynamo': False} if 'dynamo' in tt.pt._export_parameters() else {}
        # As a user calls it (no torch.no_grad(): under it, 1.13's MultiheadAttention takes its fast path,
        # aten::_native_multi_head_attention, which the exporter cannot export).
        torch.onnx.export(model, inputs, plain_path, input_names=input_names, **extra)
        result['plainExport'] = {'opset': tt.pt.inspect_onnx(plain_path)['opset']}
    except Exception as err:
        result['plainExport'] = {'error': f'{type(err).__name__}: {str(err)[:1500]}'}
    result['plainExportSeconds'] = round(time.time() - t0, 1)

    named = []
    man = tt.pt.manifest(model)
    aliases = {t['name']: t['aliases'] for t in man['tensors']}
    for n, p in params:
        named.append((n, aliases.get(n, []), p))
    plain_names = {}
    if 'error' not in result['plainExport']:
        try:
            plain_names = value_map(plain_path, named)
        except Exception as err:
            result['plainExport']['mapError'] = f'{type(err).__name__}: {err}'
    del model, eager, params, named

    # paramtrace on both files.
    for kind, path in (('helper', helper_path), ('plain', plain_path)):
        if 'error' in result[f'{kind}Export']:
            continue
        try:
            report, seconds = run_cli(path, input_files, os.path.join(out_dir, f'{kind}.report.json'), log)
        except Exception as err:
            result[kind] = {'error': str(err)[:2000]}
            continue
        result[kind] = summarize(report, seconds)
    result['helperScore'] = score_helper(truth, result.get('helper'))
    result['plainScore'] = score_plain(truth, result.get('plain'), plain_names)
    result['traced'] = {
        kind: (result.get(kind) or {}).get('trace') == 'onnxruntime' for kind in ('helper', 'plain')
    }
    result['status'] = 'done'
    result['finished'] = time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())
    result['srcHash'] = src_hash()
    if not keep:
        for path in (helper_path, plain_path):
            if os.path.exists(path):
                os.remove(path)
    result['seconds'] = round(time.time() - t_start, 1)
    return result


def src_hash():
    """A short hash of src/ as it is now (the sweep may run while src/ changes: rows with different hashes
    were measured with different analyzers)."""
    import hashlib

    h = hashlib.sha256()
    for base, dirs, files in sorted(os.walk(os.path.join(ROOT, 'src'))):
        dirs.sort()
        for f in sorted(files):
            path = os.path.join(base, f)
            h.update(os.path.relpath(path, ROOT).encode() + b'\0')
            with open(path, 'rb') as fh:
                h.update(fh.read())
    return h.hexdigest()[:12]


def summarize(report, seconds):
    trace = report['trace']
    return {
        'source': report['source'],
        'trace': trace['mode'],
        'traceError': trace.get('error'),
        'declared': report['counts']['declared'],
        'unique': report['counts']['unique'],
        'summary': report['counts']['summary'],
        'shared': [{'name': s['name'], 'numel': s['numel'], 'calls': s['calls']} for s in report['shared']],
        'unused': [{'name': u['name'], 'numel': u['numel'], 'reason': u['reason']} for u in report['unused']],
        'duplicates': report.get('duplicates', []),
        'valueMerged': [{'name': v['name'], 'numel': v['numel']} for v in report.get('valueMerged', [])],
        'differences': report.get('differences', []),
        'notes': report['notes'],
        'parameters': [{'name': p['name'], 'numel': p['numel'], 'used': p['used']} for p in report['parameters']],
        'analyzeSeconds': round(seconds, 1),
    }


COUNTS = ('declared', 'unique', 'summary')


def score_helper(truth, rep):
    if rep is None or 'error' in rep:
        return {'exact': False, 'why': ['no report' if rep is None else 'analyze failed']}
    why = []
    for c in COUNTS:
        if rep[c] != truth[c]:
            why.append(f'{c} {rep[c]:,} vs PyTorch {truth[c]:,} ({rep[c] - truth[c]:+,})')
    shared = sorted(s['name'] for s in rep['shared'])
    if shared != truth['shared']:
        extra = sorted(set(shared) - set(truth['shared']))
        missing = sorted(set(truth['shared']) - set(shared))
        why.append(f'shared differs: extra {extra}, missing {missing}')
    unused = sorted(u['name'] for u in rep['unused'])
    if unused != truth['unused']:
        extra = sorted(set(unused) - set(truth['unused']))
        missing = sorted(set(truth['unused']) - set(unused))
        why.append(f'unused differs: extra {extra}, missing {missing}')
    return {'exact': not why, 'why': why}


def score_plain(truth, rep, names):
    """Plain export: every count equal to PyTorch's, or explained. Explained means the report's own
    `differences` (docs/counting.md: how much higher PyTorch's counts are, min..max per cause) add up to the
    difference, count by count; what remains of declared alone may be PyTorch's unused parameters, which a
    plain export drops and the report says it cannot see ("dropped"): checked against PyTorch's own list."""
    if rep is None or 'error' in rep:
        return {'status': 'error', 'why': ['no report' if rep is None else 'analyze failed'], 'falseShared': []}
    gaps = rep.get('differences', [])
    dropped = sum(truth['numel'][n] for n in truth['unused']) if 'numel' in truth else 0
    diffs = {}
    unexplained = False
    for c in COUNTS:
        delta = truth[c] - rep[c]  # how much higher PyTorch's count is
        if delta == 0:
            continue
        lo = sum(g[c]['min'] for g in gaps)
        hi = sum(g[c]['max'] for g in gaps)
        how = None
        if lo <= delta <= hi:
            how = {'differences': [g['cause'] for g in gaps if g[c]['min'] or g[c]['max']], 'range': [lo, hi]}
        elif c == 'declared' and lo <= delta - dropped <= hi and dropped > 0:
            how = {'differences': [g['cause'] for g in gaps if g[c]['min'] or g[c]['max']] + ['dropped-unused'],
                   'range': [lo + dropped, hi + dropped]}
        diffs[c] = {'paramtrace': rep[c], 'pytorch': truth[c], 'delta': rep[c] - truth[c], 'explainedBy': how}
        if how is None:
            unexplained = True
    false_shared = []
    for s_ in rep['shared']:
        canon = names.get(s_['name'], s_['name'] if s_['name'] in truth['calls'] else None)
        if canon is None or canon not in truth['calls']:
            false_shared.append({**s_, 'pytorch': canon, 'pytorchCalls': None if canon is None else 1})
    found = {names.get(s_['name'], s_['name']) for s_ in rep['shared']}
    missed = [n for n in truth['shared'] if n not in found]
    status = 'exact' if not diffs else ('unexplained' if unexplained else 'explained')
    return {'status': status, 'diffs': diffs, 'falseShared': false_shared, 'missedShared': missed,
            'diagnosis': diagnose(truth, rep, names)}


def diagnose(truth, rep, names):
    """Where the plain report's declared count parts from PyTorch's, tensor by tensor: the report's parameters
    that are no PyTorch parameter (generated: BatchNorm folded into a Conv bias, ...), and PyTorch's parameters
    the report does not hold, used ones (transformed by the export: BatchNorm weight and bias folded away, ...) and
    unused ones (dropped by the exporter). declared delta = generated - missingUsed - missingUnused when every
    tensor is counted once."""
    if not names or 'parameters' not in rep or 'numel' not in truth:
        return None
    numel = truth['numel']
    held = set()
    generated = []
    for p in rep['parameters']:
        canon = names.get(p['name'], p['name'] if p['name'] in numel else None)
        if canon is None or canon not in numel:
            generated.append(p)
        else:
            held.add(canon)
    unused = set(truth['unused'])
    missing_used = [n for n in numel if n not in held and n not in unused]
    missing_unused = [n for n in numel if n not in held and n in unused]
    kinds = truth.get('kinds', {})

    def by_kind(missing):
        out = {}
        for n in missing:
            k = kinds.get(n, '?')
            out[k] = out.get(k, 0) + numel[n]
        return out

    d = {
        'generated': {'count': len(generated), 'numel': sum(p['numel'] for p in generated),
                      'examples': [p['name'] for p in generated[:4]]},
        'missingUsed': {'count': len(missing_used), 'numel': sum(numel[n] for n in missing_used),
                        'examples': missing_used[:4], 'byKind': by_kind(missing_used)},
        'missingUnused': {'count': len(missing_unused), 'numel': sum(numel[n] for n in missing_unused),
                          'examples': missing_unused[:4], 'byKind': by_kind(missing_unused)},
    }
    d['accounts'] = d['generated']['numel'] - d['missingUsed']['numel'] - d['missingUnused']['numel'] == (
        rep['declared'] - truth['declared']
    )
    return d


# --------------------------------------------------------------------------------------------------------------
# The driver


def fmt_n(n):
    if n is None:
        return '-'
    if n >= 1e6:
        return f'{n / 1e6:.2f}M'
    if n >= 1e3:
        return f'{n / 1e3:.1f}k'
    return str(n)


def export_error(r):
    """The export error of a worker's result, or None."""
    if r.get('status') != 'done':
        return None
    for side in ('helperExport', 'plainExport'):
        if 'error' in r.get(side, {}):
            return r[side]['error']
    return None


def row(r):
    """[model, declared, helper, plain, false shared, traced, seconds]."""
    name = r['name'] + (f' (PyTorch {r["torch"]})' if r.get('fallbackFrom') and r.get('torch') else '')
    if r['status'] == 'skipped':
        return [name, fmt_n(r.get('declared')), 'skipped', r['why'], '', '', '']
    if r['status'] == 'error':
        return [name, fmt_n(r.get('declared')), 'ERROR', r['error'][:160].replace('\n', ' '), '', '', '']
    hs = r['helperScore']
    if 'error' in r['helperExport']:
        helper = 'EXPORT FAILED'
    else:
        helper = 'exact' if hs['exact'] else 'NOT EXACT: ' + '; '.join(hs['why'])
    ps = r['plainScore']
    if 'error' in r['plainExport']:
        plain = 'EXPORT FAILED'
    elif ps['status'] in ('exact', 'error'):
        plain = ps['status'] if ps['status'] == 'exact' else 'ANALYZE FAILED'
    else:
        parts = []
        for c, d in ps['diffs'].items():
            how = d['explainedBy']
            mark = ('by ' + '+'.join(how['differences'])) if how else 'UNACCOUNTED'
            parts.append(f'{c} {d["delta"]:+,} {mark}')
        plain = ('explained: ' if ps['status'] == 'explained' else 'UNEXPLAINED: ') + ', '.join(parts)
        d = ps.get('diagnosis')
        if d and ps['status'] == 'unexplained':
            found = [f'{k} {s:+,} ({d[key]["count"]})' for k, key, s in (
                ('generated', 'generated', d['generated']['numel']),
                ('PyTorch-used missing', 'missingUsed', -d['missingUsed']['numel']),
                ('unused dropped', 'missingUnused', -d['missingUnused']['numel'])) if d[key]['count']]
            plain += ' [' + ', '.join(found) + ']'
    fs = ps.get('falseShared', [])
    false_shared = ', '.join(f'{s["name"]} x{s["calls"]}' for s in fs[:3]) + (f' (+{len(fs) - 3})' if len(fs) > 3 else '')
    traced = r['traced']
    t = 'yes' if all(traced.values()) else ('NO: ' + ', '.join(k for k, v in traced.items() if not v))
    return [name, fmt_n(r['truth']['declared']), helper, plain, false_shared or 'none', t, f'{r["seconds"]:.0f}']


HEADER = ['model', 'declared', 'helper', 'plain', 'false shared', 'traced', 's']


def markdown(results, meta):
    lines = ['| ' + ' | '.join(HEADER) + ' |', '| ' + ' | '.join('---' for _ in HEADER) + ' |']
    for r in results:
        lines.append('| ' + ' | '.join(c.replace('|', '\\|') for c in row(r)) + ' |')
    return '\n'.join(lines) + '\n\n' + totals_text(results, meta) + '\n'


def totals(results):
    done = [r for r in results if r['status'] == 'done']
    t = {
        'models': len(results),
        'run': len(done),
        'skipped': [r['name'] for r in results if r['status'] == 'skipped'],
        'errors': [r['name'] for r in results if r['status'] == 'error'],
        'helperExact': sum(1 for r in done if r['helperScore']['exact']),
        'plainExact': sum(1 for r in done if r['plainScore']['status'] == 'exact'),
        'plainExplained': sum(1 for r in done if r['plainScore']['status'] == 'explained'),
        'falseShared': [r['name'] for r in done if r['plainScore'].get('falseShared')],
        'traced': sum(1 for r in done if all(r['traced'].values())),
        'exportFailed': [r['name'] for r in done
                         if 'error' in r['helperExport'] or 'error' in r['plainExport']],
        'notHelperExact': [r['name'] for r in done if not r['helperScore']['exact']],
        'plainUnexplained': [r['name'] for r in done if r['plainScore']['status'] not in ('exact', 'explained')],
        'notTraced': [r['name'] for r in done if not all(r['traced'].values())],
    }
    t['ok'] = (
        not t['errors']
        and t['helperExact'] == t['run']
        and t['plainExact'] + t['plainExplained'] == t['run']
        and not t['falseShared']
        and t['traced'] == t['run']
    )
    return t


def totals_text(results, meta):
    t = totals(results)
    n = t['run']
    lines = [
        f'Models: {t["models"]} ({n} run, {len(t["skipped"])} skipped, {len(t["errors"])} errors); '
        f'{meta.get("torch", "?")} / torchvision {meta.get("torchvision", "?")}; {meta.get("seconds", 0) / 60:.1f} min',
        f'helper exact:               {t["helperExact"]}/{n}',
        f'plain exact or explained:   {t["plainExact"] + t["plainExplained"]}/{n} '
        f'({t["plainExact"]} exact, {t["plainExplained"]} explained)',
        f'false shared findings:      {len(t["falseShared"])} model(s)'
        + (f': {", ".join(t["falseShared"])}' if t['falseShared'] else ''),
        f'traced (both files):        {t["traced"]}/{n}',
    ]
    for key, label in (('exportFailed', 'export failed'), ('notHelperExact', 'helper not exact'),
                       ('plainUnexplained', 'plain unexplained'), ('notTraced', 'not traced')):
        if t[key]:
            lines.append(f'{label}: {", ".join(t[key])}')
    if t['skipped']:
        lines.append(
            'skipped (over --max-params): '
            + ', '.join(f'{r["name"]} ({fmt_n(r["declared"])})' for r in results if r['status'] == 'skipped')
        )
    if t['errors']:
        lines.append('errors: ' + ', '.join(t['errors']))
    fell_back = [r for r in results if r.get('fallbackFrom')]
    if fell_back:
        lines.append(
            'measured with the fallback PyTorch (the first could not export them): '
            + ', '.join(f'{r["name"]} (PyTorch {r.get("torch", "?")})' for r in fell_back)
        )
    return '\n'.join(lines)


def run_worker(python, name, args):
    out_dir = os.path.join(WORK, re.sub(r'[^\w.-]', '_', name))
    if os.path.isdir(out_dir):
        shutil.rmtree(out_dir)
    os.makedirs(out_dir)
    cmd = [python, os.path.abspath(__file__), '--worker', name, '--init', args.init, '--work', WORK]
    if args.max_params is not None:
        cmd += ['--max-params', str(args.max_params)]
    if args.keep:
        cmd.append('--keep')
    t0 = time.time()
    with open(os.path.join(out_dir, 'worker.log'), 'w') as log:
        r = subprocess.run(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=log, text=True)
    path = os.path.join(out_dir, 'result.json')
    if r.returncode == 0 and os.path.exists(path):
        with open(path) as fh:
            return json.load(fh)
    with open(os.path.join(out_dir, 'worker.log')) as fh:
        tail = fh.read()[-1500:]
    return {'name': name, 'status': 'error', 'error': f'worker exited {r.returncode}: {tail.strip()}',
            'seconds': round(time.time() - t0, 1)}


def main(argv):
    ap = argparse.ArgumentParser(prog='zoo.py', description=__doc__.split('\n\n')[0])
    ap.add_argument('--only', help='comma-separated model names (see --list)')
    ap.add_argument('--slice', type=int, help='the first N models only (for CI)')
    ap.add_argument('--python', default=DEFAULT_PYTHON, help=f'the PyTorch interpreter (default {DEFAULT_PYTHON})')
    ap.add_argument('--json', help='write every result to this JSON file')
    ap.add_argument('--markdown', help='write the table and totals to this Markdown file')
    ap.add_argument('--fallback-python', default=None,
                    help='a second PyTorch interpreter for models the first cannot export (default '
                         f'{os.path.relpath(DEFAULT_FALLBACK, ROOT)} when it exists; "" for none)')
    ap.add_argument('--jobs', type=int, default=1, help='models run at once (default 1)')
    ap.add_argument('--max-params', type=float, default=150e6, help='skip models declaring more (default 150M; 0: no limit)')
    ap.add_argument('--init', choices=('trained', 'fresh'), default='trained',
                    help="trained (default): random values where a fresh model holds constants (BatchNorm ones/zeros, "
                         "zero biases, running statistics), as in a trained model; fresh: the builders' own init")
    ap.add_argument('--keep', action='store_true', help='keep the ONNX files under .cache/zoo/MODEL/')
    ap.add_argument('--work', help='work folder (default .cache/zoo)')
    ap.add_argument('--list', action='store_true', help='print the model names and exit')
    ap.add_argument('--render', nargs='+', metavar='JSON',
                    help='print the Markdown table of earlier --json outputs (a later file replaces a model\'s '
                         'earlier result) and exit; with --markdown, write it there')
    ap.add_argument('--worker', help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    global WORK
    if args.work:
        WORK = os.path.abspath(args.work)
    max_params = None if not args.max_params else int(args.max_params)

    if args.worker:
        sys.path.insert(0, os.path.join(ROOT, 'test', 'support'))
        out_dir = os.path.join(WORK, re.sub(r'[^\w.-]', '_', args.worker))
        try:
            result = worker(args.worker, out_dir, max_params, args.init, args.keep)
        except Exception as err:
            import traceback

            traceback.print_exc()
            result = {'name': args.worker, 'status': 'error', 'error': f'{type(err).__name__}: {err}'}
        with open(os.path.join(out_dir, 'result.json'), 'w') as fh:
            json.dump(result, fh, indent=1)
        return 0
    if args.list:
        print('\n'.join(all_names()))
        return 0
    if args.render:
        return render(args.render, args.markdown)

    if not os.path.exists(TSX):
        print(f'zoo: {TSX} is missing: run npm ci first', file=sys.stderr)
        return 2
    probe = subprocess.run(
        [args.python, os.path.abspath(__file__), '--list'], cwd=ROOT, capture_output=True, text=True
    )
    versions = subprocess.run(
        [args.python, '-c', 'import torch, torchvision, onnx; print(torch.__version__, torchvision.__version__)'],
        capture_output=True, text=True,
    )
    if probe.returncode != 0 or versions.returncode != 0:
        print(f'zoo: {args.python} cannot list the models (needs torch, torchvision, onnx, numpy):\n'
              f'{probe.stderr[-2000:]}{versions.stderr[-2000:]}', file=sys.stderr)
        return 2
    names = probe.stdout.split()
    if args.only:
        wanted = [n for n in args.only.split(',') if n]
        unknown = [n for n in wanted if n not in names]
        if unknown:
            print(f'zoo: unknown model(s) {", ".join(unknown)}; see --list', file=sys.stderr)
            return 2
        names = wanted
    if args.slice is not None:
        names = names[: args.slice]
    torch_v, tv_v = versions.stdout.split()
    fallback = args.fallback_python
    if fallback is None and os.path.exists(DEFAULT_FALLBACK) and os.path.abspath(args.python) != DEFAULT_FALLBACK:
        fallback = DEFAULT_FALLBACK
    meta = {'torch': f'PyTorch {torch_v}', 'torchvision': tv_v, 'python': args.python, 'init': args.init,
            'maxParams': max_params, 'command': ' '.join(['scripts/zoo.py', *argv])}
    os.makedirs(WORK, exist_ok=True)
    print(f'zoo: {len(names)} model(s), PyTorch {torch_v}, torchvision {tv_v} ({args.python}), '
          f'--init {args.init}, --max-params {fmt_n(max_params) if max_params else "none"}, --jobs {args.jobs}; '
          f'work files in {os.path.relpath(WORK, ROOT)}/', flush=True)
    print(' | '.join(HEADER), flush=True)

    t0 = time.time()
    results = {}
    lock = threading.Lock()

    def one(name):
        r = run_worker(args.python, name, args)
        failed = export_error(r)
        if failed and fallback:
            # A model this PyTorch cannot export (swin_v2 on 1.13: aten::zero) is measured whole (truth and both
            # exports) with the newer one, and its row says so.
            r = {**run_worker(fallback, name, args), 'fallbackFrom': {'python': args.python, 'error': failed[:500]}}
        with lock:
            results[name] = r
            print(' | '.join(row(r)), flush=True)
            if args.json:  # written as models finish, so a long run leaves what it measured
                dump(args.json, names, results, meta, t0)

    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        list(pool.map(one, names))
    meta['seconds'] = round(time.time() - t0, 1)
    ordered = [results[n] for n in names]
    print()
    print(totals_text(ordered, meta), flush=True)
    if args.json:
        dump(args.json, names, results, meta, t0)
    if args.markdown:
        with open(args.markdown, 'w') as fh:
            fh.write(markdown(ordered, meta))
    return 0 if totals(ordered)['ok'] else 1


def render(paths, out):
    merged, order, runs = {}, [], []
    for path in paths:
        with open(path) as fh:
            data = json.load(fh)
        runs.append(data)
        for r in data['results']:
            if r['name'] not in merged:
                order.append(r['name'])
            merged[r['name']] = r
    results = [merged[n] for n in order]
    meta = {k: runs[0].get(k) for k in ('torch', 'torchvision')}
    meta['seconds'] = sum(d.get('seconds', 0) for d in runs)
    text = markdown(results, meta)
    if out:
        with open(out, 'w') as fh:
            fh.write(text)
    else:
        sys.stdout.write(text)
    return 0


def dump(path, names, results, meta, t0):
    ordered = [results[n] for n in names if n in results]
    data = {**meta, 'seconds': round(time.time() - t0, 1), 'totals': totals(ordered), 'results': ordered}
    tmp = path + '.tmp'
    with open(tmp, 'w') as fh:
        json.dump(data, fh, indent=1)
    os.replace(tmp, path)


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
