// model (+ trace) → what a run costs: MACs per node (rules in macs.ts), summed per layer call (the
// analysis' own grouping of nodes into calls, graph-walk.ts) and in total, the operators it could not
// count, and activation memory. Pure. After the analysis in the pipeline order because it reuses the
// analysis' layer calls (walkModel) rather than a second copy of the exporters' naming rules.
//
// Shapes: with a trace, what onnxruntime's profile recorded for each node's last execution; without one
// (or for a tensor the profile does not show), the initializers' and Constant nodes' dims and the graph's
// value infos, inputs and outputs where every dimension is a number.
//
// Memory: the bytes of every tensor a compute node wrote (summed over executions: a Loop body's outputs
// count each time), and the peak of what is alive at once in the main graph, walked in execution order
// (the trace's, else the graph's): a tensor is allocated when its node runs and freed after its last
// consumer ran; the fed inputs are alive from the start; graph outputs stay to the end. Weights are not
// activations: initializers, Constant nodes and nodes that only transform constants (folded by any
// optimizing runtime) are left out of both, and out of the MACs. A subgraph's own intermediate tensors
// are not in the peak (they live inside their If/Loop/Scan node's run).
import { byteSize } from '../onnx/dtype.ts';
import type { Dim, OnnxGraph, OnnxModel, OnnxNode, OnnxTensor } from '../onnx/model.ts';
import type { Trace } from '../trace/trace.ts';
import { walkModel, type GraphWalk, type NodeFacts } from '../analysis/graph-walk.ts';
import type { CallCost, ReportCost, UncountedOp } from '../report/report.ts';
import { macsOf, type Shape } from './macs.ts';
import { clipStrings } from '../report/clip.ts';

export type { CallCost, ReportCost, UncountedOp };

interface TensorInfo {
  dtype: string;
  shape: number[];
}

/** Tensor types by graph path and name; a subgraph sees its outer graphs' names. */
class ShapeTable {
  private readonly tables = new Map<string, Map<string, TensorInfo>>();
  constructor(private readonly parents: Map<string, string>) {}

  /** Records the first type given for a name: callers give the most trusted source first. */
  offer(graphPath: string, name: string, info: TensorInfo | undefined): void {
    if (name === '' || !info) return;
    let table = this.tables.get(graphPath);
    if (!table) this.tables.set(graphPath, (table = new Map()));
    if (!table.has(name)) table.set(name, info);
  }

  get(graphPath: string, name: string): TensorInfo | undefined {
    if (name === '') return undefined;
    for (let path: string | undefined = graphPath; path !== undefined; path = this.parents.get(path)) {
      const found = this.tables.get(path)?.get(name);
      if (found) return found;
    }
    return undefined;
  }
}

/** Every graph of the model with its path (graph-walk.ts's convention) and its parent's path. */
function graphsOf(model: OnnxModel): { path: string; parent?: string; graph: OnnxGraph }[] {
  const out: { path: string; parent?: string; graph: OnnxGraph }[] = [];
  const visit = (graph: OnnxGraph, path: string, parent?: string): void => {
    out.push({ path, graph, ...(parent !== undefined ? { parent } : {}) });
    for (const node of graph.nodes)
      for (const sub of node.subgraphs) visit(sub.graph, `${node.id}/${sub.attribute}`, path);
  };
  visit(model.graph, '');
  return out;
}

const fixedShape = (shape: Dim[] | undefined): number[] | undefined =>
  shape?.every((d): d is number => typeof d === 'number') ? shape : undefined;

const tensorInfo = (t: OnnxTensor): TensorInfo => ({ dtype: t.dataType, shape: t.dims });

/** The tensor a Constant node makes, by its value attribute. */
function constantInfo(node: OnnxNode): TensorInfo | undefined {
  const a = node.attributes[0]?.value;
  if (!a) return undefined;
  if (a.type === 'tensor') return tensorInfo(a.value);
  if (a.type === 'sparse_tensor') return { dtype: a.value.dataType, shape: a.value.dims };
  if (a.type === 'float') return { dtype: 'float32', shape: [] };
  if (a.type === 'int') return { dtype: 'int64', shape: [] };
  if (a.type === 'floats') return { dtype: 'float32', shape: [a.value.length] };
  if (a.type === 'ints') return { dtype: 'int64', shape: [a.value.length] };
  return undefined;
}

/** Pairs a profile's list (present tensors only) with the node's names, or gives nothing if they disagree. */
function pair<T>(names: string[], listed: T[]): [string, T][] {
  const present = names.filter((n) => n !== '');
  if (listed.length === present.length) return present.map((n, i) => [n, listed[i]!]);
  if (listed.length === names.length) return names.map((n, i) => [n, listed[i]!]);
  return [];
}

function buildShapes(model: OnnxModel, trace: Trace | undefined): ShapeTable {
  const graphs = graphsOf(model);
  const table = new ShapeTable(
    new Map(graphs.filter((g) => g.parent !== undefined).map((g) => [g.path, g.parent!])),
  );
  // Most trusted first: what the run wrote, what it read, what it was fed, then what the file declares.
  if (trace?.shapes) {
    for (const { path, graph } of graphs)
      for (const node of graph.nodes) {
        const seen = trace.shapes[node.id];
        if (seen) for (const [name, t] of pair(node.outputs, seen.outputs)) table.offer(path, name, t);
      }
    for (const { path, graph } of graphs)
      for (const node of graph.nodes) {
        const seen = trace.shapes[node.id];
        if (seen) for (const [name, t] of pair(node.inputs, seen.inputs)) table.offer(path, name, t);
      }
  }
  for (const input of trace?.inputs ?? []) table.offer('', input.name, input);
  for (const { path, graph } of graphs) {
    for (const t of graph.initializers) table.offer(path, t.name, tensorInfo(t));
    for (const s of graph.sparseInitializers) table.offer(path, s.name, { dtype: s.dataType, shape: s.dims });
    for (const node of graph.nodes)
      if (node.opType === 'Constant' && node.domain === '')
        table.offer(path, node.outputs[0] ?? '', constantInfo(node));
    for (const v of [...graph.inputs, ...graph.outputs, ...graph.valueInfo]) {
      const shape = fixedShape(v.shape);
      if (shape && v.elemType) table.offer(path, v.name, { dtype: v.elemType, shape });
    }
  }
  return table;
}

const numel = (shape: number[]): number => shape.reduce((a, b) => a * b, 1);
const bytesOf = (t: TensorInfo): number => byteSize(t.dtype, numel(t.shape));

/**
 * a + b, or undefined past Number.MAX_SAFE_INTEGER. A file can declare absurd shapes; the report's
 * figures stay exact integers, and what would break them counts as unknown instead.
 */
const add = (a: number, b: number): number | undefined => (Number.isSafeInteger(a + b) ? a + b : undefined);

/** Names a node's subgraphs read (at any depth): outer values its run keeps alive. */
function subgraphReads(node: OnnxNode, into: Set<string> = new Set()): Set<string> {
  for (const sub of node.subgraphs)
    for (const inner of sub.graph.nodes) {
      for (const i of inner.inputs) if (i !== '') into.add(i);
      subgraphReads(inner, into);
    }
  return into;
}

/**
 * MACs per layer call and in total, the operators not counted, and activation memory (see the top of
 * this file). `walk` is the analysis' walk of the same model, if the caller has one.
 */
export function costOf(
  model: OnnxModel,
  trace: Trace | undefined,
  walk: GraphWalk = walkModel(model),
): ReportCost {
  const table = buildShapes(model, trace);
  const executions = (n: NodeFacts): number =>
    trace ? (trace.nodes[n.node.id]?.executions ?? 0) : n.live ? 1 : 0;
  const isWeight = (n: NodeFacts): boolean =>
    n.folds || (n.node.opType === 'Constant' && n.node.domain === '');

  const calls = new Map<string, CallCost>();
  const uncounted = new Map<string, UncountedOp>();
  const nodeMacs = new Map<string, number>();
  let counted = 0;
  for (const n of walk.nodes) {
    const runs = executions(n);
    if (runs === 0 || isWeight(n)) continue;
    const { node, graphPath } = n;
    const call = calls.get(n.call.key) ?? { name: n.call.name, graph: n.graphPath, macs: 0, executions: 0 };
    calls.set(n.call.key, call);
    call.executions = Math.max(call.executions, runs);
    const shape = (name: string): Shape => table.get(graphPath, name)?.shape;
    const result = macsOf(node, node.inputs.map(shape), node.outputs.map(shape));
    // Every subtotal (a call's, a branch's) is at most the sum of all counted nodes, kept exact here.
    const total = result.kind === 'counted' ? add(counted, result.macs * runs) : undefined;
    if (result.kind === 'counted' && total !== undefined) {
      counted = total;
      call.macs += result.macs * runs;
      nodeMacs.set(node.id, result.macs * runs);
      continue;
    }
    // A count past what a number holds exactly comes from shapes no run could have: not believed.
    const reason = result.kind === 'counted' ? 'no-shape' : result.kind;
    call.incomplete = true;
    const key = `${node.domain}\u0000${node.opType}\u0000${reason}`;
    const entry = uncounted.get(key) ?? {
      opType: node.opType,
      domain: node.domain,
      reason,
      nodes: 0,
      executions: 0,
    };
    entry.nodes += 1;
    entry.executions += runs;
    uncounted.set(key, entry);
  }

  // Names from the model go into the report as the analysis' do: at most MAX_STRING characters each.
  return clipStrings({
    shapes: trace ? 'traced' : 'static',
    macs: graphMacs(model.graph, nodeMacs, (node, attribute) =>
      trace ? false : walk.subgraphs.get(`${node.id}/${attribute}`)?.kind === 'branch',
    ),
    calls: [...calls.values()],
    uncounted: [...uncounted.values()].sort(
      (a, b) => b.executions - a.executions || a.opType.localeCompare(b.opType),
    ),
    memory: memoryOf(model, trace, walk, table, executions, isWeight),
  });
}

/** A graph's MACs with its subgraphs'; of alternative branches (`isBranch`), only the costliest. */
function graphMacs(
  graph: OnnxGraph,
  nodeMacs: Map<string, number>,
  isBranch: (node: OnnxNode, attribute: string) => boolean,
): number {
  let total = 0;
  for (const node of graph.nodes) {
    total += nodeMacs.get(node.id) ?? 0;
    let branches = 0;
    for (const sub of node.subgraphs) {
      const macs = graphMacs(sub.graph, nodeMacs, isBranch);
      if (isBranch(node, sub.attribute)) branches = Math.max(branches, macs);
      else total += macs;
    }
    total += branches;
  }
  return total;
}

function memoryOf(
  model: OnnxModel,
  trace: Trace | undefined,
  walk: GraphWalk,
  table: ShapeTable,
  executions: (n: NodeFacts) => number,
  isWeight: (n: NodeFacts) => boolean,
): ReportCost['memory'] {
  let unknownTensors = 0;
  const sizeOf = (graphPath: string, name: string): number | undefined => {
    const t = table.get(graphPath, name);
    const bytes = t ? bytesOf(t) : undefined;
    return bytes !== undefined && Number.isSafeInteger(bytes) ? bytes : undefined;
  };

  // Every executed compute node's outputs, over all its executions.
  let activationBytes = 0;
  for (const n of walk.nodes) {
    const runs = executions(n);
    if (runs === 0 || isWeight(n)) continue;
    const traced = trace?.nodes[n.node.id];
    if (traced && trace?.shapes?.[n.node.id]) {
      activationBytes = add(activationBytes, traced.outputBytes) ?? activationBytes;
      continue;
    }
    for (const o of n.node.outputs) {
      if (o === '') continue;
      const bytes = sizeOf(n.graphPath, o);
      const total = bytes === undefined ? undefined : add(activationBytes, bytes * runs);
      if (total === undefined) unknownTensors += 1;
      else activationBytes = total;
    }
  }

  const initializers = new Set(model.graph.initializers.map((t) => t.name));
  const fed = trace
    ? trace.inputs.map((i) => i.name)
    : model.graph.inputs.map((i) => i.name).filter((name) => !initializers.has(name));
  // The fed inputs are alive from the start.
  const alive = new Map<string, number>();
  let inputBytes = 0;
  for (const name of fed) {
    const bytes = sizeOf('', name) ?? 0;
    const total = add(inputBytes, bytes);
    alive.set(name, total === undefined ? 0 : bytes);
    inputBytes = total ?? inputBytes;
  }

  // The main graph in execution order.
  const main = walk.nodes.filter((n) => n.graphPath === '' && executions(n) > 0 && !isWeight(n));
  let order = main;
  if (trace?.order) {
    const byId = new Map(main.map((n) => [n.node.id, n]));
    order = trace.order.flatMap((id) => byId.get(id) ?? []);
  }
  const reads = order.map(
    (n) => new Set([...n.node.inputs.filter((i) => i !== ''), ...subgraphReads(n.node)]),
  );
  const lastRead = new Map<string, number>();
  reads.forEach((names, step) => {
    for (const name of names) lastRead.set(name, step);
  });
  const outputs = new Set(model.graph.outputs.map((o) => o.name));
  let current = inputBytes;
  let peak = current;
  const free = (name: string): void => {
    current -= alive.get(name) ?? 0;
    alive.delete(name);
  };
  order.forEach((n, step) => {
    for (const o of n.node.outputs) {
      if (o === '') continue;
      // Counted once above as unknown when no trace gave it, or when it would break the totals.
      const bytes = sizeOf('', o) ?? 0;
      const total = add(current, bytes);
      alive.set(o, total === undefined ? 0 : bytes);
      current = total ?? current;
    }
    peak = Math.max(peak, current);
    for (const name of reads[step]!) if (lastRead.get(name) === step && !outputs.has(name)) free(name);
    // An output nobody reads (and not a graph output) is freed at once.
    for (const o of n.node.outputs) if (o !== '' && !lastRead.has(o) && !outputs.has(o)) free(o);
  });
  return { inputBytes, activationBytes, peakActivationBytes: peak, unknownTensors };
}
