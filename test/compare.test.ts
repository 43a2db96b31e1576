// The comparison and its verdict (src/compare/compare.ts): two reports of real fixtures in, every rule of
// the thresholds (docs/action.md, Inputs) decided as documented, the headline naming what failed.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { compare, thresholdsWithoutBase } from '../src/compare/compare.ts';
import type { Report } from '../src/report/report.ts';
import { analyzeFixture } from './support/analyze-fixture.ts';
import { emptyReport } from '../src/action/models/analyze-model.ts';

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
    assert.equal(c.verdict.pass, true);
    assert.equal(c.verdict.headline, '✅ pass: -9 unique parameters (-50.0%, 18 → 9); 1 new shared');
  });
});

describe('compare: the verdict', () => {
  it('fails on growth past a percentage, a number of parameters, or an absolute limit, naming each', () => {
    const grown = (t: Parameters<typeof compare>[2]) => compare(seed2, resnet, t).verdict;
    assert.deepEqual(grown({ maxGrowthPercent: 5 }).failures, [
      'unique parameters grew +3188.9% (+287), more than the 5% allowed',
    ]);
    assert.deepEqual(grown({ maxGrowthAbsolute: 100 }).failures, [
      'unique parameters grew by +287, more than the 100 allowed',
    ]);
    assert.deepEqual(grown({ maxParams: 200 }).failures, [
      'unique parameters are 296, over the limit of 200',
    ]);
    assert.equal(grown({ maxGrowthAbsolute: 287 }).pass, true, 'a limit is inclusive');
    // The watched count is configurable: summary-style counts conv1.weight twice in seed-case-2.
    assert.deepEqual(compare(seed1, seed2, { maxGrowthAbsolute: 0, metric: 'summary' }).verdict.pass, true);
    assert.deepEqual(compare(seed1, seed2, { maxParams: 10, metric: 'summary' }).verdict.failures, [
      'summary parameters are 18, over the limit of 10',
    ]);
    const all = grown({ maxGrowthPercent: 5, maxParams: 200 });
    assert.equal(all.pass, false);
    assert.equal(all.headline, `❌ fail: ${all.failures.join('; ')}`);
  });

  it('fails on new shared or unused parameters only when asked, naming them', () => {
    assert.equal(compare(seed1, seed2).verdict.pass, true);
    assert.deepEqual(compare(seed1, seed2, { failOnNewShared: true }).verdict.failures, [
      'new shared parameter: conv1.weight',
    ]);
    assert.equal(compare(seed1, seed2, { failOnNewUnused: true }).verdict.pass, true);
  });

  it('a percentage cannot allow growth from nothing; without a base only max-params applies', () => {
    const none = emptyReport(seed2.model.file, 'no baseline');
    const strict = { maxGrowthPercent: 5, failOnNewShared: true, maxParams: 100 };
    assert.deepEqual(compare(none, seed2, strict).verdict.failures, [
      'unique parameters grew from 0 to 9; a percentage limit cannot allow that',
      'new shared parameter: conv1.weight',
    ]);
    assert.deepEqual(thresholdsWithoutBase(strict), { maxParams: 100, metric: undefined });
    assert.equal(compare(none, seed2, thresholdsWithoutBase(strict)).verdict.pass, true);
    assert.equal(compare(none, resnet, thresholdsWithoutBase({ maxParams: 200 })).verdict.pass, false);
  });

  it('a base that could not be had fails first, whatever the counts say', () => {
    const none = emptyReport(seed1.model.file, 'no baseline: the base could not be built');
    const verdict = compare(
      none,
      seed1,
      {},
      { baseUnavailable: 'the build command for base failed' },
    ).verdict;
    assert.equal(verdict.pass, false);
    assert.deepEqual(verdict.failures, ['the build command for base failed']);
    assert.equal(verdict.headline, '❌ fail: the build command for base failed');
  });
});
