// Parity sweep: does paramtrace trace every model a plain onnxruntime-node session runs? For each ONNX
// backend test model (Debian's libonnx-testdata: DIR/test_*/model.onnx with test_data_set_0/input_K.pb),
// run a plain InferenceSession with the test's own inputs; where that succeeds, trace the model with
// paramtrace (traceModel, `inputFiles` pointing at the same .pb files) and count.
//
//   npx tsx scripts/parity-sweep.ts                 every folder under /usr/share/libonnx-testdata/data
//   npx tsx scripts/parity-sweep.ts DIR [DIR...]    the test folders under DIR (or DIR itself)
//   options: --json FILE (every result), --filter REGEX (test names), --timeout SECONDS per trace (60),
//            --synthesized (trace with the inputs paramtrace makes itself, not the test's: how far the
//            defaults go; failures there are expected where values matter)
//
// Prints: plain ok / paramtrace ok / paramtrace failed where plain ran, each failure with its stage and
// message. test/parity-sample.test.ts runs the same check (parityCheck) on a fixed sample.
import { existsSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { readModel } from '../src/onnx/read-model.ts';
import { readTensorProtoFile, traceModel, TraceError, TraceInputError } from '../src/trace/index.ts';

export const TESTDATA = '/usr/share/libonnx-testdata/data';

export type ParityStage = 'read' | 'inputs' | 'load' | 'run' | 'timeout' | 'crash' | 'worker' | 'other';

export interface ParityResult {
  /** The test folder's name (test_if, test_loop11, ...). */
  name: string;
  dir: string;
  /** The plain session ran: true, or why not. */
  plain: true | string;
  /** Only where plain ran: paramtrace traced it (true), or how it failed. */
  paramtrace?: true | { stage: ParityStage; message: string };
  /** Nodes the trace saw run, for a look at what it covered. */
  tracedNodes?: number;
}

/** Test folders (holding model.onnx and test_data_set_0) under a folder, sorted; the folder itself if it is one. */
export function testFolders(dir: string): string[] {
  if (existsSync(path.join(dir, 'model.onnx'))) return [dir];
  return readdirSync(dir)
    .map((name) => path.join(dir, name))
    .filter((d) => statSync(d).isDirectory())
    .flatMap((d) => (existsSync(path.join(d, 'model.onnx')) ? [d] : testFolders(d)))
    .sort();
}

/** The input files of test_data_set_0, by graph input name (the .pb's own name, else its position). */
function inputFiles(dir: string, inputNames: readonly string[]): Record<string, string> {
  const set = path.join(dir, 'test_data_set_0');
  const files: Record<string, string> = {};
  if (!existsSync(set)) return files;
  const pbs = readdirSync(set)
    .filter((f) => /^input_\d+\.pb$/.test(f))
    .sort((a, b) => Number(/\d+/.exec(a)![0]) - Number(/\d+/.exec(b)![0]));
  pbs.forEach((file, index) => {
    const full = path.join(set, file);
    let name = inputNames[index];
    try {
      const own = readTensorProtoFile(full).name;
      if (own && inputNames.includes(own)) name = own;
    } catch {
      // Not a TensorProto (a sequence or an optional): the plain session fails on it, and says why.
    }
    if (name !== undefined) files[name] = full;
  });
  return files;
}

async function runPlain(modelFile: string, files: Record<string, string>): Promise<true | string> {
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(modelFile, { logSeverityLevel: 4 });
  } catch (error) {
    return `load: ${(error as Error).message}`;
  }
  try {
    const feeds: Record<string, ort.Tensor> = {};
    for (const [name, file] of Object.entries(files)) {
      const tensor = readTensorProtoFile(file);
      feeds[name] = new ort.Tensor(tensor.dtype, tensor.data as never, tensor.shape);
    }
    await session.run(feeds);
    return true;
  } catch (error) {
    return `run: ${(error as Error).message}`;
  } finally {
    await session.release();
  }
}

function stageOf(error: unknown): ParityStage {
  if (error instanceof TraceInputError) return 'inputs';
  if (error instanceof TraceError) {
    if (error.kind === 'onnxruntime') return /cannot load the model/.test(error.message) ? 'load' : 'run';
    if (error.kind === 'timeout' || error.kind === 'crash' || error.kind === 'worker') return error.kind;
  }
  return 'other';
}

/** The check for one backend test folder: the plain run, then (where it ran) paramtrace's trace. */
export async function parityCheck(
  dir: string,
  timeoutMs = 60_000,
  synthesized = false,
): Promise<ParityResult> {
  const name = path.basename(dir);
  const modelFile = path.join(dir, 'model.onnx');
  let model: ReturnType<typeof readModel> | undefined;
  let readError: unknown;
  try {
    model = readModel(modelFile);
  } catch (error) {
    readError = error;
  }
  // Graph inputs the run feeds: those that are not initializers (as paramtrace plans them).
  const initializers = new Set(model?.graph.initializers.map((t) => t.name) ?? []);
  let inputNames = model?.graph.inputs.map((i) => i.name).filter((n) => !initializers.has(n));
  if (!inputNames) {
    try {
      const session = await ort.InferenceSession.create(modelFile, { logSeverityLevel: 4 });
      inputNames = [...session.inputNames];
      await session.release();
    } catch {
      inputNames = [];
    }
  }
  const files = inputFiles(dir, inputNames);
  const plain = await runPlain(modelFile, files);
  if (plain !== true) return { name, dir, plain };
  if (!model) {
    return {
      name,
      dir,
      plain,
      paramtrace: { stage: 'read', message: (readError as Error).message ?? String(readError) },
    };
  }
  try {
    const trace = await traceModel(model, {
      device: 'cpu',
      ...(synthesized ? {} : { inputFiles: files }),
      timeoutMs,
    });
    return { name, dir, plain, paramtrace: true, tracedNodes: Object.keys(trace.nodes).length };
  } catch (error) {
    return {
      name,
      dir,
      plain,
      paramtrace: { stage: stageOf(error), message: (error as Error).message ?? String(error) },
    };
  }
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    options: {
      json: { type: 'string' },
      filter: { type: 'string' },
      timeout: { type: 'string', default: '60' },
      synthesized: { type: 'boolean', default: false },
    },
    allowPositionals: true,
  });
  const roots = positionals.length > 0 ? positionals : [TESTDATA];
  const filter = values.filter ? new RegExp(values.filter) : undefined;
  const folders = roots
    .flatMap((root) => testFolders(root))
    .filter((d) => !filter || filter.test(path.basename(d)));
  const results: ParityResult[] = [];
  const started = Date.now();
  for (const [i, dir] of folders.entries()) {
    const result = await parityCheck(dir, Number(values.timeout) * 1000, values.synthesized);
    results.push(result);
    const mark = result.plain !== true ? 'skip' : result.paramtrace === true ? 'ok' : 'FAIL';
    process.stderr.write(`[${i + 1}/${folders.length}] ${mark} ${path.relative(TESTDATA, dir) || dir}\n`);
  }
  const plainOk = results.filter((r) => r.plain === true);
  const traced = plainOk.filter((r) => r.paramtrace === true);
  const failed = plainOk.filter((r) => r.paramtrace !== true);
  const out: string[] = [
    `models: ${results.length} (in ${((Date.now() - started) / 1000).toFixed(0)} s)`,
    `plain onnxruntime-node ok: ${plainOk.length} (${results.length - plainOk.length} the plain session cannot run with its test inputs: skipped)`,
    `paramtrace ok${values.synthesized ? ' (inputs paramtrace made, not the test inputs)' : ''}: ${traced.length}`,
    `paramtrace failed where plain ran: ${failed.length}`,
  ];
  const byStage = new Map<string, number>();
  for (const r of failed) {
    const stage = (r.paramtrace as { stage: string }).stage;
    byStage.set(stage, (byStage.get(stage) ?? 0) + 1);
  }
  if (failed.length > 0) out.push(`  by stage: ${[...byStage].map(([s, n]) => `${s} ${n}`).join(', ')}`);
  for (const r of failed) {
    const f = r.paramtrace as { stage: string; message: string };
    out.push(`  ${path.relative(TESTDATA, r.dir) || r.dir} [${f.stage}]: ${f.message.slice(0, 400)}`);
  }
  process.stdout.write(`${out.join('\n')}\n`);
  if (values.json) writeFileSync(values.json, `${JSON.stringify(results, null, 2)}\n`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await main();
}
