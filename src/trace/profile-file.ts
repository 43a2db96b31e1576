// Streams onnxruntime's profile file: a long loop writes one event per node execution, and the file can
// outgrow what one JSON.parse (one string) can hold. onnxruntime writes `[`, then one event per line
// (each but the last followed by `,`), then `]`; each line is parsed on its own.
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { KernelJoin, toKernelEvent, type JoinedKernels } from './profile.ts';

/**
 * onnxruntime's profiler records at most this many events per session and drops the rest (it logs
 * "Maximum number of events reached"); a trace that hits it is incomplete.
 */
export const PROFILER_EVENT_LIMIT = 1_000_000;

export interface JoinedProfile extends JoinedKernels {
  /** Events of any kind in the file. */
  events: number;
}

export async function joinProfileFile(
  file: string,
  idOf: (name: string) => string | undefined,
): Promise<JoinedProfile> {
  const join = new KernelJoin(idOf);
  let events = 0;
  const lines = createInterface({ input: createReadStream(file, { encoding: 'utf8' }), crlfDelay: Infinity });
  for await (const line of lines) {
    const text = line.trim().replace(/,$/, '');
    if (text === '[' || text === ']' || text === '') continue;
    events += 1;
    // Only node kernel events matter; skip parsing the rest.
    if (!text.includes('_kernel_time')) continue;
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch {
      throw new Error(
        `the onnxruntime profile ${file} is not one event per line as expected (line ${events + 1})`,
      );
    }
    const e = toKernelEvent(raw);
    if (e) join.add(e);
  }
  return { ...join.result(), events };
}
