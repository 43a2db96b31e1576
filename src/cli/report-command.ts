// `paramtrace report MODEL|REPORT.json [HEAD|HEAD.json] --html OUT.html [trace options]`: the HTML report
// (src/render/html.ts) of one model, or the comparison of two, written to a file. An edge like
// commands.ts: it reads arguments and files, writes the page and prints.
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { compare } from '../compare/compare.ts';
import { analyzeFile, type AnalyzeFileOptions } from '../pipeline/analyze-file.ts';
import { renderHtmlReport } from '../render/html.ts';
import { joinedLine, plainLines, plainText } from '../report/plain-line.ts';
import { ReportError } from '../report/report-error.ts';
import type { Report } from '../report/report.ts';
import { UserError } from '../report/user-error.ts';
import {
  parseDimOption,
  parseInputFileOption,
  parseInputShapeOption,
  parseValueOption,
  type TraceOptions,
} from '../trace/index.ts';

export const REPORT_USAGE = `  paramtrace report MODEL [HEAD] --html OUT.html [trace options]
      Writes a self-contained HTML page (no network access): a treemap of the parameters by module
      (click a rectangle for the layer calls that use it; shared and unused ones coloured), the layer
      table, and with two models (ONNX files or JSON reports) the comparison of base and head.
`;

class ReportUsageError extends UserError {
  readonly code = 'usage';
}

/** The HTML file could not be written. */
class HtmlOutputError extends UserError {
  readonly code = 'output';
}

/**
 * Runs the command; a known failure becomes one line on stderr and its exit code (2). Anything else is a
 * bug and propagates to the caller's last-resort handler.
 */
export async function runReportCommand(argv: string[]): Promise<number> {
  try {
    return await reportCommand(argv);
  } catch (error) {
    if (!(error instanceof UserError)) throw error;
    const usage = error instanceof ReportUsageError ? `\nUsage:\n${REPORT_USAGE}` : '';
    process.stderr.write(plainLines(`paramtrace: ${joinedLine(error.message)}\n${usage}`));
    return error.exitCode;
  }
}

async function reportCommand(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        html: { type: 'string' },
        'no-trace': { type: 'boolean', default: false },
        trace: { type: 'boolean', default: false },
        device: { type: 'string', default: 'auto' },
        input: { type: 'string', multiple: true },
        dim: { type: 'string', multiple: true },
        'input-file': { type: 'string', multiple: true },
        value: { type: 'string', multiple: true },
        'trace-timeout': { type: 'string' },
      },
    });
  } catch (error) {
    throw new ReportUsageError((error as Error).message);
  }
  const { values, positionals } = parsed;
  if (positionals.length < 1 || positionals.length > 2)
    throw new ReportUsageError('report takes one model (or JSON report), or two to compare: BASE HEAD');
  if (!values.html) throw new ReportUsageError('report needs --html OUT.html: the file to write');
  const options = traceOptions(values);

  const reports: Report[] = [];
  for (const file of positionals) reports.push(await loadReport(file, options));
  const [base, head] = reports as [Report, Report | undefined];
  const html = head
    ? renderHtmlReport({ base, head, comparison: compare(base, head) })
    : renderHtmlReport({ report: base });
  try {
    writeFileSync(values.html, html);
  } catch (error) {
    throw new HtmlOutputError(`${values.html}: cannot write: ${(error as Error).message}`);
  }
  process.stdout.write(plainLines(`paramtrace: wrote ${values.html}\n`));
  return 0;
}

/** The same trace options as analyze and compare (commands.ts). */
function traceOptions(values: {
  'no-trace': boolean;
  trace: boolean;
  device: string;
  input?: string[];
  dim?: string[];
  'input-file'?: string[];
  value?: string[];
  'trace-timeout'?: string;
}): AnalyzeFileOptions {
  if (values['no-trace'] && values.trace)
    throw new ReportUsageError('--trace and --no-trace contradict each other');
  if (values['no-trace']) return { trace: false };
  const device = values.device;
  if (device !== 'auto' && device !== 'cpu' && device !== 'cuda')
    throw new ReportUsageError(`--device must be auto, cpu or cuda, not '${device}'`);
  const timeout = values['trace-timeout'];
  if (timeout !== undefined && !(Number(timeout) > 0))
    throw new ReportUsageError(`--trace-timeout must be a number of seconds, not '${timeout}'`);
  try {
    const trace: TraceOptions = {
      device,
      inputs: Object.fromEntries((values.input ?? []).map(parseInputShapeOption)),
      dims: Object.fromEntries((values.dim ?? []).map(parseDimOption)),
      inputFiles: Object.fromEntries((values['input-file'] ?? []).map(parseInputFileOption)),
      values: Object.fromEntries((values.value ?? []).map(parseValueOption)),
      ...(timeout !== undefined ? { timeoutMs: Number(timeout) * 1000 } : {}),
    };
    return { trace, traceRequired: values.trace || device === 'cuda' };
  } catch (error) {
    throw new ReportUsageError((error as Error).message);
  }
}

/** An ONNX file is analyzed; a .json file is read as a report (checked: it is untrusted input). */
async function loadReport(file: string, options: AnalyzeFileOptions): Promise<Report> {
  let report: Report;
  if (file.endsWith('.json')) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (error) {
      throw new ReportError(`${file}: cannot read: ${(error as Error).message}`);
    }
    const { parseReport } = await import('../report/validate.ts');
    report = parseReport(text, file);
  } else {
    report = await analyzeFile(file, options);
  }
  // Static counts look like traced ones: say so, as analyze and compare do.
  if (report.trace.mode === 'failed')
    process.stderr.write(
      plainLines(
        `paramtrace: warning: the trace of ${plainText(file)} failed (${plainText(report.trace.error.replace(/\s+/g, ' '), 500)}): counts are static\n`,
      ),
    );
  return report;
}
