// The fixed fuzz corpus: malformed and hostile ONNX through the reader, the static analysis and the
// renderers (test/fuzz/harness.ts), each input with a time and a memory limit in a worker thread. Every
// input must end in a report or a clear one-line error. `npm run fuzz` runs the same harness for longer.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { before, describe, test } from 'node:test';
import protobuf from 'protobufjs';
import { CORPUS_SEED, CORPUS_SIZE, crashJobs, generated, NAMED, truncations } from './fuzz/corpus.ts';
import { generate, loadSeeds } from './fuzz/mutate.ts';
import { decodeModel } from '../src/onnx/stream-decode.ts';
import { MemorySource } from '../src/onnx/byte-source.ts';
import { runJobs, type Job, type Result } from './fuzz/runner.ts';
import { fixture } from './support/analyze-fixture.ts';

const TRUNCATED = 'seed-case-1.onnx';
const LIMITS = { isolation: 'worker', timeLimitMs: 15_000, memoryMb: 1024 } as const;

const failed = (r: Result): boolean => r.kind === 'crash' || r.kind === 'hang' || r.kind === 'died';
const show = (r: Result): string => `${r.kind}: ${r.label.slice(0, 300)}\n    ${r.message.slice(0, 500)}`;

test('the mutator is deterministic: the same seed and index make the same bytes', () => {
  const seeds = loadSeeds();
  assert.ok(seeds.length >= 20, `${seeds.length} seeds`);
  for (const index of [0, 1, 17, 999]) {
    const a = generate(seeds, CORPUS_SEED, index, false);
    const b = generate(seeds, CORPUS_SEED, index, false);
    assert.deepEqual(a.bytes, b.bytes);
    assert.equal(a.label, b.label);
  }
  assert.notDeepEqual(generate(seeds, 2, 1, false).bytes, generate(seeds, 3, 0, false).bytes);
  // The seeds themselves are valid models: the mutations start from something the reader accepts.
  for (const s of seeds) assert.ok(decodeModel(new MemorySource(s.bytes)).graph, s.name);
});

// The three runs start at once, each in its own worker thread: the corpus and the big hostile models
// take about the same time, and a machine with two cores runs them side by side.
const corpusJobs: Job[] = [...truncations(), ...generated(CORPUS_SEED, CORPUS_SIZE, false)];
const corpusRun = runJobs(corpusJobs, LIMITS);
const namedRun = runJobs(
  Object.keys(NAMED).map((name) => ({ kind: 'named', name })),
  { ...LIMITS, timeLimitMs: 60_000 },
);
const crashRun = runJobs(crashJobs(), { ...LIMITS, timeLimitMs: 60_000 });

/** Byte offsets where a top-level field of the model ends: a cut there leaves a shorter valid model. */
function fieldEnds(data: Uint8Array): Set<number> {
  const reader = protobuf.Reader.create(data);
  const ends = new Set<number>([0]);
  while (reader.pos < reader.len) {
    reader.skipType(reader.uint32() & 7);
    ends.add(reader.pos);
  }
  return ends;
}

describe('fixed fuzz corpus', () => {
  let results: Result[] = [];
  before(async () => {
    results = await corpusRun;
  });

  test('every truncation and mutation ends in a report or a clear error, within 15 s and 1 GiB', () => {
    assert.equal(results.length, corpusJobs.length);
    assert.deepEqual(results.filter(failed).map(show), []);
  });

  test('the corpus reaches both ends: reports and refusals, for every mutation', () => {
    const kinds = new Map<string, number>();
    for (const r of results) kinds.set(r.kind, (kinds.get(r.kind) ?? 0) + 1);
    assert.ok((kinds.get('report') ?? 0) > 150, JSON.stringify([...kinds]));
    assert.ok((kinds.get('refused') ?? 0) > 500, JSON.stringify([...kinds]));
    const applied = new Set(results.flatMap((r) => r.label.split(' | ').map((s) => s.split(':')[0])));
    for (const m of [
      'wrongWire',
      'lengthLie',
      'absurdDims',
      'deepNest',
      'manyRepeated',
      'manifest',
      'external',
    ])
      assert.ok(applied.has(m), `mutation ${m} never applied`);
  });

  test('a real model cut at any byte is refused as truncated, unless cut between two of its fields', () => {
    const ends = fieldEnds(new Uint8Array(readFileSync(fixture(TRUNCATED))));
    const cuts = results.filter(
      (r) => r.job.kind === 'bytes' && r.label.startsWith(`${TRUNCATED} truncated`),
    );
    assert.ok(cuts.length > 500);
    for (const r of cuts) {
      const at = Number(/truncated at (\d+)/.exec(r.label)![1]);
      if (ends.has(at) && at > 0) assert.ok(r.kind === 'report' || r.kind === 'refused', show(r));
      else {
        assert.equal(r.kind, 'refused', show(r));
        assert.match(r.message, at === 0 ? /empty/ : /not a valid ONNX file|not an ONNX model/, show(r));
      }
    }
  });

  test('reports the analysis makes pass paramtrace’s own report schema', () => {
    assert.deepEqual(results.filter((r) => r.kind === 'invalid-report').map(show), []);
  });
});

describe('hostile models built as bytes', () => {
  const byName = new Map<string, Result>();
  before(async () => {
    for (const r of await namedRun) if (r.job.kind === 'named') byName.set(r.job.name, r);
  });
  for (const [name, { expect, message }] of Object.entries(NAMED)) {
    test(`${name}: ${expect === 'report' ? 'a report' : 'a clear error'}`, () => {
      const r = byName.get(name);
      assert.ok(r, 'no result');
      assert.ok(!failed(r), show(r));
      assert.equal(r.kind, expect, show(r));
      if (message) assert.match(r.message, message);
    });
  }
});

test('every crash found so far (test/fuzz/crashes) now ends in a report or a clear error', async () => {
  const results = await crashRun;
  assert.ok(results.length >= 9, 'test/fuzz/crashes holds the crashes found so far');
  assert.equal(results.length, crashJobs().length);
  assert.deepEqual(results.filter((r) => r.kind !== 'report' && r.kind !== 'refused').map(show), []);
});
