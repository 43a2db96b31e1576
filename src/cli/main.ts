// `paramtrace`: the command line. The only place (with src/action) that reads arguments, prints and exits.
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ManifestError } from '../analysis/read-manifest.ts';
import { ModelReadError } from '../onnx/read-model.ts';
import { analyzeFile } from '../pipeline/analyze-file.ts';
import { renderText } from '../render/text.ts';
import { TOOL_VERSION } from '../version.ts';

const USAGE = `Usage:
  paramtrace analyze MODEL.onnx [--json] [--output FILE]
      Prints a torchsummary-like table of the model's layer calls and its declared, unique
      and summary-style parameter counts, shared and unused parameters.
      --json          print the report object (paramtrace's JSON format) instead of the table
      --output FILE   also write the JSON report to FILE
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

function parse<T extends NonNullable<Parameters<typeof parseArgs>[0]>['options']>(args: string[], options: T) {
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
    if (error instanceof ModelReadError || error instanceof ManifestError) {
      process.stderr.write(`paramtrace: ${error.message}\n`);
      return 2;
    }
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`paramtrace: internal error: ${message}\n(please report this with the model that caused it)\n`);
    return 3;
  }
}

if (import.meta.url === `file://${process.argv[1]}` || process.argv[1]?.endsWith('/paramtrace.js')) {
  process.exitCode = await run(process.argv.slice(2));
}
