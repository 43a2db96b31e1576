// The trace's renamed model never copies the weights: large initializers (main graph and subgraphs),
// float_data payloads and Constant-node tensors become external-data references to their bytes in the
// original file. onnxruntime must compute exactly what it computes from the original.
import assert from 'node:assert/strict';
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import { MemorySource } from '../src/onnx/byte-source.ts';
import type { OnnxTensor } from '../src/onnx/model.ts';
import { allTensors, readModel, readModelFrom } from '../src/onnx/read-model.ts';
import { encodeModel, tensorInfo as info } from './support/onnx-reflection.ts';
import { TensorReader } from '../src/onnx/tensor-bytes.ts';
import { renameNodes, renameNodesInFile } from '../src/trace/rename-nodes.ts';
import { traceModel } from '../src/trace/index.ts';

const work = mkdtempSync(path.join(tmpdir(), 'paramtrace-rename-'));
after(() => rmSync(work, { recursive: true, force: true }));

const FLOAT = 1;
const BOOL = 9;
const N = 64; // 64 x 64 float32: 16 KiB, large enough to be referenced

function values(seed: number, count = N * N): number[] {
  let state = seed;
  return Array.from({ length: count }, () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32 - 0.5;
  });
}

function raw(v: number[]): Buffer {
  return Buffer.from(Float32Array.from(v).buffer);
}

/**
 * x -> MatMul(W, raw_data) -> MatMul(F, float_data) -> MatMul(Constant C) -> Add(b, small) -> If(cond):
 * then MatMul(T, an initializer of the branch), else MatMul(W again, from the outer scope) -> y.
 */
function writeModel(): string {
  const branch = (name: string, weight: string, initializer: object[]): object => ({
    name,
    node: [{ op_type: 'MatMul', input: ['h', weight], output: [`${name}_y`], name: '' }],
    initializer,
    output: [info(`${name}_y`, FLOAT, [1, N])],
  });
  const graph = {
    name: 'rename',
    node: [
      { op_type: 'MatMul', input: ['x', 'W'], output: ['a'], name: 'first' },
      { op_type: 'MatMul', input: ['a', 'F'], output: ['b'], name: 'branch' },
      {
        op_type: 'Constant',
        output: ['C'],
        name: '',
        attribute: [
          { name: 'value', type: 4, t: { dims: [N, N], data_type: FLOAT, raw_data: raw(values(3)) } },
        ],
      },
      { op_type: 'MatMul', input: ['b', 'C'], output: ['c'], name: '' },
      { op_type: 'Add', input: ['c', 'bias'], output: ['h'], name: '' },
      {
        op_type: 'If',
        input: ['cond'],
        output: ['y'],
        name: 'if',
        attribute: [
          {
            name: 'then_branch',
            type: 5,
            g: branch('then', 'T', [{ name: 'T', dims: [N, N], data_type: FLOAT, raw_data: raw(values(4)) }]),
          },
          { name: 'else_branch', type: 5, g: branch('else', 'W', []) },
        ],
      },
    ],
    initializer: [
      { name: 'W', dims: [N, N], data_type: FLOAT, raw_data: raw(values(1)) },
      { name: 'F', dims: [N, N], data_type: FLOAT, float_data: values(2) },
      { name: 'bias', dims: [N], data_type: FLOAT, raw_data: raw(values(5, N)) },
    ],
    input: [info('x', FLOAT, [1, N]), info('cond', BOOL, [])],
    output: [info('y', FLOAT, [1, N])],
  };
  const file = path.join(work, 'big-weights.onnx');
  writeFileSync(file, encodeModel(graph));
  return file;
}

test('renamed in the file: large tensors reference the original bytes, small ones stay; names are unique', () => {
  const file = writeModel();
  const original = readModel(file);
  const renamed = renameNodesInFile(file, path.basename(file));
  // Next to the original, so that its external data references resolve.
  const renamedFile = path.join(work, 'renamed.onnx');
  writeFileSync(renamedFile, renamed.bytes);
  const again = readModel(renamedFile);
  assert.ok(
    renamed.bytes.length < 4096,
    `the renamed model holds no weights (${renamed.bytes.length} bytes)`,
  );
  const byName = (model: typeof original): Map<string, OnnxTensor> =>
    new Map([...allTensors(model.graph)].map((t) => [t.name === '' ? 'C' : t.name, t]));
  const [before, after] = [byName(original), byName(again)];
  assert.deepEqual([...after.keys()].sort(), [...before.keys()].sort());
  const [readBefore, readAfter] = [new TensorReader(original), new TensorReader(again)];
  try {
    for (const [name, t] of after) {
      const large = name !== 'bias';
      assert.equal(t.data.kind, large ? 'external' : 'in-file', name);
      if (t.data.kind === 'external') assert.equal(t.data.location, 'big-weights.onnx');
      assert.deepEqual(readAfter.bytes(t), readBefore.bytes(before.get(name)!), `${name}: the same values`);
    }
  } finally {
    readBefore.close();
    readAfter.close();
  }
  assert.deepEqual(
    [...renamed.nodes.values()].map((n) => [n.id, n.originalName, n.opType]),
    [
      ['0', 'first', 'MatMul'],
      ['1', 'branch', 'MatMul'],
      ['2', '', 'Constant'],
      ['3', '', 'MatMul'],
      ['4', '', 'Add'],
      ['5', 'if', 'If'],
      ['5/then_branch/0', '', 'MatMul'],
      ['5/else_branch/0', '', 'MatMul'],
    ],
  );
  // In memory (no file to reference), the weights are copied as they are.
  const inMemory = renameNodes(readFileSync(file));
  const copy = readModelFrom(new MemorySource(inMemory.bytes), file);
  const kinds = (model: typeof original): string[] => [...allTensors(model.graph)].map((t) => t.data.kind);
  assert.deepEqual(kinds(copy), kinds(original));
});

test('onnxruntime computes the same from the renamed model as from the original, both branches', async () => {
  const file = writeModel();
  const renamed = renameNodesInFile(file, path.basename(file));
  const options: ort.InferenceSession.SessionOptions = {
    graphOptimizationLevel: 'disabled',
    extra: { session: { model_external_initializers_file_folder_path: work } },
  };
  const [plain, referenced] = [
    await ort.InferenceSession.create(file, { graphOptimizationLevel: 'disabled' }),
    await ort.InferenceSession.create(renamed.bytes, options),
  ];
  for (const cond of [true, false]) {
    const feeds = {
      x: new ort.Tensor('float32', Float32Array.from(values(9, N)), [1, N]),
      cond: new ort.Tensor('bool', Uint8Array.from([cond ? 1 : 0]), []),
    };
    const [a, b] = [await plain.run(feeds), await referenced.run(feeds)];
    assert.deepEqual([...(b.y!.data as Float32Array)], [...(a.y!.data as Float32Array)], `cond ${cond}`);
  }
  await plain.release();
  await referenced.release();

  // The trace stage itself: every MatMul saw its 16 KiB weight.
  const trace = await traceModel(readModel(file), { device: 'cpu' });
  for (const id of ['0', '1', '3']) assert.equal(trace.nodes[id]?.parameterBytes, N * N * 4, `node ${id}`);
  assert.ok((trace.timing?.peakRssBytes ?? 0) > 0, 'the worker reports its peak memory');
});

test('models behind symbolic links trace too (onnxruntime refuses external data that leaves its folder)', async () => {
  const real = writeModel();
  const links = path.join(work, 'links');
  mkdirSync(links, { recursive: true });
  // A link to a file in another folder: the weights are referenced in the real file, from its folder.
  symlinkSync(real, path.join(links, 'linked.onnx'));
  // A link to a folder.
  symlinkSync(work, path.join(links, 'folder'));
  for (const file of [path.join(links, 'linked.onnx'), path.join(links, 'folder', path.basename(real))]) {
    const trace = await traceModel(readModel(file), { device: 'cpu' });
    assert.equal(trace.nodes['0']?.parameterBytes, N * N * 4, file);
  }
  // A link whose model has external data of its own next to the link: the weights are copied instead.
  const fixtures = fileURLToPath(new URL('./fixtures/', import.meta.url));
  const withData = path.join(work, 'with-data');
  mkdirSync(withData, { recursive: true });
  copyFileSync(path.join(fixtures, 'external-data.weights'), path.join(links, 'external-data.weights'));
  copyFileSync(path.join(fixtures, 'external-data.onnx'), path.join(withData, 'external-data.onnx'));
  symlinkSync(path.join(withData, 'external-data.onnx'), path.join(links, 'external-data.onnx'));
  const trace = await traceModel(readModel(path.join(links, 'external-data.onnx')), { device: 'cpu' });
  assert.equal(trace.nodes['0']?.parameterBytes, 48);
});
