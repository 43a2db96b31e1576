// Real models from published packages (test/corpus/corpus.json): each one traced with the options a user
// would pass, its declared count against the one scripts/corpus_expectations.py computed from the graph
// alone (test/corpus/expected.json), and no parameter reported shared between the two branches of one If.
// The models are not committed: `npm run corpus` fetches them into .cache/corpus (or PARAMTRACE_CORPUS_DIR).
// Without them the tests skip and say so, except under CI, which fetches them first and fails without them.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { analyzeFile } from '../src/pipeline/analyze-file.ts';
import type { LayerCall, Report, SharedParameter } from '../src/report/report.ts';
import type { TraceOptions } from '../src/trace/index.ts';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const CORPUS_DIR = path.resolve(process.env.PARAMTRACE_CORPUS_DIR || path.join(ROOT, '.cache', 'corpus'));
const NOT_FETCHED = 'corpus not fetched: run npm run corpus';

interface CorpusModel {
  id: string;
  package: string;
  path: string;
  sha256: string;
  bytes: number;
  publisher: string;
  what: string;
  /** What a user passes: --input NAME=SHAPE, --dim NAME=N, --value NAME=V. */
  options: {
    inputs?: Record<string, number[]>;
    dims?: Record<string, number>;
    values?: Record<string, number[]>;
  };
  notes?: string;
}

interface CorpusPackage {
  id: string;
  registry: 'npm' | 'pypi';
  name: string;
  version: string;
  file: string;
  sha256: string;
}

interface Expected {
  declared: number;
  buffers: number;
  oneElement: { count: number; numel: number };
  explain: Record<string, { count: number; numel: number }>;
  controlFlow: { if: number; inBothBranches: { if: string; name: string; numel: number }[] };
}

const corpus = JSON.parse(readFileSync(path.join(ROOT, 'test', 'corpus', 'corpus.json'), 'utf8')) as {
  packages: CorpusPackage[];
  models: CorpusModel[];
};
const expected = (
  JSON.parse(readFileSync(path.join(ROOT, 'test', 'corpus', 'expected.json'), 'utf8')) as {
    models: Record<string, Expected>;
  }
).models;

const modelFile = (m: CorpusModel): string => path.join(CORPUS_DIR, 'models', `${m.id}.onnx`);

/** The model file when it is cached with its pinned bytes; undefined when it was not fetched. */
function cached(m: CorpusModel): string | undefined {
  const file = modelFile(m);
  if (!existsSync(file)) return undefined;
  const hash = createHash('sha256').update(readFileSync(file)).digest('hex');
  assert.equal(hash, m.sha256, `${file} is not the pinned model (run npm run corpus again)`);
  return file;
}

/** Skips (loudly) when the corpus is absent, or fails under CI, which fetches it first. */
function requireCached(t: { skip: (message: string) => void }, m: CorpusModel): string | undefined {
  const file = cached(m);
  if (file) return file;
  if (process.env.CI)
    assert.fail(`${modelFile(m)} is missing under CI: .ci/run must run npm run corpus first`);
  t.skip(NOT_FETCHED);
  return undefined;
}

/**
 * Shared entries whose calls can never run together: every two of them sit in different branches of one
 * If (then vs else of the same node, at any depth), so a run executes at most one of them.
 */
function exclusiveShares(report: Report): { name: string; callNames: string[]; graphs: string[] }[] {
  const graphsOf = new Map<string, string[]>();
  for (const layer of report.layers as LayerCall[]) {
    graphsOf.set(layer.name, [...(graphsOf.get(layer.name) ?? []), layer.graph]);
  }
  const out: { name: string; callNames: string[]; graphs: string[] }[] = [];
  for (const s of report.shared as SharedParameter[]) {
    const graphs = s.callNames.map((c) => graphsOf.get(c) ?? ['']);
    let together = false;
    for (let i = 0; i < graphs.length && !together; i++) {
      for (let j = i + 1; j < graphs.length && !together; j++) {
        together = graphs[i]!.some((a) => graphs[j]!.some((b) => !exclusive(a, b)));
      }
    }
    if (!together) out.push({ name: s.name, callNames: s.callNames, graphs: graphs.flat() });
  }
  return out;
}

/** Graph paths `<node id>/<attribute>/...`: exclusive when they part at then_branch vs else_branch of one node. */
function exclusive(a: string, b: string): boolean {
  const pa = a === '' ? [] : a.split('/');
  const pb = b === '' ? [] : b.split('/');
  // Node ids nest: `2/else_branch/90/then_branch` is node 90 of node 2's else branch. Walk the common prefix.
  for (let i = 0; i < Math.min(pa.length, pb.length); i++) {
    if (pa[i] === pb[i]) continue;
    const branches = new Set([pa[i], pb[i]]);
    return branches.has('then_branch') && branches.has('else_branch');
  }
  return false;
}

test('exclusive(): graph paths in the two branches of one If, at any depth', () => {
  assert.equal(exclusive('3/then_branch', '3/else_branch'), true);
  assert.equal(exclusive('3/then_branch/5/then_branch', '3/else_branch'), true);
  assert.equal(exclusive('2/else_branch/90/then_branch', '2/else_branch/90/else_branch'), true);
  assert.equal(exclusive('3/then_branch', '4/else_branch'), false);
  assert.equal(exclusive('', '3/then_branch'), false);
  assert.equal(exclusive('3/then_branch', '3/then_branch/7/body'), false);
  assert.equal(exclusive('1/body', '1/body'), false);
});

test('exclusiveShares(): flags a parameter shared only by calls in the two branches of one If', () => {
  const layer = (name: string, graph: string) => ({ name, graph }) as LayerCall;
  const shared = (name: string, callNames: string[]) =>
    ({ name, callNames, calls: callNames.length }) as SharedParameter;
  const report = {
    layers: [
      layer('then_call', '1/then_branch'),
      layer('else_call', '1/else_branch'),
      layer('main_call', ''),
      layer('deep_then', '1/then_branch/4/then_branch'),
    ],
    shared: [
      shared('w_exclusive', ['then_call', 'else_call']),
      shared('w_real', ['main_call', 'then_call', 'else_call']),
      shared('w_nested', ['deep_then', 'else_call']),
      shared('w_same_branch', ['then_call', 'deep_then']),
    ],
  } as unknown as Report;
  assert.deepEqual(
    exclusiveShares(report).map((s) => s.name),
    ['w_exclusive', 'w_nested'],
  );
});

test('the corpus: at least 12 distinct models from at least 4 publishers, each with an expectation', () => {
  const hashes = new Set(corpus.models.map((m) => m.sha256));
  assert.ok(hashes.size >= 12 && hashes.size === corpus.models.length, `${hashes.size} distinct models`);
  const publishers = new Set(corpus.models.map((m) => m.publisher.replace(/ \(.*$/, '')));
  assert.ok(publishers.size >= 4, `publishers: ${[...publishers].join(', ')}`);
  const packages = new Set(corpus.packages.map((p) => p.id));
  for (const m of corpus.models) {
    assert.ok(packages.has(m.package), `${m.id}: package ${m.package} is not pinned`);
    assert.ok(
      expected[m.id],
      `${m.id} has no entry in test/corpus/expected.json (run scripts/corpus_expectations.py)`,
    );
  }
});

for (const m of corpus.models) {
  const want = expected[m.id];
  const options = Object.entries(m.options)
    .flatMap(([kind, given]) =>
      Object.entries(given).map(
        ([k, v]) => `--${kind.replace(/s$/, '')} ${k}=${Array.isArray(v) ? v.join('x') : v}`,
      ),
    )
    .join(' ');
  test(
    `corpus ${m.id} (${m.publisher}), ${options || 'no options'}: traced, declared ${want?.declared}`,
    { timeout: 300_000 },
    async (t) => {
      const file = requireCached(t, m);
      if (!file || !want) return;
      // --value NAME=V: inline values of small inputs such as Silero's sample rate (given as the CLI's text).
      const { values, ...shapes } = m.options;
      const trace: TraceOptions = { device: 'cpu', ...shapes };
      if (values)
        trace.values = Object.fromEntries(Object.entries(values).map(([k, v]) => [k, v.map(String)]));
      const report = await analyzeFile(file, { trace, traceRequired: true });
      assert.equal(report.trace.mode, 'onnxruntime', JSON.stringify(report.trace));
      assert.equal(
        report.counts.declared,
        want.declared,
        `declared: paramtrace ${report.counts.declared}, the graph alone ${want.declared} ` +
          `(${JSON.stringify(Object.fromEntries(Object.entries(want.explain).map(([k, v]) => [k, v.numel])))})`,
      );
      assert.equal(report.counts.buffers, want.buffers, 'buffers');
      assert.deepEqual(exclusiveShares(report), [], 'parameters shared only across the branches of one If');
    },
  );
}

test(
  'corpus with no options at all (the plain `paramtrace analyze MODEL.onnx`): at least half trace',
  { timeout: 900_000 },
  async (t) => {
    const present = corpus.models.filter((m) => cached(m));
    if (present.length < corpus.models.length) {
      if (process.env.CI)
        assert.fail(`${corpus.models.length - present.length} corpus models missing under CI`);
      t.skip(NOT_FETCHED);
      return;
    }
    const traced: string[] = [];
    const failed: string[] = [];
    for (const m of present) {
      const report = await analyzeFile(modelFile(m), { trace: { device: 'cpu' } });
      if (report.trace.mode === 'onnxruntime') traced.push(m.id);
      else failed.push(`${m.id}: ${report.trace.mode === 'failed' ? report.trace.error : report.trace.note}`);
    }
    t.diagnostic(`traced without options (${traced.length}/${present.length}): ${traced.join(', ')}`);
    for (const f of failed) t.diagnostic(`not traced: ${f}`);
    assert.ok(
      traced.length * 2 >= present.length,
      `only ${traced.length} of ${present.length} corpus models trace without options:\n${failed.join('\n')}`,
    );
  },
);
