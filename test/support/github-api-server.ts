/**
 * A fake GitHub REST API on loopback for end-to-end tests: the action runs as a child process with
 * GITHUB_API_URL pointing here. It serves the few operations paramtrace uses, keeps their state in
 * memory (inspectable and seedable), validates every request and response against GitHub's
 * official OpenAPI description, and injects faults (5xx, rate limits, delays, hangs, state hooks).
 *
 *   const api = await startGitHubApi();
 *   api.state.addRepo('octo/demo');
 *   api.state.addPullRequest('octo/demo', { number: 7, headSha: fakeSha('head') });
 *   api.faults.inject('POST /repos/{owner}/{repo}/issues/{issue_number}/comments', { type: 'error', status: 502 });
 *   // ... run the action with GITHUB_API_URL=api.url, GITHUB_TOKEN=WRITE_TOKEN ...
 *   assert.deepEqual(api.violations, []);
 *   await api.close();
 */
import http from 'node:http';
import { createHash, randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import {
  OpenApiValidator,
  type HttpMethod,
  type OperationInfo,
  type RouteKey,
  type SchemaIssue,
} from './openapi-validator.ts';

export { TOLERANCES } from './openapi-validator.ts';

/** The operations served, spelt exactly as the OpenAPI paths (`${METHOD} ${path}`). */
export const ROUTES = [
  'GET /repos/{owner}/{repo}/pulls/{pull_number}',
  'GET /repos/{owner}/{repo}/commits/{commit_sha}/pulls',
  'GET /repos/{owner}/{repo}/issues/{issue_number}/comments',
  'POST /repos/{owner}/{repo}/issues/{issue_number}/comments',
  'GET /repos/{owner}/{repo}/issues/comments/{comment_id}',
  'PATCH /repos/{owner}/{repo}/issues/comments/{comment_id}',
  'DELETE /repos/{owner}/{repo}/issues/comments/{comment_id}',
  'POST /repos/{owner}/{repo}/statuses/{sha}',
  'GET /repos/{owner}/{repo}/commits/{ref}/statuses',
  'GET /repos/{owner}/{repo}/actions/runs/{run_id}/artifacts',
  'GET /repos/{owner}/{repo}/actions/artifacts',
  'GET /repos/{owner}/{repo}/actions/artifacts/{artifact_id}/{archive_format}',
  'GET /user',
] as const satisfies readonly RouteKey[];

export type Route = (typeof ROUTES)[number];

/** Default tokens: one with write access, one read-only (what a fork's pull_request run gets). */
export const WRITE_TOKEN = 'ghs_paramtraceTestWriteToken0000000000';
export const READ_ONLY_TOKEN = 'ghs_paramtraceTestReadOnlyToken000000';

const GITHUB_ACTIONS_BOT = 'github-actions[bot]';
const WEB = 'https://github.com';
const REST_DOCS = 'https://docs.github.com/rest';
const RATE_LIMIT_DOCS = 'https://docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api';
const MAX_COMMENT_BODY = 65536;
const MAX_STATUS_DESCRIPTION = 140;

/** A deterministic 40-hex commit sha, for seeding (POST statuses requires a full sha, as GitHub does). */
export function fakeSha(seed: string): string {
  return createHash('sha1').update(seed).digest('hex');
}

// ---------------------------------------------------------------------------------------------
// State
// ---------------------------------------------------------------------------------------------

export type AuthorAssociation =
  | 'COLLABORATOR'
  | 'CONTRIBUTOR'
  | 'FIRST_TIMER'
  | 'FIRST_TIME_CONTRIBUTOR'
  | 'MANNEQUIN'
  | 'MEMBER'
  | 'NONE'
  | 'OWNER';

export interface UserRecord {
  login: string;
  id: number;
  type: 'User' | 'Bot' | 'Organization';
}

export interface RepoRecord {
  id: number;
  owner: string;
  name: string;
  fullName: string;
  private: boolean;
  archived: boolean;
  fork: boolean;
  defaultBranch: string;
  /** Branch name → head sha; pull requests add their head and base branches. */
  branches: Map<string, string>;
  /** Issues and pull requests (a pull request is an issue with `pull` set), by number. */
  issues: Map<number, IssueRecord>;
  /** Commit statuses by sha, oldest first. */
  statuses: Map<string, StatusRecord[]>;
  artifacts: ArtifactRecord[];
  createdAt: string;
  nextNumber: number;
}

export interface IssueRecord {
  repo: string;
  number: number;
  id: number;
  title: string;
  body: string | null;
  user: string;
  authorAssociation: AuthorAssociation;
  state: 'open' | 'closed';
  locked: boolean;
  activeLockReason: 'resolved' | 'off-topic' | 'too heated' | 'spam' | null;
  createdAt: string;
  updatedAt: string;
  closedAt: string | null;
  pull?: PullFields;
}

export interface PullFields {
  id: number;
  headRepo: string;
  headRef: string;
  headSha: string;
  baseRef: string;
  baseSha: string;
  draft: boolean;
  merged: boolean;
  mergedAt: string | null;
  mergedBy: string | null;
  mergeCommitSha: string | null;
  /** Shas of the pull request's commits besides the head (for "PRs associated with a commit"). */
  commits: string[];
}

export type PullRequestRecord = IssueRecord & { pull: PullFields };

export interface CommentRecord {
  id: number;
  repo: string;
  issueNumber: number;
  body: string;
  user: string;
  authorAssociation: AuthorAssociation;
  createdAt: string;
  updatedAt: string;
}

export interface StatusRecord {
  id: number;
  sha: string;
  state: 'error' | 'failure' | 'pending' | 'success';
  context: string;
  description: string | null;
  targetUrl: string | null;
  creator: string;
  createdAt: string;
  updatedAt: string;
}

export interface ArtifactRecord {
  id: number;
  runId: number;
  name: string;
  sizeInBytes: number;
  expired: boolean;
  digest: string | null;
  headBranch: string;
  headSha: string;
  createdAt: string;
  expiresAt: string;
  updatedAt: string;
  /** The run's head repository id: the repository's own, or a fork's for a pull request from a fork. */
  headRepositoryId: number;
  /** The zip archive served by the download route (empty when not given). */
  content: Uint8Array;
}

const lower = (s: string) => s.toLowerCase();

/** In-memory GitHub. Repository and user names are case-insensitive, as on GitHub. */
export class GitHubState {
  readonly users = new Map<string, UserRecord>();
  readonly repos = new Map<string, RepoRecord>();
  /** Issue comments of every repository, by id (ids are global on GitHub too). */
  readonly comments = new Map<number, CommentRecord>();
  // Realistic magnitudes: comment ids are past 2^31 today, which catches int32 assumptions.
  private readonly ids = {
    user: 9_000_001,
    repo: 700_000_001,
    issue: 2_400_000_001,
    pull: 1_900_000_001,
    comment: 3_000_000_001,
    status: 33_000_000_001,
    artifact: 2_500_000_001,
  };

  constructor(private readonly clock: () => Date = () => new Date()) {}

  /** GitHub timestamps have second precision. */
  now(offsetSeconds = 0): string {
    return new Date(this.clock().getTime() + offsetSeconds * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
  }

  private nextId(kind: keyof GitHubState['ids']): number {
    return this.ids[kind]++;
  }

  user(login: string, init: Partial<Omit<UserRecord, 'login'>> = {}): UserRecord {
    let user = this.users.get(lower(login));
    if (!user) {
      const bot = login === GITHUB_ACTIONS_BOT;
      user = {
        login,
        id: bot ? 41898282 : this.nextId('user'),
        type: login.endsWith('[bot]') ? 'Bot' : 'User',
      };
      this.users.set(lower(login), user);
    }
    return Object.assign(user, init);
  }

  addRepo(
    fullName: string,
    init: Partial<Pick<RepoRecord, 'id' | 'private' | 'archived' | 'fork' | 'defaultBranch'>> & {
      ownerType?: UserRecord['type'];
    } = {},
  ): RepoRecord {
    const [owner, name, extra] = fullName.split('/');
    if (!owner || !name || extra !== undefined) throw new Error(`repository must be owner/name: ${fullName}`);
    if (this.repos.has(lower(fullName))) throw new Error(`repository ${fullName} already exists`);
    this.user(owner, init.ownerType ? { type: init.ownerType } : {});
    const repo: RepoRecord = {
      id: init.id ?? this.nextId('repo'),
      owner,
      name,
      fullName,
      private: init.private ?? false,
      archived: init.archived ?? false,
      fork: init.fork ?? false,
      defaultBranch: init.defaultBranch ?? 'main',
      branches: new Map(),
      issues: new Map(),
      statuses: new Map(),
      artifacts: [],
      createdAt: this.now(-86400 * 30),
      nextNumber: 1,
    };
    this.repos.set(lower(fullName), repo);
    return repo;
  }

  repo(fullName: string): RepoRecord | undefined {
    return this.repos.get(lower(fullName));
  }

  private requireRepo(fullName: string): RepoRecord {
    const repo = this.repo(fullName);
    if (!repo) throw new Error(`no repository ${fullName}; call addRepo first`);
    return repo;
  }

  private associationOf(repo: RepoRecord, login: string): AuthorAssociation {
    return lower(login) === lower(repo.owner) ? 'OWNER' : 'NONE';
  }

  addIssue(
    fullName: string,
    init: Partial<Omit<IssueRecord, 'repo' | 'pull' | 'closedAt'>> = {},
  ): IssueRecord {
    const repo = this.requireRepo(fullName);
    const number = init.number ?? repo.nextNumber;
    if (repo.issues.has(number)) throw new Error(`${fullName}#${number} already exists`);
    repo.nextNumber = Math.max(repo.nextNumber, number + 1);
    const user = init.user ?? 'octocat';
    this.user(user);
    const createdAt = init.createdAt ?? this.now(-3600);
    const state = init.state ?? 'open';
    const issue: IssueRecord = {
      repo: repo.fullName,
      number,
      id: init.id ?? this.nextId('issue'),
      title: init.title ?? `Issue ${number}`,
      body: init.body ?? null,
      user,
      authorAssociation: init.authorAssociation ?? this.associationOf(repo, user),
      state,
      locked: init.locked ?? false,
      activeLockReason: init.activeLockReason ?? (init.locked ? 'resolved' : null),
      createdAt,
      updatedAt: init.updatedAt ?? createdAt,
      closedAt: state === 'closed' ? this.now() : null,
    };
    repo.issues.set(number, issue);
    return issue;
  }

  addPullRequest(
    fullName: string,
    init: Partial<Omit<IssueRecord, 'repo' | 'pull' | 'closedAt'>> &
      Partial<Omit<PullFields, 'id' | 'mergedAt'>> & { headSha: string },
  ): PullRequestRecord {
    const repo = this.requireRepo(fullName);
    const issue = this.addIssue(fullName, {
      title: `Pull request ${init.number ?? repo.nextNumber}`,
      ...init,
    });
    const headRepo = init.headRepo ?? repo.fullName;
    if (!this.repo(headRepo)) this.addRepo(headRepo, { fork: true });
    const merged = init.merged ?? false;
    if (merged) issue.state = 'closed';
    if (issue.state === 'closed') issue.closedAt = this.now();
    const pull: PullFields = {
      id: this.nextId('pull'),
      headRepo,
      headRef: init.headRef ?? `feature-${issue.number}`,
      headSha: init.headSha,
      baseRef: init.baseRef ?? repo.defaultBranch,
      baseSha: init.baseSha ?? fakeSha(`${repo.fullName}:${repo.defaultBranch}`),
      draft: init.draft ?? false,
      merged,
      mergedAt: merged ? issue.closedAt : null,
      mergedBy: merged ? (init.mergedBy ?? repo.owner) : null,
      mergeCommitSha: init.mergeCommitSha ?? fakeSha(`merge:${repo.fullName}#${issue.number}`),
      commits: init.commits ?? [],
    };
    issue.pull = pull;
    if (headRepo === repo.fullName) repo.branches.set(pull.headRef, pull.headSha);
    if (!repo.branches.has(pull.baseRef)) repo.branches.set(pull.baseRef, pull.baseSha);
    return issue as PullRequestRecord;
  }

  issue(fullName: string, number: number): IssueRecord | undefined {
    return this.repo(fullName)?.issues.get(number);
  }

  pullRequest(fullName: string, number: number): PullRequestRecord | undefined {
    const issue = this.issue(fullName, number);
    return issue?.pull ? (issue as PullRequestRecord) : undefined;
  }

  closeIssue(fullName: string, number: number, options: { merged?: boolean } = {}): IssueRecord {
    const issue = this.issue(fullName, number);
    if (!issue) throw new Error(`no issue ${fullName}#${number}`);
    issue.state = 'closed';
    issue.closedAt = issue.updatedAt = this.now();
    if (issue.pull && options.merged) {
      Object.assign(issue.pull, {
        merged: true,
        mergedAt: issue.closedAt,
        mergedBy: this.repo(fullName)?.owner,
      });
    }
    return issue;
  }

  lockIssue(
    fullName: string,
    number: number,
    reason: IssueRecord['activeLockReason'] = 'resolved',
  ): IssueRecord {
    const issue = this.issue(fullName, number);
    if (!issue) throw new Error(`no issue ${fullName}#${number}`);
    issue.locked = true;
    issue.activeLockReason = reason;
    return issue;
  }

  addComment(
    fullName: string,
    issueNumber: number,
    init: Partial<Omit<CommentRecord, 'repo' | 'issueNumber'>> & { body: string },
  ): CommentRecord {
    const repo = this.requireRepo(fullName);
    if (!repo.issues.has(issueNumber)) throw new Error(`no issue ${fullName}#${issueNumber}`);
    const user = init.user ?? GITHUB_ACTIONS_BOT;
    this.user(user);
    const createdAt = init.createdAt ?? this.now();
    const comment: CommentRecord = {
      id: init.id ?? this.nextId('comment'),
      repo: repo.fullName,
      issueNumber,
      body: init.body,
      user,
      authorAssociation: init.authorAssociation ?? this.associationOf(repo, user),
      createdAt,
      updatedAt: init.updatedAt ?? createdAt,
    };
    if (this.comments.has(comment.id)) throw new Error(`comment ${comment.id} already exists`);
    this.comments.set(comment.id, comment);
    return comment;
  }

  /** Comments on one issue or pull request, ascending by id as GitHub lists them. */
  commentsOn(fullName: string, issueNumber: number): CommentRecord[] {
    return [...this.comments.values()]
      .filter((c) => lower(c.repo) === lower(fullName) && c.issueNumber === issueNumber)
      .sort((a, b) => a.id - b.id);
  }

  deleteComment(id: number): boolean {
    return this.comments.delete(id);
  }

  addStatus(
    fullName: string,
    sha: string,
    init: Partial<Omit<StatusRecord, 'id' | 'sha'>> & { state: StatusRecord['state'] },
  ): StatusRecord {
    const repo = this.requireRepo(fullName);
    const creator = init.creator ?? GITHUB_ACTIONS_BOT;
    this.user(creator);
    const createdAt = init.createdAt ?? this.now();
    const status: StatusRecord = {
      id: this.nextId('status'),
      sha,
      state: init.state,
      context: init.context ?? 'default',
      description: init.description ?? null,
      targetUrl: init.targetUrl ?? null,
      creator,
      createdAt,
      updatedAt: init.updatedAt ?? createdAt,
    };
    const list = repo.statuses.get(sha) ?? [];
    list.push(status);
    repo.statuses.set(sha, list);
    return status;
  }

  /** Statuses of a sha, newest first as GitHub lists them. */
  statusesFor(fullName: string, sha: string): StatusRecord[] {
    return [...(this.repo(fullName)?.statuses.get(sha) ?? [])].reverse();
  }

  addArtifact(
    fullName: string,
    runId: number,
    init: Partial<Omit<ArtifactRecord, 'runId'>> & { name: string },
  ): ArtifactRecord {
    const repo = this.requireRepo(fullName);
    const createdAt = init.createdAt ?? this.now(-600);
    const content = init.content ?? new Uint8Array();
    const artifact: ArtifactRecord = {
      id: init.id ?? this.nextId('artifact'),
      runId,
      name: init.name,
      sizeInBytes: init.sizeInBytes ?? (content.length || 1024),
      expired: init.expired ?? false,
      digest: init.digest ?? `sha256:${createHash('sha256').update(init.name).digest('hex')}`,
      headBranch: init.headBranch ?? repo.defaultBranch,
      headSha: init.headSha ?? fakeSha(`${fullName}:run:${runId}`),
      createdAt,
      expiresAt: init.expiresAt ?? this.now(86400 * 90),
      updatedAt: init.updatedAt ?? createdAt,
      headRepositoryId: init.headRepositoryId ?? repo.id,
      content,
    };
    repo.artifacts.push(artifact);
    return artifact;
  }
}

// ---------------------------------------------------------------------------------------------
// Faults
// ---------------------------------------------------------------------------------------------

export interface HookContext {
  state: GitHubState;
  route: Route;
  /** Path and query parameters, typed per the OpenAPI schema. */
  params: Readonly<Record<string, unknown>>;
  body: unknown;
}

export type Fault =
  /** A server error with GitHub's body. */
  | { type: 'error'; status: 500 | 502 | 503 | 504 }
  /**
   * Secondary rate limit: 403 (or 429) with `retry-after` and GitHub's message, or `message` instead (a
   * proxy's "Too Many Requests", a reworded message: a client must go by the status and `retry-after`).
   */
  | { type: 'secondary-rate-limit'; retryAfterSeconds?: number; status?: 403 | 429; message?: string }
  /** Primary rate limit exhausted: 403 (or 429) with `x-ratelimit-remaining: 0` and a reset time. */
  | { type: 'rate-limit'; resetInSeconds?: number; status?: 403 | 429 }
  /** Answer normally, but only after `ms`. */
  | { type: 'delay'; ms: number }
  /** Never answer; `close()` ends the request. */
  | { type: 'hang' }
  /**
   * What GitHub answers a token that lacks a permission (e.g. a job without `actions: read`): 403
   * "Resource not accessible by integration" with `x-accepted-github-permissions`.
   */
  | { type: 'forbidden'; permission: string }
  /** Change the state before the request is handled (e.g. close the PR). */
  | { type: 'before'; run: (ctx: HookContext) => void }
  /** Change the state right after the response is computed, before it is sent. */
  | { type: 'after'; run: (ctx: HookContext) => void };

/**
 * What a signed artifact download URL (outside the REST API, so not a Route) does in place of serving the
 * zip at once: queued with `FaultQueue.injectDownload`.
 */
export type DownloadFault =
  /** Never answers, not even the headers; `close()` ends the request. */
  | { type: 'hang' }
  /** Answers 200 with the headers and the first `bytes` bytes of the zip (default 0), then nothing more. */
  | { type: 'stall'; bytes?: number }
  /** Answers 200 and sends the zip one byte every `intervalMs`, never pausing long enough to look stalled. */
  | { type: 'trickle'; intervalMs: number };

export interface FaultRule {
  route: Route | '*';
  fault: Fault;
  /** How many more requests it applies to (Infinity: every one). */
  remaining: number;
  fired: number;
}

interface FaultPlan {
  delayMs: number;
  before: Array<(ctx: HookContext) => void>;
  after: Array<(ctx: HookContext) => void>;
  /** At most one fault answers a request in place of the handler. */
  answer?: Exclude<Fault, { type: 'delay' | 'before' | 'after' }>;
}

export class FaultQueue {
  private readonly rules: FaultRule[] = [];
  private readonly downloadRules: { fault: DownloadFault; remaining: number; fired: number }[] = [];

  /** Queues `fault` for the next `times` downloads of an artifact's zip from its signed URL. */
  injectDownload(
    fault: DownloadFault,
    times = 1,
  ): { fault: DownloadFault; remaining: number; fired: number } {
    const rule = { fault, remaining: times, fired: 0 };
    this.downloadRules.push(rule);
    return rule;
  }

  /** Consumes the download fault that applies to one download, if any. */
  takeDownload(): DownloadFault | undefined {
    const rule = this.downloadRules.find((r) => r.remaining > 0);
    if (!rule) return undefined;
    rule.remaining--;
    rule.fired++;
    return rule.fault;
  }

  /** Download faults that still have downloads to apply to. */
  get pendingDownloads(): DownloadFault[] {
    return this.downloadRules.filter((r) => r.remaining > 0).map((r) => r.fault);
  }

  /** Queues `fault` for the next `times` requests to `route` ('*': any route). */
  inject(route: Route | '*', fault: Fault, times = 1): FaultRule {
    if (route !== '*' && !(ROUTES as readonly string[]).includes(route))
      throw new Error(`unknown route ${route}`);
    const rule: FaultRule = { route, fault, remaining: times, fired: 0 };
    this.rules.push(rule);
    return rule;
  }

  before(route: Route | '*', run: (ctx: HookContext) => void, times = 1): FaultRule {
    return this.inject(route, { type: 'before', run }, times);
  }

  after(route: Route | '*', run: (ctx: HookContext) => void, times = 1): FaultRule {
    return this.inject(route, { type: 'after', run }, times);
  }

  /** Deletes comment `commentId` right after the next listing of issue comments is computed. */
  deleteCommentAfterNextList(commentId: number): FaultRule {
    return this.after('GET /repos/{owner}/{repo}/issues/{issue_number}/comments', ({ state }) => {
      state.deleteComment(commentId);
    });
  }

  /** Closes (or merges) a pull request when the next request to `route` arrives. */
  closePullRequestOnNext(
    route: Route | '*',
    fullName: string,
    number: number,
    options: { merged?: boolean } = {},
  ) {
    return this.before(route, ({ state }) => {
      state.closeIssue(fullName, number, options);
    });
  }

  /** Rules that still have requests to apply to. */
  get pending(): FaultRule[] {
    return this.rules.filter((r) => r.remaining > 0);
  }

  clear(): void {
    this.rules.length = 0;
    this.downloadRules.length = 0;
  }

  /** Consumes the rules that apply to one request to `route`. */
  take(route: Route): FaultPlan {
    const plan: FaultPlan = { delayMs: 0, before: [], after: [] };
    for (const rule of this.rules) {
      if (rule.remaining <= 0 || (rule.route !== '*' && rule.route !== route)) continue;
      const { fault } = rule;
      if (fault.type === 'delay') plan.delayMs += fault.ms;
      else if (fault.type === 'before') plan.before.push(fault.run);
      else if (fault.type === 'after') plan.after.push(fault.run);
      else if (plan.answer)
        continue; // one answer per request; this rule waits for the next one
      else plan.answer = fault;
      rule.remaining--;
      rule.fired++;
    }
    return plan;
  }
}

// ---------------------------------------------------------------------------------------------
// Server
// ---------------------------------------------------------------------------------------------

export interface TokenGrant {
  access: 'write' | 'read';
  /** Who the token acts as; default github-actions[bot], as for GITHUB_TOKEN. */
  login?: string;
}

export interface StartGitHubApiOptions {
  /** Accepted tokens; default `{ [WRITE_TOKEN]: 'write', [READ_ONLY_TOKEN]: 'read' }`. */
  tokens?: Record<string, TokenGrant | TokenGrant['access']>;
  /** Fills the state before the first request. */
  seed?: (state: GitHubState) => void;
  /** Source of timestamps; default the wall clock. */
  clock?: () => Date;
  /** `x-ratelimit-limit` on responses; default 5000. */
  rateLimit?: number;
}

export interface RecordedRequest {
  method: string;
  /** Path and query as received. */
  path: string;
  route: Route | null;
  /** Undefined while the request is still in progress (or hung). */
  status: number | undefined;
  /** Parsed JSON body, or the raw text when it was not JSON; undefined when empty. */
  body: unknown;
  access: TokenGrant['access'] | null;
  /** The fault that answered or delayed it (or, for a download, the DownloadFault), if any. */
  fault?: Fault['type'] | DownloadFault['type'];
  requestId: string;
  /** Whether the request carried an Authorization header (a download URL must not get the token). */
  authorized: boolean;
}

export interface Violation {
  direction: 'request' | 'response';
  /** null for a crash of the fake before the route was known. */
  route: Route | null;
  method: string;
  path: string;
  status: number;
  issues: SchemaIssue[];
}

export interface GitHubApiServer {
  /** Base URL for GITHUB_API_URL / Octokit's baseUrl, e.g. http://127.0.0.1:40123 */
  readonly url: string;
  readonly state: GitHubState;
  readonly requests: RecordedRequest[];
  readonly violations: Violation[];
  readonly faults: FaultQueue;
  /** Stops listening and ends every open request, hung ones included. */
  close(): Promise<void>;
}

interface Reply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

interface RequestContext {
  state: GitHubState;
  op: OperationInfo;
  params: Record<string, unknown>;
  body: Record<string, unknown>;
  grant: Required<TokenGrant>;
  url: URL;
  apiUrl: string;
  /** A signed, short-lived URL on this server that serves an artifact's zip without authentication. */
  signDownload(artifact: ArtifactRecord): string;
}

/** Where signed artifact downloads are served, like GitHub's blob storage (outside the REST API). */
const DOWNLOAD_PREFIX = '/_artifact-downloads/';

type Handler = (ctx: RequestContext) => Reply;

export async function startGitHubApi(options: StartGitHubApiOptions = {}): Promise<GitHubApiServer> {
  const validator = await OpenApiValidator.create(ROUTES);
  const server = new FakeGitHub(validator, options);
  await server.listen();
  return server;
}

interface CompiledRoute {
  route: Route;
  method: HttpMethod;
  pattern: RegExp;
  names: string[];
  literalLength: number;
}

function compileRoutes(validator: OpenApiValidator): CompiledRoute[] {
  return ROUTES.map((route) => {
    const op = validator.operation(route);
    const multi = new Set(op.parameters.filter((p) => p.multiSegment).map((p) => p.name));
    const names: string[] = [];
    const source = op.path
      .replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
      .replace(/\\\{(\w+)\\\}/g, (_m, name: string) => {
        names.push(name);
        // x-multi-segment parameters (refs like heads/main) may contain slashes.
        return multi.has(name) ? '(.+)' : '([^/]+)';
      });
    return {
      route,
      method: op.method,
      pattern: new RegExp(`^${source}$`),
      names,
      literalLength: op.path.replace(/\{\w+\}/g, '').length,
    };
  }).sort((a, b) => b.literalLength - a.literalLength); // literal segments win over parameters
}

function errorBody(status: number, message: string, documentationUrl = REST_DOCS) {
  return { message, documentation_url: documentationUrl, status: String(status) };
}

function hex(bytes: number): string {
  return randomBytes(bytes).toString('hex').toUpperCase();
}

class FakeGitHub implements GitHubApiServer {
  readonly state: GitHubState;
  readonly requests: RecordedRequest[] = [];
  readonly violations: Violation[] = [];
  readonly faults = new FaultQueue();
  url = '';

  private readonly http: http.Server;
  private readonly routes: CompiledRoute[];
  private readonly tokens: Map<string, Required<TokenGrant>>;
  private readonly rateLimit: number;
  private readonly rateLimitReset: number;
  private readonly used = new Map<string, number>();
  private readonly timers = new Set<{ timer: NodeJS.Timeout; resolve: () => void }>();
  /** Download signatures handed out in Location headers → the artifact they unlock. */
  private readonly downloads = new Map<string, ArtifactRecord>();
  private closed = false;

  constructor(
    private readonly validator: OpenApiValidator,
    options: StartGitHubApiOptions,
  ) {
    this.state = new GitHubState(options.clock);
    options.seed?.(this.state);
    this.routes = compileRoutes(validator);
    const tokens = options.tokens ?? { [WRITE_TOKEN]: 'write', [READ_ONLY_TOKEN]: 'read' };
    this.tokens = new Map(
      Object.entries(tokens).map(([token, grant]) => {
        const g = typeof grant === 'string' ? { access: grant } : grant;
        return [token, { access: g.access, login: g.login ?? GITHUB_ACTIONS_BOT }];
      }),
    );
    this.rateLimit = options.rateLimit ?? 5000;
    this.rateLimitReset = Math.floor(Date.now() / 1000) + 3600;
    this.http = http.createServer((req, res) => {
      this.handle(req, res).catch((error: unknown) => {
        // A bug in the fake itself: answer 500 and make the test fail through `violations`.
        if (!res.headersSent && !res.destroyed) {
          res.writeHead(500, { 'content-type': 'application/json; charset=utf-8' });
          res.end(JSON.stringify(errorBody(500, `fake GitHub crashed: ${String(error)}`)));
        }
        this.violations.push({
          direction: 'response',
          route: null,
          method: req.method ?? '',
          path: req.url ?? '',
          status: 500,
          issues: [
            {
              location: 'server',
              message: error instanceof Error ? (error.stack ?? error.message) : String(error),
            },
          ],
        });
      });
    });
  }

  listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.http.once('error', reject);
      this.http.listen(0, '127.0.0.1', () => {
        const { port } = this.http.address() as AddressInfo;
        this.url = `http://127.0.0.1:${port}`;
        resolve();
      });
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const t of this.timers) {
      clearTimeout(t.timer);
      t.resolve();
    }
    this.timers.clear();
    const done = new Promise<void>((resolve) => this.http.close(() => resolve()));
    this.http.closeAllConnections(); // ends keep-alive sockets and hung requests
    await done;
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const entry = {
        resolve,
        timer: setTimeout(() => {
          this.timers.delete(entry);
          resolve();
        }, ms),
      };
      this.timers.add(entry);
    });
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const method = (req.method ?? 'GET').toUpperCase();
    const url = new URL(req.url ?? '/', this.url);
    const requestId = `${hex(2)}:${hex(3)}:${hex(4)}:${hex(4)}:${hex(4)}`;
    const rawBody = await readBody(req);
    const record: RecordedRequest = {
      method,
      path: url.pathname + url.search,
      route: null,
      status: undefined,
      body: parseMaybeJson(rawBody),
      access: null,
      requestId,
      authorized: req.headers.authorization !== undefined,
    };
    this.requests.push(record);
    if (url.pathname.startsWith(DOWNLOAD_PREFIX)) {
      await this.serveDownload(res, record, method, url);
      return;
    }

    const auth = /^(?:token|bearer)\s+(\S+)$/i.exec(req.headers.authorization ?? '');
    const grant = auth?.[1] !== undefined ? this.tokens.get(auth[1]) : undefined;
    record.access = grant?.access ?? null;
    const tokenKey = auth?.[1] ?? '';
    const used = (this.used.get(tokenKey) ?? 0) + 1;
    this.used.set(tokenKey, used);
    const baseHeaders: Record<string, string> = {
      'x-github-request-id': requestId,
      'x-github-media-type': 'github.v3; format=json',
      'x-github-api-version-selected': '2022-11-28',
      'x-ratelimit-limit': String(this.rateLimit),
      'x-ratelimit-remaining': String(Math.max(0, this.rateLimit - used)),
      'x-ratelimit-reset': String(this.rateLimitReset),
      'x-ratelimit-used': String(Math.min(used, this.rateLimit)),
      'x-ratelimit-resource': 'core',
    };

    const match = this.match(method, url.pathname);
    if (!match) {
      this.send(res, record, undefined, { status: 404, body: errorBody(404, 'Not Found') }, baseHeaders);
      return;
    }
    const { route } = match;
    record.route = route;
    const op = this.validator.operation(route);

    if (!auth) {
      this.send(
        res,
        record,
        route,
        { status: 401, body: errorBody(401, 'Requires authentication') },
        baseHeaders,
      );
      return;
    }
    if (!grant) {
      this.send(res, record, route, { status: 401, body: errorBody(401, 'Bad credentials') }, baseHeaders);
      return;
    }

    const plan = this.faults.take(route);
    if (plan.delayMs > 0) {
      record.fault = 'delay';
      await this.sleep(plan.delayMs);
      if (this.closed) return;
    }
    if (plan.answer) {
      record.fault = plan.answer.type;
      if (plan.answer.type === 'hang') return; // close() ends it
      this.send(res, record, route, this.faultReply(plan.answer, requestId, baseHeaders), baseHeaders);
      return;
    }

    if (method !== 'GET' && grant.access !== 'write') {
      // What GitHub answers a fork pull request's read-only GITHUB_TOKEN.
      const permission = route.includes('/statuses/')
        ? 'statuses=write'
        : 'issues=write; pull_requests=write';
      const reply = {
        status: 403,
        body: errorBody(403, 'Resource not accessible by integration', op.documentationUrl),
        headers: { 'x-accepted-github-permissions': permission },
      };
      this.send(res, record, route, reply, baseHeaders);
      return;
    }

    // Request validation: parameters, then the JSON body.
    const { values, issues } = this.validator.validateParameters(route, match.params, url.searchParams);
    let body: unknown;
    if (rawBody.length > 0 && method !== 'GET' && method !== 'DELETE') {
      try {
        body = JSON.parse(rawBody);
      } catch {
        this.violations.push({
          direction: 'request',
          route,
          method,
          path: record.path,
          status: 400,
          issues: [{ location: 'body', message: 'is not JSON' }],
        });
        this.send(
          res,
          record,
          route,
          { status: 400, body: errorBody(400, 'Problems parsing JSON', op.documentationUrl) },
          baseHeaders,
        );
        return;
      }
    }
    issues.push(...this.validator.validateRequestBody(route, body));
    if (issues.length > 0) {
      this.violations.push({ direction: 'request', route, method, path: record.path, status: 422, issues });
      const message = `Invalid request.\n\n${issues.map(describeIssue).join('\n')}`;
      this.send(
        res,
        record,
        route,
        { status: 422, body: errorBody(422, message, op.documentationUrl) },
        baseHeaders,
      );
      return;
    }

    const hookContext: HookContext = { state: this.state, route, params: values, body };
    for (const run of plan.before) run(hookContext);
    const ctx: RequestContext = {
      state: this.state,
      op,
      params: values,
      body: (body ?? {}) as Record<string, unknown>,
      grant,
      url,
      apiUrl: this.url,
      signDownload: (artifact) => {
        const signature = randomBytes(16).toString('hex');
        this.downloads.set(signature, artifact);
        return `${this.url}${DOWNLOAD_PREFIX}${artifact.id}.zip?sig=${signature}`;
      },
    };
    const reply = HANDLERS[route](ctx);
    for (const run of plan.after) run(hookContext);
    this.send(res, record, route, reply, baseHeaders);
  }

  /**
   * A signed download URL, as GitHub's storage serves it: no authentication, the signature is the
   * credential; an unknown or missing signature is 403 (an XML error there; plain text here).
   */
  private async serveDownload(
    res: http.ServerResponse,
    record: RecordedRequest,
    method: string,
    url: URL,
  ): Promise<void> {
    const artifact = this.downloads.get(url.searchParams.get('sig') ?? '');
    const ok =
      method === 'GET' && artifact !== undefined && url.pathname === `${DOWNLOAD_PREFIX}${artifact.id}.zip`;
    record.status = ok ? 200 : 403;
    if (!ok) {
      res.writeHead(403, { 'content-type': 'text/plain' });
      res.end('AuthenticationFailed: signature did not match');
      return;
    }
    const fault = this.faults.takeDownload();
    if (fault) record.fault = fault.type;
    if (fault?.type === 'hang') {
      record.status = undefined; // never answered; close() ends it
      return;
    }
    const content = Buffer.from(artifact.content);
    res.writeHead(200, {
      'content-type': 'application/zip',
      'content-length': String(content.length),
      'content-disposition': `attachment; filename=${artifact.name}.zip`,
    });
    if (fault?.type === 'stall') {
      res.write(content.subarray(0, Math.min(fault.bytes ?? 0, content.length - 1)));
      return; // the rest never comes; close() ends it
    }
    if (fault?.type === 'trickle') {
      res.flushHeaders();
      for (let at = 0; at < content.length; at++) {
        await this.sleep(fault.intervalMs);
        if (this.closed || res.destroyed) return;
        res.write(content.subarray(at, at + 1));
      }
      res.end();
      return;
    }
    res.end(content);
  }

  private match(
    method: string,
    pathname: string,
  ): { route: Route; params: Record<string, string> } | undefined {
    for (const r of this.routes) {
      if (r.method !== method) continue;
      const m = r.pattern.exec(pathname);
      if (!m) continue;
      const params: Record<string, string> = {};
      try {
        r.names.forEach((name, i) => (params[name] = decodeURIComponent(m[i + 1] ?? '')));
      } catch {
        return undefined; // malformed percent-encoding: GitHub answers 404
      }
      return { route: r.route, params };
    }
    return undefined;
  }

  private faultReply(
    fault: NonNullable<FaultPlan['answer']>,
    requestId: string,
    baseHeaders: Record<string, string>,
  ): Reply {
    switch (fault.type) {
      case 'error': {
        const messages: Record<number, string> = {
          500: 'Server Error',
          502: "We couldn't respond to your request in time. Sorry about that. Please try resubmitting your request and contact us if the problem persists.",
          503: 'Service Unavailable',
          504: 'Gateway Timeout',
        };
        return {
          status: fault.status,
          body: errorBody(fault.status, messages[fault.status] ?? 'Server Error'),
        };
      }
      case 'secondary-rate-limit': {
        const status = fault.status ?? 403;
        const message =
          fault.message ??
          'You have exceeded a secondary rate limit. Please wait a few minutes before you try again. ' +
            `If you reach out to GitHub Support for help, please include the request ID ${requestId}.`;
        return {
          status,
          body: errorBody(status, message, `${RATE_LIMIT_DOCS}#about-secondary-rate-limits`),
          headers: { 'retry-after': String(fault.retryAfterSeconds ?? 60) },
        };
      }
      case 'rate-limit': {
        const status = fault.status ?? 403;
        const reset = Math.floor(Date.now() / 1000) + (fault.resetInSeconds ?? 3600);
        const message =
          'API rate limit exceeded for installation ID 12345678. If you reach out to GitHub Support for help, ' +
          `please include the request ID ${requestId} and timestamp ${new Date().toISOString().slice(0, 19)} UTC.`;
        return {
          status,
          body: errorBody(status, message, `${RATE_LIMIT_DOCS}#about-rate-limits`),
          headers: {
            'x-ratelimit-remaining': '0',
            'x-ratelimit-used': baseHeaders['x-ratelimit-limit'] ?? '5000',
            'x-ratelimit-reset': String(reset),
          },
        };
      }
      case 'forbidden':
        return {
          status: 403,
          body: errorBody(403, 'Resource not accessible by integration'),
          headers: { 'x-accepted-github-permissions': fault.permission },
        };
      case 'hang':
        throw new Error('hang has no reply');
    }
  }

  private send(
    res: http.ServerResponse,
    record: RecordedRequest,
    route: Route | undefined,
    reply: Reply,
    baseHeaders: Record<string, string>,
  ): void {
    record.status = reply.status;
    if (route) {
      const issues = this.validator.validateResponse(route, reply.status, reply.body);
      if (issues.length > 0) {
        this.violations.push({
          direction: 'response',
          route,
          method: record.method,
          path: record.path,
          status: reply.status,
          issues,
        });
      }
    }
    if (res.destroyed) return; // the client gave up (timeout) while we delayed
    const headers: Record<string, string> = { ...baseHeaders, ...reply.headers };
    if (reply.body === undefined) {
      res.writeHead(reply.status, headers);
      res.end();
      return;
    }
    const json = JSON.stringify(reply.body);
    headers['content-type'] = 'application/json; charset=utf-8';
    headers['content-length'] = String(Buffer.byteLength(json));
    res.writeHead(reply.status, headers);
    res.end(json);
  }
}

function describeIssue(issue: SchemaIssue): string {
  // GitHub words it "For 'properties/body', 123 is not a string." or '"body" wasn't supplied.'
  if (issue.message.endsWith("wasn't supplied")) return `${issue.message}.`;
  const where = issue.location.startsWith('body')
    ? issue.location
        .split('/')
        .slice(1)
        .map((s) => `properties/${s}`)
        .join('/') || 'body'
    : issue.location.replace(/^(?:path|query)\./, '');
  return `For '${where}', ${issue.message}.`;
}

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function parseMaybeJson(text: string): unknown {
  if (text.length === 0) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

// ---------------------------------------------------------------------------------------------
// Payloads (complete per the OpenAPI schemas; URLs point back at this server like GitHub's do)
// ---------------------------------------------------------------------------------------------

/** GitHub's legacy global node id: base64("0<len>:<Type><id>"). */
function nodeId(type: string, id: number): string {
  return Buffer.from(`0${type.length}:${type}${id}`).toString('base64');
}

function simpleUser(state: GitHubState, apiUrl: string, login: string) {
  const user = state.user(login);
  const u = `${apiUrl}/users/${encodeURIComponent(login)}`;
  const bot = user.type === 'Bot';
  return {
    login: user.login,
    id: user.id,
    node_id: nodeId(bot ? 'Bot' : user.type, user.id),
    avatar_url: bot
      ? 'https://avatars.githubusercontent.com/in/15368?v=4'
      : `https://avatars.githubusercontent.com/u/${user.id}?v=4`,
    gravatar_id: '',
    url: u,
    html_url: bot ? `${WEB}/apps/${encodeURIComponent(login.replace(/\[bot\]$/, ''))}` : `${WEB}/${login}`,
    followers_url: `${u}/followers`,
    following_url: `${u}/following{/other_user}`,
    gists_url: `${u}/gists{/gist_id}`,
    starred_url: `${u}/starred{/owner}{/repo}`,
    subscriptions_url: `${u}/subscriptions`,
    organizations_url: `${u}/orgs`,
    repos_url: `${u}/repos`,
    events_url: `${u}/events{/privacy}`,
    received_events_url: `${u}/received_events`,
    type: user.type,
    user_view_type: 'public',
    site_admin: false,
  };
}

/** GET /user's answer for a token that acts as a user (a PAT): the private profile. */
function privateUser(state: GitHubState, apiUrl: string, login: string) {
  return {
    ...simpleUser(state, apiUrl, login),
    name: null,
    company: null,
    blog: '',
    location: null,
    email: null,
    hireable: null,
    bio: null,
    public_repos: 1,
    public_gists: 0,
    followers: 0,
    following: 0,
    created_at: '2020-01-01T00:00:00Z',
    updated_at: '2026-01-01T00:00:00Z',
    private_gists: 0,
    total_private_repos: 0,
    owned_private_repos: 0,
    disk_usage: 0,
    collaborators: 0,
    two_factor_authentication: true,
  };
}

function repository(state: GitHubState, apiUrl: string, repo: RepoRecord) {
  const r = `${apiUrl}/repos/${repo.fullName}`;
  const openIssues = [...repo.issues.values()].filter((i) => i.state === 'open').length;
  return {
    id: repo.id,
    node_id: nodeId('Repository', repo.id),
    name: repo.name,
    full_name: repo.fullName,
    private: repo.private,
    owner: simpleUser(state, apiUrl, repo.owner),
    html_url: `${WEB}/${repo.fullName}`,
    description: null,
    fork: repo.fork,
    url: r,
    archive_url: `${r}/{archive_format}{/ref}`,
    assignees_url: `${r}/assignees{/user}`,
    blobs_url: `${r}/git/blobs{/sha}`,
    branches_url: `${r}/branches{/branch}`,
    collaborators_url: `${r}/collaborators{/collaborator}`,
    comments_url: `${r}/comments{/number}`,
    commits_url: `${r}/commits{/sha}`,
    compare_url: `${r}/compare/{base}...{head}`,
    contents_url: `${r}/contents/{+path}`,
    contributors_url: `${r}/contributors`,
    deployments_url: `${r}/deployments`,
    downloads_url: `${r}/downloads`,
    events_url: `${r}/events`,
    forks_url: `${r}/forks`,
    git_commits_url: `${r}/git/commits{/sha}`,
    git_refs_url: `${r}/git/refs{/sha}`,
    git_tags_url: `${r}/git/tags{/sha}`,
    git_url: `git://github.com/${repo.fullName}.git`,
    issue_comment_url: `${r}/issues/comments{/number}`,
    issue_events_url: `${r}/issues/events{/number}`,
    issues_url: `${r}/issues{/number}`,
    keys_url: `${r}/keys{/key_id}`,
    labels_url: `${r}/labels{/name}`,
    languages_url: `${r}/languages`,
    merges_url: `${r}/merges`,
    milestones_url: `${r}/milestones{/number}`,
    notifications_url: `${r}/notifications{?since,all,participating}`,
    pulls_url: `${r}/pulls{/number}`,
    releases_url: `${r}/releases{/id}`,
    ssh_url: `git@github.com:${repo.fullName}.git`,
    stargazers_url: `${r}/stargazers`,
    statuses_url: `${r}/statuses/{sha}`,
    subscribers_url: `${r}/subscribers`,
    subscription_url: `${r}/subscription`,
    tags_url: `${r}/tags`,
    teams_url: `${r}/teams`,
    trees_url: `${r}/git/trees{/sha}`,
    clone_url: `${WEB}/${repo.fullName}.git`,
    mirror_url: null,
    hooks_url: `${r}/hooks`,
    svn_url: `${WEB}/${repo.fullName}`,
    homepage: null,
    language: 'Python',
    forks_count: 0,
    stargazers_count: 0,
    watchers_count: 0,
    size: 128,
    default_branch: repo.defaultBranch,
    open_issues_count: openIssues,
    is_template: false,
    topics: [],
    has_issues: true,
    has_projects: true,
    has_wiki: true,
    has_pages: false,
    has_downloads: true,
    has_discussions: false,
    archived: repo.archived,
    disabled: false,
    visibility: repo.private ? 'private' : 'public',
    pushed_at: state.now(),
    created_at: repo.createdAt,
    updated_at: state.now(),
    allow_forking: true,
    web_commit_signoff_required: false,
    forks: 0,
    open_issues: openIssues,
    watchers: 0,
    license: null,
  };
}

function branchPayload(state: GitHubState, apiUrl: string, fullName: string, ref: string, sha: string) {
  const repo = state.repo(fullName);
  if (!repo) throw new Error(`pull request refers to unknown repository ${fullName}`);
  return {
    label: `${repo.owner}:${ref}`,
    ref,
    sha,
    user: simpleUser(state, apiUrl, repo.owner),
    repo: repository(state, apiUrl, repo),
  };
}

/** The fields shared by pull-request and pull-request-simple. */
function pullSimple(state: GitHubState, apiUrl: string, pr: PullRequestRecord) {
  const r = `${apiUrl}/repos/${pr.repo}`;
  const html = `${WEB}/${pr.repo}/pull/${pr.number}`;
  const p = pr.pull;
  return {
    url: `${r}/pulls/${pr.number}`,
    id: p.id,
    node_id: nodeId('PullRequest', p.id),
    html_url: html,
    diff_url: `${html}.diff`,
    patch_url: `${html}.patch`,
    issue_url: `${r}/issues/${pr.number}`,
    number: pr.number,
    state: pr.state,
    locked: pr.locked,
    title: pr.title,
    user: simpleUser(state, apiUrl, pr.user),
    body: pr.body,
    created_at: pr.createdAt,
    updated_at: pr.updatedAt,
    closed_at: pr.closedAt,
    merged_at: p.mergedAt,
    merge_commit_sha: p.mergeCommitSha,
    assignee: null,
    assignees: [],
    requested_reviewers: [],
    requested_teams: [],
    labels: [],
    milestone: null,
    draft: p.draft,
    commits_url: `${r}/pulls/${pr.number}/commits`,
    review_comments_url: `${r}/pulls/${pr.number}/comments`,
    review_comment_url: `${r}/pulls/comments{/number}`,
    comments_url: `${r}/issues/${pr.number}/comments`,
    statuses_url: `${r}/statuses/${p.headSha}`,
    head: branchPayload(state, apiUrl, p.headRepo, p.headRef, p.headSha),
    base: branchPayload(state, apiUrl, pr.repo, p.baseRef, p.baseSha),
    _links: {
      self: { href: `${r}/pulls/${pr.number}` },
      html: { href: html },
      issue: { href: `${r}/issues/${pr.number}` },
      comments: { href: `${r}/issues/${pr.number}/comments` },
      review_comments: { href: `${r}/pulls/${pr.number}/comments` },
      review_comment: { href: `${r}/pulls/comments{/number}` },
      commits: { href: `${r}/pulls/${pr.number}/commits` },
      statuses: { href: `${r}/statuses/${p.headSha}` },
    },
    author_association: pr.authorAssociation,
    auto_merge: null,
    active_lock_reason: pr.activeLockReason,
  };
}

function pullFull(state: GitHubState, apiUrl: string, pr: PullRequestRecord) {
  const open = pr.state === 'open';
  return {
    ...pullSimple(state, apiUrl, pr),
    merged: pr.pull.merged,
    mergeable: open ? true : null,
    rebaseable: open ? true : null,
    mergeable_state: open ? 'clean' : 'unknown',
    merged_by: pr.pull.mergedBy ? simpleUser(state, apiUrl, pr.pull.mergedBy) : null,
    comments: state.commentsOn(pr.repo, pr.number).length,
    review_comments: 0,
    maintainer_can_modify: pr.pull.headRepo !== pr.repo,
    commits: 1 + pr.pull.commits.length,
    additions: 10,
    deletions: 2,
    changed_files: 1,
  };
}

function commentPayload(state: GitHubState, apiUrl: string, c: CommentRecord) {
  const r = `${apiUrl}/repos/${c.repo}`;
  const kind = state.issue(c.repo, c.issueNumber)?.pull ? 'pull' : 'issues';
  return {
    url: `${r}/issues/comments/${c.id}`,
    html_url: `${WEB}/${c.repo}/${kind}/${c.issueNumber}#issuecomment-${c.id}`,
    issue_url: `${r}/issues/${c.issueNumber}`,
    id: c.id,
    node_id: nodeId('IssueComment', c.id),
    user: simpleUser(state, apiUrl, c.user),
    created_at: c.createdAt,
    updated_at: c.updatedAt,
    author_association: c.authorAssociation,
    body: c.body,
    reactions: {
      url: `${r}/issues/comments/${c.id}/reactions`,
      total_count: 0,
      '+1': 0,
      '-1': 0,
      laugh: 0,
      hooray: 0,
      confused: 0,
      heart: 0,
      rocket: 0,
      eyes: 0,
    },
    performed_via_github_app: null,
  };
}

function statusPayload(state: GitHubState, apiUrl: string, repo: RepoRecord, s: StatusRecord) {
  const creator = simpleUser(state, apiUrl, s.creator);
  return {
    url: `${apiUrl}/repos/${repo.fullName}/statuses/${s.sha}`,
    avatar_url: creator.avatar_url,
    id: s.id,
    node_id: nodeId('StatusContext', s.id),
    state: s.state,
    description: s.description,
    target_url: s.targetUrl,
    context: s.context,
    created_at: s.createdAt,
    updated_at: s.updatedAt,
    creator,
  };
}

/** A page of an artifact list, as both list endpoints answer. */
function artifactList(ctx: RequestContext, repo: RepoRecord, artifacts: ArtifactRecord[]): Reply {
  const { page, headers } = paginate(ctx, artifacts);
  return {
    status: 200,
    body: {
      total_count: artifacts.length,
      artifacts: page.map((a) => artifactPayload(ctx.apiUrl, repo, a)),
    },
    headers,
  };
}

function artifactPayload(apiUrl: string, repo: RepoRecord, a: ArtifactRecord) {
  const url = `${apiUrl}/repos/${repo.fullName}/actions/artifacts/${a.id}`;
  return {
    id: a.id,
    node_id: nodeId('Artifact', a.id),
    name: a.name,
    size_in_bytes: a.sizeInBytes,
    url,
    archive_download_url: `${url}/zip`,
    expired: a.expired,
    digest: a.digest,
    created_at: a.createdAt,
    expires_at: a.expiresAt,
    updated_at: a.updatedAt,
    workflow_run: {
      id: a.runId,
      repository_id: repo.id,
      head_repository_id: a.headRepositoryId,
      head_branch: a.headBranch,
      head_sha: a.headSha,
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Handlers
// ---------------------------------------------------------------------------------------------

const str = (ctx: RequestContext, name: string) => String(ctx.params[name]);
const int = (ctx: RequestContext, name: string) => Number(ctx.params[name]);

function notFound(ctx: RequestContext): Reply {
  return { status: 404, body: errorBody(404, 'Not Found', ctx.op.documentationUrl) };
}

function forbidden(ctx: RequestContext, message: string): Reply {
  return { status: 403, body: errorBody(403, message, ctx.op.documentationUrl) };
}

function validationFailed(ctx: RequestContext, resource: string, field: string, message: string): Reply {
  return {
    status: 422,
    body: {
      ...errorBody(422, 'Validation Failed', ctx.op.documentationUrl),
      errors: [{ resource, code: 'custom', field, message }],
    },
  };
}

function repoOf(ctx: RequestContext): RepoRecord | undefined {
  return ctx.state.repo(`${str(ctx, 'owner')}/${str(ctx, 'repo')}`);
}

/** GitHub's page/per_page handling: per_page defaults to 30 and is capped at 100. */
function paginate<T>(ctx: RequestContext, items: T[]): { page: T[]; headers: Record<string, string> } {
  const rawPerPage = ctx.params.per_page === undefined ? 30 : int(ctx, 'per_page');
  const perPage = rawPerPage < 1 ? 30 : Math.min(rawPerPage, 100);
  const page = Math.max(1, ctx.params.page === undefined ? 1 : int(ctx, 'page'));
  const last = Math.max(1, Math.ceil(items.length / perPage));
  const link = (n: number, rel: string) => {
    const url = new URL(ctx.url.pathname + ctx.url.search, ctx.apiUrl);
    url.searchParams.set('page', String(n));
    return `<${url.href}>; rel="${rel}"`;
  };
  // GitHub's order: prev, next, last, first; no Link at all when everything fits one page.
  const links: string[] = [];
  if (page > 1) links.push(link(Math.min(page - 1, last), 'prev'));
  if (page < last) links.push(link(page + 1, 'next'), link(last, 'last'));
  if (page > 1) links.push(link(1, 'first'));
  return {
    page: items.slice((page - 1) * perPage, page * perPage),
    headers: links.length > 0 ? { link: links.join(', ') } : {},
  };
}

function writableRepo(ctx: RequestContext): RepoRecord | Reply {
  const repo = repoOf(ctx);
  if (!repo) return notFound(ctx);
  if (repo.archived) return forbidden(ctx, 'Repository was archived so is read-only.');
  return repo;
}

const isReply = (value: RepoRecord | Reply): value is Reply => 'status' in value;

const FULL_SHA = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/i;

/** A sha, or a branch name (optionally `heads/`-prefixed) resolved through the repo's branches. */
function resolveRef(repo: RepoRecord, ref: string): { sha: string; branch?: string } | undefined {
  if (FULL_SHA.test(ref)) return { sha: ref.toLowerCase() };
  const branch = ref.replace(/^(?:refs\/)?heads\//, '');
  const sha = repo.branches.get(branch);
  return sha ? { sha, branch } : undefined;
}

function commentOf(ctx: RequestContext, repo: RepoRecord): CommentRecord | undefined {
  const comment = ctx.state.comments.get(int(ctx, 'comment_id'));
  return comment && lower(comment.repo) === lower(repo.fullName) ? comment : undefined;
}

const HANDLERS: Record<Route, Handler> = {
  // An installation token (GITHUB_TOKEN, a GitHub App's) acts as a bot, which has no user profile:
  // GitHub answers 403. A personal access token gets its user.
  'GET /user': (ctx) => {
    if (ctx.state.user(ctx.grant.login).type === 'Bot')
      return forbidden(ctx, 'Resource not accessible by integration');
    return { status: 200, body: privateUser(ctx.state, ctx.apiUrl, ctx.grant.login) };
  },

  'GET /repos/{owner}/{repo}/pulls/{pull_number}': (ctx) => {
    const repo = repoOf(ctx);
    const pr = repo && ctx.state.pullRequest(repo.fullName, int(ctx, 'pull_number'));
    if (!pr) return notFound(ctx);
    return { status: 200, body: pullFull(ctx.state, ctx.apiUrl, pr) };
  },

  'GET /repos/{owner}/{repo}/commits/{commit_sha}/pulls': (ctx) => {
    const repo = repoOf(ctx);
    if (!repo) return notFound(ctx);
    const ref = resolveRef(repo, str(ctx, 'commit_sha'));
    if (!ref) {
      const message = `No commit found for SHA: ${str(ctx, 'commit_sha')}`;
      return { status: 422, body: errorBody(422, message, ctx.op.documentationUrl) };
    }
    const pulls = [...repo.issues.values()]
      .filter((i): i is PullRequestRecord => i.pull !== undefined)
      .filter((pr) => {
        const p = pr.pull;
        if (ref.branch !== undefined) return p.headRef === ref.branch && (pr.state === 'open' || p.merged);
        return (
          p.headSha === ref.sha || p.commits.includes(ref.sha) || (p.merged && p.mergeCommitSha === ref.sha)
        );
      })
      .sort((a, b) => b.number - a.number);
    const { page, headers } = paginate(ctx, pulls);
    return { status: 200, body: page.map((pr) => pullSimple(ctx.state, ctx.apiUrl, pr)), headers };
  },

  'GET /repos/{owner}/{repo}/issues/{issue_number}/comments': (ctx) => {
    const repo = repoOf(ctx);
    const issue = repo?.issues.get(int(ctx, 'issue_number'));
    if (!repo || !issue) return notFound(ctx);
    const since = ctx.params.since === undefined ? undefined : Date.parse(str(ctx, 'since'));
    const comments = ctx.state
      .commentsOn(repo.fullName, issue.number)
      .filter((c) => since === undefined || Date.parse(c.updatedAt) >= since);
    const { page, headers } = paginate(ctx, comments);
    return { status: 200, body: page.map((c) => commentPayload(ctx.state, ctx.apiUrl, c)), headers };
  },

  'POST /repos/{owner}/{repo}/issues/{issue_number}/comments': (ctx) => {
    const repo = writableRepo(ctx);
    if (isReply(repo)) return repo;
    const issue = repo.issues.get(int(ctx, 'issue_number'));
    if (!issue) return notFound(ctx);
    // Stricter than GitHub, which lets collaborators with write access comment on locked issues.
    if (issue.locked) return forbidden(ctx, 'Unable to create comment because issue is locked.');
    const body = String(ctx.body.body);
    if (body.length > MAX_COMMENT_BODY) {
      return validationFailed(
        ctx,
        'IssueComment',
        'data',
        `Body is too long (maximum is ${MAX_COMMENT_BODY} characters)`,
      );
    }
    const comment = ctx.state.addComment(repo.fullName, issue.number, { body, user: ctx.grant.login });
    const payload = commentPayload(ctx.state, ctx.apiUrl, comment);
    return { status: 201, body: payload, headers: { location: payload.url } };
  },

  'GET /repos/{owner}/{repo}/issues/comments/{comment_id}': (ctx) => {
    const repo = repoOf(ctx);
    const comment = repo && commentOf(ctx, repo);
    if (!comment) return notFound(ctx);
    return { status: 200, body: commentPayload(ctx.state, ctx.apiUrl, comment) };
  },

  'PATCH /repos/{owner}/{repo}/issues/comments/{comment_id}': (ctx) => {
    const repo = writableRepo(ctx);
    if (isReply(repo)) return repo;
    const comment = commentOf(ctx, repo);
    if (!comment) return notFound(ctx);
    if (repo.issues.get(comment.issueNumber)?.locked) {
      return forbidden(ctx, 'Unable to update comment because issue is locked.');
    }
    const body = String(ctx.body.body);
    if (body.length > MAX_COMMENT_BODY) {
      return validationFailed(
        ctx,
        'IssueComment',
        'data',
        `Body is too long (maximum is ${MAX_COMMENT_BODY} characters)`,
      );
    }
    comment.body = body;
    comment.updatedAt = ctx.state.now();
    return { status: 200, body: commentPayload(ctx.state, ctx.apiUrl, comment) };
  },

  'DELETE /repos/{owner}/{repo}/issues/comments/{comment_id}': (ctx) => {
    const repo = writableRepo(ctx);
    if (isReply(repo)) return repo;
    const comment = commentOf(ctx, repo);
    if (!comment) return notFound(ctx);
    ctx.state.deleteComment(comment.id);
    return { status: 204 };
  },

  'POST /repos/{owner}/{repo}/statuses/{sha}': (ctx) => {
    const repo = writableRepo(ctx);
    if (isReply(repo)) return repo;
    const sha = str(ctx, 'sha');
    if (!FULL_SHA.test(sha)) {
      return {
        status: 422,
        body: errorBody(422, `No commit found for SHA: ${sha}`, ctx.op.documentationUrl),
      };
    }
    const description = ctx.body.description as string | null | undefined;
    if (typeof description === 'string' && description.length > MAX_STATUS_DESCRIPTION) {
      return validationFailed(
        ctx,
        'Status',
        'description',
        `description is too long (maximum is ${MAX_STATUS_DESCRIPTION} characters)`,
      );
    }
    const status = ctx.state.addStatus(repo.fullName, sha.toLowerCase(), {
      state: ctx.body.state as StatusRecord['state'],
      context: (ctx.body.context as string | undefined) ?? 'default',
      description: description ?? null,
      targetUrl: (ctx.body.target_url as string | null | undefined) ?? null,
      creator: ctx.grant.login,
    });
    const payload = statusPayload(ctx.state, ctx.apiUrl, repo, status);
    return { status: 201, body: payload, headers: { location: payload.url } };
  },

  'GET /repos/{owner}/{repo}/commits/{ref}/statuses': (ctx) => {
    const repo = repoOf(ctx);
    if (!repo) return notFound(ctx);
    const ref = resolveRef(repo, str(ctx, 'ref'));
    if (!ref)
      return {
        status: 422,
        body: errorBody(422, `No commit found for SHA: ${str(ctx, 'ref')}`, ctx.op.documentationUrl),
      };
    const { page, headers } = paginate(ctx, ctx.state.statusesFor(repo.fullName, ref.sha));
    return { status: 200, body: page.map((s) => statusPayload(ctx.state, ctx.apiUrl, repo, s)), headers };
  },

  'GET /repos/{owner}/{repo}/actions/runs/{run_id}/artifacts': (ctx) => {
    const repo = repoOf(ctx);
    if (!repo) return notFound(ctx);
    const name = ctx.params.name as string | undefined;
    const ascending = ctx.params.direction === 'asc';
    const artifacts = repo.artifacts
      .filter((a) => a.runId === int(ctx, 'run_id') && (name === undefined || a.name === name))
      .sort(
        (a, b) => (ascending ? 1 : -1) * (Date.parse(a.createdAt) - Date.parse(b.createdAt) || a.id - b.id),
      );
    return artifactList(ctx, repo, artifacts);
  },

  'GET /repos/{owner}/{repo}/actions/artifacts': (ctx) => {
    const repo = repoOf(ctx);
    if (!repo) return notFound(ctx);
    const name = ctx.params.name as string | undefined;
    // Newest first, as GitHub lists them.
    const artifacts = repo.artifacts
      .filter((a) => name === undefined || a.name === name)
      .sort((a, b) => Date.parse(b.createdAt) - Date.parse(a.createdAt) || b.id - a.id);
    return artifactList(ctx, repo, artifacts);
  },

  'GET /repos/{owner}/{repo}/actions/artifacts/{artifact_id}/{archive_format}': (ctx) => {
    const repo = repoOf(ctx);
    if (!repo) return notFound(ctx);
    const artifact = repo.artifacts.find((a) => a.id === int(ctx, 'artifact_id'));
    if (!artifact || str(ctx, 'archive_format') !== 'zip') return notFound(ctx);
    if (artifact.expired)
      return { status: 410, body: errorBody(410, 'Artifact has expired', ctx.op.documentationUrl) };
    return { status: 302, headers: { location: ctx.signDownload(artifact) } };
  },
};
