// Running the user's build command and git. The build runs in a shell, in the checkout, with an
// environment stripped of every credential, of the runner's command files and of RUNNER_TEMP (where those
// files live), and with a temporary folder of its own. This is hygiene, not a sandbox: the build runs as
// the runner's user (docs/action.md#what-the-build-can-reach).
import { UserError } from '../../report/user-error.ts';
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

export class BuildError extends UserError {
  readonly code = 'build';
  override name = 'BuildError';
}

/** Variables a build must not see: tokens, and the files through which a step talks to the runner. */
const WITHHELD = new Set([
  'GITHUB_TOKEN',
  'GH_TOKEN',
  'GITHUB_PAT',
  'ACTIONS_RUNTIME_TOKEN',
  'ACTIONS_RUNTIME_URL',
  'ACTIONS_RESULTS_URL',
  'ACTIONS_CACHE_URL',
  'ACTIONS_ID_TOKEN_REQUEST_TOKEN',
  'ACTIONS_ID_TOKEN_REQUEST_URL',
  'GITHUB_ENV',
  'GITHUB_PATH',
  'GITHUB_OUTPUT',
  'GITHUB_STATE',
  'GITHUB_STEP_SUMMARY',
  // The folder that holds the runner's file-command files (and the action's report file).
  'RUNNER_TEMP',
]);

/** Where the runner keeps the files behind GITHUB_ENV, GITHUB_PATH, GITHUB_OUTPUT, ... */
const FILE_COMMANDS = /[\\/]_runner_file_commands([\\/]|$)/;

/**
 * The environment for the build: the runner's, minus the action's inputs (`INPUT_*`, the token among
 * them), credentials, the runner command files and RUNNER_TEMP, any variable whose value contains a
 * secret or points into the command files' folder; with TMPDIR (TMP, TEMP) set to `tempDir`.
 */
export function buildEnvironment(
  env: NodeJS.ProcessEnv,
  secrets: string[],
  tempDir: string,
): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = {};
  const live = secrets.filter((s) => s.length >= 4);
  for (const [key, value] of Object.entries(env)) {
    if (value === undefined) continue;
    if (key.toUpperCase().startsWith('INPUT_') || WITHHELD.has(key.toUpperCase())) continue;
    if (live.some((s) => value.includes(s)) || FILE_COMMANDS.test(value)) continue;
    out[key] = value;
  }
  for (const key of ['TMPDIR', 'TMP', 'TEMP']) out[key] = tempDir;
  return out;
}

/**
 * Runs `fn` with a fresh temporary folder for the builds, the base worktree and the trace workers of one
 * run, outside RUNNER_TEMP; removed afterwards.
 */
export async function withBuildTemp<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'paramtrace-build-'));
  try {
    return await fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface CommandResult {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  /** The last lines of stdout and stderr, interleaved as they came. */
  tail: string;
}

const TAIL_BYTES = 16 * 1024;

/** Runs `command` with bash (`-eo pipefail`, like a workflow `run:` step), streaming its output. */
export function runShell(
  command: string,
  options: { cwd: string; env: NodeJS.ProcessEnv; onOutput?: (chunk: Buffer) => void; timeoutMs?: number },
): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['--noprofile', '--norc', '-eo', 'pipefail', '-c', command], {
      cwd: options.cwd,
      env: options.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: options.timeoutMs,
      killSignal: 'SIGKILL',
    });
    let tail = Buffer.alloc(0);
    const take = (chunk: Buffer) => {
      options.onOutput?.(chunk);
      tail = Buffer.concat([tail, chunk]);
      if (tail.length > TAIL_BYTES * 2) tail = tail.subarray(tail.length - TAIL_BYTES);
    };
    child.stdout.on('data', take);
    child.stderr.on('data', take);
    child.on('error', reject);
    child.on('close', (exitCode, signal) => {
      const text = tail.subarray(Math.max(0, tail.length - TAIL_BYTES)).toString('utf8');
      resolve({ exitCode, signal, tail: lastLines(text, 40) });
    });
  });
}

export function lastLines(text: string, n: number): string {
  const lines = text.replace(/\s+$/, '').split('\n');
  return lines.slice(-n).join('\n');
}

/** Runs the build; a failure is a BuildError naming the command, where, the exit status and the output tail. */
export async function runBuild(
  command: string,
  options: { cwd: string; env: NodeJS.ProcessEnv; label: string; onOutput?: (chunk: Buffer) => void },
): Promise<void> {
  const result = await runShell(command, options);
  if (result.exitCode === 0) return;
  const status = result.signal ? `was killed by ${result.signal}` : `exited with status ${result.exitCode}`;
  const tail = result.tail ? `\nLast lines of its output:\n${result.tail}` : ' (no output)';
  throw new BuildError(`the build command for ${options.label} failed: \`${command}\` ${status}${tail}`);
}

export class GitError extends UserError {
  readonly code = 'git';
  override name = 'GitError';
}

/**
 * Runs git with the build's environment (no token: a hook or filter a build planted in .git must not
 * find one), hooks and fsmonitor off.
 */
export async function git(args: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<string> {
  const hardened = ['-c', 'core.hooksPath=/dev/null', '-c', 'core.fsmonitor=false', ...args];
  try {
    const { stdout } = await execFileAsync('git', hardened, {
      cwd,
      maxBuffer: 16 * 1024 * 1024,
      env: { ...env, GIT_TERMINAL_PROMPT: '0' },
    });
    return stdout.trim();
  } catch (error) {
    const e = error as { stderr?: string; message: string };
    throw new GitError(`git ${args.join(' ')} failed: ${(e.stderr || e.message).trim()}`);
  }
}
