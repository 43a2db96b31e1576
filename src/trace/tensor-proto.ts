// A small reader for input values saved as one serialized ONNX TensorProto (the `input_0.pb` files of
// ONNX's backend tests, `onnx.numpy_helper.from_array(a).SerializeToString()`). Self-contained on
// purpose: it runs in the trace worker, which must not load protobufjs, and needs only these fields:
// 1 dims, 2 data_type, 4 float_data, 5 int32_data, 6 string_data, 7 int64_data, 8 name, 9 raw_data,
// 10 double_data, 11 uint64_data (13/14, external data, are refused). Values come back as the typed
// arrays onnxruntime-node takes (float16 as Uint16Array bit patterns, bool as one byte each), like npy.ts.
import { readFileSync } from 'node:fs';
import { MemorySource } from '../onnx/byte-source.ts';
import type { DataType } from '../onnx/model.ts';
import { DATA_TYPES as ONNX_DATA_TYPES } from '../onnx/dtype.ts';
import {
  fieldsOf,
  readRepeatedVarints,
  readVarint,
  WireFormatError,
  WireType,
  type FieldAt,
} from '../onnx/wire.ts';
import { TraceInputError } from './errors.ts';
import { typedArray, type NpyData } from './npy.ts';

/** ONNX TensorProto.DataType numbers of the element types onnxruntime-node can feed. */
const DATA_TYPES = {
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
} as const satisfies Record<number, DataType>;

/** An element type a TensorProto input file may hold: one of DATA_TYPES'. */
export type TensorProtoDtype = (typeof DATA_TYPES)[keyof typeof DATA_TYPES];

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

/** Decodes one serialized TensorProto; `file` names it in errors. */
export function decodeTensorProto(bytes: Uint8Array, file = 'TensorProto'): TensorProtoArray {
  const fail = (problem: string): never => {
    throw new TraceInputError(`input file ${file} is not an ONNX TensorProto (.pb) or .npy file: ${problem}`);
  };
  try {
    return decode(bytes, file, fail);
  } catch (error) {
    if (error instanceof WireFormatError) return fail(error.message);
    throw error;
  }
}

function decode(bytes: Uint8Array, file: string, fail: (why: string) => never): TensorProtoArray {
  const source = new MemorySource(bytes);
  const fields = fieldsOf(source, 0, bytes.length);
  const text = (f: FieldAt): string => new TextDecoder().decode(bytes.subarray(f.valueStart, f.end));
  const dims: bigint[] = [];
  let dataType: number | undefined;
  let name = '';
  let raw: FieldAt | undefined;
  // The typed values (float_data, int32_data, ...) by field, in file order, packed or not.
  const typed = new Map<number, FieldAt[]>();
  for (const f of fields) {
    const delimited = f.wireType === WireType.LENGTH_DELIMITED;
    if (f.id === 1) dims.push(...readRepeatedVarints(source, f));
    else if (f.id === 2 && !delimited) dataType = readVarint(source, f);
    else if (f.id === 8 && delimited) name = text(f);
    else if (f.id === 9 && delimited) raw = f;
    else if (f.id === 13 || (f.id === 14 && !delimited && readVarint(source, f) === 1))
      fail('its data is external (data_location EXTERNAL)');
    else if ([4, 5, 6, 7, 10, 11].includes(f.id)) typed.set(f.id, [...(typed.get(f.id) ?? []), f]);
  }
  if (dataType === undefined) return fail('no data_type (field 2)');
  const dtype: TensorProtoDtype | undefined = DATA_TYPES[dataType as keyof typeof DATA_TYPES];
  if (!dtype) {
    throw new TraceInputError(
      `input file ${file} holds ONNX data type ${ONNX_DATA_TYPES[dataType] ?? dataType}, which onnxruntime-node cannot feed`,
    );
  }
  const shape = dims.map((d) => {
    if (d < 0n || d > BigInt(Number.MAX_SAFE_INTEGER)) fail(`a bad dimension ${d}`);
    return Number(d);
  });
  const count = shape.reduce((a, b) => a * b, 1);
  const data = raw
    ? fromRaw(bytes, raw, dtype, count, file)
    : fromTyped(source, typed.get(FIELD_OF[dtype]) ?? [], dtype, shape, file, fail);
  return { name, dtype, shape, data };
}

function fromRaw(
  bytes: Uint8Array,
  raw: FieldAt,
  dtype: TensorProtoDtype,
  count: number,
  file: string,
): NpyData | string[] {
  if (dtype === 'string')
    throw new TraceInputError(`input file ${file} holds strings in raw_data, which ONNX does not allow`);
  const size = ELEMENT_SIZE[dtype];
  const length = raw.end - raw.valueStart;
  if (length !== count * size) {
    throw new TraceInputError(
      `input file ${file} holds ${length} bytes of raw_data, but ${count} ${dtype} values need ${count * size}`,
    );
  }
  // A fresh, aligned copy: the payload's offset in the file need not be a multiple of the element size.
  const buffer = new ArrayBuffer(length);
  new Uint8Array(buffer).set(bytes.subarray(raw.valueStart, raw.end));
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
  source: MemorySource,
  records: FieldAt[],
  dtype: TensorProtoDtype,
  shape: number[],
  file: string,
  fail: (why: string) => never,
): NpyData | string[] {
  const count = shape.reduce((a, b) => a * b, 1);
  const values: (number | bigint | string)[] = [];
  for (const f of records) {
    const payload = source.read(f.valueStart, f.end - f.valueStart);
    if (dtype === 'string') values.push(new TextDecoder().decode(payload));
    else if (f.id === 4 || f.id === 10) {
      // float_data / double_data: fixed32 / fixed64, one per record or packed.
      const size = f.id === 4 ? 4 : 8;
      if (payload.length % size !== 0) fail(`a packed field ${f.id} that ends inside a value`);
      const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
      for (let at = 0; at < payload.length; at += size)
        values.push(size === 4 ? view.getFloat32(at, true) : view.getFloat64(at, true));
    } else values.push(...readRepeatedVarints(source, f, f.id === 11 ? 'uint64' : 'int64'));
  }
  if (values.length !== count) {
    throw new TraceInputError(
      `input file ${file} holds ${values.length} ${dtype} values, but its shape [${shape.join(', ')}] needs ${count}`,
    );
  }
  if (dtype === 'string') return values as string[];
  const out = typedArray(dtype, new ArrayBuffer(count * ELEMENT_SIZE[dtype]));
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
