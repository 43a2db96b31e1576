// Calls per parameter and summary-style along execution paths (docs/counting.md, "Control flow without a
// trace"): computed bottom-up over the control-flow tree; with a trace, plain sums over executed calls.
import type { GraphWalk, SubgraphFacts } from './graph-walk.ts';
import type { CallFacts } from './types.ts';

/** Counts along execution paths: see countPaths. */
export interface PathCounts {
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
export function countPaths(
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
export function controlFlowNotes(paths: PathCounts): string[] {
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
