// Which layer call a node belongs to, read from the names and metadata that exporters leave: every
// exporter's naming rules live here (TorchScript scopes, the dynamo exporter's metadata, inliners'
// prefixes, scope paths without a leading slash), and so does reading a call's name back (callPath).
import type { OnnxNode } from '../onnx/model.ts';

/**
 * The layer call a node belongs to. TorchScript exports name nodes after the module call's scope
 * (`/layer1/layer1.0/conv1/Conv`); the dynamo exporter records scopes in node metadata; other exporters
 * write the scope path without the leading slash (`encoder/0/conv/Conv`), taken as one only when the
 * last component is the node's operator. An inliner's prefix (`If_0_then_branch__Inline_0__`) is set
 * aside before the scope is read and kept as the call's context: the call's key stays distinct per
 * inlined branch and its name shows the branch (`encoder.0.conv (then)`). Otherwise the node is its own
 * call. Calls in a subgraph are distinct from calls elsewhere.
 */
export function callOf(node: OnnxNode, graphPath: string): { key: string; name: string } {
  const { prefix, labels, rest } = stripInlinePrefixes(node.name);
  const context = labels.length > 0 ? ` (${labels.join(', ')})` : '';
  const scopes = dynamoScopes(node);
  let name: string | undefined;
  // The dynamo exporter's list is cumulative module paths from the root (''), ending with the node's own
  // name (`['', 'layer1', 'layer1.0', 'layer1.0.conv1', 'conv2d_3']`): the call is the last module path.
  if (scopes && scopes.length >= 2) name = scopes.at(-2) ?? '';
  else name = scopePath(rest, node.opType);
  if (name === undefined) {
    name = rest !== '' ? `${rest}${context}` : node.name !== '' ? node.name : `${node.opType}#${node.id}`;
    return { key: `${graphPath}|node:${node.id}`, name };
  }
  return {
    key: `${graphPath}|scope:${prefix === '' ? '' : `${prefix}|`}${name}`,
    name: `${name === '' ? '(root)' : name}${context}`,
  };
}

/** `['layer1', 'layer1.0', 'conv1']` → `layer1.0.conv1`: TorchScript repeats a parent's prefix in list children. */
export function modulePath(components: string[]): string {
  let path = '';
  for (const c of components) path = path !== '' && !c.startsWith(`${path}.`) ? `${path}.${c}` : c;
  return path;
}

/**
 * A call's name read back: its module path (`layer1.0.conv1` → `['layer1', '0', 'conv1']`) and the
 * context callOf added (` (then)`), for grouping calls by module. A name that is no module path (a node's
 * own name) is one component.
 */
export function callPath(name: string): { path: string[]; context: string } {
  const m = CONTEXT.exec(name);
  const base = m ? name.slice(0, m.index) : name;
  const context = m ? m[0] : '';
  // A node's own name (`/Relu`, `Conv#3`, `If_0_then_branch__Inline_0__/Squeeze`) is not a module path.
  if (base === '' || base.includes('/') || base.includes('#') || /^\.|\.\.|\.$/.test(base))
    return { path: [base], context };
  return { path: base.split('.'), context };
}

/**
 * The module a parameter belongs to, read from its name as calls are (`encoder.0.conv.weight` →
 * `['encoder', '0', 'conv']`), an inliner's prefix and the subgraph the report names it in set aside as
 * context (`If_0_else_branch__Inline_0__stft.basis (in 2/else_branch)` → `['stft']`,
 * ` (else, in 2/else_branch)`). A name that is no dotted path (`onnx::Conv_194`, `W`) is its own module.
 */
export function parameterPath(name: string): { path: string[]; context: string } {
  const graph = / \(in [^()]*\)$/.exec(name);
  const base = graph ? name.slice(0, graph.index) : name;
  const { labels, rest } = stripInlinePrefixes(base);
  const notes = graph ? [...labels, graph[0].slice(2, -1)] : labels;
  const context = notes.length > 0 ? ` (${notes.join(', ')})` : '';
  const parts = rest.split('.');
  if (rest.includes('/') || rest.includes(':') || parts.length < 2 || parts.some((p) => p === ''))
    return { path: [rest === '' ? base : rest], context };
  return { path: parts.slice(0, -1), context };
}

/** The context callOf appends: ` (then)`, ` (then, else)`. */
const CONTEXT = / \((?:then|else|inlined [^()]*)(?:, (?:then|else|inlined [^()]*))*\)$/;

/**
 * An inliner's prefix: onnxruntime inlining an `If` whose condition is constant names every node of the
 * branch `<If node>_then_branch__Inline_<n>__<name>` (or `_else_branch`); inlined functions get
 * `<call>__Inline_<n>__`. Nested inlining stacks them, outermost first.
 */
const INLINE_PREFIX = /^(.*?)__Inline_\d+__/;

/** The inliners' prefixes of a node name, what each says (`then`, `else`, `inlined X`), and the name left. */
export function stripInlinePrefixes(name: string): { prefix: string; labels: string[]; rest: string } {
  let rest = name;
  const labels: string[] = [];
  for (let m = INLINE_PREFIX.exec(rest); m; m = INLINE_PREFIX.exec(rest)) {
    const owner = m[1]!;
    const branch = /_(then|else)_branch$/.exec(owner);
    // A prefix inside an inlined name already carries the outer prefix: only the last part is new.
    labels.push(branch ? branch[1]! : `inlined ${owner.replace(/\(|\)/g, '')}`);
    rest = rest.slice(m[0].length);
  }
  return { prefix: name.slice(0, name.length - rest.length), labels, rest };
}

/**
 * The module path in a node name, or undefined when the name is no scope path. TorchScript:
 * `/layer1/layer1.0/conv1/Conv` (a root-level op, `/Relu`, has none). Without the leading slash
 * (`encoder/0/conv/Conv`, other exporters and tools), only when every component is there and the last
 * is the node's operator (`Conv`, `Conv_1`, `Conv__3` after ONNX's inliner): a name without '/' is the
 * node's own.
 */
function scopePath(name: string, opType: string): string | undefined {
  if (name.startsWith('/')) {
    const last = name.lastIndexOf('/');
    return last > 0 ? modulePath(name.slice(1, last).split('/')) : undefined;
  }
  const parts = name.split('/');
  if (parts.length < 2 || parts.some((p) => p === '')) return undefined;
  if (opType === '' || parts.at(-1)!.replace(/(_+\d+)+$/, '') !== opType) return undefined;
  return modulePath(parts.slice(0, -1));
}

function dynamoScopes(node: OnnxNode): string[] | undefined {
  const raw = node.metadata['pkg.torch.onnx.name_scopes'];
  if (raw === undefined) return undefined;
  try {
    const parsed: unknown = JSON.parse(raw.replace(/'/g, '"'));
    if (Array.isArray(parsed)) return parsed.map(String);
  } catch {
    // Not a list literal: fall back to the node's name below.
  }
  return undefined;
}
