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
      throw new Error("onnxruntime-node could not be loaded" + (dir ? " from " + dir : "") + ": " + error.message + " (the action installs it into the tool cache when it traces: src/action/install-runtime.ts)");
    }
  }
});

// src/trace/trace-worker.ts
import { readFileSync as readFileSync3, writeFileSync } from "node:fs";
import path3 from "node:path";

// src/trace/errors.ts
var TraceInputError = class extends Error {
  constructor(message) {
    super(message);
    this.name = "TraceInputError";
  }
};
var TraceError = class extends Error {
  constructor(kind, message, pid) {
    super(oneLine(message));
    this.kind = kind;
    this.pid = pid;
    this.name = "TraceError";
  }
  kind;
  pid;
};
function oneLine(text2, max = Infinity) {
  const line = text2.replace(/\s+/g, " ").trim();
  return line.length > max ? `${line.slice(0, max)}…` : line;
}

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

// src/trace/input-data.ts
function inputData(plan) {
  if (plan.source.kind === "npy") return readNpy(plan.source.path).data;
  const count = plan.shape.reduce((a, b) => a * b, 1);
  const data = zeros(plan.dtype, count);
  if (plan.source.kind === "random") fillRandom(data, plan.dtype, plan.source.seed);
  return data;
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
var KernelJoin = class {
  constructor(idOf) {
    this.idOf = idOf;
  }
  idOf;
  nodes = {};
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
    return { nodes: this.nodes, otherKernels: [...this.other.values()] };
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
import { readFileSync as readFileSync2, realpathSync } from "node:fs";
import path from "node:path";

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

// src/onnx/wire.ts
var WireFormatError = class extends Error {
};
function fieldsOf(source, start, end) {
  const fields = [];
  let pos = start;
  while (pos < end) {
    const head = source.read(pos, Math.min(20, end - pos));
    let at = 0;
    const varint = () => {
      let value = 0;
      for (let shift = 0; shift < 35; shift += 7) {
        if (at >= head.length) break;
        const byte = head[at++];
        value += (byte & 127) * 2 ** shift;
        if ((byte & 128) === 0) return value;
      }
      throw new WireFormatError(`malformed varint at byte ${pos + at}`);
    };
    const tag = varint();
    const id = Math.floor(tag / 8);
    const wireType = tag % 8;
    if (id === 0) throw new WireFormatError(`field number 0 at byte ${pos}`);
    let size;
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
function writeVarint(out, at, value) {
  while (value >= 128) {
    out[at++] = value % 128 | 128;
    value = Math.floor(value / 128);
  }
  out[at++] = value;
  return at;
}
function readVarint(source, field) {
  const bytes = source.read(field.valueStart, field.end - field.valueStart);
  let value = 0;
  for (let i = 0; i < bytes.length; i++) value += (bytes[i] & 127) * 2 ** (7 * i);
  return value;
}

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
  return { ...renameNodes(readFileSync2(resolved)), folder: path.dirname(resolved) };
}
var EXTERNAL_ABOVE = 16 * 1024;
var MODEL_GRAPH = 7;
var GRAPH_NODE = 1;
var GRAPH_INITIALIZER = 5;
var NODE_NAME = 3;
var NODE_OP_TYPE = 4;
var NODE_ATTRIBUTE = 5;
var ATTRIBUTE_NAME = 1;
var ATTRIBUTE_T = 5;
var ATTRIBUTE_G = 6;
var ATTRIBUTE_GRAPHS = 11;
var ATTRIBUTE_TYPE = 20;
var TENSOR_DATA_TYPE = 2;
var TENSOR_SEGMENT = 3;
var TENSOR_FLOAT_DATA = 4;
var TENSOR_INT32_DATA = 5;
var TENSOR_STRING_DATA = 6;
var TENSOR_INT64_DATA = 7;
var TENSOR_RAW_DATA = 9;
var TENSOR_DOUBLE_DATA = 10;
var TENSOR_UINT64_DATA = 11;
var TENSOR_EXTERNAL_DATA = 13;
var TENSOR_DATA_LOCATION = 14;
var ENTRY_KEY = 1;
var ENTRY_VALUE = 2;
var GRAPH = 5;
var GRAPHS = 10;
var FLOAT = 1;
var DOUBLE = 11;
var COMPLEX64 = 14;
var COMPLEX128 = 15;
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
    const end = writeVarint(this.chunk, writeVarint(this.chunk, this.used, id * 8 + 2), length);
    const out = this.chunk.subarray(this.used, end);
    this.used = end;
    return out;
  }
  /** A whole varint field. */
  varint(id, value) {
    this.reserve(20);
    const end = writeVarint(this.chunk, writeVarint(this.chunk, this.used, id * 8), value);
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
    if (f.id === MODEL_GRAPH && f.wireType === 2) out.addField(MODEL_GRAPH, graph(rewrite, f, ""));
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
    if (f.id === GRAPH_NODE && f.wireType === 2) {
      out.addField(GRAPH_NODE, node(rewrite, f, `${idPrefix}${index++}`));
    } else if (f.id === GRAPH_INITIALIZER && f.wireType === 2 && rewrite.location !== void 0) {
      out.append(tensor(rewrite, f));
    } else out.keep(rewrite.source, f);
  }
  return out;
}
function node(rewrite, n, id) {
  const { source } = rewrite;
  const fields = fieldsOf(source, n.valueStart, n.end);
  const name = `${TRACE_NAME_PREFIX}${id}`;
  const lastOf = (number) => lastField(fields, number, 2);
  rewrite.nodes.set(name, {
    id,
    originalName: text(source, lastOf(NODE_NAME)),
    opType: text(source, lastOf(NODE_OP_TYPE))
  });
  const out = new Pieces(rewrite.arena);
  out.addText(NODE_NAME, name);
  for (const f of fields) {
    if (f.id === NODE_NAME) continue;
    if (f.id === NODE_ATTRIBUTE && f.wireType === 2) out.addField(NODE_ATTRIBUTE, attribute(rewrite, f, id));
    else out.keep(source, f);
  }
  return out;
}
function attribute(rewrite, a, nodeId) {
  const { source } = rewrite;
  const fields = fieldsOf(source, a.valueStart, a.end);
  const typeField = lastField(fields, ATTRIBUTE_TYPE, 0);
  const has = (number) => fields.some((f) => f.id === number && f.wireType === 2);
  const type = (typeField ? readVarint(source, typeField) : 0) || (has(ATTRIBUTE_G) ? GRAPH : has(ATTRIBUTE_T) ? 0 : has(ATTRIBUTE_GRAPHS) ? GRAPHS : 0);
  const attributeId = `${nodeId}/${text(source, lastField(fields, ATTRIBUTE_NAME, 2))}`;
  const out = new Pieces(rewrite.arena);
  let graphIndex = 0;
  for (const f of fields) {
    if (f.wireType === 2 && f.id === ATTRIBUTE_G && type === GRAPH) {
      out.addField(ATTRIBUTE_G, graph(rewrite, f, `${attributeId}/`));
    } else if (f.wireType === 2 && f.id === ATTRIBUTE_GRAPHS && type === GRAPHS) {
      out.addField(ATTRIBUTE_GRAPHS, graph(rewrite, f, `${attributeId}.${graphIndex++}/`));
    } else if (f.wireType === 2 && f.id === ATTRIBUTE_T && rewrite.location !== void 0) {
      out.append(tensor(rewrite, f));
    } else out.keep(source, f);
  }
  return out;
}
var PAYLOAD_FIELDS = /* @__PURE__ */ new Set([
  TENSOR_RAW_DATA,
  TENSOR_FLOAT_DATA,
  TENSOR_DOUBLE_DATA,
  TENSOR_INT32_DATA,
  TENSOR_INT64_DATA,
  TENSOR_UINT64_DATA,
  TENSOR_STRING_DATA
]);
function tensor(rewrite, t) {
  const { source } = rewrite;
  const out = new Pieces(rewrite.arena);
  const fields = fieldsOf(source, t.valueStart, t.end);
  const dataTypeField = lastField(fields, TENSOR_DATA_TYPE, 0);
  const dataType = dataTypeField ? readVarint(source, dataTypeField) : 0;
  const payloads = fields.filter((f) => PAYLOAD_FIELDS.has(f.id));
  const payload = payloads[0];
  const littleEndian = payload !== void 0 && payload.wireType === 2 && (payload.id === TENSOR_RAW_DATA || payload.id === TENSOR_FLOAT_DATA && (dataType === FLOAT || dataType === COMPLEX64) || payload.id === TENSOR_DOUBLE_DATA && (dataType === DOUBLE || dataType === COMPLEX128));
  const locationField = lastField(fields, TENSOR_DATA_LOCATION, 0);
  if (locationField && readVarint(source, locationField) === 1) rewrite.ownExternalData = true;
  const unusual = fields.some(
    (f) => f.id === TENSOR_SEGMENT || f.id === TENSOR_DATA_LOCATION || f.id === TENSOR_EXTERNAL_DATA
  );
  if (!payload || payloads.length !== 1 || !littleEndian || unusual || payload.end - payload.valueStart < EXTERNAL_ABOVE) {
    out.keep(source, t);
    return out;
  }
  const body = new Pieces(rewrite.arena);
  for (const f of fields) if (f !== payload) body.keep(source, f);
  body.add(rewrite.arena.varint(TENSOR_DATA_LOCATION, 1));
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
  const explain = (error) => describeTraceNames(error.message ?? String(error), renamed.nodes);
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
    throw new TraceError("onnxruntime", `onnxruntime failed while running the model: ${explain(error)}`);
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
    const request = JSON.parse(readFileSync3(requestFile, "utf8"));
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
