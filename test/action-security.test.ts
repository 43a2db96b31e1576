// Issue 15's attacks on the action, run as a runner runs it (test/support/action-scenario.ts): a squatted
// sticky comment, fork code in every mode, a base that fails to build, what the build can reach.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { commands, MARKER, REPO, scenario, useBuiltAction } from './support/action-scenario.ts';
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
