// The notes that tell a reader what the counts rest on and why they may differ from PyTorch's.
import type { OnnxModel } from '../onnx/model.ts';
import type {
  DuplicateStorage,
  SharedParameter,
  TraceInfo,
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

/** Named tensors with identical values stay apart (counting.md): say so, as it may be an unseen tie. */
export function equalValueNotes(groups: { name: string }[][]): string[] {
  if (groups.length === 0) return [];
  return [
    `${groups.length} group(s) of named tensors hold identical values (${groups
      .slice(0, 3)
      .map((g) => g.map((c) => c.name).join(' = '))
      .join(
        '; ',
      )}${groups.length > 3 ? '; ...' : ''}): untrained clones, or a tie the exporter could not see. Each is counted as its own parameter.`,
  ];
}

/** One-element constants set aside as the exporter's (exporter-constants.ts). */
export function exporterScalarNotes(names: string[]): string[] {
  if (names.length === 0) return [];
  return [
    `${names.length} one-element constant(s) made by the exporter (${names.slice(0, 5).join(', ')}${names.length > 5 ? ', ...' : ''}: a generated name, or read by several modules, like a shared 1 or 0) are not counted as parameters.`,
  ];
}

/** How execution was decided, as the report states it. */
export function traceInfo(trace: Trace | undefined, traceError: string | undefined): TraceInfo {
  if (traceError) {
    return {
      mode: 'failed',
      error: traceError,
      note: 'the trace failed, so execution was decided statically',
    };
  }
  if (trace) {
    return {
      mode: 'onnxruntime',
      device: trace.device,
      onnxruntimeVersion: trace.onnxruntimeVersion,
      inputs: trace.inputs,
      fallbackNodes: trace.fallbackNodes,
      ...(trace.deviceNote ? { deviceNote: trace.deviceNote } : {}),
      note: 'executed = seen running in one onnxruntime run with these inputs; not-executed findings depend on them',
    };
  }
  return {
    mode: 'static',
    note: 'not traced: every node that reaches a graph output counts as executed once; either branch of an If may run (a parameter either uses counts as used; calls and summary-style follow one branch at a time); each Loop body counts once',
  };
}
