// Issue 15's attacks on the action, run as a runner runs it (test/support/action-scenario.ts): a squatted
// sticky comment, fork code in every mode, a base that fails to build, what the build can reach.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  commands,
  FORK,
  MARKER,
  REPO,
  scenario,
  useBuiltAction,
  workflowRunEvent,
} from './support/action-scenario.ts';
import { BUILD, MODEL } from './support/git-repo.ts';
import { READ_ONLY_TOKEN, WRITE_TOKEN } from './support/github-api-server.ts';

useBuiltAction();

describe('action security: the sticky comment is ours alone', () => {
  it('a marked comment by another user is left alone; the action posts and later updates its own', async (t) => {
    const s = await scenario(t);
    const squatted = s.api.state.addComment(REPO, 7, {
      body: `${MARKER}\n### paramtrace: ✅ pass (trust me)`,
      user: 'mallory',
    });
    const first = await s.run({ inputs: { 'max-growth': '5%' } });
    assert.equal(first.code, 0, first.log);
    assert.equal(first.outputs['comment-action'], 'created');
    assert.match(first.log, new RegExp(`comment ${squatted.id} by mallory carries paramtrace's marker`));
    const comments = s.api.state.commentsOn(REPO, 7);
    assert.equal(comments.length, 2);
    assert.equal(
      s.api.state.comments.get(squatted.id)!.body,
      squatted.body,
      'the squatted comment is untouched',
    );
    const own = comments.find((c) => c.id !== squatted.id)!;
    assert.equal(own.user, 'github-actions[bot]');
    assert.match(own.body, /conv1\.weight/);

    const second = await s.run({ head: 'grown', inputs: { 'max-growth': '5%' } });
    assert.equal(second.code, 1, second.log);
    assert.equal(second.outputs['comment-action'], 'updated');
    assert.equal(second.outputs['comment-id'], String(own.id));
    assert.equal(s.api.state.comments.get(squatted.id)!.body, squatted.body);
    assert.ok(
      !s.api.requests.some((r) => r.method === 'PATCH' && r.path.endsWith(`/comments/${squatted.id}`)),
      'no attempt to edit the squatted comment',
    );
    // GITHUB_TOKEN has no user: GET /user answers 403 and the action writes as github-actions[bot].
    assert.ok(s.api.requests.some((r) => r.route === 'GET /user' && r.status === 403));
    assert.doesNotMatch(commands(second, 'warning').join('\n'), /comment/, second.log);
    assert.deepEqual(s.api.violations, []);
  });

  it("with a personal access token, only that user's comments; `comment-author` names another identity", async (t) => {
    const PAT = 'github_pat_paramtraceTestAlice000000000';
    const s = await scenario(t, {
      tokens: {
        [WRITE_TOKEN]: 'write',
        [READ_ONLY_TOKEN]: 'read',
        [PAT]: { access: 'write', login: 'alice' },
      },
    });
    // The bot's comment from before the switch to a PAT is not alice's.
    const bots = s.api.state.addComment(REPO, 7, { body: `${MARKER}\nold`, user: 'github-actions[bot]' });
    const run = await s.run({ token: PAT });
    assert.equal(run.code, 0, run.log);
    assert.equal(run.outputs['comment-action'], 'created');
    const alices = s.api.state.commentsOn(REPO, 7).find((c) => c.user === 'alice');
    assert.ok(alices, 'the comment was written as alice');
    assert.ok(s.api.requests.some((r) => r.route === 'GET /user' && r.status === 200));

    // comment-author: the identity whose comment is updated, without asking GitHub who the token is.
    const before = s.api.requests.length;
    const named = await s.run({ token: PAT, inputs: { 'comment-author': 'github-actions[bot]' } });
    assert.equal(named.code, 0, named.log);
    assert.equal(named.outputs['comment-id'], String(bots.id));
    assert.ok(!s.api.requests.slice(before).some((r) => r.route === 'GET /user'));

    const bad = await s.run({ inputs: { 'comment-author': 'not a login' } });
    assert.equal(bad.code, 1);
    assert.match(commands(bad, 'error').join('\n'), /input 'comment-author' must be a GitHub login/);
    assert.deepEqual(s.api.violations, []);
  });
});

describe('action security: the fork guard covers every mode', () => {
  const SELF_HOSTED = { RUNNER_ENVIRONMENT: 'self-hosted' };

  it('mode: baseline refuses pull request events unless allowed, and then fork code on self-hosted runners', async (t) => {
    const s = await scenario(t, { fork: true });
    const refused = async (run: Awaited<ReturnType<typeof s.run>>, reason: RegExp) => {
      assert.equal(run.code, 1, run.log);
      assert.match(commands(run, 'error').join('\n'), reason);
      assert.ok(!existsSync(join(s.repo.dir, MODEL)), 'the build did not run');
      assert.equal(s.api.requests.length, 0, 'nothing was asked of the API');
    };
    for (const eventName of ['pull_request', 'pull_request_target']) {
      await refused(
        await s.run({ eventName, inputs: { mode: 'baseline' } }),
        new RegExp(`refusing to run mode: baseline on a ${eventName} event.*allow-baseline-on-pull-request`),
      );
    }
    // Allowed on pull requests, a fork's code is still refused on a self-hosted runner ...
    await refused(
      await s.run({
        env: SELF_HOSTED,
        inputs: { mode: 'baseline', 'allow-baseline-on-pull-request': 'true' },
      }),
      /refusing to build pull request #7 from fork mallory\/models on a self-hosted runner/,
    );
    // ... and always under pull_request_target, which holds a write token.
    await refused(
      await s.run({
        eventName: 'pull_request_target',
        inputs: {
          mode: 'baseline',
          'allow-baseline-on-pull-request': 'true',
          'allow-fork-on-self-hosted': 'true',
        },
      }),
      /refusing to build pull request #7 from mallory\/models under pull_request_target/,
    );
    // With both allowances on a self-hosted runner it runs (the operator's informed choice).
    const allowed = await s.run({
      env: SELF_HOSTED,
      inputs: {
        mode: 'baseline',
        'allow-baseline-on-pull-request': 'true',
        'allow-fork-on-self-hosted': 'true',
      },
    });
    assert.equal(allowed.code, 0, allowed.log);
    assert.match(commands(allowed, 'warning').join('\n'), /because allow-fork-on-self-hosted is true/);
  });

  it("mode: pr and mode: baseline refuse to run under workflow_run after a fork's pull request run", async (t) => {
    const s = await scenario(t, { fork: true });
    for (const mode of ['pr', 'baseline']) {
      const run = await s.run({
        eventName: 'workflow_run',
        event: workflowRunEvent(s),
        env: SELF_HOSTED,
        inputs: { mode, 'base-model': MODEL },
      });
      assert.equal(run.code, 1, run.log);
      assert.match(
        commands(run, 'error').join('\n'),
        new RegExp(`refusing to run mode: ${mode} on a workflow_run event .* from ${FORK}.*mode: post`),
      );
      assert.ok(!existsSync(join(s.repo.dir, MODEL)), 'the build did not run');
    }
    assert.equal(s.api.requests.length, 0);
  });

  it('mode: pr keeps refusing fork code on self-hosted runners and under pull_request_target', async (t) => {
    const s = await scenario(t, { fork: true });
    for (const [eventName, env, reason] of [
      ['pull_request', SELF_HOSTED, /from fork mallory\/models on a self-hosted runner/],
      ['pull_request_target', {}, /under pull_request_target/],
    ] as const) {
      const run = await s.run({ eventName, env });
      assert.equal(run.code, 1, run.log);
      assert.match(commands(run, 'error').join('\n'), reason);
      assert.ok(!existsSync(join(s.repo.dir, MODEL)), 'the build did not run');
    }
    assert.equal(s.api.requests.length, 0);
  });
});

describe('action security: a base that fails to build never turns the check green', () => {
  it('fails the check, says why, and still posts the head report and the status', async (t) => {
    // The base's build breaks (as a pull request that fixes a broken export on main would see); the
    // head's works and grows the model.
    const s = await scenario(t, {
      commits: [
        {
          label: 'base',
          model: 'seed-case-1',
          files: { 'build.sh': 'echo "ImportError: no module named torch" >&2\nexit 4\n' },
        },
        { label: 'grown', model: 'resnet-block', branch: 'feature', files: { 'build.sh': `${BUILD}\n` } },
      ],
    });
    const run = await s.run({
      head: 'grown',
      inputs: { build: 'bash build.sh', 'max-growth': '5000%', 'commit-status': 'true' },
    });
    assert.equal(run.code, 1, run.log);
    assert.equal(run.outputs.verdict, 'fail');
    const headline = run.outputs['verdict-headline']!;
    assert.equal(
      headline,
      `❌ fail: the build command for base (merge-base ${s.repo.commits.base!.slice(0, 12)}) failed: \`bash build.sh\` exited with status 4`,
    );
    assert.match(commands(run, 'error').join('\n'), /build command for base .* failed/);
    assert.match(commands(run, 'warning').join('\n'), /ImportError: no module named torch/);
    assert.match(commands(run, 'warning').join('\n'), /if this pull request adds the model or its build/);
    // The head's report is posted all the same.
    const [comment] = s.comments();
    assert.ok(comment, 'the comment was posted');
    assert.match(comment.body, /❌ fail/);
    assert.match(comment.body, /A base that cannot be built fails the check/);
    assert.equal(run.outputs['unique'], '296');
    const [status] = s.api.state.statusesFor(REPO, s.repo.commits.grown!);
    assert.equal(status?.state, 'failure');
    assert.match(status!.description ?? '', /build command for base/);
    // The report file carries the reason, for mode: post.
    const bundle = JSON.parse(readFileSync(run.outputs['report-path']!, 'utf8'));
    assert.match(bundle.baseError, /build command for base/);
    assert.equal(bundle.comparison.verdict.pass, false);

    // The fork-safe pair: mode: post recomputes the verdict from the artifact, and fails it the same way.
    const artifact = mkdtempSync(join(tmpdir(), 'paramtrace-artifact-'));
    t.after(() => rmSync(artifact, { recursive: true, force: true }));
    writeFileSync(join(artifact, 'paramtrace-report.json'), readFileSync(run.outputs['report-path']!));
    const event = workflowRunEvent(s) as { workflow_run: { head_sha: string } };
    event.workflow_run.head_sha = s.repo.commits.grown!;
    const post = await s.run({
      head: 'grown',
      workspace: artifact,
      eventName: 'workflow_run',
      event,
      inputs: { mode: 'post', model: '', build: '', 'artifact-path': artifact, 'max-growth': '5000%' },
    });
    assert.equal(post.code, 1, post.log);
    assert.equal(post.outputs['verdict-headline'], headline);
    assert.deepEqual(s.api.violations, []);
  });
});

describe('action security: what the build can reach', () => {
  it('no RUNNER_TEMP, no command-file paths, a temporary folder of its own; the boundary the docs state', async (t) => {
    const s = await scenario(t);
    const dump = mkdtempSync(join(tmpdir(), 'paramtrace-env-'));
    t.after(() => rmSync(dump, { recursive: true, force: true }));
    // The build records its environment, and what a same-user process can read of its parent's.
    const build =
      `env > "$PT_DUMP/env-$(git rev-parse --short HEAD).txt"; ` +
      `tr '\\0' '\\n' < /proc/$PPID/environ > "$PT_DUMP/parent-$(git rev-parse --short HEAD).txt" || true; ${BUILD}`;
    const run = await s.run({
      inputs: { build, comment: 'never' },
      env: {
        PT_DUMP: dump,
        GITHUB_TOKEN: WRITE_TOKEN,
        ACTIONS_RUNTIME_TOKEN: 'runtime-secret-0000',
        ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'oidc-secret-0000',
        GITHUB_ENV: '/runner/_temp/_runner_file_commands/set_env_0',
      },
    });
    assert.equal(run.code, 0, run.log);
    const envs = readdirSync(dump).filter((f) => f.startsWith('env-'));
    assert.equal(envs.length, 2, 'the build ran for head and base');
    for (const file of envs) {
      const lines = readFileSync(join(dump, file), 'utf8').split('\n');
      const env = Object.fromEntries(
        lines.map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
      );
      assert.equal(env.RUNNER_TEMP, undefined, `RUNNER_TEMP reached the build (${file})`);
      assert.deepEqual(
        lines.filter((l) => l.includes(run.runnerTemp)),
        [],
        `a path into RUNNER_TEMP reached the build (${file})`,
      );
      assert.ok(!lines.some((l) => l.includes('_runner_file_commands')), file);
      for (const secret of [WRITE_TOKEN, 'runtime-secret-0000', 'oidc-secret-0000'])
        assert.ok(!lines.some((l) => l.includes(secret)), `a credential reached the build (${file})`);
      assert.match(env.TMPDIR ?? '', /paramtrace-build-/);
      assert.equal(env.TMP, env.TMPDIR);
      assert.ok(!env.TMPDIR!.startsWith(run.runnerTemp));
    }
    // What is NOT protected, as docs/action.md#what-the-build-can-reach says: the build runs as the same
    // user, and /proc/<parent>/environ is the environment the action started with, token included.
    if (process.platform === 'linux') {
      const parent = readFileSync(
        join(
          dump,
          readdirSync(dump).find((f) => f.startsWith('parent-'))!,
        ),
        'utf8',
      );
      assert.ok(
        parent.includes(WRITE_TOKEN),
        'the parent environment no longer shows the token: update docs/action.md#what-the-build-can-reach',
      );
    }
  });
});
