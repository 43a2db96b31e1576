// Decides, before any process starts, what each graph input of the run will be: its dtype, its concrete
// shape and where its values come from. Every problem the user can fix (a symbolic dimension without a
// size, a file of the wrong dtype) is a TraceInputError that names the input and the option to set.
import path from 'node:path';
import type { DataType, Dim, OnnxModel, OnnxValueInfo } from '../onnx/model.ts';
import { TraceInputError } from './errors.ts';
import { readNpyHeader } from './npy.ts';
import type { TraceOptions } from './options.ts';

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
  { kind: 'random'; seed: number } | { kind: 'zeros' } | { kind: 'npy'; path: string };

export interface InputPlan {
  name: string;
  dtype: DataType;
  shape: number[];
  source: InputSource;
  /** For the report: where the values came from. */
  from: string;
}

export function planInputs(model: OnnxModel, options: TraceOptions): InputPlan[] {
  const initializers = new Set(model.graph.initializers.map((t) => t.name));
  const fed = model.graph.inputs.filter((i) => !initializers.has(i.name));
  checkNamed(options.inputs, fed, '--input');
  checkNamed(options.inputFiles, fed, '--input-file');
  return fed.map((input, index) => planInput(input, index, options));
}

function planInput(input: OnnxValueInfo, index: number, options: TraceOptions): InputPlan {
  const { name } = input;
  const dtype = input.elemType;
  if (dtype === undefined) {
    throw new TraceInputError(
      `input '${name}' is not a tensor (sequence, map or optional inputs cannot be synthesized); paramtrace traces tensor inputs only`,
    );
  }
  if (!FEEDABLE.has(dtype))
    throw new TraceInputError(
      `input '${name}' has element type ${dtype}, which onnxruntime-node cannot feed`,
    );

  const file = options.inputFiles?.[name];
  if (file !== undefined) {
    const header = readNpyHeader(file);
    if (header.dtype !== dtype) {
      throw new TraceInputError(`input file ${file} holds ${header.dtype}, but input '${name}' is ${dtype}`);
    }
    const wanted = options.inputs?.[name];
    if (wanted && wanted.join('x') !== header.shape.join('x')) {
      throw new TraceInputError(
        `input file ${file} has shape ${header.shape.join('x')}, but --input ${name}=${wanted.join('x')} was given`,
      );
    }
    checkAgainstDeclared(
      input,
      header.shape,
      `input file ${file} (shape ${header.shape.join('x') || 'scalar'})`,
    );
    return {
      name,
      dtype,
      shape: header.shape,
      source: { kind: 'npy', path: path.resolve(file) },
      from: `file ${path.basename(file)}`,
    };
  }

  const shape = options.inputs?.[name] ?? resolveDeclared(input, options.dims ?? {});
  if (options.inputs?.[name]) checkAgainstDeclared(input, shape, `--input ${name}=${shape.join('x')}`);
  const isFloat = dtype === 'float32' || dtype === 'float64' || dtype === 'float16';
  const random = isFloat && (options.floatFill ?? 'random') === 'random';
  const seed = (options.seed ?? 0) + index;
  const source: InputSource = random ? { kind: 'random', seed } : { kind: 'zeros' };
  const from = random
    ? `random uniform [-1, 1), seed ${seed}`
    : dtype === 'bool'
      ? 'false'
      : dtype === 'string'
        ? 'empty strings'
        : 'zeros';
  return { name, dtype, shape, source, from };
}

/** The declared shape with symbolic dimensions replaced by their --dim sizes. */
function resolveDeclared(input: OnnxValueInfo, dims: Record<string, number>): number[] {
  const { name, shape } = input;
  if (shape === undefined) {
    throw new TraceInputError(
      `input '${name}' declares no shape (unknown rank): set it with --input ${name}=<d0>x<d1>x...`,
    );
  }
  return shape.map((dim, axis) => {
    if (typeof dim === 'number') return dim;
    const example = `--input ${name}=${suggest(shape)}`;
    if (dim === null) {
      throw new TraceInputError(
        `input '${name}' dimension ${axis} has neither a size nor a name: set the shape with ${example}`,
      );
    }
    const size = dims[dim];
    if (size === undefined) {
      throw new TraceInputError(
        `input '${name}' dimension ${axis} is the symbolic dimension '${dim}': set it with --dim ${dim}=<size>, or set the shape with ${example}`,
      );
    }
    return size;
  });
}

/** A shape given by the user must fit the declared one: same rank, same fixed sizes. */
function checkAgainstDeclared(input: OnnxValueInfo, shape: number[], given: string): void {
  const declared = input.shape;
  if (declared === undefined) return;
  const text = declared.map((d) => (d === null ? '?' : String(d))).join('x') || 'scalar';
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
      throw new TraceInputError(
        `${option} ${name}: the model has no such input (its inputs: ${fed.map((i) => i.name).join(', ') || 'none'})`,
      );
    }
  }
}

function suggest(shape: Dim[]): string {
  return shape.map((d) => (typeof d === 'number' ? String(d) : 'N')).join('x');
}
