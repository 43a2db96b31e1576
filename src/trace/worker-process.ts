// Starts the trace worker in a child process and watches it: a wall-clock limit and a resident-memory
// limit (polled from the parent, since onnxruntime's memory is native and --max-old-space-size bounds
// only the JS heap). A model that crashes or hangs onnxruntime costs the trace, not the report.
import type { ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { oneLine, TraceError, type TraceFailure } from './errors.ts';

/** What a worker is started with: its memory limit (from the start) and environment. */
export interface WorkerSetup {
  maxMemoryMb: number;
  env?: NodeJS.ProcessEnv | undefined;
}

/**
 * node:child_process, loaded when a worker starts rather than with this module: an analysis that does not
 * trace then does not load it (with the net and stream modules it pulls in, ~4 ms of every start).
 */
function childProcess(): typeof import('node:child_process') {
  return createRequire(import.meta.url)('node:child_process');
}

const POLL_MS = 100;
const STDERR_TAIL = 8192;

/** A worker process started ahead of its request (see startWorker). */
export interface WorkerHandle {
  /**
   * Tells the worker its request file is written and waits for it to finish: resolves with the parsed
   * result.json, rejects with a TraceError. The time limit counts from here (including any loading left).
   */
  run(timeoutMs: number): Promise<unknown>;
  /** Kills the worker: the trace is not wanted after all (the model could not be read, say). */
  cancel(): void;
}

/**
 * Starts the worker now, before its request is written: Node and onnxruntime's native binding load
 * while the caller reads the model (most of the cost of a trace of a small model). The worker waits for
 * a `go` message before it reads `requestFile`. The memory limit holds from the start.
 */
export function startWorker(requestFile: string, limits: WorkerSetup): WorkerHandle {
  const folder = path.dirname(requestFile);
  const child = childProcess().fork(workerPath(), [requestFile], {
    execPath: process.execPath,
    execArgv: [
      ...workerExecArgv(process.execArgv),
      `--max-old-space-size=${Math.max(256, Math.floor(limits.maxMemoryMb))}`,
    ],
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    env: workerEnv(limits.env ?? process.env),
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString('utf8')).slice(-STDERR_TAIL);
  });
  // Ready: the worker listens for `go` (it says so once its listener is attached, so `go` is never lost).
  const ready = new Promise<void>((resolve) => {
    child.once('message', () => resolve());
    child.once('exit', () => resolve());
    child.once('error', () => resolve());
  });
  const watcher = watch(child, limits);
  return {
    async run(timeoutMs) {
      // The clock starts before the wait for `ready`: a worker that hangs while loading is stopped too.
      watcher.startClock(timeoutMs);
      await ready;
      if (child.connected) child.send('go');
      const stopped = await watcher.stopped;
      const pid = child.pid;
      if (stopped) throw new TraceError(stopped.kind, stopped.message, pid);
      const resultFile = path.join(folder, 'result.json');
      const errorFile = path.join(folder, 'error.json');
      if (existsSync(resultFile)) return JSON.parse(readFileSync(resultFile, 'utf8'));
      if (existsSync(errorFile)) {
        const { kind, message } = JSON.parse(readFileSync(errorFile, 'utf8')) as {
          kind: TraceFailure;
          message: string;
        };
        throw new TraceError(kind, message, pid);
      }
      throw crashError(child, stderr, pid);
    },
    cancel() {
      watcher.cancel();
    },
  };
}

interface Stopped {
  kind: TraceFailure;
  message: string;
}

interface Watcher {
  /** Settles when the child has exited: with why it was killed, or undefined. */
  stopped: Promise<Stopped | undefined>;
  /** Starts the time limit (the run begins). */
  startClock(timeoutMs: number): void;
  /** Kills the child, not for a limit. */
  cancel(): void;
}

/** Watches the child until it exits; kills it past a limit and says which. */
function watch(child: ChildProcess, limits: WorkerSetup): Watcher {
  let stopped: Stopped | undefined;
  let timer: NodeJS.Timeout | undefined;
  let exited = false;
  const kill = (reason: Stopped): void => {
    if (stopped || exited) return;
    stopped = reason;
    child.kill('SIGKILL');
  };
  const poll = setInterval(() => {
    const rss = residentMb(child.pid);
    if (rss !== undefined && rss > limits.maxMemoryMb) {
      kill({
        kind: 'memory',
        message: `the traced run used ${Math.round(rss)} MiB of memory, over the ${limits.maxMemoryMb} MiB limit (maxMemoryMb), so the worker process was killed`,
      });
    }
  }, POLL_MS);
  const result = new Promise<Stopped | undefined>((resolve) => {
    const done = (): void => {
      exited = true;
      clearTimeout(timer);
      clearInterval(poll);
      resolve(stopped);
    };
    child.once('exit', done);
    child.once('error', (error) => {
      stopped ??= { kind: 'worker', message: `the trace worker could not be started: ${error.message}` };
      done();
    });
  });
  return {
    stopped: result,
    startClock(timeoutMs) {
      if (exited || timer) return;
      timer = setTimeout(
        () =>
          kill({
            kind: 'timeout',
            message: `the traced run did not finish within the ${formatMs(timeoutMs)} time limit (timeoutMs), so the worker process was killed`,
          }),
        timeoutMs,
      );
    },
    cancel() {
      kill({ kind: 'worker', message: 'the trace was cancelled' });
    },
  };
}

function crashError(child: ChildProcess, stderr: string, pid: number | undefined): TraceError {
  const how = child.signalCode ? `was killed by ${child.signalCode}` : `exited with code ${child.exitCode}`;
  if (/heap out of memory|Allocation failed|std::bad_alloc/i.test(stderr)) {
    return new TraceError(
      'memory',
      `the trace worker ran out of memory and ${how}: ${lastLine(stderr)}`,
      pid,
    );
  }
  const detail = lastLine(stderr);
  return new TraceError(
    'crash',
    `the trace worker ${how} while running the model${detail ? `: ${detail}` : ''}`,
    pid,
  );
}

function lastLine(text: string): string {
  // onnxruntime colours its log lines: drop the escape sequences.
  const lines = text
    .replace(new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g'), '')
    .split('\n')
    .map(oneLine)
    .filter((l) => l !== '');
  return (lines.at(-1) ?? '').slice(0, 300);
}

/** Resident memory of a process in MiB: /proc on Linux, `ps` elsewhere; undefined once it is gone. */
export function residentMb(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = /VmRSS:\s+(\d+)\s+kB/.exec(status)?.[1];
    return kb === undefined ? undefined : Number(kb) / 1024;
  } catch {
    if (process.platform === 'linux') return undefined;
  }
  const ps = childProcess().spawnSync('ps', ['-o', 'rss=', '-p', String(pid)], { encoding: 'utf8' });
  const kb = Number(ps.stdout?.trim());
  return Number.isFinite(kb) && kb > 0 ? kb / 1024 : undefined;
}

/**
 * The worker script: `trace-worker.js` next to this file (the bundled `dist/trace-worker.js`, or the
 * compiled output), else `trace-worker.ts` (development under tsx, whose loader is in execArgv).
 */
export function workerPath(): string {
  for (const name of ['trace-worker.js', 'trace-worker.ts']) {
    const file = fileURLToPath(new URL(`./${name}`, import.meta.url));
    if (existsSync(file)) return file;
  }
  throw new TraceError(
    'worker',
    `the trace worker script is missing (looked for trace-worker.js next to ${fileURLToPath(import.meta.url)})`,
  );
}

/** Flags that must not reach the worker: the test runner's, watch mode's, the inspector's, our own limit. */
const DROPPED = /^--(test|experimental-test|watch|inspect|debug|max-old-space-size)/;
const TAKES_VALUE = new Set([
  '--test-reporter',
  '--test-reporter-destination',
  '--test-name-pattern',
  '--test-skip-pattern',
  '--test-concurrency',
  '--test-timeout',
  '--test-shard',
  '--watch-path',
  '--inspect-port',
]);

/**
 * The worker's environment: the caller's, less NODE_EXTRA_CA_CERTS. The worker makes no TLS
 * connection, and Node reads that file at every start (40 ms for the system's CA bundle here).
 */
export function workerEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const { NODE_EXTRA_CA_CERTS: _unused, ...rest } = env;
  return rest;
}

export function workerExecArgv(execArgv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < execArgv.length; i++) {
    const arg = execArgv[i]!;
    if (!DROPPED.test(arg)) {
      out.push(arg);
      continue;
    }
    if (TAKES_VALUE.has(arg)) i++;
  }
  return out;
}

function formatMs(ms: number): string {
  return ms >= 1000 ? `${(ms / 1000).toFixed(ms % 1000 === 0 ? 0 : 1)} s` : `${ms} ms`;
}
