// Reading a report bundle (or a bare report) that someone else wrote: a fork's pull_request run in the
// fork-safe flow, or a baseline artifact. Everything is checked before anything is used: the file (a
// regular file, bounded size, valid UTF-8 JSON), then every field against the schema.
import { UserError } from '../../report/user-error.ts';
import { lstatSync, openSync, readdirSync, readSync, closeSync, fstatSync } from 'node:fs';
import { join } from 'node:path';
import { BUNDLE_KIND, type ReportBundle } from '../report-file.ts';
import type { Report } from '../../report/report.ts';
import type { GeneratedValidator, SchemaProblem } from '../../report/validate.ts';
import {
  validateBundle as generatedBundleValidator,
  validateReport as generatedReportValidator,
} from '../../report/report-validator.generated.ts';
import { assertCleanStrings, checkTotals, checkVerdict, SchemaError } from './content-checks.ts';

export class UntrustedInputError extends UserError {
  readonly code: string = 'untrusted-input';
  override name = 'UntrustedInputError';
}

/** The file to read is not there (a base report a step did not write). */
export class MissingFileError extends UntrustedInputError {
  override readonly code = 'missing-file';
}

/** No report at all where the artifact should be (the download found nothing): not a refusal of its content. */
export class MissingArtifactError extends UntrustedInputError {
  override readonly code = 'missing-artifact';
  override name = 'MissingArtifactError';
}

export const MAX_BUNDLE_BYTES = 256 * 1024 * 1024;

/** The bundle's and the report's schemas, compiled (scripts/gen-report-validator.ts). */
const bundleValidator = generatedBundleValidator as GeneratedValidator<ReportBundle>;
const reportValidator = generatedReportValidator as GeneratedValidator<Report>;

/** Reads a regular file of at most `maxBytes` without following a symlink at `path`. */
export function readBoundedFile(path: string, maxBytes = MAX_BUNDLE_BYTES): string {
  let stat;
  try {
    stat = lstatSync(path);
  } catch {
    throw new MissingFileError(`${path}: no such file`);
  }
  if (stat.isSymbolicLink())
    throw new UntrustedInputError(`${path}: is a symbolic link; refusing to follow it`);
  if (!stat.isFile()) throw new UntrustedInputError(`${path}: not a regular file`);
  if (stat.size > maxBytes)
    throw new UntrustedInputError(`${path}: ${stat.size} bytes, over the ${maxBytes}-byte limit`);
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    if (size > maxBytes) throw new UntrustedInputError(`${path}: over the ${maxBytes}-byte limit`);
    const buffer = Buffer.alloc(size);
    let offset = 0;
    while (offset < size) {
      const n = readSync(fd, buffer, offset, size - offset, offset);
      if (n === 0) break;
      offset += n;
    }
    return decodeUtf8(buffer.subarray(0, offset), path);
  } finally {
    closeSync(fd);
  }
}

/** Strict UTF-8 decoding: malformed bytes are refused, not replaced. */
export function decodeUtf8(bytes: Uint8Array, label: string): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new UntrustedInputError(`${label}: not valid UTF-8`);
  }
}

function parseJson(text: string, path: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new UntrustedInputError(`${path}: not valid JSON (${(error as Error).message})`);
  }
}

/** Ajv's first complaint, as a path (`.head.counts.unique`) and what is wrong there, in words. */
export function describeProblem(e: SchemaProblem | undefined): SchemaError {
  if (!e) return new SchemaError('', 'is invalid');
  const path = e.instancePath
    .split('/')
    .slice(1)
    .map((part) => `.${part.replace(/~1/g, '/').replace(/~0/g, '~')}`)
    .join('');
  const p = e.params;
  const words: Record<string, () => string> = {
    required: () => `missing key ${JSON.stringify(p.missingProperty)}`,
    additionalProperties: () => `unexpected key ${JSON.stringify(String(p.additionalProperty).slice(0, 60))}`,
    maxItems: () => `array longer than ${String(p.limit)} items`,
    maxLength: () => `string longer than ${String(p.limit)} characters`,
    maxProperties: () => `more than ${String(p.limit)} keys`,
    pattern: () => `string does not match ${String(p.pattern)}`,
    type: () => `expected ${String(p.type)}`,
    const: () => `expected ${JSON.stringify(p.allowedValue)}`,
    enum: () => `expected one of ${(p.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`,
  };
  return new SchemaError(path, words[e.keyword]?.() ?? e.message ?? 'is invalid');
}

/**
 * Checks JSON from outside against a contract: clean strings first, then the schema, then what the
 * schema cannot say (`semantic`); any refusal is an UntrustedInputError naming the file and where.
 */
function validate<T>(
  validator: GeneratedValidator<T>,
  value: unknown,
  path: string,
  what: string,
  semantic: (checked: T) => void,
): T {
  try {
    assertCleanStrings(value);
    if (!validator(value)) throw describeProblem(validator.errors?.[0]);
    semantic(value);
    return value;
  } catch (error) {
    if (error instanceof SchemaError) {
      throw new UntrustedInputError(
        `${path}: not a valid ${what}: at ${error.path || '(root)'}: ${error.problem}`,
      );
    }
    throw error;
  }
}

/**
 * A bundle's comparison of version 1 (written by paramtrace before its verdict was data) is dropped, not
 * refused: mode: post recomputes the comparison from the two reports with its own thresholds, so an
 * artifact of an older paramtrace still posts. Everything else in the bundle is checked as usual.
 */
function withoutOldComparison(value: unknown): unknown {
  if (typeof value !== 'object' || value === null || !('comparison' in value)) return value;
  const comparison = (value as { comparison: unknown }).comparison;
  const version = (comparison as { schemaVersion?: unknown } | null)?.schemaVersion;
  return version === 1 ? { ...value, comparison: null } : value;
}

function checkBundle(bundle: ReportBundle): void {
  checkTotals(bundle.head, '.head');
  if (bundle.base) checkTotals(bundle.base, '.base');
  if (bundle.comparison) checkVerdict(bundle.comparison, '.comparison');
}

/**
 * The bundle file in an artifact directory: the file for this comment key, else the only `*.json` file.
 * A path to a file is taken as is.
 */
export function locateBundle(path: string, fileName: string): string {
  let stat;
  try {
    stat = lstatSync(path);
  } catch {
    throw new MissingArtifactError(
      `${path}: no such file or directory (did the artifact download step run?)`,
    );
  }
  if (stat.isSymbolicLink())
    throw new UntrustedInputError(`${path}: is a symbolic link; refusing to follow it`);
  if (!stat.isDirectory()) return path;
  const entries = readdirSync(path);
  if (entries.length === 0)
    throw new MissingArtifactError(`${path}: empty: expected ${fileName}, found no .json file`);
  if (entries.includes(fileName)) return join(path, fileName);
  const json = entries.filter((e) => e.endsWith('.json'));
  if (json.length === 1) return join(path, json[0]!);
  throw new UntrustedInputError(
    `${path}: expected ${fileName}${json.length > 1 ? ` or a single .json file, found ${json.length}` : ', found no .json file'}`,
  );
}

export function readBundle(path: string): ReportBundle {
  const value = parseJson(readBoundedFile(path), path);
  const bundle = validate(
    bundleValidator,
    withoutOldComparison(value),
    path,
    'paramtrace report bundle',
    checkBundle,
  );
  if (bundle.mode === 'pr' && (bundle.base === null || bundle.pullRequest === null)) {
    throw new UntrustedInputError(
      `${path}: a pull request bundle must have a base report and a pull request`,
    );
  }
  return bundle;
}

export interface Baseline {
  report: Report;
  /** The commit the bundle says the report is of; null for a bare report. */
  commit: string | null;
  /** The model's comment key, as the bundle says; null for a bare report. */
  commentKey: string | null;
}

/** A baseline: a bare report (`paramtrace analyze --json`) or a bundle, whose head report is taken. */
export function readBaseline(path: string): Baseline {
  return parseBaseline(readBoundedFile(path), path);
}

/** A baseline from text that came from elsewhere (a file, an artifact's zip); `label` names it in errors. */
export function parseBaseline(text: string, label: string): Baseline {
  const value = parseJson(text, label);
  const kind = (value as { kind?: unknown } | null)?.kind;
  if (kind === BUNDLE_KIND) {
    const bundle = validate(
      bundleValidator,
      withoutOldComparison(value),
      label,
      'paramtrace report bundle',
      checkBundle,
    );
    return { report: bundle.head, commit: bundle.commits.head, commentKey: bundle.commentKey };
  }
  const report = validate(reportValidator, value, label, 'paramtrace report', (r) => checkTotals(r, ''));
  return { report, commit: null, commentKey: null };
}
