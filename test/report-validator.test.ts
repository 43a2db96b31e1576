// The contracts' validators are their TypeBox schemas compiled ahead of time (scripts/gen-report-validator.ts):
// they must be the schemas' current compilation, accept every report paramtrace writes, and refuse the rest.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { analyzeFile } from '../src/pipeline/analyze-file.ts';
import { clipStrings, MAX_STRING } from '../src/report/clip.ts';
import { checkReport, parseReport, ReportError } from '../src/report/validate.ts';
import { GENERATED, reportValidatorSource } from '../scripts/gen-report-validator.ts';
import { validateComparison as generated } from '../src/report/report-validator.generated.ts';
import type { GeneratedValidator } from '../src/report/validate.ts';
import type { Comparison } from '../src/compare/comparison.ts';

const validateComparison = generated as GeneratedValidator<Comparison>;
import { compare } from '../src/compare/compare.ts';

const SEED1 = fileURLToPath(new URL('./fixtures/seed-case-1.onnx', import.meta.url));

test('the committed validator is the current compilation of the schema (npx tsx scripts/gen-report-validator.ts)', () => {
  assert.equal(readFileSync(GENERATED, 'utf8'), reportValidatorSource());
});

test('accepts a report as written, names clipped at the limit included (astral characters too)', async () => {
  const report = await analyzeFile(SEED1);
  assert.deepEqual(parseReport(JSON.stringify(report), 'r.json'), report);
  const long = clipStrings({ ...report, notes: ['😀'.repeat(MAX_STRING), 'x'.repeat(MAX_STRING * 2)] });
  assert.ok(long.notes[0]!.length <= MAX_STRING && long.notes[1]!.length <= MAX_STRING);
  assert.equal(checkReport(JSON.parse(JSON.stringify(long)), 'r.json').notes.length, 2);
  // Nothing long: the report itself, not a copy. A long key deep inside is clipped too.
  assert.equal(clipStrings(report), report);
  const deep = clipStrings({ a: [{ b: 1, ['k'.repeat(MAX_STRING + 5)]: 'v' }], c: 'short' });
  assert.deepEqual(
    Object.keys(deep.a[0]!).map((k) => k.length),
    [1, MAX_STRING],
  );
  assert.equal(deep.c, 'short');
});

test('refuses what the schema refuses, saying where', async () => {
  const report = JSON.parse(JSON.stringify(await analyzeFile(SEED1)));
  const refused = (value: unknown, pattern: RegExp): void =>
    assert.throws(
      () => checkReport(value, 'r.json'),
      (e: unknown) => e instanceof ReportError && pattern.test(e.message),
    );
  refused({ ...report, schemaVersion: 2 }, /r\.json: not a paramtrace report.*\/schemaVersion/);
  refused({ ...report, extra: 1 }, /must NOT have additional properties/);
  refused({ ...report, counts: { ...report.counts, unique: -1 } }, /\/counts\/unique must be >= 0/);
  refused({ ...report, notes: ['x'.repeat(MAX_STRING + 1)] }, /\/notes\/0 must NOT have more than 4096/);
  refused([], /\(top level\)|must be object/);
  // The trace's fields go with its mode: a failed trace says why, a static one has no device.
  refused({ ...report, trace: { mode: 'failed', note: 'x' } }, /\/trace/);
  refused({ ...report, trace: { mode: 'static', note: 'x', device: 'cpu' } }, /\/trace/);
  const failed = { ...report, trace: { mode: 'failed', note: 'x', error: 'e' } };
  assert.equal(checkReport(failed, 'r.json').trace.mode, 'failed');
  assert.throws(() => parseReport('{', 'r.json'), /r\.json: not a JSON report/);
});

test('the comparison validator takes a comparison of version 2 only, with its verdict as data', async () => {
  const report = await analyzeFile(SEED1);
  const c = JSON.parse(JSON.stringify(compare(report, report, { maxParams: 1 })));
  assert.equal(validateComparison(c), true, JSON.stringify(validateComparison.errors));
  const refusedAt = (value: unknown, path: string): void => {
    assert.equal(validateComparison(value), false);
    assert.equal(validateComparison.errors?.[0]?.instancePath, path);
  };
  refusedAt({ ...c, schemaVersion: 1 }, '/schemaVersion');
  // Version 1's words in place of the data.
  refusedAt({ ...c, verdict: { ...c.verdict, headline: '✅ pass' } }, '/verdict');
  refusedAt({ ...c, head: { ...c.head, trace: 'static (not traced)' } }, '/head/trace');
  refusedAt(
    { ...c, verdict: { ...c.verdict, failures: [{ kind: 'max-params', metric: 'unique' }] } },
    '/verdict/failures/0',
  );
  refusedAt({ ...c, thresholds: { metric: 'parameters' } }, '/thresholds/metric');
});
