// Several models' comparisons (one per comment key: a matrix job each) → one verdict. The run passes only
// when every model passes and every model that was expected has a report: a matrix job that crashed before
// writing its report must not let the others' pass stand for it. Pure; src/render/aggregate-markdown.ts
// words it and src/action/modes/aggregate.ts reads the reports and posts it.
import type { Comparison, Failure, Verdict } from './comparison.ts';

export interface ModelComparison {
  /** The comment key of the model's `mode: pr` run: its name in the table. */
  key: string;
  comparison: Comparison;
}

export interface ModelVerdict {
  key: string;
  pass: boolean;
  /** The watched count of base and head, and the change. */
  base: number | null;
  head: number | null;
  delta: number | null;
  percent: number | null;
  failures: Failure[];
  comparison: Comparison;
}

export interface ModelUnavailable {
  key: string;
  reason: string;
}

export interface Aggregate {
  pass: boolean;
  /** The count every model's verdict watched (the aggregate step's `metric`). */
  metric: Verdict['metric'];
  /** One per model, by key. */
  models: ModelVerdict[];
  /** Keys of the models whose verdict failed. */
  failed: string[];
  /** Expected keys without a report: each fails the verdict. */
  missing: string[];
  /** Models that could not be analyzed (one run of several models: its build or file failed), and why. */
  unavailable: ModelUnavailable[];
  /** The watched count summed over the models; null when a model lacks it. */
  total: { base: number; head: number; delta: number } | null;
}

export function aggregate(
  models: ModelComparison[],
  options: { expected?: string[]; unavailable?: ModelUnavailable[]; metric?: Verdict['metric'] } = {},
): Aggregate {
  const unavailable = [...(options.unavailable ?? [])].sort((a, b) => (a.key < b.key ? -1 : 1));
  if (models.length === 0 && unavailable.length === 0) throw new RangeError('aggregate: no models');
  const keys = new Set<string>();
  for (const key of [...models.map((m) => m.key), ...unavailable.map((u) => u.key)]) {
    if (keys.has(key)) throw new RangeError(`aggregate: two models with the key '${key}'`);
    keys.add(key);
  }
  const metrics = new Set(models.map((m) => m.comparison.verdict.metric));
  if (metrics.size > 1) throw new RangeError(`aggregate: the models watch different counts`);
  const metric = models[0]?.comparison.verdict.metric ?? options.metric ?? 'unique';
  const verdicts = [...models]
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
    .map(({ key, comparison }): ModelVerdict => {
      const d = comparison.counts[metric];
      return {
        key,
        pass: comparison.verdict.pass,
        base: d.base,
        head: d.head,
        delta: d.delta,
        percent: d.percent,
        failures: comparison.verdict.failures,
        comparison,
      };
    });
  const missing = [...new Set(options.expected ?? [])].filter((k) => !keys.has(k)).sort();
  const failed = verdicts.filter((v) => !v.pass).map((v) => v.key);
  const known = unavailable.length === 0 && verdicts.every((v) => v.base !== null && v.head !== null);
  const sum = (pick: (v: ModelVerdict) => number | null) => verdicts.reduce((s, v) => s + (pick(v) ?? 0), 0);
  const total = known
    ? {
        base: sum((v) => v.base),
        head: sum((v) => v.head),
        delta: sum((v) => v.head) - sum((v) => v.base),
      }
    : null;
  return {
    pass: failed.length === 0 && missing.length === 0 && unavailable.length === 0,
    metric,
    models: verdicts,
    failed,
    missing,
    unavailable,
    total,
  };
}
