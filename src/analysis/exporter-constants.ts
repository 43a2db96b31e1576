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
  const lookups: { name: string; numel: number; entries: number; table: number; calls: number }[] = [];
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
    lookups.push({
      name: c.name,
      numel: c.numel,
      entries,
      table: windowTableSize(c.tensor.dims, entries),
      calls: calls.get(key)?.size ?? 0,
    });
  }
  const differences: PyTorchDifference[] = [];
  if (lookups.length > 0) {
    // The distinct values are a floor (two entries of a table can be equal); a window's relative
    // position bias has (2M - 1)^2 entries per head, the ceiling when the shape says it is one.
    const entries = lookups.reduce((a, l) => a + l.entries, 0);
    const tables = lookups.reduce((a, l) => a + l.table, 0);
    const perCall = (size: (l: (typeof lookups)[number]) => number): number =>
      lookups.reduce((a, l) => a + size(l) * l.calls, 0);
    const elements = lookups.reduce((a, l) => a + l.numel, 0);
    const fmt = (n: number): string => n.toLocaleString('en-US');
    differences.push({
      cause: 'lookup-folded',
      tensors: lookups.map((l) => l.name),
      declared: { min: entries, max: tables },
      unique: { min: entries, max: tables },
      summary: { min: perCall((l) => l.entries), max: perCall((l) => l.table) },
      note:
        `${lookups.length} exporter-made constant(s) (${fmt(elements)} elements) repeat ${fmt(entries)} ` +
        'distinct values: tables gathered by constant indices (a relative position bias) that constant ' +
        'folding expanded. They are derived, not counted; PyTorch counts the tables themselves: ' +
        (tables > entries
          ? `${fmt(tables)} parameters if they are relative position biases of square windows, ((2M - 1)^2 per head), at least ${fmt(entries)}.`
          : `${fmt(entries)} parameters, if every entry is gathered.`),
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

/**
 * The table behind a folded relative position bias of square M x M windows: its last two dimensions are
 * M^2 (every position against every other), the others the heads, and the table has (2M - 1)^2 entries per
 * head. The distinct values when the shape is not that, or when they exceed it.
 */
function windowTableSize(dims: readonly number[], entries: number): number {
  if (dims.length < 2) return entries;
  const n = dims.at(-1)!;
  const m = Math.round(Math.sqrt(n));
  if (dims.at(-2) !== n || m * m !== n || m < 2) return entries;
  const heads = dims.slice(0, -2).reduce((a, b) => a * b, 1);
  const table = heads * (2 * m - 1) ** 2;
  return table >= entries ? table : entries;
}
