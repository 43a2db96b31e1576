// What a trace run can be told: the device, how to build inputs, and the limits of the worker process.
// Also parsers for the CLI's `--input x=1x3x224x224`, `--dim batch=1`, `--input-file x=path.npy` and
// `--value sr=16000`.
import { TraceInputError } from './errors.ts';

/** Where a trace may run: the CLI's `--device`, the action's `device` input. */
export const TRACE_DEVICES = ['auto', 'cpu', 'cuda'] as const;
export type TraceDevice = (typeof TRACE_DEVICES)[number];

export interface TraceOptions {
  /** 'auto' (default) uses CUDA when its provider loads and the CPU otherwise, saying why. */
  device?: TraceDevice;
  /** Full shapes by graph input name (`--input x=1x3x224x224`). */
  inputs?: Record<string, number[]>;
  /**
   * Sizes of symbolic dimensions by dim_param name (`--dim batch=1`). An unresolved leading dimension
   * (axis 0, symbolic or unnamed) defaults to 1 and the trace says so; every other one must be given.
   */
  dims?: Record<string, number>;
  /**
   * Real input values from files, by graph input name (`--input-file x=path.npy`): NumPy .npy, or one
   * serialized ONNX TensorProto (.pb, as ONNX's backend tests store their inputs).
   */
  inputFiles?: Record<string, string>;
  /**
   * Values written out, by graph input name (`--value sr=16000`, `--value x=1,2,3`), as text: parsed by
   * the input's dtype. The shape is the model's (or `inputs`'); a single unresolved dimension is sized
   * by the number of values.
   */
  values?: Record<string, string[]>;
  /** Synthesized float inputs: seeded uniform values in [-1, 1) (default) or zeros. */
  floatFill?: 'random' | 'zeros';
  /** Seed of the synthesized float values (default 0). */
  seed?: number;
  /** Wall-clock limit of the whole run (session creation included), in ms; default 120000. */
  timeoutMs?: number;
  /** Resident memory limit of the worker process, in MiB; default 80% of the machine's memory. */
  maxMemoryMb?: number;
  /** The worker's environment (default: this process's). The action passes one without its token. */
  env?: NodeJS.ProcessEnv;
}

/** `x=1x3x224x224` → ['x', [1, 3, 224, 224]]; a scalar is `x=` or `x=scalar`. */
export function parseInputShapeOption(text: string): [string, number[]] {
  const [name, value] = splitAssignment(text, '--input', 'x=1x3x224x224');
  if (value === '' || value === 'scalar') return [name, []];
  const dims = value.split(/[x,]/).map((d) => toSize(d, `--input ${text}`));
  return [name, dims];
}

/** `batch=1` → ['batch', 1]. */
export function parseDimOption(text: string): [string, number] {
  const [name, value] = splitAssignment(text, '--dim', 'batch=1');
  return [name, toSize(value, `--dim ${text}`)];
}

/** `x=path/to/x.npy` → ['x', 'path/to/x.npy']. */
export function parseInputFileOption(text: string): [string, string] {
  const [name, value] = splitAssignment(text, '--input-file', 'x=path/to/x.npy');
  if (value === '') throw new TraceInputError(`--input-file ${text}: no file after '='`);
  return [name, value];
}

/** `sr=16000` → ['sr', ['16000']]; `x=1,2,3` or `x=[1, 2, 3]` → ['x', ['1', '2', '3']]. */
export function parseValueOption(text: string): [string, string[]] {
  const [name, value] = splitAssignment(text, '--value', 'sr=16000');
  const list = value.replace(/^\[(.*)\]$/s, '$1').trim();
  if (list === '') throw new TraceInputError(`--value ${text}: no value after '='`);
  return [name, list.split(',').map((v) => v.trim())];
}

function splitAssignment(text: string, option: string, example: string): [string, string] {
  const at = text.indexOf('=');
  if (at <= 0)
    throw new TraceInputError(`${option} ${text}: expected NAME=VALUE, for example ${option} ${example}`);
  return [text.slice(0, at), text.slice(at + 1).trim()];
}

function toSize(value: string, where: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isSafeInteger(n) || n < 0) {
    throw new TraceInputError(`${where}: '${value}' is not a dimension size (a whole number, 0 or more)`);
  }
  return n;
}
