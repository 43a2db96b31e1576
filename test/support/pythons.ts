// The two Python worlds the helper's tests run in: Debian's PyTorch 1.13 (/usr/bin/python3, or
// $PARAMTRACE_PYTHON) and PyTorch 2.x in the venv scripts/setup-torch2.sh makes (.cache/torch2/bin/python, or
// $PARAMTRACE_TORCH2_PYTHON: PyTorch 2.14.1 with torchvision 0.29.1). Both have torchvision. A world that is
// absent is skipped loudly, except under CI (env CI set), where it fails: CI installs both.
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export type WorldId = 'torch1' | 'torch2';

export interface PythonWorld {
  id: WorldId;
  /** For test names: `[PyTorch 1.13]`, `[PyTorch 2.x]`. */
  label: string;
  python: string;
  /** What is missing when the interpreter is not there. */
  notFound: string;
  /** What to do when this world is absent. */
  howToGet: string;
  /** The PyTorch major version this world must hold (another is reported as absent). */
  expectMajor: number;
  /**
   * Whether torchvision is expected (resnet18's truth and test/dynamo-torchvision.test.ts need it): where it is
   * and is missing, those tests are skipped loudly, or fail under CI.
   */
  hasTorchvision: boolean;
}

export const TORCH1: PythonWorld = {
  id: 'torch1',
  label: '[PyTorch 1.13]',
  python: process.env.PARAMTRACE_PYTHON ?? '/usr/bin/python3',
  notFound: 'PyTorch 1.13 Python not found',
  howToGet: "Debian's python3-torch (PyTorch 1.13) for /usr/bin/python3, or PARAMTRACE_PYTHON",
  expectMajor: 1,
  hasTorchvision: true,
};

export const TORCH2: PythonWorld = {
  id: 'torch2',
  label: '[PyTorch 2.x]',
  python: process.env.PARAMTRACE_TORCH2_PYTHON || join(ROOT, '.cache', 'torch2', 'bin', 'python'),
  notFound: 'PyTorch 2.x venv not found',
  howToGet: 'run bash scripts/setup-torch2.sh (or set PARAMTRACE_TORCH2_PYTHON)',
  expectMajor: 2,
  hasTorchvision: true,
};

export const WORLDS: readonly PythonWorld[] = [TORCH1, TORCH2];

/** Under CI a missing world fails instead of skipping. */
export const STRICT = Boolean(process.env.CI);
