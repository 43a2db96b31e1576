// Constants an exporter made that hold no parameter of their own (docs/counting.md, "Exporter-made
// constants"), found in graph-only analysis: one-element tensors no module owns (a shared `1` or `0`,
// a scale) and tables gathered by constant indices that constant folding turned into bigger constants
// (a relative position bias). Neither counts as a parameter; a folded table is reported as a difference
// from PyTorch's counts, which hold the table itself.
import { isFloating } from '../onnx/dtype.ts';
import type { PyTorchDifference } from '../report/report.ts';
import type { Classified, TensorContent } from './types.ts';
import { isGeneratedName, moduleOf } from './call-names.ts';
import type { GraphWalk } from './graph-walk.ts';

/** A folded table: at least this many distinct values (fewer is a quantized or binary weight). */
const MIN_TABLE_ENTRIES = 32;
/** ... and its values repeat: at most this share of its elements are distinct. */
const MAX_DISTINCT_SHARE = 0.5;

export interface ExporterConstants {
  /** One-element constants that are not parameters. */
  scalars: string[];
  differences: PyTorchDifference[];
}

/** Removes exporter-made constants from `classified.parameters` and says what they were. */
export function setAsideExporterConstants(
  walk: GraphWalk,
  classified: Classified,
  content: TensorContent,
): ExporterConstants {
  const nodes = new Map(walk.nodes.map((n) => [n.node.id, n]));
  const readers = new Map<string, Set<string>>(); // tensor key → the modules (or lone nodes) reading it
  const calls = new Map<string, Set<string>>(); // tensor key → the calls reading it
  for (const use of walk.uses) {
    const n = nodes.get(use.nodeId);
    if (!n) continue;
    const scoped = n.call.key.includes('|scope:');
    if (!readers.has(use.tensorKey)) readers.set(use.tensorKey, new Set());
    if (!calls.has(use.tensorKey)) calls.set(use.tensorKey, new Set());
    readers.get(use.tensorKey)!.add(scoped ? moduleOf(n.call.name) : n.call.key);
    calls.get(use.tensorKey)!.add(n.call.key);
  }
  const scalars: string[] = [];
  const lookups: { name: string; numel: number; entries: number; calls: number }[] = [];
  for (const key of [...classified.parameters]) {
    const c = walk.constants.get(key)!;
    if (c.kind === 'sparse-initializer') continue;
    if (c.numel === 1) {
      // A one-element tensor is a parameter when one module owns it (PReLU's single slope); a generated
      // name, or readers in several modules, make it the exporter's constant.
      if (isGeneratedName(c.name) || (readers.get(key)?.size ?? 0) >= 2) {
        classified.parameters.delete(key);
        scalars.push(c.name);
      }
      continue;
    }
    if (!isGeneratedName(c.name) || !isFloating(c.tensor.dataType)) continue;
    if (c.numel < 2 * MIN_TABLE_ENTRIES || content.isUniform(c.tensor)) continue;
    const entries = content.distinctValues(c.tensor, MAX_DISTINCT_SHARE);
    if (entries === undefined || entries < MIN_TABLE_ENTRIES) continue;
    classified.parameters.delete(key);
    lookups.push({ name: c.name, numel: c.numel, entries, calls: calls.get(key)?.size ?? 0 });
  }
  const differences: PyTorchDifference[] = [];
  if (lookups.length > 0) {
    const entries = lookups.reduce((a, l) => a + l.entries, 0);
    const perCall = lookups.reduce((a, l) => a + l.entries * l.calls, 0);
    const elements = lookups.reduce((a, l) => a + l.numel, 0);
    differences.push({
      cause: 'lookup-folded',
      tensors: lookups.map((l) => l.name),
      declared: { min: entries, max: entries },
      unique: { min: entries, max: entries },
      summary: { min: perCall, max: perCall },
      note:
        `${lookups.length} exporter-made constant(s) (${elements.toLocaleString('en-US')} elements) repeat ` +
        `${entries.toLocaleString('en-US')} distinct values: tables gathered by constant indices (a relative ` +
        'position bias) that constant folding expanded. They are derived, not counted; PyTorch counts the ' +
        `tables themselves: ${entries.toLocaleString('en-US')} parameters, if every entry is gathered.`,
    });
  }
  return { scalars, differences };
}

/**
 * BatchNormalization folded into Convs (TorchScript, eval mode): the Conv reads generated weights
 * (`onnx::Conv_N`) and one bias of C channels stands for BatchNorm's weight and bias (2C), and for the
 * Conv's own bias (C) when it had one. The file does not say which (the fused bias is the same tensor
 * either way), so PyTorch's counts are higher by C or 2C per folded Conv.
 */
export function batchNormFolds(walk: GraphWalk): PyTorchDifference | undefined {
  const folded = walk.nodes.filter(
    (n) => n.node.opType === 'Conv' && n.node.inputs.slice(1).some((i) => /^onnx::Conv_\d+$/.test(i)),
  );
  let channels = 0;
  for (const n of folded) {
    const weight = walk.constants.get(`${n.graphPath}|${n.node.inputs[1] ?? ''}`);
    const out = weight?.tensor.dims[0];
    if (typeof out === 'number') channels += out;
  }
  if (folded.length === 0 || channels === 0) return undefined;
  const fmt = (n: number): string => n.toLocaleString('en-US');
  // Each folded Conv is one call that used its BatchNorm's call too: summary-style moves with declared.
  const gap = { min: channels, max: 2 * channels };
  return {
    cause: 'batchnorm-folded',
    tensors: folded.flatMap((n) => n.node.inputs.slice(1).filter((i) => /^onnx::Conv_\d+$/.test(i))),
    declared: gap,
    unique: gap,
    summary: gap,
    note:
      `${folded.length} Conv layer(s) read exporter-generated weights (onnx::Conv_N): the eval-mode export ` +
      `folded BatchNormalization into them (${fmt(channels)} channels in all). Each folded BatchNorm's ` +
      "weight and bias (2 x channels) became one Conv bias (channels), and the Conv's own bias, if it had " +
      `one, went into it too. PyTorch's parameters() counts are higher by ${fmt(channels)} when the Convs ` +
      `have no bias of their own (as in ResNets) or by ${fmt(2 * channels)} when they have one (as in VGG-BN); ` +
      'the running statistics (buffers) are gone as well.',
  };
}
