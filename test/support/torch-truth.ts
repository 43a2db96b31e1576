// PyTorch's own ground truth for the manifest and helper tests: runs test/support/torch_truth.py with Debian's
// PyTorch (/usr/bin/python3) once, caches its output directory in os.tmpdir() (keyed by the Python sources and
// the PyTorch version, so every test file of a run, and later runs, share it), and reads the truth JSON and the
// .npy / raw-le tensors it writes.
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** Debian's PyTorch 1.13 is installed for this interpreter only. */
export const PYTHON = process.env.PARAMTRACE_PYTHON ?? '/usr/bin/python3';
export const HELPER = join(ROOT, 'python', 'paramtrace_torch.py');
const TRUTH_SCRIPT = join(ROOT, 'test', 'support', 'torch_truth.py');
const SOURCES = [HELPER, TRUTH_SCRIPT, join(ROOT, 'test', 'support', 'torch_models.py')];

/** Every model of torch_models.MODELS. */
export const MODEL_NAMES = [
  'seed1',
  'seed2',
  'seed3',
  'resnet18',
  'tied_embedding',
  'repeated_layer',
  'unused_module',
  'frozen_backbone',
  'lstm_attention',
  'fresh_bn',
  'scripted_if',
] as const;
export type ModelName = (typeof MODEL_NAMES)[number];

/** Models also exported with a plain torch.onnx.export (constant folding on) and the manifest attached. */
export const PLAIN_NAMES = ['tied_embedding', 'lstm_attention', 'fresh_bn'] as const;

export interface TruthParameter {
  name: string;
  aliases: string[];
  shape: number[];
  numel: number;
  requiresGrad: boolean;
  used: boolean;
  calls: number;
}

export interface ArrayEntry {
  name: string;
  file: string;
  format: 'npy' | 'raw-le';
  shape: number[];
  dtype: string;
}

export interface Truth {
  name: string;
  modelClass: string;
  torchVersion: string;
  onnx: string;
  declared: number;
  trainable: number;
  frozen: number;
  buffers: number;
  unique: number;
  summary: number;
  used: string[];
  shared: { name: string; numel: number; calls: number }[];
  unused: { name: string; numel: number }[];
  parameters: TruthParameter[];
  bufferTensors: { name: string; shape: number[]; dtype: string; numel: number }[];
  exported: { exporter: string; opset: number; altered: string[]; initializers: string[] };
  inputs: ArrayEntry[];
  outputs: ArrayEntry[];
}

export interface PlainExport {
  name: string;
  onnx: string;
  initializers: { name: string; dims: number[] }[];
  manifest: string[];
}

export function runPython(
  args: string[],
  options: { timeoutMs?: number; cwd?: string } = {},
): SpawnSyncReturns<string> {
  return spawnSync(PYTHON, args, {
    cwd: options.cwd ?? ROOT,
    encoding: 'utf8',
    timeout: options.timeoutMs ?? 300_000,
    maxBuffer: 64 * 1024 * 1024,
    env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' },
  });
}

let pythonState: { reason?: string } | undefined;
/** Why /usr/bin/python3 cannot run (the helper's attach needs no PyTorch), or undefined. */
export function pythonUnavailable(): string | undefined {
  if (!pythonState) {
    const r = runPython(['-c', 'import sys; print(sys.version)'], { timeoutMs: 30_000 });
    pythonState = r.status === 0 ? {} : { reason: `Python not available: ${PYTHON}: ${firstLine(r)}` };
  }
  return pythonState.reason;
}

let torchState: { reason?: string; version?: string } | undefined;
/** Why PyTorch cannot be used (the reason to skip with), or undefined when it can. */
export function torchUnavailable(): string | undefined {
  if (!torchState) {
    const r = runPython(['-c', 'import torch; print(torch.__version__)'], { timeoutMs: 120_000 });
    torchState =
      r.status === 0
        ? { version: r.stdout.trim() }
        : { reason: `PyTorch not available: \`${PYTHON} -c 'import torch'\` failed: ${firstLine(r)}` };
  }
  return torchState.reason;
}

let truthState: { dir?: string; error?: string } | undefined;

/**
 * The directory torch_truth.py wrote for every model (`all`, plus the plain exports), made once and cached.
 * Throws when the script fails; call torchUnavailable() first. PARAMTRACE_TRUTH_FRESH=1 makes one per test run.
 */
export function truthDir(): string {
  if (!truthState) truthState = makeTruthDir();
  if (truthState.error !== undefined) throw new Error(truthState.error);
  return truthState.dir!;
}

function makeTruthDir(): { dir?: string; error?: string } {
  const reason = torchUnavailable();
  if (reason) return { error: reason };
  const hash = createHash('sha256');
  for (const file of SOURCES) hash.update(readFileSync(file));
  hash.update(`${PYTHON}\0${torchState?.version ?? ''}\0${PLAIN_NAMES.join(',')}`);
  // PARAMTRACE_TRUTH_FRESH=1: a directory of this test run's own (the test files of one run share a parent).
  if (process.env.PARAMTRACE_TRUTH_FRESH === '1') hash.update(`\0run ${process.ppid}`);
  const dir = join(tmpdir(), `paramtrace-torch-truth-${hash.digest('hex').slice(0, 16)}`);
  const done = join(dir, '.complete');
  if (existsSync(done)) return { dir };
  // Written to a private directory and renamed into place, so that test files running at once never read a
  // half-written one; whoever renames first wins and the other's copy is dropped.
  const work = `${dir}.tmp-${process.pid}-${Date.now()}`;
  mkdirSync(work, { recursive: true });
  const r = runPython([TRUTH_SCRIPT, 'all', work, '--plain', PLAIN_NAMES.join(',')], { timeoutMs: 600_000 });
  if (r.status !== 0) {
    rmSync(work, { recursive: true, force: true });
    const what = r.status === 3 ? 'skipped' : `failed (exit ${r.status ?? r.signal})`;
    return { error: `torch_truth.py all ${what}: ${r.stderr.trim().split('\n').slice(-5).join(' | ')}` };
  }
  writeFileSync(join(work, '.complete'), `${new Date().toISOString()}\n${r.stdout}`);
  try {
    renameSync(work, dir);
  } catch {
    rmSync(work, { recursive: true, force: true });
    if (!existsSync(done)) {
      rmSync(dir, { recursive: true, force: true });
      return makeTruthDir();
    }
  }
  return { dir };
}

/** Why this model's truth is missing (PyTorch, or torchvision for resnet18, not importable), or undefined. */
export function truthUnavailable(name: string): string | undefined {
  const reason = torchUnavailable();
  if (reason) return reason;
  const skip = join(truthDir(), `${name}.skip`);
  return existsSync(skip)
    ? `torch_truth.py skipped ${name}: ${readFileSync(skip, 'utf8').trim()}`
    : undefined;
}

export function readTruth(name: string): Truth {
  return JSON.parse(readFileSync(join(truthDir(), `${name}.truth.json`), 'utf8')) as Truth;
}

export function truthOnnx(name: string): string {
  return join(truthDir(), `${name}.onnx`);
}

export function readPlain(name: string): PlainExport {
  return JSON.parse(readFileSync(join(truthDir(), `${name}.plain.json`), 'utf8')) as PlainExport;
}

export function plainOnnx(name: string): string {
  return join(truthDir(), `${name}.plain.onnx`);
}

export type NumericArray =
  Float32Array | Float64Array | Int32Array | BigInt64Array | Uint8Array | Int8Array | Int16Array;

export interface LoadedArray {
  dtype: string;
  shape: number[];
  data: NumericArray;
}

/** An input or output tensor torch_truth.py saved (.npy, or raw little-endian .bin without numpy). */
export function readArray(entry: ArrayEntry, dir = truthDir()): LoadedArray {
  const bytes = readFileSync(join(dir, entry.file));
  if (entry.format === 'raw-le')
    return { dtype: entry.dtype, shape: entry.shape, data: typed(entry.dtype, bytes) };
  return readNpy(bytes);
}

/** A .npy file (format 1.0-3.0, little-endian, C order). */
export function readNpy(bytes: Buffer): LoadedArray {
  if (bytes.length < 10 || bytes[0] !== 0x93 || bytes.toString('latin1', 1, 6) !== 'NUMPY')
    throw new Error('not a .npy file');
  const major = bytes[6]!;
  const headerLength = major === 1 ? bytes.readUInt16LE(8) : bytes.readUInt32LE(8);
  const start = major === 1 ? 10 : 12;
  const header = bytes.toString(major >= 3 ? 'utf8' : 'latin1', start, start + headerLength);
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (!descr || shapeText === undefined) throw new Error(`cannot read the .npy header ${header}`);
  if (/'fortran_order':\s*True/.test(header)) throw new Error('Fortran-ordered .npy is not supported');
  const dtype = NPY_DTYPES[descr];
  if (!dtype) throw new Error(`unsupported .npy dtype ${descr}`);
  const shape = shapeText
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map(Number);
  return { dtype, shape, data: typed(dtype, bytes.subarray(start + headerLength)) };
}

const NPY_DTYPES: Record<string, string> = {
  '<f4': 'float32',
  '<f8': 'float64',
  '<i4': 'int32',
  '<i8': 'int64',
  '|u1': 'uint8',
  '|i1': 'int8',
  '<i2': 'int16',
  '|b1': 'bool',
};

function typed(dtype: string, bytes: Buffer): NumericArray {
  const copy = new Uint8Array(bytes).buffer; // aligned
  switch (dtype) {
    case 'float32':
      return new Float32Array(copy);
    case 'float64':
      return new Float64Array(copy);
    case 'int32':
      return new Int32Array(copy);
    case 'int64':
      return new BigInt64Array(copy);
    case 'int16':
      return new Int16Array(copy);
    case 'int8':
      return new Int8Array(copy);
    case 'uint8':
    case 'bool':
      return new Uint8Array(copy);
    default:
      throw new Error(`unsupported dtype ${dtype}`);
  }
}

/**
 * For each job, copies `from` to `to` and embeds `text` verbatim as the manifest metadata, with the helper's own
 * attach() (given a str, it writes it as is). One Python process for all; PyTorch is kept from loading, since
 * attach needs none.
 */
export function attachTexts(jobs: { from: string; to: string; text: string }[]): void {
  const script = [
    'import importlib.util, json, shutil, sys',
    "sys.modules['torch'] = None  # attach() needs no PyTorch",
    "spec = importlib.util.spec_from_file_location('paramtrace_torch', sys.argv[1])",
    'pt = importlib.util.module_from_spec(spec); spec.loader.exec_module(pt)',
    'for job in json.load(sys.stdin):',
    "    shutil.copyfile(job['from'], job['to'])",
    "    pt.attach(job['to'], job['text'])",
  ].join('\n');
  const r = spawnSync(PYTHON, ['-c', script, HELPER], {
    cwd: ROOT,
    input: JSON.stringify(jobs),
    encoding: 'utf8',
    timeout: 120_000,
  });
  if (r.status !== 0)
    throw new Error(`attach failed (exit ${r.status ?? r.signal}): ${r.stderr.trim() || r.error?.message}`);
}

function firstLine(r: SpawnSyncReturns<string>): string {
  if (r.error) return r.error.message;
  const lines = `${r.stderr ?? ''}`.trim().split('\n');
  return lines.at(-1) || `exit ${r.status ?? r.signal}`;
}
