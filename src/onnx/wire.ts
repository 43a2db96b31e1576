// Protobuf wire format, the one layer through which paramtrace reads and rewrites model bytes: varints of
// 1 to 10 bytes, field headers, where each field of a message lies in a ByteSource, and writing varints.
// A negative int64 (and a negative int32 or enum value) is a 10-byte varint, its 64-bit two's complement.
// No protobufjs here: the trace worker's bundle uses this layer without it.
import type { ByteSource } from './byte-source.ts';

/** Malformed protobuf: where and what. */
export class WireFormatError extends Error {}

/** The wire types ONNX files use; 3 and 4 (groups) are not among them. */
export const WireType = { VARINT: 0, FIXED64: 1, LENGTH_DELIMITED: 2, FIXED32: 5 } as const;

/** 64 bits at 7 a byte. */
export const MAX_VARINT_BYTES = 10;
/** A field header, with the varint value of a varint field, fits in this many bytes. */
export const MAX_HEADER_BYTES = 2 * MAX_VARINT_BYTES;

export interface FieldHeader {
  /** Field number. */
  id: number;
  wireType: number;
  /** Bytes of the tag, and of the length of a length-delimited field. */
  headerLength: number;
  /** Bytes of the value: the payload of a length-delimited field, else the scalar. */
  valueLength: number;
}

export interface FieldAt {
  /** Field number. */
  id: number;
  wireType: number;
  /** Where the field starts (its tag). */
  start: number;
  /** Where its value starts: the payload of a length-delimited field, else the scalar. */
  valueStart: number;
  /** Where the field ends. */
  end: number;
}

const TOO_LONG = -1;
const TRUNCATED = -2;

/** The index after the varint at bytes[at], or TOO_LONG, or TRUNCATED when `bytes` ends inside it. */
function scanVarint(bytes: Uint8Array, at: number): number {
  const limit = Math.min(bytes.length, at + MAX_VARINT_BYTES);
  for (let i = at; i < limit; i++) if (bytes[i]! < 0x80) return i + 1;
  return limit === at + MAX_VARINT_BYTES ? TOO_LONG : TRUNCATED;
}

function varintProblem(scanned: number, bytesEnd: number): string {
  return scanned === TOO_LONG ? 'longer than 10 bytes' : `cut short at byte ${bytesEnd}`;
}

/**
 * The index after the varint that starts at bytes[at]. `position` is where bytes[0] lies in the file, for
 * the error: a varint longer than 10 bytes, or cut short by the end of `bytes`, is a WireFormatError.
 */
export function varintEnd(bytes: Uint8Array, at: number, position: number): number {
  const end = scanVarint(bytes, at);
  if (end < 0) {
    throw new WireFormatError(
      `malformed varint at byte ${position + at}: ${varintProblem(end, position + bytes.length)}`,
    );
  }
  return end;
}

/** The varint in bytes [from, to) as an unsigned 64-bit integer: exact below 2^53, else the nearest double. */
export function uint64Of(bytes: Uint8Array, from: number, to: number): number {
  // Seven bytes hold 49 bits: the sum stays exact. Longer ones go through a bigint.
  if (to - from > 7) return Number(uint64BigOf(bytes, from, to));
  let value = 0;
  for (let i = to - 1; i >= from; i--) value = value * 128 + (bytes[i]! & 0x7f);
  return value;
}

/** The varint in bytes [from, to) as an unsigned 64-bit integer, exactly (bits past the 64th dropped). */
export function uint64BigOf(bytes: Uint8Array, from: number, to: number): bigint {
  let value = 0n;
  for (let i = to - 1; i >= from; i--) value = (value << 7n) | BigInt(bytes[i]! & 0x7f);
  return BigInt.asUintN(64, value);
}

/**
 * The varint in bytes [from, to) as a signed 64-bit integer (int64, int32 and enum fields): exact within
 * ±2^53, else the nearest double.
 */
export function int64Of(bytes: Uint8Array, from: number, to: number): number {
  return to - from > 7 ? Number(int64BigOf(bytes, from, to)) : uint64Of(bytes, from, to);
}

/** The varint in bytes [from, to) as a signed 64-bit integer, exactly. */
export function int64BigOf(bytes: Uint8Array, from: number, to: number): bigint {
  return BigInt.asIntN(64, uint64BigOf(bytes, from, to));
}

/**
 * The header of the field that starts at head[0], which is byte `position` of the file; `head` runs to
 * the end of the enclosing message or MAX_HEADER_BYTES, whichever comes first. The value's length is not
 * checked against the message: that is the caller's.
 */
export function readFieldHeader(head: Uint8Array, position: number): FieldHeader {
  const tagEnd = scanVarint(head, 0);
  if (tagEnd < 0) {
    throw new WireFormatError(
      `malformed field header at byte ${position}: tag ${varintProblem(tagEnd, position + head.length)}`,
    );
  }
  const tag = uint64Of(head, 0, tagEnd);
  // Tags are 32-bit (field numbers below 2^29): a longer one would lose its wire type to rounding.
  if (tag > 0xffffffff)
    throw new WireFormatError(`malformed field header at byte ${position}: tag ${tag} is over 32 bits`);
  const id = tag >>> 3;
  const wireType = tag & 7;
  if (id === 0) throw new WireFormatError(`field number 0 at byte ${position}`);
  switch (wireType) {
    case WireType.VARINT:
      return { id, wireType, headerLength: tagEnd, valueLength: varintEnd(head, tagEnd, position) - tagEnd };
    case WireType.FIXED64:
      return { id, wireType, headerLength: tagEnd, valueLength: 8 };
    case WireType.LENGTH_DELIMITED: {
      const lengthEnd = scanVarint(head, tagEnd);
      if (lengthEnd < 0) {
        throw new WireFormatError(
          `malformed field header at byte ${position}: length ${varintProblem(lengthEnd, position + head.length)}`,
        );
      }
      return { id, wireType, headerLength: lengthEnd, valueLength: uint64Of(head, tagEnd, lengthEnd) };
    }
    case WireType.FIXED32:
      return { id, wireType, headerLength: tagEnd, valueLength: 4 };
    case 3:
    case 4:
      throw new WireFormatError(
        `unsupported wire type ${wireType} (a group, which ONNX does not use) at byte ${position}`,
      );
    default:
      throw new WireFormatError(`unsupported wire type ${wireType} at byte ${position}`);
  }
}

/** The fields of the message in [start, end), in order. */
export function fieldsOf(source: ByteSource, start: number, end: number): FieldAt[] {
  const fields: FieldAt[] = [];
  let pos = start;
  while (pos < end) {
    const { id, wireType, headerLength, valueLength } = readFieldHeader(
      source.read(pos, Math.min(MAX_HEADER_BYTES, end - pos)),
      pos,
    );
    const valueStart = pos + headerLength;
    const fieldEnd = valueStart + valueLength;
    if (fieldEnd > end) {
      throw new WireFormatError(`field ${id} at byte ${pos} runs past the end of its message (byte ${end})`);
    }
    fields.push({ id, wireType, start: pos, valueStart, end: fieldEnd });
    pos = fieldEnd;
  }
  return fields;
}

function checkVarintField(field: FieldAt): void {
  if (field.wireType !== WireType.VARINT) {
    throw new WireFormatError(
      `field ${field.id} at byte ${field.start} has wire type ${field.wireType}, not a varint`,
    );
  }
}

/**
 * The value of a varint field as a number, read as a signed 64-bit integer: exact for int32 and enum
 * fields (data_type, an attribute's type, data_location), and for int64 values within ±2^53.
 */
export function readVarint(source: ByteSource, field: FieldAt): number {
  checkVarintField(field);
  return int64Of(
    source.read(field.valueStart, field.end - field.valueStart),
    0,
    field.end - field.valueStart,
  );
}

/** The value of a varint field, exactly: as int64 (int64, int32, enum fields) or uint64. */
export function readVarintExact(
  source: ByteSource,
  field: FieldAt,
  as: 'int64' | 'uint64' = 'int64',
): bigint {
  checkVarintField(field);
  const bytes = source.read(field.valueStart, field.end - field.valueStart);
  return as === 'int64' ? int64BigOf(bytes, 0, bytes.length) : uint64BigOf(bytes, 0, bytes.length);
}

/**
 * The values of one occurrence of a repeated varint field, exactly: packed (length-delimited, any number
 * of values) or not (one varint).
 */
export function readRepeatedVarints(
  source: ByteSource,
  field: FieldAt,
  as: 'int64' | 'uint64' = 'int64',
): bigint[] {
  if (field.wireType !== WireType.LENGTH_DELIMITED) return [readVarintExact(source, field, as)];
  // A copy: the values are read one by one and the view may not last.
  const bytes = Uint8Array.from(source.read(field.valueStart, field.end - field.valueStart));
  const values: bigint[] = [];
  for (let at = 0; at < bytes.length;) {
    const end = varintEnd(bytes, at, field.valueStart);
    values.push(as === 'int64' ? int64BigOf(bytes, at, end) : uint64BigOf(bytes, at, end));
    at = end;
  }
  return values;
}

const INT64_MIN = -(2n ** 63n);
const UINT64_MAX = 2n ** 64n - 1n;

/**
 * Writes a varint at `at` (up to 10 bytes) and returns where it ends. A negative value is an int64,
 * written as its 64-bit two's complement (10 bytes); a bigint is written exactly, from -2^63 to 2^64 - 1.
 */
export function writeVarint(out: Uint8Array, at: number, value: number | bigint): number {
  if (typeof value === 'number' && value >= 0 && Number.isSafeInteger(value)) {
    while (value >= 0x80) {
      out[at++] = (value % 0x80) | 0x80;
      value = Math.floor(value / 0x80);
    }
    out[at++] = value;
    return at;
  }
  if (typeof value === 'number' && !Number.isInteger(value)) {
    throw new RangeError(`${value} is not an integer: it cannot be a varint`);
  }
  const big = BigInt(value);
  if (big < INT64_MIN || big > UINT64_MAX) throw new RangeError(`${big} does not fit in 64 bits`);
  let bits = BigInt.asUintN(64, big);
  while (bits >= 0x80n) {
    out[at++] = Number(bits & 0x7fn) | 0x80;
    bits >>= 7n;
  }
  out[at++] = Number(bits);
  return at;
}
