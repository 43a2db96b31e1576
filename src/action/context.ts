// What the runner tells the action about the run: environment variables and the event payload. Parsed
// into typed, checked values; nothing else in the action reads process.env or the event file.
import { UserError } from '../report/user-error.ts';
import type { CommentLinks } from '../render/markdown.ts';
import { proxySettings, type ProxySettings } from '../github/octokit.ts';
import { artifactRuntimeFrom, type ArtifactRuntime } from './publishing/artifact.ts';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';

export class ContextError extends UserError {
  readonly code = 'context';
  override name = 'ContextError';
}

export interface RepoRef {
  owner: string;
  repo: string;
}

export interface PullRequestEvent {
  number: number;
  headSha: string;
  headRef: string;
  /** owner/name; null when the head repository (a fork) was deleted. */
  headRepo: string | null;
  baseSha: string;
  baseRef: string;
  baseRepo: string;
}

export interface WorkflowRunEvent {
  id: number;
  /** The event that triggered the run being followed (`pull_request` for the fork-safe flow). */
  event: string;
  conclusion: string | null;
  headSha: string;
  headBranch: string | null;
  headRepo: string | null;
  /** Pull requests GitHub associated with the run; empty for pull requests from forks. */
  pullRequests: { number: number; headSha: string }[];
}

export interface RunContext {
  eventName: string;
  repository: RepoRef;
  /** GITHUB_SHA: for pull_request, the merge commit; for push, the pushed commit. */
  sha: string;
  workspace: string;
  tempDir: string;
  toolCache: string | null;
  /** RUNNER_ENVIRONMENT: `github-hosted` or `self-hosted` (absent on old runners: treated as self-hosted). */
  selfHosted: boolean;
  apiUrl: string;
  serverUrl: string;
  runUrl: string | null;
  stepSummaryPath: string | null;
  /** HTTPS_PROXY, HTTP_PROXY, NO_PROXY: the API, model URLs and artifact downloads go through it. */
  proxy?: ProxySettings;
  pullRequest: PullRequestEvent | null;
  workflowRun: WorkflowRunEvent | null;
  /** ACTIONS_RUNTIME_TOKEN and ACTIONS_RESULTS_URL, for uploading the HTML report; null outside a runner. */
  artifactRuntime?: ArtifactRuntime | null;
}

const SHA = /^[0-9a-f]{40}([0-9a-f]{24})?$/;
const REPO = /^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/;

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function field(o: unknown, path: string): unknown {
  let cur: unknown = o;
  for (const part of path.split('.')) cur = isObj(cur) ? cur[part] : undefined;
  return cur;
}

function needString(o: unknown, path: string, pattern?: RegExp): string {
  const v = field(o, path);
  if (typeof v !== 'string' || (pattern && !pattern.test(v))) {
    throw new ContextError(`event payload: '${path}' is missing or malformed`);
  }
  return v;
}

function needInt(o: unknown, path: string): number {
  const v = field(o, path);
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v <= 0) {
    throw new ContextError(`event payload: '${path}' is missing or malformed`);
  }
  return v;
}

function optionalRepo(o: unknown, path: string): string | null {
  const v = field(o, path);
  return typeof v === 'string' && REPO.test(v) ? v : null;
}

export function pullRequestFromEvent(event: unknown): PullRequestEvent {
  const pr = field(event, 'pull_request');
  if (!isObj(pr)) throw new ContextError('event payload has no pull_request');
  return {
    number: needInt(pr, 'number'),
    headSha: needString(pr, 'head.sha', SHA),
    headRef: needString(pr, 'head.ref'),
    headRepo: optionalRepo(pr, 'head.repo.full_name'),
    baseSha: needString(pr, 'base.sha', SHA),
    baseRef: needString(pr, 'base.ref'),
    baseRepo: needString(pr, 'base.repo.full_name', REPO),
  };
}

export function workflowRunFromEvent(event: unknown): WorkflowRunEvent {
  const run = field(event, 'workflow_run');
  if (!isObj(run)) throw new ContextError('event payload has no workflow_run');
  const prs = Array.isArray(run.pull_requests) ? run.pull_requests : [];
  const conclusion = run.conclusion;
  const branch = run.head_branch;
  return {
    id: needInt(run, 'id'),
    event: needString(run, 'event'),
    conclusion: typeof conclusion === 'string' ? conclusion : null,
    headSha: needString(run, 'head_sha', SHA),
    headBranch: typeof branch === 'string' ? branch : null,
    headRepo: optionalRepo(run, 'head_repository.full_name'),
    pullRequests: prs.flatMap((p: unknown) => {
      const number = field(p, 'number');
      const headSha = field(p, 'head.sha');
      return typeof number === 'number' &&
        Number.isSafeInteger(number) &&
        typeof headSha === 'string' &&
        SHA.test(headSha)
        ? [{ number, headSha }]
        : [];
    }),
  };
}

/**
 * The comment's links, from what the runner says about this run: the run (whose page shows the job
 * summary), the run that uploaded the report artifact (mode: post follows it), and the commits compared.
 * The action uploads no artifact itself, so it knows no artifact's own URL; a SHA that is not one is left out.
 */
export function commentLinks(
  ctx: RunContext,
  commits: { base: string | null; head: string | null; baseHow?: string | undefined },
  artifactRunId?: number,
): CommentLinks {
  const repo = `${ctx.serverUrl}/${ctx.repository.owner}/${ctx.repository.repo}`;
  const commit = (sha: string | null): { sha: string; url: string } | undefined =>
    sha && SHA.test(sha) ? { sha, url: `${repo}/commit/${sha}` } : undefined;
  const base = commit(commits.base);
  return {
    run: ctx.runUrl ?? undefined,
    summary: ctx.runUrl ?? undefined,
    artifact: artifactRunId === undefined ? undefined : `${repo}/actions/runs/${artifactRunId}`,
    base: base && { ...base, how: commits.baseHow },
    head: commit(commits.head),
  };
}

export function readRunContext(env: NodeJS.ProcessEnv): RunContext {
  const repository = env.GITHUB_REPOSITORY ?? '';
  if (!REPO.test(repository))
    throw new ContextError('GITHUB_REPOSITORY is not set (is this running in GitHub Actions?)');
  const [owner, repo] = repository.split('/') as [string, string];
  const eventName = env.GITHUB_EVENT_NAME ?? '';
  let event: unknown = {};
  if (env.GITHUB_EVENT_PATH) {
    try {
      event = JSON.parse(readFileSync(env.GITHUB_EVENT_PATH, 'utf8'));
    } catch (error) {
      throw new ContextError(
        `cannot read the event payload ${env.GITHUB_EVENT_PATH}: ${(error as Error).message}`,
      );
    }
  }
  const isPull = eventName === 'pull_request' || eventName === 'pull_request_target';
  const serverUrl = (env.GITHUB_SERVER_URL || 'https://github.com').replace(/\/+$/, '');
  const runId = env.GITHUB_RUN_ID ?? '';
  return {
    eventName,
    repository: { owner, repo },
    sha: env.GITHUB_SHA ?? '',
    workspace: env.GITHUB_WORKSPACE || process.cwd(),
    tempDir: env.RUNNER_TEMP || tmpdir(),
    toolCache: env.RUNNER_TOOL_CACHE || null,
    selfHosted: env.RUNNER_ENVIRONMENT !== 'github-hosted',
    apiUrl: env.GITHUB_API_URL || 'https://api.github.com',
    serverUrl,
    runUrl: /^[0-9]+$/.test(runId) ? `${serverUrl}/${repository}/actions/runs/${runId}` : null,
    stepSummaryPath: env.GITHUB_STEP_SUMMARY || null,
    proxy: proxySettings(env),
    pullRequest: isPull ? pullRequestFromEvent(event) : null,
    workflowRun: eventName === 'workflow_run' ? workflowRunFromEvent(event) : null,
    artifactRuntime: artifactRuntimeFrom(env),
  };
}
