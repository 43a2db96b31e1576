// onnxruntime-node has a native binding and, for CUDA, a large provider download at install time, so it is
// not bundled into dist/. When the action traces, it installs one pinned version into the runner's tool
// cache (kept between runs on self-hosted runners; cache `<tool cache>/paramtrace-ort` with actions/cache
// on GitHub-hosted ones) and loads it from there. Not called until tracing is wired into the action.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
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

async function defaultNpm(args: string[], options: { cwd: string; env: NodeJS.ProcessEnv }): Promise<void> {
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  await execFileAsync(npm, args, {
    ...options,
    maxBuffer: 64 * 1024 * 1024,
    shell: process.platform === 'win32',
  });
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

/** Loads onnxruntime-node from a directory installOnnxRuntime returned. */
export function loadOnnxRuntime(dir: string): unknown {
  return createRequire(join(dir, 'package.json'))('onnxruntime-node');
}
