// The end-to-end harness of the action: the bundled action built once per test file, a real git
// repository with base and head commits, the loopback GitHub API server, and runs of `node dist/index.js`
// as a runner makes them (test/support/action-runner.ts).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { runAction, type ActionRun } from './action-runner.ts';
import { BUILD, createModelRepo, MODEL, type CommitSpec, type ModelRepo } from './git-repo.ts';
import {
  READ_ONLY_TOKEN,
  startGitHubApi,
  WRITE_TOKEN,
  type GitHubApiServer,
  type StartGitHubApiOptions,
} from './github-api-server.ts';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const REPO = 'octo-org/models';
export const FORK = 'mallory/models';
export const MARKER = '<!-- paramtrace:comment-key=default -->';

let dist: string | undefined;
let entry = '';

/** Builds dist/ from the sources into a temporary folder before the file's tests; call at top level. */
export function useBuiltAction(): () => string {
  before(() => {
    dist = mkdtempSync(join(tmpdir(), 'paramtrace-dist-'));
    execFileSync(process.execPath, [join(ROOT, 'scripts/build-dist.mjs'), '--outdir', dist], {
      cwd: ROOT,
      stdio: 'pipe',
    });
    entry = join(dist, 'index.js');
  });
  after(() => {
    if (dist) rmSync(dist, { recursive: true, force: true });
  });
  return () => entry;
}

export interface Scenario {
  api: GitHubApiServer;
  repo: ModelRepo;
  /** The pull_request event payload for `head` (a commit label). */
  prEvent(head: string, options?: { fork?: boolean }): unknown;
  run(options: {
    head?: string;
    inputs?: Record<string, string>;
    token?: string;
    eventName?: string;
    event?: unknown;
    env?: Record<string, string>;
    workspace?: string;
    gpu?: boolean;
    npmFails?: 'always' | string[];
  }): Promise<ActionRun>;
  /** The baseline mode's run on the default branch's push of the base commit. */
  baseline(): Promise<ActionRun>;
  comments(): { id: number; body: string }[];
}

/**
 * main: base (seed case 1: conv2(conv1(x)), 18 unique); feature: head (seed case 2: conv1 applied twice,
 * 9 unique, conv1.weight shared), grown (resnet block: 296 unique).
 */
export async function scenario(
  t: TestContext,
  options: { fork?: boolean; commits?: CommitSpec[]; tokens?: StartGitHubApiOptions['tokens'] } = {},
): Promise<Scenario> {
  const repo = createModelRepo(
    options.commits ?? [
      { label: 'base', model: 'seed-case-1' },
      { label: 'head', model: 'seed-case-2', branch: 'feature' },
      { label: 'grown', model: 'resnet-block', branch: 'feature' },
      { label: 'same', model: 'seed-case-1', branch: 'feature' },
    ],
  );
  const api = await startGitHubApi({ tokens: options.tokens });
  api.state.addRepo(REPO, { ownerType: 'Organization' });
  if (options.fork) api.state.addRepo(FORK, { fork: true });
  api.state.addPullRequest(REPO, {
    number: 7,
    headSha: repo.commits.head!,
    baseSha: repo.commits.base!,
    headRef: 'feature',
    headRepo: options.fork ? FORK : REPO,
    user: options.fork ? 'mallory' : 'alice',
  });
  const runs: ActionRun[] = [];
  t.after(async () => {
    await api.close();
    repo.remove();
    for (const r of runs) r.cleanup();
  });
  const prEvent = (head: string, o: { fork?: boolean } = options) => ({
    action: 'synchronize',
    number: 7,
    pull_request: {
      number: 7,
      head: { sha: repo.commits[head], ref: 'feature', repo: { full_name: o.fork ? FORK : REPO } },
      base: { sha: repo.commits.base, ref: 'main', repo: { full_name: REPO } },
    },
    repository: { full_name: REPO },
  });
  const self: Scenario = {
    api,
    repo,
    prEvent,
    async run(o) {
      const head = o.head ?? 'head';
      if (!o.workspace) repo.checkout(head);
      // The PR's head sha moves with the head commit.
      const pr = api.state.pullRequest(REPO, 7)!;
      pr.pull.headSha = repo.commits[head]!;
      const result = await runAction({
        entry,
        workspace: o.workspace ?? repo.dir,
        // Static unless a test asks for the trace: a traced run costs a second or two per model.
        inputs: {
          model: MODEL,
          build: BUILD,
          trace: 'false',
          'github-token': o.token ?? WRITE_TOKEN,
          ...o.inputs,
        },
        eventName: o.eventName ?? 'pull_request',
        event: o.event ?? prEvent(head),
        repository: REPO,
        sha: repo.commits[head]!,
        apiUrl: api.url,
        env: o.env,
        gpu: o.gpu,
        npmFails: o.npmFails,
      });
      runs.push(result);
      return result;
    },
    baseline() {
      repo.checkout('base');
      return self.run({
        workspace: repo.dir,
        head: 'base',
        eventName: 'push',
        event: { ref: 'refs/heads/main', after: repo.commits.base },
        inputs: { mode: 'baseline' },
      });
    },
    comments: () => api.state.commentsOn(REPO, 7).map((c) => ({ id: c.id, body: c.body })),
  };
  return self;
}

export function assertNoToken(run: ActionRun, ...extra: string[]) {
  // `::add-mask::TOKEN` is the instruction to the runner to mask it, which the runner does not print.
  const log = run.log
    .split('\n')
    .filter((l) => !l.startsWith('::add-mask::'))
    .join('\n');
  for (const token of [WRITE_TOKEN, READ_ONLY_TOKEN]) {
    assert.ok(!log.includes(token), 'the token appears in the log');
    assert.ok(!run.summary.includes(token), 'the token appears in the summary');
    assert.ok(!JSON.stringify(run.outputs).includes(token), 'the token appears in the outputs');
    for (const text of extra) assert.ok(!text.includes(token), 'the token appears in a file');
  }
}

export /** The lines of the log that are workflow commands of one kind (`warning`, `error`, ...). */
function commands(run: ActionRun, kind: string): string[] {
  return run.log.split('\n').filter((l) => l.startsWith(`::${kind}`));
}

export function workflowRunEvent(s: Scenario) {
  return {
    action: 'completed',
    workflow_run: {
      id: 99,
      event: 'pull_request',
      conclusion: 'success',
      head_sha: s.repo.commits.head,
      head_branch: 'feature',
      head_repository: { full_name: FORK },
      pull_requests: [],
    },
    repository: { full_name: REPO },
  };
}

/** The inputs of `mode: post` as the fork-safe pair's second workflow gives them, with the status on. */
export function postInputs(artifact: string, extra: Record<string, string> = {}): Record<string, string> {
  return { mode: 'post', model: '', build: '', 'artifact-path': artifact, 'commit-status': 'true', ...extra };
}
