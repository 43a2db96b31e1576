// The work of the trace worker: rename the nodes, open a session with profiling on and graph
// optimizations and prepacking off, run once, and join the profile back to node ids. Runs inside the
// worker process (trace-worker.ts); everything that can crash or hang onnxruntime happens here.
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import * as ort from 'onnxruntime-node';
import { onnxruntimeVersion, openSession, type OpenedSession } from './device.ts';
import { cleanOrtMessage, TraceError } from './errors.ts';
import { inputData } from './input-data.ts';
import type { InputPlan } from './input-plan.ts';
import type { TraceDevice } from './options.ts';
import { joinProfileFile, PROFILER_EVENT_LIMIT } from './profile-file.ts';
import { describeTraceNames, renameNodesForSession } from './rename-nodes.ts';
import type { NodeRun, NodeShapes, Trace } from './trace.ts';

export interface WorkerRequest {
  modelPath: string;
  /** An empty folder the worker may write its profile into (the parent deletes it). */
  profileDir: string;
  device: TraceDevice;
  inputs: InputPlan[];
  /** The inputs in words (input-plan.ts describeInputs), for the message of a failed run. */
  inputsText?: string;
}

export interface WorkerResult {
  device: 'cpu' | 'cuda';
  deviceNote?: string;
  onnxruntimeVersion: string;
  nodes: Record<string, NodeRun>;
  /** Node id → its inputs' and outputs' types and shapes (last execution). */
  shapes: Record<string, NodeShapes>;
  /** Node ids in the order they first ran. */
  order: string[];
  /** Node id → op type as the worker read it, for the parent to check the join against the model. */
  opTypes: Record<string, string>;
  otherKernels: NonNullable<Trace['otherKernels']>;
  timing: { renameMs: number; sessionMs: number; runMs: number; peakRssBytes: number };
}

export async function runTraced(request: WorkerRequest): Promise<WorkerResult> {
  const renameStarted = performance.now();
  // The renamed model references the weights in the original file (external data): it is small, and
  // onnxruntime reads the weights once, from the file, as a plain session does.
  const renamed = renameNodesForSession(request.modelPath);
  const renameMs = performance.now() - renameStarted;
  const explain = (error: unknown): string =>
    describeTraceNames(cleanOrtMessage((error as Error).message ?? String(error)), renamed.nodes);
  const options: ort.InferenceSession.SessionOptions = {
    graphOptimizationLevel: 'disabled', // optimizations rename, fuse and drop nodes
    enableProfiling: true,
    profileFilePrefix: path.join(request.profileDir, 'profile'),
    logSeverityLevel: 3,
    extra: {
      session: {
        // Prepacked MatMul/Gemm weights vanish from the profile's parameter_size.
        disable_prepacking: '1',
        // The model is loaded from bytes: external data is found relative to the folder renameNodesForSession
        // gives (the real file's folder, or the link's when the model was copied).
        model_external_initializers_file_folder_path: renamed.folder,
      },
    },
  };

  const started = performance.now();
  let opened: OpenedSession;
  try {
    opened = await openSession(renamed.bytes, options, request.device);
  } catch (error) {
    if (error instanceof TraceError) throw error;
    throw new TraceError('onnxruntime', `onnxruntime cannot load the model: ${explain(error)}`);
  }
  const sessionMs = performance.now() - started;
  const { session } = opened;
  const feeds: Record<string, ort.Tensor> = {};
  for (const plan of request.inputs) {
    feeds[plan.name] = new ort.Tensor(plan.dtype as ort.Tensor.Type, inputData(plan) as never, plan.shape);
  }
  const runStarted = performance.now();
  try {
    await session.run(feeds);
  } catch (error) {
    const inputs = request.inputsText ? ` ${request.inputsText}` : '';
    throw new TraceError(
      'onnxruntime',
      `onnxruntime failed while running the model: ${explain(error)}.${inputs}`,
    );
  }
  const runMs = performance.now() - runStarted;
  session.endProfiling();
  await session.release();

  const profileFile = readdirSync(request.profileDir).find(
    (f) => f.startsWith('profile') && f.endsWith('.json'),
  );
  if (!profileFile) throw new TraceError('worker', `onnxruntime wrote no profile into ${request.profileDir}`);
  const joined = await joinProfileFile(
    path.join(request.profileDir, profileFile),
    (name) => renamed.nodes.get(name)?.id,
  );
  if (joined.events >= PROFILER_EVENT_LIMIT) {
    throw new TraceError(
      'profile-limit',
      `the run executed more nodes than onnxruntime's profiler records (${PROFILER_EVENT_LIMIT.toLocaleString('en-US')} events; long loops?), so the trace would be incomplete; trace with inputs that run fewer iterations`,
    );
  }
  const opTypes: Record<string, string> = {};
  for (const node of renamed.nodes.values()) if (joined.nodes[node.id]) opTypes[node.id] = node.opType;
  return {
    device: opened.device,
    ...(opened.note !== undefined ? { deviceNote: opened.note } : {}),
    onnxruntimeVersion: onnxruntimeVersion(),
    nodes: joined.nodes,
    shapes: joined.shapes,
    order: joined.order,
    opTypes,
    otherKernels: joined.otherKernels,
    timing: { renameMs, sessionMs, runMs, peakRssBytes: process.resourceUsage().maxRSS * 1024 },
  };
}
