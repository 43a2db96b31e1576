// The example workflows and what they rely on: part 2 of the fork-safe pair (mode: post) sets a failed
// status when part 1 wrote no report, so a required check never waits forever (end to end, against the
// loopback API); and the workflow files themselves: pinned third-party actions, the GPU example skipping
// forks, the post workflow's download step that cannot stop the job.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYamlDocument } from 'yaml';
import { describe, it, type TestContext } from 'node:test';
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

// ---------------------------------------------------------------------------------------------------------
// The release workflow: its own shell steps run with bash on this repository's CHANGELOG.md, the GitHub
// CLI replaced by a stand-in that records its calls (no GitHub here to create a release on).

describe('the release workflow', () => {
  const file = '.github/workflows/release.yml';
  const job = () => {
    const jobs = jobsOf(file);
    assert.deepEqual(Object.keys(jobs), ['release']);
    return jobs.release!;
  };
  const step = (name: string): Step => {
    const found = (job().steps ?? []).find((st) => st.name === name);
    assert.ok(found, `${file}: no step '${name}'`);
    return found;
  };
  const VERSION_STEP = 'The version, its tags and its notes';

  /** The section of CHANGELOG.md for `version`, read here independently of the workflow's awk. */
  function changelogSection(text: string, version: string): string {
    const parts = text.split(/^(?=## \[)/m);
    const part = parts.find((p) => p.startsWith(`## [${version}]`));
    assert.ok(part, `CHANGELOG.md has no section ${version}`);
    return part.split('\n').slice(1).join('\n').trim();
  }

  interface StepRun {
    code: number;
    stdout: string;
    outputs: Record<string, string>;
    ghCalls: string[];
  }

  /** Runs a step's `run:` script as the runner would (bash -e), in `cwd`, with the runner's variables. */
  function runStep(
    t: TestContext,
    st: Step,
    cwd: string,
    env: Record<string, string>,
    ghRefExists = false,
  ): StepRun {
    const home = tempDir(t, 'paramtrace-release-');
    const bin = join(home, 'bin');
    mkdirSync(bin);
    const calls = join(home, 'gh-calls');
    writeFileSync(
      join(bin, 'gh'),
      `#!/bin/bash\nprintf '%s\\n' "$*" >> ${JSON.stringify(calls)}\n` +
        `if [ "$1" = api ] && [ "$2" != -X ]; then exit ${ghRefExists ? 0 : 1}; fi\n`,
      { mode: 0o755 },
    );
    const output = join(home, 'output');
    writeFileSync(output, '');
    const result = spawnSync('bash', ['-e', '-c', String(st.run)], {
      cwd,
      encoding: 'utf8',
      env: {
        PATH: `${bin}:${process.env.PATH ?? ''}`,
        HOME: home,
        RUNNER_TEMP: home,
        GITHUB_OUTPUT: output,
        GITHUB_REPOSITORY: 'octo-org/paramtrace',
        ...env,
      },
    });
    const outputs = Object.fromEntries(
      readFileSync(output, 'utf8')
        .split('\n')
        .filter((l) => l.includes('='))
        .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
    );
    return {
      code: result.status ?? -1,
      stdout: `${result.stdout}${result.stderr}`,
      outputs,
      ghCalls: existsSync(calls) ? readFileSync(calls, 'utf8').trim().split('\n') : [],
    };
  }

  /** A git repository with this CHANGELOG.md and a package.json of `version`; returns it and its commit. */
  function release(
    t: TestContext,
    version: string,
    changelog = readFileSync(join(ROOT, 'CHANGELOG.md'), 'utf8'),
  ) {
    const dir = tempDir(t, 'paramtrace-release-repo-');
    writeFileSync(join(dir, 'CHANGELOG.md'), changelog);
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'paramtrace', version }));
    const git = (...args: string[]) =>
      execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args], {
        cwd: dir,
        encoding: 'utf8',
      }).trim();
    git('init', '-q');
    git('add', '.');
    git('commit', '-q', '-m', 'release');
    return { dir, sha: git('rev-parse', 'HEAD'), git };
  }

  it('runs on a vX.Y.Z tag or by hand with a version, with a write token only for contents', () => {
    const doc = parseYaml(readFileSync(join(ROOT, file), 'utf8')) as Record<string, Yaml>;
    const on = doc.on as Record<string, Record<string, Yaml>>;
    assert.deepEqual(on.push, { tags: ['v*.*.*'] });
    const input = (on.workflow_dispatch!.inputs as Record<string, Record<string, Yaml>>).version!;
    assert.equal(input.required, true);
    assert.deepEqual(doc.permissions, { contents: 'write' });
  });

  it('checks out, installs without the onnxruntime download, and checks dist/ before releasing', () => {
    const j = job();
    assert.equal((j.env as Record<string, Yaml>).ONNXRUNTIME_NODE_INSTALL, 'skip');
    const steps = (j.steps ?? []).map((st) => String(st.uses ?? st.run).split('@')[0]);
    assert.deepEqual(steps.slice(0, 5), [
      'actions/checkout',
      'actions/setup-node',
      'npm ci',
      'npm run check:dist',
      String(step(VERSION_STEP).run),
    ]);
    const checkout = (j.steps ?? [])[0]!.with as Record<string, Yaml>;
    assert.equal(checkout['persist-credentials'], false);
    // Expressions reach the scripts through env only, never spliced into their text (script injection).
    for (const st of j.steps ?? [])
      if (st.run) assert.doesNotMatch(String(st.run), /\$\{\{/, String(st.name));
  });

  it('takes the version from the tag, checks package.json, and publishes its CHANGELOG section', (t) => {
    const changelog = readFileSync(join(ROOT, 'CHANGELOG.md'), 'utf8');
    const version = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version as string;
    const { dir, sha } = release(t, version);
    const run = runStep(t, step(VERSION_STEP), dir, {
      EVENT: 'push',
      GITHUB_REF_NAME: `v${version}`,
      GITHUB_SHA: sha,
    });
    assert.equal(run.code, 0, run.stdout);
    assert.equal(run.outputs.version, version);
    assert.equal(run.outputs.tag, `v${version}`);
    assert.equal(run.outputs.major, `v${version.split('.')[0]}`);
    const notes = readFileSync(run.outputs.notes!, 'utf8');
    assert.equal(notes.trim(), changelogSection(changelog, version));
    assert.ok(notes.length > 200, 'the notes are the whole section');
    assert.doesNotMatch(notes, /^## \[/m, 'no other section');

    // By hand, with a `v` or without: the same.
    for (const input of [version, `v${version}`]) {
      const byHand = runStep(t, step(VERSION_STEP), dir, {
        EVENT: 'workflow_dispatch',
        INPUT_VERSION: input,
        GITHUB_REF_NAME: 'main',
        GITHUB_SHA: sha,
      });
      assert.equal(byHand.code, 0, byHand.stdout);
      assert.equal(byHand.outputs.tag, `v${version}`);
    }
  });

  it('refuses a version that is not X.Y.Z, not package.json, without notes, or tagged elsewhere', (t) => {
    const { dir, sha, git } = release(t, '1.2.3', '# Changelog\n\n## [1.2.3]\n\n## [1.2.2]\n\n- older\n');
    const attempt = (env: Record<string, string>) =>
      runStep(t, step(VERSION_STEP), dir, { EVENT: 'push', GITHUB_SHA: sha, ...env });
    const cases: [Record<string, string>, RegExp][] = [
      [{ GITHUB_REF_NAME: 'v1.2' }, /::error::'1\.2' is not a release version/],
      [{ GITHUB_REF_NAME: 'v1.2.3-rc.1' }, /is not a release version/],
      [{ GITHUB_REF_NAME: 'v1.2.4' }, /::error::package\.json is version 1\.2\.3, not 1\.2\.4/],
      // The section exists but is empty.
      [{ GITHUB_REF_NAME: 'v1.2.3' }, /::error::CHANGELOG\.md has no '## \[1\.2\.3\]' section with notes/],
    ];
    for (const [env, message] of cases) {
      const run = attempt(env);
      assert.equal(run.code, 1, run.stdout);
      assert.match(run.stdout, message);
      assert.deepEqual(run.outputs, {}, 'nothing for the later steps');
    }
    // A tag of that version on another commit: releasing this one would publish the wrong code.
    writeFileSync(join(dir, 'CHANGELOG.md'), '## [1.2.3]\n\n- notes\n');
    git('commit', '-q', '-am', 'notes');
    git('tag', 'v1.2.3', sha);
    const head = git('rev-parse', 'HEAD');
    const moved = attempt({ GITHUB_REF_NAME: 'v1.2.3', GITHUB_SHA: head });
    assert.equal(moved.code, 1, moved.stdout);
    assert.match(moved.stdout, new RegExp(`tag v1\\.2\\.3 is on ${sha}, not on the commit being released`));
    assert.equal(attempt({ GITHUB_REF_NAME: 'v1.2.3' }).code, 0, 'the tagged commit itself is released');
  });

  it('creates the release with the notes, then creates or moves the major tag to the release commit', (t) => {
    const { dir, sha } = release(t, '0.1.0');
    const create = runStep(t, step('Create the release'), dir, {
      TAG: 'v2.3.4',
      NOTES: '/tmp/notes.md',
      GITHUB_SHA: sha,
    });
    assert.equal(create.code, 0, create.stdout);
    assert.deepEqual(create.ghCalls, [
      `release create v2.3.4 --repo octo-org/paramtrace --target ${sha} --title v2.3.4 --notes-file /tmp/notes.md`,
    ]);
    const env = { MAJOR: 'v2', GITHUB_SHA: sha };
    const created = runStep(t, step('Move the major tag to the release'), dir, env, false);
    assert.equal(created.code, 0, created.stdout);
    assert.deepEqual(created.ghCalls.slice(1), [
      `api -X POST repos/octo-org/paramtrace/git/refs -f ref=refs/tags/v2 -f sha=${sha}`,
    ]);
    const movedTag = runStep(t, step('Move the major tag to the release'), dir, env, true);
    assert.equal(movedTag.code, 0, movedTag.stdout);
    assert.deepEqual(movedTag.ghCalls, [
      'api repos/octo-org/paramtrace/git/ref/tags/v2',
      `api -X PATCH repos/octo-org/paramtrace/git/refs/tags/v2 -f sha=${sha} -F force=true`,
    ]);
  });
});

// ---------------------------------------------------------------------------------------------------------
// The README's first screen: its quick-start workflow is the one this repository runs on itself, and its
// comment sample is what paramtrace prints today.

/** The first ```yaml block after `heading` in a Markdown file, parsed. */
function fencedYamlAfter(file: string, heading: string): Record<string, Yaml> {
  const text = readFileSync(join(ROOT, file), 'utf8');
  const at = text.indexOf(`\n${heading}\n`);
  assert.ok(at >= 0, `${file}: no '${heading}'`);
  const block = /\n```yaml\n([\s\S]*?)\n```\n/.exec(text.slice(at));
  assert.ok(block, `${file}: no yaml block after '${heading}'`);
  return parseYaml(block[1]!) as Record<string, Yaml>;
}

describe('the quick start', () => {
  const readme = () => fencedYamlAfter('README.md', '## Quick start');
  const PARAMTRACE = 'OWNER/paramtrace@v1';

  it('is one workflow in the README, docs/action.md and examples/workflows/paramtrace.yml', () => {
    const doc = readme();
    assert.deepEqual(fencedYamlAfter('docs/action.md', '## Quick start'), doc);
    assert.deepEqual(parseYaml(readFileSync(join(ROOT, 'examples/workflows/paramtrace.yml'), 'utf8')), doc);
    // The common case: on pull requests, PyTorch builds the model, the action compares, comments, sets the status.
    assert.deepEqual(Object.keys(doc.on as Record<string, Yaml>), ['pull_request']);
    const steps = Object.values(doc.jobs as Record<string, Job>)[0]!.steps ?? [];
    assert.ok(steps.some((st) => /pip install torch/.test(String(st.run))));
    const action = steps.find((st) => st.uses === PARAMTRACE)!.with as Record<string, Yaml>;
    assert.equal(action['commit-status'], true);
    assert.notEqual(action.comment, 'never');
    assert.ok(action['max-growth'], 'a threshold, so that the job can fail as a required check');
  });

  it("is what the self-test's quickstart job runs, but for the lines a user adapts", () => {
    const doc = readme();
    const jobs = doc.jobs as Record<string, Job>;
    assert.deepEqual(Object.keys(jobs), ['parameters']);
    const theirs = jobs.parameters!;
    const ours = jobsOf('.github/workflows/paramtrace-selftest.yml').quickstart;
    assert.ok(ours, 'paramtrace-selftest.yml has a quickstart job');
    // Only on pull requests, as the quick start's `on:`; with its permissions and concurrency.
    assert.equal(ours.if, "github.event_name == 'pull_request'");
    assert.deepEqual(ours.permissions, doc.permissions);
    assert.deepEqual(ours.concurrency, doc.concurrency);
    assert.equal(ours['runs-on'], theirs['runs-on']);
    // Step for step, once the paramtrace step's `uses`, `build` and `model` are the README's.
    const adapted = (ours.steps ?? []).map((st) => {
      if (st.uses !== './') return st;
      const inputs = st.with as Record<string, Yaml>;
      assert.match(
        String(inputs.build),
        /^python python\/paramtrace_torch\.py --model examples\.models:head /,
      );
      const readmeInputs = (theirs.steps ?? []).find((s) => s.uses === PARAMTRACE)!.with as Record<
        string,
        Yaml
      >;
      return {
        ...st,
        uses: PARAMTRACE,
        with: { ...inputs, build: readmeInputs.build!, model: readmeInputs.model! },
      };
    });
    assert.deepEqual(adapted, theirs.steps);
  });

  it("the README's comment sample is an excerpt of what `compare --markdown` prints for the example pair", () => {
    const text = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const sample = /<!-- comment-sample:[\s\S]*?-->\n([\s\S]*?)\n<!-- \/comment-sample -->/.exec(text);
    assert.ok(sample, 'README.md: no comment-sample block');
    // Prettier aligns the README's tables: compare cells, and alignment rows by their alignment only.
    const normal = (line: string): string =>
      /^\|.*\|$/.test(line)
        ? line
            .slice(1, -1)
            .split('|')
            .map((cell) => cell.trim().replace(/^(:?)-+(:?)$/, '$1-$2'))
            .join('|')
        : line.trim();
    const excerpt = sample[1]!
      .split('\n')
      .map((l) => normal(l.replace(/^>\s?/, '')))
      .filter((l) => l !== '');
    assert.ok(excerpt.length >= 10, 'the sample has the headline and the tables');
    const printed = execFileSync(
      process.execPath,
      [
        '--import',
        'tsx',
        'src/cli/main.ts',
        'compare',
        'examples/base.onnx',
        'examples/head.onnx',
        '--markdown',
      ],
      { cwd: ROOT, encoding: 'utf8' },
    )
      .split('\n')
      .map(normal);
    // In order: each line of the excerpt is a later line of the output.
    let at = 0;
    for (const line of excerpt) {
      const found = printed.indexOf(line, at);
      assert.ok(
        found >= 0,
        `README.md's comment sample is out of date (refresh it from the command in its comment):\n${line}`,
      );
      at = found + 1;
    }
  });
});

describe('action.yml', () => {
  it('has the metadata the Marketplace shows, without placeholders, and runs on node24', () => {
    const meta = parseYaml(readFileSync(join(ROOT, 'action.yml'), 'utf8')) as Record<string, Yaml>;
    assert.equal(meta.name, 'paramtrace');
    const description = String(meta.description);
    assert.ok(
      description.length > 20 && description.length <= 125,
      `description: ${description.length} characters`,
    );
    assert.equal(meta.author, 'the paramtrace authors');
    const branding = meta.branding as Record<string, Yaml>;
    assert.ok(branding.icon && branding.color, 'branding');
    assert.deepEqual(meta.runs, { using: 'node24', main: 'dist/index.js' });
    assert.doesNotMatch(readFileSync(join(ROOT, 'action.yml'), 'utf8'), /\b(OWNER|TODO|FIXME)\b/);
    // The license the package declares is the one in LICENSE.
    assert.equal(JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).license, 'MIT');
    assert.match(
      readFileSync(join(ROOT, 'LICENSE'), 'utf8'),
      /^MIT License\n\nCopyright \(c\) 2026 the paramtrace authors\n/,
    );
  });
});
