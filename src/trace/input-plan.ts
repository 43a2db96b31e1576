// Decides, before any process starts, what each graph input of the run will be: its dtype, its concrete
// shape and where its values come from. An unresolved leading dimension (axis 0, symbolic or unnamed)
// becomes 1, a batch of one, and an image's unresolved height and width become 224; the trace says so.
// Every other unresolved dimension is named, all in one
// TraceInputError, with the option that sets each. Options that name no input of the model, and values
// that do not fit their input, are TraceUsageErrors (never a static fall-back).
import { closeSync, openSync, readSync } from 'node:fs';
import path from 'node:path';
import type { DataType, Dim, OnnxModel, OnnxValueInfo } from '../onnx/model.ts';
import { TraceInputError, TraceUsageError } from './errors.ts';
import { readNpyHeader } from './npy.ts';
import type { TraceOptions } from './options.ts';
import { isNpyFile, readTensorProtoFile } from './tensor-proto.ts';

/** Element types onnxruntime-node can feed. */
export const FEEDABLE: ReadonlySet<DataType> = new Set<DataType>([
  'float32',
  'float64',
  'float16',
  'int8',
  'uint8',
  'int16',
  'uint16',
  'int32',
  'uint32',
  'int64',
  'uint64',
  'bool',
  'string',
]);

export type InputSource =
  | { kind: 'random'; seed: number }
  | { kind: 'zeros' }
  | { kind: 'npy'; path: string }
  | { kind: 'pb'; path: string }
  /** `--value`: one text per element, already checked against the dtype (see parseValue). */
  | { kind: 'values'; values: string[] };

export interface InputPlan {
  name: string;
  dtype: DataType;
  shape: number[];
  source: InputSource;
  /** For the report: where the values came from (and a leading dimension that defaulted to 1). */
  from: string;
  /** For the message of a failed run: the options that would change this input. */
  hint: string;
}

export interface PlannedInputs {
  inputs: InputPlan[];
  /** What the report should say about the inputs: defaulted batch dimensions, scalars fed zeros. */
  notes: string[];
}

/** At most this many items in one note or message; the rest are counted. */
const LIST_LIMIT = 20;
/** A synthesized input with at most this many elements is suggested --value rather than --input-file. */
const SMALL_INPUT = 16;
/** Height and width of an image input whose model gives none. */
const IMAGE_SIZE = 224;
const FLOATS: ReadonlySet<DataType> = new Set<DataType>(['float32', 'float64', 'float16']);

interface GivenFile {
  format: 'npy' | 'pb';
  path: string;
  dtype: string;
  shape: number[];
}

/** A dimension whose size is known, and who said so. */
interface Known {
  size: number;
  /** `--dim`, `--input x`, `file x.npy`, `--value x`, or 'default' (a leading dimension set to 1). */
  by: string;
}

type Unresolved =
  { input: string; axis: number; dim: string | null; shape: Dim[] } | { input: string; rankUnknown: true };

export function planInputs(model: OnnxModel, options: TraceOptions): PlannedInputs {
  const initializers = new Set(model.graph.initializers.map((t) => t.name));
  const fed = model.graph.inputs.filter((i) => !initializers.has(i.name));
  checkNamed(options.inputs, fed, '--input');
  checkNamed(options.inputFiles, fed, '--input-file');
  checkNamed(options.values, fed, '--value');
  for (const name of Object.keys(options.values ?? {})) {
    if (options.inputFiles?.[name] !== undefined) {
      throw new TraceUsageError(`input '${name}' is given both --value and --input-file: give one`);
    }
  }
  for (const input of fed) checkFeedable(input);

  // Shapes given in full: --input, and the files' own shapes.
  const files = new Map<string, GivenFile>();
  const given = new Map<string, { shape: number[]; by: string }>();
  for (const input of fed) {
    const wanted = options.inputs?.[input.name];
    const file = options.inputFiles?.[input.name];
    if (file !== undefined) {
      const header = readFileHeader(file);
      if (header.dtype !== input.elemType) {
        throw new TraceInputError(
          `input file ${file} holds ${header.dtype}, but input '${input.name}' is ${input.elemType}`,
        );
      }
      if (wanted && wanted.join('x') !== header.shape.join('x')) {
        throw new TraceInputError(
          `input file ${file} has shape ${header.shape.join('x')}, but --input ${input.name}=${wanted.join('x')} was given`,
        );
      }
      checkAgainstDeclared(
        input,
        header.shape,
        `input file ${file} (shape ${header.shape.join('x') || 'scalar'})`,
      );
      files.set(input.name, header);
      given.set(input.name, { shape: header.shape, by: `file ${path.basename(file)}` });
    } else if (wanted) {
      checkAgainstDeclared(input, wanted, `--input ${input.name}=${wanted.join('x') || 'scalar'}`);
      given.set(input.name, { shape: wanted, by: `--input ${input.name}` });
    }
  }

  // Sizes of named dimensions: --dim first, then what the given shapes say, then the number of --value
  // values, then the default of a leading dimension.
  const known = new Map<string, Known>();
  for (const [dim, size] of Object.entries(options.dims ?? {})) known.set(dim, { size, by: '--dim' });
  for (const input of fed) {
    const shape = given.get(input.name);
    if (shape) learn(input.shape, shape.shape, shape.by, known);
  }
  const perInput = new Map<string, Map<number, Known>>(); // unnamed dimensions, by input and axis
  const sizeOf = (input: OnnxValueInfo, axis: number): Known | undefined => {
    const dim = input.shape?.[axis];
    if (typeof dim === 'number') return { size: dim, by: 'model' };
    return (
      (dim === null || dim === undefined ? undefined : known.get(dim)) ?? perInput.get(input.name)?.get(axis)
    );
  };
  const setSize = (input: OnnxValueInfo, axis: number, value: Known): void => {
    const dim = input.shape?.[axis];
    if (typeof dim === 'string') known.set(dim, value);
    else {
      const map = perInput.get(input.name) ?? new Map<number, Known>();
      map.set(axis, value);
      perInput.set(input.name, map);
    }
  };
  const open = (input: OnnxValueInfo): number[] =>
    (input.shape ?? []).flatMap((_, axis) => (sizeOf(input, axis) === undefined ? [axis] : []));

  // --value with one dimension left open: the number of values sizes it (a leading one first defaults).
  for (const input of fed) {
    const values = options.values?.[input.name];
    if (!values || given.has(input.name) || input.shape === undefined) continue;
    let unknown = open(input);
    if (unknown.length > 1 && unknown[0] === 0) {
      setSize(input, 0, { size: 1, by: 'default' });
      unknown = open(input); // the same name may stand at another axis too
    }
    if (unknown.length !== 1) continue;
    const axis = unknown[0]!;
    const rest = input.shape.reduce<number>((n, _, a) => (a === axis ? n : n * sizeOf(input, a)!.size), 1);
    if (rest === 0 || values.length % rest !== 0) {
      throw new TraceUsageError(
        `--value ${input.name}: ${values.length} value(s) cannot fill input '${input.name}' of shape ${shapeText(input.shape)}: its dimension ${axis} is sized by the number of values, which must then be a multiple of ${rest}`,
      );
    }
    setSize(input, axis, { size: values.length / rest, by: `--value ${input.name}` });
  }

  // A leading dimension nobody sized is a batch of one.
  const defaulted: { input: string; dim: string | null; shape: Dim[] }[] = [];
  for (const input of fed) {
    if (given.has(input.name) || !input.shape || input.shape.length === 0) continue;
    const size = sizeOf(input, 0);
    if (size === undefined) setSize(input, 0, { size: 1, by: 'default' });
    if (sizeOf(input, 0)?.by === 'default') {
      const dim = input.shape[0]!;
      defaulted.push({ input: input.name, dim: typeof dim === 'string' ? dim : null, shape: input.shape });
    }
  }

  // An image (float, rank 4, 1 or 3 channels: NCHW or NHWC) whose height and width have no size is
  // traced at 224x224, the size vision models are usually made for and that every stride up to 32 divides.
  const imageDefaulted: { input: string; axes: number[]; shape: Dim[] }[] = [];
  for (const input of fed) {
    const shape = input.shape;
    if (given.has(input.name) || shape?.length !== 4 || !FLOATS.has(input.elemType!)) continue;
    const channels = (axis: number): boolean => shape[axis] === 1 || shape[axis] === 3;
    const spatial = channels(1) ? [2, 3] : channels(3) ? [1, 2] : [];
    const openAxes = spatial.filter((axis) => sizeOf(input, axis) === undefined);
    if (openAxes.length === 0) continue;
    for (const axis of openAxes) setSize(input, axis, { size: IMAGE_SIZE, by: 'default' });
    imageDefaulted.push({ input: input.name, axes: openAxes, shape });
  }

  // Every other open dimension, of every input, in one message.
  const unresolved: Unresolved[] = [];
  for (const input of fed) {
    if (given.has(input.name)) continue;
    if (input.shape === undefined) {
      unresolved.push({ input: input.name, rankUnknown: true });
      continue;
    }
    for (const axis of open(input)) {
      const dim = input.shape[axis]!;
      unresolved.push({
        input: input.name,
        axis,
        dim: typeof dim === 'string' ? dim : null,
        shape: input.shape,
      });
    }
  }
  if (unresolved.length > 0) throw new TraceInputError(unresolvedMessage(unresolved, fed, sizeOf));

  const inputs = fed.map((input, index): InputPlan => {
    const shape = given.get(input.name)?.shape ?? input.shape!.map((_, axis) => sizeOf(input, axis)!.size);
    const dtype = input.elemType!;
    const { name } = input;
    const lead = defaulted.find((d) => d.input === name);
    const image = imageDefaulted.find((d) => d.input === name);
    const leadText = [
      ...(lead ? [`dimension 0${lead.dim !== null ? ` '${lead.dim}'` : ''} defaulted to 1`] : []),
      ...(image ? [`image size defaulted to ${IMAGE_SIZE}x${IMAGE_SIZE}`] : []),
    ]
      .map((text) => ` (${text})`)
      .join('');
    const shapeHint = shapeOptions(input, sizeOf);
    const file = files.get(name);
    if (file) {
      return {
        name,
        dtype,
        shape,
        source: { kind: file.format, path: path.resolve(file.path) },
        from: `file ${path.basename(file.path)}`,
        hint: `--input-file ${name}=FILE`,
      };
    }
    const values = options.values?.[name];
    if (values) {
      const count = shape.reduce((a, b) => a * b, 1);
      if (values.length !== count) {
        throw new TraceUsageError(
          `--value ${name}: ${values.length} value(s) given, but input '${name}' has shape ${shape.length === 0 ? 'scalar' : `[${shape.join(', ')}]`}, which holds ${count}`,
        );
      }
      const parsed = values.map((v) => parseValue(v, dtype, name));
      return {
        name,
        dtype,
        shape,
        source: { kind: 'values', values: parsed },
        from: `--value ${listText(
          values.map((v) => (v.length > 40 ? `${v.slice(0, 39)}…` : v)),
          8,
        )}${leadText}`,
        hint: `--value ${name}=...`,
      };
    }
    const isFloat = dtype === 'float32' || dtype === 'float64' || dtype === 'float16';
    const random = isFloat && (options.floatFill ?? 'random') === 'random';
    const seed = (options.seed ?? 0) + index;
    const source: InputSource = random ? { kind: 'random', seed } : { kind: 'zeros' };
    const made = random
      ? `random uniform [-1, 1), seed ${seed}`
      : dtype === 'bool'
        ? 'false'
        : dtype === 'string'
          ? 'empty strings'
          : 'zeros';
    const count = shape.reduce((a, b) => a * b, 1);
    const valueHint =
      count <= SMALL_INPUT && dtype !== 'string'
        ? `--value ${name}=${count === 1 ? 'V' : 'V,V,...'} or --input-file ${name}=FILE`
        : `--input-file ${name}=FILE.npy|.pb`;
    return {
      name,
      dtype,
      shape,
      source,
      from: `${made}${leadText}`,
      hint: [valueHint, ...shapeHint].join(', '),
    };
  });

  const imageNotes = imageDefaulted.map((d) => {
    const named = d.axes.map((axis) => d.shape[axis]).filter((dim) => typeof dim === 'string');
    const set =
      named.length === d.axes.length
        ? [...new Set(named)].map((dim) => `--dim ${dim}=N`).join(' ')
        : `--input ${d.input}=${d.shape.map((dim, axis) => (typeof dim === 'number' ? dim : axis === 0 ? 1 : 'N')).join('x')}`;
    return `Traced input '${d.input}' as a ${IMAGE_SIZE}x${IMAGE_SIZE} image: its height and width had no size; set them with ${set}.`;
  });
  return { inputs, notes: [...notes(inputs, fed, defaulted, options, known), ...imageNotes] };
}

/** Records the sizes a given shape shows for the declared shape's named dimensions. */
function learn(declared: Dim[] | undefined, shape: number[], by: string, known: Map<string, Known>): void {
  declared?.forEach((dim, axis) => {
    if (typeof dim === 'string' && !known.has(dim) && shape[axis] !== undefined)
      known.set(dim, { size: shape[axis], by });
  });
}

function checkFeedable(input: OnnxValueInfo): void {
  const { name, elemType: dtype } = input;
  if (dtype === undefined) {
    throw new TraceInputError(
      `input '${name}' is not a tensor (sequence, map or optional inputs cannot be synthesized); paramtrace traces tensor inputs only`,
    );
  }
  if (!FEEDABLE.has(dtype))
    throw new TraceInputError(
      `input '${name}' has element type ${dtype}, which onnxruntime-node cannot feed`,
    );
}

/** The dtype and shape of an input file: a .npy header, or a TensorProto (.pb) read whole. */
function readFileHeader(file: string): GivenFile {
  let magic: Buffer;
  try {
    const fd = openSync(file, 'r');
    try {
      magic = Buffer.alloc(6);
      magic = magic.subarray(0, readSync(fd, magic, 0, 6, 0));
    } finally {
      closeSync(fd);
    }
  } catch (error) {
    throw new TraceInputError(`input file ${file} cannot be opened: ${(error as Error).message}`);
  }
  if (isNpyFile(magic) || file.endsWith('.npy')) {
    const header = readNpyHeader(file); // a .npy without the magic gets its own message
    return { format: 'npy', path: file, dtype: header.dtype, shape: header.shape };
  }
  const tensor = readTensorProtoFile(file);
  return { format: 'pb', path: file, dtype: tensor.dtype, shape: tensor.shape };
}

/** The one message for every dimension the trace cannot size: each named, each with its option. */
function unresolvedMessage(
  list: Unresolved[],
  fed: OnnxValueInfo[],
  sizeOf: (input: OnnxValueInfo, axis: number) => Known | undefined,
): string {
  const inputOf = (name: string): OnnxValueInfo => fed.find((i) => i.name === name)!;
  const suggestShape = (name: string): string => {
    const input = inputOf(name);
    return `--input ${name}=${input.shape!.map((d, axis) => sizeOf(input, axis)?.size ?? (typeof d === 'number' ? d : 'N')).join('x')}`;
  };
  const what = (u: Unresolved): string =>
    'rankUnknown' in u
      ? `input '${u.input}' declares no shape (unknown rank)`
      : u.dim === null
        ? `input '${u.input}' dimension ${u.axis} has neither a size nor a name`
        : `input '${u.input}' dimension ${u.axis} is the symbolic dimension '${u.dim}'`;
  if (list.length === 1) {
    const u = list[0]!;
    if ('rankUnknown' in u) return `${what(u)}: set it with --input ${u.input}=<d0>x<d1>x...`;
    if (u.dim === null) return `${what(u)}: set the shape with ${suggestShape(u.input)}`;
    return `${what(u)}: set it with --dim ${u.dim}=<size>, or set the shape with ${suggestShape(u.input)}`;
  }
  const options: string[] = [];
  const add = (option: string): void => {
    if (!options.includes(option)) options.push(option);
  };
  for (const u of list) {
    if ('rankUnknown' in u) add(`--input ${u.input}=<d0>x<d1>x...`);
    else if (u.dim === null) add(suggestShape(u.input));
    else add(`--dim ${u.dim}=<size>`);
  }
  return `${list.length} input dimensions have no size (only a leading batch dimension defaults to 1, and the height and width of an image to 224): ${listText(list.map(what), LIST_LIMIT)}; set them with ${listText(options, LIST_LIMIT, ' ')}`;
}

/** The options that change an input's shape, when part of it was not given: for the failure message. */
function shapeOptions(
  input: OnnxValueInfo,
  sizeOf: (input: OnnxValueInfo, axis: number) => Known | undefined,
): string[] {
  const out: string[] = [];
  input.shape?.forEach((dim, axis) => {
    if (typeof dim === 'number') return;
    const known = sizeOf(input, axis);
    if (typeof dim === 'string')
      out.push(
        `--dim ${dim}=N${known ? ` (now ${known.size}${known.by === 'default' ? ', the default' : ''})` : ''}`,
      );
    else out.push(`--input ${input.name}=...`);
  });
  return [...new Set(out)];
}

/** The report's notes about the inputs. */
function notes(
  inputs: InputPlan[],
  fed: OnnxValueInfo[],
  defaulted: { input: string; dim: string | null; shape: Dim[] }[],
  options: TraceOptions,
  known: Map<string, Known>,
): string[] {
  const out: string[] = [];
  if (defaulted.length > 0) {
    const byDim = new Map<string, string[]>();
    const unnamed: string[] = [];
    for (const d of defaulted) {
      if (d.dim === null)
        unnamed.push(
          `'${d.input}' (--input ${d.input}=${['N', ...d.shape.slice(1).map((s) => (typeof s === 'number' ? s : 'N'))].join('x')})`,
        );
      else byDim.set(d.dim, [...(byDim.get(d.dim) ?? []), d.input]);
    }
    const parts = [
      ...[...byDim].map(
        ([dim, names]) => `'${dim}' of ${names.map((n) => `'${n}'`).join(', ')} (--dim ${dim}=N)`,
      ),
      ...(unnamed.length > 0 ? [`the unnamed dimension 0 of ${unnamed.join(', ')}`] : []),
    ];
    out.push(
      `Traced with a batch of one: the leading input dimension(s) ${listText(parts, LIST_LIMIT)} had no size and were set to 1; set another size with the option shown.`,
    );
  }
  const scalars = inputs.filter((plan) => {
    const declared = fed.find((i) => i.name === plan.name)?.shape;
    const scalarLike =
      declared !== undefined && (declared.length === 0 || (declared.length === 1 && declared[0] === 1));
    return (
      scalarLike && (plan.source.kind === 'zeros' || plan.source.kind === 'random') && plan.dtype !== 'string'
    );
  });
  if (scalars.length > 0) {
    out.push(
      `Scalar input(s) ${listText(
        scalars.map(
          (s) =>
            `'${s.name}' (${s.dtype}, ${s.source.kind === 'random' ? 'a random value' : s.dtype === 'bool' ? 'false' : '0'})`,
        ),
        LIST_LIMIT,
      )} were given no value: if one selects a branch or sets a size (a sample rate, a step count), give it with --value ${scalars[0]!.name}=V.`,
    );
  }
  const used = new Set(fed.flatMap((i) => (i.shape ?? []).filter((d): d is string => typeof d === 'string')));
  const unusedDims = Object.keys(options.dims ?? {}).filter((d) => !used.has(d));
  if (unusedDims.length > 0) {
    out.push(
      `${listText(
        unusedDims.map((d) => `--dim ${d}=${known.get(d)?.size ?? ''}`),
        LIST_LIMIT,
      )} named no symbolic dimension of the model's inputs (${
        used.size > 0
          ? `they have ${listText(
              [...used].map((d) => `'${d}'`),
              LIST_LIMIT,
            )}`
          : 'they have none'
      }), so it was not used.`,
    );
  }
  return out;
}

/** A --value text checked against the input's dtype; returned normalized (what input-data.ts parses). */
export function parseValue(text: string, dtype: DataType, input: string): string {
  const bad = (why: string): never => {
    throw new TraceUsageError(`--value ${input}: '${text}' is not ${why} (input '${input}' is ${dtype})`);
  };
  switch (dtype) {
    case 'float32':
    case 'float64':
    case 'float16': {
      const t = text.trim().toLowerCase();
      const special: Record<string, number> = {
        nan: NaN,
        inf: Infinity,
        '+inf': Infinity,
        '-inf': -Infinity,
      };
      const n = t in special ? special[t]! : t === '' ? NaN : Number(t);
      if (Number.isNaN(n) && t !== 'nan') bad('a number');
      return String(n);
    }
    case 'bool': {
      const t = text.trim().toLowerCase();
      if (t === 'true' || t === '1') return '1';
      if (t === 'false' || t === '0') return '0';
      return bad('true, false, 1 or 0');
    }
    case 'string':
      return text;
    default: {
      const range = INT_RANGE[dtype];
      if (!range) return bad('a value of a feedable type');
      let n: bigint;
      try {
        if (!/^\s*[-+]?(\d+|0x[0-9a-f]+)\s*$/i.test(text)) throw new Error();
        const t = text.trim();
        n = t.startsWith('-') ? -BigInt(t.slice(1)) : BigInt(t.replace(/^\+/, ''));
      } catch {
        return bad('a whole number');
      }
      if (n < range[0] || n > range[1]) bad(`within ${range[0]}..${range[1]}`);
      return String(n);
    }
  }
}

const INT_RANGE: Partial<Record<DataType, [bigint, bigint]>> = {
  int8: [-128n, 127n],
  uint8: [0n, 255n],
  int16: [-32768n, 32767n],
  uint16: [0n, 65535n],
  int32: [-(2n ** 31n), 2n ** 31n - 1n],
  uint32: [0n, 2n ** 32n - 1n],
  int64: [-(2n ** 63n), 2n ** 63n - 1n],
  uint64: [0n, 2n ** 64n - 1n],
};

/**
 * What a failed run's message says about its inputs: each input's dtype, shape, how its values were made
 * and the option that would change them.
 */
export function describeInputs(inputs: InputPlan[]): string {
  if (inputs.length === 0) return 'The model has no inputs to change.';
  const items = inputs.map(
    (p) =>
      `'${p.name}' ${p.dtype} ${p.shape.length === 0 ? 'scalar' : `[${p.shape.join(', ')}]`} from ${p.from} (to change: ${p.hint})`,
  );
  return `The run's inputs: ${listText(items, LIST_LIMIT, '; ')}.`;
}

/** A declared shape as text: `batchx4`, `?x3`, `scalar`. */
function shapeText(shape: Dim[]): string {
  return shape.map((d) => (d === null ? '?' : String(d))).join('x') || 'scalar';
}

/** A shape given by the user must fit the declared one: same rank, same fixed sizes. */
function checkAgainstDeclared(input: OnnxValueInfo, shape: number[], given: string): void {
  const declared = input.shape;
  if (declared === undefined) return;
  const text = shapeText(declared);
  if (declared.length !== shape.length) {
    throw new TraceInputError(
      `${given} has rank ${shape.length}, but input '${input.name}' is declared with rank ${declared.length} (${text})`,
    );
  }
  declared.forEach((d, axis) => {
    if (typeof d === 'number' && d !== shape[axis]) {
      throw new TraceInputError(
        `${given} has size ${shape[axis]} at dimension ${axis}, but input '${input.name}' is declared ${text}`,
      );
    }
  });
}

function checkNamed(given: Record<string, unknown> | undefined, fed: OnnxValueInfo[], option: string): void {
  for (const name of Object.keys(given ?? {})) {
    if (!fed.some((i) => i.name === name)) {
      throw new TraceUsageError(
        `${option} ${name}: the model has no such input (its inputs: ${fed.map((i) => i.name).join(', ') || 'none'})`,
      );
    }
  }
}

/** `a, b, c and 3 more`. */
function listText(items: string[], limit: number, separator = ', '): string {
  const shown = items.slice(0, limit).join(separator);
  return items.length > limit ? `${shown}${separator}and ${items.length - limit} more` : shown;
}
