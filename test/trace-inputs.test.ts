// Trace inputs that just work where they can: a leading (batch) dimension without a size is 1 and the
// report says so, every other missing size is named in one message, --value gives scalars and small
// inputs, .pb (ONNX TensorProto) files give real values like .npy ones, a failed run's message lists the
// inputs, and options naming no input are usage errors. Real onnxruntime-node runs; models built here.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { analyze } from '../src/analysis/analyze.ts';
import type { OnnxModel } from '../src/onnx/model.ts';
import { encodeModel } from './support/onnx-reflection.ts';
import { readModel } from '../src/onnx/read-model.ts';
import { TensorReader } from '../src/onnx/tensor-bytes.ts';
import { analyzeFile } from '../src/pipeline/analyze-file.ts';
import type { Report } from '../src/report/report.ts';
import { cleanOrtMessage } from '../src/trace/errors.ts';
import {
  decodeTensorProto,
  parseValueOption,
  readTensorProtoFile,
  traceModel,
  TraceError,
  TraceInputError,
  TraceUsageError,
  type Trace,
  type TraceOptions,
} from '../src/trace/index.ts';

const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));
const SYMBOLIC = path.join(FIXTURES, 'trace', 'symbolic-dims.onnx');
const scratch = mkdtempSync(path.join(tmpdir(), 'paramtrace-trace-inputs-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

const FLOAT = 1;
const INT64 = 7;
const GRAPH = 5; // AttributeProto.GRAPH
const TENSOR = 4; // AttributeProto.TENSOR

/** A ValueInfoProto of a tensor whose dims are sizes, dim_param names, or null (neither). */
function info(name: string, elemType: number, dims: (number | string | null)[] | undefined): object {
  if (dims === undefined) return { name, type: { tensor_type: { elem_type: elemType } } };
  const dim = dims.map((d) =>
    typeof d === 'number' ? { dim_value: d } : typeof d === 'string' ? { dim_param: d } : {},
  );
  return { name, type: { tensor_type: { elem_type: elemType, shape: { dim } } } };
}

function floats(name: string, dims: number[], seed = 1): object {
  const count = dims.reduce((a, b) => a * b, 1);
  return {
    name,
    dims,
    data_type: FLOAT,
    float_data: Array.from({ length: count }, (_, i) => ((i * seed) % 7) / 7),
  };
}

function writeModel(name: string, graph: object): OnnxModel {
  const file = path.join(scratch, name);
  writeFileSync(file, encodeModel(graph));
  return readModel(file);
}

function analyzeWith(model: OnnxModel, trace: Trace): Report {
  const content = new TensorReader(model);
  try {
    return analyze({ model, content, trace });
  } finally {
    content.close();
  }
}

const trace = (model: OnnxModel, options: TraceOptions = {}): Promise<Trace> =>
  traceModel(model, { device: 'cpu', ...options });

/** x [batch, 4] + mask [batch, 4] → sum; img [?, 3, 8, 8] (unnamed leading dimension) → Relu. */
const batchModel = (): OnnxModel =>
  writeModel('batch.onnx', {
    name: 'batch',
    node: [
      { op_type: 'Add', input: ['x', 'mask'], output: ['sum'], name: '/add/Add' },
      { op_type: 'Relu', input: ['img'], output: ['act'], name: '/act/Relu' },
    ],
    input: [
      info('x', FLOAT, ['batch', 4]),
      info('mask', FLOAT, ['batch', 4]),
      info('img', FLOAT, [null, 3, 8, 8]),
    ],
    output: [info('sum', FLOAT, ['batch', 4]), info('act', FLOAT, [null, 3, 8, 8])],
  });

test('a symbolic leading dimension is a batch of one, and the report says so', async () => {
  const model = readModel(SYMBOLIC);
  const t = await trace(model);
  assert.deepEqual(t.inputs[0]?.shape, [1, 4]);
  assert.match(
    t.inputs[0]!.from,
    /^random uniform \[-1, 1\), seed 0 \(dimension 0 'batch' defaulted to 1\)$/,
  );
  assert.deepEqual(t.nodes['0']?.outputShapes, [[1, 3]]);
  const report = analyzeWith(model, t);
  assert.ok(
    report.notes.some((n) => /batch of one: .*'batch' of 'x' \(--dim batch=N\).* set to 1/.test(n)),
    report.notes.join('\n'),
  );
  // Through the pipeline too (the CLI's and the action's path).
  const viaFile = await analyzeFile(SYMBOLIC, { trace: { device: 'cpu' } });
  assert.equal(viaFile.trace.mode, 'onnxruntime');
  assert.ok(viaFile.notes.some((n) => /batch of one/.test(n)));
});

test('named leading dimensions share one value, unnamed ones default too; --dim and --input override', async () => {
  const model = batchModel();
  const shapes = (t: Trace) => Object.fromEntries(t.inputs.map((i) => [i.name, i.shape]));
  const plain = await trace(model);
  assert.deepEqual(shapes(plain), { x: [1, 4], mask: [1, 4], img: [1, 3, 8, 8] });
  assert.equal(plain.notes?.length, 1, plain.notes?.join('\n'));
  assert.match(plain.notes![0]!, /'batch' of 'x', 'mask' \(--dim batch=N\)/);
  assert.match(plain.notes![0]!, /the unnamed dimension 0 of 'img' \(--input img=Nx3x8x8\)/);
  assert.match(plain.inputs[2]!.from, /\(dimension 0 defaulted to 1\)$/);

  const byDim = await trace(model, { dims: { batch: 3 } });
  assert.deepEqual(shapes(byDim), { x: [3, 4], mask: [3, 4], img: [1, 3, 8, 8] });
  assert.doesNotMatch(byDim.notes!.join('\n'), /'batch'/);
  // A full shape for one input sizes its named dimensions for the others as well.
  const byShape = await trace(model, { inputs: { x: [2, 4], img: [5, 3, 8, 8] } });
  assert.deepEqual(shapes(byShape), { x: [2, 4], mask: [2, 4], img: [5, 3, 8, 8] });
  assert.equal(byShape.notes, undefined);
  assert.deepEqual(byShape.nodes['0']?.outputShapes, [[2, 4]]);
});

test('every other unresolved dimension, of every input, is named in one message with its option', async () => {
  const model = writeModel('open-dims.onnx', {
    name: 'open',
    node: [
      { op_type: 'Relu', input: ['a'], output: ['ra'], name: 'ra' },
      { op_type: 'Relu', input: ['b'], output: ['rb'], name: 'rb' },
    ],
    input: [info('a', FLOAT, ['batch', 'seq', null]), info('b', FLOAT, ['batch', 'width', 3])],
    output: [info('ra', FLOAT, undefined), info('rb', FLOAT, undefined)],
  });
  await assert.rejects(trace(model), (error: unknown) => {
    assert.ok(error instanceof TraceInputError && !(error instanceof TraceUsageError));
    const m = error.message;
    assert.match(m, /^3 input dimensions have no size/);
    assert.match(m, /input 'a' dimension 1 is the symbolic dimension 'seq'/);
    assert.match(m, /input 'a' dimension 2 has neither a size nor a name/);
    assert.match(m, /input 'b' dimension 1 is the symbolic dimension 'width'/);
    assert.match(m, /set them with --dim seq=<size> --input a=1xNxN --dim width=<size>$/);
    assert.doesNotMatch(m, /'batch'/); // the leading dimension defaulted
    return true;
  });
  const t = await trace(model, { dims: { seq: 5, width: 2 }, inputs: { a: [1, 5, 7] } });
  assert.deepEqual(
    t.inputs.map((i) => i.shape),
    [
      [1, 5, 7],
      [1, 2, 3],
    ],
  );
  // One left: the message of old, naming it and both options.
  await assert.rejects(trace(model, { dims: { seq: 5 }, inputs: { a: [1, 5, 7] } }), {
    message:
      "input 'b' dimension 1 is the symbolic dimension 'width': set it with --dim width=<size>, or set the shape with --input b=1xNx3",
  });
  // An input of unknown rank is named with the rest.
  const rankless = writeModel('rankless.onnx', {
    name: 'rankless',
    node: [{ op_type: 'Relu', input: ['r'], output: ['rr'], name: 'r' }],
    input: [info('r', FLOAT, undefined)],
    output: [info('rr', FLOAT, undefined)],
  });
  await assert.rejects(
    trace(rankless),
    /input 'r' declares no shape \(unknown rank\): set it with --input r=<d0>x<d1>x\.\.\./,
  );
});

/**
 * sr (int64 scalar) > 8000 selects the branch: then MatMul(x, W_hi), else MatMul(x, W_lo). x is [1, 4].
 */
const sampleRateModel = (): OnnxModel => {
  const branch = (name: string, w: string) => ({
    name,
    node: [{ op_type: 'MatMul', input: ['x', w], output: [`${name}_y`], name: `/${name}/MatMul` }],
    input: [],
    output: [info(`${name}_y`, FLOAT, [1, 3])],
  });
  return writeModel('sample-rate.onnx', {
    name: 'sample_rate',
    node: [
      {
        op_type: 'Constant',
        input: [],
        output: ['threshold'],
        name: 'threshold',
        attribute: [{ name: 'value', type: TENSOR, t: { dims: [], data_type: INT64, int64_data: [8000] } }],
      },
      { op_type: 'Greater', input: ['sr', 'threshold'], output: ['high'], name: 'high' },
      {
        op_type: 'If',
        input: ['high'],
        output: ['y'],
        name: '/If',
        attribute: [
          { name: 'then_branch', type: GRAPH, g: branch('hi', 'W_hi') },
          { name: 'else_branch', type: GRAPH, g: branch('lo', 'W_lo') },
        ],
      },
    ],
    input: [info('x', FLOAT, [1, 4]), info('sr', INT64, [])],
    output: [info('y', FLOAT, [1, 3])],
    initializer: [floats('W_hi', [4, 3], 3), floats('W_lo', [4, 3], 5)],
  });
};

test('--value for a scalar int input selects the If branch; without one the report says it was 0', async () => {
  const model = sampleRateModel();
  const unusedOf = (r: Report) => r.unused.map((u) => `${u.name}:${u.reason}`);
  const zero = await trace(model);
  assert.deepEqual(zero.inputs[1], { name: 'sr', dtype: 'int64', shape: [], from: 'zeros' });
  assert.deepEqual(unusedOf(analyzeWith(model, zero)), ['W_hi:not-executed']);
  assert.ok(
    zero.notes?.some((n) =>
      /Scalar input\(s\) 'sr' \(int64, 0\) were given no value: .*--value sr=V/.test(n),
    ),
    zero.notes?.join('\n'),
  );

  const high = await trace(model, { values: { sr: ['16000'] } });
  assert.deepEqual(high.inputs[1], { name: 'sr', dtype: 'int64', shape: [], from: '--value 16000' });
  assert.deepEqual(unusedOf(analyzeWith(model, high)), ['W_lo:not-executed']);
  assert.equal(high.notes, undefined);
  assert.ok(high.nodes['2/then_branch/0'] && !high.nodes['2/else_branch/0']);

  // Values that do not fit are usage errors.
  await assert.rejects(trace(model, { values: { sr: ['16k'] } }), (e: unknown) => {
    return (
      e instanceof TraceUsageError &&
      /--value sr: '16k' is not a whole number \(input 'sr' is int64\)/.test(e.message)
    );
  });
  await assert.rejects(
    trace(model, { values: { sr: ['1', '2'] } }),
    /--value sr: 2 value\(s\) given, but input 'sr' has shape scalar, which holds 1/,
  );
  await assert.rejects(trace(model, { values: { x: ['1', '2', '3'] } }), TraceUsageError);
});

test('--value: a comma list sizes the open dimension of a 1-D input; dtype from the model', async () => {
  const model = writeModel('gather.onnx', {
    name: 'gather',
    node: [{ op_type: 'Gather', input: ['table', 'ids'], output: ['rows'], name: '/embed/Gather' }],
    input: [info('ids', INT64, ['n'])],
    output: [info('rows', FLOAT, ['n', 2])],
    initializer: [floats('table', [5, 2])],
  });
  const t = await trace(model, { values: { ids: parseValueOption('ids=0,4,2')[1] } });
  assert.deepEqual(t.inputs[0], { name: 'ids', dtype: 'int64', shape: [3], from: '--value 0, 4, 2' });
  assert.deepEqual(t.nodes['0']?.outputShapes, [[3, 2]]);
  assert.equal(t.notes, undefined); // no batch default: the values sized 'n'
  // An index out of range: the failed run's message keeps onnxruntime's words and lists the inputs.
  await assert.rejects(trace(model, { values: { ids: ['7'] } }), (error: unknown) => {
    assert.ok(error instanceof TraceError);
    assert.equal(error.kind, 'onnxruntime');
    const m = error.message;
    assert.match(
      m,
      /^onnxruntime failed while running the model: '\/embed\/Gather' \(Gather node 0\): indices element out of data bounds, idx=7/,
    );
    assert.match(
      m,
      /The run's inputs: 'ids' int64 \[1\] from --value 7 \(to change: --value ids=\.\.\.\)\.$/,
    );
    assert.doesNotMatch(m, /Non-zero status code|Status Message|\n/);
    return true;
  });
});

test("a failed run's message lists synthesized inputs with the option that changes each", async () => {
  // Reshape to a shape the data does not have: fails only at run time, with the inputs to blame.
  const model = writeModel('reshape.onnx', {
    name: 'reshape',
    node: [{ op_type: 'Reshape', input: ['data', 'shape'], output: ['out'], name: 'reshape' }],
    input: [info('data', FLOAT, ['batch', 6]), info('shape', INT64, [2])],
    output: [info('out', FLOAT, undefined)],
  });
  await assert.rejects(trace(model, { values: { shape: ['4', '4'] } }), (error: unknown) => {
    assert.ok(error instanceof TraceError && error.kind === 'onnxruntime');
    assert.match(error.message, /'reshape' \(Reshape node 0\)/);
    assert.match(
      error.message,
      /The run's inputs: 'data' float32 \[1, 6\] from random uniform \[-1, 1\), seed 0 \(dimension 0 'batch' defaulted to 1\) \(to change: --value data=V,V,\.\.\. or --input-file data=FILE, --dim batch=N \(now 1, the default\)\); 'shape' int64 \[2\] from --value 4, 4 \(to change: --value shape=\.\.\.\)\.$/,
    );
    return true;
  });
});

test('onnxruntime messages are cleaned of status preambles, source paths and C++ signatures', () => {
  assert.equal(
    cleanOrtMessage(
      "Non-zero status code returned while running Reshape node. Name:'pt_0' Status Message: /onnxruntime_src/onnxruntime/core/providers/cpu/tensor/reshape_helper.h:47 onnxruntime::ReshapeHelper::ReshapeHelper(const onnxruntime::TensorShape&, onnxruntime::TensorShapeVector&, bool) input_shape_size == size was false. The input tensor cannot be reshaped to the requested shape. Input shape:{1,6}, requested shape:{4,4}\n",
    ),
    'pt_0: input_shape_size == size was false. The input tensor cannot be reshaped to the requested shape. Input shape:{1,6}, requested shape:{4,4}',
  );
  assert.equal(cleanOrtMessage('[ONNXRuntimeError] : 2 : INVALID_ARGUMENT : bad input.'), 'bad input');
  // As onnxruntime 1.30's kernels say it (the parity sweep's messages with synthesized inputs).
  for (const [raw, clean] of [
    [
      "Non-zero status code returned while running Resize node. Name:'pt_0' Status Message: upsamplebase.h:548 ScalesValidation Scale value should be greater than 0.",
      'pt_0: Scale value should be greater than 0',
    ],
    [
      "Non-zero status code returned while running Mod node. Name:'pt_0' Status Message: /onnxruntime_src/onnxruntime/core/providers/cpu/math/element_wise_ops.cc:2256 operator() Integer modulo by zero",
      'pt_0: Integer modulo by zero',
    ],
    [
      "Non-zero status code returned while running MelWeightMatrix node. Name:'pt_0' Status Message: onnxruntime::common::Status onnxruntime::CreateMelWeightMatrix<T>::operator()(onnxruntime::OpKernelContext*, int64_t, int64_t, int64_t, float, float) [with T = float; int64_t = long int] lowest_index >= 0 && lowest_index < num_spectrogram_bins was false. lower_edge_hertz is out of range.",
      'pt_0: lowest_index >= 0 && lowest_index < num_spectrogram_bins was false. lower_edge_hertz is out of range',
    ],
    [
      "Non-zero status code returned while running Cast node. Name:'' Status Message: stod",
      'Cast node: stod',
    ],
  ]) {
    assert.equal(cleanOrtMessage(raw!), clean);
  }
});

const python = '/usr/bin/python3';
const hasOnnxPython = spawnSync(python, ['-c', 'import onnx, numpy'], { encoding: 'utf8' }).status === 0;

/** Writes raw-NAME.pb (numpy_helper: raw_data) and typed-NAME.pb (typed fields) once, with onnx's Python. */
let pbWritten = false;
function writePbFiles(): void {
  if (pbWritten) return;
  // numpy_helper writes raw_data; helper.make_tensor(raw=False) the typed fields (float_data, int32_data,
  // int64_data, double_data, uint64_data, string_data), negative ints as 10-byte varints.
  const script = `
import sys, numpy as np
from onnx import helper, mapping, numpy_helper, TensorProto
out = sys.argv[1]
cases = {
  'f32': np.array([[0.5, -1.25, 3.0]], np.float32), 'f64': np.array([1e300, -2.5]), 'f16': np.array([0.5, -2.0, 65504], np.float16),
  'i8': np.array([-128, 127], np.int8), 'u8': np.array([0, 255], np.uint8), 'i16': np.array([-32768, 7], np.int16),
  'u16': np.array([65535], np.uint16), 'i32': np.array([-2147483648, 5], np.int32), 'u32': np.array([4294967295], np.uint32),
  'i64': np.array([-9223372036854775808, 9223372036854775807, -1], np.int64), 'u64': np.array([18446744073709551615], np.uint64),
  'b': np.array([True, False, True]), 'scalar': np.array(16000, np.int64),
}
for name, a in cases.items():
  open(f'{out}/raw-{name}.pb', 'wb').write(numpy_helper.from_array(a, name).SerializeToString())
  dtype = mapping.NP_TYPE_TO_TENSOR_TYPE[a.dtype]
  open(f'{out}/typed-{name}.pb', 'wb').write(helper.make_tensor(name, dtype, a.shape, a.flatten().tolist()).SerializeToString())
open(f'{out}/typed-str.pb', 'wb').write(helper.make_tensor('s', TensorProto.STRING, [2], [b'hello', b'w\\xc3\\xb6rld']).SerializeToString())
`;
  const r = spawnSync(python, ['-c', script, scratch], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  pbWritten = true;
}

test('.pb (ONNX TensorProto) input files: raw_data and typed fields, every feedable dtype', (t) => {
  if (!hasOnnxPython) return t.skip('/usr/bin/python3 with onnx and numpy is not installed');
  writePbFiles();
  const expected: Record<string, [string, number[], unknown[]]> = {
    f32: ['float32', [1, 3], [0.5, -1.25, 3]],
    f64: ['float64', [2], [1e300, -2.5]],
    f16: ['float16', [3], [0x3800, 0xc000, 0x7bff]],
    i8: ['int8', [2], [-128, 127]],
    u8: ['uint8', [2], [0, 255]],
    i16: ['int16', [2], [-32768, 7]],
    u16: ['uint16', [1], [65535]],
    i32: ['int32', [2], [-2147483648, 5]],
    u32: ['uint32', [1], [4294967295]],
    i64: ['int64', [3], [-9223372036854775808n, 9223372036854775807n, -1n]],
    u64: ['uint64', [1], [18446744073709551615n]],
    b: ['bool', [3], [1, 0, 1]],
    scalar: ['int64', [], [16000n]],
  };
  for (const [name, [dtype, shape, values]] of Object.entries(expected)) {
    for (const how of ['raw', 'typed']) {
      const tensor = readTensorProtoFile(path.join(scratch, `${how}-${name}.pb`));
      assert.deepEqual(
        [tensor.name, tensor.dtype, tensor.shape, [...tensor.data]],
        [name, dtype, shape, values],
        `${how}-${name}`,
      );
    }
  }
  const strings = readTensorProtoFile(path.join(scratch, 'typed-str.pb'));
  assert.deepEqual([strings.dtype, strings.data], ['string', ['hello', 'wörld']]);
  // What is not a TensorProto, or holds too little, is refused with the reason.
  assert.throws(
    () => decodeTensorProto(new Uint8Array([0x08, 0x02]), 'dims-only.pb'),
    /no data_type \(field 2\)/,
  );
  assert.throws(
    () => decodeTensorProto(new Uint8Array([0x08, 0x03, 0x10, 0x01, 0x4a, 0x04, 0, 0, 0, 0]), 'short.pb'),
    /holds 4 bytes of raw_data, but 3 float32 values need 12/,
  );
  assert.throws(
    () => decodeTensorProto(new Uint8Array([0x10, 0x10]), 'bf16.pb'),
    /data type bfloat16, which onnxruntime-node cannot feed/,
  );
  assert.throws(
    () => decodeTensorProto(new Uint8Array([0x08, 0x80]), 'cut.pb'),
    /cut.pb is not an ONNX TensorProto .*malformed varint at byte 1: cut short/,
  );
});

test('.pb input files feed the trace: an int64 scalar selects the branch, dtype and shape are checked', async (t) => {
  if (!hasOnnxPython) return t.skip('/usr/bin/python3 with onnx and numpy is not installed');
  writePbFiles();
  const model = sampleRateModel();
  const srFile = path.join(scratch, 'raw-scalar.pb'); // int64 16000
  const high = await trace(model, { inputFiles: { sr: srFile } });
  assert.deepEqual(high.inputs[1], { name: 'sr', dtype: 'int64', shape: [], from: 'file raw-scalar.pb' });
  assert.ok(high.nodes['2/then_branch/0'] && !high.nodes['2/else_branch/0']);
  await assert.rejects(
    trace(model, { inputFiles: { sr: path.join(scratch, 'raw-i32.pb') } }),
    /input file .*raw-i32\.pb holds int32, but input 'sr' is int64/,
  );
  await assert.rejects(
    trace(model, { inputFiles: { x: path.join(scratch, 'raw-f32.pb') } }),
    /input file .*raw-f32\.pb \(shape 1x3\) has size 3 at dimension 1, but input 'x' is declared 1x4/,
  );
  await assert.rejects(
    trace(model, { inputFiles: { sr: srFile }, values: { sr: ['1'] } }),
    /input 'sr' is given both --value and --input-file/,
  );
});

test('options naming no input are usage errors, never a static fall-back', async () => {
  const model = readModel(SYMBOLIC);
  const cases: [TraceOptions, RegExp][] = [
    [{ values: { nope: ['1'] } }, /^--value nope: the model has no such input \(its inputs: x\)$/],
    [{ inputFiles: { nope: 'x.npy' } }, /^--input-file nope: the model has no such input/],
    [{ inputs: { nope: [1] } }, /^--input nope: the model has no such input/],
  ];
  for (const [options, message] of cases) {
    await assert.rejects(
      trace(model, options),
      (e: unknown) => e instanceof TraceUsageError && message.test(e.message),
    );
    // analyzeFile falls back to the static report for other trace failures, not for these.
    await assert.rejects(analyzeFile(SYMBOLIC, { trace: { device: 'cpu', ...options } }), TraceUsageError);
  }
  // A --dim that names no symbolic dimension is not an error, but the report says it was not used.
  const t = await trace(model, { dims: { seq: 7 } });
  assert.ok(
    t.notes?.some((n) =>
      /--dim seq=7 named no symbolic dimension of the model's inputs \(they have 'batch'\)/.test(n),
    ),
  );
});

test('the --value option parser', () => {
  assert.deepEqual(parseValueOption('sr=16000'), ['sr', ['16000']]);
  assert.deepEqual(parseValueOption('x=1, 2,3'), ['x', ['1', '2', '3']]);
  assert.deepEqual(parseValueOption('x=[0.5,-1]'), ['x', ['0.5', '-1']]);
  assert.throws(() => parseValueOption('x='), /--value x=: no value after '='/);
  assert.throws(() => parseValueOption('16000'), /expected NAME=VALUE, for example --value sr=16000/);
});

test('an image input without height and width is traced at 224x224 (NCHW and NHWC), and the report says so', async () => {
  const model = writeModel('images.onnx', {
    name: 'images',
    node: [
      { op_type: 'Relu', input: ['nchw'], output: ['a'], name: '/a/Relu' },
      { op_type: 'Relu', input: ['nhwc'], output: ['b'], name: '/b/Relu' },
    ],
    input: [info('nchw', FLOAT, ['N', 3, 'H', 'W']), info('nhwc', FLOAT, [null, null, null, 1])],
    output: [info('a', FLOAT, ['N', 3, 'H', 'W']), info('b', FLOAT, [null, null, null, 1])],
  });
  const run = await trace(model);
  assert.deepEqual(
    run.inputs.map((i) => [i.name, i.shape]),
    [
      ['nchw', [1, 3, 224, 224]],
      ['nhwc', [1, 224, 224, 1]],
    ],
  );
  assert.match(run.inputs[0]!.from, /\(image size defaulted to 224x224\)/);
  const notes = analyzeWith(model, run).notes.join('\n');
  assert.match(notes, /Traced input 'nchw' as a 224x224 image: .*set them with --dim H=N --dim W=N/);
  assert.match(notes, /Traced input 'nhwc' as a 224x224 image: .*--input nhwc=1xNxNx1/);
  // --dim wins over the default.
  const sized = await trace(model, { dims: { H: 32, W: 48 } });
  assert.deepEqual(sized.inputs[0]!.shape, [1, 3, 32, 48]);
});

test('a rank-4 input that is not an image (4 channels, or int64) keeps its open dimensions an error', async () => {
  const model = writeModel('not-images.onnx', {
    name: 'not-images',
    node: [{ op_type: 'Relu', input: ['x'], output: ['y'], name: '/a/Relu' }],
    input: [info('x', FLOAT, ['N', 4, 'H', 'W'])],
    output: [info('y', FLOAT, ['N', 4, 'H', 'W'])],
  });
  await assert.rejects(trace(model), (error: unknown) => {
    assert.ok(error instanceof TraceInputError);
    assert.match(error.message, /2 input dimensions have no size/);
    assert.match(error.message, /--dim H=<size>/);
    return true;
  });
});
