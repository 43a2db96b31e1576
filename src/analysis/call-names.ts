// Which layer call a node belongs to, read from the names and metadata that exporters leave: every
// exporter's naming rules live here (TorchScript scopes, the dynamo exporter's metadata and how its repeated
// calls of one module are told apart, inliners' prefixes, scope paths without a leading slash), and so does
// reading a call's name back (callPath).
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

/** What splitRepeatedCalls needs of a node: the node, and the call callOf gave it (rewritten in place). */
export interface ScopedNode {
  node: OnnxNode;
  call: { key: string; name: string };
}

/**
 * The dynamo exporter's `name_scopes` name the module, not the call: both calls of `conv1` in
 * `conv1(conv1(x))` say `['', 'conv1', ...]` (the last entry is the FX node's own name, `conv2d_1`, which
 * numbers operators, not calls), and neither `class_hierarchy` nor `fx_node` differs per call. So, in graph
 * order, within the nodes callOf put in one dynamo module scope: a node that reads a weight the scope's
 * current call has already read starts the next call of the module. The second call is named like
 * TorchScript's (`conv1_1`, `layer.qkv_2`, `conv1_1 (then)`; key `...#1`).
 *
 * A module whose forward reads one of its weights twice (`relu(x @ w) @ w`) is one call: the repeated read
 * stays in the current call when the two reads' `pkg.torch.onnx.stack_trace` share the frames of the callers
 * down to the module's own `forward` frame (as many `forward` frames as the module is deep below the root)
 * and differ after them: one call of the module, two lines of its forward. Identical traces (`fc(fc(x))`, a
 * loop calling the module), traces that differ above the module (`x = fc(x)` on two lines), and a missing
 * trace start a new call. Left ambiguous: one line of a forward reading a weight twice in a loop inside the
 * forward exports exactly like a loop of calls, and is taken for several calls.
 *
 * `reads` gives, per node id, the constant tensors it reads as weights (through fold chains), and only those
 * that can tell calls apart: floating-point tensors of two or more elements (a shared one-element scale that
 * the exporter's optimizer hands to two nodes of one call is no second call). Reads within one node do not
 * split (an LSTM reads its zero state twice). The root scope (`['', 'add']`) never splits: the graph is one
 * call of the root module. Only the scope that reads the weight splits, not its parent module (an ALBERT layer
 * called three times gives `layer.qkv`, `layer.qkv_1`, `layer.qkv_2` and one `layer` call for the
 * parameter-free nodes directly in it). Other exporters' calls are left as they are.
 */
export function splitRepeatedCalls(nodes: ScopedNode[], reads: Map<string, string[]>): void {
  const current = new Map<string, { index: number; read: Map<string, string | undefined> }>();
  for (const n of nodes) {
    const scopes = dynamoScopes(n.node);
    if (!scopes || scopes.length < 3 || scopes.at(-2) === '') continue;
    const base = n.call.key;
    let state = current.get(base);
    if (!state) current.set(base, (state = { index: 0, read: new Map() }));
    const own = reads.get(n.node.id) ?? [];
    const trace = n.node.metadata['pkg.torch.onnx.stack_trace'];
    const depth = scopes.length - 2;
    const again = own.filter((k) => state.read.has(k));
    if (again.some((k) => !sameCallFrames(state.read.get(k), trace, depth))) {
      state.index += 1;
      state.read = new Map();
    }
    for (const k of own) if (!state.read.has(k)) state.read.set(k, trace);
    if (state.index === 0) continue;
    const m = CONTEXT.exec(n.call.name);
    const bare = m ? n.call.name.slice(0, m.index) : n.call.name;
    n.call = { key: `${base}#${state.index}`, name: `${bare}_${state.index}${m ? m[0] : ''}` };
  }
}

/**
 * Two reads of a weight by a module `depth` levels below the root are one call of it when their stack traces
 * differ, and the frames they share hold the `forward` of the root and of every module down to the module's
 * parent (`depth` of them): the same call site, two places inside the module's forward.
 */
export function sameCallFrames(
  first: string | undefined,
  second: string | undefined,
  depth: number,
): boolean {
  if (first === undefined || second === undefined || first === second) return false;
  const a = stackFrames(first);
  const b = stackFrames(second);
  let forwards = 0;
  for (let i = 0; i < Math.min(a.length, b.length) && a[i] === b[i]; i++)
    if (/, in forward$/.test(a[i]!.split('\n')[0]!)) forwards++;
  return forwards >= depth;
}

/** `File "m.py", line 7, in forward\n    y = x @ self.w\n  File ...` → one string per frame, trimmed. */
function stackFrames(trace: string): string[] {
  return trace
    .split(/\n(?=\s*File ")/)
    .map((f) => f.trim())
    .filter((f) => f !== '');
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

/**
 * Names exporters give the tensors they make: TorchScript's `onnx::MatMul_20`, dynamo's `val_20`, bare
 * numbers (`1072`), none. Any other name is the model's own (counting.md, "Exporter-generated name").
 */
export function isGeneratedName(name: string): boolean {
  return /^onnx::|^val_[0-9]+$|^_?[0-9]+$|^$/.test(name);
}

/** The module a call belongs to: its name without the context and TorchScript's `_N` of a later call. */
export function moduleOf(callName: string): string {
  return callName.replace(/ \(.*\)$/, '').replace(/_\d+$/, '');
}
