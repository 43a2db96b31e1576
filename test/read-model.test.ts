// The reader: structure, shapes and data locations, never weight bytes.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readModel } from '../src/onnx/read-model.ts';
import { TensorReader } from '../src/onnx/tensor-bytes.ts';
import { fixture } from './support/analyze-fixture.ts';

test('initializers are located in the file, not copied', () => {
  const model = readModel(fixture('tied-embedding.onnx'));
  assert.deepEqual(model.opsets, { '': 13 });
  assert.equal(model.producerName, 'pytorch');
  const emb = model.graph.initializers.find((t) => t.name === 'emb.weight')!;
  assert.deepEqual([emb.dataType, emb.dims, emb.numel], ['float32', [100, 16], 1600]);
  assert.equal(emb.data.kind, 'in-file');
  assert.equal(emb.data.kind === 'in-file' && emb.data.length, 6400);
});

test('weight bytes are read on demand, and a transposed copy has the transposed fingerprint', () => {
  const model = readModel(fixture('tied-embedding.onnx'));
  const reader = new TensorReader(model);
  const [emb, copy] = ['emb.weight', 'onnx::MatMul_6'].map((n) =>
    model.graph.initializers.find((t) => t.name === n)!,
  );
  assert.equal(reader.bytes(emb!).length, 6400);
  assert.notEqual(reader.fingerprint(emb!), reader.fingerprint(copy!));
  assert.equal(reader.transposedFingerprint(emb!), reader.fingerprint(copy!));
  reader.close();
});

test('If branches are read as subgraphs whose nodes reference outer-scope initializers', () => {
  const model = readModel(fixture('if-branches.onnx'));
  const ifNode = model.graph.nodes.find((n) => n.opType === 'If')!;
  assert.deepEqual(ifNode.subgraphs.map((s) => s.attribute).sort(), ['else_branch', 'then_branch']);
  const outer = new Set(model.graph.initializers.map((t) => t.name));
  for (const { graph } of ifNode.subgraphs) {
    assert.equal(graph.initializers.length, 0);
    assert.ok(
      graph.nodes.some((n) => n.inputs.some((i) => outer.has(i))),
      'a branch node reads an outer initializer',
    );
    for (const n of graph.nodes) assert.match(n.id, new RegExp(`^${ifNode.id}/(then|else)_branch/\\d+$`));
  }
});

test('external data keeps its location, offset and length; sparse initializers their dense size', () => {
  const ext = readModel(fixture('external-data.onnx'));
  for (const t of ext.graph.initializers) {
    assert.equal(t.data.kind, 'external');
    assert.equal(t.data.kind === 'external' && t.data.location, 'external-data.weights');
  }
  const reader = new TensorReader(ext);
  const w = ext.graph.initializers[0]!;
  assert.equal(reader.bytes(w).length, w.numel * 4);
  reader.close();
  const sparse = readModel(fixture('sparse-initializer.onnx')).graph.sparseInitializers[0]!;
  assert.deepEqual(sparse.dims, [8, 8]);
  assert.equal(sparse.numel, 64);
  assert.ok(sparse.storedNumel < 64);
});

test('Constant-node tensors are read as node attributes', () => {
  const model = readModel(fixture('constant-weights.onnx'));
  const constants = model.graph.nodes.filter((n) => n.opType === 'Constant');
  assert.ok(constants.length >= 2);
  const value = constants[0]!.attributes.find((a) => a.name === 'value')!.value;
  assert.equal(value.type, 'tensor');
});
