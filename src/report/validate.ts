// Reads a report that came from outside this process (a file, an artifact): it must be JSON that matches
// the report schema exactly, or it is refused with the first thing that is wrong.
import { Ajv, type ValidateFunction } from 'ajv';
import type { Report } from './report.ts';
import { REPORT_SCHEMA } from './report-schema.ts';

export class ReportError extends Error {}

/** Reports larger than this are refused before parsing. */
export const MAX_REPORT_BYTES = 256 * 1024 * 1024;

// Compiled on first use: compiling costs ~0.1 s, which every CLI start would otherwise pay.
let validateReport: ValidateFunction<Report> | undefined;

export function parseReport(text: string, origin: string): Report {
  if (text.length > MAX_REPORT_BYTES)
    throw new ReportError(`${origin}: the report is larger than ${MAX_REPORT_BYTES} bytes`);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new ReportError(`${origin}: not a JSON report: ${(error as Error).message}`);
  }
  return checkReport(value, origin);
}

export function checkReport(value: unknown, origin: string): Report {
  validateReport ??= new Ajv({ allErrors: false, strict: true }).compile<Report>(REPORT_SCHEMA);
  if (!validateReport(value)) {
    const e = validateReport.errors?.[0];
    const where = e?.instancePath || '(top level)';
    throw new ReportError(
      `${origin}: not a paramtrace report (schema version 1): ${where} ${e?.message ?? 'is invalid'}`,
    );
  }
  return value;
}
