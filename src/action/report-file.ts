// The report file the action writes (`report-path`) and the fork-safe flow carries as an artifact: both
// reports, the comparison, and which commits and pull request they are about.
import type { Comparison } from '../compare/comparison.ts';
import type { Report } from '../report/report.ts';
import { isAbsolute, join, resolve } from 'node:path';
import { TOOL_VERSION } from '../version.ts';
import type { RunContext } from './context.ts';
import { DEFAULT_COMMENT_KEY, type ActionInputs } from './inputs.ts';

export const BUNDLE_SCHEMA_VERSION = 1;
export const BUNDLE_KIND = 'paramtrace-run';

export interface BundlePullRequest {
  number: number;
  headSha: string;
  baseSha: string;
  /** owner/name of the head repository; null when the fork was deleted. */
  headRepo: string | null;
}

export interface ReportBundle {
  schemaVersion: typeof BUNDLE_SCHEMA_VERSION;
  kind: typeof BUNDLE_KIND;
  /** `pr`: a comparison of a pull request with its base; `baseline`: one commit's report. */
  mode: 'pr' | 'baseline';
  tool: { name: 'paramtrace'; version: string };
  commentKey: string;
  commits: {
    /** The commit the head report is of (the pull request head, or the pushed commit). */
    head: string | null;
    /** The commit the base report is of (the merge-base), when known. */
    base: string | null;
  };
  pullRequest: BundlePullRequest | null;
  base: Report | null;
  head: Report;
  comparison: Comparison | null;
  /** What the run had to work around (no model at base, baseline from another commit, ...). */
  notes: string[];
  /** `mode: pr`: why the base could not be had (its build failed); the verdict fails with it. */
  baseError?: string;
  /** `mode: pr`: the base had no model file (a new model); its report is an empty stand-in. */
  baseMissing?: true;
}

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
