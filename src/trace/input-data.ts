// The values of each input, built in the worker from its InputPlan: seeded random floats, zeros, the
// values given with --value, or a file's contents (.npy or ONNX TensorProto .pb), as the typed arrays
// onnxruntime-node takes (float16 as Uint16Array bit patterns, bool as one byte each).
import type { InputPlan } from './input-plan.ts';
import { readNpy, type NpyData } from './npy.ts';
import { readTensorProtoFile } from './tensor-proto.ts';

export type InputData = NpyData | Int8Array | Int16Array | string[];

export function inputData(plan: InputPlan): InputData {
  if (plan.source.kind === 'npy') return readNpy(plan.source.path).data;
  if (plan.source.kind === 'pb') return readTensorProtoFile(plan.source.path).data;
  const count = plan.shape.reduce((a, b) => a * b, 1);
  const data = zeros(plan.dtype, count);
  if (plan.source.kind === 'random') fillRandom(data, plan.dtype, plan.source.seed);
  if (plan.source.kind === 'values') fillValues(data, plan.dtype, plan.source.values);
  return data;
}

/** --value texts (checked by input-plan.ts parseValue) into the typed array of their dtype. */
function fillValues(data: InputData, dtype: string, values: string[]): void {
  values.forEach((text, i) => {
    if (Array.isArray(data)) data[i] = text;
    else if (data instanceof BigInt64Array || data instanceof BigUint64Array) data[i] = BigInt(text);
    else if (dtype === 'float16') data[i] = toHalfBits(Number(text));
    else data[i] = Number(text);
  });
}

function zeros(dtype: string, count: number): InputData {
  switch (dtype) {
    case 'float32':
      return new Float32Array(count);
    case 'float64':
      return new Float64Array(count);
    case 'float16':
    case 'uint16':
      return new Uint16Array(count);
    case 'int8':
      return new Int8Array(count);
    case 'int16':
      return new Int16Array(count);
    case 'int32':
      return new Int32Array(count);
    case 'uint32':
      return new Uint32Array(count);
    case 'int64':
      return new BigInt64Array(count);
    case 'uint64':
      return new BigUint64Array(count);
    case 'string':
      return new Array<string>(count).fill('');
    default: // uint8, bool
      return new Uint8Array(count);
  }
}

function fillRandom(data: InputData, dtype: string, seed: number): void {
  const next = mulberry32(seed);
  if (data instanceof Float32Array || data instanceof Float64Array) {
    for (let i = 0; i < data.length; i++) data[i] = next() * 2 - 1;
  } else if (dtype === 'float16' && data instanceof Uint16Array) {
    for (let i = 0; i < data.length; i++) data[i] = toHalfBits(next() * 2 - 1);
  }
}

/** A tiny seeded PRNG: the same seed gives the same inputs, so a trace is reproducible. */
function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** IEEE half bits of a value, rounded to nearest (ties away from zero); past 65504 it is infinite. */
export function toHalfBits(value: number): number {
  if (Number.isNaN(value)) return 0x7e00;
  const sign = value < 0 || Object.is(value, -0) ? 0x8000 : 0;
  const abs = Math.abs(value);
  if (abs < 2 ** -24) return sign;
  if (abs < 2 ** -14) return sign | Math.round(abs / 2 ** -24); // subnormal
  let exponent = Math.floor(Math.log2(abs));
  let mantissa = Math.round((abs / 2 ** exponent - 1) * 1024);
  if (mantissa === 1024) {
    mantissa = 0;
    exponent += 1;
  }
  if (exponent > 15) return sign | 0x7c00;
  return sign | ((exponent + 15) << 10) | mantissa;
}
