#!/usr/bin/python3
"""Writes src/analysis/op-schemas.generated.ts: the role of every formal input of every ONNX operator.

Run with Debian's python (the one that has onnx):  /usr/bin/python3 scripts/gen_op_schemas.py

The analyzer asks one question per (node, input): "if a constant tensor sits at this input, what is it?"
counting.md answers it in words: a parameter is a floating-point constant that reaches a weight-like input
of a compute node; "shape, axes, index and scalar-constant inputs are not parameters; BatchNormalization's
input_mean and input_var are buffers"; and a quantized weight behind DequantizeLinear is a parameter.
This script turns that into a table, from ONNX's own operator schemas (onnx.defs), for every
(domain, op, since_version). Each input gets one role; the first rule that applies wins:

 1. 'buffer': BatchNormalization's running statistics, by schema input name (input_mean, input_var in
    opset >= 14; mean, var before). counting.md: they are buffers, not parameters. ONNX calls them
    Differentiable, so this must come before rule 4.
 2. 'meta': names ending in `_scale` or `_zero_point`. These are quantization metadata (float scales and
    integer zero points of QuantizeLinear, DequantizeLinear, QLinear*, *Integer), not learned weights,
    even though a scale is a float tensor.
 3. 'qweight': the integer stored value of a quantized weight. Only for the quantized operator families:
    DequantizeLinear, every op whose name starts with `QLinear` (QLinearConv, QLinearMatMul) and every op
    whose name ends with `Integer` (ConvInteger, MatMulInteger). Within them, an input is a qweight when
    every type it allows is an integer tensor type (int8/uint8/int32, ...) and rule 2 did not claim it:
    DequantizeLinear x, QLinearConv x/w/B, QLinearMatMul a/b, ConvInteger x/w, MatMulInteger A/B. The
    activation-side inputs (x, a, A) get the role too: the role says what a *constant* at that input is,
    and a constant there is a stored quantized tensor just as w is. Its numel counts, like a float weight.
 4. The schema's differentiation category: Differentiable -> 'weight' (a gradient flows into it, so a
    constant there is something a model could learn); NonDifferentiable -> 'meta' (shapes, axes,
    indices, starts/ends, pads, Clip's min/max, Dropout's ratio, If's condition, Loop's trip count).
 5. Category Unknown (most schemas written before opset 13 never set one): borrow the category that
    another version of the same op gives the input of the same name (nearest newer version first, then
    nearest older), then apply rule 4. This makes Clip-11's min/max, Pad-11's constant_value,
    Resize-11's roi/scales, Reshape-5's shape and the comparison ops' inputs 'meta' as their newer
    versions say, instead of guessing from their float type.
 6. Still Unknown, and listed in NOT_PARAMETER below: 'meta'. Each entry is an input that allows a float
    type but is never a learned weight: thresholds, scales and range bounds (scalar constants), tensors
    only read for their shape (RandomNormalLike, EyeLike), inputs of ops whose result is indices or
    booleans (NonMaxSuppression, OptionalHasElement, SequenceLength), sampling probabilities, optimizer
    learning rates, and loop-carried initial state (Loop v_initial, Scan's state: a float constant there
    is an initial value such as zeros; weights reach Loop and Scan bodies as outer-scope names, which the
    analyzer follows into the body).
 7. Still Unknown: 'weight' when the allowed types (the type constraint named by typeStr, or the literal
    type string; element type inside seq()/optional()) include a floating type (float, float16, double,
    bfloat16); otherwise 'meta'. Examples: LayerNormalization's Scale and B (opset 17 sets no category).

`variadic` is true when the last formal input is Variadic: node inputs past the end of `inputs` take the
last role.

Things the table cannot decide and the analyzer must: a scalar (one-element) float constant at a 'weight'
input (Mul by 0.5, Pow by 2) is not a parameter either; the table only knows input positions, not shapes.
"""

import os
import re
import sys
from collections import defaultdict

import onnx
from onnx import defs

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'src', 'analysis', 'op-schemas.generated.ts')

FLOAT_TYPES = {'float', 'float16', 'double', 'bfloat16'}
INT_TYPES = {'int8', 'uint8', 'int16', 'uint16', 'int32', 'uint32', 'int64', 'uint64'}
BN_BUFFERS = {'input_mean', 'input_var', 'mean', 'var'}

# Rule 6: (domain, op) -> input names that are never parameters although they allow a float type.
NOT_PARAMETER = {
    ('', 'NonMaxSuppression'): {'boxes', 'scores', 'iou_threshold', 'score_threshold'},
    ('', 'Range'): {'start', 'limit', 'delta'},
    ('', 'Tile'): {'tiles', 'axis'},
    ('', 'Upsample'): {'scales'},
    ('', 'RoiAlign'): {'rois'},
    ('', 'RandomNormalLike'): {'input'},
    ('', 'RandomUniformLike'): {'input'},
    ('', 'EyeLike'): {'input'},
    ('', 'Bernoulli'): {'input'},
    ('', 'Multinomial'): {'input'},
    ('', 'OptionalHasElement'): {'input'},
    ('', 'SequenceLength'): {'input_sequence'},
    ('', 'Loop'): {'v_initial'},
    ('', 'Scan'): {'initial_state_and_scan_inputs'},
    ('ai.onnx.preview.training', 'Adagrad'): {'R'},
    ('ai.onnx.preview.training', 'Adam'): {'R'},
    ('ai.onnx.preview.training', 'Momentum'): {'R'},
}


def category(inp):
    """'Differentiable', 'NonDifferentiable' or 'Unknown'."""
    return str(inp.differentiationCategory).rsplit('.', 1)[-1]


def allowed_types(schema, inp):
    """Type strings an input allows: through the type constraint its typeStr names, else typeStr itself."""
    for c in schema.type_constraints:
        if c.type_param_str == inp.typeStr:
            return list(c.allowed_type_strs)
    return [inp.typeStr]


def element_type(type_str):
    """'seq(tensor(float))' -> 'float'."""
    m = re.search(r'tensor\(([a-z0-9]+)\)', type_str)
    return m.group(1) if m else type_str


def is_quantized_family(op):
    return op == 'DequantizeLinear' or op.startswith('QLinear') or op.endswith('Integer')


def key_of(domain, op):
    return op if domain in ('', 'ai.onnx') else f'{domain}:{op}'


def build_table(stats=None):
    """{key: [(since, [role, ...], variadic), ...]} for every schema, plus per-rule counts in `stats`."""
    schemas = defs.get_all_schemas_with_history()
    if stats is None:
        stats = defaultdict(int)

    # (domain, op, input name) -> [(since, category)] for inputs whose category is known (rule 5).
    known = defaultdict(list)
    for s in schemas:
        for inp in s.inputs:
            c = category(inp)
            if c != 'Unknown':
                known[(s.domain, s.name, inp.name)].append((s.since_version, c))

    def borrowed(s, inp):
        versions = known.get((s.domain, s.name, inp.name))
        if not versions:
            return None
        newer = sorted(v for v in versions if v[0] > s.since_version)
        older = sorted((v for v in versions if v[0] < s.since_version), reverse=True)
        return (newer or older)[0][1]

    def role(s, inp):
        name = inp.name
        types = {element_type(t) for t in allowed_types(s, inp)}
        if s.name == 'BatchNormalization' and name in BN_BUFFERS:
            stats['rule1 buffer'] += 1
            return 'buffer'
        if name.endswith('_scale') or name.endswith('_zero_point'):
            stats['rule2 quantization metadata'] += 1
            return 'meta'
        if is_quantized_family(s.name) and types and types <= INT_TYPES:
            stats['rule3 qweight'] += 1
            return 'qweight'
        c = category(inp)
        if c == 'Unknown':
            b = borrowed(s, inp)
            if b is not None:
                stats['rule5 borrowed category'] += 1
                c = b
        if c == 'Differentiable':
            stats['rule4 differentiable'] += 1
            return 'weight'
        if c == 'NonDifferentiable':
            stats['rule4 non-differentiable'] += 1
            return 'meta'
        if name in NOT_PARAMETER.get((s.domain, s.name), ()):
            stats['rule6 listed not-a-parameter'] += 1
            return 'meta'
        if types & FLOAT_TYPES:
            stats['rule7 unknown, float-typed'] += 1
            return 'weight'
        stats['rule7 unknown, not float'] += 1
        return 'meta'

    table = defaultdict(list)
    for s in schemas:
        inputs = [role(s, inp) for inp in s.inputs]
        variadic = bool(s.inputs) and s.inputs[-1].option == defs.OpSchema.FormalParameterOption.Variadic
        table[key_of(s.domain, s.name)].append((s.since_version, inputs, variadic))
    for key in table:
        table[key].sort(key=lambda e: e[0])
    return table


def main():
    stats = defaultdict(int)
    table = build_table(stats)
    lines = [
        f"// Generated by scripts/gen_op_schemas.py from ONNX {onnx.__version__}'s operator schemas. Do not edit.",
        "export type InputRole = 'weight' | 'qweight' | 'buffer' | 'meta';",
        'export interface OpSchemaEntry { since: number; inputs: readonly InputRole[]; variadic: boolean }',
        '/** Key: op type for the default domain, `domain:OpType` otherwise. Entries ascending by `since`. */',
        'export const OP_SCHEMAS: Readonly<Record<string, readonly OpSchemaEntry[]>> = {',
    ]
    for key in sorted(table, key=lambda k: (':' in k, k)):
        entries = sorted(table[key], key=lambda e: e[0])
        parts = []
        for since, inputs, variadic in entries:
            roles = ', '.join(f"'{r}'" for r in inputs)
            parts.append(f"{{ since: {since}, inputs: [{roles}], variadic: {'true' if variadic else 'false'} }}")
        lines.append(f"  '{key}': [{', '.join(parts)}],")
    lines.append('};')
    text = '\n'.join(lines) + '\n'
    with open(OUT, 'w', encoding='utf-8', newline='\n') as f:
        f.write(text)

    # Spot checks from the brief: fail loudly if a rule change breaks one.
    def latest(key, since=None):
        entries = sorted(table[key], key=lambda e: e[0])
        if since is not None:
            entries = [e for e in entries if e[0] <= since]
        return entries[-1][1]

    checks = {
        ('Conv', None): ['weight', 'weight', 'weight'],
        ('Reshape', None): ['weight', 'meta'],
        ('BatchNormalization', 15): ['weight', 'weight', 'weight', 'buffer', 'buffer'],
        ('BatchNormalization', 7): ['weight', 'weight', 'weight', 'buffer', 'buffer'],
        ('Gather', None): ['weight', 'meta'],
        ('LayerNormalization', None): ['weight', 'weight', 'weight'],
        ('DequantizeLinear', None): ['qweight', 'meta', 'meta'],
        ('Clip', None): ['weight', 'meta', 'meta'],
        ('Clip', 11): ['weight', 'meta', 'meta'],
        ('If', None): ['meta'],
        ('MatMul', None): ['weight', 'weight'],
        ('Gemm', None): ['weight', 'weight', 'weight'],
    }
    failed = False
    for (key, since), want in checks.items():
        got = latest(key, since)
        if got != want:
            print(f'SPOT CHECK FAILED: {key}{"" if since is None else "-" + str(since)}: {got} != {want}')
            failed = True

    n_entries = sum(len(v) for v in table.values())
    print(f'onnx {onnx.__version__}: {len(table)} ops, {n_entries} (op, since) entries -> {os.path.relpath(OUT)}')
    for k in sorted(stats):
        print(f'  {k}: {stats[k]} inputs')
    print('  spot checks: ' + ('FAILED' if failed else 'ok'))
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
