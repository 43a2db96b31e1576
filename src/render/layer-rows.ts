// The rows of the layer table, shared by the text table and the comment. By default, as torchinfo's
// `depth`: only the layer calls that hold parameters, those below depth N summed into their module at
// depth N; with allNodes, every layer call as the report has it. The report itself keeps every call.
import { callPath, parameterPath } from '../analysis/call-names.ts';
import type { Dim, LayerCall, Report, UnusedReason } from '../report/report.ts';
import { formatCount } from '../report/format.ts';

/** torchinfo's default depth. */
export const DEFAULT_DEPTH = 3;

export interface LayerRowOptions {
  /** Calls deeper than this many module levels (`layer1.0.conv1` is 3) are summed into their module. */
  depth?: number | undefined;
  /** Every layer call, one row each, none summed or left out. */
  allNodes?: boolean | undefined;
}

export type LayerMark =
  { kind: 'shared' } | { kind: 'unused'; reason: UnusedReason | 'dead' | 'not executed' } | null;

export interface LayerRow {
  /** The call's name (`conv1`), or the module the row sums (`layer1.0`), or a parameter's for an unused one. */
  name: string;
  /** How many times each call ran: one number, a range when the calls summed differ, null for no call. */
  executions: { min: number; max: number } | null;
  /** The call's type; for a row that sums calls, their types in order of first appearance. */
  types: string[];
  /** Layer calls summed into the row: 1 for a call, 0 for a row of unused parameters. */
  calls: number;
  /** For a row of unused parameters: how many it sums (one module's, by reason); 0 for calls. */
  unusedParameters: number;
  /** Output shapes of the row's last call (a module's output is its last call's). */
  outputShapes: Dim[][] | null;
  /** Sum of the calls' parameters, each call's own as in the full table (or the unused parameter's numel). */
  params: number;
  mark: LayerMark;
}

export interface LayerTable {
  rows: LayerRow[];
  /** Layer calls left out: those without parameters (none with allNodes). */
  hiddenCalls: number;
  /** Calls summed into a module at `depth` (0 with allNodes, or when no call is deeper). */
  summedCalls: number;
  /** The depth applied; null with allNodes. */
  depth: number | null;
}

export function layerRows(report: Report, options: LayerRowOptions = {}): LayerTable {
  const shared = new Set(report.shared.map((s) => s.name));
  if (options.allNodes) return allCalls(report, shared);
  const depth = Math.max(1, Math.floor(options.depth ?? DEFAULT_DEPTH));
  const groups = new Map<string, LayerRow & { usesShared: Set<string> }>();
  let hiddenCalls = 0;
  let summedCalls = 0;
  for (const layer of report.layers) {
    if (layer.params === 0) {
      hiddenCalls++;
      continue;
    }
    const { path, context } = callPath(layer.name);
    const name = `${path.slice(0, depth).join('.')}${context}`;
    if (path.length > depth) summedCalls++;
    const key = `${layer.graph}\u0000${name}`;
    const group = groups.get(key);
    if (!group) {
      groups.set(key, {
        name,
        executions: { min: layer.executions, max: layer.executions },
        types: [layer.type],
        calls: 1,
        unusedParameters: 0,
        outputShapes: layer.outputShapes,
        params: layer.params,
        mark: markOf(layer, shared),
        usesShared: new Set(layer.parameters.filter((p) => shared.has(p))),
      });
      continue;
    }
    group.calls++;
    group.params += layer.params;
    group.executions = {
      min: Math.min(group.executions!.min, layer.executions),
      max: Math.max(group.executions!.max, layer.executions),
    };
    if (!group.types.includes(layer.type)) group.types.push(layer.type);
    if (layer.outputShapes) group.outputShapes = layer.outputShapes;
    for (const p of layer.parameters) if (shared.has(p)) group.usesShared.add(p);
    if (group.usesShared.size > 0) group.mark = { kind: 'shared' };
  }
  const rows: LayerRow[] = [...groups.values()].map(({ usesShared: _, ...row }) => row);
  // Unused parameters, which no call of the table holds (calls that use them only in dead code or in a
  // branch that did not run hold no parameters, and are left out above): by reason and module, to the
  // same depth.
  const unused = new Map<string, LayerRow>();
  for (const u of report.unused) {
    const { path, context } = parameterPath(u.name);
    const name = `${path.slice(0, depth).join('.')}${context}`;
    const key = `${u.reason}\u0000${name}`;
    const row = unused.get(key);
    if (row) {
      row.params += u.numel;
      row.unusedParameters++;
    } else unused.set(key, { ...unusedRow(name, u.numel, u.reason) });
  }
  rows.push(...unused.values());
  return { rows, hiddenCalls, summedCalls, depth };
}

/** Every layer call, as the report has it, then a row for each parameter that no layer call shows. */
function allCalls(report: Report, shared: Set<string>): LayerTable {
  const rows: LayerRow[] = report.layers.map((layer) => ({
    name: layer.name,
    executions: { min: layer.executions, max: layer.executions },
    types: [layer.type],
    calls: 1,
    unusedParameters: 0,
    outputShapes: layer.outputShapes,
    params: layer.params,
    mark: markOf(layer, shared),
  }));
  for (const u of report.unused.filter((x) => x.reason === 'not-exported' || x.reason === 'orphan'))
    rows.push(unusedRow(u.name, u.numel, u.reason));
  return { rows, hiddenCalls: 0, summedCalls: 0, depth: null };
}

function markOf(layer: LayerCall, shared: Set<string>): LayerMark {
  if (!layer.live) return { kind: 'unused', reason: 'dead' };
  if (layer.executions === 0) return { kind: 'unused', reason: 'not executed' };
  return layer.parameters.some((p) => shared.has(p)) ? { kind: 'shared' } : null;
}

function unusedRow(name: string, numel: number, reason: UnusedReason): LayerRow {
  return {
    name,
    executions: null,
    types: [UNUSED_TYPE[reason]],
    calls: 0,
    unusedParameters: 1,
    outputShapes: null,
    params: numel,
    mark: { kind: 'unused', reason },
  };
}

const UNUSED_TYPE: Record<UnusedReason, string> = {
  'not-exported': '(never called)',
  orphan: '(no consumer)',
  dead: '(dead code)',
  'not-executed': '(not executed)',
};

/** `conv1`, `conv1 (x3)`, `layer1 (x1-4)`: the name with how many times its calls ran, when more than once. */
export function rowName(row: LayerRow): string {
  const e = row.executions;
  if (!e || e.max <= 1) return row.name;
  return e.min === e.max ? `${row.name} (x${e.max})` : `${row.name} (x${e.min}-${e.max})`;
}

/**
 * `Conv`, or for a row that sums calls `Conv2d, ReLU (4 calls)` (at most three types named), or for one
 * that sums unused parameters `(not executed, 3 parameters)`.
 */
export function rowType(row: LayerRow): string {
  if (row.unusedParameters > 1)
    return `${row.types[0]!.replace(/\)$/, '')}, ${row.unusedParameters} parameters)`;
  if (row.calls <= 1) return row.types[0] ?? '';
  const named = row.types.length > 3 ? [...row.types.slice(0, 3), '…'] : row.types;
  return `${named.join(', ')} (${row.calls} calls)`;
}

/** The mark as the text table writes it: `shared`, `unused (dead)`, `unused (not-exported)`. */
export function markText(mark: LayerMark): string {
  if (!mark) return '';
  return mark.kind === 'shared' ? 'shared' : `unused (${mark.reason})`;
}

/**
 * What the table leaves out or sums, in words (`7 layer calls without parameters not shown`), for the
 * line under it; `depthHint` is appended to the summed part (the CLI's `(--depth N)`).
 */
export function leftOutParts(table: LayerTable, depthHint = ''): string[] {
  const parts: string[] = [];
  const plural = (n: number, word: string): string => `${formatCount(n)} ${word}${n === 1 ? '' : 's'}`;
  if (table.hiddenCalls > 0)
    parts.push(`${plural(table.hiddenCalls, 'layer call')} without parameters not shown`);
  if (table.summedCalls > 0)
    parts.push(
      `${plural(table.summedCalls, 'call')} below depth ${table.depth} summed into ${table.summedCalls === 1 ? 'its module' : 'their modules'}${depthHint}`,
    );
  return parts;
}
