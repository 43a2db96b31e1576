// Where a graph-only count differs from PyTorch's, and by how much: the report's `differences`
// (docs/counting.md, "Exporter-made constants and where a graph-only count differs from PyTorch's"). Each
// cause states a min..max per count, so that a reader (and the zoo sweep) can check the gap to the parameter.
import type { OnnxModel } from '../onnx/model.ts';
import type { PyTorchDifference, ValueMergedConstant } from '../report/report.ts';
import { moduleOf } from './call-names.ts';
import type { CallUses } from './calls.ts';
import { batchNormFolds, type ExporterConstants } from './exporter-constants.ts';
import type { MergedClone } from './findings.ts';
import type { GraphWalk } from './graph-walk.ts';
import type { PathCounts } from './paths.ts';
import type { LogicalTensor } from './types.ts';

/** Graph-only analysis only: with a manifest the counts are PyTorch's. */
export function pytorchDifferences(args: {
  model: OnnxModel;
  walk: GraphWalk;
  parameters: LogicalTensor[];
  uses: CallUses;
  paths: PathCounts;
  clones: MergedClone[];
  valueMerged: ValueMergedConstant[];
  setAside: ExporterConstants;
}): PyTorchDifference[] {
  const { model, walk, parameters, uses, paths, clones, valueMerged, setAside } = args;
  const differences: PyTorchDifference[] = [];
  if (/pytorch/i.test(model.producerName)) {
    const folds = batchNormFolds(walk);
    if (folds) differences.push(folds);
  }
  // Data operands (a buffer fed to a layer, or a learned input: the graph cannot tell) stay parameters;
  // PyTorch's counts are lower by them if they are buffers.
  const dataOperands = parameters.filter(
    (p) => p.storedAs.length > 0 && p.storedAs.every((s) => walk.dataOperands.has(s.key)),
  );
  const isDataOperand = new Set(dataOperands.map((p) => p.name));
  if (dataOperands.length > 0) {
    const used = dataOperands.filter((p) => uses.usedBy.has(p.name));
    const declared = sum(dataOperands.map((p) => p.numel));
    const unique = sum(used.map((p) => p.numel));
    const summary = sum(used.map((p) => p.numel * (paths.parameters.get(p.name)?.runs ?? 0)));
    const fmt = (n: number): string => n.toLocaleString('en-US');
    differences.push({
      cause: 'data-operand',
      tensors: dataOperands.map((p) => p.name),
      declared: { min: -declared, max: 0 },
      unique: { min: -unique, max: 0 },
      summary: { min: -summary, max: 0 },
      note: `${dataOperands.length} named tensor(s) stand where a layer's data goes, as the first operand of a MatMul or Gemm whose weight is a constant too (${dataOperands
        .slice(0, 3)
        .map((p) => p.name)
        .join(
          ', ',
        )}${dataOperands.length > 3 ? ', ...' : ''}): a registered buffer the model feeds its layer, or a learned input (query tokens, latents). The graph cannot tell, so they are counted as parameters; if they are buffers, PyTorch's declared and unique counts are ${fmt(declared)} and ${fmt(unique)} lower and summary-style ${fmt(summary)} lower.`,
    });
  }
  if (clones.length > 0) {
    const extra = sum(clones.map((c) => c.numel * c.siblings));
    // A data operand's clones are buffers if it is one: no parameter more.
    const surely = sum(clones.filter((c) => !isDataOperand.has(c.name)).map((c) => c.numel * c.siblings));
    differences.push({
      cause: 'clones-merged',
      tensors: clones.map((c) => c.name),
      declared: { min: surely, max: extra },
      unique: { min: surely, max: extra },
      summary: { min: 0, max: 0 },
      note: `${clones.length} tensor(s) are read by sibling modules of the same structure (${clones
        .slice(0, 3)
        .map((c) => c.name)
        .join(
          ', ',
        )}${clones.length > 3 ? ', ...' : ''}) whose own tensors are missing: the exporter merged equal values (a freshly built model's deep-copied layers). They are reported as merged, not shared; if they are clones, PyTorch declares ${extra.toLocaleString('en-US')} more parameters (one copy per sibling)${surely < extra ? `, or ${surely.toLocaleString('en-US')} more where a merged tensor is a buffer fed to a layer (data-operand)` : ''}, and summary-style is unchanged.`,
    });
  }
  differences.push(...setAside.differences);
  // All-equal constants the exporter merged: each module read its own copy in PyTorch.
  const merged = valueMerged.filter((v) => v.note.startsWith('equal-valued'));
  if (merged.length > 0) {
    // At least one tensor per module reading it, at most one per node reading it (two tensors of one
    // call, an attention's query bias and output bias, can be merged too); within one call, each read
    // beyond the first may be a tensor summary-style counted apart.
    let modules = 0;
    let reads = 0;
    let inCalls = 0;
    for (const v of merged) {
      const numel = v.numel;
      modules += numel * (new Set(v.callNames.map(moduleOf)).size - 1);
      const perCall = [...(uses.usedBy.get(v.name) ?? [])].map(
        (k) => uses.readers.get(`${v.name}\u0000${k}`)?.size ?? 1,
      );
      reads += numel * (sum(perCall) - 1);
      inCalls += numel * sum(perCall.map((n) => n - 1));
    }
    const fmt = (n: number): string => n.toLocaleString('en-US');
    differences.push({
      cause: 'values-merged',
      tensors: merged.map((v) => v.name),
      declared: { min: modules, max: reads },
      unique: { min: modules, max: reads },
      summary: { min: 0, max: inCalls },
      note: `${merged.length} all-equal constant(s) (fresh zeros or ones) stand for the tensors of several modules that the eval-mode exporter merged by value: PyTorch declares ${modules === reads ? fmt(modules) : `${fmt(modules)} to ${fmt(reads)}`} more parameters (one per module, or one per read where a module held several), if every reader held a parameter (a buffer of equal values merges the same way)${inCalls > 0 ? `, and its summary-style may be up to ${fmt(inCalls)} higher` : ''}.`,
    });
  }

  return differences;
}

function sum(values: number[]): number {
  return values.reduce((a, b) => a + b, 0);
}
