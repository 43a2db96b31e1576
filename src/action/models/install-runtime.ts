// onnxruntime-node has a native binding and, for CUDA, a large provider download at install time, so it is
// not bundled into dist/. When the action traces, it installs one pinned version into the runner's tool
// cache (kept between runs on self-hosted runners; restored by actions/cache on GitHub-hosted ones) and
// loads it from there (src/action/models/tracing.ts). The package holds the native binaries of every
// platform (1.30.0: 301 MB); the install keeps the runner's own (46 MB on linux/x64).
// The folder is fixed, `<tool cache>/paramtrace-ort/<version>-<flavour>`, so that a workflow's cache step
// can restore it before the action runs (docs/action.md#tracing), and a restored copy is used as it is.
// npm is told to give up on an unreachable registry within seconds, and the error says how to skip the
// install (PARAMTRACE_ONNXRUNTIME_DIR: a pre-installed copy).
import { execFile } from 'node:child_process';
import {
  accessSync,
  constants,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

export const ONNXRUNTIME_VERSION = '1.30.0';

/**
 * The variable the trace worker loads onnxruntime-node from (tracing.ts RUNTIME_DIR_VARIABLE); when the
 * user sets it, the action installs nothing.
 */
export const PRESET_VARIABLE = 'PARAMTRACE_ONNXRUNTIME_DIR';

export type RuntimeFlavor = 'cpu' | 'cuda12';

export interface NpmRunOptions {
  cwd: string;
  env: NodeJS.ProcessEnv;
  log?: (message: string) => void;
}

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
  npm?: (args: string[], options: NpmRunOptions) => Promise<void>;
  /** The platform whose native binaries are kept (default: this process's). */
  platform?: { platform: string; arch: string };
}

const COMPLETE = '.paramtrace-complete';

/**
 * npm's network settings for the install. Its defaults (2 retries 10 s to 60 s apart, 5 min per request)
 * made an unreachable registry cost over a minute before the static fall-back. Here a refused connection
 * fails in about 2 s and a registry that accepts and never answers in about 21 s (10 s idle, one retry
 * after 1 s). The timeout is per request and idle time, not the whole download, so a slow mirror still
 * works.
 */
export const NPM_FETCH_OPTIONS = [
  '--fetch-timeout=10000',
  '--fetch-retries=1',
  '--fetch-retry-mintimeout=1000',
  '--fetch-retry-maxtimeout=5000',
] as const;

/** NPM_FETCH_OPTIONS but those the environment sets (`npm_config_fetch_timeout=60000`): the user's win. */
export function fetchOptions(env: NodeJS.ProcessEnv): string[] {
  return NPM_FETCH_OPTIONS.filter((option) => {
    const name = /^--([\w-]+)=/.exec(option)![1]!;
    return envValue(env, `npm_config_${name.replace(/-/g, '_')}`) === undefined;
  });
}

/** The whole npm process (the CUDA flavour downloads its provider in a postinstall script). */
export const NPM_PROCESS_TIMEOUT_MS = 15 * 60_000;

/** What the error says to skip the install (documented in docs/action.md, Tracing). */
export function preinstallHint(): string {
  return `to skip the install, pre-install onnxruntime-node and set ${PRESET_VARIABLE} (docs/action.md#tracing)`;
}

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

/** npm's error codes for a registry that cannot be reached or does not answer. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'ENETDOWN',
  'EHOSTDOWN',
  'EPIPE',
  'EPROTO',
  'FETCH_ERROR',
  'ERR_SOCKET_TIMEOUT',
  'ERR_SOCKET_CONNECTION_TIMEOUT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'CERT_HAS_EXPIRED',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
]);

function envValue(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const key = Object.keys(env).find((k) => k.toLowerCase() === name);
  const value = key === undefined ? undefined : env[key];
  return value === undefined || value === '' ? undefined : value;
}

/**
 * npm's stderr in a few words: the messages of its `npm error` lines, without the stack, the error
 * object's dump, the log file's path and the proxy advice; its other lines' tail when there are none.
 */
export function npmErrorLines(stderr: string): { code?: string; lines: string[] } {
  let code: string | undefined;
  const lines: string[] = [];
  let inDump = false;
  const all = stderr.split(/\r?\n/);
  for (const raw of all) {
    const m = /^npm (?:error|ERR!)\s?(.*)$/.exec(raw);
    if (!m) continue;
    let line = m[1]!.trimEnd();
    if (inDump) {
      if (line === '}') inDump = false;
      continue;
    }
    if (line.endsWith(' {')) {
      inDump = true;
      line = line.slice(0, -2);
    }
    const field = /^(code|errno|syscall)\s+(\S+)$/.exec(line);
    if (field) {
      if (field[1] === 'code') code ??= field[2];
      continue;
    }
    if (
      line.trim() === '' ||
      /^\s+at /.test(line) ||
      /^A complete log of this run/.test(line) ||
      /^If you are behind a proxy/.test(line)
    )
      continue;
    if (!lines.includes(line.trim())) lines.push(line.trim());
  }
  if (lines.length > 0) return { ...(code ? { code } : {}), lines: lines.slice(0, 6) };
  const tail = all.map((l) => l.trim()).filter((l) => l !== '');
  return { ...(code ? { code } : {}), lines: tail.slice(-10) };
}

/**
 * The message of a failed `npm install`: whether the registry could not be reached (and which), how to
 * skip the install, then what npm said. Starts with `npm install <spec> failed` (the footer shows it).
 */
export function describeNpmFailure(
  args: readonly string[],
  failure: { stderr?: string; code?: unknown; killed?: boolean; signal?: unknown; message: string },
  env: NodeJS.ProcessEnv,
  timeoutMs = NPM_PROCESS_TIMEOUT_MS,
): string {
  const spec = args.at(-1) ?? '';
  const what = `npm ${args[0] ?? 'install'} ${spec}`; // npm install onnxruntime-node@1.30.0
  const hint = preinstallHint();
  const stderr = failure.stderr ?? '';
  const { code, lines } = npmErrorLines(stderr);
  const said = lines.length > 0 ? ` npm: ${lines.join(' · ')}` : ` (${failure.message})`;
  if (failure.killed && failure.signal) {
    return `${what} failed: npm did not finish within ${Math.round(timeoutMs / 60_000)} min and was stopped; ${hint}.${said}`;
  }
  const network =
    (code !== undefined && NETWORK_CODES.has(code)) ||
    /network timeout at:|Idle timeout reached|Response timeout|request to \S+ failed/.test(stderr);
  if (network) {
    const url = /(?:request to|network timeout at:)\s+(\S+)/.exec(stderr)?.[1];
    let registry = envValue(env, 'npm_config_registry');
    if (!registry && url) {
      try {
        registry = `${new URL(url).origin}/`;
      } catch {
        // not a URL
      }
    }
    const where = registry ? `the npm registry ${registry}` : 'the npm registry';
    return `${what} failed: cannot reach ${where}${code ? ` (${code})` : ''}; ${hint}.${said}`;
  }
  return `${what} failed (exit ${String(failure.code ?? '?')}); ${hint}.${said}`;
}

async function defaultNpm(args: string[], options: NpmRunOptions): Promise<void> {
  const npm = findNpm(options.env);
  if (!npm) {
    throw new Error(
      'npm was not found on the PATH or next to the Node.js running the action; install Node.js on the ' +
        `runner (actions/setup-node), or pre-install onnxruntime-node and set ${PRESET_VARIABLE} (docs/action.md#tracing)`,
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
      timeout: NPM_PROCESS_TIMEOUT_MS,
    });
  } catch (error) {
    const e = error as {
      stderr?: string;
      code?: unknown;
      killed?: boolean;
      signal?: unknown;
      message: string;
    };
    const tail = (e.stderr ?? '').trim().split('\n').slice(-20).join('\n');
    if (tail) options.log?.(`npm's output:\n${tail}`);
    throw new Error(describeNpmFailure(args, e, options.env), { cause: error });
  }
}

/** Node's values of process.platform and process.arch: what a folder of bin/napi-v*\/ may be named. */
const PLATFORMS = new Set([
  'aix',
  'android',
  'darwin',
  'freebsd',
  'haiku',
  'linux',
  'openbsd',
  'netbsd',
  'sunos',
  'win32',
  'cygwin',
]);
const ARCHES = new Set([
  'arm',
  'arm64',
  'ia32',
  'loong64',
  'mips',
  'mipsel',
  'ppc',
  'ppc64',
  'riscv64',
  's390',
  's390x',
  'x64',
]);

/** A real directory (not a symlink to one), or false. */
function isRealDir(path: string): boolean {
  try {
    const stat = lstatSync(path);
    return stat.isDirectory() && !stat.isSymbolicLink();
  } catch {
    return false;
  }
}

export interface PruneResult {
  /** The folders removed, relative to the package folder (`bin/napi-v6/win32/x64`). */
  removed: string[];
  /** The folders kept for this platform (`bin/napi-v6/linux/x64`). */
  kept: string[];
}

/**
 * Removes the native binaries of every other platform from the onnxruntime-node that npm installed under
 * `prefix` (`<prefix>/node_modules/onnxruntime-node`): `bin/napi-v<N>/<platform>/<arch>` folders whose
 * names are a Node.js platform and architecture other than `own`, and the platform folders this empties.
 * Touches nothing it does not recognize and no symbolic link: a link on the way (`node_modules`, the
 * package, `bin`, ...) means nothing is removed, a link inside a removed folder is removed, not followed.
 * Fails, before removing anything, when the package has native binaries but no binding for `own`: that
 * runtime could not load. A package without a `bin/napi-v*` folder is left as it is.
 */
export function pruneOtherPlatforms(
  prefix: string,
  own: { platform: string; arch: string } = { platform: process.platform, arch: process.arch },
): PruneResult {
  const result: PruneResult = { removed: [], kept: [] };
  const pkg = join(prefix, 'node_modules', 'onnxruntime-node');
  const bin = join(pkg, 'bin');
  if (![join(prefix, 'node_modules'), pkg, bin].every(isRealDir)) return result;
  const napis = readdirSync(bin)
    .filter((n) => /^napi-v\d+$/.test(n) && isRealDir(join(bin, n)))
    .sort();
  if (napis.length === 0) return result;
  const doomedPlatforms: string[] = [];
  const doomed: string[] = [];
  const present: string[] = [];
  for (const napi of napis) {
    for (const platform of readdirSync(join(bin, napi)).sort()) {
      const platformDir = join(bin, napi, platform);
      if (!PLATFORMS.has(platform) || !isRealDir(platformDir)) continue;
      let emptied = true;
      for (const arch of readdirSync(platformDir).sort()) {
        const rel = ['bin', napi, platform, arch].join('/');
        if (ARCHES.has(arch) && isRealDir(join(platformDir, arch))) {
          present.push(`${platform}/${arch}`);
          if (platform === own.platform && arch === own.arch) result.kept.push(rel);
          else doomed.push(rel);
        } else {
          emptied = false; // something unknown: leave the platform folder
        }
      }
      if (emptied && platform !== own.platform) doomedPlatforms.push(['bin', napi, platform].join('/'));
    }
  }
  const hasBinding = result.kept.some((rel) => existsSync(join(pkg, rel, 'onnxruntime_binding.node')));
  if (!hasBinding) {
    const have = [...new Set(present)].join(', ') || 'none';
    throw new Error(
      `onnxruntime-node has no native binding for this runner (${own.platform}/${own.arch}): ` +
        `${join(pkg, 'bin', napis.at(-1)!, own.platform, own.arch, 'onnxruntime_binding.node')} is missing ` +
        `(it has binaries for ${have})`,
    );
  }
  for (const rel of doomed) {
    rmSync(join(pkg, rel), { recursive: true, force: true });
    result.removed.push(rel);
  }
  for (const rel of doomedPlatforms) {
    const dir = join(pkg, rel);
    if (isRealDir(dir) && readdirSync(dir).length === 0) rmSync(dir, { recursive: true, force: true });
  }
  return result;
}

/** Bytes under a folder, not following symbolic links. */
export function folderBytes(dir: string): number {
  let total = 0;
  const stat = lstatSync(dir, { throwIfNoEntry: false });
  if (!stat) return 0;
  if (!stat.isDirectory() || stat.isSymbolicLink()) return stat.size;
  for (const name of readdirSync(dir)) total += folderBytes(join(dir, name));
  return total;
}

/**
 * Installs onnxruntime-node@version into the tool cache unless it is there already, and returns the
 * directory to load it from. Installs into a temporary sibling, removes the other platforms' native
 * binaries there, and renames it into place, so a run that is killed halfway leaves nothing half-installed
 * and concurrent runs do not see each other's work.
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
        ...fetchOptions(options.env),
        '--prefix',
        staging,
        `onnxruntime-node@${version}`,
      ],
      { cwd: staging, env, ...(options.log ? { log: options.log } : {}) },
    );
    const before = folderBytes(staging);
    const pruned = pruneOtherPlatforms(staging, options.platform);
    if (pruned.removed.length > 0) {
      const mb = (bytes: number) => `${Math.round(bytes / 1e6)} MB`;
      options.log?.(
        `kept the native binaries for ${pruned.kept.join(', ')}, removed ${pruned.removed.length} other platforms' ` +
          `(${mb(before)} → ${mb(folderBytes(staging))})`,
      );
    }
    writeFileSync(join(staging, COMPLETE), `${JSON.stringify({ version, device: options.device })}\n`);
    // A folder without the marker is no run's work in progress (each installs into its own staging folder
    // and renames it whole): it is what a cache restored or someone left half-deleted, and would block the
    // rename forever.
    if (existsSync(dir) && !existsSync(join(dir, COMPLETE))) {
      options.log?.(`removing ${dir}: it has no ${COMPLETE} marker, so it is not a finished install`);
      rmSync(dir, { recursive: true, force: true });
    }
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
