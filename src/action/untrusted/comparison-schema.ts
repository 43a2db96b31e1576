// Strict validators for what a report bundle carries besides the reports (those are checked by the
// report's own JSON Schema, src/report/validate.ts): the comparison, typed against the real Comparison so
// this stops compiling when it gains a field the validator does not check.
import {
  COUNT_NAMES,
  type Comparison,
  type CountName,
  type Delta,
  type ReportHeader,
  type Thresholds,
  type Verdict,
} from '../../compare/comparison.ts';
import { byteSize } from '../../onnx/dtype.ts';
import { checkReport, ReportError } from '../../report/validate.ts';
import type { Report } from '../../report/report.ts';
import { arr, bool, int, lit, nullable, num, obj, SchemaError, str, type Validator } from './schema.ts';

const ITEMS = 2_000_000;
const name = str({ max: 4096 });
const text = str({ max: 16_384, multiline: true });
const count = int();
const names = arr(name, ITEMS);
const shape = arr(int(), 64);

/**
 * The report's own schema (ajv, src/report/report-schema.ts), as a validator here; then its totals
 * against its own parameter list (checkTotals).
 */
export const reportValidator: Validator<Report> = (value, path) => {
  let report: Report;
  try {
    report = checkReport(value, path || 'report');
  } catch (error) {
    if (error instanceof ReportError) throw new SchemaError(path, error.message.replace(/^[^:]*: /, ''));
    throw error;
  }
  checkTotals(report, path);
  return report;
};

/**
 * A report's totals are redundant with its lists: recomputed from them exactly as the analysis computes
 * them (src/analysis/analyze.ts, docs/counting.md), a report whose totals say otherwise is refused, naming
 * the count, what it claims and what its lists add up to. Checked exactly:
 *
 * - `declared`: the sum of `numel` over `parameters` (each logical parameter once, however many
 *   initializers store it: duplicates are already merged in the list);
 * - `unique`: the same over the parameters with `used` (a shared parameter is one entry, counted once);
 * - `trainable`: null exactly when `frozen` is; else the sum over the parameters with `trainable: true`,
 *   and `frozen` is `declared - trainable`;
 * - `buffers`: the sum of `numel` over `buffers`;
 * - `parameterBytes`: the sum of `bytesByDtype`, and each dtype's bytes the sum of its parameters' bytes
 *   (`numel` x the dtype's bits, rounded up to whole bytes per parameter; 0 for an unknown dtype, as the
 *   analysis counts it);
 * - `summary` (numel x calls per parameter, summed), when the counts are plain sums over the executed
 *   calls: in a traced report, and in a static one without layer calls inside a subgraph.
 *
 * `summary` of a static report with calls inside control flow is not a sum over the list: an If's branches
 * are alternatives, and summary follows the heaviest path, while each parameter's `calls` follows the path
 * that runs it most. There only its bounds are checked: at least the largest numel x calls of one
 * parameter, at most the sum of numel x calls.
 */
export function checkTotals(report: Report, path: string): void {
  const at = (count: string) => `${path}.counts.${count}`;
  const disagree = (count: string, claimed: number | null, computed: number | null, from: string) => {
    if (claimed !== computed)
      throw new SchemaError(
        at(count),
        `the report claims ${String(claimed)}, but ${from} ${String(computed)}; refusing totals that disagree with the report's own lists`,
      );
  };
  const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);
  const { counts, parameters } = report;
  const declared = sum(parameters.map((p) => p.numel));
  disagree('declared', counts.declared, declared, 'its parameters add up to');
  disagree(
    'unique',
    counts.unique,
    sum(parameters.filter((p) => p.used).map((p) => p.numel)),
    'its used parameters add up to',
  );
  if (counts.trainable === null || counts.frozen === null) {
    if (counts.trainable !== counts.frozen)
      throw new SchemaError(
        at(counts.trainable === null ? 'frozen' : 'trainable'),
        'trainable and frozen are both null (no manifest) or both counts',
      );
  } else {
    const trainable = sum(parameters.filter((p) => p.trainable === true).map((p) => p.numel));
    disagree('trainable', counts.trainable, trainable, 'its trainable parameters add up to');
    disagree('frozen', counts.frozen, declared - trainable, 'declared less trainable is');
  }
  disagree('buffers', counts.buffers, sum(report.buffers.map((b) => b.numel)), 'its buffers add up to');
  const bytes: Record<string, number> = {};
  for (const p of parameters) bytes[p.dtype] = (bytes[p.dtype] ?? 0) + byteSize(p.dtype, p.numel);
  for (const dtype of new Set([...Object.keys(bytes), ...Object.keys(report.bytesByDtype)])) {
    const claimed = report.bytesByDtype[dtype] ?? 0;
    if (claimed !== (bytes[dtype] ?? 0))
      throw new SchemaError(
        `${path}.bytesByDtype`,
        `the report claims ${claimed} bytes of ${dtype}, but its ${dtype} parameters take ${bytes[dtype] ?? 0}`,
      );
  }
  disagree(
    'parameterBytes',
    counts.parameterBytes,
    sum(Object.values(report.bytesByDtype)),
    'its bytes by dtype add up to',
  );
  const perCall = parameters.map((p) => p.numel * p.calls);
  const summary = sum(perCall);
  const plainSums = report.trace.mode === 'onnxruntime' || report.layers.every((l) => l.graph === '');
  if (plainSums) disagree('summary', counts.summary, summary, 'numel x calls over its parameters adds up to');
  else {
    const least = perCall.reduce((a, b) => Math.max(a, b), 0);
    if (counts.summary < least || counts.summary > summary)
      throw new SchemaError(
        at('summary'),
        `the report claims ${counts.summary}, but numel x calls over its parameters bounds it to ${least}..${summary}; refusing totals that disagree with the report's own lists`,
      );
  }
}

const counts = obj({
  declared: count,
  unique: count,
  summary: count,
  trainable: nullable(count),
  frozen: nullable(count),
  buffers: count,
  parameterBytes: count,
});

const shared = obj({ name, numel: count, calls: count, callNames: names, extraInSummary: count });
const unused = obj({
  name,
  numel: count,
  reason: lit('not-exported', 'orphan', 'dead', 'not-executed'),
  detail: text,
});
const duplicate = obj({ names, numel: count, transposed: bool, bytesWasted: count });

const delta: Validator<Delta> = obj({
  base: nullable(num()),
  head: nullable(num()),
  delta: nullable(num()),
  percent: nullable(num()),
});

const headerFields = obj(
  { file: name, source: lit('manifest', 'graph'), trace: text, counts },
  { traceMode: lit('onnxruntime', 'static', 'failed'), traceError: nullable(text) },
);
/**
 * A report header. Comparisons written before traceMode and traceError existed have only the words
 * (`static (trace failed: ...)`): the mode is read from them, so an older artifact still reads.
 */
const header: Validator<ReportHeader> = (value, path) => {
  const h = headerFields(value, path);
  const failed = /^static \(trace failed: ([^]*)\)$/.exec(h.trace);
  const traceMode =
    h.traceMode ?? (failed ? 'failed' : h.trace.startsWith('static') ? 'static' : 'onnxruntime');
  const traceError =
    h.traceError !== undefined ? h.traceError : traceMode === 'failed' ? (failed?.[1] ?? '') : null;
  if ((traceMode === 'failed') !== (traceError !== null))
    throw new SchemaError(`${path}.traceError`, 'a trace error goes with traceMode failed, and only with it');
  return { ...h, traceMode, traceError };
};
const numelled = obj({ name, numel: count, shape });

const thresholds: Validator<Thresholds> = obj(
  {},
  {
    maxGrowthPercent: num(),
    maxGrowthAbsolute: num(),
    maxParams: num(),
    failOnNewShared: bool,
    failOnNewUnused: bool,
    metric: lit('unique', 'declared', 'summary'),
  },
);

const verdict: Validator<Verdict> = obj({ pass: bool, headline: text, failures: arr(text, 1000) });

export const comparisonSchema: Validator<Comparison> = obj({
  schemaVersion: lit(1),
  base: header,
  head: header,
  counts: obj(Object.fromEntries(COUNT_NAMES.map((c) => [c, delta])) as Record<CountName, Validator<Delta>>),
  added: arr(numelled, ITEMS),
  removed: arr(numelled, ITEMS),
  resized: arr(obj({ name, baseNumel: count, headNumel: count, baseShape: shape, headShape: shape }), ITEMS),
  modules: arr(obj({ name, base: count, head: count, delta: num() }), ITEMS),
  newShared: arr(shared, ITEMS),
  resolvedShared: arr(shared, ITEMS),
  newUnused: arr(unused, ITEMS),
  resolvedUnused: arr(unused, ITEMS),
  newDuplicates: arr(duplicate, ITEMS),
  resolvedDuplicates: arr(duplicate, ITEMS),
  thresholds,
  verdict,
});

// C0 controls except tab and newline, DEL, C1 controls, bidirectional embeddings/overrides/isolates and
// marks (Trojan Source), zero-width characters, line/paragraph separators, BOM; and lone surrogates.
// eslint-disable-next-line no-control-regex -- control characters are exactly what is refused
const FORBIDDEN = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff]/u;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/**
 * Every string (and object key) anywhere in `value` is free of control, bidi-override and hidden
 * characters, and no object has a key that means something to JavaScript objects (`__proto__`, ...).
 */
export function assertCleanStrings(value: unknown, root = ''): void {
  const stack: [unknown, string][] = [[value, root]];
  const check = (s: string, path: string) => {
    const bad = FORBIDDEN.exec(s);
    if (bad) {
      const code = bad[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0');
      throw new SchemaError(path, `string contains a forbidden character U+${code}`);
    }
    if (LONE_SURROGATE.test(s)) throw new SchemaError(path, 'string is not well-formed Unicode');
  };
  while (stack.length > 0) {
    const [v, path] = stack.pop()!;
    if (typeof v === 'string') check(v, path);
    else if (Array.isArray(v)) v.forEach((item, i) => stack.push([item, `${path}[${i}]`]));
    else if (typeof v === 'object' && v !== null) {
      for (const [k, item] of Object.entries(v)) {
        check(k, `${path}{key}`);
        if (k === '__proto__' || k === 'constructor' || k === 'prototype') {
          throw new SchemaError(path, `forbidden key ${JSON.stringify(k)}`);
        }
        stack.push([item, `${path}.${k}`]);
      }
    }
  }
}
