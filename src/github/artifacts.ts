// Workflow artifacts: finding the report a `mode: baseline` run uploaded for a commit, and downloading its
// zip. The download answers 302 to a signed storage URL; that URL is fetched without the token (the
// signature is the credential), so the token never leaves the API host.
import { proxyFetch, type GitHubClient, type ProxySettings } from './octokit.ts';

export interface RepoRef {
  owner: string;
  repo: string;
}

export interface ArtifactInfo {
  id: number;
  runId: number | null;
  createdAt: string;
}

export interface ArtifactSearch {
  found: ArtifactInfo | null;
  /** Why the ones for the right commit were passed over (expired, from a fork). */
  skipped: string[];
}

/**
 * The newest unexpired artifact named `name` whose workflow run was for commit `sha` and ran in the
 * repository itself (not a fork's pull request, whose run can upload an artifact of any name). Looks at
 * `maxPages` pages of 100, newest first.
 */
export async function findArtifactForCommit(
  client: GitHubClient,
  repo: RepoRef,
  name: string,
  sha: string,
  options: { maxPages?: number } = {},
): Promise<ArtifactSearch> {
  const maxPages = options.maxPages ?? 5;
  const matches: ArtifactInfo[] = [];
  const skipped: string[] = [];
  for (let page = 1; page <= maxPages; page++) {
    const { data } = await client.rest.actions.listArtifactsForRepo({
      owner: repo.owner,
      repo: repo.repo,
      name,
      per_page: 100,
      page,
    });
    for (const a of data.artifacts) {
      const run = a.workflow_run;
      if (a.name !== name || !run || run.head_sha !== sha) continue;
      if (a.expired) {
        skipped.push(`artifact ${a.id} has expired`);
        continue;
      }
      if (
        run.repository_id !== undefined &&
        run.head_repository_id !== undefined &&
        run.repository_id !== run.head_repository_id
      ) {
        skipped.push(`artifact ${a.id} was uploaded by a run from another repository (a fork)`);
        continue;
      }
      matches.push({ id: a.id, runId: run.id ?? null, createdAt: a.created_at ?? '' });
    }
    // Listed newest first: the first page with a match has the newest one.
    if (matches.length > 0 || data.artifacts.length < 100) break;
  }
  matches.sort((a, b) => Date.parse(b.createdAt || '0') - Date.parse(a.createdAt || '0') || b.id - a.id);
  return { found: matches[0] ?? null, skipped };
}

export class ArtifactDownloadError extends Error {
  override name = 'ArtifactDownloadError';
}

export interface DownloadOptions {
  /** Refuses a zip larger than this. */
  maxBytes: number;
  /**
   * The longest wait for the storage to answer, and then for each next piece of the zip: the action's
   * `api-timeout` (the client's per-request timeout). Default 30 s.
   */
  timeoutMs?: number;
  /** The longest the whole download may take, however steadily it trickles in. Default 10 x `timeoutMs`. */
  totalTimeoutMs?: number;
  /** The runner's proxy for the storage URL (the API request goes through the client's own). */
  proxy?: ProxySettings | undefined;
}

const seconds = (ms: number): string => `${Number((ms / 1000).toFixed(3))} s`;

/** Downloads an artifact's zip into memory, refusing more than `maxBytes`, within the timeouts. */
export async function downloadArtifactZip(
  client: GitHubClient,
  repo: RepoRef,
  artifactId: number,
  options: DownloadOptions,
): Promise<Uint8Array> {
  const response = await client.request(
    'GET /repos/{owner}/{repo}/actions/artifacts/{artifact_id}/{archive_format}',
    {
      owner: repo.owner,
      repo: repo.repo,
      artifact_id: artifactId,
      archive_format: 'zip',
      request: { redirect: 'manual' },
    },
  );
  const status = response.status as number;
  const location = response.headers.location;
  if (status < 300 || status >= 400 || typeof location !== 'string' || location === '') {
    throw new ArtifactDownloadError(
      `GitHub answered ${status} without a download location for artifact ${artifactId}`,
    );
  }
  let url: URL;
  try {
    url = new URL(location);
  } catch {
    throw new ArtifactDownloadError(`the download location of artifact ${artifactId} is not a URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new ArtifactDownloadError(`the download location of artifact ${artifactId} is not http(s)`);
  }
  const where = `${url.origin}${url.pathname}`; // never the signature
  const failed = (why: string) =>
    new ArtifactDownloadError(`downloading artifact ${artifactId} from ${where} failed: ${why}`);

  // Two deadlines: no progress for `timeoutMs` (no answer, or a stalled body), and the whole download.
  const timeoutMs = options.timeoutMs ?? 30_000;
  const totalMs = options.totalTimeoutMs ?? 10 * timeoutMs;
  const stall = new AbortController();
  let stalled = 'no answer within';
  let stallTimer: NodeJS.Timeout | undefined;
  const progress = (): void => {
    clearTimeout(stallTimer);
    stallTimer = setTimeout(() => stall.abort(), timeoutMs);
  };
  const total = AbortSignal.timeout(totalMs);
  const signal = AbortSignal.any([stall.signal, total]);
  const why = (error: unknown): string => {
    if (stall.signal.aborted) return `${stalled} ${seconds(timeoutMs)} (the API timeout, \`api-timeout\`)`;
    if (total.aborted)
      return `not finished within ${seconds(totalMs)} (10 x the API timeout, \`api-timeout\`)`;
    return (error as Error).message;
  };

  progress();
  try {
    let blob: Response;
    try {
      blob = await proxyFetch(options.proxy)(url, { redirect: 'follow', signal });
    } catch (error) {
      throw failed(why(error));
    }
    if (!blob.ok || !blob.body) {
      await blob.body?.cancel().catch(() => undefined);
      throw failed(`HTTP ${blob.status}`);
    }
    const declared = Number(blob.headers.get('content-length') ?? 0);
    if (declared > options.maxBytes) {
      await blob.body.cancel().catch(() => undefined);
      throw new ArtifactDownloadError(
        `artifact ${artifactId} is ${declared} bytes, over the ${options.maxBytes}-byte limit`,
      );
    }
    const chunks: Uint8Array[] = [];
    let received = 0;
    stalled = 'no data for';
    progress();
    try {
      for await (const chunk of blob.body as AsyncIterable<Uint8Array>) {
        progress();
        received += chunk.length;
        if (received > options.maxBytes) {
          throw new ArtifactDownloadError(
            `artifact ${artifactId} is over the ${options.maxBytes}-byte limit`,
          );
        }
        chunks.push(chunk);
      }
    } catch (error) {
      if (error instanceof ArtifactDownloadError) throw error;
      throw failed(why(error));
    }
    // One copy into a plain Uint8Array (Buffer.concat and a Uint8Array of it would be two).
    const zip = new Uint8Array(received);
    let at = 0;
    for (const chunk of chunks) {
      zip.set(chunk, at);
      at += chunk.length;
    }
    return zip;
  } finally {
    clearTimeout(stallTimer);
    // Ends the connection of a download given up on (a no-op once the body has been read).
    if (!signal.aborted) stall.abort();
  }
}
