// A thin streaming layer over protobufjs: it walks the messages that can hold weights (model, graph,
// node, attribute, tensor) field by field through a ByteSource, records where each weight payload lies
// instead of reading it, and hands every other sub-message to protobufjs to decode whole. Which field is
// what, and the decoders, are generated from onnx.proto (scripts/gen-onnx-proto.ts: protobufjs' static
// code and a table of fields), not hand-written per message, and nothing is built at run time. Field
// headers are read by wire.ts, the layer the trace's rewriter uses too, so both accept the same bytes.
import type protobuf from 'protobufjs/minimal.js';
import type { ByteSource } from './byte-source.ts';
import { NUMERIC_FIELDS } from './model.ts';
import { ONNX_FIELDS, type FieldInfo, type MessageName } from './onnx-fields.generated.ts';
import { onnx } from './onnx-proto.static.generated.ts';
import { MAX_HEADER_BYTES, readFieldHeader, WireFormatError, WireType } from './wire.ts';

export { WireFormatError };

/** A message type: its fields by number and protobufjs' static decoder for it. */
interface MessageType {
  name: MessageName;
  fieldsById: Record<number, Field>;
  decode(bytes: Uint8Array): object;
  toObject(message: object, options: protobuf.IConversionOptions): Decoded;
}

interface Field extends FieldInfo {
  id: number;
  parent: MessageName;
}

const types = new Map<MessageName, MessageType>();

function messageType(name: MessageName): MessageType {
  let type = types.get(name);
  if (!type) {
    // `TypeProto.Tensor` is onnx.TypeProto.Tensor in the static code.
    const codec = name
      .split('.')
      .reduce((o: Record<string, unknown>, key) => o[key] as never, onnx) as never as {
      decode(bytes: Uint8Array): object;
      toObject(message: object, options: protobuf.IConversionOptions): Decoded;
    };
    const fieldsById: Record<number, Field> = {};
    for (const [id, info] of Object.entries(ONNX_FIELDS[name])) {
      fieldsById[Number(id)] = { ...info, id: Number(id), parent: name };
    }
    type = { name, fieldsById, decode: (b) => codec.decode(b), toObject: (m, o) => codec.toObject(m, o) };
    types.set(name, type);
  }
  return type;
}

/** Messages that may contain weights, walked field by field; all others are small and decoded whole. */
const STREAMED = new Set<MessageName>([
  'ModelProto',
  'GraphProto',
  'NodeProto',
  'AttributeProto',
  'TensorProto',
  'SparseTensorProto',
  'FunctionProto',
  'TrainingInfoProto',
]);
/** Always walked, so that every initializer's payload stays in the file however small the model. */
const ALWAYS_WALKED = new Set<MessageName>(['TensorProto', 'GraphProto']);

/** A length-delimited payload left in the file: [offset, offset + length). */
export class PayloadRef {
  constructor(
    readonly offset: number,
    readonly length: number,
  ) {}
}

/** A decoded message: field name (as in onnx.proto) → value; repeated fields are arrays. */
export type Decoded = { [field: string]: unknown };

/** Streamed messages smaller than this are decoded in one protobufjs call, except graphs and tensors. */
const WALK_ABOVE = 64 * 1024;
/** Tensor fields whose bytes are weights: left in the file. */
const PAYLOAD_FIELDS = new Set<string>(NUMERIC_FIELDS);
const MAX_DEPTH = 64;

export interface DecodeLimits {
  /** Nesting of walked messages (graphs in attributes in nodes in graphs ...). */
  maxDepth: number;
}

export function decodeModel(source: ByteSource, limits: DecodeLimits = { maxDepth: MAX_DEPTH }): Decoded {
  return walk(source, messageType('ModelProto'), 0, source.size, 0, limits);
}

function walk(
  source: ByteSource,
  type: MessageType,
  start: number,
  end: number,
  depth: number,
  limits: DecodeLimits,
): Decoded {
  if (depth > limits.maxDepth) {
    throw new WireFormatError(`messages nested more than ${limits.maxDepth} deep (at byte ${start})`);
  }
  const out: Decoded = {};
  let pos = start;
  while (pos < end) {
    const header = readFieldHeader(source.read(pos, Math.min(MAX_HEADER_BYTES, end - pos)), pos);
    const field = type.fieldsById[header.id];
    const valueStart = pos + header.headerLength;
    const valueEnd = valueStart + header.valueLength;
    if (valueEnd > end) {
      const what = `${type.name}.${field?.name ?? `field ${header.id}`} at byte ${pos}`;
      throw new WireFormatError(
        header.wireType === WireType.LENGTH_DELIMITED
          ? `${what} is ${header.valueLength} bytes long, past the end of its message (byte ${end})`
          : `${what} runs past the end of its message (byte ${end})`,
      );
    }
    if (field) {
      const value =
        header.wireType === WireType.LENGTH_DELIMITED
          ? decodeDelimited(source, type, field, pos, valueStart, header.valueLength, depth, limits)
          : decodeWithLibrary(type, field, source.read(pos, valueEnd - pos), pos);
      store(out, field, value);
    }
    pos = valueEnd;
  }
  return out;
}

/** A length-delimited field: its tag at `fieldStart`, its payload [start, start + length). */
function decodeDelimited(
  source: ByteSource,
  type: MessageType,
  field: Field,
  fieldStart: number,
  start: number,
  length: number,
  depth: number,
  limits: DecodeLimits,
): unknown {
  if (field.message) {
    const child = messageType(field.message);
    if (STREAMED.has(child.name) && (length > WALK_ABOVE || ALWAYS_WALKED.has(child.name))) {
      return walk(source, child, start, start + length, depth + 1, limits);
    }
    // A whole sub-message: protobufjs decodes it directly (copied: the bytes may be the window's).
    return decodeMessage(child, field, Buffer.from(source.read(start, length)), start, depth);
  }
  if (type.name === 'TensorProto' && PAYLOAD_FIELDS.has(field.name)) return new PayloadRef(start, length);
  // Re-read the whole field (header included) and let protobufjs decode it in the context of its parent.
  return decodeWithLibrary(type, field, source.read(fieldStart, start + length - fieldStart), fieldStart);
}

const TO_OBJECT: protobuf.IConversionOptions = {
  longs: String,
  enums: Number,
  bytes: Uint8Array as never,
  defaults: false,
};

/** Decodes one sub-message of type `child`, given its payload, as a plain object. */
function decodeMessage(
  child: MessageType,
  field: Field,
  payload: Uint8Array,
  at: number,
  depth: number,
): unknown {
  let value: Decoded;
  try {
    value = child.toObject(child.decode(payload), TO_OBJECT) as Decoded;
  } catch (error) {
    throw new WireFormatError(
      `cannot decode ${field.parent}.${field.name} at byte ${at}: ${(error as Error).message}`,
    );
  }
  checkNesting(value, depth + 1);
  return value;
}

/** Decodes one non-message field, given its bytes with header, by decoding a parent holding only that field. */
function decodeWithLibrary(type: MessageType, field: Field, bytes: Uint8Array, at: number): unknown {
  let message: object;
  try {
    // Copy: the bytes may be a view of the source's reusable window.
    message = type.decode(Uint8Array.from(bytes));
  } catch (error) {
    throw new WireFormatError(
      `cannot decode ${type.name}.${field.name} at byte ${at}: ${(error as Error).message}`,
    );
  }
  const object = type.toObject(message, TO_OBJECT);
  const value = (object as Decoded)[field.name];
  return field.repeated && Array.isArray(value) ? { repeated: value } : value;
}

/** Sub-messages decoded whole can still nest graphs; bound that nesting too. */
function checkNesting(value: unknown, level: number): void {
  if (level > 4 * MAX_DEPTH) throw new WireFormatError(`messages nested more than ${MAX_DEPTH} deep`);
  if (Array.isArray(value)) {
    for (const item of value) if (item !== null && typeof item === 'object') checkNesting(item, level + 1);
  } else if (value !== null && typeof value === 'object' && !(value instanceof Uint8Array)) {
    for (const key in value) {
      const item = (value as Decoded)[key];
      if (item !== null && typeof item === 'object') checkNesting(item, level + 1);
    }
  }
}

function store(out: Decoded, field: Field, value: unknown): void {
  if (!field.repeated) {
    out[field.name] = value;
    return;
  }
  const list = (out[field.name] ??= []) as unknown[];
  // One push per element: a spread of a packed field's 200,000 values would overflow the call stack.
  if (value && typeof value === 'object' && 'repeated' in value)
    for (const item of (value as { repeated: unknown[] }).repeated) list.push(item);
  else list.push(value);
}
