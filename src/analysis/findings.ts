// Per-parameter findings of a graph-only analysis: value-merged constants, merged clones, and why an unused
// parameter is unused (docs/counting.md, "Findings").
import type { SharedParameter, UnusedParameter, ValueMergedConstant } from '../report/report.ts';
import { compareNames } from '../report/order.ts';
import type { CallUses } from './calls.ts';
import type { GraphWalk } from './graph-walk.ts';
import type { PathCounts } from './paths.ts';
import type { LogicalTensor, TensorContent } from './types.ts';

/** A tensor that sibling modules read in place of their own (mergedCloneSiblings). */
export interface MergedClone {
  name: string;
  numel: number;
  siblings: number;
}

export interface Findings {
  shared: SharedParameter[];
  valueMerged: ValueMergedConstant[];
  clones: MergedClone[];
  unused: UnusedParameter[];
}

/**
 * Each parameter run twice or more is shared, unless the graph alone shows the exporter merged it (equal
 * values of unrelated layers, or siblings' clones); each parameter no executed, live call uses is unused.
 */
export function findSharedAndUnused(args: {
  parameters: LogicalTensor[];
  paths: PathCounts;
  uses: CallUses;
  walk: GraphWalk;
  content: TensorContent;
  graphOnly: boolean;
  traced: boolean;
}): Findings {
  const { parameters, paths, uses, walk, content, graphOnly, traced } = args;
  const found: Findings = { shared: [], valueMerged: [], clones: [], unused: [] };
  const graphNames = new Set([...walk.constants.values()].map((c) => c.name));
  for (const p of parameters) {
    const { runs, calls } = paths.parameters.get(p.name) ?? { runs: 0, calls: [] };
    if (runs >= 2) {
      const names = calls.map((key) => uses.calls.get(key)!.name);
      const siblings = graphOnly ? mergedCloneSiblings(p.name, names, graphNames) : 0;
      if (graphOnly && isValueMerged(p, names, content)) {
        found.valueMerged.push({
          name: p.name,
          numel: p.numel,
          callNames: names,
          note: 'equal-valued constant merged by the exporter and read by unrelated layers; not a shared parameter',
        });
      } else if (siblings > 0) {
        found.clones.push({ name: p.name, numel: p.numel, siblings });
        found.valueMerged.push({
          name: p.name,
          numel: p.numel,
          callNames: names,
          note: `read by ${siblings} sibling module(s) of the same structure whose own tensors are not in the file: equal values the exporter merged (untrained clones), or a real tie; export with the helper to be sure`,
        });
      } else {
        found.shared.push({
          name: p.name,
          numel: p.numel,
          calls: runs,
          callNames: names,
          extraInSummary: p.numel * (runs - 1),
        });
      }
    }
    if (!uses.usedBy.has(p.name))
      found.unused.push(unusedFinding(p, walk, uses.deadUse, uses.unexecutedUse, traced));
  }
  found.shared.sort((a, b) => b.extraInSummary - a.extraInSummary || compareNames(a.name, b.name));
  found.unused.sort((a, b) => b.numel - a.numel || compareNames(a.name, b.name));
  return found;
}

/**
 * A constant read by calls of different modules whose elements are all equal (fresh zeros or ones) is
 * the exporter's value merging (eval mode), not a layer shared on purpose. Calls of the parameter's own
 * module (`conv1`, `conv1_1`) are real reuse whatever the values.
 */
export function isValueMerged(p: LogicalTensor, callNames: string[], content: TensorContent): boolean {
  const module = p.name.includes('.') ? p.name.slice(0, p.name.lastIndexOf('.')) : undefined;
  if (module !== undefined) {
    const own = new RegExp(`^${module.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(_\\d+)?$`);
    if (callNames.every((c) => own.test(c))) return false;
  }
  return p.storedAs.length > 0 && content.isUniform(p.storedAs[0]!.tensor);
}

/**
 * Merged clones (counting.md): a tensor named for module M (`enc.layers.0.linear1.bias`) read by calls
 * of sibling modules of the same structure (`enc.layers.1.linear1`: the same path but for numeric parts)
 * whose own tensor of that name (`enc.layers.1.linear1.bias`) is not in the file. The exporter merged equal
 * values into the first name. Returns how many sibling modules read it (0: not merged clones: a module
 * called twice, or readers of another structure, as a tied embedding's output head).
 */
export function mergedCloneSiblings(name: string, callNames: string[], graphNames: Set<string>): number {
  const dot = name.lastIndexOf('.');
  if (dot <= 0) return 0;
  const module = name.slice(0, dot);
  const leaf = name.slice(dot + 1);
  const own = module.split('.');
  const siblings = new Set<string>();
  for (const call of callNames) {
    const m = call.replace(/ \(.*\)$/, '');
    if (m === module || m.replace(/_\d+$/, '') === module) continue;
    const parts = m.split('.');
    const sameStructure =
      parts.length === own.length &&
      parts.every((p, i) => p === own[i] || (/^\d+$/.test(p) && /^\d+$/.test(own[i]!)));
    if (!sameStructure || graphNames.has(`${m}.${leaf}`)) return 0;
    siblings.add(m);
  }
  return siblings.size;
}

export function unusedFinding(
  p: LogicalTensor,
  walk: GraphWalk,
  deadUse: Set<string>,
  unexecutedUse: Set<string>,
  traced: boolean,
): UnusedParameter {
  const base = { name: p.name, numel: p.numel };
  if (p.notExported) {
    return {
      ...base,
      reason: 'not-exported',
      detail:
        'declared in PyTorch but absent from the ONNX graph: the exporter dropped it because forward never uses it',
    };
  }
  if (unexecutedUse.has(p.name)) {
    return {
      ...base,
      reason: 'not-executed',
      detail: traced
        ? 'used only in a branch or loop body that did not run with the traced inputs'
        : 'used only in code that does not run',
    };
  }
  if (deadUse.has(p.name)) {
    return {
      ...base,
      reason: 'dead',
      detail: 'consumed only by nodes whose outputs never reach a graph output',
    };
  }
  const consumed = p.storedAs.some((s) => walk.consumed.has(s.key));
  return consumed
    ? { ...base, reason: 'dead', detail: 'reaches no compute node whose outputs reach a graph output' }
    : { ...base, reason: 'orphan', detail: 'an initializer that no node consumes' };
}
