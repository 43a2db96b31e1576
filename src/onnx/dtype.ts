// ONNX element types: their names by TensorProto.DataType code (the one list: the reader, the trace's
// input files and the analysis read it), and their sizes, which the reader checks stored data against
// and the analysis counts bytes by.

/**
 * ONNX TensorProto.DataType names, each at its code (onnx.proto: FLOAT = 1 ... FLOAT4E2M1 = 23).
 * test/dtype.test.ts checks them against the codes of the generated onnx.proto enum, which knows the
 * first 17 (the vendored onnx.proto predates the 8-bit and 4-bit types).
 */
export const DATA_TYPES = [
  'undefined',
  'float32',
  'uint8',
  'int8',
  'uint16',
  'int16',
  'int32',
  'int64',
  'string',
  'bool',
  'float16',
  'float64',
  'uint32',
  'uint64',
  'complex64',
  'complex128',
  'bfloat16',
  'float8e4m3fn',
  'float8e4m3fnuz',
  'float8e5m2',
  'float8e5m2fnuz',
  'uint4',
  'int4',
  'float4e2m1',
] as const;

/** ONNX TensorProto.DataType, by name; `unknown` for a code this list does not know. */
export type DataType = (typeof DATA_TYPES)[number] | 'unknown';

export function dataTypeName(code: number | undefined): DataType {
  return DATA_TYPES[code ?? 0] ?? 'unknown';
}

/** Bits per element of the types whose size is fixed (string and unknown types have none). */
const ELEMENT_BITS: Partial<Record<DataType, number>> = {
  float32: 32,
  uint8: 8,
  int8: 8,
  uint16: 16,
  int16: 16,
  int32: 32,
  int64: 64,
  bool: 8,
  float16: 16,
  float64: 64,
  uint32: 32,
  uint64: 64,
  complex64: 64,
  complex128: 128,
  bfloat16: 16,
  float8e4m3fn: 8,
  float8e4m3fnuz: 8,
  float8e5m2: 8,
  float8e5m2fnuz: 8,
  uint4: 4,
  int4: 4,
  float4e2m1: 4,
};

/** Bits per element; 0 for strings and unknown types. */
export function elementBits(dtype: DataType | string): number {
  return ELEMENT_BITS[dtype as DataType] ?? 0;
}

export function byteSize(dtype: DataType | string, numel: number): number {
  return Math.ceil((elementBits(dtype) * numel) / 8);
}

export function isFloating(dtype: DataType | string): boolean {
  return /^(float|bfloat|complex)/.test(dtype);
}
