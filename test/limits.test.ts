// GitHub's limits: a comment of at most 65,536 characters, a job summary of at most 1 MiB. A model of
// 100,000 layers, or a change with 100,000 new findings, still gets a valid comment that starts with its
// marker and its verdict, with tables cut between rows, never inside one.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { compare } from '../src/compare/compare.ts';
import { hasMarker } from '../src/github/comments.ts';
import { COMMENT_LIMIT, renderComment, renderSummary, SUMMARY_LIMIT } from '../src/render/markdown.ts';
import { verdictHeadline } from '../src/render/verdict.ts';
import type { Report } from '../src/report/report.ts';
import { checkReport } from '../src/report/validate.ts';
import { emptyReport } from '../src/action/models/analyze-model.ts';
import { analyzeStatically, emptyBase } from './fuzz/harness.ts';
import { chainModel } from './fuzz/onnx-gen.ts';
import { assertWellFormed } from './fuzz/markdown-check.ts';
import { encode } from './fuzz/proto.ts';

function checkComment(comment: string, key: string, headline: RegExp): void {
  assert.ok(comment.length <= COMMENT_LIMIT, `comment of ${comment.length} characters`);
  const [marker, verdict] = comment.split('\n');
  assert.equal(marker, `<!-- paramtrace:comment-key=${key} -->`);
  assert.ok(hasMarker(comment, key));
  assert.match(verdict!, headline);
  assertWellFormed(comment);
}

function checkSummary(summary: string, headline: RegExp): void {
  assert.ok(Buffer.byteLength(summary) <= SUMMARY_LIMIT, `summary of ${Buffer.byteLength(summary)} bytes`);
  assert.match(summary.split('\n')[0]!, headline);
  assertWellFormed(summary);
}

describe('a real model of 100,000 layers', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'paramtrace-limits-'));
  let head: Report;
  let base: Report;
  before(() => {
    const file = path.join(dir, 'big.onnx');
    writeFileSync(file, encode(chainModel(100_000, { shareEvery: 10 })));
    head = analyzeStatically(file);
    writeFileSync(file, encode(chainModel(10)));
    base = analyzeStatically(file);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('is analyzed: 100,000 layer calls, a report the schema accepts', () => {
    assert.equal(head.layers.length, 100_000);
    assert.equal(head.counts.declared, 10_000 * 4);
    assert.equal(head.counts.summary, 100_000 * 4);
    checkReport(JSON.parse(JSON.stringify(head)), 'report');
  });

  test('its comment stays under 65,536 characters, verdict first, every table whole', () => {
    const comparison = compare(base, head, { maxGrowthPercent: 5, failOnNewShared: true });
    assert.equal(comparison.verdict.pass, false);
    const comment = renderComment(comparison, { commentKey: 'big', headReport: head });
    checkComment(comment, 'big', /^### paramtrace: ❌ fail: unique parameters grew/);
    assert.match(comment, /…and [\d,]+ more/);
    assert.match(comment, /more rows in the job summary and the report file/);
  });

  test('its job summary stays under 1 MiB, with more of the detail than the comment', () => {
    const comparison = compare(base, head, { maxGrowthPercent: 5 });
    const summary = renderSummary(comparison, head);
    checkSummary(summary, /^### paramtrace: ❌ fail/);
    const comment = renderComment(comparison, { commentKey: 'big', headReport: head });
    const rows = (text: string): number => text.split('\n').filter((l) => l.startsWith('| <code>')).length;
    assert.ok(
      rows(summary) > rows(comment),
      `${rows(summary)} rows in the summary, ${rows(comment)} in the comment`,
    );
  });
});

/** A report with `n` of everything, named `prefix<i>`: built directly, no model needed. */
function syntheticReport(n: number, prefix: string, nameLength = 40): Report {
  const name = (i: number): string => `${prefix}${i}.`.padEnd(nameLength, 'x');
  const names = Array.from({ length: n }, (_, i) => name(i));
  const base = { ...emptyReport('m.onnx', 'static'), notes: [] };
  return {
    ...base,
    counts: { ...base.counts, declared: n * 8, unique: n * 4, summary: n * 12, parameterBytes: n * 32 },
    parameters: names.map((p) => ({
      name: p,
      aliases: [],
      storedAs: [p],
      dtype: 'float32',
      shape: [2, 2],
      numel: 4,
      calls: 2,
      used: true,
      trainable: null,
    })),
    shared: names.map((p) => ({
      name: p,
      numel: 4,
      calls: 3,
      callNames: names.slice(0, 50),
      extraInSummary: 8,
    })),
    unused: names.map((p) => ({
      name: `${p}u`,
      numel: 4,
      reason: 'orphan',
      detail: 'an initializer that no node consumes',
    })),
    duplicates: names.map((p) => ({
      names: [p, ...names.slice(0, 30)],
      numel: 4,
      transposed: true,
      bytesWasted: 16,
    })),
    layers: names.map((p) => ({
      name: p,
      type: 'MatMul',
      opTypes: ['MatMul'],
      graph: '',
      parameters: [p],
      params: 4,
      outputShapes: [[1, 'batch', 2]],
      live: true,
      executions: 1,
    })),
  };
}

describe('a change with 100,000 new shared, unused and duplicated parameters', () => {
  const head = syntheticReport(100_000, 'layer');
  const base = emptyBase(head);

  test('its verdict names them all, yet the comment keeps under the limit with the verdict first', () => {
    const comparison = compare(base, head, { failOnNewShared: true, failOnNewUnused: true, maxParams: 10 });
    assert.ok(verdictHeadline(comparison).length > 1_000_000, 'the verdict lists every name');
    const comment = renderComment(comparison, { commentKey: 'many', headReport: head });
    checkComment(comment, 'many', /^### paramtrace: ❌ fail: unique parameters are [\d,]+, over the limit/);
    const verdict = comment.split('\n')[1]!;
    assert.ok(verdict.length < 4000, `verdict line of ${verdict.length} characters`);
    assert.match(comment, /^- new shared parameters: /m);
    assert.match(comment, /\*\*New shared parameters\*\*/);
    assert.match(comment, /\*\*Stored twice\*\*.*\(99,980 more\)/);
  });

  test('its summary keeps under 1 MiB', () => {
    const comparison = compare(base, head, { failOnNewShared: true, failOnNewUnused: true });
    checkSummary(renderSummary(comparison, head), /^### paramtrace: ❌ fail: new shared parameters: /);
  });

  test('names at the schema’s longest (4096 characters) of hostile characters: still under the limits', () => {
    const long = syntheticReport(2000, '<|`@x ', 4096);
    const comparison = compare(emptyBase(long), long, { failOnNewShared: true });
    const comment = renderComment(comparison, { commentKey: 'long', headReport: long });
    checkComment(
      comment,
      'long',
      /^### paramtrace: ❌ fail: new shared parameters: &lt;&#124;&#96;@\u2060x 0/,
    );
    assert.match(comment, /…and [\d,]+ more|Cut to fit GitHub's limit|Detail left out/);
    checkSummary(renderSummary(comparison, long), /^### paramtrace: ❌ fail/);
  });

  test('a footer of 200,000 characters does not push the comment over the limit', () => {
    const comparison = compare(base, head, {});
    const comment = renderComment(comparison, {
      commentKey: 'foot',
      headReport: head,
      footer: 'f'.repeat(200_000),
    });
    checkComment(comment, 'foot', /^### paramtrace: ✅ pass/);
  });

  test('a smaller maxLength is honoured the same way', () => {
    const comparison = compare(base, head, { failOnNewUnused: true });
    for (const maxLength of [2000, 10_000, 30_000]) {
      const comment = renderComment(comparison, { commentKey: 'small', headReport: head, maxLength });
      assert.ok(comment.length <= maxLength, `${comment.length} > ${maxLength}`);
      checkComment(comment, 'small', /^### paramtrace: ❌ fail: new unused parameters/);
    }
  });
});
