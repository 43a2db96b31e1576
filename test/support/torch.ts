// Debian's PyTorch lives behind /usr/bin/python3; tests that need it ask here and skip when it is absent.
import { spawnSync } from 'node:child_process';

export const PYTHON = '/usr/bin/python3';

let available: string | undefined | null = null;

/** undefined when PyTorch can be used, else the reason it cannot. */
export function torchUnavailable(): string | undefined {
  if (available === null) {
    const r = spawnSync(PYTHON, ['-c', 'import torch, torchvision, onnx'], { encoding: 'utf8' });
    available =
      r.status === 0
        ? undefined
        : `PyTorch not available for ${PYTHON}: ${(r.stderr || r.error?.message || '').trim().split('\n').at(-1)}`;
  }
  return available;
}

/** Runs a Python snippet with Debian's PyTorch; returns its stdout or throws with its stderr. */
export function runPython(code: string, args: string[] = []): string {
  const r = spawnSync(PYTHON, ['-c', code, ...args], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`python failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}
