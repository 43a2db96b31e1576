// One pass over the graph and its subgraphs: which tensors are constants, which nodes only transform
// constants (and so pass a weight on), which compute nodes consume a weight at which input role, which
// layer call each node belongs to, which nodes are live (reach a graph output), and the control-flow tree
// (which subgraph hangs under which node, and whether it is an If's alternative or a body).
import type { OnnxGraph, OnnxModel, OnnxNode, OnnxTensor } from '../onnx/model.ts';
import { ModelReadError } from '../onnx/read-model.ts';
import { inputRole, type InputRole } from './op-roles.ts';
import { callOf, splitRepeatedCalls } from './call-names.ts';
import { isFloating } from '../onnx/dtype.ts';

export interface ConstantTensor {
  /** Unique key: `graphPath|name`. */
  key: string;
  /** The name the graph reads it by: the initializer's name, or the Constant node's output. */
  name: string;
  /** '' for the main graph, else the subgraph's path. */
  graphPath: string;
  tensor: OnnxTensor;
  kind: 'initializer' | 'constant-node' | 'sparse-initializer';
  /** For sparse initializers, the dense element count. */
  numel: number;
}

export interface WeightUse {
  tensorKey: string;
  nodeId: string;
  role: Exclude<InputRole, 'meta'>;
  /** The value reached the node through a quantized-weight input (DequantizeLinear's x, ...). */
  quantized: boolean;
}

export interface NodeFacts {
  node: OnnxNode;
  /** '' for the main graph; `<node id>/<attribute>` for a subgraph. */
  graphPath: string;
  /** A node whose inputs are all constants: it transforms a weight and passes it on. */
  folds: boolean;
  live: boolean;
  call: { key: string; name: string };
}

/** A subgraph of a control-flow node: one node of the control-flow tree (the main graph is its root, ''). */
export interface SubgraphFacts {
  /** Its graph path: `<node id>/<attribute>` (the NodeFacts.graphPath of the nodes in it). */
  path: string;
  /** The graph path of the graph holding the node: '' for the main graph. */
  parent: string;
  nodeId: string;
  /** The node's name, or `OpType#id` where it has none. */
  nodeName: string;
  attribute: string;
  /**
   * `branch`: one of the two alternatives of an If (`then_branch`, `else_branch`): a run takes one or the
   * other. `body`: runs as part of its node whenever the node runs (Loop and Scan bodies, any other op's).
   */
  kind: 'branch' | 'body';
}

export interface GraphWalk {
  constants: Map<string, ConstantTensor>;
  nodes: NodeFacts[];
  /** The subgraphs by path, parents before children (in node order). */
  subgraphs: Map<string, SubgraphFacts>;
  uses: WeightUse[];
  /** Constant keys that some node (of any kind) consumes, directly or through a fold chain. */
  consumed: Set<string>;
  /** Operators with no schema in the table (custom domains): their inputs were taken as weights. */
  unknownOps: Set<string>;
  /**
   * Constants that stand where a layer's data goes: every node that reads them as they are (through
   * value-preserving ops only) reads them as the first operand of a MatMul or Gemm whose second operand is
   * a constant too (Swin v2's `relative_coords_table` fed to `cpb_mlp`; learned query tokens fed to a
   * projection). counting.md, "data-operand".
   */
  dataOperands: Set<string>;
}

interface Origin {
  key: string;
  quantized: boolean;
  /** Reached the node as stored, through value-preserving ops only (VALUE_PRESERVING). */
  direct: boolean;
}

/** Ops that pass a constant on as the same values (renamed, re-typed or re-shaped). */
const VALUE_PRESERVING = new Set([
  'Identity',
  'Cast',
  'Reshape',
  'Squeeze',
  'Unsqueeze',
  'Flatten',
  'Transpose',
]);
/** Ops whose first operand is the data and second the weight when the layer is `x @ W`. */
const PRODUCTS = new Set(['MatMul', 'Gemm']);

class Scope {
  private readonly values = new Map<string, Origin[] | null>();
  constructor(private readonly parent?: Scope) {}
  /** null marks a non-constant value that shadows an outer constant of the same name. */
  set(name: string, origins: Origin[] | null): void {
    this.values.set(name, origins);
  }
  get(name: string): Origin[] | undefined {
    const own = this.values.get(name);
    if (own !== undefined) return own ?? undefined;
    return this.parent?.get(name);
  }
}

/**
 * How many constant-to-node links the walk follows at most. A chain of n folds that each add one more
 * constant makes n * n / 2 links (every sum carries all the constants before it): a few hundred kilobytes
 * of hostile graph would otherwise take all the memory there is. Real models have a few per weight.
 */
export const MAX_CONSTANT_LINKS = 2_000_000;

export function walkModel(model: OnnxModel): GraphWalk {
  const walk: GraphWalk = {
    constants: new Map(),
    nodes: [],
    subgraphs: new Map(),
    uses: [],
    consumed: new Set(),
    unknownOps: new Set(),
    dataOperands: new Set(),
  };
  const reads: DirectReads = { asData: new Set(), otherwise: new Set() };
  walkGraph(model, model.graph, '', new Scope(), walk, { links: 0 }, reads);
  for (const key of reads.asData) if (!reads.otherwise.has(key)) walk.dataOperands.add(key);
  splitDynamoCalls(walk);
  const byId = new Map(walk.nodes.map((n) => [n.node.id, n]));
  markLive(
    model.graph,
    model.graph.outputs.map((o) => o.name),
    byId,
  );
  return walk;
}

function walkGraph(
  model: OnnxModel,
  graph: OnnxGraph,
  graphPath: string,
  outer: Scope,
  walk: GraphWalk,
  budget: { links: number },
  reads: DirectReads,
): void {
  const scope = new Scope(outer);
  const register = (
    tensor: OnnxTensor,
    kind: ConstantTensor['kind'],
    name: string,
    numel = tensor.numel,
  ): void => {
    const key = `${graphPath}|${name}`;
    walk.constants.set(key, { key, name, graphPath, tensor, kind, numel });
    scope.set(name, [{ key, quantized: false, direct: true }]);
  };
  // Subgraph inputs (loop counters, carried state) shadow outer names; initializers are defaults.
  for (const input of graph.inputs) scope.set(input.name, null);
  for (const t of graph.initializers) register(t, 'initializer', t.name);
  for (const s of graph.sparseInitializers) register(s.values, 'sparse-initializer', s.name, s.numel);

  for (const node of graph.nodes) {
    const facts: NodeFacts = { node, graphPath, folds: false, live: false, call: callOf(node, graphPath) };
    walk.nodes.push(facts);
    if (node.opType === 'Constant' && node.domain === '') {
      registerConstantNode(node, register, scope);
      continue;
    }
    const present = node.inputs.filter((i) => i !== '');
    const allConstant = present.length > 0 && present.every((i) => scope.get(i) !== undefined);
    facts.folds = allConstant && node.subgraphs.length === 0;
    const passedOn: Origin[] = [];
    const preserves = facts.folds && node.domain === '' && VALUE_PRESERVING.has(node.opType);
    const product =
      node.domain === '' && PRODUCTS.has(node.opType) && scope.get(node.inputs[1] ?? '') !== undefined;
    node.inputs.forEach((input, index) => {
      const origins = input === '' ? undefined : scope.get(input);
      if (!origins) return;
      if (!preserves)
        for (const o of origins)
          if (o.direct) (product && index === 0 ? reads.asData : reads.otherwise).add(o.key);
      budget.links += origins.length;
      if (budget.links > MAX_CONSTANT_LINKS) {
        throw new ModelReadError(
          model.file.path,
          `the graph links constants to nodes more than ${MAX_CONSTANT_LINKS} times, more than paramtrace follows (a chain of constant folds that grows with every node?)`,
        );
      }
      for (const o of origins) walk.consumed.add(o.key);
      const { role, known } = inputRole(node.domain, node.opType, model.opsets, index);
      if (!known) walk.unknownOps.add(node.domain ? `${node.domain}:${node.opType}` : node.opType);
      if (role === 'meta') return;
      const reached = origins.map((o) => ({
        key: o.key,
        quantized: o.quantized || role === 'qweight',
        direct: o.direct && preserves,
      }));
      if (facts.folds) for (const o of reached) passedOn.push(o);
      else
        for (const o of reached)
          walk.uses.push({ tensorKey: o.key, nodeId: node.id, role, quantized: o.quantized });
    });
    for (const output of node.outputs) if (output) scope.set(output, facts.folds ? dedupe(passedOn) : null);
    const alternatives = isIf(node);
    for (const sub of node.subgraphs) {
      const path = `${node.id}/${sub.attribute}`;
      walk.subgraphs.set(path, {
        path,
        parent: graphPath,
        nodeId: node.id,
        nodeName: node.name !== '' ? node.name : `${node.opType}#${node.id}`,
        attribute: sub.attribute,
        kind: alternatives ? 'branch' : 'body',
      });
      walkGraph(model, sub.graph, path, scope, walk, budget, reads);
    }
  }
}

/**
 * The one naming rule that needs the whole walk: the dynamo exporter's metadata names a module, not its
 * call, and call-names.ts's splitRepeatedCalls tells the calls apart by the weights each node reads. Gives it
 * those reads: floating-point constants of two or more elements, per node.
 */
function splitDynamoCalls(walk: GraphWalk): void {
  const reads = new Map<string, string[]>();
  for (const use of walk.uses) {
    const c = walk.constants.get(use.tensorKey);
    if (!c || c.numel < 2 || !isFloating(c.tensor.dataType)) continue;
    const list = reads.get(use.nodeId);
    if (list) list.push(use.tensorKey);
    else reads.set(use.nodeId, [use.tensorKey]);
  }
  splitRepeatedCalls(walk.nodes, reads);
}

/** An ONNX If with its two branches, of which a run takes exactly one. */
function isIf(node: OnnxNode): boolean {
  const attributes = node.subgraphs.map((s) => s.attribute).sort();
  return (
    node.opType === 'If' &&
    node.domain === '' &&
    attributes.length === 2 &&
    attributes[0] === 'else_branch' &&
    attributes[1] === 'then_branch'
  );
}

function registerConstantNode(
  node: OnnxNode,
  register: (t: OnnxTensor, kind: ConstantTensor['kind'], name: string, numel?: number) => void,
  scope: Scope,
): void {
  const output = node.outputs[0] ?? '';
  const value = node.attributes.find((a) => a.name === 'value' || a.name === 'sparse_value')?.value;
  if (value?.type === 'tensor') register(value.value, 'constant-node', output);
  else if (value?.type === 'sparse_tensor')
    register(value.value.values, 'constant-node', output, value.value.numel);
  // value_float(s), value_int(s), value_string(s): scalars and lists, never weights.
  else scope.set(output, []);
}

function dedupe(origins: Origin[]): Origin[] {
  const seen = new Map<string, Origin>();
  for (const o of origins) {
    const prior = seen.get(o.key);
    if (!prior) seen.set(o.key, o);
    else
      seen.set(o.key, {
        key: o.key,
        quantized: o.quantized || prior.quantized,
        direct: o.direct || prior.direct,
      });
  }
  return [...seen.values()];
}

/** Where constants are read as stored: as a product's data operand, or otherwise (walkModel). */
interface DirectReads {
  asData: Set<string>;
  otherwise: Set<string>;
}

/**
 * Marks live nodes: those whose outputs reach the graph's outputs. A live control-flow node makes its
 * subgraphs' output paths live, and the outer values those use.
 * Returns the outer-scope names the live part of this graph reads.
 */
function markLive(graph: OnnxGraph, required: string[], byId: Map<string, NodeFacts>): Set<string> {
  const producer = new Map<string, OnnxNode>();
  const local = new Set<string>([
    ...graph.inputs.map((i) => i.name),
    ...graph.initializers.map((i) => i.name),
  ]);
  for (const s of graph.sparseInitializers) local.add(s.name);
  for (const node of graph.nodes) {
    for (const o of node.outputs) {
      if (o === '') continue;
      producer.set(o, node);
      local.add(o);
    }
  }
  const outer = new Set<string>();
  const seen = new Set<string>();
  const stack = [...required];
  while (stack.length > 0) {
    const value = stack.pop()!;
    if (value === '' || seen.has(value)) continue;
    seen.add(value);
    const node = producer.get(value);
    if (!node) {
      if (!local.has(value)) outer.add(value);
      continue;
    }
    const facts = byId.get(node.id)!;
    if (facts.live) continue;
    facts.live = true;
    // One push per value: a spread of a node's 200,000 inputs would overflow the call stack.
    for (const input of node.inputs) stack.push(input);
    for (const sub of node.subgraphs) {
      const used = markLive(
        sub.graph,
        sub.graph.outputs.map((o) => o.name),
        byId,
      );
      for (const value of used) stack.push(value);
    }
  }
  return outer;
}
