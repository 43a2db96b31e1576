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
import { checkReport, ReportError } from '../../report/validate.ts';
import type { Report } from '../../report/report.ts';
import { arr, bool, int, lit, nullable, num, obj, SchemaError, str, type Validator } from './schema.ts';

const ITEMS = 2_000_000;
const name = str({ max: 4096 });
const text = str({ max: 16_384, multiline: true });
const count = int();
const names = arr(name, ITEMS);
const shape = arr(int(), 64);

/** The report's own schema (ajv, src/report/report-schema.ts), as a validator here. */
export const reportValidator: Validator<Report> = (value, path) => {
  try {
    return checkReport(value, path || 'report');
  } catch (error) {
    if (error instanceof ReportError) throw new SchemaError(path, error.message.replace(/^[^:]*: /, ''));
    throw error;
  }
};

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
