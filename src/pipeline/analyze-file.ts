// The one path from a model file to a report, shared by the CLI and the action: read the model, its
// manifest, trace it (unless told not to), analyze. This is the edge that touches files and processes.
// Each phase is timed (time and peak memory, in the report's `timings`) and announced to the caller.
import { costOf } from '../cost/index.ts';
import { analyze } from '../analysis/analyze.ts';
import { walkModel } from '../analysis/graph-walk.ts';
import type { Manifest } from '../analysis/manifest.ts';
import { manifestOf } from '../analysis/read-manifest.ts';
import { ModelReadError, readModel } from '../onnx/read-model.ts';
import { TensorReader } from '../onnx/tensor-bytes.ts';
import type { Report } from '../report/report.ts';
import type { OnnxModel } from '../onnx/model.ts';
import {
  startTrace,
  TraceError,
  TraceInputError,
  TraceUsageError,
  type Trace,
  type TraceOptions,
} from '../trace/index.ts';
import { PhaseClock, type PhaseHooks, type PhaseName } from './phases.ts';

export type { PhaseName } from './phases.ts';

export interface AnalyzeFileOptions extends PhaseHooks {
  /** Report the file under this name instead of its path (e.g. the path relative to the repository). */
  displayName?: string;
  /** Run the model to see what executes; false for the static analysis. Default: trace. */
  trace?: TraceOptions | false;
  /**
   * The user asked for the trace explicitly: a failed trace is an error. Otherwise the static report is
   * returned with the failure stated in it.
   */
  traceRequired?: boolean;
  /**
   * Why a trace that was asked for could not run at all (the action's runtime did not install): the
   * static report states it as a failed trace.
   */
  traceError?: string;
}

export async function analyzeFile(file: string, options: AnalyzeFileOptions = {}): Promise<Report> {
  const clock = new PhaseClock(options);
  const traceOptions = options.trace === false ? undefined : options.trace;
  // The worker process loads while the model is read; it is stopped if the model cannot be read.
  const pending = traceOptions ? startTrace(traceOptions) : undefined;
  let read: { model: OnnxModel; manifest: Manifest | undefined };
  try {
    read = clock.run('read', () => {
      const model = readModel(file);
      return { model, manifest: manifestOf(model) };
    });
  } catch (error) {
    pending?.cancel();
    throw error;
  }
  const { model, manifest } = read;
  let trace: Trace | undefined;
  let traceError = options.traceError;
  if (pending) {
    try {
      trace = await clock.runAsync('trace', () => pending.run(model));
      clock.addPeak('trace', trace.timing?.peakRssBytes ?? 0);
    } catch (error) {
      // A usage error (an option naming no input of the model) is never a static fall-back.
      if (
        options.traceRequired ||
        error instanceof TraceUsageError ||
        !(error instanceof TraceError || error instanceof TraceInputError)
      )
        throw error;
      traceError = error.message;
    }
  }
  const content = new TensorReader(model);
  try {
    const report = reportOf(model, manifest, content, {
      trace,
      traceError,
      phase: (name, run) => clock.run(name, run),
    });
    if (options.displayName) report.model.file = options.displayName;
    report.timings = clock.timings();
    return report;
  } finally {
    content.close();
  }
}

/**
 * The stages after reading and tracing: the analysis, then the cost. One function, so that what runs
 * after the read is the same for the CLI, the action and the fuzzer (which reads and calls this).
 */
export function reportOf(
  model: OnnxModel,
  manifest: Manifest | undefined,
  content: TensorReader,
  options: {
    trace?: Trace | undefined;
    traceError?: string | undefined;
    phase?: <T>(name: PhaseName, run: () => T) => T;
  } = {},
): Report {
  const phase = options.phase ?? (<T>(_name: PhaseName, run: () => T): T => run());
  const { trace, traceError } = options;
  // One walk of the graph for both the analysis and the cost stage, which groups nodes into the same calls.
  const { report, walk } = phase('analyze', () => {
    const walk = walkModel(model);
    return { report: analyze({ model, content, manifest, trace, traceError, walk, phase }), walk };
  });
  // What the run cost: MACs per layer call and activation memory, from the trace's shapes (src/cost).
  report.cost = phase('cost', () => costOf(model, trace, walk));
  report.counts.macs = report.cost.macs;
  const inexact = firstInexact(report);
  if (inexact !== undefined) {
    throw new ModelReadError(
      model.file.path,
      `${inexact} of this model passes 2^53, where numbers stop being exact: its declared shapes are not a real model's`,
    );
  }
  return report;
}

/**
 * Which of the report's totals passes Number.MAX_SAFE_INTEGER, or undefined: a file can declare huge
 * sparse tensors (cheap in bytes), or a huge tensor used by many calls, whose sums no count holds exactly.
 */
function firstInexact(report: Report): string | undefined {
  for (const [name, value] of Object.entries(report.counts))
    if (typeof value === 'number' && !Number.isSafeInteger(value)) return `the ${name} count`;
  for (const [dtype, bytes] of Object.entries(report.bytesByDtype))
    if (!Number.isSafeInteger(bytes)) return `the bytes of its ${dtype} parameters`;
  return undefined;
}
