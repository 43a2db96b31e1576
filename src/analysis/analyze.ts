// model (+ manifest) (+ trace) → report, following docs/counting.md. Pure: reading weight bytes
// for fingerprints goes through the TensorContent the caller passes in. The steps each decide one thing,
// in their own modules: which constants are parameters (constants.ts, exporter-constants.ts,
// duplicates.ts, map-manifest.ts), calls and counts along execution paths (paths.ts), findings
// (findings.ts), layer rows (layers.ts), notes (notes.ts).
import type { OnnxModel } from '../onnx/model.ts';
import { byteSize } from '../onnx/dtype.ts';
import type {
  Buffer,
  PyTorchDifference,
  Parameter,
  Report,
  SharedParameter,
  TraceInfo,
  UnusedParameter,
  ValueMergedConstant,
} from '../report/report.ts';
import { SCHEMA_VERSION } from '../report/report.ts';
import { compareNames } from '../report/order.ts';
import { clipStrings } from '../report/clip.ts';
import type { Trace } from '../trace/trace.ts';
import { walkModel, type NodeFacts } from './graph-walk.ts';
import { moduleOf } from './call-names.ts';
import type { Manifest } from './manifest.ts';
import { mapManifest } from './map-manifest.ts';
import { findDuplicates } from './duplicates.ts';
import { batchNormFolds, setAsideExporterConstants, type ExporterConstants } from './exporter-constants.ts';
import { TOOL_VERSION } from '../version.ts';
import type { CallFacts, LogicalTensor, TensorContent } from './types.ts';
import { classifyConstants, graphTensors } from './constants.ts';
import { isValueMerged, mergedCloneSiblings, unusedFinding } from './findings.ts';
import { layerCall } from './layers.ts';
import { explain } from './notes.ts';
import { controlFlowNotes, countPaths } from './paths.ts';

export type { Classified, LogicalTensor, TensorContent } from './types.ts';
export { classifyConstants } from './constants.ts';

export interface AnalyzeInput {
  model: OnnxModel;
  content: TensorContent;
  manifest?: Manifest | undefined;
  /** The result of a real run; without it execution is decided statically. */
  trace?: Trace | undefined;
  /** Why a requested trace failed, to state in the report. */
  traceError?: string | undefined;
  /** Runs a step as a named phase, for timing (the pipeline's clock); by default just runs it. */
  phase?: <T>(name: 'fingerprint', run: () => T) => T;
}

export function analyze(input: AnalyzeInput): Report {
  return clipStrings(analyzeModel(input));
}

function analyzeModel(input: AnalyzeInput): Report {
  const { model, content, manifest, trace } = input;
  const phase = input.phase ?? (<T>(_: string, run: () => T): T => run());
  const walk = walkModel(model);
  const notes: string[] = [];
  const executions = (n: NodeFacts): number =>
    trace ? (trace.nodes[n.node.id]?.executions ?? 0) : n.live ? 1 : 0;

  // 1. Which constants are parameters and buffers (ONNX terms), and which store the same values.
  const classified = classifyConstants(walk);
  // A Constant node holding one repeated value is a fill made in forward (torch.zeros for an LSTM's initial
  // state), not a learned tensor: PyTorch exports parameters as initializers.
  let setAside: ExporterConstants | undefined;
  const duplicates = phase('fingerprint', () => {
    for (const key of classified.parameters) {
      const c = walk.constants.get(key)!;
      if (c.kind === 'constant-node' && content.isUniform(c.tensor)) classified.parameters.delete(key);
    }
    // Without a manifest the graph decides: constants the exporter made are not parameters.
    if (!manifest) setAside = setAsideExporterConstants(walk, classified, content);
    return findDuplicates(
      [...classified.parameters].map((k) => walk.constants.get(k)!),
      content,
    );
  });

  // 2. The tensors to count: the manifest's, or the graph's with duplicates merged.
  let tensors: LogicalTensor[];
  if (manifest) {
    const mapped = phase('fingerprint', () => mapManifest(manifest, walk, classified, content));
    tensors = mapped.tensors;
    notes.push(...mapped.notes);
  } else {
    tensors = graphTensors(walk, classified, duplicates.groups);
  }
  const byStoredKey = new Map<string, LogicalTensor>();
  for (const t of tensors) for (const s of t.storedAs) byStoredKey.set(s.key, t);

  // 3. Layer calls, and which tensors each executed, live call uses.
  const calls = new Map<string, CallFacts>();
  for (const n of walk.nodes) {
    let call = calls.get(n.call.key);
    if (!call) {
      call = {
        key: n.call.key,
        name: n.call.name,
        graph: n.graphPath,
        nodes: [],
        live: false,
        executions: 0,
        params: new Set(),
      };
      calls.set(n.call.key, call);
    }
    call.nodes.push(n);
    call.live ||= n.live;
    if (!n.folds) call.executions = Math.max(call.executions, executions(n));
  }
  const nodeFacts = new Map(walk.nodes.map((n) => [n.node.id, n]));
  const usedBy = new Map<string, Set<string>>(); // logical name → executed live call keys
  const deadUse = new Set<string>();
  const readers = new Map<string, Set<string>>(); // parameter + call → the executed nodes reading it
  const unexecutedUse = new Set<string>();
  for (const use of walk.uses) {
    const tensor = byStoredKey.get(use.tensorKey);
    // Buffers (running statistics) are not parameters: they add nothing to a call's parameters or to summary-style.
    if (!tensor || tensor.kind !== 'parameter') continue;
    const n = nodeFacts.get(use.nodeId)!;
    const call = calls.get(n.call.key)!;
    if (!n.live) deadUse.add(tensor.name);
    else if (executions(n) === 0) unexecutedUse.add(tensor.name);
    else {
      call.params.add(tensor.name);
      if (!usedBy.has(tensor.name)) usedBy.set(tensor.name, new Set());
      usedBy.get(tensor.name)!.add(call.key);
      // Nodes reading it per call: a merged constant can stand for several tensors of one call.
      const key = `${tensor.name}\u0000${call.key}`;
      readers.set(key, (readers.get(key) ?? new Set()).add(use.nodeId));
    }
  }

  // 4. Counts and findings.
  const parameters = tensors.filter((t) => t.kind === 'parameter');
  const numelOf = new Map(tensors.map((t) => [t.name, t.numel]));
  const callName = (key: string): string => calls.get(key)!.name;
  // Calls per parameter and summary-style along execution paths (without a trace, an If's branches are
  // alternatives: counting.md, "Control flow without a trace").
  const paths = countPaths(walk, calls, usedBy, numelOf, trace === undefined);
  const shared: SharedParameter[] = [];
  const valueMerged: ValueMergedConstant[] = [];
  const unused: UnusedParameter[] = [];
  const clones: { name: string; numel: number; siblings: number }[] = [];
  const graphNames = new Set([...walk.constants.values()].map((c) => c.name));
  for (const p of parameters) {
    const { runs, calls: users } = paths.parameters.get(p.name) ?? { runs: 0, calls: [] };
    if (runs >= 2) {
      const names = users.map(callName);
      const siblings = manifest ? 0 : mergedCloneSiblings(p.name, names, graphNames);
      if (!manifest && isValueMerged(p, names, content)) {
        valueMerged.push({
          name: p.name,
          numel: p.numel,
          callNames: names,
          note: 'equal-valued constant merged by the exporter and read by unrelated layers; not a shared parameter',
        });
      } else if (siblings > 0) {
        clones.push({ name: p.name, numel: p.numel, siblings });
        valueMerged.push({
          name: p.name,
          numel: p.numel,
          callNames: names,
          note: `read by ${siblings} sibling module(s) of the same structure whose own tensors are not in the file: equal values the exporter merged (untrained clones), or a real tie; export with the helper to be sure`,
        });
      } else {
        shared.push({
          name: p.name,
          numel: p.numel,
          calls: runs,
          callNames: names,
          extraInSummary: p.numel * (runs - 1),
        });
      }
    }
    if (!usedBy.has(p.name)) unused.push(unusedFinding(p, walk, deadUse, unexecutedUse, trace !== undefined));
  }
  shared.sort((a, b) => b.extraInSummary - a.extraInSummary || compareNames(a.name, b.name));
  unused.sort((a, b) => b.numel - a.numel || compareNames(a.name, b.name));

  const declared = sum(parameters.map((p) => p.numel));
  const unique = sum(parameters.filter((p) => usedBy.has(p.name)).map((p) => p.numel));
  const summary = paths.summary;
  const hasGrad = manifest !== undefined;
  const trainable = hasGrad ? sum(parameters.filter((p) => p.trainable).map((p) => p.numel)) : null;
  const bytesByDtype: Record<string, number> = {};
  for (const p of parameters)
    bytesByDtype[p.dtype] = (bytesByDtype[p.dtype] ?? 0) + byteSize(p.dtype, p.numel);
  const buffers: Buffer[] = tensors
    .filter((t) => t.kind === 'buffer')
    .map((t) => ({ name: t.name, dtype: t.dtype, shape: t.shape, numel: t.numel }));

  const moduleClasses = new Map(manifest?.tensors.map((t) => [t.module, t.moduleClass]));
  const layers = [...calls.values()]
    .filter((c) => c.nodes.some((n) => !n.folds) && !c.nodes.every((n) => n.node.opType === 'Constant'))
    .map((c) => layerCall(c, numelOf, model, trace, moduleClasses));

  // Where a graph-only count differs from PyTorch's, and by how much (counting.md).
  const differences: PyTorchDifference[] = [];
  if (!manifest && /pytorch/i.test(model.producerName)) {
    const folds = batchNormFolds(walk);
    if (folds) differences.push(folds);
  }
  // Data operands (a buffer fed to a layer, or a learned input: the graph cannot tell) stay parameters;
  // PyTorch's counts are lower by them if they are buffers.
  const dataOperands = manifest
    ? []
    : parameters.filter(
        (p) => p.storedAs.length > 0 && p.storedAs.every((s) => walk.dataOperands.has(s.key)),
      );
  const isDataOperand = new Set(dataOperands.map((p) => p.name));
  if (dataOperands.length > 0) {
    const used = dataOperands.filter((p) => usedBy.has(p.name));
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
  differences.push(...(setAside?.differences ?? []));
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
      const perCall = [...(usedBy.get(v.name) ?? [])].map(
        (k) => readers.get(`${v.name}\u0000${k}`)?.size ?? 1,
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

  notes.push(
    ...explain({
      model,
      walk,
      manifest,
      trace,
      shared,
      valueMerged,
      unused,
      duplicates: duplicates.findings,
    }),
    ...differences.map((d) => d.note),
  );
  if (duplicates.equalNamed.length > 0) {
    const groups = duplicates.equalNamed;
    notes.push(
      `${groups.length} group(s) of named tensors hold identical values (${groups
        .slice(0, 3)
        .map((g) => g.map((c) => c.name).join(' = '))
        .join(
          '; ',
        )}${groups.length > 3 ? '; ...' : ''}): untrained clones, or a tie the exporter could not see. Each is counted as its own parameter.`,
    );
  }
  if (setAside && setAside.scalars.length > 0) {
    const names = setAside.scalars;
    notes.push(
      `${names.length} one-element constant(s) made by the exporter (${names.slice(0, 5).join(', ')}${names.length > 5 ? ', ...' : ''}: a generated name, or read by several modules, like a shared 1 or 0) are not counted as parameters.`,
    );
  }
  if (!trace) notes.push(...controlFlowNotes(paths));
  const traceInfo: TraceInfo = input.traceError
    ? {
        mode: 'failed',
        error: input.traceError,
        note: 'the trace failed, so execution was decided statically',
      }
    : trace
      ? {
          mode: 'onnxruntime',
          device: trace.device,
          onnxruntimeVersion: trace.onnxruntimeVersion,
          inputs: trace.inputs,
          fallbackNodes: trace.fallbackNodes,
          ...(trace.deviceNote ? { deviceNote: trace.deviceNote } : {}),
          note: 'executed = seen running in one onnxruntime run with these inputs; not-executed findings depend on them',
        }
      : {
          mode: 'static',
          note: 'not traced: every node that reaches a graph output counts as executed once; either branch of an If may run (a parameter either uses counts as used; calls and summary-style follow one branch at a time); each Loop body counts once',
        };

  return {
    schemaVersion: SCHEMA_VERSION,
    tool: { name: 'paramtrace', version: TOOL_VERSION },
    model: {
      file: model.file.path,
      sizeBytes: model.file.size,
      producer: model.producerName,
      producerVersion: model.producerVersion,
      irVersion: model.irVersion,
      opsets: model.opsets,
    },
    source: manifest ? 'manifest' : 'graph',
    trace: traceInfo,
    counts: {
      declared,
      unique,
      summary,
      trainable,
      frozen: trainable === null ? null : declared - trainable,
      buffers: sum(buffers.map((b) => b.numel)),
      parameterBytes: sum(Object.values(bytesByDtype)),
    },
    bytesByDtype,
    parameters: parameters.map((p): Parameter => {
      const branches = paths.conditional.get(p.name);
      return {
        name: p.name,
        aliases: p.aliases,
        storedAs: p.storedAs.map((s) => s.tensor.name),
        dtype: p.dtype,
        shape: p.shape,
        numel: p.numel,
        calls: paths.parameters.get(p.name)?.runs ?? 0,
        used: usedBy.has(p.name),
        trainable: p.trainable,
        ...(branches ? { conditional: true as const, branches } : {}),
      };
    }),
    buffers,
    shared,
    unused,
    duplicates: duplicates.findings,
    valueMerged,
    layers,
    notes,
    ...(differences.length > 0 ? { differences } : {}),
  };
}

function sum(values: number[]): number {
  return values.reduce((a, b) => a + b, 0);
}
