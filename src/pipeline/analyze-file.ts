// The one path from a model file to a report, shared by the CLI and the action: read the model, its
// manifest, trace it (unless told not to), analyze. This is the edge that touches files and processes.
import { analyze } from '../analysis/analyze.ts';
import { manifestOf } from '../analysis/read-manifest.ts';
import { readModel } from '../onnx/read-model.ts';
import { TensorReader } from '../onnx/tensor-bytes.ts';
import type { Report } from '../report/report.ts';
import { TraceError, TraceInputError, traceModel, type Trace, type TraceOptions } from '../trace/index.ts';

export interface AnalyzeFileOptions {
  /** Report the file under this name instead of its path (e.g. the path relative to the repository). */
  displayName?: string;
  /** Run the model to see what executes; false for the static analysis. Default: trace. */
  trace?: TraceOptions | false;
  /**
   * The user asked for the trace explicitly: a failed trace is an error. Otherwise the static report is
   * returned with the failure stated in it.
   */
  traceRequired?: boolean;
}

export async function analyzeFile(file: string, options: AnalyzeFileOptions = {}): Promise<Report> {
  const model = readModel(file);
  const manifest = manifestOf(model);
  let trace: Trace | undefined;
  let traceError: string | undefined;
  if (options.trace !== false && options.trace !== undefined) {
    try {
      trace = await traceModel(model, options.trace);
    } catch (error) {
      if (options.traceRequired || !(error instanceof TraceError || error instanceof TraceInputError))
        throw error;
      traceError = error.message;
    }
  }
  const content = new TensorReader(model);
  try {
    const report = analyze({ model, content, manifest, trace, traceError });
    if (options.displayName) report.model.file = options.displayName;
    return report;
  } finally {
    content.close();
  }
}
