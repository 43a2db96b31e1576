// Runs fuzz jobs with a time limit per input and a memory limit, in a worker thread (npm test: same
// process, fast start) or a child process (npm run fuzz: a crash of the process itself is contained). A
// job that runs past its limit is a hang: the worker or child is killed and a fresh one takes the rest.
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Outcome } from './harness.ts';

export type Job =
  | { kind: 'generated'; seed: number; index: number; heavy: boolean }
  | { kind: 'file'; path: string }
  | { kind: 'named'; name: string }
  | { kind: 'bytes'; bytes: Uint8Array; label: string };

export type ToRunner = { type: 'run'; id: number; job: Job } | { type: 'stop' };
export type FromRunner =
  | { type: 'ready' }
  | { type: 'start'; id: number }
  | { type: 'done'; id: number; outcome: Outcome; label: string; size: number };

export interface Result {
  job: Job;
  /** 'hang' and 'died' come from the parent: the input ran past its time or took its runner down. */
  kind: Outcome['kind'] | 'hang' | 'died';
  message: string;
  signature: string;
  label: string;
  size: number;
  ms: number;
}

export interface RunOptions {
  isolation: 'worker' | 'process';
  /** Per input, wall clock. */
  timeLimitMs: number;
  /** Heap limit of the worker or child. */
  memoryMb: number;
  /** Called after each input. */
  onResult?: (result: Result, done: number) => void;
  /** Stop starting new inputs after this time (epoch ms). */
  deadline?: number;
}

/** The most a runner may take to make one input, on top of the time limit for running it. */
const GENERATION_MS = 60_000;
const ENTRY = fileURLToPath(new URL('./runner-entry.ts', import.meta.url));
const TSX_API = import.meta.resolve('tsx/esm/api');

interface Channel {
  send(message: ToRunner): void;
  kill(): Promise<void>;
  onMessage(handler: (m: FromRunner) => void): void;
  onExit(handler: (why: string) => void): void;
}

function startWorker(dir: string, memoryMb: number): Channel {
  const worker = new Worker(
    `import(${JSON.stringify(TSX_API)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(
      pathToFileURL(ENTRY).href,
    )}); });`,
    {
      eval: true,
      workerData: { dir },
      resourceLimits: { maxOldGenerationSizeMb: memoryMb },
      stdout: true,
      stderr: true,
    },
  );
  return {
    send: (m) => worker.postMessage(m),
    kill: async () => void (await worker.terminate()),
    onMessage: (h) => worker.on('message', h),
    onExit: (h) => {
      worker.on('error', (e) => h(`worker error: ${e.message}`));
      worker.on('exit', (code) => h(`worker exited with code ${code}`));
    },
  };
}

function startProcess(dir: string, memoryMb: number): Channel {
  const child: ChildProcess = fork(ENTRY, [dir], {
    execArgv: ['--import', 'tsx', `--max-old-space-size=${memoryMb}`],
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    serialization: 'advanced',
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
  return {
    send: (m) => child.send(m),
    kill: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGKILL');
      }),
    onMessage: (h) => child.on('message', (m) => h(m as FromRunner)),
    onExit: (h) =>
      child.on('exit', (code, signal) =>
        h(`process exited (${signal ?? `code ${code}`})${stderr ? `: ${lastLine(stderr)}` : ''}`),
      ),
  };
}

function lastLine(text: string): string {
  return (
    text
      .trim()
      .split('\n')
      .filter((l) => !/^\s+at /.test(l))
      .at(-1) ?? ''
  );
}

/** Runs every job once, in order; returns one result per job that was started. */
export async function runJobs(jobs: Iterable<Job>, options: RunOptions): Promise<Result[]> {
  const dir = mkdtempSync(path.join(tmpdir(), 'paramtrace-fuzz-'));
  const results: Result[] = [];
  const queue = jobs[Symbol.iterator]();
  let pending: Job | undefined;
  const nextJob = (): Job | undefined => {
    if (options.deadline !== undefined && Date.now() > options.deadline) return undefined;
    const n = queue.next();
    return n.done ? undefined : n.value;
  };
  let id = 0;
  try {
    // One runner until it is killed or dies; then a fresh one for the rest.
    pending = nextJob();
    while (pending !== undefined) pending = await session(pending);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return results;

  /** Runs jobs from `first` on in one runner; returns undefined when all are done. */
  function session(first: Job): Promise<Job | undefined> {
    const channel =
      options.isolation === 'worker'
        ? startWorker(dir, options.memoryMb)
        : startProcess(dir, options.memoryMb);
    return new Promise((resolve, reject) => {
      let ready = false;
      let current: { id: number; job: Job; started: number } | undefined;
      let timer: NodeJS.Timeout | undefined;
      let finished = false;
      const finish = (value: Job | undefined): void => {
        if (finished) return;
        finished = true;
        clearTimeout(timer);
        void channel.kill().then(() => resolve(value));
      };
      const record = (result: Result): void => {
        results.push(result);
        options.onResult?.(result, results.length);
      };
      const dispatch = (job: Job | undefined): void => {
        if (job === undefined) return finish(undefined);
        const firstInSession = current === undefined && job === first;
        current = { id: ++id, job, started: performance.now() };
        channel.send({ type: 'run', id: current.id, job });
        // Until the input is made ('start'), a generous limit: the first job of a runner also loads the
        // seeds, and the heaviest mutations take seconds to build.
        arm(options.timeLimitMs + GENERATION_MS + (firstInSession ? 5_000 : 0));
      };
      const arm = (limit: number): void => {
        clearTimeout(timer);
        timer = setTimeout(() => {
          const c = current!;
          record({
            job: c.job,
            kind: 'hang',
            message: `no result after ${options.timeLimitMs} ms`,
            signature: 'hang',
            label: describeJob(c.job),
            size: 0,
            ms: performance.now() - c.started,
          });
          current = undefined;
          finish(nextJob());
        }, limit);
      };
      channel.onMessage((m) => {
        if (finished) return;
        if (m.type === 'ready') {
          ready = true;
          return dispatch(first);
        }
        if (!current || m.id !== current.id) return;
        if (m.type === 'start') {
          current.started = performance.now();
          return arm(options.timeLimitMs);
        }
        record({
          job: current.job,
          kind: m.outcome.kind,
          message: m.outcome.message,
          signature: m.outcome.signature ?? m.outcome.kind,
          label: m.label,
          size: m.size,
          ms: m.outcome.ms,
        });
        current = undefined;
        dispatch(nextJob());
      });
      channel.onExit((why) => {
        if (finished) return;
        if (!ready) {
          finished = true;
          return reject(new Error(`the fuzz runner did not start: ${why}`));
        }
        if (current) {
          record({
            job: current.job,
            kind: 'died',
            message: why,
            signature: `died: ${why.replace(/\d+/g, 'N').slice(0, 80)}`,
            label: describeJob(current.job),
            size: 0,
            ms: performance.now() - current.started,
          });
          current = undefined;
          finish(nextJob());
        } else finish(nextJob());
      });
    });
  }
}

export function describeJob(job: Job): string {
  switch (job.kind) {
    case 'generated':
      return `generated seed ${job.seed} #${job.index}${job.heavy ? '' : ' (light)'}`;
    case 'file':
      return job.path;
    case 'named':
      return job.name;
    case 'bytes':
      return job.label;
  }
}
