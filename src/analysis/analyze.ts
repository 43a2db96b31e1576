// model (+ manifest) (+ trace) → report, following docs/counting.md. Pure: reading weight bytes
// for fingerprints goes through the TensorContent the caller passes in. The steps each decide one thing,
// in their own modules: which constants are parameters (constants.ts, exporter-constants.ts,
// duplicates.ts, map-manifest.ts), layer calls and their uses (calls.ts), calls and counts along
// execution paths (paths.ts), shared and unused findings (findings.ts), where a graph-only count differs
// from PyTorch's (differences.ts), layer rows (layers.ts), notes and the trace's record (notes.ts).
import type { OnnxModel } from '../onnx/model.ts';
import { byteSize } from '../onnx/dtype.ts';
import type { Buffer, Parameter, Report } from '../report/report.ts';
import { SCHEMA_VERSION } from '../report/report.ts';
import { clipStrings } from '../report/clip.ts';
import type { Trace } from '../trace/trace.ts';
import { walkModel, type GraphWalk, type NodeFacts } from './graph-walk.ts';
import type { Manifest } from './manifest.ts';
import { mapManifest } from './map-manifest.ts';
import { findDuplicates } from './duplicates.ts';
import { setAsideExporterConstants, type ExporterConstants } from './exporter-constants.ts';
import { TOOL_VERSION } from '../version.ts';
import type { LogicalTensor, TensorContent } from './types.ts';
import { classifyConstants, graphTensors } from './constants.ts';
import { findSharedAndUnused } from './findings.ts';
import { layerCall } from './layers.ts';
import { equalValueNotes, explain, exporterScalarNotes, traceInfo } from './notes.ts';
import { buildCalls } from './calls.ts';
import { pytorchDifferences } from './differences.ts';
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
  /** The model's walk when the caller already made it (the cost stage reads the same one); else made here. */
  walk?: GraphWalk | undefined;
  /** Runs a step as a named phase, for timing (the pipeline's clock); by default just runs it. */
  phase?: <T>(name: 'fingerprint', run: () => T) => T;
}

export function analyze(input: AnalyzeInput): Report {
  return clipStrings(analyzeModel(input));
}

function analyzeModel(input: AnalyzeInput): Report {
  const { model, content, manifest, trace } = input;
  const phase = input.phase ?? (<T>(_: string, run: () => T): T => run());
  const walk = input.walk ?? walkModel(model);
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
  const uses = buildCalls(walk, byStoredKey, executions);
  const { calls, usedBy } = uses;

  // 4. Counts and findings.
  const parameters = tensors.filter((t) => t.kind === 'parameter');
  const numelOf = new Map(tensors.map((t) => [t.name, t.numel]));
  // Calls per parameter and summary-style along execution paths (without a trace, an If's branches are
  // alternatives: counting.md, "Control flow without a trace").
  const paths = countPaths(walk, calls, usedBy, numelOf, trace === undefined);
  const { shared, valueMerged, clones, unused } = findSharedAndUnused({
    parameters,
    paths,
    uses,
    walk,
    content,
    graphOnly: !manifest,
    traced: trace !== undefined,
  });

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
  const differences =
    manifest || !setAside
      ? []
      : pytorchDifferences({ model, walk, parameters, uses, paths, clones, valueMerged, setAside });
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
  notes.push(...equalValueNotes(duplicates.equalNamed), ...exporterScalarNotes(setAside?.scalars ?? []));
  if (!trace) notes.push(...controlFlowNotes(paths));

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
    trace: traceInfo(trace, input.traceError),
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
