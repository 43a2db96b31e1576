// The layer calls of base and head side by side: which were added, removed, or now hold other parameters
// or run another number of times. Calls are matched by where they run and their name (`conv1`, `conv1_1`
// for a second call, as the exporter names them). Pure.
import type { LayerCall, Report } from '../report/report.ts';
import { compareNames } from '../report/order.ts';

export type LayerChange = 'added' | 'removed' | 'changed' | 'unchanged';

export interface LayerSide {
  type: string;
  params: number;
  executions: number;
}

export interface LayerDiffRow {
  name: string;
  /** Where the call runs: '' for the main graph, else the control-flow node and branch/body. */
  graph: string;
  change: LayerChange;
  base: LayerSide | null;
  head: LayerSide | null;
  /** Parameters of the call in head minus in base (a side without the call holds 0). */
  delta: number;
}

export interface LayerDiff {
  /** Added, removed and changed calls that hold parameters on some side, the largest change first. */
  changed: LayerDiffRow[];
  /** Calls with parameters that are the same on both sides, in head's order. */
  unchanged: LayerDiffRow[];
  /** Calls without parameters on either side (0 → 0), left out of both lists whatever else changed. */
  withoutParameters: number;
}

const side = (l: LayerCall): LayerSide => ({ type: l.type, params: l.params, executions: l.executions });

export function layerDiff(base: Report, head: Report): LayerDiff {
  // Two calls may share a key (nodes without a scope keep their own names, which may repeat): matched in
  // order, the first of base with the first of head.
  const key = (l: LayerCall): string => `${l.graph}\u0000${l.name}`;
  const waiting = new Map<string, LayerCall[]>();
  for (const l of base.layers) {
    const list = waiting.get(key(l));
    if (list) list.push(l);
    else waiting.set(key(l), [l]);
  }
  const rows: LayerDiffRow[] = [];
  for (const h of head.layers) {
    const b = waiting.get(key(h))?.shift();
    rows.push(row(h.name, h.graph, b ? side(b) : null, side(h)));
  }
  for (const list of waiting.values()) for (const b of list) rows.push(row(b.name, b.graph, side(b), null));

  const withParameters = rows.filter((r) => (r.base?.params ?? 0) > 0 || (r.head?.params ?? 0) > 0);
  const order = new Map(rows.map((r, i) => [r, i]));
  return {
    changed: withParameters
      .filter((r) => r.change !== 'unchanged')
      .sort(
        (x, y) =>
          Math.abs(y.delta) - Math.abs(x.delta) ||
          compareNames(x.name, y.name) ||
          order.get(x)! - order.get(y)!,
      ),
    unchanged: withParameters.filter((r) => r.change === 'unchanged'),
    withoutParameters: rows.length - withParameters.length,
  };
}

function row(name: string, graph: string, base: LayerSide | null, head: LayerSide | null): LayerDiffRow {
  const change: LayerChange =
    base === null
      ? 'added'
      : head === null
        ? 'removed'
        : base.params !== head.params || base.executions !== head.executions || base.type !== head.type
          ? 'changed'
          : 'unchanged';
  return { name, graph, change, base, head, delta: (head?.params ?? 0) - (base?.params ?? 0) };
}
