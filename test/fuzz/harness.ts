// One fuzz input through everything paramtrace does with an untrusted model, statically: read it (the
// streaming reader and the external-data checks), read its manifest, analyze it (reading weight bytes
// for fingerprints), check the report against paramtrace's own schema, and render it as text, as a
// pull-request comment and as a job summary. Only a report or a clear, one-line error is an acceptable end.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { reportOf } from '../../src/pipeline/analyze-file.ts';
import { ManifestError, manifestOf } from '../../src/analysis/read-manifest.ts';
import { compare } from '../../src/compare/compare.ts';
import { ModelReadError, readModel } from '../../src/onnx/read-model.ts';
import { TensorReader } from '../../src/onnx/tensor-bytes.ts';
import { COMMENT_LIMIT, renderComment, renderSummary, SUMMARY_LIMIT } from '../../src/render/markdown.ts';
import { renderText } from '../../src/render/text.ts';
import type { Report } from '../../src/report/report.ts';
import { checkReport, ReportError } from '../../src/report/validate.ts';

export type OutcomeKind =
  /** A report, valid against the report schema, rendered within GitHub's limits. */
  | 'report'
  /** A ModelReadError or ManifestError: one line naming the file. */
  | 'refused'
  /** A report that paramtrace's own report schema refuses (so `mode: post` would refuse it). */
  | 'invalid-report'
  /** Anything else: an exception that is not one of paramtrace's clear errors, or a broken report. */
  | 'crash';

export interface Outcome {
  kind: OutcomeKind;
  /** The error message, or what is wrong with the report. */
  message: string;
  /** For crashes: the error's name and the top of its stack, to tell crashes apart. */
  signature?: string;
  ms: number;
}

/** Where fuzz inputs are written: a model file needs a folder for its external data checks. */
export function inputPath(dir: string): string {
  mkdirSync(dir, { recursive: true });
  return path.join(dir, 'model.onnx');
}

export function runOne(bytes: Uint8Array, dir: string): Outcome {
  const file = inputPath(dir);
  writeFileSync(file, bytes);
  const started = performance.now();
  const done = (kind: OutcomeKind, message: string, signature?: string): Outcome => ({
    kind,
    message,
    ...(signature ? { signature } : {}),
    ms: performance.now() - started,
  });
  let report: Report;
  try {
    report = analyzeStatically(file);
  } catch (error) {
    if (error instanceof ModelReadError || error instanceof ManifestError) {
      const problem = clearError(error, file);
      return problem ? done('crash', problem, `unclear ${error.name}`) : done('refused', error.message);
    }
    return done('crash', describe(error), signatureOf(error));
  }
  // The CLI renders whatever report it has, so rendering is checked first; then the schema.
  try {
    const problem = checkRendering(report);
    if (problem) return done('crash', problem, `render: ${problem.replace(/[\d,]+/g, 'N').slice(0, 80)}`);
  } catch (error) {
    return done('crash', `rendering failed: ${describe(error)}`, `render ${signatureOf(error)}`);
  }
  try {
    checkReport(JSON.parse(JSON.stringify(report)), 'report');
  } catch (error) {
    if (!(error instanceof ReportError)) throw error;
    const where = /: (\/\S*)/.exec(error.message)?.[1]?.replace(/\/\d+/g, '/N') ?? '';
    return done('invalid-report', error.message, `schema ${where} ${error.message.replace(/.*\/\S* /, '')}`);
  }
  return done('report', `declared ${report.counts.declared}, ${report.layers.length} layer calls`);
}

/** What `paramtrace analyze --no-trace` does (src/pipeline/analyze-file.ts without the trace), synchronously. */
export function analyzeStatically(file: string): Report {
  const model = readModel(file);
  const manifest = manifestOf(model);
  const content = new TensorReader(model);
  try {
    return reportOf(model, manifest, content);
  } finally {
    content.close();
  }
}

/** A clear error is one line that names the file; returns what is wrong, or undefined. */
function clearError(error: ModelReadError | ManifestError, file: string): string | undefined {
  if (!error.message.startsWith(`${file}: `)) return `error does not name the file: ${error.message}`;
  if (/[\r\n]/.test(error.message)) return `error is not one line: ${JSON.stringify(error.message)}`;
  if (error.message.length > file.length + 4096) return `error is ${error.message.length} characters long`;
  return undefined;
}

/** The report must render as text, and as a comment and a summary within GitHub's limits. */
function checkRendering(report: Report): string | undefined {
  renderText(report);
  // Against an empty base everything is new: every table and list of the comment is as long as it gets.
  const comparison = compare(emptyBase(report), report, { failOnNewShared: true, failOnNewUnused: true });
  const comment = renderComment(comparison, { commentKey: 'fuzz', headReport: report });
  if (comment.length > COMMENT_LIMIT) return `comment of ${comment.length} characters`;
  if (!comment.startsWith('<!-- paramtrace:comment-key=fuzz -->\n### paramtrace: '))
    return 'comment lost its header';
  const summary = renderSummary(comparison, report);
  if (Buffer.byteLength(summary) > SUMMARY_LIMIT) return `summary of ${Buffer.byteLength(summary)} bytes`;
  return undefined;
}

export function emptyBase(report: Report): Report {
  return {
    ...report,
    counts: { ...report.counts, declared: 0, unique: 0, summary: 0, buffers: 0, parameterBytes: 0 },
    parameters: [],
    buffers: [],
    shared: [],
    unused: [],
    duplicates: [],
    valueMerged: [],
    layers: [],
  };
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/** Error name and the first frames inside paramtrace's sources: one signature per distinct bug. */
export function signatureOf(error: unknown): string {
  if (!(error instanceof Error)) return `non-error ${typeof error}`;
  const frames = (error.stack ?? '')
    .split('\n')
    .filter((l) => /\/(src|test)\//.test(l) && !l.includes('node_modules'))
    .slice(0, 2)
    .map((l) =>
      l
        .trim()
        .replace(/^at /, '')
        .replace(/\(.*\/src\//, '(src/')
        .replace(/:\d+\)$/, ')'),
    );
  return `${error.name}: ${error.message.replace(/\d+/g, 'N').slice(0, 60)} @ ${frames.join(' < ')}`;
}

export function cleanup(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}
