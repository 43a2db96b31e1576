// The comparison and its verdict (src/compare/compare.ts): two reports of real fixtures in, every rule of
// the thresholds (docs/action.md, Inputs) decided as documented, as data (each failure with its figures),
// and the words src/render/verdict.ts makes of it naming what failed. Every comparison made here matches
// the comparison's schema (the generated validator).
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { compare as compareReports, thresholdsWithoutBase } from '../src/compare/compare.ts';
import type { Report } from '../src/report/report.ts';
import { analyzeFixture } from './support/analyze-fixture.ts';
import { emptyReport } from '../src/action/models/analyze-model.ts';
import type { Comparison } from '../src/compare/comparison.ts';
import { failureSentences, verdictHeadline } from '../src/render/verdict.ts';
import { validateComparison } from '../src/report/report-validator.generated.ts';
import type { GeneratedValidator } from '../src/report/validate.ts';

const comparisonValidator = validateComparison as GeneratedValidator<Comparison>;

/** compare(), its JSON checked against the comparison's schema on the way. */
function compare(...args: Parameters<typeof compareReports>): Comparison {
  const c = compareReports(...args);
  const json: unknown = JSON.parse(JSON.stringify(c));
  assert.ok(comparisonValidator(json), JSON.stringify(comparisonValidator.errors?.[0]));
  assert.equal(c.schemaVersion, 2);
  return c;
}

// seed-case-1: conv2(conv1(x)), 18 unique; seed-case-2: conv1(conv1(x)), 9 unique, conv1.weight shared;
// resnet-block: 296 unique.
let seed1: Report;
let seed2: Report;
let resnet: Report;
before(async () => {
  [seed1, seed2, resnet] = (await Promise.all(
    ['seed-case-1', 'seed-case-2', 'resnet-block'].map((name) => analyzeFixture(name)),
  )) as [Report, Report, Report];
});

describe('compare: counts and findings', () => {
  it('gives each count base, head, delta and percent, and the findings that came and went', () => {
    const c = compare(seed1, seed2);
    assert.deepEqual(c.counts.unique, { base: 18, head: 9, delta: -9, percent: -50 });
    assert.deepEqual(c.counts.summary, { base: 18, head: 18, delta: 0, percent: 0 });
    assert.deepEqual(
      c.newShared.map((s) => s.name),
      ['conv1.weight'],
    );
    assert.deepEqual(
      c.removed.map((p) => p.name),
      ['conv2.weight'],
    );
    const back = compare(seed2, seed1);
    assert.deepEqual(
      back.resolvedShared.map((s) => s.name),
      ['conv1.weight'],
    );
    assert.deepEqual(
      back.added.map((p) => p.name),
      ['conv2.weight'],
    );
    assert.deepEqual(c.verdict, { pass: true, metric: 'unique', failures: [] });
    assert.equal(verdictHeadline(c), '✅ pass: -9 unique parameters (-50.0%, 18 → 9); 1 new shared');
    assert.equal(verdictHeadline(compare(seed1, seed1)), '✅ pass: unique parameters unchanged (18)');
  });

  it("keeps each side's trace as data, not words", () => {
    const failed: Report = { ...seed2, trace: { mode: 'failed', error: 'no Op registered', note: 'x' } };
    const traced: Report = {
      ...seed1,
      trace: {
        mode: 'onnxruntime',
        device: 'cpu',
        onnxruntimeVersion: '1.30.0',
        inputs: [{ name: 'x', dtype: 'float32', shape: [1, 3], from: 'default' }],
        fallbackNodes: [],
        note: 'y',
      },
    };
    const c = compare(traced, failed);
    assert.deepEqual(c.base.trace, { mode: 'onnxruntime', onnxruntimeVersion: '1.30.0', device: 'cpu' });
    assert.deepEqual(c.head.trace, { mode: 'failed', error: 'no Op registered' });
    assert.deepEqual(compare(seed1, seed2).head.trace, { mode: 'static' });
  });
});

describe('compare: the verdict', () => {
  it('fails on growth past a percentage, a number of parameters, or an absolute limit, naming each', () => {
    const grown = (t: Parameters<typeof compare>[2]) => compare(seed2, resnet, t);
    const pct = grown({ maxGrowthPercent: 5 });
    assert.deepEqual(pct.verdict.failures, [
      { kind: 'growth-percent', metric: 'unique', base: 9, head: 296, limit: 5 },
    ]);
    assert.deepEqual(failureSentences(pct), [
      'unique parameters grew +3188.9% (+287), more than the 5% allowed',
    ]);
    const abs = grown({ maxGrowthAbsolute: 100 });
    assert.deepEqual(abs.verdict.failures, [
      { kind: 'growth-absolute', metric: 'unique', base: 9, head: 296, limit: 100 },
    ]);
    assert.deepEqual(failureSentences(abs), ['unique parameters grew by +287, more than the 100 allowed']);
    const max = grown({ maxParams: 200 });
    assert.deepEqual(max.verdict.failures, [{ kind: 'max-params', metric: 'unique', head: 296, limit: 200 }]);
    assert.deepEqual(failureSentences(max), ['unique parameters are 296, over the limit of 200']);
    assert.equal(grown({ maxGrowthAbsolute: 287 }).verdict.pass, true, 'a limit is inclusive');
    // The watched count is configurable: summary-style counts conv1.weight twice in seed-case-2.
    assert.deepEqual(compare(seed1, seed2, { maxGrowthAbsolute: 0, metric: 'summary' }).verdict.pass, true);
    const summary = compare(seed1, seed2, { maxParams: 10, metric: 'summary' });
    assert.equal(summary.verdict.metric, 'summary');
    assert.deepEqual(failureSentences(summary), ['summary parameters are 18, over the limit of 10']);
    const all = grown({ maxGrowthPercent: 5, maxParams: 200 });
    assert.equal(all.verdict.pass, false);
    assert.deepEqual(
      all.verdict.failures.map((f) => f.kind),
      ['growth-percent', 'max-params'],
    );
    assert.equal(verdictHeadline(all), `❌ fail: ${failureSentences(all).join('; ')}`);
  });

  it('fails on new shared or unused parameters only when asked, naming them', () => {
    assert.equal(compare(seed1, seed2).verdict.pass, true);
    const shared = compare(seed1, seed2, { failOnNewShared: true });
    assert.deepEqual(shared.verdict.failures, [{ kind: 'new-shared', names: ['conv1.weight'] }]);
    assert.deepEqual(failureSentences(shared), ['new shared parameter: conv1.weight']);
    assert.equal(compare(seed1, seed2, { failOnNewUnused: true }).verdict.pass, true);
  });

  it('a percentage cannot allow growth from nothing; without a base only max-params applies', () => {
    const none = emptyReport(seed2.model.file, 'no baseline');
    const strict = { maxGrowthPercent: 5, failOnNewShared: true, maxParams: 100 };
    const fromNothing = compare(none, seed2, strict);
    assert.deepEqual(fromNothing.verdict.failures, [
      { kind: 'growth-from-zero', metric: 'unique', head: 9, limit: 5 },
      { kind: 'new-shared', names: ['conv1.weight'] },
    ]);
    assert.deepEqual(failureSentences(fromNothing), [
      'unique parameters grew from 0 to 9; a percentage limit cannot allow that',
      'new shared parameter: conv1.weight',
    ]);
    assert.deepEqual(thresholdsWithoutBase(strict), { maxParams: 100, metric: undefined });
    assert.equal(compare(none, seed2, thresholdsWithoutBase(strict)).verdict.pass, true);
    assert.equal(compare(none, resnet, thresholdsWithoutBase({ maxParams: 200 })).verdict.pass, false);
  });

  it('a base that could not be had fails first, whatever the counts say', () => {
    const none = emptyReport(seed1.model.file, 'no baseline: the base could not be built');
    const c = compare(none, seed1, {}, { baseUnavailable: 'the build command for base failed' });
    assert.equal(c.verdict.pass, false);
    assert.deepEqual(c.verdict.failures, [
      { kind: 'base-unavailable', reason: 'the build command for base failed' },
    ]);
    assert.equal(verdictHeadline(c), '❌ fail: the build command for base failed');
  });
});
