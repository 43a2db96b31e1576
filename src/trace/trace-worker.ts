// Entry of the trace worker process (started by worker-process.ts with child_process.fork). It starts
// before its request exists: once loaded (onnxruntime's native binding included) it says `ready` and
// waits for `go`, then reads the request from the JSON file named in argv, runs the model, and writes
// `result.json` or `error.json` next to it; a crash or a kill leaves neither, which the parent reports.
// Results go through files rather than IPC messages: they can be large. Started by hand (no IPC
// channel), it runs at once.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { TraceError } from './errors.ts';
import { runTraced, type WorkerRequest } from './run-traced.ts';

const requestFile = process.argv[2] ?? '';
if (!requestFile) {
  process.stderr.write('usage: trace-worker <request.json>\n');
  process.exit(2);
}
const folder = path.dirname(requestFile);
// The parent is gone (killed, crashed): nobody will read the result.
process.on('disconnect', () => process.exit(1));
if (process.send) {
  process.once('message', () => void work());
  process.send('ready');
} else {
  await work();
}

async function work(): Promise<void> {
  try {
    const request = JSON.parse(readFileSync(requestFile, 'utf8')) as WorkerRequest;
    const result = await runTraced(request);
    writeFileSync(path.join(folder, 'result.json'), JSON.stringify(result));
    // onnxruntime's thread pools can keep the process alive: leave now that the result is written.
    process.exit(0);
  } catch (error) {
    const kind = error instanceof TraceError ? error.kind : 'worker';
    writeFileSync(
      path.join(folder, 'error.json'),
      JSON.stringify({ kind, message: (error as Error).message ?? String(error) }),
    );
    process.exit(1);
  }
}
