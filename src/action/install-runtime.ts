// onnxruntime-node has a native binding and, for CUDA, a large provider download at install time, so it is
// not bundled into dist/. When the action traces, it installs one pinned version into the runner's tool
// cache (kept between runs on self-hosted runners; cache `<tool cache>/paramtrace-ort` with actions/cache
// on GitHub-hosted ones) and loads it from there (src/action/tracing.ts).
import { execFile } from 'node:child_process';
import {
  accessSync,
  constants,
  existsSync,
  mkdirSync,
  mkdtempSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

export const ONNXRUNTIME_VERSION = '1.30.0';

export type RuntimeFlavor = 'cpu' | 'cuda12';

export interface InstallRuntimeOptions {
  /** `cuda` installs the CUDA 12 provider too (ONNXRUNTIME_NODE_INSTALL=cuda12). */
  device: 'cpu' | 'cuda';
  /** RUNNER_TOOL_CACHE (or a temporary directory). */
  toolCache: string;
  /** The environment npm runs with: the build's, without credentials. */
  env: NodeJS.ProcessEnv;
  version?: string;
  log?: (message: string) => void;
  /** Runs npm; injectable for tests. */
  npm?: (args: string[], options: { cwd: string; env: NodeJS.ProcessEnv }) => Promise<void>;
}

const COMPLETE = '.paramtrace-complete';

export function runtimeDir(toolCache: string, device: 'cpu' | 'cuda', version = ONNXRUNTIME_VERSION): string {
  const flavor: RuntimeFlavor = device === 'cuda' ? 'cuda12' : 'cpu';
  return join(toolCache, 'paramtrace-ort', `${version}-${flavor}`);
}

/**
 * npm: the first on the PATH (GitHub-hosted runners have one), else the one next to the Node.js that runs
 * the action. Undefined when there is none.
 */
export function findNpm(env: NodeJS.ProcessEnv, execPath = process.execPath): string | undefined {
  const name = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const dirs = [...(env.PATH ?? '').split(delimiter).filter((d) => d !== ''), dirname(execPath)];
  for (const dir of dirs) {
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

async function defaultNpm(args: string[], options: { cwd: string; env: NodeJS.ProcessEnv }): Promise<void> {
  const npm = findNpm(options.env);
  if (!npm) {
    throw new Error(
      'npm was not found on the PATH or next to the Node.js running the action; install Node.js on the ' +
        'runner (actions/setup-node), or point PARAMTRACE_ONNXRUNTIME_DIR at an installed onnxruntime-node',
    );
  }
  // npm's script needs `node` on the PATH: the one running the action.
  const env = { ...options.env, PATH: [dirname(process.execPath), options.env.PATH ?? ''].join(delimiter) };
  try {
    await execFileAsync(npm, args, {
      cwd: options.cwd,
      env,
      maxBuffer: 64 * 1024 * 1024,
      shell: process.platform === 'win32',
      timeout: 15 * 60_000,
    });
  } catch (error) {
    const e = error as { stderr?: string; code?: unknown; message: string };
    const tail = (e.stderr ?? '').trim().split('\n').slice(-10).join('\n');
    const what = `npm ${args[0]} ${args.at(-1)}`; // npm install onnxruntime-node@1.30.0
    throw new Error(`${what} failed (exit ${String(e.code ?? '?')}): ${tail || e.message}`, { cause: error });
  }
}

/**
 * Installs onnxruntime-node@version into the tool cache unless it is there already, and returns the
 * directory to load it from. Installs into a temporary sibling and renames it into place, so a run that
 * is killed halfway leaves nothing half-installed and concurrent runs do not see each other's work.
 */
export async function installOnnxRuntime(options: InstallRuntimeOptions): Promise<string> {
  const version = options.version ?? ONNXRUNTIME_VERSION;
  if (!/^\d+\.\d+\.\d+$/.test(version)) throw new Error(`not a pinned onnxruntime-node version: ${version}`);
  const dir = runtimeDir(options.toolCache, options.device, version);
  if (existsSync(join(dir, COMPLETE))) {
    options.log?.(`onnxruntime-node ${version} (${options.device}) from the cache: ${dir}`);
    return dir;
  }
  mkdirSync(join(dir, '..'), { recursive: true });
  const staging = mkdtempSync(`${dir}.partial-`);
  const env = { ...options.env, ONNXRUNTIME_NODE_INSTALL: options.device === 'cuda' ? 'cuda12' : 'skip' };
  options.log?.(`installing onnxruntime-node ${version} (${options.device}) into ${dir}`);
  try {
    await (options.npm ?? defaultNpm)(
      [
        'install',
        '--no-save',
        '--no-package-lock',
        '--no-audit',
        '--no-fund',
        '--prefix',
        staging,
        `onnxruntime-node@${version}`,
      ],
      { cwd: staging, env },
    );
    writeFileSync(join(staging, COMPLETE), `${JSON.stringify({ version, device: options.device })}\n`);
    try {
      renameSync(staging, dir);
    } catch (error) {
      // Another run finished first: use its copy.
      if (!existsSync(join(dir, COMPLETE))) throw error;
    }
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
  return dir;
}
