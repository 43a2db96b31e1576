// The trace stage against real onnxruntime-node runs (no mocks): what executed, how often, with which
// output shapes, and what the analysis makes of it.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { analyze } from '../src/analysis/analyze.ts';
import type { OnnxModel } from '../src/onnx/model.ts';
import { readModel } from '../src/onnx/read-model.ts';
import { TensorReader } from '../src/onnx/tensor-bytes.ts';
import { analyzeFile } from '../src/pipeline/analyze-file.ts';
import type { Report } from '../src/report/report.ts';
import {
  cancelEarlyTrace,
  startTraceEarly,
  traceModel,
  TraceError,
  TraceInputError,
  type Trace,
  type TraceOptions,
} from '../src/trace/index.ts';
import { npyBytes } from './support/npy.ts';

const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));
const TRACE_FIXTURES = path.join(FIXTURES, 'trace');
const scratch = mkdtempSync(path.join(tmpdir(), 'paramtrace-trace-test-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

function load(file: string): OnnxModel {
  return readModel(path.isAbsolute(file) ? file : path.join(FIXTURES, file));
}

function analyzeWith(model: OnnxModel, trace?: Trace): Report {
  const content = new TensorReader(model);
  try {
    return analyze({ model, content, trace });
  } finally {
    content.close();
  }
}

async function traced(
  file: string,
  options: TraceOptions = {},
): Promise<{ model: OnnxModel; trace: Trace; report: Report }> {
  const model = load(file);
  const trace = await traceModel(model, { device: 'cpu', ...options });
  return { model, trace, report: analyzeWith(model, trace) };
}

/** Writes a .npy file for the inputs these tests choose. */
function writeNpy(name: string, descr: string, shape: number[], data: ArrayBufferView): string {
  const file = path.join(scratch, name);
  writeFileSync(file, npyBytes(descr, shape, data));
  return file;
}

const int64Scalar = (name: string, value: bigint): string =>
  writeNpy(name, '<i8', [], new BigInt64Array([value]));
const boolScalar = (name: string, value: boolean): string =>
  writeNpy(name, '|b1', [], new Uint8Array([value ? 1 : 0]));
const counts = (r: Report): [number, number, number] => [
  r.counts.declared,
  r.counts.unique,
  r.counts.summary,
];
const unused = (r: Report): Record<string, string> =>
  Object.fromEntries(r.unused.map((u) => [u.name, u.reason]));

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

test('seed case 1 traced: 18/18/18 as static, each conv ran once with output 1x1x512x512', async () => {
  const { model, trace, report } = await traced('seed-case-1.onnx');
  assert.deepEqual(counts(report), [18, 18, 18]);
  assert.deepEqual(counts(report), counts(analyzeWith(model)));
  assert.equal(report.trace.mode, 'onnxruntime');
  for (const id of ['0', '1']) {
    assert.equal(trace.nodes[id]?.executions, 1);
    assert.deepEqual(trace.nodes[id]?.outputShapes, [[1, 1, 512, 512]]);
    assert.equal(trace.nodes[id]?.provider, 'CPUExecutionProvider');
    assert.equal(trace.nodes[id]?.parameterBytes, 36, 'the 3x3 float weight, not prepacked away');
  }
  for (const layer of report.layers) assert.deepEqual(layer.outputShapes, [[1, 1, 512, 512]]);
  assert.deepEqual(
    trace.inputs.map((i) => [i.name, i.dtype, i.shape]),
    [['x', 'float32', [1, 1, 512, 512]]],
  );
});

test('seed case 2 traced: declared 9, unique 9, summary 18, conv1.weight shared by 2 calls', async () => {
  const { model, report } = await traced('seed-case-2.onnx');
  assert.deepEqual(counts(report), [9, 9, 18]);
  assert.deepEqual(counts(report), counts(analyzeWith(model)));
  assert.deepEqual(
    report.shared.map((s) => [s.name, s.calls]),
    [['conv1.weight', 2]],
  );
  assert.equal(report.layers.length, 2);
  for (const layer of report.layers) {
    assert.equal(layer.executions, 1);
    assert.deepEqual(layer.outputShapes, [[1, 1, 512, 512]]);
  }
});

test('a Loop whose trip count is an input: summary-style grows with it, unique does not', async () => {
  const once = await traced('loop-body.onnx', { inputFiles: { M: int64Scalar('m1.npy', 1n) } });
  const thrice = await traced('loop-body.onnx', { inputFiles: { M: int64Scalar('m3.npy', 3n) } });
  assert.equal(once.trace.nodes['0/body/1']?.executions, 1);
  assert.equal(thrice.trace.nodes['0/body/1']?.executions, 3);
  assert.deepEqual(thrice.trace.nodes['0/body/1']?.outputShapes, [[1, 4]]);
  assert.deepEqual(counts(once.report), [24, 24, 24]);
  assert.deepEqual(counts(thrice.report), [24, 24, 56]);
  assert.deepEqual(
    thrice.report.shared.map((s) => [s.name, s.calls]),
    [['W_loop', 3]],
  );
  assert.equal(thrice.trace.inputs.find((i) => i.name === 'M')?.from, 'file m3.npy');
});

test('a Scan: each iteration is a call of the body', async () => {
  const { trace, report } = await traced(path.join(TRACE_FIXTURES, 'scan-body.onnx'), { dims: { T: 5 } });
  assert.equal(trace.nodes['0/body/0']?.executions, 5);
  assert.deepEqual(trace.nodes['0']?.outputShapes, [
    [1, 4],
    [5, 1, 4],
  ]);
  assert.deepEqual(counts(report), [16, 16, 80]);
  assert.deepEqual(
    report.shared.map((s) => [s.name, s.calls]),
    [['W', 5]],
  );
});

test('a Loop that runs zero times: its body weight is not-executed', async () => {
  // M is an int64 input: synthesized as zero.
  const { trace, report } = await traced('loop-body.onnx');
  assert.equal(trace.nodes['0']?.executions, 1);
  assert.equal(trace.nodes['0/body/1'], undefined);
  assert.deepEqual(counts(report), [24, 8, 8]);
  assert.deepEqual(unused(report), { W_loop: 'not-executed' });
});

test('an If whose branch depends on an input: the branch not taken is not-executed', async () => {
  const yes = await traced('if-branches.onnx', { inputFiles: { cond: boolScalar('true.npy', true) } });
  const no = await traced('if-branches.onnx', { inputFiles: { cond: boolScalar('false.npy', false) } });
  assert.deepEqual(Object.keys(yes.trace.nodes).sort(), ['0', '0/then_branch/0']);
  assert.deepEqual(Object.keys(no.trace.nodes).sort(), ['0', '0/else_branch/0']);
  assert.deepEqual(counts(yes.report), [24, 12, 12]);
  assert.deepEqual(unused(yes.report), { W_else: 'not-executed' });
  assert.deepEqual(unused(no.report), { W_then: 'not-executed' });
  assert.ok(yes.report.parameters.find((p) => p.name === 'W_then')?.used);
  assert.ok(no.report.parameters.find((p) => p.name === 'W_else')?.used);
});

test('a torch.jit.script model with data-dependent control flow (PyTorch 1.13 export)', async () => {
  const file = path.join(TRACE_FIXTURES, 'torch-script-if.onnx');
  const positive = await traced(file, { inputFiles: { x: path.join(TRACE_FIXTURES, 'x-ones.npy') } });
  const zero = await traced(file, { inputFiles: { x: path.join(TRACE_FIXTURES, 'x-zeros.npy') } });
  assert.deepEqual(counts(positive.report), [30, 15, 15]);
  assert.deepEqual(unused(positive.report), { 'b.weight': 'not-executed', 'b.bias': 'not-executed' });
  assert.deepEqual(unused(zero.report), { 'a.weight': 'not-executed', 'a.bias': 'not-executed' });
  const branch = positive.model.graph.nodes.find((n) => n.opType === 'If')!;
  assert.deepEqual(positive.trace.nodes[`${branch.id}/then_branch/0`]?.outputShapes, [[1, 3]]);
  // Static analysis counts both branches as used, summary-style one branch (counting.md, "Control flow
  // without a trace").
  assert.deepEqual(counts(analyzeWith(positive.model)), [30, 30, 15]);
});

test('a dead node that executes: the trace sees it run, the report calls its weight dead', async () => {
  const { trace, report } = await traced('dead-node.onnx');
  assert.equal(trace.nodes['1']?.executions, 1, '/dead/MatMul ran');
  assert.equal(trace.nodes['2']?.executions, 1, '/dead/Relu ran');
  assert.deepEqual(counts(report), [20, 12, 12]);
  assert.deepEqual(unused(report), { 'dead.weight': 'dead' });
  assert.equal(report.parameters.find((p) => p.name === 'dead.weight')?.used, false);
});

test('unnamed and duplicate-named nodes, subgraphs included, join to themselves once each', async () => {
  const { model, trace } = await traced(path.join(TRACE_FIXTURES, 'unnamed-nodes.onnx'));
  assert.deepEqual(
    model.graph.nodes.map((n) => n.name),
    ['', 'dup', 'dup', '', 'dup', ''],
  );
  // cond is a bool input, synthesized false: the else branch runs.
  const expected: Record<string, number[][]> = {
    '0': [[1, 4]],
    '1': [[1, 4]],
    '2': [[1, 4]],
    '3': [[1, 4]],
    '4': [[1, 3]],
    '4/else_branch/0': [[1, 3]],
    '4/else_branch/1': [[1, 3]],
    '5': [[1, 2]],
  };
  assert.deepEqual(Object.keys(trace.nodes).sort(), Object.keys(expected).sort());
  for (const [id, shapes] of Object.entries(expected)) {
    assert.equal(trace.nodes[id]?.executions, 1, `node ${id}`);
    assert.deepEqual(trace.nodes[id]?.outputShapes, shapes, `node ${id}`);
  }
  assert.deepEqual(trace.otherKernels, []);
});

test('symbolic dimensions: a leading one defaults to 1; a wrong shape or name is an error', async () => {
  // More in trace-inputs.test.ts (unresolved dimensions in one message, --value, .pb files).
  const model = load(path.join(TRACE_FIXTURES, 'symbolic-dims.onnx'));
  const batchOfOne = await traceModel(model, { device: 'cpu' });
  assert.deepEqual(batchOfOne.inputs[0]?.shape, [1, 4]);
  assert.match(batchOfOne.notes?.[0] ?? '', /'batch' of 'x' \(--dim batch=N\)/);
  await assert.rejects(
    traceModel(model, { inputs: { x: [2, 5] } }),
    /declared Nx4|declared batchx4|dimension 1/,
  );
  await assert.rejects(traceModel(model, { inputs: { y: [2, 4] } }), /no such input \(its inputs: x\)/);
});

test('symbolic dimensions resolved by dims or by a full input shape', async () => {
  const byDim = await traced(path.join(TRACE_FIXTURES, 'symbolic-dims.onnx'), { dims: { batch: 2 } });
  assert.deepEqual(byDim.trace.nodes['0']?.outputShapes, [[2, 3]]);
  assert.deepEqual(byDim.trace.inputs[0]?.shape, [2, 4]);
  const byShape = await traced(path.join(TRACE_FIXTURES, 'symbolic-dims.onnx'), { inputs: { x: [5, 4] } });
  assert.deepEqual(byShape.trace.nodes['0']?.outputShapes, [[5, 3]]);
});

test('.npy inputs: dtype and shape must fit the input', async () => {
  const model = load('if-branches.onnx');
  await assert.rejects(
    traceModel(model, { inputFiles: { cond: writeNpy('f8.npy', '<f8', [], new Float64Array([1])) } }),
    (error: unknown) =>
      error instanceof TraceInputError && /holds float64, but input 'cond' is bool/.test(error.message),
  );
  await assert.rejects(
    traceModel(model, { inputFiles: { x: writeNpy('x-wide.npy', '<f4', [1, 5], new Float32Array(5)) } }),
    /size 5 at dimension 1, but input 'x' is declared 1x4/,
  );
  await assert.rejects(
    traceModel(model, { inputFiles: { x: path.join(TRACE_FIXTURES, 'npy', 'fortran-v1.npy') } }),
    /Fortran order/,
  );
});

test('external data: the renamed model still finds its weights next to the original', async () => {
  const { trace, report } = await traced('external-data.onnx');
  assert.deepEqual(trace.nodes['0']?.outputShapes, [[1, 3]]);
  assert.equal(trace.nodes['0']?.parameterBytes, 48, 'fc.weight read from external-data.weights');
  assert.deepEqual(counts(report), [15, 15, 15]);
});

test('Constant-node weights: traced counts equal static ones', async () => {
  const { model, report } = await traced('constant-weights.onnx');
  assert.deepEqual(counts(report), counts(analyzeWith(model)));
  assert.deepEqual(counts(report), [15, 15, 15]);
});

test('model-local function calls: onnxruntime inlines them, their runs are inferred from consumers', async () => {
  const { trace, report } = await traced(path.join(TRACE_FIXTURES, 'local-function.onnx'));
  assert.equal(trace.nodes['0']?.inferred, true);
  assert.equal(trace.nodes['0']?.executions, 1);
  assert.equal(trace.nodes['1']?.executions, 1);
  assert.equal(trace.otherKernels?.length, 2, 'the two inlined MatMuls');
  assert.deepEqual(counts(report), [18, 18, 18]);
});

test('an operator onnxruntime lacks: TraceError naming the node by its own name', async () => {
  const model = load(path.join(TRACE_FIXTURES, 'unsupported-op.onnx'));
  await assert.rejects(traceModel(model, { device: 'cpu' }), (error: unknown) => {
    assert.ok(error instanceof TraceError);
    assert.equal(error.kind, 'onnxruntime');
    assert.match(error.message, /NoSuchOp/);
    assert.match(error.message, /'\/mystery\/NoSuchOp' \(NoSuchOp node 1\)/);
    assert.doesNotMatch(error.message, /\n/);
    return true;
  });
});

test('a run past the time limit fails with a TraceError and the worker is killed', async () => {
  const model = load('loop-body.onnx');
  const forever = int64Scalar('m-huge.npy', 1_000_000_000_000n);
  const started = Date.now();
  await assert.rejects(
    traceModel(model, { device: 'cpu', timeoutMs: 3000, inputFiles: { M: forever } }),
    (error: unknown) => {
      assert.ok(error instanceof TraceError);
      assert.equal(error.kind, 'timeout');
      assert.match(error.message, /3 s time limit/);
      assert.ok(error.pid !== undefined && !isAlive(error.pid), 'the worker process is gone');
      return true;
    },
  );
  assert.ok(Date.now() - started < 10_000);
});

test('a worker over the memory limit is killed with a TraceError', async () => {
  await assert.rejects(
    traceModel(load('seed-case-1.onnx'), { device: 'cpu', maxMemoryMb: 16 }),
    (error: unknown) => {
      assert.ok(error instanceof TraceError);
      assert.equal(error.kind, 'memory');
      assert.match(error.message, /over the 16 MiB limit \(maxMemoryMb\)/);
      assert.ok(error.pid !== undefined && !isAlive(error.pid));
      return true;
    },
  );
});

test("device 'auto' on a machine without CUDA: runs on the CPU and says why", async () => {
  const { trace, report } = await traced('seed-case-1.onnx', { device: 'auto' });
  assert.equal(trace.device, 'cpu');
  assert.equal(trace.requestedDevice, 'auto');
  assert.match(trace.deviceNote ?? '', /CUDA was not used: .*ONNXRUNTIME_NODE_INSTALL=cuda12/);
  assert.deepEqual(trace.fallbackNodes, []);
  assert.equal(trace.onnxruntimeVersion, '1.30.0');
  assert.ok(report.trace.mode === 'onnxruntime' && report.trace.device === 'cpu');
});

test("device 'cuda' without a CUDA provider: a clear TraceError", async () => {
  await assert.rejects(traceModel(load('seed-case-1.onnx'), { device: 'cuda' }), (error: unknown) => {
    assert.ok(error instanceof TraceError);
    assert.equal(error.kind, 'device');
    assert.match(
      error.message,
      /^device cuda: onnxruntime could not create a CUDA session: .*ONNXRUNTIME_NODE_INSTALL=cuda12/,
    );
    return true;
  });
});

/** Runs `work` with TMPDIR set to a fresh folder of its own (where the trace makes its folders). */
async function withOwnTmpdir(work: (dir: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(path.join(scratch, 'tmp-'));
  const saved = process.env.TMPDIR;
  process.env.TMPDIR = dir;
  try {
    await work(dir);
  } finally {
    if (saved === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = saved;
  }
}

/** The trace's own folders in `dir` (other tools, tsx's cache, may write into TMPDIR too). */
function traceFolders(dir: string): string[] {
  return readdirSync(dir).filter((f) => f.startsWith('paramtrace-trace-'));
}

test('the profile folder is deleted after the run, also after a failure', async () => {
  await withOwnTmpdir(async (own) => {
    await traceModel(load('seed-case-1.onnx'), { device: 'cpu' });
    await assert.rejects(
      traceModel(load(path.join(TRACE_FIXTURES, 'unsupported-op.onnx')), { device: 'cpu' }),
    );
    assert.deepEqual(traceFolders(own), []);
  });
});

/** The live child processes of this process (Linux); zombies are not counted. */
function liveChildren(): number[] {
  const file = `/proc/${process.pid}/task/${process.pid}/children`;
  const pids = readFileSync(file, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  return pids.filter((pid) => {
    try {
      return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
    } catch {
      return false;
    }
  });
}

async function childrenGone(): Promise<boolean> {
  for (let i = 0; i < 100 && liveChildren().length > 0; i++) await new Promise((r) => setTimeout(r, 50));
  return liveChildren().length === 0;
}

test(
  'the worker starts while the model is read; when the model or the inputs are bad it is stopped and its files removed',
  {
    skip: process.platform !== 'linux' && 'reads /proc',
  },
  () =>
    withOwnTmpdir(async (temp) => {
      assert.equal(await childrenGone(), true, 'no child process before');
      const truncated = path.join(scratch, 'truncated.onnx');
      writeFileSync(truncated, readFileSync(path.join(FIXTURES, 'seed-case-1.onnx')).subarray(0, 40));
      let workersWhileReading = 0;
      await assert.rejects(
        analyzeFile(truncated, {
          trace: { device: 'cpu' },
          onPhaseStart: (phase) => {
            if (phase === 'read') workersWhileReading = liveChildren().length;
          },
        }),
        /truncated\.onnx: not a valid ONNX file/,
      );
      assert.equal(workersWhileReading, 1, 'the worker was started before the model was read');
      assert.equal(await childrenGone(), true, 'the worker is gone');
      assert.deepEqual(traceFolders(temp), [], 'its folder is removed');

      // Inputs that cannot be built (TraceInputError), after the worker started: the same.
      await assert.rejects(
        analyzeFile(path.join(FIXTURES, 'seed-case-1.onnx'), {
          trace: { inputs: { nope: [1] } },
          traceRequired: true,
        }),
        (error: unknown) => error instanceof TraceInputError,
      );
      assert.equal(await childrenGone(), true, 'the worker is gone');
      assert.deepEqual(traceFolders(temp), []);

      // And a good model still traces through the early-started worker.
      const report = await analyzeFile(path.join(FIXTURES, 'seed-case-1.onnx'), { trace: { device: 'cpu' } });
      assert.equal(report.trace.mode, 'onnxruntime');
      assert.equal(await childrenGone(), true);
      assert.deepEqual(traceFolders(temp), []);
    }),
);

test(
  'an early worker (the CLI starts one before loading the rest) is taken by the next trace with default limits, else stopped',
  {
    skip: process.platform !== 'linux' && 'reads /proc',
  },
  () =>
    withOwnTmpdir(async (temp) => {
      assert.equal(await childrenGone(), true);
      const model = path.join(FIXTURES, 'seed-case-1.onnx');
      const workersWhileReading = async (trace: TraceOptions): Promise<number> => {
        let workers = -1;
        const report = await analyzeFile(model, {
          trace,
          onPhaseStart: (phase) => {
            if (phase === 'read') workers = liveChildren().length;
          },
        });
        assert.equal(report.trace.mode, 'onnxruntime');
        return workers;
      };

      startTraceEarly();
      assert.equal(liveChildren().length, 1);
      assert.equal(await workersWhileReading({ device: 'cpu' }), 1, 'the early worker was taken');
      assert.equal(await childrenGone(), true);

      // Limits of its own: a worker of its own; the early one waits until cancelled.
      startTraceEarly();
      assert.equal(await workersWhileReading({ device: 'cpu', maxMemoryMb: 4096 }), 2);
      assert.equal(liveChildren().length, 1, 'the early worker still waits');
      cancelEarlyTrace();
      assert.equal(await childrenGone(), true, 'cancelled');
      assert.deepEqual(traceFolders(temp), []);

      // An early start that fails is reported by the trace that takes it, as its own start would be.
      process.env.TMPDIR = path.join(temp, 'missing');
      startTraceEarly();
      await assert.rejects(analyzeFile(model, { trace: { device: 'cpu' } }), /ENOENT.*missing/);
    }).finally(cancelEarlyTrace),
);

test('a worker that hangs while it loads is stopped by the time limit', async () => {
  const hang = path.join(scratch, 'hang-on-load.cjs');
  writeFileSync(hang, 'Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);\n');
  const started = Date.now();
  await assert.rejects(
    traceModel(load('seed-case-1.onnx'), {
      device: 'cpu',
      timeoutMs: 2000,
      env: { ...process.env, NODE_OPTIONS: `--require ${hang}` },
    }),
    (error: unknown) => {
      assert.ok(error instanceof TraceError);
      assert.equal(error.kind, 'timeout');
      assert.ok(error.pid !== undefined && !isAlive(error.pid), 'the worker process is gone');
      return true;
    },
  );
  assert.ok(Date.now() - started < 15_000);
});
