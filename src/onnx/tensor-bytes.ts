// A tensor's values as canonical little-endian bytes, read only when needed for a content fingerprint.
import { createHash } from 'node:crypto';
import protobuf from 'protobufjs/minimal.js';
import type { ByteSource } from './byte-source.ts';
import { FileSource } from './byte-source.ts';
import { byteSize, elementBits } from './dtype.ts';
import type { OnnxModel, OnnxTensor, TensorField } from './model.ts';
import { externalDataOf, ModelReadError } from './read-model.ts';
import { Workspace } from './transpose.ts';

/** Sampled elements per tensor: runs of consecutive elements at fixed, pseudo-random positions. */
const SAMPLE_RUNS = 8;
const SAMPLE_RUN = 8;
/**
 * Tensors up to this many bytes are "sampled" whole: their key is a hash of their content. One read of
 * 64 KiB costs about what the sampled runs' reads do (a system call each), and settles equality at once.
 */
const EXACT_KEY_BYTES = 64 << 10;
/** Weight bytes are streamed through buffers of this size (hashing, comparing, checking uniformity). */
const BLOCK = 4 << 20;
/** The transpose of a large tensor is built in slabs of at least this size (and at most 8 passes). */
const MIN_SLAB = 16 << 20;
const MAX_PASSES = 8;
/** External data files kept open at once. */
const MAX_OPEN = 64;

/**
 * A cheap content key: equal contents always give equal keys. `exact` when the key hashes the whole
 * content (small tensors), so equal keys mean equal contents (as equal sha256 fingerprints do);
 * otherwise it hashes the length and a sample of the elements, and equal keys still need a full
 * comparison.
 */
export interface SampleKey {
  key: string;
  exact: boolean;
}

/** A tensor's canonical bytes, where they can be read without decoding: a range of a file, or memory. */
type Located = { source: ByteSource; offset: number; length: number } | { bytes: Uint8Array };

/**
 * Reads tensor values of one model; keeps the model and external files open until close(). Large weights
 * are never held whole: their keys come from a few sampled elements (tensors up to EXACT_KEY_BYTES are
 * read whole), and hashing, comparing and transposing stream the bytes in blocks. Results are cached per
 * tensor.
 */
export class TensorReader {
  private readonly sources = new Map<string, ByteSource>();
  /** The last tensor decoded from a varint field: uniformity and fingerprint ask for it in a row. */
  private last: { tensor: OnnxTensor; bytes: Uint8Array } | undefined;
  private readonly samples = new Map<OnnxTensor, SampleKey & { allEqual: boolean }>();
  private readonly uniform = new Map<OnnxTensor, boolean>();
  private readonly fingerprints = new Map<OnnxTensor, string>();
  /** The memory all reads of weight bytes go into (made at first use, dropped by close()). */
  private workspace: Workspace | undefined;

  constructor(private readonly model: OnnxModel) {}

  /** The canonical little-endian bytes, whole (a copy). Only for small tensors and tests. */
  bytes(tensor: OnnxTensor): Uint8Array {
    const at = this.locate(tensor);
    if ('bytes' in at) return at.bytes;
    return this.readRange(at, at.offset, new Uint8Array(at.length), tensor);
  }

  /** sha256 of the canonical bytes, hex; streamed. */
  fingerprint(tensor: OnnxTensor): string {
    let hash = this.fingerprints.get(tensor);
    if (hash === undefined) {
      const sha = createHash('sha256');
      this.stream(tensor, (block) => void sha.update(block));
      hash = sha.digest('hex');
      this.fingerprints.set(tensor, hash);
    }
    return hash;
  }

  /** sha256 of the bytes of the 2-D tensor's transpose; built in slabs, never the whole tensor twice. */
  transposedFingerprint(tensor: OnnxTensor): string | undefined {
    const sha = createHash('sha256');
    return this.transposed(tensor, (slab) => void sha.update(slab)) ? sha.digest('hex') : undefined;
  }

  /** True when every element has the same value (fresh zeros/ones): a sign of init, not of learning. */
  isUniform(tensor: OnnxTensor): boolean {
    let result = this.uniform.get(tensor);
    if (result === undefined) {
      result = this.checkUniform(tensor);
      this.uniform.set(tensor, result);
    }
    return result;
  }

  /** The tensor's sample key (see SampleKey). */
  sampleKey(tensor: OnnxTensor): SampleKey {
    let sample = this.samples.get(tensor);
    if (!sample) {
      sample = this.makeSampleKey(tensor);
      this.samples.set(tensor, sample);
    }
    return { key: sample.key, exact: sample.exact };
  }

  /** The sample key its transpose would have: equals sampleKey(o) whenever o holds this tensor transposed. */
  transposedSampleKey(tensor: OnnxTensor): SampleKey | undefined {
    const shape = this.matrix(tensor);
    if (!shape) return undefined;
    const { rows, cols, unit } = shape;
    const at = this.locate(tensor);
    if (shape.length <= EXACT_KEY_BYTES) {
      const parts: Uint8Array[] = [];
      this.transposed(tensor, (slab) => void parts.push(Uint8Array.from(slab)));
      return { key: exactKey(sha256(concat(parts))), exact: true };
    }
    // Element p of the transpose (cols x rows) is element (p % rows, p / rows) of the tensor.
    const count = shape.length / unit;
    const out = new Uint8Array(SAMPLE_RUNS * SAMPLE_RUN * unit);
    let n = 0;
    for (const start of sampleStarts(count)) {
      for (let p = start; p < start + SAMPLE_RUN; p++) {
        const from = ((p % rows) * cols + Math.floor(p / rows)) * unit;
        this.readPart(at, from, out.subarray(n * unit, (n + 1) * unit), tensor);
        n++;
      }
    }
    return { key: sampledKey(shape.length, out), exact: false };
  }

  /**
   * How many distinct values the tensor holds, when that is at most `ratio` of its elements: a table
   * gathered by constant indices repeats its entries. Undefined as soon as the values seen are nearly all
   * distinct (a weight: settled within its first elements, without reading the rest), and for elements
   * that are not 2, 4 or 8 bytes.
   */
  distinctValues(tensor: OnnxTensor, ratio = 0.5): number | undefined {
    const unit = sampleUnit(tensor);
    if (unit !== 2 && unit !== 4 && unit !== 8) return undefined;
    const seen = new Set<number | bigint>();
    let elements = 0;
    let lookup = true;
    this.stream(tensor, (block) => {
      const view = new DataView(block.buffer, block.byteOffset, block.length - (block.length % unit));
      for (let at = 0; at < view.byteLength; at += unit) {
        seen.add(
          unit === 2
            ? view.getUint16(at, true)
            : unit === 4
              ? view.getUint32(at, true)
              : view.getBigUint64(at, true),
        );
        elements++;
        // After a few thousand elements a weight's values are still nearly all distinct; a lookup's are
        // not. Checked as it goes: a block holds a million elements, and a weight is most of the model.
        if (elements % 1024 === 0 && elements >= 4096 && seen.size > 0.9 * elements) {
          lookup = false;
          return false;
        }
      }
      return true;
    });
    return lookup && seen.size <= ratio * elements ? seen.size : undefined;
  }

  /** Whether two tensors hold the same bytes; streamed, block against block. */
  sameContent(a: OnnxTensor, b: OnnxTensor): boolean {
    const [at, bt] = [this.locate(a), this.locate(b)];
    const length = lengthOf(at);
    if (length !== lengthOf(bt)) return false;
    const { block: one, slab: two } = this.buffers(Math.min(BLOCK, length), Math.min(BLOCK, length));
    for (let offset = 0; offset < length; offset += BLOCK) {
      const size = Math.min(BLOCK, length - offset);
      const x = this.readPart(at, offset, one.subarray(0, size), a);
      const y = this.readPart(bt, offset, two.subarray(0, size), b);
      if (!Buffer.from(x.buffer, x.byteOffset, size).equals(y)) return false;
    }
    return true;
  }

  /** Whether `other` holds the 2-D `tensor` transposed; streamed slab by slab. */
  isTransposeOf(tensor: OnnxTensor, other: OnnxTensor): boolean {
    const ot = this.locate(other);
    const shape = this.matrix(tensor);
    if (!shape || lengthOf(ot) !== shape.length) return false;
    let offset = 0;
    let same = true;
    this.transposed(tensor, (slab, block) => {
      // The block held the tensor's rows while the slab was built; it is free until the next slab.
      for (let at = 0; same && at < slab.length; at += block.length) {
        const size = Math.min(block.length, slab.length - at);
        const y = this.readPart(ot, offset + at, block.subarray(0, size), other);
        same = Buffer.from(slab.buffer, slab.byteOffset + at, size).equals(y);
      }
      offset += slab.length;
      return same;
    });
    return same;
  }

  close(): void {
    for (const s of this.sources.values()) s.close();
    this.sources.clear();
    this.workspace = undefined;
  }

  private makeSampleKey(tensor: OnnxTensor): SampleKey & { allEqual: boolean } {
    const at = this.locate(tensor);
    const length = lengthOf(at);
    const unit = sampleUnit(tensor);
    if (length <= EXACT_KEY_BYTES) {
      const bytes = 'bytes' in at ? at.bytes : this.readPart(at, 0, new Uint8Array(length), tensor);
      // The whole content was read: its hash is the fingerprint too, and uniformity is settled.
      const digest = sha256(bytes);
      this.fingerprints.set(tensor, digest.toString('hex'));
      return { key: exactKey(digest), exact: true, allEqual: allEqual(bytes, unit) };
    }
    const out = new Uint8Array(SAMPLE_RUNS * SAMPLE_RUN * unit);
    sampleStarts(Math.floor(length / unit)).forEach((start, i) => {
      const run = out.subarray(i * SAMPLE_RUN * unit, (i + 1) * SAMPLE_RUN * unit);
      this.readPart(at, start * unit, run, tensor);
    });
    return { key: sampledKey(length, out), exact: false, allEqual: allEqual(out, unit) };
  }

  private checkUniform(tensor: OnnxTensor): boolean {
    const unit = sampleUnit(tensor);
    // Sampled elements that differ settle it without reading the tensor, and so does a tensor read whole.
    this.sampleKey(tensor);
    const sample = this.samples.get(tensor)!;
    if (!sample.allEqual || sample.exact) return sample.allEqual;
    let first: Buffer | undefined;
    let uniform = true;
    // Every element equals the next one (one memcmp per block), and each block starts with the first.
    this.stream(tensor, (block) => {
      const bytes = Buffer.from(block.buffer, block.byteOffset, block.length - (block.length % unit));
      if (bytes.length === 0) return true;
      first ??= Buffer.from(bytes.subarray(0, unit));
      uniform =
        first.equals(bytes.subarray(0, unit)) &&
        bytes.subarray(unit).equals(bytes.subarray(0, bytes.length - unit));
      return uniform;
    });
    return uniform;
  }

  /** Calls `visit` with consecutive blocks of the canonical bytes until it returns false. */
  private stream(tensor: OnnxTensor, visit: (block: Uint8Array) => boolean | void): void {
    const at = this.locate(tensor);
    if ('bytes' in at) {
      visit(at.bytes);
      return;
    }
    const { block } = this.buffers(Math.min(BLOCK, at.length), 0);
    for (let offset = 0; offset < at.length; offset += BLOCK) {
      const size = Math.min(BLOCK, at.length - offset);
      if (visit(this.readPart(at, offset, block.subarray(0, size), tensor)) === false) return;
    }
  }

  /**
   * Calls `visit` with the bytes of the 2-D tensor's transpose, in order, one slab (a band of the
   * transpose's rows, the tensor's columns) at a time, until it returns false; `block` is free for the
   * visitor's own reads until the next slab. Each slab is one pass over the tensor in row blocks; slabs
   * are large enough that there are at most a few passes.
   * Returns false when the tensor is not a matrix of whole-byte elements.
   */
  private transposed(
    tensor: OnnxTensor,
    visit: (slab: Uint8Array, block: Uint8Array) => boolean | void,
  ): boolean {
    const shape = this.matrix(tensor);
    if (!shape) return false;
    const { rows, cols, unit, length } = shape;
    const at = this.locate(tensor);
    const slabBytes = Math.min(length, Math.max(MIN_SLAB, Math.ceil(length / MAX_PASSES)));
    const width = Math.max(1, Math.floor(slabBytes / (rows * unit)));
    const rowBytes = cols * unit;
    const blockRows = Math.max(1, Math.min(rows, Math.floor(BLOCK / rowBytes)));
    const workspace = this.work();
    const { block, slab } = workspace.buffers(blockRows * rowBytes, width * rows * unit);
    for (let c0 = 0; c0 < cols; c0 += width) {
      const c1 = Math.min(cols, c0 + width);
      for (let r0 = 0; r0 < rows; r0 += blockRows) {
        const r1 = Math.min(rows, r0 + blockRows);
        const band = this.readPart(at, r0 * rowBytes, block.subarray(0, (r1 - r0) * rowBytes), tensor);
        workspace.transpose(unit, band, slab, { r0, r1, c0, c1, rows, cols });
      }
      if (visit(slab.subarray(0, (c1 - c0) * rows * unit), block) === false) break;
    }
    return true;
  }

  /** A block and a slab of these sizes from the workspace, valid until the next call. */
  private buffers(blockBytes: number, slabBytes: number): { block: Uint8Array; slab: Uint8Array } {
    return this.work().buffers(blockBytes, slabBytes);
  }

  private work(): Workspace {
    return (this.workspace ??= new Workspace());
  }

  /** rows, cols and element size of a 2-D tensor of whole-byte elements whose bytes are all there. */
  private matrix(
    tensor: OnnxTensor,
  ): { rows: number; cols: number; unit: number; length: number } | undefined {
    const bits = elementBits(tensor.dataType);
    if (tensor.dims.length !== 2 || bits < 8) return undefined;
    const [rows, cols] = tensor.dims as [number, number];
    const unit = bits / 8;
    const length = rows * cols * unit;
    if (length === 0 || lengthOf(this.locate(tensor)) !== length) return undefined;
    return { rows, cols, unit, length };
  }

  /** Where the canonical bytes are; decodes (and keeps, for the next call) varint-encoded values. */
  private locate(tensor: OnnxTensor): Located {
    const data = tensor.data;
    switch (data.kind) {
      case 'none':
        return { bytes: new Uint8Array(0) };
      case 'in-file': {
        const source = this.source(this.model.file.path);
        if (data.field === 'raw_data' || data.field === 'float_data' || data.field === 'double_data')
          return { source, offset: data.offset, length: data.length };
        return { bytes: this.decoded(tensor, () => Uint8Array.from(source.read(data.offset, data.length))) };
      }
      case 'inline':
        if (
          data.bytes &&
          (data.field === 'raw_data' || data.field === 'float_data' || data.field === 'double_data')
        )
          return { bytes: data.bytes };
        return { bytes: this.decoded(tensor, () => data.bytes ?? new Uint8Array(0)) };
      case 'external': {
        const file = this.external(data.location, tensor.name);
        const length = data.length ?? byteSize(tensor.dataType, tensor.numel);
        let source: ByteSource;
        try {
          source = this.source(file);
        } catch (error) {
          throw this.externalError(tensor, error);
        }
        if (data.offset + length > source.size) {
          throw this.externalError(
            tensor,
            new RangeError(
              `read past the end of the file (bytes ${data.offset}..${data.offset + length} of ${source.size})`,
            ),
          );
        }
        return { source, offset: data.offset, length };
      }
    }
  }

  private decoded(tensor: OnnxTensor, packed: () => Uint8Array): Uint8Array {
    if (this.last?.tensor !== tensor) {
      const data = tensor.data as { field: TensorField; values?: readonly (number | bigint)[] };
      let bytes: Uint8Array;
      try {
        bytes = data.values ? fromValues(tensor, data.values) : fromTypedField(tensor, data.field, packed());
      } catch (error) {
        // A packed varint field cut short or overlong (protobufjs throws a RangeError or an Error).
        if (error instanceof ModelReadError) throw error;
        throw new ModelReadError(
          this.model.file.path,
          `cannot decode the ${data.field} of '${tensor.name}': ${(error as Error).message}`,
        );
      }
      this.last = { tensor, bytes };
    }
    return this.last.bytes;
  }

  /** Bytes [from, from + into.length) of the located tensor, into `into`. */
  private readPart(at: Located, from: number, into: Uint8Array, tensor: OnnxTensor): Uint8Array {
    if ('bytes' in at) {
      into.set(at.bytes.subarray(from, from + into.length));
      return into;
    }
    return this.readRange(at, at.offset + from, into, tensor);
  }

  private readRange(
    at: { source: ByteSource },
    offset: number,
    into: Uint8Array,
    tensor: OnnxTensor,
  ): Uint8Array {
    try {
      return at.source.readInto(offset, into);
    } catch (error) {
      if (tensor.data.kind === 'external') throw this.externalError(tensor, error);
      throw new ModelReadError(
        this.model.file.path,
        `cannot read the values of '${tensor.name}': ${(error as Error).message}`,
      );
    }
  }

  private externalError(tensor: OnnxTensor, error: unknown): ModelReadError {
    if (error instanceof ModelReadError) return error;
    return new ModelReadError(
      this.model.file.path,
      `cannot read external data of '${tensor.name}': ${(error as Error).message}`,
    );
  }

  /** The path of an external data file, checked once per location for the model (externalDataOf). */
  private external(location: string, tensorName: string): string {
    return externalDataOf(this.model).resolve(location, tensorName).path;
  }

  /** An open file; at most MAX_OPEN external files stay open (one file per tensor is common). */
  private source(file: string): ByteSource {
    let source = this.sources.get(file);
    if (source) {
      // Most recently used last.
      this.sources.delete(file);
      this.sources.set(file, source);
      return source;
    }
    source = new FileSource(file);
    this.sources.set(file, source);
    if (this.sources.size > MAX_OPEN) {
      for (const [name, open] of this.sources) {
        if (name === this.model.file.path) continue;
        open.close();
        this.sources.delete(name);
        break;
      }
    }
    return source;
  }
}

function lengthOf(at: Located): number {
  return 'bytes' in at ? at.bytes.length : at.length;
}

/** Bytes per sampled element: the element's size, or one byte for sub-byte and unknown types. */
function sampleUnit(tensor: OnnxTensor): number {
  const bits = elementBits(tensor.dataType);
  return bits >= 8 ? bits / 8 : 1;
}

/** First elements of the sampled runs: the first run, the last, and pseudo-random ones fixed by the count. */
function sampleStarts(count: number): number[] {
  const last = Math.max(0, count - SAMPLE_RUN);
  const starts = [0, last];
  let state = count >>> 0 || 1;
  while (starts.length < SAMPLE_RUNS) {
    // xorshift32: the same count always gives the same positions.
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    starts.push(Math.floor((state / 2 ** 32) * (last + 1)));
  }
  return starts;
}

/** The key of a small tensor: its content, by hash (keys of many tensors are kept at once). */
function exactKey(digest: Buffer): string {
  return `x${digest.toString('base64')}`;
}

function sha256(bytes: Uint8Array): Buffer {
  return createHash('sha256').update(bytes).digest();
}

/** The key of a large tensor: its length and the sampled elements, by hash. */
function sampledKey(length: number, sample: Uint8Array): string {
  return `s${length}:${sha256(sample).toString('base64')}`;
}

/** Whether all `unit`-byte elements of `bytes` are equal. */
function allEqual(bytes: Uint8Array, unit: number): boolean {
  for (let i = unit; i + unit <= bytes.length; i += unit) {
    for (let b = 0; b < unit; b++) if (bytes[i + b] !== bytes[b]) return false;
  }
  return true;
}

function concat(parts: Uint8Array[]): Uint8Array {
  return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
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
