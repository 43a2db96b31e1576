// Gives every node of a model (subgraph nodes included) a unique name, `pt_<OnnxNode.id>`, so that the
// profile's `<node name>_kernel_time` events join back to exactly one node: ONNX node names may be empty
// or repeated. The ids follow read-model.ts: `7`, `7/then_branch/0`, `7/branches.1/0` for a `graphs` list.
//
// The model is rewritten at the level of protobuf fields: only the messages on the way to a node (model,
// graph, node, graph-valued attribute) are rebuilt, with new names and new length prefixes; every other
// field is copied as it is. renameNodesInFile goes further and never reads the weights: every large
// initializer (and Constant-node tensor) becomes an ONNX external-data reference to its own bytes in the
// original file (location: the file's name, offset and length of its payload), so the renamed model is
// small and onnxruntime reads the weights from the original file itself, once, as for a plain session.
import { readFileSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { FileSource, MemorySource, type ByteSource } from '../onnx/byte-source.ts';
import { ONNX_FIELDS, type MessageName } from '../onnx/onnx-fields.generated.ts';
import { ONNX_PROTO_JSON } from '../onnx/onnx-proto.generated.ts';
import { fieldsOf, readVarint, WireType, writeVarint, type FieldAt } from '../onnx/wire.ts';

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
  /** The model has tensors of its own in external data files (initializers and node attributes). */
  ownExternalData: boolean;
}

/** Renames the nodes of a model held in memory; its weights are copied into the result as they are. */
export function renameNodes(modelBytes: Uint8Array): RenamedModel {
  return renameModel(new MemorySource(modelBytes));
}

/**
 * Renames the nodes of a model file without reading its weights: the result references them in the file
 * by external data, so it must be loaded with the file's folder as the external data folder
 * (onnxruntime's `session.model_external_initializers_file_folder_path`).
 */
export function renameNodesInFile(file: string, location: string): RenamedModel {
  const source = new FileSource(file);
  try {
    return renameModel(source, location);
  } finally {
    source.close();
  }
}

/**
 * The renamed model for an onnxruntime session, and the folder its external data is relative to
 * (`session.model_external_initializers_file_folder_path`). onnxruntime refuses external data that
 * resolves, through symbolic links, outside that folder: the weights are referenced in the model's real
 * file, from its real folder. Only a link to a file in another folder whose own external data lies next to
 * the link cannot be served so: its renamed model carries its weights, copied.
 */
export function renameNodesForSession(modelPath: string): RenamedModel & { folder: string } {
  const resolved = path.resolve(modelPath);
  const real = realpathSync(resolved);
  const renamed = renameNodesInFile(real, path.basename(real));
  if (path.dirname(real) === realpathSync(path.dirname(resolved)) || !renamed.ownExternalData) {
    return { ...renamed, folder: path.dirname(real) };
  }
  return { ...renameNodes(readFileSync(resolved)), folder: path.dirname(resolved) };
}

/** Tensor payloads smaller than this stay in the renamed model (copying them costs less than a file read). */
const EXTERNAL_ABOVE = 16 * 1024;

/** The number of a field of an onnx.proto message, from the generated field table. */
function fieldNumber(message: MessageName, name: string): number {
  for (const [id, field] of Object.entries(ONNX_FIELDS[message])) if (field.name === name) return Number(id);
  throw new Error(`onnx.proto has no field ${message}.${name}`);
}

const MODEL_GRAPH = fieldNumber('ModelProto', 'graph');
const GRAPH_NODE = fieldNumber('GraphProto', 'node');
const GRAPH_INITIALIZER = fieldNumber('GraphProto', 'initializer');
const NODE_NAME = fieldNumber('NodeProto', 'name');
const NODE_OP_TYPE = fieldNumber('NodeProto', 'op_type');
const NODE_ATTRIBUTE = fieldNumber('NodeProto', 'attribute');
const ATTRIBUTE_NAME = fieldNumber('AttributeProto', 'name');
const ATTRIBUTE_T = fieldNumber('AttributeProto', 't');
const ATTRIBUTE_G = fieldNumber('AttributeProto', 'g');
const ATTRIBUTE_GRAPHS = fieldNumber('AttributeProto', 'graphs');
const ATTRIBUTE_TYPE = fieldNumber('AttributeProto', 'type');
const TENSOR_DATA_TYPE = fieldNumber('TensorProto', 'data_type');
const TENSOR_SEGMENT = fieldNumber('TensorProto', 'segment');
const TENSOR_RAW_DATA = fieldNumber('TensorProto', 'raw_data');
const TENSOR_FLOAT_DATA = fieldNumber('TensorProto', 'float_data');
const TENSOR_DOUBLE_DATA = fieldNumber('TensorProto', 'double_data');
const TENSOR_EXTERNAL_DATA = fieldNumber('TensorProto', 'external_data');
const TENSOR_DATA_LOCATION = fieldNumber('TensorProto', 'data_location');
const ENTRY_KEY = fieldNumber('StringStringEntryProto', 'key');
const ENTRY_VALUE = fieldNumber('StringStringEntryProto', 'value');
// onnx.proto's enums: AttributeProto.AttributeType, TensorProto.DataType and TensorProto.DataLocation.
const { AttributeProto, TensorProto } = ONNX_PROTO_JSON.nested.onnx.nested;
const { GRAPH, GRAPHS } = AttributeProto.nested.AttributeType.values;
const { FLOAT, DOUBLE, COMPLEX64, COMPLEX128 } = TensorProto.nested.DataType.values;
const { EXTERNAL } = TensorProto.nested.DataLocation.values;
const { VARINT, LENGTH_DELIMITED: DELIMITED } = WireType;

/**
 * Small rewritten bytes (headers, names, copied fields) are cut from shared chunks, not allocated one by
 * one: a graph of 100,000 nodes would otherwise make half a million tiny buffers.
 */
class Arena {
  private chunk = new Uint8Array(0);
  private used = 0;

  alloc(size: number): Uint8Array {
    this.reserve(size);
    const out = this.chunk.subarray(this.used, this.used + size);
    this.used += size;
    return out;
  }

  /** The header of a length-delimited field. */
  header(id: number, length: number): Uint8Array {
    this.reserve(20);
    const end = writeVarint(this.chunk, writeVarint(this.chunk, this.used, id * 8 + DELIMITED), length);
    const out = this.chunk.subarray(this.used, end);
    this.used = end;
    return out;
  }

  /** A whole varint field. */
  varint(id: number, value: number): Uint8Array {
    this.reserve(20);
    const end = writeVarint(this.chunk, writeVarint(this.chunk, this.used, id * 8 + VARINT), value);
    const out = this.chunk.subarray(this.used, end);
    this.used = end;
    return out;
  }

  /** The UTF-8 bytes of a string. */
  text(value: string): Uint8Array {
    const out = this.alloc(Buffer.byteLength(value, 'utf8'));
    Buffer.from(out.buffer, out.byteOffset, out.length).write(value, 'utf8');
    return out;
  }

  private reserve(size: number): void {
    if (this.used + size > this.chunk.length) {
      this.chunk = new Uint8Array(Math.max(256 * 1024, size));
      this.used = 0;
    }
  }
}

/** Rewritten bytes: pieces to be written one after the other, and their total length. */
class Pieces {
  private readonly pieces: Uint8Array[] = [];
  private size = 0;
  /** Fields kept as they are, not yet copied: consecutive ones are copied in one piece. */
  private pending: { source: ByteSource; start: number; end: number } | undefined;

  constructor(private readonly arena: Arena) {}

  get length(): number {
    return this.size + (this.pending ? this.pending.end - this.pending.start : 0);
  }

  get parts(): Uint8Array[] {
    this.flush();
    return this.pieces;
  }

  /** Keeps a field as it is (header included). */
  keep(source: ByteSource, f: FieldAt): void {
    if (this.pending?.source === source && this.pending.end === f.start) this.pending.end = f.end;
    else {
      this.flush();
      this.pending = { source, start: f.start, end: f.end };
    }
  }

  add(...parts: Uint8Array[]): void {
    this.flush();
    for (const p of parts) {
      this.pieces.push(p);
      this.size += p.length;
    }
  }

  /** Appends other pieces (which may be very many). */
  append(other: Pieces): void {
    this.flush();
    for (const p of other.parts) this.pieces.push(p);
    this.size += other.length;
  }

  /** Appends a whole length-delimited field holding `inner`. */
  addField(id: number, inner: Pieces): void {
    this.add(this.arena.header(id, inner.length));
    this.append(inner);
  }

  /** Appends a whole length-delimited field holding a string. */
  addText(id: number, value: string): void {
    const bytes = this.arena.text(value);
    this.add(this.arena.header(id, bytes.length), bytes);
  }

  private flush(): void {
    const p = this.pending;
    if (!p) return;
    // A copy: a file source's views do not last. Small ones through the source's read-ahead window.
    const length = p.end - p.start;
    if (length <= 64 * 1024) this.pieces.push(this.arena.alloc(length));
    else this.pieces.push(new Uint8Array(length));
    const into = this.pieces.at(-1)!;
    if (length <= 64 * 1024) into.set(p.source.read(p.start, length));
    else p.source.readInto(p.start, into);
    this.size += length;
    this.pending = undefined;
  }
}

interface Rewrite {
  source: ByteSource;
  arena: Arena;
  /** Set: reference large tensors in the original file by external data, under this location. */
  location: string | undefined;
  ownExternalData: boolean;
  nodes: Map<string, RenamedNode>;
}

function renameModel(source: ByteSource, location?: string): RenamedModel {
  const rewrite: Rewrite = {
    source,
    arena: new Arena(),
    location,
    ownExternalData: false,
    nodes: new Map(),
  };
  const out = new Pieces(rewrite.arena);
  for (const f of fieldsOf(source, 0, source.size)) {
    if (f.id === MODEL_GRAPH && f.wireType === DELIMITED) out.addField(MODEL_GRAPH, graph(rewrite, f, ''));
    else out.keep(source, f);
  }
  return {
    bytes: Buffer.concat(out.parts, out.length),
    nodes: rewrite.nodes,
    ownExternalData: rewrite.ownExternalData,
  };
}

function graph(rewrite: Rewrite, g: FieldAt, idPrefix: string): Pieces {
  const out = new Pieces(rewrite.arena);
  let index = 0;
  for (const f of fieldsOf(rewrite.source, g.valueStart, g.end)) {
    if (f.id === GRAPH_NODE && f.wireType === DELIMITED) {
      out.addField(GRAPH_NODE, node(rewrite, f, `${idPrefix}${index++}`));
    } else if (f.id === GRAPH_INITIALIZER && f.wireType === DELIMITED && rewrite.location !== undefined) {
      out.append(tensor(rewrite, f));
    } else out.keep(rewrite.source, f);
  }
  return out;
}

function node(rewrite: Rewrite, n: FieldAt, id: string): Pieces {
  const { source } = rewrite;
  const fields = fieldsOf(source, n.valueStart, n.end);
  const name = `${TRACE_NAME_PREFIX}${id}`;
  const lastOf = (number: number): FieldAt | undefined => lastField(fields, number, DELIMITED);
  rewrite.nodes.set(name, {
    id,
    originalName: text(source, lastOf(NODE_NAME)),
    opType: text(source, lastOf(NODE_OP_TYPE)),
  });
  const out = new Pieces(rewrite.arena);
  out.addText(NODE_NAME, name);
  for (const f of fields) {
    if (f.id === NODE_NAME) continue;
    if (f.id === NODE_ATTRIBUTE && f.wireType === DELIMITED)
      out.addField(NODE_ATTRIBUTE, attribute(rewrite, f, id));
    else out.keep(source, f);
  }
  return out;
}

function attribute(rewrite: Rewrite, a: FieldAt, nodeId: string): Pieces {
  const { source } = rewrite;
  const fields = fieldsOf(source, a.valueStart, a.end);
  const typeField = lastField(fields, ATTRIBUTE_TYPE, VARINT);
  const has = (number: number): boolean => fields.some((f) => f.id === number && f.wireType === DELIMITED);
  // Old files may leave `type` unset: infer it from the field present, as read-model.ts does.
  const type =
    (typeField ? readVarint(source, typeField) : 0) ||
    (has(ATTRIBUTE_G) ? GRAPH : has(ATTRIBUTE_T) ? 0 : has(ATTRIBUTE_GRAPHS) ? GRAPHS : 0);
  const attributeId = `${nodeId}/${text(source, lastField(fields, ATTRIBUTE_NAME, DELIMITED))}`;
  const out = new Pieces(rewrite.arena);
  let graphIndex = 0;
  for (const f of fields) {
    if (f.wireType === DELIMITED && f.id === ATTRIBUTE_G && type === GRAPH) {
      out.addField(ATTRIBUTE_G, graph(rewrite, f, `${attributeId}/`));
    } else if (f.wireType === DELIMITED && f.id === ATTRIBUTE_GRAPHS && type === GRAPHS) {
      out.addField(ATTRIBUTE_GRAPHS, graph(rewrite, f, `${attributeId}.${graphIndex++}/`));
    } else if (f.wireType === DELIMITED && f.id === ATTRIBUTE_T && rewrite.location !== undefined) {
      out.append(tensor(rewrite, f));
    } else out.keep(source, f);
  }
  return out;
}

/** TensorProto fields that hold the values. */
const PAYLOAD_FIELDS = new Set(
  ['raw_data', 'float_data', 'double_data', 'int32_data', 'int64_data', 'uint64_data', 'string_data'].map(
    (name) => fieldNumber('TensorProto', name),
  ),
);

/**
 * The tensor field `t`, as it is, or with its payload replaced by an external-data reference to the
 * payload's bytes in the original file: when it holds its values in one little-endian payload (raw_data,
 * or packed float_data / double_data of a float or complex tensor) large enough to be worth it.
 */
function tensor(rewrite: Rewrite, t: FieldAt): Pieces {
  const { source } = rewrite;
  const out = new Pieces(rewrite.arena);
  const fields = fieldsOf(source, t.valueStart, t.end);
  const dataTypeField = lastField(fields, TENSOR_DATA_TYPE, VARINT);
  const dataType = dataTypeField ? readVarint(source, dataTypeField) : 0;
  const payloads = fields.filter((f) => PAYLOAD_FIELDS.has(f.id));
  const payload = payloads[0];
  const littleEndian =
    payload !== undefined &&
    payload.wireType === DELIMITED &&
    (payload.id === TENSOR_RAW_DATA ||
      (payload.id === TENSOR_FLOAT_DATA && (dataType === FLOAT || dataType === COMPLEX64)) ||
      (payload.id === TENSOR_DOUBLE_DATA && (dataType === DOUBLE || dataType === COMPLEX128)));
  const locationField = lastField(fields, TENSOR_DATA_LOCATION, VARINT);
  if (locationField && readVarint(source, locationField) === EXTERNAL) rewrite.ownExternalData = true;
  const unusual = fields.some(
    (f) => f.id === TENSOR_SEGMENT || f.id === TENSOR_DATA_LOCATION || f.id === TENSOR_EXTERNAL_DATA,
  );
  if (
    !payload ||
    payloads.length !== 1 ||
    !littleEndian ||
    unusual ||
    payload.end - payload.valueStart < EXTERNAL_ABOVE
  ) {
    out.keep(source, t);
    return out;
  }
  const body = new Pieces(rewrite.arena);
  for (const f of fields) if (f !== payload) body.keep(source, f);
  body.add(rewrite.arena.varint(TENSOR_DATA_LOCATION, EXTERNAL));
  for (const [key, value] of [
    ['location', rewrite.location!],
    ['offset', String(payload.valueStart)],
    ['length', String(payload.end - payload.valueStart)],
  ] as const) {
    const entry = new Pieces(rewrite.arena);
    entry.addText(ENTRY_KEY, key);
    entry.addText(ENTRY_VALUE, value);
    body.addField(TENSOR_EXTERNAL_DATA, entry);
  }
  out.addField(t.id, body);
  return out;
}

/** The last occurrence of a field (protobuf: the last value of a singular field wins). */
function lastField(fields: FieldAt[], id: number, wireType: number): FieldAt | undefined {
  for (let i = fields.length - 1; i >= 0; i--)
    if (fields[i]!.id === id && fields[i]!.wireType === wireType) return fields[i];
  return undefined;
}

function text(source: ByteSource, f: FieldAt | undefined): string {
  return f ? Buffer.from(source.read(f.valueStart, f.end - f.valueStart)).toString('utf8') : '';
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
