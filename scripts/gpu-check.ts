// GPU check, for a machine with an NVIDIA GPU: traces the seed fixtures and a larger model on CUDA and on
// the CPU and compares the traces (same executed nodes, same executions, same output shapes), then prints
// a verdict. Run it with scripts/gpu-check.sh, or directly:
//
//   npx tsx scripts/gpu-check.ts [--dry-run] [model.onnx ...]
//
// --dry-run traces on the CPU twice, to check the check itself on a machine without a GPU.
//
// The CUDA provider is not bundled with onnxruntime-node. Its installer (the package's postinstall)
// downloads it from NuGet (Microsoft.ML.OnnxRuntime.Gpu.Linux, the same version) into
// node_modules/onnxruntime-node/bin/napi-v6/linux/x64/ (libonnxruntime_providers_cuda.so and
// libonnxruntime_providers_shared.so) when `ONNXRUNTIME_NODE_INSTALL=cuda12 npm ci` runs; `skip` leaves it
// out. An offline machine can copy those two files from the NuGet package's runtimes/linux-x64/native/.
// CUDA 12 and cuDNN 9 libraries must be on the loader's path at run time.
//
// Without arguments the larger model is torchvision's resnet18, exported by
// scripts/make_trace_fixtures.py (needs python3 with torch and torchvision).
// Exit code: 0 all traces agree, 1 a difference, 2 CUDA could not be used.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { readModel } from '../src/onnx/read-model.ts';
import { TraceError } from '../src/trace/errors.ts';
import { traceModel } from '../src/trace/trace-model.ts';
import type { Trace } from '../src/trace/trace.ts';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const SEEDS = ['seed-case-1', 'seed-case-2', 'seed-case-3', 'if-branches', 'loop-body', 'resnet-block'].map(
  (name) => path.join(ROOT, 'test', 'fixtures', `${name}.onnx`),
);

/** What must agree between two traces of the same model and inputs. */
export function compareTraces(cuda: Trace, cpu: Trace): string[] {
  const problems: string[] = [];
  const ids = new Set([...Object.keys(cuda.nodes), ...Object.keys(cpu.nodes)]);
  for (const id of [...ids].sort()) {
    const a = cuda.nodes[id];
    const b = cpu.nodes[id];
    if (!a || !b) {
      problems.push(`node ${id} ran only on ${a ? 'cuda' : 'cpu'}`);
      continue;
    }
    if (a.executions !== b.executions)
      problems.push(`node ${id}: ${a.executions} executions on cuda, ${b.executions} on cpu`);
    if (JSON.stringify(a.outputShapes) !== JSON.stringify(b.outputShapes)) {
      problems.push(
        `node ${id}: output shapes ${JSON.stringify(a.outputShapes)} on cuda, ${JSON.stringify(b.outputShapes)} on cpu`,
      );
    }
  }
  return problems;
}

function largerModel(folder: string): string | undefined {
  const file = path.join(folder, 'resnet18.onnx');
  for (const python of ['/usr/bin/python3', 'python3']) {
    const made = spawnSync(python, [path.join(ROOT, 'scripts', 'make_trace_fixtures.py'), 'resnet18', file], {
      stdio: 'ignore',
    });
    if (made.status === 0 && existsSync(file)) return file;
  }
  return undefined;
}

async function main(): Promise<number> {
  const folder = mkdtempSync(path.join(tmpdir(), 'paramtrace-gpu-check-'));
  try {
    const models = [...SEEDS];
    const dryRun = process.argv.includes('--dry-run');
    const gpu = dryRun ? 'cpu' : 'cuda';
    const extra = process.argv.slice(2).filter((a) => a !== '--dry-run');
    if (extra.length > 0) models.push(...extra);
    else {
      const resnet = largerModel(folder);
      if (resnet) models.push(resnet);
      else
        console.log(
          'note: no larger model (python3 with torch and torchvision is needed to export resnet18); pass one as an argument',
        );
    }
    let failed = false;
    for (const file of models) {
      const model = readModel(file);
      let cuda: Trace;
      try {
        cuda = await traceModel(model, { device: gpu, timeoutMs: 600_000 });
      } catch (error) {
        if (error instanceof TraceError && error.kind === 'device') {
          console.log(`VERDICT: CUDA could not be used: ${error.message}`);
          return 2;
        }
        throw error;
      }
      const cpu = await traceModel(model, { device: 'cpu', timeoutMs: 600_000 });
      const problems = compareTraces(cuda, cpu);
      const time = (t: Trace): string => `${Math.round(t.timing?.runMs ?? 0)} ms`;
      console.log(
        `${problems.length === 0 ? 'same' : 'DIFFERENT'}  ${path.basename(file)}: ${Object.keys(cuda.nodes).length} nodes ran, ` +
          `${cuda.fallbackNodes.length} fell back to the CPU, ${cuda.otherKernels?.length ?? 0} inserted kernels, run ${time(cuda)} on ${gpu} vs ${time(cpu)} on cpu`,
      );
      for (const p of problems.slice(0, 20)) console.log(`    ${p}`);
      failed ||= problems.length > 0;
    }
    console.log(
      failed
        ? 'VERDICT: FAIL, the CUDA and CPU traces differ'
        : `VERDICT: PASS, ${models.length} models trace the same on CUDA and CPU`,
    );
    return failed ? 1 : 0;
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = await main();
}
