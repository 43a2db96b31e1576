// A small reader for input values saved as one serialized ONNX TensorProto (the `input_0.pb` files of
// ONNX's backend tests, `onnx.numpy_helper.from_array(a).SerializeToString()`). Self-contained on
// purpose: it runs in the trace worker, which must not load protobufjs, and needs only these fields:
// 1 dims, 2 data_type, 4 float_data, 5 int32_data, 6 string_data, 7 int64_data, 8 name, 9 raw_data,
// 10 double_data, 11 uint64_data (13/14, external data, are refused). Values come back as the typed
// arrays onnxruntime-node takes (float16 as Uint16Array bit patterns, bool as one byte each), like npy.ts.
import { readFileSync } from 'node:fs';
import { TraceInputError } from './errors.ts';
import type { NpyData } from './npy.ts';

/** ONNX TensorProto.DataType numbers of the element types onnxruntime-node can feed. */
const DATA_TYPES: Record<number, TensorProtoDtype> = {
  1: 'float32',
  2: 'uint8',
  3: 'int8',
  4: 'uint16',
  5: 'int16',
  6: 'int32',
  7: 'int64',
  8: 'string',
  9: 'bool',
  10: 'float16',
  11: 'float64',
  12: 'uint32',
  13: 'uint64',
};

/** Names of the other data types, for the message that refuses them. */
const OTHER_TYPES: Record<number, string> = {
  0: 'undefined',
  14: 'complex64',
  15: 'complex128',
  16: 'bfloat16',
  17: 'float8e4m3fn',
  18: 'float8e4m3fnuz',
  19: 'float8e5m2',
  20: 'float8e5m2fnuz',
  21: 'uint4',
  22: 'int4',
  23: 'float4e2m1',
};

export type TensorProtoDtype =
  | 'float32'
  | 'uint8'
  | 'int8'
  | 'uint16'
  | 'int16'
  | 'int32'
  | 'int64'
  | 'string'
  | 'bool'
  | 'float16'
  | 'float64'
  | 'uint32'
  | 'uint64';

const ELEMENT_SIZE: Record<Exclude<TensorProtoDtype, 'string'>, number> = {
  float32: 4,
  uint8: 1,
  int8: 1,
  uint16: 2,
  int16: 2,
  int32: 4,
  int64: 8,
  bool: 1,
  float16: 2,
  float64: 8,
  uint32: 4,
  uint64: 8,
};

export interface TensorProtoArray {
  /** The tensor's own name (field 8); empty when it has none. */
  name: string;
  dtype: TensorProtoDtype;
  shape: number[];
  data: NpyData | string[];
}

/** Whether a file starts like a .npy file (then it is not read as a TensorProto). */
export function isNpyFile(bytes: Uint8Array): boolean {
  return bytes.length >= 6 && bytes[0] === 0x93 && String.fromCharCode(...bytes.subarray(1, 6)) === 'NUMPY';
}

export function readTensorProtoFile(file: string): TensorProtoArray {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (error) {
    throw new TraceInputError(`input file ${file} cannot be opened: ${(error as Error).message}`);
  }
  return decodeTensorProto(bytes, file);
}

interface Span {
  start: number;
  end: number;
}

/** Decodes one serialized TensorProto; `file` names it in errors. */
export function decodeTensorProto(bytes: Uint8Array, file = 'TensorProto'): TensorProtoArray {
  const fail = (problem: string): never => {
    throw new TraceInputError(`input file ${file} is not an ONNX TensorProto (.pb) or .npy file: ${problem}`);
  };
  const dims: bigint[] = [];
  let dataType: number | undefined;
  let name = '';
  let raw: Span | undefined;
  // Typed fields, each possibly split over several records (packed or not): kept as spans, decoded below.
  const typed: Record<number, { packed: Span[]; single: Span[] }> = {};
  const at = { pos: 0 };
  while (at.pos < bytes.length) {
    const key = readVarint(bytes, at, fail);
    const field = Number(key >> 3n);
    const wire = Number(key & 7n);
    if (field === 0) fail(`field number 0 at byte ${at.pos}`);
    const start = at.pos;
    if (wire === 0) {
      const value = readVarint(bytes, at, fail);
      if (field === 1) dims.push(value);
      else if (field === 2) dataType = Number(BigInt.asIntN(32, value));
      else if (field === 14 && value === 1n) fail('its data is external (data_location EXTERNAL)');
      else if (field === 5 || field === 7 || field === 11) addTyped(typed, field, 'single', start, at.pos);
    } else if (wire === 1) {
      at.pos += 8;
      if (field === 10) addTyped(typed, field, 'single', start, at.pos);
    } else if (wire === 5) {
      at.pos += 4;
      if (field === 4) addTyped(typed, field, 'single', start, at.pos);
    } else if (wire === 2) {
      const length = Number(readVarint(bytes, at, fail));
      const from = at.pos;
      at.pos += length;
      if (at.pos > bytes.length) break;
      if (field === 1) {
        const inner = { pos: from };
        while (inner.pos < at.pos) dims.push(readVarint(bytes, inner, fail));
      } else if (field === 8) name = new TextDecoder().decode(bytes.subarray(from, at.pos));
      else if (field === 9) raw = { start: from, end: at.pos };
      else if (field === 13) fail('its data is external (external_data)');
      else if (field === 6) addTyped(typed, field, 'single', from, at.pos);
      else if ([4, 5, 7, 10, 11].includes(field)) addTyped(typed, field, 'packed', from, at.pos);
    } else {
      fail(`wire type ${wire} of field ${field} at byte ${start}`);
    }
    if (at.pos > bytes.length) fail('it is truncated');
  }
  if (at.pos > bytes.length) fail('it is truncated');
  if (dataType === undefined) fail('no data_type (field 2)');
  const dtype = DATA_TYPES[dataType!];
  if (!dtype) {
    throw new TraceInputError(
      `input file ${file} holds ONNX data type ${OTHER_TYPES[dataType!] ?? dataType}, which onnxruntime-node cannot feed`,
    );
  }
  const shape = dims.map((d) => {
    if (d < 0n || d > BigInt(Number.MAX_SAFE_INTEGER)) fail(`a bad dimension ${d}`);
    return Number(d);
  });
  const count = shape.reduce((a, b) => a * b, 1);
  const data = raw
    ? fromRaw(bytes, raw, dtype!, count, file)
    : fromTyped(bytes, typed, dtype!, shape, file, fail);
  return { name, dtype: dtype!, shape, data };
}

function addTyped(
  typed: Record<number, { packed: Span[]; single: Span[] }>,
  field: number,
  how: 'packed' | 'single',
  start: number,
  end: number,
): void {
  (typed[field] ??= { packed: [], single: [] })[how].push({ start, end });
}

/** A protobuf varint, up to 10 bytes (negative int32/int64 values take all ten), as an unsigned 64-bit. */
export function readVarint(bytes: Uint8Array, at: { pos: number }, fail: (why: string) => never): bigint {
  let value = 0n;
  for (let i = 0; i < 10; i++) {
    if (at.pos >= bytes.length) fail('it is truncated (inside a varint)');
    const b = bytes[at.pos++]!;
    value |= BigInt(b & 0x7f) << BigInt(7 * i);
    if ((b & 0x80) === 0) return BigInt.asUintN(64, value);
  }
  return fail(`a varint longer than 10 bytes before byte ${at.pos}`);
}

function fromRaw(
  bytes: Uint8Array,
  span: Span,
  dtype: TensorProtoDtype,
  count: number,
  file: string,
): NpyData | string[] {
  if (dtype === 'string')
    throw new TraceInputError(`input file ${file} holds strings in raw_data, which ONNX does not allow`);
  const size = ELEMENT_SIZE[dtype];
  const length = span.end - span.start;
  if (length !== count * size) {
    throw new TraceInputError(
      `input file ${file} holds ${length} bytes of raw_data, but ${count} ${dtype} values need ${count * size}`,
    );
  }
  // A fresh, aligned copy: the payload's offset in the file need not be a multiple of the element size.
  const buffer = new ArrayBuffer(length);
  new Uint8Array(buffer).set(bytes.subarray(span.start, span.end));
  return typedArray(dtype, buffer);
}

/** Which typed field holds each dtype (ONNX's TensorProto comments). */
const FIELD_OF: Record<TensorProtoDtype, number> = {
  float32: 4,
  int32: 5,
  int16: 5,
  int8: 5,
  uint16: 5,
  uint8: 5,
  bool: 5,
  float16: 5,
  string: 6,
  int64: 7,
  float64: 10,
  uint32: 11,
  uint64: 11,
};

function fromTyped(
  bytes: Uint8Array,
  typed: Record<number, { packed: Span[]; single: Span[] }>,
  dtype: TensorProtoDtype,
  shape: number[],
  file: string,
  fail: (why: string) => never,
): NpyData | string[] {
  const count = shape.reduce((a, b) => a * b, 1);
  const field = FIELD_OF[dtype];
  const spans = typed[field] ?? { packed: [], single: [] };
  const values: (number | bigint | string)[] = [];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const one = (at: { pos: number }): number | bigint => {
    if (field === 4) {
      const v = view.getFloat32(at.pos, true);
      at.pos += 4;
      return v;
    }
    if (field === 10) {
      const v = view.getFloat64(at.pos, true);
      at.pos += 8;
      return v;
    }
    return readVarint(bytes, at, fail);
  };
  // Records come in file order whether packed or not; merge them back in that order.
  const all = [
    ...spans.packed.map((s) => ({ ...s, packed: true })),
    ...spans.single.map((s) => ({ ...s, packed: false })),
  ].sort((a, b) => a.start - b.start);
  for (const span of all) {
    if (field === 6) {
      values.push(new TextDecoder().decode(bytes.subarray(span.start, span.end)));
      continue;
    }
    const at = { pos: span.start };
    if (!span.packed) {
      values.push(one(at));
      continue;
    }
    while (at.pos < span.end) values.push(one(at));
    if (at.pos !== span.end) fail(`a packed field ${field} that ends inside a value`);
  }
  if (values.length !== count) {
    throw new TraceInputError(
      `input file ${file} holds ${values.length} ${dtype} values, but its shape [${shape.join(', ')}] needs ${count}`,
    );
  }
  if (dtype === 'string') return values as string[];
  const buffer = new ArrayBuffer(count * ELEMENT_SIZE[dtype]);
  const out = typedArray(dtype, buffer);
  for (let i = 0; i < count; i++) {
    const v = values[i]!;
    if (out instanceof BigInt64Array) out[i] = BigInt.asIntN(64, v as bigint);
    else if (out instanceof BigUint64Array) out[i] = BigInt.asUintN(64, v as bigint);
    else if (out instanceof Float32Array || out instanceof Float64Array) out[i] = v as number;
    // int32_data and uint64_data carry the smaller types as varints: keep their low bits (typed arrays wrap).
    else out[i] = Number(BigInt.asIntN(32, v as bigint));
  }
  return out;
}

function typedArray(dtype: Exclude<TensorProtoDtype, 'string'>, buffer: ArrayBuffer): NpyData {
  switch (dtype) {
    case 'float32':
      return new Float32Array(buffer);
    case 'float64':
      return new Float64Array(buffer);
    case 'float16':
    case 'uint16':
      return new Uint16Array(buffer);
    case 'int64':
      return new BigInt64Array(buffer);
    case 'uint64':
      return new BigUint64Array(buffer);
    case 'int32':
      return new Int32Array(buffer);
    case 'uint32':
      return new Uint32Array(buffer);
    case 'int16':
      return new Int16Array(buffer);
    case 'int8':
      return new Int8Array(buffer);
    case 'uint8':
    case 'bool':
      return new Uint8Array(buffer);
  }
}
