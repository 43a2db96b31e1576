#!/usr/bin/env python3
"""paramtrace_torch: export a PyTorch model to a *faithful* ONNX file with a declared-parameter manifest.

Works on PyTorch 1.13 to 2.13 (TorchScript exporter by default; dynamo=True for the dynamo exporter, 2.5+).

An ONNX file alone cannot say what a PyTorch model declared but never used, nor which initializers are one
PyTorch tensor. This helper records every parameter and buffer of the model (the "manifest", format
``paramtrace.manifest/1``, see src/analysis/manifest.ts) inside the ONNX file's ``metadata_props`` under the
key ``paramtrace.manifest``, and exports the model so that the graph still shows the tensors PyTorch uses:

* every parameter and buffer the forward uses is an initializer named with its PyTorch name;
* no Conv+BatchNormalization fusion, no constant folding (no transposed or folded weight copies);
* no merging of distinct tensors because their *values* are equal; tied weights stay one initializer;
* the graph computes what the eval-mode model computes (BatchNormalization uses the running statistics).

API (importable by path, depends on nothing but ``torch``):

    manifest(model) -> dict
    attach(onnx_path, manifest) -> None
    export(model, args, f, *, dynamo=None, **export_kwargs) -> dict   # the manifest it attached
    choose_exporter(dynamo=None) -> (route, reason)   # 'torchscript' wherever PyTorch has it, else 'dynamo'

Command line:

    python3 python/paramtrace_torch.py --model pkg.module:factory --input 1x3x224x224 [--input 1x10:int64]
        -o model.onnx [--opset N] [--exporter auto|torchscript|dynamo] [--manifest-only]

See python/README.md.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import hashlib
import importlib
import importlib.util
import inspect
import io
import json
import os
import re
import sys
import tempfile
import warnings

# PyTorch is imported on first use (_require_torch): attach(), read_manifest() and inspect_onnx() need none, and
# the command line reports a bad argument, or a missing torch, in one line without the seconds an import takes.
torch = None

__all__ = [
    'manifest',
    'attach',
    'export',
    'choose_exporter',
    'read_manifest',
    'inspect_onnx',
    'MANIFEST_KEY',
    'MANIFEST_FORMAT',
]

MANIFEST_KEY = 'paramtrace.manifest'
MANIFEST_FORMAT = 'paramtrace.manifest/1'
MIN_TORCH = (1, 13)
MIN_TORCH_DYNAMO = (2, 5)

# torch dtype -> ONNX-style name (as in src/onnx/model.ts DataType).
_DTYPE_NAMES = {
    'float32': 'float32',
    'float': 'float32',
    'float16': 'float16',
    'half': 'float16',
    'bfloat16': 'bfloat16',
    'float64': 'float64',
    'double': 'float64',
    'int64': 'int64',
    'long': 'int64',
    'int32': 'int32',
    'int': 'int32',
    'int16': 'int16',
    'short': 'int16',
    'int8': 'int8',
    'uint8': 'uint8',
    'uint16': 'uint16',
    'uint32': 'uint32',
    'uint64': 'uint64',
    'bool': 'bool',
    'complex64': 'complex64',
    'complex128': 'complex128',
    'float8_e4m3fn': 'float8e4m3fn',
    'float8_e4m3fnuz': 'float8e4m3fnuz',
    'float8_e5m2': 'float8e5m2',
    'float8_e5m2fnuz': 'float8e5m2fnuz',
}


# --------------------------------------------------------------------------------------------------------------
# Versions


def _require_torch():
    global torch
    if torch is None:
        try:
            import torch as _torch
        except ImportError as err:
            raise RuntimeError(f'paramtrace_torch needs PyTorch, which could not be imported: {err}') from None
        torch = _torch
    return torch


def _torch_version():
    """(major, minor) of the running PyTorch."""
    _require_torch()
    m = re.match(r'(\d+)\.(\d+)', torch.__version__)
    if not m:
        raise RuntimeError(f'paramtrace_torch cannot read the PyTorch version {torch.__version__!r}')
    return int(m.group(1)), int(m.group(2))


def _check_supported(dynamo=False):
    version = _torch_version()
    if version < MIN_TORCH:
        raise RuntimeError(
            f'paramtrace_torch supports PyTorch >= {MIN_TORCH[0]}.{MIN_TORCH[1]}; '
            f'this is PyTorch {torch.__version__}'
        )
    if dynamo and version < MIN_TORCH_DYNAMO:
        raise RuntimeError(
            f'dynamo=True needs PyTorch >= {MIN_TORCH_DYNAMO[0]}.{MIN_TORCH_DYNAMO[1]} '
            f'(torch.onnx.export(..., dynamo=True)); this is PyTorch {torch.__version__}'
        )
    return version


# --------------------------------------------------------------------------------------------------------------
# The manifest


def _dtype_name(dtype):
    name = str(dtype).rsplit('.', 1)[-1]
    return _DTYPE_NAMES.get(name, name)


def _class_name(module):
    """The class name of a module; for a scripted module, the class it was scripted from."""
    if torch is not None and isinstance(module, torch.jit.ScriptModule):
        original = getattr(module, 'original_name', None)
        if isinstance(original, str) and original:
            return original
    return type(module).__name__


_HASH_CHUNK = 1 << 26  # 64 MiB


def _fingerprint(tensor):
    """'sha256:' + hex of the tensor's contiguous little-endian bytes in its own dtype.

    The bytes are read straight from memory (ctypes), so numpy is not needed and bfloat16 and the float8 types
    need no special case. On a big-endian host they are byte-swapped first.
    """
    t = tensor.detach()
    if getattr(t, 'is_sparse', False) or t.layout != torch.strided:
        t = t.to_dense()
    if getattr(t, 'is_quantized', False):
        t = t.int_repr()
    if t.device.type == 'meta':
        return 'unavailable:meta-tensor'
    t = t.cpu().contiguous()
    h = hashlib.sha256()
    size = t.element_size()
    nbytes = t.numel() * size
    if nbytes == 0:
        return 'sha256:' + h.hexdigest()
    if sys.byteorder == 'big' and size > 1:  # pragma: no cover - no big-endian host here
        flat = t.reshape(-1).view(torch.uint8).reshape(-1, size).flip(-1).contiguous()
        t = flat
    ptr = t.data_ptr()
    for offset in range(0, nbytes, _HASH_CHUNK):
        h.update(ctypes.string_at(ptr + offset, min(_HASH_CHUNK, nbytes - offset)))
    return 'sha256:' + h.hexdigest()


def _all_names(model, attr):
    """{id(tensor): [every qualified name]} over `module._parameters` or `module._buffers`, duplicates kept.

    PyTorch 1.13's named_parameters() has no remove_duplicate argument, so walk named_modules(remove_duplicate=
    False) instead (a module registered under two names is visited under both; a parameter assigned to two
    modules, as in a tied embedding, is seen under both owners).
    """
    names = {}
    for prefix, module in model.named_modules(remove_duplicate=False):
        store = getattr(module, attr, None)
        if store is None:
            continue
        for key, value in store.items():
            if value is None:
                continue
            full = f'{prefix}.{key}' if prefix else key
            lst = names.setdefault(id(value), [])
            if full not in lst:
                lst.append(full)
    return names


def _owner(model, name):
    prefix = name.rpartition('.')[0]
    if not prefix:
        return '', model
    try:
        return prefix, model.get_submodule(prefix)
    except Exception:  # pragma: no cover - get_submodule exists from 1.9 on
        module = model
        for part in prefix.split('.'):
            module = getattr(module, part)
        return prefix, module


def _tensor_entry(model, name, tensor, kind, aliases):
    module_name, module = _owner(model, name)
    return {
        'name': name,
        'aliases': [a for a in aliases if a != name],
        'kind': kind,
        'shape': [int(d) for d in tensor.shape],
        'dtype': _dtype_name(tensor.dtype),
        'numel': int(tensor.numel()),
        'requiresGrad': bool(tensor.requires_grad) if kind == 'parameter' else False,
        'fingerprint': _fingerprint(tensor),
        'module': module_name,
        'moduleClass': _class_name(module),
    }


def manifest(model, *, exporter='none', opset=None, export_settings=None, altered=None):
    """The declared-parameter manifest of `model` (a torch.nn.Module, scripted or not), as a JSON-ready dict.

    Every parameter, then every buffer, each tensor once under its canonical name (the first name
    named_parameters() / named_buffers() gives), with its other names as aliases.
    """
    _require_torch()
    if not isinstance(model, torch.nn.Module):
        raise TypeError(f'manifest() needs a torch.nn.Module, got {type(model).__name__}')
    tensors = []
    param_names = _all_names(model, '_parameters')
    for name, p in model.named_parameters():
        tensors.append(_tensor_entry(model, name, p, 'parameter', param_names.get(id(p), [name])))
    buffer_names = _all_names(model, '_buffers')
    for name, b in model.named_buffers():
        tensors.append(_tensor_entry(model, name, b, 'buffer', buffer_names.get(id(b), [name])))
    return {
        'format': MANIFEST_FORMAT,
        'torchVersion': str(torch.__version__),
        'exporter': exporter,
        'opset': opset,
        'exportSettings': dict(export_settings or {}),
        'altered': list(altered or []),
        'modelClass': _class_name(model),
        'tensors': tensors,
    }


# --------------------------------------------------------------------------------------------------------------
# A minimal protobuf reader/writer: enough to read an ONNX file's structure and to edit ModelProto.metadata_props
# without the onnx package (and without its 2 GiB limit or any re-serialization of the weights).
#
# Wire format: a message is a sequence of fields; each starts with a varint key (field_number << 3 | wire_type).
# wire_type 0 = varint, 1 = 8 bytes, 2 = length-delimited (varint length + bytes), 5 = 4 bytes.
# Repeated fields may appear anywhere and in any order; a parser appends them, so appending a field to the end of
# a serialized message is the same as adding it to the repeated field.


def _read_varint(buf, pos):
    result = 0
    shift = 0
    while True:
        if pos >= len(buf):
            raise ValueError('truncated protobuf varint')
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if b < 0x80:
            return result, pos
        shift += 7
        if shift > 70:
            raise ValueError('malformed protobuf varint')


def _fields(buf, start=0, end=None):
    """Yield (field_number, wire_type, value, field_start, field_end) for each field of one message.

    value: the int for varint / fixed fields; (value_start, value_end) for length-delimited ones.
    """
    pos = start
    end = len(buf) if end is None else end
    while pos < end:
        field_start = pos
        key, pos = _read_varint(buf, pos)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = _read_varint(buf, pos)
        elif wire == 1:
            value = int.from_bytes(bytes(buf[pos : pos + 8]), 'little')
            pos += 8
        elif wire == 2:
            length, pos = _read_varint(buf, pos)
            value = (pos, pos + length)
            pos += length
        elif wire == 5:
            value = int.from_bytes(bytes(buf[pos : pos + 4]), 'little')
            pos += 4
        else:
            raise ValueError(f'unsupported protobuf wire type {wire}')
        if pos > end:
            raise ValueError('truncated protobuf message')
        yield number, wire, value, field_start, pos


def _varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def _ld_field(number, payload):
    """A length-delimited field: key, length, bytes."""
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def _string(buf, span):
    return bytes(buf[span[0] : span[1]]).decode('utf-8', errors='replace')


# ONNX field numbers used here (onnx.proto).
_MODEL_GRAPH, _MODEL_OPSET_IMPORT, _MODEL_METADATA_PROPS = 7, 8, 14
_GRAPH_NODE, _GRAPH_INITIALIZER, _GRAPH_SPARSE_INITIALIZER = 1, 5, 15
_NODE_INPUT, _NODE_OUTPUT, _NODE_NAME, _NODE_OP_TYPE, _NODE_ATTRIBUTE, _NODE_DOMAIN = 1, 2, 3, 4, 5, 7
_ATTR_NAME, _ATTR_I, _ATTR_G, _ATTR_GRAPHS = 1, 3, 6, 11
_TENSOR_DIMS, _TENSOR_NAME = 1, 8
_SPARSE_VALUES = 1
_ENTRY_KEY, _ENTRY_VALUE = 1, 2
_OPSET_DOMAIN, _OPSET_VERSION = 1, 2


def attach_bytes(model_bytes, manifest_dict):
    """Return ModelProto bytes with metadata_props[MANIFEST_KEY] = json.dumps(manifest) (replacing any old one).

    Every other top-level field is copied byte for byte; the new StringStringEntryProto {key=1, value=2} is
    appended as field 14 (metadata_props), which protobuf parsers merge into the repeated field.
    """
    buf = memoryview(model_bytes)
    value = manifest_dict if isinstance(manifest_dict, str) else json.dumps(manifest_dict)
    kept = []
    removed = False
    for number, wire, val, fs, fe in _fields(buf):
        if number == _MODEL_METADATA_PROPS and wire == 2:
            key = None
            for n2, w2, v2, _, _ in _fields(buf, val[0], val[1]):
                if n2 == _ENTRY_KEY and w2 == 2:
                    key = _string(buf, v2)
            if key == MANIFEST_KEY:
                removed = True
                continue
        kept.append((fs, fe))
    if removed:
        head = b''.join(bytes(buf[fs:fe]) for fs, fe in kept)
    else:
        head = bytes(model_bytes)
    entry = _ld_field(_ENTRY_KEY, MANIFEST_KEY.encode('utf-8')) + _ld_field(_ENTRY_VALUE, value.encode('utf-8'))
    return head + _ld_field(_MODEL_METADATA_PROPS, entry)


def attach(onnx_path, manifest_dict):
    """Embed json.dumps(manifest) in the ONNX file's metadata_props under 'paramtrace.manifest' (in place)."""
    path = os.fspath(onnx_path)
    with open(path, 'rb') as fh:
        data = fh.read()
    out = attach_bytes(data, manifest_dict)
    tmp = path + '.paramtrace-tmp'
    with open(tmp, 'wb') as fh:
        fh.write(out)
    os.replace(tmp, path)


def _onnx_bytes(onnx_path_or_bytes):
    """An ONNX file's bytes, given its path or the bytes themselves."""
    if isinstance(onnx_path_or_bytes, (bytes, bytearray, memoryview)):
        return memoryview(onnx_path_or_bytes)
    with open(os.fspath(onnx_path_or_bytes), 'rb') as fh:
        return memoryview(fh.read())


def read_manifest(onnx_path_or_bytes):
    """The manifest embedded in an ONNX file (path or bytes), or None."""
    buf = _onnx_bytes(onnx_path_or_bytes)
    found = None
    for number, wire, val, _, _ in _fields(buf):
        if number == _MODEL_METADATA_PROPS and wire == 2:
            key = value = None
            for n2, w2, v2, _, _ in _fields(buf, val[0], val[1]):
                if n2 == _ENTRY_KEY and w2 == 2:
                    key = _string(buf, v2)
                elif n2 == _ENTRY_VALUE and w2 == 2:
                    value = _string(buf, v2)
            if key == MANIFEST_KEY:
                found = json.loads(value)
    return found


def inspect_onnx(onnx_path_or_bytes):
    """What the faithfulness checks need from an ONNX file, read without the onnx package.

    Returns {'opset': int|None, 'initializers': [{'name', 'dims', 'graph'}], 'nodes': [{'opType', 'name',
    'inputs', 'outputs', 'ints': {attr: int}, 'graph'}]}, with subgraphs (If/Loop/Scan bodies) included; 'graph'
    is '' for the main graph and a path such as '/If_0/then_branch' for a subgraph.
    """
    buf = _onnx_bytes(onnx_path_or_bytes)
    info = {'opset': None, 'initializers': [], 'nodes': []}

    def tensor(span, graph_path):
        name, dims = '', []
        for n, w, v, _, _ in _fields(buf, *span):
            if n == _TENSOR_NAME and w == 2:
                name = _string(buf, v)
            elif n == _TENSOR_DIMS:
                if w == 0:
                    dims.append(v)
                elif w == 2:  # packed
                    pos = v[0]
                    while pos < v[1]:
                        d, pos = _read_varint(buf, pos)
                        dims.append(d)
        info['initializers'].append({'name': name, 'dims': dims, 'graph': graph_path})

    def graph(span, graph_path):
        for n, w, v, _, _ in _fields(buf, *span):
            if w != 2:
                continue
            if n == _GRAPH_INITIALIZER:
                tensor(v, graph_path)
            elif n == _GRAPH_SPARSE_INITIALIZER:
                for n2, w2, v2, _, _ in _fields(buf, *v):
                    if n2 == _SPARSE_VALUES and w2 == 2:
                        tensor(v2, graph_path)
            elif n == _GRAPH_NODE:
                node = {'opType': '', 'name': '', 'domain': '', 'inputs': [], 'outputs': [], 'ints': {}}
                subgraphs = []
                for n2, w2, v2, _, _ in _fields(buf, *v):
                    if w2 != 2:
                        continue
                    if n2 == _NODE_INPUT:
                        node['inputs'].append(_string(buf, v2))
                    elif n2 == _NODE_OUTPUT:
                        node['outputs'].append(_string(buf, v2))
                    elif n2 == _NODE_NAME:
                        node['name'] = _string(buf, v2)
                    elif n2 == _NODE_OP_TYPE:
                        node['opType'] = _string(buf, v2)
                    elif n2 == _NODE_DOMAIN:
                        node['domain'] = _string(buf, v2)
                    elif n2 == _NODE_ATTRIBUTE:
                        attr_name, attr_i, graphs = '', None, []
                        for n3, w3, v3, _, _ in _fields(buf, *v2):
                            if n3 == _ATTR_NAME and w3 == 2:
                                attr_name = _string(buf, v3)
                            elif n3 == _ATTR_I and w3 == 0:
                                attr_i = v3
                            elif n3 in (_ATTR_G, _ATTR_GRAPHS) and w3 == 2:
                                graphs.append(v3)
                        if attr_i is not None:
                            node['ints'][attr_name] = attr_i
                        for k, g in enumerate(graphs):
                            subgraphs.append((f'{attr_name}' if len(graphs) == 1 else f'{attr_name}[{k}]', g))
                node['graph'] = graph_path
                info['nodes'].append(node)
                for attr_name, g in subgraphs:
                    graph(g, f'{graph_path}/{node["name"] or node["opType"]}/{attr_name}')

    for number, wire, val, _, _ in _fields(buf):
        if number == _MODEL_GRAPH and wire == 2:
            graph(val, '')
        elif number == _MODEL_OPSET_IMPORT and wire == 2:
            domain, version = '', None
            for n2, w2, v2, _, _ in _fields(buf, *val):
                if n2 == _OPSET_DOMAIN and w2 == 2:
                    domain = _string(buf, v2)
                elif n2 == _OPSET_VERSION and w2 == 0:
                    version = v2
            if domain in ('', 'ai.onnx') and version is not None:
                info['opset'] = int(version)
    return info


# --------------------------------------------------------------------------------------------------------------
# Export


@contextlib.contextmanager
def _eval_mode(model):
    """Put every module in eval mode; restore each module's own flag afterwards."""
    modes = [(m, m.training) for m in model.modules()]
    model.eval()
    try:
        yield
    finally:
        for m, training in modes:
            m.training = training


@contextlib.contextmanager
def _storage_only_dedup(record):
    """Make the TorchScript exporter's initializer de-duplication merge only tensors that share storage.

    torch.onnx.export (1.13 and the 2.x TorchScript exporter) ends with
    ``_C._jit_pass_onnx_deduplicate_initializers(graph, params_dict, getattr(model, "training", False))``.
    With is_train=False the pass merges initializers whose *values* are equal (a fresh BatchNorm's running_var
    of ones becomes an Identity of bn.weight, zero biases collapse into one); with is_train=True it merges only
    tensors with the same data pointer, sizes and strides, i.e. one PyTorch tensor reached twice. We want the
    latter while the model itself stays in eval mode, so the pass is called with is_train=True. The exporter
    looks the function up on torch._C at call time, so replacing the attribute for the duration of the export
    is enough; it is restored afterwards.
    """
    C = torch._C
    name = '_jit_pass_onnx_deduplicate_initializers'
    original = getattr(C, name, None)
    if original is None:
        record['available'] = False
        yield
        return
    record['available'] = True

    def storage_only(*args, **kwargs):
        if len(args) == 3 and not kwargs:
            graph, params, _is_train = args
            before = dict(params)
            out = original(graph, params, True)
            record['calls'] = record.get('calls', 0) + 1
            kept = dict(out)
            for gone, t in before.items():
                if gone in kept:
                    continue
                into = next(
                    (k for k, v in kept.items() if v.data_ptr() == t.data_ptr() and v.shape == t.shape),
                    None,
                )
                record.setdefault('merged', []).append((gone, into))
            return out
        record['unexpected_signature'] = True
        return original(*args, **kwargs)

    setattr(C, name, storage_only)
    try:
        yield
    finally:
        setattr(C, name, original)


@contextlib.contextmanager
def _no_eval_peephole(record):
    """Skip the eval-mode ONNX peephole pass (Conv+BatchNormalization fusion).

    Used only where torch.onnx.export does not accept ``training=TrainingMode.PRESERVE`` (which skips the pass
    in a documented way): the pass is replaced by one that returns the parameters unchanged.
    """
    C = torch._C
    name = '_jit_pass_onnx_eval_peephole'
    original = getattr(C, name, None)
    if original is None:
        yield
        return

    def skip(graph, params_dict, *rest):
        record['eval_peephole_skipped'] = True
        return params_dict

    setattr(C, name, skip)
    try:
        yield
    finally:
        setattr(C, name, original)


def _jsonable(value):
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    name = getattr(value, 'name', None)  # enums such as TrainingMode.PRESERVE
    if isinstance(name, str):
        return name
    return repr(value)


def _first_line(err):
    """The first non-empty line of an exception's message, terminal colour codes removed."""
    text = re.sub(r'\x1b\[[0-9;]*m', '', str(err))
    return next((line.strip() for line in text.splitlines() if line.strip()), '')


def _export_parameters():
    _require_torch()
    try:
        return inspect.signature(torch.onnx.export).parameters
    except (TypeError, ValueError):  # pragma: no cover
        return {}


def _check_exported(info, man, altered, merged=()):
    """Compare the exported graph with the manifest; say in `altered` what is not faithful."""
    by_name = {}
    for t in man['tensors']:
        by_name[t['name']] = t
        for a in t['aliases']:
            by_name.setdefault(a, t)
    init_names = set()
    for init in info['initializers']:
        name = init['name']
        init_names.add(name)
        t = by_name.get(name)
        if t is None:
            where = f' in subgraph {init["graph"]}' if init['graph'] else ''
            altered.append(
                f'initializer {name!r} {init["dims"]}{where} is not a PyTorch parameter or buffer name '
                f'(a generated, folded or copied tensor)'
            )
        elif t['name'] != name:
            altered.append(f'tensor {t["name"]!r} is stored under its alias {name!r}')
    for node in info['nodes']:
        if node['opType'] == 'BatchNormalization' and node['domain'] in ('', 'ai.onnx'):
            if node['ints'].get('training_mode', 0) != 0 or len([o for o in node['outputs'] if o]) > 1:
                altered.append(f'BatchNormalization node {node["name"]!r} is exported in training mode')
        if node['opType'] == 'Identity' and node['inputs'] and node['inputs'][0] in init_names:
            for out in node['outputs']:
                if out in by_name and out not in init_names and out not in merged:
                    altered.append(
                        f'{out!r} is an Identity of initializer {node["inputs"][0]!r} '
                        f'(the exporter merged the two tensors)'
                    )


_DEDUP_PASS = '_jit_pass_onnx_deduplicate_initializers'

# Why each route is the one taken (recorded as exportSettings.exporterReason and printed by the command line).
_REASON_ONLY_TORCHSCRIPT = 'the only ONNX exporter of this PyTorch (no dynamo argument before 2.5)'
_REASON_TORCHSCRIPT_FAITHFUL = (
    'default: the TorchScript exporter (dynamo=False) is faithful as it stands: canonical PyTorch names (tied '
    'weights included), no fusion, no folding, no value merging (de-duplication patched), scripted modules '
    'exported, and paramtrace reads shared-layer calls from its node names; the dynamo exporter stores tied '
    'weights under an alias (the helper renames them back), cannot export scripted modules, and names nodes '
    'differently (on 2.13 paramtrace missed shared-layer calls in some dynamo graphs)'
)
_REASON_DYNAMO_REQUESTED = 'dynamo=True was requested'
_REASON_TORCHSCRIPT_REQUESTED = 'dynamo=False was requested'
_REASON_NO_TORCHSCRIPT = (
    'this PyTorch has no TorchScript ONNX exporter (torch._C.' + _DEDUP_PASS + ' is gone): the dynamo exporter '
    'with optimize=False is the faithful route left; the post-export check lists in altered what it changed'
)

_SHORT_REASONS = {
    _REASON_ONLY_TORCHSCRIPT: 'the only one before PyTorch 2.5',
    _REASON_TORCHSCRIPT_FAITHFUL: 'the faithful default, see exportSettings.exporterReason',
    _REASON_DYNAMO_REQUESTED: 'requested',
    _REASON_TORCHSCRIPT_REQUESTED: 'requested',
    _REASON_NO_TORCHSCRIPT: 'TorchScript exporter gone from this PyTorch',
}


def _torchscript_exporter_available():
    """Whether the TorchScript exporter (and the pass the helper patches) is still in this PyTorch."""
    return callable(getattr(torch._C, _DEDUP_PASS, None))


def choose_exporter(dynamo=None):
    """('torchscript' | 'dynamo', reason): the route export() takes on this PyTorch.

    dynamo=None (the default) picks the faithful one: TorchScript wherever PyTorch still has it (1.13: the only
    one; 2.x: asked for with dynamo=False, although 2.9+ defaults to dynamo), dynamo only where TorchScript is
    gone. dynamo=True / False asks for one; a route this PyTorch lacks raises RuntimeError saying what to do.
    """
    version = _check_supported(bool(dynamo))
    has_dynamo = version >= MIN_TORCH_DYNAMO and 'dynamo' in _export_parameters()
    has_torchscript = _torchscript_exporter_available()
    if dynamo:
        if not has_dynamo:
            raise RuntimeError(
                f'dynamo=True needs torch.onnx.export(..., dynamo=True), which this PyTorch {torch.__version__} '
                f'lacks; leave dynamo unset for the TorchScript exporter'
            )
        return 'dynamo', _REASON_DYNAMO_REQUESTED
    if has_torchscript:
        if not has_dynamo:
            return 'torchscript', _REASON_ONLY_TORCHSCRIPT
        return 'torchscript', (_REASON_TORCHSCRIPT_FAITHFUL if dynamo is None else _REASON_TORCHSCRIPT_REQUESTED)
    if dynamo is None and has_dynamo:
        return 'dynamo', _REASON_NO_TORCHSCRIPT
    raise RuntimeError(
        f'PyTorch {torch.__version__} has no TorchScript ONNX exporter (torch._C.{_DEDUP_PASS} is gone), '
        + (
            'and dynamo=False was requested: use dynamo=True (--exporter dynamo), or PyTorch 1.13 to 2.13'
            if has_dynamo
            else 'nor the dynamo exporter: use PyTorch 1.13 to 2.13'
        )
    )


def export(model, args, f, *, dynamo=None, **export_kwargs):
    """Export `model` to a faithful ONNX file `f` and attach the manifest. Returns the manifest.

    `args` and `export_kwargs` are those of torch.onnx.export. dynamo=None (default) takes the faithful route
    (see choose_exporter): the TorchScript exporter wherever PyTorch has it, which the helper sets, unless the
    caller says otherwise, to training=TrainingMode.PRESERVE (with the model put in eval mode for the export),
    i.e. no eval-mode peephole (Conv+BN fusion); do_constant_folding=False; keep_initializers_as_inputs=False;
    export_params=True. dynamo=True (PyTorch >= 2.5) takes the torch.export-based exporter with optimize=False.
    The route and why are in the manifest (exporter, exportSettings.exporterReason); what could not be kept
    faithful is listed in its `altered`.
    """
    _require_torch()
    route, reason = choose_exporter(dynamo)
    if not isinstance(model, torch.nn.Module):
        raise TypeError(f'export() needs a torch.nn.Module, got {type(model).__name__}')
    if route == 'dynamo':
        return _export_dynamo(model, args, f, export_kwargs, reason)
    return _export_torchscript(model, args, f, export_kwargs, reason)


def _write_target(f):
    """(path or None, file object or None)."""
    if isinstance(f, (str, os.PathLike)):
        return os.fspath(f), None
    if hasattr(f, 'write'):
        return None, f
    raise TypeError(f'f must be a path or a writable binary file, got {type(f).__name__}')


def _finish(model, data, path, fileobj, exporter, settings, altered, merged=()):
    info = inspect_onnx(data)
    man = manifest(model, exporter=exporter, opset=info['opset'], export_settings=settings, altered=altered)
    _check_exported(info, man, man['altered'], set(merged))
    out = attach_bytes(data, man)
    if path is not None:
        tmp = path + '.paramtrace-tmp'
        with open(tmp, 'wb') as fh:
            fh.write(out)
        os.replace(tmp, path)
    else:
        fileobj.write(out)
    return man


def _export_torchscript(model, args, f, kwargs, reason):
    params = _export_parameters()
    T = torch.onnx.TrainingMode
    altered = []
    kw = dict(kwargs)
    use_preserve = 'training' in params
    defaults = {
        'do_constant_folding': False,
        'keep_initializers_as_inputs': False,
        'export_params': True,
    }
    if use_preserve:
        defaults['training'] = T.PRESERVE
    for key, value in defaults.items():
        if key not in kw:
            kw[key] = value
        elif kw[key] != value:
            altered.append(f'{key}={_jsonable(kw[key])} was requested; the faithful setting is {_jsonable(value)}')
    if kw.get('training', T.PRESERVE) == T.EVAL:
        altered.append('training=EVAL: the eval peephole pass may fold BatchNormalization into Conv')
    if kw.get('training', T.PRESERVE) == T.TRAINING:
        altered.append('training=TRAINING: BatchNormalization and Dropout are exported in training mode')
    if 'dynamo' in params:  # 2.5+: the TorchScript exporter must be asked for (2.9 defaults to dynamo)
        kw['dynamo'] = False
    path, fileobj = _write_target(f)

    record = {}
    settings = {k: _jsonable(v) for k, v in kw.items()}
    settings['exporterReason'] = reason
    patches = []
    with contextlib.ExitStack() as stack:
        stack.enter_context(_eval_mode(model))
        stack.enter_context(_storage_only_dedup(record))
        if not use_preserve:
            stack.enter_context(_no_eval_peephole(record))
            patches.append('torch._C._jit_pass_onnx_eval_peephole skipped (no Conv+BatchNormalization fusion)')
        buf = io.BytesIO()
        with warnings.catch_warnings():  # 2.x: "the TorchScript-based exporter is deprecated"; chosen on purpose
            warnings.filterwarnings(
                'ignore', message=r'.*legacy TorchScript-based ONNX export', category=DeprecationWarning
            )
            try:
                torch.onnx.export(model, args, buf, **kw)
                data = buf.getvalue()
            except Exception as err:
                if not _over_protobuf_limit(err):
                    raise RuntimeError(f'torch.onnx.export failed: {type(err).__name__}: {err}') from err
                # Over protobuf's 2 GiB: the weights must go to external data files beside the model, which
                # the exporter writes only for a path; the structure it leaves is small enough to edit.
                if path is None:
                    raise RuntimeError(
                        'the model is larger than protobuf\'s 2 GiB limit, so its weights go to external data '
                        'files beside the ONNX file: pass a file path, not a file object'
                    ) from err
                data = _export_with_external_data(model, args, kw, path)
    if record.get('available') and not record.get('calls') and kw.get('keep_initializers_as_inputs') is False:
        altered.append(
            f'the exporter did not call torch._C.{_DEDUP_PASS} through torch._C (this PyTorch calls it '
            f'differently), so equal-valued tensors may have been merged; pass dynamo=True (PyTorch >= 2.5) '
            f'for the dynamo exporter, which never merges by value'
        )
    if record.get('calls'):
        patches.append(
            'torch._C._jit_pass_onnx_deduplicate_initializers called with is_train=True '
            '(merge only tensors sharing storage, never equal values)'
        )
    if record.get('unexpected_signature'):
        altered.append(
            f'torch._C.{_DEDUP_PASS} has an unexpected signature in this PyTorch, so it ran unpatched and '
            f'equal-valued tensors may be merged; pass dynamo=True (PyTorch >= 2.5) for the dynamo exporter'
        )
    for gone, into in record.get('merged', []):
        altered.append(f'{gone!r} shares storage with {into!r} and is stored once, as {into!r}')
    settings['patches'] = patches
    merged = [gone for gone, _ in record.get('merged', [])]
    return _finish(model, data, path, fileobj, 'torchscript', settings, altered, merged)


def _over_protobuf_limit(err):
    text = str(err)
    return '2GiB limit' in text or '2GB limit' in text or 'larger than 2' in text


def _export_with_external_data(model, args, kw, path):
    """Export to a fresh folder (the exporter writes one external data file per tensor there), move those
    files beside `path` and return the model's structure bytes, which point at them by file name."""
    import tempfile

    target_dir = os.path.dirname(os.path.abspath(path))
    with tempfile.TemporaryDirectory(prefix='paramtrace-export-', dir=target_dir) as work:
        staged = os.path.join(work, 'model.onnx')
        try:
            torch.onnx.export(model, args, staged, **kw)
        except Exception as err:
            raise RuntimeError(f'torch.onnx.export failed: {type(err).__name__}: {err}') from err
        with open(staged, 'rb') as fh:
            data = fh.read()
        for name in os.listdir(work):
            if name != 'model.onnx':
                os.replace(os.path.join(work, name), os.path.join(target_dir, name))
    return data


def _canonical_initializer_names(model, program):
    """Rename initializers stored under an alias (torch.export keeps a tied weight under its last name, e.g.
    head.weight for emb.weight) to the canonical name, in the ONNXProgram's in-memory IR before it is saved.
    Returns what was renamed, for exportSettings.patches; leaves the graph alone where the IR is not reachable
    (the post-export check then reports the alias in `altered`)."""
    graph = getattr(getattr(program, 'model', None), 'graph', None)
    initializers = getattr(graph, 'initializers', None)
    if initializers is None:
        return []
    canonical = {}
    for attr, named in (('_parameters', model.named_parameters()), ('_buffers', model.named_buffers())):
        all_names = _all_names(model, attr)
        for name, t in named:
            for alias in all_names.get(id(t), [name]):
                if alias != name:
                    canonical[alias] = name
    done = []
    for stored in list(initializers):
        name = canonical.get(stored)
        if name is None or name in initializers:
            continue
        try:
            initializers[stored].name = name
        except Exception:  # pragma: no cover - an IR that does not allow renaming
            continue
        if name in initializers and stored not in initializers:
            done.append(f'initializer {stored!r} renamed to its canonical name {name!r} (one tied tensor)')
    return done


def _export_dynamo(model, args, f, kwargs, reason):
    """torch.onnx.export(..., dynamo=True): torch.export + the ONNX (torchlib) translator.

    Initializers carry the parameters' qualified names; the graph optimizer (constant folding) is turned off
    with optimize=False where the exporter accepts it. The model is exported in eval mode (BatchNormalization
    uses running statistics: _native_batch_norm_legit_no_training). torch.export keeps a tied weight under
    its last name (head.weight for emb.weight): it is renamed to the canonical name before the file is saved.
    """
    params = _export_parameters()
    altered = []
    kw = dict(kwargs)
    kw['dynamo'] = True
    if 'optimize' in params:
        if kw.get('optimize', False):
            altered.append('optimize=True was requested: the ONNX optimizer may fold or merge weights')
        kw.setdefault('optimize', False)
    ignored = {}
    for drop in ('training', 'do_constant_folding', 'operator_export_type', 'keep_initializers_as_inputs'):
        if drop in kw:  # TorchScript-exporter settings; the dynamo exporter neither folds BN nor merges by value
            ignored[drop] = _jsonable(kw.pop(drop))
    if 'verbose' in params:  # no progress lines on stdout
        kw.setdefault('verbose', False)
    if 'external_data' in params:  # one self-contained file (weights over 2 GB are still written apart)
        kw.setdefault('external_data', False)
    path, fileobj = _write_target(f)
    if fileobj is not None and kw.get('external_data'):
        raise TypeError('with dynamo=True and external_data=True, f must be a path')
    settings = {k: _jsonable(v) for k, v in kw.items()}
    settings['exporterReason'] = reason
    if ignored:
        settings['ignored'] = ignored
    if 'optimize' not in params:
        settings['note'] = (
            'this torch.onnx.export has no optimize argument; altered lists any initializer that is not a '
            'PyTorch tensor'
        )
    if isinstance(model, torch.jit.ScriptModule):
        raise RuntimeError(
            'the dynamo exporter cannot export a torch.jit.script module; leave dynamo unset (TorchScript exporter)'
        )
    external_data = bool(kw.pop('external_data', False))
    with _eval_mode(model):
        try:
            program = torch.onnx.export(model, args, **kw)  # no f: the ONNXProgram, saved below
        except Exception as err:
            root = err
            while root.__cause__ is not None and root.__cause__ is not root:
                root = root.__cause__
            text = f'{type(err).__name__}: {_first_line(err)}'
            if root is not err:
                text += f' (caused by {type(root).__name__}: {_first_line(root)})'
            raise RuntimeError(f'torch.onnx.export(dynamo=True) failed: {text}') from err
    patches = _canonical_initializer_names(model, program)
    settings['patches'] = patches
    with contextlib.ExitStack() as stack:
        target = path
        if target is None:  # a file object: save to a temporary file, then copy its bytes
            tmpdir = stack.enter_context(tempfile.TemporaryDirectory(prefix='paramtrace-'))
            target = os.path.join(tmpdir, 'model.onnx')
        try:
            program.save(target, external_data=external_data)
        except TypeError:  # pragma: no cover - an ONNXProgram.save without external_data
            program.save(target)
        with open(target, 'rb') as fh:
            data = fh.read()
    return _finish(model, data, path, fileobj, 'dynamo', settings, altered)


# --------------------------------------------------------------------------------------------------------------
# Command line


class _CliError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        raise _CliError(message)


# The dtypes an example input may have (--input 1x10:int64): these names of _DTYPE_NAMES.
_INPUT_DTYPES = {
    name: _DTYPE_NAMES[name]
    for name in ('float32', 'float', 'float16', 'half', 'bfloat16', 'float64', 'double', 'int64', 'long',
                 'int32', 'int', 'int16', 'int8', 'uint8', 'bool')
}


def parse_input_spec(spec):
    """'1x3x224x224' or '1x10:int64' -> (shape tuple, dtype name)."""
    text = spec.strip()
    dims_text, _, dtype = text.partition(':')
    dtype = (dtype or 'float32').strip().lower()
    if dtype not in _INPUT_DTYPES:
        raise _CliError(f'bad --input {spec!r}: unknown dtype {dtype!r} (use one of {", ".join(sorted(_INPUT_DTYPES))})')
    if not re.fullmatch(r'\d+(x\d+)*', dims_text.strip()):
        raise _CliError(f'bad --input {spec!r}: expected dimensions like 1x3x224x224, optionally :dtype')
    shape = tuple(int(d) for d in dims_text.strip().split('x'))
    return shape, _INPUT_DTYPES[dtype]


def make_input(shape, dtype_name):
    """A deterministic example input: standard normal for floating types, zeros for integers and bool."""
    dtype = getattr(torch, dtype_name)
    if dtype.is_floating_point:
        gen = torch.Generator().manual_seed(0)
        return torch.randn(shape, generator=gen, dtype=torch.float32).to(dtype)
    return torch.zeros(shape, dtype=dtype)


def _cwd_module_file(module_name):
    """The file under the current directory that the dotted name `module_name` names, or None."""
    parts = module_name.split('.')
    if not all(p.isidentifier() for p in parts):
        return None
    base = os.path.join(os.getcwd(), *parts)
    for candidate in (base + '.py', os.path.join(base, '__init__.py')):
        if os.path.isfile(candidate):
            return os.path.abspath(candidate)
    return None


def _import_module(module_name):
    """importlib.import_module, except that a module file under the current directory wins.

    A regular package elsewhere on sys.path shadows a directory without __init__.py under the current directory
    (the standard library's `test` package hides ./test/support/torch_models.py from `test.support.torch_models`).
    When the dotted name names a file under the current directory and the import fails or finds another file,
    that file is loaded by path under the dotted name.
    """
    path = _cwd_module_file(module_name)
    if path is None:
        return importlib.import_module(module_name)
    try:
        module = importlib.import_module(module_name)
    except ImportError:
        module = None
    if module is not None and os.path.abspath(getattr(module, '__file__', None) or '') == path:
        return module
    is_package = os.path.basename(path) == '__init__.py'
    spec = importlib.util.spec_from_file_location(
        module_name, path, submodule_search_locations=[os.path.dirname(path)] if is_package else None
    )
    module = importlib.util.module_from_spec(spec)
    previous = sys.modules.get(module_name)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        if previous is None:
            sys.modules.pop(module_name, None)
        else:
            sys.modules[module_name] = previous
        raise
    return module


def split_model_spec(spec):
    """'package.module:factory' -> ('package.module', 'factory'), or _CliError."""
    module_name, sep, attr = spec.partition(':')
    if not sep or not module_name or not attr:
        raise _CliError(f'bad --model {spec!r}: expected package.module:factory')
    return module_name, attr


def load_factory(spec):
    """'package.module:factory' -> the model the factory returns (the current directory is on sys.path)."""
    module_name, attr = split_model_spec(spec)
    if os.getcwd() not in sys.path and '' not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        module = _import_module(module_name)
    except Exception as err:
        raise _CliError(f'cannot import {module_name!r}: {type(err).__name__}: {err}') from err
    obj = module
    for part in attr.split('.'):
        if not hasattr(obj, part):
            raise _CliError(f'{module_name!r} has no attribute {attr!r}')
        obj = getattr(obj, part)
    if not callable(obj):
        raise _CliError(f'{spec!r} is not callable')
    try:
        model = obj()
    except Exception as err:
        raise _CliError(f'{spec}() failed: {type(err).__name__}: {err}') from err
    if not isinstance(model, _require_torch().nn.Module):
        raise _CliError(f'{spec}() returned {type(model).__name__}, not a torch.nn.Module')
    return model


def main(argv=None):
    parser = _Parser(
        prog='paramtrace_torch.py',
        description='Export a PyTorch model to a faithful ONNX file with a paramtrace declared-parameter manifest.',
    )
    parser.add_argument('--model', required=True, help='package.module:factory (called with no arguments)')
    parser.add_argument(
        '--input', action='append', default=[], metavar='SHAPE[:DTYPE]', help='an example input, e.g. 1x3x224x224'
    )
    parser.add_argument('-o', '--output', help='the ONNX file to write')
    parser.add_argument('--opset', type=int, help='ONNX opset version')
    parser.add_argument(
        '--exporter',
        choices=('auto', 'torchscript', 'dynamo'),
        default='auto',
        help='auto (default): the faithful one, TorchScript wherever PyTorch has it; dynamo needs PyTorch >= 2.5',
    )
    parser.add_argument('--dynamo', action='store_true', help='the same as --exporter dynamo')
    parser.add_argument('--manifest-only', action='store_true', help='print the manifest JSON; export nothing')
    try:
        opts = parser.parse_args(argv)
        # Arguments first, PyTorch (seconds to import) only once they are right.
        if opts.dynamo:
            if opts.exporter == 'torchscript':
                raise _CliError('--dynamo contradicts --exporter torchscript')
            opts.exporter = 'dynamo'
        if not opts.manifest_only:
            if not opts.output:
                raise _CliError('-o/--output is required (or --manifest-only)')
            if not opts.input:
                raise _CliError('at least one --input SHAPE[:DTYPE] is required')
        specs = [parse_input_spec(s) for s in opts.input]
        split_model_spec(opts.model)
        _require_torch()
        if not opts.manifest_only:
            choose_exporter({'auto': None, 'torchscript': False, 'dynamo': True}[opts.exporter])
        model = load_factory(opts.model)
        if opts.manifest_only:
            print(json.dumps(manifest(model), indent=2))
            return 0
        inputs = tuple(make_input(shape, dtype) for shape, dtype in specs)
        kwargs = {'input_names': [f'input_{k}' for k in range(len(inputs))]}
        if opts.opset is not None:
            kwargs['opset_version'] = opts.opset
        if opts.exporter != 'auto':
            kwargs['dynamo'] = opts.exporter == 'dynamo'
        man = export(model, inputs, opts.output, **kwargs)
    except _CliError as err:
        print(f'paramtrace_torch: error: {err}', file=sys.stderr)
        return 2
    except Exception as err:  # one line, no traceback
        message = str(err).strip().splitlines()
        text = message[0] if message else type(err).__name__
        if not isinstance(err, RuntimeError):
            text = f'{type(err).__name__}: {text}'
        print(f'paramtrace_torch: error: {text}', file=sys.stderr)
        return 2
    declared = sum(t['numel'] for t in man['tensors'] if t['kind'] == 'parameter')
    n_params = sum(1 for t in man['tensors'] if t['kind'] == 'parameter')
    reason = man['exportSettings'].get('exporterReason', '')
    note = f', {len(man["altered"])} not faithful (see manifest.altered)' if man['altered'] else ''
    print(
        f'{opts.output}: {man["modelClass"]}, {declared:,} declared parameters in {n_params} tensors, '
        f'{man["exporter"]} exporter ({_SHORT_REASONS.get(reason, reason)}), opset {man["opset"]}{note}'
    )
    return 0


if __name__ == '__main__':
    sys.exit(main())
