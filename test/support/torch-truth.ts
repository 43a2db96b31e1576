// PyTorch's own ground truth for the manifest and helper tests: runs test/support/torch_truth.py once per Python
// world (./pythons.ts: Debian's PyTorch 1.13 and the PyTorch 2.x venv), caches each output directory in
// os.tmpdir() (keyed by the Python sources, the interpreter and its PyTorch version, so every test file of a run,
// and later runs, share it), and reads the truth JSON and the .npy / raw-le tensors it writes. The module-level
// functions are the 1.13 world's (other tests use them); TorchEnv / ENVS give each world's.
import assert from 'node:assert/strict';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { STRICT, TORCH1, WORLDS, type PythonWorld } from './pythons.ts';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** Debian's PyTorch 1.13 is installed for this interpreter only (the 2.x world: see ./pythons.ts). */
export const PYTHON = TORCH1.python;
export const HELPER = join(ROOT, 'python', 'paramtrace_torch.py');
export const TRUTH_SCRIPT = join(ROOT, 'test', 'support', 'torch_truth.py');
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

/**
 * One Python world's PyTorch: runs its interpreter, finds out whether PyTorch is there, and makes (once, cached
 * in os.tmpdir() keyed by the sources, the interpreter and its PyTorch version) the truth directory
 * torch_truth.py writes with it.
 */
export class TorchEnv {
  readonly world: PythonWorld;
  private pythonState: { reason?: string } | undefined;
  private torchState: { reason?: string; version?: string } | undefined;
  private truthState: { dir?: string; error?: string } | undefined;
  private torchvisionState: { reason?: string } | undefined;
  private torchvisionWarned = false;
  private warned = false;

  constructor(world: PythonWorld) {
    this.world = world;
  }

  get python(): string {
    return this.world.python;
  }

  /** `[PyTorch 1.13]` / `[PyTorch 2.x]`, for test names. */
  get label(): string {
    return this.world.label;
  }

  runPython(args: string[], options: { timeoutMs?: number; cwd?: string } = {}): SpawnSyncReturns<string> {
    return spawnSync(this.python, args, {
      cwd: options.cwd ?? ROOT,
      encoding: 'utf8',
      timeout: options.timeoutMs ?? 300_000,
      maxBuffer: 64 * 1024 * 1024,
      env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' },
    });
  }

  /** Why the interpreter cannot run (the helper's attach needs no PyTorch), or undefined. */
  pythonUnavailable(): string | undefined {
    if (!this.pythonState) {
      if (this.python.includes('/') && !existsSync(this.python)) {
        this.pythonState = { reason: `${this.world.notFound} (${this.python})` };
      } else {
        const r = this.runPython(['-c', 'import sys; print(sys.version)'], { timeoutMs: 30_000 });
        this.pythonState =
          r.status === 0 ? {} : { reason: `Python not available: ${this.python}: ${firstLine(r)}` };
      }
    }
    return this.pythonState.reason;
  }

  /** Why PyTorch cannot be used in this world (the reason to skip with), or undefined when it can. */
  torchUnavailable(): string | undefined {
    if (!this.torchState) {
      const missing = this.pythonUnavailable();
      if (missing) {
        this.torchState = { reason: `${missing}: ${this.world.howToGet}` };
      } else {
        const r = this.runPython(['-c', 'import torch; print(torch.__version__)'], { timeoutMs: 120_000 });
        const version = r.stdout?.trim() ?? '';
        this.torchState =
          r.status !== 0
            ? {
                reason:
                  `PyTorch not available: \`${this.python} -c 'import torch'\` failed: ` +
                  `${firstLine(r)}; ${this.world.howToGet}`,
              }
            : Number(version.split('.')[0]) !== this.world.expectMajor
              ? {
                  reason: `${this.python} has PyTorch ${version}, not ${this.world.expectMajor}.x`,
                }
              : { version };
      }
    }
    if (this.torchState.reason && !this.warned) {
      this.warned = true;
      const what = STRICT ? 'its tests FAIL (CI is set)' : 'its tests are SKIPPED';
      process.stderr.write(`paramtrace tests: ${this.label} ${this.torchState.reason}; ${what}\n`);
    }
    return this.torchState.reason;
  }

  /** The PyTorch version (`torch.__version__`); call torchUnavailable() first. */
  get torchVersion(): string {
    this.torchUnavailable();
    return this.torchState?.version ?? '';
  }

  /**
   * True when this world's PyTorch is there. Otherwise skips the test loudly with the reason, or, under CI (env
   * CI set), fails it: CI installs both worlds.
   */
  ready(t: TestContext): boolean {
    const reason = this.torchUnavailable();
    if (!reason) return true;
    if (STRICT) assert.fail(`${this.label} ${reason} (CI is set: both PyTorch worlds must be present)`);
    t.skip(`${this.label} ${reason}`);
    return false;
  }

  /**
   * The directory torch_truth.py wrote for every model (`all`, plus the plain exports), made once and cached.
   * Throws when the script fails; call torchUnavailable() first. PARAMTRACE_TRUTH_FRESH=1 makes one per test run.
   */
  truthDir(): string {
    if (!this.truthState) this.truthState = this.makeTruthDir();
    if (this.truthState.error !== undefined) throw new Error(this.truthState.error);
    return this.truthState.dir!;
  }

  private makeTruthDir(): { dir?: string; error?: string } {
    const reason = this.torchUnavailable();
    if (reason) return { error: reason };
    const hash = createHash('sha256');
    for (const file of SOURCES) hash.update(readFileSync(file));
    hash.update(`${this.python}\0${this.torchVersion}\0${PLAIN_NAMES.join(',')}`);
    // PARAMTRACE_TRUTH_FRESH=1: a directory of this test run's own (the test files of one run share a parent).
    if (process.env.PARAMTRACE_TRUTH_FRESH === '1') hash.update(`\0run ${process.ppid}`);
    const dir = join(tmpdir(), `paramtrace-torch-truth-${hash.digest('hex').slice(0, 16)}`);
    const done = join(dir, '.complete');
    if (existsSync(done)) return { dir };
    // Written to a private directory and renamed into place, so that test files running at once never read a
    // half-written one; whoever renames first wins and the other's copy is dropped.
    const work = `${dir}.tmp-${process.pid}-${Date.now()}`;
    mkdirSync(work, { recursive: true });
    const r = this.runPython([TRUTH_SCRIPT, 'all', work, '--plain', PLAIN_NAMES.join(',')], {
      timeoutMs: 600_000,
    });
    if (r.status !== 0) {
      rmSync(work, { recursive: true, force: true });
      const what = r.status === 3 ? 'skipped' : `failed (exit ${r.status ?? r.signal})`;
      return {
        error: `${this.label} torch_truth.py all ${what}: ${r.stderr.trim().split('\n').slice(-5).join(' | ')}`,
      };
    }
    writeFileSync(join(work, '.complete'), `${new Date().toISOString()}\n${r.stdout}`);
    try {
      renameSync(work, dir);
    } catch {
      rmSync(work, { recursive: true, force: true });
      if (!existsSync(done)) {
        rmSync(dir, { recursive: true, force: true });
        return this.makeTruthDir();
      }
    }
    return { dir };
  }

  /** Why torchvision cannot be imported in this world (PyTorch's absence included), or undefined when it can. */
  torchvisionUnavailable(): string | undefined {
    if (!this.torchvisionState) {
      const reason = this.torchUnavailable();
      if (reason) this.torchvisionState = { reason };
      else if (!this.world.hasTorchvision)
        this.torchvisionState = { reason: 'torchvision is not expected in this world' };
      else {
        const r = this.runPython(['-c', 'import torchvision; print(torchvision.__version__)'], {
          timeoutMs: 120_000,
        });
        this.torchvisionState =
          r.status === 0
            ? {}
            : {
                reason:
                  `torchvision not available: \`${this.python} -c 'import torchvision'\` failed: ` +
                  `${firstLine(r)}; ${this.world.howToGet}`,
              };
      }
    }
    return this.torchvisionState.reason;
  }

  /**
   * Like ready(), for a test that needs torchvision too: true when this world has PyTorch and torchvision;
   * otherwise skips the test loudly, or fails it under CI (which installs torchvision in both worlds).
   */
  readyWithTorchvision(t: TestContext): boolean {
    if (!this.ready(t)) return false;
    const reason = this.torchvisionUnavailable();
    if (!reason) return true;
    if (!this.torchvisionWarned) {
      this.torchvisionWarned = true;
      const what = STRICT ? 'its tests that need it FAIL (CI is set)' : 'its tests that need it are SKIPPED';
      process.stderr.write(`paramtrace tests: ${this.label} ${reason}; ${what}\n`);
    }
    if (STRICT) assert.fail(`${this.label} ${reason} (CI is set: both PyTorch worlds must have torchvision)`);
    t.skip(`${this.label} ${reason}`);
    return false;
  }

  /**
   * Why this model's truth is missing (PyTorch absent, or torchvision for resnet18), or undefined. A world whose
   * PyTorch is absent fails under CI (see ready()), and so does a model torch_truth.py skipped for want of a
   * package the world should have (torchvision: both worlds have it); a world configured without torchvision
   * (hasTorchvision false) skips resnet18 and says so.
   */
  truthUnavailable(name: string): string | undefined {
    const reason = this.torchUnavailable();
    if (reason) {
      if (STRICT) assert.fail(`${this.label} ${reason} (CI is set: both PyTorch worlds must be present)`);
      return `${this.label} ${reason}`;
    }
    if (NEEDS_TORCHVISION.has(name) && !this.world.hasTorchvision)
      return `${this.label} ${name} needs torchvision, which this world is not expected to have`;
    const skip = join(this.truthDir(), `${name}.skip`);
    if (!existsSync(skip)) return undefined;
    const skipped = `${this.label} torch_truth.py skipped ${name}: ${readFileSync(skip, 'utf8').trim()}; ${this.world.howToGet}`;
    if (STRICT) assert.fail(`${skipped} (CI is set: both PyTorch worlds must have torchvision)`);
    return skipped;
  }

  readTruth(name: string): Truth {
    return JSON.parse(readFileSync(join(this.truthDir(), `${name}.truth.json`), 'utf8')) as Truth;
  }

  truthOnnx(name: string): string {
    return join(this.truthDir(), `${name}.onnx`);
  }

  readPlain(name: string): PlainExport {
    return JSON.parse(readFileSync(join(this.truthDir(), `${name}.plain.json`), 'utf8')) as PlainExport;
  }

  plainOnnx(name: string): string {
    return join(this.truthDir(), `${name}.plain.onnx`);
  }

  /** An input or output tensor torch_truth.py saved (.npy, or raw little-endian .bin without numpy). */
  readArray(entry: ArrayEntry): LoadedArray {
    return readArray(entry, this.truthDir());
  }
}

/** Models whose truth needs torchvision (both worlds have it: ./pythons.ts). */
export const NEEDS_TORCHVISION: ReadonlySet<string> = new Set(['resnet18']);

/** One TorchEnv per world: [PyTorch 1.13, PyTorch 2.x]. */
export const ENVS: readonly TorchEnv[] = WORLDS.map((w) => new TorchEnv(w));
/** Debian's PyTorch 1.13: the world the module-level functions below use (other tests rely on them). */
export const TORCH1_ENV = ENVS[0]!;
export const TORCH2_ENV = ENVS[1]!;

export function runPython(
  args: string[],
  options: { timeoutMs?: number; cwd?: string } = {},
): SpawnSyncReturns<string> {
  return TORCH1_ENV.runPython(args, options);
}

/** Why /usr/bin/python3 cannot run (the helper's attach needs no PyTorch), or undefined. */
export function pythonUnavailable(): string | undefined {
  return TORCH1_ENV.pythonUnavailable();
}

/** Why PyTorch 1.13 cannot be used (the reason to skip with), or undefined when it can. */
export function torchUnavailable(): string | undefined {
  return TORCH1_ENV.torchUnavailable();
}

export function truthDir(): string {
  return TORCH1_ENV.truthDir();
}

export function truthUnavailable(name: string): string | undefined {
  return TORCH1_ENV.truthUnavailable(name);
}

export function readTruth(name: string): Truth {
  return TORCH1_ENV.readTruth(name);
}

export function truthOnnx(name: string): string {
  return TORCH1_ENV.truthOnnx(name);
}

export function readPlain(name: string): PlainExport {
  return TORCH1_ENV.readPlain(name);
}

export function plainOnnx(name: string): string {
  return TORCH1_ENV.plainOnnx(name);
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
