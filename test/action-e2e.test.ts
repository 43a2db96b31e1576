// The action as a runner runs it: `node dist/index.js` (built fresh from the sources in `before`) in a
// real git repository with a base and head commit, a pull_request (or workflow_run) event payload,
// INPUT_* variables, GITHUB_OUTPUT and GITHUB_STEP_SUMMARY, against the loopback GitHub API server,
// which checks every request and response against GitHub's OpenAPI description and keeps state
// (the harness: test/support/action-scenario.ts).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { strToU8, zipSync } from 'fflate';
import { runAction } from './support/action-runner.ts';
import {
  assertNoToken,
  commands,
  MARKER,
  REPO,
  ROOT,
  scenario,
  useBuiltAction,
  workflowRunEvent,
} from './support/action-scenario.ts';
import { fixture } from './support/analyze-fixture.ts';
import { BUILD, MODEL } from './support/git-repo.ts';
import { READ_ONLY_TOKEN, startGitHubApi, WRITE_TOKEN } from './support/github-api-server.ts';

const builtEntry = useBuiltAction();

describe('action: pull request', () => {
  it('posts one comment and a status, then updates the comment in place and fails on growth', async (t) => {
    const s = await scenario(t);
    const first = await s.run({ inputs: { 'max-growth': '5%', 'commit-status': 'true' } });
    assert.equal(first.code, 0, first.log);
    assert.equal(first.outputs.verdict, 'pass');
    assert.equal(first.outputs.unique, '9');
    assert.equal(first.outputs['base-unique'], '18');
    assert.equal(first.outputs['delta-unique'], '-9');
    assert.equal(first.outputs['comment-action'], 'created');
    const comments = s.comments();
    assert.equal(comments.length, 1);
    assert.ok(comments[0]!.body.startsWith(MARKER));
    assert.match(comments[0]!.body, /pass/);
    assert.match(comments[0]!.body, /conv1\.weight/);
    assert.equal(first.outputs['comment-body'], comments[0]!.body);
    assert.match(first.summary, /pass/);
    assert.ok(first.summary.startsWith('### paramtrace: '), 'the summary has no hidden marker');
    assert.doesNotMatch(first.summary, /paramtrace:comment-key/);
    const statuses = s.api.state.statusesFor(REPO, s.repo.commits.head!);
    assert.deepEqual(
      statuses.map((x) => [x.context, x.state]),
      [['paramtrace', 'success']],
    );
    const report = JSON.parse(readFileSync(first.outputs['report-path']!, 'utf8'));
    assert.equal(report.kind, 'paramtrace-run');
    assert.equal(report.head.counts.unique, 9);
    assert.equal(report.base.counts.unique, 18);
    assert.equal(report.pullRequest.number, 7);
    assertNoToken(first, readFileSync(first.outputs['report-path']!, 'utf8'));

    const second = await s.run({ head: 'grown', inputs: { 'max-growth': '5%', 'commit-status': 'true' } });
    assert.equal(second.code, 1, second.log);
    assert.equal(second.outputs.verdict, 'fail');
    assert.equal(second.outputs['comment-action'], 'updated');
    const after = s.comments();
    assert.equal(after.length, 1, 'the comment is updated, not duplicated');
    assert.equal(after[0]!.id, comments[0]!.id);
    assert.match(after[0]!.body, /fail/);
    assert.match(second.log, /::error::.*fail/);
    const grownStatus = s.api.state.statusesFor(REPO, s.repo.commits.grown!);
    assert.deepEqual(
      grownStatus.map((x) => [x.context, x.state]),
      [['paramtrace', 'failure']],
    );
    assert.deepEqual(s.api.violations, []);
  });
});

describe('action: pull request, more', () => {
  it('comment: on-change posts nothing when the parameters did not change, and still writes the summary', async (t) => {
    const s = await scenario(t);
    const run = await s.run({ head: 'same', inputs: { comment: 'on-change' } });
    assert.equal(run.code, 0, run.log);
    assert.equal(run.outputs['comment-action'], 'skipped');
    assert.equal(run.outputs.changed, 'false');
    assert.equal(s.comments().length, 0);
    assert.match(run.summary, /pass/);
  });

  it('a failing build is a clear error naming the command, its exit status and its output', async (t) => {
    const s = await scenario(t);
    const build = 'echo exporting the model; echo "boom: no module named torch" >&2; exit 3';
    const run = await s.run({ inputs: { build } });
    assert.equal(run.code, 1);
    const error = commands(run, 'error').join('\n');
    assert.match(error, /build command for head failed/);
    assert.match(error, /exited with status 3/);
    assert.match(error, /boom: no module named torch/);
    assert.ok(error.includes('exit 3'), 'the error names the command');
    assert.match(run.summary, /could not run/);
    assert.equal(s.comments().length, 0);
  });

  it('the build sees no token and no runner command files, and cannot issue workflow commands', async (t) => {
    const s = await scenario(t);
    const dump = mkdtempSync(join(tmpdir(), 'paramtrace-env-'));
    t.after(() => rmSync(dump, { recursive: true, force: true }));
    const build = `env > "$PT_DUMP/env-$(git rev-parse --short HEAD).txt"; echo "::warning::from the build"; ${BUILD}`;
    const run = await s.run({
      inputs: { build, comment: 'never' },
      env: { PT_DUMP: dump, GITHUB_TOKEN: WRITE_TOKEN },
    });
    assert.equal(run.code, 0, run.log);
    const dumps = readdirSync(dump);
    assert.equal(dumps.length, 2, 'the build ran for head and base');
    for (const file of dumps) {
      const env = readFileSync(join(dump, file), 'utf8');
      assert.ok(!env.includes(WRITE_TOKEN), `the token reached the build (${file})`);
      assert.doesNotMatch(env, /^INPUT_/m);
      assert.doesNotMatch(env, /^GITHUB_(OUTPUT|ENV|PATH|STATE|STEP_SUMMARY|TOKEN)=/m);
    }
    // The build's output is fenced by ::stop-commands:: so the runner ignores its "::warning::".
    const lines = run.log.split('\n');
    const at = lines.indexOf('::warning::from the build');
    assert.ok(at > 0);
    const stop = lines
      .slice(0, at)
      .reverse()
      .find((l) => l.startsWith('::stop-commands::'));
    assert.ok(stop, 'build output is not inside stop-commands');
    const token = stop.slice('::stop-commands::'.length);
    assert.ok(lines.slice(at).includes(`::${token}::`), 'commands are resumed after the build');
    assertNoToken(run);
  });

  it('a model that does not exist at the base is new: only max-params applies (missing-base: fail fails)', async (t) => {
    const s = await scenario(t, {
      commits: [
        { label: 'base', model: null, files: { 'README.md': 'no model yet\n' } },
        { label: 'head', model: 'seed-case-2', branch: 'feature' },
      ],
    });
    // The build succeeds without writing the model where its source is absent: the pull request adds it.
    const build = `[ -f model-src.onnx ] || exit 0; ${BUILD}`;
    const run = await s.run({ inputs: { build, 'max-growth': '1%', 'fail-on-new-shared': 'true' } });
    assert.equal(run.code, 0, run.log);
    assert.equal(run.outputs.verdict, 'pass');
    assert.equal(run.outputs['base-unique'], '0');
    assert.equal(commands(run, 'warning').filter((w) => /build command/.test(w)).length, 0, run.log);
    assert.match(s.comments()[0]!.body, /compared with an empty model/);
    const capped = await s.run({ inputs: { build, 'max-params': '5' } });
    assert.equal(capped.code, 1, capped.log);
    const strict = await s.run({ inputs: { build, 'missing-base': 'fail' } });
    assert.equal(strict.code, 1, strict.log);
    assert.equal(strict.outputs.verdict, 'fail');
    assert.match(
      strict.outputs['verdict-headline']!,
      /did not produce the model at model\.onnx \(missing-base: fail\)/,
    );
  });

  it('downloads the model from a URL, and names the URL and the status when that fails', async (t) => {
    const s = await scenario(t);
    const files: Record<string, string> = {
      '/models/head.onnx': fixture('seed-case-2.onnx'),
      '/models/base.onnx': fixture('seed-case-1.onnx'),
    };
    const seen: { path: string; authorization: string | undefined }[] = [];
    const server = http.createServer((req, res) => {
      seen.push({ path: req.url ?? '', authorization: req.headers.authorization });
      const file = files[req.url ?? ''];
      if (!file) {
        res.writeHead(404, { 'content-type': 'text/plain' });
        res.end('not found');
        return;
      }
      const bytes = readFileSync(file);
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': bytes.length });
      res.end(bytes);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/models`;

    const run = await s.run({
      inputs: { model: `${url}/head.onnx`, 'base-model': `${url}/base.onnx`, build: '' },
      env: { GITHUB_TOKEN: WRITE_TOKEN },
    });
    assert.equal(run.code, 0, run.log);
    assert.equal(run.outputs.unique, '9');
    assert.equal(run.outputs['base-unique'], '18');
    assert.deepEqual(
      seen.map((r) => r.path),
      ['/models/head.onnx', '/models/base.onnx'],
    );
    assert.ok(
      seen.every((r) => r.authorization === undefined),
      'no credentials go to the model URL',
    );

    const missing = await s.run({
      inputs: { model: `${url}/missing.onnx`, 'base-model': `${url}/base.onnx`, build: '' },
    });
    assert.equal(missing.code, 1, missing.log);
    const error = commands(missing, 'error').join('\n');
    assert.ok(
      error.includes(`cannot download the model from ${url}/missing.onnx: HTTP 404 Not Found`),
      error,
    );
    assert.match(missing.summary, /could not run/);
  });

  it('a baseline report from the default branch replaces rebuilding the base', async (t) => {
    const s = await scenario(t);
    const baseline = await s.baseline();
    assert.equal(baseline.code, 0, baseline.log);
    assert.equal(baseline.outputs.unique, '18');
    assert.match(baseline.summary, /baseline: 18 unique parameters/);
    const file = baseline.outputs['report-path']!;
    const bundle = JSON.parse(readFileSync(file, 'utf8'));
    assert.equal(bundle.mode, 'baseline');
    assert.equal(bundle.commits.head, s.repo.commits.base);

    const pr = await s.run({ inputs: { 'base-report': file } });
    assert.equal(pr.code, 0, pr.log);
    assert.equal(pr.outputs['base-unique'], '18');
    assert.doesNotMatch(pr.log, /build base/);
    assert.match(s.comments()[0]!.body, /baseline report/);
  });
});

describe('action: baseline artifact (baseline: auto)', () => {
  it("uses the base commit's own baseline artifact, and rebuilds the base when it is missing or invalid", async (t) => {
    const s = await scenario(t);
    const baseline = await s.baseline();
    assert.equal(baseline.code, 0, baseline.log);
    const good = readFileSync(baseline.outputs['report-path']!);
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tampering with arbitrary JSON
    const tampered = (change: (b: any) => void) => {
      const bundle = JSON.parse(good.toString('utf8'));
      change(bundle);
      return zipSync({ 'paramtrace-report.json': strToU8(JSON.stringify(bundle)) });
    };
    const base = s.repo.commits.base!;
    const state = s.api.state;
    state.addArtifact(REPO, 501, {
      name: 'paramtrace-baseline',
      headSha: base,
      createdAt: '2026-01-01T00:10:00Z',
      content: zipSync({ 'paramtrace-report.json': new Uint8Array(good) }),
    });
    // Newer, but passed over: expired; uploaded by a fork's run; for another commit; another name.
    const decoy = tampered((b) => (b.head.counts.unique = 1));
    state.addArtifact(REPO, 502, {
      name: 'paramtrace-baseline',
      headSha: base,
      expired: true,
      content: decoy,
    });
    state.addArtifact(REPO, 503, {
      name: 'paramtrace-baseline',
      headSha: base,
      headRepositoryId: 424242,
      content: decoy,
    });
    state.addArtifact(REPO, 504, {
      name: 'paramtrace-baseline',
      headSha: s.repo.commits.head!,
      content: decoy,
    });
    state.addArtifact(REPO, 505, { name: 'paramtrace-other', headSha: base, content: decoy });

    const pr = await s.run({ inputs: { 'max-growth': '5%' } });
    assert.equal(pr.code, 0, pr.log);
    assert.equal(pr.outputs['base-unique'], '18');
    assert.doesNotMatch(pr.log, /build base/, 'the base was not rebuilt');
    assert.match(pr.log, /base from the 'paramtrace-baseline' artifact \d+ of run 501/);
    assert.ok(
      s
        .comments()[0]!
        .body.includes(
          `base [<code>${base.slice(0, 12)}</code>](https://github.com/${REPO}/commit/${base}) (baseline artifact)`,
        ),
      s.comments()[0]!.body,
    );
    const download = s.api.requests.find((r) => r.path.startsWith('/_artifact-downloads/'));
    assert.ok(download, 'the zip was downloaded');
    assert.equal(download.status, 200);
    assert.equal(download.authorized, false, 'the token is not sent to the download URL');
    assert.equal(commands(pr, 'warning').length, 0, pr.log);

    // An artifact that fails validation is refused, and the base is rebuilt.
    const valid = state.repo(REPO)!.artifacts.find((a) => a.runId === 501)!;
    valid.content = tampered((b) => (b.head.layers[0].name = 'conv1\u202e'));
    const refused = await s.run({ inputs: { 'max-growth': '5%' } });
    assert.equal(refused.code, 0, refused.log);
    assert.match(
      commands(refused, 'warning').join('\n'),
      /refusing artifact 'paramtrace-baseline' .*U\+202E.* Rebuilding the base instead/,
    );
    assert.match(refused.log, /build base/);
    assert.equal(refused.outputs['base-unique'], '18');

    // A report of another commit is refused too; so is a zip without a report.
    valid.content = tampered((b) => (b.commits.head = s.repo.commits.head));
    const other = await s.run({});
    assert.match(commands(other, 'warning').join('\n'), /is the report of commit .* not of the base commit/);
    valid.content = zipSync({ 'notes.txt': strToU8('nothing here') });
    const empty = await s.run({});
    assert.match(
      commands(empty, 'warning').join('\n'),
      /expected paramtrace-report\.json, found no \.json file/,
    );

    // baseline: rebuild never looks.
    const before = s.api.requests.length;
    const rebuild = await s.run({ inputs: { baseline: 'rebuild', comment: 'never' } });
    assert.equal(rebuild.code, 0, rebuild.log);
    assert.equal(s.api.requests.length, before);
    assert.deepEqual(s.api.violations, []);
  });

  it('without actions: read, the lookup is a warning with the fix and the base is rebuilt', async (t) => {
    const s = await scenario(t);
    s.api.faults.inject('GET /repos/{owner}/{repo}/actions/artifacts', {
      type: 'forbidden',
      permission: 'actions=read',
    });
    const run = await s.run({});
    assert.equal(run.code, 0, run.log);
    assert.match(commands(run, 'warning').join('\n'), /actions: read/);
    assert.match(run.log, /build base/);
  });
});

describe('action: forks', () => {
  it('refuses to build a fork pull request on a self-hosted runner unless allowed, and says why', async (t) => {
    const s = await scenario(t, { fork: true });
    const refused = await s.run({ env: { RUNNER_ENVIRONMENT: 'self-hosted' } });
    assert.equal(refused.code, 1);
    const error = commands(refused, 'error').join('\n');
    assert.match(
      error,
      /refusing to build pull request #7 from fork mallory\/models on a self-hosted runner/,
    );
    assert.match(error, /allow-fork-on-self-hosted/);
    assert.ok(!existsSync(join(s.repo.dir, MODEL)), 'the build did not run');
    assert.equal(s.api.requests.length, 0);

    const target = await s.run({ eventName: 'pull_request_target' });
    assert.equal(target.code, 1);
    assert.match(commands(target, 'error').join('\n'), /pull_request_target/);

    const allowed = await s.run({
      env: { RUNNER_ENVIRONMENT: 'self-hosted' },
      inputs: { 'allow-fork-on-self-hosted': 'true' },
    });
    assert.equal(allowed.code, 0, allowed.log);
  });

  it('fork-safe pair: the pull_request run writes the report, the workflow_run run posts it', async (t) => {
    const s = await scenario(t, { fork: true });
    const pr = await s.run({ token: READ_ONLY_TOKEN, inputs: { comment: 'never', 'max-growth': '5%' } });
    assert.equal(pr.code, 0, pr.log);
    // baseline: auto looks for the base commit's baseline artifact (there is none); nothing else.
    assert.deepEqual(
      s.api.requests.map((r) => r.route),
      ['GET /repos/{owner}/{repo}/actions/artifacts'],
      'the pull_request run only reads',
    );
    assert.match(
      commands(pr, 'warning').join('\n'),
      /no 'paramtrace-baseline' artifact .* Rebuilding the base/,
    );

    // actions/upload-artifact + actions/download-artifact: the report lands in a directory.
    const artifact = mkdtempSync(join(tmpdir(), 'paramtrace-artifact-'));
    const empty = mkdtempSync(join(tmpdir(), 'paramtrace-post-'));
    t.after(() => {
      rmSync(artifact, { recursive: true, force: true });
      rmSync(empty, { recursive: true, force: true });
    });
    writeFileSync(join(artifact, 'paramtrace-report.json'), readFileSync(pr.outputs['report-path']!));

    const post = await s.run({
      workspace: empty,
      eventName: 'workflow_run',
      event: workflowRunEvent(s),
      inputs: {
        mode: 'post',
        model: '',
        build: '',
        'artifact-path': artifact,
        'commit-status': 'true',
        'max-growth': '5%',
      },
    });
    assert.equal(post.code, 0, post.log);
    assert.equal(post.outputs['pull-request'], '7');
    assert.equal(post.outputs.verdict, 'pass');
    const comments = s.comments();
    assert.equal(comments.length, 1);
    assert.ok(comments[0]!.body.startsWith(MARKER));
    assert.match(comments[0]!.body, /conv1\.weight/);
    assert.deepEqual(
      s.api.state.statusesFor(REPO, s.repo.commits.head!).map((x) => [x.context, x.state]),
      [['paramtrace', 'success']],
    );
    assert.ok(
      s.api.requests.some((r) => r.route === 'GET /repos/{owner}/{repo}/commits/{commit_sha}/pulls'),
      'the pull request was found by the head sha',
    );
    assert.deepEqual(s.api.violations, []);
  });

  it('rejects a tampered artifact with a clear error and posts nothing', async (t) => {
    const s = await scenario(t, { fork: true });
    const pr = await s.run({ token: READ_ONLY_TOKEN, inputs: { comment: 'never' } });
    assert.equal(pr.code, 0, pr.log);
    const good = JSON.parse(readFileSync(pr.outputs['report-path']!, 'utf8'));
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tampering with arbitrary JSON
    const tampers: [string, (b: any) => void, RegExp][] = [
      ['schema version', (b) => (b.schemaVersion = 2), /schemaVersion/],
      ['bidi override in a layer name', (b) => (b.head.layers[0].name = 'conv1\u202e@evil'), /U\+202E/],
      ['extra key', (b) => (b.head.counts.injected = 1), /injected|additional/],
      ['negative count', (b) => (b.head.counts.unique = -5), /unique/],
      ['other commit', (b) => (b.pullRequest.headSha = 'f'.repeat(40)), /is for commit f{40}/],
      ['oversized string', (b) => (b.head.parameters[0].name = 'x'.repeat(100_000)), /4096|longer|more than/],
      ['wrong type', (b) => (b.head.layers = 'all of them'), /layers/],
    ];
    for (const [what, tamper, expected] of tampers) {
      const artifact = mkdtempSync(join(tmpdir(), 'paramtrace-artifact-'));
      t.after(() => rmSync(artifact, { recursive: true, force: true }));
      const bundle = structuredClone(good);
      tamper(bundle);
      writeFileSync(join(artifact, 'paramtrace-report.json'), JSON.stringify(bundle));
      const post = await s.run({
        workspace: artifact,
        eventName: 'workflow_run',
        event: workflowRunEvent(s),
        inputs: { mode: 'post', model: '', build: '', 'artifact-path': artifact, 'commit-status': 'true' },
      });
      assert.equal(post.code, 1, `${what}: ${post.log}`);
      const error = commands(post, 'error').join('\n');
      assert.match(error, /refusing the report artifact/, what);
      assert.match(error, expected, `${what}: ${error}`);
    }
    assert.equal(s.comments().length, 0);
    // Refused, and the required check says so instead of waiting (commit-status: true).
    assert.deepEqual(
      s.api.state.statusesFor(REPO, s.repo.commits.head!).map((x) => x.state),
      Array(7).fill('failure'),
    );
  });
});

describe('action: post mode given a baseline bundle', () => {
  it('refuses it with a clear error and posts nothing', async (t) => {
    const s = await scenario(t, { fork: true });
    const baseline = await s.baseline();
    assert.equal(baseline.code, 0, baseline.log);
    const artifact = mkdtempSync(join(tmpdir(), 'paramtrace-artifact-'));
    t.after(() => rmSync(artifact, { recursive: true, force: true }));
    writeFileSync(join(artifact, 'paramtrace-report.json'), readFileSync(baseline.outputs['report-path']!));
    const post = await s.run({
      workspace: artifact,
      eventName: 'workflow_run',
      event: workflowRunEvent(s),
      inputs: { mode: 'post', model: '', build: '', 'artifact-path': artifact, 'commit-status': 'true' },
    });
    assert.equal(post.code, 1, post.log);
    const error = commands(post, 'error').join('\n');
    assert.match(
      error,
      /refusing the report artifact: it is a mode: baseline bundle, not the report of a mode: pr run/,
    );
    assert.doesNotMatch(post.log, /internal error/);
    assert.equal(s.comments().length, 0);
    assert.deepEqual(
      s.api.state.statusesFor(REPO, s.repo.commits.head!).map((x) => x.state),
      ['failure'],
    );
  });
});

describe('action: API faults', () => {
  const COMMENTS = 'GET /repos/{owner}/{repo}/issues/{issue_number}/comments' as const;
  const CREATE = 'POST /repos/{owner}/{repo}/issues/{issue_number}/comments' as const;
  const STATUS = 'POST /repos/{owner}/{repo}/statuses/{sha}' as const;

  it('retries 5xx answers and secondary rate limits (honouring retry-after)', async (t) => {
    const s = await scenario(t);
    s.api.faults.inject(COMMENTS, { type: 'error', status: 502 });
    s.api.faults.inject(CREATE, { type: 'secondary-rate-limit', retryAfterSeconds: 1 });
    s.api.faults.inject(STATUS, { type: 'error', status: 500 });
    const run = await s.run({ inputs: { 'commit-status': 'true', baseline: 'rebuild' } });
    assert.equal(run.code, 0, run.log);
    assert.equal(s.comments().length, 1);
    assert.equal(s.api.state.statusesFor(REPO, s.repo.commits.head!).length, 1);
    const faults = s.api.requests.filter((r) => r.fault).map((r) => `${r.route} ${r.status}`);
    assert.deepEqual(faults.sort(), [`${COMMENTS} 502`, `${CREATE} 403`, `${STATUS} 500`].sort());
    assert.match(run.log, /secondary rate limit .* retrying after 1 s/);
    assert.equal(commands(run, 'warning').length, 0, run.log);
    assert.deepEqual(s.api.violations, []);
  });

  it('a pull request closed mid-run still gets its one comment and status, and the verdict', async (t) => {
    const s = await scenario(t);
    s.api.faults.closePullRequestOnNext(COMMENTS, REPO, 7, { merged: true });
    const run = await s.run({ head: 'grown', inputs: { 'max-growth': '5%', 'commit-status': 'true' } });
    assert.equal(run.code, 1, run.log);
    assert.equal(s.api.state.pullRequest(REPO, 7)?.state, 'closed');
    assert.equal(s.comments().length, 1);
    assert.equal(s.api.state.statusesFor(REPO, s.repo.commits.grown!)[0]?.state, 'failure');
    assert.deepEqual(s.api.violations, []);
  });

  it('recreates a comment deleted between lookup and update', async (t) => {
    const s = await scenario(t);
    const old = s.api.state.addComment(REPO, 7, { body: `${MARKER}\nan older report` });
    s.api.faults.deleteCommentAfterNextList(old.id);
    const run = await s.run({});
    assert.equal(run.code, 0, run.log);
    assert.equal(run.outputs['comment-action'], 'created');
    const comments = s.comments();
    assert.equal(comments.length, 1);
    assert.notEqual(comments[0]!.id, old.id);
    assert.ok(s.api.requests.some((r) => r.method === 'PATCH' && r.status === 404));
  });

  it('a 403 on the comment and status is a warning with the fix; the verdict still comes from the thresholds', async (t) => {
    const s = await scenario(t);
    const failing = await s.run({
      head: 'grown',
      token: READ_ONLY_TOKEN,
      inputs: { 'max-growth': '5%', 'commit-status': 'true' },
    });
    assert.equal(failing.code, 1, failing.log);
    assert.equal(failing.outputs.verdict, 'fail');
    assert.equal(failing.outputs['comment-action'], 'failed');
    assert.match(failing.summary, /fail/);
    const warnings = commands(failing, 'warning').join('\n');
    assert.match(warnings, /could not post the pull request comment \(403/);
    assert.match(warnings, /pull-requests: write/);
    assert.match(warnings, /statuses: write/);
    assert.match(commands(failing, 'error').join('\n'), /fail/);

    const passing = await s.run({ token: READ_ONLY_TOKEN, inputs: { 'max-growth': '5%' } });
    assert.equal(passing.code, 0, passing.log);
    assert.equal(passing.outputs.verdict, 'pass');
    assert.match(commands(passing, 'warning').join('\n'), /fork-safe/);
    assert.ok(existsSync(passing.outputs['report-path']!));
    assert.equal(s.comments().length, 0);
  });

  it('gives up on an exhausted primary rate limit without failing the job', async (t) => {
    const s = await scenario(t);
    s.api.faults.inject('*', { type: 'rate-limit', resetInSeconds: 3600 }, Infinity);
    const run = await s.run({ inputs: { 'commit-status': 'true' } });
    assert.equal(run.code, 0, run.log);
    assert.match(commands(run, 'warning').join('\n'), /rate limit/);
    assert.match(run.summary, /pass/);
    const failOnApi = await s.run({ inputs: { 'fail-on-api-error': 'true' } });
    assert.equal(failOnApi.code, 1, failOnApi.log);
  });

  it('times out a request that hangs and retries it', async (t) => {
    const s = await scenario(t);
    s.api.faults.inject(COMMENTS, { type: 'hang' });
    const run = await s.run({ inputs: { 'api-timeout': '1' } });
    assert.equal(run.code, 0, run.log);
    assert.equal(s.comments().length, 1);
  });

  it('two runs for one pull request at once leave one comment', async (t) => {
    const s = await scenario(t);
    // Slow creation down so both runs pass their re-check before either comment exists.
    s.api.faults.inject(CREATE, { type: 'delay', ms: 700 }, 2);
    s.repo.checkout('head');
    const copy = mkdtempSync(join(tmpdir(), 'paramtrace-clone-'));
    t.after(() => rmSync(copy, { recursive: true, force: true }));
    execFileSync('git', ['clone', '--quiet', s.repo.dir, copy], { stdio: 'pipe' });
    execFileSync('git', ['checkout', '--quiet', '--detach', s.repo.commits.head!], {
      cwd: copy,
      stdio: 'pipe',
    });
    const [a, b] = await Promise.all([s.run({ workspace: s.repo.dir }), s.run({ workspace: copy })]);
    assert.equal(a.code, 0, a.log);
    assert.equal(b.code, 0, b.log);
    assert.equal(
      s.comments().length,
      1,
      JSON.stringify(s.api.requests.map((r) => `${r.method} ${r.path} ${r.status}`)),
    );
    assert.deepEqual(s.api.violations, []);
  });
});

describe('action: tracing', () => {
  // The layer diff of seed case 1 → 2: conv1 unchanged (folded), its second call conv1_1 added.
  const CONV1_TRACED = /^\| <code>conv1_1<\/code> \| [^|\n]* \| - \| 9 \| \+9 \| added \|$/m;

  it('traces head and base with the onnxruntime-node it installs once into the tool cache, in a worker without the token', async (t) => {
    const s = await scenario(t);
    const cache = mkdtempSync(join(tmpdir(), 'paramtrace-toolcache-'));
    t.after(() => rmSync(cache, { recursive: true, force: true }));
    const env = {
      RUNNER_TOOL_CACHE: cache,
      GITHUB_TOKEN: WRITE_TOKEN,
      ACTIONS_RUNTIME_TOKEN: 'runtime-secret',
    };
    const first = await s.run({ inputs: { trace: 'true', 'max-growth': '5%' }, env });
    assert.equal(first.code, 0, first.log);
    const body = s.comments()[0]!.body;
    assert.match(body, CONV1_TRACED, 'the traced second call of conv1 is in the layer diff');
    assert.match(body, /head: traced with onnxruntime [\d.]+ on cpu/);
    assert.match(body, /base: traced with onnxruntime [\d.]+ on cpu/);
    const report = JSON.parse(readFileSync(first.outputs['report-path']!, 'utf8'));
    assert.equal(report.head.trace.mode, 'onnxruntime');
    assert.equal(report.base.trace.mode, 'onnxruntime');

    // Each analysis is a log group that shows its phases as they end; a line after it sums them up.
    const log = first.log.split('\n');
    for (const side of ['head', 'base']) {
      const start = log.findIndex((l) => l.startsWith(`::group::paramtrace: analyze ${side}`));
      assert.ok(start >= 0, `a log group for the ${side} analysis:\n${first.log}`);
      const end = log.indexOf('::endgroup::', start);
      const inside = log.slice(start + 1, end);
      for (const phase of ['read', 'trace', 'fingerprint', 'analyze', 'cost']) {
        const said = (pattern: string): number => inside.filter((l) => new RegExp(pattern).test(l)).length;
        assert.equal(said(`^${phase}: .* \\.\\.\\.$`), 1, `${phase} starts once:\n${inside.join('\n')}`);
        assert.equal(said(`^${phase}: done in \\d+ ms$`), 1, `${phase} ends once:\n${inside.join('\n')}`);
      }
      assert.match(
        log[end + 1]!,
        new RegExp(
          `^paramtrace: ${side}.* ${MODEL}: read \\d+ ms \\(\\d+ MiB\\), trace \\d+(\\.\\d)?( m)?s \\(\\d+ MiB\\), fingerprint \\d+ ms \\(\\d+ MiB\\), analyze \\d+ ms \\(\\d+ MiB\\), cost \\d+ ms \\(\\d+ MiB\\)$`,
        ),
      );
    }

    // One install, CPU only (nvidia-smi shows no GPU), pinned, without credentials.
    assert.equal(first.npmCalls.length, 1);
    const [install] = first.npmCalls;
    assert.equal(install!.install, 'skip');
    assert.ok(install!.args.includes('onnxruntime-node@1.30.0'), install!.args.join(' '));
    assert.ok(!install!.env.includes(WRITE_TOKEN));
    assert.doesNotMatch(install!.env, /^(INPUT_|GITHUB_TOKEN=|ACTIONS_RUNTIME_TOKEN=|GITHUB_OUTPUT=)/m);
    const runtime = join(cache, 'paramtrace-ort', '1.30.0-cpu');
    assert.ok(existsSync(join(runtime, '.paramtrace-complete')));

    // Each trace worker (head and base) loaded it from there, with a clean environment.
    assert.equal(first.workerEnvs.length, 2);
    for (const workerEnv of first.workerEnvs) {
      assert.equal(workerEnv.PARAMTRACE_ONNXRUNTIME_DIR, runtime);
      const leaked = Object.entries(workerEnv).filter(
        ([k, v]) =>
          k.startsWith('INPUT_') ||
          /^(GITHUB_TOKEN|ACTIONS_RUNTIME_TOKEN|GITHUB_OUTPUT|GITHUB_ENV|GITHUB_STEP_SUMMARY)$/.test(k) ||
          v.includes(WRITE_TOKEN),
      );
      assert.deepEqual(
        leaked.map(([k]) => k),
        [],
        'the trace worker sees no token, input or command file',
      );
    }
    assertNoToken(first);

    // The next run finds it in the cache.
    const second = await s.run({ head: 'grown', inputs: { trace: 'true', 'max-growth': '5%' }, env });
    assert.equal(second.code, 1, second.log);
    assert.equal(second.npmCalls.length, 0);
    assert.match(second.log, /onnxruntime-node 1\.30\.0 \(cpu\) from the cache/);
    assert.match(s.comments()[0]!.body, /head: traced with onnxruntime [\d.]+ on cpu/);
    assert.deepEqual(s.api.violations, []);
  });

  it('device auto installs the CUDA provider where nvidia-smi shows a GPU, and the CPU runtime when that fails', async (t) => {
    const s = await scenario(t);
    const run = await s.run({ gpu: true, npmFails: ['cuda12'], inputs: { trace: 'true', comment: 'never' } });
    assert.equal(run.code, 0, run.log);
    assert.deepEqual(
      run.npmCalls.map((c) => c.install),
      ['cuda12', 'skip'],
    );
    assert.match(
      commands(run, 'warning').join('\n'),
      /CUDA 12 provider failed .*ECONNREFUSED.*tracing on the CPU/,
    );
    assert.match(run.outputs['comment-body']!, /head: traced with onnxruntime [\d.]+ on cpu/);
  });

  it('a trace that cannot run gives the static report and says why in the footer; trace: required fails', async (t) => {
    const s = await scenario(t);
    const offline = await s.run({ npmFails: 'always', inputs: { trace: 'true' } });
    assert.equal(offline.code, 0, offline.log);
    const footer = s.comments()[0]!.body.split('\n').at(-2)!;
    assert.match(
      footer,
      /head: static &#40;trace failed&#58; onnxruntime-node 1\.30\.0 could not be installed&#58; npm install onnxruntime-node@.?1\.30\.0 failed/,
    );
    assert.match(commands(offline, 'warning').join('\n'), /could not be installed.*analyzed statically/);
    // Right after the verdict, a warning names the sides, why, and what to set.
    assert.match(
      s.comments()[0]!.body,
      /^### paramtrace: .*\n\n> \[!WARNING\]\n> The trace failed for \*\*head\*\*.* \(onnxruntime-node .*could not be installed.*<code>trace: required<\/code>/m,
    );

    // An entry naming no input of the model is a usage error: the run fails even with `trace: true`.
    const badInput = await s.run({ inputs: { trace: 'true', 'input-shapes': 'pixels=1x3x8x8' } });
    assert.equal(badInput.code, 1, badInput.log);
    assert.match(commands(badInput, 'error').join('\n'), /--input pixels: the model has no such input/);

    const required = await s.run({ inputs: { trace: 'required', 'input-shapes': 'pixels=1x3x8x8' } });
    assert.equal(required.code, 1, required.log);
    assert.match(commands(required, 'error').join('\n'), /pixels: the model has no such input/);
    const requiredOffline = await s.run({ npmFails: 'always', inputs: { trace: 'required' } });
    assert.equal(requiredOffline.code, 1, requiredOffline.log);
    assert.match(commands(requiredOffline, 'error').join('\n'), /trace: required, but onnxruntime-node/);
  });
});

describe('action: the picture of the comment in docs/action.md', () => {
  const DOC = join(ROOT, 'docs/action.md');
  const START =
    '<!-- comment-picture:start (written by test/action-e2e.test.ts; PARAMTRACE_UPDATE_DOCS=1 rewrites it) -->';
  const END = '<!-- comment-picture:end -->';

  it('is the comment the action posts for the bundled example pair, traced', async (t) => {
    const s = await scenario(t, {
      commits: [
        { label: 'base', model: 'examples/base.onnx' },
        { label: 'head', model: 'examples/head.onnx', branch: 'feature' },
      ],
    });
    const run = await s.run({
      inputs: { trace: 'true', device: 'cpu', 'max-growth': '5%' },
    });
    assert.equal(run.code, 0, run.log);
    const [comment] = s.comments();
    assert.match(comment!.body, /head: traced with onnxruntime [\d.]+ on cpu/);
    // The marker line is invisible on GitHub; the picture starts at the verdict.
    const visible = comment!.body.replace(/^<!--[^\n]*-->\n/, '').trimEnd();
    const picture = visible
      .split('\n')
      .map((line) => (line === '' ? '>' : `> ${line}`))
      .join('\n');
    const block = `${START}\n<!-- prettier-ignore-start -->\n\n${picture}\n\n<!-- prettier-ignore-end -->\n${END}`;
    const doc = readFileSync(DOC, 'utf8');
    const at = doc.indexOf(START);
    const end = doc.indexOf(END);
    assert.ok(at >= 0 && end > at, `docs/action.md has no ${START} ... ${END} block`);
    const current = doc.slice(at, end + END.length);
    if (process.env.PARAMTRACE_UPDATE_DOCS === '1' && current !== block) {
      writeFileSync(DOC, doc.slice(0, at) + block + doc.slice(end + END.length));
      return;
    }
    assert.equal(current, block, 'docs/action.md shows another comment: rerun with PARAMTRACE_UPDATE_DOCS=1');
  });
});

describe('action: the self-test workflow', () => {
  it('compares the bundled example pair with base-model and no pull request', async (t) => {
    const api = await startGitHubApi();
    t.after(() => api.close());
    const run = await runAction({
      entry: builtEntry(),
      workspace: ROOT,
      inputs: {
        model: 'examples/head.onnx',
        'base-model': 'examples/base.onnx',
        'comment-key': 'selftest',
        'max-growth': '5%',
      },
      eventName: 'push',
      event: { ref: 'refs/heads/main' },
      repository: REPO,
      sha: 'f'.repeat(40),
      apiUrl: api.url,
    });
    t.after(() => run.cleanup());
    assert.equal(run.code, 0, run.log);
    assert.equal(run.outputs.verdict, 'pass');
    assert.ok(Number(run.outputs['new-shared-count']) >= 1);
    assert.ok(Number(run.outputs['new-unused-count']) >= 1);
    assert.ok(run.outputs['report-path']!.endsWith('paramtrace-report-selftest.json'));
    assert.ok(run.outputs['comment-body']!.startsWith('<!-- paramtrace:comment-key=selftest -->'));
    assert.equal(api.requests.length, 0);
    // Every output the action sets is declared in action.yml.
    const declared = declaredOutputs();
    for (const name of Object.keys(run.outputs))
      assert.ok(declared.has(name), `output '${name}' is not in action.yml`);
  });
});

function declaredOutputs(): Set<string> {
  const yml = readFileSync(join(ROOT, 'action.yml'), 'utf8');
  const section = yml.slice(yml.indexOf('\noutputs:\n'), yml.indexOf('\nruns:\n'));
  return new Set([...section.matchAll(/^ {2}([a-z-]+):$/gm)].map((m) => m[1]!));
}
