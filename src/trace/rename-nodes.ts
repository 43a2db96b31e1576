// Gives every node of a model (subgraph nodes included) a unique name, `pt_<OnnxNode.id>`, so that the
// profile's `<node name>_kernel_time` events join back to exactly one node: ONNX node names may be empty
// or repeated. The ids follow read-model.ts: `7`, `7/then_branch/0`, `7/branches.1/0` for a `graphs` list.
//
// This decodes the whole ModelProto with protobufjs and encodes it again, so the model's bytes are held
// twice for a moment (the decoded message shares the weight payloads with the input buffer; encoding
// copies them). A later performance issue will revisit this. protobufjs drops fields that onnx.proto does
// not know; onnxruntime would ignore them anyway.
import type protobuf from 'protobufjs';
import { onnxRoot } from '../onnx/stream-decode.ts';

export const TRACE_NAME_PREFIX = 'pt_';

export interface RenamedNode {
  id: string;
  /** The name the file gave (may be empty or repeated). */
  originalName: string;
  opType: string;
}

export interface RenamedModel {
  bytes: Uint8Array;
  /** Trace name (`pt_<id>`) → the node. */
  nodes: Map<string, RenamedNode>;
}

interface NodeMessage {
  name?: string;
  op_type?: string;
  attribute?: AttributeMessage[];
}
interface AttributeMessage {
  name?: string;
  type?: number;
  g?: GraphMessage | null;
  t?: unknown;
  graphs?: GraphMessage[];
}
interface GraphMessage {
  node?: NodeMessage[];
}

const GRAPH = 5;
const GRAPHS = 10;

export function renameNodes(modelBytes: Uint8Array): RenamedModel {
  const type = onnxRoot.lookupType('onnx.ModelProto');
  const message = type.decode(modelBytes) as protobuf.Message & { graph?: GraphMessage | null };
  const nodes = new Map<string, RenamedNode>();
  if (message.graph) renameGraph(message.graph, '', nodes);
  return { bytes: type.encode(message).finish(), nodes };
}

function renameGraph(graph: GraphMessage, idPrefix: string, nodes: Map<string, RenamedNode>): void {
  (graph.node ?? []).forEach((node, index) => {
    const id = `${idPrefix}${index}`;
    const name = `${TRACE_NAME_PREFIX}${id}`;
    nodes.set(name, { id, originalName: node.name ?? '', opType: node.op_type ?? '' });
    node.name = name;
    for (const a of node.attribute ?? []) {
      const attributeId = `${id}/${a.name ?? ''}`;
      const graphs = a.graphs ?? [];
      // Old files may leave `type` unset: infer it from the field present, as read-model.ts does.
      const kind = a.type || (a.g ? GRAPH : a.t ? 0 : graphs.length > 0 ? GRAPHS : 0);
      if (kind === GRAPH && a.g) renameGraph(a.g, `${attributeId}/`, nodes);
      if (kind === GRAPHS) graphs.forEach((g, i) => renameGraph(g, `${attributeId}.${i}/`, nodes));
    }
  });
}

/** Replaces trace names in onnxruntime's messages with the nodes they stand for. */
export function describeTraceNames(text: string, nodes: Map<string, RenamedNode>): string {
  return text.replace(/pt_[0-9][\w./-]*/g, (match) => {
    // The name may be followed by punctuation that the pattern swallowed ('.' ending a sentence).
    for (let end = match.length; end > TRACE_NAME_PREFIX.length; end--) {
      const node = nodes.get(match.slice(0, end));
      if (node) {
        const label = node.originalName ? `'${node.originalName}'` : `#${node.id}`;
        return `${label} (${node.opType} node ${node.id})${match.slice(end)}`;
      }
    }
    return match;
  });
}
