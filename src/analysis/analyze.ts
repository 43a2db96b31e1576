// model (+ manifest) (+ trace) → report, following docs/counting.md. Pure: reading weight bytes
// for fingerprints goes through the TensorContent the caller passes in.
import type { OnnxModel } from '../onnx/model.ts';
import { byteSize, isFloating } from '../onnx/dtype.ts';
import type {
  Buffer,
  DuplicateStorage,
  PyTorchDifference,
  LayerCall,
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
import {
  walkModel,
  type ConstantTensor,
  type GraphWalk,
  type NodeFacts,
  type SubgraphFacts,
} from './graph-walk.ts';
import type { Manifest } from './manifest.ts';
import { mapManifest } from './map-manifest.ts';
import { findDuplicates } from './duplicates.ts';
import { batchNormFolds, setAsideExporterConstants, type ExporterConstants } from './exporter-constants.ts';
import { TOOL_VERSION } from '../version.ts';
import type { Classified, LogicalTensor, TensorContent } from './types.ts';

export type { Classified, LogicalTensor, TensorContent } from './types.ts';

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

interface CallFacts {
  key: string;
  name: string;
  graph: string;
  nodes: NodeFacts[];
  live: boolean;
  executions: number;
  params: Set<string>;
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
  if (clones.length > 0) {
    const extra = sum(clones.map((c) => c.numel * c.siblings));
    differences.push({
      cause: 'clones-merged',
      tensors: clones.map((c) => c.name),
      declared: { min: extra, max: extra },
      unique: { min: extra, max: extra },
      summary: { min: 0, max: 0 },
      note: `${clones.length} tensor(s) are read by sibling modules of the same structure (${clones
        .slice(0, 3)
        .map((c) => c.name)
        .join(
          ', ',
        )}${clones.length > 3 ? ', ...' : ''}) whose own tensors are missing: the exporter merged equal values (a freshly built model's deep-copied layers). They are reported as merged, not shared; if they are clones, PyTorch declares ${extra.toLocaleString('en-US')} more parameters (one copy per sibling), and summary-style is unchanged.`,
    });
  }
  differences.push(...(setAside?.differences ?? []));

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

/** Counts along execution paths: see countPaths. */
interface PathCounts {
  /** Per used parameter: how often it runs on the path that runs it most, and the calls doing so. */
  parameters: Map<string, { runs: number; calls: string[] }>;
  /** Summary-style: on the heaviest path, the sum over calls of numel x executions of their parameters. */
  summary: number;
  /** Static only: parameters used on some paths but not on all, with the If branches that use them. */
  conditional: Map<string, string[]>;
  /** Static only: live If nodes with a parameter used inside a branch. */
  ifsWithParameters: number;
}

interface PathTally {
  summary: number;
  runs: Map<string, { runs: number; calls: string[] }>;
  /** Parameters used on every path through the graph. */
  always: Set<string>;
  /** If nodes inside the graph whose branches use parameters. */
  ifs: number;
}

/**
 * counting.md, "Control flow without a trace". Without a trace (`alternatives`), the two branches of an If
 * are alternatives: along one execution path, what runs in sequence adds (a graph's own calls, then each
 * control-flow node's contribution) and an If contributes the larger of its branches. That is computed
 * bottom-up over the control-flow tree, per parameter and for summary-style, never by enumerating the 2^n
 * branch choices of n Ifs. A Loop or Scan body adds once (one iteration). With a trace every subgraph adds
 * what ran in it (a branch that did not run has no executed calls, and in a loop body both branches of an
 * If may run on different iterations): the counts are plain sums over the executed calls.
 */
function countPaths(
  walk: GraphWalk,
  calls: Map<string, CallFacts>,
  usedBy: Map<string, Set<string>>,
  numelOf: Map<string, number>,
  alternatives: boolean,
): PathCounts {
  // The control-flow nodes of each graph, each with its subgraphs; the calls of each graph that use parameters.
  const children = new Map<string, Map<string, SubgraphFacts[]>>();
  for (const s of walk.subgraphs.values()) {
    let nodes = children.get(s.parent);
    if (!nodes) children.set(s.parent, (nodes = new Map()));
    let subs = nodes.get(s.nodeId);
    if (!subs) nodes.set(s.nodeId, (subs = []));
    subs.push(s);
  }
  const own = new Map<string, CallFacts[]>();
  for (const c of calls.values()) {
    if (c.params.size === 0) continue;
    let list = own.get(c.graph);
    if (!list) own.set(c.graph, (list = []));
    list.push(c);
  }
  const add = (t: PathTally, name: string, runs: number, keys: string[]): void => {
    const prior = t.runs.get(name);
    if (prior) {
      prior.runs += runs;
      for (const k of keys) prior.calls.push(k);
    } else t.runs.set(name, { runs, calls: [...keys] });
  };
  const tally = (graph: string): PathTally => {
    const t: PathTally = { summary: 0, runs: new Map(), always: new Set(), ifs: 0 };
    for (const c of own.get(graph) ?? []) {
      for (const name of c.params) {
        t.summary += (numelOf.get(name) ?? 0) * c.executions;
        add(t, name, c.executions, [c.key]);
        t.always.add(name);
      }
    }
    for (const subs of children.get(graph)?.values() ?? []) {
      const parts = subs.map((s) => tally(s.path));
      for (const part of parts) t.ifs += part.ifs;
      if (alternatives && subs[0]!.kind === 'branch') {
        if (parts.some((p) => p.runs.size > 0)) t.ifs += 1;
        t.summary += Math.max(...parts.map((p) => p.summary));
        // Per parameter, the branch that runs it most (ties: the first, then_branch or else_branch as stored).
        const best = new Map<string, { runs: number; calls: string[] }>();
        for (const part of parts) {
          for (const [name, r] of part.runs) if (r.runs > (best.get(name)?.runs ?? 0)) best.set(name, r);
        }
        for (const [name, r] of best) add(t, name, r.runs, r.calls);
        // On every path through the If only when every branch uses it on every path through the branch.
        for (const name of parts[0]!.always) if (parts.every((p) => p.always.has(name))) t.always.add(name);
      } else {
        for (const part of parts) {
          t.summary += part.summary;
          for (const [name, r] of part.runs) add(t, name, r.runs, r.calls);
          for (const name of part.always) t.always.add(name);
        }
      }
    }
    return t;
  };
  const main = tally('');
  // The calls of a parameter in first-use order, as they are listed elsewhere.
  const parameters = new Map<string, { runs: number; calls: string[] }>();
  for (const [name, r] of main.runs) {
    const onPath = new Set(r.calls);
    parameters.set(name, { runs: r.runs, calls: [...usedBy.get(name)!].filter((k) => onPath.has(k)) });
  }
  const conditional = new Map<string, string[]>();
  if (alternatives) {
    for (const [name, users] of usedBy) {
      if (main.always.has(name)) continue;
      const graphs = new Set([...users].map((k) => calls.get(k)!.graph));
      conditional.set(name, [...new Set([...graphs].map((g) => branchLabel(walk, g)))]);
    }
  }
  return { parameters, summary: main.summary, conditional, ifsWithParameters: alternatives ? main.ifs : 0 };
}

/** `/If:then_branch`, nested ones outermost first: `/If:then_branch > /If_1:else_branch`. */
function branchLabel(walk: GraphWalk, graphPath: string): string {
  const chain: string[] = [];
  for (let g = graphPath; g !== '';) {
    const s = walk.subgraphs.get(g)!;
    chain.push(`${s.nodeName}:${s.attribute}`);
    g = s.parent;
  }
  return chain.reverse().join(' > ');
}

/** Static reports of models with If nodes: how their branches were counted. */
function controlFlowNotes(paths: PathCounts): string[] {
  if (paths.ifsWithParameters === 0) return [];
  const notes = [
    `${paths.ifsWithParameters} If node(s) run one of two branches that use parameters. Not traced, either branch may run: a parameter that either uses counts as used, but the two branches never run together, so uses in both do not make it shared, and calls and summary-style follow one branch at a time (the one that uses the parameter most, the heaviest for summary-style).`,
  ];
  if (paths.conditional.size > 0) {
    notes.push(
      `${paths.conditional.size} parameter(s) are used only inside If branches, not on every path (marked conditional): a run that takes the other branch leaves them unused. A trace with real inputs decides.`,
    );
  }
  return notes;
}

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

function graphTensors(walk: GraphWalk, classified: Classified, groups: ConstantTensor[][]): LogicalTensor[] {
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
function displayName(c: ConstantTensor): string {
  return c.graphPath === '' ? c.name : `${c.name} (in ${c.graphPath})`;
}

/**
 * A constant read by calls of different modules whose elements are all equal (fresh zeros or ones) is
 * the exporter's value merging (eval mode), not a layer shared on purpose. Calls of the parameter's own
 * module (`conv1`, `conv1_1`) are real reuse whatever the values.
 */
function isValueMerged(p: LogicalTensor, callNames: string[], content: TensorContent): boolean {
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
function mergedCloneSiblings(name: string, callNames: string[], graphNames: Set<string>): number {
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

function unusedFinding(
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

function layerCall(
  c: CallFacts,
  numelOf: Map<string, number>,
  model: OnnxModel,
  trace: Trace | undefined,
  moduleClasses: Map<string, string>,
): LayerCall {
  const compute = c.nodes.filter((n) => !n.folds && n.node.opType !== 'Constant');
  const opTypes = [...new Set(compute.map((n) => n.node.opType))];
  const parameters = [...c.params];
  return {
    name: c.name,
    // A second call of module `conv1` is named `conv1_1` by the exporter.
    type: moduleClasses.get(c.name) ?? moduleClasses.get(c.name.replace(/_\d+$/, '')) ?? opTypes.join('+'),
    opTypes,
    graph: c.graph,
    parameters,
    params: sum(parameters.map((p) => numelOf.get(p) ?? 0)),
    outputShapes: outputShapes(compute, model, trace),
    live: c.live,
    executions: c.executions,
  };
}

/** Shapes of the values the call's last node produces: from the trace, else from the graph's value infos. */
function outputShapes(
  nodes: NodeFacts[],
  model: OnnxModel,
  trace: Trace | undefined,
): LayerCall['outputShapes'] {
  const last = nodes.at(-1);
  if (!last) return null;
  const traced = trace?.nodes[last.node.id]?.outputShapes;
  if (traced && traced.length > 0) return traced;
  const infos = valueInfos(model);
  const shapes = last.node.outputs.map((o) => infos.get(o)?.shape ?? null);
  return shapes.every((s) => s !== null) ? (shapes as LayerCall['outputShapes']) : null;
}

const valueInfoCache = new WeakMap<
  OnnxModel,
  Map<string, { shape: (number | string | null)[] | undefined }>
>();
function valueInfos(model: OnnxModel): Map<string, { shape: (number | string | null)[] | undefined }> {
  let map = valueInfoCache.get(model);
  if (!map) {
    map = new Map();
    const g = model.graph;
    for (const v of [...g.valueInfo, ...g.outputs, ...g.inputs])
      if (v.shape) map.set(v.name, { shape: v.shape });
    valueInfoCache.set(model, map);
  }
  return map;
}

interface Explain {
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
function explain(e: Explain): string[] {
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

function sum(values: number[]): number {
  return values.reduce((a, b) => a + b, 0);
}
