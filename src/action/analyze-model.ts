// One model file → report, with the trace options the inputs asked for. The trace stage is wired here
// once it lands; until then the analysis is static and says so.
import { analyzeFile } from '../pipeline/analyze-file.ts';
import type { Report } from '../report/report.ts';
import { TOOL_VERSION } from '../version.ts';
import type { TraceOptions } from './inputs.ts';

export interface AnalyzedModel {
  report: Report;
  /** Things the user should know about how it was analyzed. */
  notes: string[];
}

export async function analyzeModel(
  file: string,
  options: { displayName: string; trace: TraceOptions },
): Promise<AnalyzedModel> {
  const notes: string[] = [];
  if (options.trace.enabled) {
    notes.push('trace: true was asked for, but this version of the action analyzes statically');
  }
  const report = await analyzeFile(file, { displayName: options.displayName });
  return { report, notes };
}

/** A report of nothing: the base side when the model does not exist at the base commit. */
export function emptyReport(file: string, note: string): Report {
  return {
    schemaVersion: 1,
    tool: { name: 'paramtrace', version: TOOL_VERSION },
    model: { file, sizeBytes: 0, producer: '', producerVersion: '', irVersion: 0, opsets: {} },
    source: 'graph',
    trace: { mode: 'static', note },
    counts: {
      declared: 0,
      unique: 0,
      summary: 0,
      trainable: null,
      frozen: null,
      buffers: 0,
      parameterBytes: 0,
    },
    bytesByDtype: {},
    parameters: [],
    buffers: [],
    shared: [],
    unused: [],
    duplicates: [],
    valueMerged: [],
    layers: [],
    notes: [note],
  };
}
