// The notes that tell a reader what the counts rest on and why they may differ from PyTorch's.
import type { OnnxModel } from '../onnx/model.ts';
import type {
  DuplicateStorage,
  SharedParameter,
  UnusedParameter,
  ValueMergedConstant,
} from '../report/report.ts';
import type { Trace } from '../trace/trace.ts';
import type { GraphWalk } from './graph-walk.ts';
import type { Manifest } from './manifest.ts';

export interface Explain {
  model: OnnxModel;
  walk: GraphWalk;
  manifest: Manifest | undefined;
  trace: Trace | undefined;
  shared: SharedParameter[];
  valueMerged: ValueMergedConstant[];
  unused: UnusedParameter[];
  duplicates: DuplicateStorage[];
}

/** The notes that tell a reader what the counts rest on and why they may differ from PyTorch's. */
export function explain(e: Explain): string[] {
  const notes: string[] = [];
  const fromPyTorch = /pytorch/i.test(e.model.producerName);
  if (!e.manifest) {
    notes.push(
      fromPyTorch
        ? 'Counted from the ONNX graph alone: layers that PyTorch declares but forward never uses are dropped by the exporter and cannot be seen here. Export with python/paramtrace_torch.py to embed the declared-parameter manifest and report them.'
        : 'Counted from the ONNX graph alone (no declared-parameter manifest in the file).',
    );
  }
  const uniformMerged = e.valueMerged.filter((v) => v.note.startsWith('equal-valued'));
  if (uniformMerged.length > 0) {
    notes.push(
      `${uniformMerged.length} constant(s) with all-equal values (fresh zeros or ones) are read by several unrelated layers because the exporter merged equal values (eval mode); they are listed as value-merged constants, not as shared parameters.`,
    );
  }
  if (e.walk.unknownOps.size > 0) {
    notes.push(
      `No ONNX schema for ${[...e.walk.unknownOps].sort().join(', ')}: floating-point constants at their inputs were counted as parameters.`,
    );
  }
  const loops = e.walk.nodes.filter(
    (n) => (n.node.opType === 'Loop' || n.node.opType === 'Scan') && n.live,
  ).length;
  if (!e.trace && loops > 0) {
    notes.push(
      `${loops} Loop/Scan body(ies) counted once each: the number of iterations is known only from a trace.`,
    );
  }
  // What the trace says about its inputs (a batch dimension set to 1, a scalar fed zeros).
  if (e.trace?.notes) notes.push(...e.trace.notes);
  return notes;
}
