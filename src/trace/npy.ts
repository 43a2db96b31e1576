// A small reader for NumPy's .npy format (versions 1-3): the header is a Python dict literal giving the
// dtype, the memory order and the shape; the data follows, C order. Only little-endian numeric and bool
// dtypes that onnxruntime-node can feed are accepted; everything else is a clear error.
import { closeSync, openSync, readFileSync, readSync, fstatSync } from 'node:fs';
import { TraceInputError } from './errors.ts';

/** ONNX dtype names of the element types a .npy file can hold here. */
export type NpyDtype =
  | 'float32'
  | 'float64'
  | 'float16'
  | 'int64'
  | 'int32'
  | 'int16'
  | 'int8'
  | 'uint64'
  | 'uint32'
  | 'uint16'
  | 'uint8'
  | 'bool';

export interface NpyHeader {
  dtype: NpyDtype;
  shape: number[];
  /** Byte offset of the data in the file. */
  dataOffset: number;
  byteLength: number;
}

export type NpyData =
  | Float32Array
  | Float64Array
  | Uint16Array
  | BigInt64Array
  | Int32Array
  | Int16Array
  | Int8Array
  | BigUint64Array
  | Uint32Array
  | Uint8Array;

export interface NpyArray extends NpyHeader {
  /** float16 as raw bit patterns (Uint16Array), bool as 0/1 bytes: what onnxruntime-node takes. */
  data: NpyData;
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

/** descr without its byte-order character → dtype and element size. */
const DESCR: Record<string, [NpyDtype, number]> = {
  f4: ['float32', 4],
  f8: ['float64', 8],
  f2: ['float16', 2],
  i8: ['int64', 8],
  i4: ['int32', 4],
  i2: ['int16', 2],
  i1: ['int8', 1],
  u8: ['uint64', 8],
  u4: ['uint32', 4],
  u2: ['uint16', 2],
  u1: ['uint8', 1],
  b1: ['bool', 1],
};

/** Reads and checks the header only (to validate inputs before the run). */
export function readNpyHeader(file: string): NpyHeader {
  const fd = openFile(file);
  try {
    const size = fstatSync(fd).size;
    const start = Buffer.alloc(Math.min(size, 12));
    readSync(fd, start, 0, start.length, 0);
    const { headerStart, headerLength } = preamble(file, start);
    const text = Buffer.alloc(headerLength);
    if (readSync(fd, text, 0, headerLength, headerStart) !== headerLength)
      fail(file, 'the header is truncated');
    const header = parseHeader(
      file,
      text.toString(start[6] === 3 ? 'utf8' : 'latin1'),
      headerStart + headerLength,
    );
    if (size < header.dataOffset + header.byteLength) {
      fail(
        file,
        `holds ${size - header.dataOffset} data bytes, but its header (${header.dtype}, shape [${header.shape.join(', ')}]) needs ${header.byteLength}`,
      );
    }
    return header;
  } finally {
    closeSync(fd);
  }
}

export function readNpy(file: string): NpyArray {
  const header = readNpyHeader(file);
  const bytes = readFileSync(file);
  // Copy into a fresh, aligned buffer: the data offset need not be a multiple of the element size.
  const buffer = new ArrayBuffer(header.byteLength);
  new Uint8Array(buffer).set(bytes.subarray(header.dataOffset, header.dataOffset + header.byteLength));
  return { ...header, data: typedArray(header.dtype, buffer) };
}

function preamble(file: string, start: Buffer): { headerStart: number; headerLength: number } {
  if (start.length < 10 || MAGIC.some((b, i) => start[i] !== b))
    fail(file, 'is not a .npy file (no \\x93NUMPY magic)');
  const major = start[6]!;
  if (major === 1) return { headerStart: 10, headerLength: start.readUInt16LE(8) };
  if (major === 2 || major === 3) {
    if (start.length < 12) fail(file, 'the header is truncated');
    return { headerStart: 12, headerLength: start.readUInt32LE(8) };
  }
  return fail(
    file,
    `uses .npy format version ${major}.${start[7]}, which is not supported (1.0, 2.0 and 3.0 are)`,
  );
}

function parseHeader(file: string, text: string, dataOffset: number): NpyHeader {
  const descr = /'descr'\s*:\s*'([^']*)'/.exec(text)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(text)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(text)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) {
    fail(file, `has a header without descr, fortran_order and shape: ${text.trim()}`);
  }
  if (fortran === 'True')
    fail(file, 'is stored in Fortran order; save it in C order (numpy.ascontiguousarray)');
  const order = descr[0];
  const entry = DESCR[descr.slice(1)];
  if (!entry || !(order === '<' || order === '|' || (order === '=' && isLittleEndian()))) {
    fail(
      file,
      `holds dtype '${descr}', which is not supported (little-endian f4, f8, f2, i8, i4, i2, i1, u8, u4, u2, u1, b1)`,
    );
  }
  const shape = shapeText
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map((s) => {
      const d = Number(s.replace(/L$/, ''));
      if (!Number.isSafeInteger(d) || d < 0) fail(file, `has an invalid shape (${shapeText})`);
      return d;
    });
  const [dtype, size] = entry;
  return { dtype, shape, dataOffset, byteLength: shape.reduce((a, b) => a * b, 1) * size };
}

/** A typed array of `dtype` over `buffer` (float16 as bit patterns, bool as bytes). */
export function typedArray(dtype: NpyDtype, buffer: ArrayBuffer): NpyData {
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

function openFile(file: string): number {
  try {
    return openSync(file, 'r');
  } catch (error) {
    return fail(file, `cannot be opened: ${(error as Error).message}`);
  }
}

function isLittleEndian(): boolean {
  return new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
}

function fail(file: string, problem: string): never {
  throw new TraceInputError(`input file ${file} ${problem}`);
}
