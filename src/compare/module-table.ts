// Where the watched count changed: the count the verdict uses (unique by default, or declared or
// summary-style; `thresholds.metric`), split by top-level module, for base and head. Computed from the
// two reports' parameter lists, so a pull request that leaves a parameter declared but stops using it
// shows up under its module even when the declared count does not move. Pure.
import type { Metric, Parameter, Report } from '../report/report.ts';
import { compareNames } from '../report/order.ts';
import { isGeneratedName, moduleOf } from '../analysis/call-names.ts';

export type WatchedMetric = Metric;

/** The row that holds what the report's total has beyond the sum of its parameters (see moduleTable). */
export const UNATTRIBUTED = '(not attributed to a module)';

export interface ModuleRow {
  /**
   * Top-level module: the first component of the parameter's name (of its first layer call's, for a name
   * the exporter made), `(root)` for a name without a dot.
   */
  name: string;
  base: number;
  head: number;
  delta: number;
}

export interface ModuleTable {
  metric: WatchedMetric;
  /** Modules whose watched count changed, the largest change first. */
  changed: ModuleRow[];
  /** How many modules hold the same watched count in base and head. */
  unchanged: number;
  /** The watched count of each report, as the verdict reads it. */
  total: { base: number; head: number };
}

/** What one parameter adds to the watched count. */
export function contribution(p: Parameter, metric: WatchedMetric): number {
  if (metric === 'declared') return p.numel;
  if (!p.used) return 0;
  // Summary-style counts a parameter once per executed layer call that uses it.
  return metric === 'unique' ? p.numel : p.numel * p.calls;
}

/** `layer1.0.conv1.weight` → `layer1`; a name without a dot (an ONNX initializer's) → `(root)`. */
export function topModule(name: string): string {
  const dot = name.indexOf('.');
  return dot > 0 ? name.slice(0, dot) : '(root)';
}

/**
 * The module a parameter belongs to: its name's, or, for a name the exporter made (`onnx::Conv_21`, a
 * BatchNorm folded into a Conv), the module of the first layer call that uses it: the Conv's.
 */
function moduleOfParameter(p: Parameter, firstCall: Map<string, string>): string {
  if (!isGeneratedName(p.name)) return topModule(p.name);
  const call = firstCall.get(p.name);
  if (call === undefined) return topModule(p.name);
  // A call's name is a module path (`layer1.0.conv1`, `head` for a top-level module).
  return moduleOf(call).split('.')[0] || '(root)';
}

function byModule(report: Report, metric: WatchedMetric): Map<string, number> {
  const firstCall = new Map<string, string>();
  for (const layer of report.layers)
    for (const name of layer.parameters) if (!firstCall.has(name)) firstCall.set(name, layer.name);
  const totals = new Map<string, number>();
  for (const p of report.parameters) {
    const top = moduleOfParameter(p, firstCall);
    totals.set(top, (totals.get(top) ?? 0) + contribution(p, metric));
  }
  // Summary-style without a trace follows each If branch on its own, so the report's total need not be
  // the sum of its parameters' calls: the difference gets a row of its own, and the rows add up to the
  // count the verdict uses.
  const rest = report.counts[metric] - [...totals.values()].reduce((a, b) => a + b, 0);
  if (rest !== 0) totals.set(UNATTRIBUTED, (totals.get(UNATTRIBUTED) ?? 0) + rest);
  return totals;
}

export function moduleTable(base: Report, head: Report, metric: WatchedMetric = 'unique'): ModuleTable {
  const b = byModule(base, metric);
  const h = byModule(head, metric);
  const rows = [...new Set([...b.keys(), ...h.keys()])].map((name) => {
    const before = b.get(name) ?? 0;
    const after = h.get(name) ?? 0;
    return { name, base: before, head: after, delta: after - before };
  });
  const changed = rows
    .filter((r) => r.delta !== 0)
    .sort((x, y) => Math.abs(y.delta) - Math.abs(x.delta) || compareNames(x.name, y.name));
  return {
    metric,
    changed,
    unchanged: rows.length - changed.length,
    total: { base: base.counts[metric], head: head.counts[metric] },
  };
}
