// Layer calls from the exporters' scopes.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { callOf, callPath, parameterPath, stripInlinePrefixes } from '../src/analysis/call-names.ts';
import type { OnnxNode } from '../src/onnx/model.ts';
import { analyzeStatically } from './fuzz/harness.ts';
import { inlinedModel } from './support/inlined-model.ts';
import { encode } from './fuzz/proto.ts';

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
