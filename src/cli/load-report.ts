// What analyze, compare and report read the same way: the trace options, and a model (analyzed, with
// progress on a terminal) or a JSON report (checked: untrusted), with a warning when its trace failed.
import { readFileSync } from 'node:fs';
import type { ParseArgsConfig } from 'node:util';
import { analyzeFile, type AnalyzeFileOptions, type PhaseName } from '../pipeline/analyze-file.ts';
import { isOneOf, listWords } from '../report/lists.ts';
import { plainText } from '../report/plain-line.ts';
import { ReportError } from '../report/report-error.ts';
import type { Report } from '../report/report.ts';
import {
  parseDimOption,
  parseInputFileOption,
  parseInputShapeOption,
  parseValueOption,
  type TraceOptions,
} from '../trace/index.ts';
import { TRACE_DEVICES } from '../trace/options.ts';
import { printError, UsageError } from './print.ts';

type ParseArgsOptionsConfig = NonNullable<ParseArgsConfig['options']>;

export const TRACE_OPTIONS = {
  'no-trace': { type: 'boolean', default: false },
  trace: { type: 'boolean', default: false },
  device: { type: 'string', default: 'auto' },
  input: { type: 'string', multiple: true },
  dim: { type: 'string', multiple: true },
  'input-file': { type: 'string', multiple: true },
  value: { type: 'string', multiple: true },
  'trace-timeout': { type: 'string' },
  // The action's names for the same things (input-shapes, input-dims, input-values), one input at a time.
  'input-shape': { type: 'string', multiple: true },
  'input-dim': { type: 'string', multiple: true },
  'input-value': { type: 'string', multiple: true },
} satisfies ParseArgsOptionsConfig;

/** Alias → the option it stands for: the action's input names (action.yml), singular as a CLI option. */
export const ALIASES: Record<string, string> = {
  'input-shape': 'input',
  'input-dim': 'dim',
  'input-value': 'value',
};

/** The trace options from parsed arguments: false for --no-trace. */
export function traceOptions(
  values: Record<string, unknown>,
  command: string,
): {
  trace: TraceOptions | false;
  traceRequired: boolean;
} {
  if (values['no-trace'] && values.trace)
    throw new UsageError('--trace and --no-trace contradict each other', command);
  if (values['no-trace']) return { trace: false, traceRequired: false };
  const device = values.device as string;
  if (!isOneOf(TRACE_DEVICES, device))
    throw new UsageError(`--device must be ${listWords(TRACE_DEVICES)}, not '${device}'`, command);
  const timeout = values['trace-timeout'] as string | undefined;
  if (timeout !== undefined && !(Number(timeout) > 0))
    throw new UsageError(`--trace-timeout must be a number of seconds, not '${timeout}'`, command);
  try {
    return {
      trace: {
        device,
        inputs: Object.fromEntries(((values.input as string[] | undefined) ?? []).map(parseInputShapeOption)),
        dims: Object.fromEntries(((values.dim as string[] | undefined) ?? []).map(parseDimOption)),
        inputFiles: Object.fromEntries(
          ((values['input-file'] as string[] | undefined) ?? []).map(parseInputFileOption),
        ),
        values: Object.fromEntries(((values.value as string[] | undefined) ?? []).map(parseValueOption)),
        ...(timeout !== undefined ? { timeoutMs: Number(timeout) * 1000 } : {}),
      },
      traceRequired: Boolean(values.trace) || device === 'cuda',
    };
  } catch (error) {
    throw new UsageError((error as Error).message, command);
  }
}

/**
 * A trace that failed fell back to static counts, which look like traced ones: one line on stderr says so
 * (the report says it too, at its top), whatever stdout is (a table, JSON, a comment).
 */
export function warnIfTraceFailed(report: Report, file: string, fromReport = false): void {
  if (report.trace.mode !== 'failed') return;
  clearProgress();
  const why = plainText(report.trace.error.replace(/\s+/g, ' '), 500);
  const name = plainText(file);
  printError(
    fromReport
      ? `paramtrace: warning: the report ${name} is static: its trace failed (${why}); rerun paramtrace analyze on the model with --trace to make that an error, or fix the inputs with --input, --dim, --value or --input-file\n`
      : `paramtrace: warning: the trace of ${name} failed (${why}): counts are static; pass --trace to make this an error, or fix the inputs with --input, --dim, --value or --input-file\n`,
  );
}

/** An ONNX file is analyzed; a .json file is read as a report (checked: it is untrusted input). */
export async function loadReport(file: string, options: AnalyzeFileOptions): Promise<Report> {
  if (!file.endsWith('.json')) {
    const report = await analyzeFile(file, { ...options, ...progress(file) });
    warnIfTraceFailed(report, file);
    return report;
  }
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ReportError(`${file}: cannot read: ${(error as Error).message}`);
  }
  // Loaded only here: the generated validator is the largest module, and analyze never needs it.
  const { parseReport } = await import('../report/validate.ts');
  const report = parseReport(text, file);
  warnIfTraceFailed(report, file, true);
  return report;
}

const PHASE_WORDS: Record<PhaseName, string> = {
  read: 'reading',
  trace: 'tracing',
  fingerprint: 'fingerprinting weights of',
  analyze: 'analyzing',
  cost: 'counting the MACs of',
};

/**
 * Progress of the long phases on stderr, one line rewritten in place, only when stderr is a terminal
 * (never in logs or pipes). Phases that wait (the trace) show their elapsed time.
 */
export function progress(file: string): Pick<AnalyzeFileOptions, 'onPhaseStart' | 'onPhase'> {
  const stderr = process.stderr;
  if (!stderr.isTTY) return {};
  let timer: NodeJS.Timeout | undefined;
  // Phases nest (fingerprinting runs inside analyzing): the line shows the innermost.
  const running: { name: PhaseName; started: number }[] = [];
  const show = (): void => {
    clearInterval(timer);
    const phase = running.at(-1);
    if (!phase) return clearProgress();
    const draw = (): void => {
      const seconds = Math.round((Date.now() - phase.started) / 1000);
      const text = `paramtrace: ${PHASE_WORDS[phase.name]} ${file} …${seconds > 0 ? ` ${seconds} s` : ''}`;
      const width = Math.max(20, (stderr.columns || 80) - 1);
      stderr.write(`\r\x1b[K${text.length > width ? `${text.slice(0, width - 1)}…` : text}`);
    };
    draw();
    timer = setInterval(draw, 1000);
    timer.unref();
  };
  return {
    onPhaseStart: (name) => {
      running.push({ name, started: Date.now() });
      show();
    },
    onPhase: () => {
      running.pop();
      show();
    },
  };
}

/** Clears the progress line (a no-op when stderr is not a terminal). */
export function clearProgress(): void {
  if (process.stderr.isTTY) process.stderr.write('\r\x1b[K');
}
