// What the schemas cannot say about a bundle read from outside (bundle-schema.ts, checked by the
// generated validators first): every string free of hidden and control characters, a report's totals
// equal to what its own lists add up to, and a verdict that passes exactly when nothing failed. Each
// refusal names where, as a path (`.head.counts.unique`).
import type { Comparison } from '../../compare/comparison.ts';
import { byteSize } from '../../onnx/dtype.ts';
import type { Report } from '../../report/report.ts';

/** Something in a value read from outside is not as it must be: where (a path), and what. */
export class SchemaError extends Error {
  constructor(
    readonly path: string,
    readonly problem: string,
  ) {
    super(`${path || '(root)'}: ${problem}`);
    this.name = 'SchemaError';
  }
}

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

/** A verdict passes exactly when no threshold failed: a comparison that says otherwise is refused. */
export function checkVerdict(comparison: Comparison, path: string): void {
  const { pass, failures } = comparison.verdict;
  if (pass !== (failures.length === 0))
    throw new SchemaError(
      `${path}.verdict.pass`,
      `the verdict says ${pass ? 'pass' : 'fail'} with ${failures.length} failure(s); a verdict passes exactly when none failed`,
    );
}

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
