// Runs one command in a fresh process and measures it: wall-clock seconds from spawn to exit, and peak
// resident memory of the whole process tree (a traced analysis runs onnxruntime in a worker process).
// Peak memory: every few milliseconds each process's high-water mark (VmHWM, which only grows) is read
// from /proc, and the tree's peak is the sum of the processes' marks: exact for one process, an upper
// bound for several.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

export interface Measured {
  seconds: number;
  peakMiB: number;
  stdout: string;
}

const POLL_MS = 5;

function measure(command: string, args: string[], env?: NodeJS.ProcessEnv): Promise<Measured> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env: env ?? process.env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
    const marks = new Map<number, number>();
    const poll = (): void => {
      for (const pid of tree(child.pid!)) {
        const kb = highWaterKb(pid);
        if (kb !== undefined) marks.set(pid, Math.max(marks.get(pid) ?? 0, kb));
      }
    };
    const timer = setInterval(poll, POLL_MS);
    child.on('exit', (code) => {
      const seconds = (performance.now() - started) / 1000;
      clearInterval(timer);
      const peakMiB = [...marks.values()].reduce((a, b) => a + b, 0) / 1024;
      if (code !== 0) reject(new Error(`${command} ${args.join(' ')} exited with ${code}: ${stderr}`));
      else resolve({ seconds, peakMiB, stdout });
    });
  });
}

/** The process and its descendants (Linux /proc). */
function tree(root: number): number[] {
  const out: number[] = [];
  const stack = [root];
  while (stack.length > 0) {
    const pid = stack.pop()!;
    out.push(pid);
    try {
      const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim();
      if (children) stack.push(...children.split(/\s+/).map(Number));
    } catch {
      // Gone.
    }
  }
  return out;
}

function highWaterKb(pid: number): number | undefined {
  try {
    const kb = /VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb === undefined ? undefined : Number(kb);
  } catch {
    return undefined;
  }
}

export interface Command {
  command: string;
  args: string[];
  /** Default: the bench's own environment. */
  env?: NodeJS.ProcessEnv;
}

/**
 * Measures commands side by side: one untimed run of each (files and code in the page cache), then
 * `runs` rounds in which each command runs once, so that all see the same conditions. Per command: the
 * fastest run's time, with that run's output, and the highest peak memory of all runs. The fastest run is
 * the one least disturbed by other work on the machine.
 */
export async function sideBySide(runs: number, commands: Command[]): Promise<Measured[]> {
  for (const c of commands) await measure(c.command, c.args, c.env);
  const all: Measured[][] = commands.map(() => []);
  for (let round = 0; round < runs; round++) {
    for (const [i, c] of commands.entries()) all[i]!.push(await measure(c.command, c.args, c.env));
  }
  return all.map((measured) => {
    const fastest = [...measured].sort((a, b) => a.seconds - b.seconds)[0]!;
    return { ...fastest, peakMiB: Math.max(...measured.map((m) => m.peakMiB)) };
  });
}
