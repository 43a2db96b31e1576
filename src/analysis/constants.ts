// Which constants are parameters and buffers without a manifest (docs/counting.md, "Parameter"), and the
// logical tensors the graph alone gives: one per parameter, however many initializers store it.
import { isFloating } from '../onnx/dtype.ts';
import type { ConstantTensor, GraphWalk } from './graph-walk.ts';
import type { Classified, LogicalTensor } from './types.ts';

/** counting.md, "Parameter", without a manifest. */
export function classifyConstants(walk: GraphWalk): Classified {
  const parameters = new Set<string>();
  const buffers = new Set<string>();
  const isWeight = (c: ConstantTensor, quantized: boolean): boolean =>
    c.tensor.dims.length > 0 && (isFloating(c.tensor.dataType) || quantized);
  for (const use of walk.uses) {
    const c = walk.constants.get(use.tensorKey)!;
    if (use.role === 'buffer') {
      if (c.tensor.dims.length > 0) buffers.add(c.key);
    } else if (isWeight(c, use.quantized || use.role === 'qweight')) parameters.add(c.key);
  }
  for (const key of parameters) buffers.delete(key);
  // An initializer nothing reads is still a declared parameter when it looks like one (orphan).
  for (const c of walk.constants.values()) {
    if (c.kind !== 'constant-node' && !walk.consumed.has(c.key) && isWeight(c, false)) parameters.add(c.key);
  }
  return { parameters, buffers };
}

export function graphTensors(
  walk: GraphWalk,
  classified: Classified,
  groups: ConstantTensor[][],
): LogicalTensor[] {
  const merged = new Map<string, ConstantTensor[]>();
  for (const group of groups) merged.set(group[0]!.key, group);
  const skip = new Set(groups.flatMap((g) => g.slice(1).map((c) => c.key)));
  const out: LogicalTensor[] = [];
  for (const [keys, kind] of [
    [classified.parameters, 'parameter'],
    [classified.buffers, 'buffer'],
  ] as const) {
    for (const key of keys) {
      if (skip.has(key)) continue;
      const c = walk.constants.get(key)!;
      const storedAs = merged.get(key) ?? [c];
      out.push({
        name: displayName(c),
        aliases: storedAs.slice(1).map(displayName),
        kind,
        storedAs,
        dtype: c.tensor.dataType,
        shape: c.tensor.dims,
        numel: c.numel,
        trainable: null,
        notExported: false,
      });
    }
  }
  return out;
}

/** Constant-node tensors are named after their output; subgraph initializers after their graph. */
export function displayName(c: ConstantTensor): string {
  return c.graphPath === '' ? c.name : `${c.name} (in ${c.graphPath})`;
}
