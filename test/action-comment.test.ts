// The pull-request comment as the action posts it (a fresh bundle of the sources, a real git repository,
// the loopback GitHub API): the verdict, then what changed where (the watched count by module, its
// Mermaid chart), the trace's status when it was not clean, the layer calls that changed, the links to the
// run and the commits, and GitHub's size limit. The expected figures come from docs/seed-cases.md:
// seed case 1 (conv2(conv1(x))) declares and uses 18 parameters; seed case 3 (conv1(conv1(x)), conv2
// declared but never called) declares 18 and uses 9.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { commands, MARKER, REPO, scenario, useBuiltAction } from './support/action-scenario.ts';
import { emptyReport } from '../src/action/models/analyze-model.ts';
import { compare } from '../src/compare/compare.ts';
import { COMMENT_LIMIT, renderComment } from '../src/render/markdown.ts';
import type { LayerCall, Parameter, Report } from '../src/report/report.ts';

useBuiltAction();

/** The runner's values (test/support/action-runner.ts): GITHUB_SERVER_URL, GITHUB_RUN_ID. */
const RUN_URL = `https://github.com/${REPO}/actions/runs/4242`;
const commitUrl = (sha: string): string => `https://github.com/${REPO}/commit/${sha}`;

/** The lines of a table that starts with `header`, up to the empty line that ends it. */
function tableAfter(body: string, header: string): string[] {
  const lines = body.split('\n');
  const at = lines.indexOf(header);
  assert.ok(at >= 0, `no table ${header} in:\n${body}`);
  const end = lines.indexOf('', at);
  return lines.slice(at, end);
}

describe('action: the pull-request comment', () => {
  it('seed case 1 → 3 with the PyTorch manifest: the module table, chart, layer diff, note and links', async (t) => {
    const s = await scenario(t, {
      commits: [
        { label: 'base', model: 'examples/base.onnx' },
        { label: 'head', model: 'examples/head.onnx', branch: 'feature' },
      ],
    });
    const run = await s.run({ inputs: { 'max-growth': '5%' } });
    assert.equal(run.code, 0, run.log);
    const [comment] = s.comments();
    const body = comment!.body;
    assert.equal(run.outputs['comment-body'], body);
    // The page beside the report file, for the workflow to upload with it: the comparison of the two.
    const htmlPath = run.outputs['html-report-path']!;
    assert.equal(htmlPath, run.outputs['report-path']!.replace(/\.json$/, '.html'));
    const html = readFileSync(htmlPath, 'utf8');
    assert.match(html, /^<!doctype html>/i);
    assert.match(html, /Content-Security-Policy" content="default-src 'none'/);
    assert.match(html, /Newly shared/);
    const lines = body.split('\n');
    assert.equal(lines[0], MARKER);
    assert.match(lines[1]!, /^### paramtrace: ✅ pass: -9 unique parameters \(-50\.0%, 18 → 9\)/);

    // Not traced (the scenario's `trace: false`): a note right after the verdict, for both sides.
    assert.deepEqual(lines.slice(2, 4), ['', '> [!NOTE]']);
    assert.match(lines[4]!, /^> Not traced \(<code>trace: false<\/code>.* of both head and base are static/);

    // What changed where: conv2 stopped being used (9 → 0) while declared stayed at 18, so the
    // declared-by-module view would show nothing. conv1 holds 9 used parameters on both sides.
    assert.deepEqual(tableAfter(body, '| Module | base | head | change | % |'), [
      '| Module | base | head | change | % |',
      '| :- | -: | -: | -: | -: |',
      '| <code>conv2</code> | 9 | 0 | -9 | -100.0% |',
    ]);
    assert.match(body, /^…and 1 unchanged module\.$/m);
    // It leads: before the counts table.
    assert.ok(body.indexOf('| Module |') < body.indexOf('| Parameters |'));

    // The chart of the same rows.
    const chart = /^```mermaid\n([\s\S]*?)^```$/m.exec(body);
    assert.ok(chart, 'a Mermaid block');
    assert.deepEqual(chart[1]!.trimEnd().split('\n'), [
      'xychart-beta',
      '  title "Unique parameters by module (bars: head, line: base)"',
      '  x-axis ["conv2"]',
      '  y-axis "Parameters"',
      '  bar [0]',
      '  line [9]',
    ]);

    // The layer calls: conv1's second call is new, conv2's call is gone, conv1 is folded away unchanged.
    assert.deepEqual(tableAfter(body, '| Layer call | Type | base | head | change | |').slice(2), [
      '| <code>conv1_1</code> | <code>Conv2d</code> | - | 9 | +9 | added |',
      '| <code>conv2</code> | <code>Conv2d</code> | 9 | - | -9 | removed |',
    ]);
    const folded = body.slice(body.indexOf('<details>'), body.indexOf('</details>'));
    assert.match(folded, /<summary>1 unchanged layer call with parameters<\/summary>/);
    assert.match(folded, /^\| <code>conv1<\/code> \| <code>Conv2d<\/code> \| 9 \| 9 \|$/m);

    // Links: the run (its page has the job summary) and the commits compared, base → head.
    const { base, head } = s.repo.commits;
    assert.ok(
      lines.includes(
        `[Workflow run and job summary](${RUN_URL}) · base [<code>${base!.slice(0, 12)}</code>](${commitUrl(base!)}) (merge-base) → head [<code>${head!.slice(0, 12)}</code>](${commitUrl(head!)})`,
      ),
      body,
    );
    // Names read as they are: no entity for the `_` of conv1_1.
    assert.doesNotMatch(body, /&#95;/);

    // The job summary has the same content, without the marker and without a link to itself.
    assert.match(run.summary, /\| <code>conv2<\/code> \| 9 \| 0 \| -9 \| -100\.0% \|/);
    assert.match(
      run.summary,
      /\| <code>conv1_1<\/code> \| <code>Conv2d<\/code> \| - \| 9 \| \+9 \| added \|/,
    );
    assert.match(run.summary, new RegExp(`\\[Workflow run\\]\\(${RUN_URL}\\)`));
    assert.doesNotMatch(run.summary, /job summary\]/);
    assert.deepEqual(s.api.violations, []);
  });

  it('a trace that failed: the warning after the verdict, and static† on what only the fall-back saw', async (t) => {
    // seed case 1 → seed case 2 (graph only): conv1.weight becomes shared, read by two calls.
    const s = await scenario(t);
    const run = await s.run({ npmFails: 'always', inputs: { trace: 'true' } });
    assert.equal(run.code, 0, run.log);
    assert.match(commands(run, 'warning').join('\n'), /could not be installed/);
    const body = s.comments()[0]!.body;
    const lines = body.split('\n');
    assert.deepEqual(lines.slice(2, 4), ['', '> [!WARNING]']);
    assert.match(
      lines[4]!,
      /^> The trace failed for \*\*head\*\* and \*\*base\*\* \(onnxruntime-node .*could not be installed.*\), so the counts and findings of both head and base are static/,
    );
    assert.match(lines[4]!, /<code>input-shapes<\/code>/);
    // The warning comes before what changed where; the shared finding is marked as the fall-back's.
    assert.ok(body.indexOf('[!WARNING]') < body.indexOf('**Where it changed:**'));
    assert.match(body, /^\| <code>conv1\.weight<\/code> \| 9 \| 2 \| .* \| static† \|$/m);
    assert.match(body, /^static†: seen only by the static fall-back/m);
    // Graph only: conv2.weight is not in head's file (the exporter dropped it), so unique goes 18 → 9 in
    // module conv2, and the layer call conv2 gives way to conv1's second call.
    assert.match(body, /^\| <code>conv2<\/code> \| 9 \| 0 \| -9 \| -100\.0% \|$/m);
    assert.match(body, /^\| <code>conv1_1<\/code> \| .* \| - \| 9 \| \+9 \| added \|$/m);
  });

  it('a model that grew into a resnet block: every module and call in the diff, under the limit', async (t) => {
    const s = await scenario(t);
    const run = await s.run({ head: 'grown', inputs: { 'max-growth': '5%' } });
    assert.equal(run.code, 1, run.log);
    const body = s.comments()[0]!.body;
    assert.ok(body.length <= COMMENT_LIMIT);
    assert.match(body.split('\n')[1]!, /^### paramtrace: ❌ fail: unique parameters grew/);
    // The module rows add up to the verdict's unique counts (18 → 296, test/fixtures/resnet-block.expect.json).
    const rows = tableAfter(body, '| Module | base | head | change | % |').slice(2);
    const column = (i: number): number =>
      rows.reduce((sum, row) => sum + Number(row.split('|')[i]!.trim().replace(/,/g, '')), 0);
    const unchanged = /^…and (\d+) unchanged modules?\.$/m.exec(body);
    assert.equal(unchanged, null, 'no module of seed case 1 survives into the resnet block');
    assert.equal(column(2), 18);
    assert.equal(column(3), 296);
    assert.match(body, /^\*\*Layer calls that changed\*\*/m);
  });
});

describe('the comment: cut to fit, with a link to the rest', () => {
  // A hand-built change of 3,000 layer calls, each with a parameter of its own.
  const parameter = (name: string): Parameter => ({
    name,
    aliases: [],
    storedAs: [name],
    dtype: 'float32',
    shape: [4],
    numel: 4,
    calls: 1,
    used: true,
    trainable: null,
  });
  const call = (name: string): LayerCall => ({
    name,
    type: 'MatMul',
    opTypes: ['MatMul'],
    graph: '',
    parameters: [`${name}.weight`],
    params: 4,
    outputShapes: null,
    live: true,
    executions: 1,
  });
  const model = (names: string[]): Report => {
    const empty = emptyReport('m.onnx', 'hand-built');
    const n = names.length * 4;
    return {
      ...empty,
      parameters: names.map((x) => parameter(`${x}.weight`)),
      layers: names.map(call),
      counts: { ...empty.counts, declared: n, unique: n, summary: n, parameterBytes: n * 4 },
    };
  };
  const names = Array.from({ length: 3000 }, (_, i) => `block_${i}.proj`);
  const base = model([]);
  const head = model(names);
  const links = { run: RUN_URL, summary: RUN_URL };

  it('stays under the limit, says where the rest is and links to it, and keeps the module table', () => {
    const body = renderComment(compare(base, head, {}), {
      commentKey: 'default',
      baseReport: base,
      headReport: head,
      links,
    });
    assert.ok(body.length <= COMMENT_LIMIT, `${body.length} characters`);
    assert.match(
      body,
      new RegExp(`…and [\\d,]+ more, in the \\[job summary\\]\\(${RUN_URL}\\) and the report file\\.`),
    );
    // 3,000 new modules: the 25 largest changes (equal here: by name), then how many more.
    assert.match(body, /^…and 2,975 more changed modules\.$/m);
    assert.doesNotMatch(body, /```mermaid/, 'too many modules for a chart');

    const small = renderComment(compare(base, head, {}), {
      commentKey: 'default',
      baseReport: base,
      headReport: head,
      links,
      maxLength: 3000,
    });
    assert.ok(small.length <= 3000, `${small.length} characters`);
    assert.match(
      small,
      new RegExp(`the full report is in the \\[job summary\\]\\(${RUN_URL}\\) and the report file`),
    );
  });
});
