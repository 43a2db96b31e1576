// Picks the execution provider. 'cuda' needs onnxruntime's CUDA provider, which onnxruntime-node does not
// bundle: its installer downloads it at install time when ONNXRUNTIME_NODE_INSTALL=cuda12 is set
// (`ONNXRUNTIME_NODE_INSTALL=cuda12 npm ci`, CUDA 12 and cuDNN 9 libraries on the machine). Without it,
// creating a session with ['cuda'] fails ("Failed to load shared library"); 'auto' then uses the CPU and
// says why.
import * as ort from 'onnxruntime-node';
import { oneLine, TraceError } from './errors.ts';
import type { TraceDevice } from './options.ts';

export const CUDA_INSTALL_HINT =
  "onnxruntime-node's CUDA provider is installed by `ONNXRUNTIME_NODE_INSTALL=cuda12 npm ci` (it downloads the provider at install time; CUDA 12 and cuDNN 9 must be present)";

export interface OpenedSession {
  session: ort.InferenceSession;
  device: 'cpu' | 'cuda';
  /** Why the device used is not the one asked for. */
  note?: string;
}

export async function openSession(
  model: Uint8Array,
  options: ort.InferenceSession.SessionOptions,
  device: TraceDevice,
): Promise<OpenedSession> {
  const create = (provider: 'cpu' | 'cuda'): Promise<ort.InferenceSession> =>
    ort.InferenceSession.create(model, { ...options, executionProviders: [provider] });
  if (device === 'cpu') return { session: await create('cpu'), device: 'cpu' };
  try {
    return { session: await create('cuda'), device: 'cuda' };
  } catch (error) {
    const reason = oneLine((error as Error).message);
    if (device === 'cuda') {
      throw new TraceError(
        'device',
        `device cuda: onnxruntime could not create a CUDA session: ${reason}. ${CUDA_INSTALL_HINT}`,
      );
    }
    const note = `CUDA was not used: ${reason}. ${CUDA_INSTALL_HINT}`;
    return { session: await create('cpu'), device: 'cpu', note };
  }
}

export function onnxruntimeVersion(): string {
  const versions = (ort.env as { versions?: { node?: string; common?: string } }).versions;
  return versions?.node ?? versions?.common ?? 'unknown';
}
