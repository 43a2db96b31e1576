// Layer calls from the exporters' scopes.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { callOf } from '../src/analysis/call-names.ts';
import type { OnnxNode } from '../src/onnx/model.ts';

function node(name: string, metadata: Record<string, string> = {}): OnnxNode {
  return {
    id: '3',
    name,
    opType: 'Conv',
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
