// The treemap's data for the HTML report: parameters as a hierarchy of modules (names split on `.`), laid
// out squarified by d3-hierarchy at render time, so the page only places rectangles. Area = numel, each
// tensor once (report.parameters already lists each stored tensor once, aliases folded in).
import { hierarchy, treemap, treemapSquarify, type HierarchyRectangularNode } from 'd3-hierarchy';
import { escapeUnsafe } from '../report/plain-line.ts';
import type { Report, UnusedReason } from '../report/report.ts';

/** Layout units; the page keeps this aspect ratio (CSS aspect-ratio), so areas scale uniformly. */
export const TREEMAP_WIDTH = 1200;
export const TREEMAP_HEIGHT = 640;

export type LeafStatus = 'used' | 'shared' | 'unused';
/** In a comparison's head: the parameter is new, or its shape changed. */
export type LeafChange = 'added' | 'resized';

export interface TreemapLeaf {
  name: string;
  numel: number;
  shape: number[];
  dtype: string;
  status: LeafStatus;
  /** Top-level module, for the colour of ordinary leaves. */
  top: string;
  unusedReason: UnusedReason | null;
  unusedDetail: string | null;
  change: LeafChange | null;
  /** Indices into TreemapData.calls: the layer calls that use this parameter. */
  calls: number[];
  /** Rectangle in percent of the treemap's width and height. */
  x: number;
  y: number;
  w: number;
  h: number;
}

export interface TreemapGroup {
  /** Module path (`layer1.0`). */
  path: string;
  depth: number;
  numel: number;
  /** How many enclosing modules' labels sit at this one's corner: its label goes below theirs. */
  stack: number;
  x: number;
  y: number;
  w: number;
  h: number;
}

export interface TreemapCall {
  name: string;
  type: string;
  graph: string;
  executions: number;
  params: number;
  live: boolean;
}

export interface TreemapData {
  total: number;
  leaves: TreemapLeaf[];
  groups: TreemapGroup[];
  calls: TreemapCall[];
  /** Parameters with no elements: they have no area to draw. */
  empty: string[];
}

interface TreeNode {
  key: string;
  path: string;
  children: TreeNode[];
  leaf?: TreemapLeaf;
}

/** Module boxes deeper than this are not outlined: they would only add noise. */
const MAX_GROUP_DEPTH = 3;

export function treemapData(
  report: Report,
  changes: ReadonlyMap<string, LeafChange> = new Map(),
): TreemapData {
  const shared = new Set(report.shared.map((s) => s.name));
  const unused = new Map(report.unused.map((u) => [u.name, u]));
  // Only calls that use parameters can be shown for a rectangle: the others stay out of the page.
  const withParameters = report.layers.filter((l) => l.parameters.length > 0);
  const callsOf = new Map<string, number[]>();
  withParameters.forEach((layer, i) => {
    for (const p of layer.parameters) {
      const list = callsOf.get(p) ?? [];
      if (!list.includes(i)) list.push(i);
      callsOf.set(p, list);
    }
  });

  const root: TreeNode = { key: '', path: '', children: [] };
  const modules = new Map<string, TreeNode>([['', root]]);
  const empty: string[] = [];
  for (const p of report.parameters) {
    if (!(p.numel > 0)) {
      empty.push(escapeUnsafe(p.name));
      continue;
    }
    // Shown with bidirectional controls and invisible characters as visible \uXXXX escapes, as the CLI
    // prints them: a name cannot pass for another.
    const shown = escapeUnsafe(p.name);
    const parts = shown.split('.');
    let parent = root;
    // Module nodes are keyed apart from leaves, so `a` (a parameter) and `a.b` (one under module a) coexist.
    for (let depth = 1; depth < parts.length; depth++) {
      const path = parts.slice(0, depth).join('.');
      let node = modules.get(path);
      if (!node) {
        node = { key: parts[depth - 1]!, path, children: [] };
        modules.set(path, node);
        parent.children.push(node);
      }
      parent = node;
    }
    const u = unused.get(p.name);
    const status: LeafStatus = !p.used || u ? 'unused' : shared.has(p.name) ? 'shared' : 'used';
    // A parameter is used under its own name or an alias (an initializer holding it).
    const calls = [p.name, ...p.aliases, ...p.storedAs].flatMap((n) => callsOf.get(n) ?? []);
    parent.children.push({
      key: parts.at(-1)!,
      path: shown,
      children: [],
      leaf: {
        name: shown,
        numel: p.numel,
        shape: p.shape,
        dtype: p.dtype,
        status,
        top: parts.length > 1 ? parts[0]! : '',
        unusedReason: u?.reason ?? null,
        unusedDetail: u ? escapeUnsafe(u.detail) : null,
        change: changes.get(p.name) ?? null,
        calls: [...new Set(calls)].sort((a, b) => a - b),
        x: 0,
        y: 0,
        w: 0,
        h: 0,
      },
    });
  }

  const laidOut = treemap<TreeNode>()
    .tile(treemapSquarify)
    .size([TREEMAP_WIDTH, TREEMAP_HEIGHT])
    .round(false)(
    hierarchy(root, (n) => (n.leaf ? undefined : n.children))
      .sum((n) => n.leaf?.numel ?? 0)
      .sort((a, b) => (b.value ?? 0) - (a.value ?? 0) || a.data.path.localeCompare(b.data.path)),
  );

  const percent = (n: HierarchyRectangularNode<TreeNode>) => ({
    x: (n.x0 / TREEMAP_WIDTH) * 100,
    y: (n.y0 / TREEMAP_HEIGHT) * 100,
    w: ((n.x1 - n.x0) / TREEMAP_WIDTH) * 100,
    h: ((n.y1 - n.y0) / TREEMAP_HEIGHT) * 100,
  });
  const leaves: TreemapLeaf[] = [];
  const groups: TreemapGroup[] = [];
  const stacks = new Map<HierarchyRectangularNode<TreeNode>, number>();
  for (const node of laidOut.descendants()) {
    if (node.data.leaf) leaves.push({ ...node.data.leaf, ...percent(node) });
    else if (node.depth > 0 && node.depth <= MAX_GROUP_DEPTH) {
      const parent = node.parent!;
      const corner = parent.depth > 0 && parent.x0 === node.x0 && parent.y0 === node.y0;
      const stack = corner ? (stacks.get(parent) ?? 0) + 1 : 0;
      stacks.set(node, stack);
      groups.push({
        path: node.data.path,
        depth: node.depth,
        numel: node.value ?? 0,
        stack,
        ...percent(node),
      });
    }
  }
  return {
    total: laidOut.value ?? 0,
    leaves,
    groups,
    calls: withParameters.map((l) => ({
      name: escapeUnsafe(l.name),
      type: escapeUnsafe(l.type),
      graph: escapeUnsafe(l.graph),
      executions: l.executions,
      params: l.params,
      live: l.live,
    })),
    empty,
  };
}
