// Reads an ONNX file into an OnnxModel: structure and shapes, with weight payloads left in the file.
import { UserError } from '../report/user-error.ts';
import { existsSync, lstatSync, realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import { FileSource, type ByteSource } from './byte-source.ts';
import { byteSize, dataTypeName, elementBits } from './dtype.ts';
import type {
  AttributeValue,
  Dim,
  OnnxAttribute,
  OnnxGraph,
  OnnxModel,
  OnnxNode,
  OnnxSparseTensor,
  OnnxTensor,
  OnnxValueInfo,
  TensorData,
  TensorField,
} from './model.ts';
import { NUMERIC_FIELDS } from './model.ts';
import { decodeModel, PayloadRef, WireFormatError, type Decoded } from './stream-decode.ts';
import { clip, escapeControls } from '../report/clip.ts';

/** A model that cannot be read: names the file and the problem, for a one-line error. */
export class ModelReadError extends UserError {
  readonly code = 'model-read';
  constructor(
    readonly file: string,
    readonly problem: string,
  ) {
    // Names quoted in the problem come from the file: keep the message one line and of a readable length.
    super(`${clip(escapeControls(file))}: ${clip(escapeControls(problem), 2000)}`);
    this.name = 'ModelReadError';
  }
}

/** More dimensions than any real tensor has (the report schema allows 64). */
const MAX_RANK = 64;
/** More than any real model imports (the report schema allows 1000 domains). */
const MAX_OPSET_IMPORTS = 1000;

export { dataTypeName };

export function readModel(file: string): OnnxModel {
  let source: FileSource;
  try {
    if (!existsSync(file)) throw new ModelReadError(file, 'no such file');
    if (statSync(file).isDirectory()) throw new ModelReadError(file, 'is a directory, not an ONNX file');
    source = new FileSource(file);
  } catch (error) {
    if (error instanceof ModelReadError) throw error;
    throw new ModelReadError(file, `cannot open: ${(error as Error).message}`);
  }
  try {
    const model = readModelFrom(source, file);
    checkExternalData(model);
    return model;
  } finally {
    source.close();
  }
}

export function readModelFrom(source: ByteSource, file: string): OnnxModel {
  if (source.size === 0) throw new ModelReadError(file, 'the file is empty, not an ONNX model');
  let decoded: Decoded;
  try {
    decoded = decodeModel(source);
  } catch (error) {
    if (error instanceof WireFormatError || error instanceof RangeError) {
      throw new ModelReadError(file, `not a valid ONNX file (truncated or corrupt): ${error.message}`);
    }
    throw error;
  }
  const graph = decoded.graph as Decoded | undefined;
  if (!graph || decoded.ir_version === undefined) {
    throw new ModelReadError(
      file,
      `not an ONNX model: ${graph ? 'no ir_version' : 'no graph'} (is it an ONNX file? ${describeStart(source)})`,
    );
  }
  const opsets: Record<string, number> = {};
  const imports = list(decoded.opset_import);
  if (imports.length > MAX_OPSET_IMPORTS) {
    throw new ModelReadError(file, `imports ${imports.length} operator sets, more than ${MAX_OPSET_IMPORTS}`);
  }
  for (const entry of imports) {
    const domain = str(entry.domain);
    opsets[domain === 'ai.onnx' ? '' : domain] = nonNegative(entry.version, file, 'opset version');
  }
  const context: Context = { file };
  return {
    file: { path: file, size: source.size },
    irVersion: nonNegative(decoded.ir_version, file, 'ir_version'),
    producerName: str(decoded.producer_name),
    producerVersion: str(decoded.producer_version),
    domain: str(decoded.domain),
    modelVersion: int(decoded.model_version ?? '0', file, 'model_version'),
    docString: str(decoded.doc_string),
    opsets,
    metadata: entries(decoded.metadata_props),
    graph: toGraph(graph, '', context),
    functions: list(decoded.functions).map((f) => `${str(f.domain)}:${str(f.name)}`),
  };
}

interface Context {
  file: string;
}

function toGraph(g: Decoded, idPrefix: string, context: Context): OnnxGraph {
  const nodes = list(g.node).map((n, index) => toNode(n, `${idPrefix}${index}`, context));
  return {
    name: str(g.name),
    nodes,
    initializers: list(g.initializer).map((t) => toTensor(t, context)),
    sparseInitializers: list(g.sparse_initializer).map((t) => toSparseTensor(t, context)),
    inputs: list(g.input).map(toValueInfo),
    outputs: list(g.output).map(toValueInfo),
    valueInfo: list(g.value_info).map(toValueInfo),
  };
}

function toNode(n: Decoded, id: string, context: Context): OnnxNode {
  const attributes: OnnxAttribute[] = [];
  const subgraphs: OnnxNode['subgraphs'] = [];
  for (const a of list(n.attribute)) {
    const name = str(a.name);
    const value = toAttributeValue(a, `${id}/${name}`, context);
    attributes.push({ name, value });
    if (value.type === 'graph') subgraphs.push({ attribute: name, graph: value.value });
    if (value.type === 'graphs') value.value.forEach((graph) => subgraphs.push({ attribute: name, graph }));
  }
  return {
    id,
    name: str(n.name),
    opType: str(n.op_type),
    domain: str(n.domain) === 'ai.onnx' ? '' : str(n.domain),
    inputs: list<string>(n.input).map(String),
    outputs: list<string>(n.output).map(String),
    attributes,
    subgraphs,
    metadata: entries(n.metadata_props),
  };
}

// AttributeProto.AttributeType codes.
const ATTRIBUTE_TYPES: Record<number, AttributeValue['type']> = {
  1: 'float',
  2: 'int',
  3: 'string',
  4: 'tensor',
  5: 'graph',
  6: 'floats',
  7: 'ints',
  8: 'strings',
  9: 'tensors',
  10: 'graphs',
  11: 'sparse_tensor',
};

function toAttributeValue(a: Decoded, id: string, context: Context): AttributeValue {
  // Old files may leave `type` unset: infer it from the field present.
  const type =
    ATTRIBUTE_TYPES[Number(a.type ?? 0)] ??
    (a.g ? 'graph' : a.t ? 'tensor' : a.graphs ? 'graphs' : a.sparse_tensor ? 'sparse_tensor' : undefined);
  const file = context.file;
  switch (type) {
    case 'float':
      return { type, value: Number(a.f ?? 0) };
    case 'int':
      return { type, value: Number(a.i ?? 0) };
    case 'string':
      return { type, value: text(a.s) };
    case 'floats':
      return { type, value: list<number>(a.floats).map(Number) };
    case 'ints':
      return { type, value: list<unknown>(a.ints).map(Number) };
    case 'strings':
      return { type, value: list<unknown>(a.strings).map(text) };
    case 'tensor':
      return { type, value: toTensor((a.t ?? {}) as Decoded, context) };
    case 'tensors':
      return { type, value: list(a.tensors).map((t) => toTensor(t, context)) };
    case 'sparse_tensor':
      return { type, value: toSparseTensor((a.sparse_tensor ?? {}) as Decoded, context) };
    case 'graph':
      if (!a.g) throw new ModelReadError(file, `attribute ${id} is a graph attribute without a graph`);
      return { type, value: toGraph(a.g as Decoded, `${id}/`, context) };
    case 'graphs':
      return { type, value: list(a.graphs).map((g, i) => toGraph(g, `${id}.${i}/`, context)) };
    default:
      return { type: 'other', value: undefined };
  }
}

export function toTensor(t: Decoded, context: Context): OnnxTensor {
  const name = str(t.name);
  const dims = list<unknown>(t.dims).map((d) => int(d, context.file, `a dimension of tensor '${name}'`));
  if (dims.length > MAX_RANK) {
    throw new ModelReadError(
      context.file,
      `tensor '${name}' has ${dims.length} dimensions, more than ${MAX_RANK}`,
    );
  }
  const tensor: OnnxTensor = {
    name,
    dataType: dataTypeName(Number(t.data_type ?? 0)),
    dims,
    numel: numelOf(dims, name, context.file),
    data: tensorData(t, name, context.file),
  };
  checkStoredSize(tensor, list(t.string_data).length, context.file);
  return tensor;
}

/**
 * The data stored must be able to hold the elements the dims claim: a tensor that claims 2^52 elements
 * and stores 8 bytes would make counts no real model has (past 2^53 once summed) and make every
 * per-element loop over it run for ever. External data is checked against its file in checkExternalData.
 */
function checkStoredSize(tensor: OnnxTensor, strings: number, file: string): void {
  const { name, numel, data, dataType } = tensor;
  if (numel === 0 || data.kind === 'external') return;
  const claim = `tensor '${name}' has ${numel} elements (${tensor.dims.join('x') || 'a scalar'}) of ${dataType}`;
  if (data.kind === 'none') throw new ModelReadError(file, `${claim} but no data`);
  const bits = elementBits(dataType);
  const bytes = data.kind === 'in-file' ? data.length : data.bytes?.length;
  let fits: boolean;
  let held: string;
  if (data.field === 'raw_data') {
    const length = bytes ?? 0;
    fits = bits > 0 ? length === byteSize(dataType, numel) : numel <= 8 * length;
    held = `${length} bytes`;
  } else if (data.field === 'string_data') {
    fits = numel <= strings;
    held = `${strings} strings`;
  } else {
    // Typed fields: float_data 4 bytes a value, double_data 8, the varint fields at least 1; 4-bit types
    // pack two elements into one value.
    const width = data.field === 'float_data' ? 4 : data.field === 'double_data' ? 8 : 1;
    const values =
      bytes !== undefined
        ? Math.floor(bytes / width)
        : data.kind === 'inline'
          ? (data.values?.length ?? 0)
          : 0;
    fits = numel <= 2 * values;
    held = bytes !== undefined ? `${bytes} bytes` : `${values} values`;
  }
  if (!fits) throw new ModelReadError(file, `${claim} but its ${data.field} holds ${held}`);
}

function toSparseTensor(s: Decoded, context: Context): OnnxSparseTensor {
  const values = toTensor((s.values ?? {}) as Decoded, context);
  const indices = toTensor((s.indices ?? {}) as Decoded, context);
  const dims = list<unknown>(s.dims).map((d) =>
    int(d, context.file, `a dimension of sparse tensor '${values.name}'`),
  );
  return {
    name: values.name,
    dataType: values.dataType,
    dims,
    numel: numelOf(dims, values.name, context.file),
    storedNumel: values.numel,
    values,
    indices,
  };
}

export function numelOf(dims: number[], name: string, file: string): number {
  let numel = 1;
  for (const d of dims) {
    if (d < 0) throw new ModelReadError(file, `tensor '${name}' has a negative dimension (${d})`);
    numel *= d;
  }
  if (!Number.isSafeInteger(numel)) {
    throw new ModelReadError(
      file,
      `tensor '${name}' has ${dims.join('x')} elements, more than any real tensor can have`,
    );
  }
  return numel;
}

const TENSOR_FIELDS: readonly TensorField[] = [...NUMERIC_FIELDS, 'string_data'];

function tensorData(t: Decoded, name: string, file: string): TensorData {
  if (Number(t.data_location ?? 0) === 1) {
    const info = entries(t.external_data);
    if (info.location === undefined) {
      throw new ModelReadError(file, `tensor '${name}' is stored externally but names no location`);
    }
    const offset = info.offset === undefined ? 0 : int(info.offset, file, `external offset of '${name}'`);
    const length =
      info.length === undefined ? undefined : int(info.length, file, `external length of '${name}'`);
    return { kind: 'external', location: info.location, offset, length };
  }
  for (const field of TENSOR_FIELDS) {
    const value = t[field];
    if (value === undefined) continue;
    if (value instanceof PayloadRef)
      return { kind: 'in-file', field, offset: value.offset, length: value.length };
    if (value instanceof Uint8Array) return { kind: 'inline', field, bytes: Uint8Array.from(value) };
    if (Array.isArray(value)) {
      // Several packed chunks of one field can appear (protobuf merges them); keep the first that is a ref.
      const refs = value.filter((v): v is PayloadRef => v instanceof PayloadRef);
      if (refs.length === 1 && value.length === 1) {
        return { kind: 'in-file', field, offset: refs[0]!.offset, length: refs[0]!.length };
      }
      if (refs.length > 0) {
        throw new ModelReadError(
          file,
          `tensor '${name}' splits ${field} into several chunks, which paramtrace does not read`,
        );
      }
      if (field === 'string_data') return { kind: 'inline', field, values: [] };
      return {
        kind: 'inline',
        field,
        values: value.map((v) => (typeof v === 'string' ? BigInt(v) : Number(v))),
      };
    }
  }
  return { kind: 'none' };
}

function toValueInfo(v: Decoded): OnnxValueInfo {
  const tensorType = ((v.type as Decoded | undefined)?.tensor_type ?? undefined) as Decoded | undefined;
  const shape = tensorType?.shape as Decoded | undefined;
  return {
    name: str(v.name),
    elemType: tensorType?.elem_type === undefined ? undefined : dataTypeName(Number(tensorType.elem_type)),
    shape: shape === undefined ? undefined : list(shape.dim).map(toDim),
  };
}

function toDim(d: Decoded): Dim {
  if (d.dim_value !== undefined) {
    // Some exporters write -1 for a dynamic dimension: that is an unknown one, as is any unusable number.
    const n = Number(d.dim_value);
    return Number.isSafeInteger(n) && n >= 0 ? n : null;
  }
  // A symbolic name longer than any report may carry is as good as none.
  if (d.dim_param !== undefined && d.dim_param !== '' && String(d.dim_param).length <= 4096)
    return String(d.dim_param);
  return null;
}

/** External data must exist and be large enough; paths stay inside the model's folder. */
function checkExternalData(model: OnnxModel): void {
  const folder = path.dirname(path.resolve(model.file.path));
  const external = externalDataOf(model);
  for (const tensor of allTensors(model.graph)) {
    if (tensor.data.kind !== 'external') continue;
    const { location, offset, length } = tensor.data;
    const { size } = external.resolve(location, tensor.name);
    if (size === undefined) {
      throw new ModelReadError(
        model.file.path,
        `tensor '${tensor.name}' is stored in external data file '${location}', which is missing (looked in ${folder})`,
      );
    }
    if (offset < 0 || (length ?? 0) < 0) {
      throw new ModelReadError(
        model.file.path,
        `tensor '${tensor.name}' has a negative external data offset or length (${offset}, ${length})`,
      );
    }
    const expected = byteSize(tensor.dataType, tensor.numel);
    if (length !== undefined && length < expected) {
      throw new ModelReadError(
        model.file.path,
        `tensor '${tensor.name}' has ${tensor.numel} elements of ${tensor.dataType} (${expected} bytes) but its external data is ${length} bytes long`,
      );
    }
    const needed = offset + (length ?? expected);
    if (needed > size) {
      throw new ModelReadError(
        model.file.path,
        `tensor '${tensor.name}' needs bytes ${offset}..${needed} of '${location}', which has only ${size} bytes`,
      );
    }
  }
}

/** An external data file, checked: the path to open, and its size (undefined when it is missing). */
export interface ExternalFile {
  path: string;
  size: number | undefined;
}

const externalData = new WeakMap<OnnxModel, ExternalData>();

/** The model's external data locations, resolved and checked once each for all who read them. */
export function externalDataOf(model: OnnxModel): ExternalData {
  let data = externalData.get(model);
  if (!data) externalData.set(model, (data = new ExternalData(model.file.path)));
  return data;
}

/**
 * Resolves external data locations: absolute paths and paths that leave the model's folder are refused,
 * and so is a symbolic link inside the folder that points out of it (ONNX's own external-data CVEs).
 * Each folder's real path is found once; a file in it costs one lstat, and a full real path only when it
 * is a link (real paths cost a system call per path component: with one file per tensor, most of the
 * time spent reading the structure).
 */
export class ExternalData {
  private readonly folder: string;
  private readonly realFolders = new Map<string, string>();
  private readonly files = new Map<string, ExternalFile>();

  constructor(private readonly modelPath: string) {
    this.folder = path.dirname(path.resolve(modelPath));
  }

  resolve(location: string, tensorName: string): ExternalFile {
    let file = this.files.get(location);
    if (!file) {
      file = this.check(location, tensorName);
      this.files.set(location, file);
    }
    return file;
  }

  private check(location: string, tensorName: string): ExternalFile {
    if (path.isAbsolute(location) || /^[a-zA-Z]:/.test(location)) {
      throw new ModelReadError(
        this.modelPath,
        `tensor '${tensorName}' names an absolute external data path ('${location}'), which is refused`,
      );
    }
    const target = path.resolve(this.folder, location);
    if (outside(this.folder, target)) {
      throw new ModelReadError(
        this.modelPath,
        `tensor '${tensorName}' names external data outside the model's folder ('${location}'), which is refused`,
      );
    }
    const realFolder = this.realFolderOf(this.folder, () => "cannot resolve the model's folder");
    const cannot = (): string => `cannot resolve external data '${location}' of tensor '${tensorName}'`;
    let real: string | undefined;
    let size: number | undefined;
    const entry = asModelError(() => lstatSync(target, { throwIfNoEntry: false }), cannot, this.modelPath);
    // target has no '..' left (path.resolve), and is what gets opened: when its last component is no link,
    // its real path is its folder's real path and its name.
    if (entry && !entry.isSymbolicLink()) {
      real = path.join(this.realFolderOf(path.dirname(target), cannot), path.basename(target));
      size = entry.size;
    } else if (entry) {
      real = asModelError(() => realPath(target), cannot, this.modelPath);
      if (real !== undefined) size = statSync(real).size;
    }
    if (real !== undefined && outside(realFolder, real)) {
      throw new ModelReadError(
        this.modelPath,
        `tensor '${tensorName}' names external data '${location}', a link to a file outside the model's folder, which is refused`,
      );
    }
    return { path: target, size };
  }

  /** A folder's real path, once per folder. */
  private realFolderOf(folder: string, what: () => string): string {
    let real = this.realFolders.get(folder);
    if (real === undefined) {
      real = asModelError(() => realpathSync.native(folder), what, this.modelPath);
      this.realFolders.set(folder, real);
    }
    return real;
  }
}

function outside(folder: string, file: string): boolean {
  return !file.startsWith(folder + path.sep);
}

/** A file-system look-up whose failures are the model's error, saying what was looked up. */
function asModelError<T>(lookUp: () => T, what: () => string, modelPath: string): T {
  try {
    return lookUp();
  } catch (error) {
    throw new ModelReadError(modelPath, `${what()}: ${(error as Error).message}`);
  }
}

/** The real path (links resolved), or undefined when there is nothing there. */
function realPath(file: string): string | undefined {
  try {
    return realpathSync.native(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** Every initializer, Constant-node and attribute tensor, in every subgraph. */
export function* allTensors(graph: OnnxGraph): Generator<OnnxTensor> {
  yield* graph.initializers;
  for (const s of graph.sparseInitializers) yield* [s.values, s.indices];
  for (const node of graph.nodes) {
    for (const a of node.attributes) {
      if (a.value.type === 'tensor') yield a.value.value;
      if (a.value.type === 'tensors') yield* a.value.value;
      if (a.value.type === 'sparse_tensor') yield* [a.value.value.values, a.value.value.indices];
    }
    for (const s of node.subgraphs) yield* allTensors(s.graph);
  }
}

function describeStart(source: ByteSource): string {
  const start = source.read(0, Math.min(8, source.size));
  const printable = Array.from(start).every((b) => b >= 0x20 && b < 0x7f);
  return printable
    ? `it starts with text '${Buffer.from(start).toString('latin1')}'`
    : `${source.size} bytes`;
}

function list<T = Decoded>(value: unknown): T[] {
  return Array.isArray(value) ? (value as T[]) : [];
}

function str(value: unknown): string {
  return value === undefined || value === null ? '' : typeof value === 'string' ? value : text(value);
}

function text(value: unknown): string {
  if (value instanceof Uint8Array) return Buffer.from(value).toString('utf8');
  return value === undefined || value === null ? '' : String(value);
}

function entries(value: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of list(value)) out[str(e.key)] = str(e.value);
  return out;
}

function nonNegative(value: unknown, file: string, what: string): number {
  const n = int(value, file, what);
  if (n < 0) throw new ModelReadError(file, `${what} is negative (${n})`);
  return n;
}

function int(value: unknown, file: string, what: string): number {
  const n = typeof value === 'number' ? value : Number(value);
  if (!Number.isSafeInteger(n))
    throw new ModelReadError(file, `${what} is not a usable integer (${String(value)})`);
  return n;
}
