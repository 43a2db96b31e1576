// Issue 15, item 7 ("Smaller"), end to end against the loopback API (test/support/action-scenario.ts):
// a 429 (or a 403 with retry-after) is retried whatever its message says; a report whose totals disagree
// with its own lists is refused; a thousand notes do not push the footer out of the comment; a download
// of the baseline artifact that hangs gives up after `api-timeout`, not after a minute.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { tempDir } from './support/temp-dir.ts';
import { strToU8, zipSync } from 'fflate';
import {
  commands,
  MARKER,
  REPO,
  scenario,
  postInputs,
  useBuiltAction,
  workflowRunEvent,
  type Scenario,
} from './support/action-scenario.ts';
import { FIXTURES } from './support/analyze-fixture.ts';
import { READ_ONLY_TOKEN, WRITE_TOKEN } from './support/github-api-server.ts';
import { analyze } from '../src/analysis/analyze.ts';
import { MANIFEST_FORMAT, type ManifestTensor } from '../src/analysis/manifest.ts';
import { downloadArtifactZip } from '../src/github/artifacts.ts';
import { readModel } from '../src/onnx/read-model.ts';
import { TensorReader } from '../src/onnx/tensor-bytes.ts';
import { apiFailure } from '../src/github/errors.ts';
import { createClient, markSecondaryRateLimit } from '../src/github/octokit.ts';
import { analyzeFile } from '../src/pipeline/analyze-file.ts';
import { parseBaseline, UntrustedInputError } from '../src/action/untrusted/read-bundle.ts';
import type { Report } from '../src/report/report.ts';
import type { TraceOptions } from '../src/trace/options.ts';

useBuiltAction();

const CREATE = 'POST /repos/{owner}/{repo}/issues/{issue_number}/comments' as const;
const STATUS = 'POST /repos/{owner}/{repo}/statuses/{sha}' as const;

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- tampering with arbitrary JSON
type Json = any;

/** The fork-safe pair's second half: `mode: post` on the bundle `bundle`, in an artifact directory. */
async function post(t: TestContext, s: Scenario, bundle: unknown, inputs: Record<string, string> = {}) {
  const artifact = tempDir(t, 'paramtrace-artifact-');
  writeFileSync(join(artifact, 'paramtrace-report.json'), JSON.stringify(bundle));
  return s.run({
    workspace: artifact,
    eventName: 'workflow_run',
    event: workflowRunEvent(s),
    inputs: postInputs(artifact, inputs),
  });
}

/** The report bundle a fork's `mode: pr` run writes (read-only token, no comment). */
async function prBundle(s: Scenario): Promise<Json> {
  const pr = await s.run({ token: READ_ONLY_TOKEN, inputs: { comment: 'never', baseline: 'rebuild' } });
  assert.equal(pr.code, 0, pr.log);
  return JSON.parse(readFileSync(pr.outputs['report-path']!, 'utf8'));
}

describe('action: a 429 or a 403 with retry-after, whatever its message', () => {
  it('is retried after retry-after, as a secondary rate limit', async (t) => {
    const s = await scenario(t);
    s.api.faults.inject(CREATE, {
      type: 'secondary-rate-limit',
      status: 429,
      retryAfterSeconds: 1,
      message: 'Too Many Requests',
    });
    s.api.faults.inject(STATUS, {
      type: 'secondary-rate-limit',
      status: 403,
      retryAfterSeconds: 1,
      message: 'Forbidden',
    });
    const run = await s.run({ inputs: { 'commit-status': 'true', baseline: 'rebuild' } });
    assert.equal(run.code, 0, run.log);
    assert.equal(commands(run, 'warning').length, 0, run.log);
    assert.equal(s.comments().length, 1);
    assert.equal(run.outputs['comment-action'], 'created');
    assert.equal(s.api.state.statusesFor(REPO, s.repo.commits.head!).length, 1);
    const faults = s.api.requests.filter((r) => r.fault).map((r) => `${r.route} ${r.status}`);
    assert.deepEqual(faults.sort(), [`${CREATE} 429`, `${STATUS} 403`].sort());
    // Each was retried by the client, after retry-after, not given up on and created again by the caller.
    assert.equal(s.api.requests.filter((r) => r.route === CREATE).length, 2);
    assert.equal(s.api.requests.filter((r) => r.route === STATUS).length, 2);
    const retries = run.log.match(/secondary rate limit on (POST|GET) \S+; retrying after 1 s/g) ?? [];
    assert.equal(retries.length, 2, run.log);
    assert.deepEqual(s.api.violations, []);
  });

  it('is marked for the throttling plugin, an HTTP-date retry-after in seconds; a plain 403 is not', () => {
    const error = (status: number, message: string, headers: Record<string, string>) => ({
      status,
      message,
      response: { headers: { ...headers } },
    });
    const tooMany = error(429, 'Too Many Requests', { 'retry-after': '2' });
    markSecondaryRateLimit(tooMany);
    assert.match(tooMany.message, /secondary rate limit/);
    assert.equal(tooMany.response.headers['retry-after'], '2');
    const dated = error(403, 'Forbidden', {
      'retry-after': new Date(Date.now() + 5000).toUTCString(),
    });
    markSecondaryRateLimit(dated);
    assert.match(dated.message, /secondary rate limit/);
    assert.ok(
      ['4', '5'].includes(dated.response.headers['retry-after']!),
      dated.response.headers['retry-after'],
    );
    const denied = error(403, 'Resource not accessible by integration', {});
    markSecondaryRateLimit(denied);
    assert.equal(denied.message, 'Resource not accessible by integration');
    const primary = error(403, 'API rate limit exceeded', {
      'x-ratelimit-remaining': '0',
      'retry-after': '9',
    });
    markSecondaryRateLimit(primary);
    assert.equal(primary.message, 'API rate limit exceeded', 'a primary rate limit waits for its reset');
    assert.equal(apiFailure(error(429, 'Too Many Requests', {})).kind, 'rate-limited');
    assert.equal(apiFailure(denied).kind, 'forbidden');
  });
});

/**
 * seed-case-1 with a hand-made manifest: conv1.weight trainable, conv2.weight frozen, a buffer and a
 * declared parameter the graph lacks (not exported, unused): every count of a manifest report is in play.
 */
function manifestReport(): Report {
  const model = readModel(join(FIXTURES, 'seed-case-1.onnx'));
  const reader = new TensorReader(model);
  try {
    const fingerprint = (name: string) =>
      `sha256:${reader.fingerprint(model.graph.initializers.find((t) => t.name === name)!)}`;
    const entry = (
      name: string,
      shape: number[],
      requiresGrad: boolean,
      kind: 'parameter' | 'buffer',
      print: string,
    ): ManifestTensor => ({
      name,
      aliases: [],
      kind,
      shape,
      dtype: 'float32',
      numel: shape.reduce((a, b) => a * b, 1),
      requiresGrad,
      fingerprint: print,
      module: name.slice(0, name.lastIndexOf('.')),
      moduleClass: 'Conv2d',
    });
    const report = analyze({
      model,
      content: reader,
      manifest: {
        format: MANIFEST_FORMAT,
        torchVersion: 'test',
        exporter: 'none',
        opset: null,
        exportSettings: {},
        altered: [],
        modelClass: 'SeedCase1',
        tensors: [
          entry('conv1.weight', [1, 1, 3, 3], true, 'parameter', fingerprint('conv1.weight')),
          entry('conv2.weight', [1, 1, 3, 3], false, 'parameter', fingerprint('conv2.weight')),
          entry('bn.running_mean', [4], false, 'buffer', 'sha256:00'),
          entry('head.weight', [5], true, 'parameter', 'sha256:11'),
        ],
      },
    });
    return JSON.parse(JSON.stringify(report)) as Report;
  } finally {
    reader.close();
  }
}

describe('action: a report whose totals disagree with its own lists', () => {
  it('every report the analysis writes passes the check, static and traced', async () => {
    const files: string[] = [];
    const walk = (dir: string) => {
      for (const e of readdirSync(dir, { withFileTypes: true })) {
        if (e.isDirectory()) walk(join(dir, e.name));
        else if (e.name.endsWith('.onnx')) files.push(join(dir, e.name));
      }
    };
    walk(FIXTURES);
    assert.ok(files.length > 30, `${files.length} fixtures`);
    // Traced too: the fixtures with control flow (summary is checked exactly when traced) and with a manifest.
    const traced = /if|loop|scan|dynamo\/(frozen-backbone|albert-shared|lstm)|tied/;
    let checked = 0;
    for (const file of files) {
      const name = relative(FIXTURES, file);
      const options: (TraceOptions | false)[] = traced.test(name) ? [false, { device: 'cpu' }] : [false];
      for (const trace of options) {
        const report = await analyzeFile(file, { trace });
        const read = parseBaseline(JSON.stringify(report), name).report;
        assert.deepEqual(read.counts, report.counts, name);
        checked++;
      }
    }
    assert.ok(checked > files.length);
    const manifest = manifestReport();
    assert.equal(manifest.source, 'manifest');
    assert.deepEqual(parseBaseline(JSON.stringify(manifest), 'manifest').report.counts, manifest.counts);
  });

  it('refuses each lying count, naming it, what it claims and what the lists add up to', async () => {
    const good = manifestReport();
    assert.deepEqual(good.counts, {
      declared: 23,
      unique: 18,
      summary: 18,
      trainable: 14,
      frozen: 9,
      buffers: 4,
      parameterBytes: 92,
    });
    const graph: Report = JSON.parse(
      JSON.stringify(await analyzeFile(join(FIXTURES, 'if-branches.onnx'), { trace: false })),
    );
    const c = good.counts;
    const cases: [string, Report, (r: Json) => void, RegExp][] = [
      [
        'declared',
        good,
        (r) => (r.counts.declared += 1),
        new RegExp(`counts\\.declared: .*claims ${c.declared + 1}.* ${c.declared}`),
      ],
      [
        'unique',
        good,
        (r) => (r.counts.unique = 1),
        new RegExp(`counts\\.unique: .*claims 1, .* ${c.unique}`),
      ],
      [
        'summary',
        good,
        (r) => (r.counts.summary *= 2),
        new RegExp(`counts\\.summary: .*claims ${c.summary * 2}, .* ${c.summary}`),
      ],
      ['trainable', good, (r) => (r.counts.trainable = 23), /counts\.trainable: .*claims 23, .* 14/],
      ['frozen', good, (r) => (r.counts.frozen = 0), /counts\.frozen: .*claims 0, .* 9/],
      ['trainable null alone', good, (r) => (r.counts.trainable = null), /trainable and frozen/],
      ['buffers', good, (r) => (r.counts.buffers = 0), /counts\.buffers: .*claims 0, .* 4/],
      [
        'parameterBytes',
        good,
        (r) => (r.counts.parameterBytes = 88),
        /counts\.parameterBytes: .*claims 88, .* 92/,
      ],
      [
        'bytes by dtype',
        good,
        (r) => (r.bytesByDtype.float32 = 1),
        /bytesByDtype: .*claims 1 bytes of float32/,
      ],
      ['a parameter dropped', good, (r) => r.parameters.pop(), /counts\.declared/],
      [
        'summary of a static report with If branches, out of its bounds',
        graph,
        (r) => (r.counts.summary = 10 ** 9),
        /counts\.summary: .*claims 1000000000.* bounds it to/,
      ],
    ];
    for (const [what, report, tamper, expected] of cases) {
      const r = structuredClone(report) as Json;
      tamper(r);
      assert.throws(
        () => parseBaseline(JSON.stringify(r), 'base.json'),
        (e: Error) => e instanceof UntrustedInputError && expected.test(e.message),
        what,
      );
    }
  });

  it('mode: post refuses the artifact; baseline: auto refuses the baseline artifact and rebuilds', async (t) => {
    const s = await scenario(t, { fork: true });
    const bundle = await prBundle(s);
    const lying = structuredClone(bundle);
    lying.head.counts.unique = 1;
    const refused = await post(t, s, lying);
    assert.equal(refused.code, 1, refused.log);
    const error = commands(refused, 'error').join('\n');
    assert.match(
      error,
      /refusing the report artifact: .*head\.counts\.unique: the report claims 1, but its used parameters add up to 9/,
    );
    assert.equal(s.comments().length, 0);
    assert.deepEqual(
      s.api.state.statusesFor(REPO, s.repo.commits.head!).map((x) => x.state),
      ['failure'],
    );

    const baseline = await s.baseline();
    assert.equal(baseline.code, 0, baseline.log);
    const good = JSON.parse(readFileSync(baseline.outputs['report-path']!, 'utf8'));
    good.head.counts.unique = 1; // the base then seems to have grown nothing
    s.api.state.addArtifact(REPO, 601, {
      name: 'paramtrace-baseline',
      headSha: s.repo.commits.base!,
      content: zipSync({ 'paramtrace-report.json': strToU8(JSON.stringify(good)) }),
    });
    const pr = await s.run({ inputs: { comment: 'never' } });
    assert.equal(pr.code, 0, pr.log);
    assert.match(
      commands(pr, 'warning').join('\n'),
      /refusing artifact 'paramtrace-baseline' .*head\.counts\.unique: the report claims 1, but its used parameters add up to 18.*Rebuilding the base instead/,
    );
    assert.match(pr.log, /build base/);
    assert.equal(pr.outputs['base-unique'], '18');
    assert.deepEqual(s.api.violations, []);
  });
});

describe('action: a thousand notes in the artifact', () => {
  it('are cut to a few, and the verdict and the footer stay in the comment', async (t) => {
    const s = await scenario(t, { fork: true });
    const bundle = await prBundle(s);
    bundle.notes = Array.from({ length: 1000 }, (_, i) => `note ${i}: ${'<&>|'.repeat(70)}`);
    const run = await post(t, s, bundle);
    assert.equal(run.code, 0, run.log);
    const [comment] = s.comments();
    assert.ok(comment, 'a comment was posted');
    assert.ok(comment.body.startsWith(MARKER));
    assert.ok(comment.body.length <= 65_536, `${comment.body.length} characters`);
    assert.match(comment.body, /^### paramtrace: ✅ pass/m);
    const footer = comment.body.trimEnd().split('\n').at(-1)!;
    assert.match(footer, /^<sub>paramtrace · /);
    assert.ok(footer.endsWith('</sub>'), footer);
    // The commits and the runs are linked on the line above the footer.
    const links = comment.body.trimEnd().split('\n').at(-3)!;
    assert.ok(links.includes(`head [<code>${s.repo.commits.head!.slice(0, 12)}</code>](`), links);
    assert.ok(links.includes(`base [<code>${s.repo.commits.base!.slice(0, 12)}</code>](`), links);
    assert.match(
      links,
      /^\[Workflow run and job summary\]\(.*\[Report artifact\]\(https:\/\/github\.com\/octo-org\/models\/actions\/runs\/99\)/,
    );
    assert.match(footer, /note 0&#58; &lt;&amp;&gt;&#124;/, 'the first notes are shown, escaped');
    const shown = footer.match(/note \d+&#58;/g)!.length;
    assert.ok(shown >= 1 && shown <= 10, `${shown} notes shown`);
    assert.match(
      footer,
      new RegExp(`… and ${(1000 - shown).toLocaleString('en-US')} more notes, in the report file`),
    );
    // The report file keeps them all.
    const written = JSON.parse(readFileSync(run.outputs['report-path']!, 'utf8'));
    assert.equal(written.notes.length, 1000);

    // More than the schema's bound (1000) is refused, clearly.
    bundle.notes.push('one too many');
    const refused = await post(t, s, bundle);
    assert.equal(refused.code, 1, refused.log);
    assert.match(
      commands(refused, 'error').join('\n'),
      /refusing the report artifact: .*at \.notes: array longer than 1000 items/,
    );
    assert.deepEqual(s.api.violations, []);
  });
});

describe('action: a baseline artifact download that hangs', () => {
  it('gives up after api-timeout, says so, and rebuilds the base', async (t) => {
    const s = await scenario(t);
    const baseline = await s.baseline();
    assert.equal(baseline.code, 0, baseline.log);
    s.api.state.addArtifact(REPO, 701, {
      name: 'paramtrace-baseline',
      headSha: s.repo.commits.base!,
      content: zipSync({
        'paramtrace-report.json': new Uint8Array(readFileSync(baseline.outputs['report-path']!)),
      }),
    });
    s.api.faults.injectDownload({ type: 'hang' });
    const started = Date.now();
    const run = await s.run({ inputs: { 'api-timeout': '3', comment: 'never' } });
    const seconds = (Date.now() - started) / 1000;
    assert.equal(run.code, 0, run.log);
    assert.match(
      commands(run, 'warning').join('\n'),
      /could not download artifact 'paramtrace-baseline' .*no answer within 3 s \(the API timeout, `api-timeout`\).*Rebuilding the base instead/,
    );
    assert.match(run.log, /build base/);
    assert.equal(run.outputs['base-unique'], '18');
    const download = s.api.requests.find((r) => r.path.startsWith('/_artifact-downloads/'));
    assert.equal(download?.fault, 'hang');
    // The setting is honoured: well under the minute the download used to take whatever it said.
    assert.ok(seconds >= 3 && seconds < 15, `the run took ${seconds} s`);
    assert.deepEqual(s.api.violations, []);
  });

  it('a download that stalls, or trickles on and on, is bounded too', async (t) => {
    const s = await scenario(t);
    const content = zipSync({
      'paramtrace-report.json': strToU8(JSON.stringify({ padding: 'x'.repeat(200) })),
    });
    const artifact = s.api.state.addArtifact(REPO, 801, { name: 'paramtrace-baseline', content });
    const client = createClient({
      token: WRITE_TOKEN,
      baseUrl: s.api.url,
      log: { debug() {}, info() {}, warn() {} },
    });
    const repo = { owner: 'octo-org', repo: 'models' };
    const download = (o: { timeoutMs: number; totalTimeoutMs?: number }) =>
      downloadArtifactZip(client, repo, artifact.id, { maxBytes: 1_000_000, ...o });

    assert.deepEqual(await download({ timeoutMs: 2000 }), content);
    s.api.faults.injectDownload({ type: 'stall', bytes: 10 });
    let started = Date.now();
    await assert.rejects(download({ timeoutMs: 300 }), /failed: no data for 0\.3 s \(the API timeout/);
    assert.ok(Date.now() - started < 2000);
    s.api.faults.injectDownload({ type: 'trickle', intervalMs: 20 });
    started = Date.now();
    await assert.rejects(
      download({ timeoutMs: 300, totalTimeoutMs: 1000 }),
      /failed: not finished within 1 s \(10 x the API timeout/,
    );
    assert.ok(Date.now() - started < 3000);
    assert.deepEqual(s.api.faults.pendingDownloads, []);
    assert.deepEqual(s.api.violations, []);
  });
});
