// `npm run fuzz`: the long fuzz run. Seeded mutations of every fixture (heavy sizes: 1 MB strings,
// 150,000-element repeats, graphs nested 3,000 deep) through the reader, the analysis and the renderers,
// each input in a child process with a time and a memory limit, until the time is up. Every input that
// crashes, hangs or takes its process down is saved to test/fuzz/crashes/, where `npm test` runs it again.
//
//   npm run fuzz                          5 minutes, a new seed
//   npm run fuzz -- --minutes 30 --seed 7 --parallel 2
//   npm run fuzz -- --count 2000          a fixed number of inputs instead of a time
//   options: --light (npm test's sizes), --time-limit MS per input (20000), --memory MB (1024),
//            --isolation process|worker, --save-invalid (also save reports the schema refuses)
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { CRASHES } from '../test/fuzz/corpus.ts';
import { generate, loadSeeds } from '../test/fuzz/mutate.ts';
import { runJobs, type Job, type Result } from '../test/fuzz/runner.ts';

const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '5' },
    count: { type: 'string' },
    seed: { type: 'string' },
    parallel: { type: 'string', default: '1' },
    light: { type: 'boolean', default: false },
    'time-limit': { type: 'string', default: '20000' },
    memory: { type: 'string', default: '1024' },
    isolation: { type: 'string', default: 'process' },
    'save-invalid': { type: 'boolean', default: false },
  },
});

const seed = values.seed !== undefined ? Number(values.seed) : Date.now() % 1_000_000_007;
const heavy = !values.light;
const parallel = Math.max(1, Number(values.parallel));
const count = values.count !== undefined ? Number(values.count) : Infinity;
const deadline = values.count !== undefined ? undefined : Date.now() + Number(values.minutes) * 60_000;
const isolation = values.isolation === 'worker' ? 'worker' : 'process';

console.log(
  `paramtrace fuzz: seed ${seed}, ${heavy ? 'heavy' : 'light'} sizes, ${
    deadline ? `${values.minutes} minutes` : `${count} inputs`
  }, ${parallel} runner(s) (${isolation}), ${values['time-limit']} ms and ${values.memory} MB per input`,
);

const started = Date.now();
const kinds: Record<string, number> = {};
const signatures = new Map<string, { count: number; first: Result }>();
const slowest: Result[] = [];
let lastReport = Date.now();
let total = 0;

function* lane(offset: number): Generator<Job> {
  for (let index = offset; index < count; index += parallel) yield { kind: 'generated', seed, index, heavy };
}

function onResult(result: Result): void {
  total++;
  kinds[result.kind] = (kinds[result.kind] ?? 0) + 1;
  slowest.push(result);
  slowest.sort((a, b) => b.ms - a.ms);
  slowest.length = Math.min(slowest.length, 5);
  const bad = result.kind === 'crash' || result.kind === 'hang' || result.kind === 'died';
  if (bad || result.kind === 'invalid-report') {
    const known = signatures.get(result.signature);
    if (known) known.count++;
    else {
      signatures.set(result.signature, { count: 1, first: result });
      console.log(
        `\nNEW ${result.kind}: ${result.signature}\n  input: ${result.label}\n  ${result.message.slice(0, 300)}`,
      );
      if (bad || values['save-invalid']) save(result);
    }
  }
  if (Date.now() - lastReport > 15_000) {
    lastReport = Date.now();
    const seconds = (Date.now() - started) / 1000;
    console.log(
      `${total} inputs in ${seconds.toFixed(0)} s (${(total / seconds).toFixed(1)}/s): ${JSON.stringify(kinds)}`,
    );
  }
}

let seeds: ReturnType<typeof loadSeeds> | undefined;

/** The crasher as bytes (up to 1 MiB) or, for larger ones, as the seed and index that make it. */
function save(result: Result): void {
  if (result.job.kind !== 'generated') return;
  seeds ??= loadSeeds();
  const { bytes, label } = generate(seeds, result.job.seed, result.job.index, result.job.heavy);
  const id = createHash('sha256').update(result.signature).digest('hex').slice(0, 12);
  mkdirSync(CRASHES, { recursive: true });
  const base = path.join(CRASHES, `${result.kind}-${id}`);
  const about = {
    kind: result.kind,
    signature: result.signature,
    message: result.message.slice(0, 2000),
    input: label,
    job: result.job,
    found: new Date().toISOString().slice(0, 10),
  };
  if (bytes.length <= 1 << 20) {
    writeFileSync(`${base}.onnx`, bytes);
    writeFileSync(`${base}.json`, `${JSON.stringify(about, null, 2)}\n`);
    console.log(`  saved ${path.relative(process.cwd(), base)}.onnx (${bytes.length} bytes)`);
  } else {
    writeFileSync(`${base}.json`, `${JSON.stringify({ ...about, regenerate: true }, null, 2)}\n`);
    console.log(
      `  saved ${path.relative(process.cwd(), base)}.json (${bytes.length} bytes: kept as seed and index)`,
    );
  }
}

await Promise.all(
  Array.from({ length: parallel }, (_, i) =>
    runJobs(lane(i), {
      isolation,
      timeLimitMs: Number(values['time-limit']),
      memoryMb: Number(values.memory),
      onResult,
      ...(deadline !== undefined ? { deadline } : {}),
    }),
  ),
);

const seconds = (Date.now() - started) / 1000;
console.log(`\n${total} inputs in ${seconds.toFixed(0)} s (${(total / seconds).toFixed(1)}/s), seed ${seed}`);
for (const [kind, n] of Object.entries(kinds).sort()) console.log(`  ${kind}: ${n}`);
console.log(
  `slowest: ${slowest.map((r) => `${Math.round(r.ms)} ms (${r.label.slice(0, 80)})`).join('\n         ')}`,
);
if (signatures.size > 0) {
  console.log(`distinct findings: ${signatures.size}`);
  for (const [sig, { count: n, first }] of signatures) console.log(`  ${n} x ${first.kind}: ${sig}`);
}
process.exitCode = [...signatures.values()].some((s) => s.first.kind !== 'invalid-report') ? 1 : 0;
