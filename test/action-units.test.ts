// The action's pure parts and its GitHub modules on their own: inputs, safety rules, the build's
// environment, the report bundle reader (untrusted input), the sticky comment against the loopback API.
import assert from 'node:assert/strict';
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
  readFileSync,
  existsSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { analyzeFile } from '../src/pipeline/analyze-file.ts';
import { compare } from '../src/compare/compare.ts';
import { commentMarker as rendererMarker } from '../src/render/markdown.ts';
import { makeBundle, reportFileName, serializeBundle, type ReportBundle } from '../src/action/report-file.ts';
import { buildEnvironment } from '../src/action/models/exec.ts';
import {
  InputError,
  parseInputDims,
  parseInputFiles,
  parseInputValues,
  parseInputShapes,
  parseInputs,
  type TraceInputs,
} from '../src/action/inputs.ts';
import { findNpm, installOnnxRuntime, runtimeDir } from '../src/action/models/install-runtime.ts';
import { Tracer } from '../src/action/models/tracing.ts';
import { logLine } from '../src/action/runner-log.ts';
import { extractJsonEntry } from '../src/action/untrusted/zip.ts';
import { downloadArtifactZip, findArtifactForCommit } from '../src/github/artifacts.ts';
import { renderComment, renderSummary } from '../src/render/markdown.ts';
import { strToU8, zipSync } from 'fflate';
import { relativeModelPath } from '../src/action/models/model-file.ts';
import { footer, hasChanges } from '../src/action/publishing/outputs.ts';
import { mayBuildPullRequest } from '../src/action/safety.ts';
import { appendSummary, fenced } from '../src/action/publishing/job-summary.ts';
import {
  locateBundle,
  readBaseline,
  readBoundedFile,
  readBundle,
  UntrustedInputError,
} from '../src/action/untrusted/read-bundle.ts';
import {
  commentMarker,
  findComments,
  hasMarker,
  isCommentKey,
  upsertComment,
} from '../src/github/comments.ts';
import { createClient, redact } from '../src/github/octokit.ts';
import { findPullRequestForSha } from '../src/github/pulls.ts';
import { statusContext, statusDescription } from '../src/github/statuses.ts';
import { FIXTURES, fixture } from './support/analyze-fixture.ts';
import { fakeSha, startGitHubApi, WRITE_TOKEN, type GitHubApiServer } from './support/github-api-server.ts';
import { GITHUB_ACTIONS_BOT, tokenIdentity } from '../src/github/identity.ts';

const inputs = (values: Record<string, string>) => parseInputs((name) => values[name] ?? '');

describe('action inputs', () => {
  it('has working defaults', () => {
    const i = inputs({ model: 'model.onnx' });
    assert.equal(i.mode, 'pr');
    assert.equal(i.comment, 'always');
    assert.equal(i.commentKey, 'default');
    assert.equal(i.commitStatus, false);
    assert.equal(i.allowForkOnSelfHosted, false);
    assert.deepEqual(i.trace, {
      enabled: true,
      required: false,
      device: 'auto',
      inputShapes: {},
      dims: {},
      inputFiles: {},
      inputValues: {},
      timeoutSeconds: 120,
    });
    assert.equal(i.baseline, 'auto');
    assert.equal(i.baselineArtifact, 'paramtrace-baseline');
    assert.deepEqual(i.thresholds, { failOnNewShared: false, failOnNewUnused: false, metric: 'unique' });
  });

  it('parses thresholds as percent or absolute', () => {
    assert.equal(inputs({ model: 'm', 'max-growth': '5%' }).thresholds.maxGrowthPercent, 5);
    assert.equal(inputs({ model: 'm', 'max-growth': '100000' }).thresholds.maxGrowthAbsolute, 100_000);
    assert.equal(inputs({ model: 'm', 'max-growth': '1.5M' }).thresholds.maxGrowthAbsolute, 1_500_000);
    assert.equal(inputs({ model: 'm', 'max-params': '25k' }).thresholds.maxParams, 25_000);
    assert.equal(inputs({ model: 'm', 'fail-on-new-shared': 'true' }).thresholds.failOnNewShared, true);
  });

  it('names the input that is wrong', () => {
    const cases: [Record<string, string>, RegExp][] = [
      [{ model: 'm', 'max-growth': 'lots' }, /max-growth/],
      [{ model: 'm', 'max-params': '-3' }, /max-params/],
      [{ model: 'm', comment: 'sometimes' }, /'comment' must be one of always, on-change, never/],
      [{ model: 'm', mode: 'merge' }, /'mode'/],
      [{ model: 'm', 'commit-status': 'yes' }, /'commit-status' must be true or false/],
      [{ model: 'm', 'comment-key': 'a-->b' }, /comment-key/],
      [{ model: 'm', 'comment-key': '../x' }, /comment-key/],
      [{}, /'model' is required/],
      [{ mode: 'post' }, /'artifact-path' is required/],
      [{ model: 'm', baseline: 'report' }, /base-report/],
      [{ model: 'm', 'input-shapes': 'x=1xbig' }, /input-shapes/],
      [{ model: 'm', 'api-timeout': '0' }, /api-timeout/],
      [{ model: 'm', trace: 'sometimes' }, /'trace' must be true, false or required/],
      [{ model: 'm', device: 'tpu' }, /'device' must be one of auto, cpu, cuda/],
      [{ model: 'm', 'input-dims': 'batch=one' }, /input-dims/],
      [{ model: 'm', 'input-dims': '=1' }, /input-dims/],
      [{ model: 'm', 'input-files': 'x=' }, /input-files/],
      [{ model: 'm', 'input-values': 'sr=' }, /'input-values' has no value for 'sr'/],
      [{ model: 'm', 'input-values': '=3' }, /input-values/],
      [{ model: 'm', 'input-values': '{"x": {"a": 1}}' }, /input-values/],
      [{ model: 'm', 'trace-timeout': '-1' }, /trace-timeout/],
      [{ model: 'm', 'baseline-artifact': 'a/b' }, /baseline-artifact/],
    ];
    for (const [values, message] of cases) {
      assert.throws(
        () => inputs(values),
        (e: Error) => e instanceof InputError && message.test(e.message),
        JSON.stringify(values),
      );
    }
  });

  it('reads exactly the inputs action.yml declares', () => {
    const yml = readFileSync(fileURLToPath(new URL('../action.yml', import.meta.url)), 'utf8');
    const section = yml.slice(yml.indexOf('\ninputs:\n'), yml.indexOf('\noutputs:\n'));
    const declared = [...section.matchAll(/^ {2}([a-z-]+):$/gm)].map((m) => m[1]!).sort();
    const read = new Set<string>();
    parseInputs((name) => {
      read.add(name);
      return name === 'model' ? 'm' : '';
    });
    assert.deepEqual([...read].sort(), declared);
  });

  it('parses input shapes in the CLI form and as JSON', () => {
    assert.deepEqual(parseInputShapes('input=1x3x224x224; mask=1x128'), {
      input: [1, 3, 224, 224],
      mask: [1, 128],
    });
    assert.deepEqual(parseInputShapes('input=1,3,8,8, ids=1,16'), { input: [1, 3, 8, 8], ids: [1, 16] });
    assert.deepEqual(parseInputShapes('{"x": [2, 4]}'), { x: [2, 4] });
    assert.deepEqual(parseInputShapes(''), {});
  });

  it('parses the trace inputs', () => {
    const t = inputs({
      model: 'm',
      trace: 'required',
      device: 'CUDA',
      'input-dims': 'batch=1; seq=128',
      'input-files': 'x=inputs/x.npy, mask=inputs/mask.npy',
      'input-values': 'sr=16000; ids=1,2,3, flag=true',
      'trace-timeout': '30',
    }).trace;
    assert.deepEqual(t, {
      enabled: true,
      required: true,
      device: 'cuda',
      inputShapes: {},
      dims: { batch: 1, seq: 128 },
      inputFiles: { x: 'inputs/x.npy', mask: 'inputs/mask.npy' },
      inputValues: { sr: ['16000'], ids: ['1', '2', '3'], flag: ['true'] },
      timeoutSeconds: 30,
    });
    assert.equal(inputs({ model: 'm', trace: 'false' }).trace.enabled, false);
    assert.deepEqual(parseInputDims('a=1\nb=2'), { a: 1, b: 2 });
    assert.deepEqual(parseInputFiles(''), {});
    assert.deepEqual(parseInputValues('sr=16000\nx=[0.5, -1]'), { sr: ['16000'], x: ['0.5', '-1'] });
    assert.deepEqual(parseInputValues('{"sr": 16000, "ids": [1, 2], "on": true}'), {
      sr: ['16000'],
      ids: ['1', '2'],
      on: ['true'],
    });
    assert.deepEqual(parseInputValues(''), {});
  });
});

describe('comment keys and markers', () => {
  it('finds the marker the renderer writes, for comment keys only', async () => {
    const seed = await analyzeFile(fixture('seed-case-1.onnx'));
    for (const key of ['default', 'encoder', 'models/vision.v2', 'a_b-c']) {
      assert.ok(isCommentKey(key));
      assert.equal(commentMarker(key), rendererMarker(key));
      assert.ok(hasMarker(renderComment(compare(seed, seed), { commentKey: key }), key));
    }
    // `--` would end the HTML comment; a space or `>` is no identifier.
    for (const key of ['a--b', 'a b', 'x>', '-a', '']) {
      assert.ok(!isCommentKey(key), key);
      assert.throws(() => commentMarker(key), /invalid comment key/);
    }
  });

  it('matches the marker on the first line only', () => {
    const m = commentMarker('default');
    assert.ok(hasMarker(`${m}\nbody`, 'default'));
    assert.ok(!hasMarker(`> ${m}\nquoted`, 'default'));
    assert.ok(!hasMarker(`text\n${m}`, 'default'));
    assert.ok(!hasMarker(`${commentMarker('other')}\nbody`, 'default'));
  });
});

describe('safety', () => {
  const pr = (headRepo: string | null) => ({
    number: 3,
    headSha: fakeSha('h'),
    headRef: 'f',
    headRepo,
    baseSha: fakeSha('b'),
    baseRef: 'main',
    baseRepo: 'octo/models',
  });
  it('builds same-repository pull requests anywhere and forks only where safe', () => {
    const decide = (eventName: string, headRepo: string | null, selfHosted: boolean, allow = false) =>
      mayBuildPullRequest({ eventName, pullRequest: pr(headRepo), selfHosted, allowForkOnSelfHosted: allow })
        .allowed;
    assert.equal(decide('pull_request', 'octo/models', true), true);
    assert.equal(decide('pull_request', 'Octo/Models', true), true);
    assert.equal(decide('pull_request', 'eve/models', false), true);
    assert.equal(decide('pull_request', 'eve/models', true), false);
    assert.equal(decide('pull_request', null, true), false);
    assert.equal(decide('pull_request', 'eve/models', true, true), true);
    assert.equal(decide('pull_request_target', 'eve/models', false), false);
    assert.equal(decide('pull_request_target', 'eve/models', true, true), false);
    assert.equal(decide('pull_request_target', 'octo/models', false), true);
  });

  it('gives the build no credentials, no runner command files, no RUNNER_TEMP, and a temporary folder of its own', () => {
    const secret = 'ghs_secretsecretsecret';
    const env = buildEnvironment(
      {
        PATH: '/bin',
        HOME: '/home/r',
        'INPUT_GITHUB-TOKEN': secret,
        INPUT_MODEL: 'm',
        GITHUB_TOKEN: secret,
        GH_TOKEN: 'x',
        ACTIONS_RUNTIME_TOKEN: 'y',
        ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'z',
        GITHUB_ENV: '/f',
        GITHUB_OUTPUT: '/f',
        GITHUB_PATH: '/f',
        GITHUB_STEP_SUMMARY: '/f',
        SOMETHING: `prefix-${secret}`,
        GITHUB_SHA: 'abc',
        RUNNER_TEMP: '/home/r/work/_temp',
        COPY_OF_ENV_FILE: '/home/r/work/_temp/_runner_file_commands/set_env_1234',
        TMPDIR: '/home/r/work/_temp',
      },
      [secret],
      '/tmp/paramtrace-build-x',
    );
    assert.deepEqual(Object.keys(env).sort(), ['GITHUB_SHA', 'HOME', 'PATH', 'TEMP', 'TMP', 'TMPDIR']);
    assert.equal(env.TMPDIR, '/tmp/paramtrace-build-x');
    assert.equal(env.TEMP, '/tmp/paramtrace-build-x');
  });

  it('keeps the model inside the checkout', () => {
    assert.equal(relativeModelPath('/w', 'out/model.onnx'), 'out/model.onnx');
    assert.equal(relativeModelPath('/w', '/w/model.onnx'), 'model.onnx');
    assert.throws(() => relativeModelPath('/w', '../model.onnx'), /inside the repository/);
    assert.throws(() => relativeModelPath('/w', '/etc/passwd'), /inside the repository/);
  });

  it('never logs the token', () => {
    const token = 'ghs_abcdefghijklmnop';
    assert.equal(redact(`failed with ${token} in it`, token), 'failed with *** in it');
    assert.doesNotMatch(redact('authorization: token ghs_other123', token), /ghs_other123/);
  });
});

describe('outputs, status and summary text', () => {
  it('cuts the status description to GitHub’s 140 characters', () => {
    assert.equal(statusDescription('✅ pass\n  fine'), '✅ pass fine');
    const long = statusDescription('x'.repeat(300));
    assert.equal([...long].length, 140);
    assert.ok(long.endsWith('…'));
    assert.equal(statusContext('default'), 'paramtrace');
    assert.equal(statusContext('encoder'), 'paramtrace/encoder');
  });

  it('writes only trusted shapes into the footer', () => {
    const sha = fakeSha('x');
    assert.match(
      footer({ baseSha: sha, headSha: sha, runUrl: 'https://github.com/o/r/actions/runs/1' }),
      /\[workflow run\]/,
    );
    assert.equal(
      footer({ baseSha: 'not a sha`](javascript:x)', headSha: null, runUrl: 'javascript:alert(1)' }),
      '',
    );
  });

  it('fences untrusted text so that it cannot break out', () => {
    const block = fenced('before\n````\n<img src=x onerror=alert(1)>\n````');
    const fence = block.split('\n', 1)[0]!.replace('text', '');
    assert.ok(fence.length >= 5);
    assert.equal(block.split('\n').filter((l) => l === fence).length, 1);
  });

  it('never lets the summary pass 1 MiB', (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'paramtrace-summary-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, 'summary.md');
    appendSummary(file, `# verdict\n${'é'.repeat(2 * 1024 * 1024)}`);
    const written = readFileSync(file);
    assert.ok(written.length <= 1024 * 1024);
    assert.ok(written.toString('utf8').startsWith('# verdict'));
  });

  it('keeps the hidden marker in the comment and out of the job summary', async () => {
    const comparison = compare(
      await analyzeFile(fixture('seed-case-1.onnx')),
      await analyzeFile(fixture('seed-case-2.onnx')),
    );
    assert.ok(
      renderComment(comparison, { commentKey: 'default' }).startsWith(`${rendererMarker('default')}\n###`),
    );
    const summary = renderSummary(comparison);
    assert.ok(summary.startsWith('### paramtrace: '), summary.slice(0, 80));
    assert.doesNotMatch(summary, /<!--/);
  });

  it('sees a change in any count or finding', async () => {
    const a = await analyzeFile(fixture('seed-case-2.onnx'));
    const b = await analyzeFile(fixture('seed-case-3.onnx'));
    assert.equal(hasChanges(compare(a, b)), false);
    assert.equal(hasChanges(compare(a, await analyzeFile(fixture('seed-case-1.onnx')))), true);
  });
});

describe('report bundles from untrusted artifacts', () => {
  async function bundleOf(base: string, head: string): Promise<ReportBundle> {
    const b = await analyzeFile(fixture(`${base}.onnx`), { displayName: 'model.onnx' });
    const h = await analyzeFile(fixture(`${head}.onnx`), { displayName: 'model.onnx' });
    return makeBundle({
      mode: 'pr',
      commentKey: 'default',
      commits: { head: fakeSha('h'), base: fakeSha('b') },
      pullRequest: { number: 7, headSha: fakeSha('h'), baseSha: fakeSha('b'), headRepo: 'eve/models' },
      base: b,
      head: h,
      comparison: compare(b, h, { maxGrowthPercent: 5 }),
      notes: [],
    });
  }

  function tempDir(t: TestContext): string {
    const dir = mkdtempSync(join(tmpdir(), 'paramtrace-bundle-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    return dir;
  }

  it('reads back every fixture’s report and comparison', async (t) => {
    const dir = tempDir(t);
    const names = readdirSync(FIXTURES)
      .filter((f) => f.endsWith('.onnx'))
      .map((f) => f.replace(/\.onnx$/, ''));
    for (const name of names) {
      const bundle = await bundleOf('seed-case-1', name);
      const file = join(dir, `${name}.json`);
      writeFileSync(file, serializeBundle(bundle));
      assert.deepEqual(readBundle(file), JSON.parse(serializeBundle(bundle)), name);
    }
  });

  it('refuses anything else, saying where', async (t) => {
    const dir = tempDir(t);
    const good = JSON.parse(serializeBundle(await bundleOf('seed-case-1', 'seed-case-2')));
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tampering with arbitrary JSON
    const cases: [string, (b: Record<string, any>) => void, RegExp][] = [
      ['kind', (b) => (b.kind = 'other'), /kind/],
      ['lone surrogate', (b) => (b.head.layers[0].name = 'a\ud800b'), /well-formed/],
      ['NUL', (b) => (b.notes = ['a\u0000b']), /U\+0000/],
      ['zero width', (b) => (b.head.model.file = 'mo\u200bdel'), /U\+200B/],
      [
        'prototype key',
        (b) => (b.head.bytesByDtype = JSON.parse('{"__proto__": 1}')),
        /bytesByDtype|__proto__/,
      ],
      ['comparison extra key', (b) => (b.comparison.verdict.pass = 'yes'), /verdict\.pass/],
      ['bad sha', (b) => (b.pullRequest.headSha = 'HEAD~1'), /headSha/],
      ['pr bundle without base', (b) => (b.base = null), /base report/],
      ['out of range', (b) => (b.head.counts.unique = 'HUGE'), /unique/],
      ['float count', (b) => (b.head.counts.unique = 1.5), /unique/],
    ];
    for (const [what, tamper, message] of cases) {
      const b = structuredClone(good);
      tamper(b);
      const file = join(dir, 'bundle.json');
      writeFileSync(file, JSON.stringify(b).replace('"HUGE"', '1e400'));
      assert.throws(
        () => readBundle(file),
        (e: Error) => e instanceof UntrustedInputError && message.test(e.message),
        what,
      );
    }
  });

  it('reads a comparison of version 2; drops one of version 1, which mode: post would recompute anyway', async (t) => {
    const dir = tempDir(t);
    const good = JSON.parse(serializeBundle(await bundleOf('seed-case-1', 'seed-case-2')));
    assert.equal(good.comparison.schemaVersion, 2);
    assert.deepEqual(good.comparison.head.trace, { mode: 'static' });
    const read = (tamper: (b: typeof good) => void) => {
      const b = structuredClone(good);
      tamper(b);
      writeFileSync(join(dir, 'bundle.json'), JSON.stringify(b));
      return readBundle(join(dir, 'bundle.json'));
    };
    // What paramtrace wrote before the verdict was data: words, dropped as a whole; the reports still read.
    const older = read((b) => {
      b.comparison.schemaVersion = 1;
      b.comparison.head.trace = 'static (trace failed: no Op registered for X (opset 13))';
      b.comparison.verdict = { pass: true, headline: '✅ pass', failures: [] };
    });
    assert.equal(older.comparison, null);
    assert.deepEqual(older.head, good.head);
    // Version 2 with version 1's words, or a failed trace without its error, is refused.
    const refused = (tamper: (b: typeof good) => void, where: RegExp) =>
      assert.throws(
        () => read(tamper),
        (e: Error) => e instanceof UntrustedInputError && where.test(e.message),
      );
    refused((b) => (b.comparison.head.trace = 'static (not traced)'), /at \.comparison\.head\.trace: /);
    refused((b) => (b.comparison.head.trace = { mode: 'failed' }), /at \.comparison\.head\.trace/);
    refused((b) => (b.comparison.head.trace = { mode: 'sometimes' }), /comparison\.head\.trace/);
    // What the schema cannot say: a verdict passes exactly when nothing failed.
    refused(
      (b) => (b.comparison.verdict.failures = [{ kind: 'new-shared', names: ['conv1.weight'] }]),
      /at \.comparison\.verdict\.pass: the verdict says pass with 1 failure/,
    );
  });

  it('refuses symlinks, non-UTF-8, oversize files and non-JSON', (t) => {
    const dir = tempDir(t);
    writeFileSync(join(dir, 'target.json'), '{}');
    symlinkSync(join(dir, 'target.json'), join(dir, 'link.json'));
    assert.throws(() => readBundle(join(dir, 'link.json')), /symbolic link/);
    writeFileSync(join(dir, 'latin1.json'), Buffer.from([0x7b, 0xe9, 0x7d]));
    assert.throws(() => readBundle(join(dir, 'latin1.json')), /UTF-8/);
    writeFileSync(join(dir, 'big.json'), 'x'.repeat(2048));
    assert.throws(() => readBoundedFile(join(dir, 'big.json'), 1024), /limit/);
    writeFileSync(join(dir, 'text.json'), 'not json');
    assert.throws(() => readBundle(join(dir, 'text.json')), /not valid JSON/);
    assert.throws(() => readBundle(join(dir, 'missing.json')), /no such file/);
  });

  it('finds the bundle in an artifact directory', (t) => {
    const dir = tempDir(t);
    assert.throws(() => locateBundle(dir, 'paramtrace-report.json'), /found no \.json file/);
    writeFileSync(join(dir, 'something.json'), '{}');
    assert.equal(locateBundle(dir, 'paramtrace-report.json'), join(dir, 'something.json'));
    writeFileSync(join(dir, 'other.json'), '{}');
    assert.throws(() => locateBundle(dir, 'paramtrace-report.json'), /found 2/);
    writeFileSync(join(dir, reportFileName('default')), '{}');
    assert.equal(locateBundle(dir, 'paramtrace-report.json'), join(dir, 'paramtrace-report.json'));
    assert.equal(reportFileName('vision/encoder'), 'paramtrace-report-vision_encoder.json');
  });

  it('takes a baseline from a bare report or a bundle', async (t) => {
    const dir = tempDir(t);
    const report = await analyzeFile(fixture('seed-case-1.onnx'));
    writeFileSync(join(dir, 'report.json'), JSON.stringify(report));
    assert.deepEqual(readBaseline(join(dir, 'report.json')), {
      report: JSON.parse(JSON.stringify(report)),
      commit: null,
      commentKey: null,
    });
    const bundle = await bundleOf('seed-case-1', 'seed-case-2');
    writeFileSync(join(dir, 'bundle.json'), serializeBundle(bundle));
    assert.equal(readBaseline(join(dir, 'bundle.json')).commit, fakeSha('h'));
    assert.equal(readBaseline(join(dir, 'bundle.json')).commentKey, bundle.commentKey);
  });
});

describe('sticky comment and pull request lookup against the loopback API', () => {
  const REPO = { owner: 'octo', repo: 'models' };
  const silent = { debug() {}, info() {}, warn() {} };
  const asBot = () => Promise.resolve(GITHUB_ACTIONS_BOT);

  async function api(t: TestContext): Promise<GitHubApiServer> {
    const server = await startGitHubApi();
    server.state.addRepo('octo/models');
    server.state.addPullRequest('octo/models', { number: 7, headSha: fakeSha('head') });
    t.after(async () => {
      assert.deepEqual(server.violations, []);
      await server.close();
    });
    return server;
  }
  const client = (server: GitHubApiServer) =>
    createClient({ token: WRITE_TOKEN, baseUrl: server.url, log: silent });
  const body = (text: string) => `${commentMarker('default')}\n${text}`;
  const ref = { ...REPO, issueNumber: 7 };

  it('finds its comment on a later page and updates it in place', async (t) => {
    const server = await api(t);
    for (let i = 0; i < 130; i++)
      server.state.addComment('octo/models', 7, { body: `chatter ${i}`, user: 'alice' });
    const mine = server.state.addComment('octo/models', 7, { body: body('old') });
    server.state.addComment('octo/models', 7, {
      body: `> ${commentMarker('default')}\nquoting it`,
      user: 'alice',
    });
    const found = await findComments(client(server), ref, 'default');
    assert.deepEqual(
      found.map((c) => c.id),
      [mine.id],
    );
    const result = await upsertComment(client(server), ref, {
      key: 'default',
      body: body('new'),
      policy: 'on-change',
      changed: false,
      log: silent,
      identity: asBot,
    });
    assert.equal(result.action, 'updated');
    assert.equal(server.state.comments.get(mine.id)!.body, body('new'));
    assert.ok(server.requests.some((r) => r.path.includes('page=2')));
  });

  it("updates only comments by the token's identity: a marked comment by anyone else is left alone", async (t) => {
    const server = await api(t);
    const squatted = server.state.addComment('octo/models', 7, {
      body: body('mallory was here'),
      user: 'mallory',
    });
    const infos: string[] = [];
    const log = { ...silent, info: (m: string) => infos.push(m) };
    const first = await upsertComment(client(server), ref, {
      key: 'default',
      body: body('report 1'),
      policy: 'always',
      changed: true,
      log,
      identity: asBot,
    });
    assert.equal(first.action, 'created');
    assert.equal(server.state.comments.get(squatted.id)!.body, body('mallory was here'));
    assert.ok(
      infos.some((m) => m.includes(`comment ${squatted.id} by mallory`)),
      infos.join('\n'),
    );
    // The next run updates its own comment, not the older squatted one.
    const second = await upsertComment(client(server), ref, {
      key: 'default',
      body: body('report 2'),
      policy: 'always',
      changed: true,
      log,
      identity: asBot,
    });
    assert.equal(second.action, 'updated');
    assert.equal(first.action === 'created' && second.action === 'updated' && second.id, first.id);
    assert.equal(server.state.comments.get(squatted.id)!.body, body('mallory was here'));
    assert.ok(!server.requests.some((r) => r.method === 'PATCH' && r.path.endsWith(`/${squatted.id}`)));
  });

  it("knows the token's identity: a personal access token's user, else github-actions[bot]", async (t) => {
    const PAT = 'github_pat_paramtraceTestAlice000000000';
    const server = await startGitHubApi({
      tokens: { [WRITE_TOKEN]: 'write', [PAT]: { access: 'write', login: 'alice' } },
    });
    t.after(() => server.close());
    const as = (token: string) => createClient({ token, baseUrl: server.url, log: silent });
    assert.equal(await tokenIdentity(as(PAT)), 'alice');
    assert.equal(await tokenIdentity(as(WRITE_TOKEN)), GITHUB_ACTIONS_BOT);
    assert.deepEqual(
      server.requests.map((r) => `${r.route} ${r.status}`),
      ['GET /user 200', 'GET /user 403'],
    );
    assert.deepEqual(server.violations, []);
  });

  it('does nothing when told never, or when nothing changed and there is no comment', async (t) => {
    const server = await api(t);
    const never = await upsertComment(client(server), ref, {
      key: 'default',
      body: body('x'),
      policy: 'never',
      changed: true,
      log: silent,
      identity: asBot,
    });
    assert.equal(never.action, 'skipped');
    assert.equal(server.requests.length, 0);
    const quiet = await upsertComment(client(server), ref, {
      key: 'default',
      body: body('x'),
      policy: 'on-change',
      changed: false,
      log: silent,
      identity: asBot,
    });
    assert.equal(quiet.action, 'skipped');
    assert.equal(server.state.commentsOn('octo/models', 7).length, 0);
  });

  it('leaves an identical comment alone', async (t) => {
    const server = await api(t);
    server.state.addComment('octo/models', 7, { body: body('same') });
    const result = await upsertComment(client(server), ref, {
      key: 'default',
      body: body('same'),
      policy: 'always',
      changed: true,
      log: silent,
      identity: asBot,
    });
    assert.equal(result.action, 'unchanged');
    assert.ok(!server.requests.some((r) => r.method !== 'GET'));
  });

  it('converges on one comment when two upserts race', async (t) => {
    const server = await api(t);
    server.faults.inject(
      'POST /repos/{owner}/{repo}/issues/{issue_number}/comments',
      { type: 'delay', ms: 300 },
      2,
    );
    const c1 = client(server);
    const c2 = client(server);
    const results = await Promise.all([
      upsertComment(c1, ref, {
        key: 'default',
        body: body('one'),
        policy: 'always',
        changed: true,
        log: silent,
        identity: asBot,
      }),
      upsertComment(c2, ref, {
        key: 'default',
        body: body('two'),
        policy: 'always',
        changed: true,
        log: silent,
        identity: asBot,
      }),
    ]);
    assert.equal(server.state.commentsOn('octo/models', 7).length, 1, JSON.stringify(results));
  });

  it('recovers from a create that timed out after GitHub made the comment', async (t) => {
    const server = await api(t);
    // GitHub makes the comment, but only after the client gave up waiting for the answer.
    server.faults.inject('POST /repos/{owner}/{repo}/issues/{issue_number}/comments', {
      type: 'delay',
      ms: 400,
    });
    const impatient = createClient({ token: WRITE_TOKEN, baseUrl: server.url, log: silent, timeoutMs: 200 });
    const result = await upsertComment(impatient, ref, {
      key: 'default',
      body: body('posted'),
      policy: 'always',
      changed: true,
      log: silent,
      identity: asBot,
    });
    assert.equal(result.action, 'unchanged', 'the retry found the comment the timed-out request made');
    assert.equal(server.state.commentsOn('octo/models', 7).length, 1);
  });

  it('finds a fork’s pull request by its head sha', async (t) => {
    const server = await api(t);
    server.state.addPullRequest('octo/models', {
      number: 8,
      headSha: fakeSha('fork'),
      headRepo: 'eve/models',
      headRef: 'patch',
    });
    server.state.addPullRequest('octo/models', { number: 9, headSha: fakeSha('old'), state: 'closed' });
    const c = client(server);
    assert.equal(
      (await findPullRequestForSha(c, REPO, fakeSha('fork'), { headRepo: 'eve/models' }))?.number,
      8,
    );
    assert.equal((await findPullRequestForSha(c, REPO, fakeSha('old')))?.number, 9);
    assert.equal(await findPullRequestForSha(c, REPO, fakeSha('nothing')), undefined);
  });
});

describe('onnxruntime-node installer', () => {
  it('installs a pinned version once per device flavour into the tool cache', async (t) => {
    const cache = mkdtempSync(join(tmpdir(), 'paramtrace-toolcache-'));
    t.after(() => rmSync(cache, { recursive: true, force: true }));
    const calls: { args: string[]; install: string | undefined }[] = [];
    const npm = async (args: string[], options: { env: NodeJS.ProcessEnv }) => {
      calls.push({ args, install: options.env.ONNXRUNTIME_NODE_INSTALL });
      const prefix = args[args.indexOf('--prefix') + 1]!;
      mkdirSync(join(prefix, 'node_modules', 'onnxruntime-node'), { recursive: true });
    };
    const cuda = await installOnnxRuntime({ device: 'cuda', toolCache: cache, env: { PATH: '/bin' }, npm });
    assert.equal(cuda, runtimeDir(cache, 'cuda'));
    assert.ok(existsSync(join(cuda, 'node_modules', 'onnxruntime-node')));
    assert.deepEqual(calls[0]!.args.slice(-1), ['onnxruntime-node@1.30.0']);
    assert.equal(calls[0]!.install, 'cuda12');
    await installOnnxRuntime({ device: 'cuda', toolCache: cache, env: {}, npm });
    assert.equal(calls.length, 1, 'the second run uses the cache');
    await installOnnxRuntime({ device: 'cpu', toolCache: cache, env: {}, npm });
    assert.equal(calls[1]!.install, 'skip');
    assert.deepEqual(readdirSync(join(cache, 'paramtrace-ort')).sort(), ['1.30.0-cpu', '1.30.0-cuda12']);
  });
});

describe('tracing in the action', () => {
  const quiet = {
    info() {},
    warning() {},
    notice() {},
    debug() {},
    group: <T>(_title: string, fn: () => Promise<T>) => fn(),
    untrusted: <T>(fn: (write: (chunk: Buffer) => void) => Promise<T>) => fn(() => {}),
  };
  const trace = (over: Partial<TraceInputs> = {}): TraceInputs => ({
    enabled: true,
    required: false,
    device: 'auto',
    inputShapes: {},
    dims: {},
    inputFiles: {},
    inputValues: {},
    timeoutSeconds: 60,
    ...over,
  });
  const settings = (over: Partial<TraceInputs> = {}, env: NodeJS.ProcessEnv = { PATH: '/bin' }) => ({
    trace: trace(over),
    workspace: fileURLToPath(new URL('..', import.meta.url)),
    toolCache: '/nonexistent/tool-cache',
    env,
    io: quiet,
  });

  it('installs the flavour the device asks for, once, and passes its folder to the worker', async () => {
    const installs: string[] = [];
    const install = async (o: { device: 'cpu' | 'cuda'; toolCache: string }) => {
      installs.push(o.device);
      return join(o.toolCache, o.device);
    };
    for (const [gpu, device, expected] of [
      [false, 'auto', 'cpu'],
      [true, 'auto', 'cuda'],
      [false, 'cuda', 'cuda'],
      [true, 'cpu', 'cpu'],
    ] as const) {
      installs.length = 0;
      const tracer = new Tracer(settings({ device, dims: { batch: 2 } }), {
        install,
        hasGpu: async () => gpu,
      });
      const [a, b] = await Promise.all([tracer.plan(), tracer.plan()]);
      assert.equal(a, b);
      assert.deepEqual(installs, [expected], `${device} with${gpu ? '' : 'out'} a GPU`);
      assert.equal(a.env.PARAMTRACE_ONNXRUNTIME_DIR, join('/nonexistent/tool-cache', expected));
      assert.deepEqual(a.options, { device, timeoutMs: 60_000, dims: { batch: 2 } });
    }
  });

  it('uses a preset PARAMTRACE_ONNXRUNTIME_DIR, and is static when asked', async () => {
    const install = async () => assert.fail('nothing to install');
    const preset = await new Tracer(settings({}, { PARAMTRACE_ONNXRUNTIME_DIR: '/opt/ort' }), {
      install,
    }).plan();
    assert.equal(preset.env.PARAMTRACE_ONNXRUNTIME_DIR, '/opt/ort');
    const off = await new Tracer(settings({ enabled: false }), { install }).plan();
    assert.equal(off.options, false);
    const valued = await new Tracer(
      settings({ inputValues: { sr: ['16000'] } }, { PARAMTRACE_ONNXRUNTIME_DIR: '/opt/ort' }),
      { install },
    ).plan();
    assert.deepEqual(valued.options, { device: 'auto', timeoutMs: 60_000, values: { sr: ['16000'] } });
  });

  it('falls back from CUDA to the CPU runtime, then to the static report; required fails', async () => {
    const failing = (flavours: string[]) => async (o: { device: 'cpu' | 'cuda' }) => {
      if (flavours.includes(o.device)) throw new Error(`no network for ${o.device}`);
      return `/ort/${o.device}`;
    };
    const hasGpu = async () => true;
    const cpu = await new Tracer(settings(), { install: failing(['cuda']), hasGpu }).plan();
    assert.equal(cpu.env.PARAMTRACE_ONNXRUNTIME_DIR, '/ort/cpu');
    const none = await new Tracer(settings(), { install: failing(['cuda', 'cpu']), hasGpu }).plan();
    assert.equal(none.options, false);
    assert.match(none.unavailable!, /could not be installed: no network for cpu/);
    const cudaOnly = await new Tracer(settings({ device: 'cuda' }), { install: failing(['cuda']) }).plan();
    assert.match(cudaOnly.unavailable!, /no network for cuda/);
    await assert.rejects(
      new Tracer(settings({ required: true }), {
        install: failing(['cpu']),
        hasGpu: async () => false,
      }).plan(),
      /trace: required, but onnxruntime-node 1\.30\.0 could not be installed/,
    );
  });

  it('resolves input files inside the checkout only', async () => {
    const tracer = new Tracer(settings({ inputFiles: { x: 'test/fixtures/seed-case-1.onnx' } }), {
      install: async () => '/ort',
    });
    const plan = await tracer.plan();
    const options = tracer.optionsFor(plan);
    assert.ok(options && options.inputFiles!.x!.endsWith('/test/fixtures/seed-case-1.onnx'));
    const outside = new Tracer(settings({ inputFiles: { x: '../../etc/passwd' } }), {
      install: async () => '/ort',
    });
    assert.throws(() => outside.optionsFor(plan), /inside the repository checkout/);
    const missing = new Tracer(settings({ inputFiles: { x: 'inputs/none.npy' } }), {
      install: async () => '/ort',
    });
    assert.throws(() => missing.optionsFor(plan), /input-files: inputs\/none\.npy .* does not exist/);
  });

  it('finds npm on the PATH, else next to node', (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'paramtrace-npm-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    writeFileSync(join(dir, 'npm'), '#!/bin/sh\n', { mode: 0o755 });
    assert.equal(findNpm({ PATH: `/nonexistent:${dir}` }, '/nowhere/node'), join(dir, 'npm'));
    assert.equal(findNpm({ PATH: '/nonexistent' }, join(dir, 'node')), join(dir, 'npm'));
    assert.equal(findNpm({ PATH: '' }, '/nowhere/node'), undefined);
  });
});

describe('baseline artifacts', () => {
  const REPO = { owner: 'octo-org', repo: 'models' };
  const label = 'artifact';

  it('takes the named report, or the only .json, from the top of the zip', () => {
    const report = strToU8('{"x": 1}');
    const pick = (files: Record<string, Uint8Array>, max = 1000) =>
      extractJsonEntry(zipSync(files), 'paramtrace-report.json', label, max);
    assert.equal(
      pick({ 'paramtrace-report.json': report, 'other.json': report }).name,
      'paramtrace-report.json',
    );
    assert.equal(pick({ 'mine.json': report, 'readme.txt': report }).name, 'mine.json');
    assert.deepEqual(pick({ 'mine.json': report }).bytes, report);
    assert.throws(() => pick({ 'a.json': report, 'b.json': report }), /found 2/);
    assert.throws(() => pick({ 'dir/paramtrace-report.json': report }), /found no \.json file/);
    assert.throws(
      () => pick({ 'paramtrace-report.json': new Uint8Array(5000) }),
      /5000 bytes unpacked, over/,
    );
    assert.throws(
      () => extractJsonEntry(strToU8('not a zip at all, just text'), 'x.json', label, 10),
      /not a readable zip/,
    );
  });

  it('never inflates past the declared size', () => {
    const zip = zipSync({ 'paramtrace-report.json': new Uint8Array(4096) }, { level: 9 });
    // Lie in the central directory: claim 16 bytes unpacked.
    const view = new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
    let cd = zip.length - 22;
    while (view.getUint32(cd, true) !== 0x06054b50) cd--;
    const dir = view.getUint32(cd + 16, true);
    view.setUint32(dir + 24, 16, true);
    const entry = extractJsonEntry(zip, 'paramtrace-report.json', label, 100);
    assert.ok(entry.bytes.length <= 16, String(entry.bytes.length));
  });

  it('finds the newest usable artifact of a commit and downloads it without the token', async (t) => {
    const api = await startGitHubApi();
    t.after(() => api.close());
    api.state.addRepo('octo-org/models');
    const sha = fakeSha('base');
    const zip = zipSync({ 'paramtrace-report.json': strToU8('{}') });
    const older = api.state.addArtifact('octo-org/models', 1, {
      name: 'paramtrace-baseline',
      headSha: sha,
      createdAt: '2026-01-01T00:00:00Z',
    });
    const newer = api.state.addArtifact('octo-org/models', 2, {
      name: 'paramtrace-baseline',
      headSha: sha,
      createdAt: '2026-01-02T00:00:00Z',
      content: zip,
    });
    api.state.addArtifact('octo-org/models', 3, {
      name: 'paramtrace-baseline',
      headSha: sha,
      createdAt: '2026-01-03T00:00:00Z',
      expired: true,
    });
    api.state.addArtifact('octo-org/models', 4, {
      name: 'paramtrace-baseline',
      headSha: sha,
      createdAt: '2026-01-04T00:00:00Z',
      headRepositoryId: 1,
    });
    const c = createClient({
      token: WRITE_TOKEN,
      baseUrl: api.url,
      log: { debug() {}, info() {}, warn() {} },
    });
    const search = await findArtifactForCommit(c, REPO, 'paramtrace-baseline', sha);
    assert.equal(search.found?.id, newer.id);
    assert.notEqual(search.found?.id, older.id);
    assert.equal(search.skipped.length, 2);
    assert.equal((await findArtifactForCommit(c, REPO, 'paramtrace-baseline', fakeSha('other'))).found, null);
    assert.deepEqual(await downloadArtifactZip(c, REPO, newer.id, { maxBytes: 10_000 }), zip);
    await assert.rejects(downloadArtifactZip(c, REPO, newer.id, { maxBytes: 10 }), /over the 10-byte limit/);
    const blob = api.requests.filter((r) => r.path.startsWith('/_artifact-downloads/'));
    assert.equal(blob.length, 2);
    assert.ok(blob.every((r) => !r.authorized));
    assert.deepEqual(api.violations, []);
  });
});

describe('log lines', () => {
  it('a verdict naming a parameter called `x\\n::error::...` cannot start a workflow command', () => {
    const line = logLine('paramtrace: ❌ fail: new shared parameter: x\n::error::pwned\r\n::add-mask::y');
    assert.equal(line.split('\n').length, 1);
    assert.doesNotMatch(line, /(^|[\r\n])::/);
  });
});
