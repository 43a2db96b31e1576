// Sizes of ONNX element types: what the reader checks stored data against and the analysis counts bytes by.
import type { DataType } from './model.ts';

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
