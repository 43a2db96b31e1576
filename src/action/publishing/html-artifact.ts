// The HTML report as an artifact of the run, so the comment can link a page the reviewer opens instead
// of an artifact to find. A failed upload is a warning (and a problem for fail-on-api-error): the page
// is still written beside the report file.
import { basename, dirname } from 'node:path';
import type { RunContext } from '../context.ts';
import { DEFAULT_COMMENT_KEY, type ActionInputs } from '../inputs.ts';
import type { Io } from '../runner-log.ts';
import { uploadArtifact } from './artifact.ts';

export interface PageUpload {
  /** The artifact's page on GitHub (its download), for the comment's links. */
  url?: string;
  /** Why it was not uploaded, when it was asked for. */
  problem?: string;
}

/** `paramtrace-html`, or `paramtrace-html-<key>` (`/` cannot be in an artifact name). */
export function htmlArtifactName(commentKey: string): string {
  return commentKey === DEFAULT_COMMENT_KEY
    ? 'paramtrace-html'
    : `paramtrace-html-${commentKey.replace(/\//g, '_')}`;
}

/** Uploads the page(s) (all in one folder) as this run's artifact for the comment key. */
export async function uploadPages(
  inputs: ActionInputs,
  ctx: RunContext,
  io: Io,
  files: string[],
): Promise<PageUpload> {
  if (!inputs.htmlArtifact || files.length === 0) return {};
  if (!ctx.artifactRuntime) {
    // Outside a runner (a local run, act): nothing to upload to, and nothing wrong.
    io.info('paramtrace: no artifact service in this environment; the HTML report is only written to disk');
    return {};
  }
  const name = htmlArtifactName(inputs.commentKey);
  const result = await uploadArtifact({
    name,
    files,
    rootDirectory: dirname(files[0]!),
    runtime: ctx.artifactRuntime,
    serverUrl: ctx.serverUrl,
    // A re-run job uploads into the same run, where its earlier attempt's page already has the name.
    overwrite: true,
  });
  if (!result.ok) {
    const problem = `the HTML report could not be uploaded: ${result.problem}`;
    io.warning(`paramtrace: ${problem}`);
    return { problem };
  }
  io.info(
    `paramtrace: uploaded ${files.map((f) => basename(f)).join(', ')} as the artifact '${name}' (${result.size} bytes)`,
  );
  return ctx.runUrl ? { url: `${ctx.runUrl}/artifacts/${result.id}` } : {};
}
