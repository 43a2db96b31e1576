// Layer calls: the walk's nodes grouped by call, and which parameters each executed, live call uses
// (counting.md, "Layer call", "Uses", "Executed"). Buffers add nothing to a call.
import type { GraphWalk, NodeFacts } from './graph-walk.ts';
import type { CallFacts, LogicalTensor } from './types.ts';

export interface CallUses {
  calls: Map<string, CallFacts>;
  /** Parameter name → the executed, live calls using it. */
  usedBy: Map<string, Set<string>>;
  /** Parameters read by nodes whose outputs reach no graph output. */
  deadUse: Set<string>;
  /** Parameters read by live nodes that did not run (a branch or loop body the trace did not take). */
  unexecutedUse: Set<string>;
  /** `parameter \0 call key` → the executed nodes of the call reading it. */
  readers: Map<string, Set<string>>;
}

export function buildCalls(
  walk: GraphWalk,
  byStoredKey: Map<string, LogicalTensor>,
  executions: (n: NodeFacts) => number,
): CallUses {
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
  const usedBy = new Map<string, Set<string>>();
  const deadUse = new Set<string>();
  const readers = new Map<string, Set<string>>();
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
  return { calls, usedBy, deadUse, unexecutedUse, readers };
}
