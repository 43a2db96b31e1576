// The CLI's commands (loaded by main.ts, the entry). With main.ts, the only place (with src/action) that
// reads arguments, prints and exits.
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UserError } from '../report/user-error.ts';

type ParseArgsOptionsConfig = NonNullable<ParseArgsConfig['options']>;
import { analyzeFile, type AnalyzeFileOptions, type PhaseName } from '../pipeline/analyze-file.ts';
import {
  parseDimOption,
  parseInputFileOption,
  parseInputShapeOption,
  parseValueOption,
  type TraceOptions,
} from '../trace/index.ts';
import { renderText } from '../render/text.ts';
import { renderComment } from '../render/markdown.ts';
import { compare, parseCount, parseGrowth } from '../compare/compare.ts';
import type { Thresholds } from '../compare/comparison.ts';
import type { Report } from '../report/report.ts';
import { ReportError } from '../report/report-error.ts';
import { joinedLine, plainLines, plainText } from '../report/plain-line.ts';
import { TOOL_VERSION } from '../version.ts';

const USAGE = `Usage:
  paramtrace analyze MODEL.onnx [--json] [--output FILE] [--depth N | --all-nodes] [trace options]
      Runs the model once with onnxruntime to see which layer calls execute, then prints a
      torchsummary-like table of the layer calls and the declared, unique and summary-style
      parameter counts, shared and unused parameters.
      --json          print the report object (paramtrace's JSON format) instead of the table
      --output FILE   also write the JSON report to FILE
      --depth N       the table's rows: layer calls with parameters, those deeper than N module
                      levels summed into their module at depth N (default 3, as torchinfo)
      --all-nodes     the table's rows: every layer call, none summed or left out
  Trace options (analyze and compare):
      --no-trace              static analysis: do not run the model
      --trace                 require the trace: exit 2 if it fails (default: fall back to static, saying why)
      --device auto|cpu|cuda  where to run (default auto: CUDA when its provider loads, else CPU)
      --input NAME=1x3x224x224   shape of an input (resolves symbolic dimensions)
      --dim NAME=N            value of a symbolic dimension, e.g. --dim seq=128 (a leading one defaults to 1)
      --value NAME=V[,V...]   values of a scalar or small input, e.g. --value sr=16000 (dtype from the model)
      --input-file NAME=FILE  real values for an input from a .npy or ONNX TensorProto .pb file
      --trace-timeout SECONDS time limit for the run (default 120)
  paramtrace compare BASE HEAD [--json] [--max-growth 5%|N] [--max-params N] [--metric unique|declared|summary]
                     [--fail-on-new-shared] [--fail-on-new-unused] [--comment-key KEY]
      Compares two models (ONNX files or JSON reports from analyze --json) and prints the pull-request
      comment paramtrace would post. Exit code 1 when a threshold fails.
  paramtrace --version | --help
`;

/**
 * What the CLI prints, through the last-resort guard: a name in a report is untrusted, and the CLI may run
 * in a CI step whose log a runner reads for workflow commands. Renderers already escape the names they
 * print; here no control, bidirectional or invisible character passes raw, no line holds `##[`, and none
 * starts with `::` (src/report/plain-line.ts). JSON stays the same JSON value.
 */
function print(text: string, options: { markdown?: boolean } = {}): void {
  process.stdout.write(plainLines(text, options));
}

function printError(text: string): void {
  process.stderr.write(plainLines(text));
}

/** A usage problem: exit code 2 with the message and the usage. */
class UsageError extends UserError {
  readonly code = 'usage';
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    print(USAGE);
    return command === undefined ? 2 : 0;
  }
  if (command === '--version' || command === '-v') {
    print(`${TOOL_VERSION}\n`);
    return 0;
  }
  if (command === 'analyze') return analyzeCommand(rest);
  if (command === 'compare') return compareCommand(rest);
  throw new UsageError(`unknown command '${command}'`);
}

const TRACE_OPTIONS = {
  'no-trace': { type: 'boolean', default: false },
  trace: { type: 'boolean', default: false },
  device: { type: 'string', default: 'auto' },
  input: { type: 'string', multiple: true },
  dim: { type: 'string', multiple: true },
  'input-file': { type: 'string', multiple: true },
  value: { type: 'string', multiple: true },
  'trace-timeout': { type: 'string' },
} satisfies ParseArgsOptionsConfig;

/** The trace options from parsed arguments: false for --no-trace. */
function traceOptions(values: Record<string, unknown>): {
  trace: TraceOptions | false;
  traceRequired: boolean;
} {
  if (values['no-trace'] && values.trace)
    throw new UsageError('--trace and --no-trace contradict each other');
  if (values['no-trace']) return { trace: false, traceRequired: false };
  const device = values.device as string;
  if (!['auto', 'cpu', 'cuda'].includes(device))
    throw new UsageError(`--device must be auto, cpu or cuda, not '${device}'`);
  const timeout = values['trace-timeout'] as string | undefined;
  if (timeout !== undefined && !(Number(timeout) > 0))
    throw new UsageError(`--trace-timeout must be a number of seconds, not '${timeout}'`);
  try {
    return {
      trace: {
        device: device as TraceOptions['device'],
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
    throw new UsageError((error as Error).message);
  }
}

async function analyzeCommand(args: string[]): Promise<number> {
  const { values, positionals } = parse(args, {
    json: { type: 'boolean', default: false },
    output: { type: 'string' },
    depth: { type: 'string' },
    'all-nodes': { type: 'boolean', default: false },
    ...TRACE_OPTIONS,
  });
  if (positionals.length !== 1) throw new UsageError('analyze takes exactly one model file');
  const depth = values.depth as string | undefined;
  if (depth !== undefined && !/^[1-9]\d{0,5}$/.test(depth))
    throw new UsageError(`--depth must be a whole number of module levels from 1, not '${depth}'`);
  if (depth !== undefined && values['all-nodes'])
    throw new UsageError('--depth and --all-nodes contradict each other: --all-nodes sums nothing');
  const report = await analyzeFile(positionals[0]!, {
    ...traceOptions(values),
    ...progress(positionals[0]!),
  });
  warnIfTraceFailed(report, positionals[0]!);
  // Unsafe characters in names as \uXXXX escapes: the same JSON value, safe to print.
  const json = plainLines(`${JSON.stringify(report, null, 2)}\n`);
  if (typeof values.output === 'string') writeFileSync(values.output, json);
  print(
    values.json
      ? json
      : renderText(report, {
          depth: depth === undefined ? undefined : Number(depth),
          allNodes: values['all-nodes'] as boolean,
        }),
  );
  return 0;
}

/**
 * A trace that failed fell back to static counts, which look like traced ones: one line on stderr says so
 * (the report says it too, at its top), whatever stdout is (a table, JSON, a comment).
 */
function warnIfTraceFailed(report: Report, file: string, fromReport = false): void {
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

async function compareCommand(args: string[]): Promise<number> {
  const { values, positionals } = parse(args, {
    json: { type: 'boolean', default: false },
    'max-growth': { type: 'string' },
    'max-params': { type: 'string' },
    metric: { type: 'string', default: 'unique' },
    'fail-on-new-shared': { type: 'boolean', default: false },
    'fail-on-new-unused': { type: 'boolean', default: false },
    'comment-key': { type: 'string', default: 'default' },
    ...TRACE_OPTIONS,
  });
  if (positionals.length !== 2) throw new UsageError('compare takes two files: BASE HEAD');
  const metric = values.metric as string;
  if (!['unique', 'declared', 'summary'].includes(metric))
    throw new UsageError(`--metric must be unique, declared or summary, not '${metric}'`);
  let thresholds: Thresholds;
  try {
    thresholds = {
      ...parseGrowth((values['max-growth'] as string | undefined) ?? ''),
      maxParams: values['max-params'] === undefined ? undefined : parseCount(values['max-params'] as string),
      failOnNewShared: values['fail-on-new-shared'] as boolean,
      failOnNewUnused: values['fail-on-new-unused'] as boolean,
      metric: metric as Thresholds['metric'],
    };
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const trace = traceOptions(values);
  const [base, head] = [await loadReport(positionals[0]!, trace), await loadReport(positionals[1]!, trace)];
  const comparison = compare(base, head, thresholds);
  print(
    values.json
      ? `${JSON.stringify(comparison, null, 2)}\n`
      : renderComment(comparison, { commentKey: values['comment-key'] as string, headReport: head }),
    { markdown: !values.json },
  );
  return comparison.verdict.pass ? 0 : 1;
}

/** An ONNX file is analyzed; a .json file is read as a report (checked: it is untrusted input). */
async function loadReport(file: string, options: AnalyzeFileOptions): Promise<Report> {
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
};

/**
 * Progress of the long phases on stderr, one line rewritten in place, only when stderr is a terminal
 * (never in logs or pipes). Phases that wait (the trace) show their elapsed time.
 */
function progress(file: string): Pick<AnalyzeFileOptions, 'onPhaseStart' | 'onPhase'> {
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
function clearProgress(): void {
  if (process.stderr.isTTY) process.stderr.write('\r\x1b[K');
}

function parse(
  args: string[],
  options: ParseArgsOptionsConfig,
): { values: Record<string, string | boolean | (string | boolean)[] | undefined>; positionals: string[] } {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

/** Known failures become one line on stderr and exit code 2; anything else is a bug and says so. */
export async function runCommand(argv: string[]): Promise<number> {
  try {
    return await main(argv);
  } catch (error) {
    clearProgress();
    if (error instanceof UsageError) {
      printError(`paramtrace: ${joinedLine(error.message)}\n\n${USAGE}`);
      return 2;
    }
    if (error instanceof UserError) {
      printError(`paramtrace: ${joinedLine(error.message)}\n`);
      return error.exitCode;
    }
    const message = error instanceof Error ? error.message : String(error);
    printError(
      `paramtrace: internal error: ${joinedLine(message)}\n(please report this with the model that caused it)\n`,
    );
    return 3;
  }
}
