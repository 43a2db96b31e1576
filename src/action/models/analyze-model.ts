// One model file → report: traced as the inputs ask (src/action/models/tracing.ts), in a worker started with a
// clean environment (the trace options carry it). A trace that fails gives the static report, which says why (unless the trace was
// required).
import { analyzeFile, type AnalyzeFileOptions, type PhaseName } from '../../pipeline/analyze-file.ts';
import type { PhaseTiming, Report } from '../../report/report.ts';
import { TOOL_VERSION } from '../../version.ts';
import type { Tracer } from './tracing.ts';

export async function analyzeModel(
  file: string,
  options: { displayName: string; tracer: Tracer; log?: (line: string) => void },
): Promise<Report> {
  const plan = await options.tracer.plan();
  const trace = options.tracer.optionsFor(plan);
  const log = options.log;
  const report = await analyzeFile(file, {
    displayName: options.displayName,
    trace,
    traceRequired: plan.required,
    ...(plan.unavailable ? { traceError: plan.unavailable.slice(0, 4000) } : {}),
    ...(log && phaseLog(log)),
  });
  if (!plan.unavailable && report.trace.mode === 'failed') {
    options.tracer.warning(
      `paramtrace: the trace of ${options.displayName} failed (${report.trace.error}); its report is static`,
    );
  }
  return report;
}

/**
 * Each phase in the log as it starts (the first time) and when it ends, so a slow one shows while it
 * runs. A phase run inside another (fingerprinting, once per group of candidates, inside analyzing) is
 * summed and shown when the outer one ends.
 */
function phaseLog(log: (line: string) => void): Pick<AnalyzeFileOptions, 'onPhaseStart' | 'onPhase'> {
  const started = new Set<PhaseName>();
  const inner = new Map<PhaseName, number>();
  let depth = 0;
  return {
    onPhaseStart(name) {
      depth++;
      if (!started.has(name)) log(`${name}: ${PHASE_WORK[name]} ...`);
      started.add(name);
    },
    onPhase(name, ms) {
      depth--;
      if (depth > 0) {
        inner.set(name, (inner.get(name) ?? 0) + ms);
        return;
      }
      for (const [nested, total] of inner) log(`${nested}: done in ${formatMs(total)}`);
      inner.clear();
      log(`${name}: done in ${formatMs(ms)}`);
    },
  };
}

const PHASE_WORK: Record<PhaseName, string> = {
  read: 'reading the model (structure, not weights)',
  trace: 'running the model once with onnxruntime',
  fingerprint: 'comparing the weights of duplicate candidates',
  analyze: 'counting',
  cost: 'counting MACs and activation memory',
};

/** `read 23 ms (66 MiB), trace 1.2 s (410 MiB), ...`: where the time and memory of one analysis went. */
export function formatTimings(timings: readonly PhaseTiming[]): string {
  return timings
    .map((t) => `${t.phase} ${formatMs(t.ms)} (${Math.round(t.peakRssBytes / 2 ** 20)} MiB)`)
    .join(', ');
}

function formatMs(ms: number): string {
  return ms >= 1000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms)} ms`;
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
