// onnxruntime inlines calls of model-local functions before it runs them, under generated names
// (`_inlfunc_<Function>_<node>`, with no trace of the call), so the profile cannot say that the call node
// ran. It did run when something it feeds ran: its executions are those of its busiest consumer, or
// those of its graph when it feeds a graph output.
import type { OnnxGraph, OnnxModel, OnnxNode } from '../onnx/model.ts';
import type { NodeRun } from './trace.ts';

export function inferFunctionCalls(model: OnnxModel, nodes: Record<string, NodeRun>): void {
  const functions = new Set(model.functions);
  if (functions.size === 0) return;
  const visit = (graph: OnnxGraph, graphRuns: number): void => {
    // Consumers come after producers in a valid graph: walk backwards so chained calls resolve.
    for (const node of [...graph.nodes].reverse()) {
      if (functions.has(`${node.domain}:${node.opType}`) && !nodes[node.id]) {
        const runs = consumerRuns(graph, node, nodes, graphRuns);
        if (runs > 0) nodes[node.id] = inferredRun(runs);
      }
    }
    for (const node of graph.nodes) {
      for (const sub of node.subgraphs) visit(sub.graph, subgraphRuns(sub.graph, nodes));
    }
  };
  visit(model.graph, 1);
}

function consumerRuns(
  graph: OnnxGraph,
  producer: OnnxNode,
  nodes: Record<string, NodeRun>,
  graphRuns: number,
): number {
  const outputs = new Set(producer.outputs.filter((o) => o !== ''));
  let runs = graph.outputs.some((o) => outputs.has(o.name)) ? graphRuns : 0;
  for (const node of graph.nodes) {
    const reads =
      node.inputs.some((i) => outputs.has(i)) || node.subgraphs.some((s) => readsAny(s.graph, outputs));
    if (reads) runs = Math.max(runs, nodes[node.id]?.executions ?? 0);
  }
  return runs;
}

/** Whether a subgraph (at any depth) reads one of the outer names. */
function readsAny(graph: OnnxGraph, names: Set<string>): boolean {
  return graph.nodes.some(
    (n) => n.inputs.some((i) => names.has(i)) || n.subgraphs.some((s) => readsAny(s.graph, names)),
  );
}

/** How often a subgraph ran: the most executions of any node in it that the profile saw. */
function subgraphRuns(graph: OnnxGraph, nodes: Record<string, NodeRun>): number {
  return Math.max(0, ...graph.nodes.map((n) => nodes[n.id]?.executions ?? 0));
}

function inferredRun(executions: number): NodeRun {
  return {
    executions,
    outputShapes: [],
    provider: '',
    durationUs: 0,
    outputBytes: 0,
    activationBytes: 0,
    inferred: true,
  };
}
