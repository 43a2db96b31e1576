#!/usr/bin/env python3
"""paramtrace and its peers side by side, measured.

Runs, on the same PyTorch models, paramtrace (python/paramtrace_torch.py export + the paramtrace CLI with --json)
and the peer tools torchinfo, torchsummary, fvcore, thop and onnx-tool, and prints a Markdown report: for each
model and tool the total parameter count the tool reports against PyTorch's truth, what the tool says about shared
and unused layers, and its wall time; then the ratio of paramtrace's time to each peer's.

Truth, computed from the model itself:
  declared = sum(p.numel() for p in model.parameters())
  unique   = sum of numel over the parameters that have a .grad after one forward + backward (model in eval mode)

Run it in the bench venv (bash bench/setup-peers.sh makes it):

    .cache/peers/bin/python bench/peers.py [--models seed1,tied_lm,...] [--tools paramtrace,torchinfo,...]
        [--output bench/peers-results.md] [--keep DIR]

or `npm run -s bench:peers`. Every number printed comes from this run; a tool that fails on a model gets the
gist of its error in its cell. Timing is wall clock (time.perf_counter) of one run of each tool, model
construction and tool import excluded; each tool gets its own deep copy of the model, made before its clock
starts. The machine is small and shared: read the times as orders of magnitude.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import datetime
import importlib.metadata
import importlib.util
import io
import json
import logging
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
import warnings

import torch
import torch.nn as nn

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TOOLS = ['paramtrace', 'torchinfo', 'torchsummary', 'fvcore', 'thop', 'onnx-tool']


# ----------------------------------------------------------------------------------------------------------------
# Models


# The seed cases (docs/seed-cases.md) are the tests' own models.
sys.path.insert(0, os.path.join(REPO, 'test', 'support'))
from torch_models import SeedCase1, SeedCase2, SeedCase3  # noqa: E402


class Block(nn.Module):
    """A pre-norm transformer block of plain modules (q, k, v, o Linears; a two-Linear MLP)."""

    def __init__(self, dim=64, heads=4, hidden=128):
        super().__init__()
        self.heads = heads
        self.ln1 = nn.LayerNorm(dim)
        self.q = nn.Linear(dim, dim)
        self.k = nn.Linear(dim, dim)
        self.v = nn.Linear(dim, dim)
        self.o = nn.Linear(dim, dim)
        self.ln2 = nn.LayerNorm(dim)
        self.ff1 = nn.Linear(dim, hidden)
        self.ff2 = nn.Linear(hidden, dim)

    def forward(self, x):
        b, t, d = x.shape
        h = self.ln1(x)

        def split(y):
            return y.reshape(b, t, self.heads, d // self.heads).transpose(1, 2)

        q, k, v = split(self.q(h)), split(self.k(h)), split(self.v(h))
        att = torch.softmax(q @ k.transpose(-2, -1) / (d // self.heads) ** 0.5, dim=-1)
        x = x + self.o((att @ v).transpose(1, 2).reshape(b, t, d))
        return x + self.ff2(torch.relu(self.ff1(self.ln2(x))))


class TiedLM(nn.Module):
    """A small language model whose output head reuses the token embedding's weight (GPT-2 style tying)."""

    def __init__(self, vocab=1000, dim=64):
        super().__init__()
        self.emb = nn.Embedding(vocab, dim)
        self.pos = nn.Embedding(32, dim)
        self.block = Block(dim)
        self.ln_f = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, vocab, bias=False)
        self.head.weight = self.emb.weight

    def forward(self, tokens):
        positions = torch.arange(tokens.shape[1], device=tokens.device).unsqueeze(0)
        return self.head(self.ln_f(self.block(self.emb(tokens) + self.pos(positions))))


class AlbertStyle(nn.Module):
    """ALBERT-style cross-layer sharing: one transformer block applied 3 times."""

    def __init__(self, vocab=1000, dim=64, repeats=3):
        super().__init__()
        self.emb = nn.Embedding(vocab, dim)
        self.block = Block(dim)
        self.repeats = repeats
        self.classifier = nn.Linear(dim, 2)

    def forward(self, tokens):
        x = self.emb(tokens)
        for _ in range(self.repeats):
            x = self.block(x)
        return self.classifier(x[:, 0])


class UnusedLayer(nn.Module):
    """An MLP whose auxiliary head is declared but never called."""

    def __init__(self):
        super().__init__()
        self.encoder = nn.Linear(32, 64)
        self.decoder = nn.Linear(64, 10)
        self.aux_head = nn.Linear(64, 5)

    def forward(self, x):
        return self.decoder(torch.relu(self.encoder(x)))


def _resnet18():
    import torchvision

    return torchvision.models.resnet18(weights=None)


def _small_vit():
    import torchvision

    return torchvision.models.VisionTransformer(
        image_size=32, patch_size=8, num_layers=4, num_heads=4, hidden_dim=64, mlp_dim=128, num_classes=10
    )


def _tokens():
    return (torch.randint(0, 1000, (1, 16), dtype=torch.int64),)


# name -> (description, factory, example inputs)
MODELS = {
    'seed1': ('seed case 1: conv2(conv1(x)), input 1x1x64x64', SeedCase1, lambda: (torch.randn(1, 1, 64, 64),)),
    'seed2': ('seed case 2: conv1(conv1(x)), input 1x1x64x64', SeedCase2, lambda: (torch.randn(1, 1, 64, 64),)),
    'seed3': (
        'seed case 3: conv1(conv1(x)), conv2 unused, input 1x1x64x64',
        SeedCase3,
        lambda: (torch.randn(1, 1, 64, 64),),
    ),
    'tied_lm': ('tied-embedding LM: head.weight is emb.weight (1000x64), tokens 1x16', TiedLM, _tokens),
    'albert': ('ALBERT-style: one transformer block applied 3 times, tokens 1x16', AlbertStyle, _tokens),
    'unused': ('MLP with an aux_head never called, input 1x32', UnusedLayer, lambda: (torch.randn(1, 32),)),
    'resnet18': ('torchvision resnet18, input 1x3x224x224', _resnet18, lambda: (torch.randn(1, 3, 224, 224),)),
    'vit': (
        'small ViT (torchvision VisionTransformer: 32px, patch 8, 4 layers, dim 64), input 1x3x32x32',
        _small_vit,
        lambda: (torch.randn(1, 3, 32, 32),),
    ),
}


# ----------------------------------------------------------------------------------------------------------------
# Helpers


class ToolError(Exception):
    """A tool's failure already put in words (the message is the whole gist)."""


def gist(err, limit=160):
    """The first meaningful line of an error, shortened, safe in a Markdown cell."""
    text = str(err).strip()
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    first = lines[0] if lines else ''
    if isinstance(err, ToolError):
        return first
    msg = f'{type(err).__name__}: {first}' if first else type(err).__name__
    return msg if len(msg) <= limit else msg[: limit - 1] + '…'


def cell(text):
    return str(text).replace('|', '\\|').replace('\n', ' ')


def names_list(items, limit=3):
    items = list(items)
    if not items:
        return 'none'
    shown = ', '.join(items[:limit])
    return shown + (f' (+{len(items) - limit} more)' if len(items) > limit else '')


def fmt_n(n):
    return f'{int(n):,}' if n is not None else '—'


def fmt_s(s):
    if s is None:
        return '—'
    return f'{s:.3f} s' if s < 10 else f'{s:.1f} s'


def versions():
    out = {
        'python': platform.python_version(),
        'torch': torch.__version__,
    }
    for dist in ['torchvision', 'torchinfo', 'torchsummary', 'fvcore', 'thop', 'onnx-tool', 'onnx', 'onnxruntime',
                 'onnxscript']:
        try:
            out[dist] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            out[dist] = 'not installed'
    try:
        out['node'] = subprocess.run(['node', '--version'], capture_output=True, text=True).stdout.strip()
    except OSError:
        out['node'] = 'not found'
    return out


@contextlib.contextmanager
def quiet():
    """Swallow what a tool prints (stdout, stderr, warnings, logging) and keep it."""
    buf = io.StringIO()
    root = logging.getLogger()
    handler = logging.StreamHandler(buf)
    root.addHandler(handler)
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        with contextlib.redirect_stdout(buf), contextlib.redirect_stderr(buf):
            try:
                yield buf
            finally:
                root.removeHandler(handler)


def truth(model, inputs):
    """declared, unique (parameters with .grad after backward), the unused parameters' names and their modules."""
    m = copy.deepcopy(model)
    m.eval()
    m.zero_grad(set_to_none=True)
    out = m(*inputs)
    outs = out if isinstance(out, (tuple, list)) else [out]
    sum(o.float().sum() for o in outs if torch.is_tensor(o)).backward()
    declared = sum(p.numel() for p in m.parameters())
    unique = sum(p.numel() for p in m.parameters() if p.grad is not None)
    unused = [n for n, p in m.named_parameters() if p.grad is None]
    unused_modules = sorted({n.rsplit('.', 1)[0] for n in unused})
    return {'declared': declared, 'unique': unique, 'unused': unused, 'unusedModules': unused_modules}


# ----------------------------------------------------------------------------------------------------------------
# The tools. Each takes (model copy, inputs, context) and returns a dict: total, sharing, unused, time, notes.


def _load_helper():
    spec = importlib.util.spec_from_file_location('paramtrace_torch', os.path.join(REPO, 'python', 'paramtrace_torch.py'))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def run_paramtrace(model, inputs, ctx):
    import numpy as np

    helper = ctx['helper']
    work = ctx['work']
    path = os.path.join(work, f'{ctx["name"]}.paramtrace.onnx')
    names = [f'input_{k}' for k in range(len(inputs))]
    npys = []
    for n, x in zip(names, inputs):
        f = os.path.join(work, f'{ctx["name"]}.{n}.npy')
        np.save(f, x.numpy())
        npys.append((n, f))
    t0 = time.perf_counter()
    with quiet():
        helper.export(model, inputs, path, input_names=names)
    t_export = time.perf_counter() - t0
    cmd = [ctx['tsx'], os.path.join(REPO, 'src', 'cli', 'main.ts'), 'analyze', path, '--json']
    for n, f in npys:
        cmd += ['--input-file', f'{n}={f}']
    t1 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True)
    t_cli = time.perf_counter() - t1
    if proc.returncode != 0:
        lines = [ln for ln in (proc.stderr or proc.stdout).splitlines() if ln.strip()]
        raise ToolError(f'paramtrace exit {proc.returncode}: {lines[0] if lines else ""}')
    report = json.loads(proc.stdout)
    c = report['counts']
    shared = [f'{s["name"]} ×{s["calls"]}' for s in report.get('shared', [])]
    unused = [f'{u["name"]} ({u.get("numel", "?")}, {u.get("reason", "?")})' for u in report.get('unused', [])]
    trace = report.get('trace') or {}
    return {
        'total': c['unique'],
        'counts': {'declared': c['declared'], 'unique': c['unique'], 'summary': c['summary']},
        'sharing': ('shared: ' + names_list(shared)) if shared else 'no shared parameter',
        'unused': ('unused: ' + names_list(unused)) if unused else 'no unused parameter',
        'time': t_export + t_cli,
        'timeDetail': f'export {t_export:.2f} s + analyze {t_cli:.2f} s',
        'notes': f'source {report.get("source")}, trace {trace.get("mode", "none")}',
    }


def run_torchinfo(model, inputs, ctx):
    import torchinfo

    t0 = time.perf_counter()
    with quiet():
        stats = torchinfo.summary(model, input_data=list(inputs), device='cpu', verbose=0, depth=10)
        text = str(stats)
    dt = time.perf_counter() - t0
    rec, rec_free = [], []
    for li in stats.summary_list:
        if li.is_recursive:
            mod = getattr(li, 'module', None)
            has = mod is not None and any(True for _ in mod.parameters())
            (rec if has else rec_free).append(f'{li.var_name or li.class_name}')
    rows = {li.var_name for li in stats.summary_list}
    unused_mods = ctx['truth']['unusedModules']
    if unused_mods:
        leaf = [m.rsplit('.', 1)[-1] for m in unused_mods]
        listed = [m for m in leaf if m in rows]
        unused = (
            f'lists {", ".join(listed)} like any layer, no mark' if listed else f'no row for {", ".join(leaf)}, no mark'
        )
    else:
        unused = 'no mark'
    # Rows marked "(recursive)" are a module called again (or reached again); torchinfo skips their params.
    parts = []
    if rec:
        parts.append(f'{len(rec)} row(s) "(recursive)": {names_list(sorted(set(rec)))}')
    if rec_free:
        parts.append(f'{len(rec_free)} "(recursive)" row(s) of parameter-free modules ({names_list(sorted(set(rec_free)))})')
    sharing = '; '.join(parts) if parts else 'no "(recursive)" row'
    ctx['raw'].append(f'### torchinfo on {ctx["name"]}\n\n```\n{text}\n```\n')
    return {'total': stats.total_params, 'sharing': sharing, 'unused': unused, 'time': dt}


def run_torchsummary(model, inputs, ctx):
    from torchsummary import summary

    sizes = [tuple(x.shape[1:]) for x in inputs]
    arg = sizes[0] if len(sizes) == 1 else sizes
    t0 = time.perf_counter()
    try:
        with quiet() as buf:
            summary(model, arg, device='cpu')
    except Exception as err:  # add why, where the cause is known from torchsummary 1.5.1's source
        text = str(err)
        if 'indices' in text and 'FloatTensor' in text:
            raise ToolError(f'{gist(err, 100)} (torchsummary feeds float torch.rand inputs; it has no dtype '
                               f'option, so an Embedding fails)') from err
        if "'NoneType' object has no attribute 'size'" in text:
            raise ToolError(f'{gist(err, 100)} (its hook reads every element of a tuple output: '
                               f'nn.MultiheadAttention returns (out, None))') from err
        raise
    dt = time.perf_counter() - t0
    text = buf.getvalue()
    m = re.search(r'Total params:\s*([\d,]+)', text)
    if not m:
        raise ToolError('no "Total params" line in its output')
    rows = len(re.findall(r'^\s+\w+-\d+\s', text, re.M))
    ctx['raw'].append(f'### torchsummary on {ctx["name"]}\n\n```\n{text}\n```\n')
    return {
        'total': int(m.group(1).replace(',', '')),
        'sharing': f'nothing (one row per call, {rows} rows)',
        'unused': 'nothing (uncalled layers get no row)',
        'time': dt,
        'notes': 'feeds its own float input torch.rand(2, ...)',
    }


def run_fvcore(model, inputs, ctx):
    from fvcore.nn import FlopCountAnalysis, parameter_count

    t0 = time.perf_counter()
    with quiet():
        total = parameter_count(model)['']
        fca = FlopCountAnalysis(model, inputs)
        fca.unsupported_ops_warnings(False).uncalled_modules_warnings(False)
        flops = fca.total()
        uncalled = sorted(fca.uncalled_modules())
        unsupported = fca.unsupported_ops()
    dt = time.perf_counter() - t0
    # uncalled_modules() reports every module never called, parameter-free ones included.
    with_params = [n for n in uncalled if any(True for _ in model.get_submodule(n).parameters(recurse=False))]
    if uncalled:
        truly = set(ctx['truth']['unusedModules'])
        wrong = [n for n in with_params if n not in truly]
        unused = f'uncalled_modules(): {names_list(uncalled)}; {len(with_params)} with parameters'
        if wrong:
            unused += f', of which {len(wrong)} are in fact used (their weights get gradients)'
    else:
        unused = 'uncalled_modules(): none'
    notes = f'total() {flops:,}'
    if unsupported:
        notes += f'; unsupported ops: {names_list(sorted(unsupported))}'
    return {'total': total, 'sharing': 'nothing', 'unused': unused, 'time': dt, 'notes': notes}


def run_thop(model, inputs, ctx):
    from thop import profile

    t0 = time.perf_counter()
    with quiet():
        macs, params = profile(model, inputs=inputs, verbose=False)
    dt = time.perf_counter() - t0
    return {'total': int(params), 'sharing': 'nothing', 'unused': 'nothing', 'time': dt, 'notes': f'{int(macs):,} MACs'}


def run_onnx_tool(model, inputs, ctx):
    import onnx_tool

    path = os.path.join(ctx['work'], f'{ctx["name"]}.plain.onnx')
    # A plain torch.onnx.export with this torch's defaults (2.9+: the dynamo exporter).
    t0 = time.perf_counter()
    exporter = 'default'
    with quiet():
        try:
            torch.onnx.export(model, inputs, path)
        except Exception as err:  # fall back to the TorchScript exporter, and say so
            exporter = f'dynamo export failed ({gist(err, 60)}); dynamo=False'
            torch.onnx.export(model, inputs, path, dynamo=False)
    t_export = time.perf_counter() - t0
    t1 = time.perf_counter()
    with quiet() as buf:
        m = onnx_tool.Model(path)
        g = m.graph
        g.graph_reorder_nodes()
        g.shape_infer()
        g.profile()
        g.print_node_map()
    t_tool = time.perf_counter() - t1
    if not getattr(g, 'valid_profile', False):
        raise ToolError('profile() did not complete: ' + (buf.getvalue().strip().splitlines() or [''])[-1])
    ctx['raw'].append(f'### onnx-tool on {ctx["name"]}\n\n```\n{buf.getvalue()}\n```\n')
    # What the file holds, to explain the gap (read here, not reported by onnx-tool).
    pnames = {n for n, _ in model.named_parameters(remove_duplicate=False)}
    inits = list(g.initials)
    foreign = [n for n in inits if n not in pnames]
    return {
        'total': int(g.params),
        'sharing': 'nothing',
        'unused': 'nothing (the file lacks unused layers)',
        'time': t_export + t_tool,
        'timeDetail': f'export {t_export:.2f} s + onnx-tool {t_tool:.2f} s',
        'notes': f'exporter: {exporter}; the file has {len(inits)} constant tensors, {len(foreign)} not named after a '
        f'PyTorch parameter (folded copies, shape constants)',
    }


RUNNERS = {
    'paramtrace': run_paramtrace,
    'torchinfo': run_torchinfo,
    'torchsummary': run_torchsummary,
    'fvcore': run_fvcore,
    'thop': run_thop,
    'onnx-tool': run_onnx_tool,
}
IMPORTS = {
    'paramtrace': None,
    'torchinfo': 'torchinfo',
    'torchsummary': 'torchsummary',
    'fvcore': 'fvcore.nn',
    'thop': 'thop',
    'onnx-tool': 'onnx_tool',
}


# ----------------------------------------------------------------------------------------------------------------
# Report


def verdict(total, t):
    if total is None:
        return '—'
    d, u = t['declared'], t['unique']
    if total == d and total == u:
        return '= declared = unique'
    if total == d:
        return f'= declared (unique + {d - u:,})'
    if total == u:
        return f'= unique (declared − {d - total:,})'
    return f'neither ({total - u:+,} vs unique, {total - d:+,} vs declared)'


def short_verdict(total, t):
    if total is None:
        return ''
    d, u = t['declared'], t['unique']
    if total == u:
        return '✓'
    if total == d:
        return '= declared'
    return '✗'


def render(results, tools, env, elapsed, repeat, startup):
    out = []
    out.append('# paramtrace and its peers, measured\n')
    out.append(
        f'Made by `npm run -s bench:peers` (`.cache/peers/bin/python bench/peers.py`) on '
        f'{datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")}, '
        f'{os.cpu_count()} CPU cores (shared with other work), CPU only; each tool run 1 + {repeat} time(s) per '
        f'model, each on a fresh copy of the model: the first run is a warm-up, the time shown is the median of the '
        f'other {repeat} (the first run\'s time is given beside it); whole run {elapsed:.0f} s.\n'
    )
    out.append('Versions and load: ' + ', '.join(f'{k} {v}' for k, v in env.items()) + '.\n')
    out.append(
        'Truth from the model: **declared** = `sum(p.numel() for p in model.parameters())`; **unique** = numel of '
        'the parameters that have a `.grad` after one forward + backward (eval mode). The seed cases use input '
        '1x1x64x64 instead of docs/seed-cases.md\'s 512x512, to keep the run fast (counts do not depend on it).\n'
    )
    out.append(
        'Each tool gets its own copy of the model and runs it itself. Time = wall clock of one run, model '
        'construction and imports excluded: paramtrace = `paramtrace_torch.export` + the CLI (`tsx '
        'src/cli/main.ts analyze --json`, a Node process that runs the model once in onnxruntime); onnx-tool = a '
        'plain `torch.onnx.export` (this torch\'s defaults) + `onnx_tool.Model` shape inference and profile. '
        'paramtrace\'s headline count is its unique count (declared / unique / summary-style shown).'
        + (f' The floor of paramtrace\'s CLI, `tsx src/cli/main.ts --version` (Node start + TypeScript '
           f'transpile, no model), took {startup:.2f} s in this run.' if startup else '')
        + '\n'
    )

    # Summary matrix
    out.append('## Total parameters reported (✓ = the true unique count)\n')
    head = ['model', 'declared', 'unique'] + tools
    out.append('| ' + ' | '.join(head) + ' |')
    out.append('|' + '---|' * len(head))
    for name, r in results.items():
        t = r['truth']
        row = [name, fmt_n(t['declared']), fmt_n(t['unique'])]
        for tool in tools:
            res = r['tools'][tool]
            if 'error' in res:
                row.append('error')
            elif tool == 'paramtrace':
                c = res['counts']
                row.append(f'{fmt_n(c["declared"])} / {fmt_n(c["unique"])} / {fmt_n(c["summary"])} '
                           f'{short_verdict(c["unique"], t)}')
            else:
                row.append(f'{fmt_n(res["total"])} {short_verdict(res["total"], t)}')
        out.append('| ' + ' | '.join(cell(x) for x in row) + ' |')
    out.append('')
    out.append('paramtrace: declared / unique / summary-style. "= declared" marks a total equal to the declared '
               'count where that differs from unique.\n')

    # Per model
    out.append('## Per model\n')
    for name, r in results.items():
        t = r['truth']
        out.append(f'### {name}: {r["description"]}\n')
        extra = f'; unused: {", ".join(t["unused"])}' if t['unused'] else ''
        out.append(f'Truth: declared {t["declared"]:,}, unique {t["unique"]:,}{extra}.\n')
        out.append('| tool | total reported | vs truth | sharing | unused layers | wall time | notes |')
        out.append('|---|---|---|---|---|---|---|')
        for tool in tools:
            res = r['tools'][tool]
            if 'error' in res:
                row = [tool, 'error', '—', '—', '—', fmt_s(res.get('time')), res['error']]
            else:
                total = res['total']
                shown = fmt_n(total)
                if tool == 'paramtrace':
                    c = res['counts']
                    shown = f'unique {fmt_n(c["unique"])} (declared {fmt_n(c["declared"])}, summary {fmt_n(c["summary"])})'
                tm = fmt_s(res['time']) + (f' ({res["timeDetail"]})' if res.get('timeDetail') else '')
                if res.get('first') is not None:
                    tm += f'; first run {fmt_s(res["first"])}'
                row = [tool, shown, verdict(total, t), res['sharing'], res['unused'], tm, res.get('notes', '')]
            out.append('| ' + ' | '.join(cell(x) for x in row) + ' |')
        out.append('')

    # Ratios
    peers = [x for x in tools if x != 'paramtrace']
    if 'paramtrace' in tools and peers:
        out.append('## Time: paramtrace / peer (same run)\n')
        out.append('Median times. Ratio > 1: paramtrace took longer. The peers run inside this Python process, '
                   'warm; paramtrace starts a Node process on every run (its floor is given above). Peer times '
                   'under a few milliseconds make the ratio large and unstable; the machine was shared (load '
                   'average above), so read the times as orders of magnitude.\n')
        head = ['model', 'paramtrace'] + [f'÷ {p}' for p in peers]
        out.append('| ' + ' | '.join(head) + ' |')
        out.append('|' + '---|' * len(head))
        for name, r in results.items():
            pt = r['tools']['paramtrace']
            ptt = pt.get('time') if 'error' not in pt else None
            row = [name, fmt_s(ptt)]
            for p in peers:
                res = r['tools'][p]
                if ptt is None or 'error' in res or not res.get('time'):
                    row.append('—')
                else:
                    ratio = ptt / res['time']
                    shown = f'{ratio:.1f}×' if ratio < 100 else f'{ratio:,.0f}×'
                    row.append(f'{shown} ({fmt_s(res["time"])})')
            out.append('| ' + ' | '.join(cell(x) for x in row) + ' |')
        out.append('')
    return '\n'.join(out)


# ----------------------------------------------------------------------------------------------------------------


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--models', default=','.join(MODELS), help='comma-separated, from: ' + ', '.join(MODELS))
    ap.add_argument('--tools', default=','.join(TOOLS), help='comma-separated, from: ' + ', '.join(TOOLS))
    ap.add_argument('--output', help='also write the Markdown report to this file')
    ap.add_argument('--raw', help='write the peers\' own printed tables to this Markdown file')
    ap.add_argument('--repeat', type=int, default=3,
                    help='timed runs of each tool per model, after one warm-up run; the median time is shown')
    ap.add_argument('--keep', help='keep the exported ONNX files in this folder (default: a temporary one)')
    opts = ap.parse_args(argv)
    models = [m for m in opts.models.split(',') if m]
    tools = [t for t in opts.tools.split(',') if t]
    for m in models:
        if m not in MODELS:
            ap.error(f'unknown model {m}')
    for t in tools:
        if t not in RUNNERS:
            ap.error(f'unknown tool {t}')

    torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))
    start = time.perf_counter()
    load_start = os.getloadavg()
    work = opts.keep or tempfile.mkdtemp(prefix='paramtrace-peers-')
    os.makedirs(work, exist_ok=True)
    ctx_base = {'work': work, 'raw': []}
    import_errors = {}
    for tool in tools:  # imports happen before any clock starts
        try:
            if tool == 'paramtrace':
                ctx_base['helper'] = _load_helper()
                tsx = os.path.join(REPO, 'node_modules', '.bin', 'tsx')
                if not os.path.exists(tsx):
                    raise RuntimeError('node_modules/.bin/tsx not found: run npm ci')
                ctx_base['tsx'] = tsx
            else:
                with quiet():
                    importlib.import_module(IMPORTS[tool])
        except Exception as err:
            import_errors[tool] = f'not available: {gist(err)}'

    if 'tsx' in ctx_base:
        floors = []
        for _ in range(opts.repeat):
            t0 = time.perf_counter()
            subprocess.run([ctx_base['tsx'], os.path.join(REPO, 'src', 'cli', 'main.ts'), '--version'], cwd=REPO,
                           capture_output=True)
            floors.append(time.perf_counter() - t0)
        ctx_base['startup'] = sorted(floors)[(len(floors) - 1) // 2]

    results = {}
    for name in models:
        desc, factory, make_inputs = MODELS[name]
        print(f'[peers] {name}', file=sys.stderr, flush=True)
        try:
            torch.manual_seed(0)
            model = factory().eval()
            inputs = make_inputs()
        except Exception as err:
            results[name] = {
                'description': desc + f' — could not be built: {gist(err)}',
                'truth': {'declared': None, 'unique': None, 'unused': [], 'unusedModules': []},
                'tools': {t: {'error': 'model not built'} for t in tools},
            }
            continue
        t = truth(model, inputs)
        with torch.no_grad():  # warm-up run, untimed, so that no tool pays for first-call costs alone
            model(*inputs)
        res = {}
        for tool in tools:
            if tool in import_errors:
                res[tool] = {'error': import_errors[tool]}
                continue
            runs = []
            for k in range(opts.repeat + 1):  # run 0 is the warm-up; each run on a fresh copy
                mcopy = copy.deepcopy(model).eval()
                ctx = dict(ctx_base, name=name, truth=t, raw=ctx_base['raw'] if k == 0 else [])
                t0 = time.perf_counter()
                try:
                    runs.append(RUNNERS[tool](mcopy, inputs, ctx))
                except Exception as err:
                    runs.append({'error': gist(err, 260), 'time': time.perf_counter() - t0})
                    if k == 0:
                        ctx_base['raw'].append(f'### {tool} on {name}: error\n\n```\n{traceback.format_exc()}\n```\n')
                    break
            ok = [x for x in runs if 'error' not in x]
            if len(ok) == len(runs):
                timed = sorted(ok[1:], key=lambda x: x['time']) or ok
                res[tool] = dict(timed[(len(timed) - 1) // 2], first=ok[0]['time'], runs=len(timed))
            else:
                res[tool] = runs[-1]
            print(f'[peers]   {tool}: {res[tool].get("total", res[tool].get("error"))}', file=sys.stderr, flush=True)
        results[name] = {'description': desc, 'truth': t, 'tools': res}

    env = versions()
    load_end = os.getloadavg()
    env['load average (1 min) at start / end'] = f'{load_start[0]:.2f} / {load_end[0]:.2f}'
    report = render(results, tools, env, time.perf_counter() - start, opts.repeat, ctx_base.get('startup'))
    print(report)
    if opts.output:
        with open(opts.output, 'w') as fh:
            fh.write(report + '\n')
    if opts.raw:
        with open(opts.raw, 'w') as fh:
            fh.write('# The peers\' own output\n\n' + '\n'.join(ctx_base['raw']))
    if not opts.keep:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == '__main__':
    sys.exit(main())
