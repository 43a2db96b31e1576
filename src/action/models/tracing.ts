// Tracing in the action: onnxruntime-node is installed (pinned, into the tool cache) the first time a
// model is analyzed, then every model of the run is traced with the same options in a worker process
// whose environment holds no token, no action input and no runner command file.
import { execFile } from 'node:child_process';
import type { TraceOptions } from '../../trace/index.ts';
import { oneLine } from '../../trace/errors.ts';
import { installOnnxRuntime, ONNXRUNTIME_VERSION } from './install-runtime.ts';
import { join } from 'node:path';
import type { RunContext } from '../context.ts';
import type { ActionInputs, TraceInputs } from '../inputs.ts';
import type { Io } from '../runner-log.ts';
import { ActionError } from '../runner-log.ts';
import { locateModel, relativeModelPath } from './model-file.ts';

/** The variable dist/trace-worker.js loads onnxruntime-node from (scripts/build-dist.mjs). */
export const RUNTIME_DIR_VARIABLE = 'PARAMTRACE_ONNXRUNTIME_DIR';

export interface TracePlan {
  /** false: analyze statically (`trace: false`, or no runtime). */
  options: TraceOptions | false;
  required: boolean;
  /** The environment the trace worker starts with. */
  env: NodeJS.ProcessEnv;
  /** Why the models cannot be traced although tracing was asked for (the runtime did not install). */
  unavailable?: string;
}

export interface TracerSettings {
  trace: TraceInputs;
  /** The checkout `input-files` are relative to. */
  workspace: string;
  /** RUNNER_TOOL_CACHE, or a folder in RUNNER_TEMP. */
  toolCache: string;
  /** The build's environment (src/action/models/exec.ts buildEnvironment): no token, no inputs, no command files. */
  env: NodeJS.ProcessEnv;
  io: Io;
}

export interface TracerDeps {
  install?: typeof installOnnxRuntime;
  hasGpu?: (env: NodeJS.ProcessEnv) => Promise<boolean>;
}

/** Whether an NVIDIA GPU is visible: `nvidia-smi -L` runs and lists one. */
export function hasNvidiaGpu(env: NodeJS.ProcessEnv): Promise<boolean> {
  return new Promise((resolve) => {
    execFile('nvidia-smi', ['-L'], { env, timeout: 15_000 }, (error, stdout) => {
      resolve(!error && /^GPU \d+:/m.test(String(stdout)));
    });
  });
}

/** The runtime of a run: installed once, shared by every model's tracer. */
interface Runtime {
  env: NodeJS.ProcessEnv;
  /** Why the models cannot be traced although tracing was asked for (the runtime did not install). */
  unavailable?: string;
}

export class Tracer {
  private planned: Promise<TracePlan> | undefined;

  constructor(
    private readonly settings: TracerSettings,
    private readonly deps: TracerDeps = {},
    private readonly runtime: { installed?: Promise<Runtime> } = {},
  ) {}

  warning(message: string): void {
    this.settings.io.warning(message);
  }

  /**
   * The tracer of one model of a list, with its own trace inputs (`input-shapes`, ...) in place of the
   * action's: the same runtime, installed once.
   */
  withInputs(own: Partial<Pick<TraceInputs, 'inputShapes' | 'dims' | 'inputFiles' | 'inputValues'>>): Tracer {
    return new Tracer(
      { ...this.settings, trace: { ...this.settings.trace, ...own } },
      this.deps,
      this.runtime,
    );
  }

  /** What to trace with; installs onnxruntime-node the first time (once per run). */
  plan(): Promise<TracePlan> {
    this.planned ??= this.makePlan();
    return this.planned;
  }

  /** The trace stage's options for one model: `input-files` resolved inside the workspace. */
  optionsFor(plan: TracePlan): TraceOptions | false {
    if (plan.options === false) return false;
    const files = this.settings.trace.inputFiles;
    const inputFiles: Record<string, string> = {};
    for (const [name, location] of Object.entries(files)) {
      const rel = relativeModelPath(this.settings.workspace, location);
      const file = locateModel(this.settings.workspace, rel);
      if (!file)
        throw new ActionError(`input-files: ${rel} (for input '${name}') does not exist in the checkout`);
      inputFiles[name] = file;
    }
    // The worker gets the build's environment: no token, no inputs, no runner command files.
    const options: TraceOptions = { ...plan.options, env: plan.env };
    return Object.keys(inputFiles).length > 0 ? { ...options, inputFiles } : options;
  }

  private async makePlan(): Promise<TracePlan> {
    const { trace, env } = this.settings;
    if (!trace.enabled) return { options: false, required: false, env };
    const options: TraceOptions = {
      device: trace.device,
      timeoutMs: Math.round(trace.timeoutSeconds * 1000),
      ...(Object.keys(trace.inputShapes).length > 0 ? { inputs: trace.inputShapes } : {}),
      ...(Object.keys(trace.dims).length > 0 ? { dims: trace.dims } : {}),
      ...(Object.keys(trace.inputValues).length > 0 ? { values: trace.inputValues } : {}),
    };
    this.runtime.installed ??= this.installRuntime();
    const runtime = await this.runtime.installed;
    if (runtime.unavailable)
      return { options: false, required: false, env: runtime.env, unavailable: runtime.unavailable };
    return { options, required: trace.required, env: runtime.env };
  }

  private async installRuntime(): Promise<Runtime> {
    const { trace, env, io } = this.settings;
    const preset = env[RUNTIME_DIR_VARIABLE];
    if (preset) {
      io.info(`paramtrace: onnxruntime-node from ${RUNTIME_DIR_VARIABLE}=${preset} (not installing one)`);
      return { env };
    }
    try {
      const dir = await io.group('paramtrace: install onnxruntime-node', () => this.install());
      return { env: { ...env, [RUNTIME_DIR_VARIABLE]: dir } };
    } catch (error) {
      const why = `onnxruntime-node ${ONNXRUNTIME_VERSION} could not be installed: ${oneLine((error as Error).message, 1000)}`;
      if (trace.required) throw new ActionError(`trace: required, but ${why}`);
      io.warning(`paramtrace: ${why}. The models are analyzed statically.`);
      return { env, unavailable: why };
    }
  }

  /** Installs the flavour the device needs; `auto` takes CUDA only on a machine that shows a GPU. */
  private async install(): Promise<string> {
    const { trace, env, io, toolCache } = this.settings;
    const install = this.deps.install ?? installOnnxRuntime;
    const log = (m: string) => io.info(m);
    let flavour: 'cpu' | 'cuda' = trace.device === 'cuda' ? 'cuda' : 'cpu';
    if (trace.device === 'auto') {
      const gpu = await (this.deps.hasGpu ?? hasNvidiaGpu)(env);
      flavour = gpu ? 'cuda' : 'cpu';
      io.info(
        gpu
          ? 'device: auto, and nvidia-smi lists a GPU: installing the CUDA 12 provider too (the trace falls back to the CPU if it does not load)'
          : 'device: auto, and nvidia-smi lists no GPU: installing the CPU runtime only',
      );
    }
    const started = Date.now();
    try {
      const dir = await install({ device: flavour, toolCache, env, log });
      log(
        `onnxruntime-node ${ONNXRUNTIME_VERSION} (${flavour}) ready in ${((Date.now() - started) / 1000).toFixed(1)} s`,
      );
      return dir;
    } catch (error) {
      if (trace.device !== 'auto' || flavour === 'cpu') throw error;
      io.warning(
        `paramtrace: installing onnxruntime-node with the CUDA 12 provider failed (${oneLine((error as Error).message, 1000)}); tracing on the CPU`,
      );
      return install({ device: 'cpu', toolCache, env, log });
    }
  }
}

/** The tracer of a run: onnxruntime-node in the tool cache, the build's environment for the worker. */
export function tracerFor(inputs: ActionInputs, ctx: RunContext, env: NodeJS.ProcessEnv, io: Io): Tracer {
  return new Tracer({
    trace: inputs.trace,
    workspace: ctx.workspace,
    toolCache: ctx.toolCache ?? join(ctx.tempDir, 'paramtrace-tool-cache'),
    env,
    io,
  });
}
