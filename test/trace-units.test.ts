// The trace stage's pure parts, without running onnxruntime: the .npy reader (against files numpy
// wrote), option parsing, node renaming, the profile join and the worker's command line.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { MemorySource } from '../src/onnx/byte-source.ts';
import type { OnnxGraph, OnnxNode } from '../src/onnx/model.ts';
import { readModel, readModelFrom } from '../src/onnx/read-model.ts';
import { toHalfBits } from '../src/trace/input-data.ts';
import {
  parseDimOption,
  parseInputFileOption,
  parseInputShapeOption,
  readNpy,
  TraceInputError,
} from '../src/trace/index.ts';
import { joinKernels } from '../src/trace/profile.ts';
import { joinProfileFile } from '../src/trace/profile-file.ts';
import { describeTraceNames, renameNodes } from '../src/trace/rename-nodes.ts';
import { workerEnv, workerExecArgv } from '../src/trace/worker-process.ts';

const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));
const NPY = path.join(FIXTURES, 'trace', 'npy');

test('.npy files numpy wrote (format versions 1, 2 and 3) read back with dtype, shape and values', () => {
  const f4 = readNpy(path.join(NPY, 'f4-v1.npy'));
  assert.deepEqual([f4.dtype, f4.shape, [...f4.data]], ['float32', [2, 3], [0, 0.25, 0.5, 0.75, 1, 1.25]]);
  const f8 = readNpy(path.join(NPY, 'f8-v2.npy'));
  assert.deepEqual([f8.dtype, f8.shape, [...f8.data]], ['float64', [1, 2], [1.5, -2.25]]);
  const i8 = readNpy(path.join(NPY, 'i8-v3.npy'));
  assert.deepEqual([i8.dtype, i8.shape, [...i8.data]], ['int64', [3], [3n, -1n, 7n]]);
  const f2 = readNpy(path.join(NPY, 'f2-v1.npy'));
  assert.deepEqual([f2.dtype, [...f2.data]], ['float16', [15360, 47104, 13652]]);
  assert.deepEqual([...readNpy(path.join(NPY, 'i4-v1.npy')).data], [1, 2, 3, 4]);
  assert.deepEqual([...readNpy(path.join(NPY, 'i1-v1.npy')).data], [-1, 2]);
  assert.deepEqual([...readNpy(path.join(NPY, 'u1-v1.npy')).data], [200, 1]);
  const b1 = readNpy(path.join(NPY, 'b1-v1.npy'));
  assert.deepEqual([b1.dtype, [...b1.data]], ['bool', [1, 0, 1]]);
  const scalar = readNpy(path.join(NPY, 'scalar-i8-v1.npy'));
  assert.deepEqual([scalar.shape, [...scalar.data]], [[], [5n]]);
});

test('.npy files the reader refuses, with the reason', () => {
  assert.throws(
    () => readNpy(path.join(NPY, 'fortran-v1.npy')),
    (e: unknown) => e instanceof TraceInputError && /Fortran order/.test(e.message),
  );
  assert.throws(() => readNpy(path.join(NPY, 'big-endian-v1.npy')), /dtype '>f4', which is not supported/);
  assert.throws(() => readNpy(path.join(FIXTURES, 'seed-case-1.onnx')), /is not a \.npy file/);
  assert.throws(() => readNpy(path.join(NPY, 'missing.npy')), /cannot be opened/);
});

test('float16 bits of synthesized values match numpy', () => {
  // numpy: np.array([0.1, -0.7, 1e-5, 6e-8, 0.99951171875], '<f2').view('<u2')
  assert.deepEqual([0.1, -0.7, 1e-5, 6e-8, 0.99951171875].map(toHalfBits), [11878, 47514, 168, 1, 15359]);
});

test('CLI option parsers', () => {
  assert.deepEqual(parseInputShapeOption('x=1x3x224x224'), ['x', [1, 3, 224, 224]]);
  assert.deepEqual(parseInputShapeOption('M=scalar'), ['M', []]);
  assert.deepEqual(parseInputShapeOption('input.1=2,8'), ['input.1', [2, 8]]);
  assert.deepEqual(parseDimOption('batch=1'), ['batch', 1]);
  assert.deepEqual(parseInputFileOption('x=data/x.npy'), ['x', 'data/x.npy']);
  assert.throws(() => parseInputShapeOption('x=1xbx3'), /'b' is not a dimension size/);
  assert.throws(() => parseDimOption('batch'), /expected NAME=VALUE, for example --dim batch=1/);
  assert.throws(() => parseDimOption('batch=-1'), TraceInputError);
});

function allNodes(graph: OnnxGraph): OnnxNode[] {
  return graph.nodes.flatMap((n) => [n, ...n.subgraphs.flatMap((s) => allNodes(s.graph))]);
}
const allIds = (graph: OnnxGraph): string[] => allNodes(graph).map((n) => n.id);

test('renaming numbers every node, subgraph nodes included, exactly as read-model does', () => {
  const files = [
    ...readdirSync(FIXTURES)
      .filter((f) => f.endsWith('.onnx'))
      .map((f) => path.join(FIXTURES, f)),
    ...readdirSync(path.join(FIXTURES, 'trace'))
      .filter((f) => f.endsWith('.onnx'))
      .map((f) => path.join(FIXTURES, 'trace', f)),
  ];
  assert.ok(files.length > 10);
  for (const file of files) {
    const model = readModel(file);
    const renamed = renameNodes(readFileSync(file));
    assert.deepEqual([...renamed.nodes.values()].map((n) => n.id).sort(), allIds(model.graph).sort(), file);
    for (const [name, node] of renamed.nodes) assert.equal(name, `pt_${node.id}`);
    // The renamed bytes are the same model with the new names.
    const again = readModelFrom(new MemorySource(renamed.bytes), file);
    assert.deepEqual(
      allNodes(again.graph).map((n) => [n.id, n.name, n.opType]),
      allNodes(model.graph).map((n) => [n.id, `pt_${n.id}`, n.opType]),
    );
    assert.deepEqual(
      again.graph.initializers.map((t) => [t.name, t.dims]),
      model.graph.initializers.map((t) => [t.name, t.dims]),
    );
  }
  const renamed = renameNodes(readFileSync(path.join(FIXTURES, 'trace', 'unnamed-nodes.onnx')));
  const names = [...renamed.nodes.values()].map((n) => n.originalName);
  assert.deepEqual(names.filter((n) => n === 'dup').length, 5);
});

test('onnxruntime messages name nodes by their own names', () => {
  const renamed = renameNodes(readFileSync(path.join(FIXTURES, 'trace', 'unnamed-nodes.onnx')));
  assert.equal(
    describeTraceNames(
      "Non-zero status code returned while running MatMul node. Name:'pt_4/else_branch/0' Status",
      renamed.nodes,
    ),
    "Non-zero status code returned while running MatMul node. Name:'#4/else_branch/0 (MatMul node 4/else_branch/0)' Status",
  );
  assert.equal(describeTraceNames('at pt_1.', renamed.nodes), "at 'dup' (Relu node 1).");
});

test('profile events: kernel events only, summed per node, other kernels kept apart', () => {
  const event = (name: string, dur: number, shape: number[]) => ({
    cat: 'Node',
    name: `${name}_kernel_time`,
    dur,
    args: {
      op_name: 'MatMul',
      provider: 'CPUExecutionProvider',
      output_type_shape: [{ float: shape }],
      output_size: '16',
      activation_size: '80',
      parameter_size: '64',
    },
  });
  const profile = [
    { cat: 'Session', name: 'model_loading_uri', dur: 5 },
    { cat: 'Node', name: 'pt_0/body/1_fence_before', dur: 0 },
    event('pt_0/body/1', 10, [1, 4]),
    event('pt_0/body/1', 5, [2, 4]),
    event('Memcpy', 1, [1]),
  ];
  const joined = joinKernels(profile, (name) => (name.startsWith('pt_') ? name.slice(3) : undefined));
  assert.deepEqual(joined.nodes, {
    '0/body/1': {
      executions: 2,
      outputShapes: [[2, 4]],
      provider: 'CPUExecutionProvider',
      durationUs: 15,
      outputBytes: 32,
      activationBytes: 160,
      parameterBytes: 64,
    },
  });
  assert.deepEqual(joined.otherKernels, [
    { name: 'Memcpy', opType: 'MatMul', provider: 'CPUExecutionProvider', executions: 1 },
  ]);
});

test('profile files are read one event per line, so they may outgrow one string', async () => {
  const folder = mkdtempSync(path.join(tmpdir(), 'paramtrace-profile-test-'));
  try {
    const file = path.join(folder, 'profile.json');
    const kernel = (name: string) =>
      `{"cat" : "Node","pid" :1,"tid" :1,"dur" :7,"ts" :1,"ph" : "X","name" :"${name}_kernel_time","args" : {"op_name" : "Relu","provider" : "CPUExecutionProvider","output_type_shape" : [{"float":[2]}],"output_size" : "8","activation_size" : "8","parameter_size" : "0"}}`;
    const session =
      '{"cat" : "Session","pid" :1,"tid" :1,"dur" :3,"ts" :0,"ph" : "X","name" :"model_run","args" : {}}';
    writeFileSync(
      file,
      ['[', `${session},`, `${kernel('pt_0')},`, `${kernel('pt_0')},`, kernel('other'), ']', ''].join('\n'),
    );
    const joined = await joinProfileFile(file, (name) => (name === 'pt_0' ? '0' : undefined));
    assert.equal(joined.events, 4);
    assert.equal(joined.nodes['0']?.executions, 2);
    assert.equal(joined.nodes['0']?.durationUs, 14);
    assert.deepEqual(
      joined.otherKernels.map((k) => k.name),
      ['other'],
    );
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
});

test("the worker's environment: the caller's without NODE_EXTRA_CA_CERTS (read at every Node start)", () => {
  const env = { PATH: '/bin', CUDA_VISIBLE_DEVICES: '1', NODE_EXTRA_CA_CERTS: '/etc/ssl/certs/ca.crt' };
  assert.deepEqual(workerEnv(env), { PATH: '/bin', CUDA_VISIBLE_DEVICES: '1' });
  assert.equal(env.NODE_EXTRA_CA_CERTS, '/etc/ssl/certs/ca.crt');
});

test("the worker's node flags: tsx's loader kept, test runner, watch and inspector flags dropped", () => {
  assert.deepEqual(
    workerExecArgv([
      '--require',
      '/x/preflight.cjs',
      '--import',
      'file:///x/loader.mjs',
      '--test',
      '--test-reporter',
      'tap',
      '--inspect=9229',
      '--max-old-space-size=100',
      '--enable-source-maps',
    ]),
    ['--require', '/x/preflight.cjs', '--import', 'file:///x/loader.mjs', '--enable-source-maps'],
  );
});
