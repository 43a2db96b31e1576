// `paramtrace report MODEL|REPORT.json [HEAD|HEAD.json] --html OUT.html [trace options]`: the HTML report
// (src/render/html.ts) of one model, or the comparison of two, written to a file. An edge like
// commands.ts: it reads arguments and files, writes the page and prints.
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { compare } from '../compare/compare.ts';
import { renderHtmlReport } from '../render/html.ts';
import { joinedLine } from '../report/plain-line.ts';
import type { Report } from '../report/report.ts';
import { UserError } from '../report/user-error.ts';
import { loadReport, TRACE_OPTIONS, traceOptions } from './load-report.ts';
import { print, printError, UsageError } from './print.ts';

export const REPORT_USAGE = `  paramtrace report MODEL [HEAD] --html OUT.html [trace options]
      Writes a self-contained HTML page (no network access): a treemap of the parameters by module
      (click a rectangle for the layer calls that use it; shared and unused ones coloured), the layer
      table, and with two models (ONNX files or JSON reports) the comparison of base and head.
`;

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
    const usage = error instanceof UsageError ? `\nUsage:\n${REPORT_USAGE}` : '';
    printError(`paramtrace: ${joinedLine(error.message)}\n${usage}`);
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
      options: { html: { type: 'string' }, ...TRACE_OPTIONS },
    });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const { values, positionals } = parsed;
  if (positionals.length < 1 || positionals.length > 2)
    throw new UsageError('report takes one model (or JSON report), or two to compare: BASE HEAD');
  if (!values.html) throw new UsageError('report needs --html OUT.html: the file to write');
  const options = traceOptions(values, 'report');

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
  print(`paramtrace: wrote ${values.html}\n`);
  return 0;
}
