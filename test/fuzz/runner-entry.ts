// The far side of runner.ts: runs fuzz jobs one at a time in a worker thread or a child process and
// says when each starts and how it ended, so the parent can time each one and kill a hang.
import { readFileSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { runOne } from './harness.ts';
import { generate, loadSeeds, type Seed } from './mutate.ts';
import type { Job, FromRunner, ToRunner } from './runner.ts';
import { named } from './corpus.ts';

let seeds: Seed[] | undefined;

function bytesOf(job: Job): { bytes: Uint8Array; label: string } {
  switch (job.kind) {
    case 'generated':
      seeds ??= loadSeeds();
      return generate(seeds, job.seed, job.index, job.heavy);
    case 'file':
      return { bytes: new Uint8Array(readFileSync(job.path)), label: job.path };
    case 'named':
      return { bytes: named(job.name), label: job.name };
    case 'bytes':
      return { bytes: job.bytes, label: job.label };
  }
}

const send = (message: FromRunner): void => {
  if (parentPort) parentPort.postMessage(message);
  else process.send!(message);
};

const dir = (parentPort ? (workerData as { dir: string }) : { dir: process.argv[2]! }).dir;

function handle(message: ToRunner): void {
  if (message.type === 'stop') process.exit(0);
  const { id, job } = message;
  let label = '';
  try {
    const input = bytesOf(job);
    label = input.label;
    // The time limit counts from here: making a big input is the fuzzer's time, not paramtrace's.
    send({ type: 'start', id });
    const outcome = runOne(input.bytes, dir);
    send({ type: 'done', id, outcome, label, size: input.bytes.length });
  } catch (error) {
    // The harness catches everything the product throws; this is a fault of the fuzzer itself.
    send({
      type: 'done',
      id,
      label,
      size: 0,
      outcome: {
        kind: 'crash',
        message: `fuzzer fault: ${(error as Error).stack}`,
        signature: 'fuzzer',
        ms: 0,
      },
    });
  }
}

if (parentPort) parentPort.on('message', handle);
else process.on('message', handle);
send({ type: 'ready' });
