// The CLI's commands (loaded by main.ts, the entry). With main.ts, the only place (with src/action) that
// reads arguments, prints and exits.
import { writeFileSync } from 'node:fs';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UserError } from '../report/user-error.ts';
import { isOneOf, listWords, METRICS } from '../report/lists.ts';

type ParseArgsOptionsConfig = NonNullable<ParseArgsConfig['options']>;
import { analyzeFile } from '../pipeline/analyze-file.ts';
import { renderText } from '../render/text.ts';
import { renderComment } from '../render/markdown.ts';
import { renderCompareText } from '../render/compare-text.ts';
import { compare, parseCount, parseGrowth } from '../compare/compare.ts';
import type { Thresholds } from '../compare/comparison.ts';
import { joinedLine, plainLines } from '../report/plain-line.ts';
import { TOOL_VERSION } from '../version.ts';
import { print, printError, UsageError } from './print.ts';
import {
  ALIASES,
  clearProgress,
  loadReport,
  progress,
  TRACE_OPTIONS,
  traceOptions,
  warnIfTraceFailed,
} from './load-report.ts';

/** What each exit code means; every help ends with it (README, "Command line"; docs/cli.md). */
const EXIT_CODES = `Exit codes:
  0  done (compare: every threshold passed)
  1  compare: a threshold failed (--max-growth, --max-params, --fail-on-new-shared, --fail-on-new-unused)
  2  a usage or input error, said in one line on stderr: an unknown or bad option, a file that is not
     an ONNX model or a paramtrace report, missing external data, a trace that --trace required failed
  3  an internal error: a bug in paramtrace (please report it with the model that caused it)
`;

const TRACE_HELP = `Trace options (analyze, compare and report):
  --no-trace                 static analysis: do not run the model
  --trace                    require the trace: exit 2 if it fails (default: fall back to static
                             counts, saying why)
  --device auto|cpu|cuda     where to run (default auto: CUDA when its provider loads, else CPU)
  --input, --input-shape NAME=1x3x224x224
                             shape of an input (resolves its symbolic dimensions)
  --dim, --input-dim NAME=N  size of a symbolic dimension, e.g. --dim seq=128 (a leading one
                             defaults to 1)
  --value, --input-value NAME=V[,V...]
                             values of a scalar or small input, e.g. --value sr=16000 (dtype from
                             the model)
  --input-file NAME=FILE     real values for an input from a .npy or ONNX TensorProto .pb file
  --trace-timeout SECONDS    time limit for the run (default 120)
  NAME=... options may be given several times, once per input or dimension. --input-shape,
  --input-dim and --input-value are the action's names (input-shapes, input-dims, input-values);
  docs/cli.md maps every option to the action's input.
`;

const ANALYZE_SYNOPSIS =
  'paramtrace analyze MODEL.onnx [--json] [--output FILE] [--depth N | --all-nodes] [trace options]';
const COMPARE_SYNOPSIS = [
  'paramtrace compare BASE HEAD [--markdown | --json] [--max-growth 5%|N] [--max-params N]',
  '[--metric unique|declared|summary] [--fail-on-new-shared] [--fail-on-new-unused]',
  '[--comment-key KEY] [trace options]',
];

/** A synopsis of several lines, its later lines indented under the first's arguments, which start at `column`. */
function synopsis(lines: string | readonly string[], column: number): string {
  if (typeof lines === 'string') return lines;
  const at = column + 'paramtrace compare '.length;
  return lines.map((line, i) => (i === 0 ? line : `${' '.repeat(at)}${line}`)).join('\n');
}

const ANALYZE_HELP = `Usage: ${ANALYZE_SYNOPSIS}

Runs the model once with onnxruntime to see which layer calls execute, then prints a torchsummary-like
table of the layer calls and the declared, unique and summary-style parameter counts, the shared and
unused parameters, the input shapes of the trace and an estimate of memory: parameters + buffers +
inputs (the memory of activations is not measured).

Options:
  --json            print the report object (paramtrace's JSON format) instead of the table
  --output FILE     also write the JSON report to FILE
  --depth N         the table's rows: layer calls with parameters, those deeper than N module levels
                    summed into their module at depth N (default 3, as torchinfo)
  --all-nodes       the table's rows: every layer call, none summed or left out
  -h, --help        this help

${TRACE_HELP}
Examples:
  paramtrace analyze model.onnx
  paramtrace analyze model.onnx --depth 1
  paramtrace analyze model.onnx --input input=1x3x224x224 --json --output report.json
  paramtrace analyze vad.onnx --dim batch=1 --value sr=16000
  paramtrace analyze model.onnx --no-trace

${EXIT_CODES}`;

const COMPARE_HELP = `Usage: ${synopsis(COMPARE_SYNOPSIS, 7)}

Compares two models, BASE and HEAD: each an ONNX file (analyzed, traced as analyze does) or a JSON
report (from analyze --json). Prints the verdict, a table of the counts (base, head, change, %), the
parameters added, removed or resized, the new and resolved shared and unused parameters.

Output (one of):
  (default)          the comparison as text tables, for a terminal
  --markdown         the pull-request comment paramtrace's action would post (GitHub Markdown)
  --json             the comparison object (counts, changes, findings, verdict)
  --comment-key KEY  the comment's hidden marker, with --markdown (default: default)

Thresholds (any that fails: exit code 1):
  --max-growth 5%|N        the watched count may grow by at most this percent of base, or this
                           many parameters (250k, 1.5M)
  --max-params N           the head's watched count may be at most N (25M)
  --metric unique|declared|summary
                           the count the two limits above watch (default unique)
  --fail-on-new-shared     fail on a shared parameter base did not have
  --fail-on-new-unused     fail on an unused parameter base did not have
  -h, --help               this help

${TRACE_HELP}
Examples:
  paramtrace compare base.onnx head.onnx
  paramtrace compare base.onnx head.onnx --max-growth 5% --fail-on-new-unused
  paramtrace analyze main.onnx --json --output base.json && paramtrace compare base.json head.onnx
  paramtrace compare base.onnx head.onnx --markdown > comment.md

${EXIT_CODES}`;

const REPORT_SYNOPSIS = 'paramtrace report MODEL [HEAD] --html OUT.html [trace options]';

const REPORT_HELP = `Usage: ${REPORT_SYNOPSIS}

Writes a self-contained HTML page (it makes no network request): a treemap of the parameters by module
(shared and unused ones coloured; click one for the layer calls that use it), the layer table, and with
two models, BASE and HEAD (ONNX files or JSON reports from analyze --json), their comparison.

Options:
  --html OUT.html   the file to write (required)
  -h, --help        this help

${TRACE_HELP}
Examples:
  paramtrace report model.onnx --html model.html
  paramtrace report base.onnx head.onnx --html comparison.html
  paramtrace report base.json head.onnx --html comparison.html --input-shape input=1x3x224x224

${EXIT_CODES}`;

const HELP = `paramtrace ${TOOL_VERSION}: count an ONNX model's parameters the way it really runs (unique,
summary-style, shared, unused), and compare two models.

Usage:
  ${ANALYZE_SYNOPSIS}
  ${synopsis(COMPARE_SYNOPSIS, 2)}
  ${REPORT_SYNOPSIS}
  paramtrace help [COMMAND]        this help, or a command's (also: paramtrace COMMAND --help)
  paramtrace --version             the version

Commands:
  analyze   the torchsummary-like table of one model's layer calls and parameter counts
  compare   what changed between two models or reports, and whether it passes the thresholds
  report    a self-contained HTML page of one model, or of the comparison of two

Examples:
  paramtrace analyze model.onnx
  paramtrace analyze model.onnx --input input=1x3x224x224 --json --output report.json
  paramtrace compare base.onnx head.onnx --max-growth 5%

Run 'paramtrace COMMAND --help' for a command's options and examples (docs/cli.md has them all).

${EXIT_CODES}`;

/** The commands, their help and their synopsis (shown under a usage error). */
const COMMANDS: Record<
  string,
  { run: (args: string[]) => Promise<number>; help: string; synopsis: string | readonly string[] }
> = {
  analyze: { run: (args) => analyzeCommand(args), help: ANALYZE_HELP, synopsis: ANALYZE_SYNOPSIS },
  compare: { run: (args) => compareCommand(args), help: COMPARE_HELP, synopsis: COMPARE_SYNOPSIS },
  report: { run: (args) => reportCommand(args), help: REPORT_HELP, synopsis: REPORT_SYNOPSIS },
};

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined) {
    // No command at all: the help, and a status that says nothing was done.
    print(HELP);
    return 2;
  }
  if (command === '--help' || command === '-h' || command === 'help') {
    const topic = command === 'help' ? rest[0] : undefined;
    if (topic !== undefined && !Object.hasOwn(COMMANDS, topic)) throw unknownCommand(topic);
    print(topic === undefined ? HELP : COMMANDS[topic]!.help);
    return 0;
  }
  if (command === '--version' || command === '-v' || command === '-V') {
    print(`${TOOL_VERSION}\n`);
    return 0;
  }
  if (!Object.hasOwn(COMMANDS, command)) throw unknownCommand(command);
  return COMMANDS[command]!.run(rest);
}

/**
 * `paramtrace report` (report-command.ts, loaded only for it: the HTML renderer is large). It parses its
 * own arguments; here -h/--help, and the action's option names turned into the ones it knows.
 */
async function reportCommand(args: string[]): Promise<number> {
  const end = args.indexOf('--');
  const options = end === -1 ? args : args.slice(0, end);
  if (options.includes('--help') || options.includes('-h')) return printHelp('report');
  const renamed = options.map((arg) => {
    const [name, ...value] = arg.split('=');
    const to = name!.startsWith('--') ? ALIASES[name!.slice(2)] : undefined;
    return to === undefined ? arg : [`--${to}`, ...value].join('=');
  });
  const { runReportCommand } = await import('./report-command.ts');
  return runReportCommand(end === -1 ? renamed : [...renamed, ...args.slice(end)]);
}

function unknownCommand(command: string): UsageError {
  const known = Object.keys(COMMANDS);
  const near = closest(command, known);
  return new UsageError(
    `unknown command '${command}'${near ? ` (did you mean '${near}'?)` : ''}; the commands are ${known.join(', ')}`,
  );
}

async function analyzeCommand(args: string[]): Promise<number> {
  const { values, positionals } = parse('analyze', args, {
    json: { type: 'boolean', default: false },
    output: { type: 'string' },
    depth: { type: 'string' },
    'all-nodes': { type: 'boolean', default: false },
    ...TRACE_OPTIONS,
  });
  if (values.help) return printHelp('analyze');
  if (positionals.length !== 1)
    throw new UsageError(
      `analyze takes exactly one model file, not ${positionals.length === 0 ? 'none' : positionals.length}`,
      'analyze',
    );
  const depth = values.depth as string | undefined;
  if (depth !== undefined && !/^[1-9]\d{0,5}$/.test(depth))
    throw new UsageError(`--depth must be a whole number of module levels from 1, not '${depth}'`, 'analyze');
  if (depth !== undefined && values['all-nodes'])
    throw new UsageError(
      '--depth and --all-nodes contradict each other: --all-nodes sums nothing',
      'analyze',
    );
  const report = await analyzeFile(positionals[0]!, {
    ...traceOptions(values, 'analyze'),
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

async function compareCommand(args: string[]): Promise<number> {
  const { values, positionals } = parse('compare', args, {
    json: { type: 'boolean', default: false },
    markdown: { type: 'boolean', default: false },
    'max-growth': { type: 'string' },
    'max-params': { type: 'string' },
    metric: { type: 'string', default: 'unique' },
    'fail-on-new-shared': { type: 'boolean', default: false },
    'fail-on-new-unused': { type: 'boolean', default: false },
    'comment-key': { type: 'string' },
    ...TRACE_OPTIONS,
  });
  if (values.help) return printHelp('compare');
  if (positionals.length !== 2)
    throw new UsageError(`compare takes two files, BASE HEAD, not ${positionals.length}`, 'compare');
  if (values.json && values.markdown)
    throw new UsageError('--json and --markdown contradict each other: choose one output', 'compare');
  if (values['comment-key'] !== undefined && !values.markdown)
    throw new UsageError('--comment-key marks the Markdown comment: it needs --markdown', 'compare');
  const metric = values.metric as string;
  if (!isOneOf(METRICS, metric))
    throw new UsageError(`--metric must be ${listWords(METRICS)}, not '${metric}'`, 'compare');
  let thresholds: Thresholds;
  try {
    thresholds = {
      ...parseGrowth((values['max-growth'] as string | undefined) ?? ''),
      maxParams: values['max-params'] === undefined ? undefined : parseCount(values['max-params'] as string),
      failOnNewShared: values['fail-on-new-shared'] as boolean,
      failOnNewUnused: values['fail-on-new-unused'] as boolean,
      metric,
    };
  } catch (error) {
    throw new UsageError((error as Error).message, 'compare');
  }
  const trace = traceOptions(values, 'compare');
  const [base, head] = [await loadReport(positionals[0]!, trace), await loadReport(positionals[1]!, trace)];
  const comparison = compare(base, head, thresholds);
  if (values.json) print(`${JSON.stringify(comparison, null, 2)}\n`);
  else if (values.markdown)
    print(
      renderComment(comparison, {
        commentKey: (values['comment-key'] as string | undefined) ?? 'default',
        headReport: head,
        baseReport: base,
      }),
      { markdown: true },
    );
  else print(renderCompareText(comparison, { baseReport: base, headReport: head }));
  return comparison.verdict.pass ? 0 : 1;
}

function printHelp(command: string): number {
  print(COMMANDS[command]!.help);
  return 0;
}

/**
 * Parses a command's arguments (strictly: an option it does not know is a usage error that names it),
 * with -h/--help, and the aliases folded into the options they stand for, in the order given.
 */
function parse(
  command: string,
  args: string[],
  options: ParseArgsOptionsConfig,
): { values: Record<string, string | boolean | (string | boolean)[] | undefined>; positionals: string[] } {
  const config: ParseArgsOptionsConfig = { ...options, help: { type: 'boolean', short: 'h' } };
  let parsed;
  try {
    parsed = parseArgs({ args, options: config, allowPositionals: true, strict: true, tokens: true });
  } catch (error) {
    throw new UsageError(
      parseError(error as Error & { code?: string }, command, Object.keys(config)),
      command,
    );
  }
  const { positionals, tokens } = parsed;
  const values: Record<string, string | boolean | (string | boolean)[] | undefined> = parsed.values;
  for (const [alias, name] of Object.entries(ALIASES)) {
    if (!(alias in config) || values[alias] === undefined) continue;
    // Both spellings may be mixed; the later of two for the same input wins, as with one spelling.
    values[name] = tokens.flatMap((t) =>
      t.kind === 'option' && (t.name === name || t.name === alias) && t.value !== undefined ? [t.value] : [],
    );
    delete values[alias];
  }
  return { values, positionals };
}

/** parseArgs' message, in paramtrace's words for the common case: an option the command does not know. */
function parseError(error: Error & { code?: string }, command: string, known: string[]): string {
  const unknown = /^Unknown option '([^']*)'/.exec(error.message);
  if (error.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && unknown) {
    const option = unknown[1]!;
    const near = closest(
      option.replace(/^-+/, ''),
      known.filter((k) => k !== 'help'),
    );
    return `unknown option '${option}' for paramtrace ${command}${near ? ` (did you mean '--${near}'?)` : ''}`;
  }
  return error.message;
}

/** The known word nearest to a mistyped one (at most two edits, or a prefix of it), if any. */
function closest(word: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  for (const k of known) {
    const d = k.startsWith(word) && word.length >= 3 ? 1 : editDistance(word, k);
    if (d < bestDistance) [best, bestDistance] = [k, d];
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++)
      row[j] = Math.min(
        previous[j]! + 1,
        row[j - 1]! + 1,
        previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    previous = row;
  }
  return previous[b.length]!;
}

/** Known failures become one line on stderr and exit code 2; anything else is a bug and says so. */
export async function runCommand(argv: string[]): Promise<number> {
  try {
    return await main(argv);
  } catch (error) {
    clearProgress();
    if (error instanceof UsageError) {
      const usage = error.command
        ? `Usage: ${synopsis(COMMANDS[error.command]!.synopsis, 7)}\nRun 'paramtrace ${error.command} --help' for its options, examples and exit codes.`
        : `Usage:\n  ${ANALYZE_SYNOPSIS}\n  ${synopsis(COMPARE_SYNOPSIS, 2)}\nRun 'paramtrace --help' for the commands, examples and exit codes.`;
      printError(`paramtrace: ${joinedLine(error.message)}\n\n${usage}\n`);
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
