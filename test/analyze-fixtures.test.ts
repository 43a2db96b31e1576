// Every committed fixture against the expectations its generator wrote (scripts/make_fixtures.py): PyTorch's
// own truth where PyTorch made the file, the construction where the graph was built by hand.
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { test } from 'node:test';
import { analyzeFixture, expectation, FIXTURES } from './support/analyze-fixture.ts';
import { modulePath } from '../src/analysis/call-names.ts';

const names = readdirSync(FIXTURES)
  .filter((f) => f.endsWith('.expect.json'))
  .map((f) => f.replace(/\.expect\.json$/, ''));

test('there are fixtures to check', () => {
  assert.ok(names.length >= 10, `only ${names.length} fixtures in ${FIXTURES}`);
});

for (const name of names) {
  test(`${name}: counts and findings match the expectation`, async () => {
    const expected = expectation(name).graph;
    const report = await analyzeFixture(name);
    assert.equal(report.source, 'graph');
    assert.deepEqual(
      { declared: report.counts.declared, unique: report.counts.unique, summary: report.counts.summary },
      { declared: expected.declared, unique: expected.unique, summary: expected.summary },
    );
    assert.deepEqual(Object.fromEntries(report.shared.map((s) => [s.name, s.calls])), expected.shared);
    assert.deepEqual(Object.fromEntries(report.unused.map((u) => [u.name, u.reason])), expected.unused);
    assert.deepEqual(
      report.duplicates.map((d) => ({ names: [...d.names].sort(), transposed: d.transposed })),
      expected.duplicates.map((d) => ({ names: [...d.names].sort(), transposed: d.transposed })),
    );
    if (expected.valueMerged) {
      assert.deepEqual(
        report.valueMerged.map((v) => v.name).sort(),
        Object.keys(expected.valueMerged).sort(),
      );
    }
    if (expected.callsUsing) {
      for (const [param, calls] of Object.entries(expected.callsUsing)) {
        const users = report.layers.filter((l) => l.parameters.includes(param)).map((l) => l.name);
        assert.deepEqual(users.sort(), calls.map(scopeToCall).sort(), `calls using ${param}`);
      }
    }
  });
}

/** The fixtures name calls by exporter scope (`/layer1/layer1.0/conv1`); reports by module path. */
function scopeToCall(scope: string): string {
  return scope.startsWith('/') ? modulePath(scope.slice(1).split('/')) : scope;
}
