// Reads a report that came from outside this process (a file, an artifact): it must be JSON that matches
// the report schema exactly, or it is refused with the first thing that is wrong.
import type { Report } from './report.ts';
import { validateReport as generatedReportValidator } from './report-validator.generated.ts';
import { ReportError } from './report-error.ts';

export { ReportError };

/** Reports larger than this are refused before parsing. */
export const MAX_REPORT_BYTES = 256 * 1024 * 1024;

/** What a generated validator says is wrong (Ajv's error object, the fields used here). */
export interface SchemaProblem {
  /** JSON Pointer to the value: `/counts/unique`; '' for the top level. */
  instancePath: string;
  keyword: string;
  params: Record<string, unknown>;
  message?: string;
}

/**
 * A validator of report-validator.generated.ts (scripts/gen-report-validator.ts compiles the TypeBox
 * schemas, from which the types are derived), typed: it narrows to the contract's type.
 */
export interface GeneratedValidator<T> {
  (value: unknown): value is T;
  errors?: SchemaProblem[] | null;
}

const validateReport = generatedReportValidator as GeneratedValidator<Report>;

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
  if (!validateReport(value)) {
    const e = validateReport.errors?.[0];
    const where = e?.instancePath || '(top level)';
    throw new ReportError(
      `${origin}: not a paramtrace report (schema version 1): ${where} ${e?.message ?? 'is invalid'}`,
    );
  }
  return value;
}
