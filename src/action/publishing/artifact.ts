// Uploading files as an artifact of the run with @actions/artifact. A failure is a problem to report,
// never a throw: the report is already in the job summary and the report file.
import { AsyncLocalStorage } from 'node:async_hooks';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { ClientRequest } from 'node:http';
import { ArtifactNotFoundError, DefaultArtifactClient } from '@actions/artifact';

/** What @actions/artifact needs from the runner; main.ts captures it before it deletes these variables from process.env (so builds never see them). */
export interface ArtifactRuntime {
  token: string;
  resultsUrl: string;
}

export function artifactRuntimeFrom(env: NodeJS.ProcessEnv): ArtifactRuntime | null {
  const token = env.ACTIONS_RUNTIME_TOKEN;
  const resultsUrl = env.ACTIONS_RESULTS_URL;
  return token && resultsUrl ? { token, resultsUrl } : null;
}

export type UploadResult = { ok: true; id: number; size: number } | { ok: false; problem: string };

export interface UploadOptions {
  name: string;
  files: string[];
  rootDirectory: string;
  runtime: ArtifactRuntime | null;
  retentionDays?: number;
  /** GITHUB_SERVER_URL of the run (to tell @actions/artifact it is not GHES). */
  serverUrl: string;
  /**
   * How long the whole upload, with the delete for `overwrite`, may take; UPLOAD_DEADLINE_MS unless a test
   * wants less.
   */
  timeoutMs?: number;
  /**
   * Replace an artifact of this name already in the run (as upload-artifact's `overwrite: true`): a re-run
   * job uploads into the same run, where the name is taken. Costs a ListArtifacts call on every upload.
   */
  overwrite?: boolean;
}

/**
 * The whole upload's deadline. @actions/artifact's retries are not configurable from outside (its Twirp
 * client makes 5 attempts with 3 s, ~5 s, ~8 s, ~12 s backoff on 5xx and 429, about 35 s per call; the
 * blob upload's stall timer is 5 minutes) and its HTTP client waits 3 minutes for a silent socket, per
 * attempt: a service that accepts connections and never answers would hold the step for 15 minutes. A
 * report's files are small; a minute covers a few retries and a slow upload.
 */
export const UPLOAD_DEADLINE_MS = 60_000;

/** The variables @actions/artifact reads for an upload (lib/internal/shared/config.js). */
const RUNTIME_KEYS = ['ACTIONS_RUNTIME_TOKEN', 'ACTIONS_RESULTS_URL', 'GITHUB_SERVER_URL'] as const;

/** GitHub Enterprise Server: any host but github.com, *.ghe.com and *.localhost (config.js isGhes()). */
function isGhes(serverUrl: URL): boolean {
  const host = serverUrl.hostname.toLowerCase();
  return host !== 'github.com' && !host.endsWith('.ghe.com') && !host.endsWith('.localhost');
}

function parseUrl(text: string): URL | null {
  try {
    return new URL(text);
  } catch {
    return null;
  }
}

/** Uploads `files` (under `rootDirectory`) as the artifact `name` of this run. Never throws. */
export async function uploadArtifact(options: UploadOptions): Promise<UploadResult> {
  const { runtime } = options;
  if (!runtime)
    return failed(
      'no ACTIONS_RUNTIME_TOKEN / ACTIONS_RESULTS_URL in the environment (artifacts need a GitHub-hosted or self-hosted Actions runner)',
    );
  // The library reads github.com when GITHUB_SERVER_URL is unset or empty.
  const serverUrl = parseUrl(options.serverUrl || 'https://github.com');
  if (!serverUrl) return failed(`the server URL '${options.serverUrl}' is not a URL`);
  // Checked here rather than by the library, which also prints a ::warning:: of its own.
  if (isGhes(serverUrl)) return failed('GitHub Enterprise Server is not supported by the artifact service');
  const resultsUrl = parseUrl(runtime.resultsUrl);
  if (!resultsUrl) return failed(`ACTIONS_RESULTS_URL '${runtime.resultsUrl}' is not a URL`);
  if (options.files.length === 0) return failed(`no files to upload as the artifact '${options.name}'`);
  // One upload at a time: each sets and restores process.env, which two at once would mix up.
  const turn = queue.then(() =>
    withEnv(
      {
        ACTIONS_RUNTIME_TOKEN: runtime.token,
        ACTIONS_RESULTS_URL: runtime.resultsUrl,
        GITHUB_SERVER_URL: serverUrl.href,
      },
      () => upload(options, resultsUrl),
    ),
  );
  queue = turn.then(
    () => undefined,
    () => undefined,
  );
  return turn;
}

let queue: Promise<void> = Promise.resolve();

async function upload(options: UploadOptions, resultsUrl: URL): Promise<UploadResult> {
  const deadlineMs = options.timeoutMs ?? UPLOAD_DEADLINE_MS;
  const requests = trackRequests(resultsUrl.host);
  const client = new DefaultArtifactClient();
  // The delete runs inside the same tracked context and deadline as the upload.
  const call = requests.run(async () => {
    if (options.overwrite) await deleteIfExists(client, options.name);
    return client.uploadArtifact(options.name, options.files, options.rootDirectory, {
      retentionDays: options.retentionDays,
    });
  });
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<'deadline'>((resolve) => {
    timer = setTimeout(() => resolve('deadline'), deadlineMs);
  });
  try {
    const outcome = await Promise.race([call, deadline]);
    if (outcome === 'deadline') {
      // Nothing in the library can cancel the call: end its requests so that it fails now instead of
      // keeping the process alive for minutes after the step is done.
      requests.abandon();
      call.catch(() => undefined).finally(() => requests.stop());
      return failed(
        `the artifact service did not finish the upload of '${options.name}' within ${seconds(deadlineMs)}`,
      );
    }
    requests.stop();
    if (outcome.id === undefined) return failed('the artifact service answered without an artifact id');
    return { ok: true, id: outcome.id, size: outcome.size ?? 0 };
  } catch (error) {
    requests.stop();
    return failed(problemOf(error, options.name, resultsUrl.origin));
  } finally {
    clearTimeout(timer);
  }
}

/** A failure of the delete before an overwrite, told apart from the upload's own. */
class DeleteFailed extends Error {}

/**
 * What upload-artifact does for `overwrite: true`: the library lists the run's artifacts by name (always,
 * so a first upload makes one ListArtifacts call) and deletes the newest match. Unlike upload-artifact,
 * which ignores a failed delete, this stops: the upload would only fail on the name still taken.
 */
async function deleteIfExists(client: DefaultArtifactClient, name: string): Promise<void> {
  try {
    await client.deleteArtifact(name);
  } catch (error) {
    if (error instanceof ArtifactNotFoundError) return;
    throw new DeleteFailed(error instanceof Error ? error.message : String(error));
  }
}

/** Runs `fn` with `vars` in process.env, then puts back exactly what was there (absent keys stay absent). */
async function withEnv<T>(vars: Record<(typeof RUNTIME_KEYS)[number], string>, fn: () => Promise<T>) {
  const saved = new Map(RUNTIME_KEYS.map((key) => [key, process.env[key]] as const));
  try {
    Object.assign(process.env, vars);
    return await fn();
  } finally {
    for (const [key, value] of saved) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  }
}

/**
 * The node:http requests an upload makes: the library's Twirp calls (@actions/http-client) and its blob
 * upload (@azure/storage-blob), told from anyone else's by the async context they start in. After
 * `abandon()` they and any retries are destroyed with errors neither library retries: a network error
 * code for the Twirp client, which gives up on those at once, and an uncommon code for the blob client,
 * whose retry policy looks for ECONNRESET, TIMEOUT and the like in the error.
 */
function trackRequests(resultsHost: string) {
  const context = new AsyncLocalStorage<true>();
  const live = new Set<ClientRequest>();
  let abandoned = false;
  const end = (request: ClientRequest) => {
    const twirp = request.getHeader('host') === resultsHost;
    const error = new Error('the upload was abandoned after its deadline');
    request.destroy(Object.assign(error, { code: twirp ? 'ECONNRESET' : 'ERR_ARTIFACT_ABANDONED' }));
  };
  // Published synchronously by the ClientRequest constructor, so in the context of the code that made it.
  const onStart = (message: unknown) => {
    if (!context.getStore()) return;
    const { request } = message as { request: ClientRequest };
    if (abandoned) return end(request);
    live.add(request);
    request.once('close', () => live.delete(request));
  };
  subscribe('http.client.request.start', onStart);
  return {
    run: <T>(fn: () => T): T => context.run(true, fn),
    abandon() {
      abandoned = true;
      for (const request of live) end(request);
    },
    stop() {
      unsubscribe('http.client.request.start', onStart);
    },
  };
}

/** One line a user can act on, from what the library threw (its messages add lines of advice). */
function problemOf(error: unknown, name: string, resultsOrigin: string): string {
  const text = error instanceof Error ? error.message : String(error);
  // SAS URLs carry a signature; the library masks it in the log, this keeps it out of the message.
  const line = (text.split('\n')[0] ?? '').replace(/([?&]sig=)[^&\s]+/gi, '$1***').trim();
  const network = /Unable to make request: (\w+)/.exec(line);
  if (network) return `the artifact service at ${resultsOrigin} could not be reached (${network[1]})`;
  if (error instanceof DeleteFailed)
    return `the artifact '${name}' already in this run could not be deleted to overwrite it: ${line || 'no error message'}`;
  if (/^Failed to CreateArtifact: .*\(409\)/.test(line))
    return `an artifact named '${name}' already exists in this run`;
  return `the artifact upload failed: ${line || 'no error message'}`;
}

function seconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${(ms / 1000).toFixed(1)} s`;
}

function failed(problem: string): UploadResult {
  return { ok: false, problem };
}
