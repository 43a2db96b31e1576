// base report + head report + thresholds → comparison and verdict. Pure.
import type { Report } from '../report/report.ts';
import { compareNames } from '../report/order.ts';
import {
  COMPARISON_SCHEMA_VERSION,
  COUNT_NAMES,
  type Comparison,
  type CountName,
  type Delta,
  type Failure,
  type HeaderTrace,
  type ModuleDelta,
  type ParameterChange,
  type Thresholds,
  type Verdict,
} from './comparison.ts';

/** Without a base only the absolute limit applies: growth and "new" findings need something to compare with. */
export function thresholdsWithoutBase(t: Thresholds): Thresholds {
  return { maxParams: t.maxParams, metric: t.metric };
}

export interface CompareOptions {
  /**
   * Why there is no real base (its build failed): the verdict fails with this reason first, whatever the
   * counts say. An empty base stands in for the counts, so a head that only grew is never a pass.
   */
  baseUnavailable?: string | undefined;
}

export function compare(
  base: Report,
  head: Report,
  thresholds: Thresholds = {},
  options: CompareOptions = {},
): Comparison {
  const counts = Object.fromEntries(
    COUNT_NAMES.map((name) => [name, delta(base.counts[name] ?? null, head.counts[name] ?? null)]),
  ) as Record<CountName, Delta>;

  const baseParams = new Map(base.parameters.map((p) => [p.name, p]));
  const headParams = new Map(head.parameters.map((p) => [p.name, p]));
  const added = head.parameters
    .filter((p) => !baseParams.has(p.name))
    .map((p) => ({ name: p.name, numel: p.numel, shape: p.shape }))
    .sort(bySize);
  const removed = base.parameters
    .filter((p) => !headParams.has(p.name))
    .map((p) => ({ name: p.name, numel: p.numel, shape: p.shape }))
    .sort(bySize);
  const resized: ParameterChange[] = head.parameters
    .flatMap((p) => {
      const b = baseParams.get(p.name);
      return b && b.numel !== p.numel
        ? [{ name: p.name, baseNumel: b.numel, headNumel: p.numel, baseShape: b.shape, headShape: p.shape }]
        : [];
    })
    .sort((a, b) => Math.abs(b.headNumel - b.baseNumel) - Math.abs(a.headNumel - a.baseNumel));

  const newOf = <T extends { name: string }>(from: T[], against: T[]): T[] => {
    const seen = new Set(against.map((x) => x.name));
    return from.filter((x) => !seen.has(x.name));
  };
  const duplicateKey = (d: { names: string[] }): string => [...d.names].sort().join('\u0000');
  const newDuplicates = head.duplicates.filter(
    (d) => !base.duplicates.some((b) => duplicateKey(b) === duplicateKey(d)),
  );
  const resolvedDuplicates = base.duplicates.filter(
    (d) => !head.duplicates.some((h) => duplicateKey(h) === duplicateKey(d)),
  );

  const comparison: Omit<Comparison, 'verdict'> = {
    schemaVersion: COMPARISON_SCHEMA_VERSION,
    base: header(base),
    head: header(head),
    counts,
    added,
    removed,
    resized,
    modules: moduleDeltas(base, head),
    newShared: newOf(head.shared, base.shared),
    resolvedShared: newOf(base.shared, head.shared),
    newUnused: newOf(head.unused, base.unused),
    resolvedUnused: newOf(base.unused, head.unused),
    newDuplicates,
    resolvedDuplicates,
    thresholds,
  };
  return { ...comparison, verdict: verdict(comparison, thresholds, options.baseUnavailable) };
}

function header(r: Report): Comparison['base'] {
  return {
    file: r.model.file,
    source: r.source,
    trace: headerTrace(r.trace),
    counts: r.counts,
  };
}

/** The report's trace as the comparison keeps it: how, not the inputs and notes. */
function headerTrace(t: Report['trace']): HeaderTrace {
  if (t.mode === 'static') return { mode: 'static' };
  if (t.mode === 'failed') return { mode: 'failed', error: t.error };
  return { mode: 'onnxruntime', onnxruntimeVersion: t.onnxruntimeVersion, device: t.device };
}

function delta(base: number | null, head: number | null): Delta {
  if (base === null || head === null) return { base, head, delta: null, percent: null };
  const d = head - base;
  return { base, head, delta: d, percent: base === 0 ? null : (d / base) * 100 };
}

function bySize(a: { numel: number; name: string }, b: { numel: number; name: string }): number {
  return b.numel - a.numel || compareNames(a.name, b.name);
}

/** Parameters summed by top-level module (`layer1.0.conv1.weight` → `layer1`); changed ones, largest first. */
function moduleDeltas(base: Report, head: Report): ModuleDelta[] {
  const totals = (r: Report): Map<string, number> => {
    const m = new Map<string, number>();
    for (const p of r.parameters) {
      const top = p.name.includes('.') ? p.name.slice(0, p.name.indexOf('.')) : '(root)';
      m.set(top, (m.get(top) ?? 0) + p.numel);
    }
    return m;
  };
  const b = totals(base);
  const h = totals(head);
  return [...new Set([...b.keys(), ...h.keys()])]
    .map((name) => ({
      name,
      base: b.get(name) ?? 0,
      head: h.get(name) ?? 0,
      delta: (h.get(name) ?? 0) - (b.get(name) ?? 0),
    }))
    .filter((m) => m.delta !== 0)
    .sort((x, y) => Math.abs(y.delta) - Math.abs(x.delta) || compareNames(x.name, y.name));
}

/** Which thresholds fail, as data: src/render/verdict.ts words them. */
function verdict(c: Omit<Comparison, 'verdict'>, t: Thresholds, baseUnavailable?: string): Verdict {
  const metric = t.metric ?? 'unique';
  const d = c.counts[metric];
  const base = d.base ?? 0;
  const head = d.head ?? 0;
  const growth = head - base;
  const failures: Failure[] = baseUnavailable ? [{ kind: 'base-unavailable', reason: baseUnavailable }] : [];
  if (t.maxGrowthPercent !== undefined && base > 0 && (growth / base) * 100 > t.maxGrowthPercent)
    failures.push({ kind: 'growth-percent', metric, base, head, limit: t.maxGrowthPercent });
  if (t.maxGrowthPercent !== undefined && base === 0 && growth > 0 && t.maxGrowthAbsolute === undefined)
    failures.push({ kind: 'growth-from-zero', metric, head, limit: t.maxGrowthPercent });
  if (t.maxGrowthAbsolute !== undefined && growth > t.maxGrowthAbsolute)
    failures.push({ kind: 'growth-absolute', metric, base, head, limit: t.maxGrowthAbsolute });
  if (t.maxParams !== undefined && head > t.maxParams)
    failures.push({ kind: 'max-params', metric, head, limit: t.maxParams });
  if (t.failOnNewShared && c.newShared.length > 0)
    failures.push({ kind: 'new-shared', names: c.newShared.map((s) => s.name) });
  if (t.failOnNewUnused && c.newUnused.length > 0)
    failures.push({ kind: 'new-unused', names: c.newUnused.map((u) => u.name) });
  return { pass: failures.length === 0, metric, failures };
}

/** `5%` → percent, `100000` or `100k`/`1.5M` → absolute. */
export function parseGrowth(text: string): Pick<Thresholds, 'maxGrowthPercent' | 'maxGrowthAbsolute'> {
  const s = text.trim();
  if (s === '') return {};
  const pct = /^(\d+(?:\.\d+)?)\s*%$/.exec(s);
  if (pct) return { maxGrowthPercent: Number(pct[1]) };
  return { maxGrowthAbsolute: parseCount(s) };
}

/** `100000`, `100_000`, `100k`, `1.5M`, `2B` → a number of parameters. */
export function parseCount(text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kKmMbB]?)$/.exec(text.trim().replace(/[_,]/g, ''));
  if (!m) throw new RangeError(`'${text}' is not a parameter count (examples: 100000, 250k, 1.5M)`);
  const scale = { '': 1, k: 1e3, m: 1e6, b: 1e9 }[m[2]!.toLowerCase() as '' | 'k' | 'm' | 'b'];
  return Math.round(Number(m[1]) * scale);
}
