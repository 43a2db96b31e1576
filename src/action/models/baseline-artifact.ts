// `baseline: auto`: the report a `mode: baseline` run uploaded for the base commit, found through the
// REST API (the newest unexpired artifact of that name whose run was for the base commit, in this
// repository), downloaded into memory, unzipped, and validated as untrusted input exactly like a fork's
// artifact in `mode: post`. Anything short of a valid report is a reason to rebuild the base instead.
import { ArtifactDownloadError, downloadArtifactZip, findArtifactForCommit } from '../../github/artifacts.ts';
import { apiFailure, describeFailure } from '../../github/errors.ts';
import type { GitHubClient } from '../../github/octokit.ts';
import type { Report } from '../../report/report.ts';
import { reportFileName } from '../report-file.ts';
import type { RunContext } from '../context.ts';
import { DEFAULT_COMMENT_KEY, type ActionInputs } from '../inputs.ts';
import {
  decodeUtf8,
  MAX_BUNDLE_BYTES,
  parseBaseline,
  UntrustedInputError,
} from '../untrusted/read-bundle.ts';
import { extractJsonEntries, extractJsonEntry, type ZipEntry } from '../untrusted/zip.ts';

export type ArtifactBaseline =
  { found: true; report: Report; artifactId: number; runId: number | null } | { found: false; why: string };

/** Every model's baseline in one artifact (a `mode: baseline` run of a model list), by comment key. */
export type ArtifactBaselines =
  | { found: true; reports: Map<string, Report>; artifactId: number; runId: number | null }
  | { found: false; why: string };

/** The artifact's zip, found and downloaded; or why not. */
type ArtifactZip =
  | { found: true; zip: Uint8Array; label: string; artifactId: number; runId: number | null }
  | { found: false; why: string };

export async function baselineFromArtifact(
  client: GitHubClient,
  inputs: ActionInputs,
  ctx: RunContext,
  baseSha: string,
): Promise<ArtifactBaseline> {
  const artifact = await downloadBaseline(client, inputs, ctx, baseSha);
  if (!artifact.found) return artifact;
  const { zip, label, artifactId, runId } = artifact;
  return refusals(label, () => {
    const file = reportFileName(inputs.commentKey, DEFAULT_COMMENT_KEY);
    const { baseline, stale } = readEntry(
      extractJsonEntry(zip, file, label, MAX_BUNDLE_BYTES),
      label,
      baseSha,
    );
    return stale ?? { found: true, report: baseline.report, artifactId, runId };
  });
}

/**
 * Every report file at the top of the artifact (the `model-reports` folder of a `mode: baseline` run of a
 * model list), each validated as one model's report file and keyed by the comment key it carries.
 */
export async function baselinesFromArtifact(
  client: GitHubClient,
  inputs: ActionInputs,
  ctx: RunContext,
  baseSha: string,
): Promise<ArtifactBaselines> {
  const artifact = await downloadBaseline(client, inputs, ctx, baseSha);
  if (!artifact.found) return artifact;
  const { zip, label, artifactId, runId } = artifact;
  return refusals(label, () => {
    const reports = new Map<string, Report>();
    for (const entry of extractJsonEntries(zip, label, MAX_BUNDLE_BYTES)) {
      const where = `${label}: ${entry.name}`;
      const { baseline, stale } = readEntry(entry, label, baseSha);
      if (stale) return stale;
      if (baseline.commentKey === null)
        throw new UntrustedInputError(
          `${where}: a bare report names no model (a model list's baseline holds report files)`,
        );
      if (reports.has(baseline.commentKey))
        throw new UntrustedInputError(`${where}: a second report for the model '${baseline.commentKey}'`);
      reports.set(baseline.commentKey, baseline.report);
    }
    if (reports.size === 0)
      throw new UntrustedInputError(`${label}: no report file at the top of the archive`);
    return { found: true, reports, artifactId, runId };
  });
}

/** One report file of the artifact, validated; `stale` when it is of another commit than the base. */
function readEntry(entry: ZipEntry, label: string, baseSha: string) {
  const where = `${label}: ${entry.name}`;
  const baseline = parseBaseline(decodeUtf8(entry.bytes, where), where);
  const { commit } = baseline;
  if (commit === null || commit === baseSha) return { baseline, stale: undefined };
  const why = `${where} is the report of commit ${commit.slice(0, 12)}, not of the base commit ${baseSha.slice(0, 12)}`;
  return { baseline, stale: { found: false as const, why } };
}

/** A refusal of the artifact's content is a reason to rebuild, said as one. */
function refusals<T>(label: string, read: () => T): T | { found: false; why: string } {
  try {
    return read();
  } catch (error) {
    if (error instanceof UntrustedInputError) {
      return {
        found: false,
        why: `refusing ${error.message.startsWith(label) ? '' : `${label}: `}${error.message}`,
      };
    }
    throw error;
  }
}

async function downloadBaseline(
  client: GitHubClient,
  inputs: ActionInputs,
  ctx: RunContext,
  baseSha: string,
): Promise<ArtifactZip> {
  const name = inputs.baselineArtifact;
  const short = baseSha.slice(0, 12);
  let search;
  try {
    search = await findArtifactForCommit(client, ctx.repository, name, baseSha);
  } catch (error) {
    const failure = apiFailure(error);
    const fix =
      failure.kind === 'forbidden' ? ' (the job needs `permissions: actions: read` to read artifacts)' : '';
    return { found: false, why: `could not list the '${name}' artifacts: ${describeFailure(failure)}${fix}` };
  }
  if (!search.found) {
    const skipped = search.skipped.length > 0 ? ` (${search.skipped.join('; ')})` : '';
    return {
      found: false,
      why:
        `no '${name}' artifact from a run on the base commit ${short}${skipped}: set up the baseline ` +
        'workflow (docs/action.md#baselines), or set `baseline: rebuild` to skip this lookup',
    };
  }
  const artifact = search.found;
  const label = `artifact '${name}' (id ${artifact.id}${artifact.runId ? `, run ${artifact.runId}` : ''})`;
  try {
    const zip = await downloadArtifactZip(client, ctx.repository, artifact.id, {
      maxBytes: MAX_BUNDLE_BYTES,
      // `api-timeout` bounds the wait for the storage's answer and for each next piece of the zip; the
      // whole download gets ten times that.
      timeoutMs: inputs.apiTimeoutSeconds * 1000,
      proxy: ctx.proxy,
    });
    return { found: true, zip, label, artifactId: artifact.id, runId: artifact.runId };
  } catch (error) {
    if (error instanceof ArtifactDownloadError) {
      // Not a refusal of its content: it did not arrive (a timeout, an error of the storage, too big).
      return { found: false, why: `could not download ${label}: ${error.message}` };
    }
    return { found: false, why: `could not download ${label}: ${describeFailure(apiFailure(error))}` };
  }
}
