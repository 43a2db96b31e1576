// Workflow artifacts: finding the report a `mode: baseline` run uploaded for a commit, and downloading its
// zip. The download answers 302 to a signed storage URL; that URL is fetched without the token (the
// signature is the credential), so the token never leaves the API host.
import type { GitHubClient } from './octokit.ts';

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

/** Downloads an artifact's zip into memory, refusing more than `maxBytes`. */
export async function downloadArtifactZip(
  client: GitHubClient,
  repo: RepoRef,
  artifactId: number,
  options: { maxBytes: number; timeoutMs?: number },
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
  let blob: Response;
  try {
    blob = await fetch(url, {
      redirect: 'follow',
      signal: AbortSignal.timeout(options.timeoutMs ?? 120_000),
    });
  } catch (error) {
    throw new ArtifactDownloadError(
      `downloading artifact ${artifactId} from ${where} failed: ${(error as Error).message}`,
    );
  }
  if (!blob.ok || !blob.body) {
    await blob.body?.cancel();
    throw new ArtifactDownloadError(
      `downloading artifact ${artifactId} from ${where} failed: HTTP ${blob.status}`,
    );
  }
  const declared = Number(blob.headers.get('content-length') ?? 0);
  if (declared > options.maxBytes) {
    await blob.body.cancel();
    throw new ArtifactDownloadError(
      `artifact ${artifactId} is ${declared} bytes, over the ${options.maxBytes}-byte limit`,
    );
  }
  const chunks: Uint8Array[] = [];
  let received = 0;
  for await (const chunk of blob.body as AsyncIterable<Uint8Array>) {
    received += chunk.length;
    if (received > options.maxBytes) {
      throw new ArtifactDownloadError(`artifact ${artifactId} is over the ${options.maxBytes}-byte limit`);
    }
    chunks.push(chunk);
  }
  // One copy into a plain Uint8Array (Buffer.concat and a Uint8Array of it would be two).
  const zip = new Uint8Array(received);
  let at = 0;
  for (const chunk of chunks) {
    zip.set(chunk, at);
    at += chunk.length;
  }
  return zip;
}
