import { describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { Octokit } from '@octokit/rest';
import { retry } from '@octokit/plugin-retry';
import { throttling } from '@octokit/plugin-throttling';
import {
  READ_ONLY_TOKEN,
  WRITE_TOKEN,
  fakeSha,
  startGitHubApi,
  type AuthorAssociation,
  type GitHubApiServer,
  type StartGitHubApiOptions,
} from './support/github-api-server.ts';

const REPO = { owner: 'octo-org', repo: 'models' };
const FULL = `${REPO.owner}/${REPO.repo}`;
const HEAD = fakeSha('head');
const AUTHOR_ASSOCIATIONS = [
  'COLLABORATOR',
  'CONTRIBUTOR',
  'FIRST_TIMER',
  'FIRST_TIME_CONTRIBUTOR',
  'MANNEQUIN',
  'MEMBER',
  'NONE',
  'OWNER',
];
const silent = { debug() {}, info() {}, warn() {}, error() {} };

/** A server seeded with one repo and PR #7; closed after the test, which also checks conformance. */
async function start(t: TestContext, options: StartGitHubApiOptions = {}): Promise<GitHubApiServer> {
  const api = await startGitHubApi(options);
  api.state.addRepo(FULL, { ownerType: 'Organization' });
  api.state.addPullRequest(FULL, {
    number: 7,
    headSha: HEAD,
    headRef: 'grow-model',
    user: 'alice',
    body: 'Bigger.',
  });
  t.after(() => api.close());
  return api;
}

function client(api: GitHubApiServer, token = WRITE_TOKEN): Octokit {
  return new Octokit({ auth: token, baseUrl: api.url, log: silent });
}

async function rejection(promise: Promise<unknown>): Promise<{
  status: number;
  message: string;
  response?: { headers: Record<string, string | undefined>; data: unknown };
}> {
  try {
    await promise;
  } catch (error) {
    return error as Awaited<ReturnType<typeof rejection>>;
  }
  assert.fail('expected the request to fail');
}

describe('fake GitHub API: resources', () => {
  it('paginates 250 comments with GitHub Link headers', async (t) => {
    const api = await start(t);
    for (let i = 0; i < 250; i++)
      api.state.addComment(FULL, 7, { body: `comment ${i}`, user: i % 2 ? 'alice' : 'octo-org' });
    const octokit = client(api);

    const all = await octokit.paginate(octokit.rest.issues.listComments, {
      ...REPO,
      issue_number: 7,
      per_page: 100,
    });
    assert.equal(all.length, 250);
    assert.deepEqual(
      all.map((c) => c.body),
      Array.from({ length: 250 }, (_, i) => `comment ${i}`),
    );
    assert.ok(
      all.every((c, i) => i === 0 || c.id > all[i - 1]!.id),
      'ascending ids',
    );
    assert.deepEqual(
      api.requests.map((r) => r.path),
      [1, 2, 3].map((p) => `/repos/${FULL}/issues/7/comments?per_page=100${p > 1 ? `&page=${p}` : ''}`),
    );
    assert.equal(all[0]!.author_association, 'OWNER');
    assert.equal(all[1]!.author_association, 'NONE');

    const first = await octokit.rest.issues.listComments({ ...REPO, issue_number: 7 });
    assert.equal(first.data.length, 30); // GitHub's default per_page
    const base = `${api.url}/repos/${FULL}/issues/7/comments`;
    assert.equal(first.headers.link, `<${base}?page=2>; rel="next", <${base}?page=9>; rel="last"`);
    const middle = await octokit.rest.issues.listComments({
      ...REPO,
      issue_number: 7,
      per_page: 100,
      page: 2,
    });
    assert.equal(
      middle.headers.link,
      `<${base}?per_page=100&page=1>; rel="prev", <${base}?per_page=100&page=3>; rel="next", ` +
        `<${base}?per_page=100&page=3>; rel="last", <${base}?per_page=100&page=1>; rel="first"`,
    );
    const capped = await octokit.rest.issues.listComments({ ...REPO, issue_number: 7, per_page: 500 });
    assert.equal(capped.data.length, 100, 'per_page is capped at 100');
    assert.deepEqual(api.violations, []);
  });

  it('creates, reads, updates and deletes a comment', async (t) => {
    let now = Date.parse('2025-03-01T12:00:00Z');
    const api = await start(t, { clock: () => new Date(now) });
    const octokit = client(api);

    const created = await octokit.rest.issues.createComment({
      ...REPO,
      issue_number: 7,
      body: '## paramtrace',
    });
    assert.equal(created.status, 201);
    assert.equal(created.headers.location, created.data.url);
    assert.equal(created.data.user?.login, 'github-actions[bot]');
    assert.equal(created.data.user?.type, 'Bot');
    assert.equal(created.data.created_at, '2025-03-01T12:00:00Z');
    assert.equal(created.data.html_url, `https://github.com/${FULL}/pull/7#issuecomment-${created.data.id}`);
    assert.ok(created.data.id > 2 ** 31, 'realistic int64 comment ids');
    const id = created.data.id;

    now += 5000;
    const updated = await octokit.rest.issues.updateComment({
      ...REPO,
      comment_id: id,
      body: '## paramtrace v2',
    });
    assert.equal(updated.data.body, '## paramtrace v2');
    assert.equal(updated.data.created_at, '2025-03-01T12:00:00Z');
    assert.equal(updated.data.updated_at, '2025-03-01T12:00:05Z');
    assert.equal(api.state.comments.get(id)?.body, '## paramtrace v2');

    const fetched = await octokit.rest.issues.getComment({ ...REPO, comment_id: id });
    assert.deepEqual(fetched.data, updated.data);
    api.state.addComment(FULL, 7, { body: 'older', createdAt: '2025-03-01T11:00:00Z' });
    const since = await octokit.rest.issues.listComments({
      ...REPO,
      issue_number: 7,
      since: '2025-03-01T12:00:03Z',
    });
    assert.deepEqual(
      since.data.map((c) => c.id),
      [id],
    );

    const deleted = await octokit.rest.issues.deleteComment({ ...REPO, comment_id: id });
    assert.equal(deleted.status, 204);
    assert.equal(api.state.comments.has(id), false);
    const gone = await rejection(octokit.rest.issues.getComment({ ...REPO, comment_id: id }));
    assert.equal(gone.status, 404);
    assert.deepEqual(gone.response?.data, {
      message: 'Not Found',
      documentation_url: 'https://docs.github.com/rest/issues/comments#get-an-issue-comment',
      status: '404',
    });
    assert.equal(
      (await rejection(octokit.rest.issues.deleteComment({ ...REPO, comment_id: id }))).status,
      404,
    );
    const tooLong = await rejection(
      octokit.rest.issues.createComment({ ...REPO, issue_number: 7, body: 'x'.repeat(65537) }),
    );
    assert.equal(tooLong.status, 422);
    assert.deepEqual(api.violations, []);
  });

  it('serves pull requests, by number and by commit', async (t) => {
    const api = await start(t);
    api.state.addRepo('alice/models', { fork: true });
    api.state.addPullRequest(FULL, {
      number: 8,
      headSha: fakeSha('fork'),
      headRepo: 'alice/models',
      headRef: 'main',
    });
    api.state.addPullRequest(FULL, { number: 9, headSha: fakeSha('old'), merged: true, commits: [HEAD] });
    const octokit = client(api);

    const { data: pr } = await octokit.rest.pulls.get({ ...REPO, pull_number: 7 });
    assert.equal(pr.head.sha, HEAD);
    assert.equal(pr.head.ref, 'grow-model');
    assert.equal(pr.base.ref, 'main');
    assert.equal(pr.state, 'open');
    assert.equal(pr.user.login, 'alice');
    const { data: fork } = await octokit.rest.pulls.get({ ...REPO, pull_number: 8 });
    assert.equal(fork.head.repo?.full_name, 'alice/models');
    assert.equal(fork.head.repo?.fork, true);
    const { data: merged } = await octokit.rest.pulls.get({ ...REPO, pull_number: 9 });
    assert.equal(merged.state, 'closed');
    assert.equal(merged.merged, true);
    assert.equal((await rejection(octokit.rest.pulls.get({ ...REPO, pull_number: 99 }))).status, 404);
    assert.equal(
      (await rejection(octokit.rest.pulls.get({ owner: 'nobody', repo: 'x', pull_number: 7 }))).status,
      404,
    );

    const bySha = await octokit.rest.repos.listPullRequestsAssociatedWithCommit({
      ...REPO,
      commit_sha: HEAD,
    });
    assert.deepEqual(
      bySha.data.map((p) => p.number),
      [9, 7],
    );
    const byBranch = await octokit.rest.repos.listPullRequestsAssociatedWithCommit({
      ...REPO,
      commit_sha: 'grow-model',
    });
    assert.deepEqual(
      byBranch.data.map((p) => p.number),
      [7],
    );
    const none = await octokit.rest.repos.listPullRequestsAssociatedWithCommit({
      ...REPO,
      commit_sha: fakeSha('x'),
    });
    assert.deepEqual(none.data, []);
    // Repository names are case-insensitive on GitHub.
    assert.equal(
      (await octokit.rest.pulls.get({ owner: 'Octo-Org', repo: 'MODELS', pull_number: 7 })).data.number,
      7,
    );
    assert.deepEqual(api.violations, []);
  });

  it('creates and lists commit statuses by sha and by branch', async (t) => {
    const api = await start(t);
    const octokit = client(api);
    await octokit.rest.repos.createCommitStatus({
      ...REPO,
      sha: HEAD,
      state: 'pending',
      context: 'paramtrace',
    });
    const done = await octokit.rest.repos.createCommitStatus({
      ...REPO,
      sha: HEAD,
      state: 'success',
      context: 'paramtrace',
      description: '+1,024 parameters (+0.4%)',
      target_url: 'https://example.com/run/1',
    });
    assert.equal(done.status, 201);
    assert.equal(done.data.creator?.login, 'github-actions[bot]');

    const bySha = await octokit.rest.repos.listCommitStatusesForRef({ ...REPO, ref: HEAD });
    assert.deepEqual(
      bySha.data.map((s) => s.state),
      ['success', 'pending'],
      'newest first',
    );
    const byBranch = await octokit.rest.repos.listCommitStatusesForRef({ ...REPO, ref: 'heads/grow-model' });
    assert.deepEqual(
      byBranch.data.map((s) => s.id),
      bySha.data.map((s) => s.id),
    );
    assert.deepEqual(
      api.state.statusesFor(FULL, HEAD).map((s) => s.description),
      ['+1,024 parameters (+0.4%)', null],
    );

    const long = await rejection(
      octokit.rest.repos.createCommitStatus({
        ...REPO,
        sha: HEAD,
        state: 'success',
        description: 'x'.repeat(141),
      }),
    );
    assert.equal(long.status, 422);
    const notSha = await rejection(
      octokit.rest.repos.createCommitStatus({ ...REPO, sha: 'main', state: 'success' }),
    );
    assert.equal(notSha.status, 422);
    assert.match(notSha.message, /No commit found for SHA: main/);
    assert.deepEqual(api.violations, []);
  });

  it('lists workflow run artifacts, empty or seeded', async (t) => {
    const api = await start(t);
    api.state.addArtifact(FULL, 42, { name: 'paramtrace-base', sizeInBytes: 2048 });
    api.state.addArtifact(FULL, 42, { name: 'other' });
    const octokit = client(api);
    const empty = await octokit.rest.actions.listWorkflowRunArtifacts({ ...REPO, run_id: 41 });
    assert.deepEqual(empty.data, { total_count: 0, artifacts: [] });
    const named = await octokit.rest.actions.listWorkflowRunArtifacts({
      ...REPO,
      run_id: 42,
      name: 'paramtrace-base',
    });
    assert.equal(named.data.total_count, 1);
    assert.equal(named.data.artifacts[0]?.size_in_bytes, 2048);
    assert.equal(named.data.artifacts[0]?.workflow_run?.id, 42);
    assert.deepEqual(api.violations, []);
  });

  it('lists repository artifacts newest first and serves their zip through a signed redirect', async (t) => {
    const api = await start(t);
    const zip = new Uint8Array([0x50, 0x4b, 0x05, 0x06, ...new Array<number>(18).fill(0)]);
    const old = api.state.addArtifact(FULL, 40, {
      name: 'paramtrace-baseline',
      createdAt: '2026-01-01T00:00:00Z',
    });
    const newest = api.state.addArtifact(FULL, 41, {
      name: 'paramtrace-baseline',
      createdAt: '2026-01-02T00:00:00Z',
      headSha: HEAD,
      content: zip,
    });
    const expired = api.state.addArtifact(FULL, 39, {
      name: 'paramtrace-baseline',
      createdAt: '2025-12-31T00:00:00Z',
      expired: true,
    });
    api.state.addArtifact(FULL, 41, { name: 'other' });
    const octokit = client(api, READ_ONLY_TOKEN);
    const listed = await octokit.rest.actions.listArtifactsForRepo({ ...REPO, name: 'paramtrace-baseline' });
    assert.equal(listed.data.total_count, 3);
    assert.deepEqual(
      listed.data.artifacts.map((a) => a.id),
      [newest.id, old.id, expired.id],
    );
    assert.equal(listed.data.artifacts[0]?.workflow_run?.head_sha, HEAD);
    assert.equal(listed.data.artifacts[0]?.size_in_bytes, zip.length);
    const paged = await octokit.rest.actions.listArtifactsForRepo({ ...REPO, per_page: 1, page: 2 });
    assert.equal(paged.data.artifacts.length, 1);
    assert.match(paged.headers.link ?? '', /rel="next"/);

    const redirect = await octokit.request(
      'GET /repos/{owner}/{repo}/actions/artifacts/{artifact_id}/{archive_format}',
      { ...REPO, artifact_id: newest.id, archive_format: 'zip', request: { redirect: 'manual' } },
    );
    assert.equal(redirect.status, 302);
    const location = redirect.headers.location!;
    assert.ok(location.startsWith(api.url), location);
    const download = await fetch(location);
    assert.equal(download.status, 200);
    assert.deepEqual(new Uint8Array(await download.arrayBuffer()), zip);
    assert.equal(api.requests.at(-1)!.authorized, false);
    const unsigned = await fetch(location.replace(/sig=\w+/, 'sig=forged'));
    assert.equal(unsigned.status, 403);

    const gone = await rejection(
      octokit.rest.actions.downloadArtifact({ ...REPO, artifact_id: expired.id, archive_format: 'zip' }),
    );
    assert.equal(gone.status, 410);
    const missing = await rejection(
      octokit.rest.actions.downloadArtifact({ ...REPO, artifact_id: 1, archive_format: 'zip' }),
    );
    assert.equal(missing.status, 404);
    assert.deepEqual(api.violations, []);
  });

  it('carries GitHub headers on normal responses', async (t) => {
    const api = await start(t);
    const octokit = client(api);
    const first = await octokit.rest.pulls.get({ ...REPO, pull_number: 7 });
    const second = await octokit.rest.pulls.get({ ...REPO, pull_number: 7 });
    assert.equal(first.headers['x-ratelimit-limit'], '5000');
    assert.equal(first.headers['x-ratelimit-remaining'], '4999');
    assert.equal(second.headers['x-ratelimit-remaining'], '4998');
    assert.equal(second.headers['x-ratelimit-used'], '2');
    assert.match(String(first.headers['x-ratelimit-reset']), /^\d{10}$/);
    assert.equal(first.headers['x-ratelimit-resource'], 'core');
    assert.match(String(first.headers['x-github-request-id']), /^[0-9A-F]+(?::[0-9A-F]+){4}$/);
    assert.notEqual(first.headers['x-github-request-id'], second.headers['x-github-request-id']);
    assert.equal(api.requests[0]?.requestId, first.headers['x-github-request-id']);
  });
});

describe('fake GitHub API: requests GitHub would refuse', () => {
  it('answers 422 to a request that violates the schema and records it', async (t) => {
    const api = await start(t);
    // Octokit's types would refuse these requests; the untyped call lets them reach the server.
    const request = client(api).request as (
      route: string,
      params: Record<string, unknown>,
    ) => Promise<unknown>;
    const bad = await rejection(
      request('POST /repos/{owner}/{repo}/statuses/{sha}', { ...REPO, sha: HEAD, state: 'passed' }),
    );
    assert.equal(bad.status, 422);
    assert.match(bad.message, /Invalid request\.\n\nFor 'properties\/state', must be one of/);
    const noBody = await rejection(
      request('POST /repos/{owner}/{repo}/issues/{issue_number}/comments', { ...REPO, issue_number: 7 }),
    );
    assert.equal(noBody.status, 422);
    const badQuery = await rejection(
      request('GET /repos/{owner}/{repo}/issues/{issue_number}/comments', {
        ...REPO,
        issue_number: 7,
        per_page: 'all',
        perPage: 5,
      }),
    );
    assert.equal(badQuery.status, 422);
    const badPath = await rejection(
      request('GET /repos/{owner}/{repo}/pulls/{pull_number}', { ...REPO, pull_number: 'seven' }),
    );
    assert.equal(badPath.status, 422);

    assert.deepEqual(
      api.violations.map((v) => [v.direction, v.route, v.status, v.issues.map((i) => i.location)]),
      [
        ['request', 'POST /repos/{owner}/{repo}/statuses/{sha}', 422, ['body/state']],
        ['request', 'POST /repos/{owner}/{repo}/issues/{issue_number}/comments', 422, ['body']],
        [
          'request',
          'GET /repos/{owner}/{repo}/issues/{issue_number}/comments',
          422,
          ['query.per_page', 'query.perPage'],
        ],
        ['request', 'GET /repos/{owner}/{repo}/pulls/{pull_number}', 422, ['path.pull_number']],
      ],
    );
    assert.equal(api.state.statusesFor(FULL, HEAD).length, 0, 'nothing was written');
  });

  it('records a response that breaks the schema as a violation (a bug in the fake or its seed)', async (t) => {
    const api = await start(t);
    const bogus = api.state.addComment(FULL, 7, {
      body: 'x',
      authorAssociation: 'BOSS' as AuthorAssociation,
    });
    const { data } = await client(api).rest.issues.getComment({ ...REPO, comment_id: bogus.id });
    assert.equal(data.author_association, 'BOSS');
    assert.deepEqual(api.violations, [
      {
        direction: 'response',
        route: 'GET /repos/{owner}/{repo}/issues/comments/{comment_id}',
        method: 'GET',
        path: `/repos/${FULL}/issues/comments/${bogus.id}`,
        status: 200,
        issues: [
          {
            location: 'response/author_association',
            message: `must be one of ${JSON.stringify(AUTHOR_ASSOCIATIONS)}`,
          },
        ],
      },
    ]);
  });

  it('refuses writes with a read-only token, as for a fork pull request', async (t) => {
    const api = await start(t);
    const octokit = client(api, READ_ONLY_TOKEN);
    assert.equal((await octokit.rest.pulls.get({ ...REPO, pull_number: 7 })).status, 200);
    const denied = await rejection(
      octokit.rest.issues.createComment({ ...REPO, issue_number: 7, body: 'hi' }),
    );
    assert.equal(denied.status, 403);
    assert.match(denied.message, /^Resource not accessible by integration/);
    assert.equal(
      denied.response?.headers['x-accepted-github-permissions'],
      'issues=write; pull_requests=write',
    );
    const status = await rejection(
      octokit.rest.repos.createCommitStatus({ ...REPO, sha: HEAD, state: 'success' }),
    );
    assert.equal(status.status, 403);
    assert.equal(api.state.commentsOn(FULL, 7).length, 0);
    assert.deepEqual(api.violations, []);
  });

  it('answers 401 without or with a wrong token, 404 off the routes, 403 on a locked PR', async (t) => {
    const api = await start(t);
    const anonymous = new Octokit({ baseUrl: api.url, log: silent });
    assert.match(
      (await rejection(anonymous.rest.pulls.get({ ...REPO, pull_number: 7 }))).message,
      /Requires authentication/,
    );
    const wrong = await rejection(client(api, 'ghs_wrong').rest.pulls.get({ ...REPO, pull_number: 7 }));
    assert.equal(wrong.status, 401);
    assert.match(wrong.message, /Bad credentials/);

    const octokit = client(api);
    const off = await rejection(octokit.request('GET /repos/{owner}/{repo}/issues', REPO));
    assert.equal(off.status, 404);
    assert.deepEqual(off.response?.data, {
      message: 'Not Found',
      documentation_url: 'https://docs.github.com/rest',
      status: '404',
    });
    assert.equal((await rejection(octokit.request('PUT /repos/{owner}/{repo}/pulls/7', REPO))).status, 404);

    api.state.lockIssue(FULL, 7, 'too heated');
    const locked = await rejection(
      octokit.rest.issues.createComment({ ...REPO, issue_number: 7, body: 'hi' }),
    );
    assert.equal(locked.status, 403);
    assert.match(locked.message, /issue is locked/);
    assert.equal(
      (await octokit.rest.pulls.get({ ...REPO, pull_number: 7 })).data.active_lock_reason,
      'too heated',
    );

    api.state.closeIssue(FULL, 7);
    api.state.issue(FULL, 7)!.locked = false;
    const onClosed = await octokit.rest.issues.createComment({
      ...REPO,
      issue_number: 7,
      body: 'still allowed',
    });
    assert.equal(onClosed.status, 201, 'GitHub accepts comments on closed pull requests');
    assert.deepEqual(api.violations, []);
  });
});

describe('fake GitHub API: faults', () => {
  it('injects one-shot and N-shot 500 and 502 errors', async (t) => {
    const api = await start(t);
    const octokit = client(api);
    api.faults.inject('GET /repos/{owner}/{repo}/pulls/{pull_number}', { type: 'error', status: 500 });
    api.faults.inject('*', { type: 'error', status: 502 }, 2);
    const e500 = await rejection(octokit.rest.pulls.get({ ...REPO, pull_number: 7 }));
    assert.equal(e500.status, 500);
    assert.equal((await rejection(octokit.rest.pulls.get({ ...REPO, pull_number: 7 }))).status, 502);
    const e502 = await rejection(octokit.rest.issues.listComments({ ...REPO, issue_number: 7 }));
    assert.equal(e502.status, 502);
    assert.match(e502.message, /couldn't respond to your request in time/);
    assert.equal((await octokit.rest.pulls.get({ ...REPO, pull_number: 7 })).status, 200);
    assert.deepEqual(api.faults.pending, []);
    assert.deepEqual(
      api.requests.map((r) => [r.status, r.fault]),
      [
        [500, 'error'],
        [502, 'error'],
        [502, 'error'],
        [200, undefined],
      ],
    );
    assert.deepEqual(api.violations, []);
  });

  it('recovers from 502 with @octokit/plugin-retry', async (t) => {
    const api = await start(t);
    const RetryingOctokit = Octokit.plugin(retry);
    const octokit = new RetryingOctokit({
      auth: WRITE_TOKEN,
      baseUrl: api.url,
      log: silent,
      retry: { retryAfterBaseValue: 20 },
    });
    api.faults.inject(
      'POST /repos/{owner}/{repo}/issues/{issue_number}/comments',
      { type: 'error', status: 502 },
      2,
    );
    const created = await octokit.rest.issues.createComment({
      ...REPO,
      issue_number: 7,
      body: 'after retries',
    });
    assert.equal(created.status, 201);
    assert.deepEqual(
      api.requests.map((r) => r.status),
      [502, 502, 201],
    );
    assert.equal(api.state.commentsOn(FULL, 7).length, 1);
    assert.deepEqual(api.violations, []);
  });

  it('recovers from secondary and primary rate limits with @octokit/plugin-throttling', async (t) => {
    const api = await start(t);
    const ThrottledOctokit = Octokit.plugin(throttling);
    const seen: Array<[string, number]> = [];
    const octokit = new ThrottledOctokit({
      auth: WRITE_TOKEN,
      baseUrl: api.url,
      log: silent,
      throttle: {
        retryAfterBaseValue: 50, // 1 s of retry-after waits 50 ms here
        onSecondaryRateLimit: (retryAfter: number) => (seen.push(['secondary', retryAfter]), true),
        onRateLimit: (retryAfter: number, _options: unknown, _octokit: unknown, retryCount: number) => (
          seen.push(['primary', retryAfter]),
          retryCount < 2
        ),
      },
    });
    api.faults.inject('GET /repos/{owner}/{repo}/issues/{issue_number}/comments', {
      type: 'secondary-rate-limit',
      retryAfterSeconds: 1,
    });
    assert.equal((await octokit.rest.issues.listComments({ ...REPO, issue_number: 7 })).status, 200);
    const secondary = api.requests[0];
    assert.equal(secondary?.status, 403);

    api.faults.inject('GET /repos/{owner}/{repo}/pulls/{pull_number}', {
      type: 'rate-limit',
      resetInSeconds: 1,
    });
    assert.equal((await octokit.rest.pulls.get({ ...REPO, pull_number: 7 })).status, 200);
    assert.deepEqual(seen[0], ['secondary', 1]);
    assert.equal(seen[1]?.[0], 'primary');
    assert.ok(seen[1]![1] >= 1 && seen[1]![1] <= 3, `retry after ${seen[1]![1]} s`);
    assert.deepEqual(
      api.requests.map((r) => [r.status, r.fault]),
      [
        [403, 'secondary-rate-limit'],
        [200, undefined],
        [403, 'rate-limit'],
        [200, undefined],
      ],
    );
    assert.deepEqual(api.violations, []);
  });

  it('answers rate-limit faults with GitHub headers and bodies', async (t) => {
    const api = await start(t);
    const octokit = client(api);
    api.faults.inject('*', { type: 'secondary-rate-limit', retryAfterSeconds: 1 });
    const secondary = await rejection(octokit.rest.pulls.get({ ...REPO, pull_number: 7 }));
    assert.equal(secondary.status, 403);
    assert.equal(secondary.response?.headers['retry-after'], '1');
    assert.match(secondary.message, /exceeded a secondary rate limit/);

    api.faults.inject('*', { type: 'rate-limit', resetInSeconds: 30, status: 429 });
    const primary = await rejection(octokit.rest.pulls.get({ ...REPO, pull_number: 7 }));
    assert.equal(primary.status, 429);
    assert.equal(primary.response?.headers['x-ratelimit-remaining'], '0');
    const reset = Number(primary.response?.headers['x-ratelimit-reset']);
    assert.ok(Math.abs(reset - (Date.now() / 1000 + 30)) < 3, 'reset about 30 s away');
    assert.match(primary.message, /API rate limit exceeded/);
    assert.deepEqual(api.violations, []);
  });

  it('delays, hangs until the client times out, and close() ends hung requests', async (t) => {
    const api = await start(t);
    const octokit = client(api);
    api.faults.inject('GET /repos/{owner}/{repo}/pulls/{pull_number}', { type: 'delay', ms: 200 });
    const started = Date.now();
    assert.equal((await octokit.rest.pulls.get({ ...REPO, pull_number: 7 })).status, 200);
    assert.ok(Date.now() - started >= 190, 'delayed');

    api.faults.inject('GET /repos/{owner}/{repo}/pulls/{pull_number}', { type: 'hang' });
    const timedOut = await rejection(
      octokit.rest.pulls.get({ ...REPO, pull_number: 7, request: { signal: AbortSignal.timeout(150) } }),
    );
    assert.match(String(timedOut.message), /abort|timeout/i);

    // Raw fetches: settle to 'answered' or 'ended' so no rejection goes unhandled meanwhile.
    const get = () =>
      fetch(`${api.url}/repos/${FULL}/pulls/7`, { headers: { authorization: `token ${WRITE_TOKEN}` } }).then(
        () => 'answered',
        () => 'ended',
      );
    api.faults.inject('*', { type: 'hang' });
    const hung = get();
    await new Promise((resolve) => setTimeout(resolve, 50));
    const slow = api.faults.inject('*', { type: 'delay', ms: 60_000 });
    const delayed = get();
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(slow.fired, 1);
    const closing = Date.now();
    await api.close();
    assert.equal(await hung, 'ended');
    assert.equal(await delayed, 'ended');
    assert.ok(Date.now() - closing < 1000, 'close() does not wait for hung or delayed requests');
    assert.equal(api.requests.at(-1)?.status, undefined);
  });

  it('deletes a comment right after it was listed (stale lookup before update)', async (t) => {
    const api = await start(t);
    const octokit = client(api);
    const mine = api.state.addComment(FULL, 7, { body: '<!-- paramtrace -->\nold report' });
    api.faults.deleteCommentAfterNextList(mine.id);

    const listed = await octokit.rest.issues.listComments({ ...REPO, issue_number: 7 });
    assert.deepEqual(
      listed.data.map((c) => c.id),
      [mine.id],
      'the listing still shows it',
    );
    const update = await rejection(
      octokit.rest.issues.updateComment({ ...REPO, comment_id: mine.id, body: 'new report' }),
    );
    assert.equal(update.status, 404);
    assert.deepEqual(api.state.commentsOn(FULL, 7), []);
    assert.deepEqual(api.violations, []);
  });

  it('closes or merges the PR between two requests', async (t) => {
    const api = await start(t);
    const octokit = client(api);
    api.faults.closePullRequestOnNext('GET /repos/{owner}/{repo}/pulls/{pull_number}', FULL, 7, {
      merged: true,
    });
    const { data } = await octokit.rest.pulls.get({ ...REPO, pull_number: 7 });
    assert.equal(data.state, 'closed');
    assert.equal(data.merged, true);
    assert.ok(data.closed_at);

    api.state.addPullRequest(FULL, { number: 10, headSha: fakeSha('ten') });
    api.faults.before('POST /repos/{owner}/{repo}/issues/{issue_number}/comments', ({ state, params }) => {
      state.closeIssue(FULL, Number(params.issue_number));
    });
    await octokit.rest.issues.createComment({ ...REPO, issue_number: 10, body: 'report' });
    assert.equal(api.state.pullRequest(FULL, 10)?.state, 'closed');
    assert.deepEqual(api.violations, []);
  });
});
