// A tensor's values as canonical little-endian bytes, read only when needed for a content fingerprint.
import { createHash } from 'node:crypto';
import protobuf from 'protobufjs';
import type { ByteSource } from './byte-source.ts';
import { FileSource } from './byte-source.ts';
import type { DataType, OnnxModel, OnnxTensor } from './model.ts';
import { ModelReadError, resolveExternal } from './read-model.ts';

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

export function elementBits(dtype: DataType | string): number {
  return ELEMENT_BITS[dtype as DataType] ?? 0;
}

export function byteSize(dtype: DataType | string, numel: number): number {
  return Math.ceil((elementBits(dtype) * numel) / 8);
}

export function isFloating(dtype: DataType | string): boolean {
  return /^(float|bfloat|complex)/.test(dtype);
}

/** Reads tensor values of one model; keeps the model and external files open until close(). */
export class TensorReader {
  private readonly sources = new Map<string, ByteSource>();
  /** The last tensor read: the analysis asks for one tensor's uniformity and fingerprint in a row. */
  private last: { tensor: OnnxTensor; bytes: Uint8Array } | undefined;

  constructor(private readonly model: OnnxModel) {}

  bytes(tensor: OnnxTensor): Uint8Array {
    if (this.last?.tensor !== tensor) this.last = { tensor, bytes: this.read(tensor) };
    return this.last.bytes;
  }

  private read(tensor: OnnxTensor): Uint8Array {
    const data = tensor.data;
    const expected = byteSize(tensor.dataType, tensor.numel);
    switch (data.kind) {
      case 'none':
        return new Uint8Array(0);
      case 'in-file': {
        const raw = Uint8Array.from(this.source(this.model.file.path).read(data.offset, data.length));
        return data.field === 'raw_data' ? raw : fromTypedField(tensor, data.field, raw);
      }
      case 'inline':
        if (data.bytes)
          return data.field === 'raw_data' ? data.bytes : fromTypedField(tensor, data.field, data.bytes);
        return fromValues(tensor, data.values ?? []);
      case 'external': {
        const file = resolveExternal(this.model.file.path, data.location, tensor.name);
        const length = data.length ?? expected;
        try {
          return Uint8Array.from(this.source(file).read(data.offset, length));
        } catch (error) {
          throw new ModelReadError(
            this.model.file.path,
            `cannot read external data of '${tensor.name}': ${(error as Error).message}`,
          );
        }
      }
    }
  }

  /** sha256 of the canonical bytes, hex. */
  fingerprint(tensor: OnnxTensor): string {
    return createHash('sha256').update(this.bytes(tensor)).digest('hex');
  }

  /** sha256 of the bytes of the 2-D tensor's transpose. */
  transposedFingerprint(tensor: OnnxTensor): string | undefined {
    const bits = elementBits(tensor.dataType);
    if (tensor.dims.length !== 2 || bits < 8) return undefined;
    const [rows, cols] = tensor.dims as [number, number];
    const size = bits / 8;
    const bytes = this.bytes(tensor);
    const out = new Uint8Array(bytes.length);
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < cols; c++) {
        const from = (r * cols + c) * size;
        out.set(bytes.subarray(from, from + size), (c * rows + r) * size);
      }
    }
    return createHash('sha256').update(out).digest('hex');
  }

  /** True when every element has the same value (fresh zeros/ones): a sign of init, not of learning. */
  isUniform(tensor: OnnxTensor): boolean {
    const bytes = this.bytes(tensor);
    const size = Math.max(1, elementBits(tensor.dataType) / 8);
    for (let i = size; i < bytes.length; i += size) {
      for (let b = 0; b < size; b++) if (bytes[i + b] !== bytes[b]) return false;
    }
    return true;
  }

  close(): void {
    for (const s of this.sources.values()) s.close();
    this.sources.clear();
  }

  private source(file: string): ByteSource {
    let source = this.sources.get(file);
    if (!source) {
      source = new FileSource(file);
      this.sources.set(file, source);
    }
    return source;
  }
}

/** Packed typed fields: float_data and double_data are already little-endian; the varint fields are not. */
function fromTypedField(tensor: OnnxTensor, field: string, packed: Uint8Array): Uint8Array {
  if (field === 'float_data' || field === 'double_data') return packed;
  const reader = protobuf.Reader.create(packed);
  const values: (number | bigint)[] = [];
  while (reader.pos < reader.len) {
    if (field === 'int32_data') values.push(reader.int32());
    else values.push(BigInt((field === 'uint64_data' ? reader.uint64() : reader.int64()).toString()));
  }
  return fromValues(tensor, values);
}

function fromValues(tensor: OnnxTensor, values: readonly (number | bigint)[]): Uint8Array {
  const bits = elementBits(tensor.dataType);
  const out = new DataView(new ArrayBuffer(Math.ceil((bits * values.length) / 8)));
  values.forEach((v, i) => {
    switch (tensor.dataType) {
      case 'float32':
      case 'complex64':
        return out.setFloat32(i * 4, Number(v), true);
      case 'float64':
      case 'complex128':
        return out.setFloat64(i * 8, Number(v), true);
      case 'int64':
        return out.setBigInt64(i * 8, BigInt(v), true);
      case 'uint64':
        return out.setBigUint64(i * 8, BigInt(v), true);
      case 'int32':
        return out.setInt32(i * 4, Number(v), true);
      case 'uint32':
        return out.setUint32(i * 4, Number(v), true);
      default:
        // 8- and 16-bit types are stored one per int32_data element, as their bit pattern.
        if (bits === 16) return out.setUint16(i * 2, Number(v) & 0xffff, true);
        if (bits === 8) return out.setUint8(i, Number(v) & 0xff);
        return undefined;
    }
  });
  return new Uint8Array(out.buffer);
}
