// traceModel: one real inference run of a model in a worker process, joined back to the model's nodes.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { totalmem, tmpdir } from 'node:os';
import path from 'node:path';
import type { OnnxModel, OnnxNode, OnnxGraph } from '../onnx/model.ts';
import { TraceError } from './errors.ts';
import { inferFunctionCalls } from './function-calls.ts';
import { describeInputs, planInputs } from './input-plan.ts';
import type { TraceOptions } from './options.ts';
import type { WorkerRequest, WorkerResult } from './run-traced.ts';
import type { Trace } from './trace.ts';
import { startWorker, type WorkerHandle, type WorkerSetup } from './worker-process.ts';

export const DEFAULT_TIMEOUT_MS = 120_000;

/**
 * Runs the model once with onnxruntime-node (profiling on, graph optimizations and prepacking off) in a
 * worker process and returns what ran. Throws TraceInputError when the inputs cannot be built from the
 * model and the options (TraceUsageError when the options name no input or give values that do not
 * fit), TraceError when the run fails (the worker is killed by then; a failed run's message lists the
 * inputs and how to change them).
 */
export async function traceModel(model: OnnxModel, options: TraceOptions = {}): Promise<Trace> {
  return startTrace(options).run(model);
}

/** A trace whose worker process is already starting (see startTrace). */
export interface PendingTrace {
  /** Traces the model (as traceModel does). Call once. */
  run(model: OnnxModel): Promise<Trace>;
  /** Stops the worker and removes its files: the trace is not wanted (the model could not be read). */
  cancel(): void;
}

/** A worker started in its own folder, waiting for its request. */
interface StartedWorker {
  requestFile: string;
  worker: WorkerHandle;
  cleanUp(): void;
}

function defaultMaxMemoryMb(): number {
  return Math.floor((totalmem() / 2 ** 20) * 0.8);
}

function launch(setup: WorkerSetup): StartedWorker {
  const folder = mkdtempSync(path.join(tmpdir(), 'paramtrace-trace-'));
  const cleanUp = (): void => rmSync(folder, { recursive: true, force: true });
  try {
    const requestFile = path.join(folder, 'request.json');
    return { requestFile, worker: startWorker(requestFile, setup), cleanUp };
  } catch (error) {
    cleanUp();
    throw error;
  }
}

/**
 * A worker started before anyone knew a trace would be wanted (startTraceEarly), or why it could not
 * be started: the trace that takes it reports that, as it would have reported starting its own.
 */
let early: StartedWorker | { failure: unknown } | undefined;

/**
 * Starts a worker with the default limits and environment before the caller knows whether it will
 * trace: the CLI calls this first thing, so that Node and onnxruntime load while the rest of paramtrace
 * does. The next startTrace with those defaults takes it; cancelEarlyTrace stops it if none does.
 */
export function startTraceEarly(): void {
  if (early) return;
  try {
    early = launch({ maxMemoryMb: defaultMaxMemoryMb() });
  } catch (failure) {
    early = { failure };
  }
}

/** Stops the early worker if no trace took it. */
export function cancelEarlyTrace(): void {
  if (early && !('failure' in early)) {
    early.worker.cancel();
    early.cleanUp();
  }
  early = undefined;
}

/**
 * Starts the worker process now, so that it loads (Node, onnxruntime's binding) while the caller reads
 * the model; `run` hands it the model. Either `run` or `cancel` must be called.
 */
export function startTrace(options: TraceOptions = {}): PendingTrace {
  let started: StartedWorker;
  if (early && options.maxMemoryMb === undefined && options.env === undefined) {
    const taken = early;
    early = undefined;
    if ('failure' in taken) throw taken.failure;
    started = taken;
  } else {
    started = launch({ maxMemoryMb: options.maxMemoryMb ?? defaultMaxMemoryMb(), env: options.env });
  }
  const { worker, cleanUp } = started;
  return {
    async run(model) {
      try {
        return await runTrace(model, options, started.requestFile, worker);
      } finally {
        worker.cancel();
        cleanUp();
      }
    },
    cancel() {
      worker.cancel();
      cleanUp();
    },
  };
}

async function runTrace(
  model: OnnxModel,
  options: TraceOptions,
  requestFile: string,
  worker: WorkerHandle,
): Promise<Trace> {
  const { inputs, notes } = planInputs(model, options);
  const device = options.device ?? 'auto';
  const inputsText = describeInputs(inputs);
  const request: WorkerRequest = {
    modelPath: path.resolve(model.file.path),
    profileDir: path.dirname(requestFile),
    device,
    inputs,
    inputsText,
  };
  writeFileSync(requestFile, JSON.stringify(request));
  let result: WorkerResult;
  try {
    result = (await worker.run(options.timeoutMs ?? DEFAULT_TIMEOUT_MS)) as WorkerResult;
  } catch (error) {
    // A crash may come from the inputs as well (an index out of range in a kernel that does not check).
    if (error instanceof TraceError && error.kind === 'crash')
      throw new TraceError(error.kind, `${error.message}. ${inputsText}`, error.pid);
    throw error;
  }
  checkJoin(model, result);
  inferFunctionCalls(model, result.nodes);
  return {
    device: result.device,
    onnxruntimeVersion: result.onnxruntimeVersion,
    inputs: inputs.map(({ name, dtype, shape, from }) => ({ name, dtype, shape, from })),
    ...(notes.length > 0 ? { notes } : {}),
    nodes: result.nodes,
    shapes: result.shapes,
    order: result.order,
    fallbackNodes:
      result.device === 'cpu'
        ? []
        : Object.entries(result.nodes)
            .filter(([, run]) => run.provider === 'CPUExecutionProvider')
            .map(([id]) => id),
    requestedDevice: device,
    ...(result.deviceNote !== undefined ? { deviceNote: result.deviceNote } : {}),
    otherKernels: result.otherKernels,
    timing: result.timing,
  };
}

/** The worker numbers nodes itself; every id it reports must be the same node here. */
function checkJoin(model: OnnxModel, result: WorkerResult): void {
  const byId = new Map<string, OnnxNode>();
  const index = (graph: OnnxGraph): void => {
    for (const node of graph.nodes) {
      byId.set(node.id, node);
      for (const sub of node.subgraphs) index(sub.graph);
    }
  };
  index(model.graph);
  for (const id of Object.keys(result.nodes)) {
    const node = byId.get(id);
    if (!node || node.opType !== result.opTypes[id]) {
      throw new TraceError(
        'worker',
        `the trace names node ${id} (${result.opTypes[id]}), which is ${node ? `a ${node.opType} node` : 'not a node'} of ${model.file.path}: the model changed during the trace, or the node numbering disagrees with read-model`,
      );
    }
  }
}
