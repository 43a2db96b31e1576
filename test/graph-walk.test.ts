// Layer calls from the exporters' scopes.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  callOf,
  callPath,
  parameterPath,
  sameCallFrames,
  splitRepeatedCalls,
  stripInlinePrefixes,
} from '../src/analysis/call-names.ts';
import type { OnnxNode } from '../src/onnx/model.ts';
import { analyzeStatically } from './fuzz/harness.ts';
import { inlinedModel } from './support/inlined-model.ts';
import { encode, msg, str, type Message } from './fuzz/proto.ts';
import * as gen from './fuzz/onnx-gen.ts';

function node(name: string, metadata: Record<string, string> = {}, opType = 'Conv'): OnnxNode {
  return {
    id: '3',
    name,
    opType,
    domain: '',
    inputs: [],
    outputs: [],
    attributes: [],
    subgraphs: [],
    metadata,
  };
}

test('TorchScript node names: the scope is the call, a second call of a module has its own name', () => {
  assert.deepEqual(callOf(node('/layer1/layer1.0/conv1/Conv'), ''), {
    key: '|scope:layer1.0.conv1',
    name: 'layer1.0.conv1',
  });
  assert.equal(callOf(node('/conv1_1/Conv'), '').name, 'conv1_1');
  // Root-level ops (`/Relu`) have no module scope: each is its own call.
  assert.equal(callOf(node('/Relu'), '').name, '/Relu');
});

test('dynamo name_scopes metadata: the last module path is the call, not the node name that ends the list', () => {
  const scoped = node('conv2d_3', {
    'pkg.torch.onnx.name_scopes': "['', 'layer1', 'layer1.0', 'layer1.0.conv1', 'conv2d_3']",
  });
  assert.equal(callOf(scoped, '').name, 'layer1.0.conv1');
  const root = node('add', { 'pkg.torch.onnx.name_scopes': "['', 'add']" });
  assert.equal(callOf(root, '').name, '(root)');
});

test('nodes without a scope are each their own call, and calls in subgraphs are apart from the main graph', () => {
  const plain = callOf(node('Conv_0'), '');
  assert.equal(plain.name, 'Conv_0');
  assert.notEqual(callOf(node('/fc/Gemm'), '7/then_branch').key, callOf(node('/fc/Gemm'), '').key);
  assert.equal(callOf(node(''), '').name, 'Conv#3');
});

test('inliner prefixes are set aside: the scope is read after them, the branch stays in the key and the name', () => {
  const then = callOf(node('If_0_then_branch__Inline_0__/encoder/0/reparam_conv/Conv'), '');
  assert.equal(then.name, 'encoder.0.reparam_conv (then)');
  const otherBranch = callOf(node('If_0_else_branch__Inline_0__/encoder/0/reparam_conv/Conv'), '');
  assert.equal(otherBranch.name, 'encoder.0.reparam_conv (else)');
  const plain = callOf(node('/encoder/0/reparam_conv/Conv'), '');
  assert.equal(plain.name, 'encoder.0.reparam_conv');
  // One call per inlined copy: the two branches and the plain module are three calls.
  assert.equal(new Set([then.key, otherBranch.key, plain.key]).size, 3);
  // Nodes of the same call in the same branch are one call.
  assert.equal(callOf(node('If_0_then_branch__Inline_0__/encoder/0/reparam_conv/Relu'), '').key, then.key);
  // Another If inlined the same way is another copy: its calls are apart.
  assert.notEqual(callOf(node('If_5_then_branch__Inline_3__/encoder/0/reparam_conv/Conv'), '').key, then.key);
  // Nested inlining stacks prefixes, outermost first.
  assert.equal(
    callOf(node('If_0_then_branch__Inline_0__If_2_else_branch__Inline_1__/dec/Conv'), '').name,
    'dec (then, else)',
  );
  // A root-level op after the prefix is its own call, still showing its branch.
  const root = callOf(node('If_0_else_branch__Inline_0__/Squeeze', {}, 'Squeeze'), '');
  assert.equal(root.name, '/Squeeze (else)');
  assert.equal(root.key, '|node:3');
  // An inlined function: the prefix names the call.
  assert.equal(callOf(node('block_3__Inline_2__/conv/Conv'), '').name, 'conv (inlined block_3)');
  assert.deepEqual(stripInlinePrefixes('If_0_then_branch__Inline_0__/a/Conv'), {
    prefix: 'If_0_then_branch__Inline_0__',
    labels: ['then'],
    rest: '/a/Conv',
  });
  assert.deepEqual(stripInlinePrefixes('conv__Inline'), { prefix: '', labels: [], rest: 'conv__Inline' });
});

test('scope paths without the leading slash only when the last component is the node’s operator', () => {
  assert.equal(callOf(node('encoder/0/conv/Conv'), '').name, 'encoder.0.conv');
  assert.equal(callOf(node('encoder/0/conv/Conv_2'), '').name, 'encoder.0.conv');
  // ONNX's own inliner appends `__N` to inlined node names.
  assert.equal(callOf(node('encoder/0/conv/Conv__5'), '').name, 'encoder.0.conv');
  assert.equal(callOf(node('model/dense/MatMul', {}, 'MatMul'), '').key, '|scope:model.dense');
  // Not clearly a scope path: the node is its own call.
  for (const name of ['Conv_0', 'conv1', 'a/b', 'a//Conv', 'model/dense/BiasAdd', 'x/Conv/']) {
    const call = callOf(node(name), '');
    assert.equal(call.key, '|node:3', name);
    assert.equal(call.name, name);
  }
});

test('callPath and parameterPath read a call’s or a parameter’s module path and context', () => {
  assert.deepEqual(callPath('layer1.0.conv1'), { path: ['layer1', '0', 'conv1'], context: '' });
  assert.deepEqual(callPath('encoder.0.conv (then)'), { path: ['encoder', '0', 'conv'], context: ' (then)' });
  assert.deepEqual(callPath('dec (then, else)'), { path: ['dec'], context: ' (then, else)' });
  assert.deepEqual(callPath('conv (inlined block_3)'), { path: ['conv'], context: ' (inlined block_3)' });
  for (const own of ['/Relu', 'Conv#3', '/Squeeze (else)', 'a..b', '.x'])
    assert.equal(callPath(own).path.length, 1, own);
  assert.deepEqual(callPath('odd (name)'), { path: ['odd (name)'], context: '' });
  // Parameters: the module is the name less its last component, an inliner's prefix set aside.
  assert.deepEqual(parameterPath('layer1.0.conv1.weight'), { path: ['layer1', '0', 'conv1'], context: '' });
  assert.deepEqual(parameterPath('If_0_else_branch__Inline_0__stft.basis (in 2/else_branch)'), {
    path: ['stft'],
    context: ' (else, in 2/else_branch)',
  });
  for (const own of ['onnx::Conv_194', 'W', 'a..b', 'x/y.z'])
    assert.deepEqual(parameterPath(own), { path: [own], context: '' }, own);
});

test('a model whose nodes an inliner renamed: one call per module call, not one per node', (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'paramtrace-inlined-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'inlined.onnx');
  writeFileSync(file, encode(inlinedModel()));
  const report = analyzeStatically(file);
  const withParams = report.layers.filter((l) => l.params > 0).map((l) => [l.name, l.params]);
  assert.deepEqual(withParams, [
    ['encoder.0.reparam_conv (then)', 20],
    ['encoder.1.reparam_conv (then)', 20],
    ['encoder.2.reparam_conv (then)', 20],
    ['encoder.3.reparam_conv (then)', 20],
    ['decoder.rnn (then)', 20],
    ['decoder.out (then)', 5],
  ]);
  // Each call's nodes are one call: MatMul and Add of a reparam_conv, no call per node.
  assert.equal(report.layers.length, 13);
  assert.deepEqual(report.shared, []);
});

// The dynamo exporter: name_scopes name the module, not the call.

const SCOPES = 'pkg.torch.onnx.name_scopes';
const STACK = 'pkg.torch.onnx.stack_trace';

/** A stack trace as the dynamo exporter writes it: `File "f", line N, in fn\n    code`, frames joined by `\n  `. */
function stack(...frames: [number, string][]): string {
  return frames.map(([line, fn]) => `File "m.py", line ${line}, in ${fn}\n    code_${line}`).join('\n  ');
}

/** Dynamo-scoped nodes with ids 0, 1, ..., each given its call by callOf, ready for splitRepeatedCalls. */
function dynamoNodes(specs: { scopes: string[]; trace?: string; op?: string }[]) {
  return specs.map((s, i) => {
    const metadata: Record<string, string> = { [SCOPES]: JSON.stringify(s.scopes).replace(/"/g, "'") };
    if (s.trace !== undefined) metadata[STACK] = s.trace;
    const n = { ...node(`node_${i}`, metadata, s.op ?? 'Conv'), id: String(i) };
    return { node: n, call: callOf(n, '') };
  });
}

test('dynamo: a node reading a weight its module call already read starts the next call (conv1, conv1_1)', () => {
  const t = stack([45, 'forward'], [565, 'forward']);
  const nodes = dynamoNodes([
    { scopes: ['', 'conv1', 'conv2d'], trace: t },
    { scopes: ['', 'conv1', 'conv2d_1'], trace: t },
    { scopes: ['', 'conv1', 'conv2d_2'], trace: t },
  ]);
  splitRepeatedCalls(nodes, new Map(nodes.map((n) => [n.node.id, ['|conv1.weight']])));
  assert.deepEqual(
    nodes.map((n) => [n.call.key, n.call.name]),
    [
      ['|scope:conv1', 'conv1'],
      ['|scope:conv1#1', 'conv1_1'],
      ['|scope:conv1#2', 'conv1_2'],
    ],
  );
});

test('dynamo: nodes of one call reading different weights, parameter-free nodes and one node reading twice stay in the call', () => {
  const nodes = dynamoNodes([
    { scopes: ['', 'fc', 'linear'], op: 'MatMul' }, // fc.weight
    { scopes: ['', 'fc', 'linear'], op: 'Add' }, // fc.bias
    { scopes: ['', 'fc', 'view'], op: 'Reshape' }, // no weight
    { scopes: ['', 'lstm', 'lstm'], op: 'LSTM' }, // its zero state twice, in one node
    { scopes: ['', 'fc', 'linear_1'], op: 'MatMul' }, // fc.weight again: the second call
    { scopes: ['', 'fc', 'linear_1'], op: 'Add' }, // fc.bias: with it
  ]);
  const reads = new Map([
    ['0', ['|fc.weight']],
    ['1', ['|fc.bias']],
    ['3', ['|W', '|zeros', '|zeros']],
    ['4', ['|fc.weight']],
    ['5', ['|fc.bias']],
  ]);
  splitRepeatedCalls(nodes, reads);
  assert.deepEqual(
    nodes.map((n) => n.call.name),
    ['fc', 'fc', 'fc', 'lstm', 'fc_1', 'fc_1'],
  );
});

test('dynamo: the root scope never splits, other exporters’ calls are left alone, the branch stays in the name', () => {
  const nodes = [
    ...dynamoNodes([
      { scopes: ['', 'add'], op: 'Add' },
      { scopes: ['', 'add_1'], op: 'Add' },
    ]),
    { node: { ...node('/conv1/Conv'), id: '2' }, call: callOf(node('/conv1/Conv'), '') },
    { node: { ...node('/conv1/Conv'), id: '3' }, call: callOf(node('/conv1/Conv'), '') },
  ];
  splitRepeatedCalls(nodes, new Map(['0', '1', '2', '3'].map((id) => [id, ['|pos_embed']])));
  assert.deepEqual(
    nodes.map((n) => n.call.name),
    ['(root)', '(root)', 'conv1', 'conv1'],
  );
  const inlined = (id: string) => {
    const n = {
      ...node('If_0_then_branch__Inline_0__node_conv', { [SCOPES]: "['', 'conv1', 'conv2d']" }),
      id,
    };
    return { node: n, call: callOf(n, '') };
  };
  const branch = [inlined('0'), inlined('1')];
  splitRepeatedCalls(
    branch,
    new Map([
      ['0', ['|w']],
      ['1', ['|w']],
    ]),
  );
  assert.deepEqual(
    branch.map((n) => n.call.name),
    ['conv1 (then)', 'conv1_1 (then)'],
  );
});

test('dynamo: two reads from two lines of one module forward are one call; the same line, or another caller line, is another call', () => {
  // block is one level below the root: the reads share the root's forward frame, then differ inside block.
  const first = stack([15, 'forward'], [7, 'forward']);
  const inside = stack([15, 'forward'], [8, 'forward']);
  const otherCaller = stack([18, 'forward'], [7, 'forward']);
  assert.equal(sameCallFrames(first, inside, 1), true);
  assert.equal(sameCallFrames(first, first, 1), false, 'identical traces: fc(fc(x)) or a loop of calls');
  assert.equal(sameCallFrames(first, otherCaller, 1), false);
  assert.equal(sameCallFrames(first, undefined, 1), false);
  // Two levels down (layer.qkv): the shared frames must hold the root's and layer's forward.
  assert.equal(
    sameCallFrames(
      stack([3, 'forward'], [20, 'forward'], [7, 'forward']),
      stack([3, 'forward'], [20, 'forward'], [9, 'forward']),
      2,
    ),
    true,
  );
  assert.equal(
    sameCallFrames(
      stack([3, 'forward'], [20, 'forward'], [7, 'forward']),
      stack([3, 'forward'], [21, 'forward'], [7, 'forward']),
      2,
    ),
    false,
  );
  // A helper frame that is no forward does not count.
  assert.equal(
    sameCallFrames(
      stack([3, 'forward'], [5, 'encode'], [7, 'forward']),
      stack([3, 'forward'], [5, 'encode'], [8, 'forward']),
      2,
    ),
    false,
  );

  const nodes = dynamoNodes([
    { scopes: ['', 'block', 'matmul'], trace: first },
    { scopes: ['', 'block', 'matmul_1'], trace: inside },
    { scopes: ['', 'block', 'matmul_2'], trace: otherCaller },
    { scopes: ['', 'block', 'matmul_3'], trace: stack([18, 'forward'], [8, 'forward']) },
  ]);
  splitRepeatedCalls(nodes, new Map(nodes.map((n) => [n.node.id, ['|block.w']])));
  assert.deepEqual(
    nodes.map((n) => n.call.name),
    ['block', 'block', 'block_1', 'block_1'],
  );
});

/** A NodeProto with metadata_props (field 9). */
function withMetadata(n: Message, metadata: Record<string, string>): Message {
  return [...n, ...Object.entries(metadata).map(([k, v]) => msg(9, [str(1, k), str(2, v)]))];
}

test('dynamo, whole walk: weights of two or more float elements split calls, a shared one-element scale does not', (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'paramtrace-dynamo-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const scoped = (op: string, inputs: string[], out: string, scopes: string) =>
    withMetadata(gen.node({ op, inputs, outputs: [out], name: `node_${out}` }), { [SCOPES]: scopes });
  // attn: q and k both scaled by `scale` [1] (one call); fc: MatMul(W) twice (two calls).
  const nodes = [
    scoped('Mul', ['x', 'scale'], 'q', "['', 'attn', 'mul']"),
    scoped('Mul', ['x', 'scale'], 'k', "['', 'attn', 'mul_1']"),
    scoped('Add', ['q', 'k'], 'a', "['', 'attn', 'add']"),
    scoped('MatMul', ['a', 'W'], 'h', "['', 'fc', 'linear']"),
    scoped('MatMul', ['h', 'W'], 'y', "['', 'fc', 'linear_1']"),
  ];
  const file = path.join(dir, 'dynamo.onnx');
  writeFileSync(
    file,
    encode(
      gen.model(
        gen.graph({
          nodes,
          initializers: [gen.tensor({ name: 'scale', dims: [1] }), gen.tensor({ name: 'W', dims: [2, 2] })],
          inputs: [gen.valueInfo('x', [1, 2])],
          outputs: [gen.valueInfo('y', [1, 2])],
        }),
      ),
    ),
  );
  const report = analyzeStatically(file);
  assert.deepEqual(
    report.layers.filter((l) => l.params > 0).map((l) => [l.name, l.params]),
    [
      ['attn', 1],
      ['fc', 4],
      ['fc_1', 4],
    ],
  );
  assert.deepEqual(
    report.shared.map((s) => [s.name, s.calls, s.callNames]),
    [['W', 2, ['fc', 'fc_1']]],
  );
});
