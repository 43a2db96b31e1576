// Which layer call a node belongs to, read from the names and metadata that exporters leave: every
// exporter's naming rules live here.
import type { OnnxNode } from '../onnx/model.ts';

/**
 * The layer call a node belongs to. TorchScript exports name nodes after the module call's scope
 * (`/layer1/layer1.0/conv1/Conv`); the dynamo exporter records scopes in node metadata; otherwise the
 * node is its own call. Calls in a subgraph are distinct from calls elsewhere.
 */
export function callOf(node: OnnxNode, graphPath: string): { key: string; name: string } {
  const scopes = dynamoScopes(node);
  let name: string | undefined;
  // The dynamo exporter's list is cumulative module paths from the root (''), ending with the node's own
  // name (`['', 'layer1', 'layer1.0', 'layer1.0.conv1', 'conv2d_3']`): the call is the last module path.
  if (scopes && scopes.length >= 2) name = scopes.at(-2) ?? '';
  else if (node.name.startsWith('/') && node.name.lastIndexOf('/') > 0) {
    name = modulePath(node.name.slice(1, node.name.lastIndexOf('/')).split('/'));
  }
  if (name === undefined) {
    name = node.name !== '' ? node.name : `${node.opType}#${node.id}`;
    return { key: `${graphPath}|node:${node.id}`, name };
  }
  return { key: `${graphPath}|scope:${name}`, name: name === '' ? '(root)' : name };
}

/** `['layer1', 'layer1.0', 'conv1']` → `layer1.0.conv1`: TorchScript repeats a parent's prefix in list children. */
export function modulePath(components: string[]): string {
  let path = '';
  for (const c of components) path = path !== '' && !c.startsWith(`${path}.`) ? `${path}.${c}` : c;
  return path;
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
