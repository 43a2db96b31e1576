// The example workflows and what they rely on: part 2 of the fork-safe pair (mode: post) sets a failed
// status when part 1 wrote no report, so a required check never waits forever (end to end, against the
// loopback API); and the workflow files themselves: pinned third-party actions, the GPU example skipping
// forks, the post workflow's download step that cannot stop the job.
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYamlDocument } from 'yaml';
import { describe, it } from 'node:test';
import { tempDir } from './support/temp-dir.ts';
import {
  commands,
  REPO,
  ROOT,
  scenario,
  postInputs,
  useBuiltAction,
  workflowRunEvent,
  type Scenario,
} from './support/action-scenario.ts';
import { READ_ONLY_TOKEN } from './support/github-api-server.ts';

useBuiltAction();

/** Part 2 after a part 1 run that concluded `conclusion`, with the artifact (if any) at `artifact`. */
function post(s: Scenario, workspace: string, artifact: string, conclusion: string, inputs = {}) {
  const event = workflowRunEvent(s);
  event.workflow_run.conclusion = conclusion;
  return s.run({
    workspace,
    eventName: 'workflow_run',
    event,
    inputs: postInputs(artifact, inputs),
  });
}

const FOLLOWED_RUN = `https://github.com/${REPO}/actions/runs/99`;

describe('action: mode post when part 1 wrote no report', () => {
  for (const [conclusion, where] of [
    ['failure', 'missing'],
    ['cancelled', 'empty'],
    ['timed_out', 'missing'],
  ] as const) {
    it(`part 1 ${conclusion}, artifact folder ${where}: a failed status saying so, a failed job, no comment`, async (t) => {
      const s = await scenario(t, { fork: true });
      const workspace = tempDir(t, 'paramtrace-post-');
      const artifact = join(workspace, 'paramtrace-artifact');
      if (where === 'empty') mkdirSync(artifact);
      const run = await post(s, workspace, artifact, conclusion);
      assert.equal(run.code, 1, run.log);
      const error = commands(run, 'error').join('\n');
      assert.match(
        error,
        new RegExp(`the pull request's paramtrace run concluded '${conclusion}' before writing its report`),
      );
      assert.match(error, /the commit status 'paramtrace' on [0-9a-f]{12} is set to failure/);
      assert.ok(error.includes(FOLLOWED_RUN), error);
      const statuses = s.api.state.statusesFor(REPO, s.repo.commits.head!);
      assert.deepEqual(
        statuses.map((x) => [x.context, x.state, x.description, x.targetUrl]),
        [
          [
            'paramtrace',
            'failure',
            `the pull request's paramtrace run concluded '${conclusion}' before writing its report`,
            FOLLOWED_RUN,
          ],
        ],
      );
      assert.equal(s.comments().length, 0);
      assert.deepEqual(
        s.api.requests.map((r) => r.route),
        ['POST /repos/{owner}/{repo}/statuses/{sha}'],
        'only the status is written',
      );
      assert.deepEqual(s.api.violations, []);
    });
  }

  it('part 1 succeeded but its artifact is missing: a failed status saying so', async (t) => {
    const s = await scenario(t, { fork: true });
    const workspace = tempDir(t, 'paramtrace-post-');
    const run = await post(s, workspace, join(workspace, 'paramtrace-artifact'), 'success', {
      'comment-key': 'vision',
    });
    assert.equal(run.code, 1, run.log);
    const message = `the pull request's paramtrace run succeeded but its report artifact was not found`;
    assert.ok(commands(run, 'error').join('\n').includes(message), run.log);
    assert.deepEqual(
      s.api.state.statusesFor(REPO, s.repo.commits.head!).map((x) => [x.context, x.state, x.description]),
      [['paramtrace/vision', 'failure', message]],
    );
    assert.equal(s.comments().length, 0);
  });

  it('part 1 skipped (its job was skipped by an if:): no status, and the job passes', async (t) => {
    const s = await scenario(t, { fork: true });
    const workspace = tempDir(t, 'paramtrace-post-');
    const run = await post(s, workspace, join(workspace, 'paramtrace-artifact'), 'skipped');
    assert.equal(run.code, 0, run.log);
    assert.deepEqual(commands(run, 'error'), []);
    assert.match(commands(run, 'notice').join('\n'), /was skipped and wrote no report; nothing to post/);
    assert.equal(s.api.state.statusesFor(REPO, s.repo.commits.head!).length, 0);
    assert.equal(s.api.requests.length, 0);
  });

  it('commit-status: false: the job fails with the reason, and no status appears that nothing would clear', async (t) => {
    const s = await scenario(t, { fork: true });
    const workspace = tempDir(t, 'paramtrace-post-');
    const run = await post(s, workspace, join(workspace, 'paramtrace-artifact'), 'failure', {
      'commit-status': 'false',
    });
    assert.equal(run.code, 1, run.log);
    const error = commands(run, 'error').join('\n');
    assert.match(error, /concluded 'failure' before writing its report/);
    assert.match(error, /no commit status set \(commit-status is false\)/);
    assert.equal(s.api.state.statusesFor(REPO, s.repo.commits.head!).length, 0);
    assert.equal(s.api.requests.length, 0);
  });

  it('an invalid artifact is refused as before, and the status says so instead of never coming', async (t) => {
    const s = await scenario(t, { fork: true });
    const refused = `paramtrace refused the report artifact of the pull request's run (the reason is in the linked log)`;
    // Not JSON at all.
    const garbage = tempDir(t, 'paramtrace-artifact-');
    writeFileSync(join(garbage, 'paramtrace-report.json'), 'not json');
    const run = await post(s, garbage, garbage, 'success');
    assert.equal(run.code, 1, run.log);
    const error = commands(run, 'error').join('\n');
    assert.match(error, /refusing the report artifact: .*not valid JSON/);
    assert.match(error, /the commit status 'paramtrace' on [0-9a-f]{12} is set to failure/);
    assert.deepEqual(
      s.api.state
        .statusesFor(REPO, s.repo.commits.head!)
        .map((x) => [x.context, x.state, x.description, x.targetUrl]),
      // The target is this run's log, where the reason for the refusal is.
      [['paramtrace', 'failure', refused, `https://github.com/${REPO}/actions/runs/4242`]],
    );

    // A valid report of another commit: the status goes on the workflow run's commit, not the claimed one.
    const pr = await s.run({ token: READ_ONLY_TOKEN, inputs: { comment: 'never' } });
    assert.equal(pr.code, 0, pr.log);
    const bundle = JSON.parse(readFileSync(pr.outputs['report-path']!, 'utf8'));
    bundle.pullRequest.headSha = 'f'.repeat(40);
    const other = tempDir(t, 'paramtrace-artifact-');
    writeFileSync(join(other, 'paramtrace-report.json'), JSON.stringify(bundle));
    const wrong = await post(s, other, other, 'success');
    assert.equal(wrong.code, 1, wrong.log);
    assert.match(commands(wrong, 'error').join('\n'), /is for commit f{40}, but the workflow run is for/);
    assert.equal(s.api.state.statusesFor(REPO, 'f'.repeat(40)).length, 0);
    assert.deepEqual(
      s.api.state.statusesFor(REPO, s.repo.commits.head!).map((x) => [x.state, x.description]),
      [
        ['failure', refused],
        ['failure', refused],
      ],
    );
    assert.equal(s.comments().length, 0);
    assert.deepEqual(s.api.violations, []);
  });
});

// ---------------------------------------------------------------------------------------------------------
// The workflow files, read with the \`yaml\` package (YAML 1.2, what GitHub's parser accepts here).

type Yaml = string | number | boolean | null | Yaml[] | { [key: string]: Yaml };

function parseYaml(source: string): Yaml {
  return parseYamlDocument(source) as Yaml;
}

const WORKFLOW_DIRS = ['examples/workflows', '.github/workflows'];
const workflows = WORKFLOW_DIRS.flatMap((dir) =>
  readdirSync(join(ROOT, dir))
    .filter((f) => /\.ya?ml$/.test(f))
    .map((f) => join(dir, f)),
);

/**
 * The pins, each checked against the tag in the action's own repository (`git rev-list -n1 <tag>` on a
 * clone; the tags are lightweight, so this is the tagged commit). Upgrading an action means checking the
 * new tag's commit the same way and changing it here and in the workflows.
 */
const VERIFIED_PINS: Record<string, Record<string, string>> = {
  'actions/checkout': { 'v4.4.0': '11d5960a326750d5838078e36cf38b85af677262' },
  'actions/setup-python': { 'v5.6.0': 'a26af69be951a213d495a4c3e4e4022e16d87065' },
  'actions/setup-node': { 'v4.4.0': '49933ea5288caeca8642d1e84afbd3f7d6820020' },
  'actions/upload-artifact': { 'v4.6.2': 'ea165f8d65b6e75b540449e92b4886f43607fa02' },
  'actions/download-artifact': { 'v4.3.0': 'd3f86a106a0bac45b974a628896c90dbdf5c8093' },
  'actions/cache': { 'v4.3.0': '0057852bfaa89a56745cba8c7296529d2fc39830' },
};

type Step = Record<string, Yaml>;
type Job = Record<string, Yaml> & { steps?: Step[] };

function jobsOf(file: string): Record<string, Job> {
  const doc = parseYaml(readFileSync(join(ROOT, file), 'utf8')) as Record<string, Yaml>;
  assert.equal(typeof doc.jobs, 'object', `${file}: no jobs`);
  return doc.jobs as Record<string, Job>;
}

describe('workflow files', () => {
  it('finds the examples and the repository workflows, and parses them', () => {
    for (const name of ['paramtrace-fork-post.yml', 'paramtrace-fork-pr.yml', 'paramtrace-gpu.yml'])
      assert.ok(workflows.includes(join('examples/workflows', name)), name);
    assert.ok(workflows.some((f) => f.startsWith('.github/workflows/')));
    for (const file of workflows) {
      const jobs = jobsOf(file);
      for (const [name, job] of Object.entries(jobs))
        assert.ok(Array.isArray(job.steps) && job.steps.length > 0, `${file}: job ${name} has no steps`);
    }
  });

  it('pins every third-party action to a verified full commit SHA, with its version in a comment', () => {
    let pinned = 0;
    for (const file of workflows) {
      const lines = readFileSync(join(ROOT, file), 'utf8').split('\n');
      const uses = lines.flatMap((l, n) => {
        const m = /^\s*(?:-\s+)?uses:\s*(\S+)(.*)$/.exec(l);
        return m ? [{ where: `${file}:${n + 1}`, ref: m[1]!, rest: m[2]! }] : [];
      });
      // Every step with `uses:` was seen line by line (none written in a way the regex misses).
      const steps = Object.values(jobsOf(file)).flatMap((j) => j.steps ?? []);
      assert.equal(uses.length, steps.filter((st) => 'uses' in st).length, `${file}: uses: lines`);
      for (const { where, ref, rest } of uses) {
        if (ref === 'OWNER/paramtrace@v1' || ref.startsWith('./')) continue;
        const m = /^([\w.-]+\/[\w.-]+)(\/[\w./-]+)?@([0-9a-f]{40})$/.exec(ref);
        assert.ok(m, `${where}: '${ref}' is not pinned to a full commit SHA`);
        const version = /^\s+#\s+(v\d+\.\d+\.\d+)\s*$/.exec(rest);
        assert.ok(version, `${where}: '${ref}' has no '# vX.Y.Z' comment`);
        const known = VERIFIED_PINS[m[1]!]?.[version[1]!];
        assert.equal(m[3], known, `${where}: ${m[1]} ${version[1]} is not the verified commit`);
        pinned++;
      }
    }
    assert.ok(pinned >= 10, `only ${pinned} pinned actions found`);
  });

  it('the workflow snippets in the docs are pinned to the same verified commits', () => {
    let pinned = 0;
    for (const file of ['docs/action.md', 'README.md']) {
      readFileSync(join(ROOT, file), 'utf8')
        .split('\n')
        .forEach((line, n) => {
          const m = /^\s*(?:-\s+)?uses:\s*(\S+)(.*)$/.exec(line);
          if (!m || m[1] === 'OWNER/paramtrace@v1') return;
          const where = `${file}:${n + 1}`;
          const ref = /^([\w.-]+\/[\w.-]+)@([0-9a-f]{40})$/.exec(m[1]!);
          assert.ok(ref, `${where}: '${m[1]}' is not pinned to a full commit SHA`);
          const version = /^\s+#\s+(v\d+\.\d+\.\d+)\s*$/.exec(m[2]!);
          assert.ok(version, `${where}: no '# vX.Y.Z' comment`);
          assert.equal(ref[2], VERIFIED_PINS[ref[1]!]?.[version[1]!], `${where}: not the verified commit`);
          pinned++;
        });
    }
    assert.ok(pinned >= 8, `only ${pinned} pinned actions found in the docs`);
  });

  it('the GPU example skips fork pull requests by an if: on the job and says where forks go', () => {
    const file = 'examples/workflows/paramtrace-gpu.yml';
    const jobs = Object.values(jobsOf(file));
    assert.ok(jobs.length > 0);
    for (const job of jobs) {
      assert.equal(
        String(job.if ?? '').replace(/\s+/g, ' '),
        'github.event.pull_request.head.repo.full_name == github.repository',
      );
      const uses = (job.steps ?? []).find((st) => st.uses === 'OWNER/paramtrace@v1');
      assert.notEqual((uses?.with as Record<string, Yaml> | undefined)?.['allow-fork-on-self-hosted'], true);
    }
    const text = readFileSync(join(ROOT, file), 'utf8');
    assert.match(text, /paramtrace-fork-pr\.yml \+ paramtrace-fork-post\.yml/);
  });

  it('the post workflow runs after any conclusion of part 1, and its download step cannot stop the job', () => {
    const file = 'examples/workflows/paramtrace-fork-post.yml';
    const doc = parseYaml(readFileSync(join(ROOT, file), 'utf8')) as Record<string, Yaml>;
    const on = doc.on as Record<string, Record<string, Yaml>>;
    assert.deepEqual(on.workflow_run!.types, ['completed']);
    const jobs = Object.values(jobsOf(file));
    assert.equal(jobs.length, 1);
    const job = jobs[0]!;
    assert.doesNotMatch(String(job.if ?? ''), /conclusion/, 'the job must run whatever part 1 concluded');
    const steps = job.steps ?? [];
    const download = steps.findIndex((st) => String(st.uses).startsWith('actions/download-artifact@'));
    const action = steps.findIndex((st) => st.uses === 'OWNER/paramtrace@v1');
    assert.ok(download >= 0 && action > download, 'download, then the action');
    assert.equal(steps[download]!['continue-on-error'], true, 'a missing artifact must not stop the job');
    for (const st of steps.slice(download + 1, action + 1)) {
      const cond = String(st.if ?? '');
      assert.ok(cond === '' || /always\(\)/.test(cond), `step after the download is skipped: if: ${cond}`);
    }
    const inputs = steps[action]!.with as Record<string, Yaml>;
    assert.equal(inputs.mode, 'post');
    assert.equal(inputs['commit-status'], true, 'the status is what a required check waits for');
  });
});
