// Protobuf wire format at the level of fields: where each field of a message lies in a ByteSource, and
// how to write a varint. For rewriting a few fields of a model while copying the rest as it is.
import type { ByteSource } from './byte-source.ts';

/** Malformed protobuf: where and what. */
export class WireFormatError extends Error {}

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

/** The fields of the message in [start, end), in order. */
export function fieldsOf(source: ByteSource, start: number, end: number): FieldAt[] {
  const fields: FieldAt[] = [];
  let pos = start;
  while (pos < end) {
    const head = source.read(pos, Math.min(20, end - pos));
    let at = 0;
    const varint = (): number => {
      let value = 0;
      for (let shift = 0; shift < 35; shift += 7) {
        if (at >= head.length) break;
        const byte = head[at++]!;
        value += (byte & 0x7f) * 2 ** shift;
        if ((byte & 0x80) === 0) return value;
      }
      throw new WireFormatError(`malformed varint at byte ${pos + at}`);
    };
    const tag = varint();
    const id = Math.floor(tag / 8);
    const wireType = tag % 8;
    if (id === 0) throw new WireFormatError(`field number 0 at byte ${pos}`);
    let size: number;
    switch (wireType) {
      case 0: {
        const from = at;
        varint();
        size = at - from;
        at = from;
        break;
      }
      case 1:
        size = 8;
        break;
      case 2:
        size = varint();
        break;
      case 5:
        size = 4;
        break;
      default:
        throw new WireFormatError(`unsupported wire type ${wireType} at byte ${pos}`);
    }
    const valueStart = pos + at;
    const fieldEnd = valueStart + size;
    if (fieldEnd > end) throw new WireFormatError(`field at byte ${pos} runs past its message (byte ${end})`);
    fields.push({ id, wireType, start: pos, valueStart, end: fieldEnd });
    pos = fieldEnd;
  }
  return fields;
}

/** Writes a varint at `at` (up to 10 bytes); returns where it ends. */
export function writeVarint(out: Uint8Array, at: number, value: number): number {
  while (value >= 0x80) {
    out[at++] = (value % 0x80) | 0x80;
    value = Math.floor(value / 0x80);
  }
  out[at++] = value;
  return at;
}

/** The value of a varint field (wire type 0) as a number. */
export function readVarint(source: ByteSource, field: FieldAt): number {
  const bytes = source.read(field.valueStart, field.end - field.valueStart);
  let value = 0;
  for (let i = 0; i < bytes.length; i++) value += (bytes[i]! & 0x7f) * 2 ** (7 * i);
  return value;
}
