// traceModel: one real inference run of a model in a worker process, joined back to the model's nodes.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { totalmem, tmpdir } from 'node:os';
import path from 'node:path';
import type { OnnxModel, OnnxNode, OnnxGraph } from '../onnx/model.ts';
import { TraceError } from './errors.ts';
import { inferFunctionCalls } from './function-calls.ts';
import { planInputs } from './input-plan.ts';
import type { TraceOptions } from './options.ts';
import type { WorkerRequest, WorkerResult } from './run-traced.ts';
import type { Trace } from './trace.ts';
import { startWorker, type WorkerHandle } from './worker-process.ts';

export const DEFAULT_TIMEOUT_MS = 120_000;

/**
 * Runs the model once with onnxruntime-node (profiling on, graph optimizations and prepacking off) in a
 * worker process and returns what ran. Throws TraceInputError when the inputs cannot be built from the
 * model and the options, TraceError when the run fails (the worker is killed by then).
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

/**
 * Starts the worker process now, so that it loads (Node, onnxruntime's binding) while the caller reads
 * the model; `run` hands it the model. Either `run` or `cancel` must be called.
 */
export function startTrace(options: TraceOptions = {}): PendingTrace {
  const folder = mkdtempSync(path.join(tmpdir(), 'paramtrace-trace-'));
  const requestFile = path.join(folder, 'request.json');
  let worker: WorkerHandle;
  try {
    worker = startWorker(requestFile, {
      timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      maxMemoryMb: options.maxMemoryMb ?? Math.floor((totalmem() / 2 ** 20) * 0.8),
      env: options.env,
    });
  } catch (error) {
    rmSync(folder, { recursive: true, force: true });
    throw error;
  }
  const cleanUp = (): void => rmSync(folder, { recursive: true, force: true });
  return {
    async run(model) {
      try {
        return await runTrace(model, options, requestFile, worker);
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
  const inputs = planInputs(model, options);
  const device = options.device ?? 'auto';
  const request: WorkerRequest = {
    modelPath: path.resolve(model.file.path),
    profileDir: path.dirname(requestFile),
    device,
    inputs,
  };
  writeFileSync(requestFile, JSON.stringify(request));
  const result = (await worker.run()) as WorkerResult;
  checkJoin(model, result);
  inferFunctionCalls(model, result.nodes);
  return {
    device: result.device,
    onnxruntimeVersion: result.onnxruntimeVersion,
    inputs: inputs.map(({ name, dtype, shape, from }) => ({ name, dtype, shape, from })),
    nodes: result.nodes,
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
