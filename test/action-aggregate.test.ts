// Many models, one comment and one verdict (docs/action.md#many-models): three `mode: pr` runs, one per
// model, each with its own comment key and `comment: never`, as the jobs of a matrix; their report files
// laid out as actions/download-artifact leaves them; then one `mode: aggregate` run against the loopback
// GitHub API. The bundled action is built fresh from the sources (useBuiltAction), in a real git repository.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { InputError, parseInputs } from '../src/action/inputs.ts';
import { aggregate } from '../src/compare/aggregate.ts';
import { compare } from '../src/compare/compare.ts';
import { COMMENT_LIMIT } from '../src/render/markdown.ts';
import { aggregateHeadline, renderAggregateComment } from '../src/render/aggregate-markdown.ts';
import type { ActionRun } from './support/action-runner.ts';
import { analyzeFixture, fixture, expectation } from './support/analyze-fixture.ts';
import {
  commands,
  REPO,
  ROOT,
  scenario,
  useBuiltAction,
  workflowRunEvent,
  type Scenario,
} from './support/action-scenario.ts';
import { READ_ONLY_TOKEN } from './support/github-api-server.ts';

useBuiltAction();

const AGGREGATE_MARKER = '<!-- paramtrace:comment-key=aggregate -->';
const bytes = (name: string) => readFileSync(fixture(`${name}.onnx`));

/**
 * Three models in one repository. vision: seed case 1 → 2 (shrinks); text: seed case 1 both sides
 * (unchanged); audio: seed case 2 → the resnet block (grows far past 5%).
 */
const MODELS = {
  vision: ['seed-case-1', 'seed-case-2'],
  text: ['seed-case-1', 'seed-case-1'],
  audio: ['seed-case-2', 'resnet-block'],
} as const;
type Key = keyof typeof MODELS;
const KEYS = Object.keys(MODELS) as Key[];
/** The unique count of each fixture, from its expectation file (not from paramtrace's output). */
const unique = (name: string) => expectation(name).graph.unique;

async function threeModels(t: TestContext, options: { fork?: boolean } = {}): Promise<Scenario> {
  const side = (i: 0 | 1) =>
    Object.fromEntries(KEYS.map((k) => [`${k}.onnx`, bytes(MODELS[k][i])])) as Record<string, Uint8Array>;
  return scenario(t, {
    fork: options.fork,
    commits: [
      { label: 'base', model: null, files: side(0) },
      { label: 'head', model: null, branch: 'feature', files: side(1) },
    ],
  });
}

/** The matrix: one `mode: pr` run per model; each posts nothing and writes its report file. */
async function matrix(s: Scenario, token?: string): Promise<Record<Key, ActionRun>> {
  const runs = {} as Record<Key, ActionRun>;
  for (const key of KEYS) {
    const run = await s.run({
      token,
      inputs: { model: `${key}.onnx`, build: '', 'comment-key': key, comment: 'never' },
    });
    assert.equal(run.code, 0, run.log);
    assert.match(run.outputs['report-path']!, new RegExp(`paramtrace-report-${key}\\.json$`));
    runs[key] = run;
  }
  return runs;
}

/** actions/download-artifact without `name`: one folder per artifact, named as upload-artifact named it. */
function downloadLayout(t: TestContext, runs: Partial<Record<Key, ActionRun>>): string {
  const workspace = mkdtempSync(join(tmpdir(), 'paramtrace-aggregate-'));
  t.after(() => rmSync(workspace, { recursive: true, force: true }));
  for (const [key, run] of Object.entries(runs)) {
    const folder = join(workspace, 'reports', `paramtrace-report-${key}`);
    mkdirSync(folder, { recursive: true });
    writeFileSync(join(folder, `paramtrace-report-${key}.json`), readFileSync(run.outputs['report-path']!));
  }
  return workspace;
}

function aggregateRun(s: Scenario, workspace: string, inputs: Record<string, string> = {}) {
  return s.run({
    workspace,
    inputs: {
      mode: 'aggregate',
      model: '',
      build: '',
      reports: 'reports/*/paramtrace-report*.json',
      'commit-status': 'true',
      ...inputs,
    },
  });
}

describe('action: mode aggregate', () => {
  it('three models in a matrix get one comment and one status; a second run updates them', async (t) => {
    const s = await threeModels(t);
    const runs = await matrix(s);
    assert.equal(s.comments().length, 0, 'the matrix jobs post no comment');
    assert.deepEqual(s.api.state.statusesFor(REPO, s.repo.commits.head!), [], 'nor a status');

    const workspace = downloadLayout(t, runs);
    const first = await aggregateRun(s, workspace, { 'max-growth': '5%' });
    assert.equal(first.code, 1, first.log);
    assert.equal(first.outputs.verdict, 'fail');
    assert.equal(first.outputs['failed-keys'], 'audio');
    assert.equal(first.outputs['comment-action'], 'created');
    assert.equal(first.outputs['pull-request'], '7');
    assert.match(commands(first, 'error').join('\n'), /1 of 3 models failed \(audio\)/);
    assert.equal(first.outputs['verdict-headline'], '❌ fail: 1 of 3 models failed (audio)');
    // Every output the run sets is declared in action.yml.
    const yml = readFileSync(join(ROOT, 'action.yml'), 'utf8');
    const outputs = yml.slice(yml.indexOf('\noutputs:\n'), yml.indexOf('\nruns:\n'));
    const declared = new Set([...outputs.matchAll(/^ {2}([a-z-]+):$/gm)].map((m) => m[1]!));
    for (const name of Object.keys(first.outputs))
      assert.ok(declared.has(name), `output '${name}' is not in action.yml`);

    const comments = s.comments();
    assert.equal(comments.length, 1, 'one comment for all three models');
    const body = comments[0]!.body;
    assert.ok(body.startsWith(`${AGGREGATE_MARKER}\n`), body.slice(0, 200));
    assert.equal(first.outputs['comment-body'], body);
    assert.ok(body.length <= COMMENT_LIMIT);
    // One table row per model: its key, the watched count base → head and the change.
    for (const key of KEYS) {
      const [base, head] = MODELS[key].map(unique) as [number, number];
      const row = body.split('\n').find((l) => l.startsWith(`| <code>${key}</code> |`));
      assert.ok(row, `no row for ${key}`);
      assert.ok(row.includes(`| ${base} → ${head} |`), row);
      assert.ok(row.includes(key === 'audio' ? '❌' : '✅ pass'), row);
      // Each model's own report follows, folded, without its own marker.
      assert.match(body, new RegExp(`<details( open)?><summary>[✅❌] <code>${key}</code>`));
      assert.ok(!body.includes(`paramtrace:comment-key=${key}`), `${key}'s marker is not in the comment`);
    }
    assert.match(body, /<details open><summary>❌ <code>audio<\/code>: fail/, 'the failing model is open');
    assert.match(body, /\| <code>audio<\/code> \|.*unique parameters grew .*more than the 5% allowed/);
    // The shared parameter seed case 2 introduces shows in vision's section.
    assert.match(body, /conv1\.weight/);

    const statuses = s.api.state.statusesFor(REPO, s.repo.commits.head!);
    assert.deepEqual(
      statuses.map((x) => [x.context, x.state]),
      [['paramtrace/aggregate', 'failure']],
    );
    assert.match(statuses[0]!.description ?? '', /audio/);

    // The job summary: the same verdict and table, and each model's report in full.
    assert.ok(first.summary.startsWith('### paramtrace: ❌ fail'), first.summary.slice(0, 200));
    assert.doesNotMatch(first.summary, /paramtrace:comment-key/);
    for (const key of KEYS) assert.match(first.summary, new RegExp(`#### Model <code>${key}</code>`));

    // The combined report file: the verdict and every model's comparison as this step recomputed it.
    const report = JSON.parse(readFileSync(first.outputs['report-path']!, 'utf8'));
    assert.equal(report.kind, 'paramtrace-aggregate');
    assert.equal(report.pullRequest.number, 7);
    assert.deepEqual(report.verdict.failed, ['audio']);
    assert.deepEqual(
      report.models.map((m: { commentKey: string }) => m.commentKey),
      ['audio', 'text', 'vision'],
    );
    const audio = report.models.find((m: { commentKey: string }) => m.commentKey === 'audio');
    assert.equal(audio.comparison.thresholds.maxGrowthPercent, 5, "the aggregate step's thresholds");
    assert.equal(audio.file, 'reports/paramtrace-report-audio/paramtrace-report-audio.json');

    // The same reports without the limit: everything passes, and the one comment is updated.
    const second = await aggregateRun(s, workspace);
    assert.equal(second.code, 0, second.log);
    assert.equal(second.outputs.verdict, 'pass');
    assert.equal(second.outputs['failed-keys'], '');
    assert.equal(second.outputs['comment-action'], 'updated');
    const after = s.comments();
    assert.equal(after.length, 1, 'updated, not duplicated');
    assert.equal(after[0]!.id, comments[0]!.id);
    const total = KEYS.map((k) => unique(MODELS[k][1]) - unique(MODELS[k][0])).reduce((a, b) => a + b);
    assert.match(
      after[0]!.body,
      new RegExp(`### paramtrace: ✅ pass: 3 models; \\+${total} unique parameters`),
    );
    assert.deepEqual(
      s.api.state.statusesFor(REPO, s.repo.commits.head!).map((x) => [x.context, x.state]),
      [
        ['paramtrace/aggregate', 'success'],
        ['paramtrace/aggregate', 'failure'],
      ],
    );
    assert.deepEqual(s.api.violations, []);
  });

  it('a directory is searched for report files; expected-keys fails the verdict for a model without one', async (t) => {
    const s = await threeModels(t);
    const runs = await matrix(s);
    const workspace = downloadLayout(t, { vision: runs.vision, text: runs.text });
    const run = await aggregateRun(s, workspace, {
      reports: 'reports',
      'expected-keys': 'vision, text\naudio',
    });
    assert.equal(run.code, 1, run.log);
    assert.equal(run.outputs.verdict, 'fail');
    assert.equal(run.outputs['failed-keys'], 'audio');
    assert.match(commands(run, 'error').join('\n'), /no report for audio/);
    const body = s.comments()[0]!.body;
    assert.match(body, /\| <code>audio<\/code> \| - \| - \|.*no report/);
    assert.match(body, /\| <code>vision<\/code> \|/);
    assert.deepEqual(
      s.api.state.statusesFor(REPO, s.repo.commits.head!).map((x) => x.state),
      ['failure'],
    );
  });

  it('refuses what it cannot trust, naming the file, posts no comment and fails the status', async (t) => {
    const s = await threeModels(t);
    const runs = await matrix(s);
    const good = JSON.parse(readFileSync(runs.text.outputs['report-path']!, 'utf8'));
    const textFile = 'reports/paramtrace-report-text/paramtrace-report-text.json';
    const cases: [string, (dir: string) => void, RegExp][] = [
      ['no reports at all', (dir) => mkdirSync(join(dir, 'reports')), /no report files found at 'reports\//],
      [
        'a report of another pull request',
        (dir) =>
          writeFileSync(
            join(dir, textFile),
            JSON.stringify({ ...good, pullRequest: { ...good.pullRequest, number: 8 } }),
          ),
        /refusing the report file reports\/paramtrace-report-text\/paramtrace-report-text\.json: it is the report of pull request #8 .* but this run is for pull request #7/,
      ],
      [
        'a report of another commit',
        (dir) =>
          writeFileSync(
            join(dir, textFile),
            JSON.stringify({ ...good, pullRequest: { ...good.pullRequest, headSha: s.repo.commits.base } }),
          ),
        new RegExp(`paramtrace-report-text\\.json: .*at commit ${s.repo.commits.base}`),
      ],
      [
        'a malformed report',
        (dir) => writeFileSync(join(dir, textFile), '{"kind": "paramtrace-run", '),
        /refusing the report file reports\/paramtrace-report-text\/paramtrace-report-text\.json: not valid JSON/,
      ],
      [
        'a report that breaks the schema',
        (dir) =>
          writeFileSync(
            join(dir, textFile),
            JSON.stringify({ ...good, head: { ...good.head, counts: 'many' } }),
          ),
        /refusing the report file reports\/paramtrace-report-text\/paramtrace-report-text\.json: not a valid paramtrace report bundle: at \.head\.counts/,
      ],
      [
        'two reports with one key',
        (dir) => {
          mkdirSync(join(dir, 'reports/copy'));
          writeFileSync(join(dir, 'reports/copy/paramtrace-report-text.json'), JSON.stringify(good));
        },
        /two report files for the comment key 'text'/,
      ],
    ];
    for (const [what, damage, expected] of cases) {
      const workspace = downloadLayout(t, what === 'no reports at all' ? {} : runs);
      damage(workspace);
      const run = await aggregateRun(s, workspace);
      assert.equal(run.code, 1, `${what}: ${run.log}`);
      const error = commands(run, 'error').join('\n');
      assert.match(error, expected, `${what}: ${error}`);
      assert.match(
        error,
        /the commit status 'paramtrace\/aggregate' on [0-9a-f]{12} is set to failure/,
        what,
      );
      assert.doesNotMatch(run.log, /internal error|\n\s+at /, `${what}: no stack trace`);
    }
    assert.equal(s.comments().length, 0);
    // Nothing to aggregate, and the required check says so instead of waiting (commit-status: true).
    const statuses = s.api.state.statusesFor(REPO, s.repo.commits.head!);
    assert.deepEqual(
      statuses.map((x) => [x.context, x.state]),
      Array(cases.length).fill(['paramtrace/aggregate', 'failure']),
    );
    assert.doesNotMatch(statuses[0]!.description ?? '', /text/, 'nothing from the reports in the status');

    const quiet = await aggregateRun(s, downloadLayout(t, {}), { 'commit-status': 'false' });
    assert.equal(quiet.code, 1);
    assert.match(commands(quiet, 'error').join('\n'), /no commit status set \(commit-status is false\)/);
    assert.equal(s.api.state.statusesFor(REPO, s.repo.commits.head!).length, cases.length);
  });

  it('fork-safe: after a matrix of a fork, a workflow_run aggregate posts one comment, checked with GitHub', async (t) => {
    const s = await threeModels(t, { fork: true });
    const runs = await matrix(s, READ_ONLY_TOKEN);
    assert.equal(s.comments().length, 0);
    const event = workflowRunEvent(s);
    const workspace = downloadLayout(t, runs);
    const run = await s.run({
      workspace,
      eventName: 'workflow_run',
      event,
      inputs: { mode: 'aggregate', model: '', build: '', reports: 'reports', 'commit-status': 'true' },
    });
    assert.equal(run.code, 0, run.log);
    assert.equal(run.outputs['pull-request'], '7');
    assert.equal(run.outputs['comment-action'], 'created');
    assert.equal(s.comments().length, 1);
    // The report artifacts are on the page of the followed run.
    assert.match(s.comments()[0]!.body, /https:\/\/github\.com\/octo-org\/models\/actions\/runs\/99/);
    assert.ok(
      s.api.requests.some((r) => r.route === 'GET /repos/{owner}/{repo}/commits/{commit_sha}/pulls'),
      'the pull request was found by the head sha, not taken from the reports',
    );
    assert.deepEqual(
      s.api.state.statusesFor(REPO, s.repo.commits.head!).map((x) => [x.context, x.state]),
      [['paramtrace/aggregate', 'success']],
    );

    // Reports that disagree on the pull request are refused.
    const other = 'reports/paramtrace-report-vision/paramtrace-report-vision.json';
    const bundle = JSON.parse(readFileSync(join(workspace, other), 'utf8'));
    writeFileSync(
      join(workspace, other),
      JSON.stringify({ ...bundle, pullRequest: { ...bundle.pullRequest, number: 8 } }),
    );
    const refused = await s.run({
      workspace,
      eventName: 'workflow_run',
      event,
      inputs: { mode: 'aggregate', model: '', build: '', reports: 'reports', 'commit-status': 'true' },
    });
    assert.equal(refused.code, 1);
    assert.match(
      commands(refused, 'error').join('\n'),
      /paramtrace-report-vision\.json: it is the report of pull request #8 .* but this run is for pull request #7/,
    );
    assert.equal(s.comments().length, 1);
    assert.deepEqual(s.api.violations, []);
  });

  it('needs a pull_request event and the reports input', async (t) => {
    const s = await threeModels(t);
    const workspace = downloadLayout(t, {});
    const noInput = await aggregateRun(s, workspace, { reports: '' });
    assert.equal(noInput.code, 1);
    assert.match(commands(noInput, 'error').join('\n'), /input 'reports' is required in mode 'aggregate'/);
    const push = await s.run({
      workspace,
      eventName: 'push',
      event: { ref: 'refs/heads/main' },
      inputs: { mode: 'aggregate', model: '', build: '', reports: 'reports' },
    });
    assert.equal(push.code, 1);
    assert.match(
      commands(push, 'error').join('\n'),
      /mode: aggregate runs on a pull_request event .* or on workflow_run/,
    );
  });
});

describe('aggregate: the verdict and the comment, as data', () => {
  it('passes only when every model passes, and sums the watched count', async () => {
    const [one, two, block] = await Promise.all(
      ['seed-case-1', 'seed-case-2', 'resnet-block'].map((n) => analyzeFixture(n)),
    );
    const limit = { maxGrowthPercent: 5 };
    const a = aggregate([
      { key: 'b', comparison: compare(one!, two!, limit) },
      { key: 'a', comparison: compare(two!, block!, limit) },
    ]);
    assert.equal(a.pass, false);
    assert.deepEqual(a.failed, ['a']);
    assert.deepEqual(
      a.models.map((m) => m.key),
      ['a', 'b'],
      'by key',
    );
    const u = (n: string) => expectation(n).graph.unique;
    assert.deepEqual(a.total, {
      base: u('seed-case-2') + u('seed-case-1'),
      head: u('resnet-block') + u('seed-case-2'),
      delta: u('resnet-block') + u('seed-case-2') - u('seed-case-2') - u('seed-case-1'),
    });
    assert.match(aggregateHeadline(a), /^❌ fail: 1 of 2 models failed \(a\)$/);
    const passing = aggregate([{ key: 'b', comparison: compare(one!, two!, limit) }], {
      expected: ['b', 'c'],
    });
    assert.equal(passing.pass, false, 'an expected model without a report fails');
    assert.deepEqual(passing.missing, ['c']);
    assert.throws(() => aggregate([]), /no models/);
    assert.throws(
      () =>
        aggregate([
          { key: 'a', comparison: compare(one!, two!) },
          { key: 'a', comparison: compare(one!, two!) },
        ]),
      /two models with the key 'a'/,
    );
  });

  it("stays under GitHub's limit with many models: passing models' sections are left out first, saying so", async () => {
    const [two, block] = await Promise.all(['seed-case-2', 'resnet-block'].map((n) => analyzeFixture(n)));
    const grows = compare(two!, block!, { maxGrowthPercent: 5 });
    const same = compare(block!, block!, { maxGrowthPercent: 5 });
    const models = Array.from({ length: 60 }, (_, i) => ({
      key: `model-${String(i).padStart(2, '0')}`,
      comparison: i === 42 ? grows : same,
    }));
    const a = aggregate(models);
    const details = new Map(
      models.map((m) => [m.key, { headReport: block!, baseReport: m.comparison === grows ? two! : block! }]),
    );
    const full = renderAggregateComment(a, {
      commentKey: 'aggregate',
      details,
      maxLength: 10 * COMMENT_LIMIT,
    });
    assert.ok(full.length > COMMENT_LIMIT, `the test needs more than fits: ${full.length}`);
    const body = renderAggregateComment(a, { commentKey: 'aggregate', details });
    assert.ok(body.length <= COMMENT_LIMIT, `${body.length}`);
    for (const m of models) assert.ok(body.includes(`| <code>${m.key}</code> |`), `row of ${m.key}`);
    assert.match(body, /<details open><summary>❌ <code>model-42<\/code>/, 'the failing section is kept');
    const note = /_The reports of (.*) are left out to fit GitHub's limit of 65,536 characters/.exec(body);
    assert.ok(note, 'says which sections were left out');
    assert.ok(!note[1]!.includes('model-42'));
    const shown = [...body.matchAll(/<summary>[✅❌] <code>(model-\d+)<\/code>/g)].map((m) => m[1]);
    const left = [...note[1]!.matchAll(/<code>(model-\d+)<\/code>/g)].map((m) => m[1]);
    assert.equal(
      shown.length + left.length,
      models.length,
      'every model is either shown or named as left out',
    );
  });
});

describe('aggregate: inputs', () => {
  const inputs = (values: Record<string, string>) => parseInputs((name) => values[name] ?? '');
  it('needs reports, not a model, and defaults its comment key to aggregate', () => {
    const i = inputs({ mode: 'aggregate', reports: 'reports', 'expected-keys': 'a, b\nc a' });
    assert.equal(i.mode, 'aggregate');
    assert.equal(i.commentKey, 'aggregate');
    assert.equal(i.reports, 'reports');
    assert.deepEqual(i.expectedKeys, ['a', 'b', 'c']);
    assert.equal(inputs({ mode: 'aggregate', reports: 'r', 'comment-key': 'models' }).commentKey, 'models');
    assert.equal(inputs({ model: 'm' }).commentKey, 'default', 'other modes keep theirs');
    for (const [values, message] of [
      [{ mode: 'aggregate' }, /'reports' is required in mode 'aggregate'/],
      [
        { mode: 'aggregate', reports: 'r', 'expected-keys': 'ok a-->b' },
        /'expected-keys': 'a-->b' is not a comment key/,
      ],
    ] as const) {
      assert.throws(
        () => inputs(values),
        (e: Error) => e instanceof InputError && message.test(e.message),
      );
    }
  });
});
