import { createRequire as __paramtraceCreateRequire } from 'node:module';
const require = __paramtraceCreateRequire(import.meta.url);
var __create = Object.create;
var __defProp = Object.defineProperty;
var __getOwnPropDesc = Object.getOwnPropertyDescriptor;
var __getOwnPropNames = Object.getOwnPropertyNames;
var __getProtoOf = Object.getPrototypeOf;
var __hasOwnProp = Object.prototype.hasOwnProperty;
var __require = /* @__PURE__ */ ((x) => typeof require !== "undefined" ? require : typeof Proxy !== "undefined" ? new Proxy(x, {
  get: (a, b) => (typeof require !== "undefined" ? require : a)[b]
}) : x)(function(x) {
  if (typeof require !== "undefined") return require.apply(this, arguments);
  throw Error('Dynamic require of "' + x + '" is not supported');
});
var __commonJS = (cb, mod) => function __require2() {
  try {
    return mod || (0, cb[__getOwnPropNames(cb)[0]])((mod = { exports: {} }).exports, mod), mod.exports;
  } catch (e) {
    throw mod = 0, e;
  }
};
var __copyProps = (to, from, except, desc) => {
  if (from && typeof from === "object" || typeof from === "function") {
    for (let key of __getOwnPropNames(from))
      if (!__hasOwnProp.call(to, key) && key !== except)
        __defProp(to, key, { get: () => from[key], enumerable: !(desc = __getOwnPropDesc(from, key)) || desc.enumerable });
  }
  return to;
};
var __toESM = (mod, isNodeMode, target) => (target = mod != null ? __create(__getProtoOf(mod)) : {}, __copyProps(
  // If the importer is in node compatibility mode or this is not an ESM
  // file that has been converted to a CommonJS file using a Babel-
  // compatible transform (i.e. "__esModule" has not been set), then set
  // "default" to the CommonJS "module.exports" for node compatibility.
  isNodeMode || !mod || !mod.__esModule ? __defProp(target, "default", { value: mod, enumerable: true }) : target,
  mod
));

// paramtrace-ort:onnxruntime-node
var require_onnxruntime_node = __commonJS({
  "paramtrace-ort:onnxruntime-node"(exports, module) {
    var { createRequire } = __require("node:module");
    var { join } = __require("node:path");
    var dir = process.env.PARAMTRACE_ONNXRUNTIME_DIR;
    try {
      module.exports = dir ? createRequire(join(dir, "package.json"))("onnxruntime-node") : __require("onnxruntime-node");
    } catch (error) {
      throw new Error("onnxruntime-node could not be loaded" + (dir ? " from " + dir : "") + ": " + error.message + " (the action installs it into the tool cache when it traces: src/action/models/install-runtime.ts)");
    }
  }
});

// src/trace/trace-worker.ts
import { readFileSync as readFileSync4, writeFileSync } from "node:fs";
import path3 from "node:path";

// src/report/user-error.ts
var UserError = class extends Error {
  /** The CLI's exit status: 2, the input or the environment is at fault (README, "Command line"). */
  exitCode = 2;
};

// src/trace/errors.ts
var TraceInputError = class extends UserError {
  code = "trace-input";
  constructor(message) {
    super(message);
    this.name = "TraceInputError";
  }
};
var TraceError = class extends UserError {
  constructor(kind, message, pid) {
    super(oneLine(message));
    this.kind = kind;
    this.pid = pid;
    this.name = "TraceError";
  }
  kind;
  pid;
  code = "trace";
};
function oneLine(text2, max = Infinity) {
  const line = text2.replace(/\s+/g, " ").trim();
  return line.length > max ? `${line.slice(0, max)}…` : line;
}
function cleanOrtMessage(message) {
  return message.replace(new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, "g"), "").replace(/^\[ONNXRuntimeError\]\s*:\s*\d+\s*:\s*\w+\s*:\s*/, "").replace(
    /Non-zero status code returned while running (\S+) node\. Name:'([^']*)' Status Message:\s*/g,
    (_, op, name) => name ? `${name}: ` : `${op} node: `
  ).replace(new RegExp(`${SOURCE_LINE.source}(?:${SIGNATURE.source}|[\\w~]+(?:\\(\\))?\\s+)?`, "g"), "").replace(new RegExp(`(^|: )${SIGNATURE.source}`, "g"), "$1").replace(/\s+/g, " ").trim().replace(/[.\s]+$/, "");
}
var SOURCE_LINE = /(?:\S*\/)?[\w.-]+\.(?:cc|cpp|cxx|h|hpp):\d+\s+/;
var SIGNATURE = /(?:virtual )?(?:[\w<>,*&~]+(?:::[\w<>,*&~]+)* )*[\w<>~]+(?:::[\w<>~]+)*::(?:operator\(\)|[\w~]+)\([^()]*\)(?: const)?(?: \[with [^\]]*\])?\s+/;

// src/trace/run-traced.ts
var ort2 = __toESM(require_onnxruntime_node(), 1);
import { readdirSync } from "node:fs";
import path2 from "node:path";
import { performance } from "node:perf_hooks";

// src/trace/device.ts
var ort = __toESM(require_onnxruntime_node(), 1);
var CUDA_INSTALL_HINT = "onnxruntime-node's CUDA provider is installed by `ONNXRUNTIME_NODE_INSTALL=cuda12 npm ci` (it downloads the provider at install time; CUDA 12 and cuDNN 9 must be present)";
async function openSession(model, options, device) {
  const create = (provider) => ort.InferenceSession.create(model, { ...options, executionProviders: [provider] });
  if (device === "cpu") return { session: await create("cpu"), device: "cpu" };
  try {
    return { session: await create("cuda"), device: "cuda" };
  } catch (error) {
    const reason = oneLine(error.message);
    if (device === "cuda") {
      throw new TraceError(
        "device",
        `device cuda: onnxruntime could not create a CUDA session: ${reason}. ${CUDA_INSTALL_HINT}`
      );
    }
    const note = `CUDA was not used: ${reason}. ${CUDA_INSTALL_HINT}`;
    return { session: await create("cpu"), device: "cpu", note };
  }
}
function onnxruntimeVersion() {
  const versions = ort.env.versions;
  return versions?.node ?? versions?.common ?? "unknown";
}

// src/trace/npy.ts
import { closeSync, openSync, readFileSync, readSync, fstatSync } from "node:fs";
var MAGIC = [147, 78, 85, 77, 80, 89];
var DESCR = {
  f4: ["float32", 4],
  f8: ["float64", 8],
  f2: ["float16", 2],
  i8: ["int64", 8],
  i4: ["int32", 4],
  i2: ["int16", 2],
  i1: ["int8", 1],
  u8: ["uint64", 8],
  u4: ["uint32", 4],
  u2: ["uint16", 2],
  u1: ["uint8", 1],
  b1: ["bool", 1]
};
function readNpyHeader(file) {
  const fd = openFile(file);
  try {
    const size = fstatSync(fd).size;
    const start = Buffer.alloc(Math.min(size, 12));
    readSync(fd, start, 0, start.length, 0);
    const { headerStart, headerLength } = preamble(file, start);
    const text2 = Buffer.alloc(headerLength);
    if (readSync(fd, text2, 0, headerLength, headerStart) !== headerLength)
      fail(file, "the header is truncated");
    const header = parseHeader(
      file,
      text2.toString(start[6] === 3 ? "utf8" : "latin1"),
      headerStart + headerLength
    );
    if (size < header.dataOffset + header.byteLength) {
      fail(
        file,
        `holds ${size - header.dataOffset} data bytes, but its header (${header.dtype}, shape [${header.shape.join(", ")}]) needs ${header.byteLength}`
      );
    }
    return header;
  } finally {
    closeSync(fd);
  }
}
function readNpy(file) {
  const header = readNpyHeader(file);
  const bytes = readFileSync(file);
  const buffer = new ArrayBuffer(header.byteLength);
  new Uint8Array(buffer).set(bytes.subarray(header.dataOffset, header.dataOffset + header.byteLength));
  return { ...header, data: typedArray(header.dtype, buffer) };
}
function preamble(file, start) {
  if (start.length < 10 || MAGIC.some((b, i) => start[i] !== b))
    fail(file, "is not a .npy file (no \\x93NUMPY magic)");
  const major = start[6];
  if (major === 1) return { headerStart: 10, headerLength: start.readUInt16LE(8) };
  if (major === 2 || major === 3) {
    if (start.length < 12) fail(file, "the header is truncated");
    return { headerStart: 12, headerLength: start.readUInt32LE(8) };
  }
  return fail(
    file,
    `uses .npy format version ${major}.${start[7]}, which is not supported (1.0, 2.0 and 3.0 are)`
  );
}
function parseHeader(file, text2, dataOffset) {
  const descr = /'descr'\s*:\s*'([^']*)'/.exec(text2)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(text2)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(text2)?.[1];
  if (descr === void 0 || fortran === void 0 || shapeText === void 0) {
    fail(file, `has a header without descr, fortran_order and shape: ${text2.trim()}`);
  }
  if (fortran === "True")
    fail(file, "is stored in Fortran order; save it in C order (numpy.ascontiguousarray)");
  const order = descr[0];
  const entry = DESCR[descr.slice(1)];
  if (!entry || !(order === "<" || order === "|" || order === "=" && isLittleEndian())) {
    fail(
      file,
      `holds dtype '${descr}', which is not supported (little-endian f4, f8, f2, i8, i4, i2, i1, u8, u4, u2, u1, b1)`
    );
  }
  const shape = shapeText.split(",").map((s) => s.trim()).filter((s) => s !== "").map((s) => {
    const d = Number(s.replace(/L$/, ""));
    if (!Number.isSafeInteger(d) || d < 0) fail(file, `has an invalid shape (${shapeText})`);
    return d;
  });
  const [dtype, size] = entry;
  return { dtype, shape, dataOffset, byteLength: shape.reduce((a, b) => a * b, 1) * size };
}
function typedArray(dtype, buffer) {
  switch (dtype) {
    case "float32":
      return new Float32Array(buffer);
    case "float64":
      return new Float64Array(buffer);
    case "float16":
    case "uint16":
      return new Uint16Array(buffer);
    case "int64":
      return new BigInt64Array(buffer);
    case "uint64":
      return new BigUint64Array(buffer);
    case "int32":
      return new Int32Array(buffer);
    case "uint32":
      return new Uint32Array(buffer);
    case "int16":
      return new Int16Array(buffer);
    case "int8":
      return new Int8Array(buffer);
    case "uint8":
    case "bool":
      return new Uint8Array(buffer);
  }
}
function openFile(file) {
  try {
    return openSync(file, "r");
  } catch (error) {
    return fail(file, `cannot be opened: ${error.message}`);
  }
}
function isLittleEndian() {
  return new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
}
function fail(file, problem) {
  throw new TraceInputError(`input file ${file} ${problem}`);
}

// src/trace/tensor-proto.ts
import { readFileSync as readFileSync2 } from "node:fs";

// src/onnx/byte-source.ts
import { closeSync as closeSync2, fstatSync as fstatSync2, openSync as openSync2, readSync as readSync2 } from "node:fs";
var WINDOW = 1 << 20;
var FIRST_WINDOW = 8 << 10;
var FileSource = class {
  constructor(path4) {
    this.path = path4;
    this.fd = openSync2(path4, "r");
    this.size = fstatSync2(this.fd).size;
  }
  path;
  size;
  fd;
  /** Allocated on the first windowed read: sources read only in blocks (external data) never need it. */
  window;
  windowStart = 0;
  windowLength = 0;
  nextWindow = FIRST_WINDOW;
  read(offset, length) {
    this.check(offset, length);
    if (this.window && offset >= this.windowStart && offset + length <= this.windowStart + this.windowLength) {
      const at = offset - this.windowStart;
      return this.window.subarray(at, at + length);
    }
    if (length > WINDOW) return this.readExact(new Uint8Array(length), offset);
    this.window ??= new Uint8Array(WINDOW);
    const sequential = offset >= this.windowStart && offset <= this.windowStart + this.windowLength;
    this.nextWindow = sequential ? Math.min(WINDOW, this.nextWindow * 2) : FIRST_WINDOW;
    this.windowStart = offset;
    this.windowLength = Math.min(Math.max(this.nextWindow, length), this.size - offset);
    this.readExact(this.window.subarray(0, this.windowLength), offset);
    return this.window.subarray(0, length);
  }
  readInto(offset, into) {
    this.check(offset, into.length);
    return this.readExact(into, offset);
  }
  close() {
    closeSync2(this.fd);
  }
  check(offset, length) {
    if (offset < 0 || length < 0 || offset + length > this.size) {
      throw new RangeError(
        `read past the end of the file (bytes ${offset}..${offset + length} of ${this.size})`
      );
    }
  }
  readExact(into, offset) {
    let done = 0;
    while (done < into.length) {
      const n = readSync2(this.fd, into, done, into.length - done, offset + done);
      if (n === 0) throw new RangeError(`unexpected end of file at byte ${offset + done}`);
      done += n;
    }
    return into;
  }
};
var MemorySource = class {
  constructor(bytes) {
    this.bytes = bytes;
  }
  bytes;
  get size() {
    return this.bytes.length;
  }
  read(offset, length) {
    if (offset < 0 || length < 0 || offset + length > this.bytes.length) {
      throw new RangeError(
        `read past the end of the data (bytes ${offset}..${offset + length} of ${this.bytes.length})`
      );
    }
    return this.bytes.subarray(offset, offset + length);
  }
  readInto(offset, into) {
    into.set(this.read(offset, into.length));
    return into;
  }
  close() {
  }
};

// src/onnx/dtype.ts
var DATA_TYPES = [
  "undefined",
  "float32",
  "uint8",
  "int8",
  "uint16",
  "int16",
  "int32",
  "int64",
  "string",
  "bool",
  "float16",
  "float64",
  "uint32",
  "uint64",
  "complex64",
  "complex128",
  "bfloat16",
  "float8e4m3fn",
  "float8e4m3fnuz",
  "float8e5m2",
  "float8e5m2fnuz",
  "uint4",
  "int4",
  "float4e2m1"
];

// src/onnx/wire.ts
var WireFormatError = class extends Error {
};
var WireType = { VARINT: 0, FIXED64: 1, LENGTH_DELIMITED: 2, FIXED32: 5 };
var MAX_VARINT_BYTES = 10;
var MAX_HEADER_BYTES = 2 * MAX_VARINT_BYTES;
var TOO_LONG = -1;
var TRUNCATED = -2;
function scanVarint(bytes, at) {
  const limit = Math.min(bytes.length, at + MAX_VARINT_BYTES);
  for (let i = at; i < limit; i++) if (bytes[i] < 128) return i + 1;
  return limit === at + MAX_VARINT_BYTES ? TOO_LONG : TRUNCATED;
}
function varintProblem(scanned, bytesEnd) {
  return scanned === TOO_LONG ? "longer than 10 bytes" : `cut short at byte ${bytesEnd}`;
}
function varintEnd(bytes, at, position) {
  const end = scanVarint(bytes, at);
  if (end < 0) {
    throw new WireFormatError(
      `malformed varint at byte ${position + at}: ${varintProblem(end, position + bytes.length)}`
    );
  }
  return end;
}
function uint64Of(bytes, from, to) {
  if (to - from > 7) return Number(uint64BigOf(bytes, from, to));
  let value = 0;
  for (let i = to - 1; i >= from; i--) value = value * 128 + (bytes[i] & 127);
  return value;
}
function uint64BigOf(bytes, from, to) {
  let value = 0n;
  for (let i = to - 1; i >= from; i--) value = value << 7n | BigInt(bytes[i] & 127);
  return BigInt.asUintN(64, value);
}
function int64Of(bytes, from, to) {
  return to - from > 7 ? Number(int64BigOf(bytes, from, to)) : uint64Of(bytes, from, to);
}
function int64BigOf(bytes, from, to) {
  return BigInt.asIntN(64, uint64BigOf(bytes, from, to));
}
function readFieldHeader(head, position) {
  const tagEnd = scanVarint(head, 0);
  if (tagEnd < 0) {
    throw new WireFormatError(
      `malformed field header at byte ${position}: tag ${varintProblem(tagEnd, position + head.length)}`
    );
  }
  const tag = uint64Of(head, 0, tagEnd);
  if (tag > 4294967295)
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
          `malformed field header at byte ${position}: length ${varintProblem(lengthEnd, position + head.length)}`
        );
      }
      return { id, wireType, headerLength: lengthEnd, valueLength: uint64Of(head, tagEnd, lengthEnd) };
    }
    case WireType.FIXED32:
      return { id, wireType, headerLength: tagEnd, valueLength: 4 };
    case 3:
    case 4:
      throw new WireFormatError(
        `unsupported wire type ${wireType} (a group, which ONNX does not use) at byte ${position}`
      );
    default:
      throw new WireFormatError(`unsupported wire type ${wireType} at byte ${position}`);
  }
}
function fieldsOf(source, start, end) {
  const fields = [];
  let pos = start;
  while (pos < end) {
    const { id, wireType, headerLength, valueLength } = readFieldHeader(
      source.read(pos, Math.min(MAX_HEADER_BYTES, end - pos)),
      pos
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
function checkVarintField(field) {
  if (field.wireType !== WireType.VARINT) {
    throw new WireFormatError(
      `field ${field.id} at byte ${field.start} has wire type ${field.wireType}, not a varint`
    );
  }
}
function readVarint(source, field) {
  checkVarintField(field);
  return int64Of(
    source.read(field.valueStart, field.end - field.valueStart),
    0,
    field.end - field.valueStart
  );
}
function readVarintExact(source, field, as = "int64") {
  checkVarintField(field);
  const bytes = source.read(field.valueStart, field.end - field.valueStart);
  return as === "int64" ? int64BigOf(bytes, 0, bytes.length) : uint64BigOf(bytes, 0, bytes.length);
}
function readRepeatedVarints(source, field, as = "int64") {
  if (field.wireType !== WireType.LENGTH_DELIMITED) return [readVarintExact(source, field, as)];
  const bytes = Uint8Array.from(source.read(field.valueStart, field.end - field.valueStart));
  const values = [];
  for (let at = 0; at < bytes.length; ) {
    const end = varintEnd(bytes, at, field.valueStart);
    values.push(as === "int64" ? int64BigOf(bytes, at, end) : uint64BigOf(bytes, at, end));
    at = end;
  }
  return values;
}
var INT64_MIN = -(2n ** 63n);
var UINT64_MAX = 2n ** 64n - 1n;
function writeVarint(out, at, value) {
  if (typeof value === "number" && value >= 0 && Number.isSafeInteger(value)) {
    while (value >= 128) {
      out[at++] = value % 128 | 128;
      value = Math.floor(value / 128);
    }
    out[at++] = value;
    return at;
  }
  if (typeof value === "number" && !Number.isInteger(value)) {
    throw new RangeError(`${value} is not an integer: it cannot be a varint`);
  }
  const big = BigInt(value);
  if (big < INT64_MIN || big > UINT64_MAX) throw new RangeError(`${big} does not fit in 64 bits`);
  let bits = BigInt.asUintN(64, big);
  while (bits >= 0x80n) {
    out[at++] = Number(bits & 0x7fn) | 128;
    bits >>= 7n;
  }
  out[at++] = Number(bits);
  return at;
}

// src/trace/tensor-proto.ts
var DATA_TYPES2 = {
  1: "float32",
  2: "uint8",
  3: "int8",
  4: "uint16",
  5: "int16",
  6: "int32",
  7: "int64",
  8: "string",
  9: "bool",
  10: "float16",
  11: "float64",
  12: "uint32",
  13: "uint64"
};
var ELEMENT_SIZE = {
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
  uint64: 8
};
function readTensorProtoFile(file) {
  let bytes;
  try {
    bytes = readFileSync2(file);
  } catch (error) {
    throw new TraceInputError(`input file ${file} cannot be opened: ${error.message}`);
  }
  return decodeTensorProto(bytes, file);
}
function decodeTensorProto(bytes, file = "TensorProto") {
  const fail2 = (problem) => {
    throw new TraceInputError(`input file ${file} is not an ONNX TensorProto (.pb) or .npy file: ${problem}`);
  };
  try {
    return decode(bytes, file, fail2);
  } catch (error) {
    if (error instanceof WireFormatError) return fail2(error.message);
    throw error;
  }
}
function decode(bytes, file, fail2) {
  const source = new MemorySource(bytes);
  const fields = fieldsOf(source, 0, bytes.length);
  const text2 = (f) => new TextDecoder().decode(bytes.subarray(f.valueStart, f.end));
  const dims = [];
  let dataType;
  let name = "";
  let raw;
  const typed = /* @__PURE__ */ new Map();
  for (const f of fields) {
    const delimited = f.wireType === WireType.LENGTH_DELIMITED;
    if (f.id === 1) dims.push(...readRepeatedVarints(source, f));
    else if (f.id === 2 && !delimited) dataType = readVarint(source, f);
    else if (f.id === 8 && delimited) name = text2(f);
    else if (f.id === 9 && delimited) raw = f;
    else if (f.id === 13 || f.id === 14 && !delimited && readVarint(source, f) === 1)
      fail2("its data is external (data_location EXTERNAL)");
    else if ([4, 5, 6, 7, 10, 11].includes(f.id)) typed.set(f.id, [...typed.get(f.id) ?? [], f]);
  }
  if (dataType === void 0) return fail2("no data_type (field 2)");
  const dtype = DATA_TYPES2[dataType];
  if (!dtype) {
    throw new TraceInputError(
      `input file ${file} holds ONNX data type ${DATA_TYPES[dataType] ?? dataType}, which onnxruntime-node cannot feed`
    );
  }
  const shape = dims.map((d) => {
    if (d < 0n || d > BigInt(Number.MAX_SAFE_INTEGER)) fail2(`a bad dimension ${d}`);
    return Number(d);
  });
  const count = shape.reduce((a, b) => a * b, 1);
  const data = raw ? fromRaw(bytes, raw, dtype, count, file) : fromTyped(source, typed.get(FIELD_OF[dtype]) ?? [], dtype, shape, file, fail2);
  return { name, dtype, shape, data };
}
function fromRaw(bytes, raw, dtype, count, file) {
  if (dtype === "string")
    throw new TraceInputError(`input file ${file} holds strings in raw_data, which ONNX does not allow`);
  const size = ELEMENT_SIZE[dtype];
  const length = raw.end - raw.valueStart;
  if (length !== count * size) {
    throw new TraceInputError(
      `input file ${file} holds ${length} bytes of raw_data, but ${count} ${dtype} values need ${count * size}`
    );
  }
  const buffer = new ArrayBuffer(length);
  new Uint8Array(buffer).set(bytes.subarray(raw.valueStart, raw.end));
  return typedArray(dtype, buffer);
}
var FIELD_OF = {
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
  uint64: 11
};
function fromTyped(source, records, dtype, shape, file, fail2) {
  const count = shape.reduce((a, b) => a * b, 1);
  const values = [];
  for (const f of records) {
    const payload = source.read(f.valueStart, f.end - f.valueStart);
    if (dtype === "string") values.push(new TextDecoder().decode(payload));
    else if (f.id === 4 || f.id === 10) {
      const size = f.id === 4 ? 4 : 8;
      if (payload.length % size !== 0) fail2(`a packed field ${f.id} that ends inside a value`);
      const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
      for (let at = 0; at < payload.length; at += size)
        values.push(size === 4 ? view.getFloat32(at, true) : view.getFloat64(at, true));
    } else values.push(...readRepeatedVarints(source, f, f.id === 11 ? "uint64" : "int64"));
  }
  if (values.length !== count) {
    throw new TraceInputError(
      `input file ${file} holds ${values.length} ${dtype} values, but its shape [${shape.join(", ")}] needs ${count}`
    );
  }
  if (dtype === "string") return values;
  const out = typedArray(dtype, new ArrayBuffer(count * ELEMENT_SIZE[dtype]));
  for (let i = 0; i < count; i++) {
    const v = values[i];
    if (out instanceof BigInt64Array) out[i] = BigInt.asIntN(64, v);
    else if (out instanceof BigUint64Array) out[i] = BigInt.asUintN(64, v);
    else if (out instanceof Float32Array || out instanceof Float64Array) out[i] = v;
    else out[i] = Number(BigInt.asIntN(32, v));
  }
  return out;
}

// src/trace/input-data.ts
function inputData(plan) {
  if (plan.source.kind === "npy") return readNpy(plan.source.path).data;
  if (plan.source.kind === "pb") return readTensorProtoFile(plan.source.path).data;
  const count = plan.shape.reduce((a, b) => a * b, 1);
  const data = zeros(plan.dtype, count);
  if (plan.source.kind === "random") fillRandom(data, plan.dtype, plan.source.seed);
  if (plan.source.kind === "values") fillValues(data, plan.dtype, plan.source.values);
  return data;
}
function fillValues(data, dtype, values) {
  values.forEach((text2, i) => {
    if (Array.isArray(data)) data[i] = text2;
    else if (data instanceof BigInt64Array || data instanceof BigUint64Array) data[i] = BigInt(text2);
    else if (dtype === "float16") data[i] = toHalfBits(Number(text2));
    else data[i] = Number(text2);
  });
}
function zeros(dtype, count) {
  switch (dtype) {
    case "float32":
      return new Float32Array(count);
    case "float64":
      return new Float64Array(count);
    case "float16":
    case "uint16":
      return new Uint16Array(count);
    case "int8":
      return new Int8Array(count);
    case "int16":
      return new Int16Array(count);
    case "int32":
      return new Int32Array(count);
    case "uint32":
      return new Uint32Array(count);
    case "int64":
      return new BigInt64Array(count);
    case "uint64":
      return new BigUint64Array(count);
    case "string":
      return new Array(count).fill("");
    default:
      return new Uint8Array(count);
  }
}
function fillRandom(data, dtype, seed) {
  const next = mulberry32(seed);
  if (data instanceof Float32Array || data instanceof Float64Array) {
    for (let i = 0; i < data.length; i++) data[i] = next() * 2 - 1;
  } else if (dtype === "float16" && data instanceof Uint16Array) {
    for (let i = 0; i < data.length; i++) data[i] = toHalfBits(next() * 2 - 1);
  }
}
function mulberry32(seed) {
  let state = seed >>> 0;
  return () => {
    state = state + 1831565813 >>> 0;
    let t = state;
    t = Math.imul(t ^ t >>> 15, t | 1);
    t ^= t + Math.imul(t ^ t >>> 7, t | 61);
    return ((t ^ t >>> 14) >>> 0) / 4294967296;
  };
}
function toHalfBits(value) {
  if (Number.isNaN(value)) return 32256;
  const sign = value < 0 || Object.is(value, -0) ? 32768 : 0;
  const abs = Math.abs(value);
  if (abs < 2 ** -24) return sign;
  if (abs < 2 ** -14) return sign | Math.round(abs / 2 ** -24);
  let exponent = Math.floor(Math.log2(abs));
  let mantissa = Math.round((abs / 2 ** exponent - 1) * 1024);
  if (mantissa === 1024) {
    mantissa = 0;
    exponent += 1;
  }
  if (exponent > 15) return sign | 31744;
  return sign | exponent + 15 << 10 | mantissa;
}

// src/trace/profile-file.ts
import { createReadStream } from "node:fs";
import { createInterface } from "node:readline";

// src/trace/profile.ts
var KERNEL_SUFFIX = "_kernel_time";
function toKernelEvent(raw) {
  const e = raw;
  if (e?.cat !== "Node" || typeof e.name !== "string" || !e.name.endsWith(KERNEL_SUFFIX)) return void 0;
  const args = e.args ?? {};
  return {
    node: e.name.slice(0, -KERNEL_SUFFIX.length),
    opType: String(args.op_name ?? ""),
    provider: String(args.provider ?? ""),
    durationUs: Number(e.dur ?? 0),
    outputShapes: shapes(args.output_type_shape),
    inputTypes: tensorTypes(args.input_type_shape),
    outputTypes: tensorTypes(args.output_type_shape),
    outputBytes: Number(args.output_size ?? 0),
    activationBytes: Number(args.activation_size ?? 0),
    parameterBytes: Number(args.parameter_size ?? 0)
  };
}
function shapes(value) {
  if (!Array.isArray(value)) return [];
  return value.map((entry) => {
    const dims = entry && typeof entry === "object" ? Object.values(entry)[0] : void 0;
    return Array.isArray(dims) ? dims.map(Number) : [];
  });
}
var ORT_DTYPES = { float: "float32", double: "float64", mlfloat16: "float16" };
function tensorTypes(value) {
  if (!Array.isArray(value)) return [];
  return value.map((entry) => {
    const [name, dims] = entry && typeof entry === "object" ? Object.entries(entry)[0] ?? [] : [];
    const lower = String(name ?? "unknown").toLowerCase();
    return { dtype: ORT_DTYPES[lower] ?? lower, shape: Array.isArray(dims) ? dims.map(Number) : [] };
  });
}
var KernelJoin = class {
  constructor(idOf) {
    this.idOf = idOf;
  }
  idOf;
  nodes = {};
  shapes = {};
  order = [];
  other = /* @__PURE__ */ new Map();
  add(e) {
    const id = this.idOf(e.node);
    if (id === void 0) {
      const entry = this.other.get(e.node) ?? {
        name: e.node,
        opType: e.opType,
        provider: e.provider,
        executions: 0
      };
      entry.executions += 1;
      this.other.set(e.node, entry);
      return;
    }
    if (!this.nodes[id]) this.order.push(id);
    this.shapes[id] = { inputs: e.inputTypes, outputs: e.outputTypes };
    const run = this.nodes[id] ??= {
      executions: 0,
      outputShapes: [],
      provider: e.provider,
      durationUs: 0,
      outputBytes: 0,
      activationBytes: 0,
      parameterBytes: e.parameterBytes
    };
    run.executions += 1;
    run.outputShapes = e.outputShapes;
    run.provider = e.provider;
    run.durationUs += e.durationUs;
    run.outputBytes += e.outputBytes;
    run.activationBytes += e.activationBytes;
  }
  result() {
    return {
      nodes: this.nodes,
      shapes: this.shapes,
      order: this.order,
      otherKernels: [...this.other.values()]
    };
  }
};

// src/trace/profile-file.ts
var PROFILER_EVENT_LIMIT = 1e6;
async function joinProfileFile(file, idOf) {
  const join = new KernelJoin(idOf);
  let events = 0;
  const lines = createInterface({ input: createReadStream(file, { encoding: "utf8" }), crlfDelay: Infinity });
  for await (const line of lines) {
    const text2 = line.trim().replace(/,$/, "");
    if (text2 === "[" || text2 === "]" || text2 === "") continue;
    events += 1;
    if (!text2.includes("_kernel_time")) continue;
    let raw;
    try {
      raw = JSON.parse(text2);
    } catch {
      throw new Error(
        `the onnxruntime profile ${file} is not one event per line as expected (line ${events + 1})`
      );
    }
    const e = toKernelEvent(raw);
    if (e) join.add(e);
  }
  return { ...join.result(), events };
}

// src/trace/rename-nodes.ts
import { readFileSync as readFileSync3, realpathSync } from "node:fs";
import path from "node:path";

// src/onnx/onnx-fields.generated.ts
var ONNX_FIELDS = { "AttributeProto": { "1": { "name": "name", "repeated": false }, "2": { "name": "f", "repeated": false }, "3": { "name": "i", "repeated": false }, "4": { "name": "s", "repeated": false }, "5": { "name": "t", "repeated": false, "message": "TensorProto" }, "6": { "name": "g", "repeated": false, "message": "GraphProto" }, "7": { "name": "floats", "repeated": true }, "8": { "name": "ints", "repeated": true }, "9": { "name": "strings", "repeated": true }, "10": { "name": "tensors", "repeated": true, "message": "TensorProto" }, "11": { "name": "graphs", "repeated": true, "message": "GraphProto" }, "13": { "name": "doc_string", "repeated": false }, "14": { "name": "tp", "repeated": false, "message": "TypeProto" }, "15": { "name": "type_protos", "repeated": true, "message": "TypeProto" }, "20": { "name": "type", "repeated": false }, "21": { "name": "ref_attr_name", "repeated": false }, "22": { "name": "sparse_tensor", "repeated": false, "message": "SparseTensorProto" }, "23": { "name": "sparse_tensors", "repeated": true, "message": "SparseTensorProto" } }, "ValueInfoProto": { "1": { "name": "name", "repeated": false }, "2": { "name": "type", "repeated": false, "message": "TypeProto" }, "3": { "name": "doc_string", "repeated": false } }, "NodeProto": { "1": { "name": "input", "repeated": true }, "2": { "name": "output", "repeated": true }, "3": { "name": "name", "repeated": false }, "4": { "name": "op_type", "repeated": false }, "5": { "name": "attribute", "repeated": true, "message": "AttributeProto" }, "6": { "name": "doc_string", "repeated": false }, "7": { "name": "domain", "repeated": false }, "8": { "name": "overload", "repeated": false }, "9": { "name": "metadata_props", "repeated": true, "message": "StringStringEntryProto" } }, "TrainingInfoProto": { "1": { "name": "initialization", "repeated": false, "message": "GraphProto" }, "2": { "name": "algorithm", "repeated": false, "message": "GraphProto" }, "3": { "name": "initialization_binding", "repeated": true, "message": "StringStringEntryProto" }, "4": { "name": "update_binding", "repeated": true, "message": "StringStringEntryProto" } }, "ModelProto": { "1": { "name": "ir_version", "repeated": false }, "2": { "name": "producer_name", "repeated": false }, "3": { "name": "producer_version", "repeated": false }, "4": { "name": "domain", "repeated": false }, "5": { "name": "model_version", "repeated": false }, "6": { "name": "doc_string", "repeated": false }, "7": { "name": "graph", "repeated": false, "message": "GraphProto" }, "8": { "name": "opset_import", "repeated": true, "message": "OperatorSetIdProto" }, "14": { "name": "metadata_props", "repeated": true, "message": "StringStringEntryProto" }, "20": { "name": "training_info", "repeated": true, "message": "TrainingInfoProto" }, "25": { "name": "functions", "repeated": true, "message": "FunctionProto" } }, "StringStringEntryProto": { "1": { "name": "key", "repeated": false }, "2": { "name": "value", "repeated": false } }, "TensorAnnotation": { "1": { "name": "tensor_name", "repeated": false }, "2": { "name": "quant_parameter_tensor_names", "repeated": true, "message": "StringStringEntryProto" } }, "GraphProto": { "1": { "name": "node", "repeated": true, "message": "NodeProto" }, "2": { "name": "name", "repeated": false }, "5": { "name": "initializer", "repeated": true, "message": "TensorProto" }, "10": { "name": "doc_string", "repeated": false }, "11": { "name": "input", "repeated": true, "message": "ValueInfoProto" }, "12": { "name": "output", "repeated": true, "message": "ValueInfoProto" }, "13": { "name": "value_info", "repeated": true, "message": "ValueInfoProto" }, "14": { "name": "quantization_annotation", "repeated": true, "message": "TensorAnnotation" }, "15": { "name": "sparse_initializer", "repeated": true, "message": "SparseTensorProto" } }, "TensorProto": { "1": { "name": "dims", "repeated": true }, "2": { "name": "data_type", "repeated": false }, "3": { "name": "segment", "repeated": false, "message": "TensorProto.Segment" }, "4": { "name": "float_data", "repeated": true }, "5": { "name": "int32_data", "repeated": true }, "6": { "name": "string_data", "repeated": true }, "7": { "name": "int64_data", "repeated": true }, "8": { "name": "name", "repeated": false }, "9": { "name": "raw_data", "repeated": false }, "10": { "name": "double_data", "repeated": true }, "11": { "name": "uint64_data", "repeated": true }, "12": { "name": "doc_string", "repeated": false }, "13": { "name": "external_data", "repeated": true, "message": "StringStringEntryProto" }, "14": { "name": "data_location", "repeated": false } }, "TensorProto.Segment": { "1": { "name": "begin", "repeated": false }, "2": { "name": "end", "repeated": false } }, "SparseTensorProto": { "1": { "name": "values", "repeated": false, "message": "TensorProto" }, "2": { "name": "indices", "repeated": false, "message": "TensorProto" }, "3": { "name": "dims", "repeated": true } }, "TensorShapeProto": { "1": { "name": "dim", "repeated": true, "message": "TensorShapeProto.Dimension" } }, "TensorShapeProto.Dimension": { "1": { "name": "dim_value", "repeated": false }, "2": { "name": "dim_param", "repeated": false }, "3": { "name": "denotation", "repeated": false } }, "TypeProto": { "1": { "name": "tensor_type", "repeated": false, "message": "TypeProto.Tensor" }, "4": { "name": "sequence_type", "repeated": false, "message": "TypeProto.Sequence" }, "5": { "name": "map_type", "repeated": false, "message": "TypeProto.Map" }, "6": { "name": "denotation", "repeated": false }, "8": { "name": "sparse_tensor_type", "repeated": false, "message": "TypeProto.SparseTensor" }, "9": { "name": "optional_type", "repeated": false, "message": "TypeProto.Optional" } }, "TypeProto.Tensor": { "1": { "name": "elem_type", "repeated": false }, "2": { "name": "shape", "repeated": false, "message": "TensorShapeProto" } }, "TypeProto.Sequence": { "1": { "name": "elem_type", "repeated": false, "message": "TypeProto" } }, "TypeProto.Map": { "1": { "name": "key_type", "repeated": false }, "2": { "name": "value_type", "repeated": false, "message": "TypeProto" } }, "TypeProto.Optional": { "1": { "name": "elem_type", "repeated": false, "message": "TypeProto" } }, "TypeProto.SparseTensor": { "1": { "name": "elem_type", "repeated": false }, "2": { "name": "shape", "repeated": false, "message": "TensorShapeProto" } }, "OperatorSetIdProto": { "1": { "name": "domain", "repeated": false }, "2": { "name": "version", "repeated": false } }, "FunctionProto": { "1": { "name": "name", "repeated": false }, "4": { "name": "input", "repeated": true }, "5": { "name": "output", "repeated": true }, "6": { "name": "attribute", "repeated": true }, "7": { "name": "node", "repeated": true, "message": "NodeProto" }, "8": { "name": "doc_string", "repeated": false }, "9": { "name": "opset_import", "repeated": true, "message": "OperatorSetIdProto" }, "10": { "name": "domain", "repeated": false } } };

// src/onnx/onnx-proto.generated.ts
var ONNX_PROTO_JSON = { "nested": { "onnx": { "options": { "optimize_for": "LITE_RUNTIME" }, "nested": { "Version": { "edition": "proto2", "values": { "_START_VERSION": 0, "IR_VERSION_2017_10_10": 1, "IR_VERSION_2017_10_30": 2, "IR_VERSION_2017_11_3": 3, "IR_VERSION_2019_1_22": 4, "IR_VERSION_2019_3_18": 5, "IR_VERSION_2019_9_19": 6, "IR_VERSION_2020_5_8": 7, "IR_VERSION": 8 } }, "AttributeProto": { "edition": "proto2", "fields": { "name": { "type": "string", "id": 1 }, "ref_attr_name": { "type": "string", "id": 21 }, "doc_string": { "type": "string", "id": 13 }, "type": { "type": "AttributeType", "id": 20 }, "f": { "type": "float", "id": 2 }, "i": { "type": "int64", "id": 3 }, "s": { "type": "bytes", "id": 4 }, "t": { "type": "TensorProto", "id": 5 }, "g": { "type": "GraphProto", "id": 6 }, "sparse_tensor": { "type": "SparseTensorProto", "id": 22 }, "tp": { "type": "TypeProto", "id": 14 }, "floats": { "rule": "repeated", "type": "float", "id": 7 }, "ints": { "rule": "repeated", "type": "int64", "id": 8 }, "strings": { "rule": "repeated", "type": "bytes", "id": 9 }, "tensors": { "rule": "repeated", "type": "TensorProto", "id": 10 }, "graphs": { "rule": "repeated", "type": "GraphProto", "id": 11 }, "sparse_tensors": { "rule": "repeated", "type": "SparseTensorProto", "id": 23 }, "type_protos": { "rule": "repeated", "type": "TypeProto", "id": 15 } }, "nested": { "AttributeType": { "values": { "UNDEFINED": 0, "FLOAT": 1, "INT": 2, "STRING": 3, "TENSOR": 4, "GRAPH": 5, "SPARSE_TENSOR": 11, "TYPE_PROTO": 13, "FLOATS": 6, "INTS": 7, "STRINGS": 8, "TENSORS": 9, "GRAPHS": 10, "SPARSE_TENSORS": 12, "TYPE_PROTOS": 14 } } } }, "ValueInfoProto": { "edition": "proto2", "fields": { "name": { "type": "string", "id": 1 }, "type": { "type": "TypeProto", "id": 2 }, "doc_string": { "type": "string", "id": 3 } } }, "NodeProto": { "edition": "proto2", "fields": { "input": { "rule": "repeated", "type": "string", "id": 1 }, "output": { "rule": "repeated", "type": "string", "id": 2 }, "name": { "type": "string", "id": 3 }, "op_type": { "type": "string", "id": 4 }, "domain": { "type": "string", "id": 7 }, "attribute": { "rule": "repeated", "type": "AttributeProto", "id": 5 }, "doc_string": { "type": "string", "id": 6 }, "overload": { "type": "string", "id": 8 }, "metadata_props": { "rule": "repeated", "type": "StringStringEntryProto", "id": 9 } } }, "TrainingInfoProto": { "edition": "proto2", "fields": { "initialization": { "type": "GraphProto", "id": 1 }, "algorithm": { "type": "GraphProto", "id": 2 }, "initialization_binding": { "rule": "repeated", "type": "StringStringEntryProto", "id": 3 }, "update_binding": { "rule": "repeated", "type": "StringStringEntryProto", "id": 4 } } }, "ModelProto": { "edition": "proto2", "fields": { "ir_version": { "type": "int64", "id": 1 }, "opset_import": { "rule": "repeated", "type": "OperatorSetIdProto", "id": 8 }, "producer_name": { "type": "string", "id": 2 }, "producer_version": { "type": "string", "id": 3 }, "domain": { "type": "string", "id": 4 }, "model_version": { "type": "int64", "id": 5 }, "doc_string": { "type": "string", "id": 6 }, "graph": { "type": "GraphProto", "id": 7 }, "metadata_props": { "rule": "repeated", "type": "StringStringEntryProto", "id": 14 }, "training_info": { "rule": "repeated", "type": "TrainingInfoProto", "id": 20 }, "functions": { "rule": "repeated", "type": "FunctionProto", "id": 25 } } }, "StringStringEntryProto": { "edition": "proto2", "fields": { "key": { "type": "string", "id": 1 }, "value": { "type": "string", "id": 2 } } }, "TensorAnnotation": { "edition": "proto2", "fields": { "tensor_name": { "type": "string", "id": 1 }, "quant_parameter_tensor_names": { "rule": "repeated", "type": "StringStringEntryProto", "id": 2 } } }, "GraphProto": { "edition": "proto2", "fields": { "node": { "rule": "repeated", "type": "NodeProto", "id": 1 }, "name": { "type": "string", "id": 2 }, "initializer": { "rule": "repeated", "type": "TensorProto", "id": 5 }, "sparse_initializer": { "rule": "repeated", "type": "SparseTensorProto", "id": 15 }, "doc_string": { "type": "string", "id": 10 }, "input": { "rule": "repeated", "type": "ValueInfoProto", "id": 11 }, "output": { "rule": "repeated", "type": "ValueInfoProto", "id": 12 }, "value_info": { "rule": "repeated", "type": "ValueInfoProto", "id": 13 }, "quantization_annotation": { "rule": "repeated", "type": "TensorAnnotation", "id": 14 } }, "reserved": [[3, 3], [4, 4], [6, 9], "ir_version", "producer_version", "producer_tag", "domain"] }, "TensorProto": { "edition": "proto2", "fields": { "dims": { "rule": "repeated", "type": "int64", "id": 1 }, "data_type": { "type": "int32", "id": 2 }, "segment": { "type": "Segment", "id": 3 }, "float_data": { "rule": "repeated", "type": "float", "id": 4, "options": { "packed": true } }, "int32_data": { "rule": "repeated", "type": "int32", "id": 5, "options": { "packed": true } }, "string_data": { "rule": "repeated", "type": "bytes", "id": 6 }, "int64_data": { "rule": "repeated", "type": "int64", "id": 7, "options": { "packed": true } }, "name": { "type": "string", "id": 8 }, "doc_string": { "type": "string", "id": 12 }, "raw_data": { "type": "bytes", "id": 9 }, "external_data": { "rule": "repeated", "type": "StringStringEntryProto", "id": 13 }, "data_location": { "type": "DataLocation", "id": 14 }, "double_data": { "rule": "repeated", "type": "double", "id": 10, "options": { "packed": true } }, "uint64_data": { "rule": "repeated", "type": "uint64", "id": 11, "options": { "packed": true } } }, "nested": { "DataType": { "values": { "UNDEFINED": 0, "FLOAT": 1, "UINT8": 2, "INT8": 3, "UINT16": 4, "INT16": 5, "INT32": 6, "INT64": 7, "STRING": 8, "BOOL": 9, "FLOAT16": 10, "DOUBLE": 11, "UINT32": 12, "UINT64": 13, "COMPLEX64": 14, "COMPLEX128": 15, "BFLOAT16": 16 } }, "Segment": { "fields": { "begin": { "type": "int64", "id": 1 }, "end": { "type": "int64", "id": 2 } } }, "DataLocation": { "values": { "DEFAULT": 0, "EXTERNAL": 1 } } } }, "SparseTensorProto": { "edition": "proto2", "fields": { "values": { "type": "TensorProto", "id": 1 }, "indices": { "type": "TensorProto", "id": 2 }, "dims": { "rule": "repeated", "type": "int64", "id": 3 } } }, "TensorShapeProto": { "edition": "proto2", "fields": { "dim": { "rule": "repeated", "type": "Dimension", "id": 1 } }, "nested": { "Dimension": { "oneofs": { "value": { "oneof": ["dim_value", "dim_param"] } }, "fields": { "dim_value": { "type": "int64", "id": 1 }, "dim_param": { "type": "string", "id": 2 }, "denotation": { "type": "string", "id": 3 } } } } }, "TypeProto": { "edition": "proto2", "oneofs": { "value": { "oneof": ["tensor_type", "sequence_type", "map_type", "optional_type", "sparse_tensor_type"] } }, "fields": { "tensor_type": { "type": "Tensor", "id": 1 }, "sequence_type": { "type": "Sequence", "id": 4 }, "map_type": { "type": "Map", "id": 5 }, "optional_type": { "type": "Optional", "id": 9 }, "sparse_tensor_type": { "type": "SparseTensor", "id": 8 }, "denotation": { "type": "string", "id": 6 } }, "nested": { "Tensor": { "fields": { "elem_type": { "type": "int32", "id": 1 }, "shape": { "type": "TensorShapeProto", "id": 2 } } }, "Sequence": { "fields": { "elem_type": { "type": "TypeProto", "id": 1 } } }, "Map": { "fields": { "key_type": { "type": "int32", "id": 1 }, "value_type": { "type": "TypeProto", "id": 2 } } }, "Optional": { "fields": { "elem_type": { "type": "TypeProto", "id": 1 } } }, "SparseTensor": { "fields": { "elem_type": { "type": "int32", "id": 1 }, "shape": { "type": "TensorShapeProto", "id": 2 } } } } }, "OperatorSetIdProto": { "edition": "proto2", "fields": { "domain": { "type": "string", "id": 1 }, "version": { "type": "int64", "id": 2 } } }, "OperatorStatus": { "edition": "proto2", "values": { "EXPERIMENTAL": 0, "STABLE": 1 } }, "FunctionProto": { "edition": "proto2", "fields": { "name": { "type": "string", "id": 1 }, "input": { "rule": "repeated", "type": "string", "id": 4 }, "output": { "rule": "repeated", "type": "string", "id": 5 }, "attribute": { "rule": "repeated", "type": "string", "id": 6 }, "node": { "rule": "repeated", "type": "NodeProto", "id": 7 }, "doc_string": { "type": "string", "id": 8 }, "opset_import": { "rule": "repeated", "type": "OperatorSetIdProto", "id": 9 }, "domain": { "type": "string", "id": 10 } }, "reserved": [[2, 2], "since_version", [3, 3], "status"] } } } } };

// src/trace/rename-nodes.ts
var TRACE_NAME_PREFIX = "pt_";
function renameNodes(modelBytes) {
  return renameModel(new MemorySource(modelBytes));
}
function renameNodesInFile(file, location) {
  const source = new FileSource(file);
  try {
    return renameModel(source, location);
  } finally {
    source.close();
  }
}
function renameNodesForSession(modelPath) {
  const resolved = path.resolve(modelPath);
  const real = realpathSync(resolved);
  const renamed = renameNodesInFile(real, path.basename(real));
  if (path.dirname(real) === realpathSync(path.dirname(resolved)) || !renamed.ownExternalData) {
    return { ...renamed, folder: path.dirname(real) };
  }
  return { ...renameNodes(readFileSync3(resolved)), folder: path.dirname(resolved) };
}
var EXTERNAL_ABOVE = 16 * 1024;
function fieldNumber(message, name) {
  for (const [id, field] of Object.entries(ONNX_FIELDS[message])) if (field.name === name) return Number(id);
  throw new Error(`onnx.proto has no field ${message}.${name}`);
}
var MODEL_GRAPH = fieldNumber("ModelProto", "graph");
var GRAPH_NODE = fieldNumber("GraphProto", "node");
var GRAPH_INITIALIZER = fieldNumber("GraphProto", "initializer");
var NODE_NAME = fieldNumber("NodeProto", "name");
var NODE_OP_TYPE = fieldNumber("NodeProto", "op_type");
var NODE_ATTRIBUTE = fieldNumber("NodeProto", "attribute");
var ATTRIBUTE_NAME = fieldNumber("AttributeProto", "name");
var ATTRIBUTE_T = fieldNumber("AttributeProto", "t");
var ATTRIBUTE_G = fieldNumber("AttributeProto", "g");
var ATTRIBUTE_GRAPHS = fieldNumber("AttributeProto", "graphs");
var ATTRIBUTE_TYPE = fieldNumber("AttributeProto", "type");
var TENSOR_DATA_TYPE = fieldNumber("TensorProto", "data_type");
var TENSOR_SEGMENT = fieldNumber("TensorProto", "segment");
var TENSOR_RAW_DATA = fieldNumber("TensorProto", "raw_data");
var TENSOR_FLOAT_DATA = fieldNumber("TensorProto", "float_data");
var TENSOR_DOUBLE_DATA = fieldNumber("TensorProto", "double_data");
var TENSOR_EXTERNAL_DATA = fieldNumber("TensorProto", "external_data");
var TENSOR_DATA_LOCATION = fieldNumber("TensorProto", "data_location");
var ENTRY_KEY = fieldNumber("StringStringEntryProto", "key");
var ENTRY_VALUE = fieldNumber("StringStringEntryProto", "value");
var { AttributeProto, TensorProto } = ONNX_PROTO_JSON.nested.onnx.nested;
var { GRAPH, GRAPHS } = AttributeProto.nested.AttributeType.values;
var { FLOAT, DOUBLE, COMPLEX64, COMPLEX128 } = TensorProto.nested.DataType.values;
var { EXTERNAL } = TensorProto.nested.DataLocation.values;
var { VARINT, LENGTH_DELIMITED: DELIMITED } = WireType;
var Arena = class {
  chunk = new Uint8Array(0);
  used = 0;
  alloc(size) {
    this.reserve(size);
    const out = this.chunk.subarray(this.used, this.used + size);
    this.used += size;
    return out;
  }
  /** The header of a length-delimited field. */
  header(id, length) {
    this.reserve(20);
    const end = writeVarint(this.chunk, writeVarint(this.chunk, this.used, id * 8 + DELIMITED), length);
    const out = this.chunk.subarray(this.used, end);
    this.used = end;
    return out;
  }
  /** A whole varint field. */
  varint(id, value) {
    this.reserve(20);
    const end = writeVarint(this.chunk, writeVarint(this.chunk, this.used, id * 8 + VARINT), value);
    const out = this.chunk.subarray(this.used, end);
    this.used = end;
    return out;
  }
  /** The UTF-8 bytes of a string. */
  text(value) {
    const out = this.alloc(Buffer.byteLength(value, "utf8"));
    Buffer.from(out.buffer, out.byteOffset, out.length).write(value, "utf8");
    return out;
  }
  reserve(size) {
    if (this.used + size > this.chunk.length) {
      this.chunk = new Uint8Array(Math.max(256 * 1024, size));
      this.used = 0;
    }
  }
};
var Pieces = class {
  constructor(arena) {
    this.arena = arena;
  }
  arena;
  pieces = [];
  size = 0;
  /** Fields kept as they are, not yet copied: consecutive ones are copied in one piece. */
  pending;
  get length() {
    return this.size + (this.pending ? this.pending.end - this.pending.start : 0);
  }
  get parts() {
    this.flush();
    return this.pieces;
  }
  /** Keeps a field as it is (header included). */
  keep(source, f) {
    if (this.pending?.source === source && this.pending.end === f.start) this.pending.end = f.end;
    else {
      this.flush();
      this.pending = { source, start: f.start, end: f.end };
    }
  }
  add(...parts) {
    this.flush();
    for (const p of parts) {
      this.pieces.push(p);
      this.size += p.length;
    }
  }
  /** Appends other pieces (which may be very many). */
  append(other) {
    this.flush();
    for (const p of other.parts) this.pieces.push(p);
    this.size += other.length;
  }
  /** Appends a whole length-delimited field holding `inner`. */
  addField(id, inner) {
    this.add(this.arena.header(id, inner.length));
    this.append(inner);
  }
  /** Appends a whole length-delimited field holding a string. */
  addText(id, value) {
    const bytes = this.arena.text(value);
    this.add(this.arena.header(id, bytes.length), bytes);
  }
  flush() {
    const p = this.pending;
    if (!p) return;
    const length = p.end - p.start;
    if (length <= 64 * 1024) this.pieces.push(this.arena.alloc(length));
    else this.pieces.push(new Uint8Array(length));
    const into = this.pieces.at(-1);
    if (length <= 64 * 1024) into.set(p.source.read(p.start, length));
    else p.source.readInto(p.start, into);
    this.size += length;
    this.pending = void 0;
  }
};
function renameModel(source, location) {
  const rewrite = {
    source,
    arena: new Arena(),
    location,
    ownExternalData: false,
    nodes: /* @__PURE__ */ new Map()
  };
  const out = new Pieces(rewrite.arena);
  for (const f of fieldsOf(source, 0, source.size)) {
    if (f.id === MODEL_GRAPH && f.wireType === DELIMITED) out.addField(MODEL_GRAPH, graph(rewrite, f, ""));
    else out.keep(source, f);
  }
  return {
    bytes: Buffer.concat(out.parts, out.length),
    nodes: rewrite.nodes,
    ownExternalData: rewrite.ownExternalData
  };
}
function graph(rewrite, g, idPrefix) {
  const out = new Pieces(rewrite.arena);
  let index = 0;
  for (const f of fieldsOf(rewrite.source, g.valueStart, g.end)) {
    if (f.id === GRAPH_NODE && f.wireType === DELIMITED) {
      out.addField(GRAPH_NODE, node(rewrite, f, `${idPrefix}${index++}`));
    } else if (f.id === GRAPH_INITIALIZER && f.wireType === DELIMITED && rewrite.location !== void 0) {
      out.append(tensor(rewrite, f));
    } else out.keep(rewrite.source, f);
  }
  return out;
}
function node(rewrite, n, id) {
  const { source } = rewrite;
  const fields = fieldsOf(source, n.valueStart, n.end);
  const name = `${TRACE_NAME_PREFIX}${id}`;
  const lastOf = (number) => lastField(fields, number, DELIMITED);
  rewrite.nodes.set(name, {
    id,
    originalName: text(source, lastOf(NODE_NAME)),
    opType: text(source, lastOf(NODE_OP_TYPE))
  });
  const out = new Pieces(rewrite.arena);
  out.addText(NODE_NAME, name);
  for (const f of fields) {
    if (f.id === NODE_NAME) continue;
    if (f.id === NODE_ATTRIBUTE && f.wireType === DELIMITED)
      out.addField(NODE_ATTRIBUTE, attribute(rewrite, f, id));
    else out.keep(source, f);
  }
  return out;
}
function attribute(rewrite, a, nodeId) {
  const { source } = rewrite;
  const fields = fieldsOf(source, a.valueStart, a.end);
  const typeField = lastField(fields, ATTRIBUTE_TYPE, VARINT);
  const has = (number) => fields.some((f) => f.id === number && f.wireType === DELIMITED);
  const type = (typeField ? readVarint(source, typeField) : 0) || (has(ATTRIBUTE_G) ? GRAPH : has(ATTRIBUTE_T) ? 0 : has(ATTRIBUTE_GRAPHS) ? GRAPHS : 0);
  const attributeId = `${nodeId}/${text(source, lastField(fields, ATTRIBUTE_NAME, DELIMITED))}`;
  const out = new Pieces(rewrite.arena);
  let graphIndex = 0;
  for (const f of fields) {
    if (f.wireType === DELIMITED && f.id === ATTRIBUTE_G && type === GRAPH) {
      out.addField(ATTRIBUTE_G, graph(rewrite, f, `${attributeId}/`));
    } else if (f.wireType === DELIMITED && f.id === ATTRIBUTE_GRAPHS && type === GRAPHS) {
      out.addField(ATTRIBUTE_GRAPHS, graph(rewrite, f, `${attributeId}.${graphIndex++}/`));
    } else if (f.wireType === DELIMITED && f.id === ATTRIBUTE_T && rewrite.location !== void 0) {
      out.append(tensor(rewrite, f));
    } else out.keep(source, f);
  }
  return out;
}
var PAYLOAD_FIELDS = new Set(
  ["raw_data", "float_data", "double_data", "int32_data", "int64_data", "uint64_data", "string_data"].map(
    (name) => fieldNumber("TensorProto", name)
  )
);
function tensor(rewrite, t) {
  const { source } = rewrite;
  const out = new Pieces(rewrite.arena);
  const fields = fieldsOf(source, t.valueStart, t.end);
  const dataTypeField = lastField(fields, TENSOR_DATA_TYPE, VARINT);
  const dataType = dataTypeField ? readVarint(source, dataTypeField) : 0;
  const payloads = fields.filter((f) => PAYLOAD_FIELDS.has(f.id));
  const payload = payloads[0];
  const littleEndian = payload !== void 0 && payload.wireType === DELIMITED && (payload.id === TENSOR_RAW_DATA || payload.id === TENSOR_FLOAT_DATA && (dataType === FLOAT || dataType === COMPLEX64) || payload.id === TENSOR_DOUBLE_DATA && (dataType === DOUBLE || dataType === COMPLEX128));
  const locationField = lastField(fields, TENSOR_DATA_LOCATION, VARINT);
  if (locationField && readVarint(source, locationField) === EXTERNAL) rewrite.ownExternalData = true;
  const unusual = fields.some(
    (f) => f.id === TENSOR_SEGMENT || f.id === TENSOR_DATA_LOCATION || f.id === TENSOR_EXTERNAL_DATA
  );
  if (!payload || payloads.length !== 1 || !littleEndian || unusual || payload.end - payload.valueStart < EXTERNAL_ABOVE) {
    out.keep(source, t);
    return out;
  }
  const body = new Pieces(rewrite.arena);
  for (const f of fields) if (f !== payload) body.keep(source, f);
  body.add(rewrite.arena.varint(TENSOR_DATA_LOCATION, EXTERNAL));
  for (const [key, value] of [
    ["location", rewrite.location],
    ["offset", String(payload.valueStart)],
    ["length", String(payload.end - payload.valueStart)]
  ]) {
    const entry = new Pieces(rewrite.arena);
    entry.addText(ENTRY_KEY, key);
    entry.addText(ENTRY_VALUE, value);
    body.addField(TENSOR_EXTERNAL_DATA, entry);
  }
  out.addField(t.id, body);
  return out;
}
function lastField(fields, id, wireType) {
  for (let i = fields.length - 1; i >= 0; i--)
    if (fields[i].id === id && fields[i].wireType === wireType) return fields[i];
  return void 0;
}
function text(source, f) {
  return f ? Buffer.from(source.read(f.valueStart, f.end - f.valueStart)).toString("utf8") : "";
}
function describeTraceNames(text2, nodes) {
  return text2.replace(/pt_[0-9][\w./-]*/g, (match) => {
    for (let end = match.length; end > TRACE_NAME_PREFIX.length; end--) {
      const node2 = nodes.get(match.slice(0, end));
      if (node2) {
        const label = node2.originalName ? `'${node2.originalName}'` : `#${node2.id}`;
        return `${label} (${node2.opType} node ${node2.id})${match.slice(end)}`;
      }
    }
    return match;
  });
}

// src/trace/run-traced.ts
async function runTraced(request) {
  const renameStarted = performance.now();
  const renamed = renameNodesForSession(request.modelPath);
  const renameMs = performance.now() - renameStarted;
  const explain = (error) => describeTraceNames(cleanOrtMessage(error.message ?? String(error)), renamed.nodes);
  const options = {
    graphOptimizationLevel: "disabled",
    // optimizations rename, fuse and drop nodes
    enableProfiling: true,
    profileFilePrefix: path2.join(request.profileDir, "profile"),
    logSeverityLevel: 3,
    extra: {
      session: {
        // Prepacked MatMul/Gemm weights vanish from the profile's parameter_size.
        disable_prepacking: "1",
        // The model is loaded from bytes: external data is found relative to the folder renameNodesForSession
        // gives (the real file's folder, or the link's when the model was copied).
        model_external_initializers_file_folder_path: renamed.folder
      }
    }
  };
  const started = performance.now();
  let opened;
  try {
    opened = await openSession(renamed.bytes, options, request.device);
  } catch (error) {
    if (error instanceof TraceError) throw error;
    throw new TraceError("onnxruntime", `onnxruntime cannot load the model: ${explain(error)}`);
  }
  const sessionMs = performance.now() - started;
  const { session } = opened;
  const feeds = {};
  for (const plan of request.inputs) {
    feeds[plan.name] = new ort2.Tensor(plan.dtype, inputData(plan), plan.shape);
  }
  const runStarted = performance.now();
  try {
    await session.run(feeds);
  } catch (error) {
    const inputs = request.inputsText ? ` ${request.inputsText}` : "";
    throw new TraceError(
      "onnxruntime",
      `onnxruntime failed while running the model: ${explain(error)}.${inputs}`
    );
  }
  const runMs = performance.now() - runStarted;
  session.endProfiling();
  await session.release();
  const profileFile = readdirSync(request.profileDir).find(
    (f) => f.startsWith("profile") && f.endsWith(".json")
  );
  if (!profileFile) throw new TraceError("worker", `onnxruntime wrote no profile into ${request.profileDir}`);
  const joined = await joinProfileFile(
    path2.join(request.profileDir, profileFile),
    (name) => renamed.nodes.get(name)?.id
  );
  if (joined.events >= PROFILER_EVENT_LIMIT) {
    throw new TraceError(
      "profile-limit",
      `the run executed more nodes than onnxruntime's profiler records (${PROFILER_EVENT_LIMIT.toLocaleString("en-US")} events; long loops?), so the trace would be incomplete; trace with inputs that run fewer iterations`
    );
  }
  const opTypes = {};
  for (const node2 of renamed.nodes.values()) if (joined.nodes[node2.id]) opTypes[node2.id] = node2.opType;
  return {
    device: opened.device,
    ...opened.note !== void 0 ? { deviceNote: opened.note } : {},
    onnxruntimeVersion: onnxruntimeVersion(),
    nodes: joined.nodes,
    shapes: joined.shapes,
    order: joined.order,
    opTypes,
    otherKernels: joined.otherKernels,
    timing: { renameMs, sessionMs, runMs, peakRssBytes: process.resourceUsage().maxRSS * 1024 }
  };
}

// src/trace/trace-worker.ts
var requestFile = process.argv[2] ?? "";
if (!requestFile) {
  process.stderr.write("usage: trace-worker <request.json>\n");
  process.exit(2);
}
var folder = path3.dirname(requestFile);
process.on("disconnect", () => process.exit(1));
if (process.send) {
  process.once("message", () => void work());
  process.send("ready");
} else {
  await work();
}
async function work() {
  try {
    const request = JSON.parse(readFileSync4(requestFile, "utf8"));
    const result = await runTraced(request);
    writeFileSync(path3.join(folder, "result.json"), JSON.stringify(result));
    process.exit(0);
  } catch (error) {
    const kind = error instanceof TraceError ? error.kind : "worker";
    writeFileSync(
      path3.join(folder, "error.json"),
      JSON.stringify({ kind, message: error.message ?? String(error) })
    );
    process.exit(1);
  }
}
