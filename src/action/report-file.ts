// The report file the action writes (`report-path`) and the fork-safe flow carries as an artifact: both
// reports, the comparison, and which commits and pull request they are about.
import type { Static } from '@sinclair/typebox';
import { isAbsolute, join, resolve } from 'node:path';
import { TOOL_VERSION } from '../version.ts';
import type { RunContext } from './context.ts';
import { DEFAULT_COMMENT_KEY, type ActionInputs } from './inputs.ts';
import { BUNDLE_KIND, BUNDLE_SCHEMA_VERSION } from './untrusted/bundle-constants.ts';
import type { BundlePullRequestSchema, BundleSchema } from './untrusted/bundle-schema.ts';

export { BUNDLE_KIND, BUNDLE_SCHEMA_VERSION } from './untrusted/bundle-constants.ts';

/** The bundle: its type is derived from its schema (untrusted/bundle-schema.ts), the one definition. */
export type ReportBundle = Static<typeof BundleSchema>;
export type BundlePullRequest = Static<typeof BundlePullRequestSchema>;

export function makeBundle(fields: Omit<ReportBundle, 'schemaVersion' | 'kind' | 'tool'>): ReportBundle {
  return {
    schemaVersion: BUNDLE_SCHEMA_VERSION,
    kind: BUNDLE_KIND,
    tool: { name: 'paramtrace', version: TOOL_VERSION },
    ...fields,
  };
}

/** The file name for a comment key: `paramtrace-report.json`, or `paramtrace-report-<key>.json`. */
export function reportFileName(commentKey: string, defaultKey = 'default'): string {
  if (commentKey === defaultKey) return 'paramtrace-report.json';
  return `paramtrace-report-${commentKey.replace(/[^A-Za-z0-9._-]/g, '_')}.json`;
}

export function serializeBundle(bundle: ReportBundle): string {
  return `${JSON.stringify(bundle, null, 2)}\n`;
}

/** `report-path` (relative to the workspace), or RUNNER_TEMP/paramtrace-report[-key].json. */
export function reportPathFor(inputs: ActionInputs, ctx: RunContext): string {
  if (inputs.reportPath) {
    return isAbsolute(inputs.reportPath) ? inputs.reportPath : resolve(ctx.workspace, inputs.reportPath);
  }
  return join(ctx.tempDir, reportFileName(inputs.commentKey, DEFAULT_COMMENT_KEY));
}

/** The HTML page written beside a report file: `paramtrace-report.json` → `paramtrace-report.html`. */
export function htmlPathFor(reportPath: string): string {
  return `${reportPath.replace(/\.json$/i, '')}.html`;
}
