// Reading a report bundle (or a bare report) that someone else wrote: a fork's pull_request run in the
// fork-safe flow, or a baseline artifact. Everything is checked before anything is used: the file (a
// regular file, bounded size, valid UTF-8 JSON), then every field against the schema.
import { UserError } from '../../report/user-error.ts';
import { lstatSync, openSync, readdirSync, readSync, closeSync, fstatSync } from 'node:fs';
import { join } from 'node:path';
import { BUNDLE_KIND, BUNDLE_SCHEMA_VERSION, type ReportBundle } from '../report-file.ts';
import type { Report } from '../../report/report.ts';
import { assertCleanStrings, comparisonSchema, reportValidator } from './comparison-schema.ts';
import { arr, int, lit, nullable, obj, SchemaError, str, type Validator } from './schema.ts';

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

const sha = str({ max: 64, pattern: /^[0-9a-f]{40}([0-9a-f]{24})?$/ });
const repoName = str({ max: 200, pattern: /^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/ });
const commentKey = str({ max: 100, pattern: /^[A-Za-z0-9][A-Za-z0-9._/-]{0,99}$/ });

export const bundleSchema: Validator<ReportBundle> = obj(
  {
    schemaVersion: lit(BUNDLE_SCHEMA_VERSION),
    kind: lit(BUNDLE_KIND),
    mode: lit('pr', 'baseline'),
    tool: obj({ name: lit('paramtrace'), version: str({ max: 64, pattern: /^[0-9A-Za-z.+_-]+$/ }) }),
    commentKey,
    commits: obj({ head: nullable(sha), base: nullable(sha) }),
    pullRequest: nullable(
      obj({ number: int(1, 2 ** 31 - 1), headSha: sha, baseSha: sha, headRepo: nullable(repoName) }),
    ),
    base: nullable(reportValidator),
    head: reportValidator,
    comparison: nullable(comparisonSchema),
    notes: arr(str({ max: 16_384, multiline: true }), 1000),
  },
  { baseError: str({ max: 4096 }), baseMissing: lit(true) },
);

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

function validate<T>(schema: Validator<T>, value: unknown, path: string, what: string): T {
  try {
    assertCleanStrings(value);
    return schema(value, '');
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
  const bundle = validate(bundleSchema, value, path, 'paramtrace report bundle');
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
    const bundle = validate(bundleSchema, value, label, 'paramtrace report bundle');
    return { report: bundle.head, commit: bundle.commits.head };
  }
  return { report: validate(reportValidator, value, label, 'paramtrace report'), commit: null };
}
