// `paramtrace`: the command line. The only place (with src/action) that reads arguments, prints and exits.
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { ManifestError } from '../analysis/read-manifest.ts';
import { ModelReadError } from '../onnx/read-model.ts';
import { analyzeFile } from '../pipeline/analyze-file.ts';
import { renderText } from '../render/text.ts';
import { renderComment } from '../render/markdown.ts';
import { compare, parseCount, parseGrowth } from '../compare/compare.ts';
import type { Thresholds } from '../compare/comparison.ts';
import type { Report } from '../report/report.ts';
import { parseReport, ReportError } from '../report/validate.ts';
import { TOOL_VERSION } from '../version.ts';

const USAGE = `Usage:
  paramtrace analyze MODEL.onnx [--json] [--output FILE]
      Prints a torchsummary-like table of the model's layer calls and its declared, unique
      and summary-style parameter counts, shared and unused parameters.
      --json          print the report object (paramtrace's JSON format) instead of the table
      --output FILE   also write the JSON report to FILE
  paramtrace compare BASE HEAD [--json] [--max-growth 5%|N] [--max-params N] [--metric unique|declared|summary]
                     [--fail-on-new-shared] [--fail-on-new-unused] [--comment-key KEY]
      Compares two models (ONNX files or JSON reports from analyze --json) and prints the pull-request
      comment paramtrace would post. Exit code 1 when a threshold fails.
  paramtrace --version | --help
`;

/** A usage problem: exit code 2 with the message and the usage. */
class UsageError extends Error {}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(USAGE);
    return command === undefined ? 2 : 0;
  }
  if (command === '--version' || command === '-v') {
    process.stdout.write(`${TOOL_VERSION}\n`);
    return 0;
  }
  if (command === 'analyze') return analyzeCommand(rest);
  if (command === 'compare') return compareCommand(rest);
  throw new UsageError(`unknown command '${command}'`);
}

async function analyzeCommand(args: string[]): Promise<number> {
  const { values, positionals } = parse(args, {
    json: { type: 'boolean', default: false },
    output: { type: 'string' },
  });
  if (positionals.length !== 1) throw new UsageError('analyze takes exactly one model file');
  const report = await analyzeFile(positionals[0]!);
  const json = `${JSON.stringify(report, null, 2)}\n`;
  if (values.output) writeFileSync(values.output, json);
  process.stdout.write(values.json ? json : renderText(report));
  return 0;
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
  const [base, head] = [await loadReport(positionals[0]!), await loadReport(positionals[1]!)];
  const comparison = compare(base, head, thresholds);
  process.stdout.write(
    values.json
      ? `${JSON.stringify(comparison, null, 2)}\n`
      : renderComment(comparison, { commentKey: values['comment-key'] as string, headReport: head }),
  );
  return comparison.verdict.pass ? 0 : 1;
}

/** An ONNX file is analyzed; a .json file is read as a report (checked: it is untrusted input). */
async function loadReport(file: string): Promise<Report> {
  if (!file.endsWith('.json')) return analyzeFile(file);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ReportError(`${file}: cannot read: ${(error as Error).message}`);
  }
  return parseReport(text, file);
}

function parse<T extends NonNullable<Parameters<typeof parseArgs>[0]>['options']>(
  args: string[],
  options: T,
) {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

/** Known failures become one line on stderr and exit code 2; anything else is a bug and says so. */
export async function run(argv: string[]): Promise<number> {
  try {
    return await main(argv);
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`paramtrace: ${error.message}\n\n${USAGE}`);
      return 2;
    }
    if (error instanceof ModelReadError || error instanceof ManifestError || error instanceof ReportError) {
      process.stderr.write(`paramtrace: ${error.message}\n`);
      return 2;
    }
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(
      `paramtrace: internal error: ${message}\n(please report this with the model that caused it)\n`,
    );
    return 3;
  }
}

// Run when executed directly (tsx src/cli/main.ts); bin/paramtrace.js imports run() instead.
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  process.exitCode = await run(process.argv.slice(2));
}
